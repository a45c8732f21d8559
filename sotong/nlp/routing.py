"""Department routing: suggest the top departments (units) for a citizen's message.

Two views of one TF-IDF over Kiwi content morphemes (sublinear tf, the title counted twice:
it names the matter):

- a linear SVM (its margins through a softmax), trained with recent complaints weighing
  more (half-life ``RECENCY_HALF_LIFE_YEARS``): how a city routes drifts year by year;
- a nearest-neighbour vote over past complaints (similar cases usually went to the same unit;
  it learns a staff correction at once, before any refit).

Departments' answers, when given for training, are added as extra documents of their unit at
half weight: an answer names the unit's duties in the words the unit uses. They are training
signal only; ``suggest`` sees the citizen's text (and the day it came) alone.

Units come and go with reorganisations (교통운영과 → 교통행정과 → 교통운수과, …), and which
of a family of units handles a matter depends on *when*. So the text's probabilities are
multiplied by a time prior: how much of each unit's history lies near the message's day
(a Laplace kernel of ``TIME_SCALE_YEARS`` over the training complaints' dates), divided by
the unit's overall share (the classifiers already count that). A message from after all the
history (every real one) sees recency: a unit not heard of for a year is strongly
discounted. ``aliases`` (old unit → successor) move a truly renamed unit's history onto its
successor.

Saved as ``.npz`` (numbers) + ``.json`` (vocabulary, labels, settings): no pickle, so loading a
model file cannot run code.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from sotong.nlp import tokenise

FORMAT = "sotong-routing-2"
# Version 1 files (an SVM + logistic regression ensemble, per-unit last-seen dates) still load.
OLD_FORMATS = ("sotong-routing-1",)
TITLE_WEIGHT = 2
ANSWER_WEIGHT = 0.5
SVM_TEMPERATURE = 0.1
# The product of the views is over-confident (5-fold on the real complaints: mean top
# confidence 0.61 for top-1 accuracy 0.54). A power below one fixes that without changing any
# ranking: 0.8 has the best cross-validated log-loss (2.175; 1.0: 2.233), 0.7 nearly as good
# (2.192) and a little modest (0.47), which suits a model shipped to other cities: their own
# history (sotong.inbox.routing_models blends it in) should outweigh it soon.
CONFIDENCE_POWER = 0.7
NEIGHBOURS = 10
# Measured on the real complaints (sotong triage eval, 5-fold, date split and prequential):
# 0.5 year is where the three agree; 0.25 is better on 5-fold, 1.0 on the date split.
TIME_SCALE_YEARS = 0.5
RECENCY_HALF_LIFE_YEARS = 2.0
# The time prior of a unit with no history near the day: small, never zero (a unit learnt
# from one correction can still be suggested).
TIME_FLOOR = 1e-3
REFIT_EVERY = 10
DATA_DIR = Path(__file__).resolve().parent / "data"
DEFAULT_PATH = DATA_DIR / "routing-incheon-junggu"


@dataclass(frozen=True)
class Suggestion:
    unit: str
    confidence: float


def unit_of(depart: str) -> str:
    """The unit of a department name: its last word (``도시재생국 교통운수과`` → ``교통운수과``)."""
    words = depart.split()
    return words[-1] if words else ""


def _years(day: dt.date) -> float:
    return day.year + (day.timetuple().tm_yday - 1) / 365.25


def _parse_day(value: str | dt.date | None) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    text = value.strip().replace(".", "-").replace("/", "-")
    return dt.date.fromisoformat(text[:10]) if text else None


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def document(text: str, title: str = "") -> list[str]:
    """The tokens the model reads: the title's twice, then the text's."""
    return tokenise.tokens(title) * TITLE_WEIGHT + tokenise.tokens(text)


class RoutingModel:
    """Fit on past complaints, suggest units for new ones, learn from staff corrections."""

    def __init__(
        self,
        aliases: Mapping[str, str] | None = None,
        *,
        min_df: int = 1,
        refit_every: int = REFIT_EVERY,
    ) -> None:
        self.aliases = dict(aliases or {})
        self.min_df = min_df
        self.refit_every = refit_every
        self.vocabulary: dict[str, int] = {}
        self.counts = sp.csr_matrix((0, 0), dtype=np.float32)
        self.labels: list[str] = []
        self.weights = np.zeros(0, dtype=np.float32)
        # Each document's day in years (answers share their complaint's); NaN: unknown.
        self.years = np.zeros(0, dtype=np.float64)
        self.reference_year = 0.0
        self.classes: list[str] = []
        self.idf = np.zeros(0, dtype=np.float32)
        self.svm_coef = np.zeros((0, 0), dtype=np.float32)
        self.svm_intercept = np.zeros(0, dtype=np.float32)
        self.linear_classes: list[str] = []
        self.pending = 0
        self._memory: sp.csr_matrix | None = None
        self._lock = threading.Lock()

    # Labels ---------------------------------------------------------------------------------

    def canonical(self, unit: str) -> str:
        """A unit's current name: follows aliases (old → successor), chains included."""
        seen = set()
        while unit in self.aliases and unit not in seen:
            seen.add(unit)
            unit = self.aliases[unit]
        return unit

    # Training -------------------------------------------------------------------------------

    def fit(
        self,
        texts: Sequence[str],
        units: Sequence[str],
        dates: Sequence[str | dt.date | None] | None = None,
        *,
        titles: Sequence[str] | None = None,
        answers: Sequence[str] | None = None,
    ) -> RoutingModel:
        """Train on complaints ``texts`` answered by ``units`` (unit names or full department
        names); ``answers`` (the departments' replies) are training signal only."""
        if len(texts) != len(units):
            raise ValueError("texts and units differ in length")
        docs = self._documents(texts, titles)
        answer_docs = tokenise.tokens_many(answers) if answers is not None else None
        return self.fit_documents(docs, units, dates, answer_docs=answer_docs)

    def fit_documents(
        self,
        docs: Sequence[list[str]],
        units: Sequence[str],
        dates: Sequence[str | dt.date | None] | None = None,
        *,
        answer_docs: Sequence[list[str]] | None = None,
    ) -> RoutingModel:
        """``fit`` on texts already tokenised with ``document`` (evaluations tokenise once)."""
        docs = list(docs)
        labels = [self.canonical(unit_of(u)) for u in units]
        days = [_parse_day(d) for d in dates] if dates is not None else [None] * len(docs)
        years = [_years(day) if day is not None else np.nan for day in days]
        weights = [1.0] * len(docs)
        if answer_docs is not None:
            for tokens, label, year in zip(
                answer_docs, labels[: len(docs)], years[: len(docs)], strict=True
            ):
                if tokens:
                    docs.append(tokens)
                    labels.append(label)
                    years.append(year)
                    weights.append(ANSWER_WEIGHT)
        self.years = np.asarray(years, dtype=np.float64)
        known = self.years[~np.isnan(self.years)]
        self.reference_year = float(known.max()) if len(known) else 0.0
        self._build_vocabulary(docs)
        self.counts = self._count(docs)
        self.labels = labels
        self.weights = np.asarray(weights, dtype=np.float32)
        self._refit()
        return self

    def _documents(self, texts: Sequence[str], titles: Sequence[str] | None) -> list[list[str]]:
        bodies = tokenise.tokens_many(texts)
        if titles is None:
            return bodies
        heads = tokenise.tokens_many(titles)
        return [h * TITLE_WEIGHT + b for h, b in zip(heads, bodies, strict=True)]

    def _build_vocabulary(self, docs: list[list[str]]) -> None:
        df: dict[str, int] = {}
        for doc in docs:
            for token in set(doc):
                df[token] = df.get(token, 0) + 1
        kept = sorted(t for t, n in df.items() if n >= self.min_df)
        self.vocabulary = {t: i for i, t in enumerate(kept)}

    def _count(self, docs: list[list[str]]) -> sp.csr_matrix:
        # Built row by row straight into CSR (no COO round trip): triage counts batches of
        # thousands of messages here.
        get = self.vocabulary.get
        indices: list[int] = []
        indptr = [0]
        for doc in docs:
            indices.extend(c for c in map(get, doc) if c is not None)
            indptr.append(len(indices))
        matrix = sp.csr_matrix(
            (
                np.ones(len(indices), dtype=np.float32),
                np.asarray(indices, dtype=np.int32),
                np.asarray(indptr, dtype=np.int64),
            ),
            shape=(len(docs), len(self.vocabulary)),
        )
        matrix.sum_duplicates()
        return matrix

    def _tfidf(self, counts: sp.csr_matrix) -> sp.csr_matrix:
        x = counts.copy()
        x.data = 1.0 + np.log(x.data)  # sublinear tf
        idf = self.idf[: x.shape[1]]
        if len(idf) < x.shape[1]:  # words first met in corrections: as rare as can be
            rare = float(self.idf.max()) if len(self.idf) else 1.0
            idf = np.concatenate([idf, np.full(x.shape[1] - len(idf), rare, dtype=np.float32)])
        x = x @ sp.diags(idf)
        norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=1)).ravel())
        norms[norms == 0] = 1.0
        return sp.csr_matrix(sp.diags(1.0 / norms) @ x, dtype=np.float32)

    def _dated_years(self) -> np.ndarray:
        """Each document's year, an undated one taken as of the newest date known."""
        return np.where(np.isnan(self.years), self.reference_year, self.years)

    def _refit(self) -> None:
        from sklearn.svm import LinearSVC

        n = self.counts.shape[0]
        df = np.bincount(self.counts.indices, minlength=self.counts.shape[1])
        self.idf = (np.log((1 + n) / (1 + df)) + 1).astype(np.float32)
        self.classes = sorted(set(self.labels))
        self.pending = 0
        self._memory = None
        x = self._tfidf(self.counts)
        y = np.asarray(self.labels)
        if len(self.classes) < 2:
            # One unit only: nothing to separate; the neighbours answer alone.
            self.linear_classes = []
            return
        # Recent complaints weigh more: the SVM follows how the city routes now.
        age = self.reference_year - self._dated_years()
        weights = self.weights * np.power(0.5, age / RECENCY_HALF_LIFE_YEARS)
        # A logistic regression beside the SVM cost a minute per refit for no measurable gain.
        svm = LinearSVC(C=1.0).fit(x, y, sample_weight=weights)
        svm_coef, svm_intercept = svm.coef_, svm.intercept_
        if len(self.classes) == 2:  # binary models keep one row: the second class's
            svm_coef = np.vstack([-svm_coef, svm_coef])
            svm_intercept = np.concatenate([-svm_intercept, svm_intercept])
        self.svm_coef = svm_coef.astype(np.float32)
        self.svm_intercept = svm_intercept.astype(np.float32)
        self.linear_classes = [str(c) for c in svm.classes_]

    def learn(
        self, text: str, unit: str, *, title: str = "", date: str | dt.date | None = None
    ) -> None:
        """A staff correction: ``text`` belongs to ``unit``. The neighbours and the time
        prior know it at once; the SVM is refitted after every ``refit_every`` corrections,
        or at once for a unit it does not know yet."""
        self.learn_document(document(text, title), unit, date=date)

    def learn_document(
        self, doc: list[str], unit: str, *, date: str | dt.date | None = None
    ) -> None:
        """``learn`` of a tokenised text. Without ``date`` the correction is news of the
        newest day the model knows (not the wall clock: a correction today must not make a
        model trained years ago forget everything else)."""
        label = self.canonical(unit_of(unit))
        day = _parse_day(date)
        with self._lock:
            year = _years(day) if day is not None else self.reference_year
            for token in doc:
                if token not in self.vocabulary:
                    self.vocabulary[token] = len(self.vocabulary)
            row = self._count([doc])
            width = len(self.vocabulary)
            self.counts.resize((self.counts.shape[0], width))
            self.counts = sp.vstack([self.counts, row], format="csr")
            self.labels.append(label)
            self.weights = np.append(self.weights, np.float32(1.0))
            self.years = np.append(self.years, year)
            self.reference_year = max(self.reference_year, year)
            if label not in self.classes:
                self.classes = sorted({*self.classes, label})
            self._memory = None
            self.pending += 1
            # A unit the SVM has never seen would be outvoted by it until the next refit:
            # refit at once (new units are rare; corrections of known ones wait).
            if self.pending >= self.refit_every or label not in self.linear_classes:
                self._refit()

    # Prediction -----------------------------------------------------------------------------

    def probabilities(self, docs: list[list[str]]) -> tuple[list[str], np.ndarray]:
        """Each document's probability per unit (columns in the order of the returned units),
        for messages of today (after all the history)."""
        return self.probabilities_at(docs, None)

    def probabilities_at(
        self, docs: list[list[str]], dates: Sequence[str | dt.date | None] | None
    ) -> tuple[list[str], np.ndarray]:
        """``probabilities`` of messages that came on ``dates`` (None: the newest day the
        model knows, which for a message from after all the history is the same)."""
        classes = self.classes
        index = {c: i for i, c in enumerate(classes)}
        counts = self._count(docs)
        x = self._tfidf(counts)
        total = np.zeros((len(docs), len(classes)))
        if self.linear_classes:
            cols = [index[c] for c in self.linear_classes]
            width = self.svm_coef.shape[1]
            margins = x[:, :width] @ self.svm_coef.T + self.svm_intercept
            total[:, cols] += _softmax(np.asarray(margins) / SVM_TEMPERATURE)
        total += self._neighbours(x, index)
        total *= self._time_prior(classes, index, len(docs), dates)
        total **= CONFIDENCE_POWER
        sums = total.sum(axis=1, keepdims=True)
        sums[sums == 0] = 1.0
        return classes, total / sums

    def _neighbour_memory(self) -> sp.csr_matrix:
        """The past documents' TF-IDF, transposed, kept until the documents change (a triage
        batch must not recompute it)."""
        memory = self._memory
        if memory is None or memory.shape[1] != self.counts.shape[0]:
            memory = self._memory = sp.csr_matrix(self._tfidf(self.counts).T)
        return memory

    def _neighbours(self, x: sp.csr_matrix, index: dict[str, int]) -> np.ndarray:
        votes = np.zeros((x.shape[0], len(index)))
        size = self.counts.shape[0]
        if size == 0 or x.shape[0] == 0:
            return votes
        memory = self._neighbour_memory()
        similarity = np.asarray((x[:, : memory.shape[0]] @ memory).todense())
        k = min(NEIGHBOURS, size)
        nearest = np.argpartition(-similarity, k - 1, axis=1)[:, :k]
        rows = np.arange(x.shape[0])[:, None]
        closeness = np.clip(similarity[rows, nearest], 0.0, None)
        label_cols = np.fromiter((index[label] for label in self.labels), dtype=np.int64)
        np.add.at(
            votes,
            (np.broadcast_to(rows, nearest.shape), label_cols[nearest]),
            closeness**2 * self.weights[nearest],
        )
        sums = votes.sum(axis=1, keepdims=True)
        sums[sums == 0] = 1.0
        return votes / sums

    def _time_prior(
        self,
        classes: list[str],
        index: dict[str, int],
        rows: int,
        dates: Sequence[str | dt.date | None] | None,
    ) -> np.ndarray:
        """Per message and unit: the unit's share of the history near the message's day,
        over its share of all the history. All ones when no date is known."""
        if not len(self.years) or np.isnan(self.years).all():
            return np.ones((rows, len(classes)))
        years = self._dated_years()
        label_cols = np.fromiter((index[label] for label in self.labels), dtype=np.int64)
        overall = np.bincount(label_cols, weights=self.weights, minlength=len(classes))
        overall = overall / overall.sum()
        wanted = np.asarray(
            [
                _years(day) if (day := _parse_day(d)) is not None else self.reference_year
                for d in (dates if dates is not None else [None] * rows)
            ],
            dtype=np.float64,
        )
        # Messages of one day share one prior (a triage batch is all of today).
        days, which = np.unique(wanted, return_inverse=True)
        table = np.empty((len(days), len(classes)))
        for n, when in enumerate(days):
            closeness = -np.abs(when - years) / TIME_SCALE_YEARS
            kernel = np.exp(closeness - closeness.max()) * self.weights
            near = np.bincount(label_cols, weights=kernel, minlength=len(classes))
            table[n] = (near / near.sum() + TIME_FLOOR) / (overall + TIME_FLOOR)
        prior: np.ndarray = table[which.reshape(-1)]
        return prior

    def suggest(
        self, text: str, k: int = 3, *, title: str = "", date: str | dt.date | None = None
    ) -> list[Suggestion]:
        """The ``k`` likeliest units for ``text``, most likely first; confidences sum to ≤ 1.
        ``date``: the day it came (default: as of the newest history, i.e. today)."""
        dates = None if date is None else [date]
        return self.suggest_many([text], k, titles=[title], dates=dates)[0]

    def suggest_many(
        self,
        texts: Sequence[str],
        k: int = 3,
        *,
        titles: Sequence[str] | None = None,
        dates: Sequence[str | dt.date | None] | None = None,
    ) -> list[list[Suggestion]]:
        if not self.classes:
            return [[] for _ in texts]
        return self.suggest_documents(self._documents(texts, titles), k, dates=dates)

    def suggest_documents(
        self,
        docs: list[list[str]],
        k: int = 3,
        *,
        dates: Sequence[str | dt.date | None] | None = None,
    ) -> list[list[Suggestion]]:
        if not self.classes:
            return [[] for _ in docs]
        with self._lock:
            # A subclass that blends ``probabilities`` (an organisation's model) and knows
            # nothing of dates is asked as it always was: as of today.
            if dates is None or type(self).probabilities is not RoutingModel.probabilities:
                classes, probabilities = self.probabilities(docs)
            else:
                classes, probabilities = self.probabilities_at(docs, dates)
        k = min(k, len(classes))
        if k <= 0:
            return [[] for _ in docs]
        top = np.argpartition(-probabilities, k - 1, axis=1)[:, :k]
        rows = np.arange(len(docs))[:, None]
        top = np.take_along_axis(top, np.argsort(-probabilities[rows, top], axis=1), axis=1)
        values = np.round(probabilities[rows, top], 4).tolist()
        out: list[list[Suggestion]] = []
        for row, order, confidences in zip(probabilities, top.tolist(), values, strict=True):
            if not row.any():
                out.append([])
                continue
            out.append([Suggestion(classes[j], c) for j, c in zip(order, confidences, strict=True)])
        return out

    # Files ----------------------------------------------------------------------------------

    def save(self, path: str | Path) -> None:
        """Write ``path``.npz and ``path``.json (any suffix on ``path`` is replaced)."""
        base = Path(path).with_suffix("")
        base.parent.mkdir(parents=True, exist_ok=True)
        counts = self.counts.tocsr()
        np.savez_compressed(
            base.with_suffix(".npz"),
            counts_data=counts.data.astype(np.float32),
            counts_indices=counts.indices.astype(np.int32),
            counts_indptr=counts.indptr.astype(np.int64),
            counts_shape=np.asarray(counts.shape, dtype=np.int64),
            weights=self.weights,
            years=self.years.astype(np.float64),
            idf=self.idf,
            # Half precision halves the file; the rankings do not change at this scale.
            svm_coef=self.svm_coef.astype(np.float16),
            svm_intercept=self.svm_intercept,
        )
        vocabulary = sorted(self.vocabulary, key=self.vocabulary.__getitem__)
        meta = {
            "format": FORMAT,
            "aliases": self.aliases,
            "min_df": self.min_df,
            "refit_every": self.refit_every,
            "vocabulary": vocabulary,
            "labels": self.labels,
            "classes": self.classes,
            "linear_classes": self.linear_classes,
            "reference_year": self.reference_year,
            "pending": self.pending,
        }
        base.with_suffix(".json").write_text(json.dumps(meta, ensure_ascii=False))

    @classmethod
    def load(cls, path: str | Path) -> RoutingModel:
        base = Path(path).with_suffix("")
        meta = json.loads(base.with_suffix(".json").read_text())
        version = meta.get("format")
        if version != FORMAT and version not in OLD_FORMATS:
            raise ValueError(f"{base}.json is not a Sotong routing model ({FORMAT})")
        model = cls(meta["aliases"], min_df=meta["min_df"], refit_every=meta["refit_every"])
        with np.load(base.with_suffix(".npz"), allow_pickle=False) as arrays:
            shape = tuple(int(v) for v in arrays["counts_shape"])
            model.counts = sp.csr_matrix(
                (arrays["counts_data"], arrays["counts_indices"], arrays["counts_indptr"]),
                shape=shape,
            )
            model.weights = arrays["weights"]
            model.idf = arrays["idf"]
            model.svm_coef = arrays["svm_coef"].astype(np.float32)
            model.svm_intercept = arrays["svm_intercept"]
            years = arrays.get("years")
        model.vocabulary = {t: i for i, t in enumerate(meta["vocabulary"])}
        model.labels = list(meta["labels"])
        model.classes = list(meta["classes"])
        model.linear_classes = list(meta["linear_classes"])
        model.reference_year = float(meta["reference_year"])
        model.pending = int(meta["pending"])
        if years is None:
            # Version 1 kept each unit's last sighting only: date its documents then.
            last_seen = {k: float(v) for k, v in meta.get("last_seen", {}).items()}
            years = np.asarray([last_seen.get(label, np.nan) for label in model.labels])
        model.years = np.asarray(years, dtype=np.float64)
        return model


_default: RoutingModel | None = None
_default_lock = threading.Lock()


def default_model() -> RoutingModel:
    """The shipped model (Incheon Jung-gu's complaints 2012–2020), loaded on first use: a new
    city's day-one suggestions, until it is retrained on the city's own history."""
    global _default
    if _default is None:
        with _default_lock:
            if _default is None:
                _default = RoutingModel.load(DEFAULT_PATH)
    return _default
