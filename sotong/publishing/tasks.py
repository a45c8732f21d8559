"""Publishing on time: the scheduler enqueues a dispatch round every few seconds; each
round claims what is due (several workers may run rounds side by side)."""

from __future__ import annotations

import dataclasses
import datetime as dt

from django.tasks import TaskContext, task
from django.utils import timezone

from sotong.core.scheduler import periodic
from sotong.publishing import dispatch


@periodic(every=dispatch.DISPATCH_EVERY)
@task(queue_name="platform", takes_context=True)
def dispatch_due_publications(context: TaskContext) -> dict[str, int]:
    """Dispatch continuously until DISPATCH_SPAN after this task was enqueued (at least one
    pass): a late start on a busy queue shortens the run instead of piling runs up."""
    enqueued_at = context.task_result.enqueued_at or timezone.now()
    seconds = (enqueued_at + dispatch.DISPATCH_SPAN - timezone.now()).total_seconds()
    return dataclasses.asdict(dispatch.dispatch_for(max(0.0, seconds)))


@periodic(every=dt.timedelta(minutes=5))
@task(queue_name="default")
def prepare_series_posts() -> dict[str, int]:
    """Fetch the data feeds that are due and prepare the posts of series occurrences
    within each series' lead time (each occurrence once, however often this runs)."""
    from sotong.publishing import series

    return dataclasses.asdict(series.materialise_due())


@periodic(every=dt.timedelta(seconds=30))
@task(queue_name="platform")
def propagate_publication_changes() -> dict[str, int]:
    """Carry approved edits and withdrawals to the posts that are already out (each change
    claimed by one worker; edits and deletions repeat safely after a lost answer)."""
    from sotong.publishing import propagation

    return dataclasses.asdict(propagation.propagate_due())


@periodic(every=dt.timedelta(days=1))
@task(queue_name="default")
def sweep_orphan_images() -> dict[str, int]:
    """Delete image files no post refers to (left by a rolled-back upload) once a day old."""
    from sotong.publishing import images

    return {"deleted": len(images.sweep_orphans())}
