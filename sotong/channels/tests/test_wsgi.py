"""The WSGI entry point: webhooks go through the lean handler, pages through the full one."""

from __future__ import annotations

import io
from typing import Any
from wsgiref.util import setup_testing_defaults

import pytest

from sotong import wsgi


def call(path: str) -> tuple[str, dict[str, str]]:
    environ: dict[str, Any] = {"PATH_INFO": path, "REQUEST_METHOD": "GET"}
    setup_testing_defaults(environ)
    environ["wsgi.input"] = io.BytesIO(b"")
    seen: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], *args: Any) -> None:
        seen["status"], seen["headers"] = status, dict(headers)

    b"".join(wsgi.application(environ, start_response))
    return seen["status"], seen["headers"]


@pytest.mark.django_db(transaction=True)
def test_webhooks_and_pages_are_both_served() -> None:
    status, headers = call("/hooks/facebook/no-such-secret/")
    assert status.startswith("404")
    # The security middleware still answers for webhooks.
    assert headers.get("X-Content-Type-Options") == "nosniff"
    # No language negotiation, session or CSRF work: none of their headers.
    assert "Content-Language" not in headers
    assert "Vary" not in headers
    status, headers = call("/accounts/login/")
    assert status.startswith("200")
    assert "Content-Language" in headers  # the locale middleware ran for people's pages
