"""Reading the chatbot's settings and a citizen's session; the inbox's question whether a
case came from the chatbot."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from sotong.chat.models import DEFAULT_MENU, ChatSession, ChatSettings, MenuAction
from sotong.inbox.models import Message

MENU_MAX = 9  # quick replies at most 10 (Kakao, M); one place is kept for 처음으로 / 취소


@dataclass(frozen=True)
class MenuItem:
    label: str
    action: str
    value: str = ""


# Every turn needs the settings; they change rarely. Each process keeps them with their
# ``updated_at`` and reads only that column per turn: a change is seen by every web process
# at once (a stale menu in one process would answer a tap on a new button as a question).
_settings: dict[int, tuple[object, ChatSettings]] = {}


def settings_for(organisation_id: int) -> ChatSettings:
    """The organisation's chatbot settings, or the defaults (unsaved) if never changed."""
    stamp = (
        ChatSettings.objects.filter(organisation_id=organisation_id)
        .values_list("updated_at", flat=True)
        .first()
    )
    cached = _settings.get(organisation_id)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    found = ChatSettings.objects.filter(organisation_id=organisation_id).first()
    found = found or ChatSettings(organisation_id=organisation_id, menu=list(DEFAULT_MENU))
    _settings[organisation_id] = (found.updated_at if found.pk else None, found)
    return found


def forget_settings(organisation_id: int | None = None) -> None:
    """Drop the cached settings (tests: primary keys repeat from test to test)."""
    if organisation_id is None:
        _settings.clear()
    else:
        _settings.pop(organisation_id, None)


def menu_of(settings: ChatSettings) -> list[MenuItem]:
    items = settings.menu if settings.menu else DEFAULT_MENU
    out = []
    for item in items[:MENU_MAX]:
        if item.get("label") and item.get("action") in MenuAction.values:
            out.append(
                MenuItem(str(item["label"]), str(item["action"]), str(item.get("value", "")))
            )
    return out


def session_for(channel_id: int, organisation_id: int, citizen_key: str) -> ChatSession:
    """The citizen's session on the channel, or a new one (saved by the first turn)."""
    # The case is read only when needed (a conversation staff own, a satisfaction score).
    found = ChatSession.objects.filter(channel_id=channel_id, citizen_key=citizen_key).first()
    if found is not None:
        return found
    now = timezone.now()
    return ChatSession(
        organisation_id=organisation_id,
        channel_id=channel_id,
        citizen_key=citizen_key,
        started_at=now,
        last_active_at=now,
    )


def draft_of(session: ChatSession) -> dict[str, Any]:
    if not session.draft:
        return {}
    try:
        found = json.loads(session.draft)
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


def set_draft(session: ChatSession, draft: dict[str, Any] | None) -> None:
    session.draft = json.dumps(draft, ensure_ascii=False) if draft else ""


def is_chat_case(message: Message) -> bool:
    """Whether ``message``'s case was made or taken over through the chatbot."""
    return ChatSession.objects.filter(case_id=message.case_id).exists()
