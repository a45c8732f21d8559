"""API tokens (a staff member's key for scripts and other systems) and the idempotency
keys that make a repeated compose request return the first result."""

from __future__ import annotations

import datetime as dt

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sotong.core.scoping import OrganisationOwned


class ApiToken(OrganisationOwned):
    """Acts as its staff member, with exactly their permissions. Only the SHA-256 hash of
    the secret is stored: the secret is shown once, when the token is made."""

    staff = models.ForeignKey(
        "core.Staff", on_delete=models.CASCADE, related_name="api_tokens", verbose_name=_("staff")
    )
    name = models.CharField(_("name"), max_length=100)
    # The start of the token, shown in lists so a person can tell their tokens apart.
    prefix = models.CharField(_("prefix"), max_length=32, unique=True)
    secret_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    def is_usable(self, now: dt.datetime | None = None) -> bool:
        moment = now or timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > moment)


class IdempotencyKey(OrganisationOwned):
    """A compose request's ``Idempotency-Key``: the same key from the same caller within
    24 hours returns the post made the first time instead of composing again."""

    # "token:<id>" or "user:<id>": a key is only ever matched for the caller who sent it.
    caller = models.CharField(max_length=40)
    key = models.CharField(max_length=200)
    # The request body's SHA-256: the same key with another body is a mistake, not a retry.
    request_hash = models.CharField(max_length=64)
    post = models.ForeignKey(
        "publishing.Post", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("idempotency key")
        verbose_name_plural = _("idempotency keys")
        constraints = [
            models.UniqueConstraint(fields=["caller", "key"], name="idempotency_key_per_caller")
        ]

    def __str__(self) -> str:
        return f"{self.caller}: {self.key}"
