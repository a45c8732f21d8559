"""Business operations on organisations, departments, staff and the office calendar.

One function per thing a person or the system does. Each checks permission, changes the
data in one transaction with its audit entry, and returns the changed rows. Views, the CLI
and tasks call these; none of them changes these models directly.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from sotong.core import audit
from sotong.core.models import (
    AliasReason,
    CalendarException,
    Department,
    DepartmentAlias,
    Organisation,
    Staff,
    parse_duties,
)
from sotong.core.permissions import Performer, actor_of, require
from sotong.core.roles import Capability, Role

ORGANISATION_HOURS_FIELDS = ("work_start", "work_end", "lunch_start", "lunch_end")
STAFF_FIELDS = ("role", "department", "display_name")


@dataclass(frozen=True)
class DepartmentSpec:
    """A department to create with an organisation (see ``create_organisation``)."""

    code: str
    name: str
    kind: str
    parent_code: str | None = None
    aliases: Sequence[str] = ()
    duties: Sequence[str] = ()


@transaction.atomic
def create_organisation(
    by: audit.Actor,
    *,
    slug: str,
    name: str,
    name_en: str = "",
    departments: Iterable[DepartmentSpec] = (),
) -> Organisation:
    """Create a municipality and its departments. Deployment operators only (CLI, admin)."""
    if Organisation.objects.filter(slug=slug).exists():
        raise ValidationError({"slug": _("An organisation with this identifier already exists.")})
    organisation = Organisation(slug=slug, name=name, name_en=name_en)
    organisation.full_clean()
    organisation.save()
    audit.record(
        by,
        "organisation.create",
        organisation,
        organisation=organisation,
        after={"slug": slug, "name": name},
    )
    created: dict[str, Department] = {}
    for spec in departments:
        parent = created.get(spec.parent_code) if spec.parent_code else None
        if spec.parent_code and parent is None:
            raise ValidationError(f"parent {spec.parent_code!r} of {spec.code!r} must come first")
        created[spec.code] = create_department(
            by,
            organisation,
            code=spec.code,
            name=spec.name,
            kind=spec.kind,
            parent=parent,
            aliases=spec.aliases,
            duties=spec.duties,
        )
    # The topic tags posts start with (관광, 축제, …); the organisation edits them later.
    from sotong.publishing.actions import add_default_topics

    add_default_topics(by, organisation)
    return organisation


@transaction.atomic
def update_organisation_hours(
    by: Performer,
    organisation: Organisation,
    *,
    work_start: dt.time,
    work_end: dt.time,
    lunch_start: dt.time,
    lunch_end: dt.time,
) -> Organisation:
    """Change the office hours that legal deadlines are counted in."""
    require(by, Capability.MANAGE_ORGANISATION, organisation)
    organisation = Organisation.objects.select_for_update().get(pk=organisation.pk)
    before = audit.snapshot(organisation, ORGANISATION_HOURS_FIELDS)
    organisation.work_start, organisation.work_end = work_start, work_end
    organisation.lunch_start, organisation.lunch_end = lunch_start, lunch_end
    organisation.full_clean()
    organisation.save(update_fields=list(ORGANISATION_HOURS_FIELDS))
    after = audit.snapshot(organisation, ORGANISATION_HOURS_FIELDS)
    if before != after:
        audit.record(
            actor_of(by),
            "organisation.update_hours",
            organisation,
            organisation=organisation,
            before=before,
            after=after,
        )
    return organisation


@transaction.atomic
def create_department(
    by: Performer,
    organisation: Organisation,
    *,
    code: str,
    name: str,
    kind: str,
    parent: Department | None = None,
    aliases: Iterable[str] = (),
    duties: Iterable[str] = (),
) -> Department:
    require(by, Capability.MANAGE_DEPARTMENTS, organisation)
    if parent is not None and parent.organisation_id != organisation.pk:
        raise ValidationError({"parent": _("The parent belongs to another organisation.")})
    keywords = _duties(",".join(duties))
    department = Department(
        organisation=organisation,
        code=code,
        name=name.strip(),
        kind=kind,
        parent=parent,
        duties="\n".join(keywords),
    )
    department.full_clean()
    department.save()
    for alias in aliases:
        DepartmentAlias.objects.create(
            organisation=organisation, department=department, name=alias, reason=AliasReason.ALIAS
        )
    audit.record(
        actor_of(by),
        "department.create",
        department,
        organisation=organisation,
        department=department,
        after={
            "code": code,
            "name": department.name,
            "kind": kind,
            "parent": parent.pk if parent else None,
            "aliases": list(aliases),
            "duties": keywords,
        },
    )
    return department


def _duties(text: str) -> list[str]:
    try:
        return parse_duties(text)
    except ValidationError as error:
        raise ValidationError({"duties": error.error_list}) from None


@transaction.atomic
def set_department_duties(by: Performer, department: Department, text: str) -> Department:
    """Replace a department's duty keywords (사무분장) with those in ``text`` (one per line
    or comma-separated). Stored one per line, without repeats; routing reads them for the
    next message triaged."""
    require(by, Capability.MANAGE_DEPARTMENTS, department.organisation_id)
    keywords = _duties(text)
    department = Department.objects.select_for_update().get(pk=department.pk)
    before = department.duty_keywords
    if keywords == before:
        return department
    department.duties = "\n".join(keywords)
    department.full_clean()
    department.save(update_fields=["duties"])
    audit.record(
        actor_of(by),
        "department.duties",
        department,
        organisation=department.organisation,
        department=department,
        before={"duties": before},
        after={"duties": keywords},
    )
    return department


@transaction.atomic
def rename_department(by: Performer, department: Department, new_name: str) -> Department:
    """Rename a department; the old name stays as an alias so old records still resolve."""
    require(by, Capability.MANAGE_DEPARTMENTS, department.organisation_id)
    department = Department.objects.select_for_update().get(pk=department.pk)
    new_name = new_name.strip()
    old_name = department.name
    if new_name == old_name:
        return department
    department.name = new_name
    department.full_clean()
    department.save(update_fields=["name"])
    # A name used before by this department comes back: it is no longer an alias.
    DepartmentAlias.objects.filter(department=department, name=new_name).delete()
    DepartmentAlias.objects.update_or_create(
        department=department,
        name=old_name,
        defaults={
            "organisation_id": department.organisation_id,
            "reason": AliasReason.FORMER_NAME,
            "until": timezone.localdate(),
        },
    )
    audit.record(
        actor_of(by),
        "department.rename",
        department,
        organisation=department.organisation,
        department=department,
        before={"name": old_name},
        after={"name": new_name},
    )
    return department


@transaction.atomic
def merge_departments(by: Performer, source: Department, into: Department) -> Department:
    """Merge ``source`` into ``into`` (a reorganisation). ``source`` stays as a record with
    ``into`` as its successor; its names become aliases and its staff move over."""
    require(by, Capability.MANAGE_DEPARTMENTS, source.organisation_id)
    # Decide on the stored state, locked, not on what the caller holds in memory.
    source = Department.objects.select_for_update().get(pk=source.pk)
    into = Department.objects.select_for_update().get(pk=into.pk)
    if source.organisation_id != into.organisation_id:
        raise ValidationError(_("Departments of different organisations cannot be merged."))
    if source.pk == into.pk or into.current().pk == source.pk:
        raise ValidationError(_("A department cannot be merged into itself."))
    if not source.is_active or not into.is_active:
        raise ValidationError(_("Only active departments can be merged."))
    if source.children.filter(is_active=True).exists():
        raise ValidationError(_("Move or merge the units under this department first."))
    names = [source.name, *source.aliases.values_list("name", flat=True)]
    for name in names:
        DepartmentAlias.objects.get_or_create(
            department=into,
            name=name,
            defaults={
                "organisation_id": into.organisation_id,
                "reason": AliasReason.MERGED,
                "until": timezone.localdate(),
            },
        )
    moved_staff = list(Staff.objects.filter(department=source).values_list("pk", flat=True))
    Staff.objects.filter(pk__in=moved_staff).update(department=into)
    source.is_active = False
    source.successor = into
    source.save(update_fields=["is_active", "successor"])
    audit.record(
        actor_of(by),
        "department.merge",
        source,
        organisation=source.organisation,
        department=into,
        before={"active": True, "successor": None},
        after={
            "active": False,
            "successor": into.pk,
            "names_kept": names,
            "staff_moved": moved_staff,
        },
    )
    return into


@transaction.atomic
def add_staff(
    by: Performer,
    organisation: Organisation,
    *,
    username: str,
    display_name: str,
    role: str,
    department: Department | None = None,
    password: str | None = None,
    email: str = "",
) -> Staff:
    """Create a login for a person of the organisation with one role."""
    require(by, Capability.MANAGE_STAFF, organisation)
    if role not in Role.values:
        raise ValidationError({"role": _("Unknown role.")})
    user_model = get_user_model()
    if user_model._default_manager.filter(username=username).exists():
        raise ValidationError({"username": _("This username is already taken.")})
    user = user_model(username=username, email=email)
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save()
    staff = Staff(
        organisation=organisation,
        user=user,
        display_name=display_name,
        role=role,
        department=department,
    )
    staff.full_clean()
    staff.save()
    audit.record(
        actor_of(by),
        "staff.add",
        staff,
        organisation=organisation,
        department=department,
        after=audit.snapshot(staff, STAFF_FIELDS),
    )
    return staff


@transaction.atomic
def change_staff(
    by: Performer,
    staff: Staff,
    *,
    role: str,
    department: Department | None,
) -> Staff:
    """Give a staff member another role or department."""
    require(by, Capability.MANAGE_STAFF, staff.organisation_id)
    staff = Staff.objects.select_for_update().get(pk=staff.pk)
    if isinstance(by, Staff) and by.pk == staff.pk and role != Role.ADMIN and by.role == Role.ADMIN:
        raise ValidationError(_("You cannot remove your own administrator role."))
    before = audit.snapshot(staff, STAFF_FIELDS)
    staff.role = role
    staff.department = department
    staff.full_clean()
    staff.save(update_fields=["role", "department"])
    after = audit.snapshot(staff, STAFF_FIELDS)
    if before != after:
        audit.record(
            actor_of(by),
            "staff.change",
            staff,
            organisation=staff.organisation,
            department=department,
            before=before,
            after=after,
        )
    return staff


@transaction.atomic
def set_staff_active(by: Performer, staff: Staff, *, active: bool) -> Staff:
    """Let a staff member sign in again, or stop them (their history stays)."""
    require(by, Capability.MANAGE_STAFF, staff.organisation_id)
    if isinstance(by, Staff) and by.pk == staff.pk and not active:
        raise ValidationError(_("You cannot deactivate yourself."))
    user = staff.user
    if user.is_active != active:
        user.is_active = active
        user.save(update_fields=["is_active"])
        audit.record(
            actor_of(by),
            "staff.activate" if active else "staff.deactivate",
            staff,
            organisation=staff.organisation,
            department=staff.department,
            before={"active": not active},
            after={"active": active},
        )
    return staff


@transaction.atomic
def set_calendar_exception(
    by: Performer,
    organisation: Organisation,
    *,
    date: dt.date,
    name: str,
    closed: bool = True,
) -> CalendarException:
    """Declare a temporary public holiday (임시공휴일), or a working day, for the office."""
    require(by, Capability.MANAGE_CALENDAR, organisation)
    existing = CalendarException.objects.filter(organisation=organisation, date=date).first()
    before = audit.snapshot(existing, ("name", "closed")) if existing else None
    exception, _created = CalendarException.objects.update_or_create(
        organisation=organisation,
        date=date,
        defaults={"name": name.strip(), "closed": closed},
    )
    audit.record(
        actor_of(by),
        "calendar.set_exception",
        exception,
        organisation=organisation,
        before=before,
        after={"date": date, "name": exception.name, "closed": closed},
    )
    return exception


@transaction.atomic
def remove_calendar_exception(by: Performer, exception: CalendarException) -> None:
    require(by, Capability.MANAGE_CALENDAR, exception.organisation_id)
    audit.record(
        actor_of(by),
        "calendar.remove_exception",
        exception,
        organisation=exception.organisation,
        before={"date": exception.date, "name": exception.name, "closed": exception.closed},
    )
    exception.delete()
