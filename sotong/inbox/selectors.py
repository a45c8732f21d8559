"""Read queries of the inbox, scoped to the staff member (department roles see only their
department's cases)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Case as Choose
from django.db.models import Prefetch, QuerySet, Value, When
from django.utils import timezone

from sotong.core.models import Staff
from sotong.inbox.models import FINISHED_STATUSES, Case, Message, Referral, Urgency


@dataclass(frozen=True)
class CaseFilters:
    channel: int | None = None
    department: int | None = None
    status: str = ""
    intent: str = ""
    overdue: bool = False
    # Finished cases are left out unless a status asks for them.
    include_finished: bool = False


def cases(staff: Staff) -> QuerySet[Case]:
    return Case.objects.for_staff(staff).select_related(
        "channel", "citizen", "department", "assignee"
    )


def inbox(staff: Staff, filters: CaseFilters, now: dt.datetime | None = None) -> QuerySet[Case]:
    """The inbox list: open cases first by urgency then deadline, each with its latest
    message."""
    now = now or timezone.now()
    queryset = cases(staff)
    if filters.channel:
        queryset = queryset.filter(channel_id=filters.channel)
    if filters.department:
        queryset = queryset.filter(department_id=filters.department)
    if filters.status:
        queryset = queryset.filter(status=filters.status)
    elif not filters.include_finished:
        queryset = queryset.exclude(status__in=FINISHED_STATUSES)
    if filters.intent:
        queryset = queryset.filter(messages__intent=filters.intent).distinct()
    if filters.overdue:
        queryset = queryset.exclude(status__in=FINISHED_STATUSES).filter(deadline__lt=now)
    latest = Message.objects.order_by("-received_at", "-pk")
    rank = Choose(
        When(urgency=Urgency.URGENT, then=Value(0)),
        When(urgency=Urgency.HIGH, then=Value(1)),
        default=Value(2),
    )
    return (
        queryset.prefetch_related(Prefetch("messages", queryset=latest))
        .annotate(urgency_rank=rank)
        .order_by("urgency_rank", "deadline", "-received_at", "-pk")
    )


def referrals(staff: Staff) -> QuerySet[Referral]:
    return Referral.objects.for_staff(staff).select_related("department", "case")
