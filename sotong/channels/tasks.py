"""Periodic channel upkeep: refresh short-lived tokens ahead of expiry, and check every
channel's credentials daily so owners hear of a problem before a post fails."""

from __future__ import annotations

import datetime as dt

from django.tasks import task
from django.utils import timezone

from sotong.channels import actions
from sotong.channels.models import Channel, ChannelStatus
from sotong.core.scheduler import periodic


@periodic(every=dt.timedelta(minutes=10))
@task(queue_name="platform")
def refresh_expiring_credentials() -> int:
    soon = timezone.now() + actions.REFRESH_AHEAD
    channels = Channel.objects.filter(
        credential_expires_at__lte=soon,
        status__in=[ChannelStatus.ACTIVE, ChannelStatus.MANUAL],
    )
    return sum(actions.refresh_credentials(channel) for channel in channels)


@periodic(every=dt.timedelta(days=1))
@task(queue_name="platform")
def check_all_channels() -> dict[str, int]:
    counts = {"ok": 0, "failed": 0}
    for channel in Channel.objects.exclude(status=ChannelStatus.PAUSED):
        result = actions.check_channel(channel)
        counts["ok" if result.ok else "failed"] += 1
    counts["expiry_warnings"] = len(actions.warn_of_expiring_credentials())
    return counts


@periodic(every=dt.timedelta(minutes=1))
@task(queue_name="platform")
def poll_due_channels() -> dict[str, int]:
    """Read new comments and messages from every channel whose poll is due."""
    counts = {"channels": 0, "new_events": 0, "failed": 0}
    for channel in actions.channels_due_for_polling():
        result = actions.poll_channel(channel)
        if result.skipped:
            continue
        counts["channels"] += 1
        counts["new_events"] += result.new_events
        counts["failed"] += bool(result.error)
    return counts
