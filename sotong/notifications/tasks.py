"""Email for notices: sent by a worker after the notice's transaction commits, and a
sweep that retries what a mail failure or a lost task left unsent."""

from __future__ import annotations

import datetime as dt

from django.tasks import task

from sotong.core.scheduler import periodic
from sotong.notifications import actions


@task(queue_name="default")
def send_notification_email(notification_id: int) -> bool:
    return actions.send_email(notification_id)


@periodic(every=dt.timedelta(minutes=10))
@task(queue_name="default")
def send_pending_notification_emails() -> int:
    return actions.send_pending_emails()
