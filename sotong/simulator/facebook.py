"""Simulated Facebook Graph API (pages, posts, photos, insights, comments, Messenger,
webhooks, OAuth). Follows shared/docs/platform-apis.md §3: the same paths, parameters,
JSON shapes, error bodies and usage headers as graph.facebook.com."""

from __future__ import annotations

import datetime as dt
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

VERSION = r"/v\d+\.\d+"
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
# Calls per page and window before the usage header reaches 100 %.
DEFAULT_CALL_BUDGET = 4800

# The simulator's own Meta app (client id, secret), for practising Facebook Login.
OAUTH_APP = ("sotong-app", "sim-app-secret")

DEMO_ACCOUNTS = (
    DemoAccount(
        "facebook",
        "순천시 페이스북",
        "104220000000001",
        "EAAB-demo-suncheon-page-token",
        "demo-hook-facebook-2026",
        {"app_id": "sotong-app", "app_secret": "sim-app-secret", "verify_token": "demo-verify"},
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


def graph_error(
    message: str,
    code: int,
    *,
    subcode: int | None = None,
    status: int = 400,
    error_type: str = "OAuthException",
) -> Response:
    error: dict[str, Any] = {
        "message": message,
        "type": error_type,
        "code": code,
        "fbtrace_id": secrets.token_urlsafe(9),
    }
    if subcode is not None:
        error["error_subcode"] = subcode
    return json_response({"error": error}, status)


def iso(moment: float) -> str:
    return dt.datetime.fromtimestamp(moment, tz=dt.UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


@dataclass
class Token:
    page_id: str | None  # None: a user token
    scopes: tuple[str, ...]
    expires_at: float | None = None
    revoked: bool = False
    user_id: str = ""


@dataclass
class Page:
    id: str
    name: str
    followers: int = 0
    fans: int = 0
    calls: int = 0
    post_ids: list[str] = field(default_factory=list)
    conversations: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


class Platform(PlatformSimulator):
    name = "facebook"
    label = "Facebook"

    def reset(self) -> None:
        self.pages: dict[str, Page] = {}
        self.tokens: dict[str, Token] = {}
        self.objects: dict[str, dict[str, Any]] = {}  # posts, photos and comments by id
        self.app_id, self.app_secret = OAUTH_APP
        self.oauth_codes: dict[str, str] = {}  # code → user token
        self.call_budget = DEFAULT_CALL_BUDGET

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

    def expire_token(self, token: str) -> None:
        self.tokens[token].expires_at = time.time() - 1

    def revoke_token(self, token: str) -> None:
        self.tokens[token].revoked = True

    def subscribe_webhooks(self, page_id: str, url: str) -> None:
        def sign(body: bytes) -> dict[str, str]:
            return {"X-Hub-Signature-256": "sha256=" + hmac_sha256_hex(self.app_secret, body)}

        self.hub.set_webhook_target(self.name, page_id, WebhookTarget(url, sign))

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
        self.hub.deliver_webhook(
            self.name,
            page_id,
            {
                "object": "page",
                "entry": [
                    {
                        "id": page_id,
                        "time": int(comment["created"]),
                        "changes": [
                            {
                                "field": "feed",
                                "value": {
                                    "item": "comment",
                                    "verb": "add",
                                    "comment_id": comment_id,
                                    "post_id": post_id,
                                    "parent_id": comment["parent_id"],
                                    "from": comment["from"],
                                    "message": text,
                                    "created_time": int(comment["created"]),
                                },
                            }
                        ],
                    }
                ],
            },
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
        self.hub.deliver_webhook(
            self.name,
            page_id,
            {
                "object": "page",
                "entry": [
                    {
                        "id": page_id,
                        "time": int(message["created"]),
                        "messaging": [
                            {
                                "sender": {"id": psid},
                                "recipient": {"id": page_id},
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
            response = graph_error("(#32) Page request limit reached", 32, status=400)
            response.headers.update(self._usage_headers(100, regain_minutes=1))
            return response
        if kind is FaultKind.TOKEN_EXPIRED:
            return graph_error(
                "Error validating access token: Session has expired.", 190, subcode=463, status=400
            )
        if kind is FaultKind.TOKEN_REVOKED:
            return graph_error(
                "Error validating access token: The user has changed the password.",
                190,
                subcode=460,
                status=400,
            )
        if kind is FaultKind.MALFORMED:
            return Response(
                200,
                "<html><body>Sorry, something went wrong.</body></html>",
                content_type="text/html",
            )
        return graph_error(
            "An unexpected error has occurred. Please retry your request later.",
            2,
            status=500,
            error_type="OAuthException",
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
            "call_count": percent,
            "total_cputime": max(1, percent // 4),
            "total_time": max(1, percent // 3),
        }
        return {"X-App-Usage": json.dumps(usage)}

    def _authorise(
        self, request: Request, *, scope: str | None = None, page_id: str | None = None
    ) -> Token | Response:
        token_value = request.bearer_token() or request.arg("access_token")
        if not token_value:
            return graph_error(
                "An active access token must be used to query information about the current user.",
                2500,
                status=400,
            )
        token = self.tokens.get(token_value)
        if token is None:
            return graph_error(
                "Invalid OAuth access token - Cannot parse access token", 190, status=400
            )
        if token.revoked:
            return graph_error(
                "Error validating access token: The session has been invalidated because "
                "the user changed their password.",
                190,
                subcode=460,
                status=400,
            )
        if token.expires_at is not None and token.expires_at < time.time():
            return graph_error(
                "Error validating access token: Session has expired.", 190, subcode=463, status=400
            )
        if scope and scope not in token.scopes:
            return graph_error(
                f"(#200) Requires {scope} permission to manage the object", 200, status=403
            )
        if page_id and token.page_id not in (None, page_id):
            return graph_error(
                "(#210) A page access token is required to request this resource.", 210, status=403
            )
        if token.page_id:
            page = self.pages[token.page_id]
            page.calls += 1
        return token

    def _with_usage(self, token: Token, response: Response) -> Response:
        if token.page_id:
            percent = min(100, self.pages[token.page_id].calls * 100 // max(1, self.call_budget))
            response.headers.update(self._usage_headers(percent))
        return response

    # -- OAuth (the connect flow) -----------------------------------------------------------

    @route("GET", VERSION + r"/dialog/oauth")
    def oauth_dialog(self, request: Request) -> Response:
        """The consent page: one button that grants everything asked and redirects back."""
        code = secrets.token_urlsafe(16)
        user_token = f"EAAU{secrets.token_urlsafe(24)}"
        scopes = tuple((request.arg("scope") or ",".join(ALL_SCOPES)).split(","))
        self.tokens[user_token] = Token(
            None, scopes, expires_at=time.time() + 5183944, user_id="sim-admin"
        )
        self.oauth_codes[code] = user_token
        target = f"{request.arg('redirect_uri')}?{urlencode({'code': code, 'state': request.arg('state') or ''})}"
        html = (
            f'<!doctype html><html lang="ko"><meta charset="utf-8"><title>Facebook 로그인 (시뮬레이터)</title>'
            f"<h1>Sotong이 페이지 관리 권한을 요청합니다</h1><p>{', '.join(scopes)}</p>"
            f'<a id="allow" href="{target}">허용</a></html>'
        )
        return Response(200, html, content_type="text/html; charset=utf-8")

    @route("GET", VERSION + r"/oauth/access_token")
    def access_token(self, request: Request) -> Response:
        if (
            request.arg("client_secret") != self.app_secret
            or request.arg("client_id") != self.app_id
        ):
            return graph_error("Error validating client secret.", 1, status=400)
        if request.arg("grant_type") == "fb_exchange_token":
            token = request.arg("fb_exchange_token") or ""
            if token not in self.tokens:
                return graph_error("Invalid OAuth access token", 190)
            return json_response(
                {"access_token": token, "token_type": "bearer", "expires_in": 5183944}
            )
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
        data = []
        for page in self.pages.values():
            page_token = next(
                (
                    value
                    for value, t in self.tokens.items()
                    if t.page_id == page.id and not t.revoked
                ),
                None,
            )
            if page_token is None:
                page_token = self.add_page(page.id, page.name, scopes=token.scopes)
            data.append(
                {
                    "id": page.id,
                    "name": page.name,
                    "access_token": page_token,
                    "category": "Government Organization",
                    "tasks": ["ANALYZE", "ADVERTISE", "MODERATE", "CREATE_CONTENT", "MANAGE"],
                }
            )
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

    # -- pages and objects ------------------------------------------------------------------

    @route("GET", VERSION + r"/me")
    def me(self, request: Request) -> Response:
        token = self._authorise(request)
        if isinstance(token, Response):
            return token
        if token.page_id:
            page = self.pages[token.page_id]
            return self._with_usage(token, json_response({"id": page.id, "name": page.name}))
        return json_response({"id": token.user_id, "name": "시뮬레이터 관리자"})

    @route("POST", VERSION + r"/(?P<page_id>\d+)/feed")
    def create_post(self, request: Request) -> Response:
        page_id = request.params["page_id"]
        token = self._authorise(request, scope=SCOPE_FOR_WRITE, page_id=page_id)
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
        token = self._authorise(request, scope=SCOPE_FOR_WRITE, page_id=page_id)
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
        fields = _fields(request.arg("fields") or "id,message,created_time")
        limit = min(int(request.arg("limit") or 25), 100)
        posts = [self.objects[pid] for pid in reversed(self.pages[page_id].post_ids)][:limit]
        return self._with_usage(
            token,
            json_response(
                {
                    "data": [self._post_view(post, fields) for post in posts],
                    "paging": {"cursors": {"before": "QVFIUmx1", "after": "QVFIUnBx"}},
                }
            ),
        )

    @route("GET", VERSION + r"/(?P<object_id>[\d_]+)")
    def get_object(self, request: Request) -> Response:
        object_id = request.params["object_id"]
        token = self._authorise(request)
        if isinstance(token, Response):
            return token
        fields = _fields(request.arg("fields") or "id")
        if object_id in self.pages:
            page = self.pages[object_id]
            values = {
                "id": page.id,
                "name": page.name,
                "followers_count": page.followers,
                "fan_count": page.fans,
            }
            return self._with_usage(
                token, json_response({k: values[k] for k in ["id", *fields] if k in values})
            )
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
                    "data": [
                        {
                            "name": name,
                            "period": period,
                            "values": [{"value": values[name]}],
                            "title": name.replace("_", " ").title(),
                            "description": f"Lifetime: {name}",
                            "id": f"{post_id}/insights/{name}/{period}",
                        }
                        for name in metrics
                    ],
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
        return self._with_usage(
            token,
            json_response(
                {
                    "data": [self._comment_view(c) for c in comments],
                    "paging": {"cursors": {"before": "WTI5dA", "after": "WTI5dB"}},
                }
            ),
        )

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
        token = self._authorise(request, scope=SCOPE_FOR_MESSAGES, page_id=page_id)
        if isinstance(token, Response):
            return token
        body = request.json()
        recipient = str((body.get("recipient") or {}).get("id", ""))
        text = (body.get("message") or {}).get("text", "")
        conversation = self.pages[page_id].conversations.get(recipient)
        if not conversation:
            return graph_error("(#100) No matching user found", 100, subcode=2018001)
        last_from_user = max(m["created"] for m in conversation if m["from"]["id"] == recipient)
        if body.get("messaging_type") == "RESPONSE" and time.time() - last_from_user > 24 * 3600:
            return graph_error(
                "(#10) This message is sent outside of allowed window.", 10, subcode=2018278
            )
        if not text or len(text) > 2000:
            return graph_error("(#100) Message text must be 1–2000 characters", 100)
        message = {
            "id": f"m_{secrets.token_urlsafe(12)}",
            "message": text,
            "from": {"id": page_id, "name": self.pages[page_id].name},
            "created": time.time(),
        }
        conversation.append(message)
        return self._with_usage(
            token, json_response({"recipient_id": recipient, "message_id": message["id"]})
        )

    @route("GET", VERSION + r"/(?P<page_id>\d+)/conversations")
    def conversations(self, request: Request) -> Response:
        page_id = request.params["page_id"]
        token = self._authorise(request, scope=SCOPE_FOR_MESSAGES, page_id=page_id)
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
            request, scope="pages_manage_metadata", page_id=request.params["page_id"]
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


def _fields(spec: str) -> list[str]:
    """Top-level names of a Graph `fields` list: 'a,b.summary(x).limit(0),c{d,e}' → [a, b, c]."""
    names, depth, current = [], 0, ""
    for char in spec:
        if char in "({":
            depth += 1
        elif char in ")}":
            depth -= 1
        if char == "," and depth == 0:
            names.append(current)
            current = ""
        else:
            current += char
    if current:
        names.append(current)
    return [name.split("{")[0].split(".")[0].strip() for name in names if name.strip()]
