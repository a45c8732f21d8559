"""Encryption at rest for secrets (platform credentials) and personal data.

Keys come from SOTONG_ENCRYPTION_KEY: a comma-separated list of Fernet keys, the first
used to encrypt, all tried to decrypt, so keys can be rotated without downtime: add a new
key first, run ``sotong rotate-encryption``, then drop the old key.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models.expressions import Expression

PREFIX = "fernet:"


class DecryptionError(Exception):
    """The value was encrypted with a key that is no longer configured, or was altered."""


@cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key.encode()) for key in keys])


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.SOTONG_ENCRYPTION_KEYS))


def encrypt(plaintext: str) -> str:
    return PREFIX + fernet().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    if not token.startswith(PREFIX):
        raise DecryptionError("value is not encrypted")
    try:
        return fernet().decrypt(token[len(PREFIX) :].encode()).decode()
    except InvalidToken as exc:
        raise DecryptionError("cannot decrypt: unknown key or altered value") from exc


def rotate(token: str) -> str:
    """The same plaintext encrypted with the current primary key."""
    try:
        return PREFIX + fernet().rotate(token[len(PREFIX) :].encode()).decode()
    except InvalidToken as exc:
        raise DecryptionError("cannot decrypt: unknown key or altered value") from exc


class EncryptedTextField(models.TextField):
    """Text stored encrypted; read back as plain text. Not searchable or orderable."""

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(str(value))

    def from_db_value(
        self, value: str | None, expression: Expression, connection: BaseDatabaseWrapper
    ) -> str | None:
        if value is None or value == "":
            return value
        return decrypt(value)


def encrypted_fields() -> list[tuple[type[models.Model], EncryptedTextField]]:
    from django.apps import apps

    return [
        (model, field)
        for model in apps.get_models()
        for field in model._meta.concrete_fields
        if isinstance(field, EncryptedTextField)
    ]


def rotate_all() -> int:
    """Re-encrypt every stored encrypted value with the primary key; returns the count."""
    from django.db import connection, transaction

    count = 0
    for model, field in encrypted_fields():
        table = connection.ops.quote_name(model._meta.db_table)
        column = connection.ops.quote_name(str(field.column))
        pk = connection.ops.quote_name(str(model._meta.pk.column))
        with transaction.atomic(), connection.cursor() as cursor:
            # Raw SQL: the ORM would hand back decrypted values.
            cursor.execute(f"SELECT {pk}, {column} FROM {table} WHERE {column} <> ''")  # noqa: S608
            for row_pk, token in cursor.fetchall():
                cursor.execute(
                    f"UPDATE {table} SET {column} = %s WHERE {pk} = %s",  # noqa: S608
                    [rotate(token), row_pk],
                )
                count += 1
    return count
