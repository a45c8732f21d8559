"""Shared pieces of the benchmarks: machine description, results files, a gunicorn server
started with Sotong's own server settings, and a wrk load run."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from sotong.cli import gunicorn_command

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"


def machine() -> dict[str, Any]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "hostname": socket.gethostname(),
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def commit() -> str:
    result = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    dirty = subprocess.run(
        # The results this run writes do not make the code it measures dirty.
        ["git", "status", "--porcelain", "--", ".", ":!bench/results"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return result.stdout.strip() + ("-dirty" if dirty else "")


def write_result(name: str, figures: dict[str, Any], settings: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(
        json.dumps(
            {
                "benchmark": name,
                "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "commit": commit(),
                "machine": machine(),
                "settings": settings,
                "figures": figures,
            },
            indent=2,
            ensure_ascii=False,
        )
        + "\n"
    )
    return path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def gunicorn(app: str, env: dict[str, str]) -> Iterator[str]:
    """Run ``app`` under gunicorn with sotong.gunicorn_conf; yields the base URL."""
    port = free_port()
    process = subprocess.Popen(
        gunicorn_command(f"127.0.0.1:{port}", app=app),
        env={**os.environ, **env},
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError(
                    process.stderr.read().decode() if process.stderr else "gunicorn exited"
                )
            try:
                httpx.get(url + "/", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS[unit]


def wrk(
    url: str,
    *,
    connections: int,
    seconds: int,
    threads: int = 2,
    script: str | None = None,
    timeout_seconds: float = 2.0,
) -> dict[str, float]:
    """Load ``url`` with wrk (and a Lua ``script`` making the requests); returns
    requests/s, latency percentiles in ms and the count of non-2xx answers. Answers slower
    than ``timeout_seconds`` count as socket timeouts, not in the percentiles."""
    if shutil.which("wrk") is None:
        raise RuntimeError("wrk is not installed: scripts/system-deps.sh wrk")
    extra = ["-s", script] if script else []
    output = subprocess.run(
        [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{seconds}s",
            f"--timeout={timeout_seconds:g}s",
            "--latency",
            *extra,
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    figures = {
        "requests_per_second": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),  # type: ignore[union-attr]
        "requests": float(re.search(r"(\d+) requests in", output).group(1)),  # type: ignore[union-attr]
    }
    for percentile in ("50", "75", "90", "99"):
        match = re.search(rf"^\s+{percentile}%\s+(\S+)", output, re.MULTILINE)
        if match:
            figures[f"latency_p{percentile}_ms"] = round(_ms(match.group(1)), 3)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(r"Socket errors: (.*)", output)
    figures["non_2xx"] = float(errors.group(1)) if errors else 0.0
    if socket_errors:
        figures["socket_errors"] = socket_errors.group(1)  # type: ignore[assignment]
    return figures
