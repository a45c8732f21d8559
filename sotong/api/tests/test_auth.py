"""Tokens: made with the secret shown once and only its hash kept, revoked, expired; the
API refuses each bad case with 401 and WWW-Authenticate; a browser session works with
CSRF; the token page."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from sotong.api import actions
from sotong.api.models import ApiToken
from sotong.core.models import AuditEntry


def test_a_token_keeps_only_the_hash_of_its_secret(city, author) -> None:
    made = actions.create_token(author, name="  홈페이지   연동 ")
    token = made.token
    assert token.name == "홈페이지 연동"
    assert made.secret.startswith(token.prefix + "_")
    assert token.secret_hash == hashlib.sha256(made.secret.encode()).hexdigest()
    stored = ApiToken.objects.filter(pk=token.pk).values().get()
    assert not any(made.secret in str(value) for value in stored.values())
    entry = AuditEntry.objects.get(action="api_token.create", target_id=str(token.pk))
    assert made.secret not in str(entry.after)
    assert actions.token_for(made.secret) == token


def test_token_names_and_expiry_are_checked(city, author) -> None:
    with pytest.raises(ValidationError) as error:
        actions.create_token(author, name="  ")
    assert "name" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        actions.create_token(author, name="x", expires_at=timezone.now() - dt.timedelta(hours=1))
    assert "expires_at" in error.value.message_dict


def test_no_token_is_401_with_www_authenticate(city, author) -> None:
    response = Client().get("/api/v1/posts")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["error"]["code"] == "unauthenticated"
    assert "토큰" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    "header",
    ["Bearer sotong_0000_nothing", "Bearer ", "Basic dXNlcjpwYXNz", "sotong_abc"],
)
def test_bad_tokens_are_401(city, author, header) -> None:
    response = Client(headers={"Authorization": header}).get("/api/v1/channels")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_revoked_token_stops_working_and_is_audited(city, author, client_for) -> None:
    client = client_for(author)
    assert client.get("/api/v1/channels").status_code == 200
    token = ApiToken.objects.get(staff=author)
    assert token.last_used_at is not None
    actions.revoke_token(author, token)
    assert client.get("/api/v1/channels").status_code == 401
    assert AuditEntry.objects.filter(action="api_token.revoke", target_id=str(token.pk)).exists()


def test_an_expired_token_is_401(city, author) -> None:
    made = actions.create_token(
        author, name="짧게", expires_at=timezone.now() + dt.timedelta(hours=1)
    )
    ApiToken.objects.filter(pk=made.token.pk).update(
        expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    response = Client(headers={"Authorization": f"Bearer {made.secret}"}).get("/api/v1/channels")
    assert response.status_code == 401


def test_a_deactivated_staff_members_token_stops_working(city, author, client_for) -> None:
    client = client_for(author)
    author.user.is_active = False
    author.user.save()
    assert client.get("/api/v1/channels").status_code == 401


def test_a_bad_token_is_refused_even_with_a_session(city, author) -> None:
    client = Client(headers={"Authorization": "Bearer sotong_0000_wrong"})
    client.force_login(author.user)
    assert client.get("/api/v1/channels").status_code == 401


def test_tokens_never_reach_the_logs(city, author, client_for, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    client = client_for(author)
    client.get("/api/v1/channels")
    Client(headers={"Authorization": "Bearer sotong_dead_beefsecret"}).get("/api/v1/channels")
    assert client.secret not in caplog.text
    assert "beefsecret" not in caplog.text


def test_a_session_works_and_needs_csrf_for_unsafe_methods(city, author, facebook) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(author.user)
    assert client.get("/api/v1/channels").status_code == 200
    body = {"channel_kind": "x", "text": "안녕"}
    refused = client.post("/api/v1/text/fit", body, content_type="application/json")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "csrf_failed"
    client.get("/api/tokens/")  # sets the CSRF cookie
    csrf = client.cookies["csrftoken"].value
    allowed = client.post(
        "/api/v1/text/fit", body, content_type="application/json", headers={"X-CSRFToken": csrf}
    )
    assert allowed.status_code == 200
    assert allowed.json()["weighted_length"] == 4


def test_a_token_needs_no_csrf(city, author, client_for) -> None:
    client = client_for(author)
    client.handler.enforce_csrf_checks = True
    response = client.post(
        "/api/v1/text/fit", {"channel_kind": "x", "text": "가"}, content_type="application/json"
    )
    assert response.status_code == 200


# -- the token page ---------------------------------------------------------------------


def test_the_token_page_shows_a_new_secret_once_then_revokes(city, author) -> None:
    client = Client()
    client.force_login(author.user)
    page = client.get("/api/tokens/")
    assert page.status_code == 200
    assert "API 토큰" in page.content.decode()
    made = client.post("/api/tokens/", {"name": "홈페이지", "expires_in": "30"})
    assert made.status_code == 200
    assert made["Cache-Control"].startswith("max-age=0")
    token = ApiToken.objects.get(staff=author)
    html = made.content.decode()
    secret = html.split('id="token-secret" type="text" readonly value="')[1].split('"')[0]
    assert secret.startswith(token.prefix)
    assert actions.token_for(secret) == token
    assert token.expires_at is not None
    assert dt.timedelta(days=29) < token.expires_at - timezone.now() <= dt.timedelta(days=30)
    # Shown once: the list shows the prefix only.
    again = client.get("/api/tokens/").content.decode()
    assert secret not in again
    assert token.prefix in again
    revoked = client.post(f"/api/tokens/{token.pk}/revoke/", follow=True)
    assert "더 이상 쓸 수 없습니다" in revoked.content.decode()
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_the_token_page_refuses_a_blank_name(city, author) -> None:
    client = Client()
    client.force_login(author.user)
    response = client.post("/api/tokens/", {"name": " ", "expires_in": ""})
    assert response.status_code == 400
    assert not ApiToken.objects.exists()


def test_nobody_revokes_another_persons_token(city, author, editor) -> None:
    token = actions.create_token(author, name="mine").token
    client = Client()
    client.force_login(editor.user)
    assert client.post(f"/api/tokens/{token.pk}/revoke/").status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None
    assert token.name not in client.get("/api/tokens/").content.decode()
