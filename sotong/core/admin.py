"""Django admin for configuration by deployment operators (superusers). City staff use the
settings pages, which go through the actions and their audit entries."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import models, transaction
from django.forms import ModelForm
from django.http import HttpRequest

from sotong.core import audit
from sotong.core.models import (
    AuditEntry,
    CalendarException,
    Department,
    DepartmentAlias,
    Organisation,
    PeriodicJobState,
    SchedulerLease,
    Staff,
    WorkerHeartbeat,
)


class DepartmentAliasInline(admin.TabularInline[DepartmentAlias, Department]):
    model = DepartmentAlias
    extra = 0
    fields = ["name", "reason", "until", "organisation"]


class AuditedAdmin[M: models.Model](admin.ModelAdmin[M]):
    """Admin changes go into Sotong's audit log like any other change."""

    def _organisation(self, obj: M) -> Organisation | None:
        if isinstance(obj, Organisation):
            return obj
        organisation: Organisation | None = getattr(obj, "organisation", None)
        return organisation

    def _fields(self, obj: M) -> list[str]:
        return [field.name for field in obj._meta.concrete_fields if field.name != "id"]

    def save_model(self, request: HttpRequest, obj: M, form: ModelForm[M], change: bool) -> None:
        with transaction.atomic():
            before = None
            if change:
                stored = type(obj)._default_manager.get(pk=obj.pk)
                before = audit.snapshot(stored, self._fields(stored))
            super().save_model(request, obj, form, change)
            action = f"{obj._meta.model_name}.admin_{'change' if change else 'add'}"
            audit.record(
                audit.Actor.of(request.user, source="admin"),
                action,
                obj,
                organisation=self._organisation(obj),
                before=before,
                after=audit.snapshot(obj, self._fields(obj)),
            )

    def delete_model(self, request: HttpRequest, obj: M) -> None:
        with transaction.atomic():
            audit.record(
                audit.Actor.of(request.user, source="admin"),
                f"{obj._meta.model_name}.admin_delete",
                obj,
                organisation=self._organisation(obj),
                before=audit.snapshot(obj, self._fields(obj)),
            )
            super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for obj in queryset:
            self.delete_model(request, obj)


@admin.register(Organisation)
class OrganisationAdmin(AuditedAdmin[Organisation]):
    list_display = ["name", "slug", "time_zone", "work_start", "work_end"]
    search_fields = ["name", "slug"]


@admin.register(Department)
class DepartmentAdmin(AuditedAdmin[Department]):
    list_display = ["name", "code", "kind", "parent", "organisation", "is_active", "successor"]
    list_filter = ["organisation", "kind", "is_active"]
    search_fields = ["name", "code", "aliases__name"]
    inlines = [DepartmentAliasInline]


@admin.register(Staff)
class StaffAdmin(AuditedAdmin[Staff]):
    list_display = ["display_name", "user", "organisation", "department", "role"]
    list_filter = ["organisation", "role"]
    search_fields = ["display_name", "user__username"]
    raw_id_fields = ["user"]


@admin.register(CalendarException)
class CalendarExceptionAdmin(AuditedAdmin[CalendarException]):
    list_display = ["date", "name", "closed", "organisation"]
    list_filter = ["organisation", "closed"]


class ReadOnlyAdmin[M: Any](admin.ModelAdmin[M]):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin[AuditEntry]):
    list_display = ["at", "organisation", "actor_label", "source", "action", "target_label"]
    list_filter = ["organisation", "action", "source"]
    search_fields = ["actor_label", "target_label", "action"]
    date_hierarchy = "at"


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(ReadOnlyAdmin[WorkerHeartbeat]):
    list_display = ["worker_id", "hostname", "pid", "started_at", "last_seen_at"]


@admin.register(SchedulerLease)
class SchedulerLeaseAdmin(ReadOnlyAdmin[SchedulerLease]):
    list_display = ["name", "holder", "expires_at"]


@admin.register(PeriodicJobState)
class PeriodicJobStateAdmin(ReadOnlyAdmin[PeriodicJobState]):
    list_display = ["name", "next_due_at", "last_enqueued_at", "last_task_id"]
