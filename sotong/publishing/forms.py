"""Forms of the publishing pages. They parse what a person typed; the actions decide."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sotong.channels.models import Channel
from sotong.core.models import Department, Staff
from sotong.publishing import actions, adapt, selectors
from sotong.publishing.models import Campaign, PostStatus
from sotong.web.forms import NoColon

# A publish time typed to the minute is up to a minute old when it is sent.
PAST_GRACE = dt.timedelta(minutes=1)


class DateTimeLocalInput(forms.DateTimeInput):
    """The browser's date-and-time picker; the value is Seoul time (the site's zone)."""

    input_type = "datetime-local"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format="%Y-%m-%dT%H:%M")


def publish_time_field(label: Any, *, required: bool = True) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        required=required,
        widget=DateTimeLocalInput(),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"],
        help_text=_("Seoul time."),
        error_messages={
            "invalid": _("Enter a date and time, e.g. 2026-11-24 09:00."),
            "required": _("Choose when it goes out."),
        },
    )


# What the file picker offers; the server checks the content whatever the browser sends.
IMAGE_ACCEPT = "image/jpeg,image/png,image/gif,image/webp"


class ChannelChoices(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        channel: Channel = obj
        return f"{channel.name} ({channel.get_kind_display()})"


class ComposeForm(NoColon, forms.Form):
    department: forms.ModelChoiceField[Department] = forms.ModelChoiceField(
        label=_("Department"), queryset=Department.objects.none(), empty_label=None
    )
    title = forms.CharField(label=_("Title"), max_length=200)
    body = forms.CharField(label=_("Body"), widget=forms.Textarea(attrs={"rows": 8}))
    link = forms.URLField(
        label=_("Link"),
        required=False,
        assume_scheme="https",
        help_text=_("Optional: the page with the details."),
    )
    hashtags = forms.CharField(
        label=_("Hashtags"),
        required=False,
        max_length=500,
        help_text=_("Separated by spaces or commas, e.g. #순천 #국가정원"),
    )
    topics = forms.MultipleChoiceField(
        label=_("Topics"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "invalid_choice": _("%(value)s is not one of the topics offered; choose another.")
        },
    )
    campaign: forms.ModelChoiceField[Campaign] = forms.ModelChoiceField(
        label=_("Campaign"),
        queryset=Campaign.objects.none(),
        required=False,
        empty_label=_("None"),
    )
    new_campaign = forms.CharField(
        label=_("Or a new campaign"),
        required=False,
        max_length=100,
        help_text=_("Type a name to start a campaign, e.g. 순천만갈대축제 2026."),
    )
    channels = ChannelChoices(
        label=_("Channels"),
        queryset=Channel.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one channel.")},
    )
    publish_at = publish_time_field(_("Publish at"), required=False)
    image = forms.FileField(
        label=_("Image"),
        required=False,
        widget=forms.FileInput(attrs={"accept": IMAGE_ACCEPT}),
        help_text=_(
            "Optional: JPEG, PNG, GIF or WebP, up to 8 MB, at least 320 pixels wide. More images can be added after saving."
        ),
    )
    alt_text = forms.CharField(
        label=_("Image description (alt text)"),
        required=False,
        max_length=1000,
        help_text=_("What the image shows, for people who cannot see it."),
    )

    def __init__(
        self, *args: Any, staff: Staff, current_topics: Sequence[str] = (), **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        # The organisation's active topics, and retired ones the post already has.
        self.fields["topics"].choices = [  # type: ignore[attr-defined]
            (name, name) for name in actions.offered_topics(staff.organisation_id, current_topics)
        ]
        self.fields["department"].queryset = selectors.writable_departments(staff)  # type: ignore[attr-defined]
        self.fields["campaign"].queryset = selectors.campaigns(staff)  # type: ignore[attr-defined]
        channel_ids = [channel.pk for channel in selectors.postable_channels(staff)]
        self.fields["channels"].queryset = Channel.objects.filter(pk__in=channel_ids).order_by(  # type: ignore[attr-defined]
            "name"
        )
        if staff.department_id is not None and not self.is_bound:
            self.initial.setdefault("department", staff.department_id)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("campaign") and data.get("new_campaign", "").strip():
            self.add_error(
                "new_campaign", _("Choose a campaign or type a new one's name, not both.")
            )
        return data

    def hashtag_list(self) -> tuple[str, ...]:
        return adapt.parse_hashtags(self.cleaned_data.get("hashtags", ""))


class SubmitForm(NoColon, forms.Form):
    publish_at = publish_time_field(_("Publish at"))

    def clean_publish_at(self) -> dt.datetime:
        value: dt.datetime = self.cleaned_data["publish_at"]
        if value < timezone.now() - PAST_GRACE:
            raise forms.ValidationError(_("That time has passed; choose a later one."))
        return value


class DecisionForm(NoColon, forms.Form):
    comment = forms.CharField(
        label=_("Comment"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Required when you request changes or reject."),
    )


class VariantForm(NoColon, forms.Form):
    text = forms.CharField(label=_("Text"), widget=forms.Textarea(attrs={"rows": 8}))


class ConfirmForm(NoColon, forms.Form):
    url = forms.URLField(
        label=_("Address of the post"),
        max_length=500,
        assume_scheme="https",
        error_messages={
            "required": _("Enter the post's address on the platform."),
            "invalid": _("Enter the post's address on the platform."),
        },
    )


class RescheduleForm(NoColon, forms.Form):
    due_at = publish_time_field(_("New time"))


class PostFilterForm(NoColon, forms.Form):
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("All")), *PostStatus.choices]
    )
    topic = forms.ChoiceField(label=_("Topic"), required=False, choices=[("", _("All"))])
    mine = forms.BooleanField(label=_("Only mine"), required=False)

    def __init__(self, *args: Any, staff: Staff | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if staff is not None:
            # Retired topics too: the posts that have them can still be found.
            choices: list[tuple[str, str]] = [("", str(_("All")))]
            for topic in actions.topics_of(staff.organisation_id):
                label = (
                    topic.name if topic.active else _("%(name)s (retired)") % {"name": topic.name}
                )
                choices.append((topic.name, str(label)))
            self.fields["topic"].choices = choices  # type: ignore[attr-defined]


def initial_publish_time(now: dt.datetime | None = None) -> dt.datetime:
    """The next full hour in Seoul: a sensible default that is never in the past."""
    local = timezone.localtime(now or timezone.now())
    return (local + dt.timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)


class ImageForm(NoColon, forms.Form):
    image = forms.FileField(
        label=_("Image"),
        widget=forms.FileInput(attrs={"accept": IMAGE_ACCEPT}),
        help_text=_("JPEG, PNG, GIF or WebP, up to 8 MB, at least 320 pixels wide."),
        error_messages={"required": _("Choose an image file.")},
    )
    alt_text = forms.CharField(
        label=_("Image description (alt text)"),
        required=False,
        max_length=1000,
        help_text=_("What the image shows, for people who cannot see it."),
    )


class WithdrawForm(NoColon, forms.Form):
    reason = forms.CharField(
        label=_("Why is it withdrawn?"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Kept with the post's record and shown on each channel's entry."),
        error_messages={"required": _("Say why the post is withdrawn.")},
    )
    confirm = forms.BooleanField(
        label=_("I understand: the post is deleted from every channel where it is out."),
        error_messages={"required": _("Tick the box to confirm the withdrawal.")},
    )


class TopicForm(NoColon, forms.Form):
    name = forms.CharField(
        label=_("Topic name"),
        # The action checks the length (after tidying spaces) and says so in Korean.
        widget=forms.TextInput(attrs={"maxlength": actions.TOPIC_NAME_MAX}),
        help_text=_("For example 정원, 문화, 일자리."),
        error_messages={"required": _("Enter the topic's name.")},
    )
