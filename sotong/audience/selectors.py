"""Reading audience figures, scoped like the channels they belong to."""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet

from sotong.audience.models import AudienceDay
from sotong.channels.models import Channel
from sotong.core.models import Staff

SHOWN_DAYS = 90


def channels(staff: Staff) -> QuerySet[Channel]:
    """The channels whose audience ``staff`` may see (as for the channel pages)."""
    return Channel.objects.for_staff(staff).select_related("organisation", "department")


def days(channel: Channel, *, last: dt.date, count: int = SHOWN_DAYS) -> list[dt.date]:
    """The ``count`` calendar days up to ``last``, oldest first."""
    return [last - dt.timedelta(days=offset) for offset in range(count - 1, -1, -1)]


def figures(channel: Channel, first: dt.date, last: dt.date) -> dict[dt.date, AudienceDay]:
    """The channel's recorded days between ``first`` and ``last``, by day."""
    rows = (
        AudienceDay.objects.filter(channel=channel, day__gte=first, day__lte=last)
        .select_related("recorded_by")
        .order_by("day")
    )
    return {row.day: row for row in rows}


def history(channel: Channel) -> QuerySet[AudienceDay]:
    """Every recorded day of the channel, oldest first."""
    return AudienceDay.objects.filter(channel=channel).order_by("day")
