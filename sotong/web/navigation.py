"""The staff navigation frame. Each capability's app adds its section here when it is
installed; until then its entry is shown as not yet available."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Section:
    key: str
    label: str | Promise
    url_name: str
    shortcut: str

    def url(self) -> str | None:
        try:
            return reverse(self.url_name)
        except NoReverseMatch:
            return None


SECTIONS = [
    Section("home", _("Home"), "web:home", "h"),
    Section("compose", _("Compose"), "publishing:compose", "c"),
    Section("calendar", _("Calendar"), "calendar:month", "k"),
    Section("series", _("Series"), "series:list", "r"),
    Section("inbox", _("Inbox"), "inbox:index", "i"),
    Section("faq", _("Frequently asked questions"), "faq:list", "f"),
    Section("participation", _("Participation"), "participation:index", "p"),
    Section("analytics", _("Analytics"), "analytics:dashboard", "a"),
    Section("settings", _("Settings"), "web:settings", "s"),
]
