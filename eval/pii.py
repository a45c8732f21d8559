"""Personal-information detection measured: per-kind recall and precision on the generated
corpus (eval/pii_corpus.py), the false-positive rate on look-alikes, and the count of each
kind found in the real complaints (aggregates only: the texts are personal data and are
never printed).

    .venv/bin/python -m eval.pii            # prints the figures as JSON
"""

from __future__ import annotations

import csv
import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

from eval.pii_corpus import PUBLIC_NUMBERS, Example, generate
from sotong.nlp import pii
from sotong.nlp.datasets import complaints_csv

DATASET = complaints_csv() or Path("/nonexistent")
# Incheon Jung-gu's own exchange: the office numbers in its answers are not personal.
DATASET_PUBLIC_NUMBERS = ("032-760-*",)


def _ratio(numerator: int, denominator: int) -> float | None:
    return round(numerator / denominator, 4) if denominator else None


def evaluate(examples: list[Example] | None = None) -> dict[str, Any]:
    """Recall and precision per kind (a hit is the exact span with the right kind; the
    masking coverage counts any found span covering the gold one), and the share of
    look-alike sentences in which anything was flagged."""
    examples = generate() if examples is None else examples
    public = pii.PublicNumbers(PUBLIC_NUMBERS)
    gold_count: Counter[str] = Counter()
    found_count: Counter[str] = Counter()
    exact: Counter[str] = Counter()
    covered: Counter[str] = Counter()
    missed_variants: Counter[str] = Counter()
    lookalike_total: Counter[str] = Counter()
    lookalike_flagged: Counter[str] = Counter()
    flagged_examples: list[str] = []
    started = time.perf_counter()
    for example in examples:
        found = pii.find(example.text, public_numbers=public)
        for span in found:
            found_count[span.kind] += 1
        found_set = set(found)
        for gold in example.spans:
            gold_count[gold.kind] += 1
            if gold in found_set:
                exact[gold.kind] += 1
            else:
                missed_variants[f"{gold.kind}/{example.variant}"] += 1
            if any(s.start <= gold.start and gold.end <= s.end for s in found):
                covered[gold.kind] += 1
        if example.group.startswith("lookalike:"):
            what = example.group.removeprefix("lookalike:")
            lookalike_total[what] += 1
            if found:
                lookalike_flagged[what] += 1
                # Synthetic text, safe to show: what was flagged and as what.
                flagged_examples.append(
                    f"{example.variant!r} → {[(s.kind, example.text[s.start : s.end]) for s in found]}"
                )
    seconds = time.perf_counter() - started
    kinds = {
        kind: {
            "gold": gold_count[kind],
            "found": found_count[kind],
            "recall": _ratio(exact[kind], gold_count[kind]),
            "precision": _ratio(exact[kind], found_count[kind]),
            "masked_coverage": _ratio(covered[kind], gold_count[kind]),
        }
        for kind in pii.KINDS
    }
    negatives = sum(lookalike_total.values())
    return {
        "examples": len(examples),
        "positives": sum(gold_count.values()),
        "lookalikes": negatives,
        "kinds": kinds,
        "min_recall": min(k["recall"] or 0.0 for k in kinds.values()),
        "min_precision": min(k["precision"] or 0.0 for k in kinds.values()),
        "lookalike_fp_rate": _ratio(sum(lookalike_flagged.values()), negatives),
        "lookalike_fp_rate_by_kind": {
            what: _ratio(lookalike_flagged[what], total)
            for what, total in sorted(lookalike_total.items())
        },
        "missed": dict(missed_variants.most_common()),
        "flagged_lookalikes": flagged_examples[:20],
        "texts_per_second": round(len(examples) / seconds) if seconds else None,
    }


def dataset_counts(path: Path = DATASET) -> dict[str, Any]:
    """How many of each kind `find` reports in the real complaints: in what citizens
    wrote (title and content) and in the district's answers (with its own exchange
    allow-listed). Counts only."""
    if not path.exists():
        return {"available": False}
    citizens: Counter[str] = Counter()
    answers: Counter[str] = Counter()
    texts_with_pii = 0
    rows = 0
    started = time.perf_counter()
    characters = 0
    with path.open(encoding="utf-8-sig", newline="") as handle:
        for row in csv.DictReader(handle):
            rows += 1
            spans = pii.find(row["title"]) + pii.find(row["content"])
            texts_with_pii += bool(spans)
            citizens.update(span.kind for span in spans)
            answers.update(
                span.kind
                for span in pii.find(row["answer_y"], public_numbers=DATASET_PUBLIC_NUMBERS)
            )
            characters += len(row["title"]) + len(row["content"]) + len(row["answer_y"])
    seconds = time.perf_counter() - started
    return {
        "available": True,
        "rows": rows,
        "complaints_with_pii": texts_with_pii,
        "citizen_text": {kind: citizens[kind] for kind in pii.KINDS},
        "answers": {kind: answers[kind] for kind in pii.KINDS},
        "characters_per_second": round(characters / seconds) if seconds else None,
    }


def main() -> None:
    print(
        json.dumps(
            {"corpus": evaluate(), "dataset": dataset_counts()}, ensure_ascii=False, indent=2
        )
    )


if __name__ == "__main__":
    main()
