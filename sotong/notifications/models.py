"""Notices to staff: what needs a person's attention (a held post, a dead credential, a
queue running dry), in the app and by email. Only staff are recipients, and the texts
name posts, channels and series, never citizens."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from sotong.core.scoping import OrganisationOwned, ScopedQuerySet


class NotificationKind(models.TextChoices):
    POST_HELD = "post_held", _("Post held")
    PUBLICATION_FAILED = "publication_failed", _("Publication failed")
    PUBLICATION_UNCONFIRMED = "publication_unconfirmed", _("Publication unconfirmed")
    CHANNEL_HELD = "channel_held", _("Channel needs reconnecting")
    CHANNEL_PERMISSIONS = "channel_permissions", _("Channel lacks permissions")
    CREDENTIAL_EXPIRING = "credential_expiring", _("Credential expiring")
    SERIES_QUEUE_LOW = "series_queue_low", _("Series queue running dry")
    SERIES_SKIPPED = "series_skipped", _("Series occurrence skipped")
    FEED_FAILED = "feed_failed", _("Feed could not be read")
    REVIEW_REQUESTED = "review_requested", _("Approval requested")
    CHANGES_REQUESTED = "changes_requested", _("Changes requested")
    POST_REJECTED = "post_rejected", _("Post rejected")
    CHANGE_FAILED = "change_failed", _("Change not made")
    CHANGE_UNCONFIRMED = "change_unconfirmed", _("Change unconfirmed")
    EDIT_BY_HAND = "edit_by_hand", _("Edit by hand")
    DELETE_BY_HAND = "delete_by_hand", _("Delete by hand")
    CASE_ASSIGNED = "case_assigned", _("Case assigned")
    CASE_DUE_SOON = "case_due_soon", _("Case due soon")
    CASE_OVERDUE = "case_overdue", _("Case overdue")
    REFERRAL_REQUESTED = "referral_requested", _("Referral to your department")
    REFERRAL_ANSWERED = "referral_answered", _("Referral answered")
    REPLY_FAILED = "reply_failed", _("Reply not sent")
    REPLY_APPROVAL_REQUESTED = "reply_approval_requested", _("Reply waiting for approval")
    REPLY_RETURNED = "reply_returned", _("Reply returned")
    POLL_CLOSED = "poll_closed", _("Poll result")


# Title and body of each kind, filled from the notice's params when shown: each reader
# sees it in the language of the page (or of the email) rather than the one it was made in.
TEXTS: dict[str, tuple[Promise, Promise]] = {
    NotificationKind.POST_HELD: (
        _("Held: “%(post)s”"),
        _(
            "“%(post)s” was not approved by its publish time (%(due)s), so it was not "
            "published. Approve it and set a new time."
        ),
    ),
    NotificationKind.PUBLICATION_FAILED: (
        _("Not published on %(channel)s: “%(post)s”"),
        _("%(channel)s refused “%(post)s”: %(reason)s"),
    ),
    NotificationKind.PUBLICATION_UNCONFIRMED: (
        _("Unconfirmed on %(channel)s: “%(post)s”"),
        _(
            "Sotong cannot tell whether “%(post)s” went out on %(channel)s. Check the "
            "channel, then confirm it or publish it again."
        ),
    ),
    NotificationKind.CHANNEL_HELD: (
        _("%(channel)s needs reconnecting"),
        _(
            "%(channel)s cannot publish: %(reason)s Its posts wait until the channel is "
            "reconnected."
        ),
    ),
    NotificationKind.CHANNEL_PERMISSIONS: (
        _("%(channel)s lacks permissions"),
        _(
            "%(channel)s was not granted these permissions: %(scopes)s. Reconnect it and allow them."
        ),
    ),
    NotificationKind.CREDENTIAL_EXPIRING: (
        _("%(channel)s: credential expires on %(date)s"),
        _(
            "The credential of %(channel)s expires on %(date)s. Reconnect the channel before "
            "then, or its posts will be held."
        ),
    ),
    NotificationKind.SERIES_QUEUE_LOW: (
        _("%(series)s: the queue is running dry"),
        _("The queue of %(series)s has nothing for %(at)s. Add an item before then."),
    ),
    NotificationKind.SERIES_SKIPPED: (
        _("%(series)s: %(at)s was skipped"),
        _("Nothing was published for %(series)s at %(at)s: %(reason)s"),
    ),
    NotificationKind.FEED_FAILED: (
        _("%(series)s: the feed could not be read"),
        _("The feed of %(series)s could not be read, so nothing is published from it: %(error)s"),
    ),
    NotificationKind.REVIEW_REQUESTED: (
        _("Awaiting your approval: “%(post)s”"),
        _("%(by)s asks for approval of “%(post)s”, to go out at %(due)s."),
    ),
    NotificationKind.CHANGES_REQUESTED: (
        _("Changes requested: “%(post)s”"),
        _("%(by)s asks for changes to “%(post)s”: %(comment)s"),
    ),
    NotificationKind.POST_REJECTED: (
        _("Rejected: “%(post)s”"),
        _("%(by)s rejected “%(post)s”: %(comment)s"),
    ),
    NotificationKind.CHANGE_FAILED: (
        _("Change not made on %(channel)s: “%(post)s”"),
        _(
            "%(channel)s did not take the change to “%(post)s”: %(reason)s Try it again, or "
            "make the change on the platform by hand and confirm it."
        ),
    ),
    NotificationKind.CHANGE_UNCONFIRMED: (
        _("Change unconfirmed on %(channel)s: “%(post)s”"),
        _(
            "Sotong cannot tell whether the change to “%(post)s” was made on %(channel)s. "
            "It keeps trying; check the channel, and confirm the change if it is there."
        ),
    ),
    NotificationKind.EDIT_BY_HAND: (
        _("Edit by hand on %(channels)s: “%(post)s”"),
        _(
            "“%(post)s” was changed after it went out, and Sotong cannot edit it on "
            "%(channels)s. Edit it there by hand, then confirm it on the post's page."
        ),
    ),
    NotificationKind.DELETE_BY_HAND: (
        _("Delete by hand from %(channels)s: “%(post)s”"),
        _(
            "“%(post)s” was withdrawn, and Sotong cannot delete it from %(channels)s. "
            "Delete it there by hand, then confirm it on the post's page."
        ),
    ),
    # Inbox notices name the case by number and the channel, never the citizen or words.
    NotificationKind.CASE_ASSIGNED: (
        _("Case %(case)s is assigned to you"),
        _("Case %(case)s from %(channel)s is assigned to %(department)s. Answer it by %(due)s."),
    ),
    NotificationKind.CASE_DUE_SOON: (
        _("Case %(case)s is due at %(due)s"),
        _("Case %(case)s (%(department)s) must be answered by %(due)s."),
    ),
    NotificationKind.CASE_OVERDUE: (
        _("Overdue: case %(case)s"),
        _("Case %(case)s (%(department)s) was due at %(due)s and is not answered yet."),
    ),
    NotificationKind.REFERRAL_REQUESTED: (
        _("Your answer is asked on case %(case)s"),
        _("%(by)s asks %(department)s for an answer on case %(case)s by %(due)s."),
    ),
    NotificationKind.REFERRAL_ANSWERED: (
        _("%(department)s answered on case %(case)s"),
        _("%(department)s answered on case %(case)s. Turn the answer into the reply."),
    ),
    NotificationKind.REPLY_FAILED: (
        _("Reply not sent on %(channel)s: case %(case)s"),
        _("The reply on case %(case)s could not be sent on %(channel)s: %(reason)s"),
    ),
    NotificationKind.REPLY_APPROVAL_REQUESTED: (
        _("Reply waiting for your approval: case %(case)s"),
        _(
            "%(by)s wrote a reply on case %(case)s, which is sensitive: it is sent once "
            "approved. Approve it or return it with a comment; the case is due %(due)s."
        ),
    ),
    NotificationKind.REPLY_RETURNED: (
        _("Reply returned: case %(case)s"),
        _("%(by)s returned the reply on case %(case)s to be changed: %(comment)s"),
    ),
    NotificationKind.POLL_CLOSED: (
        _("Result of “%(poll)s”"),
        _(
            "“%(poll)s” closed with %(people)s people counted: %(result)s. Record the city's "
            "response on the poll's page; it is published where people took part."
        ),
    ),
}


class NotificationQuerySet(ScopedQuerySet["Notification"]):
    def for_recipient(self, staff: Any) -> NotificationQuerySet:
        """A staff member's own notices: nobody reads another's."""
        return self.filter(recipient=staff)

    def unread(self) -> NotificationQuerySet:
        return self.filter(read_at__isnull=True)


class Notification(OrganisationOwned):
    recipient = models.ForeignKey(
        "core.Staff",
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=_("recipient"),
    )
    kind = models.CharField(_("kind"), max_length=32, choices=NotificationKind.choices)
    params = models.JSONField(default=dict, blank=True)
    link = models.CharField(_("link"), max_length=300, blank=True)
    # The condition this notice is about: the same key does not notify the same person
    # again while the notice is unread or for a day.
    dedupe_key = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now, db_index=True)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)
    emailed_at = models.DateTimeField(_("emailed"), null=True, blank=True)
    email_attempts = models.PositiveSmallIntegerField(default=0)
    # Taken by one sender at a time, so a retry sweep and the first send never both mail.
    email_claimed_at = models.DateTimeField(null=True, blank=True)

    objects = NotificationQuerySet.as_manager()  # type: ignore[misc]  # adds for_recipient

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["recipient", "read_at"], name="notification_unread_idx"),
            models.Index(fields=["recipient", "dedupe_key"], name="notification_dedupe_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} → {self.recipient_id}"

    def _render(self, index: int) -> str:
        texts = TEXTS.get(self.kind)
        if texts is None:
            return self.get_kind_display()
        try:
            return str(texts[index]) % self.params
        except (KeyError, TypeError, ValueError):
            # A notice written by an older version with other params: say at least what.
            return self.get_kind_display()

    @property
    def title(self) -> str:
        return self._render(0)

    @property
    def body(self) -> str:
        return self._render(1)
