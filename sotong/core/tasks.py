"""Housekeeping tasks of the task system itself, run by the scheduler."""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.db import transaction
from django.tasks import TaskResultStatus, task
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from sotong.core.models import WorkerHeartbeat
from sotong.core.scheduler import periodic
from sotong.core.worker import WorkerLost

logger = logging.getLogger(__name__)

KEEP_SUCCESSFUL_RESULTS = dt.timedelta(days=7)
KEEP_FAILED_RESULTS = dt.timedelta(days=90)
FORGET_DEAD_WORKERS = dt.timedelta(days=1)


def recover_orphans(now: dt.datetime | None = None) -> dict[str, int]:
    """Put tasks left RUNNING by a worker that died back in the queue, or fail them once
    they have been tried SOTONG_TASK_MAX_ATTEMPTS times. Every task must be safe to run
    again after a crash (connectors reconcile instead of repeating a call)."""
    now = now or timezone.now()
    lost_after = dt.timedelta(seconds=settings.SOTONG_WORKER_LOST_AFTER_SECONDS)
    alive = set(
        WorkerHeartbeat.objects.filter(last_seen_at__gte=now - lost_after).values_list(
            "worker_id", flat=True
        )
    )
    counts = {"requeued": 0, "failed": 0}
    running = DBTaskResult.objects.filter(
        status=TaskResultStatus.RUNNING, started_at__lt=now - lost_after
    ).only("id", "worker_ids")
    for result in running:
        if result.worker_ids and result.worker_ids[-1] in alive:
            continue
        with transaction.atomic():
            # Conditional on still RUNNING by the same attempt: a worker that finishes
            # it meanwhile wins.
            still_orphaned = DBTaskResult.objects.filter(
                pk=result.pk, status=TaskResultStatus.RUNNING, worker_ids=result.worker_ids
            )
            if len(result.worker_ids) < settings.SOTONG_TASK_MAX_ATTEMPTS:
                changed = still_orphaned.update(status=TaskResultStatus.READY, started_at=None)
                counts["requeued"] += changed
            else:
                changed = still_orphaned.update(
                    status=TaskResultStatus.FAILED,
                    finished_at=now,
                    exception_class_path=f"{WorkerLost.__module__}.{WorkerLost.__qualname__}",
                    traceback=f"WorkerLost: the worker stopped during attempt {len(result.worker_ids)};"
                    " not retried again.",
                )
                counts["failed"] += changed
    WorkerHeartbeat.objects.filter(last_seen_at__lt=now - FORGET_DEAD_WORKERS).delete()
    if any(counts.values()):
        logger.warning("orphaned tasks: %(requeued)d requeued, %(failed)d failed", counts)
    return counts


def prune_results(now: dt.datetime | None = None) -> int:
    """Delete finished task results past their keeping time."""
    now = now or timezone.now()
    deleted, _ = DBTaskResult.objects.filter(
        status=TaskResultStatus.SUCCESSFUL, finished_at__lt=now - KEEP_SUCCESSFUL_RESULTS
    ).delete()
    failed, _ = DBTaskResult.objects.filter(
        status=TaskResultStatus.FAILED, finished_at__lt=now - KEEP_FAILED_RESULTS
    ).delete()
    return deleted + failed


@periodic(every=dt.timedelta(seconds=30))
@task(queue_name="maintenance")
def recover_orphaned_tasks() -> dict[str, int]:
    return recover_orphans()


@periodic(every=dt.timedelta(hours=6))
@task(queue_name="maintenance")
def prune_task_results() -> int:
    return prune_results()
