"""Forms of the FAQ pages. They parse what a person typed; the actions decide."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from sotong.core.models import Department, Staff
from sotong.faq import actions, selectors
from sotong.web.forms import NoColon


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format="%Y-%m-%d")


def _date_field(label: Any, help_text: Any) -> forms.DateField:
    return forms.DateField(
        label=label,
        required=False,
        widget=DateInput(),
        help_text=help_text,
        error_messages={"invalid": _("Enter a date, e.g. 2026-11-24.")},
    )


class FaqEntryForm(NoColon, forms.Form):
    questions = forms.CharField(
        label=_("Questions"),
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_(
            "One way of asking per line, in citizens' words, e.g. 쓰레기 언제 버려요? "
            "The more ways, the more questions are answered automatically."
        ),
        error_messages={"required": _("Enter at least one question, as a citizen would ask it.")},
    )
    answer = forms.CharField(
        label=_("Answer"),
        widget=forms.Textarea(attrs={"rows": 6}),
        max_length=actions.MAX_ANSWER_LENGTH,
        help_text=_("Sent to citizens as it is: complete, polite, with a contact."),
        error_messages={"required": _("Enter the answer.")},
    )
    department: forms.ModelChoiceField[Department] = forms.ModelChoiceField(
        label=_("Owning department"),
        queryset=Department.objects.none(),
        empty_label=None,
        help_text=_("Keeps the answer up to date and receives the questions it does not answer."),
    )
    valid_from = _date_field(_("Valid from"), _("Empty: from now."))
    valid_until = _date_field(_("Valid until"), _("Empty: until it is retired."))

    def __init__(self, *args: Any, staff: Staff, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field: Any = self.fields["department"]
        field.queryset = selectors.owning_departments(staff)


class TryForm(NoColon, forms.Form):
    q = forms.CharField(label=_("Try a question"), max_length=500, required=False)
