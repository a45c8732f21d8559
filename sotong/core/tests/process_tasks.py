"""A task for the multi-process tests; see process_helper.py."""

from __future__ import annotations

import os
import time

from django.tasks import task


@task()
def record_run(token: str, log_path: str, sleep: float = 0.0) -> str:
    """Append 'start TOKEN', optionally sleep, append 'end TOKEN'. O_APPEND makes each
    short line one atomic write, so two processes never interleave within a line."""
    fd = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, f"start {token} {os.getpid()}\n".encode())
        time.sleep(sleep)
        os.write(fd, f"end {token} {os.getpid()}\n".encode())
    finally:
        os.close(fd)
    return token
