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
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from sotong.channels.models import Channel, InboundEvent
from sotong.core import audit
from sotong.inbox import deadlines
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


def item_of(event: InboundEvent) -> InboundItem:
    """The event as the connector's plain data (to reply to it or hide it)."""
    try:
        raw = json.loads(event.payload) if event.payload else {}
    except ValueError:
        raw = {}
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
        raw=raw if isinstance(raw, dict) else {},
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


def ingest_pending(limit: int = BATCH) -> IngestResult:
    """Turn unprocessed inbound events into messages and cases, oldest first. Safe to run
    in several workers at once and again after a crash: each event is claimed by a
    conditional update in the transaction that creates its message."""
    result = IngestResult()
    pending = list(
        InboundEvent.objects.filter(processed_at__isnull=True)
        .select_related("channel", "organisation")
        .order_by("received_at", "pk")[:limit]
    )
    connectors = _Connectors()
    try:
        for event in pending:
            _ingest_one(event, connectors, result)
    finally:
        connectors.close()
    return result


def _ingest_one(event: InboundEvent, connectors: _Connectors, result: IngestResult) -> None:
    item = item_of(event) if event.kind in set(InboundKind) else None
    own = item is not None and (
        Reply.objects.filter(
            case__channel_id=event.channel_id, external_id=event.external_id
        ).exists()
        or connectors.is_own(event.channel, item)
    )
    with transaction.atomic():
        claimed = InboundEvent.objects.filter(pk=event.pk, processed_at__isnull=True).update(
            processed_at=timezone.now()
        )
        if not claimed:
            return  # another worker took it
        if own or event.kind not in set(MessageKind):
            # Our own replies coming back, and reactions: recorded, not cases.
            result.skipped += 1
            return
        message = _message_for(event, result)
    result.messages += 1
    result.message_ids.append(message.pk)


def _message_for(event: InboundEvent, result: IngestResult) -> Message:
    now = timezone.now()
    citizen, created = Citizen.objects.get_or_create(
        channel_id=event.channel_id,
        pseudonym=pseudonym(event.channel_id, event.author_id or f"anonymous:{event.pk}"),
        defaults={
            "organisation_id": event.organisation_id,
            "handle": event.author_id or "",
            "display_name": event.author_name or "",
            "first_seen_at": event.received_at,
            "last_seen_at": event.received_at,
        },
    )
    if not created:
        citizen.last_seen_at = max(citizen.last_seen_at, event.received_at)
        if event.author_name and event.author_name != citizen.display_name:
            citizen.display_name = event.author_name
            citizen.save(update_fields=["last_seen_at", "display_name"])
        else:
            citizen.save(update_fields=["last_seen_at"])
    key = thread_key(event)
    case = (
        Case.objects.filter(citizen=citizen, thread_key=key).order_by("-opened_at", "-pk").first()
    )
    if case is not None and case.is_finished:
        finished_at = case.closed_at or case.answered_at or case.opened_at
        if now - finished_at > REOPEN_WITHIN:
            case = None
        else:
            _reopen(case, event.received_at)
            result.cases_reopened += 1
    if case is None:
        case = _open_case(event, citizen, key)
        result.cases_opened += 1
    message = Message.objects.create(
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
        publication=_publication(event),
        text=event.text or "",
        occurred_at=event.occurred_at,
        received_at=event.received_at,
    )
    CaseEvent.objects.create(
        organisation_id=event.organisation_id,
        case=case,
        kind=CaseEventKind.MESSAGE,
        actor_label=citizen.label,
        at=event.received_at,
        data={"message": message.pk},
    )
    return message


def _publication(event: InboundEvent) -> Publication | None:
    if not event.post_external_id:
        return None
    return Publication.objects.filter(
        channel_id=event.channel_id, external_id=event.post_external_id
    ).first()


def _open_case(event: InboundEvent, citizen: Citizen, key: str) -> Case:
    case = Case(
        organisation_id=event.organisation_id,
        channel_id=event.channel_id,
        citizen=citizen,
        thread_key=key,
        # A channel run by a department brings its cases to that department.
        department_id=event.channel.department_id,
        received_at=event.received_at,
    )
    case.deadline, case.remind_at = deadlines.schedule(
        event.organisation, case.kind, event.received_at
    )
    case.save()
    CaseEvent.objects.create(
        organisation_id=event.organisation_id,
        case=case,
        kind=CaseEventKind.OPENED,
        actor_label=str(SYSTEM.label),
        at=event.received_at,
        data={"deadline": case.deadline.isoformat(), "kind": case.kind},
    )
    audit.record(
        SYSTEM,
        "case.open",
        case,
        organisation=event.organisation,
        department=case.department,
        after={"kind": case.kind, "deadline": case.deadline, "channel": event.channel_id},
    )
    return case


def _reopen(case: Case, received_at: dt.datetime) -> None:
    """A citizen's follow-up on an answered or closed case: it runs again, with a new
    deadline counted from the follow-up."""
    before = {"status": case.status, "deadline": case.deadline}
    case.status = CaseStatus.REOPENED
    case.deadline, case.remind_at = deadlines.schedule(case.organisation, case.kind, received_at)
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
