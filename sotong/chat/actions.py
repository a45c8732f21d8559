"""The KakaoTalk conversation's actions: answering a skill request (``converse``, called by
``channels.actions.receive_webhook``), the staff's hand back to the bot, and the chatbot
settings.

A turn: read the citizen's session, decide the answer (``conversation``), store what goes
to the inbox first (a complaint, a hand-off, a message while staff own the conversation:
``channels.intake`` with an id that a repeat cannot duplicate), make the case at once when
the citizen needs its number, then in one short transaction deliver any staff replies held
for this citizen, save the session (only if no other request of the same citizen saved it
meanwhile: otherwise the turn is decided again) and append the transcript.
"""

from __future__ import annotations

import logging
from functools import partial
from typing import Any, cast

from django.conf import settings as django_settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, IntegrityError, transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import override

from sotong.channels.models import Channel, InboundEvent
from sotong.chat import sessions
from sotong.chat.conversation import (
    HOME,
    RECENT_TURNS_FOR_STAFF,
    SCORES,
    STATUS,
    Answer,
    Conversation,
    Heard,
    heard_from,
)
from sotong.chat.models import ChatSession, ChatSettings, ChatTurn, MenuAction, Owner
from sotong.core import audit
from sotong.core.models import Organisation, Staff
from sotong.core.permissions import Performer, actor_of, require
from sotong.core.roles import Capability
from sotong.inbox.models import Case, Reply, ReplyPurpose
from sotong.platforms import kakao
from sotong.platforms.base import InboundItem, InboundKind, WebhookResponse

logger = logging.getLogger(__name__)

ATTEMPTS = 3
CHAT_ACTOR_LABEL = "카카오톡 챗봇"


class _Conflict(Exception):
    """Another request of the same citizen saved the session first."""


def converse(
    channel: Channel, items: list[InboundItem], *, touch: bool = True
) -> tuple[WebhookResponse, int]:
    """The answer to one skill request, and how many inbox events it stored. A database
    that cannot take the turn gives 503: KakaoTalk shows the citizen an error and nothing
    of the turn is kept, so sending it again is safe."""
    from sotong.channels import intake
    from sotong.inbox.ingest import pseudonym

    item = items[0]
    request = kakao.parse_skill_request(dict(item.raw))
    citizen_key = pseudonym(channel.pk, request.user_key)
    heard = heard_from(request)
    organisation = channel.organisation  # kept on the channel object the webhook cache holds
    chat_settings = sessions.settings_for(channel.organisation_id)
    try:
        for _attempt in range(ATTEMPTS):
            session = sessions.session_for(channel.pk, channel.organisation_id, citizen_key)
            seen_turns = session.turns if session.pk else None
            with override(django_settings.LANGUAGE_CODE):
                answer = Conversation(
                    channel,
                    session,
                    chat_settings,
                    heard,
                    organisation_name=organisation.name,
                    turn_ref=item.external_id,
                ).run()
                stored, staff_message = _to_inbox(
                    channel, session, item, request, heard, answer, touch
                )

                # The turn's writes (and a message for staff) go in the group commit of
                # the webhook intake: with many citizens at once, one transaction for all.
                try:
                    new_events, held = intake.commit_with(
                        [(channel, [staff_message])] if staff_message else [],
                        frozenset({channel.pk}) if touch else frozenset(),
                        partial(
                            _write_turn,
                            channel,
                            session,
                            seen_turns,
                            request.user_key,
                            heard,
                            answer,
                        ),
                    )
                except _Conflict:
                    continue
                stored += sum(len(events) for events in new_events)
                return (
                    kakao.skill_webhook_response(_response(answer, cast(list[Reply], held))),
                    stored,
                )
        logger.warning("channel %s: a chat turn lost %d races in a row", channel.pk, ATTEMPTS)
    except (DatabaseError, intake.IntakeTimeout) as error:
        logger.error("channel %s: chat turn not stored, asked to retry: %s", channel.pk, error)
    return WebhookResponse(503, b"retry later"), 0


# -- the inbox side of a turn -------------------------------------------------------------------


def _to_inbox(
    channel: Channel,
    session: ChatSession,
    item: InboundItem,
    request: kakao.SkillRequest,
    heard: Heard,
    answer: Answer,
    touch: bool,
) -> tuple[int, InboundItem | None]:
    """Store what the turn gives the inbox; for a complaint or a hand-off, make the case now
    (the receipt needs its number; staff need it to take over). Returns the events stored,
    and a message for staff to store with the turn's own writes."""
    from sotong.channels import intake
    from sotong.inbox import ingest

    if not answer.inbox:
        return 0, None
    external_id = answer.external_id or item.external_id
    text = answer.inbox_text
    if answer.inbox == "handoff":
        text = _handoff_text(session, heard)
        external_id = f"{item.external_id}-handoff"
    # Each complaint is a case of its own: its own thread in the citizen's conversation
    # (the inbox joins a message to the open case of its thread). A hand-off and what the
    # citizen then writes share the conversation's thread.
    thread = request.user_key
    if answer.inbox == "complaint":
        thread = f"{request.user_key}#{external_id}"
    inbound = InboundItem(
        kind=InboundKind.MESSAGE,
        external_id=external_id,
        text=text or _("(photo)"),
        author_id=request.user_key,
        created_at=timezone.now(),
        conversation_id=thread,
        raw={**dict(item.raw), **answer.inbox_raw},
    )
    if answer.inbox == "staff":
        # Stored with the turn's own writes; joins the open case when the inbox takes it
        # in, seconds later.
        return 0, inbound
    stored = intake.commit(
        [(channel, [inbound])], touch=frozenset({channel.pk}) if touch else frozenset()
    )
    new = len(stored[0]) if stored else 0
    event = InboundEvent.objects.filter(channel=channel, external_id=external_id).first()
    message = None
    if event is not None:
        try:
            message = ingest.ingest_event(event)
        except DatabaseError as error:
            # Stored: the inbox's next run makes the case. The citizen is told to look later.
            logger.warning(
                "chat: event %s not ingested at once (%s)", event.pk, type(error).__name__
            )
    case = message.case if message is not None else None
    if case is not None:
        session.case = case
    if answer.inbox == "complaint":
        answer.outputs.extend(_receipt(case))
        answer.quick_replies = [kakao.quick_reply(STATUS), kakao.quick_reply(HOME)]
        answer.data = {
            "case": case.pk if case else None,
            "photos": len(answer.inbox_raw.get("attachments", [])),
        }
    else:
        answer.data = {**answer.data, "case": case.pk if case else None}
    return new, None


def _receipt(case: Case | None) -> list[dict[str, Any]]:
    from sotong.inbox import deadlines

    if case is None:
        return [
            kakao.simple_text(
                _(
                    "Your complaint is received. Its receipt number will be shown under 처리 현황 in a moment."
                )
            )
        ]
    text = _(
        "Your complaint is received.\nReceipt No. %(number)s\nDeadline: %(deadline)s (%(law)s)\n"
        "If the department finds it needs a different kind of handling, the deadline may change; "
        "you can check it any time under 처리 현황."
    ) % {
        "number": case.pk,
        "deadline": date_format(timezone.localtime(case.deadline), "DATETIME_FORMAT"),
        "law": deadlines.PERIODS[case.kind][1],
    }
    return [kakao.simple_text(text)]


def _handoff_text(session: ChatSession, heard: Heard) -> str:
    """What staff see first: the request and the conversation just before it."""
    lines = [_("[The citizen asked for a person in the KakaoTalk chat]")]
    if session.pk:
        recent = list(
            ChatTurn.objects.filter(session=session).order_by("-at", "-pk")[:RECENT_TURNS_FOR_STAFF]
        )
        for turn in reversed(recent):
            if turn.said:
                lines.append(_("Citizen: %(text)s") % {"text": turn.said})
            if turn.answer:
                lines.append(_("Chatbot: %(text)s") % {"text": turn.answer[:300]})
    if heard.text:
        lines.append(_("Citizen: %(text)s") % {"text": heard.text})
    return "\n".join(lines)


def _write_turn(
    channel: Channel,
    session: ChatSession,
    seen_turns: int | None,
    user_key: str,
    heard: Heard,
    answer: Answer,
) -> list[Reply]:
    """The turn's writes, in the group commit's transaction: deliver any replies held for
    the citizen, save the session (or raise _Conflict), append the transcript."""
    held = _held_replies(channel, session, user_key)
    _save(session, seen_turns)
    _record(session, heard, answer, held)
    return held


def _held_replies(channel: Channel, session: ChatSession, user_key: str) -> list[Reply]:
    """Staff replies kept for this citizen's next message (the city has not enabled the
    paid Event API). Taken in the turn's transaction: sent once, or not at all."""
    from sotong.inbox.actions import take_held_replies

    if session.case_id is None and session.owner != Owner.STAFF:
        return []
    return take_held_replies(channel, user_key)


def _save(session: ChatSession, seen_turns: int | None) -> None:
    now = timezone.now()
    if seen_turns is None:
        session.turns = 1
        session.last_active_at = now
        try:
            with transaction.atomic():
                session.save(force_insert=True)
        except IntegrityError as error:
            raise _Conflict from error
        return
    updated = ChatSession.objects.filter(pk=session.pk, turns=seen_turns).update(
        step=session.step,
        owner=session.owner,
        draft=session.draft,
        misses=session.misses,
        faq_entry_id=session.faq_entry_id,
        case=session.case,
        handed_over_at=session.handed_over_at,
        turns=seen_turns + 1,
        last_active_at=now,
    )
    if not updated:
        raise _Conflict
    session.turns = seen_turns + 1
    session.last_active_at = now


def _record(session: ChatSession, heard: Heard, answer: Answer, held: list[Reply]) -> None:
    from sotong.nlp.pii import mask

    said = heard.text
    data = dict(answer.data)
    if heard.images:
        data["photos_sent"] = len(heard.images)
    if heard.location:
        data["location_sent"] = True
    if held:
        data["delivered_replies"] = [reply.pk for reply in held]
    ChatTurn.objects.create(
        organisation_id=session.organisation_id,
        session=session,
        what=answer.what,
        said=said,
        masked=mask(said).masked if said else "",
        answer="\n".join(answer.texts),
        data=data,
    )


def _response(answer: Answer, held: list[Reply]) -> dict[str, Any]:
    """The skill response: staff replies held for the citizen first, then the bot's words,
    within Kakao's 3 outputs (the bot's texts are merged when they must share one)."""
    staff_outputs = [kakao.simple_text(reply.text[: kakao.SIMPLE_TEXT_MAX]) for reply in held]
    room = kakao.MAX_OUTPUTS - len(staff_outputs)
    outputs = list(answer.outputs)
    if len(outputs) > room:
        texts = [o["simpleText"]["text"] for o in outputs if "simpleText" in o]
        others = [o for o in outputs if "simpleText" not in o]
        merged = "\n\n".join(texts)[: kakao.SIMPLE_TEXT_MAX]
        outputs = ([kakao.simple_text(merged)] if merged else []) + others
        outputs = outputs[: max(room, 0)]
    quick_replies = list(answer.quick_replies)
    if any(reply.purpose == ReplyPurpose.SURVEY for reply in held):
        quick_replies = [kakao.quick_reply(score) for score in SCORES] + quick_replies
    seen: set[str] = set()
    unique = []
    for reply in quick_replies:
        if reply["label"] not in seen:
            seen.add(reply["label"])
            unique.append(reply)
    return kakao.skill_response(
        (staff_outputs + outputs)[: kakao.MAX_OUTPUTS] or [kakao.simple_text("…")],
        unique[: kakao.MAX_QUICK_REPLIES],
    )


# -- staff ------------------------------------------------------------------------------------


def hand_back_to_bot(by: Performer, session: ChatSession) -> ChatSession:
    """Staff finished with the conversation: the bot answers the citizen again. Whoever
    may reply on the conversation's case may do it (the PR office on any)."""
    from sotong.inbox.actions import _require

    with transaction.atomic():
        locked = (
            ChatSession.objects.select_for_update(of=("self",))
            .select_related("case")
            .get(pk=session.pk)
        )
        if locked.case is not None:
            _require(by, locked.case, Capability.REPLY, Capability.ASSIGN_CASES)
        else:
            require(by, Capability.ASSIGN_CASES, locked.organisation_id)
        if locked.owner == Owner.BOT:
            return locked
        ChatSession.objects.filter(pk=locked.pk).update(owner=Owner.BOT, turns=locked.turns + 1)
        audit.record(
            actor_of(by),
            "chat.hand_back",
            locked,
            organisation=locked.organisation,
            before={"owner": Owner.STAFF},
            after={"owner": Owner.BOT, "case": locked.case_id},
        )
    locked.refresh_from_db()
    return locked


def may_manage_settings(by: Performer) -> bool:
    """The PR office (who assigns cases) and the administrators."""
    from sotong.inbox.canned import may_manage

    return may_manage(by)


def update_settings(
    by: Performer,
    organisation: Organisation,
    *,
    greeting: str,
    menu: list[dict[str, str]],
    consent_text: str,
    retention_years: int,
    idle_minutes: int,
) -> ChatSettings:
    """Change the chatbot's words and menu (validated here, audited)."""
    if not may_manage_settings(by) or (
        isinstance(by, Staff) and by.organisation_id != organisation.pk
    ):
        raise PermissionDenied("chat settings")
    errors: dict[str, list[str]] = {}
    cleaned = []
    labels: set[str] = set()
    for position, item in enumerate(menu, start=1):
        label = (item.get("label") or "").strip()
        action = item.get("action") or ""
        value = (item.get("value") or "").strip()
        if not label and not value:
            continue
        if not label:
            errors.setdefault("menu", []).append(_("Item %(n)s needs a label.") % {"n": position})
        elif len(label) > 14:
            errors.setdefault("menu", []).append(
                _(
                    "Item %(n)s: a label may have at most 14 characters (KakaoTalk cuts longer ones)."
                )
                % {"n": position}
            )
        elif label in labels:
            errors.setdefault("menu", []).append(
                _("Item %(n)s repeats the label “%(label)s”.") % {"n": position, "label": label}
            )
        if action not in MenuAction.values:
            errors.setdefault("menu", []).append(
                _("Item %(n)s: choose what it does.") % {"n": position}
            )
        elif action in {MenuAction.POSTS, MenuAction.TEXT} and not value:
            errors.setdefault("menu", []).append(
                _("Item %(n)s: say which topic or campaign, or the text to answer with.")
                % {"n": position}
            )
        labels.add(label)
        cleaned.append({"label": label, "action": action, "value": value})
    if not cleaned:
        errors.setdefault("menu", []).append(_("The menu needs at least one item."))
    if len(cleaned) > sessions.MENU_MAX:
        errors.setdefault("menu", []).append(
            _("At most %(n)s menu items (KakaoTalk shows 10 quick replies).")
            % {"n": sessions.MENU_MAX}
        )
    if len(greeting) > kakao.SIMPLE_TEXT_MAX or len(consent_text) > kakao.SIMPLE_TEXT_MAX:
        errors.setdefault("greeting", []).append(
            _("Texts may have at most %(n)s characters.") % {"n": kakao.SIMPLE_TEXT_MAX}
        )
    if not 1 <= retention_years <= 30:
        errors.setdefault("retention_years", []).append(_("Between 1 and 30 years."))
    if not 5 <= idle_minutes <= 1440:
        errors.setdefault("idle_minutes", []).append(_("Between 5 and 1,440 minutes."))
    if errors:
        raise ValidationError(errors)
    fields = ("greeting", "menu", "consent_text", "retention_years", "idle_minutes")
    with transaction.atomic():
        found, _created = ChatSettings.objects.select_for_update().get_or_create(
            organisation=organisation, defaults={"menu": cleaned}
        )
        before = audit.snapshot(found, fields)
        found.greeting = greeting.strip()
        found.menu = cleaned
        found.consent_text = consent_text.strip()
        found.retention_years = retention_years
        found.idle_minutes = idle_minutes
        found.save()
        audit.record(
            actor_of(by),
            "chat.settings",
            found,
            organisation=organisation,
            before=before,
            after=audit.snapshot(found, fields),
        )
    return found


def forget_idle_drafts(now: Any = None) -> int:
    """Unfinished complaints are the citizen's words kept for a purpose that lapsed: delete
    them once the conversation has been idle past the organisation's limit (data
    minimisation). Returns how many sessions were cleared."""
    import datetime as dt

    from sotong.chat.models import Step

    now = now or timezone.now()
    cleared = 0
    limits = dict(ChatSettings.objects.values_list("organisation_id", "idle_minutes"))
    stale = ChatSession.objects.exclude(draft="").filter(
        last_active_at__lt=now - dt.timedelta(minutes=5)
    )
    for session in stale.only("pk", "organisation_id", "last_active_at", "turns"):
        idle = dt.timedelta(minutes=limits.get(session.organisation_id) or 30)
        if session.last_active_at >= now - idle:
            continue
        cleared += ChatSession.objects.filter(pk=session.pk, turns=session.turns).update(
            draft="", step=Step.MENU
        )
    return cleared
