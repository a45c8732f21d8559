"""No query of organisation data leaks across organisations."""

from __future__ import annotations

import datetime as dt

import pytest
from django.apps import apps
from django.core.exceptions import PermissionDenied
from django.db import models

from sotong.conftest import SYSTEM, department
from sotong.core import actions
from sotong.core.models import AuditEntry, Organisation
from sotong.core.roles import Role
from sotong.core.scoping import OrganisationOwned, ScopedQuerySet

# Deployment-wide tables that hold no organisation's data.
SYSTEM_MODELS = {
    "core.schedulerlease",
    "core.periodicjobstate",
    "core.workerheartbeat",
}


def sotong_models() -> list[type[models.Model]]:
    return [
        model
        for model in apps.get_models()
        if model.__module__.startswith("sotong.") and not model._meta.abstract
    ]


def test_every_domain_model_belongs_to_an_organisation() -> None:
    """A new model must either be organisation-owned (and so scoped) or be declared a
    system table here; this keeps later capabilities from adding an unscoped table."""
    unscoped = []
    for model in sotong_models():
        label = model._meta.label_lower
        if label in SYSTEM_MODELS or model is Organisation:
            continue
        has_organisation = any(f.name == "organisation" for f in model._meta.concrete_fields)
        scoped_manager = isinstance(model._default_manager.all(), ScopedQuerySet)
        if not (has_organisation and scoped_manager):
            unscoped.append(label)
    assert unscoped == []


def test_organisation_owned_models_use_the_scoped_base() -> None:
    for model in sotong_models():
        if model._meta.label_lower in SYSTEM_MODELS or model in {Organisation, AuditEntry}:
            continue
        assert issubclass(model, OrganisationOwned), model


def test_staff_of_one_city_sees_nothing_of_another(city, other_city, make_staff) -> None:
    me = make_staff(city, Role.ADMIN)
    them = make_staff(other_city, Role.ADMIN)
    actions.set_calendar_exception(SYSTEM, other_city, date=dt.date(2026, 12, 31), name="x")
    actions.set_calendar_exception(SYSTEM, city, date=dt.date(2026, 12, 30), name="y")
    actions.rename_department(them, department(other_city, "sewer"), "상하수도과")

    checked = 0
    for model in sotong_models():
        if model._meta.label_lower in SYSTEM_MODELS:
            continue
        queryset = model._default_manager.all()
        assert isinstance(queryset, ScopedQuerySet)
        mine = set(queryset.for_staff(me).values_list("pk", flat=True))
        theirs = set(queryset.for_staff(them).values_list("pk", flat=True))
        assert mine.isdisjoint(theirs), model
        if model is Organisation:
            assert mine == {city.pk}
        elif model is AuditEntry:
            assert not queryset.filter(pk__in=mine, organisation=other_city).exists()
        else:
            assert not queryset.filter(pk__in=mine, organisation=other_city).exists(), model
        checked += bool(mine) and bool(theirs)
    # Every kind of row exists in both cities, so the check above was not vacuous.
    assert checked >= 6


def test_actions_refuse_another_citys_staff(city, other_city, make_staff) -> None:
    outsider = make_staff(other_city, Role.ADMIN)
    with pytest.raises(PermissionDenied):
        actions.rename_department(outsider, department(city, "sewer"), "하수관리과")
    assert department(city, "sewer").name == "하수도과"
