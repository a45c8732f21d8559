"""Writing the audit log. Actions call ``record`` inside their transaction, so a change and
its audit entry are committed together or not at all."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import models

from sotong.core.models import AuditEntry, Department, Organisation


class Actor:
    """Who did something: a signed-in user, or a named system process (scheduler, CLI)."""

    def __init__(self, label: str, user_id: int | None = None, source: str = "web") -> None:
        self.label = label
        self.user_id = user_id
        self.source = source

    @classmethod
    def of(cls, user: AbstractBaseUser | AnonymousUser | None, source: str = "web") -> Actor:
        if user is None or not user.is_authenticated:
            return cls("anonymous", None, source)
        return cls(user.get_username(), int(user.pk), source)

    @classmethod
    def system(cls, name: str) -> Actor:
        return cls(f"system:{name}", None, "system")


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, Mapping):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(item) for item in value]
    return value


def snapshot(instance: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    """The named fields of ``instance`` as JSON-ready values (foreign keys as ids)."""
    result = {}
    for name in fields:
        field = instance._meta.get_field(name)
        attname = getattr(field, "attname", name)
        result[name] = _jsonable(getattr(instance, attname))
    return result


def record(
    actor: Actor,
    action: str,
    target: models.Model,
    *,
    organisation: Organisation | None,
    department: Department | None = None,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry. ``action`` is a dotted verb such as ``department.rename``."""
    entry = build(
        actor,
        action,
        target,
        organisation=organisation,
        department=department,
        before=before,
        after=after,
    )
    entry.save(force_insert=True)
    return entry


def record_many(entries: Iterable[AuditEntry]) -> None:
    """Append entries made with ``build`` in one statement (for batch work)."""
    from sotong.core import bulk

    bulk.insert_rows(list(entries))


def build(
    actor: Actor,
    action: str,
    target: models.Model,
    *,
    organisation: Organisation | None,
    department: Department | None = None,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
) -> AuditEntry:
    """The entry ``record`` would append, not yet saved."""
    return AuditEntry(
        organisation=organisation,
        department=department,
        actor_id=actor.user_id,
        actor_label=actor.label[:150],
        source=actor.source,
        action=action,
        target_type=target._meta.label_lower,
        target_id=str(target.pk),
        target_label=str(target)[:200],
        before=_jsonable(before) if before is not None else None,
        after=_jsonable(after) if after is not None else None,
    )
