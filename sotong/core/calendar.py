"""The business-day calendar: Korean public holidays, the office's own exceptions and its
working hours, and the civil-complaint deadlines counted over them.

Counting follows 민원 처리에 관한 법률 art. 19 (see shared/docs/korea-rules.md):
- a period of 5 days or less is counted in working hours, 1 day = 8 working hours, from
  receipt; a message received outside working hours starts at the next working hour;
- a period of 6 days or more is counted in days, the first day included, ending when the
  office closes on the last day;
- "immediately" (즉시) is 3 working hours;
- Saturdays, Sundays and public holidays (with substitute and temporary holidays) never count.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import holidays

if TYPE_CHECKING:
    from sotong.core.models import Organisation

HOURS_PER_LEGAL_DAY = 8
IMMEDIATE_HOURS = 3
HOUR_COUNTED_MAX_DAYS = 5


@dataclass(frozen=True)
class OfficeHours:
    work_start: dt.time = dt.time(9, 0)
    lunch_start: dt.time = dt.time(12, 0)
    lunch_end: dt.time = dt.time(13, 0)
    work_end: dt.time = dt.time(18, 0)

    def __post_init__(self) -> None:
        if not (self.work_start <= self.lunch_start <= self.lunch_end <= self.work_end):
            raise ValueError("office hours must be ordered: start ≤ lunch ≤ lunch end ≤ end")
        if self.work_start >= self.work_end:
            raise ValueError("office hours must end after they start")

    def intervals(self) -> list[tuple[dt.time, dt.time]]:
        """The working stretches of a day, lunch left out."""
        stretches = [(self.work_start, self.lunch_start), (self.lunch_end, self.work_end)]
        return [(start, end) for start, end in stretches if start < end]


@dataclass(frozen=True)
class ProcessingPeriod:
    """A legal processing period: ``immediate`` or a number of days."""

    days: int = 0
    immediate: bool = False

    def __post_init__(self) -> None:
        if self.immediate == (self.days > 0):
            raise ValueError("a period is either immediate or a positive number of days")

    @property
    def counted_in_hours(self) -> bool:
        return self.immediate or self.days <= HOUR_COUNTED_MAX_DAYS

    @property
    def working_hours(self) -> int:
        return IMMEDIATE_HOURS if self.immediate else self.days * HOURS_PER_LEGAL_DAY


@dataclass
class BusinessCalendar:
    time_zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Seoul"))
    hours: OfficeHours = field(default_factory=OfficeHours)
    # The office's exceptions to the national calendar.
    extra_closed_days: frozenset[dt.date] = frozenset()
    extra_open_days: frozenset[dt.date] = frozenset()

    @cached_property
    def _national(self) -> holidays.HolidayBase:
        # Expands to any year asked about.
        return holidays.country_holidays("KR")

    def holiday_name(self, day: dt.date) -> str | None:
        if day in self.extra_open_days:
            return None
        if day in self.extra_closed_days:
            return "임시공휴일"
        name = self._national.get(day)
        return str(name) if name else None

    def holidays_between(self, start: dt.date, end: dt.date) -> list[tuple[dt.date, str]]:
        """(day, name) of each holiday from ``start`` up to, not including, ``end``."""
        days = (start + dt.timedelta(days=n) for n in range((end - start).days))
        return [(day, name) for day in days if (name := self.holiday_name(day))]

    def is_business_day(self, day: dt.date) -> bool:
        if day in self.extra_open_days:
            return True
        if day.weekday() >= 5 or day in self.extra_closed_days:
            return False
        return day not in self._national

    def business_days(self, start: dt.date) -> Iterable[dt.date]:
        """Business days from ``start`` (included if it is one), in order, without end."""
        day = start
        while True:
            if self.is_business_day(day):
                yield day
            day += dt.timedelta(days=1)

    def add_business_days(self, start: dt.date, count: int) -> dt.date:
        """The ``count``-th business day counting ``start`` as the first if it is one."""
        if count < 1:
            raise ValueError("count must be at least 1")
        for position, day in enumerate(self.business_days(start), start=1):
            if position == count:
                return day
        raise AssertionError("unreachable")

    def _local(self, moment: dt.datetime) -> dt.datetime:
        if moment.tzinfo is None:
            raise ValueError("times must be timezone-aware")
        return moment.astimezone(self.time_zone)

    def _stretches(self, start: dt.datetime) -> Iterable[tuple[dt.datetime, dt.datetime]]:
        """The working stretches from ``start`` on, the first cut to begin at ``start``."""
        local = self._local(start)
        for day in self.business_days(local.date()):
            for begin, end in self.hours.intervals():
                stretch_start = dt.datetime.combine(day, begin, self.time_zone)
                stretch_end = dt.datetime.combine(day, end, self.time_zone)
                if stretch_end <= local:
                    continue
                yield max(stretch_start, local), stretch_end

    def next_working_moment(self, moment: dt.datetime) -> dt.datetime:
        """``moment`` if the office is working then, else when it next starts working."""
        return next(iter(self._stretches(moment)))[0]

    def add_working_time(self, start: dt.datetime, duration: dt.timedelta) -> dt.datetime:
        """The moment ``duration`` of working time after ``start``."""
        if duration < dt.timedelta(0):
            raise ValueError("duration must not be negative")
        remaining = duration
        for stretch_start, stretch_end in self._stretches(start):
            available = stretch_end - stretch_start
            if remaining <= available:
                return stretch_start + remaining
            remaining -= available
        raise AssertionError("unreachable")

    def working_time_between(self, start: dt.datetime, end: dt.datetime) -> dt.timedelta:
        """Working time from ``start`` to ``end`` (zero if ``end`` is not after ``start``)."""
        end = self._local(end)
        total = dt.timedelta(0)
        for stretch_start, stretch_end in self._stretches(start):
            if stretch_start >= end:
                break
            total += min(stretch_end, end) - stretch_start
        return total

    def deadline(self, received_at: dt.datetime, period: ProcessingPeriod) -> dt.datetime:
        """When a civil complaint received at ``received_at`` must be answered."""
        if period.counted_in_hours:
            return self.add_working_time(received_at, dt.timedelta(hours=period.working_hours))
        # Counted in days: the day receipt counts from is the day of the next working hour.
        first_day = self.next_working_moment(received_at).date()
        last_day = self.add_business_days(first_day, period.days)
        return dt.datetime.combine(last_day, self.hours.work_end, self.time_zone)


def calendar_for(organisation: Organisation) -> BusinessCalendar:
    """The organisation's calendar: national holidays, its exceptions and office hours."""
    from sotong.core.models import CalendarException

    exceptions = list(
        CalendarException.objects.filter(organisation=organisation).values_list("date", "closed")
    )
    return BusinessCalendar(
        time_zone=ZoneInfo(organisation.time_zone),
        hours=OfficeHours(
            work_start=organisation.work_start,
            lunch_start=organisation.lunch_start,
            lunch_end=organisation.lunch_end,
            work_end=organisation.work_end,
        ),
        extra_closed_days=frozenset(day for day, closed in exceptions if closed),
        extra_open_days=frozenset(day for day, closed in exceptions if not closed),
    )
