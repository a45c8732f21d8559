"""Publishing on time: the scheduler enqueues a dispatch round every few seconds; each
round claims what is due (several workers may run rounds side by side)."""

from __future__ import annotations

import dataclasses
import datetime as dt

from django.tasks import task

from sotong.core.scheduler import periodic
from sotong.publishing import actions


@periodic(every=dt.timedelta(seconds=10))
@task(queue_name="platform")
def dispatch_due_publications() -> dict[str, int]:
    return dataclasses.asdict(actions.dispatch_due())
