"""The audit log: every change that matters is there, and nothing in the app can edit it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from sotong.conftest import SYSTEM, department
from sotong.core import actions
from sotong.core.models import AuditEntry, AuditLogIsAppendOnly
from sotong.core.roles import Role


@pytest.fixture
def admin(city, make_staff):
    return make_staff(city, Role.ADMIN)


def test_changes_are_recorded_with_who_what_before_after(city, admin) -> None:
    sewer = department(city, "sewer")
    actions.rename_department(admin, sewer, "하수관리과")
    entry = AuditEntry.objects.get(action="department.rename")
    assert entry.actor_label == admin.user.username
    assert entry.actor_id == admin.user_id
    assert entry.organisation == city
    assert entry.department == sewer
    assert entry.target_type == "core.department"
    assert entry.target_id == str(sewer.pk)
    assert entry.before == {"name": "하수도과"}
    assert entry.after == {"name": "하수관리과"}


def test_each_action_leaves_an_entry(city, admin, make_staff) -> None:
    member = make_staff(city, Role.DEPARTMENT_AUTHOR, "sewer")
    actions.update_organisation_hours(
        admin,
        city,
        work_start=dt.time(9),
        work_end=dt.time(18),
        lunch_start=dt.time(11, 30),
        lunch_end=dt.time(12, 30),
    )
    actions.change_staff(
        admin, member, role=Role.DEPARTMENT_RESPONDER, department=department(city, "roads")
    )
    actions.set_staff_active(admin, member, active=False)
    holiday = actions.set_calendar_exception(admin, city, date=dt.date(2026, 12, 31), name="임시")
    actions.remove_calendar_exception(admin, holiday)
    actions.merge_departments(admin, department(city, "roads"), department(city, "traffic"))
    recorded = set(AuditEntry.objects.filter(organisation=city).values_list("action", flat=True))
    assert {
        "organisation.create",
        "department.create",
        "staff.add",
        "organisation.update_hours",
        "staff.change",
        "staff.deactivate",
        "calendar.set_exception",
        "calendar.remove_exception",
        "department.merge",
    } <= recorded
    change = AuditEntry.objects.get(action="staff.change")
    assert change.before["role"] == Role.DEPARTMENT_AUTHOR
    assert change.after["role"] == Role.DEPARTMENT_RESPONDER


def test_a_no_op_change_records_nothing(city, admin) -> None:
    before = AuditEntry.objects.count()
    actions.rename_department(admin, department(city, "sewer"), "하수도과")
    assert AuditEntry.objects.count() == before


def test_a_failed_action_leaves_no_entry(city, admin) -> None:
    before = AuditEntry.objects.count()
    # Two active departments cannot share a name: the rename fails whole.
    with pytest.raises(ValidationError):
        actions.rename_department(admin, department(city, "sewer"), "도로과")
    assert AuditEntry.objects.count() == before
    assert department(city, "sewer").name == "하수도과"


def test_entries_cannot_be_changed_or_deleted_through_the_orm(city) -> None:
    entry = AuditEntry.objects.filter(organisation=city).first()
    assert entry is not None
    entry.action = "forged"
    with pytest.raises(AuditLogIsAppendOnly):
        entry.save()
    with pytest.raises(AuditLogIsAppendOnly):
        entry.delete()
    with pytest.raises(AuditLogIsAppendOnly):
        AuditEntry.objects.filter(pk=entry.pk).update(action="forged")
    with pytest.raises(AuditLogIsAppendOnly):
        AuditEntry.objects.filter(pk=entry.pk).delete()


def test_the_database_refuses_updates_even_in_raw_sql(city) -> None:
    entry = AuditEntry.objects.filter(organisation=city).first()
    assert entry is not None
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE core_auditentry SET action = 'forged' WHERE id = %s", [entry.pk])
    entry.refresh_from_db()
    assert entry.action != "forged"


def test_admin_cannot_add_change_or_delete_entries(client, city, admin) -> None:
    admin.user.is_staff = admin.user.is_superuser = True
    admin.user.save()
    client.force_login(admin.user)
    entry = AuditEntry.objects.filter(organisation=city).first()
    assert entry is not None
    change_url = reverse("admin:core_auditentry_change", args=[entry.pk])
    response = client.post(change_url, {"action": "forged"})
    assert response.status_code == 403
    entry.refresh_from_db()
    assert entry.action != "forged"
    assert client.get(reverse("admin:core_auditentry_add")).status_code == 403
    response = client.post(
        reverse("admin:core_auditentry_delete", args=[entry.pk]), {"post": "yes"}
    )
    assert response.status_code == 403
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


def test_admin_edits_of_departments_are_audited(client, city, admin) -> None:
    admin.user.is_staff = admin.user.is_superuser = True
    admin.user.save()
    client.force_login(admin.user)
    sewer = department(city, "sewer")
    response = client.post(
        reverse("admin:core_department_change", args=[sewer.pk]),
        {
            "organisation": city.pk,
            "code": "sewer",
            "name": "하수도과",
            "kind": "team",
            "parent": sewer.parent_id,
            "is_active": "on",
            "aliases-TOTAL_FORMS": "0",
            "aliases-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    entry = AuditEntry.objects.get(action="department.admin_change")
    assert entry.source == "admin"
    assert entry.before["kind"] == "division"
    assert entry.after["kind"] == "team"


def test_system_actor_is_labelled(city) -> None:
    assert AuditEntry.objects.get(action="organisation.create").actor_label == SYSTEM.label
