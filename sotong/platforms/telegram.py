"""Telegram channel connector (Bot API). Contract: shared/docs/platform-apis.md §8.

``account_id`` is the channel's chat id (``@suncheon_city`` or ``-100…``); the bot is an
admin of the channel. The bot token is permanent until revoked with BotFather, and it is
part of every URL (``/bot<TOKEN>/<method>``): URLs never go into our messages, and a log
filter masks it in httpx's request log.
"""

from __future__ import annotations

import logging
import re
from typing import Any, ClassVar

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
    NotFound,
    OutboundPost,
    PermissionMissing,
    PlatformError,
    PublishedPost,
    RateLimited,
    TextLimits,
    TransientError,
    WebhookRejected,
    WebhookRequest,
    constant_time_equal,
    epoch_to_datetime,
    parse_json_body,
    register,
)

TEXT_MAX = 4096
CAPTION_MAX = 1024
MAX_MEDIA_GROUP = 10
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name
ALLOWED_UPDATES = ("message", "edited_message", "channel_post")
ADMIN_RIGHTS = ("can_post_messages", "can_edit_messages", "can_delete_messages")

_TOKEN_IN_URL = re.compile(r"/bot[^/\s]+/")


class _MaskBotToken(logging.Filter):
    """httpx logs every request URL at INFO; the bot token is in the path."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and record.args:
            record.args = tuple(
                _TOKEN_IN_URL.sub("/bot***/", str(arg)) if "/bot" in str(arg) else arg
                for arg in record.args
            )
        if isinstance(record.msg, str) and "/bot" in record.msg:
            record.msg = _TOKEN_IN_URL.sub("/bot***/", record.msg)
        return True


_mask = _MaskBotToken()
for _name in ("httpx", "httpcore"):
    if not any(isinstance(f, _MaskBotToken) for f in logging.getLogger(_name).filters):
        logging.getLogger(_name).addFilter(_mask)


@register
class TelegramChannel(Connector):
    kind = "telegram"
    identity_from_token = False
    label = "Telegram"
    capabilities = frozenset(
        {
            Capability.PUBLISH_TEXT,
            Capability.PUBLISH_LINK,
            Capability.PUBLISH_IMAGE,
            Capability.EDIT_POST,
            Capability.DELETE_POST,
            Capability.CHANNEL_METRICS,
            Capability.FETCH_MESSAGES,
            Capability.REPLY_MESSAGE,
            Capability.WEBHOOKS,
        }
    )
    default_api_base = "https://api.telegram.org"
    limits = TextLimits(max_length=TEXT_MAX, max_images=MAX_MEDIA_GROUP)
    # Not OAuth scopes: the channel admin rights the bot needs (checked in verify_credentials).
    required_scopes: ClassVar[tuple[str, ...]] = ADMIN_RIGHTS

    @property
    def chat_id(self) -> str:
        return self.account.account_id

    # -- HTTP ----------------------------------------------------------------------------------

    def call(self, method: str, *, idempotent: bool, **params: Any) -> Any:
        """One Bot API method (JSON body); returns ``result``. Errors keep no httpx cause,
        whose request would carry the token in its URL."""
        url = f"/bot{self.account.credentials.access_token}/{method}"
        body = {key: value for key, value in params.items() if value is not None}
        try:
            response = self.request("POST", url, json=body, idempotent=idempotent)
            answer = self.json(response)
        except PlatformError as error:
            raise error from None
        if not isinstance(answer, dict) or answer.get("ok") is not True:
            return self.require({}, "result")  # MalformedResponse
        return self.require(answer, "result")

    def classify(self, response: httpx.Response) -> PlatformError:
        try:
            body = response.json()
            code = int(body.get("error_code", response.status_code))
            description = str(body.get("description", ""))
            parameters = body.get("parameters") or {}
        except (ValueError, AttributeError, TypeError):
            return super().classify(response)
        status = response.status_code
        message = f"Telegram: {description or 'error'} ({code})"
        lowered = description.lower()
        if code == 429:
            retry_after = float(parameters.get("retry_after") or 1)
            return RateLimited(message, retry_after=retry_after, platform_code=code, status=status)
        if code == 401:
            # Bot tokens do not expire: refused means revoked.
            return CredentialRevoked(message, platform_code=code, status=status)
        if code == 403 or "not enough rights" in lowered or "need administrator" in lowered:
            return PermissionMissing(message, platform_code=code, status=status)
        if code == 409:
            if "webhook" in lowered:
                # getUpdates while a webhook is set: polling is off, updates arrive by webhook.
                return ContentRejected(message, platform_code=code, status=status)
            return TransientError(message, platform_code=code, status=status)  # another poller
        if code >= 500:
            return TransientError(message, platform_code=code, status=status)
        if code == 404 or "not found" in lowered:
            return NotFound(message, platform_code=code, status=status)
        return ContentRejected(message, platform_code=code, status=status)

    # -- account --------------------------------------------------------------------------------

    def verify_credentials(self) -> AccountCheck:
        """getMe (the token), getChat (the channel) and getChatMember of the bot: it must be
        an admin; missing admin rights are reported as missing scopes."""
        me = self.call("getMe", idempotent=True)
        chat = self.call("getChat", idempotent=True, chat_id=self.chat_id)
        member = self.call(
            "getChatMember", idempotent=True, chat_id=self.chat_id, user_id=me.get("id")
        )
        status = member.get("status") if isinstance(member, dict) else None
        if status not in {"administrator", "creator"}:
            raise PermissionMissing(
                f"Telegram: the bot @{me.get('username', '')} is not an admin of the channel "
                f"(status {status})"
            )
        granted = tuple(
            right for right in ADMIN_RIGHTS if status == "creator" or member.get(right) is True
        )
        return AccountCheck(
            identity=str(self.require(chat, "id")),
            display_name=str(chat.get("title", "")),
            granted_scopes=granted,
            missing_scopes=tuple(right for right in ADMIN_RIGHTS if right not in granted),
        )

    # -- posts ------------------------------------------------------------------------------------

    def _post_url(self, message_id: int | str) -> str:
        chat = self.chat_id
        if chat.startswith("@"):
            return f"https://t.me/{chat[1:]}/{message_id}"
        if chat.startswith("-100"):
            return f"https://t.me/c/{chat[4:]}/{message_id}"
        return ""

    @staticmethod
    def _with_link(post: OutboundPost) -> str:
        if post.link and post.link not in post.text:
            return f"{post.text}\n\n{post.link}" if post.text else post.link
        return post.text

    def publish(self, post: OutboundPost) -> PublishedPost:
        """sendMessage / sendPhoto / sendMediaGroup. None is idempotent: a lost answer is
        OutcomeUnknown. An album's id is its message ids joined by commas."""
        text = self._with_link(post)
        if len(post.image_urls) > 1:
            media: list[dict[str, Any]] = [
                {"type": "photo", "media": url} for url in post.image_urls[:MAX_MEDIA_GROUP]
            ]
            if text:
                media[0]["caption"] = text
            messages = self.call(
                "sendMediaGroup", idempotent=False, chat_id=self.chat_id, media=media
            )
            if not isinstance(messages, list) or not messages:
                return self.require({}, "result")  # MalformedResponse
            ids = [str(self.require(m, "message_id")) for m in messages]
            external_id, first = ",".join(ids), messages[0]
        elif post.image_urls:
            first = self.call(
                "sendPhoto",
                idempotent=False,
                chat_id=self.chat_id,
                photo=post.image_urls[0],
                caption=text or None,
            )
            external_id = str(self.require(first, "message_id"))
        else:
            preview = {"url": post.link} if post.link else {"is_disabled": True}
            first = self.call(
                "sendMessage",
                idempotent=False,
                chat_id=self.chat_id,
                text=text,
                link_preview_options=preview,
            )
            external_id = str(self.require(first, "message_id"))
        return PublishedPost(
            external_id=external_id,
            url=self._post_url(external_id.split(",")[0]),
            text=post.text,
            created_at=epoch_to_datetime(first["date"]) if first.get("date") else None,
        )

    def edit_post(self, external_id: str, post: OutboundPost) -> PublishedPost:
        """editMessageText, or editMessageCaption for a photo (album: the first photo)."""
        message_id = int(external_id.split(",")[0])
        text = self._with_link(post)
        try:
            try:
                self.call(
                    "editMessageText",
                    idempotent=True,
                    chat_id=self.chat_id,
                    message_id=message_id,
                    text=text,
                )
            except ContentRejected as error:
                if "no text in the message" not in error.message:
                    raise
                self.call(
                    "editMessageCaption",
                    idempotent=True,
                    chat_id=self.chat_id,
                    message_id=message_id,
                    caption=text,
                )
        except ContentRejected as error:
            if "message is not modified" not in error.message:
                raise
            # Already says this (e.g. a retried edit): done.
        return PublishedPost(
            external_id=external_id, url=self._post_url(message_id), text=post.text
        )

    def delete_post(self, external_id: str) -> None:
        """deleteMessage for each message (an album has several)."""
        for message_id in external_id.split(","):
            self.call(
                "deleteMessage", idempotent=True, chat_id=self.chat_id, message_id=int(message_id)
            )

    def channel_metrics(self) -> ChannelMetrics:
        count = self.call("getChatMemberCount", idempotent=True, chat_id=self.chat_id)
        if not isinstance(count, int):
            return self.require({}, "result")  # MalformedResponse
        return ChannelMetrics(followers=count, raw={"member_count": count})

    # -- messages ------------------------------------------------------------------------------

    def _message_item(self, update: dict[str, Any]) -> InboundItem | None:
        """A citizen's private message (or its edit) → MESSAGE; channel posts and group
        chatter are not citizens writing to us. Ids are ``chat_id:message_id`` (edits
        add ``@edit_date``), the same by webhook and by polling and on re-delivery."""
        edited = "edited_message" in update
        message = update.get("edited_message") if edited else update.get("message")
        if not isinstance(message, dict):
            return None
        chat = message["chat"]
        if chat.get("type") != "private":
            return None
        sender = message.get("from") or {}
        external_id = f"{chat['id']}:{message['message_id']}"
        if edited:
            external_id += f"@{message.get('edit_date', update['update_id'])}"
        name = " ".join(
            part for part in (sender.get("first_name"), sender.get("last_name")) if part
        )
        return InboundItem(
            kind=InboundKind.MESSAGE,
            external_id=external_id,
            text=str(message.get("text") or message.get("caption") or ""),
            author_id=str(sender.get("id", chat["id"])),
            author_name=name or str(sender.get("username", "")),
            created_at=epoch_to_datetime(message["date"]) if message.get("date") else None,
            conversation_id=str(chat["id"]),
            raw=update,
        )

    def fetch_messages(self, cursor: str = "") -> tuple[list[InboundItem], str]:
        """getUpdates from ``cursor`` (the next update_id). While a webhook is set Telegram
        refuses polling (409): nothing to fetch, the webhook brings the messages."""
        try:
            updates = self.call(
                "getUpdates",
                idempotent=True,
                offset=int(cursor) if cursor else None,
                timeout=0,
                limit=100,
                allowed_updates=list(ALLOWED_UPDATES),
            )
        except ContentRejected as error:
            if error.platform_code == 409:
                return [], cursor
            raise
        if not isinstance(updates, list):
            return self.require({}, "result")  # MalformedResponse
        items: list[InboundItem] = []
        next_cursor = cursor
        for update in updates:
            try:
                item = self._message_item(update)
                next_cursor = str(max(int(next_cursor or 0), int(update["update_id"]) + 1))
            except (KeyError, TypeError, ValueError):
                continue
            if item is not None:
                items.append(item)
        return items, next_cursor

    def reply_to_message(self, message: InboundItem, text: str) -> str:
        """sendMessage to the citizen's private chat, as a reply to their message."""
        chat_id = message.conversation_id or message.author_id
        original = message.external_id.split(":")[-1].split("@")[0]
        reply = {"message_id": int(original), "allow_sending_without_reply": True}
        answer = self.call(
            "sendMessage",
            idempotent=False,
            chat_id=chat_id,
            text=text,
            reply_parameters=reply if original.isdigit() else None,
        )
        return f"{chat_id}:{self.require(answer, 'message_id')}"

    # -- webhooks ---------------------------------------------------------------------------------

    def register_webhook(self, url: str) -> None:
        """setWebhook to ``url`` with our ``secret_token`` (then getUpdates stops working)."""
        secret = self.account.credentials.extra.get("secret_token", "")
        self.call(
            "setWebhook",
            idempotent=True,
            url=url,
            secret_token=secret or None,
            allowed_updates=list(ALLOWED_UPDATES),
        )

    def verify_webhook(self, request: WebhookRequest) -> None:
        given = request.header(SECRET_HEADER)
        if not given:
            raise WebhookRejected("missing_signature", f"no {SECRET_HEADER}")
        expected = self.account.credentials.extra.get("secret_token", "")
        if not expected or not constant_time_equal(given, expected):
            raise WebhookRejected("bad_signature", f"{SECRET_HEADER} does not match")

    def parse_webhook(self, request: WebhookRequest) -> list[InboundItem]:
        update = parse_json_body(request)
        if not isinstance(update, dict) or not isinstance(update.get("update_id"), int):
            raise WebhookRejected("malformed", "not an Update")
        try:
            item = self._message_item(update)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise WebhookRejected("malformed", f"unexpected shape: {exc!r}") from exc
        return [item] if item is not None else []
