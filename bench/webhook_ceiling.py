"""Benchmark: requests/s and latency of the bare Django view (ceiling_app) at 100
concurrent clients, under gunicorn with sotong.gunicorn_conf."""

from __future__ import annotations

from typing import Any

from bench.common import gunicorn, write_result, wrk

CONNECTIONS = 100
SECONDS = 10


def run() -> dict[str, Any]:
    import multiprocessing

    from sotong import gunicorn_conf

    with gunicorn("bench.ceiling_app:application", env={}) as url:
        wrk(url + "/", connections=CONNECTIONS, seconds=2)  # warm-up
        figures = wrk(url + "/", connections=CONNECTIONS, seconds=SECONDS)
    settings = {
        "server": "gunicorn (sotong.gunicorn_conf)",
        "worker_class": gunicorn_conf.worker_class,
        "workers": gunicorn_conf.workers,
        "threads": gunicorn_conf.threads,
        "load": f"wrk, {CONNECTIONS} connections, {SECONDS} s, same machine",
        "cpus": multiprocessing.cpu_count(),
    }
    write_result("webhook_ceiling", figures, settings)
    return figures
