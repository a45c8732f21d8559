"""Read queries over the FAQ, scoped through ``ScopedQuerySet.for_staff``."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django.db.models import Q, QuerySet
from django.utils import timezone

from sotong.core.models import Department, Organisation, Staff
from sotong.core.roles import DEPARTMENT_ROLES
from sotong.faq.models import FaqEntry


def entries(staff: Staff, *, search: str = "") -> QuerySet[FaqEntry]:
    """The entries the staff member may see (department roles: their department's),
    optionally those whose questions or answer contain ``search``."""
    queryset = FaqEntry.objects.for_staff(staff).select_related("department", "updated_by")
    for word in search.split():
        queryset = queryset.filter(Q(questions__icontains=word) | Q(answer__icontains=word))
    return queryset


def today(organisation: Organisation, now: dt.datetime | None = None) -> dt.date:
    """Today's date where the organisation is (Asia/Seoul for Korean cities)."""
    zone = zoneinfo.ZoneInfo(organisation.time_zone or "Asia/Seoul")
    return (now or timezone.now()).astimezone(zone).date()


def valid_entries(organisation: Organisation | int, day: dt.date) -> QuerySet[FaqEntry]:
    """Entries that may answer on ``day``: active, and ``day`` within their dates."""
    organisation_id = organisation if isinstance(organisation, int) else organisation.pk
    return (
        FaqEntry.objects.for_organisation(organisation_id)
        .filter(active=True)
        .filter(Q(valid_from__isnull=True) | Q(valid_from__lte=day))
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=day))
    )


def owning_departments(staff: Staff) -> QuerySet[Department]:
    """The departments the staff member may give an entry to."""
    queryset = Department.objects.for_organisation(staff.organisation_id).filter(is_active=True)
    if staff.role in DEPARTMENT_ROLES:
        queryset = queryset.filter(pk__in=staff.department_scope_ids())
    return queryset.order_by("name")
