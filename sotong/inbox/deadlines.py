"""Processing periods of civil complaints and the deadlines, reminders and escalations
they give a case. Counting (working hours for ≤ 5 days, days with the first day included
for ≥ 6, holidays excluded) lives in ``sotong.core.calendar``; the periods are here.

The periods are from 민원 처리에 관한 법률 시행령 (enforcement decree), as collected in
shared/docs/korea-rules.md. Laws are amended: change this table, not the code below.
"""

from __future__ import annotations

import datetime as dt

from sotong.core.calendar import BusinessCalendar, ProcessingPeriod, calendar_for
from sotong.core.models import Organisation
from sotong.inbox.models import CaseKind

# Kind of complaint → its processing period and where the law sets it.
PERIODS: dict[str, tuple[ProcessingPeriod, str]] = {
    # 즉시 = within 3 working hours (law art. 19 (3)).
    CaseKind.OTHER: (ProcessingPeriod(immediate=True), "시행령 제16조"),
    CaseKind.QUESTION_LAW: (ProcessingPeriod(days=14), "시행령 제14조"),
    CaseKind.QUESTION_SYSTEM: (ProcessingPeriod(days=7), "시행령 제14조"),
    CaseKind.SUGGESTION: (ProcessingPeriod(days=14), "시행령 제15조"),
    CaseKind.GRIEVANCE: (ProcessingPeriod(days=7), "시행령 제17조 제1항"),
}

# The assignee is reminded when this share of the working time to the deadline is gone.
REMIND_AT_SHARE = 0.75


def period_of(kind: str) -> ProcessingPeriod:
    return PERIODS[kind][0]


def deadline_for(
    organisation: Organisation,
    kind: str,
    received_at: dt.datetime,
    calendar: BusinessCalendar | None = None,
) -> dt.datetime:
    """When a case of ``kind`` received at ``received_at`` must be answered."""
    calendar = calendar or calendar_for(organisation)
    return calendar.deadline(received_at, period_of(kind))


def remind_at(
    calendar: BusinessCalendar, received_at: dt.datetime, deadline: dt.datetime
) -> dt.datetime:
    """When REMIND_AT_SHARE of the working time between receipt and deadline has passed."""
    working = calendar.working_time_between(received_at, deadline)
    return calendar.add_working_time(received_at, working * REMIND_AT_SHARE)


def schedule(
    organisation: Organisation,
    kind: str,
    received_at: dt.datetime,
    calendar: BusinessCalendar | None = None,
) -> tuple[dt.datetime, dt.datetime]:
    """(deadline, reminder time) of a case. Pass ``calendar`` when scheduling many."""
    calendar = calendar or calendar_for(organisation)
    deadline = deadline_for(organisation, kind, received_at, calendar)
    return deadline, remind_at(calendar, received_at, deadline)
