"""From inbound events to messages and cases.

The channels app stores what citizens send as ``InboundEvent`` rows, once per (channel,
external id), and answers the platform at once. Here each event becomes one ``Message``
(one-to-one with the event) and joins its citizen's open case on the same thread, or opens
one. The event is marked processed in the same transaction as the message is created, so
a crash leaves either both or neither: a re-run picks up exactly what is left.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from sotong.channels.models import Channel, InboundEvent
from sotong.core import audit, bulk
from sotong.core.calendar import BusinessCalendar, calendar_for
from sotong.core.models import Organisation
from sotong.inbox import attachments, deadlines, satisfaction
from sotong.inbox.models import (
    Case,
    CaseEvent,
    CaseEventKind,
    CaseStatus,
    Citizen,
    Message,
    MessageKind,
    Reply,
)
from sotong.platforms.base import Connector, InboundItem, InboundKind, PlatformError
from sotong.publishing.models import Publication

logger = logging.getLogger(__name__)

SYSTEM = audit.Actor.system("inbox")

# A follow-up within this long after a case was answered or closed reopens it; a later
# one on the same thread is a new case.
REOPEN_WITHIN = dt.timedelta(days=30)
# How many events one ingest round takes.
BATCH = 500


def _pseudonym_key() -> bytes:
    # Derived from the secret key, not the encryption keys: those rotate by design, and a
    # citizen must keep the same pseudonym across a rotation.
    return hmac.new(settings.SECRET_KEY.encode(), b"sotong.inbox.citizen", hashlib.sha256).digest()


def pseudonym(channel_id: int, author_id: str) -> str:
    """The keyed hash a citizen is known by on one channel (HMAC-SHA256, hex)."""
    message = f"{channel_id}:{author_id}".encode()
    return hmac.new(_pseudonym_key(), message, hashlib.sha256).hexdigest()


def text_hash(normalised: str) -> str:
    """Keyed hash of a normalised text, to spot repeats without keeping the words."""
    key = hmac.new(settings.SECRET_KEY.encode(), b"sotong.inbox.text", hashlib.sha256).digest()
    return hmac.new(key, normalised.encode(), hashlib.sha256).hexdigest()


def raw_of(event: InboundEvent) -> dict[str, Any]:
    """The platform's (or the chat's) own JSON of the event, decrypted; {} if unreadable."""
    try:
        raw = json.loads(event.payload) if event.payload else {}
    except ValueError:
        raw = {}
    return raw if isinstance(raw, dict) else {}


def _extras(event: InboundEvent) -> dict[str, Any]:
    """The raw payload where it may carry photos or a location; {} without reading the
    JSON of the many events that cannot (one substring test each)."""
    payload = event.payload or ""
    if '"attachments"' not in payload and '"location"' not in payload:
        return {}
    return raw_of(event)


def item_of(event: InboundEvent) -> InboundItem:
    """The event as the connector's plain data (to reply to it or hide it)."""
    raw = raw_of(event)
    return InboundItem(
        kind=InboundKind(event.kind),
        external_id=event.external_id,
        text=event.text or "",
        author_id=event.author_id or "",
        author_name=event.author_name or "",
        created_at=event.occurred_at,
        post_external_id=event.post_external_id,
        parent_external_id=event.parent_external_id,
        conversation_id=event.conversation_id,
        raw=raw,
    )


def thread_key(event: InboundEvent) -> str:
    """What makes a conversation: the private conversation, else the post commented on."""
    return (
        event.conversation_id
        or event.post_external_id
        or event.parent_external_id
        or event.external_id
    )[:200]


@dataclass
class IngestResult:
    messages: int = 0
    skipped: int = 0
    cases_opened: int = 0
    cases_reopened: int = 0
    message_ids: list[int] = field(default_factory=list)


class _Connectors:
    """One connector per channel for a batch (Band's own-user lookup is cached on it)."""

    def __init__(self) -> None:
        self._open: dict[int, Connector] = {}

    def is_own(self, channel: Channel, item: InboundItem) -> bool:
        from sotong.channels.actions import connector_for

        connector = self._open.get(channel.pk)
        if connector is None:
            connector = self._open[channel.pk] = connector_for(channel)
        try:
            return connector.is_own(item)
        except PlatformError:
            # Cannot ask the platform who we are: the reply check below still applies.
            return False

    def close(self) -> None:
        for connector in self._open.values():
            connector.close()


# Other apps' work on new messages, in the transaction that makes them (participation reads
# votes in comments under a poll's posts): done exactly once with the message, or not at all.
MESSAGE_HOOKS: list[Callable[[list[Message]], object]] = []


def ingest_pending(limit: int = BATCH) -> IngestResult:
    """Turn unprocessed inbound events into messages and cases, oldest first, a batch at a
    time. Safe to run in several workers at once and again after a crash: events are
    claimed in the transaction that creates their messages, so each is taken once."""
    pending = list(
        InboundEvent.objects.filter(processed_at__isnull=True)
        .select_related("channel", "organisation")
        .order_by("received_at", "pk")[:limit]
    )
    result = IngestResult()
    if not pending:
        return result
    connectors = _Connectors()
    try:
        own = _our_own(pending, connectors)
        try:
            _ingest_batch(pending, own, result)
        except Exception as error:  # noqa: BLE001 - rolled back whole: one by one below
            # A concurrent worker made the same citizen or case first (PostgreSQL), or one
            # event trips a bug: the batch rolled back whole, and one by one settles it.
            logger.info(
                "ingest batch of %d failed (%s); taking events one by one",
                len(pending),
                type(error).__name__,
            )
            result = IngestResult()
            for event in pending:
                _ingest_one(event, event.pk in own, result)
    finally:
        connectors.close()
    return result


def _our_own(events: list[InboundEvent], connectors: _Connectors) -> set[int]:
    """Events that are our own replies coming back (polled with the citizens' comments)."""
    ids = {event.external_id for event in events}
    sent = set(
        Reply.objects.filter(external_id__in=ids).values_list("case__channel_id", "external_id")
    )
    own = set()
    for event in events:
        if event.kind not in set(InboundKind):
            continue
        if (event.channel_id, event.external_id) in sent or connectors.is_own(
            event.channel, item_of(event)
        ):
            own.add(event.pk)
    return own


def _claim(events: list[InboundEvent], now: dt.datetime) -> set[int]:
    """Mark the events processed, returning those this transaction took (another worker
    may have taken some). One statement; both SQLite (3.35+) and PostgreSQL return rows."""
    table = connection.ops.quote_name(InboundEvent._meta.db_table)
    marks = ", ".join(["%s"] * len(events))
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET processed_at = %s "  # noqa: S608 - names are ours, values bound
            f"WHERE id IN ({marks}) AND processed_at IS NULL RETURNING id",
            [connection.ops.adapt_datetimefield_value(now), *(event.pk for event in events)],
        )
        return {row[0] for row in cursor.fetchall()}


@transaction.atomic
def _ingest_batch(events: list[InboundEvent], own: set[int], result: IngestResult) -> None:
    now = timezone.now()
    claimed = _claim(events, now)
    taken = []
    for event in events:
        if event.pk not in claimed:
            continue  # another worker took it
        if event.pk in own or event.kind not in set(MessageKind):
            # Our own replies coming back, and reactions: recorded, not cases.
            result.skipped += 1
            continue
        taken.append(event)
    if not taken:
        return
    citizens = _citizens_for(taken)
    cases = _cases_for(taken, citizens, now, result)
    publications = _publications_for(taken)
    extras = {event.pk: _extras(event) for event in taken}
    messages = [
        _message(
            event,
            cases[event.pk],
            citizens[event.pk],
            publications.get((event.channel_id, event.post_external_id)),
            extras[event.pk],
        )
        for event in taken
    ]
    bulk.insert_rows(messages)
    photos = [
        photo
        for message in messages
        for photo in attachments.from_raw(message, extras[message.event_id])
    ]
    if photos:
        bulk.insert_rows(photos)
        transaction.on_commit(partial(attachments.enqueue, [photo.pk for photo in photos]))
    bulk.insert_rows(
        [
            CaseEvent(
                organisation_id=message.organisation_id,
                case=message.case,
                kind=CaseEventKind.MESSAGE,
                actor_label=message.citizen.label,
                at=message.received_at,
                data={"message": message.pk},
            )
            for message in messages
        ]
    )
    for hook in MESSAGE_HOOKS:
        hook(messages)
    result.messages += len(messages)
    result.message_ids.extend(message.pk for message in messages)


def _author_key(event: InboundEvent) -> tuple[int, str]:
    return event.channel_id, pseudonym(event.channel_id, event.author_id or f"anonymous:{event.pk}")


def _citizens_for(events: list[InboundEvent]) -> dict[int, Citizen]:
    """Each event's citizen (event pk → citizen), made on first sight, last seen updated."""
    keys = {_author_key(event) for event in events}
    known = _load_citizens(keys)
    new = {}
    for event in events:
        key = _author_key(event)
        if key not in known and key not in new:
            new[key] = Citizen(
                organisation_id=event.organisation_id,
                channel_id=event.channel_id,
                pseudonym=key[1],
                handle=event.author_id or "",
                display_name=event.author_name or "",
                first_seen_at=event.received_at,
                last_seen_at=event.received_at,
            )
    if new:
        # A unique conflict (another worker's citizen) rolls the batch back: see the caller.
        bulk.insert_rows(list(new.values()))
        known.update(_load_citizens(set(new)))
    changed = {}
    for event in events:
        citizen = known[_author_key(event)]
        if event.received_at > citizen.last_seen_at:
            citizen.last_seen_at = event.received_at
            changed[citizen.pk] = citizen
        if event.author_name and event.author_name != citizen.display_name:
            citizen.display_name = event.author_name
            changed[citizen.pk] = citizen
    if changed:
        bulk.update_rows(list(changed.values()), ["last_seen_at", "display_name"])
    return {event.pk: known[_author_key(event)] for event in events}


def _load_citizens(keys: set[tuple[int, str]]) -> dict[tuple[int, str], Citizen]:
    channel_ids = {channel_id for channel_id, _ in keys}
    names = {name for _, name in keys}
    return {
        (citizen.channel_id, citizen.pseudonym): citizen
        # The platform id stays encrypted: ingest never needs it back.
        for citizen in Citizen.objects.filter(
            channel_id__in=channel_ids, pseudonym__in=names
        ).defer("handle")
        if (citizen.channel_id, citizen.pseudonym) in keys
    }


def _cases_for(
    events: list[InboundEvent],
    citizens: dict[int, Citizen],
    now: dt.datetime,
    result: IngestResult,
) -> dict[int, Case]:
    """Each event's case (event pk → case): the citizen's case on the thread, reopened if it
    was answered or closed lately, else a new one; later events of the batch join it."""
    threads = {(citizens[event.pk].pk, thread_key(event)) for event in events}
    latest: dict[tuple[int, str], Case] = {}
    for known in Case.objects.filter(
        citizen_id__in={citizen for citizen, _ in threads},
        thread_key__in={key for _, key in threads},
    ).order_by("opened_at", "pk"):
        latest[(known.citizen_id, known.thread_key)] = known
    calendars: dict[int, BusinessCalendar] = {}
    opened: list[Case] = []
    reopened: set[int] = set()
    chosen: dict[int, Case] = {}
    for event in events:
        thread = (citizens[event.pk].pk, thread_key(event))
        case: Case | None = latest.get(thread)
        if case is not None and case.pk is not None and case.is_finished:
            finished_at = case.closed_at or case.answered_at or case.opened_at
            if now - finished_at > REOPEN_WITHIN:
                case = None
            elif satisfaction.take_score(case, event.text or "", event.received_at):
                pass  # the citizen's score for the answer: the case stays answered
            elif case.pk not in reopened:
                _reopen(case, event.received_at, _calendar(calendars, event.organisation))
                reopened.add(case.pk)
                result.cases_reopened += 1
        if case is None:
            case = _new_case(event, citizens[event.pk], thread[1], calendars)
            latest[thread] = case
            opened.append(case)
        chosen[event.pk] = case
    if opened:
        bulk.insert_rows(opened)
        _record_openings(opened, events)
        result.cases_opened += len(opened)
    return chosen


def _calendar(
    calendars: dict[int, BusinessCalendar], organisation: Organisation
) -> BusinessCalendar:
    if organisation.pk not in calendars:
        calendars[organisation.pk] = calendar_for(organisation)
    return calendars[organisation.pk]


def _new_case(
    event: InboundEvent, citizen: Citizen, key: str, calendars: dict[int, BusinessCalendar]
) -> Case:
    case = Case(
        organisation_id=event.organisation_id,
        channel_id=event.channel_id,
        citizen=citizen,
        thread_key=key,
        # A channel run by a department brings its cases to that department.
        department_id=event.channel.department_id,
        received_at=event.received_at,
        opened_at=timezone.now(),
    )
    case.deadline, case.remind_at = deadlines.schedule(
        event.organisation, case.kind, event.received_at, _calendar(calendars, event.organisation)
    )
    return case


def _record_openings(cases: list[Case], events: list[InboundEvent]) -> None:
    channels = {event.channel_id: event.channel for event in events}
    bulk.insert_rows(
        [
            CaseEvent(
                organisation_id=case.organisation_id,
                case=case,
                kind=CaseEventKind.OPENED,
                actor_label=str(SYSTEM.label),
                at=case.received_at,
                data={"deadline": case.deadline.isoformat(), "kind": case.kind},
            )
            for case in cases
        ]
    )
    audit.record_many(
        audit.build(
            SYSTEM,
            "case.open",
            case,
            organisation=channels[case.channel_id].organisation,
            department=channels[case.channel_id].department if case.department_id else None,
            after={"kind": case.kind, "deadline": case.deadline, "channel": case.channel_id},
        )
        for case in cases
    )


def _publications_for(events: list[InboundEvent]) -> dict[tuple[int, str], Publication]:
    """The posts commented on, by (channel, platform id)."""
    wanted = {(e.channel_id, e.post_external_id) for e in events if e.post_external_id}
    if not wanted:
        return {}
    found = Publication.objects.filter(
        channel_id__in={channel for channel, _ in wanted},
        external_id__in={external for _, external in wanted},
    )
    return {
        (publication.channel_id, publication.external_id): publication
        for publication in found
        if (publication.channel_id, publication.external_id) in wanted
    }


def _message(
    event: InboundEvent,
    case: Case,
    citizen: Citizen,
    publication: Publication | None,
    raw: dict[str, Any],
) -> Message:
    place = attachments.location_from_raw(raw) if raw else None
    return Message(
        organisation_id=event.organisation_id,
        event=event,
        channel_id=event.channel_id,
        case=case,
        citizen=citizen,
        kind=event.kind,
        external_id=event.external_id,
        post_external_id=event.post_external_id,
        parent_external_id=event.parent_external_id,
        conversation_id=event.conversation_id,
        publication=publication,
        text=event.text or "",
        occurred_at=event.occurred_at,
        received_at=event.received_at,
        location=json.dumps(place, ensure_ascii=False) if place else "",
    )


def ingest_event(event: InboundEvent) -> Message | None:
    """Take in ONE event now, as the one-by-one path does, and return its message: for
    the KakaoTalk chat, which gives the citizen the case number at once instead of
    waiting for the next ingest round. Safe however it races with the workers: if one
    took the event already (or takes it while this waits for its lock), that message is
    returned. None when the event makes no message (our own reply coming back, a
    reaction), or cannot be taken in now: then it stays for the workers (logged by id).
    May be called inside the caller's transaction (it runs in a savepoint)."""
    found = Message.objects.filter(event_id=event.pk).select_related("case").first()
    if found is not None:
        return found
    event = InboundEvent.objects.select_related("channel", "organisation").get(pk=event.pk)
    connectors = _Connectors()
    try:
        own = _our_own([event], connectors)
    finally:
        connectors.close()
    # A lost race for the citizen (a worker made them first) is settled by trying again:
    # the winner's row is there then.
    for attempt in range(3):
        try:
            _ingest_batch([event], own, IngestResult())
        except IntegrityError:
            if attempt == 2:
                logger.warning(
                    "ingest of event %s kept conflicting; left for the workers", event.pk
                )
                return None
            continue
        except Exception as error:  # noqa: BLE001 - the workers take it up; the caller goes on
            logger.warning(
                "ingest of event %s failed (%s); left for the workers",
                event.pk,
                type(error).__name__,
            )
            return None
        break
    return Message.objects.filter(event_id=event.pk).select_related("case").first()


def _ingest_one(event: InboundEvent, own: bool, result: IngestResult) -> None:
    """One event in its own transaction: the fallback when a batch fails. An event that
    cannot be taken in stays unprocessed for the next round (logged by id, never its
    words) and holds back no other."""
    alone = IngestResult()
    try:
        _ingest_batch([event], {event.pk} if own else set(), alone)
    except IntegrityError:
        # Lost a race for the citizen or the case to a worker that committed first.
        logger.info("ingest of event %s conflicted; left for the next round", event.pk)
        return
    except Exception as error:  # noqa: BLE001 - any bug: the others go on
        logger.warning(
            "ingest of event %s failed (%s); left for the next round",
            event.pk,
            type(error).__name__,
        )
        return
    result.messages += alone.messages
    result.skipped += alone.skipped
    result.cases_opened += alone.cases_opened
    result.cases_reopened += alone.cases_reopened
    result.message_ids.extend(alone.message_ids)


def _reopen(case: Case, received_at: dt.datetime, calendar: BusinessCalendar) -> None:
    """A citizen's follow-up on an answered or closed case: it runs again, with a new
    deadline counted from the follow-up."""
    before = {"status": case.status, "deadline": case.deadline}
    case.status = CaseStatus.REOPENED
    case.deadline, case.remind_at = deadlines.schedule(
        case.organisation, case.kind, received_at, calendar
    )
    case.reminded_at = None
    case.escalated_at = None
    case.closed_at = None
    case.save(
        update_fields=[
            "status",
            "deadline",
            "remind_at",
            "reminded_at",
            "escalated_at",
            "closed_at",
        ]
    )
    CaseEvent.objects.create(
        organisation_id=case.organisation_id,
        case=case,
        kind=CaseEventKind.REOPENED,
        actor_label=str(SYSTEM.label),
        at=received_at,
        data={"deadline": case.deadline.isoformat()},
    )
    audit.record(
        SYSTEM,
        "case.reopen",
        case,
        organisation=case.organisation,
        department=case.department,
        before=before,
        after={"status": case.status, "deadline": case.deadline},
    )
