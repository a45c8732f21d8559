"""Where the shared complaints dataset is (real Incheon Jung-gu civil complaints, see
shared/data/README.md): it is personal data and not shipped in the repository, so the
evaluations and the tests that use it find it beside the checkout, or where
``SOTONG_COMPLAINTS_CSV`` says."""

from __future__ import annotations

import os
from pathlib import Path

NAME = "incheon-junggu-complaints-2012-2020.csv"
_REPO = Path(__file__).resolve().parents[2]
_PLACES = (_REPO.parent / "shared" / "data" / NAME, Path("/work/shared/data") / NAME)


def complaints_csv() -> Path | None:
    """The dataset's path, or None when it is not on this machine."""
    given = os.environ.get("SOTONG_COMPLAINTS_CSV")
    if given:
        return Path(given)
    return next((place for place in _PLACES if place.is_file()), None)
