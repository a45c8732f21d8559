"""Encryption at rest and key rotation."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from sotong.core import crypto


@pytest.fixture
def keys(settings):
    first, second = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.SOTONG_ENCRYPTION_KEYS = (first,)
    return first, second


def test_round_trip_and_ciphertext_hides_plaintext(keys) -> None:
    token = crypto.encrypt("EAAB-page-token-비밀")
    assert token.startswith(crypto.PREFIX)
    assert "비밀" not in token
    assert "EAAB" not in token
    assert crypto.decrypt(token) == "EAAB-page-token-비밀"


def test_rotation_keeps_old_values_readable_then_moves_them(keys, settings) -> None:
    first, second = keys
    old = crypto.encrypt("secret")
    settings.SOTONG_ENCRYPTION_KEYS = (second, first)
    assert crypto.decrypt(old) == "secret"
    rotated = crypto.rotate(old)
    settings.SOTONG_ENCRYPTION_KEYS = (second,)
    assert crypto.decrypt(rotated) == "secret"
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(old)


def test_altered_or_plain_values_are_refused(keys) -> None:
    token = crypto.encrypt("secret")
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(token[:-4] + "AAAA")
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt("secret")


def test_encrypted_field_stores_ciphertext(keys) -> None:
    field = crypto.EncryptedTextField()
    stored = field.get_prep_value("token-123")
    assert stored != "token-123"
    assert field.from_db_value(stored, None, None) == "token-123"  # type: ignore[arg-type]
    assert field.get_prep_value("") == ""
    assert field.get_prep_value(None) is None
