"""The Korean interface is complete, and what ships is what the catalogue says."""

from __future__ import annotations

import gettext
import os
import shutil
import subprocess
import sys
from pathlib import Path

import polib

LOCALE = Path(__file__).resolve().parents[1] / "locale"
SOURCES = Path(__file__).resolve().parents[1]


def test_every_message_has_a_korean_translation() -> None:
    catalogue = polib.pofile(str(LOCALE / "ko/LC_MESSAGES/django.po"))
    assert not catalogue.untranslated_entries()
    assert not catalogue.fuzzy_entries()
    for entry in catalogue:
        # Placeholders survive translation.
        for placeholder in ("%(name)s", "%(source)s", "%(into)s"):
            assert (placeholder in entry.msgid) == (placeholder in entry.msgstr), entry.msgid


def test_compiled_catalogue_matches_the_source() -> None:
    catalogue = polib.pofile(str(LOCALE / "ko/LC_MESSAGES/django.po"))
    with (LOCALE / "ko/LC_MESSAGES/django.mo").open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    for entry in catalogue:
        assert compiled.gettext(entry.msgid) == entry.msgstr, "run `make messages`"


def test_every_source_string_is_in_the_catalogue(tmp_path) -> None:
    """makemessages over a copy of the sources adds nothing untranslated to the catalogue."""
    copy = tmp_path / "sotong"
    shutil.copytree(SOURCES, copy, ignore=shutil.ignore_patterns("__pycache__", "*.mo"))
    subprocess.run(
        [
            sys.executable,
            "-m",
            "django",
            "makemessages",
            "-l",
            "ko",
            "--no-obsolete",
            "--ignore",
            "tests/*",
            "--ignore",
            "*/tests/*",
            "--ignore",
            "conftest.py",
        ],
        cwd=copy,
        check=True,
        capture_output=True,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "sotong.settings"},
    )
    refreshed = polib.pofile(str(copy / "locale/ko/LC_MESSAGES/django.po"))
    missing = [entry.msgid for entry in refreshed.untranslated_entries()]
    assert missing == [], "run `make messages-extract`, translate, then `make messages`"
