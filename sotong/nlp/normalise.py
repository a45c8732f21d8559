"""Korean text normalisation for triage features (no Django imports).

`normalise()` gives the text the classifiers and the FAQ retrieval see: one Unicode form,
no invisible characters, full-width ASCII folded, and laughter or crying runs cut short so
that ㅋㅋㅋㅋㅋㅋㅋ stays a tone mark without outweighing the words. `tone_marks()` counts
those marks on the text as written, before the runs are cut, for the intent classifier.

Personal-information spans are found on the raw text instead (see `sotong.nlp.pii`), so
that their offsets index what the citizen sent.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Characters that carry nothing a reader sees: zero-width spaces and joiners, the word
# joiner, byte-order marks, soft hyphens, and the bidirectional controls that can hide or
# reorder text.
INVISIBLE = frozenset(
    "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b\u200c\u200d\u200e\u200f"
    "\u202a\u202b\u202c\u202d\u202e\u2060\u2061\u2062\u2063\u2064\u2066\u2067\u2068"
    "\u2069\u206a\u206b\u206c\u206d\u206e\u206f\u3164\ufeff\uffa0"
)

# How many times a repeated mark is kept: enough to keep the tone (ㅋㅋㅋ, !!!), not more.
RUN_LENGTH = 3
_RUN = re.compile(rf"(.)\1{{{RUN_LENGTH},}}", re.DOTALL)
_SPACES = re.compile(r"\s+")
_NEWLINE_SPACES = re.compile(r"[^\S\n]*\n\s*")
_INLINE_SPACES = re.compile(r"[^\S\n]+")

# Hangul compatibility jamo (ㄱ-ㅣ: the ㅋ, ㅎ, ㅠ of chat) and halfwidth Hangul would
# become conjoining jamo under NFKC, which then glue onto neighbouring syllables: kept.
_KEEP_FROM_NFKC = (range(0x3130, 0x3190), range(0xFFA0, 0xFFDD))


@lru_cache(maxsize=4096)
def _fold_char(char: str) -> str:
    """NFKC of one character where that is safe: full-width Ａ１！ become A1!, the ideographic
    space a space, ① a 1; Hangul jamo and anything NFKC would turn into conjoining jamo stay."""
    code = ord(char)
    if code < 0x80 or any(code in block for block in _KEEP_FROM_NFKC):
        return char
    folded = unicodedata.normalize("NFKC", char)
    if any(0x1100 <= ord(c) <= 0x11FF for c in folded):
        return char
    return folded


def _is_dropped(char: str) -> bool:
    if char in INVISIBLE:
        return True
    # Control characters go, except the whitespace ones, which become spaces below.
    return unicodedata.category(char) == "Cc" and not char.isspace()


def clean(text: str) -> str:
    """NFC, invisible and control characters removed, full-width ASCII folded; the length
    and the whitespace of the text otherwise unchanged."""
    # Invisible characters go first: one between two jamo must not keep them apart.
    text = unicodedata.normalize("NFC", "".join(c for c in text if not _is_dropped(c)))
    # Folding can put a base letter beside a combining mark it composes with: NFC again.
    return unicodedata.normalize("NFC", "".join(map(_fold_char, text)))


def shorten_runs(text: str, length: int = RUN_LENGTH) -> str:
    """Cut runs of one repeated character to ``length``: ㅋㅋㅋㅋㅋ → ㅋㅋㅋ, !!!!! → !!!.
    Digits, Latin letters and the ``*`` of masked personal information are left whole
    (1000000원 is an amount, and a masked number keeps its shape)."""

    def cut(match: re.Match[str]) -> str:
        char = match.group(1)
        if char.isdigit() or char.isspace() or char == "*" or ("a" <= char.lower() <= "z"):
            return match.group(0)
        return char * length

    if length == RUN_LENGTH:
        return _RUN.sub(cut, text)
    return re.sub(rf"(.)\1{{{length},}}", cut, text, flags=re.DOTALL)


def normalise(text: str, *, keep_newlines: bool = False) -> str:
    """The text as the triage features see it.

    Unicode NFC (a Mac's decomposed Hangul is composed), zero-width, bidirectional and
    control characters removed, full-width ASCII and other compatibility forms folded
    (NFKC one character at a time, never on Hangul jamo such as ㅋ), runs of a repeated
    mark shortened to three, and whitespace collapsed to single spaces (tabs and line
    breaks included, unless ``keep_newlines``: then one line break survives per break).
    """
    text = clean(text)
    if keep_newlines:
        text = _NEWLINE_SPACES.sub("\n", text.replace("\r\n", "\n").replace("\r", "\n"))
        text = _INLINE_SPACES.sub(" ", text)
    else:
        text = _SPACES.sub(" ", text)
    return shorten_runs(text).strip()


LAUGH = frozenset("ㅋㅎ")
CRY = frozenset("ㅠㅜ")
# "…" is folded to "..." first.
_ELLIPSIS = re.compile(r"\.{2,}")


def tone_marks(text: str) -> dict[str, int]:
    """Counts of the tone marks in the text as written (before runs are shortened):
    ``laugh`` (ㅋ, ㅎ), ``cry`` (ㅠ, ㅜ), ``exclaim`` (!), ``question`` (?) and
    ``ellipsis`` (… or a run of two or more dots), for the intent classifier."""
    folded = clean(text)
    return {
        "laugh": sum(c in LAUGH for c in folded),
        "cry": sum(c in CRY for c in folded),
        "exclaim": folded.count("!"),
        "question": folded.count("?"),
        "ellipsis": len(_ELLIPSIS.findall(folded)),
    }
