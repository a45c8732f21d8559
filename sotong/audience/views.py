"""The audience page of a channel (table, chart, typing and importing figures, reading
the platform now, CSV download) and the endpoint KakaoTalk's friend callbacks reach.
Thin: forms parse, actions decide."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from sotong.audience import actions, chart, csvfiles, selectors
from sotong.audience.forms import FiguresForm, ImportForm
from sotong.audience.models import figure_label, figure_name
from sotong.channels.models import Channel, PlatformKind
from sotong.core.models import Staff
from sotong.core.roles import Capability as Permission
from sotong.web.decorators import staff_required
from sotong.web.forms import add_action_errors as _add_errors


def _staff(request: HttpRequest) -> Staff:
    staff: Staff = request.staff  # type: ignore[attr-defined]
    return staff


def _channel(request: HttpRequest, pk: int) -> Channel:
    return get_object_or_404(selectors.channels(_staff(request)), pk=pk)


def _page(
    request: HttpRequest,
    channel: Channel,
    *,
    figures_form: FiguresForm | None = None,
    import_form: ImportForm | None = None,
    import_errors: list[str] | None = None,
) -> HttpResponse:
    staff = _staff(request)
    today = actions.local_day(channel.organisation)
    days = selectors.days(channel, last=today)
    recorded = selectors.figures(channel, days[0], today)
    label = figure_label(channel.kind)
    shown = [recorded[day] for day in reversed(days) if day in recorded]
    kakao = channel.kind == PlatformKind.KAKAO
    callback_url = (
        request.build_absolute_uri(reverse("audience:kakao_friends", args=[channel.webhook_secret]))
        if kakao and staff.can(Permission.MANAGE_ORGANISATION)
        else ""
    )
    return render(
        request,
        "audience/channel.html",
        {
            "channel": channel,
            "figure": label,
            "figure_name": figure_name(channel.kind),
            "rows": shown,
            "latest": next((row for row in shown if row.followers is not None), None),
            "totals": {
                "gained": sum(row.gained or 0 for row in shown),
                "lost": sum(row.lost or 0 for row in shown),
            },
            "chart": chart.build(days, recorded),
            "shown_days": len(days),
            "can_record": actions.may_record(staff, channel),
            "can_collect": actions.may_collect(staff, channel) and actions.reads_followers(channel),
            "reads_followers": actions.reads_followers(channel),
            "kakao": kakao,
            "callback_url": callback_url,
            "has_admin_key": kakao and bool(channel.get_credentials().extra.get("admin_key")),
            "figures_form": figures_form
            or FiguresForm(initial={"day": today}, figure=label, prefix="type"),
            "import_form": import_form or ImportForm(prefix="import"),
            "import_errors": import_errors or [],
        },
    )


@staff_required()
def channel_audience(request: HttpRequest, pk: int) -> HttpResponse:
    return _page(request, _channel(request, pk))


@require_POST
@staff_required()
def record(request: HttpRequest, pk: int) -> HttpResponse:
    channel = _channel(request, pk)
    staff = _staff(request)
    if not actions.may_record(staff, channel):
        raise PermissionDenied
    form = FiguresForm(request.POST, figure=figure_label(channel.kind), prefix="type")
    if form.is_valid():
        data: dict[str, Any] = form.cleaned_data
        try:
            row = actions.record_figures(
                staff,
                channel,
                day=data["day"],
                followers=data["followers"],
                gained=data["gained"],
                lost=data["lost"],
                replace=data["replace"],
            )
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(
                request, _("Figures for %(day)s saved.") % {"day": row.day.isoformat()}
            )
            return redirect("audience:channel", pk=channel.pk)
    return _page(request, channel, figures_form=form)


@require_POST
@staff_required()
def import_file(request: HttpRequest, pk: int) -> HttpResponse:
    channel = _channel(request, pk)
    staff = _staff(request)
    if not actions.may_record(staff, channel):
        raise PermissionDenied
    form = ImportForm(request.POST, request.FILES, prefix="import")
    if form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            rows = actions.import_figures(
                staff,
                channel,
                upload.read(),
                filename=upload.name or "",
                replace=form.cleaned_data["replace"],
            )
        except ValidationError as error:
            return _page(request, channel, import_form=form, import_errors=error.messages)
        messages.success(
            request,
            _("Imported %(count)d days (%(first)s – %(last)s).")
            % {
                "count": len(rows),
                "first": rows[0].day.isoformat(),
                "last": rows[-1].day.isoformat(),
            },
        )
        return redirect("audience:channel", pk=channel.pk)
    return _page(request, channel, import_form=form)


@require_POST
@staff_required()
def collect(request: HttpRequest, pk: int) -> HttpResponse:
    """ "지금 기록": read the platform's figure for today now."""
    channel = _channel(request, pk)
    staff = _staff(request)
    if not actions.may_collect(staff, channel):
        raise PermissionDenied
    result = actions.collect_followers(channel, by=staff)
    if result.stored:
        messages.success(
            request,
            _("Recorded today's figure: %(count)s.") % {"count": f"{result.followers:,}"},
        )
    elif result.kept:
        messages.warning(
            request,
            _(
                "The platform says %(count)s, but today's figures were entered by staff and stay as they are."
            )
            % {"count": f"{result.followers:,}"},
        )
    else:
        messages.error(request, _("Not recorded: %(reason)s") % {"reason": result.error})
    return redirect("audience:channel", pk=channel.pk)


@staff_required()
def download(request: HttpRequest, pk: int) -> HttpResponse:
    """Every recorded day as CSV, in the columns the import reads."""
    channel = _channel(request, pk)
    rows = [
        (row.day, row.followers, row.gained, row.lost, str(row.get_source_display()))
        for row in selectors.history(channel)
    ]
    response = HttpResponse(
        csvfiles.write_figures(channel.kind, rows), content_type="text/csv; charset=utf-8"
    )
    today = actions.local_day(channel.organisation)
    response["Content-Disposition"] = (
        f'attachment; filename="audience-{channel.pk}-{today.isoformat()}.csv"'
    )
    return response


@csrf_exempt
def kakao_friends(request: HttpRequest, secret: str) -> HttpResponse:
    """Where Kakao delivers a channel's relationship callbacks (friend added or blocked).
    The secret in the address finds the KakaoTalk channel; the admin key checks the call."""
    channel = (
        Channel.objects.filter(kind=PlatformKind.KAKAO, webhook_secret=secret)
        .select_related("organisation")
        .first()
    )
    if channel is None:
        return HttpResponse(status=404)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    outcome = actions.receive_friend_callback(
        channel, authorization=request.headers.get("Authorization", ""), body=request.body
    )
    return HttpResponse(
        outcome.reason, status=outcome.status, content_type="text/plain; charset=utf-8"
    )
