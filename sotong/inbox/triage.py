"""Triage, in a task after ingest: normalise the text, mask personal information, classify
intent and urgency, and suggest departments. Idempotent: a message is triaged once, by a
conditional update that only the first run wins; one left untriaged by a worker that died
is picked up by the next run."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from sotong.core.audit import Actor
from sotong.core.models import Organisation
from sotong.inbox import routing
from sotong.inbox.ingest import text_hash
from sotong.inbox.models import Case, CaseStatus, Message, Urgency

logger = logging.getLogger(__name__)

SUGGESTIONS = 3
# What the FAQ may answer without a person: plain questions, not complaints or reports.
AUTO_ANSWER_INTENTS = frozenset({"question"})
FAQ = Actor.system("faq")
URGENCY_ORDER: list[str] = [Urgency.NORMAL, Urgency.HIGH, Urgency.URGENT]


@dataclass(frozen=True)
class Analysis:
    masked_text: str
    pii_kinds: list[str]
    text_hash: str
    intent: str
    urgency: str
    reasons: list[str]
    suggestions: list[dict[str, object]]


def analyse(organisation: Organisation, text: str) -> Analysis:
    """What triage finds in one text (no database writes)."""
    from sotong.nlp.intent import classify
    from sotong.nlp.normalise import normalise
    from sotong.nlp.pii import mask

    normalised = normalise(text)
    masked = mask(normalised)
    triage = classify(normalised)
    suggestions: list[dict[str, object]] = []
    # The model sees the masked text: personal data teaches it nothing about departments.
    for suggestion in routing.model_for(organisation).suggest(masked.masked, k=SUGGESTIONS):
        department = routing.department_for_unit(organisation, suggestion.unit)
        suggestions.append(
            {
                "unit": suggestion.unit,
                "department_id": department.pk if department else None,
                "name": department.name if department else suggestion.unit,
                "confidence": round(float(suggestion.confidence), 4),
            }
        )
    return Analysis(
        masked_text=masked.masked,
        pii_kinds=sorted({str(span.kind) for span in masked.spans}),
        text_hash=text_hash(normalised),
        intent=str(triage.intent),
        urgency=str(triage.urgency),
        reasons=[str(reason) for reason in triage.reasons],
        suggestions=suggestions,
    )


def triage_message(message_id: int) -> bool:
    """Triage one message; False if it was already triaged (by this or another run)."""
    message = Message.objects.select_related("organisation").get(pk=message_id)
    if message.triaged_at is not None:
        return False
    found = analyse(message.organisation, message.text or "")
    with transaction.atomic():
        done = Message.objects.filter(pk=message.pk, triaged_at__isnull=True).update(
            masked_text=found.masked_text,
            pii_kinds=found.pii_kinds,
            text_hash=found.text_hash,
            intent=found.intent,
            urgency=found.urgency,
            reasons=found.reasons,
            suggestions=found.suggestions,
            triaged_at=timezone.now(),
        )
        if not done:
            return False
        case = Case.objects.select_for_update().get(pk=message.case_id)
        if _rank(found.urgency) > _rank(case.urgency):
            case.urgency = found.urgency
            case.save(update_fields=["urgency"])
    answer_from_faq(message.pk)
    return True


def answer_from_faq(message_id: int) -> bool:
    """Answer a new case's first message on its channel and close the case when the
    organisation's FAQ answers it confidently. Only plain questions: a complaint, an urgent
    report or a conversation already under way is for people. A reply that then fails to
    send reopens the case (``actions._not_sent``)."""
    from sotong.faq.answers import answer_for
    from sotong.inbox import actions

    message = Message.objects.select_related("organisation", "channel", "case").get(pk=message_id)
    case = message.case
    if message.intent not in AUTO_ANSWER_INTENTS or message.urgency != Urgency.NORMAL:
        return False
    if case.status != CaseStatus.NEW or case.messages.count() != 1:
        return False
    modes = actions.reply_modes(message)
    if not modes:
        return False
    found = answer_for(message.organisation, message.masked_text)
    if found is None:
        return False
    with transaction.atomic():
        if not Case.objects.select_for_update().filter(pk=case.pk, status=CaseStatus.NEW).exists():
            return False  # a person took it meanwhile
        actions.reply(FAQ, case, found.entry.answer, public=modes[0] == "public", message=message)
        actions.add_note(
            FAQ,
            case,
            _("Answered automatically from the FAQ “%(question)s” (confidence %(confidence)s).")
            % {"question": found.question, "confidence": f"{found.confidence:.2f}"},
        )
        actions.close(FAQ, case)
    return True


def _rank(urgency: str) -> int:
    return URGENCY_ORDER.index(urgency) if urgency in URGENCY_ORDER else 0


def triage_pending(limit: int = 500) -> int:
    """Triage the messages not yet triaged, oldest first; returns how many this run did."""
    pending = list(
        Message.objects.filter(triaged_at__isnull=True)
        .order_by("received_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    done = 0
    for pk in pending:
        try:
            done += triage_message(pk)
        except Exception as error:  # noqa: BLE001 - any analyser bug, see below
            # One text the analysers choke on must not stop the others; it stays
            # untriaged (shown as being analysed) and is tried again next run. The log
            # names the message, never its words.
            logger.warning("message %s: triage failed (%s)", pk, type(error).__name__)
    return done
