"""What the simulated Facebook and Instagram APIs share: both are graph.facebook.com, with
the same tokens, Facebook Login, error bodies, usage headers and webhook signatures
(shared/docs/platform-apis.md §3 and §4). Each platform's module keeps what differs."""

from __future__ import annotations

import datetime as dt
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol
from urllib.parse import urlencode

from sotong.platforms.base import hmac_sha256_hex
from sotong.simulator.core import (
    FaultKind,
    PlatformSimulator,
    Request,
    Response,
    WebhookTarget,
    json_response,
    route,
)

VERSION = r"/v\d+\.\d+"
# The simulator's own Meta app (client id, secret), for practising Facebook Login.
OAUTH_APP = ("sotong-app", "sim-app-secret")
# Calls per account and window before the usage header reaches 100 %.
DEFAULT_CALL_BUDGET = 4800
# What Meta answers for a long-lived user token: about 60 days.
LONG_LIVED_SECONDS = 5183944


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


def requested_fields(spec: str) -> list[str]:
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


def pick(values: dict[str, Any], fields: list[str]) -> dict[str, Any]:
    """The asked-for ``fields`` of an object; Graph always answers its id."""
    return {k: values[k] for k in ["id", *fields] if k in values}


def listing(data: list[dict[str, Any]], before: str, after: str) -> dict[str, Any]:
    """A page of results with Graph's cursor paging (the simulator serves one page)."""
    return {"data": data, "paging": {"cursors": {"before": before, "after": after}}}


def insight(object_id: str, name: str, period: str, value: Any) -> dict[str, Any]:
    """One metric of an /insights answer."""
    return {
        "name": name,
        "period": period,
        "values": [{"value": value}],
        "title": name.replace("_", " ").title(),
        "description": f"Lifetime: {name}",
        "id": f"{object_id}/insights/{name}/{period}",
    }


def usage_figures(percent: int) -> dict[str, int]:
    """The figures every Graph usage header reports, in percent of the budget."""
    return {
        "call_count": percent,
        "total_cputime": max(1, percent // 4),
        "total_time": max(1, percent // 3),
    }


@dataclass
class Token:
    page_id: str | None  # None: a user token
    scopes: tuple[str, ...]
    expires_at: float | None = None
    revoked: bool = False
    user_id: str = ""


class GraphAccount(Protocol):
    """What the shared routes need of the account a Page token acts for."""

    calls: int

    @property
    def page_id(self) -> str: ...

    @property
    def page_name(self) -> str: ...


class GraphPlatform[AccountT: GraphAccount](PlatformSimulator):
    """The Graph API host: token checks, usage headers, errors, Facebook Login and
    signed webhooks. Subclasses add their objects and routes, and name what differs."""

    all_scopes: ClassVar[tuple[str, ...]]
    consent_subject: ClassVar[str]  # what the consent page says Sotong asks to manage
    webhook_object: ClassVar[str]  # the "object" of every webhook body
    # (message, code) of an injected rate limit: a page limit or an app limit.
    rate_limit_error: ClassVar[tuple[str, int]]
    # (message, subcode) for a revoked token: as an injected fault and as the token check
    # reports it (Facebook words the two differently).
    revoked_fault: ClassVar[tuple[str, int]]
    revoked_error: ClassVar[tuple[str, int]]
    # (message with {scope}, code) when the token lacks a permission.
    scope_error: ClassVar[tuple[str, int]]
    # Whether /oauth/access_token also swaps a user token for a long-lived one.
    exchanges_user_tokens: ClassVar[bool] = False

    def reset(self) -> None:
        self.tokens: dict[str, Token] = {}
        self.objects: dict[str, dict[str, Any]] = {}
        self.app_id, self.app_secret = OAUTH_APP
        self.oauth_codes: dict[str, str] = {}  # code → user token
        self.call_budget = DEFAULT_CALL_BUDGET

    def _accounts(self) -> Iterable[AccountT]:
        """Every account a Page token can act for."""
        raise NotImplementedError

    def _account_of(self, token: Token) -> AccountT | None:
        return next((a for a in self._accounts() if a.page_id == token.page_id), None)

    # -- set-up for tests and the demo -------------------------------------------------------

    def expire_token(self, token: str) -> None:
        self.tokens[token].expires_at = time.time() - 1

    def revoke_token(self, token: str) -> None:
        self.tokens[token].revoked = True

    def subscribe_webhooks(self, account_id: str, url: str) -> None:
        def sign(body: bytes) -> dict[str, str]:
            return {"X-Hub-Signature-256": "sha256=" + hmac_sha256_hex(self.app_secret, body)}

        self.hub.set_webhook_target(self.name, account_id, WebhookTarget(url, sign))

    def _deliver_entry(self, account_id: str, entry_time: int, events: dict[str, Any]) -> None:
        """A webhook with one entry for ``account_id``; ``events`` holds its "changes" or
        "messaging" list."""
        self.hub.deliver_webhook(
            self.name,
            account_id,
            {
                "object": self.webhook_object,
                "entry": [{"id": account_id, "time": entry_time, **events}],
            },
        )

    def _deliver_message(
        self, account_id: str, sender_id: str, message: dict[str, Any], text: str, entry_time: int
    ) -> None:
        """The Messenger-style webhook for a private message from ``sender_id``."""
        self._deliver_entry(
            account_id,
            entry_time,
            {
                "messaging": [
                    {
                        "sender": {"id": sender_id},
                        "recipient": {"id": account_id},
                        "timestamp": int(message["created"] * 1000),
                        "message": {"mid": message["id"], "text": text},
                    }
                ]
            },
        )

    # -- errors -----------------------------------------------------------------------------

    def fault_response(self, kind: FaultKind) -> Response:
        if kind is FaultKind.RATE_LIMITED:
            response = graph_error(*self.rate_limit_error)
            response.headers.update(self._usage_headers(100, regain_minutes=1))
            return response
        if kind is FaultKind.TOKEN_EXPIRED:
            return self._expired_error()
        if kind is FaultKind.TOKEN_REVOKED:
            message, subcode = self.revoked_fault
            return graph_error(message, 190, subcode=subcode)
        if kind is FaultKind.MALFORMED:
            return Response(
                200,
                "<html><body>Sorry, something went wrong.</body></html>",
                content_type="text/html",
            )
        return graph_error(
            "An unexpected error has occurred. Please retry your request later.", 2, status=500
        )

    def _expired_error(self) -> Response:
        return graph_error("Error validating access token: Session has expired.", 190, subcode=463)

    def not_found(self, request: Request) -> Response:
        return graph_error(f"Unknown path components: {request.path}", 2500)

    def bad_request(self, message: str) -> Response:
        return graph_error(f"(#100) {message}", 100)

    def _missing_object(self, object_id: str) -> Response:
        return graph_error(
            f"Unsupported get request. Object with ID '{object_id}' does not exist, cannot be loaded "
            "due to missing permissions, or does not support this operation.",
            100,
            subcode=33,
        )

    # -- tokens and usage -------------------------------------------------------------------

    def _usage_headers(self, percent: int, regain_minutes: int = 0) -> dict[str, str]:
        """The platform's rate-limit header at ``percent`` of the call budget."""
        raise NotImplementedError

    def _refuse_account(self, token: Token, account_id: str) -> Response | None:
        """The error when ``token`` may not act for ``account_id``, else None."""
        raise NotImplementedError

    def _authorise(
        self, request: Request, *, scope: str | None = None, account_id: str | None = None
    ) -> Token | Response:
        """The request's token, counted against its account's budget, or the error."""
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
            message, subcode = self.revoked_error
            return graph_error(message, 190, subcode=subcode)
        if token.expires_at is not None and token.expires_at < time.time():
            return self._expired_error()
        if scope and scope not in token.scopes:
            message, code = self.scope_error
            return graph_error(message.format(scope=scope), code, status=403)
        if account_id is not None:
            refused = self._refuse_account(token, account_id)
            if refused:
                return refused
        owner = self._account_of(token)
        if owner:
            owner.calls += 1
        return token

    def _with_usage(self, token: Token, response: Response) -> Response:
        owner = self._account_of(token)
        if owner:
            percent = min(100, owner.calls * 100 // max(1, self.call_budget))
            response.headers.update(self._usage_headers(percent))
        return response

    def _send_reply(
        self,
        request: Request,
        token: Token,
        conversations: dict[str, list[dict[str, Any]]],
        *,
        max_length: int,
        sender_of: Callable[[dict[str, Any]], str],
        new_message: Callable[[str], dict[str, Any]],
        window_applies: bool = True,
    ) -> Response:
        """A private reply on Meta's rules: only to someone who wrote first and, where the
        window applies, within 24 h of their last message."""
        body = request.json()
        recipient = str((body.get("recipient") or {}).get("id", ""))
        text = (body.get("message") or {}).get("text", "")
        conversation = conversations.get(recipient)
        if not conversation:
            return graph_error("(#100) No matching user found", 100, subcode=2018001)
        last_from_user = max(m["created"] for m in conversation if sender_of(m) == recipient)
        if window_applies and time.time() - last_from_user > 24 * 3600:
            return graph_error(
                "(#10) This message is sent outside of allowed window.", 10, subcode=2018278
            )
        if not text or len(text) > max_length:
            return graph_error(f"(#100) Message text must be 1–{max_length} characters", 100)
        message = new_message(text)
        conversation.append(message)
        return self._with_usage(
            token, json_response({"recipient_id": recipient, "message_id": message["id"]})
        )

    # -- Facebook Login (the connect flow) --------------------------------------------------

    @route("GET", VERSION + r"/dialog/oauth")
    def oauth_dialog(self, request: Request) -> Response:
        """The consent page: one link that grants everything asked and redirects back."""
        code = secrets.token_urlsafe(16)
        user_token = f"EAAU{secrets.token_urlsafe(24)}"
        scopes = tuple((request.arg("scope") or ",".join(self.all_scopes)).split(","))
        self.tokens[user_token] = Token(
            None, scopes, expires_at=time.time() + LONG_LIVED_SECONDS, user_id="sim-admin"
        )
        self.oauth_codes[code] = user_token
        query = urlencode({"code": code, "state": request.arg("state") or ""})
        target = f"{request.arg('redirect_uri')}?{query}"
        html = (
            '<!doctype html><html lang="ko"><meta charset="utf-8">'
            "<title>Facebook 로그인 (시뮬레이터)</title>"
            f"<h1>Sotong이 {self.consent_subject}을 요청합니다</h1><p>{', '.join(scopes)}</p>"
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
        if self.exchanges_user_tokens and request.arg("grant_type") == "fb_exchange_token":
            token = request.arg("fb_exchange_token") or ""
            if token not in self.tokens:
                return graph_error("Invalid OAuth access token", 190)
            return _token_answer(token)
        user_token = self.oauth_codes.pop(request.arg("code") or "", None)
        if user_token is None:
            return graph_error("This authorization code has been used.", 100, subcode=36009)
        return _token_answer(user_token)

    @route("GET", VERSION + r"/me/accounts")
    def me_accounts(self, request: Request) -> Response:
        token = self._authorise(request, scope="pages_show_list")
        if isinstance(token, Response):
            return token
        wanted = requested_fields(request.arg("fields") or "id,name,access_token")
        data = []
        for account in self._accounts():
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
                self.tokens[page_token] = Token(account.page_id, token.scopes)
            data.append(
                {
                    "id": account.page_id,
                    "name": account.page_name,
                    "access_token": page_token,
                    "category": "Government Organization",
                    "tasks": ["ANALYZE", "ADVERTISE", "MODERATE", "CREATE_CONTENT", "MANAGE"],
                    **self._page_extras(account, wanted),
                }
            )
        return json_response(listing(data, "QVFI", "QVFI"))

    def _page_extras(self, account: AccountT, wanted: list[str]) -> dict[str, Any]:
        """Fields beyond the Page's own that /me/accounts lists when asked."""
        return {}

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


def _token_answer(token: str) -> Response:
    return json_response(
        {"access_token": token, "token_type": "bearer", "expires_in": LONG_LIVED_SECONDS}
    )
