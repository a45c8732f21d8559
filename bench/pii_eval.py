"""Benchmark: personal-information detection (sotong/nlp/pii.py) on the generated corpus
(eval/pii_corpus.py): recall and precision per kind, the false-positive rate on
look-alikes (dates, amounts, bus numbers, the city's own office numbers …), speed, and the
count of each kind found in the real complaints (aggregates only, never the texts).

Targets (issue 5): recall 1.0 on every kind; look-alike false positives ≤ 2 %."""

from __future__ import annotations

from typing import Any

from bench.common import write_result
from eval import pii as pii_eval
from eval.pii_corpus import generate

SEED = 2026
PER_VARIANT = 40
NEGATIVES_PER_ITEM = 10


def run() -> dict[str, Any]:
    corpus = pii_eval.evaluate(
        generate(seed=SEED, per_variant=PER_VARIANT, negatives_per_item=NEGATIVES_PER_ITEM)
    )
    dataset = pii_eval.dataset_counts()
    figures = {
        "recall": {kind: k["recall"] for kind, k in corpus["kinds"].items()},
        "precision": {kind: k["precision"] for kind, k in corpus["kinds"].items()},
        "min_recall": corpus["min_recall"],
        "lookalike_fp_rate": corpus["lookalike_fp_rate"],
        "lookalike_fp_rate_by_kind": corpus["lookalike_fp_rate_by_kind"],
        "meets_targets": corpus["min_recall"] == 1.0 and corpus["lookalike_fp_rate"] <= 0.02,
        "positives": corpus["positives"],
        "lookalikes": corpus["lookalikes"],
        "texts_per_second": corpus["texts_per_second"],
        "dataset": dataset,
        "missed": corpus["missed"],
        "flagged_lookalikes": corpus["flagged_lookalikes"],
    }
    write_result(
        "pii_eval",
        figures,
        {
            "seed": SEED,
            "per_variant": PER_VARIANT,
            "negatives_per_item": NEGATIVES_PER_ITEM,
            "dataset_public_numbers": list(pii_eval.DATASET_PUBLIC_NUMBERS),
        },
    )
    return figures
