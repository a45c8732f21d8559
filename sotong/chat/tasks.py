"""The chat's background work: deleting unfinished complaints of idle conversations."""

from __future__ import annotations

import datetime as dt

from django.tasks import task

from sotong.core.scheduler import periodic


@periodic(every=dt.timedelta(minutes=10))
@task(queue_name="default")
def forget_idle_drafts() -> int:
    from sotong.chat import actions

    return actions.forget_idle_drafts()
