"""The KakaoTalk 1:1 conversation: the organisation's chatbot settings (menu, consent
words, idle time), one session per citizen on a channel (its step, the complaint being
written, who owns it: the bot or staff), and the transcript of every turn."""

from __future__ import annotations

from typing import Any, ClassVar

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sotong.core.crypto import EncryptedTextField
from sotong.core.scoping import OrganisationOwned


class MenuAction(models.TextChoices):
    INTAKE = "intake", _("Take a complaint")
    FAQ = "faq", _("Show FAQ questions")
    POSTS = "posts", _("Show recent posts of a topic or campaign")
    STATUS = "status", _("Show the citizen's cases")
    HANDOFF = "handoff", _("Connect to a person")
    TEXT = "text", _("Answer with a fixed text")
    POLLS = "polls", _("Show the open polls")


# The menu a new organisation starts with (labels are what citizens tap, in Korean).
DEFAULT_MENU: list[dict[str, str]] = [
    {"label": "민원 접수", "action": MenuAction.INTAKE, "value": ""},
    {"label": "생활 정보", "action": MenuAction.FAQ, "value": ""},
    {"label": "행사·축제", "action": MenuAction.POSTS, "value": "축제"},
    {"label": "주간꿀팁", "action": MenuAction.POSTS, "value": "주간꿀팁"},
    {"label": "처리 현황", "action": MenuAction.STATUS, "value": ""},
    {"label": "상담원 연결", "action": MenuAction.HANDOFF, "value": ""},
]


class ChatSettings(OrganisationOwned):
    """One per organisation; made with the defaults on first use."""

    greeting = models.TextField(_("greeting"), blank=True)
    menu = models.JSONField(_("menu"), default=list, blank=True)
    consent_text = models.TextField(_("consent notice"), blank=True)
    retention_years = models.PositiveSmallIntegerField(_("retention (years)"), default=3)
    idle_minutes = models.PositiveSmallIntegerField(
        _("forget an unfinished turn after (minutes)"), default=30
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("chatbot settings")
        verbose_name_plural = _("chatbot settings")
        constraints = [
            models.UniqueConstraint(fields=["organisation"], name="chat_settings_unique")
        ]

    def __str__(self) -> str:
        return f"chat settings of {self.organisation_id}"


class Owner(models.TextChoices):
    BOT = "bot", _("Chatbot")
    STAFF = "staff", _("Staff")


class Step(models.TextChoices):
    MENU = "menu", _("Menu")
    FAQ_FEEDBACK = "faq_feedback", _("Asked whether the answer helped")
    INTAKE_WHAT = "intake_what", _("Complaint: what")
    INTAKE_WHERE = "intake_where", _("Complaint: where")
    INTAKE_WHEN = "intake_when", _("Complaint: when")
    INTAKE_PHOTO = "intake_photo", _("Complaint: photo")
    INTAKE_CONSENT = "intake_consent", _("Complaint: consent")
    INTAKE_CONFIRM = "intake_confirm", _("Complaint: confirm")
    STATUS = "status", _("Choosing a case")
    VOTE = "vote", _("Voting in a poll")


class ChatSession(OrganisationOwned):
    """A citizen's conversation on one KakaoTalk channel. Kept in the database, so it
    survives a restart and any web process can take the next turn. The citizen is known by
    the same keyed hash the inbox uses (``inbox.ingest.pseudonym``), never the user key."""

    channel = models.ForeignKey("channels.Channel", on_delete=models.PROTECT, related_name="+")
    citizen_key = models.CharField(max_length=64)
    step = models.CharField(_("step"), max_length=20, choices=Step.choices, default=Step.MENU)
    owner = models.CharField(_("owner"), max_length=8, choices=Owner.choices, default=Owner.BOT)
    # The complaint being written (JSON), encrypted: it is the citizen's words.
    draft = EncryptedTextField(blank=True)
    # Questions in a row the bot could not answer: the second hands the citizen to a person.
    misses = models.PositiveSmallIntegerField(default=0)
    faq_entry_id = models.BigIntegerField(null=True, blank=True)
    # The last case the conversation made or handed over.
    case = models.ForeignKey(
        "inbox.Case", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    turns = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(default=timezone.now)
    last_active_at = models.DateTimeField(default=timezone.now, db_index=True)
    handed_over_at = models.DateTimeField(null=True, blank=True)

    # Department roles see the conversations whose case is their department's.
    department_path: ClassVar[str | None] = "case__department"

    class Meta:
        verbose_name = _("chat session")
        verbose_name_plural = _("chat sessions")
        constraints = [
            models.UniqueConstraint(fields=["channel", "citizen_key"], name="chat_session_unique")
        ]
        indexes = [models.Index(fields=["case"], name="chat_session_case_idx")]

    def __str__(self) -> str:
        return f"chat {self.pk}"


class ChatTurn(OrganisationOwned):
    """One request and the bot's answer: the transcript, a public record. What the citizen
    wrote is kept encrypted and shown masked."""

    session = models.ForeignKey(ChatSession, on_delete=models.CASCADE, related_name="transcript")
    at = models.DateTimeField(default=timezone.now)
    # What happened: menu, faq, faq_miss, intake_*, receipt, status, handoff, staff, score…
    what = models.CharField(max_length=24)
    said = EncryptedTextField(blank=True)
    masked = models.TextField(blank=True)
    answer = models.TextField(blank=True)
    data: Any = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("chat turn")
        verbose_name_plural = _("chat turns")
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["session", "at"], name="chat_turn_session_idx")]

    def __str__(self) -> str:
        return f"turn {self.pk}"
