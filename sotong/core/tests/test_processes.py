"""Background work across real processes: workers and schedulers started as `sotong`
commands against a file (SQLite) or server (PostgreSQL) database."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from sotong.core.scheduler import periodic_jobs

pytestmark = pytest.mark.multiprocess

HELPER = "sotong.core.tests.process_helper"


def helper(run_sotong, *args: str) -> dict:
    result = subprocess.run(
        [sys.executable, "-m", HELPER, *args],
        env=run_sotong.env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(result.stdout) if result.stdout.strip() else {}


def start(run_sotong, *args: str, env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "sotong", *args],
        env={**run_sotong.env, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def log_lines(path: Path) -> list[tuple[str, str]]:
    return [tuple(line.split()[:2]) for line in path.read_text().splitlines()]  # type: ignore[misc]


def test_two_workers_run_each_of_1000_tasks_exactly_once(run_sotong, tmp_path) -> None:
    run_sotong("migrate", "--verbosity", "0")
    log = tmp_path / "runs.log"
    helper(run_sotong, "enqueue", "1000", str(log))
    workers = [start(run_sotong, "worker", "--batch", "--interval", "0.05") for _ in range(2)]
    outputs = [worker.communicate(timeout=600)[0] for worker in workers]
    assert [worker.returncode for worker in workers] == [0, 0], outputs

    ends = Counter(token for kind, token in log_lines(log) if kind == "end")
    assert len(ends) == 1000
    assert set(ends.values()) == {1}
    status = helper(run_sotong, "status")
    assert status["status"] == {"SUCCESSFUL": 1000}
    assert status["max_attempts"] == 1
    assert status["workers"] == 2  # both took part


def test_a_task_of_a_killed_worker_runs_again_and_finishes_once(run_sotong, tmp_path) -> None:
    run_sotong("migrate", "--verbosity", "0")
    log = tmp_path / "runs.log"
    helper(run_sotong, "enqueue", "1", str(log), "30")
    fast_loss = {"SOTONG_WORKER_LOST_AFTER_SECONDS": "1", "SOTONG_WORKER_HEARTBEAT_SECONDS": "0.2"}
    doomed = start(run_sotong, "worker", "--interval", "0.05", env=fast_loss)
    deadline = time.monotonic() + 60
    while not (log.exists() and log.read_text()):
        assert time.monotonic() < deadline, "the task never started"
        time.sleep(0.05)
    doomed.send_signal(signal.SIGKILL)  # mid-task: no chance to record anything
    doomed.wait()
    assert helper(run_sotong, "status")["status"] == {"RUNNING": 1}

    time.sleep(1.5)
    recovered = subprocess.run(
        [sys.executable, "-m", HELPER, "recover"],
        env={**run_sotong.env, **fast_loss},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert json.loads(recovered.stdout) == {"requeued": 1, "failed": 0}
    # The re-run must not sleep 30 s again: shorten by rewriting nothing; just wait for it.
    rerun = start(run_sotong, "worker", "--batch", "--interval", "0.05", env=fast_loss)
    assert rerun.wait(timeout=120) == 0

    kinds = Counter(kind for kind, _token in log_lines(log))
    assert kinds == {"start": 2, "end": 1}
    status = helper(run_sotong, "status")
    assert status["status"] == {"SUCCESSFUL": 1}
    assert status["max_attempts"] == 2


def wait_for(predicate, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def test_one_scheduler_is_active_and_a_standby_takes_over(run_sotong, tmp_path) -> None:
    run_sotong("migrate", "--verbosity", "0")
    started = time.monotonic()
    quick = {"SOTONG_SCHEDULER_LEASE_SECONDS": "2"}
    logs = [tmp_path / "first.log", tmp_path / "second.log"]
    schedulers = []
    for log in logs:
        with log.open("w") as output:
            schedulers.append(
                subprocess.Popen(
                    [sys.executable, "-m", "sotong", "scheduler", "--tick", "0.2"],
                    env={**run_sotong.env, **quick},
                    stdout=output,
                    stderr=subprocess.STDOUT,
                )
            )
        wait_for(
            lambda log=log: (
                "scheduler" in log.read_text()
                and ("is active" in log.read_text() or "standing by" in log.read_text())
            ),
            30,
            "a first round",
        )
    first, second = schedulers
    assert "is active" in logs[0].read_text()
    assert "standing by" in logs[1].read_text()
    # Each periodic job was enqueued once, by the one active scheduler.
    jobs = len(periodic_jobs())
    assert helper(run_sotong, "status")["status"] == {"READY": jobs}

    first.send_signal(signal.SIGKILL)  # no chance to release the lease
    first.wait()
    wait_for(lambda: "is active" in logs[1].read_text(), 30, "the standby to take over")
    second.send_signal(signal.SIGTERM)
    assert second.wait(timeout=30) == 0
    assert "stopped" in logs[1].read_text()
    # Taking over did not enqueue again what was not due yet: only a job whose period
    # has passed since the first round (the 5-second ones, on a busy machine) may be.
    elapsed = time.monotonic() - started
    due_again = sum(int(elapsed // job.every.total_seconds()) for job in periodic_jobs())
    ready = helper(run_sotong, "status")["status"]["READY"]
    assert jobs <= ready <= jobs + due_again
