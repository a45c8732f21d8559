"""Simulated Instagram API with Facebook Login (graph.facebook.com): professional accounts
linked to Pages, media containers, publishing and its 24 h quota, media, insights,
comments, replies, hiding, DMs, webhooks (object "instagram") and the Facebook Login
connect flow. Follows shared/docs/platform-apis.md §4; errors and usage headers are
Facebook's (simulator/facebook.py)."""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from sotong.platforms.base import hmac_sha256_hex
from sotong.simulator.core import (
    DemoAccount,
    FaultKind,
    PlatformSimulator,
    Request,
    Response,
    WebhookTarget,
    json_response,
    route,
)
from sotong.simulator.facebook import _fields, graph_error, iso

VERSION = r"/v\d+\.\d+"
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
# The simulator's demo app (Facebook Login), like simulator/facebook.py's.
OAUTH_APP = ("sotong-app", "sim-app-secret")
# M: 50 posts per rolling 24 h (older docs said 25); a setting on the platform object.
DEFAULT_QUOTA_TOTAL = 50
QUOTA_DURATION = 86400
DEFAULT_CALL_BUDGET = 4800

DEMO_ACCOUNTS = (
    DemoAccount(
        "instagram",
        "순천시 인스타그램",
        "17841400000000001",
        "EAAB-demo-suncheon-instagram-token",
        "demo-hook-instagram-2026",
        {"app_id": OAUTH_APP[0], "app_secret": OAUTH_APP[1], "verify_token": "demo-verify-ig"},
        followers=24000,
    ),
)
DEMO_PAGE_ID = "104220000000011"
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
class IGToken:
    page_id: str | None  # None: a user token
    scopes: tuple[str, ...]
    expires_at: float | None = None
    revoked: bool = False
    user_id: str = ""


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


class Platform(PlatformSimulator):
    name = "instagram"
    label = "Instagram"

    def reset(self) -> None:
        self.accounts: dict[str, IGAccount] = {}  # by Instagram user id
        self.tokens: dict[str, IGToken] = {}
        self.objects: dict[str, dict[str, Any]] = {}  # containers, media, comments by id
        self.app_id, self.app_secret = OAUTH_APP
        self.oauth_codes: dict[str, str] = {}
        self.quota_total = DEFAULT_QUOTA_TOTAL
        # How many status checks a new container answers IN_PROGRESS before FINISHED.
        self.processing_polls = 1
        self.call_budget = DEFAULT_CALL_BUDGET

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
            self.tokens[token] = IGToken(page_id, scopes)
            return token

    def add_media(
        self, ig_user_id: str, caption: str, image_url: str, **figures: int
    ) -> dict[str, Any]:
        """Media published outside Sotong (the account's history), with its figures."""
        with self.lock:
            media = self._new_media(ig_user_id, caption, [image_url], "IMAGE")
            media.update(figures)
            return media

    def expire_token(self, token: str) -> None:
        self.tokens[token].expires_at = time.time() - 1

    def revoke_token(self, token: str) -> None:
        self.tokens[token].revoked = True

    def subscribe_webhooks(self, ig_user_id: str, url: str) -> None:
        def sign(body: bytes) -> dict[str, str]:
            return {"X-Hub-Signature-256": "sha256=" + hmac_sha256_hex(self.app_secret, body)}

        self.hub.set_webhook_target(self.name, ig_user_id, WebhookTarget(url, sign))

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
        self.hub.deliver_webhook(
            self.name,
            ig_user_id,
            {
                "object": "instagram",
                "entry": [
                    {
                        "id": ig_user_id,
                        "time": int(comment["created"]),
                        "changes": [{"field": "comments", "value": value}],
                    }
                ],
            },
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
        self.hub.deliver_webhook(
            self.name,
            ig_user_id,
            {
                "object": "instagram",
                "entry": [
                    {
                        "id": ig_user_id,
                        "time": int(message["created"] * 1000),
                        "messaging": [
                            {
                                "sender": {"id": igsid},
                                "recipient": {"id": ig_user_id},
                                "timestamp": int(message["created"] * 1000),
                                "message": {"mid": message["id"], "text": text},
                            }
                        ],
                    }
                ],
            },
        )
        return message

    # -- errors -----------------------------------------------------------------------------

    def fault_response(self, kind: FaultKind) -> Response:
        if kind is FaultKind.RATE_LIMITED:
            response = graph_error("(#4) Application request limit reached", 4, status=400)
            response.headers.update(self._usage_headers(100, regain_minutes=1))
            return response
        if kind is FaultKind.TOKEN_EXPIRED:
            return graph_error(
                "Error validating access token: Session has expired.", 190, subcode=463
            )
        if kind is FaultKind.TOKEN_REVOKED:
            return graph_error(
                "Error validating access token: The user has not authorized application.",
                190,
                subcode=458,
            )
        if kind is FaultKind.MALFORMED:
            return Response(
                200,
                "<html><body>Sorry, something went wrong.</body></html>",
                content_type="text/html",
            )
        return graph_error(
            "An unexpected error has occurred. Please retry your request later.", 2, status=500
        )

    def not_found(self, request: Request) -> Response:
        return graph_error(f"Unknown path components: {request.path}", 2500, status=400)

    def bad_request(self, message: str) -> Response:
        return graph_error(f"(#100) {message}", 100)

    def _missing_object(self, object_id: str) -> Response:
        return graph_error(
            f"Unsupported get request. Object with ID '{object_id}' does not exist, cannot be loaded "
            "due to missing permissions, or does not support this operation.",
            100,
            subcode=33,
        )

    def _usage_headers(self, percent: int, regain_minutes: int = 0) -> dict[str, str]:
        usage = {
            "type": "instagram",
            "call_count": percent,
            "total_cputime": max(1, percent // 4),
            "total_time": max(1, percent // 3),
            "estimated_time_to_regain_access": regain_minutes,
        }
        owner = next(iter(self.accounts), "0")
        return {"X-Business-Use-Case-Usage": json.dumps({owner: [usage]})}

    def _authorise(
        self, request: Request, *, scope: str | None = None, ig_user_id: str | None = None
    ) -> IGToken | Response:
        token_value = request.bearer_token() or request.arg("access_token")
        if not token_value:
            return graph_error(
                "An active access token must be used to query information about the current user.",
                2500,
            )
        token = self.tokens.get(token_value)
        if token is None:
            return graph_error("Invalid OAuth access token - Cannot parse access token", 190)
        if token.revoked:
            return graph_error(
                "Error validating access token: The user has not authorized application.",
                190,
                subcode=458,
            )
        if token.expires_at is not None and token.expires_at < time.time():
            return graph_error(
                "Error validating access token: Session has expired.", 190, subcode=463
            )
        if scope and scope not in token.scopes:
            return graph_error(
                f"(#10) Application does not have permission: {scope}", 10, status=403
            )
        if ig_user_id is not None:
            account = self.accounts.get(ig_user_id)
            if account is None:
                return self._missing_object(ig_user_id)
            if token.page_id not in (None, account.page_id):
                return self._missing_object(ig_user_id)
        owner = self._account_of(token)
        if owner:
            owner.calls += 1
        return token

    def _account_of(self, token: IGToken) -> IGAccount | None:
        return next((a for a in self.accounts.values() if a.page_id == token.page_id), None)

    def _with_usage(self, token: IGToken, response: Response) -> Response:
        owner = self._account_of(token)
        if owner:
            percent = min(100, owner.calls * 100 // max(1, self.call_budget))
            response.headers.update(self._usage_headers(percent))
        return response

    # -- OAuth (Facebook Login) ---------------------------------------------------------------

    @route("GET", VERSION + r"/dialog/oauth")
    def oauth_dialog(self, request: Request) -> Response:
        """The consent page: one link that grants everything asked and redirects back."""
        code = secrets.token_urlsafe(16)
        user_token = f"EAAU{secrets.token_urlsafe(24)}"
        scopes = tuple((request.arg("scope") or ",".join(ALL_SCOPES)).split(","))
        self.tokens[user_token] = IGToken(
            None, scopes, expires_at=time.time() + 5183944, user_id="sim-admin"
        )
        self.oauth_codes[code] = user_token
        query = urlencode({"code": code, "state": request.arg("state") or ""})
        target = f"{request.arg('redirect_uri')}?{query}"
        html = (
            '<!doctype html><html lang="ko"><meta charset="utf-8">'
            "<title>Facebook 로그인 (시뮬레이터)</title>"
            f"<h1>Sotong이 인스타그램 계정 관리 권한을 요청합니다</h1><p>{', '.join(scopes)}</p>"
            f'<a id="allow" href="{target}">허용</a></html>'
        )
        return Response(200, html, content_type="text/html; charset=utf-8")

    @route("GET", VERSION + r"/oauth/access_token")
    def access_token(self, request: Request) -> Response:
        if (
            request.arg("client_secret") != self.app_secret
            or request.arg("client_id") != self.app_id
        ):
            return graph_error("Error validating client secret.", 1)
        user_token = self.oauth_codes.pop(request.arg("code") or "", None)
        if user_token is None:
            return graph_error("This authorization code has been used.", 100, subcode=36009)
        return json_response(
            {"access_token": user_token, "token_type": "bearer", "expires_in": 5183944}
        )

    @route("GET", VERSION + r"/me/accounts")
    def me_accounts(self, request: Request) -> Response:
        token = self._authorise(request, scope="pages_show_list")
        if isinstance(token, Response):
            return token
        wanted = _fields(request.arg("fields") or "id,name,access_token")
        data = []
        for account in self.accounts.values():
            page_token = next(
                (
                    value
                    for value, t in self.tokens.items()
                    if t.page_id == account.page_id and not t.revoked
                ),
                None,
            )
            if page_token is None:
                page_token = f"EAAB{secrets.token_urlsafe(24)}"
                self.tokens[page_token] = IGToken(account.page_id, token.scopes)
            page: dict[str, Any] = {
                "id": account.page_id,
                "name": account.page_name,
                "access_token": page_token,
                "category": "Government Organization",
                "tasks": ["ANALYZE", "ADVERTISE", "MODERATE", "CREATE_CONTENT", "MANAGE"],
            }
            if "instagram_business_account" in wanted:
                page["instagram_business_account"] = {
                    "id": account.id,
                    "username": account.username,
                }
            data.append(page)
        return json_response(
            {"data": data, "paging": {"cursors": {"before": "QVFI", "after": "QVFI"}}}
        )

    @route("GET", VERSION + r"/debug_token")
    def debug_token(self, request: Request) -> Response:
        if request.arg("access_token") != f"{self.app_id}|{self.app_secret}":
            return graph_error("Invalid OAuth access token signature.", 190)
        inspected = self.tokens.get(request.arg("input_token") or "")
        if inspected is None:
            return json_response(
                {"data": {"is_valid": False, "error": {"code": 190, "message": "Invalid token"}}}
            )
        return json_response(
            {
                "data": {
                    "app_id": self.app_id,
                    "type": "PAGE" if inspected.page_id else "USER",
                    "application": "Sotong",
                    "is_valid": not inspected.revoked,
                    "expires_at": int(inspected.expires_at or 0),
                    "data_access_expires_at": 0,
                    "scopes": list(inspected.scopes),
                    "profile_id": inspected.page_id or inspected.user_id,
                }
            }
        )

    @route("GET", VERSION + r"/me")
    def me(self, request: Request) -> Response:
        token = self._authorise(request)
        if isinstance(token, Response):
            return token
        owner = self._account_of(token)
        if owner:
            return self._with_usage(
                token, json_response({"id": owner.page_id, "name": owner.page_name})
            )
        return json_response({"id": token.user_id, "name": "시뮬레이터 관리자"})

    # -- publishing ---------------------------------------------------------------------------

    @route("POST", VERSION + r"/(?P<ig_user_id>\d+)/media")
    def create_container(self, request: Request) -> Response:
        ig_user_id = request.params["ig_user_id"]
        token = self._authorise(request, scope="instagram_content_publish", ig_user_id=ig_user_id)
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
        token = self._authorise(request, scope="instagram_content_publish", ig_user_id=ig_user_id)
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
        token = self._authorise(request, scope="instagram_basic", ig_user_id=ig_user_id)
        if isinstance(token, Response):
            return token
        usage = self._quota_usage(self.accounts[ig_user_id])
        fields = _fields(request.arg("fields") or "quota_usage")
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
        return {k: values[k] for k in ["id", *fields] if k in values}

    @route("GET", VERSION + r"/(?P<ig_user_id>\d+)/media")
    def list_media(self, request: Request) -> Response:
        ig_user_id = request.params["ig_user_id"]
        token = self._authorise(request, scope="instagram_basic", ig_user_id=ig_user_id)
        if isinstance(token, Response):
            return token
        fields = _fields(request.arg("fields") or "id")
        limit = min(int(request.arg("limit") or 25), 100)
        media = [self.objects[m] for m in reversed(self.accounts[ig_user_id].media_ids)][:limit]
        return self._with_usage(
            token,
            json_response(
                {
                    "data": [self._media_view(item, fields) for item in media],
                    "paging": {"cursors": {"before": "QVFIUmx1", "after": "QVFIUnBx"}},
                }
            ),
        )

    @route("GET", VERSION + r"/(?P<object_id>\d+)")
    def get_object(self, request: Request) -> Response:
        object_id = request.params["object_id"]
        token = self._authorise(request)
        if isinstance(token, Response):
            return token
        fields = _fields(request.arg("fields") or "id")
        account = self.accounts.get(object_id)
        if account is not None:
            values = {
                "id": account.id,
                "username": account.username,
                "name": account.name,
                "followers_count": account.followers,
                "media_count": len(account.media_ids),
            }
            return self._with_usage(
                token, json_response({k: values[k] for k in ["id", *fields] if k in values})
            )
        obj = self.objects.get(object_id)
        if obj is None:
            return self._missing_object(object_id)
        if obj["kind"] == "container":
            values = {"id": obj["id"], "status_code": self._container_status(obj)}
            if obj["status_code"] == "ERROR":
                values["status"] = "Error: Media upload has failed with error code 2207003"
            else:
                values["status"] = obj["status_code"].title()
            return self._with_usage(
                token, json_response({k: values[k] for k in ["id", *fields] if k in values})
            )
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
                {
                    "data": [
                        {
                            "name": name,
                            "period": "lifetime",
                            "values": [{"value": values[name]}],
                            "title": name.replace("_", " ").title(),
                            "description": f"Lifetime: {name}",
                            "id": f"{media_id}/insights/{name}/lifetime",
                        }
                        for name in metrics
                    ]
                }
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
        return self._with_usage(
            token,
            json_response(
                {
                    "data": [self._comment_view(c) for c in reversed(comments)],
                    "paging": {"cursors": {"before": "WTI5dA", "after": "WTI5dB"}},
                }
            ),
        )

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

    @route("POST", VERSION + r"/(?P<ig_user_id>\d+)/messages")
    def send_message(self, request: Request) -> Response:
        ig_user_id = request.params["ig_user_id"]
        token = self._authorise(request, scope="instagram_manage_messages", ig_user_id=ig_user_id)
        if isinstance(token, Response):
            return token
        body = request.json()
        recipient = str((body.get("recipient") or {}).get("id", ""))
        text = (body.get("message") or {}).get("text", "")
        conversation = self.accounts[ig_user_id].conversations.get(recipient)
        if not conversation:
            return graph_error("(#100) No matching user found", 100, subcode=2018001)
        last = max(m["created"] for m in conversation if m["from"] == recipient)
        if time.time() - last > 24 * 3600:
            return graph_error(
                "(#10) This message is sent outside of allowed window.", 10, subcode=2018278
            )
        if not text or len(text) > 1000:
            return graph_error("(#100) Message text must be 1–1000 characters", 100)
        message = {
            "id": f"aWdfZAG1f{secrets.token_urlsafe(18)}",
            "text": text,
            "from": ig_user_id,
            "created": time.time(),
        }
        conversation.append(message)
        return self._with_usage(
            token, json_response({"recipient_id": recipient, "message_id": message["id"]})
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
