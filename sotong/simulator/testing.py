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


def same_shape(actual: object, documented: object, path: str = "$") -> None:
    """Every field of the documented sample is present with the same JSON type."""
    if isinstance(documented, dict):
        assert isinstance(actual, dict), path
        for key, value in documented.items():
            assert key in actual, f"{path}.{key} missing"
            same_shape(actual[key], value, f"{path}.{key}")
    elif isinstance(documented, list):
        assert isinstance(actual, list), path
        if documented and actual:
            same_shape(actual[0], documented[0], f"{path}[0]")
    elif isinstance(documented, bool):
        assert isinstance(actual, bool), path
    elif isinstance(documented, int | float):
        assert isinstance(actual, int | float), path
        assert not isinstance(actual, bool), path
    elif isinstance(documented, str):
        assert isinstance(actual, str), path
