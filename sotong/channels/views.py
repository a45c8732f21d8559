"""Channel pages (settings) and the webhook endpoint platforms call."""

from __future__ import annotations

import json
import secrets

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from sotong.channels import actions, forms, oauth
from sotong.channels.models import CAPABILITY_LABELS, Channel
from sotong.core import crypto
from sotong.core.models import Staff
from sotong.core.roles import Capability as Permission
from sotong.platforms import facebook
from sotong.platforms.base import Credentials, PlatformError, WebhookRequest, connector_classes
from sotong.web.decorators import staff_required

OAUTH_STATE_KEY = "sotong.channels.facebook_state"
OAUTH_PAGES_KEY = "sotong.channels.facebook_pages"


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
            "capabilities": [
                label
                for capability, label in CAPABILITY_LABELS.items()
                if capability in channel.capabilities
            ],
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
        request,
        "channels/connect.html",
        {
            "form": form,
            "platform_label": form.platform.label,
            "oauth_url": reverse("channels:facebook_login") if kind == "facebook" else None,
        },
    )


@staff_required(Permission.MANAGE_ORGANISATION)
def facebook_oauth_start(request: HttpRequest) -> HttpResponse:
    """Send the administrator to Facebook Login; they come back to the callback."""
    try:
        app = oauth.facebook_app()
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("channels:list")
    state = secrets.token_urlsafe(24)
    request.session[OAUTH_STATE_KEY] = state
    return redirect(
        facebook.oauth_authorize_url(
            app.dialog_base,
            app_id=app.app_id,
            state=state,
            redirect_uri=request.build_absolute_uri(reverse("channels:facebook_callback")),
        )
    )


@staff_required(Permission.MANAGE_ORGANISATION)
def facebook_oauth_callback(request: HttpRequest) -> HttpResponse:
    """Facebook sent the administrator back: swap the code for their Pages, let them pick."""
    staff = _staff(request)
    app = oauth.facebook_app()
    if request.method == "POST":
        pages = [
            facebook.ManagedPage(**page)
            for page in json.loads(
                crypto.decrypt(request.session.get(OAUTH_PAGES_KEY, crypto.encrypt("[]")))
            )
        ]
        chosen = next((page for page in pages if page.id == request.POST.get("page")), None)
        if chosen is None:
            messages.error(request, _("Choose one of the pages."))
            return redirect("channels:list")
        try:
            channel = actions.connect_channel(
                staff,
                staff.organisation,
                kind="facebook",
                name=request.POST.get("name") or chosen.name,
                account_id=chosen.id,
                api_base=app.api_base,
                credentials=Credentials(
                    access_token=chosen.access_token,
                    extra={
                        "app_id": app.app_id,
                        "app_secret": app.app_secret,
                        "verify_token": secrets.token_urlsafe(16),
                    },
                ),
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect("channels:list")
        request.session.pop(OAUTH_PAGES_KEY, None)
        messages.success(request, _("%(name)s is connected.") % {"name": channel.name})
        return redirect("channels:detail", pk=channel.pk)
    expected = request.session.pop(OAUTH_STATE_KEY, None)
    if not expected or not secrets.compare_digest(expected, request.GET.get("state", "")):
        messages.error(
            request, _("The sign-in with Facebook expired or was not started here. Try again.")
        )
        return redirect("channels:list")
    if "error" in request.GET or "code" not in request.GET:
        messages.error(request, _("Facebook did not grant access."))
        return redirect("channels:list")
    try:
        user_token = facebook.exchange_code(
            app.api_base or facebook.FacebookPage.default_api_base,
            app_id=app.app_id,
            app_secret=app.app_secret,
            code=request.GET["code"],
            redirect_uri=request.build_absolute_uri(reverse("channels:facebook_callback")),
        )
        pages = facebook.managed_pages(
            app.api_base or facebook.FacebookPage.default_api_base, user_token
        )
    except PlatformError as error:
        messages.error(request, _("Facebook refused: %(reason)s") % {"reason": error})
        return redirect("channels:list")
    # The Page tokens wait in the session, encrypted, until a page is chosen.
    request.session[OAUTH_PAGES_KEY] = crypto.encrypt(
        json.dumps([{"id": p.id, "name": p.name, "access_token": p.access_token} for p in pages])
    )
    return render(request, "channels/choose_page.html", {"pages": pages})


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
