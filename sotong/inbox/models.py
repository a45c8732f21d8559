"""The inbox: what citizens said (messages), who said it (pseudonymous citizens), the
cases their conversations become, and everything done on a case (timeline, replies,
referrals to departments, routing corrections)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any, ClassVar

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sotong.core.crypto import EncryptedTextField
from sotong.core.scoping import OrganisationOwned


class Citizen(OrganisationOwned):
    """A person writing on one channel, known by a keyed hash of their platform id: the
    same person on the same channel is the same citizen, and the raw id is never stored
    in clear. Their handle and name are kept encrypted for the staff allowed to see them."""

    channel = models.ForeignKey(
        "channels.Channel", on_delete=models.PROTECT, related_name="citizens"
    )
    pseudonym = models.CharField(_("pseudonym"), max_length=64)
    handle = EncryptedTextField(_("platform id"), blank=True)
    display_name = EncryptedTextField(_("name"), blank=True)
    first_seen_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("citizen")
        verbose_name_plural = _("citizens")
        constraints = [
            models.UniqueConstraint(fields=["channel", "pseudonym"], name="citizen_unique"),
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        """How pages name a citizen without personal data."""
        return f"#{self.pseudonym[:8]}"


class MessageKind(models.TextChoices):
    COMMENT = "comment", _("Comment")
    MESSAGE = "message", _("Message")
    MENTION = "mention", _("Mention")


class Intent(models.TextChoices):
    QUESTION = "question", _("Question")
    COMPLAINT = "complaint", _("Complaint")
    SUGGESTION = "suggestion", _("Suggestion")
    OPINION = "opinion", _("Opinion")
    PRAISE = "praise", _("Praise")
    SPAM = "spam", _("Spam or abuse")


class Urgency(models.TextChoices):
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


class CaseStatus(models.TextChoices):
    NEW = "new", _("New")
    ASSIGNED = "assigned", _("Assigned")
    IN_PROGRESS = "in_progress", _("In progress")
    WAITING_FOR_CITIZEN = "waiting_for_citizen", _("Waiting for the citizen")
    ANSWERED = "answered", _("Answered")
    CLOSED = "closed", _("Closed")
    REOPENED = "reopened", _("Reopened")


# A case in these is done with: no deadline runs, and a follow-up reopens it.
FINISHED_STATUSES = frozenset({CaseStatus.ANSWERED, CaseStatus.CLOSED})


class CaseKind(models.TextChoices):
    """The kinds of civil complaint (민원 처리에 관한 법률 art. 2), which set the period."""

    OTHER = "other", _("Other complaint (기타민원)")
    QUESTION_LAW = "question_law", _("Question about a law (질의민원·법령)")
    QUESTION_SYSTEM = "question_system", _("Question about a system or procedure (질의민원·제도)")
    SUGGESTION = "suggestion", _("Suggestion (건의민원)")
    GRIEVANCE = "grievance", _("Grievance (고충민원)")


class Sensitivity(models.TextChoices):
    """Whether replies on a case wait for a PR editor's approval before they go out."""

    # Follows triage: sensitive while the case's urgency is high or urgent.
    AUTO = "auto", _("As triage says")
    MARKED = "marked", _("Sensitive")
    CLEARED = "cleared", _("Not sensitive")


# Triage urgencies that make a case sensitive unless staff say otherwise.
SENSITIVE_URGENCIES = frozenset({Urgency.HIGH, Urgency.URGENT})


class Case(OrganisationOwned):
    """A conversation with one citizen on one thread, tracked until it is answered."""

    channel = models.ForeignKey("channels.Channel", on_delete=models.PROTECT, related_name="+")
    citizen = models.ForeignKey(Citizen, on_delete=models.PROTECT, related_name="cases")
    # The post the comments are under, or the private conversation.
    thread_key = models.CharField(max_length=200, blank=True)
    department = models.ForeignKey(
        "core.Department",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cases",
        verbose_name=_("department"),
    )
    assignee = models.ForeignKey(
        "core.Staff",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_cases",
        verbose_name=_("assignee"),
    )
    status = models.CharField(
        _("status"), max_length=24, choices=CaseStatus.choices, default=CaseStatus.NEW
    )
    kind = models.CharField(
        _("kind"), max_length=24, choices=CaseKind.choices, default=CaseKind.OTHER
    )
    # The highest urgency triage found in the case's messages.
    urgency = models.CharField(
        _("urgency"), max_length=8, choices=Urgency.choices, default=Urgency.NORMAL
    )
    received_at = models.DateTimeField(_("received"), default=timezone.now)
    deadline = models.DateTimeField(_("deadline"), db_index=True)
    # When the assignee is reminded (75 % of the period) and whether that and the
    # escalation after the deadline happened, so each is sent once per deadline.
    remind_at = models.DateTimeField(null=True, blank=True, db_index=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    opened_at = models.DateTimeField(_("opened"), default=timezone.now)
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    satisfaction = models.PositiveSmallIntegerField(_("satisfaction"), null=True, blank=True)
    satisfaction_comment = models.TextField(_("satisfaction comment"), blank=True)
    sensitivity = models.CharField(
        _("sensitivity"), max_length=8, choices=Sensitivity.choices, default=Sensitivity.AUTO
    )
    sensitivity_reason = models.CharField(_("reason"), max_length=300, blank=True)
    sensitivity_by = models.ForeignKey(
        "core.Staff", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    sensitivity_at = models.DateTimeField(null=True, blank=True)

    department_path: ClassVar[str | None] = "department"

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(fields=["citizen", "thread_key"], name="case_thread_idx"),
            models.Index(fields=["organisation", "status"], name="case_status_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk}"

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED_STATUSES

    def is_overdue(self, now: object = None) -> bool:
        moment = now or timezone.now()
        return not self.is_finished and self.deadline < moment  # type: ignore[operator]

    @property
    def is_sensitive(self) -> bool:
        """Replies wait for approval: marked by staff, or high urgency unless cleared."""
        if self.sensitivity == Sensitivity.AUTO:
            return self.urgency in SENSITIVE_URGENCIES
        return self.sensitivity == Sensitivity.MARKED


class Message(OrganisationOwned):
    """What a citizen said, once per inbound event. The original text is encrypted; pages,
    analytics and exports use the masked text."""

    event = models.OneToOneField(
        "channels.InboundEvent", on_delete=models.PROTECT, related_name="message"
    )
    channel = models.ForeignKey("channels.Channel", on_delete=models.PROTECT, related_name="+")
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="messages")
    citizen = models.ForeignKey(Citizen, on_delete=models.PROTECT, related_name="messages")
    kind = models.CharField(_("kind"), max_length=16, choices=MessageKind.choices)
    external_id = models.CharField(max_length=200)
    post_external_id = models.CharField(max_length=200, blank=True)
    parent_external_id = models.CharField(max_length=200, blank=True)
    conversation_id = models.CharField(max_length=200, blank=True)
    # Our own post the comment is under, where it is one of ours.
    publication = models.ForeignKey(
        "publishing.Publication",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    text = EncryptedTextField(_("original text"), blank=True)
    masked_text = models.TextField(_("text"), blank=True)
    pii_kinds = models.JSONField(default=list, blank=True)
    # Keyed hash of the normalised text: spots repeats (floods, copy-paste) without
    # keeping the words in clear.
    text_hash = models.CharField(max_length=64, blank=True, db_index=True)
    occurred_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    intent = models.CharField(_("intent"), max_length=16, choices=Intent.choices, blank=True)
    urgency = models.CharField(
        _("urgency"), max_length=8, choices=Urgency.choices, default=Urgency.NORMAL
    )
    reasons = models.JSONField(default=list, blank=True)
    # Top-3 departments: [{"unit", "department_id", "name", "confidence"}].
    suggestions = models.JSONField(default=list, blank=True)
    triaged_at = models.DateTimeField(null=True, blank=True, db_index=True)
    hidden_at = models.DateTimeField(_("hidden on the platform"), null=True, blank=True)
    hidden_reason = models.CharField(_("reason for hiding"), max_length=300, blank=True)
    # Where the citizen says the matter is (the KakaoTalk intake's shared location or
    # typed address): JSON {"latitude", "longitude", "address"}, encrypted, for it can be
    # where they live.
    location = EncryptedTextField(_("location"), blank=True)

    department_path: ClassVar[str | None] = "case__department"

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["received_at", "id"]

    def __str__(self) -> str:
        return f"{self.channel_id}:{self.external_id}"

    @property
    def is_triaged(self) -> bool:
        return self.triaged_at is not None

    @property
    def place(self) -> dict[str, Any] | None:
        """The location as {"latitude", "longitude", "address"}, or None."""
        if not self.location:
            return None
        try:
            found = json.loads(self.location)
        except ValueError:
            return None
        return found if isinstance(found, dict) else None


class AttachmentKind(models.TextChoices):
    IMAGE = "image", _("Photo")


class AttachmentState(models.TextChoices):
    PENDING = "pending", _("Being fetched")
    FETCHED = "fetched", _("Fetched")
    FAILED = "failed", _("Could not be fetched")


def attachment_path(instance: MessageAttachment | None, filename: str) -> str:
    """Not guessable from the case or message: the file name is a random token."""
    import secrets

    extension = filename.rsplit(".", 1)[-1] if "." in filename else "bin"
    now = timezone.now()
    return f"citizen-photos/{now:%Y/%m}/{secrets.token_urlsafe(24)}.{extension}"


class MessageAttachment(OrganisationOwned):
    """A photo a citizen sent with a message. The platform's address for it expires, so it
    is fetched soon after ingest (``inbox.attachments``) and kept under the media
    directory, served only to staff who see the case."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    position = models.PositiveSmallIntegerField(default=0)
    kind = models.CharField(
        _("kind"), max_length=8, choices=AttachmentKind.choices, default=AttachmentKind.IMAGE
    )
    # The platform's address: it can lead to the citizen's photo without sign-in, so it is
    # encrypted, never logged, and forgotten once the photo is here.
    source_url = EncryptedTextField(blank=True)
    state = models.CharField(
        _("state"), max_length=8, choices=AttachmentState.choices, default=AttachmentState.PENDING
    )
    file = models.FileField(_("file"), upload_to=attachment_path, max_length=200, blank=True)
    # Read from the bytes, not from what the platform said.
    content_type = models.CharField(_("content type"), max_length=50, blank=True)
    size = models.PositiveIntegerField(_("bytes"), null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    fetched_at = models.DateTimeField(_("fetched"), null=True, blank=True)
    # Why the last try failed (a code: see inbox.attachments.ERRORS).
    error = models.CharField(_("error"), max_length=40, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    department_path: ClassVar[str | None] = "message__case__department"

    class Meta:
        verbose_name = _("photo")
        verbose_name_plural = _("photos")
        ordering = ["position", "id"]
        indexes = [
            # The fetcher asks for the few still to fetch, never reading the fetched.
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(state="pending"),
                name="attachment_pending_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.message_id}:photo:{self.pk}"

    @property
    def error_label(self) -> str:
        from sotong.inbox.attachments import error_label

        return error_label(self.error)


class CaseEventKind(models.TextChoices):
    OPENED = "opened", _("Opened")
    MESSAGE = "message", _("Citizen wrote")
    NOTE = "note", _("Note")
    STATUS = "status", _("Status changed")
    ASSIGNED = "assigned", _("Assigned")
    KIND = "kind", _("Kind changed")
    REPLY = "reply", _("Reply")
    REPLY_SENT = "reply_sent", _("Reply sent")
    REPLY_FAILED = "reply_failed", _("Reply failed")
    REFERRED = "referred", _("Referred")
    REFERRAL_ANSWERED = "referral_answered", _("Referral answered")
    HIDDEN = "hidden", _("Comment hidden")
    SATISFACTION = "satisfaction", _("Satisfaction recorded")
    ROUTING = "routing", _("Routing corrected")
    REOPENED = "reopened", _("Reopened")
    REMINDED = "reminded", _("Reminder sent")
    ESCALATED = "escalated", _("Escalated")
    SENSITIVITY = "sensitivity", _("Sensitivity changed")
    REPLY_APPROVED = "reply_approved", _("Reply approved")
    REPLY_RETURNED = "reply_returned", _("Reply returned for changes")
    REPLY_RESUBMITTED = "reply_resubmitted", _("Reply resubmitted")
    SATISFACTION_ASKED = "satisfaction_asked", _("Satisfaction asked")
    REPLY_HELD = "reply_held", _("Reply waits for the citizen's next message")


class CaseEvent(OrganisationOwned):
    """One line of a case's history. Staff notes are internal: never shown to citizens."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=24, choices=CaseEventKind.choices)
    actor = models.ForeignKey(
        "core.Staff", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    actor_label = models.CharField(max_length=150, blank=True)
    at = models.DateTimeField(default=timezone.now)
    text = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)

    department_path: ClassVar[str | None] = "case__department"

    class Meta:
        verbose_name = _("case event")
        verbose_name_plural = _("case events")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.case_id}:{self.kind}"


class ReplyState(models.TextChoices):
    PENDING = "pending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    # On a sensitive case: not sent until a PR editor approves it.
    AWAITING_APPROVAL = "awaiting", _("Awaiting approval")
    # Sent back by the approver with a comment: edited and resubmitted, or left.
    RETURNED = "returned", _("Returned for changes")
    # KakaoTalk without the Event API: the platform cannot reach the citizen until they
    # write again, and then it goes with the bot's answer (actions.take_held_replies).
    HELD = "held", _("Waiting for the citizen's next message")


class ReplyDelivery(models.TextChoices):
    """How a sent reply reached the citizen, where the channel offers more than one way."""

    PLATFORM = "", _("On the platform")
    # KakaoTalk's Event API: a message the city pays for (15 KRW + VAT each).
    EVENT_API = "event_api", _("By the KakaoTalk Event API")
    NEXT_MESSAGE = "next_message", _("With the citizen's next message")


class ReplyPurpose(models.TextChoices):
    ANSWER = "answer", _("Answer")
    # The short private message asking the citizen for a satisfaction score.
    SURVEY = "survey", _("Satisfaction question")


class Reply(OrganisationOwned):
    """An answer going back through the channel the citizen used. Stored before it is sent,
    so a reply that fails is shown failed and can be sent again, never lost."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="replies")
    message = models.ForeignKey(Message, on_delete=models.PROTECT, related_name="replies")
    text = models.TextField(_("reply"))
    public = models.BooleanField(_("public"), default=True)
    state = models.CharField(
        _("state"), max_length=8, choices=ReplyState.choices, default=ReplyState.PENDING
    )
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    external_id = models.CharField(max_length=200, blank=True, db_index=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now, db_index=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    by = models.ForeignKey(
        "core.Staff", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    purpose = models.CharField(
        max_length=8, choices=ReplyPurpose.choices, default=ReplyPurpose.ANSWER
    )
    # Approval on sensitive cases: who last submitted the words (the author, or whoever
    # edited them after a return), and the approver's decision.
    submitted_by = models.ForeignKey(
        "core.Staff", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reviewed_by = models.ForeignKey(
        "core.Staff", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_comment = models.TextField(_("approver's comment"), blank=True)
    delivery = models.CharField(
        _("delivery"), max_length=12, choices=ReplyDelivery.choices, blank=True, default=""
    )
    # What the city paid for it (KRW incl. VAT) at the channel's price when it was sent.
    price = models.DecimalField(_("price"), max_digits=8, decimal_places=2, null=True, blank=True)

    department_path: ClassVar[str | None] = "case__department"

    class Meta:
        verbose_name = _("reply")
        verbose_name_plural = _("replies")
        ordering = ["created_at", "id"]
        indexes = [
            # Every KakaoTalk skill request asks for the citizen's held replies: a few rows.
            models.Index(
                fields=["created_at"],
                condition=models.Q(state="held"),
                name="reply_held_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id}:reply:{self.pk}"

    @property
    def price_display(self) -> str:
        """The price without trailing zeros: 16.5, 15."""
        if self.price is None:
            return ""
        return price_text(self.price)


def price_text(amount: Decimal) -> str:
    """A KRW amount without trailing zeros (16.5, 15, 198)."""
    return format(amount.normalize(), "f")


class ReferralState(models.TextChoices):
    OPEN = "open", _("Waiting for the department")
    ANSWERED = "answered", _("Answered by the department")


class Referral(OrganisationOwned):
    """The PR office asks a department for its answer; the department answers here, and
    the PR office turns that answer into the public reply."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="referrals")
    department = models.ForeignKey(
        "core.Department", on_delete=models.PROTECT, related_name="referrals"
    )
    question = models.TextField(_("what is asked"), blank=True)
    asked_by = models.ForeignKey(
        "core.Staff", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    asked_at = models.DateTimeField(default=timezone.now)
    due_at = models.DateTimeField(_("due"))
    state = models.CharField(
        max_length=10, choices=ReferralState.choices, default=ReferralState.OPEN
    )
    answer = models.TextField(_("department's answer"), blank=True)
    answered_by = models.ForeignKey(
        "core.Staff", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    answered_at = models.DateTimeField(null=True, blank=True)

    department_path: ClassVar[str | None] = "department"

    class Meta:
        verbose_name = _("referral")
        verbose_name_plural = _("referrals")
        ordering = ["asked_at", "id"]

    def __str__(self) -> str:
        return f"{self.case_id}:referral:{self.pk}"


class RoutingLabel(OrganisationOwned):
    """A staff correction of where a message belongs: a training label for the routing
    model (the organisation's history teaches it)."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="labels")
    department = models.ForeignKey("core.Department", on_delete=models.PROTECT, related_name="+")
    unit = models.CharField(max_length=100)
    by = models.ForeignKey(
        "core.Staff", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("routing label")
        verbose_name_plural = _("routing labels")

    def __str__(self) -> str:
        return f"{self.message_id}→{self.unit}"


class RoutingModelVersion(OrganisationOwned):
    """One trained version of an organisation's own routing model (see
    ``sotong.inbox.routing_models``). Only the organisation's part is stored (the shipped
    model it is blended with ships with Sotong): a few hundred KB of ``.npz`` bytes and a
    JSON document, kept in the database rather than under the media directory so every
    web and task process on every host sees the same version, activation is one
    transaction with the file, and backups carry it."""

    created_at = models.DateTimeField(_("trained"), default=timezone.now)
    trained_on = models.PositiveIntegerField(_("trained on"), default=0)
    # The newest label time the version learnt from (the held-out figures compare
    # versions on labels neither learnt from).
    data_until = models.DateTimeField(null=True, blank=True)
    # {"held_out": n, "top1": x, "top3": x, "previous_top1": x, "previous_top3": x}
    figures = models.JSONField(default=dict, blank=True)
    arrays = models.BinaryField()
    meta = models.JSONField(default=dict)
    active = models.BooleanField(_("active"), default=False)
    activated_at = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name = _("routing model version")
        verbose_name_plural = _("routing model versions")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation"],
                condition=models.Q(active=True),
                name="routing_model_one_active",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organisation_id}:routing:{self.pk}"


class CannedResponse(OrganisationOwned):
    """A reply the city writes again and again (상용 답변), with placeholders the reply form
    fills from the case: {시민}, {부서}, {기한}, {담당자}, {기관}. Shared by the whole city
    when it has no department; else offered to that department's staff (and to the PR
    office on that department's cases). Retired, not deleted: the count stays."""

    title = models.CharField(_("title"), max_length=100)
    body = models.TextField(_("text"))
    department = models.ForeignKey(
        "core.Department",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="canned_responses",
        verbose_name=_("department"),
    )
    active = models.BooleanField(_("active"), default=True)
    use_count = models.PositiveIntegerField(_("times used"), default=0)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    updated_by = models.ForeignKey(
        "core.Staff", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    # Not scoped by ``for_staff``: the shared ones (no department) are for everyone, so
    # ``canned.visible`` decides.

    class Meta:
        verbose_name = _("canned response")
        verbose_name_plural = _("canned responses")
        ordering = ["title", "id"]
        indexes = [models.Index(fields=["organisation", "active"], name="canned_org_active_idx")]

    def __str__(self) -> str:
        return self.title


class InboxSettings(OrganisationOwned):
    """An organisation's inbox options. Absent row: the defaults."""

    # After an answer on a private conversation, ask for a 1–5 score by message.
    ask_satisfaction_by_message = models.BooleanField(
        _("ask for satisfaction by private message"), default=True
    )
    # Replies carry the link of the public satisfaction survey page.
    survey_link_in_replies = models.BooleanField(
        _("add the satisfaction survey link to replies"), default=False
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    updated_by = models.ForeignKey(
        "core.Staff", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("inbox settings")
        verbose_name_plural = _("inbox settings")
        constraints = [
            models.UniqueConstraint(fields=["organisation"], name="inbox_settings_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.organisation_id}: inbox settings"


class SurveyAnswerSource(models.TextChoices):
    PAGE = "page", _("Survey page")
    MESSAGE = "message", _("Reply on the channel")
    STAFF = "staff", _("Recorded by staff")


class SatisfactionSurvey(OrganisationOwned):
    """The one satisfaction question of a case: by private message where the channel has
    them, and on the public survey page whose signed link a reply carries. Answered once."""

    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="survey")
    created_at = models.DateTimeField(default=timezone.now)
    # When the private question went out: a score written back within 7 days counts.
    asked_at = models.DateTimeField(null=True, blank=True)
    # When a reply carrying the survey link went out.
    link_sent_at = models.DateTimeField(null=True, blank=True)
    # The survey page answers until then (14 days after the link went out).
    expires_at = models.DateTimeField()
    answered_at = models.DateTimeField(null=True, blank=True)
    answered_via = models.CharField(max_length=8, choices=SurveyAnswerSource.choices, blank=True)

    department_path: ClassVar[str | None] = "case__department"

    class Meta:
        verbose_name = _("satisfaction survey")
        verbose_name_plural = _("satisfaction surveys")

    def __str__(self) -> str:
        return f"{self.case_id}:survey"
