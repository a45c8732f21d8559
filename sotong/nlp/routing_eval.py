"""Evaluate department routing on a complaints CSV, Sotong's model beside the baseline.

The CSV is the format of ``shared/data`` (UTF-8 with BOM, quoted multi-line fields; columns
title, date, answer_x, content, answer_y, depart). The unit is the last word of ``depart``;
figures are at the unit level with the raw labels (aliases never merge units here).

The baseline is the issue's: TF-IDF over Kiwi morphemes + linear SVM, retrained every 10
messages in the prequential run. Only aggregates leave this module, never a complaint's text.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sotong.nlp import tokenise
from sotong.nlp.routing import TITLE_WEIGHT, RoutingModel, unit_of

COLUMNS = ("title", "date", "content", "answer_y", "depart")
STANDARD_SPLIT = dt.date(2020, 1, 1)


@dataclass
class Dataset:
    titles: list[list[str]]
    contents: list[list[str]]
    answers: list[list[str]]
    units: list[str]
    dates: list[dt.date]

    def __len__(self) -> int:
        return len(self.units)

    def doc(self, i: int) -> list[str]:
        return self.titles[i] * TITLE_WEIGHT + self.contents[i]

    def plain(self, i: int) -> list[str]:
        """The baseline's document: title and text once each."""
        return self.titles[i] + self.contents[i]


def read_complaints(path: str | Path) -> Dataset:
    """Read and tokenise a complaints CSV; raises ValueError naming what is wrong."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise ValueError(f"{path}: missing columns {', '.join(missing)}")
            rows = [r for r in reader if (r.get("depart") or "").strip()]
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: not UTF-8") from exc
    if not rows:
        raise ValueError(f"{path}: no complaints with a department")
    dates = []
    for n, row in enumerate(rows, start=2):
        try:
            dates.append(dt.date.fromisoformat(row["date"].strip().replace(".", "-")[:10]))
        except ValueError:
            raise ValueError(f"{path}: row {n}: date {row['date']!r} is not YYYY.MM.DD") from None
    return Dataset(
        titles=tokenise.tokens_many(r["title"] for r in rows),
        contents=tokenise.tokens_many(r["content"] for r in rows),
        answers=tokenise.tokens_many(r["answer_y"] for r in rows),
        units=[unit_of(r["depart"]) for r in rows],
        dates=dates,
    )


class Baseline:
    """TF-IDF over Kiwi morphemes (title + text) + linear SVM: the bar to beat."""

    def fit(self, docs: Sequence[list[str]], units: Sequence[str]) -> Baseline:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.svm import LinearSVC

        self.vectoriser = TfidfVectorizer(analyzer=lambda tokens: tokens)
        x = self.vectoriser.fit_transform(docs)
        self.classes = sorted(set(units))
        if len(self.classes) > 1:
            self.svm = LinearSVC().fit(x, list(units))
        return self

    def ranked(self, docs: Sequence[list[str]]) -> list[list[str]]:
        if len(self.classes) == 1:
            return [self.classes[:] for _ in docs]
        scores = np.asarray(self.svm.decision_function(self.vectoriser.transform(docs)))
        if scores.ndim == 1:
            scores = np.stack([-scores, scores], axis=1)
        classes = [str(c) for c in self.svm.classes_]
        return [[classes[j] for j in np.argsort(-row)] for row in scores]


def _sotong_ranked(
    model: RoutingModel, docs: list[list[str]], dates: Sequence[dt.date] | None = None
) -> list[list[str]]:
    """Sotong's top-3 per document; ``dates``: the days the messages came (seen at
    prediction time, as in real use)."""
    return [[s.unit for s in row] for row in model.suggest_documents(docs, k=3, dates=dates)]


def _fit_sotong(
    data: Dataset, train: Sequence[int], aliases: dict[str, str], min_df: int = 1
) -> RoutingModel:
    return RoutingModel(aliases, min_df=min_df).fit_documents(
        [data.doc(i) for i in train],
        [data.units[i] for i in train],
        [data.dates[i] for i in train],
        answer_docs=[data.answers[i] for i in train],
    )


@dataclass
class Scores:
    truth: list[str]
    ranked: list[list[str]]

    def top(self, k: int) -> float:
        hits = sum(t in r[:k] for t, r in zip(self.truth, self.ranked, strict=True))
        return hits / len(self.truth) if self.truth else 0.0

    def macro_f1(self) -> float:
        from sklearn.metrics import f1_score

        predicted = [r[0] if r else "" for r in self.ranked]
        return float(f1_score(self.truth, predicted, average="macro", zero_division=0))


def _splits(data: Dataset, split: str) -> tuple[list[tuple[list[int], list[int]]], dt.date]:
    """(train, test) index pairs and the date the prequential run starts at."""
    kind, _, value = split.partition(":")
    if kind == "kfold":
        from sklearn.model_selection import KFold

        folds = int(value or 5)
        if folds < 2 or folds > len(data):
            raise ValueError(f"kfold needs 2..{len(data)} folds")
        index = np.arange(len(data))
        pairs = [
            (list(map(int, tr)), list(map(int, te)))
            for tr, te in KFold(folds, shuffle=True, random_state=0).split(index)
        ]
        return pairs, STANDARD_SPLIT
    if kind == "date":
        try:
            cut = dt.date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"date split needs YYYY-MM-DD, not {value!r}") from None
        train = [i for i, d in enumerate(data.dates) if d < cut]
        test = [i for i, d in enumerate(data.dates) if d >= cut]
        if not train or not test:
            raise ValueError(f"the date {cut} leaves no training or no test complaints")
        return [(train, test)], cut
    raise ValueError(f"unknown split {split!r}: date:YYYY-MM-DD or kfold:N")


def prequential(data: Dataset, cut: dt.date, aliases: dict[str, str]) -> tuple[float, float]:
    """Top-3 of Sotong and of the baseline when each message from ``cut`` on is predicted in
    date order and then learnt, as a staff correction would teach it."""
    order = sorted(range(len(data)), key=lambda i: (data.dates[i], i))
    train = [i for i in order if data.dates[i] < cut]
    test = [i for i in order if data.dates[i] >= cut]
    if not train or not test:
        return 0.0, 0.0
    model = _fit_sotong(data, train, aliases)
    seen = list(train)
    baseline = Baseline().fit([data.plain(i) for i in seen], [data.units[i] for i in seen])
    ours = theirs = 0
    for step, i in enumerate(test):
        doc = data.doc(i)
        ours += data.units[i] in _sotong_ranked(model, [doc], [data.dates[i]])[0][:3]
        theirs += data.units[i] in baseline.ranked([data.plain(i)])[0][:3]
        model.learn_document(doc, data.units[i], date=data.dates[i])
        seen.append(i)
        if (step + 1) % 10 == 0:
            baseline = Baseline().fit([data.plain(j) for j in seen], [data.units[j] for j in seen])
    return ours / len(test), theirs / len(test)


def evaluate(
    data: Dataset, split: str, aliases: dict[str, str] | None = None
) -> dict[str, float | int | str]:
    aliases = dict(aliases or {})
    pairs, cut = _splits(data, split)
    ours = Scores([], [])
    theirs = Scores([], [])
    for train, test in pairs:
        docs = [data.doc(i) for i in test]
        truth = [data.units[i] for i in test]
        model = _fit_sotong(data, train, aliases)
        baseline = Baseline().fit([data.plain(i) for i in train], [data.units[i] for i in train])
        ours.truth += truth
        ours.ranked += _sotong_ranked(model, docs, [data.dates[i] for i in test])
        theirs.truth += truth
        theirs.ranked += baseline.ranked([data.plain(i) for i in test])
    preq_ours, preq_theirs = prequential(data, cut, aliases)
    return {
        "split": split,
        "complaints": len(data),
        "units": len(set(data.units)),
        "prequential_from": cut.isoformat(),
        "top1": round(ours.top(1), 4),
        "top3": round(ours.top(3), 4),
        "macro_f1": round(ours.macro_f1(), 4),
        "prequential_top3": round(preq_ours, 4),
        "baseline_top1": round(theirs.top(1), 4),
        "baseline_top3": round(theirs.top(3), 4),
        "baseline_macro_f1": round(theirs.macro_f1(), 4),
        "baseline_prequential_top3": round(preq_theirs, 4),
    }


def train(data_path: str | Path, out: str | Path, aliases: dict[str, str] | None = None) -> int:
    """Fit on every complaint of the CSV and save the model; returns how many were used."""
    data = read_complaints(data_path)
    # Words seen in one complaint only (names, addresses, plates) stay out of a shipped file.
    model = _fit_sotong(data, list(range(len(data))), dict(aliases or {}), min_df=2)
    model.save(out)
    return len(data)
