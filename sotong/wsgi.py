"""WSGI entry point for gunicorn (`sotong serve`).

Platform webhooks (``/hooks/…``) are the busiest and simplest requests Sotong serves: a
platform's server posts a signed body, nobody signs in, nothing is rendered. They go
through a handler with only the security middleware; sessions, sign-in, language,
CSRF (the view is exempt: the platform's signature is the check), messages and the staff
context are for people's pages and cost a webhook about a quarter of its time."""

import os
from collections.abc import Callable, Iterable
from typing import Any

from django.core.handlers.wsgi import WSGIHandler
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sotong.settings")

WEBHOOK_PREFIX = "/hooks/"
WEBHOOK_MIDDLEWARE = ["django.middleware.security.SecurityMiddleware"]


class WebhookHandler(WSGIHandler):
    """Django's handler with the webhook middleware only."""

    def load_middleware(self, is_async: bool = False) -> None:
        from django.conf import settings

        # Read once, at start-up, before any request thread runs.
        everyone = settings.MIDDLEWARE
        settings.MIDDLEWARE = WEBHOOK_MIDDLEWARE
        try:
            super().load_middleware(is_async)
        finally:
            settings.MIDDLEWARE = everyone


site = get_wsgi_application()
webhooks = WebhookHandler()


def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    if environ.get("PATH_INFO", "").startswith(WEBHOOK_PREFIX):
        return webhooks(environ, start_response)
    return site(environ, start_response)
