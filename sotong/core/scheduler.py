"""The scheduler: one active process at a time turns due work into tasks.

Apps register periodic jobs with ``@periodic``; a job's task claims its own due rows
(scheduled posts, polls to close, deadline reminders) when it runs. Several scheduler
processes may run for availability; a lease in the database makes only one active.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, close_old_connections, transaction
from django.db.models import Q
from django.tasks import Task
from django.utils import timezone

from sotong.core.models import PeriodicJobState, SchedulerLease

logger = logging.getLogger(__name__)

LEASE_NAME = "scheduler"


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    task: Task[Any, Any]
    every: dt.timedelta


_registry: dict[str, PeriodicJob] = {}


def periodic(every: dt.timedelta) -> Callable[[Task[Any, Any]], Task[Any, Any]]:
    """Register a task (decorated with ``@task``) to be enqueued every ``every``."""

    def register(task: Task[Any, Any]) -> Task[Any, Any]:
        name = task.module_path
        _registry[name] = PeriodicJob(name=name, task=task, every=every)
        return task

    return register


def periodic_jobs() -> list[PeriodicJob]:
    return sorted(_registry.values(), key=lambda job: job.name)


def default_holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def acquire_lease(holder: str, ttl: dt.timedelta, name: str = LEASE_NAME) -> bool:
    """Take or renew the lease; True while ``holder`` is the active scheduler."""
    now = timezone.now()
    # One conditional UPDATE: both databases re-check the WHERE on the row they lock,
    # so two schedulers racing for an expired lease cannot both win.
    renewed = (
        SchedulerLease.objects.filter(name=name)
        .filter(Q(holder=holder) | Q(expires_at__lt=now))
        .update(holder=holder, expires_at=now + ttl)
    )
    if renewed:
        return True
    try:
        with transaction.atomic():
            SchedulerLease.objects.create(name=name, holder=holder, expires_at=now + ttl)
    except IntegrityError:
        return False
    return True


def release_lease(holder: str, name: str = LEASE_NAME) -> None:
    SchedulerLease.objects.filter(name=name, holder=holder).delete()


def enqueue_due_jobs(now: dt.datetime | None = None) -> list[str]:
    """Enqueue the task of every job that is due; returns the names enqueued."""
    now = now or timezone.now()
    enqueued = []
    for job in periodic_jobs():
        with transaction.atomic():
            state, _created = PeriodicJobState.objects.select_for_update().get_or_create(
                name=job.name, defaults={"next_due_at": now}
            )
            if state.next_due_at > now:
                continue
            # The enqueue and the new due time commit together.
            result = job.task.enqueue()
            state.last_enqueued_at = now
            state.next_due_at = now + job.every
            state.last_task_id = str(result.id)
            state.save()
        enqueued.append(job.name)
    return enqueued


def run(stop: threading.Event, *, holder: str | None = None, tick: float = 1.0) -> None:
    """The scheduler loop, until ``stop`` is set."""
    holder = holder or default_holder()
    ttl = dt.timedelta(seconds=settings.SOTONG_SCHEDULER_LEASE_SECONDS)
    active: bool | None = None  # unknown until the first round, so the first state is logged
    logger.info("scheduler %s started with %d periodic jobs", holder, len(_registry))
    try:
        while not stop.is_set():
            close_old_connections()
            is_leader = acquire_lease(holder, ttl)
            if is_leader != active:
                active = is_leader
                logger.info("scheduler %s is %s", holder, "active" if active else "standing by")
            if active:
                for name in enqueue_due_jobs():
                    logger.info("enqueued %s", name)
            stop.wait(tick)
    finally:
        release_lease(holder)
        close_old_connections()
        logger.info("scheduler %s stopped", holder)
