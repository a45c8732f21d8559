"""Business operations on the FAQ: add, edit, retire and restore entries. Each checks who
may, validates, writes the audit log and bumps the organisation's index version in the same
transaction, so every process rebuilds its index after the change commits, never before.

Who may: the PR office (editors) and administrators for every entry; department authors
for their own department's entries only.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from sotong.core import audit
from sotong.core.models import Department, Organisation, Staff
from sotong.core.permissions import Performer, actor_of, require
from sotong.core.roles import DEPARTMENT_ROLES, Capability
from sotong.faq.models import FaqEntry, FaqIndexVersion

# Writing FAQ answers is writing what the city says: the same people who draft posts.
MANAGE_FAQ = Capability.DRAFT_POSTS
MAX_QUESTIONS = 20
MAX_QUESTION_LENGTH = 300
# KakaoTalk's simple text reply holds at most 1,000 characters; an answer sent automatically
# must fit the most common channel in one message.
MAX_ANSWER_LENGTH = 1000
AUDITED = ("questions", "answer", "department", "valid_from", "valid_until", "active")


def _check_department(by: Performer, department: Department) -> None:
    if (
        isinstance(by, Staff)
        and by.role in DEPARTMENT_ROLES
        and department.pk not in by.department_scope_ids()
    ):
        raise PermissionDenied("another department's FAQ entry")


def _text(value: str) -> str:
    # NFC: a Mac types Hangul decomposed, and the index must see one spelling.
    return unicodedata.normalize("NFC", value).strip()


def clean_questions(questions: str | Iterable[str]) -> list[str]:
    """The variants as stored: one per line, trimmed, each once, blank lines dropped."""
    lines = questions.splitlines() if isinstance(questions, str) else list(questions)
    out: list[str] = []
    for line in lines:
        variant = " ".join(_text(line).split())
        if variant and variant not in out:
            out.append(variant)
    return out


def _validated(
    organisation: Organisation,
    *,
    questions: str | Iterable[str],
    answer: str,
    department: Department,
    valid_from: dt.date | None,
    valid_until: dt.date | None,
) -> dict[str, Any]:
    errors: dict[str, str] = {}
    variants = clean_questions(questions)
    if not variants:
        errors["questions"] = _("Enter at least one question, as a citizen would ask it.")
    elif len(variants) > MAX_QUESTIONS:
        errors["questions"] = _("At most %(max)d ways of asking per entry.") % {
            "max": MAX_QUESTIONS
        }
    elif any(len(variant) > MAX_QUESTION_LENGTH for variant in variants):
        errors["questions"] = _("Each question may be at most %(max)d characters long.") % {
            "max": MAX_QUESTION_LENGTH
        }
    answer = _text(answer)
    if not answer:
        errors["answer"] = _("Enter the answer.")
    elif len(answer) > MAX_ANSWER_LENGTH:
        errors["answer"] = _(
            "The answer is too long to send in one message (at most %(max)d characters)."
        ) % {"max": MAX_ANSWER_LENGTH}
    if department.organisation_id != organisation.pk:
        errors["department"] = _("The department belongs to another organisation.")
    elif not department.is_active:
        errors["department"] = _("The department no longer exists; choose today's department.")
    if valid_from and valid_until and valid_until < valid_from:
        errors["valid_until"] = _("The end date must not be before the start date.")
    if errors:
        raise ValidationError(errors)
    return {
        "questions": "\n".join(variants),
        "answer": answer,
        "department": department,
        "valid_from": valid_from,
        "valid_until": valid_until,
    }


def bump_version(organisation_id: int) -> None:
    """Mark the organisation's index stale for every process (called inside the change's
    transaction, so a rolled-back change leaves the version alone)."""
    FaqIndexVersion.objects.get_or_create(organisation_id=organisation_id)
    FaqIndexVersion.objects.filter(organisation_id=organisation_id).update(version=F("version") + 1)


def _updated_by(by: Performer) -> Staff | None:
    return by if isinstance(by, Staff) else None


@transaction.atomic
def create_entry(
    by: Performer,
    organisation: Organisation,
    *,
    questions: str | Iterable[str],
    answer: str,
    department: Department,
    valid_from: dt.date | None = None,
    valid_until: dt.date | None = None,
) -> FaqEntry:
    """Add an entry; it answers from ``valid_from`` (or now) until ``valid_until``."""
    require(by, MANAGE_FAQ, organisation)
    _check_department(by, department)
    values = _validated(
        organisation,
        questions=questions,
        answer=answer,
        department=department,
        valid_from=valid_from,
        valid_until=valid_until,
    )
    entry = FaqEntry.objects.create(organisation=organisation, updated_by=_updated_by(by), **values)
    audit.record(
        actor_of(by),
        "faq.create",
        entry,
        organisation=organisation,
        department=entry.department,
        after=audit.snapshot(entry, AUDITED),
    )
    bump_version(organisation.pk)
    return entry


@transaction.atomic
def edit_entry(
    by: Performer,
    entry: FaqEntry,
    *,
    questions: str | Iterable[str],
    answer: str,
    department: Department,
    valid_from: dt.date | None = None,
    valid_until: dt.date | None = None,
) -> FaqEntry:
    """Change an entry. A department author may neither edit another department's entry
    nor hand their own to another department."""
    require(by, MANAGE_FAQ, entry.organisation_id)
    entry = FaqEntry.objects.select_for_update().select_related("organisation").get(pk=entry.pk)
    _check_department(by, entry.department)
    _check_department(by, department)
    values = _validated(
        entry.organisation,
        questions=questions,
        answer=answer,
        department=department,
        valid_from=valid_from,
        valid_until=valid_until,
    )
    before = audit.snapshot(entry, AUDITED)
    for name, value in values.items():
        setattr(entry, name, value)
    after = audit.snapshot(entry, AUDITED)
    if before == after:
        return entry
    entry.updated_by = _updated_by(by)
    entry.save()
    changed = [name for name in AUDITED if before[name] != after[name]]
    audit.record(
        actor_of(by),
        "faq.edit",
        entry,
        organisation=entry.organisation,
        department=entry.department,
        before={name: before[name] for name in changed},
        after={name: after[name] for name in changed},
    )
    bump_version(entry.organisation_id)
    return entry


def _set_active(by: Performer, entry: FaqEntry, active: bool) -> FaqEntry:
    require(by, MANAGE_FAQ, entry.organisation_id)
    entry = FaqEntry.objects.select_for_update().select_related("organisation").get(pk=entry.pk)
    _check_department(by, entry.department)
    if entry.active == active:
        return entry
    entry.active = active
    entry.updated_by = _updated_by(by)
    entry.save(update_fields=["active", "updated_by", "updated_at"])
    audit.record(
        actor_of(by),
        "faq.restore" if active else "faq.retire",
        entry,
        organisation=entry.organisation,
        department=entry.department,
        before={"active": not active},
        after={"active": active},
    )
    bump_version(entry.organisation_id)
    return entry


@transaction.atomic
def retire_entry(by: Performer, entry: FaqEntry) -> FaqEntry:
    """Stop answering with this entry. It is kept (and can be restored): past automatic
    answers point at it."""
    return _set_active(by, entry, False)


@transaction.atomic
def restore_entry(by: Performer, entry: FaqEntry) -> FaqEntry:
    """Answer with a retired entry again."""
    return _set_active(by, entry, True)


def may_edit(staff: Staff, entry: FaqEntry) -> bool:
    """For the pages: whether to offer the edit buttons (the actions check again)."""
    if not staff.can(MANAGE_FAQ) or staff.organisation_id != entry.organisation_id:
        return False
    return staff.role not in DEPARTMENT_ROLES or entry.department_id in staff.department_scope_ids()
