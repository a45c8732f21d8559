"""Fixtures shared by the unit tests: two cities, their departments and staff."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from sotong.core import actions
from sotong.core.audit import Actor
from sotong.core.models import Department, Organisation, Staff
from sotong.core.roles import Role

SYSTEM = Actor.system("tests")


@pytest.fixture
def city(db: None) -> Organisation:
    return actions.create_organisation(
        SYSTEM,
        slug="suncheon",
        name="순천시",
        departments=[
            actions.DepartmentSpec("pr", "홍보담당관", "officer"),
            actions.DepartmentSpec("construction", "안전건설국", "bureau"),
            actions.DepartmentSpec(
                "sewer", "하수도과", "division", "construction", aliases=("하수과",)
            ),
            actions.DepartmentSpec("roads", "도로과", "division", "construction"),
            actions.DepartmentSpec("traffic", "교통과", "division", "construction"),
        ],
    )


@pytest.fixture
def other_city(db: None) -> Organisation:
    return actions.create_organisation(
        SYSTEM,
        slug="yeosu",
        name="여수시",
        departments=[actions.DepartmentSpec("sewer", "하수도과", "division")],
    )


def department(organisation: Organisation, code: str) -> Department:
    return Department.objects.get(organisation=organisation, code=code)


@pytest.fixture
def make_staff(db: None) -> Callable[..., Staff]:
    counter = iter(range(1, 10_000))

    def make(organisation: Organisation, role: str = Role.ADMIN, code: str | None = None) -> Staff:
        number = next(counter)
        return actions.add_staff(
            SYSTEM,
            organisation,
            username=f"{organisation.slug}-{role}-{number}",
            display_name=f"직원{number}",
            role=role,
            department=department(organisation, code) if code else None,
            password="correct-horse-battery",
        )

    return make


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings) -> None:
    # The production hasher is slow on purpose; tests create many logins.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def process_database_url(tmp_path):
    """A fresh database for tests that start `sotong` processes: a new database on the
    PostgreSQL server when the suite runs against PostgreSQL, else a SQLite file."""
    import os
    import uuid

    server_url = os.environ.get("DATABASE_URL", "")
    if not server_url.startswith(("postgres://", "postgresql://")):
        yield f"sqlite:///{tmp_path / 'process.sqlite3'}"
        return
    import psycopg

    name = f"sotong_process_{uuid.uuid4().hex[:12]}"
    base, _, _ = server_url.rpartition("/")
    with psycopg.connect(server_url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(server_url, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def run_sotong(tmp_path, process_database_url):
    """Run `sotong ARGS` against the process database; returns the CompletedProcess."""
    import os
    import subprocess
    import sys

    env = {
        **os.environ,
        "DATABASE_URL": process_database_url,
        "SOTONG_DATA_DIR": str(tmp_path / "data"),
        "DJANGO_SETTINGS_MODULE": "sotong.settings",
    }

    def run(*args: str, check: bool = True, timeout: float = 120, **kwargs):
        result = subprocess.run(
            [sys.executable, "-m", "sotong", *args],
            env={**env, **kwargs.pop("env", {})},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            **kwargs,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"sotong {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
            )
        return result

    run.env = env
    return run
