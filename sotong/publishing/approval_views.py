"""Settings: the organisation's approval chain (e.g. 부서장 검토, then 홍보담당관 승인) — its
steps, each with its approvers and whether any or all of them must approve. Administrators
only; the actions check permissions and rules, these pages parse input and render."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from sotong.core import selectors as core_selectors
from sotong.core.models import Staff
from sotong.core.roles import Capability
from sotong.publishing import actions
from sotong.publishing.models import ApprovalRule, ApprovalStep
from sotong.publishing.views import _add_errors, _staff
from sotong.web.decorators import staff_required


class StaffChoice(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Staff) -> str:
        department = obj.department.name if obj.department_id and obj.department else ""
        return (
            f"{obj.display_name} ({obj.get_role_display()}, {department})"
            if department
            else f"{obj.display_name} ({obj.get_role_display()})"
        )


class StepForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Step name"),
        max_length=100,
        help_text=gettext_lazy("For example 부서장 검토 or 홍보담당관 승인."),
    )
    rule = forms.ChoiceField(
        label=gettext_lazy("Who must approve"),
        choices=ApprovalRule.choices,
        initial=ApprovalRule.ANY,
        widget=forms.RadioSelect,
    )
    approvers = StaffChoice(
        label=gettext_lazy("Approvers"),
        queryset=Staff.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy(
            "Department staff approve only their own department's posts, so choosing every "
            "department head with “any” means the post's own head."
        ),
    )

    def __init__(self, *args: object, staff_members: QuerySet[Staff], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        field: StaffChoice = self.fields["approvers"]  # type: ignore[assignment]
        field.queryset = staff_members.filter(user__is_active=True).order_by("display_name")


def _members(staff: Staff) -> QuerySet[Staff]:
    return core_selectors.staff_members(staff)


def _steps(staff: Staff) -> QuerySet[ApprovalStep]:
    return ApprovalStep.objects.for_staff(staff).prefetch_related("approvers__department")


@staff_required(Capability.MANAGE_ORGANISATION)
def chain(request: HttpRequest) -> HttpResponse:
    """The steps in order, and a form that adds one at the end."""
    staff = _staff(request)
    form = StepForm(request.POST or None, staff_members=_members(staff))
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                step = actions.add_approval_step(staff, staff.organisation, **form.cleaned_data)
            except ValidationError as error:
                _add_errors(form, error)
            else:
                messages.success(request, _("Step %(name)s added.") % {"name": step.name})
                return redirect("approval:chain")
        status = 400
    return render(
        request,
        "approval/chain.html",
        {"steps": _steps(staff), "form": form, "staff": staff},
        status=status,
    )


@staff_required(Capability.MANAGE_ORGANISATION)
def step_edit(request: HttpRequest, pk: int) -> HttpResponse:
    staff = _staff(request)
    step = get_object_or_404(_steps(staff), pk=pk)
    form = StepForm(
        request.POST or None,
        staff_members=_members(staff),
        initial={"name": step.name, "rule": step.rule, "approvers": list(step.approvers.all())},
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                actions.change_approval_step(staff, step, **form.cleaned_data)
            except ValidationError as error:
                _add_errors(form, error)
            else:
                messages.success(request, _("Step %(name)s saved.") % {"name": step.name})
                return redirect("approval:chain")
        status = 400
    return render(
        request,
        "approval/step_form.html",
        {"step": step, "form": form, "staff": staff},
        status=status,
    )


@require_POST
@staff_required(Capability.MANAGE_ORGANISATION)
def step_remove(request: HttpRequest, pk: int) -> HttpResponse:
    staff = _staff(request)
    step = get_object_or_404(_steps(staff), pk=pk)
    actions.remove_approval_step(staff, step)
    messages.success(request, _("Step %(name)s removed.") % {"name": step.name})
    return redirect("approval:chain")


@require_POST
@staff_required(Capability.MANAGE_ORGANISATION)
def step_move(request: HttpRequest, pk: int, direction: str) -> HttpResponse:
    staff = _staff(request)
    step = get_object_or_404(_steps(staff), pk=pk)
    actions.move_approval_step(staff, step, up=direction == "up")
    # Back to the row that moved, so keyboard users keep their place.
    return redirect(f"{reverse('approval:chain')}#step-{step.pk}")
