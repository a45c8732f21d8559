"""Batch writes Django's ORM makes slow. ``QuerySet.bulk_update`` builds one CASE WHEN per
field over every row, which costs more to compile than to run; for a batch of rows each
getting its own values, one parameterised UPDATE sent with ``executemany`` is both simpler
and many times faster, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from django.db import connections, models, router


def update_rows(rows: Sequence[models.Model], fields: Sequence[str]) -> None:
    """Write ``fields`` of each row (all of one model, all saved before) by primary key.
    Values go through each field's own preparation (JSON, encryption, time zones), as
    ``save`` would."""
    if not rows:
        return
    model = type(rows[0])
    meta = model._meta
    concrete = [cast(models.Field[Any, Any], meta.get_field(name)) for name in fields]
    pk = meta.pk
    alias = router.db_for_write(model)
    connection = connections[alias]
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(str(field.column))} = %s" for field in concrete)
    sql = (
        f"UPDATE {quote(meta.db_table)} SET {assignments} "  # noqa: S608 - names are ours
        f"WHERE {quote(str(pk.column))} = %s"
    )
    params = [
        [field.get_db_prep_save(getattr(row, field.attname), connection) for field in concrete]
        + [row.pk]
        for row in rows
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


def insert_rows(rows: Sequence[models.Model]) -> None:
    """Insert new rows of one model and set their primary keys, like ``bulk_create`` but
    without its per-value expression machinery: one multi-row INSERT … RETURNING per
    chunk (SQLite 3.35+ and PostgreSQL return the keys in the order of the rows, which
    ``bulk_create`` relies on too). No signals, as with ``bulk_create``."""
    if not rows:
        return
    model = type(rows[0])
    meta = model._meta
    pk = meta.pk
    if pk is None:
        raise TypeError(f"{meta.label} has no primary key")
    columns = [field for field in meta.concrete_fields if field is not pk]
    alias = router.db_for_write(model)
    connection = connections[alias]
    quote = connection.ops.quote_name
    names = ", ".join(quote(str(field.column)) for field in columns)
    # SQLite's limit on bound values is 32,766; stay well under it on both databases.
    chunk = max(1, 10_000 // len(columns))
    one = "(" + ", ".join(["%s"] * len(columns)) + ")"
    with connection.cursor() as cursor:
        for start in range(0, len(rows), chunk):
            part = rows[start : start + chunk]
            params: list[Any] = []
            for row in part:
                params.extend(
                    field.get_db_prep_save(field.pre_save(row, True), connection)
                    for field in columns
                )
            cursor.execute(
                f"INSERT INTO {quote(meta.db_table)} ({names}) "  # noqa: S608 - names are ours
                f"VALUES {', '.join([one] * len(part))} RETURNING {quote(str(pk.column))}",
                params,
            )
            # Keys are handed out in increasing order within one statement on both
            # databases, but SQLite does not promise RETURNING's row order: sort them.
            keys = sorted(key for (key,) in cursor.fetchall())
            for row, key in zip(part, keys, strict=True):
                setattr(row, pk.attname, key)
                row._state.adding = False
                row._state.db = alias
