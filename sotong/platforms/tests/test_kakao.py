"""KakaoTalk connector contract tests, against the simulator (and the docs' sample payloads)."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
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
    SkillLimits,
    SkillLocation,
    SkillRequest,
    basic_card,
    block_button,
    callback_accepted,
    context_value,
    list_card,
    list_item,
    message_button,
    parse_skill_request,
    phone_button,
    quick_reply,
    simple_image,
    simple_text,
    skill_response,
    skill_webhook_response,
    text_card,
    validate_skill_response,
    web_link_button,
)
from sotong.simulator.core import Fault, FaultKind
from sotong.simulator.kakao import read_skill_answer
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
def skill_server(
    connector: KakaoChannel,
    *,
    delay: float = 0.0,
    received: list | None = None,
    answer_with: dict | None = None,
) -> Iterator[str]:
    """Sotong's webhook path in small (verify, parse, ack — or ``answer_with``), served
    over HTTP; the parsed items go to ``received``."""
    received = [] if received is None else received

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
            received.extend(items)
            time.sleep(delay)
            answer = (
                skill_webhook_response(answer_with) if answer_with else connector.webhook_ack(items)
            )
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


# -- the skill vocabulary: documented sample requests ---------------------------------------------

USER_KEY = "f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4"
SAMPLE_REQUESTS = (
    "skill_request.json",
    "skill_request_quick_reply_block.json",
    "skill_request_secureimage.json",
    "skill_request_photo_utterance.json",
    "skill_request_knowledge.json",
    "skill_request_callback.json",
    "skill_request_detail_params.json",
)


def sample(name: str) -> dict:
    return json.loads(fixture(name))


@pytest.mark.parametrize("name", SAMPLE_REQUESTS)
def test_every_documented_sample_request_is_one_message(kakao, name) -> None:
    [item] = kakao.parse_webhook(request(fixture(name)))
    parsed = parse_skill_request(sample(name))
    assert (item.kind, item.text, item.author_id) == (
        InboundKind.MESSAGE,
        parsed.utterance,
        parsed.user_key,
    )
    assert parsed.bot_id == BOT_ID


def test_fallback_text_request_fields() -> None:
    parsed = parse_skill_request(sample("skill_request.json"))
    assert parsed == SkillRequest(
        bot_id=BOT_ID,
        bot_name="순천시 카카오톡 채널",
        user_key=USER_KEY,
        user_type="botUserKey",
        plusfriend_user_key="Kx7Lm2Np9Qr4",
        app_user_id="",
        is_friend=True,
        utterance="쓰레기 배출 요일",
        block_id="5f1a0c3e9d2b4a0001fallbk",
        block_name="폴백 블록",
        params={"sys_date": '{"date": "2026-03-03"}'},
        detail_params={
            "sys_date": {"origin": "내일", "value": '{"date": "2026-03-03"}', "groupName": ""}
        },
        client_extra={},
        contexts=(),
        callback_url="",
        image_urls=(),
        location=None,
        matched_knowledges=(),
    )


def test_quick_reply_block_request_carries_the_extra_and_contexts() -> None:
    parsed = parse_skill_request(sample("skill_request_quick_reply_block.json"))
    assert (parsed.block_id, parsed.block_name, parsed.utterance) == (
        "64f1c2a9e0b7d31a2c5fb001",
        "민원 접수",
        "민원 접수",
    )
    assert parsed.client_extra == {"menu": "complaint", "step": 1}
    assert [context["name"] for context in parsed.contexts] == ["intake"]
    assert parsed.contexts[0]["params"]["step"]["value"] == "what"


def test_secure_image_plugin_photos() -> None:
    parsed = parse_skill_request(sample("skill_request_secureimage.json"))
    assert parsed.image_urls == (
        "https://secure.kakaocdn.net/dna/bW1Xq/K7Ab2cD3/img_1.jpg?credential=abc&expires=1772496600",
        "https://secure.kakaocdn.net/dna/bW1Xq/K7Ab2cD4/img_2.jpg?credential=abd&expires=1772496600",
    )
    assert parsed.utterance == "사진 전송"


def test_a_photo_sent_as_the_utterance_and_the_v1_null_extra() -> None:
    parsed = parse_skill_request(sample("skill_request_photo_utterance.json"))
    assert parsed.image_urls == (parsed.utterance,)
    assert parsed.client_extra == {}  # "null", as the v1 guide shows it
    assert parsed.is_friend is None  # not sent: unknown, not "no"


def test_an_utterance_url_elsewhere_is_not_a_photo() -> None:
    payload = sample("skill_request_photo_utterance.json")
    for utterance in (
        "https://example.com/cat.jpg",
        "http://talk.kakaocdn.net.example.com/dna/x.jpg",
        "사진 http://talk.kakaocdn.net/dna/x.jpg",
    ):
        payload["userRequest"]["utterance"] = utterance
        assert parse_skill_request(payload).image_urls == ()


def test_knowledge_plus_match() -> None:
    parsed = parse_skill_request(sample("skill_request_knowledge.json"))
    assert parsed.block_name == "지식+"
    [match] = parsed.matched_knowledges
    assert match["question"] == "음식물 쓰레기는 언제 버리나요?"
    assert match["categories"] == ["생활", "청소", "쓰레기", "배출"]


def test_callback_enabled_request() -> None:
    parsed = parse_skill_request(sample("skill_request_callback.json"))
    assert parsed.callback_url.startswith("https://bot-api.kakao.com/v1/callback/")


def test_detail_params_give_the_place_and_date() -> None:
    parsed = parse_skill_request(sample("skill_request_detail_params.json"))
    assert parsed.location == SkillLocation("순천시 조례동 1234-5")
    assert parsed.detail_params["sys_date"]["origin"] == "어제"
    assert parsed.is_friend is False
    assert parsed.client_extra == {}  # null


def test_a_location_value_with_coordinates() -> None:
    payload = sample("skill_request_detail_params.json")
    value = '{"address": "순천시 연향동 3", "latitude": 34.95, "longitude": 127.52}'
    payload["action"]["params"] = {"location": value}
    payload["action"]["detailParams"] = {
        "location": {"origin": "여기", "value": value, "groupName": ""}
    }
    assert parse_skill_request(payload).location == SkillLocation("여기", 34.95, 127.52)
    payload["action"]["detailParams"] = {}
    assert parse_skill_request(payload).location == SkillLocation("순천시 연향동 3", 34.95, 127.52)


def _without(path: str):
    def change(payload: dict) -> None:
        *parents, last = path.split(".")
        for key in parents:
            payload = payload[key]
        del payload[last]

    return change


def _set(path: str, value: object):
    def change(payload: dict) -> None:
        *parents, last = path.split(".")
        for key in parents:
            payload = payload[key]
        payload[last] = value

    return change


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (_without("userRequest"), "userRequest is missing or not an object"),
        (_set("userRequest", "text"), "userRequest is missing or not an object"),
        (_without("userRequest.user"), "userRequest.user is missing or not an object"),
        (_without("userRequest.user.id"), "userRequest.user.id is missing or empty"),
        (_set("userRequest.user.id", ""), "userRequest.user.id is missing or empty"),
        (_set("userRequest.utterance", 3), "userRequest.utterance is missing or not a string"),
        (_without("bot"), "bot is missing or not an object"),
        (_set("bot.id", None), "bot.id is missing or empty"),
        (_set("action", []), "action is not an object"),
        (_set("action.params", "x"), "action.params is not an object"),
        (_set("action.detailParams", [1]), "action.detailParams is not an object"),
        (_set("action.clientExtra", [1]), "action.clientExtra is not an object"),
        (_set("action.clientExtra", "{oops"), "action.clientExtra is neither an object nor JSON"),
        (_set("contexts", {"name": "x"}), "contexts is not a list of objects"),
        (_set("userRequest.callbackUrl", "ftp://x"), "userRequest.callbackUrl is not a URL"),
        (_set("userRequest.user.properties", "x"), "userRequest.user.properties is not an object"),
    ],
)
def test_malformed_requests_name_the_field(kakao, change, reason) -> None:
    payload = sample("skill_request.json")
    change(payload)
    with pytest.raises(WebhookRejected) as rejected:
        kakao.parse_webhook(request(json.dumps(payload).encode()))
    assert rejected.value.reason == "malformed"
    assert str(rejected.value) == f"malformed: {reason}"


def test_not_json_and_not_an_object(kakao) -> None:
    with pytest.raises(WebhookRejected, match="malformed: body is not JSON"):
        kakao.parse_webhook(request(b"\xff{"))
    with pytest.raises(WebhookRejected, match="the skill request is not a JSON object"):
        kakao.parse_webhook(request(b'"text"'))


def test_foreign_bot_is_refused_for_every_sample(kakao) -> None:
    for name in SAMPLE_REQUESTS:
        payload = sample(name)
        payload["bot"]["id"] = "5b0c1d2e3f40516273849abc"
        with pytest.raises(WebhookRejected) as rejected:
            kakao.parse_webhook(request(json.dumps(payload).encode()))
        assert (rejected.value.reason, str(rejected.value)) == (
            "unknown_account",
            "unknown_account: bot 5b0c1d2e3f40516273849abc",
        )


# -- the skill vocabulary: responses ------------------------------------------------------------

SAMPLE_RESPONSES = (
    "skill_response.json",
    "skill_response_basic_card.json",
    "skill_response_list_card.json",
    "skill_response_context.json",
    "skill_response_callback.json",
)


@pytest.mark.parametrize("name", SAMPLE_RESPONSES)
def test_documented_sample_responses_are_valid_for_both_checks(name) -> None:
    assert validate_skill_response(sample(name)) == []
    assert read_skill_answer(fixture(name))["ok"] is True


BUTTONS = (
    web_link_button("자세히", "https://www.suncheon.go.kr/"),
    message_button("문의"),
    block_button("접수", "64f1c2a9e0b7d31a2c5fb001", extra={"menu": "complaint"}),
)


def built_responses() -> list[dict]:
    return [
        skill_response([simple_text("안내")], [quick_reply("처음으로")]),
        skill_response(
            [
                simple_image("https://k.kakaocdn.net/dn/a/b.jpg", "순천만 갈대밭"),
                text_card("대형폐기물", "신청 방법", BUTTONS),
                basic_card("봄꽃축제", "4월 한 달", "https://k.kakaocdn.net/dn/c.jpg", BUTTONS),
            ],
            [quick_reply(f"메뉴 {n}", block_id=f"b{n}", extra={"n": n}) for n in range(10)],
            context=[context_value("intake", 5, {"step": "where"}, ttl=600)],
            data={"step": "where"},
        ),
        skill_response(
            [
                list_card(
                    "내 민원",
                    [
                        list_item("1042 처리 중", "가로등", block_id="b1", extra={"case": 1042}),
                        list_item("998 답변 완료", message_text="접수번호 998"),
                        list_item("안내", web_url="https://www.suncheon.go.kr/minwon/"),
                    ],
                    [message_button("처음으로"), phone_button("전화", "061-749-3114")],
                )
            ]
        ),
        callback_accepted("잠시만 기다려 주세요"),
        callback_accepted(),
    ]


def test_every_builder_output_is_accepted_by_kakao_and_the_simulator() -> None:
    for body in built_responses():
        assert validate_skill_response(body) == []
        answer = read_skill_answer(json.dumps(body).encode())
        assert (answer["ok"], answer["problems"]) == (True, [])


def test_the_simulator_keeps_what_the_builders_said() -> None:
    body = built_responses()[2]
    answer = read_skill_answer(json.dumps(body).encode())
    assert answer["texts"] == ["내 민원\n· 1042 처리 중\n· 998 답변 완료\n· 안내"]
    pressable = [(c["label"], c["action"], c.get("extra")) for c in answer["controls"]]
    assert pressable == [
        ("1042 처리 중", "block", {"case": 1042}),
        ("998 답변 완료", "message", None),
        ("처음으로", "message", None),
        ("전화", "phone", None),
    ]


def test_builders_refuse_what_kakao_would_refuse() -> None:
    cases = [
        (lambda: quick_reply("가" * 15), "quick reply.label has 15 characters; at most 14"),
        (lambda: quick_reply(""), "quick reply.label is required"),
        (lambda: simple_image("not a url", "x"), "simpleImage.imageUrl must be an http(s) URL"),
        (lambda: simple_image("https://a.kr/x.jpg", ""), "simpleImage.altText is required"),
        (lambda: text_card(), "textCard needs a title or a description"),
        (
            lambda: text_card("t", "가" * 401),
            "textCard.description has 401 characters; at most 400",
        ),
        (lambda: text_card("t", buttons=BUTTONS * 2), "textCard.buttons has 6 items; 0–3 allowed"),
        (
            lambda: basic_card("t", "가" * 231, "https://a.kr/x.jpg"),
            "basicCard.description has 231 characters; at most 230",
        ),
        (lambda: basic_card("t", "d", ""), "basicCard.thumbnail.imageUrl is required"),
        (
            lambda: list_card("h", [list_item(str(n)) for n in range(6)]),
            "listCard.items has 6 items; 1–5 allowed",
        ),
        (lambda: list_card("h", []), "listCard.items has 0 items; 1–5 allowed"),
        (
            lambda: list_card("h", [list_item("a")], BUTTONS),
            "listCard.buttons has 3 items; 0–2 allowed",
        ),
        (lambda: list_card("", [list_item("a")]), "listCard.header.title is required"),
        (lambda: list_item(""), "listItem.title is required"),
        (lambda: web_link_button("열기", "javascript:alert(1)"), "button.webLinkUrl must be"),
        (lambda: block_button("메뉴", ""), "button.blockId is required"),
        (lambda: phone_button("전화", ""), "button.phoneNumber is required"),
        (lambda: message_button("가" * 20), "button.label has 20 characters; at most 14"),
        (
            lambda: skill_response([simple_text("a")], context=[context_value("", 1)]),
            "context.values[0].name is required",
        ),
        (
            lambda: skill_response([simple_text("a")], context=[context_value("c", -1)]),
            "context.values[0].lifeSpan must be a whole number ≥ 0",
        ),
        (
            lambda: skill_response(
                [simple_text("a")], context=[{"name": "c", "lifeSpan": 1, "params": {"n": 3}}]
            ),
            "context.values[0].params.n must be a string",
        ),
    ]
    for build, message in cases:
        with pytest.raises(ValueError, match=re.escape(message)):
            build()


def test_validate_lists_every_problem_with_its_path() -> None:
    body = {
        "template": {
            "outputs": [
                {"simpleText": {"text": ""}},
                {"basicCard": {"description": "d"}},
                {"unknownCard": {}},
                {"simpleText": {"text": "a"}},
            ],
            "quickReplies": [
                {"label": "a", "action": "webLink"},
                {"label": "b", "action": "block"},
                {"label": "c", "action": "block", "blockId": "b", "extra": "x"},
            ]
            + [{"label": "처음", "action": "message", "messageText": "처음"}] * 8,
        },
        "data": [],
    }
    assert validate_skill_response(body) == [
        'version must be "2.0" (without it Kakao reads the legacy v1 format)',
        "template.outputs has 4 items; 1–3 allowed",
        "template.outputs[0].simpleText.text is required",
        "template.outputs[1].basicCard.thumbnail must be an object",
        "template.outputs[2] must hold exactly one of ['basicCard', 'carousel', 'commerceCard', "
        "'itemCard', 'listCard', 'simpleImage', 'simpleText', 'textCard'], not ['unknownCard']",
        "template.quickReplies has 11 items; 0–10 allowed",
        "template.quickReplies[0].action 'webLink' is not one of ['block', 'message']",
        "template.quickReplies[1].blockId is required",
        "template.quickReplies[2].extra must be an object",
        "data must be an object",
    ]
    assert validate_skill_response([]) == ["the response must be an object"]
    assert validate_skill_response({"version": "2.0"}) == ["template is required"]


def test_limits_are_settings() -> None:
    long_label = {
        "version": "2.0",
        "template": {
            "outputs": [{"simpleText": {"text": "a"}}],
            "quickReplies": [quick_reply("가" * 10)],
        },
    }
    assert validate_skill_response(long_label) == []
    assert validate_skill_response(long_label, SkillLimits(label=8)) == [
        "template.quickReplies[0].label has 10 characters; at most 8"
    ]


def test_callback_accepted_is_the_documented_shape() -> None:
    assert callback_accepted("잠시만요") == {
        "version": "2.0",
        "useCallback": True,
        "data": {"text": "잠시만요"},
    }
    assert validate_skill_response({"version": "2.0", "useCallback": "yes"}) == [
        "useCallback must be true or false",
        "template is required",
    ]


def test_sotong_reads_what_the_simulated_client_sends(kakao_sim, kakao, sim) -> None:
    """Photos, places and button extras from the simulator's KakaoTalk client, as Sotong's
    parser sees them."""
    items: list = []
    menu = skill_response(
        [simple_text("무엇을 도와드릴까요?")],
        [quick_reply("민원 접수", block_id="b-intake", extra={"menu": "complaint"})],
    )
    with skill_server(kakao, received=items, answer_with=menu) as url:
        kakao_sim.set_skill_url(BOT_ID, url)
        kakao_sim.citizen_photo(BOT_ID, "user-key-3", count=2)
        kakao_sim.citizen_location(BOT_ID, "user-key-3", "순천시 연향동 3")
        kakao_sim.citizen_tap(BOT_ID, "user-key-3", "민원 접수")
    photo, place, tap = (parse_skill_request(item.raw) for item in items)
    assert len(photo.image_urls) == 2
    assert all(url.startswith(f"{sim.url}/kakao/dna/") for url in photo.image_urls)
    assert httpx.get(photo.image_urls[0], timeout=5).headers["content-type"] == "image/jpeg"
    assert place.location == SkillLocation("순천시 연향동 3")
    assert (tap.block_id, tap.client_extra, tap.utterance) == (
        "b-intake",
        {"menu": "complaint"},
        "민원 접수",
    )
    assert photo.user_key == place.user_key == tap.user_key == "user-key-3"
