from __future__ import annotations

from django import forms
from django.forms import formset_factory
from django.utils.translation import gettext_lazy as _

from sotong.chat.models import MenuAction
from sotong.chat.sessions import MENU_MAX


class ChatSettingsForm(forms.Form):
    greeting = forms.CharField(
        label=_("Greeting"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Shown with the menu. Empty: the standard greeting with the city's name."),
    )
    consent_text = forms.CharField(
        label=_("Consent notice for complaints"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_(
            "Purpose, items, retention and the right to refuse (개인정보 보호법 art. 15). "
            "Empty: the standard notice with the retention below."
        ),
    )
    retention_years = forms.IntegerField(
        label=_("Retention of complaints (years)"), min_value=1, max_value=30
    )
    idle_minutes = forms.IntegerField(
        label=_("Forget an unfinished complaint after (minutes)"), min_value=5, max_value=1440
    )


class MenuItemForm(forms.Form):
    label = forms.CharField(label=_("Button"), required=False, max_length=14)
    action = forms.ChoiceField(
        label=_("What it does"), required=False, choices=[("", "—"), *MenuAction.choices]
    )
    value = forms.CharField(
        label=_("Topic, campaign, search words or text"), required=False, max_length=1000
    )


MenuFormSet = formset_factory(MenuItemForm, extra=0, max_num=MENU_MAX, absolute_max=MENU_MAX)
