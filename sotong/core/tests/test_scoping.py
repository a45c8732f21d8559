"""Department staff see their department's work; city-wide roles see the whole city."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from sotong.conftest import SYSTEM, department
from sotong.core import actions, selectors
from sotong.core.models import Staff
from sotong.core.roles import Role


@pytest.fixture
def people(city, make_staff):
    return {
        "admin": make_staff(city, Role.ADMIN),
        "editor": make_staff(city, Role.PR_EDITOR, "pr"),
        "viewer": make_staff(city, Role.VIEWER),
        "sewer_author": make_staff(city, Role.DEPARTMENT_AUTHOR, "sewer"),
        "sewer_responder": make_staff(city, Role.DEPARTMENT_RESPONDER, "sewer"),
        "roads_author": make_staff(city, Role.DEPARTMENT_AUTHOR, "roads"),
        "bureau_responder": make_staff(city, Role.DEPARTMENT_RESPONDER, "construction"),
    }


def visible_staff(viewer: Staff) -> set[str]:
    return set(selectors.staff_members(viewer).values_list("user__username", flat=True))


def test_city_wide_roles_see_every_department(people) -> None:
    everyone = {staff.user.username for staff in people.values()}
    for role in ("admin", "editor", "viewer"):
        assert visible_staff(people[role]) == everyone


def test_department_roles_see_only_their_department(people) -> None:
    sewer = {people["sewer_author"].user.username, people["sewer_responder"].user.username}
    assert visible_staff(people["sewer_author"]) == sewer
    assert visible_staff(people["sewer_responder"]) == sewer
    assert visible_staff(people["roads_author"]) == {people["roads_author"].user.username}


def test_a_bureau_sees_the_divisions_under_it(people) -> None:
    seen = visible_staff(people["bureau_responder"])
    assert people["sewer_author"].user.username in seen
    assert people["roads_author"].user.username in seen
    assert people["editor"].user.username not in seen


def test_department_audit_entries_are_scoped(city, people) -> None:
    actions.rename_department(people["admin"], department(city, "roads"), "도로관리과")
    actions.rename_department(people["admin"], department(city, "sewer"), "하수관리과")
    sewer_actions = list(
        selectors.audit_entries(people["sewer_author"]).values_list("target_label", flat=True)
    )
    assert "하수관리과" in sewer_actions
    assert "도로관리과" not in sewer_actions
    assert selectors.audit_entries(people["admin"]).filter(action="department.rename").count() == 2


def test_departments_list_is_city_wide_for_everyone(city, people) -> None:
    # Department staff must see other departments to refer work to them.
    names = set(selectors.departments(people["sewer_author"]).values_list("name", flat=True))
    assert {"하수도과", "도로과", "교통과", "홍보담당관"} <= names


def test_merged_predecessors_history_stays_visible_to_the_successor(city, make_staff) -> None:
    traffic_staff = make_staff(city, Role.DEPARTMENT_RESPONDER, "traffic")
    roads_staff = make_staff(city, Role.DEPARTMENT_RESPONDER, "roads")
    actions.rename_department(SYSTEM, department(city, "roads"), "도로관리과")
    actions.merge_departments(SYSTEM, department(city, "roads"), department(city, "traffic"))
    traffic_staff.refresh_from_db()
    labels = set(selectors.audit_entries(traffic_staff).values_list("action", flat=True))
    # The roads rename happened before the merge; traffic now carries roads' history.
    assert "department.rename" in labels
    roads_staff.refresh_from_db()
    assert roads_staff.department == department(city, "traffic")


def test_a_department_role_without_department_sees_nothing(city, make_staff) -> None:
    staff = make_staff(city, Role.DEPARTMENT_AUTHOR, "sewer")
    Staff.objects.filter(pk=staff.pk).update(department=None)
    staff.refresh_from_db()
    assert not selectors.staff_members(staff).exists()


def test_scoping_without_staff_profile_is_refused(city) -> None:
    with pytest.raises(PermissionDenied):
        selectors.staff_members(None)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        (Role.ADMIN, True),
        (Role.PR_EDITOR, False),
        (Role.DEPARTMENT_AUTHOR, False),
        (Role.DEPARTMENT_RESPONDER, False),
        (Role.VIEWER, False),
    ],
)
def test_only_administrators_manage_departments(city, make_staff, role, allowed) -> None:
    staff = make_staff(city, role, "sewer" if role.startswith("department") else None)
    sewer = department(city, "sewer")
    if allowed:
        actions.rename_department(staff, sewer, "하수관리과")
        sewer.refresh_from_db()
        assert sewer.name == "하수관리과"
    else:
        with pytest.raises(PermissionDenied):
            actions.rename_department(staff, sewer, "하수관리과")
