from __future__ import annotations

from typing import Any

from django import forms
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from sotong.core import selectors
from sotong.core.models import Department, Staff
from sotong.platforms.base import Capability, Connector, Credentials, connector_class
from sotong.web.forms import NoColon

# The secrets each platform needs besides its token, as its connector reads them from
# Credentials.extra.
EXTRA_SECRETS: dict[str, tuple[tuple[str, Any], ...]] = {
    "facebook": (
        ("app_id", _("App ID")),
        ("app_secret", _("App secret")),
        ("verify_token", _("Webhook verify token")),
    ),
    "instagram": (
        ("app_id", _("App ID")),
        ("app_secret", _("App secret")),
        ("verify_token", _("Webhook verify token")),
    ),
    "x": (
        ("client_id", _("Client ID")),
        ("client_secret", _("Client secret")),
        ("consumer_secret", _("Consumer secret (webhooks)")),
    ),
    "youtube": (("client_id", _("Client ID")), ("client_secret", _("Client secret"))),
    "telegram": (("secret_token", _("Webhook secret token")),),
    "kakao": (
        ("skill_secret", _("Skill URL secret")),
        ("admin_key", _("Admin key (friend callbacks)")),
    ),
    "band": (),
    "mastodon": (),
    "naver_blog": (),
}


class ConnectForm(NoColon, forms.Form):
    name = forms.CharField(
        label=_("Channel name"),
        max_length=100,
        help_text=_("As staff will see it, e.g. 순천시 페이스북."),
    )
    account_id = forms.CharField(
        label=_("Account on the platform"),
        max_length=200,
        help_text=_("Page id, band key, channel id, blog id or bot id."),
    )
    access_token = forms.CharField(
        label=_("Access token"), required=False, widget=forms.PasswordInput(render_value=False)
    )
    refresh_token = forms.CharField(
        label=_("Refresh token"), required=False, widget=forms.PasswordInput(render_value=False)
    )
    api_base = forms.URLField(
        label=_("API address"),
        required=False,
        help_text=_("Leave empty for the real platform; the simulator's address to practise."),
    )
    department: forms.ModelChoiceField[Department] = forms.ModelChoiceField(
        label=_("Department"),
        queryset=Department.objects.none(),
        required=False,
        empty_label=_("The whole city"),
    )

    def __init__(self, *args: Any, kind: str, staff: Staff, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        try:
            self.platform: type[Connector] = connector_class(kind)
        except KeyError as exc:
            raise Http404 from exc
        self.kind = kind
        self.fields["department"].queryset = selectors.departments(staff)  # type: ignore[attr-defined]
        # Only the secrets this platform uses: no refresh token where tokens do not expire,
        # no token at all where Sotong only reads a public feed (Naver Blog).
        if Capability.REFRESH_CREDENTIALS not in self.platform.capabilities:
            del self.fields["refresh_token"]
        if not self.platform.needs_token:
            del self.fields["access_token"]
        if not self.platform.default_api_base:
            # No one address for the platform (Mastodon: each city chooses its server).
            api_base = self.fields["api_base"]
            api_base.required = True
            api_base.label = _("Server address")
            api_base.help_text = _(
                "The address of the server the account is on, e.g. https://mastodon.social."
            )
            api_base.error_messages["required"] = _("Enter the address of the account's server.")
        for name, label in EXTRA_SECRETS.get(kind, ()):
            self.fields[f"extra_{name}"] = forms.CharField(
                label=label, required=False, widget=forms.PasswordInput(render_value=False)
            )
        self.organisation_id = staff.organisation_id
        if kind == "kakao":
            # Paid per message, so off unless the city chooses it (inbox.event_api).
            self.fields["option_event_api"] = forms.BooleanField(
                label=_("Send staff replies by the Event API"),
                required=False,
                help_text=_(
                    "15 won + VAT per delivered message. Off: a reply reaches the citizen "
                    "with the chatbot's answer to their next message."
                ),
            )

    def connect_arguments(self) -> dict[str, Any]:
        data = self.cleaned_data
        extra = {
            name: data[f"extra_{name}"]
            for name, _label in EXTRA_SECRETS.get(self.kind, ())
            if data.get(f"extra_{name}")
        }
        arguments: dict[str, Any] = {
            "kind": self.kind,
            "name": data["name"],
            "account_id": data["account_id"].strip(),
            "credentials": Credentials(
                access_token=data.get("access_token", ""),
                refresh_token=data.get("refresh_token", ""),
                extra=extra,
            ),
            "department": data["department"],
            "api_base": data["api_base"],
        }
        if "option_event_api" in self.fields:
            from sotong.channels.models import Channel

            # Reconnecting keeps the channel's other options (event name, price).
            kept = (
                Channel.objects.filter(
                    organisation_id=self.organisation_id,
                    kind=self.kind,
                    account_id=arguments["account_id"],
                )
                .values_list("options", flat=True)
                .first()
            )
            arguments["options"] = {
                **{str(k): str(v) for k, v in (kept or {}).items()},
                "event_api": "true" if data.get("option_event_api") else "false",
            }
        return arguments
