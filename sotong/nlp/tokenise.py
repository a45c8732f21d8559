"""Korean tokens with Kiwi: the content morphemes of a text, for routing, intent and retrieval.

Kiwi takes about a second and a few hundred MB to load, so there is one per process, made on
first use under a lock (web threads and task threads may ask at the same moment). Kiwi's
analysis is read-only on the loaded model and safe to call from several threads.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kiwipiepy import Kiwi

from sotong.nlp.normalise import normalise as _normalise

NUMBER = "<num>"
URL = "<url>"

# Nouns, verb and adjective stems, roots, foreign words and hanja carry the content;
# dependent nouns (것, 수, 등), pronouns, particles, endings and punctuation do not.
CONTENT_TAGS = frozenset({"NNG", "NNP", "VV", "VA", "XR", "SL", "SH", "NR", "MAG"})
# Adverbs are kept only where they say something (아직도, 계속, 빨리), not 좀/너무/그냥.
_DULL_ADVERBS = frozenset({"좀", "너무", "그냥", "정말", "진짜", "많이", "잘", "더", "또", "다"})

_lock = threading.Lock()
_kiwi: Kiwi | None = None


def kiwi() -> Kiwi:
    """The process's Kiwi, loaded on first use."""
    global _kiwi
    if _kiwi is None:
        with _lock:
            if _kiwi is None:
                from kiwipiepy import Kiwi

                _kiwi = Kiwi()
    return _kiwi


def _content(morphs: Iterable[tuple[str, str]]) -> list[str]:
    out = []
    for form, tag in morphs:
        if tag == "SN":
            out.append(NUMBER)
        elif tag == "W_URL":
            out.append(URL)
        elif tag in CONTENT_TAGS:
            if tag == "MAG" and (form in _DULL_ADVERBS or len(form) < 2):
                continue
            out.append(form.lower() if tag == "SL" else form)
    return out


def content_of(morphs: Iterable[tuple[str, str]]) -> list[str]:
    """The content tokens of morphemes already analysed (``tokens`` without a second
    analysis, for a caller that needs both)."""
    return _content(morphs)


def morphemes(text: str) -> list[tuple[str, str]]:
    """Every morpheme of ``text`` as (form, Sejong tag), endings and punctuation included
    (the intent rules read sentence endings)."""
    text = _normalise(text)
    if not text.strip():
        return []
    return [(t.form, t.tag) for t in kiwi().tokenize(text)]


def morphemes_many(texts: Iterable[str]) -> Iterator[list[tuple[str, str]]]:
    """``morphemes`` for many texts at once, through Kiwi's multi-text API (parallel)."""
    normalised = [_normalise(text) for text in texts]
    # Kiwi rejects nothing, but an empty string costs a round trip for no tokens.
    for text, result in zip(normalised, kiwi().tokenize(normalised), strict=True):
        yield [(t.form, t.tag) for t in result] if text.strip() else []


def tokens(text: str) -> list[str]:
    """The content morphemes of ``text``: nouns, stems, roots, foreign words; numbers as
    ``<num>``, links as ``<url>``."""
    return _content(morphemes(text))


def tokens_many(texts: Iterable[str]) -> list[list[str]]:
    """``tokens`` of each text, analysed in one parallel batch (much faster for many)."""
    return [_content(morphs) for morphs in morphemes_many(texts)]
