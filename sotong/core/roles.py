"""Staff roles and what each may do: the one place permissions are decided."""

from __future__ import annotations

from enum import StrEnum

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ADMIN = "admin", _("Administrator")
    PR_EDITOR = "pr_editor", _("PR editor")
    DEPARTMENT_AUTHOR = "department_author", _("Department author")
    DEPARTMENT_RESPONDER = "department_responder", _("Department responder")
    VIEWER = "viewer", _("Viewer")


# Roles whose view of department-owned work is limited to their own department.
DEPARTMENT_ROLES = frozenset({Role.DEPARTMENT_AUTHOR, Role.DEPARTMENT_RESPONDER})


class Capability(StrEnum):
    VIEW = "view"
    MANAGE_ORGANISATION = "manage_organisation"
    MANAGE_DEPARTMENTS = "manage_departments"
    MANAGE_STAFF = "manage_staff"
    MANAGE_CALENDAR = "manage_calendar"
    VIEW_AUDIT = "view_audit"
    DRAFT_POSTS = "draft_posts"
    APPROVE_POSTS = "approve_posts"
    PUBLISH = "publish"
    REPLY = "reply"
    ASSIGN_CASES = "assign_cases"


_ALL = frozenset(Capability)

CAPABILITIES: dict[str, frozenset[Capability]] = {
    Role.ADMIN: _ALL,
    Role.PR_EDITOR: frozenset(
        {
            Capability.VIEW,
            Capability.VIEW_AUDIT,
            Capability.MANAGE_CALENDAR,
            Capability.DRAFT_POSTS,
            Capability.APPROVE_POSTS,
            Capability.PUBLISH,
            Capability.REPLY,
            Capability.ASSIGN_CASES,
        }
    ),
    Role.DEPARTMENT_AUTHOR: frozenset(
        {Capability.VIEW, Capability.VIEW_AUDIT, Capability.DRAFT_POSTS}
    ),
    Role.DEPARTMENT_RESPONDER: frozenset(
        {Capability.VIEW, Capability.VIEW_AUDIT, Capability.REPLY}
    ),
    Role.VIEWER: frozenset({Capability.VIEW}),
}


def role_allows(role: str, capability: Capability) -> bool:
    return capability in CAPABILITIES.get(role, frozenset())
