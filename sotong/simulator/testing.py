"""Pytest fixtures for tests against the simulator. Use from a conftest.py:

from sotong.simulator.testing import running_simulator, sim  # noqa: F401
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from sotong.platforms.base import RateLimitState
from sotong.simulator.core import RunningSimulator, Simulator

# Short enough that "timeout after processing" tests stay fast, long enough for a loaded CI.
TEST_READ_TIMEOUT = 1.0
FAULT_DELAY = 2.0


@pytest.fixture(scope="session")
def running_simulator() -> Iterator[RunningSimulator]:
    running = RunningSimulator(Simulator(seed=7)).start()
    yield running
    running.stop()


@pytest.fixture
def sim(running_simulator: RunningSimulator) -> Iterator[RunningSimulator]:
    """The running simulator, reset before each test; rate-limit memory cleared too."""
    running_simulator.simulator.reset()
    RateLimitState.clear()
    yield running_simulator
    running_simulator.simulator.reset()
    RateLimitState.clear()


def short_timeout_client() -> httpx.Client:
    return httpx.Client(timeout=httpx.Timeout(TEST_READ_TIMEOUT, connect=2.0))
