"""Vote parsing measured on the generated corpus (eval/votes_corpus.py): accuracy (the
option counted, or none, as a careful reader would), the count of comments that are no
vote but were counted as one (must be 0), valid votes missed or given to the wrong option,
and the confusion of reason codes. The corpus is synthetic, so the texts of the errors
may be shown.

    .venv/bin/python -m eval.votes            # prints the figures as JSON
"""

from __future__ import annotations

import json
import time
from collections import Counter, defaultdict
from typing import Any

from eval.votes_corpus import POLLS, Example, generate
from sotong.nlp import votes


def _ratio(numerator: int, denominator: int) -> float | None:
    return round(numerator / denominator, 4) if denominator else None


def evaluate(examples: list[Example] | None = None) -> dict[str, Any]:
    """Accuracy (the counted option equals the expected one, ``None`` included), reason
    accuracy, invalid comments counted as votes, valid votes missed or misread, per group
    and per option set, and the reason confusion (expected → given)."""
    examples = generate() if examples is None else examples
    prepared = {poll: votes.Options(names) for poll, names in POLLS.items()}
    right = reason_right = invalid_counted = missed = wrong_option = 0
    by_group: dict[str, Counter[str]] = defaultdict(Counter)
    by_poll: dict[str, Counter[str]] = defaultdict(Counter)
    confusion: dict[str, Counter[str]] = defaultdict(Counter)
    errors: list[str] = []
    started = time.perf_counter()
    read = [prepared[example.poll].parse(example.text) for example in examples]
    seconds = time.perf_counter() - started
    for example, vote in zip(examples, read, strict=True):
        ok = vote.option == example.expected
        right += ok
        reason_right += ok and vote.reason == example.reason
        by_group[example.group]["total"] += 1
        by_group[example.group]["right"] += ok
        by_poll[example.poll]["total"] += 1
        by_poll[example.poll]["right"] += ok
        confusion[example.reason][vote.reason] += 1
        if example.expected is None and vote.option is not None:
            invalid_counted += 1
        elif example.expected is not None and vote.option is None:
            missed += 1
        elif not ok:
            wrong_option += 1
        if not ok or vote.reason != example.reason:
            errors.append(
                f"{example.poll}: {example.text!r} → {vote.option} {vote.reason} "
                f"(expected {example.expected} {example.reason})"
            )
    valid = sum(example.expected is not None for example in examples)
    return {
        "examples": len(examples),
        "valid_votes": valid,
        "invalid_comments": len(examples) - valid,
        "accuracy": _ratio(right, len(examples)),
        "reason_accuracy": _ratio(reason_right, len(examples)),
        "invalid_counted_as_vote": invalid_counted,
        "valid_missed": missed,
        "wrong_option": wrong_option,
        "accuracy_by_group": {
            group: _ratio(c["right"], c["total"]) for group, c in sorted(by_group.items())
        },
        "accuracy_by_poll": {
            poll: _ratio(c["right"], c["total"]) for poll, c in sorted(by_poll.items())
        },
        "reason_confusion": {
            expected: dict(given.most_common()) for expected, given in sorted(confusion.items())
        },
        "errors": errors[:30],
        "comments_per_second": round(len(examples) / seconds) if seconds else None,
    }


def main() -> None:
    print(json.dumps(evaluate(), ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
