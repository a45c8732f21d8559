"""Pytest fixtures for tests against the simulator. Use from a conftest.py:

from sotong.simulator.testing import running_simulator, sim  # noqa: F401

(``image_server`` too, where a test needs media URLs to fetch.)
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer

import httpx
import pytest

from sotong.platforms.base import (
    ChannelAccount,
    Connector,
    Credentials,
    PlatformError,
    RateLimited,
    RateLimitState,
)
from sotong.simulator.core import Fault, FaultKind, RunningSimulator, Simulator

# Short enough that "timeout after processing" tests stay fast, long enough for a loaded CI.
TEST_READ_TIMEOUT = 1.0
FAULT_DELAY = 2.0
# Nothing listens there: a connection is refused.
UNREACHABLE = "http://127.0.0.1:9"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


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


def api_client(base_url: str, authorization: str = "") -> httpx.Client:
    """A plain HTTP client for calling a simulated API directly (``authorization``: the
    Authorization header, e.g. ``Bearer <token>``)."""
    headers = {"Authorization": authorization} if authorization else {}
    return httpx.Client(base_url=base_url, headers=headers, timeout=5)


def make_connector[C: Connector](
    connector_class: type[C],
    api_base: str,
    account_id: str,
    credentials: Credentials | None = None,
    **options: str,
) -> C:
    """A connector for ``account_id`` at ``api_base`` (the simulator's platform URL, or
    ``UNREACHABLE``), on a short-timeout client."""
    account = ChannelAccount(
        account_id, credentials or Credentials(), api_base=api_base, options=dict(options)
    )
    return connector_class(account, client=short_timeout_client())


def fault_raises(
    sim: RunningSimulator,
    platform: str,
    fault: Fault,
    error: type[PlatformError],
    call: Callable[[], object],
) -> PlatformError:
    """Inject ``fault`` into ``platform``; ``call`` must raise ``error``, which is returned
    for further checks."""
    sim.simulator.inject(platform, fault)
    with pytest.raises(error) as raised:
        call()
    return raised.value


def rate_limit_is_remembered(
    sim: RunningSimulator,
    platform: str,
    call: Callable[[], object],
    again: Callable[[], object] | None = None,
) -> RateLimited:
    """An injected rate limit makes ``call`` raise RateLimited; then ``again`` (or ``call``)
    is refused without a request going out. Returns the first error for further checks."""
    first = fault_raises(sim, platform, Fault(FaultKind.RATE_LIMITED), RateLimited, call)
    calls = len(sim.simulator.recorded(platform))
    with pytest.raises(RateLimited):
        (again or call)()
    assert len(sim.simulator.recorded(platform)) == calls  # no second call went out
    assert isinstance(first, RateLimited)
    return first


@pytest.fixture
def image_server() -> Iterator[str]:
    """Serves ``PNG`` at any path, as Sotong's media URLs would; ``…missing.png`` is a 404."""

    class Images(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.endswith("missing.png"):
                self.send_response(404)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(PNG)))
            self.end_headers()
            self.wfile.write(PNG)

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Images)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


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
