"""Simulated KakaoTalk channel chatbot (Kakao i Open Builder). Follows
shared/docs/platform-apis.md §1: the Event API (``POST /v2/bots/{botId}/talk``) and its
task status (``GET /v1/tasks/{taskId}``) as bot-api.kakao.com serves them, and a KakaoTalk
client: citizens whose messages, quick-reply and button taps, photos and places arrive at
the city's skill URL as real v2 skill requests, answered within the skill timeout (5 s SLA)
or counted as failed. Every answer is checked as Kakao checks it (this module's own rules,
independent of Sotong's code) and kept whole: outputs, quick replies, context.

Also: the AI chatbot callback (a one-time ``callbackUrl`` valid for a minute), the photo
CDN (secure image URLs that expire), and the channel's relationship callback (friend
added/blocked, ``Authorization: KakaoAK {admin key}``).

Shapes marked M/L in the doc are attributes here (limits in ``SkillRules``, timeouts,
task status fields).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import random
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import quote, urlsplit

import httpx
from PIL import Image, ImageDraw

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

SKILL_SECRET_HEADER = "X-Sotong-Skill-Secret"  # noqa: S105 - a header name
DEFAULT_SKILL_TIMEOUT = 5.0  # seconds (H: the SLA)
DEFAULT_MAX_USERS = 100  # users per Event API call (M)
DEFAULT_TEXT_MAX = 1000  # simpleText / event text (M)
DEFAULT_RETRY_AFTER = 60  # seconds, in the 429's Retry-After (L)
DEFAULT_CALLBACK_TTL = 60.0  # seconds a callbackUrl works, once (H)
DEFAULT_PHOTO_TTL = 600.0  # seconds a secure image URL works (L: skill servers' notes)
ERROR_TEXT = "일시적인 오류로 응답하지 못했어요. 잠시 후 다시 시도해 주세요."
# What the chat shows while a callback answer is on its way, when the skill sent no
# data.text for the block's waiting message (L).
CALLBACK_WAIT_TEXT = "답변을 준비하고 있어요. 잠시만 기다려 주세요."
# The completion utterance Open Builder sends with the secure image plugin's photos (L).
PHOTO_UTTERANCE = "사진 전송"
FALLBACK_BLOCK = {"id": "5f1a0c3e9d2b4a0001fallbk", "name": "폴백 블록"}
PHOTO_BLOCK = {"id": "5f1a0c3e9d2b4a0001sImage", "name": "사진 보내기"}
SKILL = {"id": "64f1c2a9e0b7d31a2c5f9a10", "name": "소통 스킬"}

DEMO_ACCOUNTS = (
    DemoAccount(
        "kakao",
        "순천시 카카오톡 채널",
        "64f1c2a9e0b7d31a2c5f8e01",
        "kakao-demo-suncheon-rest-api-key",
        "demo-hook-kakao-2026",
        {"skill_secret": "demo-skill-secret-kakao", "admin_key": "kakao-demo-suncheon-admin-key"},
        followers=10000,
    ),
)
# Channel news (채널 소식) the city posted by hand before Sotong: no API, shown in the view.
DEMO_HISTORY = (
    "[순천시] 2026 순천만국가정원 봄꽃축제 개막! 4월 한 달간 튤립과 유채꽃을 만나보세요 🌷",
    "[생활정보] 대형폐기물 배출, 이제 카카오톡으로 신청하세요. 채팅창에 '대형폐기물'을 입력하면 안내해 드립니다.",
    "[안내] 설 연휴 쓰레기 수거 일정이 변경됩니다. 2.16.(월)~2.18.(수) 수거 없음",
)


def event_answer(status: str, message: str, *, task_id: str = "") -> dict[str, Any]:
    return {
        "taskId": task_id or _task_id(),
        "status": status,
        "message": message,
        "timestamp": int(time.time() * 1000),
    }


def fail(message: str, status: int) -> Response:
    """The Event API's refusal: the documented reply with status FAIL."""
    return json_response(event_answer("FAIL", message), status)


def _task_id() -> str:
    return secrets.token_hex(12)


# -- what Kakao accepts in a skill answer ---------------------------------------------------------


@dataclass
class SkillRules:
    """Limits the simulated Kakao enforces on skill answers (doc: M unless marked)."""

    outputs: int = 3
    quick_replies: int = 10
    text: int = DEFAULT_TEXT_MAX
    alt_text: int = 1000  # L
    label: int = 14  # L: KakaoTalk cuts longer quick reply and button labels
    card_title: int = 50  # L
    text_card_description: int = 400  # L
    basic_card_description: int = 230
    card_buttons: int = 3
    list_items: int = 5
    list_buttons: int = 2
    carousel_items: int = 10


COMPONENTS = (
    "simpleText",
    "simpleImage",
    "textCard",
    "basicCard",
    "commerceCard",
    "listCard",
    "itemCard",
    "carousel",
)
CAROUSEL_OF = ("basicCard", "commerceCard", "listCard", "itemCard", "textCard")
BUTTON_ACTIONS = (
    "webLink",
    "message",
    "phone",
    "block",
    "share",
    "operator",
    "osLink",
    "addChannel",
)
REPLY_ACTIONS = ("message", "block")


def _url(value: object) -> bool:
    if not isinstance(value, str):
        return False
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


class AnswerReader:
    """Reads one skill answer as KakaoTalk does: what it would show (bubbles, texts, the
    buttons a citizen can press) and every reason it would show an error instead."""

    def __init__(self, rules: SkillRules) -> None:
        self.rules = rules
        self.problems: list[str] = []
        self.bubbles: list[dict[str, Any]] = []
        self.controls: list[dict[str, Any]] = []

    def problem(self, text: str) -> None:
        self.problems.append(text)

    def string(
        self, body: Mapping[str, Any], key: str, where: str, most: int, *, needed: bool = False
    ) -> str:
        value = body.get(key)
        if value is None or value == "":
            if needed:
                self.problem(f"{where}.{key} is required")
            return ""
        if not isinstance(value, str):
            self.problem(f"{where}.{key} must be a string")
            return ""
        if len(value) > most:
            self.problem(f"{where}.{key} has {len(value)} characters; at most {most}")
        return value

    def link(self, body: Mapping[str, Any], key: str, where: str, *, needed: bool = True) -> str:
        value = body.get(key)
        if value in (None, ""):
            if needed:
                self.problem(f"{where}.{key} is required")
            return ""
        if not _url(value):
            self.problem(f"{where}.{key} must be an http(s) URL")
            return ""
        return str(value)

    def items(self, value: object, where: str, low: int, high: int) -> list[Any]:
        if not isinstance(value, list):
            self.problem(f"{where} must be a list")
            return []
        if not low <= len(value) <= high:
            self.problem(f"{where} has {len(value)} items; {low}–{high} allowed")
        return value

    def obj(self, value: object, where: str) -> Mapping[str, Any] | None:
        if isinstance(value, Mapping):
            return value
        self.problem(f"{where} must be an object")
        return None

    # -- what a citizen can press --------------------------------------------------------------

    def control(self, value: object, where: str, actions: tuple[str, ...], kind: str) -> str:
        """A quick reply, button or list row: checked, and kept as something to press."""
        body = self.obj(value, where)
        if body is None:
            return ""
        if kind == "list_item":  # a list row shows its title and has no label
            label = self.string(body, "title", where, self.rules.card_title, needed=True)
        else:
            label = self.string(body, "label", where, self.rules.label, needed=True)
        action = body.get("action")
        if action not in actions:
            self.problem(f"{where}.action {action!r} is not one of {list(actions)}")
            return label
        control: dict[str, Any] = {"label": label, "action": action, "where": kind}
        if action == "webLink":
            control["webLinkUrl"] = self.link(body, "webLinkUrl", where)
        elif action == "phone":
            control["phoneNumber"] = self.string(body, "phoneNumber", where, 30, needed=True)
        elif action == "block":
            control["blockId"] = self.string(body, "blockId", where, 100, needed=True)
        elif action == "osLink":
            self.obj(body.get("osLink"), f"{where}.osLink")
        if action in REPLY_ACTIONS:
            if "messageText" in body:
                control["messageText"] = self.string(
                    body, "messageText", where, self.rules.text, needed=True
                )
            extra = body.get("extra")
            if extra is not None and self.obj(extra, f"{where}.extra") is not None:
                control["extra"] = dict(extra)
        self.controls.append(control)
        return label

    def buttons(self, value: object, where: str, most: int) -> list[str]:
        if value is None:
            return []
        return [
            self.control(button, f"{where}[{index}]", BUTTON_ACTIONS, "button")
            for index, button in enumerate(self.items(value, where, 0, most))
        ]

    # -- bubbles -----------------------------------------------------------------------------

    def output(self, value: object, where: str) -> None:
        body = self.obj(value, where)
        if body is None:
            return
        if len(body) != 1 or next(iter(body)) not in COMPONENTS:
            self.problem(f"{where} must hold exactly one of {list(COMPONENTS)}, not {list(body)}")
            return
        kind, content = next(iter(body.items()))
        self.component(kind, content, f"{where}.{kind}")

    def component(self, kind: str, value: object, where: str) -> None:
        body = self.obj(value, where)
        if body is None:
            return
        rules = self.rules
        if kind == "simpleText":
            text = self.string(body, "text", where, rules.text, needed=True)
            self.bubbles.append({"kind": "text", "text": text})
        elif kind == "simpleImage":
            url = self.link(body, "imageUrl", where)
            alt = self.string(body, "altText", where, rules.alt_text, needed=True)
            self.bubbles.append({"kind": "image", "url": url, "alt": alt})
        elif kind in ("textCard", "basicCard"):
            title = self.string(body, "title", where, rules.card_title)
            most = (
                rules.text_card_description if kind == "textCard" else rules.basic_card_description
            )
            description = self.string(body, "description", where, most)
            image = ""
            if kind == "basicCard":
                thumbnail = self.obj(body.get("thumbnail"), f"{where}.thumbnail")
                if thumbnail is not None:
                    image = self.link(thumbnail, "imageUrl", f"{where}.thumbnail")
            elif not title and not description:
                self.problem(f"{where} needs a title or a description")
            labels = self.buttons(body.get("buttons"), f"{where}.buttons", rules.card_buttons)
            self.bubbles.append(
                {
                    "kind": "card",
                    "title": title,
                    "description": description,
                    "image": image,
                    "buttons": labels,
                }
            )
        elif kind == "listCard":
            header = self.obj(body.get("header"), f"{where}.header") or {}
            title = self.string(header, "title", f"{where}.header", rules.card_title, needed=True)
            rows = []
            for index, item in enumerate(
                self.items(body.get("items"), f"{where}.items", 1, rules.list_items)
            ):
                rows.append(self.list_item(item, f"{where}.items[{index}]"))
            labels = self.buttons(body.get("buttons"), f"{where}.buttons", rules.list_buttons)
            self.bubbles.append({"kind": "list", "title": title, "rows": rows, "buttons": labels})
        elif kind == "commerceCard":
            self.items(body.get("thumbnails"), f"{where}.thumbnails", 1, 1)
            price = body.get("price")
            if not isinstance(price, int) or isinstance(price, bool):
                self.problem(f"{where}.price must be a whole number")
            labels = self.buttons(body.get("buttons"), f"{where}.buttons", rules.card_buttons)
            description = str(body.get("description") or "")
            self.bubbles.append(
                {
                    "kind": "card",
                    "title": f"{price}원",
                    "description": description,
                    "image": "",
                    "buttons": labels,
                }
            )
        elif kind == "itemCard":
            rows = self.items(body.get("itemList"), f"{where}.itemList", 1, 10)
            text = "\n".join(
                f"{row.get('title', '')}: {row.get('description', '')}"
                for row in rows
                if isinstance(row, Mapping)
            )
            self.bubbles.append(
                {"kind": "card", "title": "", "description": text, "image": "", "buttons": []}
            )
        elif kind == "carousel":
            of = body.get("type")
            if of not in CAROUSEL_OF:
                self.problem(f"{where}.type {of!r} is not one of {list(CAROUSEL_OF)}")
                return
            for index, item in enumerate(
                self.items(body.get("items"), f"{where}.items", 1, rules.carousel_items)
            ):
                self.component(str(of), item, f"{where}.items[{index}]")

    def list_item(self, value: object, where: str) -> dict[str, Any]:
        body = self.obj(value, where) or {}
        if "action" in body:
            title = self.control(body, where, REPLY_ACTIONS, "list_item")
        else:
            title = self.string(body, "title", where, self.rules.card_title, needed=True)
        description = self.string(body, "description", where, self.rules.card_title)
        if body.get("imageUrl"):
            self.link(body, "imageUrl", where)
        link = body.get("link")
        url = ""
        if link is not None and (link := self.obj(link, f"{where}.link")) is not None:
            for key in link:
                url = url or self.link(link, key, f"{where}.link")
        return {"title": title, "description": description, "url": url, "tap": "action" in body}

    # -- the whole answer ------------------------------------------------------------------------

    def read(self, body: object) -> dict[str, Any]:
        answer: dict[str, Any] = {
            "use_callback": False,
            "context": [],
            "data": {},
            "quick_replies": [],
        }
        found = self.obj(body, "the answer")
        if found is None:
            return self.finish(answer)
        if found.get("version") != "2.0":
            self.problem('version must be "2.0" (otherwise Kakao reads the legacy v1 format)')
        use_callback = found.get("useCallback", False)
        if not isinstance(use_callback, bool):
            self.problem("useCallback must be true or false")
        answer["use_callback"] = use_callback is True
        data = found.get("data")
        if data is not None and self.obj(data, "data") is not None:
            answer["data"] = dict(data)
        template = found.get("template")
        if template is None:
            if use_callback is not True:
                self.problem("template is required")
        elif (template := self.obj(template, "template")) is not None:
            outputs = self.items(template.get("outputs"), "template.outputs", 1, self.rules.outputs)
            for index, output in enumerate(outputs):
                self.output(output, f"template.outputs[{index}]")
            replies = template.get("quickReplies")
            if replies is not None:
                listed = self.items(replies, "template.quickReplies", 0, self.rules.quick_replies)
                for index, reply in enumerate(listed):
                    label = self.control(
                        reply, f"template.quickReplies[{index}]", REPLY_ACTIONS, "quick_reply"
                    )
                    answer["quick_replies"].append(label)
        if "context" in found:
            answer["context"] = self.context(found["context"])
        return self.finish(answer)

    def context(self, value: object) -> list[dict[str, Any]]:
        body = self.obj(value, "context")
        values = body.get("values") if body is not None else None
        if body is not None and not isinstance(values, list):
            self.problem("context.values must be a list")
        kept = []
        for index, item in enumerate(values if isinstance(values, list) else []):
            where = f"context.values[{index}]"
            entry = self.obj(item, where)
            if entry is None:
                continue
            name = self.string(entry, "name", where, 100, needed=True)
            life = entry.get("lifeSpan")
            if not isinstance(life, int) or isinstance(life, bool) or life < 0:
                self.problem(f"{where}.lifeSpan must be a whole number ≥ 0")
                continue
            ttl = entry.get("ttl")
            if ttl is not None and (not isinstance(ttl, int) or isinstance(ttl, bool) or ttl < 0):
                self.problem(f"{where}.ttl must be a whole number ≥ 0")
                continue
            params = entry.get("params") or {}
            if not isinstance(params, Mapping) or not all(
                isinstance(v, str) for v in params.values()
            ):
                self.problem(f"{where}.params must map names to strings")
                continue
            kept.append({"name": name, "lifeSpan": life, "ttl": ttl, "params": dict(params)})
        return kept

    def finish(self, answer: dict[str, Any]) -> dict[str, Any]:
        answer.update(
            ok=not self.problems,
            problems=list(self.problems),
            bubbles=self.bubbles,
            controls=self.controls,
            texts=[_bubble_text(bubble) for bubble in self.bubbles],
        )
        return answer


def _bubble_text(bubble: Mapping[str, Any]) -> str:
    if bubble["kind"] == "text":
        return str(bubble["text"])
    if bubble["kind"] == "image":
        return f"[사진] {bubble['alt']}"
    if bubble["kind"] == "list":
        rows = "\n".join(f"· {row['title']}" for row in bubble["rows"])
        return f"{bubble['title']}\n{rows}"
    return "\n".join(part for part in (bubble["title"], bubble["description"]) if part) or "[카드]"


def read_skill_answer(content: bytes, rules: SkillRules | None = None) -> dict[str, Any]:
    """A skill answer as KakaoTalk shows it: {"ok", "problems", "bubbles", "texts",
    "quick_replies" (labels), "controls" (every pressable quick reply, button and list row),
    "context", "data", "use_callback"}."""
    reader = AnswerReader(rules or SkillRules())
    try:
        body = json.loads(content)
    except ValueError:
        reader.problem("the answer is not JSON")
        return reader.finish(
            {"use_callback": False, "context": [], "data": {}, "quick_replies": []}
        )
    return reader.read(body)


def skill_answer_texts(content: bytes) -> list[str] | None:
    """The texts a valid v2 skill response shows, or None when Kakao would show an error."""
    answer = read_skill_answer(content)
    return answer["texts"] if answer["ok"] and not answer["use_callback"] else None


# -- photos ---------------------------------------------------------------------------------------


def make_photo(seed: int) -> bytes:
    """A small real JPEG (a street scene's colours and shapes), different for each seed."""
    rng = random.Random(seed)
    image = Image.new("RGB", (320, 240), (rng.randint(90, 160), rng.randint(110, 170), 200))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 150, 320, 240), fill=(rng.randint(60, 90),) * 3)  # the road
    for _ in range(3):
        x, y = rng.randint(20, 260), rng.randint(160, 210)
        draw.ellipse((x, y, x + rng.randint(20, 50), y + rng.randint(8, 20)), fill=(30, 30, 30))
    draw.rectangle((250, 40, 262, 150), fill=(70, 70, 80))  # a street light
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=80)
    return buffer.getvalue()


@dataclass
class Photo:
    data: bytes
    credential: str
    expires: float


@dataclass
class Callback:
    bot_id: str
    user_key: str
    expires: float
    used: bool = False


@dataclass
class Bot:
    id: str
    name: str
    rest_key: str
    event_names: set[str] = field(default_factory=lambda: {"sotong_reply"})
    # The Event API needs a wallet (each message costs 15 KRW + VAT).
    wallet: bool = True
    followers: int = 0
    news: list[str] = field(default_factory=list)
    # botUserKey → [{"from": "user"|"bot", "kind", "text", "at", "ok", "reason", …}]; a bot
    # entry answering a skill request carries the whole read answer under "answer".
    conversations: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)  # botUserKey → display name
    # The AI chatbot callback, enabled per block (here: for the whole bot).
    callback: bool = False
    blocks: dict[str, str] = field(default_factory=dict)  # block id → name
    # Friends: the relationship callback's target and the app's admin key.
    public_id: str = ""
    relationship_url: str = ""
    admin_key: str = ""
    friends: set[str] = field(default_factory=set)
    blocked: set[str] = field(default_factory=set)
    # botUserKey → {context name: {"lifespan", "ttl", "params", "set_at"}}
    contexts: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)


class Platform(PlatformSimulator):
    name = "kakao"
    label = "KakaoTalk"

    def reset(self) -> None:
        self.bots: dict[str, Bot] = {}
        self.keys: dict[str, bool] = {}  # REST API key → revoked
        self.tasks: dict[str, dict[str, Any]] = {}
        self.skill_timeout = DEFAULT_SKILL_TIMEOUT
        self.max_users = DEFAULT_MAX_USERS
        self.text_max = DEFAULT_TEXT_MAX
        self.retry_after = DEFAULT_RETRY_AFTER
        self.callback_ttl = DEFAULT_CALLBACK_TTL
        self.photo_ttl = DEFAULT_PHOTO_TTL
        self.rules = SkillRules()
        # Every skill request sent: {"bot", "user", "status", "elapsed", "ok", "reason",
        # "answer" (texts), "skill_answer" (the read answer), "problems"}; callbacks too.
        self.skill_log: list[dict[str, Any]] = []
        self.callbacks: dict[str, Callback] = {}
        self.photos: dict[str, Photo] = {}
        # Presses that send nothing to the skill (web links, phone numbers, …).
        self.tap_log: list[dict[str, Any]] = []
        self.relationship_log: list[dict[str, Any]] = []
        # A note for the next view of a chat: (bot, user) → (text, is_error).
        self.notes: dict[tuple[str, str], tuple[str, bool]] = {}
        self._photo_seed = 0

    # -- set-up for tests and the demo ------------------------------------------------------------

    def add_bot(
        self,
        bot_id: str,
        name: str,
        *,
        rest_key: str | None = None,
        followers: int = 0,
        callback: bool = False,
    ) -> str:
        """A channel's bot with the app's REST API key; returns the key. ``callback``
        enables the AI chatbot callback (requests then carry a ``callbackUrl``)."""
        with self.lock:
            key = rest_key or secrets.token_hex(16)
            self.bots[bot_id] = Bot(
                bot_id,
                name,
                key,
                followers=followers,
                callback=callback,
                public_id="_" + secrets.token_urlsafe(4).replace("-", "x").replace("_", "y"),
            )
            self.keys[key] = False
            return key

    def revoke_key(self, key: str) -> None:
        self.keys[key] = True

    def set_skill_url(self, bot_id: str, url: str, *, skill_secret: str = "") -> None:
        """Point the bot's fallback block skill at ``url`` (Sotong's webhook URL), with the
        custom header carrying ``skill_secret`` when one is set."""

        def sign(body: bytes) -> dict[str, str]:
            return {SKILL_SECRET_HEADER: skill_secret} if skill_secret else {}

        self.hub.set_webhook_target(self.name, bot_id, WebhookTarget(url, sign))

    def set_relationship_url(self, bot_id: str, url: str, admin_key: str) -> None:
        """Where Kakao POSTs the channel's friend added/blocked callbacks, signed with the
        app's admin key."""
        with self.lock:
            bot = self.bots[bot_id]
            bot.relationship_url, bot.admin_key = url, admin_key

    def skill_payload(
        self,
        bot_id: str,
        user_key: str,
        text: str,
        *,
        block: Mapping[str, str] | None = None,
        client_extra: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
        detail_params: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """A v2 skill request as Kakao sends it for something the citizen did in the 1:1
        chat: typed ``text`` (the fallback block), or pressed a button of ``block``."""
        bot = self.bots[bot_id]
        block = dict(block or FALLBACK_BLOCK)
        return {
            "intent": {
                "id": block["id"],
                "name": block["name"],
                "extra": {
                    "reason": {"code": 1, "message": "OK"},
                    "knowledge": {"matchedKnowledges": []},
                },
            },
            "userRequest": {
                "timezone": "Asia/Seoul",
                "lang": "kr",
                "utterance": text,
                "block": block,
                "params": {"surface": "Kakaotalk.plusfriend"},
                "user": {
                    "id": user_key,
                    "type": "botUserKey",
                    "properties": {
                        "plusfriendUserKey": f"pf{user_key[:12]}",
                        # Everyone who writes is counted a friend unless they blocked us.
                        "isFriend": user_key not in bot.blocked,
                    },
                },
            },
            "bot": {"id": bot.id, "name": bot.name},
            "action": {
                **SKILL,
                "params": dict(params or {}),
                "detailParams": dict(detail_params or {}),
                "clientExtra": dict(client_extra or {}),
            },
            "contexts": [],
        }

    # -- citizens acting -----------------------------------------------------------------------

    def citizen_message(
        self, bot_id: str, user_key: str, text: str, *, name: str = ""
    ) -> dict[str, Any]:
        """A citizen types ``text`` in the 1:1 chat: Kakao POSTs a skill request to the
        bot's skill URL once (no retries) and shows the answer, or an error when it comes
        later than ``skill_timeout`` or is not a valid skill response."""
        return self._converse(
            bot_id, user_key, {"kind": "message", "text": text}, text=text, name=name
        )

    def citizen_tap(self, bot_id: str, user_key: str, label: str) -> dict[str, Any]:
        """The citizen presses the quick reply, card button or list row ``label`` of the
        bot's last answer. A message action sends its messageText; a block action runs the
        block with the button's extra as action.clientExtra; a web link, phone number and
        the like open on the phone and send nothing (kept in ``tap_log``). LookupError when
        the last answer has no such button."""
        with self.lock:
            bot = self.bots[bot_id]
            control = self._control(bot, user_key, label)
        action = control["action"]
        utterance = control.get("messageText") or control["label"]
        if action == "message":
            return self._converse(
                bot_id,
                user_key,
                {"kind": "tap", "text": utterance},
                text=utterance,
                client_extra=control.get("extra"),
            )
        if action == "block":
            block_id = control["blockId"]
            block = {"id": block_id, "name": bot.blocks.get(block_id, "")}
            return self._converse(
                bot_id,
                user_key,
                {"kind": "tap", "text": utterance},
                text=utterance,
                block=block,
                client_extra=control.get("extra") or {},
            )
        target = control.get("webLinkUrl") or control.get("phoneNumber") or ""
        entry = {
            "bot": bot_id,
            "user": user_key,
            "label": label,
            "action": action,
            "target": target,
            "at": time.time(),
        }
        with self.lock:
            self.tap_log.append(entry)
        return {
            "status": None,
            "elapsed": 0.0,
            "ok": True,
            "reason": action,
            "answer": [],
            "skill_answer": None,
            "problems": [],
            "target": target,
            "bot": bot_id,
            "user": user_key,
        }

    def citizen_photo(self, bot_id: str, user_key: str, *, count: int = 1) -> dict[str, Any]:
        """The citizen sends ``count`` photos through the image secure-transfer plugin
        (@sys.plugin.secureimage): each is a real JPEG on this simulator's CDN at a URL
        that stops working after ``photo_ttl``, and the skill gets the plugin's value
        {"privacyAgree", "imageQuantity", "secureUrls": "List(url, …)", "expire"}."""
        urls = [self._host_photo() for _ in range(count)]
        expires = dt.datetime.now(tz=dt.UTC) + dt.timedelta(seconds=self.photo_ttl)
        value = json.dumps(
            {
                "privacyAgree": "Y",
                "imageQuantity": str(count),
                "secureUrls": f"List({', '.join(urls)})",
                "expire": expires.astimezone(dt.timezone(dt.timedelta(hours=9))).strftime(
                    "%Y-%m-%dT%H:%M:%S"
                ),
            },
            ensure_ascii=False,
        )
        return self._converse(
            bot_id,
            user_key,
            {"kind": "photo", "text": f"사진 {count}장", "photos": urls},
            text=PHOTO_UTTERANCE,
            block=PHOTO_BLOCK,
            params={"secureimage": value},
            detail_params={"secureimage": {"origin": value, "value": value, "groupName": ""}},
        )

    def citizen_location(self, bot_id: str, user_key: str, address: str) -> dict[str, Any]:
        """The citizen names a place the block's @sys.location parameter resolves (Open
        Builder offers places as text, no coordinates): params.sys_location and
        detailParams.sys_location {"origin", "value", "groupName"}."""
        return self._converse(
            bot_id,
            user_key,
            {"kind": "location", "text": address},
            text=address,
            params={"sys_location": address},
            detail_params={"sys_location": {"origin": address, "value": address, "groupName": ""}},
        )

    def _control(self, bot: Bot, user_key: str, label: str) -> dict[str, Any]:
        for message in reversed(bot.conversations.get(user_key, [])):
            answer = message.get("answer")
            if message["from"] == "bot" and answer:
                # Quick replies first: they sit where the thumb is.
                ordered = sorted(answer["controls"], key=lambda c: c["where"] != "quick_reply")
                for control in ordered:
                    if control["label"] == label:
                        return dict(control)
                break
        raise LookupError(f"no quick reply or button labelled {label!r} in the last answer")

    def _converse(
        self,
        bot_id: str,
        user_key: str,
        shown: dict[str, Any],
        *,
        text: str,
        name: str = "",
        block: Mapping[str, str] | None = None,
        client_extra: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
        detail_params: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        with self.lock:
            bot = self.bots[bot_id]
            bot.names.setdefault(user_key, name or f"카카오사용자{user_key[-4:]}")
            conversation = bot.conversations.setdefault(user_key, [])
            conversation.append(
                {"from": "user", "at": time.time(), "ok": True, "reason": "", **shown}
            )
            payload = self.skill_payload(
                bot_id,
                user_key,
                text,
                block=block,
                client_extra=client_extra,
                params=params,
                detail_params=detail_params,
            )
            payload["contexts"] = self._live_contexts(bot, user_key)
            if bot.callback:
                self._forget_expired()
                token = secrets.token_urlsafe(18)
                self.callbacks[token] = Callback(bot_id, user_key, time.time() + self.callback_ttl)
                payload["userRequest"]["callbackUrl"] = (
                    f"{self.hub.base_url}/kakao/callback/{token}"
                )
            target = self.hub.webhook_targets.get((self.name, bot_id))
            timeout = self.skill_timeout
        entry = self._send_skill_request(target, payload, timeout)
        entry.update(bot=bot_id, user=user_key)
        answer = entry["skill_answer"]
        with self.lock:
            self.skill_log.append(entry)
            if (
                entry["ok"]
                and answer["use_callback"]
                and not payload["userRequest"].get("callbackUrl")
            ):
                entry.update(ok=False, reason="callback_not_enabled")
            if entry["ok"]:
                self._keep_contexts(bot, user_key, answer["context"])
            if not entry["ok"]:
                bubble = {"kind": "error", "text": ERROR_TEXT}
            elif answer["use_callback"]:
                wait = str(answer["data"].get("text") or CALLBACK_WAIT_TEXT)
                bubble = {"kind": "callback_wait", "text": wait}
                entry["answer"] = [wait]
            else:
                bubble = {"kind": "answer", "text": "\n".join(entry["answer"]), "answer": answer}
            conversation.append(
                {
                    "from": "bot",
                    "at": time.time(),
                    "ok": entry["ok"],
                    "reason": entry["reason"],
                    "staff": False,
                    **bubble,
                }
            )
        self.hub.webhook_log.append(
            {
                "platform": self.name,
                "account": bot_id,
                "status": entry["status"],
                "attempt": 1,
                "at": time.time(),
                "ok": entry["ok"],
                "elapsed": entry["elapsed"],
            }
        )
        return entry

    def _send_skill_request(
        self, target: WebhookTarget | None, payload: dict[str, Any], timeout: float
    ) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "status": None,
            "elapsed": 0.0,
            "ok": False,
            "reason": "",
            "answer": [],
            "skill_answer": None,
            "problems": [],
        }
        if target is None:
            entry["reason"] = "no_skill_url"
            return entry
        body = json.dumps(payload, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json;charset=UTF-8", **target.sign(body)}
        started = time.monotonic()
        try:
            response = httpx.post(target.url, content=body, headers=headers, timeout=timeout)
        except httpx.TimeoutException:
            entry.update(elapsed=time.monotonic() - started, reason="timeout")
            return entry
        except httpx.HTTPError as exc:
            entry.update(elapsed=time.monotonic() - started, reason=type(exc).__name__)
            return entry
        elapsed = time.monotonic() - started
        entry.update(status=response.status_code, elapsed=elapsed)
        if elapsed > timeout:
            entry["reason"] = "timeout"
        elif response.status_code != 200:
            entry["reason"] = f"http_{response.status_code}"
        else:
            answer = read_skill_answer(response.content, self.rules)
            entry.update(skill_answer=answer, problems=answer["problems"])
            if answer["ok"]:
                entry.update(ok=True, answer=answer["texts"])
            else:
                entry["reason"] = "invalid_response"
        return entry

    # -- contexts (kept by Kakao between turns) ---------------------------------------------

    def _live_contexts(self, bot: Bot, user_key: str) -> list[dict[str, Any]]:
        """The user's contexts still alive, in the request's shape (L), each turn using up
        one of its lifespan."""
        kept = bot.contexts.get(user_key, {})
        now = time.time()
        live = []
        for name, context in list(kept.items()):
            expired = context["ttl"] is not None and now > context["set_at"] + context["ttl"]
            if context["lifespan"] <= 0 or expired:
                del kept[name]
                continue
            live.append(
                {
                    "name": name,
                    "lifespan": context["lifespan"],
                    "ttl": context["ttl"],
                    "params": {
                        key: {"value": value, "resolvedValue": value}
                        for key, value in context["params"].items()
                    },
                }
            )
            context["lifespan"] -= 1
        return live

    def _keep_contexts(self, bot: Bot, user_key: str, values: list[dict[str, Any]]) -> None:
        kept = bot.contexts.setdefault(user_key, {})
        for value in values:
            if value["lifeSpan"] == 0:
                kept.pop(value["name"], None)
            else:
                kept[value["name"]] = {
                    "lifespan": value["lifeSpan"],
                    "ttl": value["ttl"],
                    "params": value["params"],
                    "set_at": time.time(),
                }

    # -- the callback and the photo CDN -------------------------------------------------------

    @route("POST", r"/callback/(?P<token>[^/]+)")
    def callback_answer(self, request: Request) -> Response:
        """The skill's late answer: once, within ``callback_ttl`` of the request."""
        callback = self.callbacks.get(request.params["token"])
        if callback is None:
            return fail("no such callback", 404)
        if callback.used:
            return fail("this callback url was already used", 400)
        if time.time() > callback.expires:
            return fail("this callback url has expired", 400)
        answer = read_skill_answer(request.body, self.rules)
        if answer["ok"] and answer["use_callback"]:
            answer["problems"].append("a callback answer cannot ask for another callback")
            answer["ok"] = False
        self.skill_log.append(
            {
                "bot": callback.bot_id,
                "user": callback.user_key,
                "kind": "callback",
                "status": None,
                "elapsed": 0.0,
                "ok": answer["ok"],
                "reason": "" if answer["ok"] else "invalid_response",
                "answer": answer["texts"] if answer["ok"] else [],
                "skill_answer": answer,
                "problems": answer["problems"],
            }
        )
        if not answer["ok"]:
            return fail("invalid skill response: " + "; ".join(answer["problems"]), 400)
        callback.used = True
        bot = self.bots[callback.bot_id]
        self._keep_contexts(bot, callback.user_key, answer["context"])
        bot.conversations.setdefault(callback.user_key, []).append(
            {
                "from": "bot",
                "kind": "answer",
                "text": "\n".join(answer["texts"]),
                "answer": answer,
                "at": time.time(),
                "ok": True,
                "reason": "callback",
                "staff": False,
            }
        )
        return json_response(event_answer("SUCCESS", "callback accepted"))

    def _forget_expired(self) -> None:
        """Drop used-up callbacks and photos past their time (a long demo makes many)."""
        now = time.time()
        for token, callback in list(self.callbacks.items()):
            if now > callback.expires + 60:
                del self.callbacks[token]
        for photo_id, photo in list(self.photos.items()):
            if now > photo.expires + 60:
                del self.photos[photo_id]

    def _host_photo(self) -> str:
        with self.lock:
            self._forget_expired()
            self._photo_seed += 1
            photo_id = secrets.token_urlsafe(9)
            credential = secrets.token_urlsafe(12)
            expires = time.time() + self.photo_ttl
            self.photos[photo_id] = Photo(
                make_photo(self._photo_seed + self.hub.random.randint(0, 10**6)),
                credential,
                expires,
            )
        return (
            f"{self.hub.base_url}/kakao/dna/{photo_id}/img.jpg"
            f"?credential={credential}&expires={int(expires)}"
        )

    @route("GET", r"/dna/(?P<photo_id>[^/]+)/img\.jpg")
    def photo(self, request: Request) -> Response:
        """The CDN: the JPEG for a valid, unexpired secure URL; 403 otherwise."""
        photo = self.photos.get(request.params["photo_id"])
        if photo is None:
            return Response(404, "not found", content_type="text/plain; charset=utf-8")
        if request.query.get("credential", [""])[0] != photo.credential:
            return Response(403, "invalid credential", content_type="text/plain; charset=utf-8")
        if time.time() > photo.expires:
            return Response(403, "expired", content_type="text/plain; charset=utf-8")
        return Response(200, photo.data, content_type="image/jpeg")

    # -- friends -----------------------------------------------------------------------------

    def add_friend(self, bot_id: str, user_id: str) -> dict[str, Any]:
        """``user_id`` adds the channel as a friend: the count goes up and Kakao POSTs the
        relationship callback {"event": "added", …}. Adding again changes nothing."""
        return self._relationship(bot_id, user_id, added=True)

    def block_friend(self, bot_id: str, user_id: str) -> dict[str, Any]:
        """``user_id`` blocks the channel: the count goes down, callback {"event": "blocked"}."""
        return self._relationship(bot_id, user_id, added=False)

    def _relationship(self, bot_id: str, user_id: str, *, added: bool) -> dict[str, Any]:
        with self.lock:
            bot = self.bots[bot_id]
            if (added and user_id in bot.friends) or (not added and user_id in bot.blocked):
                return {"changed": False, "status": None, "followers": bot.followers}
            if added:
                bot.friends.add(user_id)
                bot.blocked.discard(user_id)
                bot.followers += 1
            else:
                bot.blocked.add(user_id)
                bot.friends.discard(user_id)
                bot.followers = max(0, bot.followers - 1)
            body = {
                "event": "added" if added else "blocked",
                "id": user_id,
                "id_type": "app_user_id",
                "channel_public_id": bot.public_id,
                "updated_at": dt.datetime.now(tz=dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            }
            url, admin_key, followers = bot.relationship_url, bot.admin_key, bot.followers
        status: int | None = None
        if url:
            try:
                status = httpx.post(
                    url,
                    json=body,
                    headers={"Authorization": f"KakaoAK {admin_key}"},
                    timeout=5,
                ).status_code
            except httpx.HTTPError:
                status = None
        with self.lock:
            self.relationship_log.append({"bot": bot_id, **body, "status": status})
        return {"changed": True, "status": status, "followers": followers, "event": body}

    # -- the control API and the browser client ---------------------------------------------

    KINDS: ClassVar[tuple[str, ...]] = (
        "message",
        "tap",
        "photo",
        "location",
        "friend_added",
        "friend_blocked",
    )

    def act(self, data: Mapping[str, Any]) -> tuple[int, dict[str, Any]]:
        """One citizen action from the control API: {"kind", "user", "bot"?, "text"?,
        "label"?, "count"?}. Returns (HTTP status, what the chat showed)."""
        kind, user = data.get("kind"), str(data.get("user") or "")
        if kind not in self.KINDS:
            return 400, {"error": f"kind is one of {', '.join(self.KINDS)}"}
        if not user:
            return 400, {"error": "user (the botUserKey) is required"}
        with self.lock:
            bot_id = str(data.get("bot") or next(iter(self.bots), ""))
            if bot_id not in self.bots:
                return 404, {"error": f"no bot {bot_id!r}"}
        text = str(data.get("text") or "")
        if kind in ("friend_added", "friend_blocked"):
            done = self._relationship(bot_id, user, added=kind == "friend_added")
            return 201, {
                "acted": done["changed"],
                "status": done["status"],
                "followers": done["followers"],
            }
        try:
            if kind == "message":
                if not text:
                    return 400, {"error": "text is required"}
                entry = self.citizen_message(bot_id, user, text)
            elif kind == "tap":
                entry = self.citizen_tap(bot_id, user, str(data.get("label") or ""))
            elif kind == "photo":
                count = data.get("count") or 1
                if not isinstance(count, int) or not 1 <= count <= 10:
                    return 400, {"error": "count is 1–10 photos"}
                entry = self.citizen_photo(bot_id, user, count=count)
            else:
                if not text:
                    return 400, {"error": "text (the place) is required"}
                entry = self.citizen_location(bot_id, user, text)
        except LookupError as exc:
            return 404, {"error": str(exc.args[0])}
        return 201, {"acted": True, "answer": summary(entry)}

    def chat_form(self, bot_id: str, user_key: str, form: Mapping[str, str]) -> None:
        """A form post from the browser client; the outcome is noted for the next view."""
        action = form.get("action", "")
        entry: dict[str, Any] | None = None
        note = ""
        try:
            if action == "message":
                text = form.get("text", "").strip()
                if not text:
                    note = "메시지를 입력해 주세요."
                else:
                    entry = self.citizen_message(bot_id, user_key, text)
            elif action == "tap":
                entry = self.citizen_tap(bot_id, user_key, form.get("label", ""))
                if entry.get("target"):
                    note = f"휴대폰에서 열었습니다: {entry['target']}"
            elif action == "photo":
                entry = self.citizen_photo(bot_id, user_key)
            elif action == "location":
                address = form.get("address", "").strip()
                if not address:
                    note = "위치(주소)를 입력해 주세요."
                else:
                    entry = self.citizen_location(bot_id, user_key, address)
            else:
                note = "알 수 없는 동작입니다."
        except LookupError:
            note = "마지막 답변에 그 버튼이 없습니다."
        failed = entry is not None and not entry["ok"]
        if failed and entry is not None:
            detail = "; ".join(entry["problems"]) or entry["reason"]
            note = f"챗봇이 응답하지 못했습니다 ({detail})."
        if note:
            with self.lock:
                self.notes[(bot_id, user_key)] = (note, failed or entry is None)

    def chat_view(self, bot_id: str, user_key: str) -> dict[str, Any] | None:
        """What the browser client shows for one chat (None: no such bot)."""
        with self.lock:
            bot = self.bots.get(bot_id)
            if bot is None:
                return None
            messages = [dict(message) for message in bot.conversations.get(user_key, [])]
            # Quick replies belong to the newest message: any later one hides them.
            last = (
                messages[-1].get("answer") if messages and messages[-1]["from"] == "bot" else None
            )
            return {
                "bot": bot.id,
                "bot_name": bot.name,
                "followers": bot.followers,
                "user": user_key,
                "user_name": bot.names.get(user_key, f"카카오사용자{user_key[-4:]}"),
                "messages": messages,
                "quick_replies": list(last["quick_replies"]) if last else [],
                "note": self.notes.pop((bot_id, user_key), None),
            }

    def chats(self) -> list[dict[str, str]]:
        with self.lock:
            return [
                {
                    "bot": bot.id,
                    "bot_name": bot.name,
                    "user": user,
                    "name": bot.names.get(user, user),
                }
                for bot in self.bots.values()
                for user in bot.conversations
            ]

    # -- errors ----------------------------------------------------------------------------------

    def fault_response(self, kind: FaultKind) -> Response:
        if kind is FaultKind.RATE_LIMITED:
            response = fail("too many requests", 429)
            response.headers["Retry-After"] = str(self.retry_after)
            return response
        if kind in {FaultKind.TOKEN_EXPIRED, FaultKind.TOKEN_REVOKED}:
            # REST API keys do not expire; both faults look like a key that is no longer valid.
            return fail("invalid rest api key", 401)
        if kind is FaultKind.MALFORMED:
            return Response(200, "<html><body>bad gateway</body></html>", content_type="text/html")
        return fail("internal server error", 500)

    def not_found(self, request: Request) -> Response:
        return fail(f"no such resource: {request.path}", 404)

    def bad_request(self, message: str) -> Response:
        return fail(message, 400)

    def _authorise(self, request: Request) -> str | Response:
        value = request.header("authorization")
        if not value.startswith("KakaoAK "):
            return fail("authorization header is missing or not KakaoAK", 401)
        key = value[len("KakaoAK ") :].strip()
        if key not in self.keys or self.keys[key]:
            return fail("invalid rest api key", 401)
        return key

    # -- the Event API -------------------------------------------------------------------------------

    @route("POST", r"/v2/bots/(?P<bot_id>[^/]+)/talk")
    def talk(self, request: Request) -> Response:
        key = self._authorise(request)
        if isinstance(key, Response):
            return key
        bot = self.bots.get(request.params["bot_id"])
        if bot is None:
            return fail(f"bot {request.params['bot_id']} not found", 404)
        if bot.rest_key != key:
            return fail("this app may not send events for this bot", 403)
        if not bot.wallet:
            return fail("event api is not available: no wallet registered for this bot", 403)
        body = request.json()
        event = body.get("event") or {}
        users = body.get("user")
        if event.get("name") not in bot.event_names:
            return fail(f"unknown event name: {event.get('name')}", 400)
        if not isinstance(users, list) or not users:
            return fail("user is required", 400)
        if len(users) > self.max_users:
            return fail(f"too many users: at most {self.max_users}", 400)
        ids = [(user.get("type"), user.get("id")) for user in users]
        if len(set(ids)) != len(ids):
            return fail("duplicated user", 400)
        if any(kind not in {"botUserKey", "plusfriendUserKey", "appUserId"} for kind, _ in ids):
            return fail("invalid user type", 400)
        data = event.get("data") or {}
        text = str(data.get("text", ""))
        if len(text) > self.text_max:
            return fail(f"text is too long: at most {self.text_max}", 400)
        # The event's block decides how the message looks; a data flag "operator" marks a
        # staff member's answer (상담원) rather than the channel's own message.
        staff = str(data.get("operator", "")).lower() in {"true", "1", "yes", "y"}
        task_id = _task_id()
        failed = []
        for kind, user_id in ids:
            conversation = bot.conversations.get(user_id) if kind == "botUserKey" else None
            if conversation is None:
                failed.append({"user": user_id, "errorMessage": "user not found"})
                continue
            conversation.append(
                {
                    "from": "bot",
                    "kind": "event",
                    "text": text,
                    "at": time.time(),
                    "ok": True,
                    "reason": "event",
                    "staff": staff,
                }
            )
        success = len(ids) - len(failed)
        self.tasks[task_id] = {
            "taskId": task_id,
            "status": "ALL_SUCCESS"
            if not failed
            else ("FAIL" if not success else "PARTIAL_SUCCESS"),
            "allRequestCount": len(ids),
            "successCount": success,
            "fail": {"count": len(failed), "list": failed},
            "timestamp": int(time.time() * 1000),
        }
        return json_response(event_answer("SUCCESS", "event accepted", task_id=task_id))

    @route("GET", r"/v1/tasks/(?P<task_id>[^/]+)")
    def task(self, request: Request) -> Response:
        key = self._authorise(request)
        if isinstance(key, Response):
            return key
        task = self.tasks.get(request.params["task_id"])
        if task is None:
            return fail(f"task {request.params['task_id']} not found", 404)
        return json_response(task)

    # -- synthetic citizens and the demo world ------------------------------------------------

    # Channel news has no comments through any API: citizens only write in the 1:1 chat.
    crowd_weights: ClassVar[dict[str, float]] = {}

    def crowd_message_accounts(self) -> list[str]:
        return list(self.bots)

    def crowd_message(self, account: str, author_id: str, author_name: str, text: str) -> None:
        # botUserKeys are opaque per-bot keys, not the citizen's numeric id.
        self.citizen_message(account, f"bk{author_id}", text, name=author_name)

    def populate_demo(self, account: DemoAccount, webhook_url: str) -> None:
        self.add_bot(
            account.account_id, account.name, rest_key=account.token, followers=account.followers
        )
        self.bots[account.account_id].news.extend(DEMO_HISTORY)
        self.set_skill_url(
            account.account_id, webhook_url, skill_secret=account.extra.get("skill_secret", "")
        )
        if account.extra.get("admin_key") and "/hooks/kakao/" in webhook_url:
            # Sotong takes friend callbacks beside the skill URL (/hooks/kakao-friends/…).
            self.set_relationship_url(
                account.account_id,
                webhook_url.replace("/hooks/kakao/", "/hooks/kakao-friends/"),
                account.extra["admin_key"],
            )

    def timeline(self) -> list[dict[str, Any]]:
        accounts = []
        for bot in self.bots.values():
            posts: list[dict[str, Any]] = [
                {
                    "id": "새 채팅",
                    "text": "새 카카오톡 사용자로 1:1 채팅 시작",
                    "chat": chat_path(bot.id, f"sim{secrets.token_hex(6)}"),
                    "comments": [],
                }
            ]
            posts.extend(
                {"id": f"소식 {number}", "text": text, "comments": []}
                for number, text in enumerate(reversed(bot.news), start=1)
            )
            for user_key, messages in bot.conversations.items():
                name = bot.names.get(user_key, user_key)
                posts.append(
                    {
                        "id": f"1:1 채팅 {user_key}",
                        "text": f"{name} 님과의 1:1 채팅",
                        "chat": chat_path(bot.id, user_key),
                        "comments": [
                            {"author": _author(message, name), "text": message["text"]}
                            for message in messages
                        ],
                    }
                )
            accounts.append({"account": f"{bot.name} (친구 {bot.followers:,}명)", "posts": posts})
        return accounts


def chat_path(bot_id: str, user_key: str) -> str:
    return f"/view/kakao/chat/{quote(bot_id, safe='')}/{quote(user_key, safe='')}"


def _author(message: Mapping[str, Any], name: str) -> str:
    if message["from"] == "user":
        return name
    if message.get("staff"):
        return "상담원"
    return "챗봇" if message["ok"] else f"챗봇 (실패: {message['reason']})"


def summary(entry: Mapping[str, Any]) -> dict[str, Any]:
    """What the chat showed after an action, for the control API."""
    answer = entry.get("skill_answer") or {}
    buttons = [c["label"] for c in answer.get("controls", []) if c["where"] != "quick_reply"]
    return {
        "ok": entry["ok"],
        "reason": entry["reason"],
        "texts": list(entry["answer"]),
        "quick_replies": list(answer.get("quick_replies", [])) if entry["ok"] else [],
        "buttons": buttons if entry["ok"] else [],
        "problems": list(entry.get("problems", [])),
        **({"target": entry["target"]} if entry.get("target") else {}),
    }
