"""The task worker: django-tasks-db's worker with a heartbeat, so the scheduler can tell a
dead worker's RUNNING tasks from a slow one's and run them again (see tasks.py)."""

from __future__ import annotations

import logging
import os
import socket
import threading
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone
from django.utils.crypto import get_random_string
from django_tasks_db.management.commands.db_worker import Worker

from sotong.core.models import WorkerHeartbeat

logger = logging.getLogger(__name__)


class WorkerLost(Exception):
    """The worker running the task stopped before finishing it."""


class Heartbeat(threading.Thread):
    def __init__(self, worker_id: str, interval: float) -> None:
        super().__init__(name=f"heartbeat-{worker_id}", daemon=True)
        self.worker_id = worker_id
        self.interval = interval
        self.stopped = threading.Event()

    def beat(self) -> None:
        WorkerHeartbeat.objects.update_or_create(
            worker_id=self.worker_id,
            defaults={
                "hostname": socket.gethostname(),
                "pid": os.getpid(),
                "last_seen_at": timezone.now(),
            },
        )

    def run(self) -> None:
        try:
            while not self.stopped.wait(self.interval):
                try:
                    self.beat()
                except Exception:  # a database hiccup must not kill the heartbeat thread
                    logger.warning("worker %s: heartbeat failed", self.worker_id, exc_info=True)
        finally:
            connection.close()


def run_worker(
    *,
    queues: list[str],
    interval: float = 1.0,
    batch: bool = False,
    max_tasks: int | None = None,
    worker_id: str | None = None,
    **_: Any,
) -> None:
    """Run tasks until stopped (SIGINT/SIGTERM finish the current task first)."""
    worker_id = worker_id or f"{socket.gethostname()[:30]}-{get_random_string(12)}"
    heartbeat = Heartbeat(worker_id, settings.SOTONG_WORKER_HEARTBEAT_SECONDS)
    heartbeat.beat()  # registered before the first claim
    heartbeat.start()
    worker = Worker(
        queue_names=queues,
        interval=interval,
        batch=batch,
        backend_name="default",
        startup_delay=not batch,
        max_tasks=max_tasks,
        worker_id=worker_id,
        excluded_queue_names=[],
    )
    worker.configure_signals()
    logger.info("worker %s started on queues %s", worker_id, ",".join(queues))
    try:
        worker.run()
    finally:
        heartbeat.stopped.set()
        heartbeat.join(timeout=5)
        WorkerHeartbeat.objects.filter(worker_id=worker_id).delete()
        logger.info("worker %s stopped", worker_id)
