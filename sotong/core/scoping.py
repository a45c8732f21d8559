"""Organisation and department scoping: the one place that decides which rows a
staff member may see. Every selector of organisation data goes through ``for_staff``."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Self

from django.core.exceptions import PermissionDenied
from django.db import models

from sotong.core.roles import DEPARTMENT_ROLES

if TYPE_CHECKING:
    from sotong.core.models import Staff


class ScopedQuerySet[M: models.Model](models.QuerySet[M]):
    def for_organisation(self, organisation_id: int) -> Self:
        path: str = getattr(self.model, "organisation_path", "organisation")
        return self.filter(**{path: organisation_id})

    def for_staff(self, staff: Staff | None) -> Self:
        """Rows of the staff member's organisation; for department roles, only their
        department's rows on models that are owned by a department."""
        if staff is None:
            raise PermissionDenied("no staff profile")
        queryset = self.for_organisation(staff.organisation_id)
        department_path: str | None = getattr(self.model, "department_path", None)
        if department_path is not None and staff.role in DEPARTMENT_ROLES:
            if staff.department_id is None:
                return queryset.none()
            queryset = queryset.filter(**{f"{department_path}__in": staff.department_scope_ids()})
        return queryset


class OrganisationOwned(models.Model):
    """Abstract base of every domain row: it belongs to exactly one organisation."""

    organisation = models.ForeignKey(
        "core.Organisation", on_delete=models.PROTECT, related_name="+"
    )

    # Subclasses owned by a department set this to the field path of that department.
    department_path: ClassVar[str | None] = None

    objects = ScopedQuerySet.as_manager()

    class Meta:
        abstract = True
