"""Channels: connecting, health, pausing, webhooks into inbound events — against the simulator."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from sotong.channels import actions
from sotong.channels.models import Channel, ChannelStatus, InboundEvent
from sotong.conftest import SYSTEM
from sotong.core.models import AuditEntry
from sotong.core.roles import Role
from sotong.platforms.base import Credentials, connector_classes, hmac_sha256_hex
from sotong.simulator.core import Fault, FaultKind

PAGE_ID = "104220000000001"


@pytest.fixture
def facebook_page(sim):
    page = sim.simulator["facebook"]
    token = page.add_page(PAGE_ID, "순천시", followers=31000)
    return page, token


@pytest.fixture
def channel(city, sim, facebook_page):
    _page, token = facebook_page
    return actions.connect_channel(
        SYSTEM,
        city,
        kind="facebook",
        name="순천시 페이스북",
        account_id=PAGE_ID,
        credentials=Credentials(
            access_token=token,
            extra={
                "app_id": "sotong-app",
                "app_secret": "sim-app-secret",
                "verify_token": "verify-me",
            },
        ),
        api_base=sim.platform_url("facebook"),
    )


def test_connect_stores_credentials_encrypted_and_audits(channel, city) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT credentials FROM channels_channel WHERE id = %s", [channel.pk])
        stored = cursor.fetchone()[0]
    assert stored.startswith("fernet:")
    assert "EAAB" not in stored
    assert channel.get_credentials().access_token.startswith("EAAB")
    entry = AuditEntry.objects.get(action="channel.connect")
    assert "EAAB" not in json.dumps(entry.after)
    assert entry.organisation == city


def test_connect_refuses_bad_credentials(city, sim, facebook_page) -> None:
    with pytest.raises(ValidationError, match="code 190"):
        actions.connect_channel(
            SYSTEM,
            city,
            kind="facebook",
            name="x",
            account_id=PAGE_ID,
            credentials=Credentials(access_token="wrong"),
            api_base=sim.platform_url("facebook"),
        )
    assert not Channel.objects.exists()


def test_only_administrators_connect(city, sim, facebook_page, make_staff) -> None:
    editor = make_staff(city, Role.PR_EDITOR, "pr")
    with pytest.raises(PermissionDenied):
        actions.connect_channel(
            editor,
            city,
            kind="facebook",
            name="x",
            account_id=PAGE_ID,
            credentials=Credentials(access_token=facebook_page[1]),
            api_base=sim.platform_url("facebook"),
        )


def test_check_marks_a_dead_credential_and_recovers(channel, facebook_page) -> None:
    page, token = facebook_page
    assert actions.check_channel(channel).ok
    page.revoke_token(token)
    result = actions.check_channel(channel)
    channel.refresh_from_db()
    assert not result.ok
    assert channel.status == ChannelStatus.NEEDS_RECONNECT
    assert channel.last_check_ok is False
    page.tokens[token].revoked = False
    assert actions.check_channel(channel).ok
    channel.refresh_from_db()
    assert channel.status == ChannelStatus.ACTIVE
    assert AuditEntry.objects.filter(action="channel.status").count() == 2


def test_a_platform_outage_does_not_disconnect(channel, sim) -> None:
    sim.simulator.inject("facebook", Fault(FaultKind.SERVER_ERROR, count=5))
    assert not actions.check_channel(channel).ok
    channel.refresh_from_db()
    assert channel.status == ChannelStatus.ACTIVE


def test_pause_and_resume(channel) -> None:
    actions.pause_channel(SYSTEM, channel)
    assert channel.status == ChannelStatus.PAUSED
    actions.resume_channel(SYSTEM, channel)
    assert channel.status == ChannelStatus.ACTIVE
    with pytest.raises(ValidationError):
        actions.resume_channel(SYSTEM, channel)


def deliver(
    client, channel, body: bytes, secret: str = "sim-app-secret", signature: str | None = None
):
    url = reverse("channels:webhook", args=[channel.kind, channel.webhook_secret])
    headers = {}
    if signature is None:
        signature = "sha256=" + hmac_sha256_hex(secret, body)
    if signature:
        headers["HTTP_X_HUB_SIGNATURE_256"] = signature
    return client.post(url, data=body, content_type="application/json", **headers)


def comment_payload(comment_id: str = "555_1", text: str = "주차장 어디예요?") -> bytes:
    return json.dumps(
        {
            "object": "page",
            "entry": [
                {
                    "id": PAGE_ID,
                    "time": 1700000000,
                    "changes": [
                        {
                            "field": "feed",
                            "value": {
                                "item": "comment",
                                "verb": "add",
                                "comment_id": comment_id,
                                "post_id": f"{PAGE_ID}_555",
                                "parent_id": f"{PAGE_ID}_555",
                                "from": {"id": "601", "name": "김시민"},
                                "message": text,
                                "created_time": 1700000000,
                            },
                        }
                    ],
                }
            ],
        },
        ensure_ascii=False,
    ).encode()


def test_webhook_stores_each_comment_once(client, channel) -> None:
    body = comment_payload()
    assert deliver(client, channel, body).status_code == 200
    assert deliver(client, channel, body).status_code == 200  # re-delivery or replay
    [event] = InboundEvent.objects.all()
    assert (event.kind, event.external_id, event.text, event.author_name) == (
        "comment",
        "555_1",
        "주차장 어디예요?",
        "김시민",
    )
    assert event.organisation_id == channel.organisation_id


def test_webhook_rejections_store_nothing(client, channel) -> None:
    body = comment_payload()
    assert deliver(client, channel, body, secret="wrong").status_code == 401
    assert deliver(client, channel, body, signature="").status_code == 401
    assert deliver(client, channel, b"{broken", signature=None).status_code == 400
    url = reverse("channels:webhook", args=["facebook", "not-a-secret"])
    assert client.post(url, data=body, content_type="application/json").status_code == 404
    assert not InboundEvent.objects.exists()


def test_webhook_handshake(client, channel) -> None:
    url = reverse("channels:webhook", args=[channel.kind, channel.webhook_secret])
    ok = client.get(
        url, {"hub.mode": "subscribe", "hub.verify_token": "verify-me", "hub.challenge": "42"}
    )
    assert (ok.status_code, ok.content) == (200, b"42")
    assert (
        client.get(
            url, {"hub.mode": "subscribe", "hub.verify_token": "no", "hub.challenge": "42"}
        ).status_code
        == 403
    )


def test_simulated_citizen_comment_arrives_end_to_end(
    channel, sim, live_server, transactional_db
) -> None:
    """The simulator delivers a signed webhook to Sotong's real endpoint."""
    page = sim.simulator["facebook"]
    page.subscribe_webhooks(
        PAGE_ID,
        live_server.url + reverse("channels:webhook", args=["facebook", channel.webhook_secret]),
    )
    from sotong.channels.actions import connector_for
    from sotong.platforms.base import OutboundPost

    post = connector_for(channel).publish(OutboundPost(text="국화축제 안내"))
    page.citizen_comment(post.external_id, "6011", "박시민", "축제 언제까지예요?")
    [event] = InboundEvent.objects.all()
    assert event.text == "축제 언제까지예요?"
    assert event.post_external_id == post.external_id


def test_rotating_the_secret_retires_the_old_url(client, channel) -> None:
    old = channel.webhook_secret
    actions.rotate_webhook_secret(SYSTEM, channel)
    url = reverse("channels:webhook", args=["facebook", old])
    assert (
        client.post(url, data=comment_payload(), content_type="application/json").status_code == 404
    )


def test_channel_pages(client, city, channel, make_staff) -> None:
    admin = make_staff(city, Role.ADMIN)
    client.force_login(admin.user)
    listing = client.get(reverse("channels:list")).content.decode()
    assert "순천시 페이스북" in listing
    detail = client.get(reverse("channels:detail", args=[channel.pk])).content.decode()
    assert channel.webhook_secret in detail
    assert "EAAB" not in detail
    response = client.post(reverse("channels:action", args=[channel.pk, "check"]), follow=True)
    assert "연결이 정상입니다" in response.content.decode()


def test_department_staff_do_not_see_city_channels(client, city, channel, make_staff) -> None:
    author = make_staff(city, Role.DEPARTMENT_AUTHOR, "sewer")
    client.force_login(author.user)
    assert "순천시 페이스북" not in client.get(reverse("channels:list")).content.decode()
    assert client.get(reverse("channels:detail", args=[channel.pk])).status_code == 404
    assert client.post(reverse("channels:action", args=[channel.pk, "pause"])).status_code == 403


OAUTH_KINDS = [platform.kind for platform in connector_classes() if platform.oauth_login]


@pytest.mark.parametrize("kind", OAUTH_KINDS)
def test_oauth_connect_flow(kind, client, city, sim, make_staff, monkeypatch) -> None:
    """Every platform with OAuth: sign in at the (simulated) platform, choose the demo
    city's account, and the channel works."""
    import httpx

    from sotong.simulator.demo_world import demo_accounts

    monkeypatch.setenv("SOTONG_SIMULATOR_URL", sim.url)
    account = next(a for a in demo_accounts() if a.kind == kind)
    sim.simulator[kind].populate_demo(account, "http://127.0.0.1:1/")
    sim.simulator.webhook_targets.clear()
    admin = make_staff(city, Role.ADMIN)
    client.force_login(admin.user)
    start = client.get(reverse("channels:oauth_start", args=[kind]))
    assert start.status_code == 302
    assert start["Location"].startswith(f"{sim.url}/{kind}/")
    dialog = httpx.get(start["Location"], timeout=5)  # the admin's browser at the platform
    assert dialog.status_code == 200
    back = dialog.text.split('id="allow" href="')[1].split('"')[0].replace("&amp;", "&")
    callback = reverse("channels:oauth_callback", args=[kind])
    choose = client.get(callback + "?" + back.split("?", 1)[1])
    html = choose.content.decode()
    assert choose.status_code == 200, choose.get("Location")
    assert account.account_id in html
    assert account.token not in html  # tokens stay server-side
    connected = client.post(
        callback, {"account": account.account_id, "name": "새 채널"}, follow=True
    )
    assert "채널을 연결했습니다" in connected.content.decode()
    channel = Channel.objects.get(kind=kind, account_id=account.account_id)
    assert channel.api_base == f"{sim.url}/{kind}"
    assert channel.get_credentials().access_token
    assert actions.check_channel(channel).ok
    assert AuditEntry.objects.filter(action="channel.connect", target_id=str(channel.pk)).exists()


def test_facebook_oauth_rejects_a_forged_state(client, city, sim, make_staff, monkeypatch) -> None:
    monkeypatch.setenv("SOTONG_SIMULATOR_URL", sim.url)
    admin = make_staff(city, Role.ADMIN)
    client.force_login(admin.user)
    client.get(reverse("channels:oauth_start", args=["facebook"]))
    response = client.get(
        reverse("channels:oauth_callback", args=["facebook"]) + "?code=x&state=forged", follow=True
    )
    assert "다시 시도하세요" in response.content.decode()
    assert not Channel.objects.exists()


def test_oauth_needs_the_city_app_outside_the_simulator(
    client, city, make_staff, monkeypatch
) -> None:
    monkeypatch.delenv("SOTONG_SIMULATOR_URL", raising=False)
    monkeypatch.delenv("SOTONG_FACEBOOK_APP_ID", raising=False)
    admin = make_staff(city, Role.ADMIN)
    client.force_login(admin.user)
    response = client.get(reverse("channels:oauth_start", args=["facebook"]), follow=True)
    assert "SOTONG_FACEBOOK_APP_ID" in response.content.decode()
    monkeypatch.setenv("SOTONG_FACEBOOK_APP_ID", "1234")
    monkeypatch.setenv("SOTONG_FACEBOOK_APP_SECRET", "city-secret")
    start = client.get(reverse("channels:oauth_start", args=["facebook"]))
    assert start["Location"].startswith("https://www.facebook.com/v25.0/dialog/oauth?")
    assert "client_id=1234" in start["Location"]
    assert "city-secret" not in start["Location"]


def test_oauth_is_not_offered_where_the_platform_has_none(client, city, make_staff) -> None:
    admin = make_staff(city, Role.ADMIN)
    client.force_login(admin.user)
    assert client.get(reverse("channels:oauth_start", args=["nowhere"])).status_code == 404


def test_connect_form_asks_only_for_what_the_platform_uses(client, city, sim, make_staff) -> None:
    """Naver Blog: no token (a public feed), checked against the feed; a blog that does not
    exist is refused with the reason, and nothing is saved."""
    sim.simulator["naver_blog"].add_blog("suncheon_city", "순천시")
    admin = make_staff(city, Role.ADMIN)
    client.force_login(admin.user)
    url = reverse("channels:connect", args=["naver_blog"])
    form = client.get(url).content.decode()
    assert 'name="access_token"' not in form
    assert 'name="refresh_token"' not in form
    fields = {"name": "순천시 블로그", "api_base": sim.platform_url("naver_blog")}
    refused = client.post(url, {**fields, "account_id": "no_such_blog"}).content.decode()
    assert "플랫폼이 이 인증 정보를 거부했습니다" in refused
    assert not Channel.objects.exists()
    client.post(url, {**fields, "account_id": "suncheon_city"})
    channel = Channel.objects.get(kind="naver_blog")
    assert channel.status == ChannelStatus.MANUAL
    assert (
        'name="refresh_token"'
        in client.get(reverse("channels:connect", args=["youtube"])).content.decode()
    )
    mastodon = client.post(
        reverse("channels:connect", args=["mastodon"]),
        {"name": "마스토돈", "account_id": "1", "access_token": "t"},
    ).content.decode()
    assert "계정이 있는 서버의 주소를 입력하세요." in mastodon


def test_a_refresh_that_lost_the_race_keeps_the_channel_connected(city, sim) -> None:
    """X retires a refresh token once used. Two processes refreshing at once: the second is
    refused, but the first stored new tokens, so the channel stays active."""
    from sotong.simulator.x import DEMO_ACCOUNTS

    account = DEMO_ACCOUNTS[0]
    sim.simulator["x"].populate_demo(account, "")
    sim.simulator.webhook_targets.clear()
    channel = actions.connect_channel(
        SYSTEM,
        city,
        kind="x",
        name=account.name,
        account_id=account.account_id,
        credentials=Credentials(
            access_token=account.token,
            refresh_token=account.refresh_token,
            extra=dict(account.extra),
        ),
        api_base=sim.platform_url("x"),
    )
    stale = Channel.objects.get(pk=channel.pk)
    assert actions.refresh_credentials(channel)  # the first process
    assert actions.refresh_credentials(stale)  # the second: refused by X, yet fine
    stale.refresh_from_db()
    assert stale.status == ChannelStatus.ACTIVE
    assert stale.get_credentials().refresh_token not in ("", account.refresh_token)
    assert actions.check_channel(stale).ok
    # A refresh token refused with nobody having refreshed does need reconnecting.
    sim.simulator["x"].refresh_tokens.clear()
    assert not actions.refresh_credentials(stale)
    stale.refresh_from_db()
    assert stale.status == ChannelStatus.NEEDS_RECONNECT


def test_reconnecting_keeps_the_department_options_and_other_secrets(
    channel, city, facebook_page
) -> None:
    from sotong.conftest import department

    page, _token = facebook_page
    sewer = department(city, "sewer")
    Channel.objects.filter(pk=channel.pk).update(
        department=sewer, options={"post_template": "{title}"}
    )
    fresh = page.add_page(PAGE_ID, "순천시")  # a new Page token, e.g. after Facebook Login
    again = actions.connect_channel(
        SYSTEM,
        city,
        kind="facebook",
        name="순천시 페이스북",
        account_id=PAGE_ID,
        credentials=Credentials(access_token=fresh),
        api_base=channel.api_base,
    )
    assert again.pk == channel.pk
    assert again.department == sewer
    assert again.options == {"post_template": "{title}"}
    credentials = again.get_credentials()
    assert credentials.access_token == fresh
    assert credentials.extra["app_secret"] == "sim-app-secret"  # webhooks still verify
    assert AuditEntry.objects.filter(action="channel.reconnect").exists()


def test_a_token_for_another_account_is_refused(city, sim, facebook_page) -> None:
    page, _token = facebook_page
    other = page.add_page("104220000000009", "순천시 문화관광")
    with pytest.raises(ValidationError, match="104220000000009"):
        actions.connect_channel(
            SYSTEM,
            city,
            kind="facebook",
            name="순천시 페이스북",
            account_id=PAGE_ID,
            credentials=Credentials(access_token=other),
            api_base=sim.platform_url("facebook"),
        )
    assert not Channel.objects.exists()


def test_a_paused_channel_stays_paused_whatever_the_check_finds(channel, facebook_page) -> None:
    page, token = facebook_page
    actions.pause_channel(SYSTEM, channel)
    page.revoke_token(token)
    assert not actions.check_channel(channel).ok
    channel.refresh_from_db()
    assert channel.status == ChannelStatus.PAUSED


def test_a_by_hand_channel_without_a_key_is_not_flagged(city, sim) -> None:
    kakao = actions.connect_channel(
        SYSTEM,
        city,
        kind="kakao",
        name="순천시 카카오톡 채널",
        account_id="64f1c2a9e0b7d31a2c5f8e01",
        credentials=Credentials(),
        api_base=sim.platform_url("kakao"),
    )
    assert kakao.status == ChannelStatus.MANUAL
    result = actions.check_channel(kakao)
    kakao.refresh_from_db()
    assert not result.ok
    assert "토큰" in result.message
    assert kakao.status == ChannelStatus.MANUAL
    assert not sim.simulator.recorded("kakao")  # nothing was asked of the platform


def test_one_app_webhook_files_each_page_under_its_channel(
    client, city, sim, channel, facebook_page
) -> None:
    """Meta sends all of an app's Pages to the one webhook address it has: a delivery that
    arrives on one channel's address carries entries for the city's other Pages too."""
    from sotong.conftest import department

    page, _token = facebook_page
    culture_token = page.add_page("104220000000002", "순천시 문화관광")
    culture = actions.connect_channel(
        SYSTEM,
        city,
        kind="facebook",
        name="순천시 문화관광",
        account_id="104220000000002",
        credentials=Credentials(
            access_token=culture_token,
            extra={"app_id": "sotong-app", "app_secret": "sim-app-secret"},
        ),
        department=department(city, "pr"),
        api_base=sim.platform_url("facebook"),
    )
    payload = json.loads(comment_payload("555_7", "축제 언제예요?"))
    for_culture = json.loads(json.dumps(payload["entry"][0]).replace(PAGE_ID, "104220000000002"))
    for_stranger = json.loads(json.dumps(payload["entry"][0]).replace(PAGE_ID, "999"))
    ours = json.loads(json.dumps(payload["entry"][0]))
    ours["changes"][0]["value"].update(comment_id="555_8", **{"from": {"id": PAGE_ID}})
    payload["entry"] += [for_culture, for_stranger, ours]
    body = json.dumps(payload, ensure_ascii=False).encode()
    assert deliver(client, channel, body).status_code == 200
    stored = {(e.channel_id, e.external_id) for e in InboundEvent.objects.all()}
    # The Page's own reply (from the Page itself) is not a citizen speaking.
    assert stored == {(channel.pk, "555_7"), (culture.pk, "555_7")}


def test_registering_the_webhook_and_proving_it_works(client, channel, sim) -> None:
    result = actions.register_webhook(SYSTEM, channel, "https://sotong.example/hooks/x/")
    assert result.ok
    assert sim.simulator.recorded("facebook", "POST", "/subscribed_apps")
    assert actions.poll_interval(channel) == actions.POLL_EVERY  # nothing delivered yet
    assert deliver(client, channel, comment_payload()).status_code == 200
    channel.refresh_from_db()
    assert actions.webhook_working(channel)
    assert actions.poll_interval(channel) == actions.POLL_EVERY_WITH_WEBHOOKS
    assert AuditEntry.objects.filter(action="channel.register_webhook").exists()


def test_where_the_console_sets_the_webhook_the_page_says_so(client, city, sim, make_staff) -> None:
    from sotong.simulator.instagram import DEMO_ACCOUNTS

    account = DEMO_ACCOUNTS[0]
    sim.simulator["instagram"].populate_demo(account, "")
    sim.simulator.webhook_targets.clear()
    instagram = actions.connect_channel(
        SYSTEM,
        city,
        kind="instagram",
        name=account.name,
        account_id=account.account_id,
        credentials=Credentials(access_token=account.token, extra=dict(account.extra)),
        api_base=sim.platform_url("instagram"),
    )
    admin = make_staff(city, Role.ADMIN)
    client.force_login(admin.user)
    response = client.post(
        reverse("channels:action", args=[instagram.pk, "webhook"]), follow=True
    ).content.decode()
    assert "아래 웹훅 주소를 플랫폼 설정에 입력하세요" in response
    assert "확인 토큰" in response


def test_owners_are_warned_a_week_before_a_credential_expires(
    client, channel, city, make_staff
) -> None:
    from datetime import timedelta

    from django.utils import timezone

    soon = timezone.now() + timedelta(days=5, hours=1)
    Channel.objects.filter(pk=channel.pk).update(credential_expires_at=soon)
    assert [c.pk for c in actions.warn_of_expiring_credentials()] == [channel.pk]
    assert actions.warn_of_expiring_credentials() == []  # once per expiry date
    admin = make_staff(city, Role.ADMIN)
    client.force_login(admin.user)
    listing = client.get(reverse("channels:list")).content.decode()
    assert "5일 남음" in listing
    later = soon + timedelta(days=60)  # renewed by hand: the new date is warned of in time
    Channel.objects.filter(pk=channel.pk).update(credential_expires_at=later)
    assert actions.warn_of_expiring_credentials() == []
