"""Read queries over the organisation model, scoped through ``ScopedQuerySet.for_staff``."""

from __future__ import annotations

import datetime as dt

from django.db.models import F, QuerySet

from sotong.core.models import AuditEntry, Department, DepartmentAlias, Organisation, Staff


def departments(staff: Staff, *, include_inactive: bool = False) -> QuerySet[Department]:
    queryset = Department.objects.for_staff(staff).select_related("parent", "successor")
    if not include_inactive:
        queryset = queryset.filter(is_active=True)
    return queryset.prefetch_related("aliases")


def staff_members(staff: Staff) -> QuerySet[Staff]:
    return Staff.objects.for_staff(staff).select_related("user", "department")


def audit_entries(staff: Staff) -> QuerySet[AuditEntry]:
    return AuditEntry.objects.for_staff(staff)


def unit_name(department_name: str) -> str:
    """The unit in a full department name: '도시재생국 교통운수과' → '교통운수과'."""
    parts = department_name.split()
    return parts[-1] if parts else ""


class DepartmentResolver:
    """``resolve_department`` for many names: the organisation's departments and aliases
    read once (two queries), then every name resolved in memory by the same rules."""

    def __init__(self, organisation: Organisation) -> None:
        departments = list(Department.objects.filter(organisation=organisation).order_by("pk"))
        self._by_pk = {department.pk: department for department in departments}
        self._active: dict[str, Department] = {}
        self._any: dict[str, Department] = {}
        for department in departments:
            if department.is_active:
                self._active.setdefault(department.name, department)
            self._any.setdefault(department.name, department)
        aliases = DepartmentAlias.objects.filter(organisation=organisation).order_by("pk")
        # Of several departments once called by the name, the one that used it last (an
        # alias still in use, without an end date, before any that ended).
        self._alias: dict[str, tuple[dt.date, int]] = {}
        for alias in aliases:
            until = alias.until or dt.date.max
            if alias.name not in self._alias or until >= self._alias[alias.name][0]:
                self._alias[alias.name] = (until, alias.department_id)

    def resolve(self, name: str) -> Department | None:
        unit = unit_name(name)
        if not unit:
            return None
        department = self._active.get(unit)
        if department is None and unit in self._alias:
            department = self._by_pk.get(self._alias[unit][1])
        if department is None:
            department = self._any.get(unit)
        return self._current(department) if department else None

    def _current(self, department: Department) -> Department:
        seen = {department.pk}
        while department.successor_id is not None and department.successor_id not in seen:
            seen.add(department.successor_id)
            department = self._by_pk[department.successor_id]
        return department


def resolve_department(organisation: Organisation, name: str) -> Department | None:
    """Today's department for a name as citizens, old records or other systems write it:
    the current name, a former name, an alias, or a merged predecessor's name; with or
    without the bureau in front. Follows merges to the successor."""
    unit = unit_name(name)
    if not unit:
        return None
    candidates = Department.objects.filter(organisation=organisation)
    department = candidates.filter(name=unit, is_active=True).first()
    if department is None:
        alias = (
            DepartmentAlias.objects.filter(organisation=organisation, name=unit)
            .select_related("department")
            # An alias still in use (no end date) before those that ended.
            .order_by(F("until").desc(nulls_first=True), "-pk")
            .first()
        )
        department = alias.department if alias else candidates.filter(name=unit).first()
    return department.current() if department else None


def system_status() -> dict[str, object]:
    """Background machinery at a glance, for administrators."""
    from django.conf import settings
    from django.tasks import TaskResultStatus
    from django.utils import timezone
    from django_tasks_db.models import DBTaskResult

    from sotong.core.models import SchedulerLease, WorkerHeartbeat
    from sotong.core.scheduler import LEASE_NAME

    now = timezone.now()
    lost_after = dt.timedelta(seconds=settings.SOTONG_WORKER_LOST_AFTER_SECONDS)
    lease = SchedulerLease.objects.filter(name=LEASE_NAME, expires_at__gte=now).first()
    return {
        "workers": WorkerHeartbeat.objects.filter(last_seen_at__gte=now - lost_after).count(),
        "scheduler": lease.holder if lease else None,
        "queued": DBTaskResult.objects.filter(status=TaskResultStatus.READY).count(),
        "failed_today": DBTaskResult.objects.filter(
            status=TaskResultStatus.FAILED, finished_at__gte=now - dt.timedelta(days=1)
        ).count(),
    }
