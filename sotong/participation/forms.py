"""Forms of the participation pages. They parse what a person typed; the actions decide
(their ValidationErrors land on these fields by name)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from sotong.channels.models import Channel
from sotong.core import selectors as core_selectors
from sotong.core.models import Department, Staff
from sotong.participation.actions import MAX_NAME
from sotong.participation.models import Poll, PollKind, PollPost, SubmissionState
from sotong.publishing.forms import DateTimeLocalInput
from sotong.web.forms import NoColon

DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]


def seoul_time_field(label: Any, *, required: bool = True) -> forms.DateTimeField:
    """A date and time typed in Seoul time (the site's zone), through the browser's picker."""
    return forms.DateTimeField(
        label=label,
        required=required,
        widget=DateTimeLocalInput(),
        input_formats=DATETIME_FORMATS,
        help_text=_("Seoul time."),
        error_messages={
            "invalid": _("Enter a date and time, e.g. 2026-11-24 09:00."),
            "required": _("Choose a date and time."),
        },
    )


class PollForm(NoColon, forms.Form):
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=PollKind.choices,
        initial=PollKind.POLL,
        widget=forms.RadioSelect,
        help_text=_("A naming contest takes proposals first; its shortlist is voted on later."),
    )
    title = forms.CharField(label=_("Title"), max_length=200)
    question = forms.CharField(
        label=_("Poll question"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What citizens are asked, as it appears on the voting page."),
    )
    description = forms.CharField(
        label=_("Description"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Optional: background, how the result will be used."),
    )
    department: forms.ModelChoiceField[Department] = forms.ModelChoiceField(
        label=_("Department that owns the policy"),
        queryset=Department.objects.none(),
        empty_label=_("Choose a department"),
        help_text=_("It receives the result as a report."),
        error_messages={"required": _("Choose the department.")},
    )
    submissions_open_at = seoul_time_field(_("Proposals from"), required=False)
    submissions_close_at = seoul_time_field(_("Proposals until"), required=False)
    opens_at = seoul_time_field(_("Voting opens"))
    closes_at = seoul_time_field(_("Voting closes"))
    max_choices = forms.IntegerField(
        label=_("Choices per person"),
        min_value=1,
        initial=1,
        help_text=_("1 for a single choice; more lets a citizen tick several options."),
    )
    options = forms.CharField(
        label=_("Options"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_(
            "One per line, in the order they are numbered (1번, 2번…). A naming contest may leave this empty: its shortlist becomes the options."
        ),
    )
    on_web = forms.BooleanField(label=_("Take votes on the web page"), required=False, initial=True)
    on_kakao = forms.BooleanField(
        label=_("Take votes in the KakaoTalk chat"), required=False, initial=True
    )

    def __init__(self, *args: Any, staff: Staff, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = core_selectors.departments(staff).order_by("name")  # type: ignore[attr-defined]

    def option_lines(self) -> list[str]:
        return str(self.cleaned_data.get("options", "")).splitlines()


class PostForm(NoColon, forms.Form):
    channel: forms.ModelChoiceField[Channel] = forms.ModelChoiceField(
        label=_("Channel"),
        queryset=Channel.objects.none(),
        empty_label=_("Choose a channel"),
        error_messages={"required": _("Choose the channel of the post.")},
    )
    post_external_id = forms.CharField(
        label=_("Post id on the platform"),
        max_length=200,
        help_text=_("As the platform gives it, e.g. the number at the end of the post's address."),
        error_messages={"required": _("Enter the post's id on the platform.")},
    )
    url = forms.URLField(
        label=_("Address of the post"),
        required=False,
        max_length=500,
        assume_scheme="https",
        error_messages={"invalid": _("Enter the post's address, starting with https://.")},
    )

    def __init__(self, *args: Any, poll: Poll, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["channel"].queryset = Channel.objects.for_organisation(  # type: ignore[attr-defined]
            poll.organisation_id
        ).order_by("name")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        channel, post_id = data.get("channel"), str(data.get("post_external_id", "")).strip()
        data["post_external_id"] = post_id
        # One post feeds one poll: its comments cannot be read as votes twice.
        if channel is not None and post_id:
            taken = (
                PollPost.objects.filter(channel=channel, post_external_id=post_id)
                .select_related("poll")
                .first()
            )
            if taken is not None:
                self.add_error(
                    "post_external_id",
                    _("This post is already added to the poll “%(title)s”.")
                    % {"title": taken.poll.title},
                )
        return data


class DecisionForm(NoColon, forms.Form):
    decision = forms.CharField(
        label=_("The city's response"),
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_(
            "What was decided and why. It is shown on the public results page and sent to those who took part."
        ),
        error_messages={"required": _("Write what the city decided and why.")},
    )


class VoteForm(forms.Form):
    """The public ballot: one option (radio buttons) or up to ``max_choices`` (checkboxes),
    and a honeypot field people never see."""

    # Named like a field bots love to fill; hidden from people and assistive technology.
    website = forms.CharField(label=_("Leave this field empty"), required=False)

    def __init__(self, *args: Any, poll: Poll, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.poll = poll
        choices = [
            (str(option.position), option.label) for option in poll.options.order_by("position")
        ]
        if poll.max_choices > 1:
            self.fields["choice"] = forms.MultipleChoiceField(
                label=_("Choose up to %(n)s") % {"n": poll.max_choices},
                choices=choices,
                widget=forms.CheckboxSelectMultiple,
                error_messages={
                    "required": _("Choose at least one option."),
                    "invalid_choice": _("That option does not exist. Reload the page."),
                },
            )
        else:
            self.fields["choice"] = forms.ChoiceField(
                label=_("Choose one"),
                choices=choices,
                widget=forms.RadioSelect,
                error_messages={
                    "required": _("Choose an option."),
                    "invalid_choice": _("That option does not exist. Reload the page."),
                },
            )
        self.order_fields(["choice", "website"])

    def clean_choice(self) -> list[int]:
        value = self.cleaned_data["choice"]
        chosen = sorted({int(item) for item in (value if isinstance(value, list) else [value])})
        if len(chosen) > self.poll.max_choices:
            raise forms.ValidationError(
                _("Choose at most %(n)s options.") % {"n": self.poll.max_choices}
            )
        return chosen

    @property
    def is_bot(self) -> bool:
        return bool(str(self.data.get("website", "")).strip())


class ModerationForm(forms.Form):
    """Staff's decision on one proposal: the button pressed says which; a rejection needs
    its reason (the action says so in Korean)."""

    state = forms.ChoiceField(
        choices=[
            (SubmissionState.APPROVED, _("Approve")),
            (SubmissionState.REJECTED, _("Reject")),
            (SubmissionState.SHORTLISTED, _("Shortlist")),
        ],
        error_messages={"required": _("Choose approve, reject or shortlist.")},
    )
    note = forms.CharField(label=_("Reason for rejecting"), required=False, max_length=300)


class ProposalForm(forms.Form):
    """A citizen's proposed name and why, and the honeypot people never see."""

    name = forms.CharField(
        label=_("Proposed name"),
        max_length=MAX_NAME,
        error_messages={"required": _("Write the name you propose.")},
    )
    reason = forms.CharField(
        label=_("Why this name (optional)"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    website = forms.CharField(label=_("Leave this field empty"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        # Formatted here, in the request's language, not once at import.
        name = self.fields["name"]
        name.help_text = _("Up to %(n)s characters.") % {"n": MAX_NAME}
        name.error_messages["max_length"] = _("A name has at most %(n)s characters.") % {
            "n": MAX_NAME
        }

    @property
    def is_bot(self) -> bool:
        return bool(str(self.data.get("website", "")).strip())
