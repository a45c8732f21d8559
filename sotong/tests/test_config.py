"""Configuration from the environment: safe defaults, clear one-line errors."""

from __future__ import annotations

import stat

import pytest
from cryptography.fernet import Fernet

from sotong.config import ConfigError, load, redact_database_url

GOOD_PRODUCTION = {
    "SOTONG_ENV": "production",
    "SOTONG_SECRET_KEY": "x" * 64,
    "SOTONG_ENCRYPTION_KEY": Fernet.generate_key().decode(),
    "SOTONG_ALLOWED_HOSTS": "sotong.suncheon.go.kr",
    "DATABASE_URL": "postgres://sotong:pw@db.internal:5432/sotong",
}


def test_development_defaults_create_private_secrets(tmp_path) -> None:
    config = load({"SOTONG_DATA_DIR": str(tmp_path)})
    assert config.debug
    assert not config.is_production
    assert config.database["ENGINE"] == "django.db.backends.sqlite3"
    assert "journal_mode=WAL" in config.database["OPTIONS"]["init_command"]
    for name in ("secret_key", "encryption_key"):
        mode = (tmp_path / name).stat().st_mode
        assert stat.S_IMODE(mode) == 0o600
    # Stable across restarts.
    assert load({"SOTONG_DATA_DIR": str(tmp_path)}).secret_key == config.secret_key


def test_production_accepts_a_complete_configuration(tmp_path) -> None:
    config = load({**GOOD_PRODUCTION, "SOTONG_DATA_DIR": str(tmp_path)})
    assert config.is_production
    assert not config.debug
    assert config.database["ENGINE"] == "django.db.backends.postgresql"
    assert config.database_url_for_display == "postgres://sotong:***@db.internal:5432/sotong"
    assert not (tmp_path / "secret_key").exists()


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"SOTONG_SECRET_KEY": "short"}, "SOTONG_SECRET_KEY"),
        ({"SOTONG_ENCRYPTION_KEY": ""}, "SOTONG_ENCRYPTION_KEY"),
        ({"SOTONG_ALLOWED_HOSTS": ""}, "SOTONG_ALLOWED_HOSTS"),
        ({"SOTONG_ALLOWED_HOSTS": "*"}, "SOTONG_ALLOWED_HOSTS"),
        ({"SOTONG_DEBUG": "true"}, "SOTONG_DEBUG"),
    ],
)
def test_production_refuses_unsafe_settings(tmp_path, override, message) -> None:
    with pytest.raises(ConfigError, match=message) as excinfo:
        load({**GOOD_PRODUCTION, **override, "SOTONG_DATA_DIR": str(tmp_path)})
    assert "\n" not in str(excinfo.value)


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"SOTONG_ENV": "staging"}, "SOTONG_ENV must be one of"),
        ({"SOTONG_DEBUG": "maybe"}, "SOTONG_DEBUG must be true or false"),
        ({"DATABASE_URL": "mysql://x@y/z"}, "not supported"),
        ({"DATABASE_URL": "nonsense://"}, "DATABASE_URL"),
        ({"DATABASE_URL": "sqlite://:memory:"}, "SQLite needs a file path"),
        ({"SOTONG_ENCRYPTION_KEY": "not-a-key"}, "key 1 is not a Fernet key"),
    ],
)
def test_bad_values_give_one_precise_line(tmp_path, environ, message) -> None:
    with pytest.raises(ConfigError, match=message) as excinfo:
        load({**environ, "SOTONG_DATA_DIR": str(tmp_path)})
    assert "\n" not in str(excinfo.value)


def test_redaction_leaves_urls_without_password_alone() -> None:
    assert redact_database_url("sqlite:////var/x.db") == "sqlite:////var/x.db"
    assert redact_database_url("postgres://u:p%40ss@h/db") == "postgres://u:***@h/db"
