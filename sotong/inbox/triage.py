"""Triage, in a task after ingest: normalise the text, mask personal information, classify
intent and urgency, and suggest departments. Idempotent: a message is triaged once, by a
conditional update that only the first run wins; one left untriaged by a worker that died
is picked up by the next run."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from sotong.core import audit, bulk
from sotong.core.audit import Actor
from sotong.core.models import Department, Organisation
from sotong.core.selectors import DepartmentResolver
from sotong.inbox import duties, routing
from sotong.inbox.ingest import text_hash
from sotong.inbox.models import Case, CaseStatus, Message, Urgency

if TYPE_CHECKING:
    from sotong.faq.answers import FaqAnswer
    from sotong.nlp.faq import FaqIndex

logger = logging.getLogger(__name__)

SUGGESTIONS = 3
# How many messages one triage round takes.
BATCH = 500
# What triage writes on a message.
STORED_FIELDS = [
    "masked_text",
    "pii_kinds",
    "text_hash",
    "intent",
    "urgency",
    "reasons",
    "suggestions",
]
# What the FAQ may answer without a person: plain questions, not complaints or reports.
AUTO_ANSWER_INTENTS = frozenset({"question"})
FAQ = Actor.system("faq")
TRIAGE = Actor.system("triage")
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
    # The content tokens of the masked text (for the FAQ); not stored.
    tokens: list[str] = field(default_factory=list, compare=False)


def analyse(organisation: Organisation, text: str) -> Analysis:
    """What triage finds in one text (no database writes)."""
    return analyse_many(organisation, [text])[0]


def analyse_many(organisation: Organisation, texts: Sequence[str]) -> list[Analysis]:
    """``analyse`` of many texts at once: Kiwi analyses them in one batch, the routing
    model scores them in one matrix product, and each unit's department is looked up once."""
    from sotong.nlp import tokenise
    from sotong.nlp.intent import classify_morphemes
    from sotong.nlp.normalise import normalise
    from sotong.nlp.pii import mask

    normalised = [normalise(text) for text in texts]
    masked = [mask(text) for text in normalised]
    # One Kiwi pass, over the masked text: what intent and urgency are read from has no
    # need of personal data, and the routing model must not learn from it.
    morphs = list(tokenise.morphemes_many(found.masked for found in masked))
    triages = [classify_morphemes(found.masked, m) for found, m in zip(masked, morphs, strict=True)]
    docs = [tokenise.content_of(m) for m in morphs]
    model = routing.model_for(organisation)
    departments: dict[str, Department | None] = {}
    resolver = DepartmentResolver(organisation)
    duty_table = duties.table_for(organisation)
    out = []
    for text, found, triage, doc, suggested in zip(
        normalised,
        masked,
        triages,
        docs,
        model.suggest_documents(docs, k=SUGGESTIONS),
        strict=True,
    ):
        predicted: list[dict[str, object]] = []
        for suggestion in suggested:
            if suggestion.unit not in departments:
                departments[suggestion.unit] = resolver.resolve(suggestion.unit)
            department = departments[suggestion.unit]
            predicted.append(
                {
                    "unit": suggestion.unit,
                    "department_id": department.pk if department else None,
                    "name": department.name if department else suggestion.unit,
                    "confidence": round(float(suggestion.confidence), 4),
                    "source": duties.SOURCE_MODEL,
                }
            )
        # The city's own 사무분장 first: the model knows the training city's units.
        suggestions = duties.combine(duty_table.match(found.masked, doc), predicted, SUGGESTIONS)
        out.append(
            Analysis(
                masked_text=found.masked,
                pii_kinds=sorted({str(span.kind) for span in found.spans}),
                text_hash=text_hash(text),
                intent=str(triage.intent),
                urgency=str(triage.urgency),
                reasons=[str(reason) for reason in triage.reasons],
                suggestions=suggestions,
                tokens=doc,
            )
        )
    return out


def triage_message(message_id: int) -> bool:
    """Triage one message; False if it was already triaged (by this or another run)."""
    message = Message.objects.select_related("organisation").get(pk=message_id)
    if message.triaged_at is not None:
        return False
    found = analyse(message.organisation, message.text or "")
    with transaction.atomic():
        if not _store(message, found):
            return False
    answer_from_faq(message.pk)
    return True


def _store(message: Message, found: Analysis, case: Case | None = None) -> bool:
    """Write one analysis, in the caller's transaction, if no other run did first; raise
    the case's urgency to the message's. ``case`` is the case already locked, if so."""
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
    if case is None:
        case = Case.objects.select_for_update().get(pk=message.case_id)
    if _rank(found.urgency) > _rank(case.urgency):
        case.urgency = found.urgency
        case.save(update_fields=["urgency"])
    return True


def answer_from_faq(message_id: int) -> bool:
    """Answer a new case's first message on its channel and close the case when the
    organisation's FAQ answers it confidently. Only plain questions: a complaint, an urgent
    report or a conversation already under way is for people. A reply that then fails to
    send reopens the case (``actions._not_sent``)."""
    from sotong.faq.answers import answer_for

    message = Message.objects.select_related("organisation", "channel", "case").get(pk=message_id)
    if not _may_answer_alone(message, message.case.messages.count()):
        return False
    found = answer_for(message.organisation, message.masked_text)
    return found is not None and _answer(message, found)


# Other apps' reasons a message is never answered from the FAQ without a person (the
# chatbot registers one: it tried the FAQ with the citizen already). Each is asked last.
AUTO_ANSWER_VETOES: list[Callable[[Message], bool]] = []


def _may_answer_alone(message: Message, messages_in_case: int) -> bool:
    from sotong.inbox import actions

    if message.intent not in AUTO_ANSWER_INTENTS or message.urgency != Urgency.NORMAL:
        return False
    if message.case.status != CaseStatus.NEW or messages_in_case != 1:
        return False
    if message.case.is_sensitive:
        return False  # its replies wait for a PR editor's approval: for people, not the FAQ
    if not actions.reply_modes(message):
        return False
    return not any(veto(message) for veto in AUTO_ANSWER_VETOES)


def _answer(message: Message, found: FaqAnswer) -> bool:
    from sotong.inbox import actions

    case = message.case
    modes = actions.reply_modes(message)
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


def _answer_batch(done: list[Message], found: dict[int, Analysis]) -> None:
    """``answer_from_faq`` for a triaged batch: the candidates and their cases read in
    a few queries, and the FAQ searched with the tokens triage already has."""
    from sotong.faq.answers import answer_for_tokens, index_for

    wanted = [
        m.pk
        for m in done
        if found[m.pk].intent in AUTO_ANSWER_INTENTS and found[m.pk].urgency == Urgency.NORMAL
    ]
    if not wanted:
        return
    candidates = Message.objects.select_related("organisation", "channel", "case").in_bulk(wanted)
    counts = dict(
        Message.objects.filter(case_id__in={m.case_id for m in candidates.values()})
        .values("case_id")
        .annotate(n=Count("id"))
        .values_list("case_id", "n")
    )
    indexes: dict[int, FaqIndex] = {}
    for pk in wanted:
        message = candidates.get(pk)
        if message is None:
            continue  # gone meanwhile
        try:
            if not _may_answer_alone(message, counts.get(message.case_id, 0)):
                continue
            organisation = message.organisation
            if organisation.pk not in indexes:
                indexes[organisation.pk] = index_for(organisation)
            answer = answer_for_tokens(organisation, found[pk].tokens, indexes[organisation.pk])
            if answer is not None:
                _answer(message, answer)
        except Exception as error:  # noqa: BLE001 - the message is triaged; a person answers
            logger.warning("message %s: FAQ answer failed (%s)", pk, type(error).__name__)


def _rank(urgency: str) -> int:
    return URGENCY_ORDER.index(urgency) if urgency in URGENCY_ORDER else 0


def triage_pending(limit: int = BATCH) -> int:
    """Triage the messages not yet triaged, oldest first, as one batch; returns how many
    this run did. The batch is analysed together and written in one transaction; if the
    analysis or the write fails, each message is tried on its own, so one text the
    analysers choke on does not hold back the others."""
    messages = list(
        Message.objects.filter(triaged_at__isnull=True)
        .select_related("organisation")
        .order_by("received_at", "pk")[:limit]
    )
    if not messages:
        return 0
    found = _analyse_batch(messages)
    done = _store_batch([(m, found[m.pk]) for m in messages if m.pk in found])
    _answer_batch(done, found)
    return len(done)


def _analyse_batch(messages: list[Message]) -> dict[int, Analysis]:
    by_organisation: dict[int, list[Message]] = defaultdict(list)
    for message in messages:
        by_organisation[message.organisation_id].append(message)
    found: dict[int, Analysis] = {}
    for group in by_organisation.values():
        organisation = group[0].organisation
        try:
            analyses = analyse_many(organisation, [m.text or "" for m in group])
        except Exception:  # noqa: BLE001 - find the one that fails, below
            analyses = None
        if analyses is not None:
            found.update({m.pk: a for m, a in zip(group, analyses, strict=True)})
            continue
        for message in group:
            try:
                found[message.pk] = analyse(organisation, message.text or "")
            except Exception as error:  # noqa: BLE001 - any analyser bug, see below
                # It stays untriaged (shown as being analysed) and is tried again next
                # run. The log names the message, never its words.
                logger.warning("message %s: triage failed (%s)", message.pk, type(error).__name__)
    return found


def _store_batch(analysed: list[tuple[Message, Analysis]]) -> list[Message]:
    """Store the analyses in one transaction; on any error, one transaction each."""
    try:
        with transaction.atomic():
            return _store_all(analysed)
    except Exception as error:  # noqa: BLE001 - rolled back whole: retried one by one
        logger.warning("triage batch failed (%s): storing one by one", type(error).__name__)
    done = []
    for message, found in analysed:
        try:
            with transaction.atomic():
                if _store(message, found):
                    done.append(message)
        except Exception as error:  # noqa: BLE001 - the others go on
            logger.warning("message %s: triage failed (%s)", message.pk, type(error).__name__)
    return done


def _store_all(analysed: list[tuple[Message, Analysis]]) -> list[Message]:
    """``_store`` for many, in the caller's transaction: the messages are claimed in one
    statement (those another run triaged first are left alone), written in bulk, and only
    the cases whose urgency rises are touched."""
    if not analysed:
        return []
    now = timezone.now()
    table = connection.ops.quote_name(Message._meta.db_table)
    marks = ", ".join(["%s"] * len(analysed))
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET triaged_at = %s "  # noqa: S608 - names are ours, values bound
            f"WHERE id IN ({marks}) AND triaged_at IS NULL RETURNING id",
            [
                connection.ops.adapt_datetimefield_value(now),
                *(message.pk for message, _ in analysed),
            ],
        )
        claimed = {row[0] for row in cursor.fetchall()}
    done = []
    for message, found in analysed:
        if message.pk not in claimed:
            continue
        message.masked_text = found.masked_text
        message.pii_kinds = found.pii_kinds
        message.text_hash = found.text_hash
        message.intent = found.intent
        message.urgency = found.urgency
        message.reasons = found.reasons
        message.suggestions = found.suggestions
        message.triaged_at = now
        done.append(message)
    bulk.update_rows(done, STORED_FIELDS)
    raising = {m.case_id: m.urgency for m in done if _rank(m.urgency) > 0}
    raised = []
    entries = []
    for case in (
        Case.objects.select_for_update(of=("self",))
        .select_related("organisation", "department")
        .filter(pk__in=raising)
        .order_by("pk")
    ):
        wanted = max(
            (m.urgency for m in done if m.case_id == case.pk and _rank(m.urgency) > 0), key=_rank
        )
        if _rank(wanted) > _rank(case.urgency):
            # Recorded: a raised urgency can make the case sensitive (replies wait for
            # approval) and moves it up every list.
            entries.append(
                audit.build(
                    TRIAGE,
                    "case.urgency",
                    case,
                    organisation=case.organisation,
                    department=case.department,
                    before={"urgency": case.urgency, "sensitive": case.is_sensitive},
                    after={"urgency": wanted, "sensitive": _sensitive_with(case, wanted)},
                )
            )
            case.urgency = wanted
            raised.append(case)
    bulk.update_rows(raised, ["urgency"])
    audit.record_many(entries)
    return done


def _sensitive_with(case: Case, urgency: str) -> bool:
    before = case.urgency
    case.urgency = urgency
    try:
        return case.is_sensitive
    finally:
        case.urgency = before
