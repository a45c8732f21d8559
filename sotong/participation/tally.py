"""Counting a poll's ballots exactly, from any channel, without the database.

`tally()` takes plain `BallotIn` records (what the web page, KakaoTalk quick replies and
parsed comments produced), the number of options, the poll's `Rules` and the identities
citizens linked themselves, and returns a `Tally`: counts per option and per channel, the
ballots counted, and for every other ballot why it was not counted.

The rules, in the order a ballot meets them (the first that applies is its reason):

1. Time: a ballot cast before the poll opens is ``early``; at or after the close it is
   ``late``. Both are kept and marked, never counted. The window is ``[opens_at, closes_at)``.
2. ``invalid``: the ballot came in marked invalid (a comment naming two options or none;
   its own reason is kept as the detail), or it names no option.
3. ``too_many_choices``: more distinct options than the poll allows. Such a ballot is
   invalid as a whole, not cut down: which of its choices to drop would be a guess.
4. ``unknown_option``: an option index outside ``1..options``.
5. ``duplicate``: a person has one ballot per poll. A person is a (channel, voter) pair,
   or, where the citizen linked identities on several channels, the person they linked to.
   Of a person's remaining ballots the first counts (or, with ``allow_change``, the last);
   the others are duplicates of it. Invalid, early and late ballots never take a person's
   place: a person whose first comment named no option still counts with the next one.

"First" and "last" are by (cast_at, id): ballots cast in the same instant are ordered by
their id, so the result is the same whatever order the ballots arrive in.

No Django imports: the models' code calls this, and the benchmark measures it alone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

__all__ = ["BallotIn", "Reason", "Rejection", "Rules", "Tally", "tally"]


@dataclass(frozen=True, slots=True)
class BallotIn:
    """One ballot as a channel delivered it.

    ``voter`` is a pseudonymous key, unique within its channel only. ``choices`` are option
    indexes counted from 1; repeating an option counts it once. ``valid`` and ``reason``
    carry what parsing decided (e.g. a comment naming no option: valid=False, reason="none").
    """

    id: int
    channel: str
    voter: str
    cast_at: dt.datetime
    choices: tuple[int, ...]
    valid: bool = True
    reason: str = ""

    def __post_init__(self) -> None:
        # A naive time could be read as UTC or as Seoul time: nine hours of doubt at the close.
        if self.cast_at.utcoffset() is None:
            raise ValueError(f"ballot {self.id}: cast_at must be timezone-aware")
        if not isinstance(self.choices, tuple):
            raise TypeError(f"ballot {self.id}: choices must be a tuple")


@dataclass(frozen=True, slots=True)
class Rules:
    """How a poll counts: its open window, the most options one ballot may name, and
    whether a person's last ballot replaces the earlier ones (else the first one stands)."""

    opens_at: dt.datetime
    closes_at: dt.datetime
    max_choices: int = 1
    allow_change: bool = False

    def __post_init__(self) -> None:
        if self.opens_at.utcoffset() is None or self.closes_at.utcoffset() is None:
            raise ValueError("opens_at and closes_at must be timezone-aware")
        if self.closes_at < self.opens_at:
            raise ValueError("closes_at is before opens_at")
        if self.max_choices < 1:
            raise ValueError("max_choices must be at least 1")


class Reason(StrEnum):
    """Why a ballot was not counted (the value is stored and shown to staff)."""

    EARLY = "early"
    LATE = "late"
    INVALID = "invalid"
    TOO_MANY_CHOICES = "too_many_choices"
    UNKNOWN_OPTION = "unknown_option"
    DUPLICATE = "duplicate"


@dataclass(frozen=True, slots=True)
class Rejection:
    """A ballot not counted: the reason, a detail (the parser's own reason for an invalid
    ballot, the unknown indexes for an unknown option) and, for a duplicate, the id of the
    ballot counted for the same person."""

    reason: Reason
    detail: str = ""
    duplicate_of: int | None = None


@dataclass(frozen=True)
class Tally:
    """The result. ``counts[n]`` is how many people chose option ``n`` (every option from 1
    to ``options`` is a key, zero or not); ``by_channel[channel][n]`` the same for the people
    counted through that channel (every channel a ballot came from is present, in name
    order). ``counted`` holds the counted ballot ids in order; ``rejected`` maps every other
    ballot id, in order, to why it was not counted."""

    options: int
    counts: dict[int, int]
    by_channel: dict[str, dict[int, int]]
    counted: tuple[int, ...]
    rejected: dict[int, Rejection]

    @property
    def voters(self) -> int:
        """People counted (one counted ballot each)."""
        return len(self.counted)

    def reason_counts(self) -> dict[str, int]:
        """Ballots not counted per reason, for the reasons that occur, in `Reason` order
        (the keys are `Reason` members, which are also their plain string values)."""
        totals: dict[str, int] = dict.fromkeys(Reason, 0)
        for rejection in self.rejected.values():
            totals[rejection.reason] += 1
        return {reason: total for reason, total in totals.items() if total}


def tally(
    ballots: Iterable[BallotIn],
    options: int,
    rules: Rules,
    links: Mapping[tuple[str, str], str] | None = None,
) -> Tally:
    """Count ``ballots`` for a poll of ``options`` options under ``rules``.

    ``links`` maps (channel, voter) to a person id for citizens who confirmed that several
    identities are theirs; such a person counts once overall, anyone else once per channel.
    The same ballot delivered twice (same id, same content) is taken once; the same id with
    different content is a caller's error (ValueError), as no order-free choice exists.
    """
    if options < 1:
        raise ValueError("a poll has at least one option")
    links = links or {}
    opens_at, closes_at = rules.opens_at, rules.closes_at
    max_choices, allow_change = rules.max_choices, rules.allow_change

    # Who is who, without building a key per ballot: a person is a voter key in its
    # channel's table, or a linked person id in a table of its own, so a person id can
    # never be mistaken for a voter key.
    linked_in: dict[str, dict[str, str]] = {}
    for (channel, voter), person in links.items():
        linked_in.setdefault(channel, {})[voter] = person
    linked_best: dict[str, BallotIn] = {}
    own_best: dict[str, dict[str, BallotIn]] = {}

    seen: dict[int, BallotIn] = {}
    rejected: dict[int, Rejection] = {}
    # Every eligible ballot with the table and key of its person (parallel lists: no
    # tuple per ballot, which at 100,000 ballots shows in the time and in the collector's).
    eligible: list[BallotIn] = []
    tables: list[dict[str, BallotIn]] = []
    keys: list[str] = []

    for ballot in ballots:
        ballot_id = ballot.id
        prior = seen.get(ballot_id)
        if prior is not None:
            if prior != ballot:
                raise ValueError(f"ballot id {ballot_id} was given twice with different content")
            continue
        seen[ballot_id] = ballot

        cast_at = ballot.cast_at
        if cast_at < opens_at:
            rejected[ballot_id] = Rejection(Reason.EARLY)
            continue
        if cast_at >= closes_at:
            rejected[ballot_id] = Rejection(Reason.LATE)
            continue
        choices = ballot.choices
        if not ballot.valid:
            rejected[ballot_id] = Rejection(Reason.INVALID, ballot.reason)
            continue
        if not choices:
            rejected[ballot_id] = Rejection(Reason.INVALID, ballot.reason or "no_choice")
            continue
        if len(choices) > 1:
            distinct = set(choices)
            if len(distinct) > max_choices:
                rejected[ballot_id] = Rejection(Reason.TOO_MANY_CHOICES, str(len(distinct)))
                continue
            low, high = min(distinct), max(distinct)
        else:
            low = high = choices[0]
        if low < 1 or high > options:
            unknown = sorted({c for c in choices if not 1 <= c <= options})
            rejected[ballot_id] = Rejection(
                Reason.UNKNOWN_OPTION, ",".join(str(c) for c in unknown)
            )
            continue

        channel, key = ballot.channel, ballot.voter
        linked_here = linked_in.get(channel)
        linked = linked_here.get(key) if linked_here else None
        if linked is not None:
            table, key = linked_best, linked
        elif channel in own_best:
            table = own_best[channel]
        else:
            table = own_best[channel] = {}
        current = table.get(key)
        if current is None:
            table[key] = ballot
        else:
            # (cast_at, id) is a total order on distinct ballots: the one that stands does
            # not depend on which of them arrived first.
            standing_at = current.cast_at
            later = cast_at > standing_at or (cast_at == standing_at and ballot_id > current.id)
            if later == allow_change:
                table[key] = ballot
        eligible.append(ballot)
        tables.append(table)
        keys.append(key)

    for ballot, table, key in zip(eligible, tables, keys, strict=True):
        winner = table[key]
        if winner.id != ballot.id:
            rejected[ballot.id] = Rejection(Reason.DUPLICATE, duplicate_of=winner.id)

    winners = [*linked_best.values()]
    for table in own_best.values():
        winners.extend(table.values())
    channels = sorted({ballot.channel for ballot in seen.values()})
    per_channel = {channel: [0] * options for channel in channels}
    counts = [0] * options
    for winner in winners:
        row = per_channel[winner.channel]
        for choice in set(winner.choices):
            counts[choice - 1] += 1
            row[choice - 1] += 1

    return Tally(
        options=options,
        counts=dict(enumerate(counts, start=1)),
        by_channel={channel: dict(enumerate(row, start=1)) for channel, row in per_channel.items()},
        counted=tuple(sorted(winner.id for winner in winners)),
        rejected=dict(sorted(rejected.items())),
    )
