"""Who is calling: a staff member by API token (``Authorization: Bearer <token>``) or by
their signed-in browser session (with Django's CSRF check on unsafe methods, so the docs
page's "Try it out" works and no other site can post in their name)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja.errors import AuthenticationError
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from sotong.api import actions
from sotong.api.errors import ApiError
from sotong.core.models import Staff

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


class TokenAuth(HttpBearer):
    """A token that is present must be good: a bad one is 401 even with a session, so a
    script never silently runs as whoever is signed in."""

    def __call__(self, request: HttpRequest) -> Staff | None:
        header = request.headers.get("Authorization")
        if not header:
            return None
        scheme, _sep, secret = header.partition(" ")
        # Never logged: the header is the credential.
        if scheme.lower() != "bearer" or not secret.strip():
            raise AuthenticationError()
        return self.authenticate(request, secret.strip())

    def authenticate(self, request: HttpRequest, token: str) -> Staff | None:
        found = actions.token_for(token)
        if found is None:
            raise AuthenticationError()
        request.api_token = found  # type: ignore[attr-defined]
        request.staff = found.staff  # type: ignore[attr-defined]
        return found.staff


class SessionAuth(APIKeyCookie):
    param_name: str = settings.SESSION_COOKIE_NAME

    def _get_key(self, request: HttpRequest) -> str | None:
        return request.COOKIES.get(self.param_name)

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        staff: Staff | None = getattr(request, "staff", None)
        if not request.user.is_authenticated or staff is None:
            return None
        if request.method not in SAFE_METHODS and check_csrf(request) is not None:
            raise ApiError(
                403,
                "csrf_failed",
                _("The form's security token is missing or wrong; reload the page and try again."),
            )
        request.api_token = None  # type: ignore[attr-defined]
        return staff


def caller_key(request: HttpRequest) -> str:
    """The caller an idempotency key belongs to: the token, or the signed-in user."""
    token = getattr(request, "api_token", None)
    if token is not None:
        return f"token:{token.pk}"
    return f"user:{request.user.pk}"
