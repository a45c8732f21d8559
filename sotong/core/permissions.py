"""Permission checks used by actions. Views never decide permissions themselves."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied

from sotong.core.audit import Actor
from sotong.core.models import Organisation, Staff
from sotong.core.roles import Capability

# Who performs an action: a staff member (checked) or a trusted system process such as
# the CLI run by the server's operator, the scheduler or a worker (not checked).
Performer = Staff | Actor


def actor_of(by: Performer) -> Actor:
    if isinstance(by, Actor):
        return by
    return Actor(by.user.get_username(), int(by.user_id), "web")


def require(by: Performer, capability: Capability, organisation: Organisation | int) -> None:
    """Raise PermissionDenied unless ``by`` may do ``capability`` in ``organisation``."""
    if isinstance(by, Actor):
        return
    organisation_id = organisation if isinstance(organisation, int) else organisation.pk
    if by.organisation_id != organisation_id or not by.can(capability):
        raise PermissionDenied(f"{capability} not allowed")
