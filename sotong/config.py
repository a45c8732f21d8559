"""Configuration read from the environment, checked before Django starts.

Every setting has a safe development default; production (``SOTONG_ENV=production``)
refuses to start with an unsafe one. Errors are ``ConfigError`` with a one-line message
that the ``sotong`` command prints without a traceback.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import dj_database_url
from cryptography.fernet import Fernet

ENVIRONMENTS = ("development", "production")
MIN_SECRET_KEY_LENGTH = 50


class ConfigError(Exception):
    """A configuration problem the operator must fix; the message is one line."""


@dataclass(frozen=True)
class Config:
    environment: str
    debug: bool
    data_dir: Path
    secret_key: str
    encryption_keys: tuple[str, ...]
    allowed_hosts: tuple[str, ...]
    csrf_trusted_origins: tuple[str, ...]
    database: dict[str, Any]
    database_url_for_display: str
    https: bool
    # Where the platforms reach this server: images are handed to them as URLs under it.
    public_url: str = "http://127.0.0.1:8000"

    @property
    def is_production(self) -> bool:
        return self.environment == "production"


def _bool(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off", ""}:
        return False
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


def _list(raw: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in raw.split(",") if item.strip())


def redact_database_url(url: str) -> str:
    """The URL with its password replaced, safe to print in an error message."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def _development_secret(data_dir: Path, filename: str, make: Any) -> str:
    """A per-installation secret kept in the data directory, so development restarts
    keep sessions and encrypted values without anyone choosing a key."""
    path = data_dir / filename
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    value: str = make()
    # Written to a private temporary file, then linked into place: no other user can read
    # it, and of two processes starting at once the second reads the first one's secret.
    temporary = path.with_name(f".{filename}.{os.getpid()}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(value + "\n")
    try:
        os.link(temporary, path)
    except FileExistsError:
        value = path.read_text().strip()
    finally:
        temporary.unlink()
    return value


def _database(url: str, data_dir: Path) -> dict[str, Any]:
    try:
        database: dict[str, Any] = dict(dj_database_url.parse(url))
    except ValueError as exc:  # dj-database-url raises ValueError for unknown schemes
        raise ConfigError(f"DATABASE_URL is not a database URL I understand: {exc}") from exc
    engine = database.get("ENGINE", "")
    if engine == "django.db.backends.sqlite3":
        name = str(database.get("NAME") or "")
        if not name or name == ":memory:":
            raise ConfigError(
                "DATABASE_URL: SQLite needs a file path, e.g. sqlite:///var/sotong.db"
            )
        Path(name).parent.mkdir(parents=True, exist_ok=True)
        database["OPTIONS"] = {
            # WAL lets readers and one writer work at once; IMMEDIATE takes the write
            # lock at BEGIN so two writers queue instead of failing to upgrade a lock.
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                "PRAGMA busy_timeout=20000; PRAGMA temp_store=MEMORY;"
            ),
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
        # Kept open between requests: opening a file and running the pragmas on every
        # request cost more than a webhook's own work.
        database["CONN_MAX_AGE"] = 60
    elif engine in {"django.db.backends.postgresql", "django.db.backends.postgresql_psycopg2"}:
        database["ENGINE"] = "django.db.backends.postgresql"
        database["CONN_MAX_AGE"] = 60
        database["CONN_HEALTH_CHECKS"] = True
        database.setdefault("OPTIONS", {})["connect_timeout"] = 5
    else:
        raise ConfigError(
            f"DATABASE_URL: {engine or 'this engine'} is not supported; use sqlite:// or postgres://"
        )
    return database


def load(environ: dict[str, str] | None = None) -> Config:
    """Read and check the configuration; raise ConfigError with one line on any problem."""
    env = dict(os.environ if environ is None else environ)
    environment = env.get("SOTONG_ENV", "development").strip().lower()
    if environment not in ENVIRONMENTS:
        raise ConfigError(
            f"SOTONG_ENV must be one of {', '.join(ENVIRONMENTS)}, got {environment!r}"
        )
    production = environment == "production"
    debug = _bool("SOTONG_DEBUG", env.get("SOTONG_DEBUG", "false" if production else "true"))
    data_dir = Path(env.get("SOTONG_DATA_DIR", "var")).expanduser().resolve()
    # Behind TLS (directly or through a proxy that sets X-Forwarded-Proto): cookies are
    # sent over HTTPS only. An intranet served over plain HTTP must say so explicitly.
    https = _bool("SOTONG_HTTPS", env.get("SOTONG_HTTPS", "true" if production else "false"))

    secret_key = env.get("SOTONG_SECRET_KEY", "")
    raw_keys = env.get("SOTONG_ENCRYPTION_KEY", "")
    hosts = _list(
        env.get("SOTONG_ALLOWED_HOSTS", "" if production else "localhost,127.0.0.1,[::1]")
    )
    origins = _list(env.get("SOTONG_CSRF_TRUSTED_ORIGINS", ""))
    database_url = env.get("DATABASE_URL", f"sqlite:///{data_dir / 'sotong.sqlite3'}")
    public_url = env.get("SOTONG_PUBLIC_URL", "http://127.0.0.1:8000").strip().rstrip("/")
    public_parts = urlsplit(public_url)
    if public_parts.scheme not in ("http", "https") or not public_parts.netloc:
        raise ConfigError(
            f"SOTONG_PUBLIC_URL must be an http(s) address such as https://sotong.example.go.kr, got {public_url!r}"
        )

    if production:
        problems = []
        if debug:
            problems.append("SOTONG_DEBUG must be off")
        if len(secret_key) < MIN_SECRET_KEY_LENGTH or secret_key.startswith("django-insecure"):
            problems.append(
                f"SOTONG_SECRET_KEY must be set to a random string of {MIN_SECRET_KEY_LENGTH}+ characters"
            )
        if not raw_keys:
            problems.append("SOTONG_ENCRYPTION_KEY must be set (generate one with `sotong genkey`)")
        if not hosts or "*" in hosts:
            problems.append("SOTONG_ALLOWED_HOSTS must list this server's host names")
        if "DATABASE_URL" not in env:
            problems.append("DATABASE_URL must be set")
        if problems:
            raise ConfigError("unsafe production configuration: " + "; ".join(problems))
    else:
        secret_key = secret_key or _development_secret(
            data_dir, "secret_key", lambda: secrets.token_urlsafe(64)
        )
        raw_keys = raw_keys or _development_secret(
            data_dir, "encryption_key", lambda: Fernet.generate_key().decode()
        )

    keys = _list(raw_keys)
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key.encode())
        except ValueError as exc:
            raise ConfigError(
                f"SOTONG_ENCRYPTION_KEY: key {position} is not a Fernet key (32 url-safe base64 bytes)"
            ) from exc

    return Config(
        environment=environment,
        debug=debug,
        data_dir=data_dir,
        secret_key=secret_key,
        encryption_keys=keys,
        allowed_hosts=hosts,
        csrf_trusted_origins=origins,
        database=_database(database_url, data_dir),
        database_url_for_display=redact_database_url(database_url),
        https=https,
        public_url=public_url,
    )
