"""Departments suggested by their duties (사무분장): a message that names a department's
duty keyword (하수구, 가로등, 무단투기 …) is suggested to that department ahead of the
routing model, whose units are those of the city it was trained on.

A keyword matches in one of two ways:

- in the normalised text, spaces removed, for compounds a tokeniser splits or keeps whole
  (하수구 in 하수구냄새). Matching is leftmost-longest over every keyword of the city at
  once, so 도로 does not match inside 하수도로 once 하수도 has claimed those letters;
- among Kiwi's content tokens, for keywords written as a verb or adjective (넘치다 is the
  token 넘치 in 넘쳐요) and one-letter keywords (물), which as text would match inside
  other words (건물).

The table is read once per batch (one query) and compiled once per distinct set of duties.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from sotong.core.models import Department, Organisation, split_duties

SOURCE_DUTIES = "duties"
SOURCE_MODEL = "model"
# A duty match is stated, not predicted: its confidence sits above what the routing model
# usually gives, and grows with the length of the keywords that matched.
_DUTY_BASE = 0.8
_DUTY_PER_LETTER = 0.02
_DUTY_MAX = 0.99

Row = tuple[int, str, str]  # department id, name, duties


@dataclass(frozen=True)
class DutyMatch:
    department_id: int
    name: str
    keywords: tuple[str, ...]

    @property
    def score(self) -> tuple[int, int]:
        """More letters matched first, then more keywords."""
        return (sum(len(k.replace(" ", "")) for k in self.keywords), len(self.keywords))

    @property
    def confidence(self) -> float:
        return round(min(_DUTY_MAX, _DUTY_BASE + _DUTY_PER_LETTER * self.score[0]), 4)

    def suggestion(self) -> dict[str, object]:
        return {
            "unit": self.name,
            "department_id": self.department_id,
            "name": self.name,
            "confidence": self.confidence,
            "source": SOURCE_DUTIES,
            "keywords": list(self.keywords),
        }


class DutyTable:
    """One organisation's duty keywords, compiled for matching many messages."""

    def __init__(self, rows: Sequence[Row], token_forms: dict[str, tuple[str, ...]]) -> None:
        self.names = {pk: name for pk, name, _duties in rows}
        # Compact keyword (lower-case, no spaces) → [(department id, keyword as written)].
        by_text: dict[str, list[tuple[int, str]]] = {}
        # First token → [(tokens, department id, keyword)] for the keywords matched as tokens.
        by_token: dict[str, list[tuple[tuple[str, ...], int, str]]] = {}
        for pk, _name, duties in rows:
            for keyword in split_duties(duties):
                compact = _compact(keyword)
                forms = token_forms.get(keyword, ())
                if len(compact) >= 2 and (not forms or "".join(forms) == compact):
                    by_text.setdefault(compact, []).append((pk, keyword))
                elif forms:
                    by_token.setdefault(forms[0], []).append((forms, pk, keyword))
        self._by_text = by_text
        self._by_token = by_token
        # Longest first: at each position the alternation takes the longest keyword.
        alternatives = sorted(by_text, key=lambda k: (-len(k), k))
        self._pattern = (
            re.compile("|".join(re.escape(k) for k in alternatives)) if alternatives else None
        )

    def __bool__(self) -> bool:
        return bool(self._by_text or self._by_token)

    def match(self, text: str, tokens: Iterable[str]) -> list[DutyMatch]:
        """The departments whose duties ``text`` (with its content ``tokens``) mentions,
        best first."""
        hits: dict[int, list[str]] = {}

        def hit(pk: int, keyword: str) -> None:
            found = hits.setdefault(pk, [])
            if keyword not in found:
                found.append(keyword)

        if self._pattern is not None:
            for found in self._pattern.finditer(_compact(text)):
                for pk, keyword in self._by_text[found.group()]:
                    hit(pk, keyword)
        if self._by_token:
            present = set(tokens)
            for token in present:
                for forms, pk, keyword in self._by_token.get(token, ()):
                    if present.issuperset(forms):
                        hit(pk, keyword)
        matches = [DutyMatch(pk, self.names[pk], tuple(words)) for pk, words in hits.items()]
        matches.sort(key=lambda m: (-m.score[0], -m.score[1], m.name))
        return matches


def table_for(organisation: Organisation) -> DutyTable:
    """The organisation's active departments' duties, in one query (call once per batch)."""
    rows = tuple(
        Department.objects.filter(organisation=organisation, is_active=True)
        .exclude(duties="")
        .order_by("pk")
        .values_list("pk", "name", "duties")
    )
    return _compiled(rows)


@lru_cache(maxsize=64)
def _compiled(rows: tuple[Row, ...]) -> DutyTable:
    # Cached on the rows themselves: an edit to any department's duties is a new key.
    keywords = sorted({k for _pk, _name, duties in rows for k in split_duties(duties)})
    return DutyTable(rows, _token_forms(keywords))


def _token_forms(keywords: list[str]) -> dict[str, tuple[str, ...]]:
    """Each keyword's Kiwi content tokens (넘치다 → 넘치; 불법 주정차 → 불법, 주정차)."""
    if not keywords:
        return {}
    from sotong.nlp import tokenise

    return {
        keyword: tuple(tokens)
        for keyword, tokens in zip(keywords, tokenise.tokens_many(keywords), strict=True)
    }


def combine(
    matches: Sequence[DutyMatch], model: Sequence[dict[str, object]], k: int
) -> list[dict[str, object]]:
    """Duty matches first (equal matches in the model's order), then the model's
    suggestions for other departments; ``k`` in all."""
    rank = {s.get("department_id"): i for i, s in reversed(list(enumerate(model)))}
    chosen = sorted(
        matches, key=lambda m: (-m.score[0], -m.score[1], rank.get(m.department_id, k), m.name)
    )[:k]
    out = [match.suggestion() for match in chosen]
    taken = {match.department_id for match in chosen}
    named = {match.name for match in chosen}
    for suggestion in model:
        if len(out) >= k:
            break
        department_id = suggestion.get("department_id")
        if department_id is not None and department_id in taken:
            continue
        if department_id is None and suggestion.get("name") in named:
            continue
        if department_id is not None:
            taken.add(department_id)  # type: ignore[arg-type]
        named.add(str(suggestion.get("name")))
        out.append(suggestion)
    return out


def _compact(text: str) -> str:
    return "".join(text.split()).lower()
