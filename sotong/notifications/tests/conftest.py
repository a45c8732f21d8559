import pytest

from sotong.conftest import SYSTEM
from sotong.core import actions as core_actions
from sotong.core.roles import Role
from sotong.simulator.testing import running_simulator, sim  # noqa: F401


@pytest.fixture
def people(city, make_staff):
    inactive = make_staff(city, Role.PR_EDITOR, "pr")
    core_actions.set_staff_active(SYSTEM, inactive, active=False)
    return {
        "author": make_staff(city, Role.DEPARTMENT_AUTHOR, "sewer"),
        "colleague": make_staff(city, Role.DEPARTMENT_AUTHOR, "sewer"),
        "stranger": make_staff(city, Role.DEPARTMENT_AUTHOR, "traffic"),
        "editor": make_staff(city, Role.PR_EDITOR, "pr"),
        "admin": make_staff(city, Role.ADMIN),
        "viewer": make_staff(city, Role.VIEWER),
        "inactive": inactive,
    }
