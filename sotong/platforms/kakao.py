"""KakaoTalk channel connector (Kakao i Open Builder skill server + Event API).
Contract: shared/docs/platform-apis.md §1.

The 1:1 chat is a webhook: Kakao POSTs a v2 skill request to Sotong's skill URL and takes
the bot's answer from the HTTP response, within a 5 s SLA, and never re-sends. A
department's later answer goes out through the Event API (``KakaoAK`` REST API key, which
does not expire). Channel news (채널 소식) and friend counts have no API: staff publish by
hand and type the friend count in.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import urlsplit

import httpx

from sotong.platforms.base import (
    AccountCheck,
    Capability,
    Connector,
    ContentRejected,
    CredentialRevoked,
    InboundItem,
    InboundKind,
    NotFound,
    PermissionMissing,
    PlatformError,
    RateLimited,
    TextLimits,
    TransientError,
    WebhookRejected,
    WebhookRequest,
    WebhookResponse,
    constant_time_equal,
    parse_json_body,
    register,
)

# -- the v2 skill vocabulary -------------------------------------------------------------------
# Builders for every answer the KakaoTalk chat gives, a validator that lists everything Kakao
# would refuse, and the parsed skill request. Sources, with the doc's confidence marks:
#   H  kakaobusiness.gitbook.io/main/tool/chatbot/skill_guide/answer_json_format (the request
#      and response shapes, version "2.0", basicCard needs a thumbnail, list items' and
#      buttons' extra → action.clientExtra, also cs.kakao.com 챗봇 관리자센터 FAQ "리스트형
#      말풍선 … clientExtra"); …/ai_chatbot_callback_guide (useCallback, callbackUrl: once,
#      1 minute); chatbot.kakao.com/docs/skill-dev-guide-v1 (clientExtra may be the string
#      "null").
#   M  github.com/myabcc17/chatbot-v2-response-builder (≤3 outputs, ≤10 quick replies,
#      basicCard description ≤230 and ≤3 buttons, listCard ≤5 items and ≤2 buttons, carousel
#      ≤10 items); shared/docs/platform-apis.md §1 (simpleText ≤1000, "전체보기" past 500).
#   L  labels ≤14 characters (KakaoTalk cuts longer ones), textCard title ≤50 and
#      description ≤400, altText ≤1000; the secureimage plugin's value (see image_urls_of).
# The M/L figures are fields of SkillLimits, not constants baked into the checks.

SKILL_VERSION = "2.0"
ACK_TEXT = "문의가 접수되었습니다. 담당자가 확인 후 답변드리겠습니다."
SIMPLE_TEXT_MAX = 1000
MAX_OUTPUTS = 3
MAX_QUICK_REPLIES = 10
# Sotong's own header for the optional shared secret (Kakao signs nothing; the admin UI
# may let us add a header to skill requests, doc L).
SKILL_SECRET_HEADER = "X-Sotong-Skill-Secret"  # noqa: S105 - a header name
DEFAULT_EVENT_NAME = "sotong_reply"
# Any id works: only the key is checked. A 404 for it proves the key is good.
PROBE_TASK_ID = "sotong-credential-probe"
DEFAULT_RETRY_AFTER = 60.0


@dataclass(frozen=True)
class SkillLimits:
    """What Kakao accepts in a skill response (confidence as in the notes above)."""

    outputs: int = MAX_OUTPUTS  # M
    quick_replies: int = MAX_QUICK_REPLIES  # M
    simple_text: int = SIMPLE_TEXT_MAX  # M
    alt_text: int = 1000  # L
    label: int = 14  # L: quick replies and buttons
    card_title: int = 50  # L
    text_card_description: int = 400  # L
    basic_card_description: int = 230  # M
    card_buttons: int = 3  # M
    list_items: int = 5  # M
    list_buttons: int = 2  # M
    carousel_items: int = 10  # M


LIMITS = SkillLimits()
OUTPUT_TYPES = frozenset(
    {
        "simpleText",
        "simpleImage",
        "textCard",
        "basicCard",
        "commerceCard",
        "listCard",
        "itemCard",
        "carousel",
    }
)
CAROUSEL_TYPES = frozenset({"basicCard", "commerceCard", "listCard", "itemCard", "textCard"})
BUTTON_ACTIONS = frozenset(
    {"webLink", "message", "phone", "block", "share", "operator", "osLink", "addChannel"}
)
QUICK_REPLY_ACTIONS = frozenset({"message", "block"})


def _is_url(value: object) -> bool:
    if not isinstance(value, str):
        return False
    parts = urlsplit(value)
    return parts.scheme in {"http", "https"} and bool(parts.netloc)


def _text_problem(value: object, where: str, maximum: int, *, required: bool) -> str | None:
    if value is None or value == "":
        return f"{where} is required" if required else None
    if not isinstance(value, str):
        return f"{where} must be a string"
    if len(value) > maximum:
        return f"{where} has {len(value)} characters; at most {maximum}"
    return None


class _Checker:
    """Collects every problem of one skill response (paths like template.outputs[0].…)."""

    def __init__(self, limits: SkillLimits) -> None:
        self.limits = limits
        self.problems: list[str] = []

    def add(self, problem: str | None) -> None:
        if problem:
            self.problems.append(problem)

    def text(self, value: object, where: str, maximum: int, *, required: bool = False) -> None:
        self.add(_text_problem(value, where, maximum, required=required))

    def url(self, value: object, where: str, *, required: bool = True) -> None:
        if value is None or value == "":
            if required:
                self.add(f"{where} is required")
        elif not _is_url(value):
            self.add(f"{where} must be an http(s) URL")

    def mapping(self, value: object, where: str) -> Mapping[str, Any] | None:
        if not isinstance(value, Mapping):
            self.add(f"{where} must be an object")
            return None
        return value

    def listing(self, value: object, where: str, low: int, high: int) -> list[Any]:
        if not isinstance(value, list):
            self.add(f"{where} must be a list")
            return []
        if not low <= len(value) <= high:
            self.add(f"{where} has {len(value)} items; {low}–{high} allowed")
        return value

    # -- buttons and quick replies --------------------------------------------------------

    def button(self, button: object, where: str) -> None:
        found = self.mapping(button, where)
        if found is None:
            return
        self.text(found.get("label"), f"{where}.label", self.limits.label, required=True)
        action = found.get("action")
        if action not in BUTTON_ACTIONS:
            self.add(f"{where}.action {action!r} is not one of {sorted(BUTTON_ACTIONS)}")
            return
        self._action_fields(found, action, where)

    def quick_reply(self, reply: object, where: str) -> None:
        found = self.mapping(reply, where)
        if found is None:
            return
        self.text(found.get("label"), f"{where}.label", self.limits.label, required=True)
        action = found.get("action")
        if action not in QUICK_REPLY_ACTIONS:
            self.add(f"{where}.action {action!r} is not one of {sorted(QUICK_REPLY_ACTIONS)}")
            return
        self._action_fields(found, action, where)

    def _action_fields(self, found: Mapping[str, Any], action: str, where: str) -> None:
        if action == "webLink":
            self.url(found.get("webLinkUrl"), f"{where}.webLinkUrl")
        elif action == "phone":
            self.text(found.get("phoneNumber"), f"{where}.phoneNumber", 30, required=True)
        elif action == "block":
            self.text(found.get("blockId"), f"{where}.blockId", 100, required=True)
        elif action == "osLink":
            self.mapping(found.get("osLink"), f"{where}.osLink")
        if action in {"message", "block"} and "messageText" in found:
            self.text(
                found["messageText"], f"{where}.messageText", self.limits.simple_text, required=True
            )
        if "extra" in found and found["extra"] is not None:
            self.mapping(found["extra"], f"{where}.extra")

    def buttons(self, value: object, where: str, maximum: int) -> None:
        if value is None:
            return
        for index, button in enumerate(self.listing(value, where, 0, maximum)):
            self.button(button, f"{where}[{index}]")

    # -- outputs ----------------------------------------------------------------------------

    def output(self, output: object, where: str) -> None:
        found = self.mapping(output, where)
        if found is None:
            return
        kinds = [key for key in found if key in OUTPUT_TYPES]
        if len(kinds) != 1 or len(found) != 1:
            self.add(
                f"{where} must hold exactly one of {sorted(OUTPUT_TYPES)}, not {sorted(found)}"
            )
            return
        kind = kinds[0]
        self.component(kind, found[kind], f"{where}.{kind}")

    def component(self, kind: str, value: object, where: str) -> None:
        body = self.mapping(value, where)
        if body is None:
            return
        limits = self.limits
        if kind == "simpleText":
            self.text(body.get("text"), f"{where}.text", limits.simple_text, required=True)
        elif kind == "simpleImage":
            self.url(body.get("imageUrl"), f"{where}.imageUrl")
            self.text(body.get("altText"), f"{where}.altText", limits.alt_text, required=True)
        elif kind == "textCard":
            self.text(body.get("title"), f"{where}.title", limits.card_title)
            self.text(body.get("description"), f"{where}.description", limits.text_card_description)
            if not body.get("title") and not body.get("description"):
                self.add(f"{where} needs a title or a description")
            self.buttons(body.get("buttons"), f"{where}.buttons", limits.card_buttons)
        elif kind == "basicCard":
            thumbnail = self.mapping(body.get("thumbnail"), f"{where}.thumbnail")
            if thumbnail is not None:
                self.url(thumbnail.get("imageUrl"), f"{where}.thumbnail.imageUrl")
            self.text(body.get("title"), f"{where}.title", limits.card_title)
            self.text(
                body.get("description"), f"{where}.description", limits.basic_card_description
            )
            self.buttons(body.get("buttons"), f"{where}.buttons", limits.card_buttons)
        elif kind == "listCard":
            header = self.mapping(body.get("header"), f"{where}.header")
            if header is not None:
                self.text(
                    header.get("title"), f"{where}.header.title", limits.card_title, required=True
                )
            items = self.listing(body.get("items"), f"{where}.items", 1, limits.list_items)
            for index, item in enumerate(items):
                self.list_item(item, f"{where}.items[{index}]")
            self.buttons(body.get("buttons"), f"{where}.buttons", limits.list_buttons)
        elif kind == "commerceCard":
            self.listing(body.get("thumbnails"), f"{where}.thumbnails", 1, 1)
            if not isinstance(body.get("price"), int) or isinstance(body.get("price"), bool):
                self.add(f"{where}.price must be a whole number")
            self.buttons(body.get("buttons"), f"{where}.buttons", limits.card_buttons)
        elif kind == "itemCard":
            self.listing(body.get("itemList"), f"{where}.itemList", 1, 10)
        elif kind == "carousel":
            item_type = body.get("type")
            if item_type not in CAROUSEL_TYPES:
                self.add(f"{where}.type {item_type!r} is not one of {sorted(CAROUSEL_TYPES)}")
                return
            items = self.listing(body.get("items"), f"{where}.items", 1, limits.carousel_items)
            for index, item in enumerate(items):
                self.component(item_type, item, f"{where}.items[{index}]")

    def list_item(self, item: object, where: str) -> None:
        found = self.mapping(item, where)
        if found is None:
            return
        self.text(found.get("title"), f"{where}.title", self.limits.card_title, required=True)
        self.text(found.get("description"), f"{where}.description", self.limits.card_title)
        if found.get("imageUrl"):
            self.url(found["imageUrl"], f"{where}.imageUrl")
        link = found.get("link")
        if link is not None:
            link = self.mapping(link, f"{where}.link")
            for key, value in (link or {}).items():
                self.url(value, f"{where}.link.{key}")
        action = found.get("action")
        if action is not None:
            if action not in QUICK_REPLY_ACTIONS:
                self.add(f"{where}.action {action!r} is not one of {sorted(QUICK_REPLY_ACTIONS)}")
            else:
                self._action_fields(found, action, where)

    # -- the whole response -------------------------------------------------------------------

    def response(self, body: object) -> None:
        found = self.mapping(body, "the response")
        if found is None:
            return
        if found.get("version") != SKILL_VERSION:
            self.add(
                f'version must be "{SKILL_VERSION}" (without it Kakao reads the legacy v1 format)'
            )
        use_callback = found.get("useCallback", False)
        if not isinstance(use_callback, bool):
            self.add("useCallback must be true or false")
        template = found.get("template")
        if template is None:
            if use_callback is not True:
                self.add("template is required")
            # else "wait for the callback": the block's waiting message shows meanwhile
        elif (template := self.mapping(template, "template")) is not None:
            outputs = self.listing(
                template.get("outputs"), "template.outputs", 1, self.limits.outputs
            )
            for index, output in enumerate(outputs):
                self.output(output, f"template.outputs[{index}]")
            replies = template.get("quickReplies")
            if replies is not None:
                listed = self.listing(
                    replies, "template.quickReplies", 0, self.limits.quick_replies
                )
                for index, reply in enumerate(listed):
                    self.quick_reply(reply, f"template.quickReplies[{index}]")
        if "context" in found:
            self.context(found["context"])
        if "data" in found and found["data"] is not None:
            self.mapping(found["data"], "data")

    def context(self, value: object) -> None:
        context = self.mapping(value, "context")
        if context is None:
            return
        values = context.get("values")
        if not isinstance(values, list):
            self.add("context.values must be a list")
            return
        for index, item in enumerate(values):
            where = f"context.values[{index}]"
            found = self.mapping(item, where)
            if found is None:
                continue
            self.text(found.get("name"), f"{where}.name", 100, required=True)
            for key in ("lifeSpan", "ttl"):
                number = found.get(key)
                if key == "ttl" and number is None:
                    continue
                if not isinstance(number, int) or isinstance(number, bool) or number < 0:
                    self.add(f"{where}.{key} must be a whole number ≥ 0")
            params = found.get("params")
            if params is not None and (params := self.mapping(params, f"{where}.params")):
                for key, param in params.items():
                    if not isinstance(param, str):
                        self.add(f"{where}.params.{key} must be a string")


def validate_skill_response(body: object, limits: SkillLimits = LIMITS) -> list[str]:
    """Every reason Kakao would refuse ``body`` (a decoded skill response); empty when it
    would show it. The citizen sees an error bubble for any refused answer."""
    checker = _Checker(limits)
    checker.response(body)
    return checker.problems


def _checked(kind: str, component: dict[str, Any]) -> dict[str, Any]:
    checker = _Checker(LIMITS)
    checker.component(kind, component, kind)
    if checker.problems:
        raise ValueError("; ".join(checker.problems))
    return {kind: component}


def _buttons(buttons: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [dict(button) for button in buttons]


# -- outputs ---------------------------------------------------------------------------------


def simple_text(text: str) -> dict[str, Any]:
    """A ``simpleText`` output; text must be 1–1000 characters (past 500 KakaoTalk folds it
    behind "전체보기")."""
    if not text or len(text) > SIMPLE_TEXT_MAX:
        raise ValueError(f"simpleText takes 1–{SIMPLE_TEXT_MAX} characters, not {len(text)}")
    return {"simpleText": {"text": text}}


def simple_image(image_url: str, alt_text: str) -> dict[str, Any]:
    """A ``simpleImage``; the alt text is what screen readers and failed loads show."""
    return _checked("simpleImage", {"imageUrl": image_url, "altText": alt_text})


def text_card(
    title: str = "", description: str = "", buttons: Sequence[Mapping[str, Any]] = ()
) -> dict[str, Any]:
    """A ``textCard``: a title and/or a description with up to 3 buttons, no image."""
    card: dict[str, Any] = {}
    if title:
        card["title"] = title
    if description:
        card["description"] = description
    if buttons:
        card["buttons"] = _buttons(buttons)
    return _checked("textCard", card)


def basic_card(
    title: str,
    description: str,
    thumbnail_url: str,
    buttons: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """A ``basicCard``: a thumbnail (required), a title, a description of at most 230
    characters and up to 3 buttons."""
    card: dict[str, Any] = {"thumbnail": {"imageUrl": thumbnail_url}}
    if title:
        card["title"] = title
    if description:
        card["description"] = description
    if buttons:
        card["buttons"] = _buttons(buttons)
    return _checked("basicCard", card)


def list_item(
    title: str,
    description: str = "",
    *,
    image_url: str = "",
    web_url: str = "",
    message_text: str = "",
    block_id: str = "",
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """One row of a list card: opens ``web_url``, sends ``message_text``, or jumps to
    ``block_id`` (``extra`` then reaches the skill as action.clientExtra)."""
    item: dict[str, Any] = {"title": title}
    if description:
        item["description"] = description
    if image_url:
        item["imageUrl"] = image_url
    if web_url:
        item["link"] = {"web": web_url}
    if block_id:
        item.update(action="block", blockId=block_id)
    elif message_text:
        item.update(action="message", messageText=message_text)
    if extra:
        item["extra"] = dict(extra)
    checker = _Checker(LIMITS)
    checker.list_item(item, "listItem")
    if checker.problems:
        raise ValueError("; ".join(checker.problems))
    return item


def list_card(
    header_title: str,
    items: Sequence[Mapping[str, Any]],
    buttons: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """A ``listCard``: a header, 1–5 items (``list_item``) and up to 2 buttons."""
    card: dict[str, Any] = {"header": {"title": header_title}, "items": [dict(i) for i in items]}
    if buttons:
        card["buttons"] = _buttons(buttons)
    return _checked("listCard", card)


# -- buttons and quick replies ------------------------------------------------------------------


def _checked_button(button: dict[str, Any]) -> dict[str, Any]:
    checker = _Checker(LIMITS)
    checker.button(button, "button")
    if checker.problems:
        raise ValueError("; ".join(checker.problems))
    return button


def web_link_button(label: str, url: str) -> dict[str, Any]:
    return _checked_button({"label": label, "action": "webLink", "webLinkUrl": url})


def message_button(label: str, message_text: str = "") -> dict[str, Any]:
    """Sends ``message_text`` (default: the label) as the citizen's message."""
    return _checked_button(
        {"label": label, "action": "message", "messageText": message_text or label}
    )


def block_button(
    label: str,
    block_id: str,
    *,
    message_text: str = "",
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Runs ``block_id``; ``extra`` reaches its skill as action.clientExtra."""
    button: dict[str, Any] = {"label": label, "action": "block", "blockId": block_id}
    if message_text:
        button["messageText"] = message_text
    if extra:
        button["extra"] = dict(extra)
    return _checked_button(button)


def phone_button(label: str, phone_number: str) -> dict[str, Any]:
    return _checked_button({"label": label, "action": "phone", "phoneNumber": phone_number})


def quick_reply(
    label: str,
    message_text: str = "",
    *,
    block_id: str = "",
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A quick reply (바로연결) button: sends ``message_text`` (default: the label), or
    jumps to a block with ``extra`` as the skill's action.clientExtra. Labels longer than
    14 characters are cut by KakaoTalk (L), so they are refused here."""
    if block_id:
        reply: dict[str, Any] = {
            "label": label,
            "action": "block",
            "blockId": block_id,
            "extra": dict(extra or {}),
        }
        if message_text:
            reply["messageText"] = message_text
    else:
        reply = {"label": label, "action": "message", "messageText": message_text or label}
    checker = _Checker(LIMITS)
    checker.quick_reply(reply, "quick reply")
    if checker.problems:
        raise ValueError("; ".join(checker.problems))
    return reply


def context_value(
    name: str, life_span: int, params: Mapping[str, str] | None = None, *, ttl: int | None = None
) -> dict[str, Any]:
    """One output context: alive for ``life_span`` turns (0 deletes it), ``ttl`` seconds."""
    value: dict[str, Any] = {"name": name, "lifeSpan": life_span, "params": dict(params or {})}
    if ttl is not None:
        value["ttl"] = ttl
    return value


def skill_response(
    outputs: Sequence[Mapping[str, Any]],
    quick_replies: Sequence[Mapping[str, Any]] = (),
    *,
    context: Sequence[Mapping[str, Any]] | None = None,
    data: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A v2 skill response with 1–3 outputs, at most 10 quick replies, the output contexts
    ``context`` (``context_value``s, sent as {"values": [...]}) and ``data``."""
    if not 1 <= len(outputs) <= MAX_OUTPUTS:
        raise ValueError(f"a skill response takes 1–{MAX_OUTPUTS} outputs, not {len(outputs)}")
    if len(quick_replies) > MAX_QUICK_REPLIES:
        raise ValueError(f"at most {MAX_QUICK_REPLIES} quick replies, not {len(quick_replies)}")
    template: dict[str, Any] = {"outputs": [dict(output) for output in outputs]}
    if quick_replies:
        template["quickReplies"] = [dict(reply) for reply in quick_replies]
    body: dict[str, Any] = {"version": SKILL_VERSION, "template": template}
    if context is not None:
        body["context"] = {"values": [dict(value) for value in context]}
    if data is not None:
        body["data"] = dict(data)
    problems = validate_skill_response(body)
    if problems:
        raise ValueError("; ".join(problems))
    return body


def callback_accepted(text: str = "") -> dict[str, Any]:
    """The answer within 5 s that says "the real answer follows at userRequest.callbackUrl"
    (AI chatbot callback, H). ``text`` fills the block's waiting message."""
    body: dict[str, Any] = {"version": SKILL_VERSION, "useCallback": True}
    if text:
        body["data"] = {"text": text}
    return body


def skill_webhook_response(body: Mapping[str, Any]) -> WebhookResponse:
    return WebhookResponse(
        200,
        json.dumps(body, ensure_ascii=False).encode(),
        content_type="application/json;charset=UTF-8",
    )


# -- skill requests -----------------------------------------------------------------------------

# Hosts KakaoTalk serves chat photos from: a photo sent to a fallback block arrives as its
# URL in the utterance (L: seen in skill servers' code, not in Kakao's docs).
KAKAO_IMAGE_HOSTS = ("kakaocdn.net", "talk.kakao.com")
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".gif", ".webp", ".heic")
# Names of the block parameter that holds the place (the @sys.location entity; Open
# Builder names a parameter after its entity, dots as underscores, as in "sys_date").
LOCATION_PARAMS = ("sys_location", "location", "address")
_SECURE_LIST = re.compile(r"List\((.*)\)", re.DOTALL)


@dataclass(frozen=True)
class SkillLocation:
    """Where the citizen said something is. Open Builder resolves places as text (the
    @sys.location entity); coordinates only when the value carries them."""

    address: str
    latitude: float | None = None
    longitude: float | None = None


@dataclass(frozen=True)
class SkillRequest:
    """A v2 skill request, checked and flattened (see parse_skill_request)."""

    bot_id: str
    bot_name: str
    user_key: str  # userRequest.user.id, the botUserKey: what conversations are keyed on
    user_type: str
    plusfriend_user_key: str
    app_user_id: str
    is_friend: bool | None
    utterance: str
    block_id: str
    block_name: str
    params: Mapping[str, Any]  # action.params: parameter name → resolved value
    detail_params: Mapping[str, Any]  # name → {"origin", "value", "groupName"}
    client_extra: Mapping[str, Any]  # the tapped button's / quick reply's extra
    contexts: tuple[Mapping[str, Any], ...]
    callback_url: str  # only when the block has callback enabled
    image_urls: tuple[str, ...]
    location: SkillLocation | None
    matched_knowledges: tuple[Mapping[str, Any], ...]  # 지식+ matches


def _malformed(detail: str) -> WebhookRejected:
    return WebhookRejected("malformed", detail)


def _object(container: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any]:
    """``container[key]`` as an object; missing or null is empty."""
    value = container.get(key)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise _malformed(f"{where} is not an object")
    return value


def _client_extra(action: Mapping[str, Any]) -> Mapping[str, Any]:
    value = action.get("clientExtra")
    # The v1 guide shows the string "null" when no button extra was sent.
    if value is None or value in ("", "null"):
        return {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise _malformed("action.clientExtra is neither an object nor JSON") from None
    if not isinstance(value, Mapping):
        raise _malformed("action.clientExtra is not an object")
    return value


def _secure_urls(value: object) -> list[str]:
    """URLs in the image secure-transfer plugin's (@sys.plugin.secureimage) value: a JSON
    string {"privacyAgree", "imageQuantity", "secureUrls": "List(url1, url2)", "expire"}
    (L: the shape skill servers parse; the field names other than secureUrls are unused)."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return []
    if not isinstance(value, Mapping):
        return []
    secure = value.get("secureUrls")
    if isinstance(secure, list):
        candidates = [str(url) for url in secure]
    elif isinstance(secure, str):
        match = _SECURE_LIST.fullmatch(secure.strip())
        candidates = (match.group(1) if match else secure).split(",")
    else:
        return []
    return [url.strip() for url in candidates if _is_url(url.strip())]


def _is_kakao_photo(text: str) -> bool:
    if not _is_url(text) or any(space in text for space in " \n\t"):
        return False
    parts = urlsplit(text)
    host = parts.hostname or ""
    return any(host == h or host.endswith("." + h) for h in KAKAO_IMAGE_HOSTS) and (
        parts.path.lower().endswith(IMAGE_SUFFIXES) or "/dna/" in parts.path
    )


def image_urls_of(
    utterance: str, params: Mapping[str, Any], detail_params: Mapping[str, Any]
) -> tuple[str, ...]:
    """The photos a request carries: every secureimage value among the parameters, and an
    utterance that is itself a KakaoTalk photo URL. In order, without repeats."""
    found: list[str] = []
    for value in params.values():
        found.extend(_secure_urls(value))
    for detail in detail_params.values():
        if isinstance(detail, Mapping):
            found.extend(_secure_urls(detail.get("origin")))
            found.extend(_secure_urls(detail.get("value")))
    if _is_kakao_photo(utterance.strip()):
        found.append(utterance.strip())
    return tuple(dict.fromkeys(found))


def _number(value: object) -> float | None:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if -180.0 <= number <= 180.0 else None


def location_of(
    params: Mapping[str, Any], detail_params: Mapping[str, Any]
) -> SkillLocation | None:
    """The place from the location parameter: its origin (what the citizen typed) as the
    address; latitude/longitude only if the resolved value is JSON that carries them."""
    for name in LOCATION_PARAMS:
        detail = detail_params.get(name)
        raw_value: object = params.get(name)
        address = ""
        if isinstance(detail, Mapping):
            address = str(detail.get("origin") or "")
            raw_value = detail.get("value", raw_value)
        resolved: object = raw_value
        if isinstance(raw_value, str):
            try:
                resolved = json.loads(raw_value)
            except ValueError:
                address = address or raw_value
        if isinstance(resolved, Mapping):
            address = address or str(resolved.get("address") or resolved.get("value") or "")
            latitude = _number(resolved.get("latitude", resolved.get("lat")))
            longitude = _number(resolved.get("longitude", resolved.get("lng")))
        else:
            latitude = longitude = None
        if address.strip() or (latitude is not None and longitude is not None):
            return SkillLocation(address.strip(), latitude, longitude)
    return None


def parse_skill_request(payload: object) -> SkillRequest:
    """A decoded v2 skill request → SkillRequest, or WebhookRejected("malformed", reason)
    naming the first field that is missing or of the wrong type."""
    if not isinstance(payload, Mapping):
        raise _malformed("the skill request is not a JSON object")
    user_request = payload.get("userRequest")
    if not isinstance(user_request, Mapping):
        raise _malformed("userRequest is missing or not an object")
    user = user_request.get("user")
    if not isinstance(user, Mapping):
        raise _malformed("userRequest.user is missing or not an object")
    user_key = user.get("id")
    if not isinstance(user_key, str) or not user_key:
        raise _malformed("userRequest.user.id is missing or empty")
    utterance = user_request.get("utterance")
    if not isinstance(utterance, str):
        raise _malformed("userRequest.utterance is missing or not a string")
    bot = payload.get("bot")
    if not isinstance(bot, Mapping):
        raise _malformed("bot is missing or not an object")
    bot_id = bot.get("id")
    if not isinstance(bot_id, str) or not bot_id:
        raise _malformed("bot.id is missing or empty")
    properties = _object(user, "properties", "userRequest.user.properties")
    block = _object(user_request, "block", "userRequest.block")
    intent = _object(payload, "intent", "intent")
    action = _object(payload, "action", "action")
    params = _object(action, "params", "action.params")
    detail_params = _object(action, "detailParams", "action.detailParams")
    contexts = payload.get("contexts") or []
    if not isinstance(contexts, list) or not all(isinstance(c, Mapping) for c in contexts):
        raise _malformed("contexts is not a list of objects")
    callback_url = user_request.get("callbackUrl") or ""
    if not isinstance(callback_url, str) or (callback_url and not _is_url(callback_url)):
        raise _malformed("userRequest.callbackUrl is not a URL")
    knowledge = _object(_object(intent, "extra", "intent.extra"), "knowledge", "intent.extra")
    matched = knowledge.get("matchedKnowledges") or []
    is_friend = properties.get("isFriend")
    return SkillRequest(
        bot_id=bot_id,
        bot_name=str(bot.get("name") or ""),
        user_key=user_key,
        user_type=str(user.get("type") or ""),
        plusfriend_user_key=str(properties.get("plusfriendUserKey") or ""),
        app_user_id=str(properties.get("appUserId") or ""),
        is_friend=is_friend if isinstance(is_friend, bool) else None,
        utterance=utterance,
        block_id=str(block.get("id") or intent.get("id") or ""),
        block_name=str(block.get("name") or intent.get("name") or ""),
        params=dict(params),
        detail_params=dict(detail_params),
        client_extra=dict(_client_extra(action)),
        contexts=tuple(dict(context) for context in contexts),
        callback_url=callback_url,
        image_urls=image_urls_of(utterance, params, detail_params),
        location=location_of(params, detail_params),
        matched_knowledges=tuple(dict(match) for match in matched if isinstance(match, Mapping)),
    )


@register
class KakaoChannel(Connector):
    """``account_id`` is the Open Builder bot id; ``access_token`` the app's REST API key.
    Options: ``event_name`` (the Event API event set up in the admin, default
    ``sotong_reply``)."""

    kind = "kakao"
    identity_from_token = False
    label = "KakaoTalk"
    capabilities = frozenset(
        {Capability.WEBHOOKS, Capability.REPLY_MESSAGE, Capability.MANUAL_PUBLISH}
    )
    default_api_base = "https://bot-api.kakao.com"
    limits = TextLimits(max_length=SIMPLE_TEXT_MAX)
    required_scopes: ClassVar[tuple[str, ...]] = ()

    @property
    def bot_id(self) -> str:
        return self.account.account_id

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"KakaoAK {self.account.credentials.access_token}"}

    # -- errors ------------------------------------------------------------------------------

    def is_error_body(self, response: httpx.Response) -> bool:
        # The Event API may accept the HTTP call yet refuse the job: {"status": "FAIL"}.
        # (A task's status FAIL is a delivery report, not an error.)
        if (
            response.status_code != 200
            or not response.request.url.path.endswith("/talk")
            or "json" not in response.headers.get("content-type", "")
        ):
            return False
        try:
            body = response.json()
        except ValueError:
            return False
        return isinstance(body, dict) and body.get("status") == "FAIL"

    def classify(self, response: httpx.Response) -> PlatformError:
        status = response.status_code
        try:
            body = response.json()
            # Event API shape {"status":"FAIL","message"}; Kakao's common {"code","msg"}.
            detail = str(body.get("message") or body.get("msg") or "error")
            code = body.get("code", status)
        except (ValueError, AttributeError):
            return super().classify(response)
        message = f"KakaoTalk: {detail} (HTTP {status})"
        if status == 401:
            # REST API keys never expire: a refused key was revoked or regenerated.
            return CredentialRevoked(message, platform_code=code, status=status)
        if status == 403:
            return PermissionMissing(message, platform_code=code, status=status)
        if status == 404:
            return NotFound(message, platform_code=code, status=status)
        if status == 429:
            try:
                retry_after = float(response.headers.get("retry-after", ""))
            except ValueError:
                retry_after = float(
                    self.account.options.get("rate_limit_retry_after", DEFAULT_RETRY_AFTER)
                )
            return RateLimited(message, retry_after=retry_after, platform_code=code, status=status)
        if status >= 500:
            return TransientError(message, platform_code=code, status=status)
        return ContentRejected(message, platform_code=code, status=status)

    # -- account -----------------------------------------------------------------------------

    def verify_credentials(self) -> AccountCheck:
        """The Event API has no "who am I": ask for the status of a task that does not
        exist. A valid key gets 404 (or 200); a revoked one 401 → CredentialRevoked."""
        with contextlib.suppress(NotFound):
            self.request("GET", f"/v1/tasks/{PROBE_TASK_ID}", headers=self._auth(), idempotent=True)
        return AccountCheck(identity=self.bot_id)

    # -- messages ------------------------------------------------------------------------------

    def reply_to_message(self, message: InboundItem, text: str) -> str:
        """Send ``text`` to the citizen through the Event API; returns the task id. Each
        delivered message costs money and is not idempotent: never retried blindly."""
        if not text or len(text) > SIMPLE_TEXT_MAX:
            raise ContentRejected(f"KakaoTalk: text must be 1–{SIMPLE_TEXT_MAX} characters")
        body = {
            "event": {
                "name": self.account.options.get("event_name", DEFAULT_EVENT_NAME),
                "data": {"text": text},
            },
            "user": [{"type": "botUserKey", "id": message.author_id}],
        }
        response = self.request(
            "POST",
            f"/v2/bots/{self.bot_id}/talk",
            headers=self._auth(),
            json=body,
            idempotent=False,
        )
        return str(self.require(self.json(response), "taskId"))

    def task_status(self, task_id: str) -> dict[str, Any]:
        """Per-user delivery of an Event API job (``GET /v1/tasks/{taskId}``)."""
        answer = self.json(self.request("GET", f"/v1/tasks/{task_id}", headers=self._auth()))
        self.require(answer, "status")
        return dict(answer)

    # -- webhooks (skill requests) ----------------------------------------------------------------

    def verify_webhook(self, request: WebhookRequest) -> None:
        """The unguessable secret in the skill URL is the main protection (Kakao signs
        nothing). With ``skill_secret`` set, the request must also carry it in a header."""
        expected = self.account.credentials.extra.get("skill_secret", "")
        if not expected:
            return
        given = request.header(SKILL_SECRET_HEADER)
        if not given:
            raise WebhookRejected("missing_signature", f"no {SKILL_SECRET_HEADER}")
        if not constant_time_equal(given, expected):
            raise WebhookRejected("bad_signature", f"{SKILL_SECRET_HEADER} does not match")

    def parse_webhook(self, request: WebhookRequest) -> list[InboundItem]:
        """A v2 skill request → one MESSAGE from the citizen's botUserKey (the parsed
        request: ``parse_skill_request(item.raw)``)."""
        payload = parse_json_body(request)
        skill = parse_skill_request(payload)
        if skill.bot_id != self.bot_id:
            raise WebhookRejected("unknown_account", f"bot {skill.bot_id}")
        # Kakao sends no message id and never re-sends a skill request. A hash of the body
        # would merge two genuine messages: the body has no timestamp or request id, so a
        # citizen typing "네" twice sends identical bytes. So each request gets a fresh id;
        # the only "duplicate" this can create is an attacker replaying a request, and that
        # needs the secret skill URL.
        return [
            InboundItem(
                kind=InboundKind.MESSAGE,
                external_id=f"kakao-{uuid.uuid4().hex}",
                text=skill.utterance,
                author_id=skill.user_key,
                created_at=dt.datetime.now(tz=dt.UTC),
                conversation_id=skill.user_key,
                raw=payload,
            )
        ]

    def webhook_ack(self, items: list[InboundItem]) -> WebhookResponse:
        """The answer the citizen sees at once (the 5 s SLA): a valid skill response."""
        return skill_webhook_response(skill_response([simple_text(ACK_TEXT)]))
