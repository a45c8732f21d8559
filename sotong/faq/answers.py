"""Answering from the FAQ: the per-organisation retrieval index, cached in each process and
rebuilt when the organisation's FAQ changes or the date does (entries have validity dates);
``answer_for`` for automatic answers and ``suggestions_for`` for drafts shown to staff.

Several web and task processes each keep their own index. They notice a change through
``FaqIndexVersion``, bumped in the transaction of every change: one indexed primary-key
read per question, far cheaper than tokenising the FAQ again.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings

from sotong.core.models import Organisation
from sotong.faq import selectors
from sotong.faq.models import FaqEntry, FaqIndexVersion
from sotong.nlp import faq as retrieval


@dataclass(frozen=True)
class FaqAnswer:
    """An entry that fits a question, how well (BM25 score, calibrated 0–1 confidence),
    which of its variants matched, and whether it is confident enough to send."""

    entry: FaqEntry
    score: float
    confidence: float
    question: str
    confident: bool


@dataclass(frozen=True)
class Suggestions:
    matches: list[FaqAnswer]
    similar: list[retrieval.SimilarCase] = field(default_factory=list)


@dataclass
class _Cached:
    version: int
    day: dt.date
    index: retrieval.FaqIndex


_lock = threading.Lock()
_indexes: dict[int, _Cached] = {}


def current_version(organisation_id: int) -> int:
    version = (
        FaqIndexVersion.objects.filter(organisation_id=organisation_id)
        .values_list("version", flat=True)
        .first()
    )
    return version or 0


def index_for(organisation: Organisation, day: dt.date | None = None) -> retrieval.FaqIndex:
    """The index of the entries valid on ``day`` (default: today where the city is)."""
    day = day or selectors.today(organisation)
    # The version is read before the entries: a change committed in between makes the
    # stored version older than the entries, so the next question rebuilds (never the
    # other way round, which would serve stale entries).
    version = current_version(organisation.pk)
    cached = _indexes.get(organisation.pk)
    if cached is not None and cached.version == version and cached.day == day:
        return cached.index
    rows = selectors.valid_entries(organisation, day).values_list("pk", "questions", "answer")
    index = retrieval.FaqIndex(
        (pk, questions.splitlines(), answer) for pk, questions, answer in rows
    )
    with _lock:
        stored = _indexes.get(organisation.pk)
        if stored is None or (stored.version, stored.day) <= (version, day):
            _indexes[organisation.pk] = _Cached(version, day, index)
    return index


def forget_indexes() -> None:
    """Drop every cached index (tests; an operator's reload)."""
    with _lock:
        _indexes.clear()


def _answers(organisation: Organisation, matches: list[retrieval.Match]) -> list[FaqAnswer]:
    entries = FaqEntry.objects.for_organisation(organisation.pk).select_related("department")
    found = entries.in_bulk([match.entry_id for match in matches])
    return [
        FaqAnswer(
            entry=found[match.entry_id],
            score=match.score,
            confidence=match.confidence,
            question=match.question,
            confident=retrieval.is_confident(match),
        )
        for match in matches
        if match.entry_id in found
    ]


def answer_for(
    organisation: Organisation, text: str, *, day: dt.date | None = None
) -> FaqAnswer | None:
    """The entry to answer ``text`` with automatically, or None when no valid entry fits
    confidently (then a person answers, helped by ``suggestions_for``)."""
    if not text.strip():
        return None
    matches = index_for(organisation, day).search(text, k=2)
    if not matches or not retrieval.is_confident(matches[0]):
        return None
    answers = _answers(organisation, matches[:1])
    return answers[0] if answers else None


def answer_for_tokens(
    organisation: Organisation, tokens: list[str], index: retrieval.FaqIndex | None = None
) -> FaqAnswer | None:
    """``answer_for`` a text already analysed into ``tokenise.tokens`` (triage's batch),
    against ``index`` when the caller holds it for many texts."""
    if not tokens:
        return None
    matches = (index or index_for(organisation)).search_tokens(tokens, k=2)
    if not matches or not retrieval.is_confident(matches[0]):
        return None
    answers = _answers(organisation, matches[:1])
    return answers[0] if answers else None


def suggestions_for(
    organisation: Organisation, text: str, k: int = 3, *, day: dt.date | None = None
) -> Suggestions:
    """Drafts for staff: the ``k`` best valid entries with scores and confidence, and up
    to ``k`` similar past complaints with the answers they were given."""
    if not text.strip():
        return Suggestions([])
    matches = _answers(organisation, index_for(organisation, day).search(text, k=k))
    cases = past_cases()
    return Suggestions(matches, cases.search(text, k=k) if cases is not None else [])


# -- similar past cases ---------------------------------------------------------------------

_cases_lock = threading.Lock()
_cases: dict[str, retrieval.SimilarCases] = {}


def past_cases_path() -> Path | None:
    """The complaints CSV the similar-case suggestions come from: the
    ``SOTONG_PAST_CASES_CSV`` setting or environment variable (the shipped dataset's
    columns); unset, there are no similar-case suggestions."""
    configured = getattr(settings, "SOTONG_PAST_CASES_CSV", None) or os.environ.get(
        "SOTONG_PAST_CASES_CSV", ""
    )
    return Path(configured) if configured else None


def past_cases() -> retrieval.SimilarCases | None:
    """The similar-case index, built once per process (about a second for 1,200 cases)."""
    path = past_cases_path()
    if path is None or not path.is_file():
        return None
    key = str(path)
    with _cases_lock:
        if key not in _cases:
            _cases[key] = retrieval.SimilarCases(retrieval.load_past_cases(path))
        return _cases[key]
