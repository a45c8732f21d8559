"""Citizens' participation: polls and naming contests (공모), their options, the posts on
the channels where comments count as votes, and the ballots from every source — the public
web page, KakaoTalk, comments — each kept with why it counts or does not."""

from __future__ import annotations

import secrets
from typing import Any, ClassVar

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sotong.core.scoping import OrganisationOwned


def new_public_token() -> str:
    return secrets.token_urlsafe(12)


class PollKind(models.TextChoices):
    POLL = "poll", _("Poll")
    NAMING = "naming", _("Naming contest")


class PollState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMISSIONS = "submissions", _("Taking proposals")
    VOTING = "voting", _("Voting")
    CLOSED = "closed", _("Voting closed")


class Poll(OrganisationOwned):
    kind = models.CharField(
        _("kind"), max_length=12, choices=PollKind.choices, default=PollKind.POLL
    )
    title = models.CharField(_("title"), max_length=200)
    question = models.TextField(_("question"))
    description = models.TextField(_("description"), blank=True)
    # The department that owns the policy: it gets the result as a report.
    department = models.ForeignKey(
        "core.Department",
        on_delete=models.PROTECT,
        related_name="polls",
        verbose_name=_("department"),
    )
    state = models.CharField(
        _("state"), max_length=12, choices=PollState.choices, default=PollState.DRAFT
    )
    # Naming contests take proposals first; then the shortlist is voted on.
    submissions_open_at = models.DateTimeField(_("proposals from"), null=True, blank=True)
    submissions_close_at = models.DateTimeField(_("proposals until"), null=True, blank=True)
    opens_at = models.DateTimeField(_("voting opens"))
    closes_at = models.DateTimeField(_("voting closes"))
    max_choices = models.PositiveSmallIntegerField(_("choices per person"), default=1)
    # The web page and KakaoTalk; comment channels are the poll's posts.
    on_web = models.BooleanField(_("vote on the web page"), default=True)
    on_kakao = models.BooleanField(_("vote in the KakaoTalk chat"), default=True)
    public_token = models.CharField(max_length=32, unique=True, default=new_public_token)
    created_by = models.ForeignKey(
        "core.Staff", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    # Closing the loop: what the city decided and why, published where people took part.
    decision = models.TextField(_("the city's response"), blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    department_path: ClassVar[str | None] = "department"

    class Meta:
        verbose_name = _("poll")
        verbose_name_plural = _("polls")
        ordering = ["-opens_at", "-pk"]

    def __str__(self) -> str:
        return self.title

    def is_open(self, at: Any = None) -> bool:
        moment = at or timezone.now()
        return self.state == PollState.VOTING and self.opens_at <= moment < self.closes_at


class PollOption(OrganisationOwned):
    poll = models.ForeignKey(Poll, on_delete=models.CASCADE, related_name="options")
    position = models.PositiveSmallIntegerField(_("number"))
    label = models.CharField(_("option"), max_length=100)
    description = models.TextField(_("description"), blank=True)
    image = models.ForeignKey(
        "publishing.PostImage",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("image"),
    )

    class Meta:
        verbose_name = _("option")
        verbose_name_plural = _("options")
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["poll", "position"], name="poll_option_position")
        ]

    def __str__(self) -> str:
        return f"{self.position}. {self.label}"


class PollPost(OrganisationOwned):
    """A post on a channel under which comments are read as votes."""

    poll = models.ForeignKey(Poll, on_delete=models.CASCADE, related_name="posts")
    channel = models.ForeignKey("channels.Channel", on_delete=models.PROTECT, related_name="+")
    post_external_id = models.CharField(_("post id on the platform"), max_length=200)
    url = models.URLField(_("address"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("poll post")
        verbose_name_plural = _("poll posts")
        constraints = [
            models.UniqueConstraint(fields=["channel", "post_external_id"], name="poll_post_unique")
        ]

    def __str__(self) -> str:
        return f"{self.poll_id}: {self.post_external_id}"


class BallotSource(models.TextChoices):
    WEB = "web", _("Web page")
    KAKAO = "kakao", _("KakaoTalk")
    BAND = "band", _("Naver Band")
    FACEBOOK = "facebook", _("Facebook")
    INSTAGRAM = "instagram", _("Instagram")
    X = "x", _("X")
    OTHER = "other", _("Other channel")


class Ballot(OrganisationOwned):
    """One vote as cast, valid or not. ``voter`` is a keyed pseudonym of the person on the
    source (a web device, a KakaoTalk user, a commenter); ``source_ref`` makes each cast
    vote stored once (the comment's id, the web request's id), so collecting again never
    duplicates it."""

    poll = models.ForeignKey(Poll, on_delete=models.CASCADE, related_name="ballots")
    source = models.CharField(_("source"), max_length=12, choices=BallotSource.choices)
    channel = models.ForeignKey(
        "channels.Channel", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    voter = models.CharField(max_length=64)
    source_ref = models.CharField(max_length=200)
    cast_at = models.DateTimeField(_("cast"))
    choices = models.JSONField(default=list, blank=True)
    valid = models.BooleanField(_("valid"), default=True)
    # Why the parser or the rules did not take it (machine code) and for staff, in words.
    reason = models.CharField(_("reason"), max_length=30, blank=True)
    detail = models.CharField(_("why"), max_length=300, blank=True)
    # What the citizen wrote (comments, chat), masked.
    text = models.TextField(_("text"), blank=True)
    message = models.ForeignKey(
        "inbox.Message", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("ballot")
        verbose_name_plural = _("ballots")
        ordering = ["cast_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["poll", "source", "source_ref"], name="ballot_once_per_source_ref"
            )
        ]
        indexes = [models.Index(fields=["poll", "source", "voter"], name="ballot_voter_idx")]

    def __str__(self) -> str:
        return f"ballot {self.pk}"


class IdentityLink(OrganisationOwned):
    """The citizen confirmed that two of their identities are one person (a code shown on
    the web page, sent back through KakaoTalk): their ballots count once across both."""

    person = models.CharField(max_length=64)
    source = models.CharField(max_length=12, choices=BallotSource.choices)
    voter = models.CharField(max_length=64)
    linked_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "source", "voter"], name="identity_link_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.source}:{self.voter[:8]} → {self.person[:8]}"


class SubmissionState(models.TextChoices):
    PENDING = "pending", _("Waiting for review")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    SHORTLISTED = "shortlisted", _("Shortlisted")


class Submission(OrganisationOwned):
    """A name proposed in a naming contest, with the citizen's reason."""

    poll = models.ForeignKey(Poll, on_delete=models.CASCADE, related_name="submissions")
    name = models.CharField(_("proposed name"), max_length=100)
    reason = models.TextField(_("reason"), blank=True)
    source = models.CharField(_("source"), max_length=12, choices=BallotSource.choices)
    voter = models.CharField(max_length=64)
    source_ref = models.CharField(max_length=200)
    submitted_at = models.DateTimeField(default=timezone.now)
    state = models.CharField(
        _("state"), max_length=12, choices=SubmissionState.choices, default=SubmissionState.PENDING
    )
    moderated_by = models.ForeignKey(
        "core.Staff", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    moderated_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("proposal")
        verbose_name_plural = _("proposals")
        ordering = ["submitted_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["poll", "source", "source_ref"], name="submission_once_per_source_ref"
            )
        ]

    def __str__(self) -> str:
        return self.name
