from __future__ import annotations

import pytest
from django.test import Client

from sotong.api import actions as token_actions
from sotong.core.roles import Role
from sotong.publishing.tests.test_actions import connect
from sotong.simulator.testing import running_simulator, sim  # noqa: F401


@pytest.fixture
def author(city, make_staff):
    return make_staff(city, Role.DEPARTMENT_AUTHOR, "sewer")


@pytest.fixture
def other_author(city, make_staff):
    return make_staff(city, Role.DEPARTMENT_AUTHOR, "traffic")


@pytest.fixture
def editor(city, make_staff):
    return make_staff(city, Role.PR_EDITOR, "pr")


@pytest.fixture
def facebook(city, sim):  # noqa: F811 - the fixture imported above
    return connect(city, sim, "facebook")


@pytest.fixture
def x_channel(city, sim):  # noqa: F811 - the fixture imported above
    return connect(city, sim, "x")


@pytest.fixture
def kakao(city, sim):  # noqa: F811 - the fixture imported above
    return connect(city, sim, "kakao")


@pytest.fixture
def client_for():
    """A test client sending ``staff``'s new API token."""

    def make(staff) -> Client:
        secret = token_actions.create_token(staff, name="테스트").secret
        client = Client(headers={"Authorization": f"Bearer {secret}"})
        client.secret = secret  # type: ignore[attr-defined]
        return client

    return make
