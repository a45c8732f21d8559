"""Forms of the audience page. They parse what a person typed or chose; the actions
check and decide."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from sotong.audience import csvfiles
from sotong.web.forms import NoColon


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format="%Y-%m-%d")


def _count(label: Any, help_text: Any = "") -> forms.IntegerField:
    return forms.IntegerField(
        label=label,
        required=False,
        min_value=0,
        help_text=help_text,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        error_messages={
            "invalid": _("Enter a whole number."),
            "min_value": _("Enter 0 or more."),
        },
    )


REPLACE_HELP = _(
    "Only where a platform already gave that day's figures: yours replace them. "
    "Figures staff entered are replaced without asking."
)


class FiguresForm(NoColon, forms.Form):
    day = forms.DateField(
        label=_("Day"),
        widget=DateInput(),
        error_messages={
            "required": _("Enter the day."),
            "invalid": _("Enter a date, e.g. 2026-11-24."),
        },
    )
    followers = _count(_("Count that day"), _("Empty: keep what the day has."))
    gained = _count(_("New that day"))
    lost = _count(_("Lost that day (blocked or left)"))
    replace = forms.BooleanField(
        label=_("Replace the platform's figures"), required=False, help_text=REPLACE_HELP
    )

    def __init__(self, *args: Any, figure: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if figure:
            self.fields["followers"].label = _("%(figure)s that day") % {"figure": figure}


class ImportForm(NoColon, forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_(
            "First line: 날짜, 친구 수, 신규, 차단 (or date, followers, gained, lost); one day "
            "per line. UTF-8 or CP949 (Excel's “CSV”)."
        ),
        error_messages={"required": _("Choose a CSV file.")},
    )
    replace = forms.BooleanField(
        label=_("Replace the platform's figures"), required=False, help_text=REPLACE_HELP
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > csvfiles.MAX_BYTES:
            raise forms.ValidationError(
                _("The file is larger than %(size)d MB.")
                % {"size": csvfiles.MAX_BYTES // (1024 * 1024)}
            )
        return upload
