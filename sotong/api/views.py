"""Settings → API tokens: each staff member lists, makes and revokes their own tokens.
A new token's secret is shown once, on the page that made it, and never again."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from sotong.api import actions
from sotong.api.models import ApiToken
from sotong.core.models import Staff
from sotong.web.decorators import staff_required
from sotong.web.forms import NoColon

EXPIRY_CHOICES = [
    ("30", gettext_lazy("In 30 days")),
    ("90", gettext_lazy("In 90 days")),
    ("365", gettext_lazy("In a year")),
    ("", gettext_lazy("Never (revoke it yourself)")),
]


class TokenForm(NoColon, forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Token name"),
        max_length=actions.MAX_NAME_LENGTH,
        help_text=gettext_lazy("What uses it, e.g. 홈페이지 연동 스크립트."),
        error_messages={
            "required": gettext_lazy("Give the token a name, e.g. the script that uses it.")
        },
    )
    expires_in = forms.ChoiceField(
        label=gettext_lazy("Expires"), choices=EXPIRY_CHOICES, initial="90", required=False
    )


def _staff(request: HttpRequest) -> Staff:
    staff: Staff = request.staff  # type: ignore[attr-defined]
    return staff


def _render(
    request: HttpRequest, form: TokenForm, *, secret: str = "", status: int = 200
) -> HttpResponse:
    staff = _staff(request)
    response = render(
        request,
        "api/tokens.html",
        {
            "form": form,
            "tokens": ApiToken.objects.filter(staff=staff),
            "secret": secret,
            "now": timezone.now(),
        },
        status=status,
    )
    return response


@never_cache
@staff_required()
def tokens(request: HttpRequest) -> HttpResponse:
    staff = _staff(request)
    if request.method != "POST":
        return _render(request, TokenForm())
    form = TokenForm(request.POST)
    if form.is_valid():
        days = form.cleaned_data["expires_in"]
        expires_at = timezone.now() + dt.timedelta(days=int(days)) if days else None
        try:
            made = actions.create_token(
                staff, name=form.cleaned_data["name"], expires_at=expires_at
            )
        except ValidationError as error:
            for field, problems in error.message_dict.items():
                form.add_error(field if field in form.fields else None, problems)
        else:
            # Rendered, not redirected: the secret exists only in this response.
            return _render(request, TokenForm(), secret=made.secret)
    return _render(request, form, status=400)


@require_POST
@staff_required()
def revoke(request: HttpRequest, pk: int) -> HttpResponse:
    staff = _staff(request)
    # Only one's own tokens: another person's is "not found".
    token = get_object_or_404(ApiToken.objects.filter(staff=staff), pk=pk)
    actions.revoke_token(staff, token)
    messages.success(
        request, _("Token %(name)s revoked: it no longer works.") % {"name": token.name}
    )
    return redirect("api_tokens:list")
