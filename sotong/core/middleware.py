from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from sotong.core.models import Staff


def staff_of(request: HttpRequest) -> Staff | None:
    """The signed-in user's staff profile with organisation and department, or None."""
    user = request.user
    if not user.is_authenticated:
        return None
    return (
        Staff.objects.select_related("organisation", "department", "user")
        .filter(user_id=user.pk, user__is_active=True)
        .first()
    )


class StaffContextMiddleware:
    """Puts the signed-in user's staff profile on ``request.staff`` (None if they have none)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.staff = staff_of(request)  # type: ignore[attr-defined]
        return self.get_response(request)
