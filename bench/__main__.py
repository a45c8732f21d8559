"""`make bench`: run every benchmark and write its figures under bench/results/."""

from __future__ import annotations

import importlib
import json
import sys

# The ceiling first: later figures are given as a ratio to it, measured in the same run.
BENCHMARKS = [
    "webhook_ceiling",
    "webhook_intake",
    "kakao_skill",
    "publishing_dispatch",
    "pii_eval",
    "votes_eval",
    "faq_eval",
    "routing_eval",
    "inbox_throughput",
    "ballot_tally",
]


def main() -> None:
    # Flags (e.g. --small) are for the benchmarks themselves.
    selected = [arg for arg in sys.argv[1:] if not arg.startswith("--")] or BENCHMARKS
    for name in selected:
        module = importlib.import_module(f"bench.{name}")
        print(f"{name}: running…", flush=True)
        figures = module.run()
        print(f"{name}: {json.dumps(figures, ensure_ascii=False)}", flush=True)


if __name__ == "__main__":
    main()
