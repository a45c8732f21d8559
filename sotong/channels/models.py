"""A city's channels on the platforms, and what citizens send through them."""

from __future__ import annotations

import secrets
from typing import ClassVar

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sotong.core.crypto import EncryptedTextField
from sotong.core.scoping import OrganisationOwned
from sotong.platforms.base import Capability, Connector, Credentials, connector_class


class PlatformKind(models.TextChoices):
    FACEBOOK = "facebook", "Facebook"
    INSTAGRAM = "instagram", "Instagram"
    X = "x", "X"
    BAND = "band", _("Naver Band")
    KAKAO = "kakao", _("KakaoTalk channel")
    NAVER_BLOG = "naver_blog", _("Naver Blog")
    YOUTUBE = "youtube", "YouTube"
    TELEGRAM = "telegram", "Telegram"
    MASTODON = "mastodon", "Mastodon"


class ChannelStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    NEEDS_RECONNECT = "needs_reconnect", _("Needs reconnecting")
    PAUSED = "paused", _("Paused")
    # No API for publishing or figures: staff publish by hand and type the numbers in.
    MANUAL = "manual", _("By hand")


CAPABILITY_LABELS = {
    Capability.PUBLISH_TEXT: _("publish text"),
    Capability.PUBLISH_LINK: _("publish links"),
    Capability.PUBLISH_IMAGE: _("publish images"),
    Capability.EDIT_POST: _("edit posts"),
    Capability.DELETE_POST: _("delete posts"),
    Capability.LIST_POSTS: _("read our posts"),
    Capability.POST_METRICS: _("post figures"),
    Capability.CHANNEL_METRICS: _("follower figures"),
    Capability.LIST_COMMENTS: _("read comments"),
    Capability.REPLY_COMMENT: _("reply to comments"),
    Capability.HIDE_COMMENT: _("hide comments"),
    Capability.FETCH_MESSAGES: _("read messages"),
    Capability.REPLY_MESSAGE: _("reply to messages"),
    Capability.WEBHOOKS: _("instant delivery (webhooks)"),
    Capability.REFRESH_CREDENTIALS: _("renew credentials"),
    Capability.MANUAL_PUBLISH: _("publish by hand"),
}


# Owners are warned this many days before a credential expires, not when a post fails.
EXPIRY_WARNING_DAYS = 7


def new_webhook_secret() -> str:
    return secrets.token_urlsafe(24)


class Channel(OrganisationOwned):
    department = models.ForeignKey(
        "core.Department",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="channels",
        verbose_name=_("department"),
        help_text=_("Empty for the city's own channels."),
    )
    kind = models.CharField(_("platform"), max_length=20, choices=PlatformKind.choices)
    name = models.CharField(_("name"), max_length=100)
    account_id = models.CharField(_("account on the platform"), max_length=200)
    api_base = models.URLField(
        _("API address"),
        blank=True,
        help_text=_("Empty for the platform itself; the simulator's address for practice."),
    )
    credentials = EncryptedTextField(_("credentials"), blank=True, editable=False)
    options = models.JSONField(_("options"), default=dict, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=ChannelStatus.choices, default=ChannelStatus.ACTIVE
    )
    status_reason = models.CharField(_("reason"), max_length=300, blank=True)
    # In the webhook URL: unguessable, per channel, rotatable.
    webhook_secret = models.CharField(
        max_length=64, default=new_webhook_secret, unique=True, editable=False
    )
    credential_expires_at = models.DateTimeField(_("credential expires"), null=True, blank=True)
    missing_scopes = models.JSONField(_("missing permissions"), default=list, blank=True)
    last_checked_at = models.DateTimeField(_("last checked"), null=True, blank=True)
    last_check_ok = models.BooleanField(_("last check passed"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    # Polling for what platforms do not push (or as a net under webhooks that can miss).
    next_poll_at = models.DateTimeField(_("next poll"), null=True, blank=True, db_index=True)
    last_polled_at = models.DateTimeField(_("last polled"), null=True, blank=True)
    # The last delivery that passed the platform's signature check: proof the webhook is
    # set up. Until one arrives, the channel is polled as often as one without webhooks.
    last_webhook_at = models.DateTimeField(_("last webhook delivery"), null=True, blank=True)
    # Where the last message poll stopped (the platform's cursor, offset or newest id).
    message_cursor = models.CharField(max_length=200, blank=True, editable=False)

    department_path: ClassVar[str | None] = "department"

    class Meta:
        verbose_name = _("channel")
        verbose_name_plural = _("channels")
        ordering = ["organisation", "kind", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "kind", "account_id"], name="channel_account_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"

    @property
    def connector_class(self) -> type[Connector]:
        return connector_class(self.kind)

    @property
    def capabilities(self) -> frozenset[Capability]:
        return self.connector_class.capabilities

    @property
    def days_until_expiry(self) -> int | None:
        """Whole days left on the credential (negative once expired); None if it does not
        expire."""
        if self.credential_expires_at is None:
            return None
        return (self.credential_expires_at - timezone.now()).days

    @property
    def expires_soon(self) -> bool:
        days = self.days_until_expiry
        return days is not None and days < EXPIRY_WARNING_DAYS

    @property
    def base_status(self) -> str:
        """The status of a healthy channel of this kind: active, or by hand."""
        return (
            ChannelStatus.MANUAL
            if self.connector_class.publishes_by_hand()
            else ChannelStatus.ACTIVE
        )

    def get_credentials(self) -> Credentials:
        return Credentials.from_json(self.credentials or "")

    def set_credentials(self, credentials: Credentials) -> None:
        self.credentials = credentials.to_json()
        self.credential_expires_at = credentials.expires_at


class InboundEvent(OrganisationOwned):
    """Something a citizen said through a channel, exactly once per (channel, external id)
    however often the platform delivers it. The inbox turns these into messages and cases."""

    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="inbound_events")
    kind = models.CharField(max_length=20)
    external_id = models.CharField(max_length=200)
    # Citizens' words and identities are personal data: encrypted at rest.
    text = EncryptedTextField(blank=True)
    author_id = EncryptedTextField(blank=True)
    author_name = EncryptedTextField(blank=True)
    payload = EncryptedTextField(blank=True, help_text=_("The platform's own JSON, encrypted."))
    post_external_id = models.CharField(max_length=200, blank=True)
    parent_external_id = models.CharField(max_length=200, blank=True)
    conversation_id = models.CharField(max_length=200, blank=True)
    occurred_at = models.DateTimeField(null=True)
    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    department_path: ClassVar[str | None] = "channel__department"

    class Meta:
        verbose_name = _("inbound event")
        verbose_name_plural = _("inbound events")
        constraints = [
            models.UniqueConstraint(fields=["channel", "external_id"], name="inbound_event_unique"),
        ]
        indexes = [
            # Ingest asks for the oldest unprocessed events: the few pending among
            # millions processed, without reading past the processed ones.
            models.Index(
                fields=["received_at", "id"],
                condition=models.Q(processed_at__isnull=True),
                name="inbound_event_pending_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel_id}:{self.kind}:{self.external_id}"
