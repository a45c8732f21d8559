"""The counting core: each rule on its own, then properties over random ballots (hypothesis)
and the benchmark's generated ballots against its slow reference count."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.ballot_tally import generate, reference_tally
from sotong.participation.tally import BallotIn, Reason, Rejection, Rules, Tally, tally

SEOUL = ZoneInfo("Asia/Seoul")
OPENS = dt.datetime(2026, 5, 4, 9, 0, tzinfo=SEOUL)
CLOSES = dt.datetime(2026, 5, 4, 11, 0, tzinfo=SEOUL)
RULES = Rules(OPENS, CLOSES)


def at(minutes: float) -> dt.datetime:
    return OPENS + dt.timedelta(minutes=minutes)


def ballot(
    id: int,
    choices: tuple[int, ...] = (1,),
    *,
    channel: str = "band",
    voter: str = "u1",
    minutes: float = 10,
    valid: bool = True,
    reason: str = "",
) -> BallotIn:
    return BallotIn(id, channel, voter, at(minutes), choices, valid, reason)


# --- One rule at a time -------------------------------------------------------------------


def test_one_ballot_counts_for_its_option_and_channel() -> None:
    result = tally([ballot(7, (2,))], 3, RULES)
    assert result == Tally(
        options=3,
        counts={1: 0, 2: 1, 3: 0},
        by_channel={"band": {1: 0, 2: 1, 3: 0}},
        counted=(7,),
        rejected={},
    )
    assert result.voters == 1
    assert result.reason_counts() == {}


def test_no_ballots_gives_zero_for_every_option() -> None:
    result = tally([], 2, RULES)
    assert result.counts == {1: 0, 2: 0}
    assert result.by_channel == {}
    assert result.counted == ()


def test_the_window_is_open_at_the_opening_and_closed_at_the_close() -> None:
    ballots = [
        ballot(1, voter="a", minutes=0),  # exactly at the opening: counts
        ballot(2, voter="b", minutes=-0.001),  # a moment before: early
        ballot(3, voter="c", minutes=120),  # exactly at the close: late
        ballot(4, voter="d", minutes=119.999),  # a moment before the close: counts
        ballot(5, voter="e", minutes=60 * 24),  # the next day: late
    ]
    result = tally(ballots, 2, RULES)
    assert result.counted == (1, 4)
    assert result.rejected == {
        2: Rejection(Reason.EARLY),
        3: Rejection(Reason.LATE),
        5: Rejection(Reason.LATE),
    }
    assert result.counts == {1: 2, 2: 0}


def test_a_late_ballot_is_marked_late_not_duplicate_and_does_not_replace_the_vote() -> None:
    ballots = [ballot(1, (1,), minutes=5), ballot(2, (2,), minutes=130)]
    for allow_change in (False, True):
        rules = dataclasses.replace(RULES, allow_change=allow_change)
        result = tally(ballots, 2, rules)
        assert result.counted == (1,)
        assert result.rejected == {2: Rejection(Reason.LATE)}
        assert result.counts == {1: 1, 2: 0}


def test_times_in_other_zones_are_compared_as_instants() -> None:
    # 01:59:59 UTC is 10:59:59 in Seoul: before the close; 02:00 UTC is the close.
    utc = dt.UTC
    ballots = [
        BallotIn(1, "web", "a", dt.datetime(2026, 5, 4, 1, 59, 59, tzinfo=utc), (1,), True),
        BallotIn(2, "web", "b", dt.datetime(2026, 5, 4, 2, 0, 0, tzinfo=utc), (1,), True),
    ]
    result = tally(ballots, 1, RULES)
    assert result.counted == (1,)
    assert result.rejected == {2: Rejection(Reason.LATE)}


def test_invalid_ballots_keep_their_own_reason_and_never_count() -> None:
    ballots = [
        ballot(1, (1, 2), voter="a", valid=False, reason="two_options"),
        ballot(2, (), voter="b", valid=False, reason="no_option"),
        ballot(3, (), voter="c"),  # marked valid but naming nothing
        ballot(4, (1,), voter="d", valid=False),  # invalid even with a choice
    ]
    result = tally(ballots, 2, RULES)
    assert result.counted == ()
    assert result.counts == {1: 0, 2: 0}
    assert result.rejected == {
        1: Rejection(Reason.INVALID, "two_options"),
        2: Rejection(Reason.INVALID, "no_option"),
        3: Rejection(Reason.INVALID, "no_choice"),
        4: Rejection(Reason.INVALID, ""),
    }
    assert result.reason_counts() == {Reason.INVALID: 4}
    # The channel still shows, with zero counted through it.
    assert result.by_channel == {"band": {1: 0, 2: 0}}


def test_an_invalid_first_ballot_does_not_take_the_persons_place() -> None:
    ballots = [
        ballot(1, (), minutes=1, valid=False, reason="no_option"),
        ballot(2, (2,), minutes=2),
        ballot(3, (1,), minutes=3),
    ]
    result = tally(ballots, 2, RULES)
    assert result.counted == (2,)
    assert result.rejected == {
        1: Rejection(Reason.INVALID, "no_option"),
        3: Rejection(Reason.DUPLICATE, duplicate_of=2),
    }


def test_too_many_choices_is_invalid_as_a_whole_not_truncated() -> None:
    single = tally([ballot(1, (1, 2))], 3, RULES)
    assert single.counted == ()
    assert single.counts == {1: 0, 2: 0, 3: 0}
    assert single.rejected == {1: Rejection(Reason.TOO_MANY_CHOICES, "2")}

    rules = dataclasses.replace(RULES, max_choices=2)
    multi = tally([ballot(1, (1, 2, 3), voter="a"), ballot(2, (1, 3), voter="b")], 3, rules)
    assert multi.counted == (2,)
    assert multi.rejected == {1: Rejection(Reason.TOO_MANY_CHOICES, "3")}
    assert multi.counts == {1: 1, 2: 0, 3: 1}
    assert multi.voters == 1


def test_a_repeated_option_counts_once_and_is_not_too_many() -> None:
    result = tally([ballot(1, (2, 2, 2))], 2, RULES)
    assert result.counted == (1,)
    assert result.counts == {1: 0, 2: 1}

    rules = dataclasses.replace(RULES, max_choices=2)
    multi = tally([ballot(1, (1, 2, 1, 2))], 2, rules)
    assert multi.counts == {1: 1, 2: 1}


def test_unknown_options_are_named_in_the_detail() -> None:
    rules = dataclasses.replace(RULES, max_choices=3)
    ballots = [
        ballot(1, (0,), voter="a"),
        ballot(2, (4,), voter="b"),
        ballot(3, (-1,), voter="c"),
        ballot(4, (1, 9, 5), voter="d"),
        ballot(5, (3,), voter="e"),
    ]
    result = tally(ballots, 3, rules)
    assert result.counted == (5,)
    assert result.rejected == {
        1: Rejection(Reason.UNKNOWN_OPTION, "0"),
        2: Rejection(Reason.UNKNOWN_OPTION, "4"),
        3: Rejection(Reason.UNKNOWN_OPTION, "-1"),
        4: Rejection(Reason.UNKNOWN_OPTION, "5,9"),
    }


def test_a_person_counts_once_per_channel_the_first_ballot_standing() -> None:
    ballots = [
        ballot(30, (2,), minutes=30),
        ballot(10, (1,), minutes=10),
        ballot(20, (2,), minutes=20),
    ]
    result = tally(ballots, 2, RULES)
    assert result.counted == (10,)
    assert result.counts == {1: 1, 2: 0}
    assert result.rejected == {
        20: Rejection(Reason.DUPLICATE, duplicate_of=10),
        30: Rejection(Reason.DUPLICATE, duplicate_of=10),
    }


def test_with_allow_change_the_last_ballot_before_the_close_counts() -> None:
    rules = dataclasses.replace(RULES, allow_change=True)
    ballots = [
        ballot(10, (1,), minutes=10),
        ballot(30, (2,), minutes=30),
        ballot(20, (1,), minutes=20),
        ballot(40, (1,), minutes=200),  # late: not the last that counts
    ]
    result = tally(ballots, 2, rules)
    assert result.counted == (30,)
    assert result.counts == {1: 0, 2: 1}
    assert result.rejected == {
        10: Rejection(Reason.DUPLICATE, duplicate_of=30),
        20: Rejection(Reason.DUPLICATE, duplicate_of=30),
        40: Rejection(Reason.LATE),
    }


def test_ballots_cast_in_the_same_instant_are_ordered_by_id() -> None:
    # Ids deliberately not in time order, arriving out of order.
    ballots = [ballot(9, (2,), minutes=5), ballot(4, (1,), minutes=5), ballot(6, (2,), minutes=5)]
    first = tally(ballots, 2, RULES)
    assert first.counted == (4,)
    assert first.counts == {1: 1, 2: 0}
    last = tally(ballots, 2, dataclasses.replace(RULES, allow_change=True))
    assert last.counted == (9,)
    assert last.counts == {1: 0, 2: 1}
    # Time still goes first: a lower id cast later does not win.
    later = tally([ballot(1, (2,), minutes=6), ballot(4, (1,), minutes=5)], 2, RULES)
    assert later.counted == (4,)


def test_the_same_voter_key_on_two_channels_is_two_people_unless_linked() -> None:
    ballots = [
        ballot(1, (1,), channel="kakao", voter="k-77", minutes=1),
        ballot(2, (2,), channel="band", voter="b-12", minutes=2),
        ballot(3, (2,), channel="web", voter="k-77", minutes=3),  # another person's key
    ]
    unlinked = tally(ballots, 2, RULES)
    assert unlinked.counted == (1, 2, 3)
    assert unlinked.counts == {1: 1, 2: 2}

    links = {("kakao", "k-77"): "person-1", ("band", "b-12"): "person-1"}
    linked = tally(ballots, 2, RULES, links)
    assert linked.counted == (1, 3)
    assert linked.counts == {1: 1, 2: 1}
    assert linked.rejected == {2: Rejection(Reason.DUPLICATE, duplicate_of=1)}
    # A linked person counts on the channel of the ballot that stands.
    assert linked.by_channel == {
        "band": {1: 0, 2: 0},
        "kakao": {1: 1, 2: 0},
        "web": {1: 0, 2: 1},
    }
    changed = tally(ballots, 2, dataclasses.replace(RULES, allow_change=True), links)
    assert changed.counted == (2, 3)
    assert changed.by_channel["band"] == {1: 0, 2: 1}
    assert changed.by_channel["kakao"] == {1: 0, 2: 0}


def test_a_person_id_is_never_mistaken_for_a_voter_key() -> None:
    # The person id happens to equal another voter's key on the same channel.
    ballots = [ballot(1, voter="u1", minutes=1), ballot(2, voter="u2", minutes=2)]
    result = tally(ballots, 1, RULES, {("band", "u1"): "u2"})
    assert result.counted == (1, 2)


def test_the_same_ballot_delivered_twice_is_taken_once() -> None:
    one = ballot(5, (2,))
    result = tally([one, one, dataclasses.replace(one)], 2, RULES)
    assert result.counted == (5,)
    assert result.counts == {1: 0, 2: 1}
    assert result.rejected == {}


def test_one_id_with_two_different_contents_is_an_error() -> None:
    with pytest.raises(ValueError, match="ballot id 5 was given twice"):
        tally([ballot(5, (1,)), ballot(5, (2,))], 2, RULES)


def test_reason_counts_list_the_reasons_that_occur_in_order() -> None:
    ballots = [
        ballot(1, voter="a", minutes=500),
        ballot(2, voter="b", valid=False, reason="no_option"),
        ballot(3, voter="c", minutes=1),
        ballot(4, voter="c", minutes=2),
        ballot(5, voter="d", minutes=-5),
        ballot(6, voter="e", minutes=501),
    ]
    result = tally(ballots, 1, RULES)
    assert result.reason_counts() == {
        Reason.EARLY: 1,
        Reason.LATE: 2,
        Reason.INVALID: 1,
        Reason.DUPLICATE: 1,
    }
    assert list(result.reason_counts()) == ["early", "late", "invalid", "duplicate"]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: BallotIn(1, "web", "a", dt.datetime(2026, 5, 4, 10), (1,)), "timezone-aware"),
        (lambda: Rules(dt.datetime(2026, 5, 4), CLOSES), "timezone-aware"),
        (lambda: Rules(CLOSES, OPENS), "closes_at is before opens_at"),
        (lambda: Rules(OPENS, CLOSES, max_choices=0), "max_choices"),
        (lambda: tally([], 0, RULES), "at least one option"),
    ],
)
def test_bad_input_is_refused_clearly(make: Callable[[], object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make()


def test_choices_must_be_a_tuple() -> None:
    with pytest.raises(TypeError, match="tuple"):
        BallotIn(1, "web", "a", OPENS, [1])  # type: ignore[arg-type]


# --- Properties over random ballots ------------------------------------------------------

CHANNELS = ("web", "kakao", "band")
OPTIONS = 3


# Few voters, channels and minutes, so that repeats, ties in the same instant and links
# between identities happen often; times reach before the opening and after the close.
# Mostly well-formed choices, so that people's ballots compete; sometimes anything.
choice_lists = st.one_of(
    st.lists(st.integers(min_value=1, max_value=OPTIONS), min_size=1, max_size=1),
    st.lists(st.integers(min_value=1, max_value=OPTIONS), min_size=1, max_size=3),
    st.lists(st.integers(min_value=-1, max_value=OPTIONS + 1), max_size=3),
)


@st.composite
def ballot_lists(draw: st.DrawFn, max_size: int = 30) -> list[BallotIn]:
    ids = draw(st.lists(st.integers(min_value=1, max_value=10_000), unique=True, max_size=max_size))
    out = []
    for ballot_id in ids:
        channel = draw(st.sampled_from(CHANNELS))
        voter = draw(st.sampled_from(("a", "b", "c", "d")))
        # Ten-minute steps from before the opening to after the close, both included.
        minutes = 10 * draw(st.integers(min_value=-2, max_value=13))
        choices = tuple(draw(choice_lists))
        valid = draw(st.integers(min_value=0, max_value=9)) > 0  # one in ten invalid
        reason = "" if valid else draw(st.sampled_from(("no_option", "two_options")))
        out.append(BallotIn(ballot_id, channel, voter, at(minutes), choices, valid, reason))
    return out


rules_st = st.builds(
    Rules,
    st.just(OPENS),
    st.just(CLOSES),
    max_choices=st.integers(min_value=1, max_value=3),
    allow_change=st.booleans(),
)
identities = st.tuples(st.sampled_from(CHANNELS), st.sampled_from(("a", "b", "c", "d")))
links_st = st.dictionaries(identities, st.sampled_from(("p1", "p2", "p3")), max_size=6)


def check_consistent(result: Tally, ballots: list[BallotIn], rules: Rules) -> None:
    """What holds of every tally: each ballot counted or rejected, totals that add up."""
    ids = {b.id for b in ballots}
    assert set(result.counted) | set(result.rejected) == ids
    assert not set(result.counted) & set(result.rejected)
    by_id = {b.id: b for b in ballots}
    distinct = [set(by_id[i].choices) for i in result.counted]
    assert sum(result.counts.values()) == sum(len(c) for c in distinct)
    for option in range(1, OPTIONS + 1):
        assert result.counts[option] == sum(option in c for c in distinct)
        assert result.counts[option] == sum(row[option] for row in result.by_channel.values())
    if rules.max_choices == 1:
        assert sum(result.counts.values()) == result.voters
    for rejection in result.rejected.values():
        if rejection.reason is Reason.DUPLICATE:
            assert rejection.duplicate_of in result.counted


@settings(max_examples=300, deadline=None)
@given(ballots=ballot_lists(), rules=rules_st, links=links_st, data=st.data())
def test_the_tally_is_the_same_in_any_arrival_order(
    ballots: list[BallotIn], rules: Rules, links: dict[tuple[str, str], str], data: st.DataObject
) -> None:
    result = tally(ballots, OPTIONS, rules, links)
    shuffled = data.draw(st.permutations(ballots))
    assert tally(shuffled, OPTIONS, rules, links) == result
    assert tally(iter(shuffled), OPTIONS, rules, links) == result  # any iterable, once
    check_consistent(result, ballots, rules)


@settings(max_examples=300, deadline=None)
@given(ballots=ballot_lists(), rules=rules_st, links=links_st)
def test_the_tally_equals_the_slow_reference_count(
    ballots: list[BallotIn], rules: Rules, links: dict[tuple[str, str], str]
) -> None:
    assert tally(ballots, OPTIONS, rules, links) == reference_tally(ballots, OPTIONS, rules, links)


@settings(max_examples=200, deadline=None)
@given(
    ballots=ballot_lists(max_size=20).filter(bool), rules=rules_st, links=links_st, data=st.data()
)
def test_adding_an_exact_duplicate_never_changes_the_counts(
    ballots: list[BallotIn], rules: Rules, links: dict[tuple[str, str], str], data: st.DataObject
) -> None:
    before = tally(ballots, OPTIONS, rules, links)
    original = data.draw(st.sampled_from(ballots))
    # Delivered again: nothing changes at all.
    assert tally([*ballots, original], OPTIONS, rules, links) == before
    # Sent again (a new ballot, same person, same instant, same choices): same counts. Not
    # for a ballot already replaced by a change of mind: a copy of it with a higher id in
    # the same instant is, by the (cast_at, id) order, a change back, and rightly counts.
    if rules.allow_change:
        shadowed = before.rejected.get(original.id)
        if shadowed is not None and shadowed.reason is Reason.DUPLICATE:
            return
    fresh_id = max(b.id for b in ballots) + 1
    again = dataclasses.replace(original, id=fresh_id)
    after = tally([*ballots, again], OPTIONS, rules, links)
    assert after.counts == before.counts
    assert after.by_channel == before.by_channel
    assert after.voters == before.voters
    # One of the two stands at most (the copy, if it is the later and changes are allowed).
    assert original.id in after.rejected or fresh_id in after.rejected


@settings(max_examples=300, deadline=None)
@given(
    ballots=ballot_lists(),
    rules=rules_st,
    links=links_st,
    extra=st.dictionaries(identities, st.sampled_from(("p1", "p4")), min_size=1, max_size=3),
)
def test_linking_identities_never_increases_a_count(
    ballots: list[BallotIn],
    rules: Rules,
    links: dict[tuple[str, str], str],
    extra: dict[tuple[str, str], str],
) -> None:
    # Adding links (never re-pointing an existing one) only merges people.
    more = {**extra, **links}
    for fewer, linked in (({}, links), (links, more)):
        before = tally(ballots, OPTIONS, rules, fewer)
        after = tally(ballots, OPTIONS, rules, linked)
        assert after.voters <= before.voters
        for option in range(1, OPTIONS + 1):
            assert after.counts[option] <= before.counts[option]
            for channel, row in after.by_channel.items():
                assert row[option] <= before.by_channel[channel][option]


@settings(max_examples=300, deadline=None)
@given(ballots=ballot_lists(), rules=rules_st, links=links_st)
def test_late_and_early_ballots_are_never_counted(
    ballots: list[BallotIn], rules: Rules, links: dict[tuple[str, str], str]
) -> None:
    result = tally(ballots, OPTIONS, rules, links)
    for b in ballots:
        if b.cast_at >= CLOSES:
            assert result.rejected[b.id] == Rejection(Reason.LATE)
        elif b.cast_at < OPENS:
            assert result.rejected[b.id] == Rejection(Reason.EARLY)
    # Dropping them changes nothing that counts.
    on_time = [b for b in ballots if OPENS <= b.cast_at < CLOSES]
    trimmed = tally(on_time, OPTIONS, rules, links)
    assert trimmed.counts == result.counts
    assert trimmed.counted == result.counted


# --- The benchmark's ballots, small ------------------------------------------------------


@pytest.mark.parametrize(("max_choices", "allow_change"), [(1, False), (3, True)])
def test_generated_ballots_match_the_reference_in_any_order(
    max_choices: int, allow_change: bool
) -> None:
    scenario = generate(3_000, seed=7, max_choices=max_choices, allow_change=allow_change)
    result = tally(scenario.ballots, scenario.options, scenario.rules, scenario.links)
    assert result == reference_tally(
        scenario.ballots, scenario.options, scenario.rules, scenario.links
    )
    by_id = sorted(scenario.ballots, key=lambda b: b.id)
    assert tally(by_id, scenario.options, scenario.rules, scenario.links) == result
    # The generator makes every kind of ballot the rules know, and links that matter.
    assert set(result.reason_counts()) == set(Reason)
    assert result.reason_counts()[Reason.DUPLICATE] > 0.15 * 3_000
    assert tally(scenario.ballots, scenario.options, scenario.rules).voters > result.voters
