"""Benchmark: reading votes in comments (sotong/nlp/votes.py) on the generated corpus
(eval/votes_corpus.py): accuracy over valid votes and comments that are no vote, the count
of invalid comments counted as votes, valid votes missed or misread, the reason confusion
and speed.

Targets (issue 7): accuracy ≥ 0.97 with no invalid comment counted as a vote."""

from __future__ import annotations

from typing import Any

from bench.common import write_result
from eval import votes as votes_eval
from eval.votes_corpus import POLLS, generate

SEED = 2026
# Three rounds of the templates: about 4,800 comments.
SCALE = 3


def run() -> dict[str, Any]:
    corpus = votes_eval.evaluate(generate(seed=SEED, scale=SCALE))
    figures = {
        "accuracy": corpus["accuracy"],
        "reason_accuracy": corpus["reason_accuracy"],
        "invalid_counted_as_vote": corpus["invalid_counted_as_vote"],
        "meets_targets": corpus["accuracy"] >= 0.97 and corpus["invalid_counted_as_vote"] == 0,
        "examples": corpus["examples"],
        "valid_votes": corpus["valid_votes"],
        "invalid_comments": corpus["invalid_comments"],
        "valid_missed": corpus["valid_missed"],
        "wrong_option": corpus["wrong_option"],
        "accuracy_by_group": corpus["accuracy_by_group"],
        "accuracy_by_poll": corpus["accuracy_by_poll"],
        "reason_confusion": corpus["reason_confusion"],
        "comments_per_second": corpus["comments_per_second"],
        "errors": corpus["errors"],
    }
    write_result(
        "votes_eval",
        figures,
        {"seed": SEED, "scale": SCALE, "polls": {name: list(o) for name, o in POLLS.items()}},
    )
    return figures
