"""The routing model an organisation's messages are routed with, and the department a
model's unit name stands for. One place, so how organisations' own models are kept
(trained on their history, retrained from corrections) can change without touching the
triage pipeline or the actions."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sotong.core.models import Department, Organisation
from sotong.core.selectors import resolve_department

if TYPE_CHECKING:
    from sotong.nlp.routing import RoutingModel


def model_for(organisation: Organisation) -> RoutingModel:
    """The organisation's active routing model (trained on its own history, retrained from
    its staff's corrections: ``sotong.inbox.routing_models``), or, before it has one, the
    model shipped with Sotong (trained on real complaints). Either learns in this process
    from corrections until the next retrain."""
    from sotong.inbox.routing_models import active_model
    from sotong.nlp.routing import default_model

    return active_model(organisation) or default_model()


def department_for_unit(organisation: Organisation, unit: str) -> Department | None:
    """Today's department for a unit name the model learnt (old names follow aliases)."""
    return resolve_department(organisation, unit)
