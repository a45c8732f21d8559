"""Business operations on audience figures: read the follower count from platforms that
give one, count KakaoTalk's friend callbacks, and take the figures staff type or import
where a platform gives nothing. Views, tasks and the CLI call these.

Which figure wins: a platform's reading (or callback count) is replaced by a typed or
imported one only when staff confirm; once staff have entered a day's figures, later
readings leave them alone."""

from __future__ import annotations

import datetime as dt
import logging
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Case, F, PositiveIntegerField, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from sotong.audience import callbacks, csvfiles
from sotong.audience.models import (
    PLATFORM_SOURCES,
    STAFF_SOURCES,
    AudienceDay,
    AudienceSource,
    FriendEvent,
    figure_label,
)
from sotong.channels.actions import connector_for
from sotong.channels.models import Channel, ChannelStatus
from sotong.core import audit
from sotong.core.audit import Actor
from sotong.core.models import Organisation, Staff
from sotong.core.permissions import Performer, actor_of
from sotong.core.roles import Capability as Permission
from sotong.core.roles import Role
from sotong.platforms.base import (
    Capability,
    NextStep,
    PlatformError,
    RateLimited,
    connector_class,
    next_step,
)

logger = logging.getLogger(__name__)

# Receipts of friend callbacks are kept this long to recognise re-deliveries, then pruned.
FRIEND_EVENTS_KEPT = dt.timedelta(days=35)
FIGURES = ("followers", "gained", "lost")


# -- days ---------------------------------------------------------------------------------


def _zone(organisation: Organisation) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(organisation.time_zone or "Asia/Seoul")


def local_day(organisation: Organisation, moment: dt.datetime | None = None) -> dt.date:
    """The organisation's calendar day (Asia/Seoul for Korean cities) at ``moment``."""
    return (moment or timezone.now()).astimezone(_zone(organisation)).date()


def _claim_day(channel: Channel, day: dt.date, **defaults: Any) -> tuple[AudienceDay, bool]:
    """The channel's row for ``day``, locked, or a new one made from ``defaults``; run
    inside a transaction. Two writers making the same day's row meet on the unique
    constraint: the loser takes the winner's row."""
    row = AudienceDay.objects.select_for_update().filter(channel=channel, day=day).first()
    if row is not None:
        return row, False
    try:
        with transaction.atomic():
            return AudienceDay.objects.create(
                organisation_id=channel.organisation_id, channel=channel, day=day, **defaults
            ), True
    except IntegrityError:
        return AudienceDay.objects.select_for_update().get(channel=channel, day=day), False


def _snapshot(row: AudienceDay) -> dict[str, Any]:
    return audit.snapshot(row, ["followers", "gained", "lost", "source"])


# -- permissions --------------------------------------------------------------------------


def may_record(by: Performer, channel: Channel) -> bool:
    """Typing and importing figures: administrators and PR editors on any channel, a
    department's authors on their department's channels (the ones they can see)."""
    if isinstance(by, Actor):
        return True
    if by.organisation_id != channel.organisation_id:
        return False
    if not (by.can(Permission.MANAGE_ORGANISATION) or by.can(Permission.DRAFT_POSTS)):
        return False
    return Channel.objects.for_staff(by).filter(pk=channel.pk).exists()


def may_collect(by: Performer, channel: Channel) -> bool:
    """Asking a platform for today's figure now: administrators and the PR office."""
    if isinstance(by, Actor):
        return True
    return by.organisation_id == channel.organisation_id and (
        by.can(Permission.MANAGE_ORGANISATION) or (by.role == Role.PR_EDITOR and by.user.is_active)
    )


def _require(allowed: bool) -> None:
    if not allowed:
        raise PermissionDenied("not allowed to change this channel's audience figures")


def _staff(by: Performer) -> Staff | None:
    return by if isinstance(by, Staff) else None


# -- platform readings --------------------------------------------------------------------


def reads_followers(channel: Channel) -> bool:
    """Whether the channel's platform has an API for its follower count."""
    return Capability.CHANNEL_METRICS in channel.capabilities


@dataclass(frozen=True)
class Collected:
    channel: Channel
    day: dt.date | None = None
    followers: int | None = None
    stored: bool = False
    # Staff had entered the day's figures: the reading was not stored over them.
    kept: bool = False
    step: NextStep | None = None
    error: str = ""


def _explain(step: NextStep, error: PlatformError) -> str:
    if step == NextStep.WAIT and isinstance(error, RateLimited):
        return _("The platform's call limit is reached: try again in %(minutes)d minutes.") % {
            "minutes": max(1, round(error.retry_after / 60))
        }
    if step == NextStep.RECONNECT:
        return _("The platform no longer accepts the channel's credentials: reconnect the channel.")
    if step == NextStep.PERMISSION:
        return _("The channel's credentials lack the permission to read the figure: %(reason)s") % {
            "reason": error.message
        }
    if step in {NextStep.RETRY, NextStep.GIVE_UP}:
        return _("The platform did not answer; the figure is read again within the hour.")
    return _("The platform refused: %(reason)s") % {"reason": error.message}


def collect_followers(
    channel: Channel, *, by: Performer | None = None, now: dt.datetime | None = None
) -> Collected:
    """Ask the platform for the channel's follower count and store it as today's figure.
    A platform error is logged and returned (decided by ``next_step``: a rate limit
    waits, a dead credential needs reconnecting), never raised. ``by`` is the person who
    asked (recorded and audited); None for the scheduler."""
    if by is not None:
        _require(may_collect(by, channel))
    if not reads_followers(channel):
        return Collected(
            channel,
            error=_("%(platform)s has no API for the follower count: type it in or import it.")
            % {"platform": channel.get_kind_display()},
        )
    day = local_day(channel.organisation, now)
    connector = connector_for(channel)
    try:
        metrics = connector.channel_metrics()
    except PlatformError as error:
        # A read changes nothing: any passing trouble is simply tried again next round.
        step = next_step(error, attempts=1, max_attempts=2)
        logger.warning(
            "channel %s: follower count not read (%s, %s)", channel.pk, step, type(error).__name__
        )
        return Collected(channel, day=day, step=step, error=_explain(step, error))
    finally:
        connector.close()
    if metrics.followers is None:
        return Collected(
            channel, day=day, error=_("The platform does not show this channel's count.")
        )
    staff = _staff(by) if by is not None else None
    with transaction.atomic():
        row, created = _claim_day(
            channel,
            day,
            followers=metrics.followers,
            source=AudienceSource.PLATFORM,
            recorded_by=staff,
        )
        if not created:
            if row.source in STAFF_SOURCES:
                return Collected(channel, day=day, followers=metrics.followers, kept=True)
            row.followers = metrics.followers
            row.source = AudienceSource.PLATFORM
            row.recorded_by = staff
            row.updated_at = timezone.now()
            row.save(update_fields=["followers", "source", "recorded_by", "updated_at"])
        if by is not None:
            audit.record(
                actor_of(by),
                "audience.collect",
                row,
                organisation=channel.organisation,
                department=channel.department,
                after={"day": day, "followers": metrics.followers},
            )
    return Collected(channel, day=day, followers=metrics.followers, stored=True)


def channels_to_collect() -> list[Channel]:
    """Active channels whose platform gives a follower count."""
    kinds = [
        kind
        for kind in Channel.objects.values_list("kind", flat=True).distinct()
        if Capability.CHANNEL_METRICS in connector_class(kind).capabilities
    ]
    return list(
        Channel.objects.filter(status=ChannelStatus.ACTIVE, kind__in=kinds)
        .select_related("organisation", "department")
        .order_by("pk")
    )


def collect_all(now: dt.datetime | None = None) -> dict[str, int]:
    """Today's reading for every channel that has one; what one channel meets (a rate
    limit, a dead token, a bug) does not stop the others."""
    counts = {"channels": 0, "stored": 0, "kept": 0, "failed": 0}
    for channel in channels_to_collect():
        counts["channels"] += 1
        try:
            result = collect_followers(channel, now=now)
        except Exception:  # one channel's failure must not stop the round
            logger.exception("channel %s: follower count not stored", channel.pk)
            counts["failed"] += 1
            continue
        counts["stored"] += result.stored
        counts["kept"] += result.kept
        counts["failed"] += bool(result.error)
    return counts


# -- figures staff type or import ---------------------------------------------------------


def _described(row: AudienceDay, names: Iterable[str]) -> str:
    labels = {"followers": figure_label(row.channel.kind), "gained": _("new"), "lost": _("lost")}
    return ", ".join(f"{labels[name]} {getattr(row, name):,}" for name in names)


def _overridden(row: AudienceDay | None, figures: dict[str, int | None]) -> list[str]:
    """The figures given that would replace different ones the platform gave."""
    if row is None or row.source not in PLATFORM_SOURCES:
        return []
    return [
        name
        for name, value in figures.items()
        if value is not None and getattr(row, name) is not None and getattr(row, name) != value
    ]


def _check_figures(channel: Channel, day: dt.date, figures: dict[str, int | None]) -> None:
    """Typed figures: a day that has come, numbers of 0 or more, and something to record."""
    errors: dict[str, list[str]] = {}
    if day > local_day(channel.organisation):
        errors["day"] = [
            _("%(day)s has not come yet: figures are recorded for today or earlier.")
            % {"day": day.isoformat()}
        ]
    for name, value in figures.items():
        if value is not None and value < 0:
            errors[name] = [_("Enter 0 or more.")]
    if figures["followers"] is None and figures["gained"] is None and figures["lost"] is None:
        errors["__all__"] = [
            _("Enter the follower count, or the number of new or lost people that day.")
        ]
    if errors:
        raise ValidationError(errors)


def record_figures(
    by: Performer,
    channel: Channel,
    *,
    day: dt.date,
    followers: int | None = None,
    gained: int | None = None,
    lost: int | None = None,
    replace: bool = False,
) -> AudienceDay:
    """Record figures a person typed for one day. A figure left empty keeps what the day
    has; one that differs from the platform's replaces it only with ``replace``."""
    _require(may_record(by, channel))
    figures = {"followers": followers, "gained": gained, "lost": lost}
    _check_figures(channel, day, figures)
    given = {name: value for name, value in figures.items() if value is not None}
    with transaction.atomic():
        row, created = _claim_day(
            channel, day, **given, source=AudienceSource.TYPED, recorded_by=_staff(by)
        )
        before = None if created else _snapshot(row)
        if not created:
            clashing = _overridden(row, figures)
            if clashing and not replace:
                raise ValidationError(
                    _(
                        "%(day)s has figures from %(source)s (%(figures)s). Tick “Replace the "
                        "platform's figures” to replace them."
                    )
                    % {
                        "day": day.isoformat(),
                        "source": row.get_source_display(),
                        "figures": _described(row, clashing),
                    }
                )
            for name, value in given.items():
                setattr(row, name, value)
            row.source = AudienceSource.TYPED
            row.recorded_by = _staff(by)
            row.updated_at = timezone.now()
            row.save()
        audit.record(
            actor_of(by),
            "audience.record",
            row,
            organisation=channel.organisation,
            department=channel.department,
            before=before,
            after={"day": day, **_snapshot(row)},
        )
    return row


def import_figures(
    by: Performer,
    channel: Channel,
    content: bytes,
    *,
    filename: str = "",
    replace: bool = False,
) -> list[AudienceDay]:
    """Record the days of an audience CSV (see ``csvfiles.read_figures``), all or none:
    any bad line, or any platform figure it would replace without ``replace``, and
    nothing is imported (ValidationError listing the lines)."""
    _require(may_record(by, channel))
    rows = csvfiles.read_figures(
        content, today=local_day(channel.organisation), time_zone=_zone(channel.organisation)
    )
    staff = _staff(by)
    now = timezone.now()
    try:
        with transaction.atomic():
            existing = {
                row.day: row
                for row in AudienceDay.objects.select_for_update()
                .select_related("channel")
                .filter(
                    channel=channel,
                    day__gte=min(row.day for row in rows),
                    day__lte=max(row.day for row in rows),
                )
            }
            clashes = []
            for line in rows:
                current = existing.get(line.day)
                clashing = _overridden(
                    current, {"followers": line.followers, "gained": line.gained, "lost": line.lost}
                )
                if current is not None and clashing:
                    clashes.append(
                        _("Line %(line)d: %(day)s has figures from %(source)s (%(figures)s).")
                        % {
                            "line": line.line,
                            "day": line.day.isoformat(),
                            "source": current.get_source_display(),
                            "figures": _described(current, clashing),
                        }
                    )
            if clashes and not replace:
                raise ValidationError(
                    [
                        *csvfiles.reported(clashes),
                        _("Tick “Replace the platform's figures” to import these days as well."),
                    ]
                )
            created: list[AudienceDay] = []
            changed: list[AudienceDay] = []
            replaced: dict[str, dict[str, Any]] = {}
            for line in rows:
                given = {
                    name: getattr(line, name) for name in FIGURES if getattr(line, name) is not None
                }
                current = existing.get(line.day)
                if current is None:
                    created.append(
                        AudienceDay(
                            organisation_id=channel.organisation_id,
                            channel=channel,
                            day=line.day,
                            source=AudienceSource.IMPORTED,
                            recorded_by=staff,
                            updated_at=now,
                            **given,
                        )
                    )
                    continue
                replaced[line.day.isoformat()] = _snapshot(current)
                for name, value in given.items():
                    setattr(current, name, value)
                current.source = AudienceSource.IMPORTED
                current.recorded_by = staff
                current.updated_at = now
                changed.append(current)
            AudienceDay.objects.bulk_create(created, batch_size=500)
            AudienceDay.objects.bulk_update(
                changed, [*FIGURES, "source", "recorded_by", "updated_at"], batch_size=500
            )
            audit.record(
                actor_of(by),
                "audience.import",
                channel,
                organisation=channel.organisation,
                department=channel.department,
                after={
                    "file": filename[:100],
                    "days": len(rows),
                    "first": min(line.day for line in rows),
                    "last": max(line.day for line in rows),
                    "new_days": len(created),
                    "replaced": replaced,
                },
            )
    except IntegrityError as exc:
        # A reading or callback made one of the days while the file was read.
        raise ValidationError(
            _("The figures changed while the file was imported. Import it again.")
        ) from exc
    return sorted([*created, *changed], key=lambda row: row.day)


# -- KakaoTalk friend callbacks -----------------------------------------------------------


@dataclass(frozen=True)
class CallbackOutcome:
    status: int
    reason: str
    counted: bool = False


def receive_friend_callback(
    channel: Channel, *, authorization: str, body: bytes
) -> CallbackOutcome:
    """Count one KakaoTalk relationship callback for ``channel``: 1 more gained or lost
    on the (Asia/Seoul) day of its ``updated_at``, and the day's friend count, where
    known, follows. The same delivery (friend, event and time) counts once. A bad admin
    key (401), or a malformed or foreign callback (400), changes nothing."""
    admin_key = channel.get_credentials().extra.get("admin_key", "")
    try:
        callbacks.check_authorization(authorization, admin_key)
        callback = callbacks.parse(body)
    except callbacks.CallbackRejected as rejected:
        logger.warning("channel %s: friend callback rejected (%s)", channel.pk, rejected.reason)
        return CallbackOutcome(rejected.status, rejected.reason)
    expected = str((channel.options or {}).get("channel_public_id", ""))
    if expected and callback.channel_public_id != expected:
        logger.warning("channel %s: friend callback for another channel", channel.pk)
        return CallbackOutcome(
            400, f"channel_public_id {callback.channel_public_id[:40]!r} is not this channel's"
        )
    day = local_day(channel.organisation, callback.occurred_at)
    added = callback.event == FriendEvent.Event.ADDED
    with transaction.atomic():
        try:
            with transaction.atomic():
                FriendEvent.objects.create(
                    organisation_id=channel.organisation_id,
                    channel=channel,
                    friend_key=callbacks.friend_key(
                        settings.SECRET_KEY, callback.id_type, callback.friend_id
                    ),
                    event=callback.event,
                    occurred_at=callback.occurred_at,
                    day=day,
                )
        except IntegrityError:
            return CallbackOutcome(200, "already counted")
        row = AudienceDay.objects.select_for_update().filter(channel=channel, day=day).first()
        if row is None:
            # A new day starts from yesterday's count, where known: the callbacks are what
            # changes it.
            carried = (
                AudienceDay.objects.filter(channel=channel, day=day - dt.timedelta(days=1))
                .values_list("followers", flat=True)
                .first()
            )
            row, _created = _claim_day(
                channel, day, followers=carried, gained=0, lost=0, source=AudienceSource.CALLBACK
            )
        # An unknown count stays unknown (NULL + 1 is NULL); a known one never goes below 0.
        followers = (
            F("followers") + 1
            if added
            else Case(
                When(followers__gt=0, then=F("followers") - 1),
                default=F("followers"),
                output_field=PositiveIntegerField(),
            )
        )
        AudienceDay.objects.filter(pk=row.pk).update(
            gained=Coalesce(F("gained"), Value(0)) + (1 if added else 0),
            lost=Coalesce(F("lost"), Value(0)) + (0 if added else 1),
            followers=followers,
            updated_at=timezone.now(),
        )
    return CallbackOutcome(200, "counted", counted=True)


def prune_friend_events(now: dt.datetime | None = None) -> int:
    """Forget callback receipts old enough that Kakao will not deliver them again."""
    cutoff = (now or timezone.now()) - FRIEND_EVENTS_KEPT
    deleted, _by_model = FriendEvent.objects.filter(received_at__lt=cutoff).delete()
    return deleted
