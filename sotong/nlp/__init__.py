"""Korean text for triage: normalisation, personal-information masking, tokens, routing,
intent and retrieval. Plain Python (no Django imports), usable from tasks, the CLI and the
benchmarks alike."""
