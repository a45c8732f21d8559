from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from sotong.web.navigation import SECTIONS

# Apps whose pages live under another section of the navigation.
NAMESPACE_SECTIONS = {"channels": "settings", "publishing": "compose"}


def shell(request: HttpRequest) -> dict[str, Any]:
    staff = getattr(request, "staff", None)
    if staff is None:
        return {}
    match = request.resolver_match
    active = None
    if match is not None:
        active = (
            ("home" if match.url_name == "home" else "settings")
            if match.namespace == "web"
            else NAMESPACE_SECTIONS.get(match.namespace, match.namespace)
        )
    return {
        "staff": staff,
        "nav_active": active,
        "nav_sections": [(section, section.url()) for section in SECTIONS],
    }
