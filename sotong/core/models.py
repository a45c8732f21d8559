"""The organisation model: cities, their departments, staff, calendar exceptions and the
audit log; plus the system tables the scheduler and workers coordinate through."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, ClassVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sotong.core.roles import DEPARTMENT_ROLES, Capability, Role, role_allows
from sotong.core.scoping import OrganisationOwned, ScopedQuerySet


class Organisation(models.Model):
    """A municipality. Every domain row belongs to exactly one."""

    slug = models.SlugField(_("identifier"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=100, blank=True)
    time_zone = models.CharField(_("time zone"), max_length=64, default="Asia/Seoul")
    # Office hours used for legal deadlines counted in working hours (민원처리법 art. 19).
    work_start = models.TimeField(_("working hours start"), default=dt.time(9, 0))
    work_end = models.TimeField(_("working hours end"), default=dt.time(18, 0))
    lunch_start = models.TimeField(_("lunch break start"), default=dt.time(12, 0))
    lunch_end = models.TimeField(_("lunch break end"), default=dt.time(13, 0))
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)

    organisation_path: ClassVar[str] = "pk"
    objects = ScopedQuerySet["Organisation"].as_manager()

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if not (self.work_start <= self.lunch_start <= self.lunch_end <= self.work_end):
            raise ValidationError(
                _(
                    "Working hours must contain the lunch break: start ≤ lunch start ≤ lunch end ≤ end."
                )
            )
        if self.work_start >= self.work_end:
            raise ValidationError(_("Working hours must end after they start."))


class DepartmentKind(models.TextChoices):
    BUREAU = "bureau", _("Bureau (국)")
    OFFICE = "office", _("Office (실)")
    OFFICER = "officer", _("Officer (담당관)")
    DIVISION = "division", _("Division (과)")
    TEAM = "team", _("Team (팀)")


# 사무분장: the duty keywords a department is known for, which route citizens' messages
# to it ahead of the routing model (a city's own units, not the training city's).
DUTIES_MAX = 60
DUTY_MAX_LENGTH = 20
_DUTY_SEPARATORS = re.compile(r"[,，、]")


def parse_duties(text: str) -> list[str]:
    """The duty keywords in ``text`` (one per line or comma-separated), in order, without
    repeats. Blank lines are skipped; an empty item between commas is an error, as are
    too many or too long keywords (``ValidationError`` with every problem, in Korean)."""
    keywords: list[str] = []
    seen: set[str] = set()
    errors: list[ValidationError] = []
    for number, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        for item in _DUTY_SEPARATORS.split(line):
            keyword = " ".join(item.split())
            if not keyword:
                errors.append(
                    ValidationError(
                        _("Line %(line)s has an empty keyword: remove the extra comma."),
                        code="empty",
                        params={"line": number},
                    )
                )
                continue
            if len(keyword) > DUTY_MAX_LENGTH:
                errors.append(
                    ValidationError(
                        _("“%(keyword)s” is too long: a keyword has at most %(max)s characters."),
                        code="too_long",
                        params={"keyword": keyword, "max": DUTY_MAX_LENGTH},
                    )
                )
                continue
            if keyword.casefold() not in seen:
                seen.add(keyword.casefold())
                keywords.append(keyword)
    if len(keywords) > DUTIES_MAX:
        errors.append(
            ValidationError(
                _("%(count)s keywords is too many: at most %(max)s."),
                code="too_many",
                params={"count": len(keywords), "max": DUTIES_MAX},
            )
        )
    if errors:
        raise ValidationError(errors)
    return keywords


def split_duties(text: str) -> list[str]:
    """The keywords of stored duties, read leniently: empty items skipped (a row written
    around the validation, e.g. by a data migration, still routes by what it has)."""
    return [
        " ".join(item.split())
        for item in _DUTY_SEPARATORS.split((text or "").replace("\n", ","))
        if item.strip()
    ]


def validate_duties(text: str) -> None:
    parse_duties(text)


class Department(OrganisationOwned):
    """A unit of the city. ``code`` is its stable id: it survives renames and merges,
    so history keeps counting for the department (through ``successor`` after a merge)."""

    code = models.SlugField(_("stable id"), max_length=50)
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=16, choices=DepartmentKind.choices)
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("parent (국/실)"),
    )
    successor = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="predecessors",
        verbose_name=_("successor"),
        help_text=_("Set when this department was merged into another."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    duties = models.TextField(
        _("duties (사무분장)"),
        blank=True,
        default="",
        validators=[validate_duties],
        help_text=_(
            "Keywords of this department's work, one per line or comma-separated, e.g. 하수구, "
            "맨홀, 악취. A message that mentions one is suggested to this department first."
        ),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        ordering = ["organisation", "name"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "code"], name="department_code_unique"),
            models.UniqueConstraint(
                fields=["organisation", "name"],
                condition=models.Q(is_active=True),
                name="department_active_name_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def duty_keywords(self) -> list[str]:
        return split_duties(self.duties)

    def current(self) -> Department:
        """The department that carries this one's work today (follows merges)."""
        department = self
        seen = {department.pk}
        while department.successor_id is not None and department.successor_id not in seen:
            seen.add(department.successor_id)
            department = Department.objects.get(pk=department.successor_id)
        return department


class AliasReason(models.TextChoices):
    FORMER_NAME = "former_name", _("Former name")
    MERGED = "merged", _("Merged into this department")
    ALIAS = "alias", _("Other name")


class DepartmentAlias(OrganisationOwned):
    """Another name a department is known by: a former name, a merged predecessor's name,
    or a common short form. Lets old records and citizens' words find today's department."""

    department = models.ForeignKey(Department, on_delete=models.CASCADE, related_name="aliases")
    name = models.CharField(_("name"), max_length=100)
    reason = models.CharField(_("reason"), max_length=16, choices=AliasReason.choices)
    until = models.DateField(_("used until"), null=True, blank=True)

    class Meta:
        verbose_name = _("department alias")
        verbose_name_plural = _("department aliases")
        constraints = [
            models.UniqueConstraint(fields=["department", "name"], name="department_alias_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.name} → {self.department.name}"


class Staff(OrganisationOwned):
    """A person who works in Sotong for one organisation, with one role."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff"
    )
    department = models.ForeignKey(
        Department,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="staff",
        verbose_name=_("department"),
    )
    role = models.CharField(_("role"), max_length=32, choices=Role.choices)
    display_name = models.CharField(_("display name"), max_length=100)

    department_path: ClassVar[str | None] = "department"

    class Meta:
        verbose_name = _("staff member")
        verbose_name_plural = _("staff")
        ordering = ["display_name"]

    def __str__(self) -> str:
        return self.display_name

    def clean(self) -> None:
        if self.role in DEPARTMENT_ROLES and self.department_id is None:
            raise ValidationError(
                {"department": _("Department staff must belong to a department.")}
            )
        department = self.department
        if department is not None and department.organisation_id != self.organisation_id:
            raise ValidationError(
                {"department": _("The department belongs to another organisation.")}
            )

    @property
    def is_department_scoped(self) -> bool:
        return self.role in DEPARTMENT_ROLES

    def can(self, capability: Capability) -> bool:
        return self.user.is_active and role_allows(self.role, capability)

    def department_scope_ids(self) -> list[int]:
        """The ids of the department and every unit below it, and of the predecessors
        merged into any of them, so merged history stays visible to the successor."""
        if self.department_id is None:
            return []
        cached: list[int] | None = getattr(self, "_department_scope_ids", None)
        if cached is not None:
            return cached
        found: set[int] = set()
        frontier = {self.department_id}
        while frontier:
            found |= frontier
            frontier = (
                set(
                    Department.objects.filter(organisation_id=self.organisation_id)
                    .filter(models.Q(parent_id__in=frontier) | models.Q(successor_id__in=frontier))
                    .values_list("pk", flat=True)
                )
                - found
            )
        self._department_scope_ids = sorted(found)
        return self._department_scope_ids


class CalendarException(OrganisationOwned):
    """A day on which the city's office differs from the national holiday calendar:
    a temporary public holiday (임시공휴일) the government declared, or a working day."""

    date = models.DateField(_("date"))
    name = models.CharField(_("name"), max_length=100)
    closed = models.BooleanField(
        _("office closed"),
        default=True,
        help_text=_(
            "On: a holiday (e.g. 임시공휴일). Off: a working day despite the national calendar."
        ),
    )

    class Meta:
        verbose_name = _("calendar exception")
        verbose_name_plural = _("calendar exceptions")
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "date"], name="calendar_exception_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.name}"


class AuditLogIsAppendOnly(Exception):
    """Raised on any attempt to change or delete an audit entry through the app."""


class AuditQuerySet(ScopedQuerySet["AuditEntry"]):
    def update(self, **kwargs: Any) -> int:
        raise AuditLogIsAppendOnly("audit entries cannot be changed")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AuditLogIsAppendOnly("audit entries cannot be deleted")


class AuditEntry(models.Model):
    """One state change that matters: who did what to which thing, when, before and after.
    Append-only: the model refuses updates and deletes, and a database trigger refuses
    UPDATE statements (see migration 0002)."""

    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Empty for deployment-wide changes."),
    )
    department = models.ForeignKey(
        Department,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)
    # The actor is copied, not linked, so removing a user never rewrites history.
    actor_id = models.BigIntegerField(_("actor id"), null=True, blank=True)
    actor_label = models.CharField(_("who"), max_length=150)
    source = models.CharField(_("source"), max_length=16, default="web")
    action = models.CharField(_("action"), max_length=64, db_index=True)
    target_type = models.CharField(_("target type"), max_length=64)
    target_id = models.CharField(_("target id"), max_length=64, blank=True)
    target_label = models.CharField(_("target"), max_length=200, blank=True)
    before = models.JSONField(_("before"), null=True, blank=True)
    after = models.JSONField(_("after"), null=True, blank=True)

    department_path: ClassVar[str | None] = "department"
    objects = AuditQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit log")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["organisation", "-at"], name="audit_org_at_idx")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} {self.action} {self.target_label}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AuditLogIsAppendOnly("audit entries cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AuditLogIsAppendOnly("audit entries cannot be deleted")


# System tables: deployment-wide coordination, not organisation data.


class SchedulerLease(models.Model):
    """Who runs the scheduler now. One row per name; a scheduler holds it while it keeps
    renewing, and another may take it only once it has expired."""

    name = models.CharField(max_length=32, primary_key=True)
    holder = models.CharField(max_length=100)
    expires_at = models.DateTimeField()

    class Meta:
        verbose_name = _("scheduler lease")

    def __str__(self) -> str:
        return f"{self.name}: {self.holder} until {self.expires_at:%H:%M:%S}"


class PeriodicJobState(models.Model):
    """When each periodic job is next due. Updated in the same transaction that enqueues
    the job's task, so a scheduler crash neither loses nor repeats an enqueue."""

    name = models.CharField(max_length=100, primary_key=True)
    next_due_at = models.DateTimeField()
    last_enqueued_at = models.DateTimeField(null=True)
    last_task_id = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = _("periodic job")

    def __str__(self) -> str:
        return self.name


class WorkerHeartbeat(models.Model):
    """A running worker process; renewed every few seconds. Tasks left RUNNING by a worker
    whose heartbeat stopped are recovered by the scheduler."""

    worker_id = models.CharField(max_length=64, primary_key=True)
    hostname = models.CharField(max_length=255)
    pid = models.IntegerField()
    started_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("worker")

    def __str__(self) -> str:
        return f"{self.worker_id} ({self.hostname}:{self.pid})"
