"""Staff pages of the shell: home and settings. Thin: parse input, call an action, render."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.views import LoginView
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor
from django.forms import BaseForm
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from sotong.core import actions, selectors
from sotong.core.calendar import calendar_for
from sotong.core.models import CalendarException, Staff
from sotong.core.roles import Capability
from sotong.web import forms
from sotong.web.decorators import staff_required
from sotong.web.forms import add_action_errors as _add_errors


class SotongLoginView(LoginView):
    template_name = "registration/login.html"
    redirect_authenticated_user = True


def health(request: HttpRequest) -> JsonResponse:
    """For load balancers and monitoring: the database answers and is migrated."""
    try:
        executor = MigrationExecutor(connection)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except DatabaseError:
        return JsonResponse({"status": "error", "database": "unreachable"}, status=503)
    if pending:
        return JsonResponse({"status": "error", "database": "migrations pending"}, status=503)
    return JsonResponse({"status": "ok"})


def _staff(request: HttpRequest) -> Staff:
    staff: Staff = request.staff  # type: ignore[attr-defined]
    return staff


def _submitted(
    request: HttpRequest, form: BaseForm, action: Callable[[], object], success: Callable[[], str]
) -> bool:
    """For a POST with a valid form, run ``action``; True when it succeeded. Its
    ValidationError becomes form errors, shown in the user's language."""
    if request.method != "POST" or not form.is_valid():
        return False
    try:
        action()
    except ValidationError as error:
        _add_errors(form, error)
        return False
    messages.success(request, success())
    return True


@staff_required()
def home(request: HttpRequest) -> HttpResponse:
    staff = _staff(request)
    calendar = calendar_for(staff.organisation)
    today = timezone.localdate()
    upcoming = calendar.holidays_between(today, today + dt.timedelta(days=60))[:5]
    context: dict[str, Any] = {
        "today": today,
        "today_is_business_day": calendar.is_business_day(today),
        "today_holiday": calendar.holiday_name(today),
        "upcoming_holidays": upcoming,
        "department_count": selectors.departments(staff).count(),
        "staff_count": selectors.staff_members(staff).count(),
        "recent": selectors.audit_entries(staff)[:8] if staff.can(Capability.VIEW_AUDIT) else [],
        "system": selectors.system_status() if staff.can(Capability.MANAGE_ORGANISATION) else None,
    }
    return render(request, "web/home.html", context)


@staff_required()
def settings_index(request: HttpRequest) -> HttpResponse:
    return render(request, "web/settings/index.html")


@staff_required()
def organisation_settings(request: HttpRequest) -> HttpResponse:
    staff = _staff(request)
    organisation = staff.organisation
    can_edit = staff.can(Capability.MANAGE_ORGANISATION)
    form = forms.OrganisationHoursForm(request.POST or None, instance=organisation)
    if request.method == "POST" and not can_edit:
        raise PermissionDenied
    if _submitted(
        request,
        form,
        lambda: actions.update_organisation_hours(staff, organisation, **form.cleaned_data),
        lambda: _("Working hours saved."),
    ):
        return redirect("web:organisation")
    return render(
        request,
        "web/settings/organisation.html",
        {"form": form, "can_edit": can_edit, "organisation": organisation},
    )


@staff_required()
def department_list(request: HttpRequest) -> HttpResponse:
    staff = _staff(request)
    departments = selectors.departments(staff)
    can_edit = staff.can(Capability.MANAGE_DEPARTMENTS)
    form = forms.DepartmentCreateForm(request.POST or None, departments=departments)
    if request.method == "POST" and not can_edit:
        raise PermissionDenied
    if _submitted(
        request,
        form,
        lambda: actions.create_department(
            staff,
            staff.organisation,
            code=form.cleaned_data["code"],
            name=form.cleaned_data["name"],
            kind=form.cleaned_data["kind"],
            parent=form.cleaned_data["parent"],
            aliases=form.alias_list(),
            duties=[form.cleaned_data["duties"]],
        ),
        lambda: _("Department %(name)s added.") % {"name": form.cleaned_data["name"]},
    ):
        return redirect("web:departments")
    former = selectors.departments(staff, include_inactive=True).filter(is_active=False)
    return render(
        request,
        "web/settings/departments.html",
        {
            "departments": departments,
            "former": former,
            "form": form,
            "can_edit": can_edit,
        },
    )


@staff_required(Capability.MANAGE_DEPARTMENTS)
def department_rename(request: HttpRequest, pk: int) -> HttpResponse:
    staff = _staff(request)
    department = get_object_or_404(selectors.departments(staff), pk=pk)
    form = forms.DepartmentRenameForm(request.POST or None, initial={"name": department.name})
    if _submitted(
        request,
        form,
        lambda: actions.rename_department(staff, department, form.cleaned_data["name"]),
        lambda: _("Department renamed; the old name is kept as an alias."),
    ):
        return redirect("web:departments")
    return render(
        request,
        "web/settings/department_form.html",
        {"form": form, "department": department, "title": _("Rename department")},
    )


@staff_required(Capability.MANAGE_DEPARTMENTS)
def department_duties(request: HttpRequest, pk: int) -> HttpResponse:
    staff = _staff(request)
    department = get_object_or_404(selectors.departments(staff), pk=pk)
    form = forms.DepartmentDutiesForm(
        request.POST or None, initial={"duties": "\n".join(department.duty_keywords)}
    )
    if _submitted(
        request,
        form,
        lambda: actions.set_department_duties(staff, department, form.cleaned_data["duties"]),
        lambda: _("Duties of %(name)s saved.") % {"name": department.name},
    ):
        return redirect("web:departments")
    return render(
        request,
        "web/settings/department_form.html",
        {"form": form, "department": department, "title": _("Department duties")},
    )


@staff_required(Capability.MANAGE_DEPARTMENTS)
def department_merge(request: HttpRequest, pk: int) -> HttpResponse:
    staff = _staff(request)
    departments = selectors.departments(staff)
    department = get_object_or_404(departments, pk=pk)
    form = forms.DepartmentMergeForm(
        request.POST or None, departments=departments.exclude(pk=department.pk)
    )
    if _submitted(
        request,
        form,
        lambda: actions.merge_departments(staff, department, form.cleaned_data["into"]),
        lambda: (
            _("%(source)s merged into %(into)s.")
            % {"source": department.name, "into": form.cleaned_data["into"].name}
        ),
    ):
        return redirect("web:departments")
    return render(
        request,
        "web/settings/department_form.html",
        {"form": form, "department": department, "title": _("Merge department")},
    )


@staff_required()
def staff_list(request: HttpRequest) -> HttpResponse:
    staff = _staff(request)
    departments = selectors.departments(staff)
    can_edit = staff.can(Capability.MANAGE_STAFF)
    form = forms.StaffCreateForm(request.POST or None, departments=departments)
    if request.method == "POST" and not can_edit:
        raise PermissionDenied
    if _submitted(
        request,
        form,
        lambda: actions.add_staff(staff, staff.organisation, **form.cleaned_data),
        lambda: _("%(name)s can now sign in.") % {"name": form.cleaned_data["display_name"]},
    ):
        return redirect("web:staff")
    members = selectors.staff_members(staff).order_by("department__name", "display_name")
    return render(
        request, "web/settings/staff.html", {"members": members, "form": form, "can_edit": can_edit}
    )


@staff_required(Capability.MANAGE_STAFF)
def staff_change(request: HttpRequest, pk: int) -> HttpResponse:
    staff = _staff(request)
    member = get_object_or_404(selectors.staff_members(staff), pk=pk)
    form = forms.StaffChangeForm(
        request.POST or None, instance=member, departments=selectors.departments(staff)
    )
    if _submitted(
        request,
        form,
        lambda: actions.change_staff(
            staff,
            member,
            role=form.cleaned_data["role"],
            department=form.cleaned_data["department"],
        ),
        lambda: _("Saved."),
    ):
        return redirect("web:staff")
    return render(request, "web/settings/staff_change.html", {"form": form, "member": member})


@require_POST
@staff_required(Capability.MANAGE_STAFF)
def staff_set_active(request: HttpRequest, pk: int) -> HttpResponse:
    staff = _staff(request)
    member = get_object_or_404(selectors.staff_members(staff), pk=pk)
    try:
        actions.set_staff_active(staff, member, active=request.POST.get("active") == "1")
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect("web:staff")


@staff_required()
def calendar_settings(request: HttpRequest) -> HttpResponse:
    staff = _staff(request)
    organisation = staff.organisation
    can_edit = staff.can(Capability.MANAGE_CALENDAR)
    form = forms.CalendarExceptionForm(request.POST or None)
    if request.method == "POST" and not can_edit:
        raise PermissionDenied
    if _submitted(
        request,
        form,
        lambda: actions.set_calendar_exception(staff, organisation, **form.cleaned_data),
        lambda: _("Calendar updated."),
    ):
        return redirect("web:calendar")
    calendar = calendar_for(organisation)
    today = timezone.localdate()
    holidays = calendar.holidays_between(today, today + dt.timedelta(days=366))
    exceptions = CalendarException.objects.for_staff(staff).filter(
        date__gte=today - dt.timedelta(days=365)
    )
    return render(
        request,
        "web/settings/calendar.html",
        {
            "form": form,
            "can_edit": can_edit,
            "holidays": holidays,
            "exceptions": exceptions,
        },
    )


@require_POST
@staff_required(Capability.MANAGE_CALENDAR)
def calendar_exception_remove(request: HttpRequest, pk: int) -> HttpResponse:
    staff = _staff(request)
    exception = get_object_or_404(CalendarException.objects.for_staff(staff), pk=pk)
    actions.remove_calendar_exception(staff, exception)
    messages.success(request, _("Calendar updated."))
    return redirect("web:calendar")


@staff_required(Capability.VIEW_AUDIT)
def audit_log(request: HttpRequest) -> HttpResponse:
    staff = _staff(request)
    entries = selectors.audit_entries(staff)
    form = forms.AuditFilterForm(request.GET or None, entries=entries)
    if request.GET:
        entries = form.apply(entries)
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    template = "web/settings/_audit_rows.html" if request.htmx else "web/settings/audit.html"  # type: ignore[attr-defined]
    return render(request, template, {"form": form, "page": page})
