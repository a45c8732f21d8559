"""X (Twitter) connector, API v2. Contract: shared/docs/platform-apis.md §5.

Tokens come from OAuth 2.0 (authorisation code with PKCE) and live two hours; the refresh
token (scope ``offline.access``) is single-use and rotated on each refresh. X answers an
expired and a revoked token alike (401), so a 401 means "refresh"; a refused refresh means
"reconnect".
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import hashlib
import hmac
import logging
import re
import time
import unicodedata
from collections.abc import Iterator
from typing import Any, ClassVar
from urllib.parse import urlencode

import httpx

from sotong.platforms.base import (
    AccountCheck,
    Capability,
    ChannelMetrics,
    ConnectableAccount,
    Connector,
    ContentRejected,
    CredentialExpired,
    CredentialRevoked,
    Credentials,
    DuplicateContent,
    InboundItem,
    InboundKind,
    MalformedResponse,
    NotFound,
    OAuthApp,
    OutboundPost,
    PermissionMissing,
    PlatformError,
    PostMetrics,
    PublishedPost,
    RateLimited,
    RateLimitState,
    TextLimits,
    TransientError,
    WebhookRejected,
    WebhookRequest,
    WebhookResponse,
    constant_time_equal,
    iso_to_datetime,
    normalise_for_match,
    parse_json_body,
    register,
)

logger = logging.getLogger(__name__)

AUTHORIZE_URL = "https://x.com/i/oauth2/authorize"
TOKEN_URL = "https://api.x.com/2/oauth2/token"  # noqa: S105 - a URL, not a secret
TWEET_FIELDS = "created_at,author_id,conversation_id,in_reply_to_user_id,referenced_tweets"
DM_FIELDS = "id,text,sender_id,dm_conversation_id,created_at,event_type"
# Without a reset header, wait a whole rate-limit window (15 min).
DEFAULT_RETRY_AFTER = 900.0
# Pages of mentions or DMs (100 each) one poll reads back to its cursor.
MAX_POLL_PAGES = 10

# -- counting text (twitter-text v3 configuration) -------------------------------------------

MAX_WEIGHTED_LENGTH = 280
URL_WEIGHT = 23
# Code points weighing 1; everything else (Hangul included) weighs 2.
LIGHT_RANGES = ((0x0000, 0x10FF), (0x2000, 0x200D), (0x2010, 0x201F), (0x2032, 0x2037))
URL_PATTERN = re.compile(r"(?:https?://|www\.)[^\s<>\"]+", re.IGNORECASE)
URL_TRAILING = ".,;:!?'\")]}"
ZWJ, VS16, KEYCAP = 0x200D, 0xFE0F, 0x20E3


def _is_pictograph(code: int) -> bool:
    return (
        0x1F000 <= code <= 0x1FAFF
        or 0x2600 <= code <= 0x27BF
        or 0x2300 <= code <= 0x23FF
        or 0x2B00 <= code <= 0x2BFF
    )


def _is_regional(code: int) -> bool:
    return 0x1F1E6 <= code <= 0x1F1FF


def _is_modifier(code: int) -> bool:
    # Variation selector, skin tones, keycap, tag characters (subdivision flags).
    return code in (VS16, KEYCAP) or 0x1F3FB <= code <= 0x1F3FF or 0xE0020 <= code <= 0xE007F


def _emoji_end(codes: list[int], start: int) -> int:
    """The index after the emoji sequence starting at ``start``, or ``start`` if none."""
    code = codes[start]
    following = codes[start + 1] if start + 1 < len(codes) else None
    if _is_regional(code):
        return start + 2 if following is not None and _is_regional(following) else start + 1
    if not _is_pictograph(code) and following not in (VS16, KEYCAP):
        return start
    end = start + 1
    while end < len(codes):
        if _is_modifier(codes[end]):
            end += 1
        elif codes[end] == ZWJ and end + 1 < len(codes) and _is_pictograph(codes[end + 1]):
            end += 2
        else:
            break
    return end


def _url_spans(text: str) -> list[tuple[int, int]]:
    spans = []
    for match in URL_PATTERN.finditer(text):
        start, end = match.span()
        while end > start and text[end - 1] in URL_TRAILING:
            end -= 1
        spans.append((start, end))
    return spans


def _weight(code: int) -> int:
    return 1 if any(low <= code <= high for low, high in LIGHT_RANGES) else 2


def weighted_length(text: str) -> int:
    """The length X counts (twitter-text v3): NFC, each URL 23, each emoji sequence 2,
    code points in the light ranges 1, all others (Hangul included) 2."""
    text = unicodedata.normalize("NFC", text)
    total = 0
    position = 0
    for start, end in [*_url_spans(text), (len(text), len(text))]:
        codes = [ord(char) for char in text[position:start]]
        index = 0
        while index < len(codes):
            end_of_emoji = _emoji_end(codes, index)
            if end_of_emoji > index:
                total += 2
                index = end_of_emoji
            else:
                total += _weight(codes[index])
                index += 1
        if start < len(text):
            total += URL_WEIGHT
        position = end
    return total


def _without_urls(text: str) -> str:
    """Text as X keeps it, minus links: X rewrites them to t.co and appends media links."""
    return normalise_for_match(URL_PATTERN.sub(" ", text))


def _problem_text(body: Any) -> str:
    if not isinstance(body, dict):
        return ""
    parts = [str(body.get(key, "")) for key in ("title", "detail", "type")]
    for error in body.get("errors") or []:
        if isinstance(error, dict):
            parts.extend(str(error.get(key, "")) for key in ("title", "detail", "message", "type"))
    return " ".join(part for part in parts if part)


def _newer(current: str, candidate: str) -> str:
    """The newer of two snowflake ids (either may be empty)."""
    if not candidate or (current and int(current) >= int(candidate)):
        return current
    return candidate


def _hmac_b64(secret: str, payload: bytes) -> str:
    digest = hmac.new(secret.encode(), payload, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


@register
class XAccount(Connector):
    kind = "x"
    label = "X"
    capabilities = frozenset(
        {
            Capability.PUBLISH_TEXT,
            Capability.PUBLISH_LINK,
            Capability.PUBLISH_IMAGE,
            Capability.DELETE_POST,
            Capability.LIST_POSTS,
            Capability.POST_METRICS,
            Capability.CHANNEL_METRICS,
            Capability.LIST_COMMENTS,
            Capability.REPLY_COMMENT,
            Capability.FETCH_MESSAGES,
            Capability.REPLY_MESSAGE,
            Capability.WEBHOOKS,
            Capability.REFRESH_CREDENTIALS,
        }
    )
    default_api_base = "https://api.x.com"
    limits = TextLimits(max_length=MAX_WEIGHTED_LENGTH, counting="twitter", max_images=4)
    required_scopes: ClassVar[tuple[str, ...]] = (
        "tweet.read",
        "tweet.write",
        "users.read",
        "dm.read",
        "dm.write",
        "offline.access",
        "media.write",
    )
    oauth_login = True

    @property
    def user_id(self) -> str:
        return self.account.account_id

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.account.credentials.access_token}"}

    def _get(self, path: str, **params: Any) -> Any:
        return self.json(self.request("GET", path, params=params, headers=self._auth()))

    def _post_json(self, path: str, body: dict[str, Any], *, idempotent: bool = False) -> Any:
        response = self.request(
            "POST", path, json=body, headers=self._auth(), idempotent=idempotent
        )
        return self.json(response)

    # -- errors and limits ---------------------------------------------------------------

    def is_error_body(self, response: httpx.Response) -> bool:
        """Lookups answer 200 with only ``errors`` when the object is gone."""
        if response.status_code != 200 or "json" not in response.headers.get("content-type", ""):
            return False
        try:
            body = response.json()
        except ValueError:
            return False
        return isinstance(body, dict) and "errors" in body and "data" not in body

    def _reset_in(self, response: httpx.Response) -> float | None:
        reset = response.headers.get("x-rate-limit-reset")
        try:
            return max(1.0, float(reset) - time.time()) if reset else None
        except ValueError:
            return None

    def observe_rate_limits(self, response: httpx.Response) -> None:
        # The budget is per endpoint, but we remember it per account: erring on waiting.
        if response.headers.get("x-rate-limit-remaining") == "0":
            RateLimitState.block(self._rate_key, self._reset_in(response) or DEFAULT_RETRY_AFTER)

    def classify(self, response: httpx.Response) -> PlatformError:
        status = response.status_code
        try:
            body = response.json()
        except ValueError:
            body = None
        text = _problem_text(body)
        message = f"X: {text or 'error'} (HTTP {status})"
        if status == 429:
            # X sends no Retry-After: the reset header says when the window opens again.
            return RateLimited(
                message, retry_after=self._reset_in(response) or DEFAULT_RETRY_AFTER, status=status
            )
        if isinstance(body, dict) and isinstance(body.get("error"), str):
            # The OAuth token endpoint's shape: the grant (refresh token) was refused.
            return CredentialRevoked(
                f"X: {body['error']}: {body.get('error_description', '')}",
                platform_code=body["error"],
                status=status,
            )
        if status == 401:
            return CredentialExpired(message, status=status)
        lowered = text.lower()
        if status == 403 and "duplicate content" in lowered:
            return DuplicateContent(message, status=status)
        if "resource-not-found" in lowered or status == 404 or "deleted or not visible" in lowered:
            return NotFound(message, status=status)
        if status == 403:
            return PermissionMissing(message, status=status)
        if status >= 500:
            return TransientError(message, status=status)
        if status == 200:
            return MalformedResponse(message, status=status)
        return ContentRejected(message, status=status)

    # -- account and tokens -----------------------------------------------------------------

    def verify_credentials(self) -> AccountCheck:
        user = self.require(self._get("/2/users/me"), "data")
        granted = self.account.credentials.scopes
        return AccountCheck(
            identity=str(self.require(user, "id")),
            display_name=user.get("name", ""),
            granted_scopes=granted,
            missing_scopes=tuple(s for s in self.required_scopes if granted and s not in granted),
            expires_at=self.account.credentials.expires_at,
        )

    def _token_call(self, form: dict[str, str], client_id: str, client_secret: str) -> Any:
        # A confidential client authenticates with Basic auth; a public one sends its id.
        auth = (client_id, client_secret) if client_secret else None
        response = self.request(
            "POST", self.endpoint(TOKEN_URL), data=form, auth=auth, idempotent=False
        )
        return self.json(response)

    def _credentials_from(self, answer: Any, extra: dict[str, str]) -> Credentials:
        expires_in = float(answer.get("expires_in") or 7200)
        return Credentials(
            access_token=str(self.require(answer, "access_token")),
            refresh_token=str(answer.get("refresh_token", "")),
            expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(seconds=expires_in),
            scopes=tuple(str(answer.get("scope", "")).split()),
            extra=dict(extra),
        )

    def refresh_credentials(self) -> Credentials:
        """New tokens for the refresh token (which X then retires). A refused refresh
        raises CredentialRevoked: the city must connect again."""
        credentials = self.account.credentials
        extra = credentials.extra
        if not credentials.refresh_token:
            raise CredentialRevoked("X: no refresh token (scope offline.access); reconnect")
        form = {
            "grant_type": "refresh_token",
            "refresh_token": credentials.refresh_token,
            "client_id": extra.get("client_id", ""),
        }
        try:
            answer = self._token_call(
                form, extra.get("client_id", ""), extra.get("client_secret", "")
            )
        except (CredentialExpired, ContentRejected, PermissionMissing) as exc:
            raise CredentialRevoked(
                f"X: refresh refused: {exc.message}", status=exc.status
            ) from exc
        fresh = self._credentials_from(answer, extra)
        self.account.credentials = fresh
        return fresh

    def oauth_authorize_url(self, app: OAuthApp, *, state: str, code_challenge: str) -> str:
        """X's consent page for the city's app, with the S256 PKCE challenge."""
        query = urlencode(
            {
                "response_type": "code",
                "client_id": app.client_id,
                "redirect_uri": app.redirect_uri,
                "scope": " ".join(self.required_scopes),
                "state": state,
                "code_challenge": code_challenge,
                "code_challenge_method": "S256",
            }
        )
        return self.endpoint(f"{AUTHORIZE_URL}?{query}")

    def oauth_accounts(
        self, app: OAuthApp, *, code: str, code_verifier: str
    ) -> list[ConnectableAccount]:
        """Swap the code for tokens; the one account is the signed-in user (/2/users/me)."""
        answer = self._token_call(
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": app.redirect_uri,
                "code_verifier": code_verifier,
                "client_id": app.client_id,
            },
            app.client_id,
            app.client_secret,
        )
        credentials = self._credentials_from(
            answer,
            {
                "client_id": app.client_id,
                "client_secret": app.client_secret,
                # Webhook signatures use the app's consumer secret, entered separately.
                "consumer_secret": self.account.credentials.extra.get("consumer_secret", ""),
            },
        )
        self.account.credentials = credentials
        user = self.require(self._get("/2/users/me"), "data")
        return [
            ConnectableAccount(
                account_id=str(self.require(user, "id")),
                name=user.get("name", ""),
                credentials=credentials,
            )
        ]

    # -- posts ------------------------------------------------------------------------------

    def _upload(self, url: str) -> str:
        content, content_type = self.fetch_image(url)
        # An upload nobody posts expires on its own: safe to repeat.
        response = self.request(
            "POST",
            "/2/media/upload",
            files={"media": ("image", content, content_type)},
            data={"media_category": "tweet_image"},
            headers=self._auth(),
            idempotent=True,
        )
        return str(self.require(self.json(response), "data", "id"))

    def publish(self, post: OutboundPost) -> PublishedPost:
        """A post; a link goes in the text (X makes it a card), images are uploaded first."""
        text = post.text
        if post.link and post.link not in text:
            text = f"{text}\n{post.link}" if text else post.link
        if weighted_length(text) > MAX_WEIGHTED_LENGTH:
            raise ContentRejected(f"X: text weighs {weighted_length(text)} > {MAX_WEIGHTED_LENGTH}")
        if len(post.image_urls) > self.limits.max_images:
            raise ContentRejected(f"X: at most {self.limits.max_images} images")
        body: dict[str, Any] = {"text": text}
        if post.image_urls:
            body["media"] = {"media_ids": [self._upload(url) for url in post.image_urls]}
        data = self.require(self._post_json("/2/tweets", body), "data")
        external_id = str(self.require(data, "id"))
        return PublishedPost(
            external_id=external_id,
            url=f"https://x.com/i/web/status/{external_id}",
            text=str(data.get("text", text)),
        )

    def find_published(self, post: OutboundPost, *, limit: int = 25) -> PublishedPost | None:
        """Our recent post with this text; links are compared loosely as X rewrites them."""
        wanted = _without_urls(post.text)
        for candidate in self.recent_posts(limit=limit):
            if _without_urls(candidate.text) == wanted:
                return candidate
        return None

    def delete_post(self, external_id: str) -> None:
        response = self.request(
            "DELETE", f"/2/tweets/{external_id}", headers=self._auth(), idempotent=True
        )
        if not self.require(self.json(response), "data", "deleted"):
            raise NotFound(f"X: post {external_id} was not deleted")

    def list_posts(self, *, limit: int = 25) -> list[PublishedPost]:
        answer = self._get(
            f"/2/users/{self.user_id}/tweets",
            max_results=max(5, min(limit, 100)),
            exclude="replies,retweets",
            **{"tweet.fields": "created_at,public_metrics,conversation_id"},
        )
        return [
            PublishedPost(
                external_id=str(item["id"]),
                url=f"https://x.com/i/web/status/{item['id']}",
                text=item.get("text", ""),
                created_at=iso_to_datetime(item["created_at"]) if item.get("created_at") else None,
            )
            for item in (answer.get("data") or [])[:limit]
        ]

    def post_metrics(self, external_id: str) -> PostMetrics:
        """Public counts, plus impressions and link clicks while X gives them (our own
        posts, up to 30 days old)."""
        answer = self._get(
            f"/2/tweets/{external_id}", **{"tweet.fields": "public_metrics,non_public_metrics"}
        )
        data = self.require(answer, "data")
        public = self.require(data, "public_metrics")
        private = data.get("non_public_metrics") or {}
        raw = {**public, **{f"non_public_{k}": v for k, v in private.items()}}
        return PostMetrics(
            views=private.get("impression_count", public.get("impression_count")),
            likes=public.get("like_count"),
            comments=public.get("reply_count"),
            shares=int(public.get("retweet_count", 0)) + int(public.get("quote_count", 0)),
            clicks=private.get("url_link_clicks"),
            raw=raw,
        )

    def channel_metrics(self) -> ChannelMetrics:
        data = self.require(self._get("/2/users/me", **{"user.fields": "public_metrics"}), "data")
        metrics = data.get("public_metrics") or {}
        return ChannelMetrics(followers=metrics.get("followers_count"), raw=metrics)

    # -- replies, mentions and DMs ----------------------------------------------------------------

    def _names(self, answer: Any) -> dict[str, str]:
        users = (answer.get("includes") or {}).get("users") or []
        return {str(user["id"]): user.get("name") or user.get("username", "") for user in users}

    def _tweet_item(self, item: dict[str, Any], names: dict[str, str]) -> InboundItem:
        replied_to = next(
            (
                str(ref["id"])
                for ref in item.get("referenced_tweets") or []
                if ref.get("type") == "replied_to"
            ),
            "",
        )
        conversation = str(item.get("conversation_id", ""))
        author = str(item.get("author_id", ""))
        return InboundItem(
            kind=InboundKind.COMMENT if replied_to else InboundKind.MENTION,
            external_id=str(item["id"]),
            text=item.get("text", ""),
            author_id=author,
            author_name=names.get(author, ""),
            created_at=iso_to_datetime(item["created_at"]) if item.get("created_at") else None,
            post_external_id=conversation if replied_to else "",
            parent_external_id=replied_to if replied_to and replied_to != conversation else "",
            conversation_id=conversation,
            raw=item,
        )

    def list_comments(self, post_external_id: str) -> list[InboundItem]:
        """The replies in the post's thread (recent search: the last 7 days)."""
        answer = self._get(
            "/2/tweets/search/recent",
            query=f"conversation_id:{post_external_id}",
            max_results=100,
            expansions="author_id",
            **{"tweet.fields": TWEET_FIELDS},
        )
        names = self._names(answer)
        return [self._tweet_item(item, names) for item in answer.get("data") or []]

    def reply_to_comment(self, comment: InboundItem, text: str) -> str:
        body = {"text": text, "reply": {"in_reply_to_tweet_id": comment.external_id}}
        return str(self.require(self._post_json("/2/tweets", body), "data", "id"))

    def _pages(self, path: str, params: dict[str, Any], *, more: bool) -> Iterator[Any]:
        """The answers for ``path``, newest page first, following ``meta.next_token`` with
        ``pagination_token`` while ``more`` (else one page), at most ``MAX_POLL_PAGES``."""
        token = ""
        for _ in range(MAX_POLL_PAGES if more else 1):
            answer = self._get(path, **params, **({"pagination_token": token} if token else {}))
            yield answer
            token = str((answer.get("meta") or {}).get("next_token") or "")
            if not token:
                return
        if token:
            logger.warning("X: %s has more than %d pages since the cursor", path, MAX_POLL_PAGES)

    def fetch_messages(self, cursor: str = "") -> tuple[list[InboundItem], str]:
        """Mentions (replies to our posts come as comments) and DMs newer than ``cursor``
        (``<mention since_id>:<last DM event id>``). With a cursor, every page back to it is
        read (a burst bigger than one page is not lost); without one, the newest page."""
        mention_since, _, dm_since = cursor.partition(":")
        params: dict[str, Any] = {
            "max_results": 100,
            "expansions": "author_id",
            "tweet.fields": TWEET_FIELDS,
        }
        if mention_since:
            params["since_id"] = mention_since
        items: list[InboundItem] = []
        newest_mention = mention_since
        for mentions in self._pages(
            f"/2/users/{self.user_id}/mentions", params, more=bool(mention_since)
        ):
            names = self._names(mentions)
            for item in mentions.get("data") or []:
                newest_mention = _newer(newest_mention, str(item["id"]))
                if str(item.get("author_id")) != self.user_id:
                    items.append(self._tweet_item(item, names))
            newest_mention = _newer(
                newest_mention, str((mentions.get("meta") or {}).get("newest_id") or "")
            )
        newest_dm = dm_since
        dm_params = {
            "event_types": "MessageCreate",
            "max_results": 100,
            "expansions": "sender_id",
            "dm_event.fields": DM_FIELDS,
        }
        for events in self._pages("/2/dm_events", dm_params, more=bool(dm_since)):
            senders = self._names(events)
            reached_cursor = False
            for event in events.get("data") or []:
                event_id = str(event["id"])
                if dm_since and int(event_id) <= int(dm_since):
                    reached_cursor = True
                    continue
                newest_dm = _newer(newest_dm, event_id)
                sender = str(event.get("sender_id", ""))
                if sender == self.user_id:
                    continue  # our own replies
                items.append(
                    InboundItem(
                        kind=InboundKind.MESSAGE,
                        external_id=event_id,
                        text=event.get("text", ""),
                        author_id=sender,
                        author_name=senders.get(sender, ""),
                        created_at=iso_to_datetime(event["created_at"])
                        if event.get("created_at")
                        else None,
                        conversation_id=str(event.get("dm_conversation_id", "")),
                        raw=event,
                    )
                )
            if reached_cursor:
                break  # newest first: the rest is older still
        return items, f"{newest_mention}:{newest_dm}"

    def reply_to_message(self, message: InboundItem, text: str) -> str:
        answer = self._post_json(
            f"/2/dm_conversations/with/{message.author_id}/messages", {"text": text}
        )
        return str(self.require(answer, "data", "dm_event_id"))

    # -- webhooks (Account Activity) ------------------------------------------------------

    def webhook_handshake(self, request: WebhookRequest) -> WebhookResponse | None:
        """The CRC check: X sends ``crc_token`` and expects its HMAC back, as JSON."""
        if request.method != "GET" or "crc_token" not in request.query:
            return None
        secret = self.account.credentials.extra.get("consumer_secret", "")
        if not secret:
            return WebhookResponse(403, b"no consumer secret configured")
        token = _hmac_b64(secret, request.query["crc_token"].encode())
        body = ('{"response_token":"sha256=' + token + '"}').encode()
        return WebhookResponse(200, body, content_type="application/json")

    def verify_webhook(self, request: WebhookRequest) -> None:
        signature = request.header("x-twitter-webhooks-signature")
        if not signature:
            raise WebhookRejected("missing_signature", "no x-twitter-webhooks-signature")
        secret = self.account.credentials.extra.get("consumer_secret", "")
        expected = "sha256=" + _hmac_b64(secret, request.body)
        if not secret or not constant_time_equal(signature, expected):
            raise WebhookRejected("bad_signature", "x-twitter-webhooks-signature does not match")

    def parse_webhook(self, request: WebhookRequest) -> list[InboundItem]:
        payload = parse_json_body(request)
        if not isinstance(payload, dict) or "for_user_id" not in payload:
            raise WebhookRejected("malformed", "not an account activity event")
        try:
            items = [
                *self._parse_tweets(payload.get("tweet_create_events") or []),
                *self._parse_dms(payload),
            ]
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            raise WebhookRejected("malformed", f"unexpected shape: {exc!r}") from exc
        # The app's one webhook serves every subscribed user: each delivery names its user.
        account_id = str(payload["for_user_id"])
        return [dataclasses.replace(item, account_id=account_id) for item in items]

    def _parse_tweets(self, events: list[dict[str, Any]]) -> list[InboundItem]:
        items = []
        for tweet in events:
            user = tweet["user"]
            if str(user["id_str"]) == self.user_id:
                continue  # our own post or reply
            replied_to = str(tweet.get("in_reply_to_status_id_str") or "")
            items.append(
                InboundItem(
                    kind=InboundKind.COMMENT if replied_to else InboundKind.MENTION,
                    external_id=str(tweet["id_str"]),
                    text=tweet.get("full_text") or tweet.get("text", ""),
                    author_id=str(user["id_str"]),
                    author_name=user.get("name", ""),
                    created_at=dt.datetime.strptime(tweet["created_at"], "%a %b %d %H:%M:%S %z %Y")
                    if tweet.get("created_at")
                    else None,
                    # The event does not say the thread's root; the post answered stands in.
                    post_external_id=replied_to,
                    conversation_id=replied_to,
                    raw=tweet,
                )
            )
        return items

    def _parse_dms(self, payload: dict[str, Any]) -> list[InboundItem]:
        users = payload.get("users") or {}
        items = []
        for event in payload.get("direct_message_events") or []:
            if event.get("type") != "message_create":
                continue
            create = event["message_create"]
            sender = str(create["sender_id"])
            if sender == self.user_id:
                continue
            low, high = sorted((sender, self.user_id), key=int)
            items.append(
                InboundItem(
                    kind=InboundKind.MESSAGE,
                    external_id=str(event["id"]),
                    text=(create.get("message_data") or {}).get("text", ""),
                    author_id=sender,
                    author_name=(users.get(sender) or {}).get("name", ""),
                    created_at=dt.datetime.fromtimestamp(
                        int(event["created_timestamp"]) / 1000, tz=dt.UTC
                    )
                    if event.get("created_timestamp")
                    else None,
                    conversation_id=f"{low}-{high}",
                    raw=event,
                )
            )
        return items
