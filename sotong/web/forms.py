from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from sotong.core.models import (
    Department,
    DepartmentKind,
    Organisation,
    Staff,
    validate_duties,
)
from sotong.core.roles import Role


def add_action_errors(form: forms.BaseForm, error: ValidationError) -> None:
    """An action's ValidationError on the form: each message on its field where the form
    has one, else with the form's own errors (so nothing the action said is lost)."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            target = field if field in form.fields else None
            for message in ValidationError(errors).messages:
                form.add_error(target, message)
    else:
        for message in error.messages:
            form.add_error(None, message)


class NoColon:
    """Labels without Django's trailing colon, which Korean forms do not use."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class TimeInput(forms.TimeInput):
    input_type = "time"


class OrganisationHoursForm(NoColon, forms.ModelForm[Organisation]):
    class Meta:
        model = Organisation
        fields = ["work_start", "lunch_start", "lunch_end", "work_end"]
        widgets = {name: TimeInput(format="%H:%M") for name in fields}


class DepartmentCreateForm(NoColon, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    code = forms.SlugField(
        label=_("Stable id"),
        max_length=50,
        help_text=_("Letters, digits and hyphens; never changes, even when the name does."),
    )
    kind = forms.ChoiceField(
        label=_("Kind"), choices=DepartmentKind.choices, initial=DepartmentKind.DIVISION
    )
    parent = forms.ModelChoiceField(
        label=_("Parent (국/실)"),
        queryset=Department.objects.none(),
        required=False,
        empty_label=_("None (directly under the mayor)"),
    )
    aliases = forms.CharField(
        label=_("Other names"),
        required=False,
        help_text=_("Comma-separated, e.g. former or short names."),
    )

    duties = forms.CharField(
        label=_("Duties (사무분장)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        validators=[validate_duties],
        help_text=_("Keywords of the department's work, one per line or comma-separated."),
    )

    def __init__(self, *args: Any, departments: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["parent"].queryset = departments.filter(  # type: ignore[attr-defined]
            kind__in=[DepartmentKind.BUREAU, DepartmentKind.OFFICE]
        )

    def alias_list(self) -> list[str]:
        return [name.strip() for name in self.cleaned_data["aliases"].split(",") if name.strip()]


class DepartmentRenameForm(NoColon, forms.Form):
    name = forms.CharField(label=_("New name"), max_length=100)


class DepartmentDutiesForm(NoColon, forms.Form):
    duties = forms.CharField(
        label=_("Duty keywords"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 8}),
        validators=[validate_duties],
        help_text=_(
            "One per line or comma-separated, at most 60, each at most 20 characters, e.g. "
            "하수구, 맨홀, 악취. A citizen's message that mentions one is suggested to this "
            "department first."
        ),
    )


class DepartmentMergeForm(NoColon, forms.Form):
    into = forms.ModelChoiceField(
        label=_("Merge into"), queryset=Department.objects.none(), empty_label=_("Choose…")
    )

    def __init__(self, *args: Any, departments: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["into"].queryset = departments  # type: ignore[attr-defined]


class StaffCreateForm(NoColon, forms.Form):
    display_name = forms.CharField(label=_("Name"), max_length=100)
    username = forms.CharField(label=_("Username"), max_length=150)
    email = forms.EmailField(label=_("E-mail"), required=False)
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)
    department = forms.ModelChoiceField(
        label=_("Department"),
        queryset=Department.objects.none(),
        required=False,
        empty_label=_("No department"),
    )
    password = forms.CharField(
        label=_("Initial password"), widget=forms.PasswordInput, min_length=10
    )

    def __init__(self, *args: Any, departments: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = departments  # type: ignore[attr-defined]


class StaffChangeForm(NoColon, forms.ModelForm[Staff]):
    class Meta:
        model = Staff
        fields = ["role", "department"]

    def __init__(self, *args: Any, departments: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = departments  # type: ignore[attr-defined]
        self.fields["department"].empty_label = _("No department")  # type: ignore[attr-defined]


class CalendarExceptionForm(NoColon, forms.Form):
    date = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    name = forms.CharField(label=_("Name"), max_length=100, initial="임시공휴일")
    closed = forms.TypedChoiceField(
        label=_("The office is"),
        coerce=lambda value: value == "closed",
        choices=[("closed", _("closed (holiday)")), ("open", _("open (working day)"))],
        initial="closed",
    )


class AuditFilterForm(NoColon, forms.Form):
    action = forms.ChoiceField(label=_("Action"), required=False)
    actor = forms.CharField(label=_("Who"), required=False, max_length=150)
    since = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, entries: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        actions = entries.order_by().values_list("action", flat=True).distinct()
        self.fields["action"].choices = [("", _("All")), *((a, a) for a in sorted(actions))]  # type: ignore[attr-defined]

    def apply(self, entries: Any) -> Any:
        if not self.is_valid():
            return entries.none()
        data = self.cleaned_data
        if data["action"]:
            entries = entries.filter(action=data["action"])
        if data["actor"]:
            entries = entries.filter(actor_label__icontains=data["actor"])
        if data["since"]:
            entries = entries.filter(at__date__gte=data["since"])
        if data["until"]:
            entries = entries.filter(at__date__lte=data["until"])
        return entries
