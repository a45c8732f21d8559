"""Telegram connector contract tests, against the simulator (and the docs' sample payloads)."""

from __future__ import annotations

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import httpx
import pytest

from sotong.platforms.base import (
    Capability,
    ContentRejected,
    CredentialRevoked,
    Credentials,
    InboundKind,
    MalformedResponse,
    NotFound,
    OutboundPost,
    OutcomeUnknown,
    PermissionMissing,
    RateLimited,
    TransientError,
    WebhookRejected,
    WebhookRequest,
    connector_class,
)
from sotong.platforms.telegram import SECRET_HEADER, TelegramChannel
from sotong.simulator.core import Fault, FaultKind
from sotong.simulator.testing import (
    FAULT_DELAY,
    UNREACHABLE,
    fault_raises,
    make_connector,
    rate_limit_is_remembered,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "telegram"
CHANNEL = "@suncheon_city"
SECRET = "s3cret_token-2026"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@pytest.fixture
def tg(sim):
    return sim.simulator["telegram"]


@pytest.fixture
def token(tg):
    token = tg.add_bot("suncheon_city_bot")
    tg.add_channel(CHANNEL, "순천시", admin_token=token, members=2400)
    return token


def connector_for(sim, token: str, chat: str = CHANNEL) -> TelegramChannel:
    credentials = Credentials(access_token=token, extra={"secret_token": SECRET})
    return make_connector(TelegramChannel, sim.platform_url("telegram"), chat, credentials)


@pytest.fixture
def telegram(sim, token):
    connector = connector_for(sim, token)
    yield connector
    connector.close()


def channel(tg):
    return next(c for c in tg.chats.values() if c.username == "suncheon_city")


def hook(body: bytes, secret: str | None = SECRET) -> WebhookRequest:
    headers = {SECRET_HEADER.lower(): secret} if secret is not None else {}
    return WebhookRequest("POST", headers, {}, body)


# -- capabilities -------------------------------------------------------------------------


def test_registered_capabilities() -> None:
    assert connector_class("telegram") is TelegramChannel
    assert Capability.LIST_POSTS not in TelegramChannel.capabilities
    assert Capability.POST_METRICS not in TelegramChannel.capabilities
    assert TelegramChannel.limits.max_length == 4096


def test_verify_credentials_requires_admin_rights(sim, tg, telegram) -> None:
    check = telegram.verify_credentials()
    assert (check.display_name, check.missing_scopes) == ("순천시", ())
    assert check.identity == str(channel(tg).id)
    limited = tg.add_bot("limited_bot")
    tg.add_channel(
        "@suncheon_news", "순천 소식", admin_token=limited, rights={"can_delete_messages": False}
    )
    assert connector_for(sim, limited, "@suncheon_news").verify_credentials().missing_scopes == (
        "can_delete_messages",
    )
    outsider = tg.add_bot("outsider_bot")
    with pytest.raises(PermissionMissing, match="not an admin"):
        connector_for(sim, outsider).verify_credentials()
    with pytest.raises(NotFound):  # chat not found
        connector_for(sim, outsider, "@nowhere").verify_credentials()


def test_publish_text_link_photo_and_album(telegram, tg, sim) -> None:
    text = telegram.publish(
        OutboundPost(text="순천만 갈대축제 안내", link="https://www.suncheon.go.kr")
    )
    assert text.external_id == "1"
    assert text.url == "https://t.me/suncheon_city/1"
    stored = channel(tg).messages[1]
    assert stored["text"] == "순천만 갈대축제 안내\n\nhttps://www.suncheon.go.kr"
    assert stored["link_preview_options"] == {"url": "https://www.suncheon.go.kr"}
    photo = telegram.publish(
        OutboundPost(text="국화 전시", image_urls=("https://img.example/1.jpg",))
    )
    assert channel(tg).messages[int(photo.external_id)]["caption"] == "국화 전시"
    album = telegram.publish(
        OutboundPost(
            text="정원 사진", image_urls=("https://img.example/a.jpg", "https://img.example/b.jpg")
        )
    )
    assert album.external_id == "3,4"
    assert channel(tg).messages[3]["caption"] == "정원 사진"
    call = sim.simulator.recorded("telegram", "POST", "/sendMessage")[0]
    assert json.loads(call.body)["chat_id"] == CHANNEL


def test_edit_text_and_caption_and_delete(telegram, tg) -> None:
    post = telegram.publish(OutboundPost(text="오타 있는 공지"))
    telegram.edit_post(post.external_id, OutboundPost(text="고친 공지"))
    assert channel(tg).messages[1]["text"] == "고친 공지"
    telegram.edit_post(post.external_id, OutboundPost(text="고친 공지"))  # "not modified" is fine
    photo = telegram.publish(
        OutboundPost(text="사진 설명", image_urls=("https://img.example/1.jpg",))
    )
    telegram.edit_post(photo.external_id, OutboundPost(text="고친 사진 설명"))
    assert channel(tg).messages[2]["caption"] == "고친 사진 설명"
    album = telegram.publish(
        OutboundPost(
            text="앨범", image_urls=("https://img.example/a.jpg", "https://img.example/b.jpg")
        )
    )
    telegram.delete_post(album.external_id)
    telegram.delete_post(post.external_id)
    assert set(channel(tg).messages) == {2}
    with pytest.raises(NotFound):
        telegram.delete_post(post.external_id)
    with pytest.raises(NotFound):
        telegram.edit_post(post.external_id, OutboundPost(text="없는 글"))


def test_channel_metrics(telegram) -> None:
    assert telegram.channel_metrics().followers == 2400


def test_fetch_messages_and_reply(telegram, tg, token) -> None:
    tg.citizen_message(token, 5123456789, "민준", "여권 재발급은 어디서 하나요?")
    messages, cursor = telegram.fetch_messages()
    [message] = messages
    assert (message.kind, message.text, message.author_name) == (
        InboundKind.MESSAGE,
        "여권 재발급은 어디서 하나요?",
        "민준",
    )
    assert message.external_id == "5123456789:1"
    assert telegram.fetch_messages(cursor) == ([], cursor)
    reply_id = telegram.reply_to_message(message, "시청 민원봉사과에서 합니다.")
    assert reply_id == "5123456789:2"
    sent = tg.chats[5123456789].messages[2]
    assert sent["reply_to_message"]["message_id"] == 1
    assert sent["text"] == "시청 민원봉사과에서 합니다."


def test_bot_cannot_start_a_conversation(telegram) -> None:
    from sotong.platforms.base import InboundItem

    stranger = InboundItem(InboundKind.MESSAGE, "999:1", "", "999", conversation_id="999")
    with pytest.raises((PermissionMissing, NotFound)):
        telegram.reply_to_message(stranger, "안녕하세요")


def test_webhook_mode_disables_polling_and_delivers_with_the_secret(telegram, tg, token) -> None:
    received: list[WebhookRequest] = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append(
                WebhookRequest("POST", {k.lower(): v for k, v in self.headers.items()}, {}, body)
            )
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        telegram.register_webhook(f"http://127.0.0.1:{server.server_port}/hooks/telegram/x/")
        assert telegram.fetch_messages("7") == ([], "7")  # 409: the webhook brings messages
        tg.citizen_message(token, 5123456789, "민준", "주차장 위치 알려주세요")
    finally:
        server.shutdown()
        server.server_close()
    [delivery] = received
    telegram.verify_webhook(delivery)
    [item] = telegram.parse_webhook(delivery)
    assert (item.text, item.external_id) == ("주차장 위치 알려주세요", "5123456789:1")
    assert tg.bots[token].updates == []  # accepted, so no longer pending


# -- failure classes ------------------------------------------------------------------------


def test_rate_limit_is_remembered_without_calling_again(telegram, sim) -> None:
    first = rate_limit_is_remembered(
        sim, "telegram", telegram.channel_metrics, lambda: telegram.publish(OutboundPost(text="x"))
    )
    assert first.retry_after == 7


def test_per_chat_flood_limit(telegram, tg) -> None:
    tg.max_messages_per_minute_per_chat = 2
    telegram.publish(OutboundPost(text="1"))
    telegram.publish(OutboundPost(text="2"))
    with pytest.raises(RateLimited) as error:
        telegram.publish(OutboundPost(text="3"))
    assert 0 < error.value.retry_after <= 61


def test_server_error_on_read_is_transient_and_on_write_unknown(telegram, sim) -> None:
    sim.simulator.inject(
        "telegram", Fault(FaultKind.SERVER_ERROR, path_pattern="getChatMemberCount")
    )
    with pytest.raises(TransientError):
        telegram.channel_metrics()
    sim.simulator.inject("telegram", Fault(FaultKind.SERVER_ERROR, path_pattern="sendMessage"))
    with pytest.raises(OutcomeUnknown):
        telegram.publish(OutboundPost(text="서버 오류 중 게시"))


@pytest.mark.parametrize(
    ("kind", "error"),
    [
        (FaultKind.TOKEN_EXPIRED, CredentialRevoked),  # tokens never expire
        (FaultKind.TOKEN_REVOKED, CredentialRevoked),
        (FaultKind.MALFORMED, MalformedResponse),
    ],
)
def test_injected_failures_are_classified(telegram, sim, kind, error) -> None:
    fault_raises(sim, "telegram", Fault(kind), error, telegram.channel_metrics)


def test_real_revoked_token(telegram, tg, token) -> None:
    tg.revoke_token(token)
    with pytest.raises(CredentialRevoked):
        telegram.verify_credentials()


def test_timeouts(telegram, sim, tg) -> None:
    timeout = Fault(FaultKind.TIMEOUT, delay=FAULT_DELAY)
    fault_raises(sim, "telegram", timeout, TransientError, telegram.channel_metrics)
    post = OutboundPost(text="순천만갈대축제 개막 안내", idempotency_key="pub-1")
    sim.simulator.inject(
        "telegram",
        Fault(FaultKind.TIMEOUT_AFTER_PROCESSING, delay=FAULT_DELAY, path_pattern="sendMessage"),
    )
    with pytest.raises(OutcomeUnknown):
        telegram.publish(post)
    # Posted once. The Bot API cannot read a channel's history, so find_published has
    # nothing to look in: the unknown outcome must go to a person, never a blind retry.
    assert [m["text"] for m in channel(tg).messages.values()] == ["순천만갈대축제 개막 안내"]
    assert telegram.find_published(post) is None


def test_permission_rejection_and_not_found(sim, tg, telegram) -> None:
    with pytest.raises(ContentRejected, match="too long"):
        telegram.publish(OutboundPost(text="가" * 4097))
    with pytest.raises(ContentRejected, match="caption is too long"):
        telegram.publish(OutboundPost(text="가" * 1025, image_urls=("https://img.example/1.jpg",)))
    reader = tg.add_bot("reader_bot")
    channel(tg).bots[tg.bots[reader].id] = {"status": "administrator", "can_post_messages": False}
    with pytest.raises(PermissionMissing, match="not enough rights"):
        connector_for(sim, reader).publish(OutboundPost(text="권한 없음"))
    outsider = tg.add_bot("outsider_bot")
    with pytest.raises(PermissionMissing, match="not a member"):
        connector_for(sim, outsider).publish(OutboundPost(text="멤버 아님"))
    with pytest.raises(NotFound):
        telegram.delete_post("999")


def test_connection_refused_is_transient(token) -> None:
    credentials = Credentials(access_token=token)
    unreachable = make_connector(TelegramChannel, UNREACHABLE, CHANNEL, credentials)
    with pytest.raises(TransientError):
        unreachable.publish(OutboundPost(text="x"))


def test_token_never_in_errors_or_logs(telegram, sim, token, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="httpx")
    sim.simulator.inject("telegram", Fault(FaultKind.TIMEOUT, delay=FAULT_DELAY))
    with pytest.raises(TransientError) as error:
        telegram.channel_metrics()
    assert token not in str(error.value)
    assert error.value.__cause__ is None
    telegram.channel_metrics()
    # The simulator's own access log (a stand-in for Telegram's servers) is not ours.
    ours = [r for r in caplog.records if not r.name.startswith("sotong.simulator")]
    assert any(r.name == "httpx" for r in ours)  # httpx logged the request…
    assert all(token not in record.getMessage() for record in ours)  # …masked
    assert token not in repr(telegram.account)


# -- webhooks ---------------------------------------------------------------------------------


def test_secret_token_good_bad_missing(telegram) -> None:
    body = fixture("update_private_message.json")
    telegram.verify_webhook(hook(body))
    with pytest.raises(WebhookRejected, match="bad_signature"):
        telegram.verify_webhook(hook(body, "guess"))
    with pytest.raises(WebhookRejected, match="missing_signature"):
        telegram.verify_webhook(hook(body, None))
    telegram.account.credentials.extra.clear()
    with pytest.raises(WebhookRejected, match="bad_signature"):
        telegram.verify_webhook(hook(body))


def test_docs_payloads_parse(telegram) -> None:
    [message] = telegram.parse_webhook(hook(fixture("update_private_message.json")))
    assert (message.kind, message.external_id, message.author_id, message.author_name) == (
        InboundKind.MESSAGE,
        "5123456789:42",
        "5123456789",
        "민준 김",
    )
    assert message.text == "음식물 쓰레기 배출 요일이 궁금해요"
    assert message.created_at is not None
    [edited] = telegram.parse_webhook(hook(fixture("update_edited_message.json")))
    assert edited.external_id == "5123456789:42@1772496060"
    assert edited.text == "음식물 쓰레기 배출 요일이 언제인가요?"
    assert telegram.parse_webhook(hook(fixture("update_channel_post.json"))) == []


def test_replayed_delivery_carries_the_same_ids(telegram) -> None:
    body = fixture("update_private_message.json")
    first = telegram.parse_webhook(hook(body))
    again = telegram.parse_webhook(hook(body))
    assert [i.external_id for i in first] == [i.external_id for i in again] == ["5123456789:42"]


def test_malformed_deliveries_are_rejected(telegram) -> None:
    with pytest.raises(WebhookRejected, match="malformed"):
        telegram.parse_webhook(hook(b"{not json"))
    with pytest.raises(WebhookRejected, match="malformed"):
        telegram.parse_webhook(hook(b'{"message": {}}'))
    with pytest.raises(WebhookRejected, match="malformed"):
        telegram.parse_webhook(hook(b'{"update_id": 5, "message": {"message_id": 1}}'))


def test_polling_and_webhook_give_the_same_ids(sim, telegram, tg, token) -> None:
    update = tg.citizen_message(token, 5123456789, "민준", "같은 메시지")
    [polled], _ = telegram.fetch_messages()
    [pushed] = telegram.parse_webhook(hook(json.dumps(update).encode()))
    assert polled.external_id == pushed.external_id


def test_simulator_speaks_get_too(sim, token) -> None:
    answer = httpx.get(f"{sim.platform_url('telegram')}/bot{token}/getMe", timeout=5).json()
    assert answer["ok"] is True
    assert answer["result"]["username"] == "suncheon_city_bot"
