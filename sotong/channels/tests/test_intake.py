"""Webhook intake: answered 200 only once committed, stored once per (channel, external id),
refused deliveries and failed commits store nothing, concurrent requests commit together."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time

import pytest
from django.db import DataError, OperationalError, connection
from django.urls import reverse
from django.utils import timezone

from sotong.channels import actions, intake
from sotong.channels.models import Channel, InboundEvent
from sotong.conftest import SYSTEM
from sotong.platforms.base import Credentials, InboundItem, InboundKind, hmac_sha256_hex

PAGE_ID = "104220000000001"
APP_SECRET = "intake-app-secret"


@pytest.fixture
def channel(city) -> Channel:
    return actions.connect_channel(
        SYSTEM,
        city,
        kind="facebook",
        name="순천시 페이스북",
        account_id=PAGE_ID,
        credentials=Credentials(access_token="x", extra={"app_secret": APP_SECRET}),
        verify=False,
    )


def comments(*ids: str) -> bytes:
    changes = [
        {
            "field": "feed",
            "value": {
                "item": "comment",
                "verb": "add",
                "comment_id": comment_id,
                "post_id": f"{PAGE_ID}_555",
                "parent_id": f"{PAGE_ID}_555",
                "from": {"id": "6011", "name": "박시민"},
                "message": f"하수구 냄새가 나요 ({comment_id})",
                "created_time": 1700000000,
            },
        }
        for comment_id in ids
    ]
    payload = {"object": "page", "entry": [{"id": PAGE_ID, "time": 1, "changes": changes}]}
    return json.dumps(payload, ensure_ascii=False).encode()


def post(client, channel: Channel, body: bytes, secret: str = APP_SECRET):
    url = reverse("channels:webhook", args=[channel.kind, channel.webhook_secret])
    return client.post(
        url,
        data=body,
        content_type="application/json",
        HTTP_X_HUB_SIGNATURE_256="sha256=" + hmac_sha256_hex(secret, body),
    )


def stored_ids() -> list[str]:
    return sorted(InboundEvent.objects.values_list("external_id", flat=True))


def test_a_delivery_is_stored_encrypted_once_and_redelivery_is_answered_200(
    client, channel
) -> None:
    body = comments("555_1", "555_2", "555_1")  # the platform repeated one inside a delivery
    assert post(client, channel, body).status_code == 200
    assert post(client, channel, body).status_code == 200
    assert stored_ids() == ["555_1", "555_2"]
    event = InboundEvent.objects.get(external_id="555_1")
    assert (event.text, event.author_id, event.author_name) == (
        "하수구 냄새가 나요 (555_1)",
        "6011",
        "박시민",
    )
    assert event.occurred_at == dt.datetime(2023, 11, 14, 22, 13, 20, tzinfo=dt.UTC)
    assert event.processed_at is None  # the inbox's ingest picks it up
    with connection.cursor() as cursor:  # the ORM would decrypt
        cursor.execute(
            "SELECT text, author_id, author_name, payload FROM channels_inboundevent WHERE id = %s",
            [event.pk],
        )
        raw = cursor.fetchone()
    assert all(value.startswith("fernet:") for value in raw)
    assert "박시민" not in " ".join(raw)


def test_refused_deliveries_store_nothing(client, channel) -> None:
    body = comments("555_1")
    assert post(client, channel, body, secret="not-the-app-secret").status_code == 401
    assert post(client, channel, b'{"object": "page", "entry": [').status_code == 400
    assert post(client, channel, b'{"object": "user"}').status_code == 400
    assert (
        post(client, channel, b'{"object": "page", "entry": [{"changes": 5}]}').status_code == 400
    )
    assert not InboundEvent.objects.exists()
    assert post(client, channel, body).status_code == 200
    assert stored_ids() == ["555_1"]


def test_new_credentials_and_secrets_apply_at_once(client, channel) -> None:
    assert post(client, channel, comments("555_1")).status_code == 200  # now cached
    channel.set_credentials(Credentials(access_token="x", extra={"app_secret": "rotated"}))
    channel.save(update_fields=["credentials"])
    assert post(client, channel, comments("555_2")).status_code == 401
    assert post(client, channel, comments("555_2"), secret="rotated").status_code == 200
    old_url = reverse("channels:webhook", args=[channel.kind, channel.webhook_secret])
    actions.rotate_webhook_secret(SYSTEM, channel)
    assert (
        client.post(old_url, data=comments("555_3"), content_type="application/json").status_code
        == 404
    )
    assert stored_ids() == ["555_1", "555_2"]


def test_a_failed_commit_is_answered_503_and_stores_nothing(client, channel, monkeypatch) -> None:
    real = actions.store_inbound

    def locked_after_inserting(deliveries):
        real(deliveries)  # the rows are written, then the commit cannot happen
        raise OperationalError("database is locked")

    monkeypatch.setattr(actions, "store_inbound", locked_after_inserting)
    body = comments("555_1", "555_2")
    response = post(client, channel, body)
    assert response.status_code == 503
    assert not InboundEvent.objects.exists()  # nothing half-stored
    monkeypatch.setattr(actions, "store_inbound", real)
    assert post(client, channel, body).status_code == 200  # the platform's retry
    assert stored_ids() == ["555_1", "555_2"]


def test_the_proof_that_webhooks_work_is_rewritten_at_most_once_a_minute(client, channel) -> None:
    assert post(client, channel, comments("555_1")).status_code == 200
    channel.refresh_from_db()
    first = channel.last_webhook_at
    assert first is not None
    recent = timezone.now() - dt.timedelta(seconds=10)
    Channel.objects.filter(pk=channel.pk).update(last_webhook_at=recent)
    assert post(client, channel, comments("555_2")).status_code == 200
    channel.refresh_from_db()
    assert channel.last_webhook_at == recent
    stale = timezone.now() - dt.timedelta(minutes=2)
    Channel.objects.filter(pk=channel.pk).update(last_webhook_at=stale)
    assert post(client, channel, comments("555_3")).status_code == 200
    channel.refresh_from_db()
    assert channel.last_webhook_at > stale + dt.timedelta(minutes=1)


def item(external_id: str) -> InboundItem:
    return InboundItem(kind=InboundKind.COMMENT, external_id=external_id, text="", author_id="1")


def test_one_bad_delivery_in_a_batch_does_not_refuse_the_others(channel, monkeypatch) -> None:
    real = actions.store_inbound

    def refuses_poison(deliveries):
        if any(i.external_id == "poison" for _c, items in deliveries for i in items):
            raise DataError("value too long")
        return real(deliveries)

    monkeypatch.setattr(actions, "store_inbound", refuses_poison)
    good = intake._Pending([(channel, [item("a"), item("b")])], frozenset())
    bad = intake._Pending([(channel, [item("c"), item("poison")])], frozenset())
    again = intake._Pending([(channel, [item("a")])], frozenset())
    intake._commit([good, bad, again])
    assert [[e.external_id for e in new] for new in good.stored] == [["a", "b"]]
    assert good.done
    assert again.done
    assert again.stored == [[]]
    assert isinstance(bad.error, DataError)
    assert not bad.done
    assert stored_ids() == ["a", "b"]  # nothing of the refused delivery


def test_a_locked_database_fails_the_whole_batch_at_once(channel, monkeypatch) -> None:
    calls = []

    def locked(deliveries):
        calls.append(len(deliveries))
        raise OperationalError("database is locked")

    monkeypatch.setattr(actions, "store_inbound", locked)
    batch = [intake._Pending([(channel, [item(name)])], frozenset()) for name in "abc"]
    intake._commit(batch)
    # One try, not one more per delivery each waiting for the lock again.
    assert calls == [3]
    assert all(isinstance(p.error, OperationalError) and not p.done for p in batch)
    assert stored_ids() == []


def test_a_request_that_gives_up_waiting_leaves_no_stuck_leader(monkeypatch) -> None:
    release = threading.Event()

    def slow_commit(batch):
        release.wait(5)
        for pending in batch:
            pending.stored = [[]]
            pending.done = True

    monkeypatch.setattr(intake, "_commit", slow_commit)
    monkeypatch.setattr(intake, "WAIT_SECONDS", 0.2)
    writer = intake.GroupCommit()
    leader = threading.Thread(target=writer.submit, args=([(None, [1])],))
    leader.start()
    while not writer._leading:
        time.sleep(0.01)
    with pytest.raises(intake.IntakeTimeout):
        writer.submit([(None, [2])])  # type: ignore[list-item]
    # The request that gave up is no longer queued: nobody hands leadership to it.
    assert writer._waiting == []
    release.set()
    leader.join(5)
    assert not writer._leading
    assert writer.submit([(None, [3])]) == [[]]  # type: ignore[list-item]


def test_concurrent_requests_are_committed_together_and_each_gets_its_own_answer(
    monkeypatch,
) -> None:
    """The leader hand-off, without a database: every request returns its own result, some
    share a commit, and none waits for ever while others keep arriving."""
    batches: list[int] = []

    def fake_commit(batch):
        batches.append(len(batch))
        time.sleep(0.002)
        for pending in batch:
            pending.stored = [[pending.deliveries[0][1][0]]]  # echoes its own item
            pending.done = True

    monkeypatch.setattr(intake, "_commit", fake_commit)
    writer = intake.GroupCommit(max_batch=8)
    results: dict[int, object] = {}

    def request(number: int) -> None:
        for round_ in range(20):
            marker = number * 100 + round_
            results[marker] = writer.submit([(None, [marker])])[0][0]  # type: ignore[list-item]

    threads = [threading.Thread(target=request, args=(n,)) for n in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert all(marker == result for marker, result in results.items())
    assert len(results) == 16 * 20
    assert sum(batches) == 16 * 20
    assert 1 < max(batches) <= 8
    assert not writer._waiting
    assert not writer._leading


def test_record_inbound_returns_only_new_events(channel) -> None:
    first = actions.record_inbound(channel, [item("a"), item("b")])
    assert [(e.external_id, e.pk is not None) for e in first] == [("a", True), ("b", True)]
    assert InboundEvent.objects.get(pk=first[0].pk).channel_id == channel.pk
    assert actions.record_inbound(channel, [item("b"), item("c")])[0].external_id == "c"
    assert stored_ids() == ["a", "b", "c"]
