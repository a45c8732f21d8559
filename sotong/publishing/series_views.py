"""Series pages: the list, creating and changing a series, its queue, its data feed, its
upcoming occurrences and its history. Thin: the forms parse, ``series`` acts."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from sotong.channels.models import Channel, PlatformKind
from sotong.core import selectors
from sotong.core.models import Department, Staff
from sotong.core.roles import Capability as Permission
from sotong.publishing import adapt, feeds
from sotong.publishing import series as actions
from sotong.publishing.models import (
    FeedFormat,
    OccurrenceState,
    Series,
    SeriesItem,
    SeriesKind,
)
from sotong.web.decorators import staff_required
from sotong.web.forms import NoColon

MAX_FEED_UPLOAD = feeds.MAX_FEED_BYTES


def _staff(request: HttpRequest) -> Staff:
    staff: Staff = request.staff  # type: ignore[attr-defined]
    return staff


def _series_for(staff: Staff) -> Any:
    return Series.objects.for_staff(staff).select_related("department", "organisation")


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


class SeriesForm(NoColon, forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100)
    department: forms.ModelChoiceField[Department] = forms.ModelChoiceField(
        label=gettext_lazy("Department"), queryset=Department.objects.none()
    )
    channels: forms.ModelMultipleChoiceField[Channel] = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Channels"),
        queryset=Channel.objects.none(),
        widget=forms.CheckboxSelectMultiple,
    )
    rule = forms.CharField(
        label=gettext_lazy("Recurrence rule (RFC 5545 RRULE)"),
        max_length=500,
        help_text=gettext_lazy(
            "Every Monday 09:00: FREQ=WEEKLY;BYDAY=MO;BYHOUR=9;BYMINUTE=0 · every day 07:00: "
            "FREQ=DAILY;BYHOUR=7;BYMINUTE=0 · first weekday of the month: "
            "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=1;BYHOUR=10"
        ),
    )
    starts_at = forms.DateTimeField(
        label=gettext_lazy("Starts"),
        widget=DateTimeLocalInput(),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        help_text=gettext_lazy("Korean time. Times the rule does not set are taken from here."),
    )
    skip_holidays = forms.BooleanField(
        label=gettext_lazy("Skip public holidays and the office's closed days"), required=False
    )
    pre_approved = forms.BooleanField(
        label=gettext_lazy("Pre-approve every occurrence (you are named as the approver)"),
        required=False,
        help_text=gettext_lazy("Without it, each occurrence's post waits for approval."),
    )
    lead_hours = forms.IntegerField(
        label=gettext_lazy("Prepare posts this many hours ahead"),
        min_value=1,
        max_value=168,
        help_text=gettext_lazy("The post appears for review and in the calendar this early."),
    )
    active = forms.BooleanField(label=gettext_lazy("Active"), required=False)
    # Data feed series only.
    feed_url = forms.URLField(
        label=gettext_lazy("Feed address"),
        required=False,
        max_length=500,
        help_text=gettext_lazy("Leave empty to upload files by hand."),
    )
    feed_format = forms.ChoiceField(
        label=gettext_lazy("Format at the address"), choices=FeedFormat.choices
    )
    poll_minutes = forms.IntegerField(
        label=gettext_lazy("Fetch every (minutes)"), min_value=5, max_value=1440
    )
    date_column = forms.CharField(
        label=gettext_lazy("Date column"),
        max_length=50,
        help_text=gettext_lazy("The column holding each row's day, e.g. date."),
    )
    title_template = forms.CharField(label=gettext_lazy("Title template"), max_length=300)
    body_template = forms.CharField(
        label=gettext_lazy("Body template"),
        widget=forms.Textarea(attrs={"rows": 10}),
        help_text=gettext_lazy(
            "Django template: {{ date_label }}, {{ count }}, and {% for row in rows %} with "
            "{{ row.column }} for each of that day's rows."
        ),
    )
    hashtags = forms.CharField(
        label=gettext_lazy("Hashtags"),
        required=False,
        max_length=300,
        help_text=gettext_lazy("Separated by spaces, e.g. #순천 #공사안내"),
    )

    FEED_FIELDS = (
        "feed_url",
        "feed_format",
        "poll_minutes",
        "date_column",
        "title_template",
        "body_template",
        "hashtags",
    )

    def __init__(self, *args: Any, staff: Staff, kind: str, creating: bool, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.kind = kind
        self.fields["department"].queryset = selectors.departments(staff)  # type: ignore[attr-defined]
        self.fields["channels"].queryset = Channel.objects.for_staff(staff).filter(  # type: ignore[attr-defined]
            kind__in=[value for value in PlatformKind.values if adapt.can_publish_to(value)]
        )
        if kind != SeriesKind.FEED:
            for name in self.FEED_FIELDS:
                del self.fields[name]
        if creating:
            del self.fields["active"]
        if not staff.can(Permission.APPROVE_POSTS):
            self.fields["pre_approved"].disabled = True
            self.fields["pre_approved"].help_text = _(
                "Only someone who approves posts can pre-approve a series."
            )

    def settings(self) -> actions.SeriesSettings:
        data = self.cleaned_data
        feed = self.kind == SeriesKind.FEED
        return actions.SeriesSettings(
            name=data["name"],
            department=data["department"],
            channels=list(data["channels"]),
            rule=data["rule"],
            starts_at=data["starts_at"],
            skip_holidays=data["skip_holidays"],
            pre_approved=data["pre_approved"],
            lead_time=dt.timedelta(hours=data["lead_hours"]),
            active=data.get("active", True),
            hashtags=adapt.parse_hashtags(data["hashtags"]) if feed else (),
            title_template=data["title_template"] if feed else "",
            body_template=data["body_template"] if feed else "",
            date_column=data["date_column"] if feed else "date",
            feed_url=data["feed_url"] if feed else "",
            feed_format=data["feed_format"] if feed else FeedFormat.CSV,
            feed_poll_interval=dt.timedelta(minutes=data["poll_minutes"] if feed else 60),
        )


def _initial(series: Series) -> dict[str, Any]:
    return {
        "name": series.name,
        "department": series.department_id,
        "channels": list(series.channels.values_list("pk", flat=True)),
        "rule": series.rule,
        "starts_at": series.starts_at.astimezone(ZoneInfo(series.organisation.time_zone)),
        "skip_holidays": series.skip_holidays,
        "pre_approved": series.pre_approved,
        "lead_hours": max(1, int(series.lead_time.total_seconds() // 3600)),
        "active": series.active,
        "feed_url": series.feed_url,
        "feed_format": series.feed_format,
        "poll_minutes": int(series.feed_poll_interval.total_seconds() // 60),
        "date_column": series.date_column,
        "title_template": series.title_template,
        "body_template": series.body_template,
        "hashtags": " ".join(f"#{tag}" for tag in series.hashtags),
    }


class ItemForm(NoColon, forms.Form):
    title = forms.CharField(label=gettext_lazy("Title"), max_length=200)
    body = forms.CharField(label=gettext_lazy("Body"), widget=forms.Textarea(attrs={"rows": 5}))
    link = forms.URLField(label=gettext_lazy("Link"), required=False)
    hashtags = forms.CharField(
        label=gettext_lazy("Hashtags"),
        required=False,
        max_length=300,
        help_text=gettext_lazy("Separated by spaces, e.g. #순천 #꿀팁"),
    )


class FeedUploadForm(NoColon, forms.Form):
    file = forms.FileField(
        label=gettext_lazy("CSV or JSON file"),
        help_text=gettext_lazy("UTF-8 or EUC-KR; the first row names the columns."),
    )


def _add_errors(form: forms.Form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for name, problems in error.message_dict.items():
            target = name if name in form.fields else None
            if name == "lead_time":
                target = "lead_hours"
            elif name == "feed_poll_interval" and "poll_minutes" in form.fields:
                target = "poll_minutes"
            for problem in problems:
                form.add_error(target, problem)
    else:
        for problem in error.messages:
            form.add_error(None, problem)


# -- pages --------------------------------------------------------------------------------


@staff_required()
def series_list(request: HttpRequest) -> HttpResponse:
    staff = _staff(request)
    now = timezone.now()
    series = _series_for(staff).annotate(
        waiting_items=Count("items", filter=Q(items__used_at__isnull=True), distinct=True),
        warnings=Count(
            "occurrences",
            filter=Q(
                occurrences__state=OccurrenceState.WAITING,
                occurrences__warned_at__isnull=False,
                occurrences__at__gt=now,
            ),
            distinct=True,
        ),
    )
    rows = []
    for entry in series:
        upcoming = actions.upcoming(entry, now, count=1) if entry.active else []
        following = next((u for u in upcoming if not u.holiday), None)
        rows.append((entry, following.at if following else None))
    return render(
        request,
        "publishing/series/list.html",
        {"rows": rows, "can_draft": staff.can(Permission.DRAFT_POSTS)},
    )


def _form_page(
    request: HttpRequest, form: SeriesForm, series: Series | None, kind: str
) -> HttpResponse:
    return render(
        request,
        "publishing/series/form.html",
        {"form": form, "series": series, "kind": kind, "feed": kind == SeriesKind.FEED},
    )


@staff_required(Permission.DRAFT_POSTS)
def series_create(request: HttpRequest) -> HttpResponse:
    staff = _staff(request)
    kind = request.POST.get("kind") or request.GET.get("kind") or SeriesKind.QUEUE
    if kind not in SeriesKind.values:
        kind = SeriesKind.QUEUE
    feed = kind == SeriesKind.FEED
    initial: dict[str, Any] = {
        "rule": "FREQ=DAILY;BYHOUR=7;BYMINUTE=0"
        if feed
        else "FREQ=WEEKLY;BYDAY=MO;BYHOUR=9;BYMINUTE=0",
        "starts_at": timezone.localtime().replace(second=0, microsecond=0),
        "skip_holidays": not feed,
        "lead_hours": 1 if feed else 24,
        "department": staff.department_id,
        "feed_format": FeedFormat.CSV,
        "poll_minutes": 60,
        "date_column": "date",
        "title_template": feeds.DEFAULT_TITLE_TEMPLATE,
        "body_template": feeds.DEFAULT_BODY_TEMPLATE,
        "hashtags": "#순천 #공사안내" if feed else "",
    }
    form = SeriesForm(request.POST or None, initial=initial, staff=staff, kind=kind, creating=True)
    if request.method == "POST" and form.is_valid():
        try:
            series = actions.create_series(
                staff, staff.organisation, kind=kind, values=form.settings()
            )
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, _("The series %(name)s is saved.") % {"name": series.name})
            return redirect("series:detail", pk=series.pk)
    return _form_page(request, form, None, kind)


@staff_required(Permission.DRAFT_POSTS)
def series_edit(request: HttpRequest, pk: int) -> HttpResponse:
    staff = _staff(request)
    series = get_object_or_404(_series_for(staff), pk=pk)
    form = SeriesForm(
        request.POST or None,
        initial=_initial(series),
        staff=staff,
        kind=series.kind,
        creating=False,
    )
    if request.method == "POST" and form.is_valid():
        try:
            actions.update_series(staff, series, values=form.settings())
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, _("The series %(name)s is saved.") % {"name": series.name})
            return redirect("series:detail", pk=series.pk)
    return _form_page(request, form, series, series.kind)


@staff_required(Permission.DRAFT_POSTS)
def rule_preview(request: HttpRequest) -> HttpResponse:
    """The next five occurrences of the rule being typed (HTMX fragment)."""
    zone = ZoneInfo(_staff(request).organisation.time_zone)
    field = forms.DateTimeField(input_formats=["%Y-%m-%dT%H:%M"])
    error = ""
    occurrences: list[dt.datetime] = []
    try:
        starts_at = field.clean(request.GET.get("starts_at") or None)
        occurrences = actions.next_occurrences(
            request.GET.get("rule", ""), starts_at, zone, max(starts_at, timezone.now()), 5
        )
    except ValidationError as problem:
        error = " ".join(problem.messages)
    return render(
        request,
        "publishing/series/_rule_preview.html",
        {"occurrences": occurrences, "error": error},
    )


@staff_required()
def series_detail(request: HttpRequest, pk: int) -> HttpResponse:
    staff = _staff(request)
    series = get_object_or_404(_series_for(staff), pk=pk)
    now = timezone.now()
    context: dict[str, Any] = {
        "series": series,
        "channels": series.channels.all(),
        "can_edit": staff.can(Permission.DRAFT_POSTS),
        "warnings": actions.warnings(series, now),
        "history": series.occurrences.exclude(state=OccurrenceState.WAITING)
        .filter(at__lte=now + series.lead_time)
        .select_related("post")[:50],
        "item_form": ItemForm(),
        "lead_hours": max(1, round(series.lead_time.total_seconds() / 3600)),
        "poll_minutes": int(series.feed_poll_interval.total_seconds() // 60),
    }
    try:
        context["upcoming"] = actions.upcoming(series, now) if series.active else []
    except ValidationError as error:
        context["upcoming"] = []
        context["rule_error"] = " ".join(error.messages)
    if series.kind == SeriesKind.QUEUE:
        context["queue"] = actions.queue(series)
        context["used"] = series.items.filter(used_at__isnull=False).select_related("post")
    else:
        latest = actions.latest_feed(series)
        context.update(
            latest=latest,
            last_good=actions.last_good_feed(series) if latest and latest.error else None,
            preview=actions.feed_preview(series),
            upload_form=FeedUploadForm(),
        )
    return render(request, "publishing/series/detail.html", context)


def _mutate(request: HttpRequest, pk: int, operation: Any) -> HttpResponse:
    try:
        operation()
    except ValidationError as error:
        for problem in error.messages:
            messages.error(request, problem)
    except PermissionDenied:
        messages.error(request, _("You cannot change this series."))
    return redirect("series:detail", pk=pk)


@require_POST
@staff_required(Permission.DRAFT_POSTS)
def item_add(request: HttpRequest, pk: int) -> HttpResponse:
    staff = _staff(request)
    series = get_object_or_404(_series_for(staff), pk=pk)
    form = ItemForm(request.POST)
    if not form.is_valid():
        for field, problems in form.errors.items():
            label = form.fields[field].label if field in form.fields else ""
            for problem in problems:
                messages.error(request, f"{label}: {problem}" if label else str(problem))
        return redirect("series:detail", pk=pk)

    def add() -> None:
        item = actions.add_item(staff, series, **form.cleaned_data)
        messages.success(request, _("%(title)s is in the queue.") % {"title": item.title})

    return _mutate(request, pk, add)


def _item(request: HttpRequest, pk: int, item_pk: int) -> SeriesItem:
    staff = _staff(request)
    return get_object_or_404(
        SeriesItem.objects.for_staff(staff).select_related("series"), pk=item_pk, series_id=pk
    )


@require_POST
@staff_required(Permission.DRAFT_POSTS)
def item_move(request: HttpRequest, pk: int, item_pk: int, direction: str) -> HttpResponse:
    item = _item(request, pk, item_pk)
    return _mutate(request, pk, lambda: actions.move_item(_staff(request), item, direction))


@require_POST
@staff_required(Permission.DRAFT_POSTS)
def item_remove(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    item = _item(request, pk, item_pk)

    def remove() -> None:
        actions.remove_item(_staff(request), item)
        messages.success(request, _("%(title)s is removed from the queue.") % {"title": item.title})

    return _mutate(request, pk, remove)


def _report_version(request: HttpRequest, version: Any) -> None:
    if version.error:
        messages.error(
            request, _("The feed could not be read: %(error)s") % {"error": version.error}
        )
    else:
        messages.success(
            request, _("The feed was read: %(count)d rows.") % {"count": len(version.rows)}
        )


@require_POST
@staff_required(Permission.DRAFT_POSTS)
def feed_upload(request: HttpRequest, pk: int) -> HttpResponse:
    staff = _staff(request)
    series = get_object_or_404(_series_for(staff), pk=pk)
    form = FeedUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _("Choose a CSV or JSON file."))
        return redirect("series:detail", pk=pk)
    upload = form.cleaned_data["file"]
    if upload.size > MAX_FEED_UPLOAD:
        messages.error(
            request,
            _("The feed is larger than %(size)d MB.") % {"size": MAX_FEED_UPLOAD // 1024 // 1024},
        )
        return redirect("series:detail", pk=pk)

    def upload_it() -> None:
        version = actions.upload_feed(staff, series, name=upload.name, content=upload.read())
        _report_version(request, version)

    return _mutate(request, pk, upload_it)


@require_POST
@staff_required(Permission.DRAFT_POSTS)
def feed_fetch(request: HttpRequest, pk: int) -> HttpResponse:
    staff = _staff(request)
    series = get_object_or_404(_series_for(staff), pk=pk)
    return _mutate(
        request, pk, lambda: _report_version(request, actions.fetch_feed(series, by=staff))
    )
