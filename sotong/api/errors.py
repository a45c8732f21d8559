"""One error shape across the API: ``{"error": {"code", "message", "fields"}}``.

Actions raise Django's ValidationError (400) and PermissionDenied (403); lookups outside
the caller's scope are 404 whether or not the row exists, so nothing leaks; a body or query
that does not parse is 422 with each field's problem; a missing, unknown, revoked or
expired token is 401 with ``WWW-Authenticate: Bearer``."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as SchemaValidationError

NON_FIELD = "__all__"
# Where a problem sits in ninja's error locations; the rest of the location is the field.
LOCATION_PARTS = frozenset(
    {"body", "query", "path", "header", "cookie", "form", "file", "payload", "filters"}
)


class ErrorDetail(Schema):
    code: str
    message: str
    fields: dict[str, list[str]] = {}


class ErrorOut(Schema):
    error: ErrorDetail


class ApiError(Exception):
    """An error the API answers with directly (status, code, Korean message)."""

    def __init__(
        self, status: int, code: str, message: str, fields: dict[str, list[str]] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields or {}


def error_response(
    api: NinjaAPI,
    request: HttpRequest,
    status: int,
    code: str,
    message: str,
    fields: dict[str, list[str]] | None = None,
) -> HttpResponse:
    body = {"error": {"code": code, "message": message, "fields": fields or {}}}
    response = api.create_response(request, body, status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="sotong"'
    return response


def _django_fields(error: DjangoValidationError) -> tuple[str, dict[str, list[str]]]:
    if hasattr(error, "error_dict"):
        fields = {
            field: [str(message) for message in DjangoValidationError(errors).messages]
            for field, errors in error.error_dict.items()
        }
        messages = [message for field_messages in fields.values() for message in field_messages]
        return " ".join(messages), fields
    return " ".join(str(message) for message in error.messages), {}


SCHEMA_MESSAGES: dict[str, Any] = {
    "missing": gettext_lazy("This field is required."),
    "string_too_long": gettext_lazy("The value is too long."),
    "string_too_short": gettext_lazy("This field is required."),
    "int_parsing": gettext_lazy("Enter a whole number."),
    "int_type": gettext_lazy("Enter a whole number."),
    "datetime_parsing": gettext_lazy(
        "Enter a date and time in ISO 8601, e.g. 2026-11-24T09:00:00+09:00."
    ),
    "datetime_from_date_parsing": gettext_lazy(
        "Enter a date and time in ISO 8601, e.g. 2026-11-24T09:00:00+09:00."
    ),
    "datetime_type": gettext_lazy(
        "Enter a date and time in ISO 8601, e.g. 2026-11-24T09:00:00+09:00."
    ),
    "date_parsing": gettext_lazy("Enter a date, e.g. 2026-11-24."),
    "date_from_datetime_parsing": gettext_lazy("Enter a date, e.g. 2026-11-24."),
    "list_type": gettext_lazy("Enter a list."),
    "json_invalid": gettext_lazy("The request body is not valid JSON."),
    "model_attributes_type": gettext_lazy("The request body must be a JSON object."),
    "dict_type": gettext_lazy("The request body must be a JSON object."),
    "greater_than_equal": gettext_lazy("The number is too small."),
    "less_than_equal": gettext_lazy("The number is too large."),
}


def _schema_message(item: dict[str, Any]) -> str:
    kind = str(item.get("type", ""))
    if kind == "value_error":
        # Our own validators raise ValueError with a translated message.
        context = item.get("ctx", {}) or {}
        return str(context.get("error", item.get("msg", "")))
    if kind in SCHEMA_MESSAGES:
        return str(SCHEMA_MESSAGES[kind])
    return _("Enter a valid value.")


def _schema_fields(errors: list[dict[str, Any]]) -> dict[str, list[str]]:
    fields: dict[str, list[str]] = {}
    for item in errors:
        location = [str(part) for part in item.get("loc", ())]
        while location and location[0] in LOCATION_PARTS:
            location.pop(0)
        fields.setdefault(".".join(location) or NON_FIELD, []).append(_schema_message(item))
    return fields


def install(api: NinjaAPI) -> None:
    """Answer every error the operations can meet in the one shape."""

    @api.exception_handler(ApiError)
    def api_error(request: HttpRequest, exc: ApiError) -> HttpResponse:
        return error_response(api, request, exc.status, exc.code, exc.message, exc.fields)

    @api.exception_handler(AuthenticationError)
    def unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        return error_response(
            api,
            request,
            401,
            "unauthenticated",
            _(
                "Sign in, or send a valid API token as “Authorization: Bearer <token>”. The token may be unknown, revoked or expired."
            ),
        )

    @api.exception_handler(HttpError)
    def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        if exc.status_code == 400:
            # Ninja's only 400: a body it cannot read as JSON.
            return error_response(
                api, request, 400, "invalid_json", _("The request body is not valid JSON.")
            )
        code = {403: "forbidden", 404: "not_found", 405: "method_not_allowed"}.get(
            exc.status_code, "error"
        )
        return error_response(api, request, exc.status_code, code, str(exc))

    @api.exception_handler(SchemaValidationError)
    def schema_invalid(request: HttpRequest, exc: SchemaValidationError) -> HttpResponse:
        return error_response(
            api,
            request,
            422,
            "validation_error",
            _("Some fields are missing or not valid."),
            _schema_fields(list(exc.errors)),
        )

    @api.exception_handler(DjangoValidationError)
    def invalid(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
        message, fields = _django_fields(exc)
        return error_response(api, request, 400, "invalid", message, fields)

    @api.exception_handler(PermissionDenied)
    def forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
        # The exception's text is for developers (and may be English); the caller gets
        # the plain refusal.
        return error_response(api, request, 403, "forbidden", _("You are not allowed to do that."))

    def not_found(request: HttpRequest, exc: Any) -> HttpResponse:
        return error_response(api, request, 404, "not_found", _("Not found."))

    api.add_exception_handler(Http404, not_found)
    api.add_exception_handler(ObjectDoesNotExist, not_found)
