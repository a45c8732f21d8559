"""Simulated Mastodon instance (statuses with Idempotency-Key, media, instance limits,
context, notifications, direct statuses). Follows shared/docs/platform-apis.md §8: the same
paths, parameters, JSON shapes, {"error": …} bodies and X-RateLimit-* headers (ISO 8601
reset) as a Mastodon server. No webhooks: Sotong polls."""

from __future__ import annotations

import datetime as dt
import html
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from sotong.simulator.core import (
    DemoAccount,
    FaultKind,
    PlatformSimulator,
    RateWindow,
    Request,
    Response,
    json_response,
    route,
)

ALL_SCOPES = ("read", "write")
RATE_LIMIT = 300  # requests per account
WINDOW = 5 * 60
IDEMPOTENCY_TTL = 3600  # doc: M (about an hour)
URL_PATTERN = re.compile(r"https?://[^\s<>\"]+")
MENTION_PATTERN = re.compile(r"@([A-Za-z0-9_]+)(?:@[\w.-]+)?")
SNOWFLAKE_BASE = 113_000_000_000_000_000

DEMO_ACCOUNT_ID = "109000000000000001"
DEMO_ACCOUNTS = (
    DemoAccount(
        "mastodon",
        "순천시 마스토돈",
        DEMO_ACCOUNT_ID,
        "demo-mastodon-suncheon-token",
        "demo-hook-mastodon-2026",
        followers=2300,
    ),
)
DEMO_HISTORY: tuple[tuple[str, dict[str, int]], ...] = (
    (
        "순천만국가정원 국화 전시가 이번 주말까지 이어집니다. https://scgardens.or.kr",
        {"favourites": 64, "reblogs": 21},
    ),
    (
        "[안내] 조례동 하수관로 공사로 11.24.~11.28. 일부 구간을 통제합니다.",
        {"favourites": 9, "reblogs": 7},
    ),
    ("순천시 공공자전거 온누리 대여소 위치를 확인하세요.", {"favourites": 12, "reblogs": 3}),
)


def error(message: str, status: int) -> Response:
    return json_response({"error": message}, status)


def iso(moment: float) -> str:
    return dt.datetime.fromtimestamp(moment, tz=dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@dataclass
class Token:
    account_id: str
    scopes: tuple[str, ...]
    revoked: bool = False


class Platform(PlatformSimulator):
    name = "mastodon"
    label = "Mastodon"

    def reset(self) -> None:
        self.domain = "mastodon.example"
        self.accounts: dict[str, dict[str, Any]] = {}
        self.tokens: dict[str, Token] = {}
        self.statuses: dict[str, dict[str, Any]] = {}
        self.media: dict[str, dict[str, Any]] = {}
        self.notifications: list[dict[str, Any]] = []
        self.idempotency: dict[tuple[str, str], tuple[str, float]] = {}
        self.calls = RateWindow(WINDOW)
        self.rate_limit = RATE_LIMIT
        self.max_characters = 500
        self.max_media_attachments = 4
        self.characters_reserved_per_url = 23
        self.image_size_limit = 16 * 1024 * 1024

    def snowflake(self) -> str:
        return str(SNOWFLAKE_BASE + self.next_id() * 65536)

    # -- set-up for tests and the demo -------------------------------------------------------

    def add_account(
        self,
        account_id: str,
        display_name: str,
        username: str = "",
        *,
        token: str | None = None,
        scopes: tuple[str, ...] = ALL_SCOPES,
        followers: int = 0,
    ) -> str:
        """A local account with an application token; returns the token."""
        with self.lock:
            self._ensure_account(account_id, display_name, username, followers)
            token = token or secrets.token_urlsafe(32)
            self.tokens[token] = Token(account_id, scopes)
            return token

    def _ensure_account(
        self, account_id: str, display_name: str, username: str = "", followers: int = 0
    ) -> dict[str, Any]:
        username = username or f"user{account_id[-6:]}"
        return self.accounts.setdefault(
            account_id,
            {
                "id": account_id,
                "username": username,
                "acct": username,
                "display_name": display_name,
                "locked": False,
                "bot": False,
                "created_at": iso(time.time() - 400 * 86400),
                "note": "",
                "url": f"https://{self.domain}/@{username}",
                "avatar": f"https://{self.domain}/avatars/original/missing.png",
                "followers_count": followers,
                "following_count": 10,
                "statuses_count": 0,
            },
        )

    def add_status(
        self, account_id: str, text: str, *, favourites: int = 0, reblogs: int = 0, age: float = 0
    ) -> dict[str, Any]:
        """A status made outside Sotong, with its counts."""
        with self.lock:
            status = self._new_status(account_id, text, created=time.time() - age)
            status["favourites_count"], status["reblogs_count"] = favourites, reblogs
            return status

    def revoke_token(self, token: str) -> None:
        self.tokens[token].revoked = True

    # -- citizens acting ---------------------------------------------------------------------------

    def citizen_reply(
        self, status_id: str, author_id: str, author_name: str, text: str
    ) -> dict[str, Any]:
        with self.lock:
            parent = self.statuses[status_id]
            owner = self.accounts[parent["account_id"]]
            self._ensure_account(author_id, author_name, f"citizen{author_id[-6:]}")
            return self._new_status(
                author_id, f"@{owner['acct']} {text}", in_reply_to=parent, visibility="public"
            )

    def citizen_mention(
        self, account_id: str, author_id: str, author_name: str, text: str, *, direct: bool = False
    ) -> dict[str, Any]:
        with self.lock:
            owner = self.accounts[account_id]
            self._ensure_account(author_id, author_name, f"citizen{author_id[-6:]}")
            return self._new_status(
                author_id,
                f"@{owner['acct']} {text}",
                visibility="direct" if direct else "public",
            )

    # -- errors -----------------------------------------------------------------------------

    def fault_response(self, kind: FaultKind) -> Response:
        if kind is FaultKind.RATE_LIMITED:
            response = error("Too many requests", 429)
            response.headers.update(self._rate_headers(0, time.time() + 120))
            return response
        if kind in (FaultKind.TOKEN_EXPIRED, FaultKind.TOKEN_REVOKED):
            # Tokens do not expire: every dead token answers the same.
            return error("The access token is invalid", 401)
        if kind is FaultKind.MALFORMED:
            return Response(200, "<html><body>We're sorry</body></html>", content_type="text/html")
        return error("We're sorry, but something went wrong on our end.", 503)

    def not_found(self, request: Request) -> Response:
        return error("Record not found", 404)

    def bad_request(self, message: str) -> Response:
        return error(f"Validation failed: {message}", 422)

    def _rate_headers(self, remaining: int, reset: float) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.rate_limit),
            "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Reset": dt.datetime.fromtimestamp(reset, tz=dt.UTC)
            .isoformat(timespec="microseconds")
            .replace("+00:00", "Z"),
        }

    def _authorise(self, request: Request, scope: str = "read") -> Token | Response:
        token = self.tokens.get(request.bearer_token())
        if token is None or token.revoked:
            return error("The access token is invalid", 401)
        if scope not in token.scopes and not any(s.startswith(f"{scope}:") for s in token.scopes):
            return error("This action is outside the authorized scopes", 403)
        allowance = self.calls.take(token.account_id, self.rate_limit)
        if not allowance.allowed:
            response = error("Too many requests", 429)
            response.headers.update(self._rate_headers(0, allowance.reset))
            return response
        request.answer_headers.update(self._rate_headers(allowance.remaining, allowance.reset))
        return token

    # -- statuses -----------------------------------------------------------------------------

    def _render(self, text: str) -> str:
        """Status text as Mastodon renders it: escaped, links and mentions marked up."""

        def link(match: re.Match[str]) -> str:
            url = match.group(0)
            scheme, _, rest = url.partition("://")
            shown, hidden = rest[:30], rest[30:]
            return (
                f'<a href="{url}" rel="nofollow noopener" target="_blank">'
                f'<span class="invisible">{scheme}://</span><span class="{"ellipsis" if hidden else ""}">'
                f'{shown}</span><span class="invisible">{hidden}</span></a>'
            )

        def mention(match: re.Match[str]) -> str:
            username = match.group(1)
            return (
                f'<span class="h-card"><a href="https://{self.domain}/@{username}" '
                f'class="u-url mention">@<span>{username}</span></a></span>'
            )

        paragraphs = []
        for paragraph in html.escape(text, quote=False).split("\n\n"):
            marked = URL_PATTERN.sub(link, paragraph)
            marked = MENTION_PATTERN.sub(mention, marked)
            paragraphs.append(f"<p>{marked.replace(chr(10), '<br />')}</p>")
        return "".join(paragraphs)

    def _new_status(
        self,
        account_id: str,
        text: str,
        *,
        in_reply_to: dict[str, Any] | None = None,
        visibility: str = "public",
        media_ids: list[str] | None = None,
        created: float | None = None,
    ) -> dict[str, Any]:
        status_id = self.snowflake()
        by_username = {a["username"]: a for a in self.accounts.values()}
        mentioned = [
            by_username[m.group(1)]["id"]
            for m in MENTION_PATTERN.finditer(text)
            if m.group(1) in by_username
        ]
        status: dict[str, Any] = {
            "id": status_id,
            "account_id": account_id,
            "text": text,
            "created": created if created is not None else time.time(),
            "edited": None,
            "in_reply_to_id": in_reply_to["id"] if in_reply_to else None,
            "in_reply_to_account_id": in_reply_to["account_id"] if in_reply_to else None,
            "visibility": visibility,
            "media_ids": media_ids or [],
            "mentions": mentioned,
            "favourites_count": 0,
            "reblogs_count": 0,
            "deleted": False,
        }
        self.statuses[status_id] = status
        self.accounts[account_id]["statuses_count"] += 1
        for target in mentioned:
            if target != account_id:
                self.notifications.append(
                    {
                        "id": str(len(self.notifications) + 1 + 10_000),
                        "type": "mention",
                        "created": status["created"],
                        "account_id": target,
                        "from": account_id,
                        "status_id": status_id,
                    }
                )
        return status

    def _live(self, status_id: str) -> dict[str, Any] | None:
        status = self.statuses.get(status_id)
        return status if status and not status["deleted"] else None

    def _authorised_status(
        self, request: Request, scope: str = "read", *, own: bool = False
    ) -> tuple[Token, dict[str, Any]] | Response:
        """The token and the live status the path names (``own``: the token's), or the error."""
        token = self._authorise(request, scope)
        if isinstance(token, Response):
            return token
        status = self._live(request.params["status_id"])
        if status is None or (own and status["account_id"] != token.account_id):
            return error("Record not found", 404)
        return token, status

    def _account_view(self, account_id: str) -> dict[str, Any]:
        return dict(self.accounts[account_id])

    def _status_view(self, status: dict[str, Any], *, source: bool = False) -> dict[str, Any]:
        account = self.accounts[status["account_id"]]
        view: dict[str, Any] = {
            "id": status["id"],
            "created_at": iso(status["created"]),
            "in_reply_to_id": status["in_reply_to_id"],
            "in_reply_to_account_id": status["in_reply_to_account_id"],
            "sensitive": False,
            "spoiler_text": "",
            "visibility": status["visibility"],
            "language": "ko",
            "uri": f"https://{self.domain}/users/{account['username']}/statuses/{status['id']}",
            "url": f"https://{self.domain}/@{account['username']}/{status['id']}",
            "replies_count": sum(
                1
                for s in self.statuses.values()
                if s["in_reply_to_id"] == status["id"] and not s["deleted"]
            ),
            "reblogs_count": status["reblogs_count"],
            "favourites_count": status["favourites_count"],
            "edited_at": iso(status["edited"]) if status["edited"] else None,
            "content": self._render(status["text"]),
            "reblog": None,
            "account": self._account_view(status["account_id"]),
            "media_attachments": [self.media[m] for m in status["media_ids"]],
            "mentions": [
                {
                    "id": a,
                    "username": self.accounts[a]["username"],
                    "url": self.accounts[a]["url"],
                    "acct": self.accounts[a]["acct"],
                }
                for a in status["mentions"]
            ],
            "tags": [],
            "emojis": [],
        }
        if source:
            view["text"] = status["text"]
        return view

    def _form_list(self, request: Request, name: str) -> list[str]:
        if "json" in request.header("content-type"):
            value = request.json().get(name.rstrip("[]"), [])
            return [str(v) for v in value] if isinstance(value, list) else []
        return request.form.get(name, []) or request.query.get(name, [])

    def _validate(self, text: str, media_ids: list[str]) -> Response | None:
        if not text and not media_ids:
            return error("Validation failed: Text can't be blank", 422)
        length = len(URL_PATTERN.sub("x" * self.characters_reserved_per_url, text))
        if length > self.max_characters:
            return error(
                f"Validation failed: Text character limit of {self.max_characters} exceeded", 422
            )
        if len(media_ids) > self.max_media_attachments:
            return error("Validation failed: Too many attachments", 422)
        if any(m not in self.media for m in media_ids):
            return error("Record not found", 404)
        return None

    @route("POST", r"/api/v1/statuses")
    def create_status(self, request: Request) -> Response:
        token = self._authorise(request, "write")
        if isinstance(token, Response):
            return token
        key = request.header("idempotency-key")
        now = time.time()
        if key:
            remembered = self.idempotency.get((token.account_id, key))
            if remembered and remembered[1] > now - IDEMPOTENCY_TTL:
                return self.answer(request, self._status_view(self.statuses[remembered[0]]))
        text = request.arg("status") or ""
        media_ids = self._form_list(request, "media_ids[]")
        refused = self._validate(text, media_ids)
        if refused:
            return refused
        visibility = request.arg("visibility") or "public"
        if visibility not in {"public", "unlisted", "private", "direct"}:
            return error("Validation failed: Visibility is not included in the list", 422)
        reply_to = None
        if request.arg("in_reply_to_id"):
            reply_to = self._live(request.arg("in_reply_to_id") or "")
            if reply_to is None:
                return error("Record not found", 404)
        status = self._new_status(
            token.account_id, text, in_reply_to=reply_to, visibility=visibility, media_ids=media_ids
        )
        if key:
            self.idempotency[(token.account_id, key)] = (status["id"], now)
        return self.answer(request, self._status_view(status))

    @route("PUT", r"/api/v1/statuses/(?P<status_id>\d+)")
    def edit_status(self, request: Request) -> Response:
        found = self._authorised_status(request, "write", own=True)
        if isinstance(found, Response):
            return found
        _, status = found
        text = request.arg("status") or ""
        media_ids = self._form_list(request, "media_ids[]")
        refused = self._validate(text, media_ids)
        if refused:
            return refused
        status.update(text=text, media_ids=media_ids, edited=time.time())
        return self.answer(request, self._status_view(status))

    @route("DELETE", r"/api/v1/statuses/(?P<status_id>\d+)")
    def delete_status(self, request: Request) -> Response:
        found = self._authorised_status(request, "write", own=True)
        if isinstance(found, Response):
            return found
        _, status = found
        status["deleted"] = True
        return self.answer(request, self._status_view(status, source=True))

    @route("GET", r"/api/v1/statuses/(?P<status_id>\d+)")
    def get_status(self, request: Request) -> Response:
        found = self._authorised_status(request)
        if isinstance(found, Response):
            return found
        _, status = found
        return self.answer(request, self._status_view(status))

    @route("GET", r"/api/v1/statuses/(?P<status_id>\d+)/context")
    def status_context(self, request: Request) -> Response:
        found = self._authorised_status(request)
        if isinstance(found, Response):
            return found
        _, status = found
        ancestors: list[dict[str, Any]] = []
        parent = self._live(status["in_reply_to_id"] or "")
        while parent:
            ancestors.insert(0, parent)
            parent = self._live(parent["in_reply_to_id"] or "")
        descendants: list[dict[str, Any]] = []
        frontier = [status["id"]]
        while frontier:
            children = sorted(
                (
                    s
                    for s in self.statuses.values()
                    if s["in_reply_to_id"] in frontier and not s["deleted"]
                ),
                key=lambda s: int(s["id"]),
            )
            descendants.extend(children)
            frontier = [s["id"] for s in children]
        return self.answer(
            request,
            {
                "ancestors": [self._status_view(s) for s in ancestors],
                "descendants": [self._status_view(s) for s in descendants],
            },
        )

    @route("GET", r"/api/v1/accounts/verify_credentials")
    def verify_credentials(self, request: Request) -> Response:
        token = self._authorise(request)
        if isinstance(token, Response):
            return token
        view = self._account_view(token.account_id)
        view["source"] = {"privacy": "public", "sensitive": False, "language": "ko", "note": ""}
        return self.answer(request, view)

    @route("GET", r"/api/v1/accounts/(?P<account_id>\d+)/statuses")
    def account_statuses(self, request: Request) -> Response:
        token = self._authorise(request)
        if isinstance(token, Response):
            return token
        account_id = request.params["account_id"]
        if account_id not in self.accounts:
            return error("Record not found", 404)
        limit = min(int(request.arg("limit") or 20), 40)
        exclude_replies = request.arg("exclude_replies") in ("true", "1")
        chosen = [
            s
            for s in sorted(self.statuses.values(), key=lambda s: int(s["id"]), reverse=True)
            if s["account_id"] == account_id
            and not s["deleted"]
            and s["visibility"] in ("public", "unlisted")
            and not (
                exclude_replies
                and s["in_reply_to_id"]
                and s["in_reply_to_account_id"] != account_id
            )
        ][:limit]
        response = self.answer(request, [self._status_view(s) for s in chosen])
        if chosen:
            base = f"https://{self.domain}/api/v1/accounts/{account_id}/statuses"
            response.headers["Link"] = (
                f'<{base}?max_id={chosen[-1]["id"]}>; rel="next", '
                f'<{base}?min_id={chosen[0]["id"]}>; rel="prev"'
            )
        return response

    @route("GET", r"/api/v2/instance")
    def instance(self, request: Request) -> Response:
        return json_response(
            {
                "domain": self.domain,
                "title": "Mastodon (simulator)",
                "version": "4.3.0",
                "source_url": "https://github.com/mastodon/mastodon",
                "languages": ["ko"],
                "configuration": {
                    "urls": {"streaming": f"wss://{self.domain}"},
                    "statuses": {
                        "max_characters": self.max_characters,
                        "max_media_attachments": self.max_media_attachments,
                        "characters_reserved_per_url": self.characters_reserved_per_url,
                    },
                    "media_attachments": {
                        "supported_mime_types": ["image/jpeg", "image/png", "image/gif"],
                        "image_size_limit": self.image_size_limit,
                        "image_matrix_limit": 33177600,
                    },
                },
            }
        )

    @route("POST", r"/api/v2/media")
    def upload_media(self, request: Request) -> Response:
        token = self._authorise(request, "write")
        if isinstance(token, Response):
            return token
        fields = request.multipart()
        content, content_type = fields.get("file", (b"", ""))
        if not content:
            return error("Validation failed: File can't be blank", 422)
        if len(content) > self.image_size_limit:
            return error("Validation failed: File file size must be less than 16 MB", 422)
        if not content_type.startswith("image/"):
            return error("Validation failed: File content type is invalid", 422)
        media_id = self.snowflake()
        url = f"https://files.{self.domain}/media_attachments/files/{media_id}/original/image.png"
        self.media[media_id] = {
            "id": media_id,
            "type": "image",
            "url": url,
            "preview_url": url.replace("original", "small"),
            "remote_url": None,
            "description": fields["description"][0].decode() if "description" in fields else None,
            "blurhash": "UFBWY:8_0Jxv4nWBt7WB~qWBt7WB",
        }
        return self.answer(request, self.media[media_id])

    @route("GET", r"/api/v1/notifications")
    def notifications_list(self, request: Request) -> Response:
        """Newest first, as Mastodon pages: ``max_id`` (older than), ``since_id`` (the
        newest after it) and ``min_id`` (the ones immediately after it: paging up from the
        oldest). The ``Link`` header names the older page (``next``, max_id) and the newer
        one (``prev``, min_id), keeping ``limit`` and ``types[]``."""
        token = self._authorise(request)
        if isinstance(token, Response):
            return token
        types = request.query.get("types[]", [])
        max_id = int(request.arg("max_id") or 0)
        since = int(request.arg("since_id") or 0)
        min_id = int(request.arg("min_id") or 0)
        limit = min(int(request.arg("limit") or 40), 80)
        matching = [
            n
            for n in sorted(self.notifications, key=lambda n: int(n["id"]), reverse=True)
            if n["account_id"] == token.account_id
            and (not types or n["type"] in types)
            and int(n["id"]) > max(since, min_id)
            and (not max_id or int(n["id"]) < max_id)
            and not self.statuses[n["status_id"]]["deleted"]
        ]
        # min_id takes the page just above it; otherwise the newest page.
        chosen = matching[-limit:] if min_id else matching[:limit]
        response = self.answer(
            request,
            [
                {
                    "id": n["id"],
                    "type": n["type"],
                    "created_at": iso(n["created"]),
                    "account": self._account_view(n["from"]),
                    "status": self._status_view(self.statuses[n["status_id"]]),
                }
                for n in chosen
            ],
        )
        if chosen:
            base = f"https://{self.domain}/api/v1/notifications"
            kept = urlencode([("limit", str(limit)), *(("types[]", t) for t in types)])
            response.headers["Link"] = (
                f'<{base}?{kept}&max_id={chosen[-1]["id"]}>; rel="next", '
                f'<{base}?{kept}&min_id={chosen[0]["id"]}>; rel="prev"'
            )
        return response

    # -- synthetic citizens and the demo world ------------------------------------------------

    # Short questions, as on X; a smaller, practical-minded crowd.
    crowd_weights = {"scenery": 0.6, "festival": 1.0, "notice": 1.5, "general": 1.0}

    def _owned(self) -> list[str]:
        return sorted({t.account_id for t in self.tokens.values() if not t.revoked})

    def crowd_posts(self) -> list[tuple[str, str, str]]:
        owned = set(self._owned())
        posts = [
            s
            for s in self.statuses.values()
            if s["account_id"] in owned
            and not s["deleted"]
            and not s["in_reply_to_id"]
            and s["visibility"] == "public"
        ]
        return [(s["account_id"], s["id"], s["text"]) for s in posts[-10:]]

    def crowd_comment(
        self, account: str, post_id: str, author_id: str, author_name: str, text: str
    ) -> None:
        self.citizen_reply(post_id, author_id, author_name, text)

    def crowd_message_accounts(self) -> list[str]:
        return self._owned()

    def crowd_message(self, account: str, author_id: str, author_name: str, text: str) -> None:
        self.citizen_mention(account, author_id, author_name, text, direct=True)

    def populate_demo(self, account: DemoAccount, webhook_url: str) -> None:
        """The city's account and history; no webhooks on Mastodon (Sotong polls)."""
        self.add_account(
            account.account_id,
            "순천시",
            "suncheon",
            token=account.token,
            followers=account.followers,
        )
        for age, (text, figures) in enumerate(reversed(DEMO_HISTORY), start=1):
            self.add_status(account.account_id, text, age=age * 86400, **figures)

    def timeline(self) -> list[dict[str, Any]]:
        result = []
        for account_id in self._owned():
            account = self.accounts[account_id]
            posts = [
                s
                for s in sorted(self.statuses.values(), key=lambda s: int(s["id"]), reverse=True)
                if s["account_id"] == account_id
                and not s["deleted"]
                and not s["in_reply_to_id"]
                and s["visibility"] != "direct"
            ]
            result.append(
                {
                    "account": f"{account['display_name']} (@{account['acct']}@{self.domain})",
                    "posts": [
                        {
                            "id": s["id"],
                            "text": s["text"],
                            "url": f"https://{self.domain}/@{account['username']}/{s['id']}",
                            "comments": [
                                {
                                    "author": self.accounts[c["account_id"]]["display_name"],
                                    "text": c["text"],
                                }
                                for c in self.statuses.values()
                                if c["in_reply_to_id"] == s["id"] and not c["deleted"]
                            ],
                        }
                        for s in posts
                    ],
                }
            )
        return result
