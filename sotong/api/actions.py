"""API tokens: make one (the secret is returned once and only its hash kept), revoke it,
and find the staff member a presented token acts for."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from sotong.api.models import ApiToken
from sotong.core import audit
from sotong.core.models import Staff
from sotong.core.permissions import actor_of

# "sotong_<prefix>_<secret>": the prefix finds nothing by itself (lookup is by the hash of
# the whole token); it only lets a person tell their tokens apart in a list.
TOKEN_START = "sotong_"  # noqa: S105 - a public marker, not a secret
# Last-used times are written at most this often, not on every request.
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)
MAX_NAME_LENGTH = 100


def hash_secret(token: str) -> str:
    # A random 256-bit secret needs no slow hash: SHA-256 cannot be reversed or guessed.
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class NewToken:
    token: ApiToken
    secret: str  # the whole token; shown once, never stored


@transaction.atomic
def create_token(
    by: Staff, *, name: str, expires_at: dt.datetime | None = None, now: dt.datetime | None = None
) -> NewToken:
    """A new token acting as ``by`` (staff make tokens for themselves only)."""
    if not by.user.is_active:
        raise PermissionDenied("inactive")
    name = " ".join(name.split())
    errors: dict[str, str] = {}
    if not name:
        errors["name"] = _("Give the token a name, e.g. the script that uses it.")
    elif len(name) > MAX_NAME_LENGTH:
        errors["name"] = _("The name is too long.")
    if expires_at is not None and expires_at <= (now or timezone.now()):
        errors["expires_at"] = _("That time has passed; choose a later one.")
    if errors:
        raise ValidationError(errors)
    prefix = secrets.token_hex(4)
    secret = f"{TOKEN_START}{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken.objects.create(
        organisation_id=by.organisation_id,
        staff=by,
        name=name,
        prefix=f"{TOKEN_START}{prefix}",
        secret_hash=hash_secret(secret),
        expires_at=expires_at,
    )
    audit.record(
        actor_of(by),
        "api_token.create",
        token,
        organisation=by.organisation,
        after={"name": token.name, "prefix": token.prefix, "expires_at": token.expires_at},
    )
    return NewToken(token, secret)


@transaction.atomic
def revoke_token(by: Staff, token: ApiToken) -> ApiToken:
    """Stop the token working at once. Staff revoke their own tokens only."""
    token = ApiToken.objects.select_for_update().get(pk=token.pk)
    if token.staff_id != by.pk:
        raise PermissionDenied("another person's token")
    if token.revoked_at is not None:
        return token
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    audit.record(
        actor_of(by),
        "api_token.revoke",
        token,
        organisation=by.organisation,
        before={"revoked_at": None},
        after={"name": token.name, "prefix": token.prefix, "revoked_at": token.revoked_at},
    )
    return token


def token_for(secret: str, now: dt.datetime | None = None) -> ApiToken | None:
    """The usable token ``secret`` is (not revoked, not expired, its staff member active);
    None otherwise. Records when it was last used."""
    if not secret.startswith(TOKEN_START):
        return None
    digest = hash_secret(secret)
    token = (
        ApiToken.objects.select_related("staff__user", "staff__organisation", "staff__department")
        .filter(secret_hash=digest)
        .first()
    )
    # The database found it by hash; comparing again in constant time costs nothing.
    if token is None or not hmac.compare_digest(token.secret_hash, digest):
        return None
    moment = now or timezone.now()
    if not token.is_usable(moment) or not token.staff.user.is_active:
        return None
    if token.last_used_at is None or moment - token.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=moment)
        token.last_used_at = moment
    return token
