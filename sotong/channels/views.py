"""Channel pages (settings) and the webhook endpoint platforms call."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from sotong.channels import actions, forms
from sotong.channels.models import Channel
from sotong.core.models import Staff
from sotong.core.roles import Capability as Permission
from sotong.platforms.base import WebhookRequest, connector_classes
from sotong.web.decorators import staff_required


def _staff(request: HttpRequest) -> Staff:
    staff: Staff = request.staff  # type: ignore[attr-defined]
    return staff


@csrf_exempt
def webhook(request: HttpRequest, kind: str, secret: str) -> HttpResponse:
    """Where platforms deliver events. The secret in the URL finds the channel; the
    platform's own signature is then checked by its connector."""
    channel = (
        Channel.objects.filter(kind=kind, webhook_secret=secret)
        .select_related("organisation", "department")
        .first()
    )
    if channel is None:
        return HttpResponse(status=404)
    outcome = actions.receive_webhook(
        channel,
        WebhookRequest(
            method=request.method or "GET",
            headers={key.lower(): value for key, value in request.headers.items()},
            query={key: request.GET[key] for key in request.GET},
            body=request.body,
        ),
    )
    response = outcome.response
    return HttpResponse(response.body, status=response.status, content_type=response.content_type)


@staff_required()
def channel_list(request: HttpRequest) -> HttpResponse:
    staff = _staff(request)
    channels = Channel.objects.for_staff(staff).select_related("department")
    return render(
        request,
        "channels/list.html",
        {
            "channels": channels,
            # (kind, label) pairs: templates would try to call the classes themselves.
            "platforms": [(platform.kind, platform.label) for platform in connector_classes()],
            "can_edit": staff.can(Permission.MANAGE_ORGANISATION),
        },
    )


@staff_required()
def channel_detail(request: HttpRequest, pk: int) -> HttpResponse:
    staff = _staff(request)
    channel = get_object_or_404(Channel.objects.for_staff(staff), pk=pk)
    webhook_url = request.build_absolute_uri(
        reverse("channels:webhook", args=[channel.kind, channel.webhook_secret])
    )
    return render(
        request,
        "channels/detail.html",
        {
            "channel": channel,
            "capabilities": sorted(c.value for c in channel.capabilities),
            "webhook_url": webhook_url,
            "can_edit": staff.can(Permission.MANAGE_ORGANISATION),
        },
    )


@staff_required(Permission.MANAGE_ORGANISATION)
def channel_connect(request: HttpRequest, kind: str) -> HttpResponse:
    staff = _staff(request)
    form = forms.ConnectForm(request.POST or None, kind=kind, staff=staff)
    if request.method == "POST" and form.is_valid():
        try:
            channel = actions.connect_channel(staff, staff.organisation, **form.connect_arguments())
        except ValidationError as error:
            for message in error.messages:
                form.add_error(None, message)
        else:
            messages.success(request, _("%(name)s is connected.") % {"name": channel.name})
            return redirect("channels:detail", pk=channel.pk)
    return render(
        request, "channels/connect.html", {"form": form, "platform_label": form.platform.label}
    )


@require_POST
@staff_required(Permission.MANAGE_ORGANISATION)
def channel_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    staff = _staff(request)
    channel = get_object_or_404(Channel.objects.for_staff(staff), pk=pk)
    try:
        if action == "check":
            result = actions.check_channel(channel, by=staff)
            if result.ok:
                messages.success(
                    request, _("The connection works: %(who)s") % {"who": result.message}
                )
            else:
                messages.error(
                    request, _("The check failed: %(reason)s") % {"reason": result.message}
                )
        elif action == "pause":
            actions.pause_channel(staff, channel)
            messages.success(request, _("Paused."))
        elif action == "resume":
            actions.resume_channel(staff, channel)
            messages.success(request, _("Resumed."))
        elif action == "rotate":
            actions.rotate_webhook_secret(staff, channel)
            messages.success(request, _("A new webhook address was made; give it to the platform."))
        else:
            raise PermissionDenied
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect("channels:detail", pk=channel.pk)
