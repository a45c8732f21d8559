"""Channel pages (settings) and the webhook endpoint platforms call."""

from __future__ import annotations

import json
import secrets

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from sotong.channels import actions, forms, intake, oauth
from sotong.channels.models import CAPABILITY_LABELS, Channel
from sotong.core import crypto
from sotong.core.models import Staff
from sotong.core.roles import Capability as Permission
from sotong.platforms.base import (
    Capability,
    Connector,
    Credentials,
    PlatformError,
    WebhookRequest,
    connector_class,
    connector_classes,
    pkce_challenge,
)
from sotong.web.decorators import staff_required


def _staff(request: HttpRequest) -> Staff:
    staff: Staff = request.staff  # type: ignore[attr-defined]
    return staff


@csrf_exempt
def webhook(request: HttpRequest, kind: str, secret: str) -> HttpResponse:
    """Where platforms deliver events. The secret in the URL finds the channel; the
    platform's own signature is then checked by its connector."""
    # A raw indexed lookup and a cached channel object: see intake.channel_for_webhook.
    found = intake.channel_for_webhook(kind, secret)
    if found is None:
        return HttpResponse(status=404)
    outcome = actions.receive_webhook(
        found.channel,
        WebhookRequest(
            method=request.method or "GET",
            headers={key.lower(): value for key, value in request.headers.items()},
            query={key: request.GET[key] for key in request.GET},
            body=request.body,
        ),
        touch=found.touch,
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
    from sotong.inbox import event_api  # the inbox builds on channels, not the other way

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
            # KakaoTalk: staff replies sent through the paid Event API this month.
            "event_api_usage": event_api.monthly_usage(channel)
            if channel.kind == "kakao"
            else None,
            "intake": _intake(channel),
            "pollable": bool(channel.capabilities & actions.POLLABLE),
            "webhooks": Capability.WEBHOOKS in channel.capabilities,
            # Meta asks for it when the address is entered in the app dashboard.
            "verify_token": channel.get_credentials().extra.get("verify_token", "")
            if staff.can(Permission.MANAGE_ORGANISATION)
            else "",
            "can_edit": staff.can(Permission.MANAGE_ORGANISATION),
        },
    )


def _intake(channel: Channel) -> str:
    """How what citizens say on this channel reaches Sotong, in words."""
    pushed = Capability.WEBHOOKS in channel.capabilities
    polled = bool(channel.capabilities & actions.POLLABLE)
    minutes = int(actions.poll_interval(channel).total_seconds() // 60)
    if pushed and not actions.webhook_working(channel):
        if polled:
            return _(
                "No webhook delivery yet: collected every %(minutes)d minutes until one arrives"
            ) % {"minutes": minutes}
        return _("No webhook delivery yet")
    if pushed and polled:
        return _("Instantly by webhook, and collected every %(minutes)d minutes as a check") % {
            "minutes": minutes
        }
    if pushed:
        return _("Instantly by webhook")
    if polled:
        return _("Collected every %(minutes)d minutes") % {"minutes": minutes}
    return _("Not read by Sotong")


def _register_webhook(request: HttpRequest, channel: Channel) -> None:
    """After connecting: have the platform send events here, or say where to set it."""
    if Capability.WEBHOOKS not in channel.capabilities:
        return
    url = request.build_absolute_uri(
        reverse("channels:webhook", args=[channel.kind, channel.webhook_secret])
    )
    result = actions.register_webhook(_staff(request), channel, url)
    if result.ok:
        messages.success(request, _("The platform will send events to Sotong."))
    else:
        messages.warning(
            request,
            _("Set the webhook address shown below in the platform's settings (%(reason)s).")
            % {"reason": result.message},
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
            _register_webhook(request, channel)
            return redirect("channels:detail", pk=channel.pk)
    return render(
        request,
        "channels/connect.html",
        {
            "form": form,
            "platform_label": form.platform.label,
            "oauth_url": reverse("channels:oauth_start", args=[kind])
            if form.platform.oauth_login
            else None,
        },
    )


def _oauth_keys(kind: str) -> tuple[str, str]:
    return f"sotong.channels.oauth.{kind}", f"sotong.channels.oauth.{kind}.accounts"


def _oauth_setup(request: HttpRequest, kind: str) -> oauth.OAuthSetup:
    redirect_uri = request.build_absolute_uri(reverse("channels:oauth_callback", args=[kind]))
    return oauth.oauth_setup(kind, redirect_uri)


def _oauth_platform(kind: str) -> type[Connector]:
    try:
        platform = connector_class(kind)
    except KeyError as exc:
        raise Http404 from exc
    if not platform.oauth_login:
        raise Http404
    return platform


@staff_required(Permission.MANAGE_ORGANISATION)
def oauth_start(request: HttpRequest, kind: str) -> HttpResponse:
    """Send the administrator to the platform's sign-in; they come back to the callback."""
    _oauth_platform(kind)
    try:
        setup = _oauth_setup(request, kind)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("channels:connect", kind=kind)
    state = secrets.token_urlsafe(24)
    verifier = secrets.token_urlsafe(48)
    state_key, _accounts_key = _oauth_keys(kind)
    request.session[state_key] = {"state": state, "verifier": crypto.encrypt(verifier)}
    connector = setup.connector(kind)
    try:
        url = connector.oauth_authorize_url(
            setup.app, state=state, code_challenge=pkce_challenge(verifier)
        )
    finally:
        connector.close()
    return redirect(url)


@staff_required(Permission.MANAGE_ORGANISATION)
def oauth_callback(request: HttpRequest, kind: str) -> HttpResponse:
    """The platform sent the administrator back: swap the code for the accounts they may
    connect, let them pick one, connect it."""
    platform = _oauth_platform(kind)
    staff = _staff(request)
    state_key, accounts_key = _oauth_keys(kind)
    try:
        setup = _oauth_setup(request, kind)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("channels:list")
    if request.method == "POST":
        stored = json.loads(crypto.decrypt(request.session.get(accounts_key, crypto.encrypt("[]"))))
        chosen = next((a for a in stored if a["account_id"] == request.POST.get("account")), None)
        if chosen is None:
            messages.error(request, _("Choose one of the accounts."))
            return redirect("channels:list")
        try:
            channel = actions.connect_channel(
                staff,
                staff.organisation,
                kind=kind,
                name=request.POST.get("name") or chosen["name"],
                account_id=chosen["account_id"],
                api_base=setup.api_base,
                credentials=Credentials.from_json(chosen["credentials"]),
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect("channels:list")
        request.session.pop(accounts_key, None)
        messages.success(request, _("%(name)s is connected.") % {"name": channel.name})
        _register_webhook(request, channel)
        return redirect("channels:detail", pk=channel.pk)
    started = request.session.pop(state_key, None) or {}
    if not started.get("state") or not secrets.compare_digest(
        started["state"], request.GET.get("state", "")
    ):
        messages.error(
            request,
            _("The sign-in with %(platform)s expired or was not started here. Try again.")
            % {"platform": platform.label},
        )
        return redirect("channels:list")
    if "error" in request.GET or "code" not in request.GET:
        messages.error(
            request, _("%(platform)s did not grant access.") % {"platform": platform.label}
        )
        return redirect("channels:list")
    connector = setup.connector(kind)
    try:
        accounts = connector.oauth_accounts(
            setup.app,
            code=request.GET["code"],
            code_verifier=crypto.decrypt(started["verifier"]),
        )
    except PlatformError as error:
        messages.error(
            request,
            _("%(platform)s refused: %(reason)s") % {"platform": platform.label, "reason": error},
        )
        return redirect("channels:list")
    finally:
        connector.close()
    # The accounts' tokens wait in the session, encrypted, until one is chosen.
    request.session[accounts_key] = crypto.encrypt(
        json.dumps(
            [
                {"account_id": a.account_id, "name": a.name, "credentials": a.credentials.to_json()}
                for a in accounts
            ]
        )
    )
    return render(
        request,
        "channels/choose_account.html",
        {"accounts": accounts, "platform_label": platform.label},
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
        elif action == "poll":
            polled = actions.poll_channel(channel, now_asked=True)
            if polled.error:
                messages.error(
                    request, _("Collecting failed: %(reason)s") % {"reason": polled.error}
                )
            else:
                messages.success(
                    request,
                    _("Collected %(count)d new comments and messages.")
                    % {"count": polled.new_events},
                )
        elif action == "pause":
            actions.pause_channel(staff, channel)
            messages.success(request, _("Paused."))
        elif action == "resume":
            actions.resume_channel(staff, channel)
            messages.success(request, _("Resumed."))
        elif action == "webhook":
            _register_webhook(request, channel)
        elif action == "rotate":
            actions.rotate_webhook_secret(staff, channel)
            messages.success(request, _("A new webhook address was made; give it to the platform."))
        else:
            raise PermissionDenied
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect("channels:detail", pk=channel.pk)
