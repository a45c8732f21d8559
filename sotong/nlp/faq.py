"""FAQ retrieval: BM25 (bm25s) over Kiwi content morphemes, with a confidence figure that
means the same thing in a city with ten FAQs and one with five hundred.

Raw BM25 scores are unbounded and grow with the index (IDF depends on how many documents
there are), so a fixed score threshold would answer too eagerly in a small index and too
timidly in a large one. ``Match.confidence`` is instead built from two 0–1 parts:

- **coverage**: how much of the question the entry explains, as the IDF-weighted share
  of the question's tokens found in the entry's variants (words only in its answer count
  half; framing words such as 알려주세요 and 방법 are dropped first). A token the index
  has never seen counts with the highest possible IDF, so a question about something the
  FAQ does not cover ("아파트 층간소음 신고") keeps a low coverage even when one common word
  ("신고") matches.
- **margin**: how clearly the best entry beats the next *other* entry,
  ``(best − second) / best``. Two entries that fit equally well are a question for a person.

``confidence = coverage × (0.4 + 0.6 × margin)``: a fully explained, unambiguous question
scores 1; a fully explained question that two entries answer equally scores 0.4, below the
threshold, so ties always go to a person. Only the top match can reach the threshold (lower
ranks have no margin over the top). The threshold, ``CONFIDENT``, was chosen with
``bench/faq_eval.py`` (held-out paraphrases and unrelated questions over the demo FAQ): no
unrelated question there reaches 0.21 and no paraphrase whose top match is wrong reaches
0.12, so 0.45 keeps precision at 1.0 with a wide margin and sits just above a tie (0.4),
while still answering about 70 % of the paraphrases automatically; the rest go to staff
with the matches as drafts.

No Django here: the web side (``sotong.faq``) builds one index per organisation and caches it.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sotong.nlp import pii
from sotong.nlp.tokenise import tokens_many

# Chosen by bench/faq_eval.py; see the module docstring.
CONFIDENT = 0.45

_HANGUL = re.compile(r"^[가-힣]+$")
# bm25s defaults (Lucene variant); k1/b as in Lucene, which suits short questions well.
_K1 = 1.5
_B = 0.75


@dataclass(frozen=True)
class Match:
    """One FAQ entry that fits a question: its id, the BM25 score of its best variant,
    the calibrated confidence (0–1) and which question variant matched."""

    entry_id: object
    score: float
    confidence: float
    question: str = ""


def is_confident(match: Match | None) -> bool:
    """True when ``match`` is safe to answer automatically."""
    return match is not None and match.confidence >= CONFIDENT


# Words that frame a question rather than say what it is about (알려주세요, 궁금합니다,
# 어떻게 하나요, 방법, 문의): every FAQ has them, so they would only blur the match and,
# being rare in a small index, make an unrelated question look covered.
FRAMING = frozenset(
    {
        "하",
        "되",
        "있",
        "없",
        "알리",
        "알",
        "주",
        "궁금하",
        "궁금",
        "어떻",
        "방법",
        "문의",
        "가능",
        "싶",
        "드리",
        "부탁",
        "질문",
        "답변",
        "요청",
        "나",
        "가",
        "오",
        "보",
        "수",
    }
)


def _expand(tokens: list[str], known: Collection[str] | None) -> list[str]:
    """Tokens without framing words, plus the syllable bigrams of long Hangul compounds,
    so 순천만국가정원 (one proper noun to Kiwi) still meets 국가정원 written with a space
    (국가 + 정원). For a question (``known`` = the index's vocabulary) only bigrams the
    index has are added: they are guesses, and must not count as unexplained words."""
    out = [token for token in tokens if token not in FRAMING]
    for token in tokens:
        if len(token) >= 4 and _HANGUL.match(token):
            for i in range(len(token) - 1):
                bigram = token[i : i + 2]
                if known is None or bigram in known:
                    out.append(bigram)
    return out


def analyse(texts: Iterable[str], known: Collection[str] | None = None) -> list[list[str]]:
    """The retrieval tokens of each text (content morphemes, compounds expanded)."""
    return [_expand(tokens, known) for tokens in tokens_many(list(texts))]


class _Bm25:
    """bm25s over token lists, plus the document frequencies the coverage needs."""

    def __init__(self, documents: Sequence[list[str]]) -> None:
        import bm25s

        self.size = len(documents)
        self.token_sets = [frozenset(document) for document in documents]
        frequencies: dict[str, int] = {}
        for token_set in self.token_sets:
            for token in token_set:
                frequencies[token] = frequencies.get(token, 0) + 1
        self.document_frequency = frequencies
        self.model = bm25s.BM25(k1=_K1, b=_B)
        if self.size:
            # An empty document would make bm25s' average length zero for a one-row index.
            self.model.index([document or [""] for document in documents], show_progress=False)

    def idf(self, token: str) -> float:
        # Lucene's IDF, the one bm25s uses; an unseen token gets the highest value.
        frequency = self.document_frequency.get(token, 0)
        return math.log(1 + (self.size - frequency + 0.5) / (frequency + 0.5))

    def scores(self, query: list[str]) -> np.ndarray:
        known = [token for token in query if token in self.document_frequency]
        if not known or not self.size:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self.model.get_scores(known), dtype=np.float32)

    def coverage(
        self, query: list[str], support: frozenset[str], weaker: frozenset[str] = frozenset()
    ) -> float:
        """The IDF-weighted share of ``query``'s tokens found in ``support`` (tokens only in
        ``weaker`` count half)."""
        unique = set(query)
        total = sum(self.idf(token) for token in unique)
        if total <= 0:
            return 0.0
        found = sum(
            self.idf(token) * (1.0 if token in support else 0.5 if token in weaker else 0.0)
            for token in unique
        )
        return found / total


class FaqIndex:
    """Question variants of FAQ entries, searchable by a citizen's question.

    ``entries``: ``(entry_id, [question variants], answer)``. Each variant is a document;
    an entry scores as its best variant. The answer is not indexed: it explains, in words
    a citizen rarely uses, and would pull unrelated questions towards long answers.
    """

    def __init__(self, entries: Iterable[tuple[object, Sequence[str], str]]) -> None:
        self.answers: dict[object, str] = {}
        owners: list[object] = []
        questions: list[str] = []
        for entry_id, variants, answer in entries:
            self.answers[entry_id] = answer
            for variant in variants:
                if variant.strip():
                    owners.append(entry_id)
                    questions.append(variant.strip())
        self._owners = owners
        self._questions = questions
        documents = analyse(questions)
        self._bm25 = _Bm25(documents)
        # What an entry "explains" for the coverage: the words of all its variants, and,
        # at half weight, of its answer (시민, 무료 are in the answer of 입장료).
        words: dict[object, set[str]] = {entry_id: set() for entry_id in self.answers}
        for entry_id, document in zip(owners, documents, strict=True):
            words[entry_id].update(document)
        self._support = {entry_id: frozenset(found) for entry_id, found in words.items()}
        ids = list(self.answers)
        self._answer_words = {
            entry_id: frozenset(found)
            for entry_id, found in zip(ids, analyse(self.answers[i] for i in ids), strict=True)
        }

    def __len__(self) -> int:
        return len(self.answers)

    def search(self, text: str, k: int = 3) -> list[Match]:
        """The ``k`` best entries for ``text``, best first; entries with no word in common
        with the question are left out."""
        return self.search_tokens(tokens_many([text])[0], k)

    def search_tokens(self, tokens: list[str], k: int = 3) -> list[Match]:
        """``search`` for a text already analysed (its ``tokenise.tokens``): triage has
        them from its own pass and need not run Kiwi again."""
        query = _expand(tokens, self._bm25.document_frequency)
        scores = self._bm25.scores(query)
        best: dict[object, tuple[float, int]] = {}
        for found in np.flatnonzero(scores > 0).tolist():
            entry_id = self._owners[found]
            score = float(scores[found])
            if entry_id not in best or score > best[entry_id][0]:
                best[entry_id] = (score, found)
        ranked = sorted(best.items(), key=lambda item: -item[1][0])
        matches = []
        for rank, (entry_id, (score, document)) in enumerate(ranked[:k]):
            # The strongest *other* entry: the runner-up for the top, the top for the rest.
            other = (ranked[1][1][0] if len(ranked) > 1 else 0.0) if rank == 0 else ranked[0][1][0]
            margin = max(0.0, (score - other) / score)
            coverage = self._bm25.coverage(
                query, self._support[entry_id], self._answer_words[entry_id]
            )
            matches.append(
                Match(
                    entry_id=entry_id,
                    score=round(score, 4),
                    confidence=round(coverage * (0.4 + 0.6 * margin), 4),
                    question=self._questions[document],
                )
            )
        return matches

    def best(self, text: str) -> Match | None:
        """The top match when it is confident enough to answer automatically, else None."""
        matches = self.search(text, k=2)
        return matches[0] if matches and is_confident(matches[0]) else None


# -- similar past cases --------------------------------------------------------------------------


@dataclass(frozen=True)
class PastCase:
    """A complaint that was answered: what the citizen wrote and what the city replied."""

    case_id: str
    title: str
    content: str
    answer: str
    department: str = ""
    date: str = ""


@dataclass(frozen=True)
class SimilarCase:
    case: PastCase
    score: float


class SimilarCases:
    """Past complaints (title + content) searchable by a new message, so staff see how
    similar ones were answered. Scores are plain BM25: these are drafts for a person, never
    sent automatically, so no calibrated confidence is needed."""

    def __init__(self, cases: Iterable[PastCase]) -> None:
        self.cases = [case for case in cases if case.answer.strip()]
        # The title says what it is about; counting it twice keeps long texts from drowning it.
        texts = [f"{case.title}\n{case.title}\n{case.content}" for case in self.cases]
        self._bm25 = _Bm25(analyse(texts))

    def __len__(self) -> int:
        return len(self.cases)

    def search(self, text: str, k: int = 3) -> list[SimilarCase]:
        scores = self._bm25.scores(analyse([text], known=self._bm25.document_frequency)[0])
        if not len(scores):
            return []
        order = np.argsort(-scores, kind="stable")[:k]
        return [
            SimilarCase(self.cases[index], round(float(scores[index]), 4))
            for index in order
            if scores[index] > 0
        ]


def _masked(text: str) -> str:
    return pii.mask(text.strip()).masked


def load_past_cases(path: str | Path) -> list[PastCase]:
    """Past cases from a complaints CSV with the columns of the shipped dataset
    (title, date, content, answer_y, depart; UTF-8, with or without a byte-order mark).
    Rows without an answer are skipped. The texts are personal data, so they are masked
    here (``sotong.nlp.pii``), before anything can index, show or log them."""
    cases = []
    with open(path, encoding="utf-8-sig", newline="") as handle:
        for number, row in enumerate(csv.DictReader(handle), start=1):
            answer = (row.get("answer_y") or "").strip()
            if not answer:
                continue
            cases.append(
                PastCase(
                    case_id=str(number),
                    title=_masked(row.get("title") or ""),
                    content=_masked(row.get("content") or ""),
                    answer=_masked(answer),
                    department=(row.get("depart") or "").strip(),
                    date=(row.get("date") or "").strip(),
                )
            )
    return cases
