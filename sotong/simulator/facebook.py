"""Simulated Facebook Graph API (pages, posts, photos, insights, comments, Messenger,
webhooks, OAuth). Follows shared/docs/platform-apis.md §3: the same paths, parameters,
JSON shapes, error bodies and usage headers as graph.facebook.com."""

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
    "pages_show_list",
    "pages_manage_posts",
    "pages_read_engagement",
    "pages_manage_engagement",
    "pages_read_user_engagement",
    "pages_messaging",
    "pages_manage_metadata",
    "read_insights",
)
VALID_POST_METRICS = {
    "post_media_view",
    "post_total_media_view_unique",
    "post_clicks",
    "post_reactions_by_type_total",
    "post_reactions_like_total",
}
SCOPE_FOR_WRITE = "pages_manage_posts"
SCOPE_FOR_ENGAGEMENT = "pages_manage_engagement"
SCOPE_FOR_MESSAGES = "pages_messaging"

DEMO_ACCOUNTS = (
    DemoAccount(
        "facebook",
        "순천시 페이스북",
        "104220000000001",
        "EAAB-demo-suncheon-page-token",
        "demo-hook-facebook-2026",
        {"app_id": OAUTH_APP[0], "app_secret": OAUTH_APP[1], "verify_token": "demo-verify"},
        followers=31000,
    ),
)
# Posts the city made before Sotong, for the citizens to react to from the start.
DEMO_HISTORY: tuple[tuple[str, dict[str, int]], ...] = (
    (
        "순천만국가정원에 가을 국화가 활짝 피었습니다 🌼 이번 주말 정원에서 만나요!",
        {"views": 72041, "reach": 51230, "reactions": 718, "shares": 96, "clicks": 1840},
    ),
    (
        "[주간꿀팁] 대형폐기물, 앱으로 간편하게 신고하세요",
        {"views": 8120, "reach": 6400, "reactions": 88},
    ),
    (
        "조례동 하수관로 교체 공사로 11.24.~11.28. 일부 구간을 통제합니다",
        {"views": 5320, "reach": 4100},
    ),
)


@dataclass
class Page:
    id: str
    name: str
    followers: int = 0
    fans: int = 0
    calls: int = 0
    post_ids: list[str] = field(default_factory=list)
    conversations: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    # A Page is its own Graph account (an Instagram account is linked to one).
    @property
    def page_id(self) -> str:
        return self.id

    @property
    def page_name(self) -> str:
        return self.name


class Platform(GraphPlatform[Page]):
    name = "facebook"
    label = "Facebook"
    all_scopes = ALL_SCOPES
    consent_subject = "페이지 관리 권한"
    webhook_object = "page"
    rate_limit_error = ("(#32) Page request limit reached", 32)
    revoked_fault = ("Error validating access token: The user has changed the password.", 460)
    revoked_error = (
        "Error validating access token: The session has been invalidated because "
        "the user changed their password.",
        460,
    )
    scope_error = ("(#200) Requires {scope} permission to manage the object", 200)
    exchanges_user_tokens = True

    def reset(self) -> None:
        super().reset()  # objects: posts, photos and comments by id
        self.pages: dict[str, Page] = {}

    def _accounts(self) -> Iterable[Page]:
        return self.pages.values()

    # -- set-up for tests and the demo -------------------------------------------------------

    def add_page(
        self,
        page_id: str,
        name: str,
        *,
        token: str | None = None,
        scopes: tuple[str, ...] = ALL_SCOPES,
        followers: int = 0,
    ) -> str:
        """A page with a page token; returns the token."""
        with self.lock:
            self.pages[page_id] = Page(page_id, name, followers=followers, fans=followers)
            token = token or f"EAAB{secrets.token_urlsafe(24)}"
            self.tokens[token] = Token(page_id, scopes)
            return token

    def add_post(self, page_id: str, message: str, **figures: int) -> dict[str, Any]:
        """A post made outside Sotong (the page's history), with its figures
        (views, reach, reactions, shares, clicks)."""
        with self.lock:
            post = self._new_post(page_id, message)
            post.update(figures)
            return post

    # -- citizens acting (synthetic citizens and tests) -------------------------------------------

    def citizen_comment(
        self,
        post_id: str,
        author_id: str,
        author_name: str,
        text: str,
        parent_id: str | None = None,
    ) -> dict[str, Any]:
        with self.lock:
            post = self.objects[post_id]
            comment_id = f"{post_id.split('_')[-1]}_{self.next_id()}"
            comment: dict[str, Any] = {
                "kind": "comment",
                "id": comment_id,
                "message": text,
                "post_id": post_id,
                "parent_id": parent_id or post_id,
                "from": {"id": author_id, "name": author_name},
                "created": time.time(),
                "is_hidden": False,
                "like_count": 0,
                "replies": [],
            }
            self.objects[comment_id] = comment
            post["comments"].append(comment_id)
            page_id = post["page_id"]
        change = {
            "item": "comment",
            "verb": "add",
            "comment_id": comment_id,
            "post_id": post_id,
            "parent_id": comment["parent_id"],
            "from": comment["from"],
            "message": text,
            "created_time": int(comment["created"]),
        }
        self._deliver_entry(
            page_id, int(comment["created"]), {"changes": [{"field": "feed", "value": change}]}
        )
        return comment

    def citizen_message(self, page_id: str, psid: str, text: str) -> dict[str, Any]:
        with self.lock:
            message: dict[str, Any] = {
                "id": f"m_{secrets.token_urlsafe(12)}",
                "message": text,
                "from": {"id": psid, "name": f"사용자{psid[-4:]}"},
                "created": time.time(),
            }
            self.pages[page_id].conversations.setdefault(psid, []).append(message)
        self._deliver_message(page_id, psid, message, text, int(message["created"]))
        return message

    # -- tokens and usage -------------------------------------------------------------------

    def _usage_headers(self, percent: int, regain_minutes: int = 0) -> dict[str, str]:
        return {"X-App-Usage": json.dumps(usage_figures(percent))}

    def _refuse_account(self, token: Token, account_id: str) -> Response | None:
        if token.page_id not in (None, account_id):
            return graph_error(
                "(#210) A page access token is required to request this resource.", 210, status=403
            )
        return None

    # -- pages and objects ------------------------------------------------------------------

    @route("POST", VERSION + r"/(?P<page_id>\d+)/feed")
    def create_post(self, request: Request) -> Response:
        page_id = request.params["page_id"]
        token = self._authorise(request, scope=SCOPE_FOR_WRITE, account_id=page_id)
        if isinstance(token, Response):
            return token
        if page_id not in self.pages:
            return self._missing_object(page_id)
        message = request.arg("message") or ""
        link = request.arg("link") or ""
        attached = json.loads(request.arg("attached_media") or "[]")
        if not message and not link and not attached:
            return graph_error("(#100) Missing message or attachment", 100)
        if len(message) > 63206:
            return graph_error("(#100) Message is too long", 100)
        if self._is_duplicate(page_id, message):
            return graph_error("(#506) Duplicate status message", 506)
        post = self._new_post(
            page_id, message, link=link, photos=[item["media_fbid"] for item in attached]
        )
        return self._with_usage(token, json_response({"id": post["id"]}))

    @route("POST", VERSION + r"/(?P<page_id>\d+)/photos")
    def create_photo(self, request: Request) -> Response:
        page_id = request.params["page_id"]
        token = self._authorise(request, scope=SCOPE_FOR_WRITE, account_id=page_id)
        if isinstance(token, Response):
            return token
        url = request.arg("url") or ""
        if not url.startswith(("http://", "https://")):
            return graph_error("(#324) Requires upload file", 324)
        photo_id = str(10**14 + self.next_id())
        self.objects[photo_id] = {"kind": "photo", "id": photo_id, "url": url, "page_id": page_id}
        if (request.arg("published") or "true") == "false":
            return self._with_usage(token, json_response({"id": photo_id}))
        message = request.arg("message") or request.arg("caption") or ""
        if self._is_duplicate(page_id, message):
            return graph_error("(#506) Duplicate status message", 506)
        post = self._new_post(page_id, message, photos=[photo_id])
        return self._with_usage(token, json_response({"id": photo_id, "post_id": post["id"]}))

    def _is_duplicate(self, page_id: str, message: str) -> bool:
        recent = self.pages[page_id].post_ids[-10:]
        return bool(message) and any(self.objects[pid]["message"] == message for pid in recent)

    def _new_post(
        self, page_id: str, message: str, *, link: str = "", photos: list[str] | None = None
    ) -> dict[str, Any]:
        post_id = f"{page_id}_{10**15 + self.next_id()}"
        post = {
            "kind": "post",
            "id": post_id,
            "page_id": page_id,
            "message": message,
            "link": link,
            "photos": photos or [],
            "created": time.time(),
            "comments": [],
            "reactions": 0,
            "shares": 0,
            "views": 0,
            "reach": 0,
            "clicks": 0,
        }
        self.objects[post_id] = post
        self.pages[page_id].post_ids.append(post_id)
        return post

    def _post_view(self, post: dict[str, Any], fields: list[str]) -> dict[str, Any]:
        visible = [cid for cid in post["comments"] if not self.objects[cid]["is_hidden"]]
        values: dict[str, Any] = {
            "id": post["id"],
            "message": post["message"],
            "created_time": iso(post["created"]),
            "permalink_url": f"https://www.facebook.com/{post['page_id']}/posts/{post['id'].split('_')[1]}",
            "full_picture": self.objects[post["photos"][0]]["url"] if post["photos"] else None,
            "shares": {"count": post["shares"]},
        }
        result = {"id": post["id"]}
        for name in fields:
            base = name.split(".")[0]
            if base == "reactions":
                result["reactions"] = {
                    "data": [],
                    "summary": {"total_count": post["reactions"], "viewer_reaction": "NONE"},
                }
            elif base == "comments":
                result["comments"] = {
                    "data": [],
                    "summary": {
                        "order": "ranked",
                        "total_count": len(visible),
                        "can_comment": True,
                    },
                }
            elif base in values and values[base] is not None:
                result[base] = values[base]
        return result

    @route("GET", VERSION + r"/(?P<page_id>\d+)/posts")
    def list_posts(self, request: Request) -> Response:
        page_id = request.params["page_id"]
        token = self._authorise(request, scope="pages_read_engagement")
        if isinstance(token, Response):
            return token
        if page_id not in self.pages:
            return self._missing_object(page_id)
        fields = requested_fields(request.arg("fields") or "id,message,created_time")
        limit = min(int(request.arg("limit") or 25), 100)
        posts = [self.objects[pid] for pid in reversed(self.pages[page_id].post_ids)][:limit]
        data = [self._post_view(post, fields) for post in posts]
        return self._with_usage(token, json_response(listing(data, "QVFIUmx1", "QVFIUnBx")))

    @route("GET", VERSION + r"/(?P<object_id>[\d_]+)")
    def get_object(self, request: Request) -> Response:
        object_id = request.params["object_id"]
        token = self._authorise(request)
        if isinstance(token, Response):
            return token
        fields = requested_fields(request.arg("fields") or "id")
        if object_id in self.pages:
            page = self.pages[object_id]
            values = {
                "id": page.id,
                "name": page.name,
                "followers_count": page.followers,
                "fan_count": page.fans,
            }
            return self._with_usage(token, json_response(pick(values, fields)))
        obj = self.objects.get(object_id)
        if obj is None or obj.get("deleted"):
            return self._missing_object(object_id)
        if obj["kind"] == "post":
            return self._with_usage(token, json_response(self._post_view(obj, fields)))
        if obj["kind"] == "comment":
            return self._with_usage(token, json_response(self._comment_view(obj)))
        return self._with_usage(token, json_response({"id": obj["id"]}))

    @route("POST", VERSION + r"/(?P<object_id>[\d_]+)")
    def update_object(self, request: Request) -> Response:
        object_id = request.params["object_id"]
        obj = self.objects.get(object_id)
        scope = SCOPE_FOR_ENGAGEMENT if obj and obj["kind"] == "comment" else SCOPE_FOR_WRITE
        token = self._authorise(request, scope=scope)
        if isinstance(token, Response):
            return token
        if obj is None or obj.get("deleted"):
            return self._missing_object(object_id)
        if request.arg("is_hidden") is not None:
            if obj["kind"] != "comment":
                return graph_error("(#100) Param is_hidden is not valid for this object", 100)
            obj["is_hidden"] = request.arg("is_hidden") == "true"
        if request.arg("message") is not None:
            obj["message"] = request.arg("message")
        return self._with_usage(token, json_response({"success": True}))

    @route("DELETE", VERSION + r"/(?P<object_id>[\d_]+)")
    def delete_object(self, request: Request) -> Response:
        object_id = request.params["object_id"]
        token = self._authorise(request, scope=SCOPE_FOR_WRITE)
        if isinstance(token, Response):
            return token
        obj = self.objects.get(object_id)
        if obj is None or obj.get("deleted"):
            return self._missing_object(object_id)
        obj["deleted"] = True
        if obj["kind"] == "post":
            self.pages[obj["page_id"]].post_ids.remove(object_id)
        return self._with_usage(token, json_response({"success": True}))

    @route("GET", VERSION + r"/(?P<post_id>\d+_\d+)/insights")
    def post_insights(self, request: Request) -> Response:
        post_id = request.params["post_id"]
        token = self._authorise(request, scope="read_insights")
        if isinstance(token, Response):
            return token
        post = self.objects.get(post_id)
        if post is None or post.get("deleted"):
            return self._missing_object(post_id)
        metrics = [name for name in (request.arg("metric") or "").split(",") if name]
        unknown = [name for name in metrics if name not in VALID_POST_METRICS]
        if not metrics or unknown:
            return graph_error(
                f"(#100) The value must be a valid insights metric: {','.join(unknown) or '(none)'}",
                100,
            )
        period = request.arg("period") or "lifetime"
        values = {
            "post_media_view": post["views"],
            "post_total_media_view_unique": post["reach"],
            "post_clicks": post["clicks"],
            "post_reactions_like_total": post["reactions"],
            "post_reactions_by_type_total": {"like": post["reactions"]},
        }
        return self._with_usage(
            token,
            json_response(
                {
                    "data": [insight(post_id, name, period, values[name]) for name in metrics],
                    "paging": {"previous": "", "next": ""},
                }
            ),
        )

    def _comment_view(self, comment: dict[str, Any]) -> dict[str, Any]:
        view = {
            "id": comment["id"],
            "message": comment["message"],
            "from": comment["from"],
            "created_time": iso(comment["created"]),
            "like_count": comment["like_count"],
            "comment_count": len(comment["replies"]),
            "is_hidden": comment["is_hidden"],
        }
        if comment["parent_id"] != comment["post_id"]:
            view["parent"] = {"id": comment["parent_id"]}
        return view

    @route("GET", VERSION + r"/(?P<object_id>\d+_\d+)/comments")
    def list_comments(self, request: Request) -> Response:
        object_id = request.params["object_id"]
        token = self._authorise(request, scope="pages_read_user_engagement")
        if isinstance(token, Response):
            return token
        obj = self.objects.get(object_id)
        if obj is None or obj.get("deleted"):
            return self._missing_object(object_id)
        ids = obj["comments"] if obj["kind"] == "post" else obj["replies"]
        if (request.arg("filter") or "toplevel") == "stream" and obj["kind"] == "post":
            ids = [
                cid
                for cid, c in self.objects.items()
                if c.get("kind") == "comment" and c["post_id"] == object_id
            ]
        comments = [self.objects[cid] for cid in ids]
        if request.arg("order") == "reverse_chronological":
            comments.sort(key=lambda c: c["created"], reverse=True)
        data = [self._comment_view(c) for c in comments]
        return self._with_usage(token, json_response(listing(data, "WTI5dA", "WTI5dB")))

    @route("POST", VERSION + r"/(?P<comment_id>\d+_\d+)/comments")
    def reply_to_comment(self, request: Request) -> Response:
        comment_id = request.params["comment_id"]
        token = self._authorise(request, scope=SCOPE_FOR_ENGAGEMENT)
        if isinstance(token, Response):
            return token
        parent = self.objects.get(comment_id)
        if parent is None or parent.get("deleted"):
            return self._missing_object(comment_id)
        message = request.arg("message") or ""
        if not message:
            return graph_error("(#100) Missing message", 100)
        post_id = parent["id"] if parent["kind"] == "post" else parent["post_id"]
        page = self.pages[self.objects[post_id]["page_id"]]
        reply_id = f"{post_id.split('_')[1]}_{self.next_id()}"
        reply = {
            "kind": "comment",
            "id": reply_id,
            "message": message,
            "post_id": post_id,
            "parent_id": comment_id,
            "from": {"id": page.id, "name": page.name},
            "created": time.time(),
            "is_hidden": False,
            "like_count": 0,
            "replies": [],
        }
        self.objects[reply_id] = reply
        if parent["kind"] == "post":
            parent["comments"].append(reply_id)
        else:
            parent["replies"].append(reply_id)
        return self._with_usage(token, json_response({"id": reply_id}))

    @route("POST", VERSION + r"/(?P<page_id>\d+)/messages")
    def send_message(self, request: Request) -> Response:
        page_id = request.params["page_id"]
        token = self._authorise(request, scope=SCOPE_FOR_MESSAGES, account_id=page_id)
        if isinstance(token, Response):
            return token
        page = self.pages[page_id]
        return self._send_reply(
            request,
            token,
            page.conversations,
            max_length=2000,
            sender_of=lambda message: message["from"]["id"],
            new_message=lambda text: {
                "id": f"m_{secrets.token_urlsafe(12)}",
                "message": text,
                "from": {"id": page.id, "name": page.name},
                "created": time.time(),
            },
            # Messenger's 24 h window binds replies; tagged updates may go later.
            window_applies=request.json().get("messaging_type") == "RESPONSE",
        )

    @route("GET", VERSION + r"/(?P<page_id>\d+)/conversations")
    def conversations(self, request: Request) -> Response:
        page_id = request.params["page_id"]
        token = self._authorise(request, scope=SCOPE_FOR_MESSAGES, account_id=page_id)
        if isinstance(token, Response):
            return token
        data = []
        for psid, messages in self.pages[page_id].conversations.items():
            data.append(
                {
                    "id": f"t_{psid}",
                    "messages": {
                        "data": [
                            {
                                "id": m["id"],
                                "message": m["message"],
                                "from": m["from"],
                                "created_time": iso(m["created"]),
                            }
                            for m in reversed(messages)
                        ]
                    },
                }
            )
        return self._with_usage(token, json_response({"data": data}))

    @route("POST", VERSION + r"/(?P<page_id>\d+)/subscribed_apps")
    def subscribed_apps(self, request: Request) -> Response:
        token = self._authorise(
            request, scope="pages_manage_metadata", account_id=request.params["page_id"]
        )
        if isinstance(token, Response):
            return token
        return self._with_usage(token, json_response({"success": True}))

    # -- synthetic citizens and the demo world ------------------------------------------------

    crowd_weights = {"scenery": 3.0, "festival": 2.5, "notice": 0.8, "general": 1.0}

    def crowd_posts(self) -> list[tuple[str, str, str]]:
        return [
            (page.id, pid, self.objects[pid]["message"])
            for page in self.pages.values()
            for pid in page.post_ids[-10:]
        ]

    def crowd_comment(
        self, account: str, post_id: str, author_id: str, author_name: str, text: str
    ) -> None:
        self.citizen_comment(post_id, author_id, author_name, text)

    def crowd_message_accounts(self) -> list[str]:
        return list(self.pages)

    def crowd_message(self, account: str, author_id: str, author_name: str, text: str) -> None:
        self.citizen_message(account, author_id, text)

    def populate_demo(self, account: DemoAccount, webhook_url: str) -> None:
        self.add_page(
            account.account_id, "순천시", token=account.token, followers=account.followers
        )
        for text, figures in DEMO_HISTORY:
            self.add_post(account.account_id, text, **figures)
        self.subscribe_webhooks(account.account_id, webhook_url)

    def timeline(self) -> list[dict[str, Any]]:
        return [
            {
                "account": page.name,
                "posts": [
                    {
                        "id": pid,
                        "text": self.objects[pid]["message"],
                        "comments": [
                            {
                                "author": self.objects[cid]["from"]["name"],
                                "text": self.objects[cid]["message"],
                            }
                            for cid in self.objects[pid]["comments"]
                            if not self.objects[cid]["is_hidden"]
                        ],
                    }
                    for pid in reversed(page.post_ids)
                ],
            }
            for page in self.pages.values()
        ]
