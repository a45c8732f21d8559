"""Periodic audience work: read the follower count of every channel whose platform gives
one, and forget old friend-callback receipts."""

from __future__ import annotations

import datetime as dt

from django.tasks import task

from sotong.audience import actions
from sotong.core.scheduler import periodic


# Hourly rather than daily: each reading replaces the day's last one, so a day's figure is
# its count near midnight, and a reading missed (rate limit, outage) is made up within the
# hour instead of leaving the day empty.
@periodic(every=dt.timedelta(hours=1))
@task(queue_name="platform")
def collect_followers() -> dict[str, int]:
    return actions.collect_all()


@periodic(every=dt.timedelta(days=1))
@task(queue_name="maintenance")
def prune_friend_events() -> int:
    return actions.prune_friend_events()
