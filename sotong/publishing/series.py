"""Recurring series: business operations on series, their queues and data feeds, and the
preparing ("materialising") of each occurrence's post ahead of its time.

Every post a series makes goes through ``actions.compose`` and ``actions.submit`` (and
``actions.approve`` for a pre-approved series), so its variants, audit and publications
are those of any post.

Exactly once: an occurrence is a row unique on (series, time). Preparing it happens in one
transaction that locks the series, finds or creates that row and makes the post; a second
worker waits for the lock and then finds the row settled, and a worker that dies mid-way
rolls everything back, so the next round starts clean. The unique constraint is the last
word if a database does not lock.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from dateutil.rrule import rrule, rruleset, rrulestr  # type: ignore[import-untyped]
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from sotong.channels.models import Channel
from sotong.core import audit
from sotong.core.calendar import calendar_for
from sotong.core.models import Department, Organisation, Staff
from sotong.core.permissions import Performer, actor_of, require
from sotong.core.roles import Capability as Permission
from sotong.notifications import actions as notifications
from sotong.publishing import actions, adapt, feeds
from sotong.publishing.models import (
    FeedSource,
    FeedVersion,
    OccurrenceState,
    Post,
    Series,
    SeriesItem,
    SeriesKind,
    SeriesOccurrence,
)

logger = logging.getLogger(__name__)

SYSTEM = audit.Actor.system("series")
# An occurrence whose time passed this long ago without being prepared (Sotong was not
# running) is recorded as missed rather than published late.
MISSED_AFTER = dt.timedelta(hours=2)
# A failed fetch is tried again sooner than the usual interval.
FETCH_RETRY = dt.timedelta(minutes=10)
KEEP_FEED_VERSIONS = 20
UPCOMING = 5
# Walking a rule that skips most of its dates (holidays) must still end.
MAX_WALK = 500
MAX_LEAD_TIME = dt.timedelta(days=7)


# -- rules --------------------------------------------------------------------------------

_FORBIDDEN_FREQ = re.compile(r"FREQ\s*=\s*(SECONDLY|MINUTELY)", re.IGNORECASE)
_UNTIL_UTC = re.compile(r"UNTIL=(\d{8})(?:T(\d{6}))?Z", re.IGNORECASE)


def _local_until(match: re.Match[str], time_zone: ZoneInfo) -> str:
    try:
        moment = dt.datetime.strptime(match[1] + (match[2] or "000000"), "%Y%m%d%H%M%S")
    except ValueError:
        return match[0]  # left for rrulestr to report
    local = moment.replace(tzinfo=dt.UTC).astimezone(time_zone)
    return f"UNTIL={local:%Y%m%dT%H%M%S}"


def parse_rule(rule: str, starts_at: dt.datetime, time_zone: ZoneInfo) -> rrule | rruleset:
    """The RFC 5545 rule (one RRULE line; the start is ``starts_at``) in local wall time.
    Raises ValidationError with a Korean message for a rule that cannot be used."""
    lines = [line.strip() for line in rule.strip().splitlines() if line.strip()]
    example = "FREQ=WEEKLY;BYDAY=MO;BYHOUR=9;BYMINUTE=0"
    if not lines:
        raise ValidationError(
            {"rule": _("Enter a recurrence rule, e.g. %(example)s.") % {"example": example}}
        )
    text = lines[0]
    if len(lines) > 1 or not re.match(r"^(RRULE:)?FREQ=|^(RRULE:)?\w+=", text, re.IGNORECASE):
        raise ValidationError(
            {
                "rule": _(
                    "Enter one RRULE line such as %(example)s; the start is set in its own field."
                )
                % {"example": example}
            }
        )
    if text.upper().startswith("RRULE:"):
        text = text[len("RRULE:") :]
    if not re.search(r"(^|;)FREQ=", text, re.IGNORECASE):
        raise ValidationError(
            {"rule": _("The rule must say how often: FREQ=DAILY, WEEKLY, MONTHLY or YEARLY.")}
        )
    if _FORBIDDEN_FREQ.search(text):
        raise ValidationError({"rule": _("A series can repeat at most once an hour.")})
    # Local wall time: "every Monday 09:00" stays 09:00 whatever the offset, and an UNTIL
    # written as local time is read as such; one written in UTC (…Z) is turned local.
    start = starts_at.astimezone(time_zone).replace(tzinfo=None, microsecond=0)
    text = _UNTIL_UTC.sub(lambda match: _local_until(match, time_zone), text)
    try:
        parsed = rrulestr(text, dtstart=start)
        first = parsed.after(start, inc=True)
    except (ValueError, TypeError, OverflowError) as exc:
        raise ValidationError(
            {
                "rule": _(
                    "The recurrence rule could not be read (%(reason)s). Example: %(example)s"
                )
                % {"reason": exc, "example": example}
            }
        ) from exc
    if first is None:
        raise ValidationError({"rule": _("The rule has no occurrence after its start.")})
    if isinstance(parsed, rrule):
        second = parsed.after(first)
        if second is not None and second - first < dt.timedelta(hours=1):
            raise ValidationError({"rule": _("A series can repeat at most once an hour.")})
    return parsed


def time_zone_of(series: Series) -> ZoneInfo:
    return ZoneInfo(series.organisation.time_zone)


def _occurrences(series: Series, after: dt.datetime) -> Iterator[dt.datetime]:
    """The series' occurrences strictly after ``after``, as aware datetimes."""
    zone = time_zone_of(series)
    rule = parse_rule(series.rule, series.starts_at, zone)
    local_after = after.astimezone(zone).replace(tzinfo=None)
    for count, moment in enumerate(rule.xafter(local_after, inc=False)):
        if count >= MAX_WALK:
            return
        yield moment.replace(tzinfo=zone)


def next_occurrences(
    rule: str, starts_at: dt.datetime, time_zone: ZoneInfo, after: dt.datetime, count: int
) -> list[dt.datetime]:
    """The next ``count`` occurrences of ``rule`` after ``after`` (for previews)."""
    parsed = parse_rule(rule, starts_at, time_zone)
    local_after = after.astimezone(time_zone).replace(tzinfo=None)
    return [m.replace(tzinfo=time_zone) for m in parsed.xafter(local_after, count=count)]


@dataclass
class Upcoming:
    at: dt.datetime
    holiday: str | None = None
    item: SeriesItem | None = None
    rows: list[dict[str, str]] = field(default_factory=list)
    occurrence: SeriesOccurrence | None = None

    @property
    def empty(self) -> bool:
        return self.holiday is None and self.occurrence is None and self.item is None


def upcoming(
    series: Series, now: dt.datetime | None = None, count: int = UPCOMING
) -> list[Upcoming]:
    """The next ``count`` occurrences that will be published (holidays it skips are listed
    too, marked), each with the queue item it will take as the queue stands now."""
    now = now or timezone.now()
    calendar = calendar_for(series.organisation)
    zone = time_zone_of(series)
    waiting_items = list(queue(series))
    latest = latest_feed(series) if series.kind == SeriesKind.FEED else None
    feed_rows = latest.rows if latest is not None and not latest.error else []
    settled = {
        occurrence.at: occurrence
        for occurrence in series.occurrences.filter(at__gt=now).select_related("post")
    }
    result: list[Upcoming] = []
    published = 0
    for moment in _occurrences(series, now):
        entry = Upcoming(at=moment, occurrence=settled.get(moment))
        holiday = calendar.holiday_name(moment.astimezone(zone).date())
        if series.skip_holidays and holiday:
            entry.holiday = holiday
        elif entry.occurrence is None or entry.occurrence.state == OccurrenceState.WAITING:
            entry.occurrence = None
            if series.kind == SeriesKind.QUEUE and waiting_items:
                entry.item = waiting_items.pop(0)
            elif series.kind == SeriesKind.FEED:
                entry.rows = feeds.rows_on(feed_rows, moment.astimezone(zone).date())
            published += 1
        else:
            published += 1
        result.append(entry)
        if published >= count:
            break
    return result


# -- series and their queues ----------------------------------------------------------------


def _require_series_author(
    by: Performer, organisation: Organisation, department: Department
) -> None:
    require(by, Permission.DRAFT_POSTS, organisation)
    actions._check_department(by, department)


def _check_channels(organisation: Organisation, channels: Sequence[Channel]) -> list[Channel]:
    if not channels:
        raise ValidationError({"channels": _("Choose at least one channel.")})
    for channel in channels:
        if channel.organisation_id != organisation.pk:
            raise ValidationError({"channels": _("The channel belongs to another organisation.")})
        if not adapt.can_publish_to(channel.kind):
            raise ValidationError(
                {"channels": _("%(channel)s takes no posts.") % {"channel": channel.name}}
            )
    return list(channels)


def _check_approval(by: Performer, pre_approved: bool) -> Staff | None:
    """Pre-approval is an approval given once for every occurrence: only someone who may
    approve posts can give it, and they become the series' approver."""
    if not pre_approved:
        return None
    if not isinstance(by, Staff) or not by.can(Permission.APPROVE_POSTS):
        raise ValidationError(
            {"pre_approved": _("Only someone who approves posts can pre-approve a series.")}
        )
    return by


def _check_lead_time(lead_time: dt.timedelta) -> None:
    if not dt.timedelta(minutes=5) <= lead_time <= MAX_LEAD_TIME:
        raise ValidationError({"lead_time": _("Prepare posts between 5 minutes and 7 days ahead.")})


def _check_feed(
    kind: str, title_template: str, body_template: str, feed_poll_interval: dt.timedelta
) -> None:
    if kind != SeriesKind.FEED:
        return
    errors: dict[str, str] = {}
    for name, text in (("title_template", title_template), ("body_template", body_template)):
        if not text.strip():
            errors[name] = _("Write the template.")
            continue
        try:
            feeds.check_template(text)
        except feeds.FeedError as error:
            errors[name] = str(error)
    if feed_poll_interval < dt.timedelta(minutes=5):
        errors["feed_poll_interval"] = _("Fetch the feed at most every 5 minutes.")
    if errors:
        raise ValidationError(errors)


@dataclass
class SeriesSettings:
    """What a person sets on a series (the form's fields)."""

    name: str
    department: Department
    channels: Sequence[Channel]
    rule: str
    starts_at: dt.datetime
    skip_holidays: bool = True
    pre_approved: bool = False
    lead_time: dt.timedelta = dt.timedelta(hours=24)
    active: bool = True
    hashtags: Sequence[str] = ()
    title_template: str = ""
    body_template: str = ""
    date_column: str = "date"
    feed_url: str = ""
    feed_format: str = "csv"
    feed_poll_interval: dt.timedelta = dt.timedelta(hours=1)


_AUDITED = (
    "name",
    "department",
    "rule",
    "starts_at",
    "skip_holidays",
    "pre_approved",
    "approver",
    "active",
    "title_template",
    "body_template",
    "feed_url",
)


def _snapshot(series: Series) -> dict[str, object]:
    return {
        **audit.snapshot(series, _AUDITED),
        "lead_time_seconds": int(series.lead_time.total_seconds()),
    }


def _validate(
    by: Performer,
    organisation: Organisation,
    kind: str,
    values: SeriesSettings,
    *,
    series_id: int | None = None,
) -> None:
    _require_series_author(by, organisation, values.department)
    if values.department.organisation_id != organisation.pk:
        raise ValidationError({"department": _("The department belongs to another organisation.")})
    if not values.name.strip():
        raise ValidationError({"name": _("Name the series.")})
    _check_channels(organisation, values.channels)
    parse_rule(values.rule, values.starts_at, ZoneInfo(organisation.time_zone))
    _check_lead_time(values.lead_time)
    _check_feed(kind, values.title_template, values.body_template, values.feed_poll_interval)
    same_name = Series.objects.filter(organisation=organisation, name=values.name.strip())
    if series_id is not None:
        same_name = same_name.exclude(pk=series_id)
    if same_name.exists():
        raise ValidationError({"name": _("Another series has this name.")})


def _apply(series: Series, values: SeriesSettings) -> None:
    series.name = values.name.strip()
    series.department = values.department
    series.rule = values.rule.strip()
    series.starts_at = values.starts_at
    series.skip_holidays = values.skip_holidays
    series.lead_time = values.lead_time
    series.active = values.active
    series.hashtags = [tag.lstrip("#") for tag in values.hashtags if tag.lstrip("#")]
    series.title_template = values.title_template.strip()
    series.body_template = values.body_template.strip()
    series.date_column = values.date_column.strip() or "date"
    series.feed_url = values.feed_url.strip()
    series.feed_format = values.feed_format
    series.feed_poll_interval = values.feed_poll_interval


@transaction.atomic
def create_series(
    by: Performer, organisation: Organisation, *, kind: str, values: SeriesSettings
) -> Series:
    """A new series; it prepares posts for occurrences from now on."""
    _validate(by, organisation, kind, values)
    approver = _check_approval(by, values.pre_approved)
    now = timezone.now()
    series = Series(
        organisation=organisation,
        kind=kind,
        created_by=by if isinstance(by, Staff) else None,
        pre_approved=approver is not None,
        approver=approver,
        # Occurrences before the series existed are not owed a post.
        settled_until=max(now, values.starts_at) - dt.timedelta(seconds=1),
        feed_next_fetch_at=now if values.feed_url.strip() else None,
    )
    _apply(series, values)
    series.full_clean(exclude=["channels"])
    series.save()
    series.channels.set(values.channels)
    audit.record(
        actor_of(by),
        "series.create",
        series,
        organisation=organisation,
        department=series.department,
        after={**_snapshot(series), "channels": [c.pk for c in values.channels]},
    )
    return series


@transaction.atomic
def update_series(by: Performer, series: Series, *, values: SeriesSettings) -> Series:
    """Change a series. A new rule or start forgets the occurrences that were waiting
    (they may no longer be on the rule); prepared posts stay as they are."""
    series = Series.objects.select_for_update(of=("self",)).get(pk=series.pk)
    _require_series_author(by, series.organisation, series.department)
    _validate(by, series.organisation, series.kind, values, series_id=series.pk)
    before = _snapshot(series)
    if values.pre_approved and not series.pre_approved:
        series.approver = _check_approval(by, True)
        series.pre_approved = True
    elif not values.pre_approved and series.pre_approved:
        series.pre_approved = False
        series.approver = None
    rule_changed = values.rule.strip() != series.rule or values.starts_at != series.starts_at
    reactivated = values.active and not series.active
    reread = values.date_column.strip() != series.date_column
    _apply(series, values)
    now = timezone.now()
    if rule_changed or reactivated:
        series.occurrences.filter(state=OccurrenceState.WAITING).delete()
        series.settled_until = max(now, values.starts_at) - dt.timedelta(seconds=1)
    if series.feed_url and before["feed_url"] != series.feed_url:
        series.feed_next_fetch_at = now
    series.full_clean(exclude=["channels"])
    series.save()
    series.channels.set(values.channels)
    latest = latest_feed(series)
    if reread and latest is not None and latest.content:
        # The newest bytes read again with the new date column.
        _store_version(
            series,
            source=latest.source,
            name=latest.name,
            content=bytes(latest.content),
            by=by if isinstance(by, Staff) else None,
            force=True,
        )
    audit.record(
        actor_of(by),
        "series.update",
        series,
        organisation=series.organisation,
        department=series.department,
        before=before,
        after={**_snapshot(series), "channels": [c.pk for c in values.channels]},
    )
    return series


def queue(series: Series) -> list[SeriesItem]:
    """The items waiting to be used, in the order they will go out."""
    return list(series.items.filter(used_at__isnull=True).order_by("position", "id"))


def _parse_hashtags(hashtags: Sequence[str] | str) -> list[str]:
    if isinstance(hashtags, str):
        return list(adapt.parse_hashtags(hashtags))
    return [tag.lstrip("#") for tag in hashtags if tag.lstrip("#")]


@transaction.atomic
def add_item(
    by: Performer,
    series: Series,
    *,
    title: str,
    body: str,
    link: str = "",
    hashtags: Sequence[str] | str = (),
) -> SeriesItem:
    """Put a prepared post at the end of the series' queue."""
    series = Series.objects.select_for_update(of=("self",)).get(pk=series.pk)
    _require_series_author(by, series.organisation, series.department)
    last = series.items.aggregate(last=Max("position"))["last"]
    item = SeriesItem(
        organisation=series.organisation,
        series=series,
        position=(last or 0) + 1,
        title=title.strip(),
        body=body.strip(),
        link=link.strip(),
        hashtags=_parse_hashtags(hashtags),
    )
    item.full_clean()
    item.save()
    audit.record(
        actor_of(by),
        "series.item_add",
        item,
        organisation=series.organisation,
        department=series.department,
        after={"series": series.pk, "title": item.title},
    )
    return item


def _waiting_item(item: SeriesItem) -> SeriesItem:
    item = (
        SeriesItem.objects.select_for_update(of=("self",)).select_related("series").get(pk=item.pk)
    )
    if item.used_at is not None:
        raise ValidationError(_("This item has already gone out; it stays in the history."))
    return item


@transaction.atomic
def move_item(by: Performer, item: SeriesItem, direction: str) -> SeriesItem:
    """Swap the item with its neighbour in the queue ("up" goes out sooner)."""
    item = _waiting_item(item)
    series = item.series
    _require_series_author(by, series.organisation, series.department)
    items = queue(series)
    index = next(i for i, waiting in enumerate(items) if waiting.pk == item.pk)
    other_index = index - 1 if direction == "up" else index + 1
    if direction not in ("up", "down") or not 0 <= other_index < len(items):
        return item
    # Renumber the whole queue: positions may have gaps or ties from earlier removals.
    items[index], items[other_index] = items[other_index], items[index]
    for position, waiting in enumerate(items, start=1):
        if waiting.position != position:
            SeriesItem.objects.filter(pk=waiting.pk).update(position=position)
    audit.record(
        actor_of(by),
        "series.item_move",
        item,
        organisation=series.organisation,
        department=series.department,
        after={"series": series.pk, "position": other_index + 1},
    )
    item.refresh_from_db()
    return item


@transaction.atomic
def remove_item(by: Performer, item: SeriesItem) -> None:
    """Take a waiting item out of the queue."""
    item = _waiting_item(item)
    series = item.series
    _require_series_author(by, series.organisation, series.department)
    audit.record(
        actor_of(by),
        "series.item_remove",
        item,
        organisation=series.organisation,
        department=series.department,
        before={"series": series.pk, "title": item.title, "body": item.body},
    )
    item.delete()


# -- data feeds ---------------------------------------------------------------------------


def latest_feed(series: Series) -> FeedVersion | None:
    return series.feed_versions.order_by("-received_at", "-id").first()


def last_good_feed(series: Series) -> FeedVersion | None:
    return series.feed_versions.filter(error="").order_by("-received_at", "-id").first()


def _store_version(
    series: Series,
    *,
    source: str,
    name: str,
    content: bytes,
    by: Staff | None,
    error: str = "",
    force: bool = False,
) -> FeedVersion:
    """Read the bytes and keep them as the feed's newest version, readable or not."""
    digest = hashlib.sha256(content).hexdigest() if content else ""
    now = timezone.now()
    latest = latest_feed(series)
    # The same bytes fetched again: the version stands, only its check time moves.
    if (
        not force
        and latest is not None
        and not latest.error
        and not error
        and latest.sha256 == digest
        and latest.source == source
    ):
        latest.checked_at = now
        latest.save(update_fields=["checked_at"])
        return latest
    parsed: feeds.ParsedFeed | None = None
    if not error:
        try:
            parsed = feeds.parse(
                content,
                series.feed_format
                if source == FeedSource.URL
                else feeds.format_of(name, content, series.feed_format),
                date_column=series.date_column,
                time_zone=time_zone_of(series),
            )
        except feeds.FeedError as failure:
            error = str(failure)
    version = FeedVersion.objects.create(
        organisation=series.organisation,
        series=series,
        source=source,
        name=name[:500],
        content=content,
        sha256=digest,
        rows=parsed.rows if parsed else [],
        columns=parsed.columns if parsed else [],
        error=error,
        received_at=now,
        checked_at=now,
        by=by,
    )
    stale = series.feed_versions.order_by("-received_at", "-id").values_list("id", flat=True)[
        KEEP_FEED_VERSIONS:
    ]
    FeedVersion.objects.filter(id__in=list(stale)).delete()
    audit.record(
        actor_of(by) if by else SYSTEM,
        "series.feed_error" if error else "series.feed_read",
        series,
        organisation=series.organisation,
        department=series.department,
        after={
            "source": source,
            "name": name,
            "rows": len(version.rows),
            "error": error,
            "sha256": digest,
        },
    )
    notifications.notify_feed_failed(series, version)
    return version


@transaction.atomic
def upload_feed(by: Performer, series: Series, *, name: str, content: bytes) -> FeedVersion:
    """A CSV or JSON file uploaded by a person becomes the feed's newest version."""
    series = Series.objects.select_for_update(of=("self",)).get(pk=series.pk)
    _require_series_author(by, series.organisation, series.department)
    if series.kind != SeriesKind.FEED:
        raise ValidationError(_("Only a data feed series takes a feed."))
    return _store_version(
        series,
        source=FeedSource.UPLOAD,
        name=name,
        content=content,
        by=by if isinstance(by, Staff) else None,
    )


def fetch_feed(series: Series, *, by: Performer | None = None) -> FeedVersion:
    """Fetch the series' feed address now. The bytes (or the failure) become the newest
    version, so a feed that breaks stops the series instead of repeating yesterday's."""
    if by is not None:
        _require_series_author(by, series.organisation, series.department)
    if series.kind != SeriesKind.FEED or not series.feed_url:
        raise ValidationError(_("The series has no feed address."))
    now = timezone.now()
    # The network call is made outside any transaction: a slow server holds no lock.
    try:
        content, error = feeds.fetch(series.feed_url), ""
    except feeds.FeedError as failure:
        content, error = b"", str(failure)
    with transaction.atomic():
        locked = Series.objects.select_for_update(of=("self",)).get(pk=series.pk)
        version = _store_version(
            locked,
            source=FeedSource.URL,
            name=locked.feed_url,
            content=content,
            by=by if isinstance(by, Staff) else None,
            error=error,
        )
        locked.feed_next_fetch_at = now + (
            FETCH_RETRY if version.error else locked.feed_poll_interval
        )
        locked.save(update_fields=["feed_next_fetch_at"])
    return version


def fetch_due_feeds(now: dt.datetime | None = None) -> int:
    """Fetch every active feed whose time has come; returns how many were fetched."""
    now = now or timezone.now()
    due = Series.objects.filter(
        active=True, kind=SeriesKind.FEED, feed_next_fetch_at__lte=now
    ).exclude(feed_url="")
    count = 0
    for series in due.select_related("organisation", "department"):
        fetch_feed(series)
        count += 1
    return count


@dataclass
class FeedDay:
    day: dt.date
    rows: list[dict[str, str]]
    title: str = ""
    body: str = ""
    error: str = ""


def feed_preview(series: Series, *, days: int = 7, today: dt.date | None = None) -> list[FeedDay]:
    """The next ``days`` days' rows of the feed's newest version, rendered as the posts
    would read (empty when that version could not be read)."""
    version = latest_feed(series)
    zone = time_zone_of(series)
    today = today or timezone.now().astimezone(zone).date()
    if version is None or version.error:
        return []
    result = []
    for offset in range(days):
        day = today + dt.timedelta(days=offset)
        rows = feeds.rows_on(version.rows, day)
        entry = FeedDay(day=day, rows=rows)
        if rows:
            try:
                entry.title = feeds.render(series.title_template, day, rows)
                entry.body = feeds.render(series.body_template, day, rows)
            except feeds.FeedError as error:
                entry.error = str(error)
        result.append(entry)
    return result


# -- materialising ------------------------------------------------------------------------


@dataclass
class MaterialiseResult:
    created: int = 0
    skipped: int = 0
    waiting: int = 0
    warned: int = 0
    fetched: int = 0


@dataclass
class _Content:
    title: str
    body: str
    link: str
    hashtags: list[str]
    item: SeriesItem | None = None


def _content(series: Series, at: dt.datetime) -> _Content | str:
    """What the occurrence at ``at`` would publish, or why there is nothing."""
    if series.kind == SeriesKind.QUEUE:
        item = series.items.filter(used_at__isnull=True).order_by("position", "id").first()
        if item is None:
            return _("The queue was empty.")
        return _Content(item.title, item.body, item.link, list(item.hashtags), item)
    version = latest_feed(series)
    if version is None:
        return _("No feed has been uploaded or fetched yet.")
    if version.error:
        return _("The feed could not be read: %(error)s") % {"error": version.error}
    day = at.astimezone(time_zone_of(series)).date()
    rows = feeds.rows_on(version.rows, day)
    if not rows:
        return _("The feed has no rows for %(day)s.") % {"day": day.isoformat()}
    try:
        title = feeds.render(series.title_template, day, rows)
        body = feeds.render(series.body_template, day, rows)
    except feeds.FeedError as error:
        return str(error)
    if not title or not body:
        return _("The template made an empty title or body.")
    return _Content(title[:200], body, "", list(series.hashtags))


def _skip(series: Series, occurrence: SeriesOccurrence, reason: str) -> None:
    occurrence.state = OccurrenceState.SKIPPED
    occurrence.reason = reason[:500]
    occurrence.save(update_fields=["state", "reason", "updated_at"])
    audit.record(
        SYSTEM,
        "series.skip",
        occurrence,
        organisation=series.organisation,
        department=series.department,
        after={"series": series.pk, "at": occurrence.at, "reason": occurrence.reason},
    )


def _warn_empty(series: Series, occurrence: SeriesOccurrence, now: dt.datetime) -> bool:
    """Tell the owners, once for this occurrence, that the queue has nothing for it."""
    if occurrence.warned_at is not None:
        return False
    occurrence.warned_at = now
    occurrence.save(update_fields=["warned_at", "updated_at"])
    audit.record(
        SYSTEM,
        "series.queue_empty",
        occurrence,
        organisation=series.organisation,
        department=series.department,
        after={"series": series.pk, "at": occurrence.at},
    )
    notifications.notify_queue_low(series, occurrence)
    return True


def _make_post(series: Series, occurrence: SeriesOccurrence, content: _Content) -> Post:
    post = actions.compose(
        SYSTEM,
        series.organisation,
        department=series.department,
        title=content.title,
        body=content.body,
        link=content.link,
        hashtags=content.hashtags,
        channels=list(series.channels.all()),
        publish_at=occurrence.at,
    )
    if series.created_by_id:
        # The series' owner is the post's author (the system only pressed the button).
        Post.objects.filter(pk=post.pk).update(author_id=series.created_by_id)
    notes: list[str] = []
    try:
        with transaction.atomic():
            actions.submit(SYSTEM, post, publish_at=occurrence.at)
    except ValidationError as error:
        # Kept as a draft for the author to fix: nothing goes out unapproved or unfit.
        notes.append(_("Left as a draft: %(reason)s") % {"reason": " ".join(error.messages)})
    else:
        if series.pre_approved:
            approver = series.approver
            try:
                if approver is None:
                    raise PermissionDenied
                with transaction.atomic():
                    actions.approve(
                        approver,
                        post,
                        # Pre-approval stands for every step of an approval chain.
                        all_steps=True,
                        comment=_("Pre-approved for the series %(series)s by %(approver)s.")
                        % {"series": series.name, "approver": approver.display_name},
                    )
            except PermissionDenied:
                notes.append(
                    _("The series' approver can no longer approve; the post awaits approval.")
                )
    occurrence.reason = " ".join(notes)[:500]
    return post


def _settle_occurrence(
    series_id: int, at: dt.datetime, now: dt.datetime
) -> tuple[SeriesOccurrence, bool]:
    """Prepare the occurrence at ``at`` of one series, once: a post, a skip, or (when it
    is not yet time and there is nothing to publish) waiting. The flag says whether this
    call settled it (False when another round already had)."""
    with transaction.atomic():
        # Locking the series makes a second worker wait here, then find the row settled.
        series = (
            Series.objects.select_for_update(of=("self",))
            .select_related("organisation", "department", "approver__user")
            .get(pk=series_id)
        )
        occurrence, _created = SeriesOccurrence.objects.get_or_create(
            series=series, at=at, defaults={"organisation": series.organisation}
        )
        if occurrence.state != OccurrenceState.WAITING:
            return occurrence, False
        zone = time_zone_of(series)
        holiday = calendar_for(series.organisation).holiday_name(at.astimezone(zone).date())
        if series.skip_holidays and holiday:
            _skip(series, occurrence, _("Public holiday: %(name)s") % {"name": holiday})
            return occurrence, True
        if at < now - MISSED_AFTER:
            _skip(series, occurrence, _("Missed: Sotong was not running at that time."))
            return occurrence, True
        content = _content(series, at)
        if isinstance(content, str):
            if at <= now:
                _skip(series, occurrence, content)
                notifications.notify_occurrence_skipped(series, occurrence)
                return occurrence, True
            occurrence.reason = content[:500]
            occurrence.save(update_fields=["reason", "updated_at"])
            if series.kind == SeriesKind.QUEUE:
                _warn_empty(series, occurrence, now)
            return occurrence, False
        try:
            with transaction.atomic():
                post = _make_post(series, occurrence, content)
        except (ValidationError, PermissionDenied) as error:
            reason = " ".join(getattr(error, "messages", [str(error)]))
            occurrence.reason = (_("The post could not be made: %(reason)s") % {"reason": reason})[
                :500
            ]
            if at <= now:
                _skip(series, occurrence, occurrence.reason)
                return occurrence, True
            occurrence.save(update_fields=["reason", "updated_at"])
            return occurrence, False
        occurrence.state = OccurrenceState.CREATED
        occurrence.post = post
        occurrence.save(update_fields=["state", "post", "reason", "updated_at"])
        if content.item is not None:
            content.item.used_at = now
            content.item.post = post
            content.item.save(update_fields=["used_at", "post"])
        audit.record(
            SYSTEM,
            "series.post",
            occurrence,
            organisation=series.organisation,
            department=series.department,
            after={"series": series.pk, "at": at, "post": post.pk, "note": occurrence.reason},
        )
        return occurrence, True


def materialise(series: Series, now: dt.datetime | None = None) -> MaterialiseResult:
    """Prepare the posts of the series' occurrences due within its lead time, and warn
    the owners when the queue has nothing left for the occurrence after those."""
    now = now or timezone.now()
    result = MaterialiseResult()
    if not series.active:
        return result
    horizon = now + series.lead_time
    start = series.settled_until or (series.starts_at - dt.timedelta(seconds=1))
    settled_until = start
    all_settled = True
    last = start
    for at in _occurrences(series, start):
        if at > horizon:
            break
        last = at
        occurrence, acted = _settle_occurrence(series.pk, at, now)
        if occurrence.state == OccurrenceState.CREATED:
            result.created += acted
        elif occurrence.state == OccurrenceState.SKIPPED:
            result.skipped += acted
        else:
            result.waiting += 1
            all_settled = False
        if all_settled:
            settled_until = at
    if series.kind == SeriesKind.QUEUE:
        result.warned += _warn_if_queue_runs_dry(series, last, now)
    if settled_until != series.settled_until:
        Series.objects.filter(pk=series.pk).update(settled_until=settled_until)
        series.settled_until = settled_until
    return result


def _warn_if_queue_runs_dry(series: Series, after: dt.datetime, now: dt.datetime) -> int:
    """The queue will run dry before the next occurrence (the first after those already
    prepared, holidays left out): record a warning for it, once."""
    calendar = calendar_for(series.organisation)
    zone = time_zone_of(series)
    following = next(
        (
            at
            for at in _occurrences(series, max(after, now))
            if not (series.skip_holidays and calendar.holiday_name(at.astimezone(zone).date()))
        ),
        None,
    )
    if following is None:
        return 0
    with transaction.atomic():
        locked = Series.objects.select_for_update(of=("self",)).get(pk=series.pk)
        pending = SeriesOccurrence.objects.filter(
            series=locked, at__gt=now, state=OccurrenceState.WAITING
        ).exclude(at=following)
        # Each occurrence still waiting before ``following`` needs an item too.
        needed = pending.count() + 1
        if locked.items.filter(used_at__isnull=True).count() >= needed:
            return 0
        occurrence, _created = SeriesOccurrence.objects.get_or_create(
            series=locked,
            at=following,
            defaults={"organisation": locked.organisation, "reason": _("The queue is empty.")},
        )
        if occurrence.state != OccurrenceState.WAITING:
            return 0
        return 1 if _warn_empty(locked, occurrence, now) else 0


def materialise_due(now: dt.datetime | None = None) -> MaterialiseResult:
    """One round for every active series: fetch the feeds that are due, then prepare the
    posts of occurrences within each series' lead time."""
    now = now or timezone.now()
    total = MaterialiseResult(fetched=fetch_due_feeds(now))
    for series in Series.objects.filter(active=True).select_related("organisation", "department"):
        try:
            result = materialise(series, now)
        except ValidationError:
            # A rule that no longer parses (say, an older dateutil): the others go on.
            logger.exception("series %s could not be materialised", series.pk)
            continue
        total.created += result.created
        total.skipped += result.skipped
        total.waiting += result.waiting
        total.warned += result.warned
    return total


def warnings(series: Series, now: dt.datetime | None = None) -> list[SeriesOccurrence]:
    """Upcoming occurrences the queue has nothing for, of which the owners were warned."""
    now = now or timezone.now()
    return list(
        series.occurrences.filter(
            state=OccurrenceState.WAITING, warned_at__isnull=False, at__gt=now
        ).order_by("at")
    )
