"""Simulated Telegram Bot API. Follows shared/docs/platform-apis.md §8: ``/bot<TOKEN>/<method>``
with GET or POST (query, form or JSON), ``{"ok":true,"result":…}`` answers, the documented
error bodies (429 with ``parameters.retry_after``), channel posting, private chats with the
bot, getUpdates (refused with 409 while a webhook is set) and setWebhook deliveries carrying
``X-Telegram-Bot-Api-Secret-Token``."""

from __future__ import annotations

import json
import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Any, ClassVar

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

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name
SECRET_TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
TEXT_MAX = 4096
CAPTION_MAX = 1024
ADMIN_RIGHTS = {
    "can_post_messages": True,
    "can_edit_messages": True,
    "can_delete_messages": True,
    "can_manage_chat": True,
    "can_change_info": True,
    "can_invite_users": True,
    "can_restrict_members": True,
    "can_promote_members": False,
    "can_manage_video_chats": True,
    "can_post_stories": True,
    "can_edit_stories": True,
    "can_delete_stories": True,
    "is_anonymous": False,
    "can_be_edited": False,
}

DEMO_ACCOUNTS = (
    DemoAccount(
        "telegram",
        "순천시 텔레그램 채널",
        "@suncheon_city",
        "7700112233:AAE-demo-suncheon-telegram-bot-token",
        "demo-hook-telegram-2026",
        {"secret_token": "demo-telegram-secret-2026"},
        followers=2400,
    ),
)
DEMO_HISTORY = (
    "🌅 순천만습지 일몰 명소 안내: 용산전망대에서 바라보는 S자 물길, 이번 주 일몰은 17:42입니다.",
    "[공지] 순천시 통합예약 누리집 점검으로 3.8.(일) 02:00~06:00 예약이 중단됩니다.",
    "🎉 순천 푸드앤아트페스티벌 10.17.~10.19. 원도심 일원에서 열립니다!",
)


def tg_error(code: int, description: str, **parameters: int) -> Response:
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if parameters:
        body["parameters"] = parameters
    return json_response(body, code)


def ok(result: Any, description: str = "") -> Response:
    body: dict[str, Any] = {"ok": True, "result": result}
    if description:
        body["description"] = description
    return json_response(body)


@dataclass
class Bot:
    id: int
    username: str
    first_name: str
    revoked: bool = False
    updates: list[dict[str, Any]] = field(default_factory=list)
    webhook_url: str = ""
    secret_token: str = ""
    # Private chats people started with the bot: user id → user.
    users: dict[int, dict[str, Any]] = field(default_factory=dict)


@dataclass
class Chat:
    id: int
    type: str  # channel, private
    title: str = ""
    username: str = ""
    members: int = 0
    # bot id → rights (status "administrator" with rights, or "member").
    bots: dict[int, dict[str, Any]] = field(default_factory=dict)
    messages: dict[int, dict[str, Any]] = field(default_factory=dict)
    next_message_id: int = 1
    sent_at: list[float] = field(default_factory=list)


class Platform(PlatformSimulator):
    name = "telegram"
    label = "Telegram"

    def reset(self) -> None:
        self.bots: dict[str, Bot] = {}  # token → bot
        self.chats: dict[int, Chat] = {}
        self.update_ids = 100000
        self.retry_after = 7
        # About 20 messages a minute per chat (FAQ, M); 0 leaves it off.
        self.max_messages_per_minute_per_chat = 0

    # -- set-up for tests and the demo ------------------------------------------------------------

    def add_bot(self, username: str, *, token: str | None = None) -> str:
        """A bot (as BotFather makes it); returns its token."""
        with self.lock:
            bot_id = 7700000000 + self.next_id()
            token = token or f"{bot_id}:AA{secrets.token_urlsafe(24)}"
            self.bots[token] = Bot(bot_id, username, username.replace("_bot", "").title())
            return token

    def add_channel(
        self,
        username: str,
        title: str,
        *,
        admin_token: str | None = None,
        rights: dict[str, bool] | None = None,
        members: int = 0,
    ) -> Chat:
        """A public channel ``@username`` with the bot of ``admin_token`` as admin."""
        with self.lock:
            chat = Chat(
                -1001000000000 - self.next_id(),
                "channel",
                title=title,
                username=username.lstrip("@"),
                members=members,
            )
            self.chats[chat.id] = chat
            if admin_token:
                bot = self.bots[admin_token]
                chat.bots[bot.id] = {"status": "administrator", **ADMIN_RIGHTS, **(rights or {})}
            return chat

    def add_post(self, chat: Chat, text: str) -> dict[str, Any]:
        with self.lock:
            return self._new_message(chat, {"text": text}, sender_chat=True)

    def revoke_token(self, token: str) -> None:
        self.bots[token].revoked = True

    def _bot_by_id(self, bot_id: int) -> tuple[str, Bot]:
        return next((t, b) for t, b in self.bots.items() if b.id == bot_id)

    # -- citizens acting ---------------------------------------------------------------------------

    def citizen_message(
        self, token: str, user_id: int, first_name: str, text: str
    ) -> dict[str, Any]:
        """A citizen writes to the bot in private: an update for getUpdates, or a POST to
        the webhook with the secret-token header."""
        with self.lock:
            bot = self.bots[token]
            user = {
                "id": user_id,
                "is_bot": False,
                "first_name": first_name,
                "language_code": "ko",
            }
            bot.users[user_id] = user
            chat = self.chats.get(user_id)
            if chat is None:
                chat = Chat(user_id, "private", title=first_name)
                self.chats[user_id] = chat
            message = self._new_message(chat, {"text": text}, sender=user)
            update = self._queue(bot, "message", message)
        self._deliver(bot)
        return update

    def edit_citizen_message(self, token: str, user_id: int, message_id: int, text: str) -> None:
        with self.lock:
            bot = self.bots[token]
            message = self.chats[user_id].messages[message_id]
            message["text"] = text
            message["edit_date"] = int(time.time())
            self._queue(bot, "edited_message", dict(message))
        self._deliver(bot)

    def _queue(self, bot: Bot, kind: str, message: dict[str, Any]) -> dict[str, Any]:
        self.update_ids += 1
        update = {"update_id": self.update_ids, kind: message}
        bot.updates.append(update)
        return update

    def _deliver(self, bot: Bot) -> None:
        """Send pending updates to the webhook; what is accepted leaves the queue."""
        if not bot.webhook_url:
            return
        with self.lock:
            pending = list(bot.updates)
        for update in pending:
            status = self.hub.deliver_webhook(self.name, str(bot.id), update)
            if status is not None and 200 <= status < 300:
                with self.lock:
                    if update in bot.updates:
                        bot.updates.remove(update)

    # -- errors -----------------------------------------------------------------------------------

    def fault_response(self, kind: FaultKind) -> Response:
        if kind is FaultKind.RATE_LIMITED:
            return tg_error(
                429,
                f"Too Many Requests: retry after {self.retry_after}",
                retry_after=self.retry_after,
            )
        if kind in {FaultKind.TOKEN_EXPIRED, FaultKind.TOKEN_REVOKED}:
            # Tokens do not expire; a dead one is "Unauthorized".
            return tg_error(401, "Unauthorized")
        if kind is FaultKind.MALFORMED:
            return Response(
                200, "<html><body>502 Bad Gateway</body></html>", content_type="text/html"
            )
        return tg_error(500, "Internal Server Error")

    def not_found(self, request: Request) -> Response:
        return tg_error(404, "Not Found")

    def bad_request(self, message: str) -> Response:
        return tg_error(400, f"Bad Request: {message}")

    # -- routing ----------------------------------------------------------------------------------

    @route("GET", r"/bot(?P<token>[^/]+)/(?P<method>\w+)")
    def call_get(self, request: Request) -> Response:
        return self._call(request)

    @route("POST", r"/bot(?P<token>[^/]+)/(?P<method>\w+)")
    def call_post(self, request: Request) -> Response:
        return self._call(request)

    def _call(self, request: Request) -> Response:
        bot = self.bots.get(request.params["token"])
        if bot is None or bot.revoked:
            return tg_error(401, "Unauthorized")
        handler = METHODS.get(request.params["method"].lower())
        if handler is None:
            return tg_error(404, "Not Found")
        return handler(self, bot, request)

    def _chat(self, request: Request) -> Chat | Response:
        raw = request.arg("chat_id")
        if raw is None or raw == "":
            return tg_error(400, "Bad Request: chat_id is empty")
        raw = raw.strip('"')
        if raw.startswith("@"):
            chat = next((c for c in self.chats.values() if c.username == raw[1:]), None)
        else:
            chat = self.chats.get(int(raw))
        if chat is None:
            return tg_error(400, "Bad Request: chat not found")
        return chat

    def _may_post(self, bot: Bot, chat: Chat, right: str = "can_post_messages") -> Response | None:
        if chat.type == "private":
            if chat.id not in bot.users:
                return tg_error(403, "Forbidden: bot can't initiate conversation with a user")
            return None
        member = chat.bots.get(bot.id)
        if member is None:
            return tg_error(403, "Forbidden: bot is not a member of the channel chat")
        if member.get("status") != "administrator" or not member.get(right):
            return tg_error(400, "Bad Request: not enough rights to send text messages to the chat")
        return None

    def _chat_to_post_in(self, bot: Bot, request: Request) -> Chat | Response:
        """The chat a send names, if the bot may post there now."""
        chat = self._chat(request)
        if isinstance(chat, Response):
            return chat
        return self._may_post(bot, chat) or self._throttle(chat) or chat

    def _throttle(self, chat: Chat) -> Response | None:
        limit = self.max_messages_per_minute_per_chat
        if not limit:
            return None
        now = time.time()
        chat.sent_at = [t for t in chat.sent_at if now - t < 60]
        if len(chat.sent_at) >= limit:
            wait = int(60 - (now - chat.sent_at[0])) + 1
            return tg_error(429, f"Too Many Requests: retry after {wait}", retry_after=wait)
        chat.sent_at.append(now)
        return None

    def _chat_view(self, chat: Chat) -> dict[str, Any]:
        if chat.type == "private":
            return {"id": chat.id, "first_name": chat.title, "type": "private"}
        view: dict[str, Any] = {"id": chat.id, "title": chat.title, "type": chat.type}
        if chat.username:
            view["username"] = chat.username
        return view

    def _new_message(
        self,
        chat: Chat,
        content: dict[str, Any],
        *,
        sender: dict[str, Any] | None = None,
        sender_chat: bool = False,
    ) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": chat.next_message_id,
            "date": int(time.time()),
            "chat": self._chat_view(chat),
        }
        chat.next_message_id += 1
        if sender is not None:
            message["from"] = sender
        if sender_chat and chat.type == "channel":
            message["sender_chat"] = self._chat_view(chat)
        message.update(content)
        chat.messages[message["message_id"]] = message
        return message

    # -- methods ------------------------------------------------------------------------------------

    def get_me(self, bot: Bot, request: Request) -> Response:
        return ok(
            {
                "id": bot.id,
                "is_bot": True,
                "first_name": bot.first_name,
                "username": bot.username,
                "can_join_groups": True,
                "can_read_all_group_messages": False,
                "supports_inline_queries": False,
            }
        )

    def get_chat(self, bot: Bot, request: Request) -> Response:
        chat = self._chat(request)
        if isinstance(chat, Response):
            return chat
        view = self._chat_view(chat)
        view.update({"accent_color_id": 0, "max_reaction_count": 11})
        return ok(view)

    def get_chat_member(self, bot: Bot, request: Request) -> Response:
        chat = self._chat(request)
        if isinstance(chat, Response):
            return chat
        user_id = int(request.arg("user_id") or 0)
        user = {"id": user_id, "is_bot": user_id == bot.id, "first_name": bot.first_name}
        rights = chat.bots.get(user_id)
        if rights is None:
            return ok({"status": "left", "user": user})
        return ok({"user": user, **rights})

    def get_chat_member_count(self, bot: Bot, request: Request) -> Response:
        chat = self._chat(request)
        if isinstance(chat, Response):
            return chat
        return ok(chat.members)

    def send_message(self, bot: Bot, request: Request) -> Response:
        chat = self._chat_to_post_in(bot, request)
        if isinstance(chat, Response):
            return chat
        text = request.arg("text") or ""
        if not text.strip():
            return tg_error(400, "Bad Request: message text is empty")
        if len(text) > TEXT_MAX:
            return tg_error(400, "Bad Request: message is too long")
        content: dict[str, Any] = {"text": text}
        reply = json.loads(request.arg("reply_parameters") or "null")
        if reply:
            original = chat.messages.get(int(reply["message_id"]))
            if original is None and not reply.get("allow_sending_without_reply"):
                return tg_error(400, "Bad Request: message to be replied not found")
            if original is not None:
                content["reply_to_message"] = original
        preview = json.loads(request.arg("link_preview_options") or "null")
        if preview:
            content["link_preview_options"] = preview
        message = self._new_message(
            chat, content, sender=self._bot_user(bot), sender_chat=chat.type == "channel"
        )
        if chat.type == "channel":
            message.pop("from", None)
        return ok(message)

    def _bot_user(self, bot: Bot) -> dict[str, Any]:
        return {
            "id": bot.id,
            "is_bot": True,
            "first_name": bot.first_name,
            "username": bot.username,
        }

    def _photo(self, url: str) -> list[dict[str, Any]]:
        if not url:
            raise ValueError("there is no photo in the request")
        file_id = "AgAC" + secrets.token_urlsafe(16)
        return [
            {
                "file_id": file_id + "s",
                "file_unique_id": file_id[:12],
                "width": 90,
                "height": 60,
                "file_size": 1200,
            },
            {
                "file_id": file_id,
                "file_unique_id": file_id[:13],
                "width": 1280,
                "height": 853,
                "file_size": 98765,
            },
        ]

    def send_photo(self, bot: Bot, request: Request) -> Response:
        chat = self._chat_to_post_in(bot, request)
        if isinstance(chat, Response):
            return chat
        caption = request.arg("caption") or ""
        if len(caption) > CAPTION_MAX:
            return tg_error(400, "Bad Request: message caption is too long")
        content: dict[str, Any] = {"photo": self._photo(request.arg("photo") or "")}
        if caption:
            content["caption"] = caption
        content["photo_url"] = request.arg("photo")
        message = self._new_message(chat, content, sender_chat=True)
        return ok({k: v for k, v in message.items() if k != "photo_url"})

    def send_media_group(self, bot: Bot, request: Request) -> Response:
        chat = self._chat_to_post_in(bot, request)
        if isinstance(chat, Response):
            return chat
        media = json.loads(request.arg("media") or "[]")
        if not 2 <= len(media) <= 10:
            return tg_error(400, "Bad Request: wrong number of media in the group")
        group_id = str(10**17 + self.next_id())
        messages = []
        for item in media:
            caption = item.get("caption") or ""
            if len(caption) > CAPTION_MAX:
                return tg_error(400, "Bad Request: message caption is too long")
        for item in media:
            content: dict[str, Any] = {
                "media_group_id": group_id,
                "photo": self._photo(item.get("media", "")),
                "photo_url": item.get("media", ""),
            }
            if item.get("caption"):
                content["caption"] = item["caption"]
            message = self._new_message(chat, content, sender_chat=True)
            messages.append({k: v for k, v in message.items() if k != "photo_url"})
        return ok(messages)

    def _edit(self, bot: Bot, request: Request, field_name: str) -> Response:
        chat = self._chat(request)
        if isinstance(chat, Response):
            return chat
        refused = self._may_post(bot, chat, "can_edit_messages")
        if refused:
            return refused
        message = chat.messages.get(int(request.arg("message_id") or 0))
        if message is None:
            return tg_error(400, "Bad Request: message to edit not found")
        new = request.arg(field_name) or ""
        if field_name == "text":
            if "text" not in message:
                return tg_error(400, "Bad Request: there is no text in the message to edit")
            if len(new) > TEXT_MAX:
                return tg_error(400, "Bad Request: message is too long")
        elif "photo" not in message:
            return tg_error(400, "Bad Request: there is no caption in the message to edit")
        elif len(new) > CAPTION_MAX:
            return tg_error(400, "Bad Request: message caption is too long")
        if message.get(field_name, "") == new:
            return tg_error(
                400,
                "Bad Request: message is not modified: specified new message content and reply "
                "markup are exactly the same as a current content and reply markup of the message",
            )
        message[field_name] = new
        message["edit_date"] = int(time.time())
        return ok({k: v for k, v in message.items() if k != "photo_url"})

    def edit_message_text(self, bot: Bot, request: Request) -> Response:
        return self._edit(bot, request, "text")

    def edit_message_caption(self, bot: Bot, request: Request) -> Response:
        return self._edit(bot, request, "caption")

    def delete_message(self, bot: Bot, request: Request) -> Response:
        chat = self._chat(request)
        if isinstance(chat, Response):
            return chat
        refused = self._may_post(bot, chat, "can_delete_messages")
        if refused:
            return refused
        if chat.messages.pop(int(request.arg("message_id") or 0), None) is None:
            return tg_error(400, "Bad Request: message to delete not found")
        return ok(True)

    def get_updates(self, bot: Bot, request: Request) -> Response:
        if bot.webhook_url:
            return tg_error(
                409,
                "Conflict: can't use getUpdates method while webhook is active; use "
                "deleteWebhook to delete the webhook first",
            )
        offset = int(request.arg("offset") or 0)
        if offset:
            # Asking from ``offset`` confirms everything before it.
            bot.updates = [u for u in bot.updates if u["update_id"] >= offset]
        limit = max(1, min(100, int(request.arg("limit") or 100)))
        allowed = json.loads(request.arg("allowed_updates") or "[]")
        updates = [u for u in bot.updates if not allowed or any(kind in u for kind in allowed)][
            :limit
        ]
        return ok(updates)

    def set_webhook(self, bot: Bot, request: Request) -> Response:
        url = request.arg("url") or ""
        secret = request.arg("secret_token") or ""
        if secret and not SECRET_TOKEN_PATTERN.match(secret):
            return tg_error(400, "Bad Request: secret token contains unallowed characters")
        if not url:
            return self.delete_webhook(bot, request)
        if not url.startswith(("https://", "http://")):
            return tg_error(
                400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook"
            )
        if (request.arg("drop_pending_updates") or "") == "true":
            bot.updates.clear()
        bot.webhook_url, bot.secret_token = url, secret

        def sign(body: bytes) -> dict[str, str]:
            return {SECRET_HEADER: secret} if secret else {}

        self.hub.set_webhook_target(self.name, str(bot.id), WebhookTarget(url, sign))
        return ok(True, "Webhook was set")

    def delete_webhook(self, bot: Bot, request: Request) -> Response:
        bot.webhook_url = bot.secret_token = ""
        self.hub.webhook_targets.pop((self.name, str(bot.id)), None)
        if (request.arg("drop_pending_updates") or "") == "true":
            bot.updates.clear()
        return ok(True, "Webhook was deleted")

    def get_webhook_info(self, bot: Bot, request: Request) -> Response:
        return ok(
            {
                "url": bot.webhook_url,
                "has_custom_certificate": False,
                "pending_update_count": len(bot.updates),
                "max_connections": 40,
            }
        )

    # -- synthetic citizens and the demo world ---------------------------------------------------

    # A channel has no comments without a linked discussion group: citizens write privately.
    crowd_weights: ClassVar[dict[str, float]] = {}

    def _channel_bot(self, account: str) -> str | None:
        chat = next(
            (c for c in self.chats.values() if f"@{c.username}" == account or str(c.id) == account),
            None,
        )
        if chat is None:
            return None
        for bot_id in chat.bots:
            return self._bot_by_id(bot_id)[0]
        return None

    def crowd_message_accounts(self) -> list[str]:
        return [
            f"@{chat.username}" if chat.username else str(chat.id)
            for chat in self.chats.values()
            if chat.type == "channel" and chat.bots
        ]

    def crowd_message(self, account: str, author_id: str, author_name: str, text: str) -> None:
        token = self._channel_bot(account)
        if token is not None:
            self.citizen_message(token, int(author_id), author_name, text)

    def populate_demo(self, account: DemoAccount, webhook_url: str) -> None:
        token = self.add_bot("suncheon_city_bot", token=account.token)
        chat = self.add_channel(
            account.account_id, "순천시", admin_token=token, members=account.followers
        )
        for text in DEMO_HISTORY:
            self.add_post(chat, text)
        bot = self.bots[token]
        secret = account.extra.get("secret_token", "")
        bot.webhook_url, bot.secret_token = webhook_url, secret

        def sign(body: bytes) -> dict[str, str]:
            return {SECRET_HEADER: secret} if secret else {}

        self.hub.set_webhook_target(self.name, str(bot.id), WebhookTarget(webhook_url, sign))

    def timeline(self) -> list[dict[str, Any]]:
        accounts = []
        for chat in self.chats.values():
            if chat.type != "channel":
                continue
            posts: list[dict[str, Any]] = [
                {
                    "id": message_id,
                    "text": message.get("text") or message.get("caption") or "[사진]",
                    "comments": [],
                }
                for message_id, message in reversed(chat.messages.items())
            ]
            accounts.append(
                {
                    "account": f"{chat.title} (@{chat.username}, 구독자 {chat.members:,}명)",
                    "posts": posts,
                }
            )
        for bot in self.bots.values():
            for user_id, user in bot.users.items():
                private = self.chats.get(user_id)
                if private is None:
                    continue
                accounts.append(
                    {
                        "account": f"@{bot.username} ↔ {user['first_name']} (1:1 대화)",
                        "posts": [
                            {
                                "id": f"{user_id}:{message_id}",
                                "text": f"{(message.get('from') or {}).get('first_name', '')}: "
                                f"{message.get('text', '')}",
                                "comments": [],
                            }
                            for message_id, message in private.messages.items()
                        ],
                    }
                )
        return accounts


METHODS = {
    "getme": Platform.get_me,
    "getchat": Platform.get_chat,
    "getchatmember": Platform.get_chat_member,
    "getchatmembercount": Platform.get_chat_member_count,
    "sendmessage": Platform.send_message,
    "sendphoto": Platform.send_photo,
    "sendmediagroup": Platform.send_media_group,
    "editmessagetext": Platform.edit_message_text,
    "editmessagecaption": Platform.edit_message_caption,
    "deletemessage": Platform.delete_message,
    "getupdates": Platform.get_updates,
    "setwebhook": Platform.set_webhook,
    "deletewebhook": Platform.delete_webhook,
    "getwebhookinfo": Platform.get_webhook_info,
}
