"""Forms of the inbox pages. They parse what a person typed; the actions decide."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from sotong.channels.models import Channel
from sotong.core.models import Department, Staff
from sotong.inbox import canned
from sotong.inbox.models import CaseKind, CaseStatus, Intent, Sensitivity
from sotong.publishing.forms import DateTimeLocalInput
from sotong.web.forms import NoColon


def _departments(staff: Staff) -> Any:
    return Department.objects.filter(
        organisation_id=staff.organisation_id, is_active=True
    ).order_by("name")


class FilterForm(NoColon, forms.Form):
    channel = forms.ModelChoiceField(
        label=_("Channel"), queryset=Channel.objects.none(), required=False, empty_label=_("All")
    )
    department = forms.ModelChoiceField(
        label=_("Department"),
        queryset=Department.objects.none(),
        required=False,
        empty_label=_("All"),
    )
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("Open cases")), *list(CaseStatus.choices)],
    )
    intent = forms.ChoiceField(
        label=_("Intent"), required=False, choices=[("", _("All")), *list(Intent.choices)]
    )
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)
    awaiting_approval = forms.BooleanField(
        label=_("Replies awaiting approval only"), required=False
    )

    def __init__(self, *args: Any, staff: Staff, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        channel_field: Any = self.fields["channel"]
        channel_field.queryset = Channel.objects.filter(organisation_id=staff.organisation_id)
        department_field: Any = self.fields["department"]
        department_field.queryset = _departments(staff)


class AssignForm(NoColon, forms.Form):
    department = forms.ModelChoiceField(
        label=_("Department"), queryset=Department.objects.none(), empty_label=None
    )
    assignee = forms.ModelChoiceField(
        label=_("Person"),
        queryset=Staff.objects.none(),
        required=False,
        empty_label=_("Anyone in the department"),
    )

    def __init__(self, *args: Any, staff: Staff, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        department_field: Any = self.fields["department"]
        department_field.queryset = _departments(staff)
        assignee_field: Any = self.fields["assignee"]
        assignee_field.queryset = Staff.objects.filter(
            organisation_id=staff.organisation_id, user__is_active=True
        ).order_by("display_name")


class StatusForm(NoColon, forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=CaseStatus.choices)


class KindForm(NoColon, forms.Form):
    kind = forms.ChoiceField(
        label=_("Kind of complaint"),
        choices=CaseKind.choices,
        help_text=_("Changing the kind counts the deadline again from receipt."),
    )


class NoteForm(NoColon, forms.Form):
    text = forms.CharField(
        label=_("Internal note"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Seen by staff only, never by the citizen."),
        error_messages={"required": _("Write the note.")},
    )


class ReplyForm(NoColon, forms.Form):
    text = forms.CharField(
        label=_("Reply"),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=2000,
        error_messages={"required": _("Write the reply.")},
    )
    visibility = forms.ChoiceField(label=_("Where the reply goes"), widget=forms.RadioSelect)

    def __init__(self, *args: Any, modes: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        labels = {
            "public": _("Public reply under the comment"),
            "private": _("Private message to the citizen"),
        }
        visibility: Any = self.fields["visibility"]
        visibility.choices = [(mode, labels[mode]) for mode in modes]
        if modes:
            visibility.initial = modes[0]


class ReferForm(NoColon, forms.Form):
    department = forms.ModelChoiceField(
        label=_("Department asked"), queryset=Department.objects.none(), empty_label=None
    )
    question = forms.CharField(
        label=_("What the department is asked"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
    )
    due_at = forms.DateTimeField(
        label=_("Answer due"),
        required=False,
        widget=DateTimeLocalInput(),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        help_text=_("Seoul time. Empty: the case's deadline."),
    )

    def __init__(self, *args: Any, staff: Staff, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        department_field: Any = self.fields["department"]
        department_field.queryset = _departments(staff)


class ReferralAnswerForm(NoColon, forms.Form):
    answer = forms.CharField(
        label=_("The department's answer"),
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": _("Write the department's answer.")},
    )


class HideForm(NoColon, forms.Form):
    reason = forms.CharField(
        label=_("Why it is hidden"),
        max_length=300,
        error_messages={"required": _("Say why the comment is hidden.")},
    )


class SatisfactionForm(NoColon, forms.Form):
    score = forms.TypedChoiceField(
        label=_("Satisfaction"),
        coerce=int,
        choices=[(n, str(n)) for n in range(5, 0, -1)],
        help_text=_("5 = very satisfied, 1 = very dissatisfied."),
    )
    comment = forms.CharField(label=_("Citizen's comment"), required=False, max_length=2000)


# -- canned responses, approval, satisfaction --------------------------------------------------


def _placeholder_help() -> str:
    return ", ".join("{" + name + "}" for name in canned.PLACEHOLDERS)


class CannedResponseForm(NoColon, forms.Form):
    title = forms.CharField(
        label=_("Title"),
        max_length=canned.MAX_TITLE,
        help_text=_("What staff pick from the list on the reply form."),
        error_messages={"required": _("Enter a title.")},
    )
    body = forms.CharField(
        label=_("Text"),
        widget=forms.Textarea(attrs={"rows": 6}),
        max_length=canned.MAX_BODY,
        error_messages={"required": _("Enter the text of the reply.")},
    )
    department = forms.ModelChoiceField(
        label=_("Department"),
        queryset=Department.objects.none(),
        required=False,
        empty_label=_("Whole city (shared)"),
        help_text=_("A department's canned responses are offered to its staff and on its cases."),
    )

    def __init__(self, *args: Any, staff: Staff, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        department_field: Any = self.fields["department"]
        department_field.queryset = _departments(staff)
        body: Any = self.fields["body"]
        body.help_text = _(
            "Placeholders filled from the case: %(names)s (the citizen's name, the "
            "department, the deadline, the person in charge, the city)."
        ) % {"names": _placeholder_help()}


class InboxOptionsForm(NoColon, forms.Form):
    ask_satisfaction_by_message = forms.BooleanField(
        label=_("Ask for satisfaction by private message"),
        required=False,
        help_text=_(
            "After an answer in a private conversation (KakaoTalk, Messenger, Telegram…), "
            "a short message asks the citizen for a score from 1 to 5."
        ),
    )
    survey_link_in_replies = forms.BooleanField(
        label=_("Add the satisfaction survey link to replies"),
        required=False,
        help_text=_(
            "Replies carry the link of a survey page citizens answer without signing in, "
            "once, within 14 days. Works on every channel, public comments included."
        ),
    )


class SensitivityForm(NoColon, forms.Form):
    sensitivity = forms.ChoiceField(
        label=_("Sensitivity"),
        choices=Sensitivity.choices,
        help_text=_(
            "Replies on a sensitive case wait for a PR editor's approval. As triage says: "
            "sensitive while the urgency is high."
        ),
    )
    reason = forms.CharField(
        label=_("Reason"), max_length=300, error_messages={"required": _("Say why.")}
    )


class ReturnReplyForm(NoColon, forms.Form):
    comment = forms.CharField(
        label=_("What should change"),
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Say what should change.")},
    )


class ResubmitReplyForm(NoColon, forms.Form):
    text = forms.CharField(
        label=_("Reply"),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=2000,
        error_messages={"required": _("Write the reply.")},
    )


class SurveyForm(NoColon, forms.Form):
    score = forms.TypedChoiceField(
        label=_("How satisfied are you with the answer?"),
        coerce=int,
        choices=[
            (5, _("5 – very satisfied")),
            (4, _("4 – satisfied")),
            (3, _("3 – neither")),
            (2, _("2 – dissatisfied")),
            (1, _("1 – very dissatisfied")),
        ],
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choose a score from 1 to 5."),
            "invalid_choice": _("Choose a score from 1 to 5."),
        },
    )
    comment = forms.CharField(
        label=_("Anything you would like to tell us (optional)"),
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        max_length=2000,
        help_text=_("Please do not write personal information such as phone numbers."),
    )
