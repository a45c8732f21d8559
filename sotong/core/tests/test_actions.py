"""Departments across reorganisations, and staff management."""

from __future__ import annotations

import pytest
from django.contrib.auth import authenticate
from django.core.exceptions import ValidationError

from sotong.conftest import SYSTEM, department
from sotong.core import actions
from sotong.core.models import AliasReason, Department, DepartmentAlias, Staff
from sotong.core.roles import Role
from sotong.core.selectors import resolve_department, unit_name


def test_rename_keeps_the_stable_id_and_the_old_name(city) -> None:
    sewer = department(city, "sewer")
    actions.rename_department(SYSTEM, sewer, "하수관리과")
    sewer.refresh_from_db()
    assert (sewer.code, sewer.name) == ("sewer", "하수관리과")
    alias = DepartmentAlias.objects.get(department=sewer, name="하수도과")
    assert alias.reason == AliasReason.FORMER_NAME
    assert alias.until is not None


def test_renaming_back_removes_the_alias(city) -> None:
    sewer = department(city, "sewer")
    actions.rename_department(SYSTEM, sewer, "하수관리과")
    actions.rename_department(SYSTEM, sewer, "하수도과")
    names = set(sewer.aliases.values_list("name", flat=True))
    assert "하수도과" not in names
    assert "하수관리과" in names


def test_resolve_department_by_current_former_alias_and_full_name(city) -> None:
    sewer = department(city, "sewer")
    actions.rename_department(SYSTEM, sewer, "하수관리과")
    assert resolve_department(city, "하수관리과") == sewer
    assert resolve_department(city, "하수도과") == sewer
    assert resolve_department(city, "하수과") == sewer  # alias from creation
    assert resolve_department(city, "안전건설국 하수도과") == sewer
    assert resolve_department(city, "없는과") is None
    assert resolve_department(city, "  ") is None
    assert unit_name("도시재생국 교통운수과") == "교통운수과"


def test_merge_follows_to_the_successor(city, make_staff) -> None:
    roads_staff = make_staff(city, Role.DEPARTMENT_AUTHOR, "roads")
    roads, traffic = department(city, "roads"), department(city, "traffic")
    actions.merge_departments(SYSTEM, roads, traffic)
    roads.refresh_from_db()
    assert not roads.is_active
    assert roads.successor == traffic
    assert roads.current() == traffic
    assert resolve_department(city, "도로과") == traffic
    assert Staff.objects.get(pk=roads_staff.pk).department == traffic
    # A new department may now take the old name.
    new_roads = actions.create_department(
        SYSTEM, city, code="roads-2030", name="도로과", kind="division"
    )
    assert resolve_department(city, "도로과") == new_roads


def test_the_batch_resolver_agrees_with_resolve_department(city) -> None:
    from sotong.core.selectors import DepartmentResolver

    sewer, roads, traffic = (department(city, c) for c in ("sewer", "roads", "traffic"))
    actions.rename_department(SYSTEM, sewer, "하수관리과")
    actions.merge_departments(SYSTEM, roads, traffic)
    names = [
        "하수관리과",
        "하수도과",
        "하수과",
        "안전건설국 하수도과",
        "도로과",
        "교통과",
        "없는과",
        " ",
    ]
    names += list(DepartmentAlias.objects.filter(organisation=city).values_list("name", flat=True))
    resolver = DepartmentResolver(city)
    assert [resolver.resolve(n) for n in names] == [resolve_department(city, n) for n in names]
    assert resolver.resolve("도로과") == traffic


def test_merge_refuses_nonsense(city, other_city) -> None:
    sewer = department(city, "sewer")
    with pytest.raises(ValidationError):
        actions.merge_departments(SYSTEM, sewer, sewer)
    with pytest.raises(ValidationError):
        actions.merge_departments(SYSTEM, sewer, department(other_city, "sewer"))
    with pytest.raises(ValidationError):
        # The bureau still has active divisions under it.
        actions.merge_departments(SYSTEM, department(city, "construction"), department(city, "pr"))
    actions.merge_departments(SYSTEM, sewer, department(city, "roads"))
    with pytest.raises(ValidationError):
        actions.merge_departments(SYSTEM, department(city, "roads"), sewer)  # inactive now


def test_department_codes_are_unique_per_city_only(city, other_city) -> None:
    with pytest.raises(ValidationError):
        actions.create_department(SYSTEM, city, code="sewer", name="새과", kind="division")
    assert Department.objects.filter(code="sewer").count() == 2


def test_parent_must_be_of_the_same_city(city, other_city) -> None:
    with pytest.raises(ValidationError):
        actions.create_department(
            SYSTEM,
            city,
            code="x",
            name="엑스과",
            kind="division",
            parent=department(other_city, "sewer"),
        )


def test_add_staff_validates_role_department_and_username(city, other_city, rf) -> None:
    with pytest.raises(ValidationError) as excinfo:
        actions.add_staff(
            SYSTEM, city, username="kim", display_name="김", role=Role.DEPARTMENT_AUTHOR
        )
    assert "department" in excinfo.value.message_dict
    with pytest.raises(ValidationError):
        actions.add_staff(SYSTEM, city, username="kim", display_name="김", role="mayor")
    with pytest.raises(ValidationError):
        actions.add_staff(
            SYSTEM,
            city,
            username="kim",
            display_name="김",
            role=Role.DEPARTMENT_AUTHOR,
            department=department(other_city, "sewer"),
        )
    assert not Staff.objects.filter(user__username="kim").exists()
    actions.add_staff(
        SYSTEM,
        city,
        username="kim",
        display_name="김",
        role=Role.VIEWER,
        password="a-long-password",
    )
    with pytest.raises(ValidationError):
        actions.add_staff(SYSTEM, city, username="kim", display_name="김2", role=Role.VIEWER)
    assert authenticate(rf.post("/"), username="kim", password="a-long-password") is not None


def test_administrators_cannot_lock_themselves_out(city, make_staff) -> None:
    admin = make_staff(city, Role.ADMIN)
    with pytest.raises(ValidationError):
        actions.change_staff(admin, admin, role=Role.VIEWER, department=None)
    with pytest.raises(ValidationError):
        actions.set_staff_active(admin, admin, active=False)


def test_deactivated_staff_cannot_sign_in(city, make_staff, rf) -> None:
    member = make_staff(city, Role.VIEWER)
    actions.set_staff_active(SYSTEM, member, active=False)
    assert (
        authenticate(rf.post("/"), username=member.user.username, password="correct-horse-battery")
        is None
    )
    actions.set_staff_active(SYSTEM, member, active=True)
    assert (
        authenticate(rf.post("/"), username=member.user.username, password="correct-horse-battery")
        is not None
    )


def test_working_hours_must_contain_lunch(city) -> None:
    import datetime as dt

    with pytest.raises(ValidationError):
        actions.update_organisation_hours(
            SYSTEM,
            city,
            work_start=dt.time(9),
            work_end=dt.time(18),
            lunch_start=dt.time(19),
            lunch_end=dt.time(20),
        )
    city.refresh_from_db()
    assert city.lunch_start == dt.time(12)


def test_create_organisation_refuses_a_duplicate_slug(city) -> None:
    with pytest.raises(ValidationError):
        actions.create_organisation(SYSTEM, slug="suncheon", name="또 순천시")
