"""One active scheduler; periodic jobs enqueued once per period; orphaned tasks recovered."""

from __future__ import annotations

import datetime as dt

import pytest
from django.tasks import TaskResultStatus
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from sotong.core import scheduler
from sotong.core.models import PeriodicJobState, SchedulerLease, WorkerHeartbeat
from sotong.core.tasks import (
    prune_results,
    prune_task_results,
    recover_orphaned_tasks,
    recover_orphans,
)

TTL = dt.timedelta(seconds=30)


@pytest.mark.django_db
def test_only_one_holder_at_a_time() -> None:
    assert scheduler.acquire_lease("a", TTL)
    assert not scheduler.acquire_lease("b", TTL)
    assert scheduler.acquire_lease("a", TTL)  # renewal
    scheduler.release_lease("a")
    assert scheduler.acquire_lease("b", TTL)


@pytest.mark.django_db
def test_an_expired_lease_is_taken_over() -> None:
    assert scheduler.acquire_lease("a", TTL)
    SchedulerLease.objects.filter(name=scheduler.LEASE_NAME).update(
        expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    assert scheduler.acquire_lease("b", TTL)
    assert not scheduler.acquire_lease("a", TTL)
    assert SchedulerLease.objects.get().holder == "b"


@pytest.mark.django_db
def test_jobs_are_enqueued_once_per_period() -> None:
    now = timezone.now()
    names = {job.name for job in scheduler.periodic_jobs()}
    assert recover_orphaned_tasks.module_path in names
    assert prune_task_results.module_path in names

    assert set(scheduler.enqueue_due_jobs(now)) == names
    assert scheduler.enqueue_due_jobs(now + dt.timedelta(seconds=1)) == []
    assert DBTaskResult.objects.count() == len(names)
    # 31 s later only the jobs due every 31 s or more often are due again.
    again = scheduler.enqueue_due_jobs(now + dt.timedelta(seconds=31))
    assert recover_orphaned_tasks.module_path in again
    assert set(again) == {
        job.name for job in scheduler.periodic_jobs() if job.every <= dt.timedelta(seconds=31)
    }
    state = PeriodicJobState.objects.get(name=recover_orphaned_tasks.module_path)
    assert state.next_due_at == now + dt.timedelta(seconds=61)
    assert DBTaskResult.objects.filter(id=state.last_task_id).exists()


def _running(worker_ids: list[str], started: dt.datetime) -> DBTaskResult:
    result = recover_orphaned_tasks.enqueue()
    row = DBTaskResult.objects.get(id=result.id)
    DBTaskResult.objects.filter(pk=row.pk).update(
        status=TaskResultStatus.RUNNING, started_at=started, worker_ids=worker_ids
    )
    return row


@pytest.mark.django_db
def test_tasks_of_a_dead_worker_are_requeued_then_failed(settings) -> None:
    settings.SOTONG_WORKER_LOST_AFTER_SECONDS = 60
    settings.SOTONG_TASK_MAX_ATTEMPTS = 2
    now = timezone.now()
    long_ago = now - dt.timedelta(minutes=10)
    WorkerHeartbeat.objects.create(worker_id="alive", hostname="h", pid=1, last_seen_at=now)
    WorkerHeartbeat.objects.create(worker_id="dead", hostname="h", pid=2, last_seen_at=long_ago)
    busy = _running(["alive"], long_ago)
    orphan = _running(["dead"], long_ago)
    twice_orphaned = _running(["dead", "dead-too"], long_ago)
    just_started = _running(["unknown"], now)

    assert recover_orphans(now) == {"requeued": 1, "failed": 1}
    statuses = {
        row.pk: row.status
        for row in DBTaskResult.objects.filter(
            pk__in=[busy.pk, orphan.pk, twice_orphaned.pk, just_started.pk]
        )
    }
    assert statuses[busy.pk] == TaskResultStatus.RUNNING
    assert statuses[orphan.pk] == TaskResultStatus.READY
    assert statuses[twice_orphaned.pk] == TaskResultStatus.FAILED
    assert statuses[just_started.pk] == TaskResultStatus.RUNNING  # may not have a heartbeat yet
    failed = DBTaskResult.objects.get(pk=twice_orphaned.pk)
    assert failed.exception_class_path == "sotong.core.worker.WorkerLost"
    # Running again changes nothing more.
    assert recover_orphans(now) == {"requeued": 0, "failed": 0}


@pytest.mark.django_db
def test_old_results_are_pruned() -> None:
    now = timezone.now()
    fresh = recover_orphaned_tasks.enqueue()
    old = recover_orphaned_tasks.enqueue()
    DBTaskResult.objects.filter(id=old.id).update(
        status=TaskResultStatus.SUCCESSFUL, finished_at=now - dt.timedelta(days=8)
    )
    DBTaskResult.objects.filter(id=fresh.id).update(
        status=TaskResultStatus.SUCCESSFUL, finished_at=now - dt.timedelta(days=1)
    )
    assert prune_results(now) == 1
    assert DBTaskResult.objects.filter(id=fresh.id).exists()
