"""Business days and legal deadlines over Korean holidays (민원처리법 art. 19)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sotong.conftest import SYSTEM
from sotong.core import actions
from sotong.core.calendar import BusinessCalendar, OfficeHours, ProcessingPeriod, calendar_for

SEOUL = ZoneInfo("Asia/Seoul")
CAL = BusinessCalendar()


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=SEOUL)


def test_weekends_and_public_holidays_are_not_business_days() -> None:
    assert CAL.is_business_day(dt.date(2026, 11, 24))  # Tuesday
    assert not CAL.is_business_day(dt.date(2026, 11, 28))  # Saturday
    assert not CAL.is_business_day(dt.date(2026, 11, 29))  # Sunday
    # 추석 2026: 24–26 September, and 개천절's substitute holiday on Monday 5 October.
    for day in (24, 25):
        assert not CAL.is_business_day(dt.date(2026, 9, day))
    assert not CAL.is_business_day(dt.date(2026, 10, 5))
    assert CAL.holiday_name(dt.date(2026, 9, 25)) == "추석"


def test_temporary_holiday_and_working_day_exceptions() -> None:
    calendar = BusinessCalendar(
        extra_closed_days=frozenset({dt.date(2026, 11, 25)}),
        extra_open_days=frozenset({dt.date(2026, 11, 28)}),
    )
    assert not calendar.is_business_day(dt.date(2026, 11, 25))
    assert calendar.holiday_name(dt.date(2026, 11, 25)) == "임시공휴일"
    assert calendar.is_business_day(dt.date(2026, 11, 28))


def test_seven_day_period_counts_days_with_the_first_day_included() -> None:
    # Received Tuesday 24 Nov 10:00: Tue(1) Wed Thu Fri Mon Tue Wed(7) → 2 Dec 18:00.
    deadline = CAL.deadline(at(2026, 11, 24, 10), ProcessingPeriod(days=7))
    assert deadline == at(2026, 12, 2, 18)


def test_fourteen_day_period_skips_chuseok() -> None:
    # Received Monday 21 Sep 2026; 24–25 Sep (추석), weekends and 5 Oct (substitute) don't count.
    # Mon21(1) Tue22 Wed23 | Mon28 Tue29 Wed30 Thu1 Fri2(8) | Tue6 Wed7 Thu8 (9 Oct 한글날) | Mon12 Tue13 Wed14(14)
    deadline = CAL.deadline(at(2026, 9, 21, 9), ProcessingPeriod(days=14))
    counted = [
        day
        for day in (dt.date(2026, 9, 21) + dt.timedelta(days=n) for n in range(40))
        if day.weekday() < 5
        and day
        not in {
            dt.date(2026, 9, 24),
            dt.date(2026, 9, 25),
            dt.date(2026, 10, 5),
            dt.date(2026, 10, 9),
        }
    ]
    assert deadline == dt.datetime.combine(counted[13], dt.time(18), SEOUL)
    assert deadline.date() == dt.date(2026, 10, 14)


def test_received_after_hours_counts_from_the_next_working_day() -> None:
    # Friday 27 Nov 20:00 → first day Monday 30 Nov; 7 days → Tuesday 8 Dec.
    deadline = CAL.deadline(at(2026, 11, 27, 20), ProcessingPeriod(days=7))
    assert deadline == at(2026, 12, 8, 18)


def test_five_day_period_is_forty_working_hours() -> None:
    # Tuesday 24 Nov 10:00 + 40 working hours (8 a day, lunch excluded) → Tuesday 1 Dec 10:00.
    deadline = CAL.deadline(at(2026, 11, 24, 10), ProcessingPeriod(days=5))
    assert deadline == at(2026, 12, 1, 10)


def test_immediate_is_three_working_hours_across_lunch() -> None:
    assert CAL.deadline(at(2026, 11, 24, 11), ProcessingPeriod(immediate=True)) == at(
        2026, 11, 24, 15
    )


def test_hours_received_outside_working_hours_start_at_the_next_working_hour() -> None:
    # Saturday night → Monday 09:00 + 3h → 12:00, just before lunch.
    assert CAL.deadline(at(2026, 11, 28, 23), ProcessingPeriod(immediate=True)) == at(
        2026, 11, 30, 12
    )
    # During lunch → 13:00 + 3h.
    assert CAL.deadline(at(2026, 11, 24, 12, 30), ProcessingPeriod(immediate=True)) == at(
        2026, 11, 24, 16
    )


def test_hours_skip_a_public_holiday() -> None:
    # Christmas Friday 25 Dec 2026 is a holiday: Thursday 17:00 + 3h → Monday 28 Dec 11:00.
    assert CAL.deadline(at(2026, 12, 24, 17), ProcessingPeriod(immediate=True)) == at(
        2026, 12, 28, 11
    )


def test_working_time_between_matches_add_working_time() -> None:
    start = at(2026, 11, 24, 10)
    end = CAL.add_working_time(start, dt.timedelta(hours=20))
    assert CAL.working_time_between(start, end) == dt.timedelta(hours=20)


def test_invalid_periods_and_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="either immediate"):
        ProcessingPeriod()
    with pytest.raises(ValueError, match="either immediate"):
        ProcessingPeriod(days=3, immediate=True)
    with pytest.raises(ValueError, match="timezone-aware"):
        CAL.deadline(dt.datetime(2026, 11, 24, 10), ProcessingPeriod(days=7))
    with pytest.raises(ValueError, match="ordered"):
        OfficeHours(work_start=dt.time(18), work_end=dt.time(9))


moments = st.datetimes(
    min_value=dt.datetime(2024, 1, 1), max_value=dt.datetime(2028, 12, 31), timezones=st.just(SEOUL)
)


@settings(max_examples=200, deadline=None)
@given(start=moments, hours=st.integers(min_value=0, max_value=120))
def test_added_working_time_lands_inside_working_hours(start: dt.datetime, hours: int) -> None:
    end = CAL.add_working_time(start, dt.timedelta(hours=hours))
    assert end >= start
    assert CAL.is_business_day(end.date())
    local = end.astimezone(SEOUL).time()
    assert dt.time(9) <= local <= dt.time(18)
    assert not (dt.time(12) < local < dt.time(13))
    assert CAL.working_time_between(start, end) == dt.timedelta(hours=hours)


@settings(max_examples=200, deadline=None)
@given(start=moments, days=st.integers(min_value=6, max_value=30))
def test_day_counted_deadlines_end_at_close_on_a_business_day(
    start: dt.datetime, days: int
) -> None:
    deadline = CAL.deadline(start, ProcessingPeriod(days=days))
    assert deadline.time() == dt.time(18)
    assert CAL.is_business_day(deadline.date())
    first = CAL.next_working_moment(start).date()
    counted = sum(
        CAL.is_business_day(first + dt.timedelta(days=n))
        for n in range((deadline.date() - first).days + 1)
    )
    assert counted == days


@settings(max_examples=100, deadline=None)
@given(start=moments, days=st.integers(min_value=1, max_value=29))
def test_longer_periods_never_end_earlier(start: dt.datetime, days: int) -> None:
    assert CAL.deadline(start, ProcessingPeriod(days=days)) <= CAL.deadline(
        start, ProcessingPeriod(days=days + 1)
    )


def test_calendar_for_uses_the_organisations_hours_and_exceptions(city) -> None:
    actions.update_organisation_hours(
        SYSTEM,
        city,
        work_start=dt.time(8),
        work_end=dt.time(17),
        lunch_start=dt.time(12),
        lunch_end=dt.time(13),
    )
    actions.set_calendar_exception(SYSTEM, city, date=dt.date(2026, 11, 25), name="임시공휴일")
    calendar = calendar_for(city)
    assert not calendar.is_business_day(dt.date(2026, 11, 25))
    # Tuesday 16:00 + 3h: 1h Tuesday, Wednesday closed, Thursday 08:00 + 2h.
    assert calendar.deadline(at(2026, 11, 24, 16), ProcessingPeriod(immediate=True)) == at(
        2026, 11, 26, 10
    )


def test_holidays_between_lists_names_in_order() -> None:
    holidays = CAL.holidays_between(dt.date(2026, 9, 20), dt.date(2026, 10, 10))
    assert [day for day, _name in holidays] == [
        dt.date(2026, 9, 24),
        dt.date(2026, 9, 25),
        dt.date(2026, 9, 26),
        dt.date(2026, 10, 3),
        dt.date(2026, 10, 5),
        dt.date(2026, 10, 9),
    ]
    assert holidays[1][1] == "추석"
