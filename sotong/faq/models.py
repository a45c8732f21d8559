"""The FAQ knowledge base: per organisation, each entry with the ways citizens ask it
(question variants), the answer, the department that owns it and the dates it holds for."""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sotong.core.models import Department, Staff
from sotong.core.scoping import OrganisationOwned


class FaqEntry(OrganisationOwned):
    """One question and its answer. ``questions`` holds the variants, one per line: the
    retrieval index treats each as a way of asking the same thing. An entry answers only
    while it is active and today (in the organisation's time zone) is within its dates."""

    questions = models.TextField(
        _("questions"), help_text=_("One way of asking per line, as citizens write it.")
    )
    answer = models.TextField(_("answer"))
    department = models.ForeignKey(
        Department,
        on_delete=models.PROTECT,
        related_name="faq_entries",
        verbose_name=_("owning department"),
    )
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    updated_by = models.ForeignKey(
        Staff,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("updated by"),
    )

    department_path: ClassVar[str | None] = "department"

    class Meta:
        verbose_name = _("FAQ entry")
        verbose_name_plural = _("FAQ entries")
        ordering = ["-updated_at", "-id"]
        indexes = [models.Index(fields=["organisation", "active"], name="faq_org_active_idx")]

    def __str__(self) -> str:
        variants = self.question_list()
        return variants[0] if variants else f"FAQ {self.pk}"

    def question_list(self) -> list[str]:
        return [line.strip() for line in self.questions.splitlines() if line.strip()]

    def is_valid_on(self, day: dt.date) -> bool:
        return (
            self.active
            and (self.valid_from is None or self.valid_from <= day)
            and (self.valid_until is None or day <= self.valid_until)
        )


class FaqIndexVersion(OrganisationOwned):
    """A counter bumped in the same transaction as every change to an organisation's FAQ,
    so each web or task process can tell that its cached index is stale."""

    version = models.PositiveBigIntegerField(default=0)

    class Meta:
        verbose_name = _("FAQ index version")
        constraints = [
            models.UniqueConstraint(fields=["organisation"], name="faq_index_version_unique")
        ]

    def __str__(self) -> str:
        return f"{self.organisation_id}: {self.version}"
