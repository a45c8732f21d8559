"""Deadlines of the complaint kinds over Korean holidays and working hours (민원처리법
art. 19): ≤ 5 days in working hours (1 day = 8 h), ≥ 6 days in days with the first day
included, 즉시 = 3 working hours; reminders at 75 % of the period."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from sotong.conftest import SYSTEM
from sotong.core.calendar import BusinessCalendar
from sotong.core.models import AuditEntry, CalendarException
from sotong.inbox import actions, deadlines, ingest
from sotong.inbox.models import Case, CaseEvent, CaseKind

SEOUL = ZoneInfo("Asia/Seoul")


def seoul(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SEOUL)


def test_every_kind_has_a_period_from_the_decree() -> None:
    assert set(deadlines.PERIODS) == set(CaseKind.values)
    assert deadlines.period_of(CaseKind.OTHER).immediate
    assert [deadlines.period_of(k).days for k in CaseKind.values if k != CaseKind.OTHER] == [
        14,
        7,
        14,
        7,
    ]
    assert all(source.startswith("시행령") for _period, source in deadlines.PERIODS.values())


@pytest.mark.parametrize(
    ("kind", "received", "due"),
    [
        # 즉시: 3 working hours. Friday 17:00 → 1 h on Friday, 2 h on Monday morning.
        (CaseKind.OTHER, seoul(2025, 11, 21, 17, 0), seoul(2025, 11, 24, 11, 0)),
        # Lunch does not count: 11:00 + 3 h = 15:00.
        (CaseKind.OTHER, seoul(2025, 11, 24, 11, 0), seoul(2025, 11, 24, 15, 0)),
        # Received on a Sunday evening: counting starts Monday 09:00.
        (CaseKind.OTHER, seoul(2025, 11, 23, 21, 0), seoul(2025, 11, 24, 12, 0)),
        # Chuseok 2025: 개천절 (Oct 3), 추석 (Oct 5–7), substitute holiday (Oct 8),
        # 한글날 (Oct 9). Thursday Oct 2 16:00 + 3 h → Friday Oct 10 10:00.
        (CaseKind.OTHER, seoul(2025, 10, 2, 16, 0), seoul(2025, 10, 10, 10, 0)),
        # 7 days counted in days, the first day included: Oct 2, 10, 13, 14, 15, 16, 17.
        (CaseKind.GRIEVANCE, seoul(2025, 10, 2, 10, 0), seoul(2025, 10, 17, 18, 0)),
        (CaseKind.QUESTION_SYSTEM, seoul(2025, 10, 2, 10, 0), seoul(2025, 10, 17, 18, 0)),
        # 14 days from Monday 2025-12-22: Christmas (Dec 25) and New Year (Jan 1) skipped.
        (CaseKind.SUGGESTION, seoul(2025, 12, 22, 10, 0), seoul(2026, 1, 12, 18, 0)),
        (CaseKind.QUESTION_LAW, seoul(2025, 12, 22, 10, 0), seoul(2026, 1, 12, 18, 0)),
        # Received after office hours: the first day is the next working day.
        (CaseKind.GRIEVANCE, seoul(2025, 10, 2, 19, 0), seoul(2025, 10, 20, 18, 0)),
    ],
)
def test_deadlines_over_holidays(city, kind: str, received: dt.datetime, due: dt.datetime) -> None:
    assert deadlines.deadline_for(city, kind, received) == due


def test_a_temporary_holiday_counts(city) -> None:
    received = seoul(2025, 11, 21, 17, 0)
    CalendarException.objects.create(
        organisation=city, date=dt.date(2025, 11, 24), name="임시공휴일", closed=True
    )
    assert deadlines.deadline_for(city, CaseKind.OTHER, received) == seoul(2025, 11, 25, 11, 0)


def test_reminder_at_three_quarters_of_the_working_time() -> None:
    calendar = BusinessCalendar()
    received = seoul(2025, 11, 24, 9, 0)
    # One working day (8 h): 6 h of it are gone at 16:00 (the lunch hour does not count).
    deadline = seoul(2025, 11, 24, 18, 0)
    assert deadlines.remind_at(calendar, received, deadline) == seoul(2025, 11, 24, 16, 0)
    # Over a weekend: Friday 17:00 to Monday 11:00 is 3 working hours; 2.25 h → 10:15.
    friday = seoul(2025, 11, 21, 17, 0)
    monday = seoul(2025, 11, 24, 11, 0)
    assert deadlines.remind_at(calendar, friday, monday) == seoul(2025, 11, 24, 10, 15)


def test_changing_the_kind_recomputes_the_deadline_with_an_audit_entry(comment, city) -> None:
    comment("하수도 요금 감면 기준이 법에 어떻게 되어 있나요?")
    ingest.ingest_pending()
    case = Case.objects.get()
    received = seoul(2025, 12, 22, 10, 0)
    Case.objects.filter(pk=case.pk).update(received_at=received)
    case.refresh_from_db()
    old = case.deadline
    actions.change_kind(SYSTEM, case, CaseKind.QUESTION_LAW)
    case.refresh_from_db()
    assert case.deadline == seoul(2026, 1, 12, 18, 0) != old
    entry = AuditEntry.objects.get(action="case.kind", target_id=str(case.pk))
    assert entry.before["kind"] == CaseKind.OTHER
    assert entry.after["kind"] == CaseKind.QUESTION_LAW
    assert dt.datetime.fromisoformat(entry.after["deadline"]) == case.deadline
    assert dt.datetime.fromisoformat(entry.before["deadline"]) == old
    assert CaseEvent.objects.filter(case=case, kind="kind").count() == 1
