"""The inbox's background work: take in what citizens sent and triage it every few
seconds, fetch the photos they sent, send replies (and retry them), remind and escalate
on deadlines."""

from __future__ import annotations

import datetime as dt

from django.tasks import task

from sotong.core.scheduler import periodic

INGEST_EVERY = dt.timedelta(seconds=5)


# One run drains what is waiting, batch after batch, for at most this long; what a burst
# leaves after that is the next run's.
DRAIN_FOR = dt.timedelta(seconds=30)
INBOX_LEASE_NAME = "inbox"
# Longer than one batch of ingest and triage takes, renewed after each.
INBOX_LEASE = dt.timedelta(seconds=60)


@periodic(every=INGEST_EVERY)
@task(queue_name="default")
def process_inbox() -> dict[str, int]:
    """Messages from new inbound events, then triage of every message not triaged yet
    (including any a worker that died mid-triage left behind), a batch of each at a time
    until nothing is waiting."""
    import threading

    from sotong.core.scheduler import acquire_lease, default_holder, release_lease

    totals = {"messages": 0, "skipped": 0, "cases_opened": 0, "cases_reopened": 0, "triaged": 0}
    # One run at a time across workers: overlapping runs would analyse the same oldest
    # messages and throw the losers' work away. A run killed midway holds the lease only
    # until it expires; the next run then takes up what it left.
    holder = f"{default_holder()}:{threading.get_ident()}"
    if not acquire_lease(holder, INBOX_LEASE, name=INBOX_LEASE_NAME):
        return {**totals, "busy": 1}
    try:
        return _drain(totals, holder)
    finally:
        release_lease(holder, name=INBOX_LEASE_NAME)


def _drain(totals: dict[str, int], holder: str) -> dict[str, int]:
    import time

    from sotong.core.scheduler import acquire_lease
    from sotong.inbox import ingest, triage

    stop_at = time.monotonic() + DRAIN_FOR.total_seconds()
    while True:
        acquire_lease(holder, INBOX_LEASE, name=INBOX_LEASE_NAME)  # still running: renew
        result = ingest.ingest_pending(limit=ingest.BATCH)
        triaged = triage.triage_pending(limit=triage.BATCH)
        totals["messages"] += result.messages
        totals["skipped"] += result.skipped
        totals["cases_opened"] += result.cases_opened
        totals["cases_reopened"] += result.cases_reopened
        totals["triaged"] += triaged
        busy = result.messages + result.skipped >= ingest.BATCH or triaged >= triage.BATCH
        if not busy or time.monotonic() >= stop_at:
            return totals


@task(queue_name="platform")
def send_reply_task(reply_id: int) -> str:
    from sotong.inbox import actions

    return actions.send_reply(reply_id)


@periodic(every=dt.timedelta(minutes=1))
@task(queue_name="platform")
def send_due_replies() -> dict[str, int]:
    """Replies whose first send was lost with its task, and retries that are due."""
    from sotong.inbox import actions

    return actions.send_due_replies()


@task(queue_name="platform")
def fetch_attachment_task(attachment_id: int) -> str:
    """Fetch a photo a citizen sent, soon: the platform's address for it expires."""
    from sotong.inbox import attachments

    return attachments.fetch(attachment_id)


@periodic(every=dt.timedelta(minutes=1))
@task(queue_name="platform")
def fetch_due_attachments() -> dict[str, int]:
    """Photos whose first fetch was lost with its task, and retries that are due."""
    from sotong.inbox import attachments

    return attachments.fetch_due()


@periodic(every=dt.timedelta(minutes=5))
@task(queue_name="default")
def remind_and_escalate() -> dict[str, int]:
    from sotong.inbox import actions

    return actions.remind_and_escalate()


@periodic(every=dt.timedelta(hours=1))
@task(queue_name="default")
def retrain_routing_models() -> dict[str, int]:
    """Each organisation's routing model: retrained once a day when its history grew, and
    sooner after many new staff corrections; activated only when not worse."""
    from sotong.inbox import routing_models

    return routing_models.retrain_due()


@task(queue_name="default")
def retrain_routing_model(organisation_id: int) -> bool:
    """Retrain one organisation's model now (the settings page's button)."""
    from sotong.core.models import Organisation
    from sotong.inbox import routing_models

    organisation = Organisation.objects.get(pk=organisation_id)
    return routing_models.retrain(organisation).activated
