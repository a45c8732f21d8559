"""Read queries over the organisation model, scoped through ``ScopedQuerySet.for_staff``."""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet

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
            .order_by("-until")
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
