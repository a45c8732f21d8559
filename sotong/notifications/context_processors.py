from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse

from sotong.notifications.actions import unread_count


def unread(request: HttpRequest) -> dict[str, Any]:
    """The bell's count in the top bar: one COUNT over an index, only for staff."""
    staff = getattr(request, "staff", None)
    if staff is None:
        return {}
    try:
        url = reverse("notifications:list")
    except NoReverseMatch:  # a URL configuration without the page (some tests)
        return {}
    return {"unread_notifications": unread_count(staff), "notifications_url": url}
