"""Posts written once, their variants per channel, and the publications that carry each
variant to its channel exactly once."""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from typing import Any, ClassVar

from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sotong.core.scoping import OrganisationOwned, ScopedQuerySet


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
    # Taken back after it went out: its publications are deleted or cancelled, its
    # records kept.
    WITHDRAWN = "withdrawn", _("Withdrawn")


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
    withdrawn_at = models.DateTimeField(_("withdrawn"), null=True, blank=True)
    withdraw_reason = models.TextField(_("why it was withdrawn"), blank=True)

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
    # It went out, then the post was withdrawn and it is gone from the platform.
    WITHDRAWN = "withdrawn", _("Withdrawn")


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
    # The text on the platform once it differs from the variant (edited after publishing);
    # empty while the variant's text is what went out.
    platform_text = models.TextField(_("text on the platform"), blank=True)
    withdrawn_at = models.DateTimeField(_("withdrawn"), null=True, blank=True)

    department_path: ClassVar[str | None] = "variant__post__department"

    class Meta:
        verbose_name = _("publication")
        verbose_name_plural = _("publications")
        ordering = ["due_at", "id"]
        indexes = [
            models.Index(fields=["state", "due_at"], name="publication_due_idx"),
            # Pacing counts each channel's claims within the platform's window.
            models.Index(fields=["channel", "claimed_at"], name="publication_pace_idx"),
        ]

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
    # The approval step the decision was made in; empty when the organisation has no chain.
    step = models.ForeignKey(
        "ApprovalStep",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("approval step"),
    )
    # An administrator (or a pre-approved series' approver) decided for the whole step.
    for_step = models.BooleanField(default=False)

    department_path: ClassVar[str | None] = "post__department"

    class Meta:
        verbose_name = _("review")
        verbose_name_plural = _("reviews")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.post}: {self.decision}"


# -- series -------------------------------------------------------------------------------


class SeriesKind(models.TextChoices):
    QUEUE = "queue", _("Prepared items")
    FEED = "feed", _("Data feed")


class FeedFormat(models.TextChoices):
    CSV = "csv", "CSV"
    JSON = "json", "JSON"


def default_lead_time() -> dt.timedelta:
    return dt.timedelta(hours=24)


def default_poll_interval() -> dt.timedelta:
    return dt.timedelta(hours=1)


class Series(OrganisationOwned):
    """Posts that recur on an RFC 5545 rule: each occurrence takes the next prepared item
    from the queue, or renders that day's rows of a data feed."""

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(
        _("kind"), max_length=10, choices=SeriesKind.choices, default=SeriesKind.QUEUE
    )
    department = models.ForeignKey(
        "core.Department",
        on_delete=models.PROTECT,
        related_name="series",
        verbose_name=_("department"),
    )
    channels = models.ManyToManyField(
        "channels.Channel", related_name="series", verbose_name=_("channels")
    )
    rule = models.TextField(_("recurrence rule"))
    # DTSTART of the rule: occurrences count from here, at its time of day unless the rule
    # says BYHOUR/BYMINUTE.
    starts_at = models.DateTimeField(_("starts"))
    skip_holidays = models.BooleanField(_("skip public holidays"), default=True)
    pre_approved = models.BooleanField(_("pre-approved"), default=False)
    approver = models.ForeignKey(
        "core.Staff",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("approver"),
    )
    lead_time = models.DurationField(_("prepared ahead by"), default=default_lead_time)
    active = models.BooleanField(_("active"), default=True)
    hashtags = models.JSONField(_("hashtags"), default=list, blank=True)
    created_by = models.ForeignKey(
        "core.Staff", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    # Every occurrence up to here is settled (a post made or skipped): materialising
    # resumes after it instead of walking the rule from its start.
    settled_until = models.DateTimeField(null=True, blank=True, editable=False)
    # Data feed series only.
    title_template = models.CharField(_("title template"), max_length=300, blank=True)
    body_template = models.TextField(_("body template"), blank=True)
    date_column = models.CharField(_("date column"), max_length=50, default="date")
    feed_url = models.URLField(_("feed address"), max_length=500, blank=True)
    feed_format = models.CharField(
        _("feed format"), max_length=10, choices=FeedFormat.choices, default=FeedFormat.CSV
    )
    feed_poll_interval = models.DurationField(_("fetched every"), default=default_poll_interval)
    feed_next_fetch_at = models.DateTimeField(null=True, blank=True, db_index=True)

    department_path: ClassVar[str | None] = "department"

    class Meta:
        verbose_name = _("series")
        verbose_name_plural = _("series")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "name"], name="series_name_unique")
        ]

    def __str__(self) -> str:
        return self.name


class SeriesItem(OrganisationOwned):
    """A prepared post waiting in a series' queue; used by one occurrence."""

    series = models.ForeignKey(Series, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveIntegerField(_("position"), default=0)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("body"))
    link = models.URLField(_("link"), blank=True)
    hashtags = models.JSONField(_("hashtags"), default=list, blank=True)
    post = models.ForeignKey(
        Post, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    used_at = models.DateTimeField(_("used"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    department_path: ClassVar[str | None] = "series__department"

    class Meta:
        verbose_name = _("series item")
        verbose_name_plural = _("series items")
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.title


class OccurrenceState(models.TextChoices):
    # Known, not yet prepared (the queue is empty, the feed has no rows yet, …).
    WAITING = "waiting", _("Waiting")
    CREATED = "created", _("Post created")
    SKIPPED = "skipped", _("Skipped")


class SeriesOccurrence(OrganisationOwned):
    """One occurrence of a series' rule. Unique per (series, time): however many workers
    prepare it, and however often after a crash, it makes at most one post."""

    series = models.ForeignKey(Series, on_delete=models.CASCADE, related_name="occurrences")
    at = models.DateTimeField(_("time"))
    state = models.CharField(
        _("state"),
        max_length=10,
        choices=OccurrenceState.choices,
        default=OccurrenceState.WAITING,
    )
    post = models.ForeignKey(
        Post, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    # When the owners were told the queue has nothing for this occurrence (once only).
    warned_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    department_path: ClassVar[str | None] = "series__department"

    class Meta:
        verbose_name = _("series occurrence")
        verbose_name_plural = _("series occurrences")
        ordering = ["-at"]
        constraints = [
            models.UniqueConstraint(fields=["series", "at"], name="series_occurrence_once")
        ]

    def __str__(self) -> str:
        return f"{self.series} @ {self.at:%Y-%m-%d %H:%M}"


class FeedSource(models.TextChoices):
    UPLOAD = "upload", _("Uploaded file")
    URL = "url", _("Fetched from the address")


class FeedVersion(OrganisationOwned):
    """What a data feed held when it was uploaded or fetched: the bytes as received, and
    the rows read from them or why they could not be read. Only the newest is used."""

    series = models.ForeignKey(Series, on_delete=models.CASCADE, related_name="feed_versions")
    source = models.CharField(_("source"), max_length=10, choices=FeedSource.choices)
    name = models.CharField(_("file or address"), max_length=500, blank=True)
    content = models.BinaryField(blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    rows = models.JSONField(default=list, blank=True)
    columns = models.JSONField(default=list, blank=True)
    error = models.TextField(_("error"), blank=True)
    received_at = models.DateTimeField(_("received"), default=timezone.now)
    # The last time the same bytes were fetched again.
    checked_at = models.DateTimeField(_("last checked"), default=timezone.now)
    by = models.ForeignKey(
        "core.Staff", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    department_path: ClassVar[str | None] = "series__department"

    class Meta:
        verbose_name = _("feed version")
        verbose_name_plural = _("feed versions")
        ordering = ["-received_at", "-id"]

    def __str__(self) -> str:
        return f"{self.series} @ {self.received_at:%Y-%m-%d %H:%M}"

    @property
    def ok(self) -> bool:
        return not self.error


# -- images -------------------------------------------------------------------------------


def image_token() -> str:
    return secrets.token_urlsafe(32)


class PostImage(OrganisationOwned):
    """An image of a post, checked and re-encoded on upload (publishing.images): stored
    without its metadata, served to the platforms at an address only its token opens."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="images")
    position = models.PositiveIntegerField(_("position"), default=0)
    file = models.FileField(_("file"), upload_to="post-images/", max_length=200)
    content_type = models.CharField(_("content type"), max_length=50)
    width = models.PositiveIntegerField(_("width"))
    height = models.PositiveIntegerField(_("height"))
    size = models.PositiveIntegerField(_("bytes"))
    alt_text = models.CharField(_("description (alt text)"), max_length=1000, blank=True)
    # The public address's secret: platforms fetch the image without signing in, so the
    # address must not be guessable from the post or image id.
    token = models.CharField(max_length=64, unique=True, default=image_token, editable=False)
    original_name = models.CharField(_("uploaded as"), max_length=255, blank=True)
    uploaded_by = models.ForeignKey(
        "core.Staff", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("uploaded"), default=timezone.now, editable=False)

    department_path: ClassVar[str | None] = "post__department"

    class Meta:
        verbose_name = _("image")
        verbose_name_plural = _("images")
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.original_name or f"{self.post} #{self.position}"


# -- approval chain -----------------------------------------------------------------------


class ApprovalRule(models.TextChoices):
    ANY = "any", _("Any one of them")
    ALL = "all", _("All of them")


class ApprovalStep(OrganisationOwned):
    """One step of the organisation's approval chain (e.g. 부서장 검토, then 홍보담당관
    승인). A post submitted for approval goes through the steps in order; with no steps,
    one approval by anyone who approves posts is enough."""

    order = models.PositiveIntegerField(_("order"), default=0)
    name = models.CharField(_("name"), max_length=100)
    approvers = models.ManyToManyField(
        "core.Staff", related_name="approval_steps", verbose_name=_("approvers")
    )
    rule = models.CharField(
        _("rule"), max_length=10, choices=ApprovalRule.choices, default=ApprovalRule.ANY
    )

    class Meta:
        verbose_name = _("approval step")
        verbose_name_plural = _("approval steps")
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return self.name


# -- history and changes after publishing ---------------------------------------------------


class RevisionsAreAppendOnly(Exception):
    """A post's history is a public record: revisions are never changed or deleted."""


class RevisionQuerySet(ScopedQuerySet["PostRevision"]):
    def update(self, **kwargs: Any) -> int:
        raise RevisionsAreAppendOnly("revisions cannot be changed")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise RevisionsAreAppendOnly("revisions cannot be deleted")


class RevisionReason(models.TextChoices):
    COMPOSED = "composed", _("written")
    EDITED = "edited", _("edited")
    VARIANT_EDITED = "variant_edited", _("text for a channel edited")
    EDITED_AFTER_PUBLISHING = "edited_after_publishing", _("edited after publishing")
    WITHDRAWN = "withdrawn", _("withdrawn")


class PostRevision(OrganisationOwned):
    """What the post said at one moment: its content and every channel's text, who changed
    it and why. Append-only, like the audit log."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField(_("revision"))
    snapshot = models.JSONField(_("content"))
    by = models.ForeignKey(
        "core.Staff", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    by_label = models.CharField(_("who"), max_length=150)
    at = models.DateTimeField(_("when"), default=timezone.now)
    why = models.CharField(_("why"), max_length=30, choices=RevisionReason.choices)
    note = models.TextField(_("note"), blank=True)

    department_path: ClassVar[str | None] = "post__department"
    objects = RevisionQuerySet.as_manager()  # type: ignore[misc]

    class Meta:
        verbose_name = _("revision")
        verbose_name_plural = _("revisions")
        ordering = ["number"]
        constraints = [
            models.UniqueConstraint(fields=["post", "number"], name="post_revision_number")
        ]

    def __str__(self) -> str:
        return f"{self.post} r{self.number}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise RevisionsAreAppendOnly("revisions cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise RevisionsAreAppendOnly("revisions cannot be deleted")


class ChangeKind(models.TextChoices):
    EDIT = "edit", _("Edit")
    DELETE = "delete", _("Delete")


class ChangeState(models.TextChoices):
    PENDING = "pending", _("Waiting to be sent")
    APPLYING = "applying", _("Being sent")
    DONE = "done", _("Done")
    # The platform has no API for it: a person makes the change and confirms it.
    BY_HAND = "by_hand", _("To do by hand")
    FAILED = "failed", _("Failed")
    # Sent, no answer: retried automatically (edits and deletes repeat safely).
    UNCONFIRMED = "unconfirmed", _("Unconfirmed")
    HELD = "held", _("Held")
    # A newer change (a later edit, or the withdrawal) replaced it before it was made.
    SUPERSEDED = "superseded", _("Replaced by a later change")


class PublicationChange(OrganisationOwned):
    """An edit or a deletion of a publication that is out, carried to its platform where
    the platform allows it, or done by a person where it does not."""

    publication = models.ForeignKey(Publication, on_delete=models.CASCADE, related_name="changes")
    kind = models.CharField(_("kind"), max_length=10, choices=ChangeKind.choices)
    text = models.TextField(_("text"), blank=True)
    state = models.CharField(
        _("state"),
        max_length=20,
        choices=ChangeState.choices,
        default=ChangeState.PENDING,
        db_index=True,
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    requested_by = models.ForeignKey(
        "core.Staff", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    requested_label = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(_("requested"), default=timezone.now)
    done_at = models.DateTimeField(_("done"), null=True, blank=True)
    done_by_hand = models.BooleanField(_("done by hand"), default=False)
    claimed_at = models.DateTimeField(null=True, blank=True)
    claimed_by = models.CharField(max_length=100, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    department_path: ClassVar[str | None] = "publication__variant__post__department"

    class Meta:
        verbose_name = _("change after publishing")
        verbose_name_plural = _("changes after publishing")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["state", "next_attempt_at"], name="change_due_idx")]

    def __str__(self) -> str:
        return f"{self.publication} {self.kind} ({self.state})"


# -- topic tags ---------------------------------------------------------------------------------


class Topic(OrganisationOwned):
    """A topic tag the organisation offers when composing (관광, 축제, 교통, …). Posts keep
    the tag's name, so a retired topic stays on the posts that have it and history reads as
    it was; only the offer changes."""

    name = models.CharField(_("name"), max_length=30)
    position = models.PositiveIntegerField(_("position"), default=0)
    active = models.BooleanField(_("offered"), default=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("topic")
        verbose_name_plural = _("topics")
        ordering = ["position", "id"]
        constraints = [
            # Names are stored normalised (NFC, single spaces); Latin letters differ in
            # case only in how they are typed, so "Eco" and "eco" are the same topic.
            models.UniqueConstraint(
                Lower("name"), "organisation", name="topic_name_unique_per_organisation"
            )
        ]

    def __str__(self) -> str:
        return self.name
