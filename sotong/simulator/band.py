"""Simulated Naver BAND Open API (bands, profile, permissions, posts, comments, OAuth).
Follows shared/docs/platform-apis.md §2: the same paths, parameters (``access_token`` in
the query or form), the ``{"result_code", "result_data"}`` envelope and its error codes.

What the doc marks M/L is an attribute here: the HTTP status of error answers
(``error_status``, 200 by default), the text limit, the quota, ``expires_in`` and the code
for an unknown post (``post_not_found_code``, 3000 "invalid request").
"""

from __future__ import annotations

import base64
import html
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from sotong.simulator.core import (
    DemoAccount,
    FaultKind,
    PlatformSimulator,
    Request,
    Response,
    json_response,
    route,
)

ALL_PERMISSIONS = ("posting", "commenting", "contents_deletion")
# The simulator's demo app (client id, client secret): demo values, not real secrets.
OAUTH_APP = ("sotong-band-app", "sim-band-secret")
DEFAULT_EXPIRES_IN = 315359999  # the ~10 years often quoted (L)
DEFAULT_MAX_CONTENT = 10000  # not published (L)

DEMO_ACCOUNTS = (
    DemoAccount(
        "band",
        "순천시 밴드",
        "AADsuncheonCityBand2026x",
        "ZQAAAdemo-suncheon-band-token",
        "demo-hook-band-2026",
        {},
        followers=4200,
        refresh_token="ZQAAAdemo-suncheon-band-refresh",  # noqa: S106 - demo value
    ),
)
# Posts the city made before Sotong: reads, emotions.
DEMO_HISTORY: tuple[tuple[str, int, int], ...] = (
    ("[안내] 조례동 하수관로 교체 공사로 11.24.~11.28. 일부 구간을 통제합니다.", 1840, 32),
    (
        "2026년 하반기 청년 월세 지원 신청을 12월 5일까지 받습니다. 읍면동 행정복지센터 접수",
        2210,
        57,
    ),
    ("순천만국가정원 가을 국화 전시 안내 🌼 주차는 동문 주차장을 이용해 주세요", 1530, 88),
)


def envelope(data: Any) -> dict[str, Any]:
    return {"result_code": 1, "result_data": data}


def now_ms() -> int:
    return int(time.time() * 1000)


def new_key() -> str:
    return "AA" + secrets.token_urlsafe(18).replace("-", "x").replace("_", "y")


@dataclass
class Token:
    user_key: str
    name: str
    permissions: tuple[str, ...] = ALL_PERMISSIONS
    expired: bool = False
    revoked: bool = False


@dataclass
class Band:
    band_key: str
    name: str
    member_count: int = 0
    cover: str = "https://coresos-phinf.pstatic.net/a/band_cover.jpg"
    post_keys: list[str] = field(default_factory=list)


class Platform(PlatformSimulator):
    name = "band"
    label = "BAND"

    def reset(self) -> None:
        self.bands: dict[str, Band] = {}
        self.tokens: dict[str, Token] = {}
        self.posts: dict[str, dict[str, Any]] = {}
        self.comments: dict[str, dict[str, Any]] = {}
        self.oauth_codes: dict[str, str] = {}  # code → access token
        self.refresh_tokens: dict[str, str] = {}  # access token → refresh token
        self.client_id, self.client_secret = OAUTH_APP
        # Settings for what the doc leaves open.
        self.error_status = 200
        self.max_content_length = DEFAULT_MAX_CONTENT
        self.expires_in = DEFAULT_EXPIRES_IN
        self.post_not_found_code = 3000
        self.daily_quota: int | None = None  # calls per user; None: unlimited
        self.calls: dict[str, int] = {}

    # -- set-up for tests and the demo -------------------------------------------------------

    def add_band(
        self,
        band_key: str,
        name: str,
        *,
        token: str | None = None,
        user_name: str = "순천시청",
        permissions: tuple[str, ...] = ALL_PERMISSIONS,
        member_count: int = 0,
    ) -> str:
        """A band whose member (the city's account) holds ``token``; returns the token."""
        with self.lock:
            self.bands[band_key] = Band(band_key, name, member_count=member_count)
            token = token or f"ZQAA{secrets.token_urlsafe(24)}"
            if token not in self.tokens:
                self.tokens[token] = Token(new_key(), user_name, permissions)
            return token

    def add_post(self, band_key: str, content: str, **figures: int) -> dict[str, Any]:
        """A post made outside Sotong, with its figures (post_read_count, emotion_count)."""
        with self.lock:
            author = {"name": "순천시청", "user_key": "AAcityUserKey", "role": "leader"}
            post = self._new_post(band_key, content, author)
            post.update(figures)
            return post

    def expire_token(self, token: str) -> None:
        self.tokens[token].expired = True

    def revoke_token(self, token: str) -> None:
        self.tokens[token].revoked = True

    def citizen_comment(self, post_key: str, user_key: str, name: str, text: str) -> dict[str, Any]:
        """A member comments on a post (BAND sends no webhook: Sotong polls)."""
        with self.lock:
            post = self.posts[post_key]
            comment: dict[str, Any] = {
                "band_key": post["band_key"],
                "post_key": post_key,
                "comment_key": new_key(),
                "content": text,
                "emotion_count": 0,
                "is_audio_included": False,
                "created_at": now_ms(),
                "author": self._author(name, user_key, "member"),
            }
            self.comments[comment["comment_key"]] = comment
            post["comment_keys"].append(comment["comment_key"])
            return comment

    # -- errors -----------------------------------------------------------------------------

    def error(self, code: int, message: str, status: int | None = None) -> Response:
        return json_response(
            {"result_code": code, "result_data": {"message": message}},
            self.error_status if status is None else status,
        )

    def fault_response(self, kind: FaultKind) -> Response:
        if kind is FaultKind.RATE_LIMITED:
            return self.error(1003, "Cool down time restriction")
        if kind is FaultKind.TOKEN_EXPIRED:
            return self.error(10401, "Unauthorized: access token expired")
        if kind is FaultKind.TOKEN_REVOKED:
            # BAND has one code for a token that no longer works.
            return self.error(10401, "Unauthorized: invalid access token")
        if kind is FaultKind.MALFORMED:
            return Response(
                200, "<html><body>BAND 점검 중입니다</body></html>", content_type="text/html"
            )
        return self.error(2300, "Invalid response", status=500)

    def not_found(self, request: Request) -> Response:
        return self.error(3000, f"Invalid request: {request.path}", status=404)

    def bad_request(self, message: str) -> Response:
        return self.error(211, f"Invalid parameters: {message}")

    def _authorise(
        self, request: Request, *, band_key: str | None = None, permission: str | None = None
    ) -> Token | Response:
        value = request.arg("access_token")
        if not value:
            return self.error(212, "Insufficient parameters: access_token")
        token = self.tokens.get(value)
        if token is None or token.expired or token.revoked:
            return self.error(10401, "Unauthorized")
        if self.daily_quota is not None:
            used = self.calls.get(token.user_key, 0) + 1
            self.calls[token.user_key] = used
            if used > self.daily_quota:
                return self.error(1002, "User quota exceeded")
        if band_key is not None and band_key not in self.bands:
            return self.error(60102, "Not accessible band")
        if permission and permission not in token.permissions:
            return self.error(10403, "Forbidden")
        return token

    # -- OAuth ------------------------------------------------------------------------------

    @route("GET", r"/oauth2/authorize")
    def authorize(self, request: Request) -> Response:
        """The consent page: one link that grants access and redirects back with a code."""
        if request.arg("client_id") != self.client_id or request.arg("response_type") != "code":
            return Response(400, "invalid client", content_type="text/plain")
        code = secrets.token_urlsafe(16)
        token = f"ZQAA{secrets.token_urlsafe(24)}"
        self.tokens[token] = Token(new_key(), "순천시청")
        self.refresh_tokens[token] = f"ZQAR{secrets.token_urlsafe(24)}"
        self.oauth_codes[code] = token
        query = urlencode({"code": code, "state": request.arg("state") or ""})
        target = html.escape(f"{request.arg('redirect_uri')}?{query}")
        page = (
            '<!doctype html><html lang="ko"><meta charset="utf-8">'
            "<title>BAND 로그인 (시뮬레이터)</title>"
            "<h1>Sotong이 밴드 글쓰기·댓글 권한을 요청합니다</h1>"
            f'<a id="allow" href="{target}">허용</a></html>'
        )
        return Response(200, page, content_type="text/html; charset=utf-8")

    @route("GET", r"/oauth2/token")
    def token(self, request: Request) -> Response:
        expected = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        if request.header("authorization") != f"Basic {expected}":
            return json_response({"error": "invalid_client"}, 401)
        if request.arg("grant_type") != "authorization_code":
            return json_response({"error": "unsupported_grant_type"}, 400)
        token = self.oauth_codes.pop(request.arg("code") or "", None)
        if token is None:
            return json_response({"error": "invalid_grant"}, 400)
        return json_response(
            {
                "access_token": token,
                "token_type": "bearer",
                "refresh_token": self.refresh_tokens[token],
                "expires_in": self.expires_in,
                "scope": "READ_PHOTO READ_ALBUM DELETE_POST READ_MY_PROFILE CREATE_POST "
                "READ_POST CREATE_COMMENT DELETE_COMMENT READ_BAND_AND_USERS_LIST "
                "READ_BAND_PERMISSION READ_COMMENT",
                "user_key": self.tokens[token].user_key,
            }
        )

    # -- bands and profile ------------------------------------------------------------------

    @route("GET", r"/v2\.1/bands")
    def list_bands(self, request: Request) -> Response:
        token = self._authorise(request)
        if isinstance(token, Response):
            return token
        return json_response(
            envelope(
                {
                    "bands": [
                        {
                            "name": band.name,
                            "band_key": band.band_key,
                            "cover": band.cover,
                            "member_count": band.member_count,
                        }
                        for band in self.bands.values()
                    ]
                }
            )
        )

    @route("GET", r"/v2/profile")
    def profile(self, request: Request) -> Response:
        token = self._authorise(request)
        if isinstance(token, Response):
            return token
        return json_response(
            envelope(
                {
                    "user_key": token.user_key,
                    "profile_image_url": "https://coresos-phinf.pstatic.net/a/profile.jpg",
                    "name": token.name,
                    "is_app_member": True,
                    "message_allowed": True,
                }
            )
        )

    @route("GET", r"/v2/band/permissions")
    def permissions(self, request: Request) -> Response:
        band_key = request.arg("band_key") or ""
        token = self._authorise(request, band_key=band_key)
        if isinstance(token, Response):
            return token
        asked = [p for p in (request.arg("permissions") or "").split(",") if p]
        if not asked:
            return self.error(212, "Insufficient parameters: permissions")
        return json_response(
            envelope({"permissions": [p for p in asked if p in token.permissions]})
        )

    # -- posts ------------------------------------------------------------------------------

    @staticmethod
    def _author(name: str, user_key: str, role: str) -> dict[str, Any]:
        return {
            "name": name,
            "description": "",
            "role": role,
            "profile_image_url": "https://coresos-phinf.pstatic.net/a/profile.jpg",
            "user_key": user_key,
        }

    def _new_post(self, band_key: str, content: str, author: dict[str, Any]) -> dict[str, Any]:
        post: dict[str, Any] = {
            "band_key": band_key,
            "post_key": new_key(),
            "content": content,
            "author": self._author(author["name"], author["user_key"], author["role"]),
            "created_at": now_ms(),
            "photos": [],
            "emotion_count": 0,
            "post_read_count": 0,
            "comment_keys": [],
            "deleted": False,
        }
        self.posts[post["post_key"]] = post
        self.bands[band_key].post_keys.append(post["post_key"])
        return post

    def _post_view(self, post: dict[str, Any], *, with_reads: bool = False) -> dict[str, Any]:
        comments = [self.comments[key] for key in post["comment_keys"]]
        view = {
            "content": post["content"],
            "author": post["author"],
            "post_key": post["post_key"],
            "comment_count": len(comments),
            "created_at": post["created_at"],
            "photos": post["photos"],
            "emotion_count": post["emotion_count"],
            "latest_comments": [
                {"body": c["content"], "author": c["author"], "created_at": c["created_at"]}
                for c in comments[-3:]
            ],
            "band_key": post["band_key"],
        }
        if with_reads:
            view["post_read_count"] = post["post_read_count"]
        return view

    def _live_post(self, band_key: str, post_key: str) -> dict[str, Any] | None:
        post = self.posts.get(post_key)
        if post is None or post["deleted"] or post["band_key"] != band_key:
            return None
        return post

    def _no_post(self) -> Response:
        return self.error(self.post_not_found_code, "Invalid request: no such post")

    def _authorised_post(
        self, request: Request, permission: str | None = None
    ) -> tuple[Token, dict[str, Any]] | Response:
        """The token and the live post a call names (band_key, post_key), or the error."""
        band_key = request.arg("band_key") or ""
        token = self._authorise(request, band_key=band_key, permission=permission)
        if isinstance(token, Response):
            return token
        post = self._live_post(band_key, request.arg("post_key") or "")
        if post is None:
            return self._no_post()
        return token, post

    def _page(self, request: Request, items: list[dict[str, Any]], **keys: str) -> Response:
        """One page of ``items`` (``after``, ``limit``) in BAND's envelope; the next page's
        parameters repeat ``keys`` and the token."""
        limit = min(int(request.arg("limit") or 20), 100)
        start = int(request.arg("after") or 0)
        following = None
        if start + limit < len(items):
            following = {
                "after": str(start + limit),
                "limit": str(limit),
                **keys,
                "access_token": request.arg("access_token"),
            }
        return json_response(
            envelope(
                {
                    "paging": {"previous_params": None, "next_params": following},
                    "items": items[start : start + limit],
                }
            )
        )

    @route("GET", r"/v2/band/posts")
    def list_posts(self, request: Request) -> Response:
        band_key = request.arg("band_key") or ""
        token = self._authorise(request, band_key=band_key)
        if isinstance(token, Response):
            return token
        keys = reversed(self.bands[band_key].post_keys)
        return self._page(
            request, [self._post_view(self.posts[key]) for key in keys], band_key=band_key
        )

    @route("GET", r"/v2\.1/band/post")
    def get_post(self, request: Request) -> Response:
        found = self._authorised_post(request)
        if isinstance(found, Response):
            return found
        _, post = found
        return json_response(envelope({"post": self._post_view(post, with_reads=True)}))

    @route("POST", r"/v2\.2/band/post/create")
    def create_post(self, request: Request) -> Response:
        band_key = request.arg("band_key") or ""
        token = self._authorise(request, band_key=band_key, permission="posting")
        if isinstance(token, Response):
            return token
        content = request.arg("content") or ""
        if not content:
            return self.error(212, "Insufficient parameters: content")
        if len(content) > self.max_content_length:
            return self.error(3001, "Character limit exceeded")
        post = self._new_post(
            band_key, content, {"name": token.name, "user_key": token.user_key, "role": "leader"}
        )
        return json_response(envelope({"band_key": band_key, "post_key": post["post_key"]}))

    @route("POST", r"/v2/band/post/remove")
    def remove_post(self, request: Request) -> Response:
        found = self._authorised_post(request, "contents_deletion")
        if isinstance(found, Response):
            return found
        _, post = found
        post["deleted"] = True
        self.bands[post["band_key"]].post_keys.remove(post["post_key"])
        return json_response(envelope({"message": "success"}))

    # -- comments ---------------------------------------------------------------------------

    @route("GET", r"/v2/band/post/comments")
    def list_comments(self, request: Request) -> Response:
        found = self._authorised_post(request)
        if isinstance(found, Response):
            return found
        _, post = found
        comments = [self.comments[key] for key in post["comment_keys"]]
        # Kept in the order they were written: the same as created_at, ties included.
        if request.arg("sort") == "-created_at":
            comments.reverse()
        return self._page(
            request,
            comments,
            band_key=post["band_key"],
            post_key=post["post_key"],
            sort=request.arg("sort") or "+created_at",
        )

    @route("POST", r"/v2/band/post/comment/create")
    def create_comment(self, request: Request) -> Response:
        found = self._authorised_post(request, "commenting")
        if isinstance(found, Response):
            return found
        token, post = found
        body = request.arg("body") or ""
        if not body:
            return self.error(212, "Insufficient parameters: body")
        if len(body) > self.max_content_length:
            return self.error(3001, "Character limit exceeded")
        comment = self.citizen_comment(post["post_key"], token.user_key, token.name, body)
        comment["author"]["role"] = "leader"
        return json_response(envelope({"message": "success"}))

    # -- synthetic citizens and the demo world ------------------------------------------------

    # Band members comment most on practical notices (공사, 신청, 안내).
    crowd_weights = {"notice": 3.0, "general": 1.0, "festival": 0.7, "scenery": 0.5}

    def crowd_posts(self) -> list[tuple[str, str, str]]:
        return [
            (band.band_key, key, self.posts[key]["content"])
            for band in self.bands.values()
            for key in band.post_keys[-10:]
        ]

    def crowd_comment(
        self, account: str, post_id: str, author_id: str, author_name: str, text: str
    ) -> None:
        self.citizen_comment(post_id, f"AA{author_id}", author_name, text)

    def populate_demo(self, account: DemoAccount, webhook_url: str) -> None:
        """The city's band with its history; BAND has no webhooks, so nothing is pointed
        at ``webhook_url``."""
        token = self.add_band(
            account.account_id, "순천시 소식", token=account.token, member_count=account.followers
        )
        if account.refresh_token:
            self.refresh_tokens[token] = account.refresh_token
        for text, reads, emotions in DEMO_HISTORY:
            self.add_post(account.account_id, text, post_read_count=reads, emotion_count=emotions)

    def timeline(self) -> list[dict[str, Any]]:
        return [
            {
                "account": band.name,
                "posts": [
                    {
                        "id": key,
                        "text": self.posts[key]["content"],
                        "comments": [
                            {
                                "author": self.comments[ck]["author"]["name"],
                                "text": self.comments[ck]["content"],
                            }
                            for ck in self.posts[key]["comment_keys"]
                        ],
                    }
                    for key in reversed(band.post_keys)
                ],
            }
            for band in self.bands.values()
        ]
