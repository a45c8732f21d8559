"""Mastodon connector (per instance). Contract: shared/docs/platform-apis.md §8.

The instance's address is the channel's API address (``api_base``): there is no one
Mastodon. The city creates an application in the instance's Development settings and
enters its token; tokens do not expire, so a 401 means the token was revoked. A plain
account has no webhooks: mentions and direct messages are polled from notifications.
"""

from __future__ import annotations

import hashlib
import re
import time
from html.parser import HTMLParser
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

import httpx

from sotong.platforms.base import (
    AccountCheck,
    Capability,
    ChannelMetrics,
    Connector,
    ContentRejected,
    CredentialRevoked,
    InboundItem,
    InboundKind,
    MalformedResponse,
    NotFound,
    OutboundPost,
    PermissionMissing,
    PlatformError,
    PostMetrics,
    PublishedPost,
    RateLimited,
    RateLimitState,
    TextLimits,
    TransientError,
    iso_to_datetime,
    register,
)

DEFAULT_MAX_CHARACTERS = 500
DEFAULT_MAX_MEDIA = 4
DEFAULT_URL_LENGTH = 23
# Without a reset header, wait one rate-limit window (5 min).
DEFAULT_RETRY_AFTER = 300.0
URL_PATTERN = re.compile(r"https?://[^\s<>\"]+", re.IGNORECASE)
# Notifications per page (Mastodon's default and a safe maximum) and pages per poll.
NOTIFICATIONS_PAGE = 40
NOTIFICATION_PAGES = 10


class _TextOfHTML(HTMLParser):
    """Status HTML back to plain text: paragraphs and line breaks kept, link spans joined."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.parts.append("\n")
        elif tag == "p" and self.parts:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_to_text(content: str) -> str:
    parser = _TextOfHTML()
    parser.feed(content)
    parser.close()
    return "".join(parser.parts).strip()


def status_length(text: str, url_length: int = DEFAULT_URL_LENGTH) -> int:
    """Characters as Mastodon counts them: code points, each link ``url_length``."""
    return len(URL_PATTERN.sub("x" * url_length, text))


@register
class MastodonAccount(Connector):
    kind = "mastodon"
    label = "Mastodon"
    capabilities = frozenset(
        {
            Capability.PUBLISH_TEXT,
            Capability.PUBLISH_LINK,
            Capability.PUBLISH_IMAGE,
            Capability.EDIT_POST,
            Capability.DELETE_POST,
            Capability.LIST_POSTS,
            Capability.POST_METRICS,
            Capability.CHANNEL_METRICS,
            Capability.LIST_COMMENTS,
            Capability.REPLY_COMMENT,
            Capability.FETCH_MESSAGES,
            Capability.REPLY_MESSAGE,
        }
    )
    # No default: the instance is the channel's API address.
    default_api_base = ""
    limits = TextLimits(max_length=DEFAULT_MAX_CHARACTERS, max_images=DEFAULT_MAX_MEDIA)
    required_scopes: ClassVar[tuple[str, ...]] = ("read", "write")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._me: dict[str, Any] | None = None
        self._instance: dict[str, int] | None = None

    def _auth(self, idempotency_key: str = "") -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.account.credentials.access_token}"}
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        return headers

    def request(
        self, method: str, url: str, *, idempotent: bool | None = None, **kwargs: Any
    ) -> httpx.Response:
        if not self.api_base:
            raise NotFound("Mastodon: no instance address; set the channel's API address")
        return super().request(method, url, idempotent=idempotent, **kwargs)

    def _get(self, path: str, **params: Any) -> Any:
        return self.json(self.request("GET", path, params=params, headers=self._auth()))

    # -- errors and limits ---------------------------------------------------------------

    def _reset_in(self, response: httpx.Response) -> float | None:
        reset = response.headers.get("x-ratelimit-reset")
        if not reset:
            return None
        try:
            return max(1.0, iso_to_datetime(reset).timestamp() - time.time())
        except ValueError:
            return None

    def observe_rate_limits(self, response: httpx.Response) -> None:
        if response.headers.get("x-ratelimit-remaining") == "0":
            RateLimitState.block(self._rate_key, self._reset_in(response) or DEFAULT_RETRY_AFTER)

    def classify(self, response: httpx.Response) -> PlatformError:
        status = response.status_code
        try:
            detail = str(response.json().get("error", ""))
        except (ValueError, AttributeError):
            detail = ""
        message = f"Mastodon: {detail or 'error'} (HTTP {status})"
        if status == 429:
            return RateLimited(
                message, retry_after=self._reset_in(response) or DEFAULT_RETRY_AFTER, status=status
            )
        if status == 401:
            # Tokens do not expire: an invalid one was revoked (or the app deleted).
            return CredentialRevoked(message, status=status)
        if status == 403:
            return PermissionMissing(message, status=status)
        if status == 404:
            return NotFound(message, status=status)
        if status >= 500:
            return TransientError(message, status=status)
        return ContentRejected(message, status=status)

    # -- account and instance ----------------------------------------------------------------

    def _account(self) -> dict[str, Any]:
        if self._me is None:
            me = self._get("/api/v1/accounts/verify_credentials")
            if not isinstance(me, dict) or "id" not in me:
                raise MalformedResponse("Mastodon: verify_credentials lacks id")
            self._me = me
        return self._me

    def instance_limits(self) -> dict[str, int]:
        """Characters, images and link length of this instance; channel options win."""
        if self._instance is None:
            answer = self._get("/api/v2/instance")
            configuration = answer.get("configuration") or {}
            statuses = configuration.get("statuses") or {}
            self._instance = {
                "max_characters": int(statuses.get("max_characters") or DEFAULT_MAX_CHARACTERS),
                "max_media_attachments": int(
                    statuses.get("max_media_attachments") or DEFAULT_MAX_MEDIA
                ),
                "characters_reserved_per_url": int(
                    statuses.get("characters_reserved_per_url") or DEFAULT_URL_LENGTH
                ),
            }
        limits = dict(self._instance)
        for name in limits:
            if self.account.options.get(name):
                limits[name] = int(self.account.options[name])
        return limits

    def verify_credentials(self) -> AccountCheck:
        self._me = None
        me = self._account()
        return AccountCheck(
            identity=str(me["id"]),
            display_name=me.get("display_name") or me.get("acct", ""),
            granted_scopes=self.account.credentials.scopes,
        )

    # -- posts ------------------------------------------------------------------------------

    def _published(self, status: dict[str, Any]) -> PublishedPost:
        return PublishedPost(
            external_id=str(self.require(status, "id")),
            url=status.get("url") or status.get("uri", ""),
            text=html_to_text(status.get("content", "")),
            created_at=iso_to_datetime(status["created_at"]) if status.get("created_at") else None,
        )

    def _upload(self, url: str) -> str:
        content, content_type = self.fetch_image(url)
        # An attachment no status uses is cleaned up by the instance: safe to repeat.
        response = self.request(
            "POST",
            "/api/v2/media",
            files={"file": ("image", content, content_type)},
            headers=self._auth(),
            idempotent=True,
        )
        return str(self.require(self.json(response), "id"))

    def _status_form(self, post: OutboundPost) -> dict[str, Any]:
        text = post.text
        if post.link and post.link not in text:
            text = f"{text}\n\n{post.link}" if text else post.link
        limits = self.instance_limits()
        length = status_length(text, limits["characters_reserved_per_url"])
        if length > limits["max_characters"]:
            raise ContentRejected(
                f"Mastodon: {length} characters > {limits['max_characters']} on this instance"
            )
        if len(post.image_urls) > limits["max_media_attachments"]:
            raise ContentRejected(
                f"Mastodon: at most {limits['max_media_attachments']} images on this instance"
            )
        form: dict[str, Any] = {"status": text}
        if post.image_urls:
            form["media_ids[]"] = [self._upload(url) for url in post.image_urls]
        return form

    def publish(self, post: OutboundPost) -> PublishedPost:
        """A public status. With an idempotency key, Mastodon answers a repeat with the
        original status (for about an hour), so the call may safely be retried."""
        form = {**self._status_form(post), "visibility": "public"}
        response = self.request(
            "POST",
            "/api/v1/statuses",
            data=form,
            headers=self._auth(post.idempotency_key),
            idempotent=bool(post.idempotency_key),
        )
        return self._published(self.json(response))

    def find_published(self, post: OutboundPost, *, limit: int = 25) -> PublishedPost | None:
        """Our recent status with this text (the link as we appended it)."""
        text = post.text
        if post.link and post.link not in text:
            text = f"{text}\n\n{post.link}" if text else post.link
        return super().find_published(OutboundPost(text=text), limit=limit)

    def edit_post(self, external_id: str, post: OutboundPost) -> PublishedPost:
        # Setting the same text twice leaves the same status: idempotent.
        response = self.request(
            "PUT",
            f"/api/v1/statuses/{external_id}",
            data=self._status_form(post),
            headers=self._auth(),
            idempotent=True,
        )
        return self._published(self.json(response))

    def delete_post(self, external_id: str) -> None:
        self.request(
            "DELETE", f"/api/v1/statuses/{external_id}", headers=self._auth(), idempotent=True
        )

    def list_posts(self, *, limit: int = 25) -> list[PublishedPost]:
        statuses = self._get(
            f"/api/v1/accounts/{self._account()['id']}/statuses",
            limit=min(limit, 40),
            exclude_replies="true",
        )
        if not isinstance(statuses, list):
            raise MalformedResponse("Mastodon: account statuses is not a list")
        return [self._published(status) for status in statuses]

    def post_metrics(self, external_id: str) -> PostMetrics:
        status = self._get(f"/api/v1/statuses/{external_id}")
        raw = {
            name: self.require(status, name)
            for name in ("replies_count", "reblogs_count", "favourites_count")
        }
        return PostMetrics(
            likes=raw["favourites_count"],
            comments=raw["replies_count"],
            shares=raw["reblogs_count"],
            raw=raw,
        )

    def channel_metrics(self) -> ChannelMetrics:
        self._me = None
        me = self._account()
        return ChannelMetrics(
            followers=me.get("followers_count"),
            raw={k: me.get(k) for k in ("followers_count", "following_count", "statuses_count")},
        )

    # -- replies, mentions and direct messages ---------------------------------------------------

    def _item(self, status: dict[str, Any], kind: InboundKind, post_id: str = "") -> InboundItem:
        account = status.get("account") or {}
        parent = str(status.get("in_reply_to_id") or "")
        return InboundItem(
            kind=kind,
            external_id=str(status["id"]),
            text=html_to_text(status.get("content", "")),
            author_id=str(account.get("id", "")),
            author_name=account.get("display_name") or account.get("acct", ""),
            created_at=iso_to_datetime(status["created_at"]) if status.get("created_at") else None,
            post_external_id=post_id,
            parent_external_id=parent if parent and parent != post_id else "",
            conversation_id=post_id or parent or str(status["id"]),
            raw=status,
        )

    def list_comments(self, post_external_id: str) -> list[InboundItem]:
        context = self._get(f"/api/v1/statuses/{post_external_id}/context")
        return [
            self._item(status, InboundKind.COMMENT, post_external_id)
            for status in self.require(context, "descendants")
        ]

    def _reply(self, to: InboundItem, text: str, visibility: str) -> str:
        acct = str((to.raw.get("account") or {}).get("acct", ""))
        body = f"@{acct} {text}" if acct and f"@{acct}" not in text else text
        # A key made of what we answer and how: a retry after a lost answer is harmless.
        key = hashlib.sha256(f"{to.external_id}\n{visibility}\n{body}".encode()).hexdigest()
        response = self.request(
            "POST",
            "/api/v1/statuses",
            data={"status": body, "in_reply_to_id": to.external_id, "visibility": visibility},
            headers=self._auth(key),
            idempotent=True,
        )
        return str(self.require(self.json(response), "id"))

    def reply_to_comment(self, comment: InboundItem, text: str) -> str:
        """A public reply mentioning the commenter, so they are notified."""
        return self._reply(comment, text, "public")

    def _notification_page(self, **params: Any) -> tuple[list[dict[str, Any]], str]:
        """One page of mention notifications, and the ``min_id`` of the page after it
        (newer) as the ``Link`` header's ``prev`` link gives it, or "" without one."""
        response = self.request(
            "GET",
            "/api/v1/notifications",
            params={"types[]": "mention", "limit": NOTIFICATIONS_PAGE, **params},
            headers=self._auth(),
        )
        notifications = self.json(response)
        if not isinstance(notifications, list):
            raise MalformedResponse("Mastodon: notifications is not a list")
        newer = response.links.get("prev", {}).get("url", "")
        # Only the id is taken from the link: the next call goes to our own instance address.
        min_ids = parse_qs(urlsplit(newer).query).get("min_id", [""])
        return notifications, min_ids[0]

    def fetch_messages(self, cursor: str = "") -> tuple[list[InboundItem], str]:
        """Mentions since ``cursor`` (a notification id): direct ones are messages, replies
        to our statuses comments, the rest mentions.

        With a cursor, pages are read oldest first (``min_id``), following the ``Link``
        header until a page comes back empty, so a burst bigger than one page is read
        whole; after ``NOTIFICATION_PAGES`` pages the cursor stops where reading stopped
        and the next poll goes on from there. Without one (the first poll), the newest page.
        """
        me = str(self._account()["id"])
        items: list[InboundItem] = []
        newest = cursor
        min_id = cursor
        for _ in range(NOTIFICATION_PAGES if cursor else 1):
            notifications, newer = self._notification_page(**({"min_id": min_id} if min_id else {}))
            if not notifications:
                break
            for notification in notifications:
                notification_id = str(notification["id"])
                if not newest or int(notification_id) > int(newest):
                    newest = notification_id
                item = self._mention_item(notification, me)
                if item is not None:
                    items.append(item)
            # The Link header names the next page up; without one, go on from the newest.
            following = newer or newest
            if following == min_id:
                break
            min_id = following
        return items, newest

    def _mention_item(self, notification: dict[str, Any], me: str) -> InboundItem | None:
        status = notification.get("status")
        if notification.get("type") != "mention" or not status:
            return None
        if status.get("visibility") == "direct":
            return self._item(status, InboundKind.MESSAGE)
        if str(status.get("in_reply_to_account_id") or "") == me:
            return self._item(status, InboundKind.COMMENT, str(status["in_reply_to_id"]))
        return self._item(status, InboundKind.MENTION)

    def reply_to_message(self, message: InboundItem, text: str) -> str:
        """A direct (private) status mentioning the sender."""
        return self._reply(message, text, "direct")
