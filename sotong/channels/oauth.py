"""Connecting channels by OAuth: where the platform's login lives (the real platform, or the
simulator when SOTONG_SIMULATOR_URL is set) and which app Sotong signs in as."""

from __future__ import annotations

import os
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# The simulator's demo app (sotong/simulator/facebook.py): practice only.
SIMULATOR_FACEBOOK_APP = ("sotong-app", "sim-app-secret")


@dataclass(frozen=True)
class OAuthApp:
    dialog_base: str
    api_base: str  # also stored on the channel: empty means the real platform
    app_id: str
    app_secret: str


def facebook_app() -> OAuthApp:
    simulator = os.environ.get("SOTONG_SIMULATOR_URL", "").rstrip("/")
    app_id = os.environ.get("SOTONG_FACEBOOK_APP_ID", "")
    app_secret = os.environ.get("SOTONG_FACEBOOK_APP_SECRET", "")
    if simulator:
        default_id, default_secret = SIMULATOR_FACEBOOK_APP
        return OAuthApp(
            f"{simulator}/facebook",
            f"{simulator}/facebook",
            app_id or default_id,
            app_secret or default_secret,
        )
    if not app_id or not app_secret:
        raise ValidationError(
            _(
                "The Facebook app is not configured: set SOTONG_FACEBOOK_APP_ID "
                "and SOTONG_FACEBOOK_APP_SECRET."
            )
        )
    return OAuthApp("https://www.facebook.com", "", app_id, app_secret)
