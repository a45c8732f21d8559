"""Connecting channels by OAuth: which app Sotong signs in as on each platform, and where
the platform is (the real one, or the simulator when SOTONG_SIMULATOR_URL is set)."""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from sotong.platforms.base import ChannelAccount, Connector, Credentials, OAuthApp, connector_class

# The environment variables naming each platform's app. Instagram is reached through
# Facebook Login, so it signs in as the city's Meta app.
APP_VARIABLES = {
    "facebook": ("SOTONG_FACEBOOK_APP_ID", "SOTONG_FACEBOOK_APP_SECRET"),
    "instagram": ("SOTONG_FACEBOOK_APP_ID", "SOTONG_FACEBOOK_APP_SECRET"),
}


def app_variables(kind: str) -> tuple[str, str]:
    upper = kind.upper()
    return APP_VARIABLES.get(kind, (f"SOTONG_{upper}_CLIENT_ID", f"SOTONG_{upper}_CLIENT_SECRET"))


def simulator_url() -> str:
    return os.environ.get("SOTONG_SIMULATOR_URL", "").rstrip("/")


@dataclass(frozen=True)
class OAuthSetup:
    app: OAuthApp
    # Stored on the channel too: empty means the real platform.
    api_base: str

    def connector(self, kind: str) -> Connector:
        """A connector with no account yet, for the sign-in itself."""
        return connector_class(kind)(ChannelAccount("", Credentials(), api_base=self.api_base))


def oauth_setup(kind: str, redirect_uri: str) -> OAuthSetup:
    """The app and platform address for signing in to ``kind``; a clear error when the
    city has not registered its app (the simulator has a practice app of its own)."""
    if not connector_class(kind).oauth_login:
        raise ValidationError(_("This platform is connected by entering a token."))
    id_variable, secret_variable = app_variables(kind)
    client_id = os.environ.get(id_variable, "")
    client_secret = os.environ.get(secret_variable, "")
    simulator = simulator_url()
    if simulator:
        practice_id, practice_secret = importlib.import_module(f"sotong.simulator.{kind}").OAUTH_APP
        return OAuthSetup(
            OAuthApp(client_id or practice_id, client_secret or practice_secret, redirect_uri),
            f"{simulator}/{kind}",
        )
    if not client_id or not client_secret:
        raise ValidationError(
            _("The app for this platform is not configured: set %(id)s and %(secret)s.")
            % {"id": id_variable, "secret": secret_variable}
        )
    return OAuthSetup(OAuthApp(client_id, client_secret, redirect_uri), "")
