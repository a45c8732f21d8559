"""KakaoTalk connector contract tests, against the simulator (and the docs' sample payloads)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

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
    TransientError,
    Unsupported,
    WebhookRejected,
    WebhookRequest,
    connector_class,
)
from sotong.platforms.kakao import (
    ACK_TEXT,
    SKILL_SECRET_HEADER,
    KakaoChannel,
    quick_reply,
    simple_text,
    skill_response,
)
from sotong.simulator.core import Fault, FaultKind
from sotong.simulator.testing import (
    FAULT_DELAY,
    UNREACHABLE,
    fault_raises,
    make_connector,
    rate_limit_is_remembered,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "kakao"
BOT_ID = "64f1c2a9e0b7d31a2c5f8e01"
SKILL_SECRET = "skill-secret-123"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@pytest.fixture
def kakao_sim(sim):
    return sim.simulator["kakao"]


@pytest.fixture
def key(kakao_sim):
    return kakao_sim.add_bot(BOT_ID, "순천시 카카오톡 채널", followers=10000)


def connector_for(sim, key: str, **extra: str) -> KakaoChannel:
    credentials = Credentials(access_token=key, extra=extra)
    return make_connector(KakaoChannel, sim.platform_url("kakao"), BOT_ID, credentials)


@pytest.fixture
def kakao(sim, key):
    connector = connector_for(sim, key)
    yield connector
    connector.close()


def request(body: bytes, **headers: str) -> WebhookRequest:
    return WebhookRequest("POST", {k.lower(): v for k, v in headers.items()}, {}, body)


@contextmanager
def skill_server(connector: KakaoChannel, *, delay: float = 0.0) -> Iterator[str]:
    """Sotong's webhook path in small (verify, parse, ack), served over HTTP."""
    received: list[str] = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            hook = WebhookRequest("POST", {k.lower(): v for k, v in self.headers.items()}, {}, body)
            try:
                connector.verify_webhook(hook)
                items = connector.parse_webhook(hook)
            except WebhookRejected as rejection:
                self.send_response(401)
                self.end_headers()
                self.wfile.write(rejection.reason.encode())
                return
            received.extend(item.text for item in items)
            time.sleep(delay)
            answer = connector.webhook_ack(items)
            self.send_response(answer.status)
            self.send_header("Content-Type", answer.content_type)
            self.end_headers()
            self.wfile.write(answer.body)

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/hooks/kakao/secret/"
    finally:
        server.shutdown()
        server.server_close()


# -- capabilities -------------------------------------------------------------------------


def test_registered_with_only_what_kakao_allows() -> None:
    assert connector_class("kakao") is KakaoChannel
    assert KakaoChannel.capabilities == {
        Capability.WEBHOOKS,
        Capability.REPLY_MESSAGE,
        Capability.MANUAL_PUBLISH,
    }
    assert KakaoChannel.default_api_base == "https://bot-api.kakao.com"


def test_no_publishing_metrics_or_polling(kakao) -> None:
    with pytest.raises(Unsupported):
        kakao.publish(OutboundPost(text="소식"))
    with pytest.raises(Unsupported):
        kakao.channel_metrics()
    with pytest.raises(Unsupported):
        kakao.fetch_messages()


def test_verify_credentials_probes_the_tasks_endpoint(kakao, sim) -> None:
    check = kakao.verify_credentials()
    assert check.identity == BOT_ID
    [probe] = sim.simulator.recorded("kakao", "GET", "/v1/tasks/")
    assert probe.status == 404  # an unknown task: the key itself was accepted
    assert probe.headers["authorization"].startswith("KakaoAK ")


def test_verify_credentials_with_a_revoked_or_wrong_key(sim, kakao_sim, key) -> None:
    with pytest.raises(CredentialRevoked):
        connector_for(sim, "not-a-key").verify_credentials()
    kakao_sim.revoke_key(key)
    with pytest.raises(CredentialRevoked):
        connector_for(sim, key).verify_credentials()


def test_reply_through_the_event_api(kakao, kakao_sim, sim) -> None:
    kakao_sim.citizen_message(BOT_ID, "user-key-1", "여권 재발급은 어디서 하나요?")
    [message] = kakao.parse_webhook(
        request(json.dumps(kakao_sim.skill_payload(BOT_ID, "user-key-1", "여권")).encode())
    )
    task_id = kakao.reply_to_message(message, "시청 민원봉사과에서 합니다.")
    assert kakao_sim.bots[BOT_ID].conversations["user-key-1"][-1]["text"] == (
        "시청 민원봉사과에서 합니다."
    )
    [call] = sim.simulator.recorded("kakao", "POST", f"/v2/bots/{BOT_ID}/talk")
    assert json.loads(call.body) == {
        "event": {"name": "sotong_reply", "data": {"text": "시청 민원봉사과에서 합니다."}},
        "user": [{"type": "botUserKey", "id": "user-key-1"}],
    }
    assert call.headers["authorization"] == f"KakaoAK {kakao.account.credentials.access_token}"
    status = kakao.task_status(task_id)
    assert (status["status"], status["successCount"], status["fail"]["count"]) == (
        "ALL_SUCCESS",
        1,
        0,
    )


def test_event_name_is_an_option(kakao, kakao_sim) -> None:
    kakao_sim.bots[BOT_ID].event_names = {"city_answer"}
    message = kakao.parse_webhook(request(fixture("skill_request.json")))[0]
    with pytest.raises(ContentRejected, match="unknown event name"):
        kakao.reply_to_message(message, "답변")
    kakao.account.options["event_name"] = "city_answer"
    task_id = kakao.reply_to_message(message, "답변")
    # The sample's user never wrote to this simulated bot: the job is accepted, delivery fails.
    assert kakao.task_status(task_id)["status"] == "FAIL"


def test_citizen_chat_is_answered_within_the_sla(sim, kakao_sim, kakao) -> None:
    kakao.account.credentials.extra["skill_secret"] = SKILL_SECRET
    with skill_server(kakao) as url:
        kakao_sim.set_skill_url(BOT_ID, url, skill_secret=SKILL_SECRET)
        entry = kakao_sim.citizen_message(BOT_ID, "user-key-7", "쓰레기 배출 요일이 궁금해요")
    assert (entry["ok"], entry["answer"]) == (True, [ACK_TEXT])
    conversation = kakao_sim.bots[BOT_ID].conversations["user-key-7"]
    assert [(m["from"], m["text"]) for m in conversation] == [
        ("user", "쓰레기 배출 요일이 궁금해요"),
        ("bot", ACK_TEXT),
    ]
    view = kakao_sim.timeline()[0]["posts"][-1]["comments"]
    assert view[-1] == {"author": "챗봇", "text": ACK_TEXT}


def test_a_late_answer_counts_as_failed(sim, kakao_sim, kakao) -> None:
    kakao_sim.skill_timeout = 0.3
    with skill_server(kakao, delay=0.6) as url:
        kakao_sim.set_skill_url(BOT_ID, url)
        entry = kakao_sim.citizen_message(BOT_ID, "user-key-8", "늦은 답")
    assert (entry["ok"], entry["reason"]) == (False, "timeout")
    assert kakao_sim.bots[BOT_ID].conversations["user-key-8"][-1]["ok"] is False


def test_a_wrong_skill_secret_is_refused_and_the_chat_fails(sim, kakao_sim, kakao) -> None:
    kakao.account.credentials.extra["skill_secret"] = SKILL_SECRET
    with skill_server(kakao) as url:
        kakao_sim.set_skill_url(BOT_ID, url, skill_secret="guess")
        entry = kakao_sim.citizen_message(BOT_ID, "user-key-9", "안녕하세요")
    assert (entry["ok"], entry["status"]) == (False, 401)


# -- skill responses -------------------------------------------------------------------------


def test_ack_is_a_valid_skill_response(kakao) -> None:
    items = kakao.parse_webhook(request(fixture("skill_request.json")))
    answer = kakao.webhook_ack(items)
    assert answer.status == 200
    assert answer.content_type.startswith("application/json")
    assert json.loads(answer.body) == {
        "version": "2.0",
        "template": {"outputs": [{"simpleText": {"text": ACK_TEXT}}]},
    }


def test_response_helpers_enforce_the_limits() -> None:
    built = skill_response(
        [simple_text("안내")], [quick_reply("처음으로"), quick_reply("민원", block_id="b1")]
    )
    assert built["template"]["quickReplies"] == [
        {"label": "처음으로", "action": "message", "messageText": "처음으로"},
        {"label": "민원", "action": "block", "blockId": "b1", "extra": {}},
    ]
    assert simple_text("가" * 1000)["simpleText"]["text"] == "가" * 1000
    with pytest.raises(ValueError, match="1–1000"):
        simple_text("가" * 1001)
    with pytest.raises(ValueError, match="outputs"):
        skill_response([simple_text("a")] * 4)
    with pytest.raises(ValueError, match="outputs"):
        skill_response([])
    with pytest.raises(ValueError, match="quick replies"):
        skill_response([simple_text("a")], [quick_reply(str(n)) for n in range(11)])


# -- webhooks -----------------------------------------------------------------------------------


def test_docs_payload_parses(kakao) -> None:
    [item] = kakao.parse_webhook(request(fixture("skill_request.json")))
    user_key = "f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4"
    assert (item.kind, item.text, item.author_id, item.conversation_id) == (
        InboundKind.MESSAGE,
        "쓰레기 배출 요일",
        user_key,
        user_key,
    )
    assert item.external_id.startswith("kakao-")
    assert item.raw["bot"]["id"] == BOT_ID


def test_skill_secret_good_bad_missing_and_optional(kakao) -> None:
    body = fixture("skill_request.json")
    kakao.verify_webhook(request(body))  # no secret configured: the URL is the protection
    kakao.account.credentials.extra["skill_secret"] = SKILL_SECRET
    kakao.verify_webhook(request(body, **{SKILL_SECRET_HEADER: SKILL_SECRET}))
    with pytest.raises(WebhookRejected, match="bad_signature"):
        kakao.verify_webhook(request(body, **{SKILL_SECRET_HEADER: "skill-secret-124"}))
    with pytest.raises(WebhookRejected, match="missing_signature"):
        kakao.verify_webhook(request(body))


def test_replayed_request_is_not_merged(kakao) -> None:
    """Kakao never re-sends, and identical bodies are genuine repeats ("네" twice): each
    request gets its own id (see parse_webhook)."""
    body = fixture("skill_request.json")
    first = kakao.parse_webhook(request(body))
    again = kakao.parse_webhook(request(body))
    assert first[0].text == again[0].text
    assert first[0].external_id != again[0].external_id


def test_malformed_and_foreign_requests_are_rejected(kakao) -> None:
    with pytest.raises(WebhookRejected, match="malformed"):
        kakao.parse_webhook(request(b"{not json"))
    with pytest.raises(WebhookRejected, match="malformed"):
        kakao.parse_webhook(request(b"[]"))
    payload = json.loads(fixture("skill_request.json"))
    del payload["userRequest"]["user"]["id"]
    with pytest.raises(WebhookRejected, match="malformed"):
        kakao.parse_webhook(request(json.dumps(payload).encode()))
    foreign = fixture("skill_request.json").replace(BOT_ID.encode(), b"another-bot")
    with pytest.raises(WebhookRejected, match="unknown_account"):
        kakao.parse_webhook(request(foreign))


# -- failure classes ----------------------------------------------------------------------------


@pytest.fixture
def message(kakao, kakao_sim):
    kakao_sim.citizen_message(BOT_ID, "user-key-2", "문의")
    payload = kakao_sim.skill_payload(BOT_ID, "user-key-2", "문의")
    return kakao.parse_webhook(request(json.dumps(payload).encode()))[0]


def test_rate_limit_is_remembered_without_calling_again(kakao, sim, message) -> None:
    first = rate_limit_is_remembered(
        sim, "kakao", lambda: kakao.reply_to_message(message, "답변"), kakao.verify_credentials
    )
    assert first.retry_after == 60


def test_server_error_on_read_is_transient_and_on_send_unknown(kakao, sim, message) -> None:
    sim.simulator.inject("kakao", Fault(FaultKind.SERVER_ERROR, methods=frozenset({"GET"})))
    with pytest.raises(TransientError):
        kakao.verify_credentials()
    sim.simulator.inject("kakao", Fault(FaultKind.SERVER_ERROR, methods=frozenset({"POST"})))
    with pytest.raises(OutcomeUnknown):
        kakao.reply_to_message(message, "답변")


@pytest.mark.parametrize(
    ("kind", "error"),
    [
        (FaultKind.TOKEN_EXPIRED, CredentialRevoked),  # REST API keys never expire
        (FaultKind.TOKEN_REVOKED, CredentialRevoked),
        (FaultKind.MALFORMED, MalformedResponse),
    ],
)
def test_injected_failures_are_classified(kakao, sim, message, kind, error) -> None:
    fault_raises(sim, "kakao", Fault(kind), error, lambda: kakao.reply_to_message(message, "답변"))


def test_timeouts(kakao, sim, message) -> None:
    sim.simulator.inject("kakao", Fault(FaultKind.TIMEOUT, delay=FAULT_DELAY))
    with pytest.raises(TransientError):
        kakao.verify_credentials()
    sim.simulator.inject("kakao", Fault(FaultKind.TIMEOUT, delay=FAULT_DELAY))
    with pytest.raises(OutcomeUnknown):
        kakao.reply_to_message(message, "답변")


def test_timeout_after_processing_delivers_once_and_is_unknown(kakao, sim, kakao_sim, message):
    sim.simulator.inject(
        "kakao",
        Fault(FaultKind.TIMEOUT_AFTER_PROCESSING, delay=FAULT_DELAY, path_pattern="/talk$"),
    )
    with pytest.raises(OutcomeUnknown):
        kakao.reply_to_message(message, "처리 후 시간 초과")
    # Delivered once; Kakao offers no way to list sent events, so nothing retries it blindly.
    sent = [m for m in kakao_sim.bots[BOT_ID].conversations["user-key-2"] if m["reason"] == "event"]
    assert [m["text"] for m in sent] == ["처리 후 시간 초과"]
    assert kakao.find_published(OutboundPost(text="처리 후 시간 초과")) is None
    assert len(sim.simulator.recorded("kakao", "POST")) == 1


def test_permission_rejection_and_not_found(sim, kakao_sim, kakao, message) -> None:
    kakao_sim.bots[BOT_ID].wallet = False
    with pytest.raises(PermissionMissing, match="wallet"):
        kakao.reply_to_message(message, "답변")
    kakao_sim.bots[BOT_ID].wallet = True
    with pytest.raises(ContentRejected):
        kakao.reply_to_message(message, "가" * 1001)  # refused before sending
    kakao_sim.text_max = 500
    with pytest.raises(ContentRejected, match="too long"):
        kakao.reply_to_message(message, "가" * 501)  # refused by the platform
    with pytest.raises(NotFound):
        kakao.task_status("no-such-task")
    kakao.account.account_id = "no-such-bot"
    with pytest.raises(NotFound):
        kakao.reply_to_message(message, "답변")
    other_key = kakao_sim.add_bot("other-bot", "다른 채널")
    other = connector_for(sim, other_key)
    with pytest.raises(PermissionMissing):
        other.reply_to_message(message, "남의 봇")


def test_connection_refused_is_transient(key) -> None:
    credentials = Credentials(access_token=key)
    unreachable = make_connector(KakaoChannel, UNREACHABLE, BOT_ID, credentials)
    with pytest.raises(TransientError):
        unreachable.verify_credentials()


def test_token_never_in_repr(kakao) -> None:
    assert kakao.account.credentials.access_token not in repr(kakao.account)
