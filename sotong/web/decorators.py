from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from sotong.core.roles import Capability

View = Callable[..., HttpResponse]


def staff_required(capability: Capability = Capability.VIEW) -> Callable[[View], View]:
    """Signed in, with a staff profile, and allowed ``capability``; else login or 403."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            staff = getattr(request, "staff", None)
            if staff is None or not staff.can(capability):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorate
