"""Inbox settings, for administrators and the PR office (who assign cases): the
organisation's routing model (민원 분류 모델) — the active version, its figures and
history, and a button that queues a retrain; the satisfaction options; and the canned
responses (상용 답변). The work is in ``routing_models``, ``satisfaction`` and ``canned``."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from sotong.core.models import Staff
from sotong.core.roles import Capability
from sotong.inbox import canned, forms, routing_models, satisfaction
from sotong.inbox.models import CannedResponse, RoutingModelVersion
from sotong.inbox.views import _add_errors
from sotong.web.decorators import staff_required

HISTORY = 20


@staff_required(Capability.ASSIGN_CASES)
def routing_model(request: HttpRequest) -> HttpResponse:
    staff = request.staff  # type: ignore[attr-defined]
    versions = list(
        RoutingModelVersion.objects.for_organisation(staff.organisation_id)
        .defer("arrays", "meta")
        .order_by("-created_at", "-pk")[:HISTORY]
    )
    active = next((v for v in versions if v.active), None)
    return render(
        request,
        "inbox/settings/routing_model.html",
        {
            "staff": staff,
            "active": active,
            "versions": versions,
            "pending_corrections": routing_models.corrections_since_active(staff.organisation),
            "retrain_after": routing_models.RETRAIN_AFTER_CORRECTIONS,
        },
    )


@require_POST
@staff_required(Capability.ASSIGN_CASES)
def routing_model_retrain(request: HttpRequest) -> HttpResponse:
    from sotong.inbox.tasks import retrain_routing_model

    staff = request.staff  # type: ignore[attr-defined]
    retrain_routing_model.enqueue(staff.organisation_id)
    messages.success(request, _("Retraining queued: the new version is used once it is not worse."))
    return redirect("inbox:routing_model")


# -- satisfaction options and canned responses ------------------------------------------------


def _managers_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The PR office (ASSIGN_CASES) or the administrators (MANAGE_ORGANISATION)."""

    @staff_required()
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not canned.may_manage(request.staff):  # type: ignore[attr-defined]
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


def _staff(request: HttpRequest) -> Staff:
    staff: Staff = request.staff  # type: ignore[attr-defined]
    return staff


@_managers_only
def inbox_options(request: HttpRequest) -> HttpResponse:
    staff = _staff(request)
    current = satisfaction.options(staff.organisation_id)
    form = forms.InboxOptionsForm(
        request.POST or None,
        initial={
            "ask_satisfaction_by_message": current.ask_satisfaction_by_message,
            "survey_link_in_replies": current.survey_link_in_replies,
        },
    )
    if request.method == "POST" and form.is_valid():
        satisfaction.update_options(staff, staff.organisation, **form.cleaned_data)
        messages.success(request, _("Inbox settings saved."))
        return redirect("inbox:options")
    return render(
        request,
        "inbox/settings/options.html",
        {"staff": staff, "form": form, "valid_days": satisfaction.SURVEY_VALID.days},
    )


@_managers_only
def canned_list(request: HttpRequest) -> HttpResponse:
    staff = _staff(request)
    rows = list(canned.visible(staff).order_by("-active", "department__name", "title", "pk"))
    return render(
        request,
        "inbox/settings/canned_list.html",
        {"staff": staff, "rows": rows, "placeholders": canned.PLACEHOLDERS},
    )


def _canned_form_page(
    request: HttpRequest,
    form: forms.CannedResponseForm,
    entry: CannedResponse | None,
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        "inbox/settings/canned_form.html",
        {"staff": _staff(request), "form": form, "entry": entry},
        status=status,
    )


@_managers_only
def canned_create(request: HttpRequest) -> HttpResponse:
    staff = _staff(request)
    form = forms.CannedResponseForm(request.POST or None, staff=staff)
    if request.method == "POST":
        if form.is_valid():
            try:
                entry = canned.create(staff, staff.organisation, **form.cleaned_data)
            except ValidationError as error:
                _add_errors(form, error)
            else:
                messages.success(
                    request, _("Canned response “%(name)s” added.") % {"name": entry.title}
                )
                return redirect("inbox:canned_list")
        return _canned_form_page(request, form, None, status=400)
    return _canned_form_page(request, form, None)


@_managers_only
def canned_edit(request: HttpRequest, pk: int) -> HttpResponse:
    staff = _staff(request)
    entry = get_object_or_404(canned.visible(staff), pk=pk)
    form = forms.CannedResponseForm(
        request.POST or None,
        staff=staff,
        initial={"title": entry.title, "body": entry.body, "department": entry.department},
    )
    if request.method == "POST":
        if form.is_valid():
            try:
                entry = canned.edit(staff, entry, **form.cleaned_data)
            except ValidationError as error:
                _add_errors(form, error)
            else:
                messages.success(
                    request, _("Canned response “%(name)s” saved.") % {"name": entry.title}
                )
                return redirect("inbox:canned_list")
        return _canned_form_page(request, form, entry, status=400)
    return _canned_form_page(request, form, entry)


@require_POST
@_managers_only
def canned_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    if action not in ("retire", "restore"):
        raise Http404
    staff = _staff(request)
    entry = get_object_or_404(canned.visible(staff), pk=pk)
    try:
        if action == "retire":
            canned.retire(staff, entry)
            messages.success(
                request,
                _("Canned response “%(name)s” retired: it is no longer offered.")
                % {"name": entry.title},
            )
        else:
            canned.restore(staff, entry)
            messages.success(
                request, _("Canned response “%(name)s” is offered again.") % {"name": entry.title}
            )
    except ValidationError as error:
        for text in error.messages:
            messages.error(request, text)
    return redirect("inbox:canned_list")
