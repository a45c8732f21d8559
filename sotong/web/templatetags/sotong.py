from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.filter
def audit_changes(entry: Any) -> list[tuple[str, Any, Any]]:
    """(field, before, after) for each field an audit entry mentions; a field that did not
    change in an update is left out."""
    before: dict[str, Any] = entry.before or {}
    after: dict[str, Any] = entry.after or {}
    rows = []
    for key in [*before, *(k for k in after if k not in before)]:
        old, new = before.get(key), after.get(key)
        if entry.before is not None and entry.after is not None and old == new:
            continue
        rows.append((key, old, new))
    return rows
