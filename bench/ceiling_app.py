"""The webhook ceiling: a bare Django view answering a fixed JSON body, with no database,
no middleware and no templates. Served by gunicorn with Sotong's own server settings, it is
the most any Sotong endpoint could do on this machine; later figures are given against it."""

from django.conf import settings
from django.core.wsgi import get_wsgi_application
from django.http import HttpRequest, JsonResponse
from django.urls import path

BODY = {"ok": True, "received": 1}


def fixed_json(request: HttpRequest) -> JsonResponse:
    return JsonResponse(BODY)


if not settings.configured:
    settings.configure(
        DEBUG=False,
        ALLOWED_HOSTS=["*"],
        ROOT_URLCONF=__name__,
        SECRET_KEY="bench-only",  # noqa: S106
        MIDDLEWARE=[],
        INSTALLED_APPS=[],
        USE_TZ=True,
    )

urlpatterns = [path("", fixed_json)]
application = get_wsgi_application()
