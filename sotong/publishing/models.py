"""Posts written once, their variants per channel, and the publications that carry each
variant to its channel exactly once."""

from __future__ import annotations

import uuid
from typing import ClassVar

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sotong.core.scoping import OrganisationOwned


class Campaign(OrganisationOwned):
    """A theme posts are counted under (e.g. 순천만갈대축제 2026)."""

    name = models.CharField(_("name"), max_length=100)
    starts_on = models.DateField(_("starts"), null=True, blank=True)
    ends_on = models.DateField(_("ends"), null=True, blank=True)

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        ordering = ["-starts_on", "name"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "name"], name="campaign_name_unique")
        ]

    def __str__(self) -> str:
        return self.name


class PostStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    IN_REVIEW = "in_review", _("Awaiting approval")
    CHANGES_REQUESTED = "changes_requested", _("Changes requested")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


DEFAULT_TOPICS = ("관광", "축제", "생활정보", "교통", "환경", "복지", "안전", "행정")


class Post(OrganisationOwned):
    department = models.ForeignKey(
        "core.Department",
        on_delete=models.PROTECT,
        related_name="posts",
        verbose_name=_("department"),
    )
    author = models.ForeignKey(
        "core.Staff",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="posts",
        verbose_name=_("author"),
    )
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("body"))
    link = models.URLField(_("link"), blank=True)
    hashtags = models.JSONField(_("hashtags"), default=list, blank=True)
    topics = models.JSONField(_("topics"), default=list, blank=True)
    campaign = models.ForeignKey(
        Campaign,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="posts",
        verbose_name=_("campaign"),
    )
    status = models.CharField(
        _("status"), max_length=20, choices=PostStatus.choices, default=PostStatus.DRAFT
    )
    publish_at = models.DateTimeField(_("publish at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    department_path: ClassVar[str | None] = "department"

    class Meta:
        verbose_name = _("post")
        verbose_name_plural = _("posts")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.title

    def publications(self) -> models.QuerySet[Publication]:
        return Publication.objects.filter(variant__post=self)


class Variant(OrganisationOwned):
    """The post as one channel shows it; derived by Sotong, editable by the author."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="variants")
    channel = models.ForeignKey(
        "channels.Channel", on_delete=models.PROTECT, related_name="variants"
    )
    text = models.TextField(_("text"))
    # The author changed Sotong's adaptation by hand: a new body no longer overwrites it.
    edited = models.BooleanField(_("edited by hand"), default=False)

    department_path: ClassVar[str | None] = "post__department"

    class Meta:
        verbose_name = _("variant")
        verbose_name_plural = _("variants")
        ordering = ["channel__kind", "channel__name"]
        constraints = [
            models.UniqueConstraint(fields=["post", "channel"], name="variant_per_channel")
        ]

    def __str__(self) -> str:
        return f"{self.post} → {self.channel}"


class PublicationState(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    PUBLISHING = "publishing", _("Publishing")
    PUBLISHED = "published", _("Published")
    # Sent, but no answer came back: neither published nor failed until reconciled.
    UNCONFIRMED = "unconfirmed", _("Unconfirmed")
    FAILED = "failed", _("Failed")
    HELD = "held", _("Held")
    # No publishing API: a person posts it and records the address.
    BY_HAND = "by_hand", _("To publish by hand")
    CANCELLED = "cancelled", _("Cancelled")


class HoldReason(models.TextChoices):
    NOT_APPROVED = "not_approved", _("not approved by its publish time")
    CHANNEL = "channel", _("the channel needs attention")


class Publication(OrganisationOwned):
    """One variant going out on its channel. The idempotency key is stored before the
    platform is called, so a retry after a crash reconciles instead of posting twice."""

    variant = models.OneToOneField(Variant, on_delete=models.CASCADE, related_name="publication")
    channel = models.ForeignKey(
        "channels.Channel", on_delete=models.PROTECT, related_name="publications"
    )
    due_at = models.DateTimeField(_("due"), db_index=True)
    state = models.CharField(
        _("state"),
        max_length=20,
        choices=PublicationState.choices,
        default=PublicationState.SCHEDULED,
        db_index=True,
    )
    hold_reason = models.CharField(
        _("held because"), max_length=20, choices=HoldReason.choices, blank=True
    )
    idempotency_key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    claimed_by = models.CharField(max_length=100, blank=True)
    external_id = models.CharField(_("id on the platform"), max_length=200, blank=True)
    url = models.URLField(_("address"), max_length=500, blank=True)
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    published_at = models.DateTimeField(_("published"), null=True, blank=True)
    by_hand = models.BooleanField(_("published by hand"), default=False)
    updated_at = models.DateTimeField(auto_now=True)

    department_path: ClassVar[str | None] = "variant__post__department"

    class Meta:
        verbose_name = _("publication")
        verbose_name_plural = _("publications")
        ordering = ["due_at", "id"]
        indexes = [models.Index(fields=["state", "due_at"], name="publication_due_idx")]

    def __str__(self) -> str:
        return f"{self.variant} @ {self.due_at:%Y-%m-%d %H:%M}"


class ReviewDecision(models.TextChoices):
    SUBMITTED = "submitted", _("submitted for approval")
    APPROVED = "approved", _("approved")
    CHANGES_REQUESTED = "changes_requested", _("requested changes")
    REJECTED = "rejected", _("rejected")


class Review(OrganisationOwned):
    """One step of a post's approval, with the reviewer's comment: the post's timeline."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="reviews")
    by = models.ForeignKey("core.Staff", on_delete=models.SET_NULL, null=True, related_name="+")
    by_label = models.CharField(max_length=150)
    decision = models.CharField(max_length=20, choices=ReviewDecision.choices)
    comment = models.TextField(_("comment"), blank=True)
    at = models.DateTimeField(default=timezone.now)

    department_path: ClassVar[str | None] = "post__department"

    class Meta:
        verbose_name = _("review")
        verbose_name_plural = _("reviews")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.post}: {self.decision}"
