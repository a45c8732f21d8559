"""The connector contract: what a platform module offers, the plain data it takes and
returns, and the small set of classified errors it raises.

A platform module never imports Django models. It works on ``ChannelAccount`` and returns
dataclasses, so it can be tested against the simulator alone and reused by the simulator's
own contract tests. Actions (publishing, inbox) turn the errors into states people see.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import Any, ClassVar
from urllib.parse import urlsplit

import httpx

logger = logging.getLogger(__name__)


class Capability(StrEnum):
    PUBLISH_TEXT = "publish_text"
    PUBLISH_LINK = "publish_link"
    PUBLISH_IMAGE = "publish_image"
    EDIT_POST = "edit_post"
    DELETE_POST = "delete_post"
    LIST_POSTS = "list_posts"
    POST_METRICS = "post_metrics"
    CHANNEL_METRICS = "channel_metrics"
    LIST_COMMENTS = "list_comments"
    REPLY_COMMENT = "reply_comment"
    HIDE_COMMENT = "hide_comment"
    FETCH_MESSAGES = "fetch_messages"
    REPLY_MESSAGE = "reply_message"
    WEBHOOKS = "webhooks"
    REFRESH_CREDENTIALS = "refresh_credentials"
    # No publishing API: staff publish by hand and record the URL (KakaoTalk 소식, Naver Blog).
    MANUAL_PUBLISH = "manual_publish"


# ---------------------------------------------------------------------------------------
# Errors. Every failure a connector meets is one of these; nothing else escapes.


class PlatformError(Exception):
    """A classified platform failure. ``retryable`` says whether the same call may simply be
    made again later; ``platform_code`` keeps the platform's own code for the record."""

    retryable: ClassVar[bool] = False

    def __init__(
        self, message: str, *, platform_code: str | int | None = None, status: int | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.platform_code = platform_code
        self.status = status


class TransientError(PlatformError):
    """The platform failed or could not be reached, and the call did not take effect
    (connection refused, 5xx on a call that changes nothing, a timeout before sending)."""

    retryable = True


class OutcomeUnknown(PlatformError):
    """The request was sent but no answer came back (read timeout, dropped connection):
    it may or may not have taken effect. Never retried blindly; reconcile first."""


class RateLimited(PlatformError):
    """Too many calls; try again after ``retry_after`` seconds."""

    retryable = True

    def __init__(self, message: str, *, retry_after: float, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class CredentialExpired(PlatformError):
    """The token has expired; refreshing it (or reconnecting) will fix it."""


class CredentialRevoked(PlatformError):
    """The token is no longer valid (revoked, password changed, app removed): reconnect."""


class PermissionMissing(PlatformError):
    """The token lacks a permission (scope) this call needs."""


class ContentRejected(PlatformError):
    """The platform refused the content (too long, policy, bad media). Not retryable."""


class DuplicateContent(PlatformError):
    """The platform refused the content as a duplicate of an earlier post."""


class NotFound(PlatformError):
    """The post, comment or account does not exist (any more)."""


class MalformedResponse(PlatformError):
    """The platform answered with something that is not its documented shape."""

    retryable = True


class Unsupported(PlatformError):
    """The platform offers no API for this."""


class NextStep(StrEnum):
    """What to do about a failed call that changes something on the platform (publish,
    edit, delete, reply). Every sender decides through ``next_step``, so a post, an edit
    and a reply meet the same error the same way."""

    CHECK = "check"  # it may have happened: look on the platform before any second try
    WAIT = "wait"  # rate limited: its turn comes after ``retry_after``; not a failed attempt
    RECONNECT = "reconnect"  # the credential is dead: hold, the channel needs reconnecting
    PERMISSION = "permission"  # the credential lacks a permission: hold for the owners
    RETRY = "retry"  # passing trouble, and the call did not take effect: try again later
    GIVE_UP = "give_up"  # passing trouble, but too many attempts already
    FAIL = "fail"  # refused for what it is (content, a missing post): trying again won't help


def next_step(error: PlatformError, attempts: int, max_attempts: int) -> NextStep:
    """The step for ``error`` after ``attempts`` of ``max_attempts``. A malformed answer to a
    call that changes something is a failure to look into, not a retry: the change may
    have been made, and sending again could make it twice."""
    if isinstance(error, OutcomeUnknown):
        return NextStep.CHECK
    if isinstance(error, RateLimited):
        return NextStep.WAIT
    if isinstance(error, (CredentialExpired, CredentialRevoked)):
        return NextStep.RECONNECT
    if isinstance(error, PermissionMissing):
        return NextStep.PERMISSION
    if isinstance(error, TransientError):
        return NextStep.RETRY if attempts < max_attempts else NextStep.GIVE_UP
    return NextStep.FAIL


def backoff(attempts: int, first: dt.timedelta, longest: dt.timedelta) -> dt.timedelta:
    """Doubling waits from ``first`` (after the first attempt), capped at ``longest``."""
    return min(first * 2 ** max(attempts - 1, 0), longest)


class WebhookRejected(Exception):
    """A webhook delivery that must not be accepted; ``reason`` is one of
    ``missing_signature``, ``bad_signature``, ``malformed``, ``unknown_account``."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


# ---------------------------------------------------------------------------------------
# Plain data.


@dataclass
class Credentials:
    access_token: str = ""
    refresh_token: str = ""
    expires_at: dt.datetime | None = None
    scopes: tuple[str, ...] = ()
    # Platform specifics: app secret for webhook signatures, webhook secret token, etc.
    extra: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(
            {
                "access_token": self.access_token,
                "refresh_token": self.refresh_token,
                "expires_at": self.expires_at.isoformat() if self.expires_at else None,
                "scopes": list(self.scopes),
                "extra": self.extra,
            }
        )

    @classmethod
    def from_json(cls, text: str) -> Credentials:
        if not text:
            return cls()
        data = json.loads(text)
        expires = data.get("expires_at")
        return cls(
            access_token=data.get("access_token", ""),
            refresh_token=data.get("refresh_token", ""),
            expires_at=dt.datetime.fromisoformat(expires) if expires else None,
            scopes=tuple(data.get("scopes", ())),
            extra=dict(data.get("extra", {})),
        )

    def __repr__(self) -> str:  # never print a token
        return f"Credentials(expires_at={self.expires_at!r}, scopes={self.scopes!r})"


@dataclass
class ChannelAccount:
    """The account a connector acts for: its id on the platform (page id, band key, chat
    id, user id), where the platform's API is (real URL or the simulator) and credentials."""

    account_id: str
    credentials: Credentials
    api_base: str = ""
    # Channel-specific settings (e.g. Graph API version, Mastodon instance limits).
    options: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class OutboundPost:
    text: str
    link: str = ""
    image_urls: tuple[str, ...] = ()
    # Recorded before the call; used to reconcile after an unknown outcome.
    idempotency_key: str = ""
    title: str = ""


@dataclass(frozen=True)
class PublishedPost:
    external_id: str
    url: str = ""
    text: str = ""
    created_at: dt.datetime | None = None


@dataclass(frozen=True)
class PostMetrics:
    """One vocabulary across platforms; ``raw`` keeps the platform's own names."""

    views: int | None = None
    reach: int | None = None
    likes: int | None = None
    comments: int | None = None
    shares: int | None = None
    clicks: int | None = None
    raw: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ChannelMetrics:
    followers: int | None = None
    raw: Mapping[str, Any] = field(default_factory=dict)


class InboundKind(StrEnum):
    COMMENT = "comment"
    MESSAGE = "message"
    MENTION = "mention"
    REACTION = "reaction"


@dataclass(frozen=True)
class InboundItem:
    """Something a citizen said or did, as the platform reported it. Unique on
    (channel, ``external_id``): a re-delivery carries the same id."""

    kind: InboundKind
    external_id: str
    text: str
    author_id: str
    author_name: str = ""
    created_at: dt.datetime | None = None
    # The post the comment is on, the comment it answers, or the conversation.
    post_external_id: str = ""
    parent_external_id: str = ""
    conversation_id: str = ""
    raw: Mapping[str, Any] = field(default_factory=dict)
    # The account a webhook delivery names for this item, where one delivery can cover
    # several (a Meta app's or an X app's webhook serves all its Pages or users); empty
    # means the channel the delivery came in on.
    account_id: str = ""


@dataclass(frozen=True)
class AccountCheck:
    """What ``verify_credentials`` found: who we are, what we may do, until when."""

    identity: str
    display_name: str = ""
    granted_scopes: tuple[str, ...] = ()
    missing_scopes: tuple[str, ...] = ()
    expires_at: dt.datetime | None = None


@dataclass(frozen=True)
class WebhookRequest:
    method: str
    headers: Mapping[str, str]  # lower-case names
    query: Mapping[str, str]
    body: bytes

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")


@dataclass(frozen=True)
class WebhookResponse:
    status: int
    body: bytes = b""
    content_type: str = "text/plain"


@dataclass(frozen=True)
class OAuthApp:
    """The city's app registered with a platform, for connecting accounts by OAuth."""

    client_id: str
    client_secret: str
    redirect_uri: str

    def __repr__(self) -> str:  # never print the secret
        return f"OAuthApp(client_id={self.client_id!r}, redirect_uri={self.redirect_uri!r})"


@dataclass(frozen=True)
class ConnectableAccount:
    """An account the signed-in person may connect after OAuth (a Page, a band, a
    channel), with the credentials a channel for it keeps."""

    account_id: str
    name: str
    credentials: Credentials


@dataclass(frozen=True)
class TextLimits:
    max_length: int | None = None
    # How the platform counts: "chars" (code points) or "twitter" (weighted).
    counting: str = "chars"
    image_required: bool = False
    max_images: int = 0
    max_hashtags: int | None = None


# ---------------------------------------------------------------------------------------
# Rate limits: remembered per account from the platform's headers, so a call that would
# certainly be refused is not made.


class RateLimitState:
    _lock = threading.Lock()
    _blocked_until: ClassVar[dict[tuple[str, str], float]] = {}

    @classmethod
    def block(cls, key: tuple[str, str], seconds: float) -> None:
        with cls._lock:
            cls._blocked_until[key] = max(cls._blocked_until.get(key, 0.0), time.time() + seconds)

    @classmethod
    def wait_time(cls, key: tuple[str, str]) -> float:
        with cls._lock:
            return max(0.0, cls._blocked_until.get(key, 0.0) - time.time())

    @classmethod
    def clear(cls) -> None:
        with cls._lock:
            cls._blocked_until.clear()


# ---------------------------------------------------------------------------------------
# The connector.

DEFAULT_TIMEOUT = httpx.Timeout(connect=5.0, read=20.0, write=20.0, pool=5.0)


class Connector:
    """Base class of the platform modules. Subclasses set the class attributes, implement
    the capabilities they claim and ``classify`` the platform's error answers."""

    kind: ClassVar[str]
    label: ClassVar[str]
    capabilities: ClassVar[frozenset[Capability]] = frozenset()
    default_api_base: ClassVar[str] = ""
    limits: ClassVar[TextLimits] = TextLimits()
    # Scopes a city needs for everything Sotong does with this platform.
    required_scopes: ClassVar[tuple[str, ...]] = ()
    # False where Sotong only reads public data (a blog's feed): no token to enter.
    needs_token: ClassVar[bool] = True
    # Whether ``verify_credentials`` finds the account from the token alone (a Page token
    # names its Page), so a token for another account can be told apart; False where the
    # account id is looked up as given (a Telegram chat, a band key, a blog id).
    identity_from_token: ClassVar[bool] = True

    @classmethod
    def publishes_by_hand(cls) -> bool:
        """No publishing API: staff post by hand and record the address."""
        return Capability.MANUAL_PUBLISH in cls.capabilities and not (
            cls.capabilities & {Capability.PUBLISH_TEXT, Capability.PUBLISH_IMAGE}
        )

    def __init__(
        self,
        account: ChannelAccount,
        *,
        client: httpx.Client | None = None,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
    ) -> None:
        self.account = account
        self.api_base = (account.api_base or self.default_api_base).rstrip("/")
        self._given_client = client
        self._timeout = timeout

    @cached_property
    def _client(self) -> httpx.Client:
        # Made on first use: a webhook delivery is verified and parsed without any call out,
        # and building a client (its TLS context) costs more than the rest of that work.
        return self._given_client or httpx.Client(
            timeout=self._timeout, follow_redirects=False, headers={"User-Agent": "Sotong/0.1"}
        )

    def close(self) -> None:
        if "_client" in self.__dict__:
            self._client.close()

    def supports(self, capability: Capability) -> bool:
        return capability in self.capabilities

    def endpoint(self, real_url: str) -> str:
        """A URL on one of the platform's hosts (login, token, upload hosts differ from the
        API host). With an ``api_base`` set (the simulator), the same path under it: the
        simulator serves all of a platform's hosts under one prefix."""
        if not self.account.api_base:
            return real_url
        parts = urlsplit(real_url)
        return f"{self.api_base}{parts.path}" + (f"?{parts.query}" if parts.query else "")

    # -- HTTP ---------------------------------------------------------------------------

    @property
    def _rate_key(self) -> tuple[str, str]:
        return (self.kind, self.account.account_id)

    def request(
        self, method: str, url: str, *, idempotent: bool | None = None, **kwargs: Any
    ) -> httpx.Response:
        """One HTTP call, classified. GETs are idempotent unless said otherwise; a timeout
        after a non-idempotent request was sent raises OutcomeUnknown, never a retry."""
        if idempotent is None:
            idempotent = method.upper() in {"GET", "HEAD", "OPTIONS"}
        wait = RateLimitState.wait_time(self._rate_key)
        if wait > 0:
            raise RateLimited(f"{self.label}: rate limit, retry in {wait:.0f} s", retry_after=wait)
        full_url = url if url.startswith("http") else f"{self.api_base}{url}"
        try:
            response = self._client.request(method, full_url, **kwargs)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise TransientError(f"{self.label}: cannot connect ({type(exc).__name__})") from exc
        except (
            httpx.ReadTimeout,
            httpx.WriteTimeout,
            httpx.RemoteProtocolError,
            httpx.ReadError,
        ) as exc:
            if idempotent:
                raise TransientError(f"{self.label}: no answer ({type(exc).__name__})") from exc
            raise OutcomeUnknown(
                f"{self.label}: sent, but no answer ({type(exc).__name__}); reconcile before retrying"
            ) from exc
        except httpx.HTTPError as exc:
            raise TransientError(f"{self.label}: {type(exc).__name__}") from exc
        self.observe_rate_limits(response)
        if response.status_code >= 400 or self.is_error_body(response):
            error = self.classify(response)
            if isinstance(error, RateLimited):
                RateLimitState.block(self._rate_key, error.retry_after)
            if isinstance(error, TransientError) and not idempotent and response.status_code >= 500:
                # A 5xx to a call that changes something may still have taken effect.
                raise OutcomeUnknown(
                    f"{error.message}; reconcile before retrying",
                    platform_code=error.platform_code,
                    status=error.status,
                )
            raise error
        return response

    def fetch_image(self, url: str) -> tuple[bytes, str]:
        """The bytes and content type of an image a post refers to (Sotong's own media URL),
        read with the connector's client but without the platform's token: it is not the
        platform's host. Unreachable is transient; an error answer refuses the content."""
        try:
            response = self._client.get(url)
        except httpx.HTTPError as exc:
            raise TransientError(
                f"{self.label}: cannot fetch image ({type(exc).__name__})"
            ) from exc
        if response.status_code >= 400:
            raise ContentRejected(
                f"{self.label}: image not available (HTTP {response.status_code})"
            )
        return response.content, response.headers.get("content-type", "image/jpeg").split(";")[0]

    def json(self, response: httpx.Response) -> Any:
        try:
            return response.json()
        except ValueError as exc:
            raise MalformedResponse(
                f"{self.label}: answer is not JSON (HTTP {response.status_code})",
                status=response.status_code,
            ) from exc

    def is_error_body(self, response: httpx.Response) -> bool:
        """Platforms that answer errors with HTTP 200 (Band) override this."""
        return False

    def observe_rate_limits(self, response: httpx.Response) -> None:
        """Platforms with rate-limit headers override this to remember an exhausted budget."""

    def classify(self, response: httpx.Response) -> PlatformError:
        """Turn an error answer into a classified error. Subclasses handle their codes and
        fall back to this for the rest."""
        status = response.status_code
        if status == 429:
            return RateLimited(f"{self.label}: too many requests", retry_after=60.0, status=status)
        if status == 401:
            return CredentialExpired(f"{self.label}: unauthorized", status=status)
        if status == 403:
            return PermissionMissing(f"{self.label}: forbidden", status=status)
        if status == 404:
            return NotFound(f"{self.label}: not found", status=status)
        if status >= 500:
            return TransientError(f"{self.label}: server error {status}", status=status)
        return ContentRejected(f"{self.label}: refused (HTTP {status})", status=status)

    def require(self, data: Any, *path: str) -> Any:
        """``data[path[0]][path[1]]…``, or MalformedResponse naming what is missing."""
        current = data
        for key in path:
            if not isinstance(current, Mapping) or key not in current:
                raise MalformedResponse(f"{self.label}: answer lacks {'.'.join(path)}")
            current = current[key]
        return current

    # -- capabilities (each platform implements those it claims) ---------------------------

    def _unsupported(self, capability: Capability) -> Unsupported:
        return Unsupported(f"{self.label} has no API to {capability.value.replace('_', ' ')}")

    def verify_credentials(self) -> AccountCheck:
        raise self._unsupported(Capability.REFRESH_CREDENTIALS)

    def refresh_credentials(self) -> Credentials:
        raise self._unsupported(Capability.REFRESH_CREDENTIALS)

    def publish(self, post: OutboundPost) -> PublishedPost:
        raise self._unsupported(Capability.PUBLISH_TEXT)

    def find_published(self, post: OutboundPost, *, limit: int = 25) -> PublishedPost | None:
        """After an unknown outcome: our recent post carrying this content, if any."""
        if not self.supports(Capability.LIST_POSTS):
            return None
        wanted = normalise_for_match(post.text)
        for candidate in self.recent_posts(limit=limit):
            if normalise_for_match(candidate.text) == wanted:
                return candidate
        return None

    def recent_posts(self, *, limit: int) -> list[PublishedPost]:
        """``list_posts`` for ``find_published``: asked once per limit while
        ``listing_remembered`` is open."""
        memo: dict[int, list[PublishedPost]] | None = self.__dict__.get("_listing_memo")
        if memo is None:
            return self.list_posts(limit=limit)
        if limit not in memo:
            memo[limit] = self.list_posts(limit=limit)
        return memo[limit]

    @contextmanager
    def listing_remembered(self) -> Iterator[None]:
        """Check several posts against one listing of the account's recent posts (after a
        worker died with many in flight: one call per channel, not one per post)."""
        self.__dict__["_listing_memo"] = {}
        try:
            yield
        finally:
            del self.__dict__["_listing_memo"]

    def edit_post(self, external_id: str, post: OutboundPost) -> PublishedPost:
        raise self._unsupported(Capability.EDIT_POST)

    def delete_post(self, external_id: str) -> None:
        raise self._unsupported(Capability.DELETE_POST)

    def list_posts(self, *, limit: int = 25) -> list[PublishedPost]:
        raise self._unsupported(Capability.LIST_POSTS)

    def post_metrics(self, external_id: str) -> PostMetrics:
        raise self._unsupported(Capability.POST_METRICS)

    def channel_metrics(self) -> ChannelMetrics:
        raise self._unsupported(Capability.CHANNEL_METRICS)

    def list_comments(self, post_external_id: str) -> list[InboundItem]:
        raise self._unsupported(Capability.LIST_COMMENTS)

    def reply_to_comment(self, comment: InboundItem, text: str) -> str:
        raise self._unsupported(Capability.REPLY_COMMENT)

    def hide_comment(self, comment_external_id: str, *, hidden: bool = True) -> None:
        raise self._unsupported(Capability.HIDE_COMMENT)

    def fetch_messages(self, cursor: str = "") -> tuple[list[InboundItem], str]:
        raise self._unsupported(Capability.FETCH_MESSAGES)

    def is_own(self, item: InboundItem) -> bool:
        """Whether ``item`` was written by the city's own account: our replies come back in
        comment threads and must not be taken for citizens speaking. Platforms where we
        write under another id than the channel's account override this."""
        return item.author_id == self.account.account_id

    def reply_to_message(self, message: InboundItem, text: str) -> str:
        raise self._unsupported(Capability.REPLY_MESSAGE)

    # Webhooks: the handshake (a GET the platform sends to prove the URL), the signature
    # check, and parsing a verified delivery into inbound items.

    def register_webhook(self, url: str) -> None:
        """Have the platform deliver this account's events to ``url``, where it takes that
        through its API; where it is set in the platform's console, this says so."""
        raise Unsupported(f"{self.label}: the webhook address is set in the platform's console")

    def webhook_handshake(self, request: WebhookRequest) -> WebhookResponse | None:
        return None

    def verify_webhook(self, request: WebhookRequest) -> None:
        raise self._unsupported(Capability.WEBHOOKS)

    def parse_webhook(self, request: WebhookRequest) -> list[InboundItem]:
        raise self._unsupported(Capability.WEBHOOKS)

    # Connecting by OAuth (authorisation code, with PKCE where the platform takes it).
    # Platforms without it are connected by entering a token.
    oauth_login: ClassVar[bool] = False

    def oauth_authorize_url(self, app: OAuthApp, *, state: str, code_challenge: str) -> str:
        """Where to send the person to sign in and grant ``required_scopes``;
        ``code_challenge`` is the S256 PKCE challenge of the verifier kept in the session."""
        raise Unsupported(f"{self.label}: no OAuth sign-in; enter a token")

    def oauth_accounts(
        self, app: OAuthApp, *, code: str, code_verifier: str
    ) -> list[ConnectableAccount]:
        """Swap the authorisation code for tokens and list the accounts they give access
        to, each with the credentials its channel keeps."""
        raise Unsupported(f"{self.label}: no OAuth sign-in; enter a token")

    def webhook_ack(self, items: list[InboundItem]) -> WebhookResponse:
        """The answer to an accepted delivery. Most platforms only want a fast 200; a
        platform that takes its reply from the answer (KakaoTalk skills) overrides this."""
        return WebhookResponse(200, b"ok")


def pkce_challenge(code_verifier: str) -> str:
    """The S256 code challenge of a PKCE verifier (RFC 7636)."""
    import base64

    digest = hashlib.sha256(code_verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def normalise_for_match(text: str) -> str:
    """Text compared loosely: platforms trim, re-encode or HTML-wrap what we sent."""
    import re
    import unicodedata

    text = re.sub(r"<[^>]+>", " ", text)
    return " ".join(unicodedata.normalize("NFC", text).split())


def hmac_sha256_hex(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def constant_time_equal(left: str, right: str) -> bool:
    return hmac.compare_digest(left.encode(), right.encode())


def parse_json_body(request: WebhookRequest) -> Any:
    try:
        return json.loads(request.body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise WebhookRejected("malformed", "body is not JSON") from exc


# ---------------------------------------------------------------------------------------
# Registry of platform modules (like Wagtail's hooks: each module registers itself).

_registry: dict[str, type[Connector]] = {}


def register[C: type[Connector]](connector: C) -> C:
    _registry[connector.kind] = connector
    return connector


def connector_class(kind: str) -> type[Connector]:
    load_all()
    try:
        return _registry[kind]
    except KeyError:
        raise KeyError(f"unknown platform {kind!r}") from None


def connector_classes() -> list[type[Connector]]:
    load_all()
    return sorted(_registry.values(), key=lambda connector: connector.kind)


PLATFORM_MODULES = (
    "facebook",
    "instagram",
    "x",
    "band",
    "kakao",
    "naver_blog",
    "youtube",
    "telegram",
    "mastodon",
)


def load_all() -> None:
    import importlib

    for name in PLATFORM_MODULES:
        try:
            importlib.import_module(f"sotong.platforms.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"sotong.platforms.{name}":
                raise


def epoch_to_datetime(value: float | int | str) -> dt.datetime:
    return dt.datetime.fromtimestamp(float(value), tz=dt.UTC)


def iso_to_datetime(value: str) -> dt.datetime:
    parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed
