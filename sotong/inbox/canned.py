"""Canned responses (상용 답변): replies the city writes again and again, kept per
organisation and optionally per department, with placeholders the reply form fills from
the case. Managing them (add, edit, retire, restore) is for the PR office and the
administrators and is audited; inserting one into a reply counts a use.

Placeholders: {시민} the citizen's name (masked in public replies and for staff who may
not see it), {부서} the assigned department, {기한} the deadline date in Korean,
{담당자} the assignee, {기관} the city. Anything else in braces is refused on save, so a
typo never reaches a citizen as "{시만}".
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from sotong.core import audit
from sotong.core.models import Department, Organisation, Staff
from sotong.core.permissions import Performer, actor_of
from sotong.core.roles import Capability
from sotong.inbox.models import CannedResponse, Case

MAX_TITLE = 100
# The reply form's limit: a canned response must fit in one reply.
MAX_BODY = 2000
AUDITED = ("title", "body", "department", "active")

CITIZEN, DEPARTMENT, DEADLINE, ASSIGNEE, CITY = "시민", "부서", "기한", "담당자", "기관"
PLACEHOLDERS = (CITIZEN, DEPARTMENT, DEADLINE, ASSIGNEE, CITY)
_TOKEN = re.compile(r"\{([^{}]*)\}")
_WEEKDAYS = "월화수목금토일"


# -- who may ------------------------------------------------------------------------------


def may_manage(by: Performer) -> bool:
    """The PR office (who assigns cases) and the administrators."""
    from sotong.core.audit import Actor

    return isinstance(by, Actor) or any(
        by.can(capability)
        for capability in (Capability.ASSIGN_CASES, Capability.MANAGE_ORGANISATION)
    )


def _require_manage(by: Performer, organisation_id: int, department: Department | None) -> None:
    if isinstance(by, Staff):
        if by.organisation_id != organisation_id or not may_manage(by):
            raise PermissionDenied("not allowed to manage canned responses")
        if (
            by.is_department_scoped
            and department is not None
            and department.pk not in by.department_scope_ids()
        ):
            raise PermissionDenied("another department's canned response")


# -- reading ------------------------------------------------------------------------------


def visible(staff: Staff) -> QuerySet[CannedResponse]:
    """The organisation's canned responses a staff member sees: the shared ones and, for
    department staff, their own department's; everything for the PR office."""
    queryset = CannedResponse.objects.for_organisation(staff.organisation_id).select_related(
        "department"
    )
    if staff.is_department_scoped:
        queryset = queryset.filter(
            Q(department__isnull=True) | Q(department__in=staff.department_scope_ids())
        )
    return queryset


def for_case(staff: Staff, case: Case) -> QuerySet[CannedResponse]:
    """The active ones offered on a case's reply form: shared, the case's department's,
    and the staff member's own department's."""
    wanted = Q(department__isnull=True) | Q(department__in=staff.department_scope_ids())
    if case.department_id is not None:
        wanted |= Q(department_id=case.department_id)
    return visible(staff).filter(wanted, active=True).order_by("title", "pk")


# -- validation ---------------------------------------------------------------------------


def _clean_body(body: str) -> str:
    """NFC (a Mac types Hangul decomposed), and ``{ 시민 }`` written as ``{시민}``."""
    body = unicodedata.normalize("NFC", body).strip()
    return _TOKEN.sub(lambda match: "{" + match.group(1).strip() + "}", body)


def placeholder_errors(body: str) -> list[str]:
    """What is wrong with the placeholders of ``body``, in Korean; empty when all is well."""
    errors = []
    unknown = sorted({name for name in _TOKEN.findall(body) if name not in PLACEHOLDERS})
    if unknown:
        errors.append(
            _("Unknown placeholder: %(names)s. You can use %(known)s.")
            % {
                "names": ", ".join("{" + name + "}" for name in unknown),
                "known": ", ".join("{" + name + "}" for name in PLACEHOLDERS),
            }
        )
    if "{" in _TOKEN.sub("", body) or "}" in _TOKEN.sub("", body):
        errors.append(_("A brace is not closed: write placeholders like {시민}."))
    return errors


def _validated(
    organisation: Organisation,
    *,
    title: str,
    body: str,
    department: Department | None,
    exclude: int | None = None,
) -> dict[str, object]:
    errors: dict[str, list[str]] = {}
    title = " ".join(unicodedata.normalize("NFC", title).split())
    body = _clean_body(body)
    if not title:
        errors["title"] = [_("Enter a title.")]
    elif len(title) > MAX_TITLE:
        errors["title"] = [_("A title is at most %(max)d characters.") % {"max": MAX_TITLE}]
    if not body:
        errors["body"] = [_("Enter the text of the reply.")]
    elif len(body) > MAX_BODY:
        errors["body"] = [
            _("The text is at most %(max)d characters, as a reply is.") % {"max": MAX_BODY}
        ]
    else:
        found = placeholder_errors(body)
        if found:
            errors["body"] = found
    if department is not None:
        if department.organisation_id != organisation.pk:
            errors["department"] = [_("The department belongs to another organisation.")]
        elif not department.is_active:
            errors["department"] = [
                _("The department no longer exists; choose today's department.")
            ]
    if "title" not in errors:
        same = CannedResponse.objects.for_organisation(organisation.pk).filter(
            title=title, active=True, department=department
        )
        if exclude is not None:
            same = same.exclude(pk=exclude)
        if same.exists():
            errors["title"] = [_("An active canned response has this title already.")]
    if errors:
        raise ValidationError(errors)
    return {"title": title, "body": body, "department": department}


# -- managing -----------------------------------------------------------------------------


def _record(by: Performer, action: str, canned: CannedResponse, **changes: object) -> None:
    audit.record(
        actor_of(by),
        action,
        canned,
        organisation=canned.organisation,
        department=canned.department,
        **changes,  # type: ignore[arg-type]
    )


@transaction.atomic
def create(
    by: Performer,
    organisation: Organisation,
    *,
    title: str,
    body: str,
    department: Department | None = None,
) -> CannedResponse:
    """Add a canned response, shared by the city or for one department."""
    _require_manage(by, organisation.pk, department)
    values = _validated(organisation, title=title, body=body, department=department)
    canned = CannedResponse.objects.create(
        organisation=organisation, updated_by=by if isinstance(by, Staff) else None, **values
    )
    _record(by, "canned.create", canned, after=audit.snapshot(canned, AUDITED))
    return canned


@transaction.atomic
def edit(
    by: Performer,
    canned: CannedResponse,
    *,
    title: str,
    body: str,
    department: Department | None = None,
) -> CannedResponse:
    """Change a canned response; its count of uses stays."""
    canned = (
        CannedResponse.objects.select_for_update().select_related("organisation").get(pk=canned.pk)
    )
    _require_manage(by, canned.organisation_id, canned.department)
    _require_manage(by, canned.organisation_id, department)
    values = _validated(
        canned.organisation, title=title, body=body, department=department, exclude=canned.pk
    )
    before = audit.snapshot(canned, AUDITED)
    for name, value in values.items():
        setattr(canned, name, value)
    after = audit.snapshot(canned, AUDITED)
    changed = [name for name in AUDITED if before[name] != after[name]]
    if not changed:
        return canned
    canned.updated_by = by if isinstance(by, Staff) else None
    canned.save()
    _record(
        by,
        "canned.edit",
        canned,
        before={name: before[name] for name in changed},
        after={name: after[name] for name in changed},
    )
    return canned


def _set_active(by: Performer, canned: CannedResponse, active: bool) -> CannedResponse:
    canned = (
        CannedResponse.objects.select_for_update().select_related("organisation").get(pk=canned.pk)
    )
    _require_manage(by, canned.organisation_id, canned.department)
    if canned.active == active:
        return canned
    if active:
        # Two active ones with one title would be indistinguishable in the reply form.
        _validated(
            canned.organisation,
            title=canned.title,
            body=canned.body,
            department=canned.department,
            exclude=canned.pk,
        )
    canned.active = active
    canned.updated_by = by if isinstance(by, Staff) else None
    canned.save(update_fields=["active", "updated_by", "updated_at"])
    _record(
        by,
        "canned.restore" if active else "canned.retire",
        canned,
        before={"active": not active},
        after={"active": active},
    )
    return canned


@transaction.atomic
def retire(by: Performer, canned: CannedResponse) -> CannedResponse:
    """No longer offered on reply forms; kept with its count, and can be restored."""
    return _set_active(by, canned, False)


@transaction.atomic
def restore(by: Performer, canned: CannedResponse) -> CannedResponse:
    return _set_active(by, canned, True)


# -- filling in ---------------------------------------------------------------------------


def mask_name(name: str) -> str:
    """The display masking of Korean public services: 홍*동, 남**수, 홍*; every word of
    a Latin name the same way (J**n S***h)."""
    words = name.split()
    masked = []
    for word in words:
        if len(word) <= 1:
            masked.append(word)
        elif len(word) == 2:
            masked.append(word[0] + "*")
        else:
            masked.append(word[0] + "*" * (len(word) - 2) + word[-1])
    return " ".join(masked)


def korean_date(case: Case) -> str:
    """The deadline as citizens read it: 2026년 3월 5일(목), in the city's time zone."""
    zone = ZoneInfo(case.organisation.time_zone or settings.TIME_ZONE)
    day = timezone.localtime(case.deadline, zone).date()
    return f"{day.year}년 {day.month}월 {day.day}일({_WEEKDAYS[day.weekday()]})"


def values_for(case: Case) -> dict[str, str]:
    """What each placeholder becomes on ``case``. Words a citizen reads are in the city's
    language whatever the staff member's page is in."""
    with translation.override(settings.LANGUAGE_CODE):
        name = (case.citizen.display_name or "").strip()
        citizen = mask_name(name) if name else _("citizen")
        return {
            CITIZEN: citizen,
            DEPARTMENT: case.department.name if case.department else _("the department in charge"),
            DEADLINE: korean_date(case),
            ASSIGNEE: case.assignee.display_name if case.assignee else _("the person in charge"),
            CITY: case.organisation.name,
        }


def fill(body: str, values: dict[str, str]) -> str:
    replace: Callable[[re.Match[str]], str] = lambda match: values.get(  # noqa: E731
        match.group(1).strip(), match.group(0)
    )
    return _TOKEN.sub(replace, body)


def render(staff: Staff, canned: CannedResponse, case: Case, *, public: bool) -> str:
    """The canned response filled in for ``case``. The citizen's name masked, in public
    and private replies alike: a reply's text is kept in clear and read by everyone
    who may see the case, not only by those allowed the citizen's personal data."""
    return fill(canned.body, values_for(case))


@transaction.atomic
def insert(by: Staff, canned: CannedResponse, case: Case, *, public: bool) -> str:
    """Fill the canned response in for a reply on ``case`` and count the use. Only for
    staff who may reply on the case, and only canned responses offered there."""
    from sotong.inbox.actions import _require

    _require(by, case, Capability.REPLY)
    if not for_case(by, case).filter(pk=canned.pk).exists():
        raise PermissionDenied("canned response not offered on this case")
    CannedResponse.objects.filter(pk=canned.pk).update(
        use_count=F("use_count") + 1, last_used_at=timezone.now()
    )
    return render(by, canned, case, public=public)
