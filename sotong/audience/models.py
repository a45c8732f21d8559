"""Each channel's audience by day: how many follow it, how many came and went. One row per
(channel, day), whatever the figures came from, so analytics reads one table for every
platform."""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from sotong.core.scoping import OrganisationOwned


class AudienceSource(models.TextChoices):
    PLATFORM = "platform", _("Platform")
    CALLBACK = "callback", _("Friend callbacks")
    TYPED = "typed", _("Typed by staff")
    IMPORTED = "imported", _("Imported file")


# Figures people entered: kept until a person changes them (the platform's reading never
# replaces them); the others are the platforms' and are replaced only when staff confirm.
STAFF_SOURCES = frozenset({AudienceSource.TYPED, AudienceSource.IMPORTED})
PLATFORM_SOURCES = frozenset({AudienceSource.PLATFORM, AudienceSource.CALLBACK})

# What each platform calls the figure (its API field, or its own word where it has no
# API), and what Sotong's pages call it. Derived from the channel's kind, not stored.
FIGURE_NAMES: dict[str, tuple[str, Promise]] = {
    "band": ("member_count", _("members")),
    "facebook": ("followers_count", _("followers")),
    "instagram": ("followers_count", _("followers")),
    "x": ("followers_count", _("followers")),
    "mastodon": ("followers_count", _("followers")),
    "youtube": ("subscriberCount", _("subscribers")),
    "telegram": ("member_count", _("members")),
    "kakao": ("친구", _("friends")),
    "naver_blog": ("이웃", _("neighbours")),
}


def figure_name(kind: str) -> str:
    """The platform's own name for the follower figure of a channel of ``kind``."""
    return FIGURE_NAMES.get(kind, ("followers", _("followers")))[0]


def figure_label(kind: str) -> Promise:
    """Sotong's word for that figure on a channel of ``kind`` (친구, 팔로워, 멤버 …)."""
    return FIGURE_NAMES.get(kind, ("followers", _("followers")))[1]


class AudienceDay(OrganisationOwned):
    """A channel's audience on one day (the organisation's calendar day, Asia/Seoul for
    Korean cities). ``followers`` is the count that day (the last reading of the day where
    the platform is asked more than once); ``gained`` and ``lost`` the people who came and
    went that day, where known. Empty means unknown, not zero."""

    channel = models.ForeignKey(
        "channels.Channel",
        on_delete=models.PROTECT,
        related_name="audience_days",
        verbose_name=_("channel"),
    )
    day = models.DateField(_("day"))
    followers = models.PositiveIntegerField(_("followers"), null=True, blank=True)
    gained = models.PositiveIntegerField(_("new"), null=True, blank=True)
    lost = models.PositiveIntegerField(_("lost"), null=True, blank=True)
    source = models.CharField(_("source"), max_length=16, choices=AudienceSource.choices)
    # Who typed, imported or asked for the reading; empty for the scheduler and callbacks.
    recorded_by = models.ForeignKey(
        "core.Staff",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)

    department_path: ClassVar[str | None] = "channel__department"

    class Meta:
        verbose_name = _("audience day")
        verbose_name_plural = _("audience days")
        ordering = ["channel", "-day"]
        constraints = [
            models.UniqueConstraint(fields=["channel", "day"], name="audience_day_unique"),
            models.CheckConstraint(
                condition=models.Q(followers__isnull=False)
                | models.Q(gained__isnull=False)
                | models.Q(lost__isnull=False),
                name="audience_day_has_a_figure",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel_id}:{self.day.isoformat()}"

    @property
    def figure_name(self) -> str:
        return figure_name(self.channel.kind)

    @property
    def net(self) -> int | None:
        if self.gained is None and self.lost is None:
            return None
        return (self.gained or 0) - (self.lost or 0)


class FriendEvent(OrganisationOwned):
    """One KakaoTalk relationship callback (a friend added or blocked the channel), kept so
    that a re-delivery is counted once. The friend is kept only as a keyed hash (HMAC with
    the site's secret key): enough to recognise the same delivery, useless to identify
    anyone. Pruned after ``actions.FRIEND_EVENTS_KEPT``."""

    class Event(models.TextChoices):
        ADDED = "added", _("added")
        BLOCKED = "blocked", _("blocked")

    channel = models.ForeignKey(
        "channels.Channel", on_delete=models.CASCADE, related_name="friend_events"
    )
    friend_key = models.CharField(max_length=64)
    event = models.CharField(max_length=8, choices=Event.choices)
    occurred_at = models.DateTimeField()
    day = models.DateField()
    received_at = models.DateTimeField(default=timezone.now, db_index=True)

    department_path: ClassVar[str | None] = "channel__department"

    class Meta:
        verbose_name = _("friend event")
        verbose_name_plural = _("friend events")
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "friend_key", "event", "occurred_at"],
                name="friend_event_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel_id}:{self.event}:{self.day.isoformat()}"
