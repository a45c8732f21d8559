"""Department routing: suggest the top departments (units) for a citizen's message.

The model is an ensemble of three views of the same TF-IDF over Kiwi content morphemes
(the title counted twice, it names the matter):

- a linear SVM (its margins through a softmax),
- a multinomial logistic regression,
- a nearest-neighbour vote over past complaints (similar cases usually went to the same unit;
  it learns a staff correction at once, before any refit).

Departments' answers, when given for training, are added as extra documents of their unit at
half weight: an answer names the unit's duties in the words the unit uses. They are training
signal only; ``suggest`` sees the citizen's text alone.

Units come and go with reorganisations, so the probabilities are multiplied by an activity
prior: a unit not heard of for years (half-life ``HALF_LIFE_YEARS``) is discounted, and
``aliases`` (old unit → successor) move a truly renamed unit's history onto its successor.

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

FORMAT = "sotong-routing-1"
TITLE_WEIGHT = 2
ANSWER_WEIGHT = 0.5
HALF_LIFE_YEARS = 3.0
SVM_TEMPERATURE = 0.1
NEIGHBOURS = 10
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
        self.last_seen: dict[str, float] = {}
        self.reference_year = 0.0
        self.classes: list[str] = []
        self.idf = np.zeros(0, dtype=np.float32)
        self.svm_coef = np.zeros((0, 0), dtype=np.float32)
        self.svm_intercept = np.zeros(0, dtype=np.float32)
        self.lr_coef = np.zeros((0, 0), dtype=np.float32)
        self.lr_intercept = np.zeros(0, dtype=np.float32)
        self.linear_classes: list[str] = []
        self.pending = 0
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
        weights = [1.0] * len(docs)
        if answer_docs is not None:
            for tokens, label in zip(answer_docs, labels[: len(docs)], strict=True):
                if tokens:
                    docs.append(tokens)
                    labels.append(label)
                    weights.append(ANSWER_WEIGHT)
        days = [_parse_day(d) for d in dates] if dates is not None else [None] * len(docs)
        self.last_seen = {}
        for day, label in zip(days, labels, strict=False):
            if day is not None:
                self.last_seen[label] = max(self.last_seen.get(label, 0.0), _years(day))
        self.reference_year = max(self.last_seen.values(), default=0.0)
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
        rows, cols = [], []
        for r, doc in enumerate(docs):
            for token in doc:
                c = self.vocabulary.get(token)
                if c is not None:
                    rows.append(r)
                    cols.append(c)
        data = np.ones(len(rows), dtype=np.float32)
        matrix = sp.csr_matrix(
            (data, (rows, cols)), shape=(len(docs), len(self.vocabulary)), dtype=np.float32
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

    def _refit(self) -> None:
        from sklearn.linear_model import LogisticRegression
        from sklearn.svm import LinearSVC

        n = self.counts.shape[0]
        df = np.bincount(self.counts.indices, minlength=self.counts.shape[1])
        self.idf = (np.log((1 + n) / (1 + df)) + 1).astype(np.float32)
        self.classes = sorted(set(self.labels))
        self.pending = 0
        x = self._tfidf(self.counts)
        y = np.asarray(self.labels)
        if len(self.classes) < 2:
            # One unit only: nothing to separate; the neighbours answer alone.
            self.linear_classes = []
            return
        svm = LinearSVC(C=1.0).fit(x, y, sample_weight=self.weights)
        lr = LogisticRegression(C=30.0, max_iter=2000).fit(x, y, sample_weight=self.weights)
        svm_coef, svm_intercept = svm.coef_, svm.intercept_
        if len(self.classes) == 2:  # binary models keep one row: the second class's
            svm_coef = np.vstack([-svm_coef, svm_coef])
            svm_intercept = np.concatenate([-svm_intercept, svm_intercept])
        lr_coef, lr_intercept = lr.coef_, lr.intercept_
        if lr_coef.shape[0] == 1:
            lr_coef = np.vstack([-lr_coef / 2, lr_coef / 2])
            lr_intercept = np.concatenate([-lr_intercept / 2, lr_intercept / 2])
        self.svm_coef = svm_coef.astype(np.float32)
        self.svm_intercept = svm_intercept.astype(np.float32)
        self.lr_coef = lr_coef.astype(np.float32)
        self.lr_intercept = lr_intercept.astype(np.float32)
        self.linear_classes = [str(c) for c in svm.classes_]

    def learn(self, text: str, unit: str, *, title: str = "") -> None:
        """A staff correction: ``text`` belongs to ``unit``. The neighbours know it at once;
        the linear models are refitted after every ``refit_every`` corrections, or at once
        for a unit they do not know yet."""
        self.learn_document(document(text, title), unit)

    def learn_document(self, doc: list[str], unit: str) -> None:
        label = self.canonical(unit_of(unit))
        with self._lock:
            for token in doc:
                if token not in self.vocabulary:
                    self.vocabulary[token] = len(self.vocabulary)
            row = self._count([doc])
            width = len(self.vocabulary)
            self.counts.resize((self.counts.shape[0], width))
            self.counts = sp.vstack([self.counts, row], format="csr")
            self.labels.append(label)
            self.weights = np.append(self.weights, np.float32(1.0))
            # A correction is news of the unit today: the newest date the model knows.
            self.last_seen[label] = self.reference_year
            if label not in self.classes:
                self.classes = sorted({*self.classes, label})
            self.pending += 1
            # A unit the linear models have never seen would be outvoted by them until the
            # next refit: refit at once (new units are rare; corrections of known ones wait).
            if self.pending >= self.refit_every or label not in self.linear_classes:
                self._refit()

    # Prediction -----------------------------------------------------------------------------

    def probabilities(self, docs: list[list[str]]) -> tuple[list[str], np.ndarray]:
        """Each document's probability per unit (columns in the order of the returned units)."""
        classes = self.classes
        index = {c: i for i, c in enumerate(classes)}
        counts = self._count(docs)
        x = self._tfidf(counts)
        total = np.zeros((len(docs), len(classes)))
        if self.linear_classes:
            cols = [index[c] for c in self.linear_classes]
            width = self.svm_coef.shape[1]
            xl = x[:, :width]
            margins = xl @ self.svm_coef.T + self.svm_intercept
            total[:, cols] += _softmax(np.asarray(margins) / SVM_TEMPERATURE)
            total[:, cols] += _softmax(np.asarray(xl @ self.lr_coef.T + self.lr_intercept))
        total += self._neighbours(x, index)
        total *= self._prior(classes)
        sums = total.sum(axis=1, keepdims=True)
        sums[sums == 0] = 1.0
        return classes, total / sums

    def _neighbours(self, x: sp.csr_matrix, index: dict[str, int]) -> np.ndarray:
        votes = np.zeros((x.shape[0], len(index)))
        if self.counts.shape[0] == 0:
            return votes
        memory = self._tfidf(self.counts)
        similarity = (x @ memory.T).toarray()
        label_cols = np.array([index[label] for label in self.labels])
        for i in range(x.shape[0]):
            nearest = np.argsort(-similarity[i])[:NEIGHBOURS]
            for n in nearest:
                if similarity[i, n] > 0:
                    votes[i, label_cols[n]] += similarity[i, n] ** 2 * self.weights[n]
        sums = votes.sum(axis=1, keepdims=True)
        sums[sums == 0] = 1.0
        return votes / sums

    def _prior(self, classes: list[str]) -> np.ndarray:
        if not self.last_seen:
            return np.ones(len(classes))
        ages = [self.reference_year - self.last_seen.get(c, self.reference_year) for c in classes]
        return np.power(0.5, np.asarray(ages) / HALF_LIFE_YEARS)

    def suggest(self, text: str, k: int = 3, *, title: str = "") -> list[Suggestion]:
        """The ``k`` likeliest units for ``text``, most likely first; confidences sum to ≤ 1."""
        return self.suggest_many([text], k, titles=[title])[0]

    def suggest_many(
        self, texts: Sequence[str], k: int = 3, *, titles: Sequence[str] | None = None
    ) -> list[list[Suggestion]]:
        if not self.classes:
            return [[] for _ in texts]
        return self.suggest_documents(self._documents(texts, titles), k)

    def suggest_documents(self, docs: list[list[str]], k: int = 3) -> list[list[Suggestion]]:
        if not self.classes:
            return [[] for _ in docs]
        with self._lock:
            classes, probabilities = self.probabilities(docs)
        out: list[list[Suggestion]] = []
        for row in probabilities:
            if not row.any():
                out.append([])
                continue
            order = np.argsort(-row)[:k]
            out.append([Suggestion(classes[j], round(float(row[j]), 4)) for j in order])
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
            idf=self.idf,
            # Half precision halves the file; the rankings do not change at this scale.
            svm_coef=self.svm_coef.astype(np.float16),
            svm_intercept=self.svm_intercept,
            lr_coef=self.lr_coef.astype(np.float16),
            lr_intercept=self.lr_intercept,
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
            "last_seen": self.last_seen,
            "reference_year": self.reference_year,
            "pending": self.pending,
        }
        base.with_suffix(".json").write_text(json.dumps(meta, ensure_ascii=False))

    @classmethod
    def load(cls, path: str | Path) -> RoutingModel:
        base = Path(path).with_suffix("")
        meta = json.loads(base.with_suffix(".json").read_text())
        if meta.get("format") != FORMAT:
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
            model.lr_coef = arrays["lr_coef"].astype(np.float32)
            model.lr_intercept = arrays["lr_intercept"]
        model.vocabulary = {t: i for i, t in enumerate(meta["vocabulary"])}
        model.labels = list(meta["labels"])
        model.classes = list(meta["classes"])
        model.linear_classes = list(meta["linear_classes"])
        model.last_seen = {k: float(v) for k, v in meta["last_seen"].items()}
        model.reference_year = float(meta["reference_year"])
        model.pending = int(meta["pending"])
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
