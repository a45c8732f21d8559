"""KakaoTalk relationship callbacks at /hooks/kakao-friends/<secret>/: counted once per
delivery on the Asia/Seoul day, the friend kept only as a keyed hash; a wrong admin key,
a malformed body or an unknown event changes nothing."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from sotong.audience import actions, callbacks
from sotong.audience.models import AudienceDay, FriendEvent
from sotong.channels import actions as channel_actions
from sotong.conftest import SYSTEM
from sotong.platforms.base import Credentials

ADMIN_KEY = "4f1c0e9a2b7d4c1e8f3a6b5d0c9e2f71"
FIXTURE = (
    Path(__file__).resolve().parents[2] / "platforms/fixtures/kakao/relationship_callback.json"
)


@pytest.fixture
def kakao(city):
    return channel_actions.connect_channel(
        SYSTEM,
        city,
        kind="kakao",
        name="순천시 카카오톡",
        account_id="5f8e1c2a9b3d4e6f70812345",
        credentials=Credentials(extra={"skill_secret": "s", "admin_key": ADMIN_KEY}),
        verify=False,
    )


def deliver(client: Client, channel, body, *, key: str = ADMIN_KEY, secret: str | None = None):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"HTTP_AUTHORIZATION": f"KakaoAK {key}"} if key else {}
    return client.post(
        reverse("audience:kakao_friends", args=[secret or channel.webhook_secret]),
        raw,
        content_type="application/json",
        **headers,
    )


def callback(event: str = "added", friend: str = "3419384721", at: str = "2026-03-03T09:00:00Z"):
    return {
        "event": event,
        "id": friend,
        "id_type": "app_user_id",
        "channel_public_id": "_xkxjRb",
        "updated_at": at,
    }


def day_of(channel, day: str) -> AudienceDay:
    return AudienceDay.objects.get(channel=channel, day=dt.date.fromisoformat(day))


def test_the_documented_callback_counts_one_new_friend(client, kakao) -> None:
    answer = deliver(client, kakao, FIXTURE.read_bytes())
    assert (answer.status_code, answer.content) == (200, b"counted")
    row = day_of(kakao, "2026-03-03")  # 09:00 UTC is 18:00 in Seoul, the same day
    assert (row.followers, row.gained, row.lost, row.source) == (None, 1, 0, "callback")
    stored = FriendEvent.objects.get()
    assert stored.event == "added"
    assert stored.occurred_at == dt.datetime(2026, 3, 3, 9, tzinfo=dt.UTC)
    # The friend's id is never stored: only a keyed hash of it.
    assert "3419384721" not in json.dumps(list(FriendEvent.objects.values()), default=str)
    assert len(stored.friend_key) == 64
    assert stored.friend_key != callbacks.friend_key("another secret", "app_user_id", "3419384721")


def test_a_redelivery_counts_once_and_other_events_count_again(client, kakao) -> None:
    for _attempt in range(3):
        assert deliver(client, kakao, callback()).status_code == 200
    assert deliver(client, kakao, callback()).content == b"already counted"
    # The same friend blocking, then adding again later, are new events.
    deliver(client, kakao, callback("blocked", at="2026-03-03T10:00:00Z"))
    deliver(client, kakao, callback("added", at="2026-03-03T11:00:00Z"))
    deliver(client, kakao, callback("added", friend="777"))
    row = day_of(kakao, "2026-03-03")
    assert (row.gained, row.lost) == (3, 1)
    assert FriendEvent.objects.count() == 4


def test_the_day_is_the_seoul_day_of_updated_at(client, kakao) -> None:
    deliver(client, kakao, callback(at="2026-03-03T14:59:59Z"))  # 23:59:59 KST
    deliver(client, kakao, callback(friend="2", at="2026-03-03T15:00:00Z"))  # 00:00 KST
    deliver(client, kakao, callback(friend="3", at="2026-03-04T08:30:00+09:00"))
    deliver(
        client, kakao, callback("blocked", friend="4", at="2026-03-04T00:10:00")
    )  # no offset: KST
    assert day_of(kakao, "2026-03-03").gained == 1
    assert (day_of(kakao, "2026-03-04").gained, day_of(kakao, "2026-03-04").lost) == (2, 1)


def test_a_known_friend_count_follows_and_carries_to_the_next_day(
    client, kakao, make_staff, city
) -> None:
    admin = make_staff(city)
    actions.record_figures(admin, kakao, day=dt.date(2026, 3, 3), followers=10_000)
    deliver(client, kakao, callback(friend="1"))
    deliver(client, kakao, callback(friend="2"))
    deliver(client, kakao, callback("blocked", friend="3"))
    row = day_of(kakao, "2026-03-03")
    assert (row.followers, row.gained, row.lost, row.source) == (10_001, 2, 1, "typed")
    # The next day starts from this count.
    deliver(client, kakao, callback("blocked", friend="1", at="2026-03-04T01:00:00Z"))
    row = day_of(kakao, "2026-03-04")
    assert (row.followers, row.gained, row.lost, row.source) == (10_000, 0, 1, "callback")
    # No count known two days back: the day after a gap stays unknown.
    deliver(client, kakao, callback(friend="9", at="2026-03-06T01:00:00Z"))
    assert day_of(kakao, "2026-03-06").followers is None


def test_a_count_of_zero_does_not_go_negative(client, kakao, make_staff, city) -> None:
    actions.record_figures(make_staff(city), kakao, day=dt.date(2026, 3, 3), followers=0)
    deliver(client, kakao, callback("blocked"))
    assert day_of(kakao, "2026-03-03").followers == 0


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        ("wrong-key", b"Authorization does not match the channel's admin key"),
        ("", b"missing Authorization header"),
    ],
)
def test_a_wrong_or_missing_admin_key_is_refused_without_effect(client, kakao, key, reason) -> None:
    answer = deliver(client, kakao, callback(), key=key)
    assert (answer.status_code, answer.content) == (401, reason)
    assert not AudienceDay.objects.exists()
    assert not FriendEvent.objects.exists()


def test_the_admin_key_must_be_the_whole_header(client, kakao) -> None:
    answer = client.post(
        reverse("audience:kakao_friends", args=[kakao.webhook_secret]),
        json.dumps(callback()),
        content_type="application/json",
        HTTP_AUTHORIZATION=ADMIN_KEY,  # without "KakaoAK "
    )
    assert answer.status_code == 401
    assert not FriendEvent.objects.exists()


def test_a_channel_without_an_admin_key_accepts_no_callback(client, city) -> None:
    bare = channel_actions.connect_channel(
        SYSTEM,
        city,
        kind="kakao",
        name="키 없음",
        account_id="bot-2",
        credentials=Credentials(),
        verify=False,
    )
    answer = deliver(client, bare, callback(), key="anything")
    assert (answer.status_code, answer.content) == (401, b"no admin key is set up for this channel")


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{not json", b"body is not JSON"),
        (b"[1, 2]", b"body is not a JSON object"),
        (
            json.dumps(callback("unblocked")).encode(),
            b"unknown event 'unblocked': expected 'added' or 'blocked'",
        ),
        (
            json.dumps({**callback(), "event": None}).encode(),
            b"unknown event 'None': expected 'added' or 'blocked'",
        ),
        (json.dumps({**callback(), "id": ""}).encode(), b"'id' is missing or not a string"),
        (json.dumps({**callback(), "id": True}).encode(), b"'id' is missing or not a string"),
        (
            json.dumps({k: v for k, v in callback().items() if k != "updated_at"}).encode(),
            b"'updated_at' is missing",
        ),
        (
            json.dumps(callback(at="어제")).encode(),
            "'updated_at' '어제' is not an ISO 8601 time".encode(),
        ),
        (
            json.dumps({**callback(), "id_type": 3}).encode(),
            b"'id_type' and 'channel_public_id' must be strings",
        ),
    ],
)
def test_malformed_callbacks_are_refused_with_the_reason(client, kakao, body, reason) -> None:
    answer = deliver(client, kakao, body)
    assert (answer.status_code, answer.content) == (400, reason)
    assert not AudienceDay.objects.exists()
    assert not FriendEvent.objects.exists()


def test_a_number_id_is_taken_as_its_text(client, kakao) -> None:
    deliver(client, kakao, {**callback(), "id": 3419384721})
    assert deliver(client, kakao, callback()).content == b"already counted"


def test_only_this_channels_public_id_when_one_is_set(client, kakao) -> None:
    kakao.options = {"channel_public_id": "_ZZZZ"}
    kakao.save()
    answer = deliver(client, kakao, callback())
    assert (answer.status_code, answer.content) == (
        400,
        b"channel_public_id '_xkxjRb' is not this channel's",
    )
    assert not FriendEvent.objects.exists()
    kakao.options = {"channel_public_id": "_xkxjRb"}
    kakao.save()
    assert deliver(client, kakao, callback()).status_code == 200


def test_unknown_address_and_other_methods(client, kakao, city) -> None:
    assert deliver(client, kakao, callback(), secret="no-such-secret").status_code == 404
    facebook = channel_actions.connect_channel(
        SYSTEM,
        city,
        kind="facebook",
        name="페북",
        account_id="1",
        credentials=Credentials(access_token="t", extra={"admin_key": ADMIN_KEY}),
        verify=False,
    )
    # Only KakaoTalk channels have friend callbacks.
    assert deliver(client, kakao, callback(), secret=facebook.webhook_secret).status_code == 404
    address = reverse("audience:kakao_friends", args=[kakao.webhook_secret])
    assert client.get(address).status_code == 405
    assert not FriendEvent.objects.exists()


def test_a_rotated_webhook_secret_moves_the_address(client, kakao) -> None:
    old = kakao.webhook_secret
    channel_actions.rotate_webhook_secret(SYSTEM, kakao)
    assert deliver(client, kakao, callback(), secret=old).status_code == 404
    kakao.refresh_from_db()
    assert deliver(client, kakao, callback()).status_code == 200


def test_old_receipts_are_pruned(kakao, client) -> None:
    deliver(client, kakao, callback())
    FriendEvent.objects.update(received_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    deliver(client, kakao, callback(friend="2"))
    assert actions.prune_friend_events(now=dt.datetime(2026, 3, 1, tzinfo=dt.UTC)) == 1
    assert FriendEvent.objects.count() == 1
    # Counted days stay.
    assert day_of(kakao, "2026-03-03").gained == 2
