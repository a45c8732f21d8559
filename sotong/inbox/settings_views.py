"""Settings: the organisation's routing model (민원 분류 모델) — the active version, its
figures and history, and a button that queues a retrain. For administrators and the PR
office (who assign cases); the work is in ``routing_models`` and the task."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from sotong.core.roles import Capability
from sotong.inbox import routing_models
from sotong.inbox.models import RoutingModelVersion
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
