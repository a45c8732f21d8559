"""Participation fixtures: the inbox's Facebook Page on the simulator, with citizens
commenting under a post (sotong/inbox/tests/conftest.py)."""

from sotong.inbox.tests.conftest import channel, comment, page, post  # noqa: F401
from sotong.simulator.testing import running_simulator, sim  # noqa: F401
