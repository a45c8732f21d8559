"""The content calendar: every publication of the organisation on its day (month and week
views), filters, rescheduling, and an iCalendar (RFC 5545) feed for calendar apps.

Days are the organisation's days (Asia/Seoul for Korean cities), not UTC days: a post due
at 23:30 on the last of the month belongs to that month even though it is 14:30 UTC.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, cast
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django import forms
from django.contrib import messages
from django.core import signing
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.dates import WEEKDAYS, WEEKDAYS_ABBR
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from icalendar import Calendar, Event

from sotong.channels.models import Channel
from sotong.core import selectors as core_selectors
from sotong.core.calendar import calendar_for
from sotong.core.models import Department, Organisation, Staff
from sotong.core.roles import DEPARTMENT_ROLES
from sotong.core.roles import Capability as Permission
from sotong.publishing import actions
from sotong.publishing.models import Campaign, Publication, PublicationState
from sotong.web.decorators import staff_required

# The feed URL is the only credential a calendar app has; the salt keeps a signature made
# for anything else in Sotong from passing as a feed token.
FEED_SALT = "sotong.publishing.calendar.feed"
# How far back the feed reaches; calendar apps keep what they fetched before.
FEED_HISTORY = dt.timedelta(days=183)

# The look of each state: a CSS class (colour) and a symbol, always beside the label in
# words, so colour is never the only cue.
STATE_LOOK: dict[str, tuple[str, str]] = {
    PublicationState.SCHEDULED: ("scheduled", "◷"),
    PublicationState.PUBLISHING: ("publishing", "…"),
    PublicationState.PUBLISHED: ("published", "✓"),
    PublicationState.UNCONFIRMED: ("unconfirmed", "?"),
    PublicationState.FAILED: ("failed", "✗"),
    PublicationState.HELD: ("held", "‖"),
    PublicationState.BY_HAND: ("by-hand", "✎"),
    PublicationState.CANCELLED: ("cancelled", "–"),
    # It went out and was taken back: kept in the calendar where it went out.
    PublicationState.WITHDRAWN: ("withdrawn", "⊘"),
}

# RFC 5545 allows only these three for a VEVENT.
ICAL_STATUS: dict[str, str] = {
    PublicationState.PUBLISHED: "CONFIRMED",
    PublicationState.SCHEDULED: "CONFIRMED",
    PublicationState.PUBLISHING: "CONFIRMED",
    PublicationState.BY_HAND: "CONFIRMED",
    PublicationState.CANCELLED: "CANCELLED",
    PublicationState.WITHDRAWN: "CANCELLED",
}

MONTH_PARAM = re.compile(r"^(\d{4})-(\d{2})$")
WEEK_PARAM = re.compile(r"^(\d{4})-W(\d{2})$")
# Navigation stays within years a calendar can sensibly show (and date arithmetic allows).
FIRST_YEAR, LAST_YEAR = 2000, 2100

FILTER_FIELDS = ("department", "channel", "campaign", "cancelled")


def _staff(request: HttpRequest) -> Staff:
    staff: Staff = request.staff  # type: ignore[attr-defined]
    return staff


def _zone(organisation: Organisation) -> ZoneInfo:
    return ZoneInfo(organisation.time_zone)


def _start_of(day: dt.date, zone: ZoneInfo) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, zone)


# -- filters ------------------------------------------------------------------------------


class CalendarFilter(forms.Form):
    """Which publications the calendar (and the feed) shows."""

    department = forms.ModelChoiceField(
        label=gettext_lazy("Department"),
        queryset=Department.objects.none(),
        required=False,
        empty_label=gettext_lazy("All departments"),
    )
    channel = forms.ModelChoiceField(
        label=gettext_lazy("Channel"),
        queryset=Channel.objects.none(),
        required=False,
        empty_label=gettext_lazy("All channels"),
    )
    campaign = forms.ModelChoiceField(
        label=gettext_lazy("Campaign"),
        queryset=Campaign.objects.none(),
        required=False,
        empty_label=gettext_lazy("All campaigns"),
    )
    cancelled = forms.BooleanField(label=gettext_lazy("Show cancelled"), required=False)

    def __init__(self, data: Any, *, staff: Staff) -> None:
        # Only the filter's own keys: month/week travel separately.
        super().__init__(
            {key: data[key] for key in FILTER_FIELDS if data.get(key)}, label_suffix=""
        )
        # Choices scoped to what this staff member may see.
        choices = {
            "department": core_selectors.departments(staff).order_by("name"),
            "channel": _channel_choices(staff),
            "campaign": Campaign.objects.for_staff(staff).order_by("name"),
        }
        for name, queryset in choices.items():
            cast("forms.ModelChoiceField[Any]", self.fields[name]).queryset = queryset

    def chosen(self) -> dict[str, Any]:
        """The filters that were given and are valid; a bad one is reported and ignored."""
        if not self.is_bound:
            return {}
        self.is_valid()
        return {
            name: value
            for name, value in getattr(self, "cleaned_data", {}).items()
            if value and name not in self.errors
        }

    def apply(self, queryset: QuerySet[Publication]) -> QuerySet[Publication]:
        chosen = self.chosen()
        if "department" in chosen:
            queryset = queryset.filter(variant__post__department=chosen["department"])
        if "channel" in chosen:
            queryset = queryset.filter(channel=chosen["channel"])
        if "campaign" in chosen:
            queryset = queryset.filter(variant__post__campaign=chosen["campaign"])
        if not chosen.get("cancelled"):
            queryset = queryset.exclude(state=PublicationState.CANCELLED)
        return queryset

    def query(self) -> str:
        """The valid filters as a query string, to keep them across navigation."""
        pairs = []
        for name, value in self.chosen().items():
            pairs.append((name, "1" if value is True else str(value.pk)))
        return urlencode(pairs)


def _channel_choices(staff: Staff) -> QuerySet[Channel]:
    """The organisation's channels; for department staff, the city-wide ones and their own
    department's (the ones their posts can go to)."""
    channels = Channel.objects.for_organisation(staff.organisation_id)
    if staff.role in DEPARTMENT_ROLES:
        channels = channels.filter(
            Q(department__isnull=True) | Q(department__in=staff.department_scope_ids())
        )
    return channels.order_by("name")


# -- entries ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One publication as the calendar shows it."""

    publication: Publication
    at: dt.datetime  # local time in the organisation's zone
    post_url: str | None
    can_reschedule: bool

    @property
    def look(self) -> str:
        return STATE_LOOK[self.publication.state][0]

    @property
    def symbol(self) -> str:
        return STATE_LOOK[self.publication.state][1]

    @property
    def reschedule_value(self) -> str:
        """The current time as a datetime-local input shows it."""
        return self.publication.due_at.astimezone(self.at.tzinfo).strftime("%Y-%m-%dT%H:%M")


def _moment(publication: Publication) -> dt.datetime:
    """When the publication sits in the calendar: when it went out, or when it is due."""
    if (
        publication.state in (PublicationState.PUBLISHED, PublicationState.WITHDRAWN)
        and publication.published_at
    ):
        return publication.published_at
    return publication.due_at


def _visible(staff: Staff, filters: CalendarFilter) -> QuerySet[Publication]:
    return filters.apply(
        Publication.objects.for_staff(staff).select_related(
            "channel", "variant__post__department", "variant__post__campaign"
        )
    )


def _post_url(post_pk: int) -> str | None:
    # The post's page belongs to the compose pages; until those are installed the title
    # is shown without a link rather than breaking the calendar.
    try:
        return reverse("publishing:post", args=[post_pk])
    except NoReverseMatch:
        return None


def entries_between(
    staff: Staff, start: dt.date, end: dt.date, filters: CalendarFilter
) -> dict[dt.date, list[Entry]]:
    """The visible publications from ``start`` up to, not including, ``end`` (days in the
    organisation's zone), by day, in time order."""
    zone = _zone(staff.organisation)
    since, until = _start_of(start, zone), _start_of(end, zone)
    queryset = _visible(staff, filters).filter(
        Q(due_at__gte=since, due_at__lt=until) | Q(published_at__gte=since, published_at__lt=until)
    )
    can_publish = staff.can(Permission.PUBLISH)
    days: dict[dt.date, list[Entry]] = defaultdict(list)
    for publication in queryset:
        moment = _moment(publication)
        if not since <= moment < until:
            continue  # due in the range, but went out outside it (or the other way)
        local = moment.astimezone(zone)
        days[local.date()].append(
            Entry(
                publication=publication,
                at=local,
                post_url=_post_url(publication.variant.post_id),
                can_reschedule=can_publish and publication.state in actions.OPEN_STATES,
            )
        )
    for entries in days.values():
        entries.sort(key=lambda entry: (entry.at, entry.publication.pk))
    return days


# -- the month and week pages -------------------------------------------------------------


@dataclass
class Day:
    date: dt.date
    entries: list[Entry] = field(default_factory=list)
    holiday: str | None = None
    is_today: bool = False
    in_period: bool = True

    @property
    def weekday_name(self) -> str:
        return str(WEEKDAYS[self.date.weekday()])

    @property
    def weekend_class(self) -> str:
        return {5: "saturday", 6: "sunday"}.get(self.date.weekday(), "")


def _today(staff: Staff) -> dt.date:
    return timezone.now().astimezone(_zone(staff.organisation)).date()


def _parse_month(value: str) -> dt.date | None:
    match = MONTH_PARAM.match(value)
    if match is None:
        return None
    year, month = int(match[1]), int(match[2])
    if not (FIRST_YEAR <= year <= LAST_YEAR and 1 <= month <= 12):
        return None
    return dt.date(year, month, 1)


def _parse_week(value: str) -> dt.date | None:
    match = WEEK_PARAM.match(value)
    if match is None:
        return None
    year, week = int(match[1]), int(match[2])
    if not FIRST_YEAR <= year <= LAST_YEAR:
        return None
    try:
        return dt.date.fromisocalendar(year, week, 1)
    except ValueError:  # week 0, or 53 in a year that has 52
        return None


def _month_param(day: dt.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def _week_param(day: dt.date) -> str:
    year, week, _weekday = day.isocalendar()
    return f"{year:04d}-W{week:02d}"


def _add_months(first: dt.date, count: int) -> dt.date:
    index = first.year * 12 + first.month - 1 + count
    return dt.date(index // 12, index % 12 + 1, 1)


def _link(url_name: str, param: str, value: str, query: str) -> str:
    return f"{reverse(url_name)}?{param}={value}" + (f"&{query}" if query else "")


def _in_range(day: dt.date) -> bool:
    return FIRST_YEAR <= day.year <= LAST_YEAR


def _days(
    staff: Staff, start: dt.date, end: dt.date, filters: CalendarFilter, period: Iterable[dt.date]
) -> list[Day]:
    """Every day from ``start`` to ``end`` (exclusive); only days in ``period`` get entries
    (a month grid's leading and trailing days belong to the neighbouring months)."""
    shown = set(period)
    entries = entries_between(staff, min(shown), max(shown) + dt.timedelta(days=1), filters)
    holidays = dict(calendar_for(staff.organisation).holidays_between(start, end))
    today = _today(staff)
    result = []
    day = start
    while day < end:
        result.append(
            Day(
                date=day,
                entries=entries.get(day, []) if day in shown else [],
                holiday=holidays.get(day),
                is_today=day == today,
                in_period=day in shown,
            )
        )
        day += dt.timedelta(days=1)
    return result


def _common(request: HttpRequest, staff: Staff, filters: CalendarFilter) -> dict[str, Any]:
    return {
        "filters": filters,
        "filter_query": filters.query(),
        "weekdays": [(WEEKDAYS[n], WEEKDAYS_ABBR[n]) for n in range(7)],
        "can_publish": staff.can(Permission.PUBLISH),
        "here": request.get_full_path(),
        "legend": [
            (STATE_LOOK[state][0], STATE_LOOK[state][1], state.label)
            for state in PublicationState
            if state != PublicationState.PUBLISHING
        ],
    }


@staff_required()
def month(request: HttpRequest) -> HttpResponse:
    staff = _staff(request)
    filters = CalendarFilter(request.GET, staff=staff)
    today = _today(staff)
    first = _parse_month(request.GET.get("month", ""))
    if first is None:
        if request.GET.get("month"):
            messages.error(request, _("That month could not be read; this month is shown."))
        first = today.replace(day=1)
    following = _add_months(first, 1)
    # Weeks run Monday to Sunday, as ISO weeks (and the week view) do.
    grid_start = first - dt.timedelta(days=first.weekday())
    grid_end = following + dt.timedelta(days=(7 - following.weekday()) % 7)
    period = [first + dt.timedelta(days=n) for n in range((following - first).days)]
    days = _days(staff, grid_start, grid_end, filters, period)
    weeks = [days[n : n + 7] for n in range(0, len(days), 7)]
    query = filters.query()
    previous = _add_months(first, -1)
    context = {
        **_common(request, staff, filters),
        "first": first,
        "weeks": [
            (_link("calendar:week", "week", _week_param(week[0].date), query), week)
            for week in weeks
        ],
        "count": sum(len(day.entries) for day in days),
        "previous_url": _link("calendar:month", "month", _month_param(previous), query)
        if _in_range(previous)
        else None,
        "next_url": _link("calendar:month", "month", _month_param(following), query)
        if _in_range(following)
        else None,
        "current_url": _link("calendar:month", "month", _month_param(today), query),
        "week_url": _link(
            "calendar:week",
            "week",
            _week_param(today if today.replace(day=1) == first else first),
            query,
        ),
        "month_param": _month_param(first),
    }
    return render(request, "publishing/calendar/month.html", context)


@staff_required()
def week(request: HttpRequest) -> HttpResponse:
    staff = _staff(request)
    filters = CalendarFilter(request.GET, staff=staff)
    today = _today(staff)
    monday = _parse_week(request.GET.get("week", ""))
    if monday is None:
        if request.GET.get("week"):
            messages.error(request, _("That week could not be read; this week is shown."))
        monday = today - dt.timedelta(days=today.weekday())
    sunday = monday + dt.timedelta(days=6)
    days = _days(
        staff,
        monday,
        sunday + dt.timedelta(days=1),
        filters,
        [monday + dt.timedelta(days=n) for n in range(7)],
    )
    query = filters.query()
    previous, following = monday - dt.timedelta(days=7), monday + dt.timedelta(days=7)
    year, number, _weekday = monday.isocalendar()
    context = {
        **_common(request, staff, filters),
        "days": days,
        "monday": monday,
        "sunday": sunday,
        "week_title": _("Week %(week)d of %(year)d") % {"week": number, "year": year},
        "count": sum(len(day.entries) for day in days),
        "previous_url": _link("calendar:week", "week", _week_param(previous), query)
        if _in_range(previous)
        else None,
        "next_url": _link("calendar:week", "week", _week_param(following), query)
        if _in_range(following)
        else None,
        "current_url": _link("calendar:week", "week", _week_param(today), query),
        # The month holding most of the week (its Thursday, as ISO numbering has it).
        "month_url": _link(
            "calendar:month", "month", _month_param(monday + dt.timedelta(days=3)), query
        ),
        "week_param": _week_param(monday),
    }
    return render(request, "publishing/calendar/week.html", context)


# -- rescheduling -------------------------------------------------------------------------


class RescheduleForm(forms.Form):
    due_at = forms.DateTimeField(
        label=gettext_lazy("New time"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"],
        error_messages={
            "required": gettext_lazy("Choose the new date and time."),
            "invalid": gettext_lazy("Enter the date and time as the form shows them."),
        },
    )

    def clean_due_at(self) -> dt.datetime:
        due_at: dt.datetime = self.cleaned_data["due_at"]
        # A time already past would go out the moment the form is sent: a slip, not a plan.
        if due_at <= timezone.now():
            raise ValidationError(_("Choose a time that has not passed yet."))
        return due_at


def _back(request: HttpRequest) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("calendar:month")


@require_POST
@staff_required(Permission.PUBLISH)
def reschedule(request: HttpRequest, pk: int) -> HttpResponse:
    staff = _staff(request)
    publication = get_object_or_404(
        Publication.objects.for_staff(staff).select_related("variant__post", "channel"), pk=pk
    )
    title = publication.variant.post.title
    # The time typed is the organisation's local time, whatever the server's zone is.
    with timezone.override(_zone(staff.organisation)):
        form = RescheduleForm(request.POST)
        valid = form.is_valid()
    if not valid:
        errors = [str(error) for errors in form.errors.values() for error in errors]
        messages.error(
            request,
            _("%(title)s was not moved: %(reason)s") % {"title": title, "reason": " ".join(errors)},
        )
        return redirect(_back(request))
    try:
        moved = actions.reschedule(staff, publication, form.cleaned_data["due_at"])
    except ValidationError as error:
        messages.error(
            request,
            _("%(title)s was not moved: %(reason)s")
            % {"title": title, "reason": " ".join(error.messages)},
        )
    else:
        local = moved.due_at.astimezone(_zone(staff.organisation))
        messages.success(
            request,
            _("%(title)s (%(channel)s) now goes out at %(time)s.")
            % {
                "title": title,
                "channel": publication.channel.name,
                "time": local.strftime("%Y-%m-%d %H:%M"),
            },
        )
    return redirect(_back(request))


# -- the iCalendar feed -------------------------------------------------------------------


def feed_token(staff: Staff) -> str:
    """The token in ``staff``'s feed address: it names them, signed so no one can forge
    another's."""
    # No timestamp in it: the address a calendar app subscribed to stays the same each time
    # the staff member looks at the page.
    return signing.Signer(salt=FEED_SALT).sign_object({"staff": staff.pk})


def staff_for_token(token: str) -> Staff | None:
    """The active staff member a feed token names, or None for a bad or stale token."""
    try:
        if token.count(":") == 2:
            # An address given out before the token lost its timestamp still works.
            payload = signing.loads(token, salt=FEED_SALT)
        else:
            payload = signing.Signer(salt=FEED_SALT).unsign_object(token)
    except (signing.BadSignature, ValueError):  # ValueError: not even the token's shape
        return None
    staff_id = payload.get("staff") if isinstance(payload, dict) else None
    if not isinstance(staff_id, int):
        return None
    staff = (
        Staff.objects.select_related("organisation", "department", "user")
        .filter(pk=staff_id, user__is_active=True)
        .first()
    )
    if staff is None or not staff.can(Permission.VIEW):
        return None
    return staff


@staff_required()
def feed_link(request: HttpRequest) -> HttpResponse:
    """Shows the staff member their own feed address (with the calendar's filters)."""
    staff = _staff(request)
    filters = CalendarFilter(request.GET, staff=staff)
    query = filters.query()
    address = request.build_absolute_uri(reverse("calendar:ics", args=[feed_token(staff)]))
    return render(
        request,
        "publishing/calendar/feed.html",
        {
            "address": f"{address}?{query}" if query else address,
            "filters": filters,
            "filter_query": query,
            "back_url": reverse("calendar:month") + (f"?{query}" if query else ""),
        },
    )


def _description(publication: Publication, post_url: str | None, request: HttpRequest) -> str:
    post = publication.variant.post
    lines = [
        f"{_('State')}: {publication.get_state_display()}",
        f"{_('Channel')}: {publication.channel.name} ({publication.channel.get_kind_display()})",
        f"{_('Department')}: {post.department.name}",
    ]
    if post.campaign:
        lines.append(f"{_('Campaign')}: {post.campaign.name}")
    if publication.reason and publication.state != PublicationState.PUBLISHED:
        lines.append(f"{_('Reason')}: {publication.reason}")
    if publication.url:
        lines.append(f"{_('Address')}: {publication.url}")
    if post_url:
        lines.append(f"{_('In Sotong')}: {request.build_absolute_uri(post_url)}")
    return "\n".join(lines)


def ics(request: HttpRequest, token: str) -> HttpResponse:
    """The calendar as iCalendar for calendar apps, which cannot sign in: the signed token
    names the staff member, and the feed holds only what they may see."""
    staff = staff_for_token(token)
    if staff is None:
        raise Http404
    filters = CalendarFilter(request.GET, staff=staff)
    organisation = staff.organisation
    since = timezone.now() - FEED_HISTORY
    publications = _visible(staff, filters).filter(
        Q(due_at__gte=since) | Q(published_at__gte=since)
    )
    calendar = Calendar()
    calendar.add("prodid", "-//Sotong//Content calendar//KO")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add(
        "x-wr-calname",
        _("%(organisation)s publishing calendar") % {"organisation": organisation.name},
    )
    calendar.add("x-wr-timezone", organisation.time_zone)
    # Ask apps to fetch again hourly; a schedule changes through the day.
    calendar.add("x-published-ttl", "PT1H")
    for publication in publications:
        post = publication.variant.post
        event = Event()
        # Stable across fetches, so an app updates the event instead of adding another.
        event.add("uid", f"publication-{publication.pk}@{organisation.slug}.sotong")
        event.add("dtstamp", publication.updated_at.astimezone(dt.UTC))
        event.add("dtstart", _moment(publication).astimezone(dt.UTC))
        event.add(
            "summary",
            f"[{publication.channel.name}] {post.title} · {publication.get_state_display()}",
        )
        event.add("status", ICAL_STATUS.get(publication.state, "TENTATIVE"))
        event.add(
            "description",
            _description(publication, _post_url(publication.variant.post_id), request),
        )
        if publication.state == PublicationState.PUBLISHED and publication.url:
            event.add("url", publication.url)
        event.add("categories", [publication.channel.get_kind_display()])
        calendar.add_component(event)
    response = HttpResponse(calendar.to_ical(), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="sotong-calendar.ics"'
    # The address is a credential: keep it and its contents out of shared caches.
    response["Cache-Control"] = "private, max-age=300"
    response["Referrer-Policy"] = "no-referrer"
    return response
