"""Simulated Instagram API with Facebook Login (graph.facebook.com): professional accounts
linked to Pages, media containers, publishing and its 24 h quota, media, insights,
comments, replies, hiding, DMs, webhooks (object "instagram") and the Facebook Login
connect flow. Follows shared/docs/platform-apis.md §4; the Graph API host's shared rules
(tokens, errors, usage headers, Facebook Login) live in simulator/graph.py."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sotong.simulator.core import DemoAccount, Request, Response, json_response, route
from sotong.simulator.graph import (
    OAUTH_APP,
    VERSION,
    GraphPlatform,
    Token,
    graph_error,
    insight,
    iso,
    listing,
    pick,
    requested_fields,
    usage_figures,
)

ALL_SCOPES = (
    "instagram_basic",
    "instagram_content_publish",
    "instagram_manage_comments",
    "instagram_manage_insights",
    "instagram_manage_messages",
    "pages_show_list",
    "pages_read_engagement",
    "pages_manage_metadata",
)
VALID_MEDIA_METRICS = {
    "views",
    "reach",
    "likes",
    "comments",
    "shares",
    "saved",
    "total_interactions",
    "follows",
    "profile_visits",
    "profile_activity",
}
# Retired for media created since 2 Jul 2024: asking for them fails the whole request.
RETIRED_MEDIA_METRICS = {"impressions", "plays", "video_views", "clips_replays_count"}
# M: 50 posts per rolling 24 h (older docs said 25); a setting on the platform object.
DEFAULT_QUOTA_TOTAL = 50
QUOTA_DURATION = 86400

DEMO_PAGE_ID = "104220000000011"
DEMO_ACCOUNTS = (
    DemoAccount(
        "instagram",
        "순천시 인스타그램",
        "17841400000000001",
        "EAAB-demo-suncheon-instagram-token",
        "demo-hook-instagram-2026",
        {
            "app_id": OAUTH_APP[0],
            "app_secret": OAUTH_APP[1],
            "verify_token": "demo-verify-ig",
            "page_id": DEMO_PAGE_ID,
        },
        followers=24000,
    ),
)
DEMO_HISTORY: tuple[tuple[str, str, dict[str, int]], ...] = (
    (
        "순천만 갈대밭에 가을이 내려앉았습니다 🌾 해 질 녘 용산전망대에서 본 S자 물길 #순천만 #순천여행",
        "https://img.suncheon.example/reeds.jpg",
        {"views": 48210, "reach": 35020, "likes": 2210, "shares": 140, "saved": 380},
    ),
    (
        "낙안읍성 민속마을, 600년 전 조선의 읍성이 오늘도 사람이 사는 마을입니다 #낙안읍성 #순천역사",
        "https://img.suncheon.example/nagan.jpg",
        {"views": 30550, "reach": 22400, "likes": 1630, "shares": 95, "saved": 410},
    ),
    (
        "선암사 승선교, 보물로 지정된 조선 후기 무지개다리 🌈 단풍철에 꼭 들러 보세요 #선암사 #국가유산",
        "https://img.suncheon.example/seonamsa.jpg",
        {"views": 27100, "reach": 19800, "likes": 1404, "shares": 61, "saved": 290},
    ),
)


@dataclass
class IGAccount:
    id: str
    username: str
    name: str
    page_id: str
    page_name: str
    followers: int = 0
    calls: int = 0
    media_ids: list[str] = field(default_factory=list)
    published_at: list[float] = field(default_factory=list)
    conversations: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


class Platform(GraphPlatform[IGAccount]):
    name = "instagram"
    label = "Instagram"
    all_scopes = ALL_SCOPES
    consent_subject = "인스타그램 계정 관리 권한"
    webhook_object = "instagram"
    rate_limit_error = ("(#4) Application request limit reached", 4)
    revoked_fault = revoked_error = (
        "Error validating access token: The user has not authorized application.",
        458,
    )
    scope_error = ("(#10) Application does not have permission: {scope}", 10)

    def reset(self) -> None:
        super().reset()  # objects: containers, media, comments by id
        self.accounts: dict[str, IGAccount] = {}  # by Instagram user id
        self.quota_total = DEFAULT_QUOTA_TOTAL
        # How many status checks a new container answers IN_PROGRESS before FINISHED.
        self.processing_polls = 1

    def _accounts(self) -> Iterable[IGAccount]:
        return self.accounts.values()

    def _new_id(self, prefix: int) -> str:
        return str(prefix * 10**13 + self.next_id())

    # -- set-up for tests and the demo -------------------------------------------------------

    def add_account(
        self,
        ig_user_id: str,
        username: str,
        *,
        page_id: str = "",
        page_name: str = "순천시",
        token: str | None = None,
        scopes: tuple[str, ...] = ALL_SCOPES,
        followers: int = 0,
    ) -> str:
        """A professional account linked to a Page, with a Page token; returns the token."""
        with self.lock:
            page_id = page_id or f"1042{ig_user_id[-11:]}"
            self.accounts[ig_user_id] = IGAccount(
                ig_user_id, username, page_name, page_id, page_name, followers=followers
            )
            token = token or f"EAAB{secrets.token_urlsafe(24)}"
            self.tokens[token] = Token(page_id, scopes)
            return token

    def add_media(
        self, ig_user_id: str, caption: str, image_url: str, **figures: int
    ) -> dict[str, Any]:
        """Media published outside Sotong (the account's history), with its figures."""
        with self.lock:
            media = self._new_media(ig_user_id, caption, [image_url], "IMAGE")
            media.update(figures)
            return media

    # -- citizens acting ---------------------------------------------------------------------

    def citizen_comment(
        self,
        media_id: str,
        author_id: str,
        username: str,
        text: str,
        parent_id: str | None = None,
    ) -> dict[str, Any]:
        with self.lock:
            media = self.objects[media_id]
            comment = self._new_comment(media_id, author_id, username, text, parent_id)
            ig_user_id = media["owner"]
        value: dict[str, Any] = {
            "id": comment["id"],
            "text": text,
            "from": {"id": author_id, "username": username},
            "media": {"id": media_id, "media_product_type": "FEED"},
        }
        if parent_id:
            value["parent_id"] = parent_id
        self._deliver_entry(
            ig_user_id,
            int(comment["created"]),
            {"changes": [{"field": "comments", "value": value}]},
        )
        return comment

    def citizen_message(self, ig_user_id: str, igsid: str, text: str) -> dict[str, Any]:
        with self.lock:
            message: dict[str, Any] = {
                "id": f"aWdfZAG1f{secrets.token_urlsafe(18)}",
                "text": text,
                "from": igsid,
                "created": time.time(),
            }
            self.accounts[ig_user_id].conversations.setdefault(igsid, []).append(message)
        # Instagram stamps the entry in milliseconds, Facebook in seconds.
        self._deliver_message(ig_user_id, igsid, message, text, int(message["created"] * 1000))
        return message

    # -- tokens and usage -------------------------------------------------------------------

    def _usage_headers(self, percent: int, regain_minutes: int = 0) -> dict[str, str]:
        usage = {
            "type": "instagram",
            **usage_figures(percent),
            "estimated_time_to_regain_access": regain_minutes,
        }
        owner = next(iter(self.accounts), "0")
        return {"X-Business-Use-Case-Usage": json.dumps({owner: [usage]})}

    def _refuse_account(self, token: Token, account_id: str) -> Response | None:
        # Another Page's token sees no such account, as on Meta.
        account = self.accounts.get(account_id)
        if account is None or token.page_id not in (None, account.page_id):
            return self._missing_object(account_id)
        return None

    def _page_extras(self, account: IGAccount, wanted: list[str]) -> dict[str, Any]:
        if "instagram_business_account" not in wanted:
            return {}
        return {"instagram_business_account": {"id": account.id, "username": account.username}}

    # -- publishing ---------------------------------------------------------------------------

    @route("POST", VERSION + r"/(?P<ig_user_id>\d+)/media")
    def create_container(self, request: Request) -> Response:
        ig_user_id = request.params["ig_user_id"]
        token = self._authorise(request, scope="instagram_content_publish", account_id=ig_user_id)
        if isinstance(token, Response):
            return token
        caption = request.arg("caption") or ""
        media_type = request.arg("media_type") or "IMAGE"
        children: list[str] = []
        if media_type == "CAROUSEL":
            children = [c for c in (request.arg("children") or "").split(",") if c]
            if not 2 <= len(children) <= 10:
                return graph_error("(#100) A carousel takes 2 to 10 children", 100)
            for child in children:
                item = self.objects.get(child)
                if item is None or item["kind"] != "container" or not item["is_carousel_item"]:
                    return graph_error(f"(#100) Invalid children: {child}", 100)
        else:
            image_url = request.arg("image_url") or ""
            if not image_url.startswith(("http://", "https://")):
                return graph_error(
                    "(#100) The parameter image_url is required", 100, subcode=2207004
                )
        if len(caption) > 2200:
            return graph_error(
                "(#100) The caption is too long: at most 2200 characters", 100, subcode=2207051
            )
        if caption.count("#") > 30:
            return graph_error("(#100) The caption has more than 30 hashtags", 100, subcode=2207051)
        container_id = self._new_id(179)
        self.objects[container_id] = {
            "kind": "container",
            "id": container_id,
            "owner": ig_user_id,
            "media_type": media_type,
            "image_url": request.arg("image_url") or "",
            "caption": caption,
            "children": children,
            "is_carousel_item": request.arg("is_carousel_item") == "true",
            "polls_left": self.processing_polls,
            "status_code": "IN_PROGRESS",
            "created": time.time(),
        }
        return self._with_usage(token, json_response({"id": container_id}))

    def _container_status(self, container: dict[str, Any]) -> str:
        if container["status_code"] == "IN_PROGRESS":
            if container["polls_left"] > 0:
                container["polls_left"] -= 1
            else:
                container["status_code"] = "FINISHED"
        if container["status_code"] in {"IN_PROGRESS", "FINISHED"} and (
            time.time() - container["created"] > 24 * 3600
        ):
            container["status_code"] = "EXPIRED"
        return str(container["status_code"])

    @route("POST", VERSION + r"/(?P<ig_user_id>\d+)/media_publish")
    def media_publish(self, request: Request) -> Response:
        ig_user_id = request.params["ig_user_id"]
        token = self._authorise(request, scope="instagram_content_publish", account_id=ig_user_id)
        if isinstance(token, Response):
            return token
        account = self.accounts[ig_user_id]
        container = self.objects.get(request.arg("creation_id") or "")
        if container is None or container["kind"] != "container" or container["is_carousel_item"]:
            return graph_error("(#100) Invalid creation_id", 100, subcode=2207006)
        if container["status_code"] != "FINISHED":
            return graph_error(
                "(#9007) The media is not ready for publishing, please wait for a moment",
                9007,
                subcode=2207027,
            )
        if self._quota_usage(account) >= self.quota_total:
            return graph_error(
                "(#9) Application request limit reached: maximum number of posts reached",
                9,
                subcode=2207042,
                status=400,
            )
        urls = (
            [self.objects[c]["image_url"] for c in container["children"]]
            if container["children"]
            else [container["image_url"]]
        )
        media = self._new_media(ig_user_id, container["caption"], urls, container["media_type"])
        container["status_code"] = "PUBLISHED"
        account.published_at.append(time.time())
        return self._with_usage(token, json_response({"id": media["id"]}))

    def _quota_usage(self, account: IGAccount) -> int:
        since = time.time() - QUOTA_DURATION
        return sum(1 for moment in account.published_at if moment > since)

    @route("GET", VERSION + r"/(?P<ig_user_id>\d+)/content_publishing_limit")
    def publishing_limit(self, request: Request) -> Response:
        ig_user_id = request.params["ig_user_id"]
        token = self._authorise(request, scope="instagram_basic", account_id=ig_user_id)
        if isinstance(token, Response):
            return token
        usage = self._quota_usage(self.accounts[ig_user_id])
        fields = requested_fields(request.arg("fields") or "quota_usage")
        entry: dict[str, Any] = {"quota_usage": usage}
        if "config" in fields:
            entry["config"] = {"quota_total": self.quota_total, "quota_duration": QUOTA_DURATION}
        return self._with_usage(token, json_response({"data": [entry]}))

    def _new_media(
        self, ig_user_id: str, caption: str, urls: list[str], media_type: str
    ) -> dict[str, Any]:
        media_id = self._new_id(180)
        media = {
            "kind": "media",
            "id": media_id,
            "owner": ig_user_id,
            "caption": caption,
            "media_type": "CAROUSEL_ALBUM" if media_type == "CAROUSEL" else media_type,
            "urls": urls,
            "shortcode": secrets.token_urlsafe(8).replace("-", "x").replace("_", "y"),
            "created": time.time(),
            "comments": [],
            "views": 0,
            "reach": 0,
            "likes": 0,
            "shares": 0,
            "saved": 0,
        }
        self.objects[media_id] = media
        self.accounts[ig_user_id].media_ids.append(media_id)
        return media

    # -- media, insights ----------------------------------------------------------------------

    def _media_view(self, media: dict[str, Any], fields: list[str]) -> dict[str, Any]:
        values: dict[str, Any] = {
            "id": media["id"],
            "caption": media["caption"],
            "media_type": media["media_type"],
            "media_url": media["urls"][0],
            "permalink": f"https://www.instagram.com/p/{media['shortcode']}/",
            "timestamp": iso(media["created"]),
            "like_count": media["likes"],
            "comments_count": len(media["comments"]),
            "username": self.accounts[media["owner"]].username,
            "media_product_type": "FEED",
        }
        return pick(values, fields)

    @route("GET", VERSION + r"/(?P<ig_user_id>\d+)/media")
    def list_media(self, request: Request) -> Response:
        ig_user_id = request.params["ig_user_id"]
        token = self._authorise(request, scope="instagram_basic", account_id=ig_user_id)
        if isinstance(token, Response):
            return token
        fields = requested_fields(request.arg("fields") or "id")
        limit = min(int(request.arg("limit") or 25), 100)
        media = [self.objects[m] for m in reversed(self.accounts[ig_user_id].media_ids)][:limit]
        data = [self._media_view(item, fields) for item in media]
        return self._with_usage(token, json_response(listing(data, "QVFIUmx1", "QVFIUnBx")))

    @route("GET", VERSION + r"/(?P<object_id>\d+)")
    def get_object(self, request: Request) -> Response:
        object_id = request.params["object_id"]
        token = self._authorise(request)
        if isinstance(token, Response):
            return token
        fields = requested_fields(request.arg("fields") or "id")
        account = self.accounts.get(object_id)
        if account is not None:
            values = {
                "id": account.id,
                "username": account.username,
                "name": account.name,
                "followers_count": account.followers,
                "media_count": len(account.media_ids),
            }
            return self._with_usage(token, json_response(pick(values, fields)))
        obj = self.objects.get(object_id)
        if obj is None:
            return self._missing_object(object_id)
        if obj["kind"] == "container":
            values = {"id": obj["id"], "status_code": self._container_status(obj)}
            if obj["status_code"] == "ERROR":
                values["status"] = "Error: Media upload has failed with error code 2207003"
            else:
                values["status"] = obj["status_code"].title()
            return self._with_usage(token, json_response(pick(values, fields)))
        if obj["kind"] == "media":
            return self._with_usage(token, json_response(self._media_view(obj, fields)))
        return self._with_usage(token, json_response(self._comment_view(obj)))

    @route("GET", VERSION + r"/(?P<media_id>\d+)/insights")
    def media_insights(self, request: Request) -> Response:
        media_id = request.params["media_id"]
        token = self._authorise(request, scope="instagram_manage_insights")
        if isinstance(token, Response):
            return token
        media = self.objects.get(media_id)
        if media is None or media["kind"] != "media":
            return self._missing_object(media_id)
        metrics = [name for name in (request.arg("metric") or "").split(",") if name]
        unknown = [name for name in metrics if name not in VALID_MEDIA_METRICS]
        if not metrics or unknown:
            retired = [name for name in unknown if name in RETIRED_MEDIA_METRICS]
            detail = (
                f"({','.join(retired)}) is no longer supported for media created after 2024-07-02"
                if retired
                else f"metric[{','.join(unknown) or '(none)'}] must be one of the following values"
            )
            return graph_error(f"(#100) {detail}", 100, subcode=2108006 if retired else None)
        comments = len(media["comments"])
        values = {
            "views": media["views"],
            "reach": media["reach"],
            "likes": media["likes"],
            "comments": comments,
            "shares": media["shares"],
            "saved": media["saved"],
            "total_interactions": media["likes"] + comments + media["shares"] + media["saved"],
            "follows": 0,
            "profile_visits": 0,
            "profile_activity": 0,
        }
        return self._with_usage(
            token,
            json_response(
                {"data": [insight(media_id, name, "lifetime", values[name]) for name in metrics]}
            ),
        )

    # -- comments -----------------------------------------------------------------------------

    def _new_comment(
        self, media_id: str, author_id: str, username: str, text: str, parent_id: str | None
    ) -> dict[str, Any]:
        comment_id = self._new_id(178)
        comment: dict[str, Any] = {
            "kind": "comment",
            "id": comment_id,
            "text": text,
            "media_id": media_id,
            "parent_id": parent_id or "",
            "from": {"id": author_id, "username": username},
            "created": time.time(),
            "hidden": False,
            "like_count": 0,
            "replies": [],
        }
        self.objects[comment_id] = comment
        if parent_id:
            self.objects[parent_id]["replies"].append(comment_id)
        else:
            self.objects[media_id]["comments"].append(comment_id)
        return comment

    def _comment_view(
        self, comment: dict[str, Any], *, with_replies: bool = True
    ) -> dict[str, Any]:
        view: dict[str, Any] = {
            "id": comment["id"],
            "text": comment["text"],
            "timestamp": iso(comment["created"]),
            "username": comment["from"]["username"],
            "from": comment["from"],
            "like_count": comment["like_count"],
            "hidden": comment["hidden"],
        }
        if with_replies:
            view["replies"] = {
                "data": [
                    self._comment_view(self.objects[r], with_replies=False)
                    for r in comment["replies"]
                ]
            }
        return view

    @route("GET", VERSION + r"/(?P<media_id>\d+)/comments")
    def list_comments(self, request: Request) -> Response:
        media_id = request.params["media_id"]
        token = self._authorise(request, scope="instagram_manage_comments")
        if isinstance(token, Response):
            return token
        media = self.objects.get(media_id)
        if media is None or media["kind"] != "media":
            return self._missing_object(media_id)
        comments = [self.objects[c] for c in media["comments"]]
        data = [self._comment_view(c) for c in reversed(comments)]
        return self._with_usage(token, json_response(listing(data, "WTI5dA", "WTI5dB")))

    def _own_comment(self, request: Request, media_id: str, parent_id: str | None) -> Response:
        token = self._authorise(request, scope="instagram_manage_comments")
        if isinstance(token, Response):
            return token
        message = request.arg("message") or ""
        if not message:
            return graph_error("(#100) Missing message", 100)
        if len(message) > 2200:
            return graph_error("(#100) The comment is too long", 100)
        owner = self.accounts[self.objects[media_id]["owner"]]
        comment = self._new_comment(media_id, owner.id, owner.username, message, parent_id)
        return self._with_usage(token, json_response({"id": comment["id"]}))

    @route("POST", VERSION + r"/(?P<media_id>\d+)/comments")
    def create_comment(self, request: Request) -> Response:
        media = self.objects.get(request.params["media_id"])
        if media is None or media["kind"] != "media":
            return self._missing_object(request.params["media_id"])
        return self._own_comment(request, media["id"], None)

    @route("POST", VERSION + r"/(?P<comment_id>\d+)/replies")
    def create_reply(self, request: Request) -> Response:
        parent = self.objects.get(request.params["comment_id"])
        if parent is None or parent["kind"] != "comment":
            return self._missing_object(request.params["comment_id"])
        # Replies thread one level deep, under the top-level comment.
        top = parent["parent_id"] or parent["id"]
        return self._own_comment(request, parent["media_id"], top)

    @route("POST", VERSION + r"/(?P<object_id>\d+)")
    def update_object(self, request: Request) -> Response:
        object_id = request.params["object_id"]
        token = self._authorise(request, scope="instagram_manage_comments")
        if isinstance(token, Response):
            return token
        obj = self.objects.get(object_id)
        if obj is None or obj["kind"] != "comment":
            return self._missing_object(object_id)
        if request.arg("hide") is None:
            return graph_error("(#100) The parameter hide is required", 100)
        obj["hidden"] = request.arg("hide") == "true"
        return self._with_usage(token, json_response({"success": True}))

    # -- messages -----------------------------------------------------------------------------

    def _messaging_account(self, sender_id: str) -> IGAccount | None:
        """The account ``/{sender_id}/messages`` sends for: with Facebook Login the linked
        Page's id (doc §4 e); the Instagram user's own id is Instagram Login's form, also
        accepted."""
        by_page = next((a for a in self.accounts.values() if a.page_id == sender_id), None)
        return by_page or self.accounts.get(sender_id)

    @route("POST", VERSION + r"/(?P<sender_id>\d+)/messages")
    def send_message(self, request: Request) -> Response:
        sender_id = request.params["sender_id"]
        account = self._messaging_account(sender_id)
        if account is None:
            return self._missing_object(sender_id)
        ig_user_id = account.id
        token = self._authorise(request, scope="instagram_manage_messages", account_id=ig_user_id)
        if isinstance(token, Response):
            return token
        return self._send_reply(
            request,
            token,
            self.accounts[ig_user_id].conversations,
            max_length=1000,
            sender_of=lambda message: message["from"],
            new_message=lambda text: {
                "id": f"aWdfZAG1f{secrets.token_urlsafe(18)}",
                "text": text,
                "from": ig_user_id,
                "created": time.time(),
            },
        )

    # -- synthetic citizens and the demo world ------------------------------------------------

    crowd_weights = {"scenery": 3.5, "festival": 2.5, "notice": 0.3, "general": 0.8}

    def crowd_posts(self) -> list[tuple[str, str, str]]:
        return [
            (account.id, mid, self.objects[mid]["caption"])
            for account in self.accounts.values()
            for mid in account.media_ids[-10:]
        ]

    def crowd_comment(
        self, account: str, post_id: str, author_id: str, author_name: str, text: str
    ) -> None:
        self.citizen_comment(post_id, author_id, f"user_{author_id[-6:]}", text)

    def crowd_message_accounts(self) -> list[str]:
        return list(self.accounts)

    def crowd_message(self, account: str, author_id: str, author_name: str, text: str) -> None:
        self.citizen_message(account, author_id, text)

    def populate_demo(self, account: DemoAccount, webhook_url: str) -> None:
        self.add_account(
            account.account_id,
            "suncheon_city",
            page_id=DEMO_PAGE_ID,
            token=account.token,
            followers=account.followers,
        )
        for caption, image_url, figures in DEMO_HISTORY:
            self.add_media(account.account_id, caption, image_url, **figures)
        self.subscribe_webhooks(account.account_id, webhook_url)

    def timeline(self) -> list[dict[str, Any]]:
        return [
            {
                "account": f"@{account.username}",
                "posts": [
                    {
                        "id": mid,
                        "text": self.objects[mid]["caption"],
                        "url": self._media_view(self.objects[mid], ["permalink"])["permalink"],
                        "comments": [
                            {
                                "author": self.objects[cid]["from"]["username"],
                                "text": self.objects[cid]["text"],
                            }
                            for cid in self.objects[mid]["comments"]
                            if not self.objects[cid]["hidden"]
                        ],
                    }
                    for mid in reversed(account.media_ids)
                ],
            }
            for account in self.accounts.values()
        ]
