"""The simulated Kakao bot API answers in the documented shapes (shared/docs/platform-apis.md
§1 and the samples in sotong/platforms/fixtures/kakao/), and simulated citizens send real v2
skill requests."""

from __future__ import annotations

import io
import json
import shutil
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from PIL import Image

from sotong.simulator.core import Fault, FaultKind
from sotong.simulator.kakao import skill_answer_texts
from sotong.simulator.testing import api_client, same_shape

FIXTURES = Path(__file__).resolve().parents[2] / "platforms" / "fixtures" / "kakao"
BOT_ID = "64f1c2a9e0b7d31a2c5f8e01"


def load(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


@pytest.fixture
def kakao_sim(sim):
    return sim.simulator["kakao"]


@pytest.fixture
def api(sim, kakao_sim):
    key = kakao_sim.add_bot(BOT_ID, "순천시 카카오톡 채널")
    client = api_client(sim.platform_url("kakao"), f"KakaoAK {key}")
    yield client
    client.close()


def talk(api: httpx.Client, users: list[dict[str, str]], text: str = "답변") -> httpx.Response:
    return api.post(
        f"/v2/bots/{BOT_ID}/talk",
        json={"event": {"name": "sotong_reply", "data": {"text": text}}, "user": users},
    )


def test_event_accepted_and_task_status(api, kakao_sim) -> None:
    kakao_sim.citizen_message(BOT_ID, "known", "문의")
    answer = talk(api, [{"type": "botUserKey", "id": "known"}, {"type": "botUserKey", "id": "x"}])
    assert answer.status_code == 200
    same_shape(answer.json(), load("event_response.json"))
    assert answer.json()["status"] == "SUCCESS"
    task = api.get(f"/v1/tasks/{answer.json()['taskId']}")
    same_shape(task.json(), load("task_status.json"))
    assert (task.json()["status"], task.json()["successCount"]) == ("PARTIAL_SUCCESS", 1)
    assert task.json()["fail"]["list"] == [{"user": "x", "errorMessage": "user not found"}]


def test_at_most_100_users_and_no_duplicates(api) -> None:
    users = [{"type": "botUserKey", "id": str(n)} for n in range(101)]
    too_many = talk(api, users)
    assert too_many.status_code == 400
    same_shape(too_many.json(), load("event_fail.json"))
    assert too_many.json()["status"] == "FAIL"
    assert talk(api, users[:100]).json()["status"] == "SUCCESS"
    twice = talk(api, [users[0], users[0]])
    assert (twice.status_code, twice.json()["message"]) == (400, "duplicated user")


@pytest.mark.parametrize(
    ("kind", "status"),
    [
        (FaultKind.RATE_LIMITED, 429),
        (FaultKind.TOKEN_REVOKED, 401),
        (FaultKind.TOKEN_EXPIRED, 401),
        (FaultKind.SERVER_ERROR, 500),
    ],
)
def test_fault_bodies_are_fail_answers(sim, api, kind, status) -> None:
    sim.simulator.inject("kakao", Fault(kind))
    answer = talk(api, [{"type": "botUserKey", "id": "a"}])
    assert answer.status_code == status
    same_shape(answer.json(), load("event_fail.json"))
    assert answer.json()["status"] == "FAIL"
    if kind is FaultKind.RATE_LIMITED:
        assert answer.headers["retry-after"] == "60"


def test_auth_and_unknowns(sim, api) -> None:
    anonymous = httpx.get(sim.platform_url("kakao") + "/v1/tasks/abc", timeout=5)
    assert anonymous.status_code == 401
    assert anonymous.json()["status"] == "FAIL"
    assert api.get("/v1/tasks/abc").status_code == 404
    assert api.post("/v2/bots/nobot/talk", json={}).status_code == 404


def test_skill_request_matches_the_documented_payload(kakao_sim, api) -> None:
    payload = kakao_sim.skill_payload(BOT_ID, "user-1", "쓰레기 배출 요일")
    documented = load("skill_request.json")
    documented["action"]["params"] = {}  # entity params only when the block extracts some
    documented["action"]["detailParams"] = {}
    same_shape(payload, documented)
    assert payload["userRequest"]["user"]["type"] == "botUserKey"


def test_skill_response_validation() -> None:
    documented = (FIXTURES / "skill_response.json").read_bytes()
    assert skill_answer_texts(documented) == ["..."]
    assert skill_answer_texts(b'{"template":{"outputs":[{"simpleText":{"text":"a"}}]}}') is None
    four = {"version": "2.0", "template": {"outputs": [{"simpleText": {"text": "a"}}] * 4}}
    assert skill_answer_texts(json.dumps(four).encode()) is None


# -- the KakaoTalk client ------------------------------------------------------------------------


class SkillServer:
    """The city's skill server in small: answers each skill request with ``answer(payload)``
    (a dict sent as JSON, or (status, bytes)), keeps every payload, and can post a late
    answer to the request's callbackUrl."""

    def __init__(self) -> None:
        self.payloads: list[dict] = []
        self.answer = lambda payload: {
            "version": "2.0",
            "template": {"outputs": [{"simpleText": {"text": "안녕하세요"}}]},
        }
        self.delay = 0.0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                payload = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.payloads.append(payload)
                time.sleep(server.delay)
                answer = server.answer(payload)
                status, body = (
                    answer if isinstance(answer, tuple) else (200, json.dumps(answer).encode())
                )
                self.send_response(status)
                self.send_header("Content-Type", "application/json;charset=UTF-8")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.http.server_port}/hooks/kakao/secret/"
        threading.Thread(target=self.http.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.http.shutdown()
        self.http.server_close()


def text_answer(text: str, quick_replies: list | None = None, **extra: object) -> dict:
    template: dict = {"outputs": [{"simpleText": {"text": text}}]}
    if quick_replies:
        template["quickReplies"] = quick_replies
    return {"version": "2.0", "template": template, **extra}


MENU = [
    {
        "label": "민원 접수",
        "action": "block",
        "blockId": "64f1c2a9e0b7d31a2c5fb001",
        "extra": {"menu": "complaint"},
    },
    {"label": "처리 현황", "action": "message", "messageText": "내 민원 처리 현황"},
]
CARD = {
    "basicCard": {
        "title": "대형폐기물",
        "description": "신청 후 배출하세요",
        "thumbnail": {"imageUrl": "https://k.kakaocdn.net/dn/x.jpg"},
        "buttons": [
            {"label": "신청하기", "action": "webLink", "webLinkUrl": "https://www.suncheon.go.kr/"},
            {"label": "전화", "action": "phone", "phoneNumber": "061-749-3114"},
            {"label": "수수료", "action": "block", "blockId": "b-fee", "extra": {"topic": "fee"}},
        ],
    }
}


@pytest.fixture
def skill(kakao_sim):
    kakao_sim.add_bot(BOT_ID, "순천시 카카오톡 채널", followers=10)
    server = SkillServer()
    kakao_sim.set_skill_url(BOT_ID, server.url)
    yield server
    server.close()


def test_the_answer_is_kept_whole(kakao_sim, skill) -> None:
    skill.answer = lambda payload: {
        "version": "2.0",
        "template": {
            "outputs": [{"simpleText": {"text": "무엇을 도와드릴까요?"}}, CARD],
            "quickReplies": MENU,
        },
        "context": {"values": [{"name": "menu", "lifeSpan": 2, "params": {"from": "home"}}]},
        "data": {"step": "menu"},
    }
    entry = kakao_sim.citizen_message(BOT_ID, "u1", "처음으로")
    assert (entry["ok"], entry["answer"]) == (
        True,
        ["무엇을 도와드릴까요?", "대형폐기물\n신청 후 배출하세요"],
    )
    bot = kakao_sim.bots[BOT_ID].conversations["u1"][-1]
    answer = bot["answer"]
    assert answer["quick_replies"] == ["민원 접수", "처리 현황"]
    assert [(c["label"], c["where"]) for c in answer["controls"]] == [
        ("신청하기", "button"),
        ("전화", "button"),
        ("수수료", "button"),
        ("민원 접수", "quick_reply"),
        ("처리 현황", "quick_reply"),
    ]
    assert answer["context"] == [
        {"name": "menu", "lifeSpan": 2, "ttl": None, "params": {"from": "home"}}
    ]
    assert answer["data"] == {"step": "menu"}


def test_contexts_come_back_until_their_lifespan_is_used(kakao_sim, skill) -> None:
    skill.answer = lambda payload: text_answer(
        "네",
        context={"values": [{"name": "intake", "lifeSpan": 2, "params": {"step": "where"}}]}
        if not payload["contexts"] and len(skill.payloads) == 1
        else {"values": []},
    )
    for text in ("민원", "조례동", "어제", "네"):
        kakao_sim.citizen_message(BOT_ID, "u1", text)
    sent = [payload["contexts"] for payload in skill.payloads]
    assert sent[0] == []
    assert sent[1] == [
        {
            "name": "intake",
            "lifespan": 2,
            "ttl": None,
            "params": {"step": {"value": "where", "resolvedValue": "where"}},
        }
    ]
    assert [c["lifespan"] for c in sent[2]] == [1]
    assert sent[3] == []


@pytest.mark.parametrize(
    ("answer", "problem"),
    [
        (text_answer("a" * 1001), "template.outputs[0].simpleText.text has 1001 characters"),
        (text_answer("a", [{"label": "가" * 15, "action": "message"}]), "label has 15 characters"),
        (text_answer("a", [{"label": "x", "action": "webLink"}]), "'webLink' is not one of"),
        ({"template": {"outputs": [{"simpleText": {"text": "a"}}]}}, 'version must be "2.0"'),
        ({"version": "2.0", "template": {"outputs": []}}, "template.outputs has 0 items"),
        (text_answer("a", context={"values": [{"name": "c"}]}), "lifeSpan must be a whole"),
    ],
)
def test_a_malformed_answer_is_shown_as_an_error(kakao_sim, skill, answer, problem) -> None:
    skill.answer = lambda payload: answer
    entry = kakao_sim.citizen_message(BOT_ID, "u1", "안녕하세요")
    assert (entry["ok"], entry["reason"]) == (False, "invalid_response")
    assert any(problem in text for text in entry["problems"]), entry["problems"]
    shown = kakao_sim.bots[BOT_ID].conversations["u1"][-1]
    assert (shown["kind"], shown["ok"]) == ("error", False)
    assert "오류" in shown["text"]


def test_not_json_and_server_errors_are_errors(kakao_sim, skill) -> None:
    skill.answer = lambda payload: (200, b"<html>oops</html>")
    entry = kakao_sim.citizen_message(BOT_ID, "u1", "안녕")
    assert (entry["ok"], entry["problems"]) == (False, ["the answer is not JSON"])
    skill.answer = lambda payload: (500, b"{}")
    assert kakao_sim.citizen_message(BOT_ID, "u1", "안녕")["reason"] == "http_500"


def test_tapping_quick_replies_and_buttons(kakao_sim, skill) -> None:
    skill.answer = lambda payload: {
        "version": "2.0",
        "template": {"outputs": [CARD], "quickReplies": MENU},
    }
    kakao_sim.citizen_message(BOT_ID, "u1", "처음으로")
    # A message quick reply: its messageText, as if typed, to the fallback block.
    kakao_sim.citizen_tap(BOT_ID, "u1", "처리 현황")
    typed = skill.payloads[-1]
    assert typed["userRequest"]["utterance"] == "내 민원 처리 현황"
    assert typed["userRequest"]["block"]["name"] == "폴백 블록"
    assert typed["action"]["clientExtra"] == {}
    # A block quick reply: the block runs, its extra reaches the skill as clientExtra.
    kakao_sim.bots[BOT_ID].blocks["64f1c2a9e0b7d31a2c5fb001"] = "민원 접수"
    entry = kakao_sim.citizen_tap(BOT_ID, "u1", "민원 접수")
    block = skill.payloads[-1]
    assert block["userRequest"]["utterance"] == "민원 접수"
    assert (
        block["intent"]["id"] == block["userRequest"]["block"]["id"] == ("64f1c2a9e0b7d31a2c5fb001")
    )
    assert block["userRequest"]["block"]["name"] == "민원 접수"
    assert block["action"]["clientExtra"] == {"menu": "complaint"}
    assert entry["ok"] is True
    documented = load("skill_request_quick_reply_block.json")
    documented["action"]["clientExtra"] = {"menu": "complaint"}  # this button's extra
    documented["contexts"] = []  # no context was set in this chat
    same_shape(block, documented)
    # A card's block button works like a quick reply.
    kakao_sim.citizen_tap(BOT_ID, "u1", "수수료")
    assert skill.payloads[-1]["action"]["clientExtra"] == {"topic": "fee"}
    # Links and phone numbers open on the phone: nothing reaches the skill.
    sent = len(skill.payloads)
    opened = kakao_sim.citizen_tap(BOT_ID, "u1", "신청하기")
    called = kakao_sim.citizen_tap(BOT_ID, "u1", "전화")
    assert (called["reason"], called["target"]) == ("phone", "061-749-3114")
    assert len(skill.payloads) == sent
    assert (opened["reason"], opened["target"]) == ("webLink", "https://www.suncheon.go.kr/")
    assert [(t["label"], t["target"]) for t in kakao_sim.tap_log] == [
        ("신청하기", "https://www.suncheon.go.kr/"),
        ("전화", "061-749-3114"),
    ]
    with pytest.raises(LookupError, match="no quick reply or button labelled '없는 버튼'"):
        kakao_sim.citizen_tap(BOT_ID, "u1", "없는 버튼")


def test_list_rows_can_be_pressed(kakao_sim, skill) -> None:
    skill.answer = lambda payload: load("skill_response_list_card.json")
    kakao_sim.citizen_message(BOT_ID, "u1", "처리 현황")
    kakao_sim.citizen_tap(BOT_ID, "u1", "접수번호 1042 · 처리 중")
    assert skill.payloads[-1]["action"]["clientExtra"] == {"case": 1042}
    kakao_sim.citizen_tap(BOT_ID, "u1", "접수번호 998 · 답변 완료")
    assert skill.payloads[-1]["userRequest"]["utterance"] == "접수번호 998"
    with pytest.raises(LookupError):
        kakao_sim.citizen_tap(BOT_ID, "u1", "민원 안내")  # a web link row, not a button here


def test_a_photo_arrives_as_the_secure_image_plugin_sends_it(sim, kakao_sim, skill) -> None:
    entry = kakao_sim.citizen_photo(BOT_ID, "u1", count=2)
    assert entry["ok"] is True
    payload = skill.payloads[-1]
    same_shape(payload, load("skill_request_secureimage.json"))
    value = json.loads(payload["action"]["params"]["secureimage"])
    assert (
        payload["action"]["detailParams"]["secureimage"]["value"]
        == (payload["action"]["params"]["secureimage"])
    )
    assert (value["privacyAgree"], value["imageQuantity"]) == ("Y", "2")
    urls = value["secureUrls"].removeprefix("List(").removesuffix(")").split(", ")
    assert len(urls) == 2
    assert all(url.startswith(f"{sim.url}/kakao/dna/") for url in urls)
    shown = kakao_sim.bots[BOT_ID].conversations["u1"][0]
    assert (shown["kind"], shown["photos"]) == ("photo", urls)
    first = httpx.get(urls[0], timeout=5)
    assert (first.status_code, first.headers["content-type"]) == (200, "image/jpeg")
    assert first.content[:3] == b"\xff\xd8\xff"
    assert Image.open(io.BytesIO(first.content)).size == (320, 240)
    assert httpx.get(urls[1], timeout=5).content != first.content
    forged = urls[0].split("?")[0] + "?credential=guess"
    assert httpx.get(forged, timeout=5).status_code == 403


def test_photo_urls_expire(sim, kakao_sim, skill) -> None:
    kakao_sim.photo_ttl = 0.2
    kakao_sim.citizen_photo(BOT_ID, "u1")
    value = json.loads(skill.payloads[-1]["action"]["params"]["secureimage"])
    url = value["secureUrls"].removeprefix("List(").removesuffix(")")
    assert httpx.get(url, timeout=5).status_code == 200
    time.sleep(0.3)
    expired = httpx.get(url, timeout=5)
    assert (expired.status_code, expired.text) == (403, "expired")


def test_a_place_arrives_as_the_location_entity(kakao_sim, skill) -> None:
    kakao_sim.citizen_location(BOT_ID, "u1", "순천시 조례동 1234-5")
    payload = skill.payloads[-1]
    documented = load("skill_request_detail_params.json")
    del documented["action"]["params"]["sys_date"]  # only the place was said here
    del documented["action"]["detailParams"]["sys_date"]
    documented["action"]["clientExtra"] = {}
    same_shape(payload, documented)
    assert payload["action"]["detailParams"]["sys_location"] == {
        "origin": "순천시 조례동 1234-5",
        "value": "순천시 조례동 1234-5",
        "groupName": "",
    }


# -- the AI chatbot callback ------------------------------------------------------------------


def answer_later(skill: SkillServer, body: object, *, after: float = 0.1) -> list[httpx.Response]:
    """The skill says "wait", then posts ``body`` to the callbackUrl from another thread."""
    posted: list[httpx.Response] = []

    def later(url: str) -> None:
        time.sleep(after)
        posted.append(httpx.post(url, json=body, timeout=5))

    def answer(payload: dict) -> dict:
        threading.Thread(target=later, args=(payload["userRequest"]["callbackUrl"],)).start()
        return load("skill_response_callback.json")

    skill.answer = answer
    return posted


def wait_for(condition, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_callback_answer_is_shown_when_it_arrives(kakao_sim, skill) -> None:
    kakao_sim.bots[BOT_ID].callback = True
    posted = answer_later(skill, text_answer("요약: 2건 처리 완료", MENU))
    entry = kakao_sim.citizen_message(BOT_ID, "u1", "작년 민원 요약해 주세요")
    assert skill.payloads[-1]["userRequest"]["callbackUrl"].startswith(
        f"{kakao_sim.hub.base_url}/kakao/callback/"
    )
    assert (entry["ok"], entry["answer"]) == (True, ["답변을 찾고 있어요. 잠시만 기다려 주세요."])
    wait_for(lambda: posted)
    assert posted[0].status_code == 200
    same_shape(posted[0].json(), load("callback_answer.json"))
    assert posted[0].json()["status"] == "SUCCESS"
    chat = kakao_sim.bots[BOT_ID].conversations["u1"]
    assert [(m["from"], m["kind"], m["text"]) for m in chat] == [
        ("user", "message", "작년 민원 요약해 주세요"),
        ("bot", "callback_wait", "답변을 찾고 있어요. 잠시만 기다려 주세요."),
        ("bot", "answer", "요약: 2건 처리 완료"),
    ]
    assert chat[-1]["answer"]["quick_replies"] == ["민원 접수", "처리 현황"]
    # Once only.
    again = httpx.post(posted[0].request.url, json=text_answer("또"), timeout=5)
    assert (again.status_code, again.json()["status"]) == (400, "FAIL")
    assert again.json()["message"] == "this callback url was already used"
    assert len(chat) == 3


def test_a_late_or_broken_callback_is_refused(kakao_sim, skill) -> None:
    kakao_sim.bots[BOT_ID].callback = True
    kakao_sim.callback_ttl = 0.2
    posted = answer_later(skill, text_answer("늦은 답"), after=0.4)
    kakao_sim.citizen_message(BOT_ID, "u1", "느린 질문")
    wait_for(lambda: posted)
    assert (posted[0].status_code, posted[0].json()["message"]) == (
        400,
        "this callback url has expired",
    )
    kakao_sim.callback_ttl = 60
    posted = answer_later(skill, {"version": "2.0", "template": {"outputs": []}})
    kakao_sim.citizen_message(BOT_ID, "u1", "또 느린 질문")
    wait_for(lambda: posted)
    assert posted[0].status_code == 400
    assert posted[0].json()["message"].startswith("invalid skill response: template.outputs")
    # A broken answer does not use the URL up: a good one may still follow.
    fixed = httpx.post(posted[0].request.url, json=text_answer("고친 답"), timeout=5)
    assert fixed.json()["status"] == "SUCCESS"
    assert kakao_sim.bots[BOT_ID].conversations["u1"][-1]["text"] == "고친 답"
    unknown = httpx.post(f"{kakao_sim.hub.base_url}/kakao/callback/nope", json={}, timeout=5)
    assert unknown.status_code == 404


def test_use_callback_without_a_callback_url_is_an_error(kakao_sim, skill) -> None:
    skill.answer = lambda payload: load("skill_response_callback.json")
    entry = kakao_sim.citizen_message(BOT_ID, "u1", "질문")
    assert "callbackUrl" not in skill.payloads[-1]["userRequest"]
    assert (entry["ok"], entry["reason"]) == (False, "callback_not_enabled")


# -- friends ------------------------------------------------------------------------------------


@pytest.fixture
def friends_hook():
    received: list[tuple[dict, str]] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            received.append((body, self.headers["Authorization"]))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/hooks/kakao-friends/s/", received
    server.shutdown()
    server.server_close()


def test_friends_added_and_blocked_are_called_back(kakao_sim, skill, friends_hook) -> None:
    url, received = friends_hook
    kakao_sim.set_relationship_url(BOT_ID, url, "admin-key-1")
    done = kakao_sim.add_friend(BOT_ID, "3419384721")
    assert (done["changed"], done["status"], done["followers"]) == (True, 200, 11)
    assert kakao_sim.add_friend(BOT_ID, "3419384721")["changed"] is False
    kakao_sim.block_friend(BOT_ID, "3419384721")
    assert kakao_sim.bots[BOT_ID].followers == 10
    assert [(body["event"], body["id"]) for body, _ in received] == [
        ("added", "3419384721"),
        ("blocked", "3419384721"),
    ]
    for body, authorization in received:
        same_shape(body, load("relationship_callback.json"))
        assert authorization == "KakaoAK admin-key-1"
        assert body["id_type"] == "app_user_id"
        assert body["channel_public_id"] == kakao_sim.bots[BOT_ID].public_id
    assert [entry["status"] for entry in kakao_sim.relationship_log] == [200, 200]
    kakao_sim.citizen_message(BOT_ID, "3419384721", "다시 왔어요")
    assert skill.payloads[-1]["userRequest"]["user"]["properties"]["isFriend"] is False


# -- the Event API in the chat ----------------------------------------------------------------


def test_staff_answers_through_the_event_api_are_marked(sim, kakao_sim, skill) -> None:
    key = kakao_sim.bots[BOT_ID].rest_key
    kakao_sim.citizen_message(BOT_ID, "u1", "상담원 연결")
    with api_client(sim.platform_url("kakao"), f"KakaoAK {key}") as client:
        for data in ({"text": "담당자입니다.", "operator": "true"}, {"text": "채널 소식입니다."}):
            answer = client.post(
                f"/v2/bots/{BOT_ID}/talk",
                json={
                    "event": {"name": "sotong_reply", "data": data},
                    "user": [{"type": "botUserKey", "id": "u1"}],
                },
            )
            assert answer.json()["status"] == "SUCCESS"
    chat = kakao_sim.bots[BOT_ID].conversations["u1"]
    assert [(m["text"], m["staff"]) for m in chat[-2:]] == [
        ("담당자입니다.", True),
        ("채널 소식입니다.", False),
    ]
    page = httpx.get(f"{sim.url}/view/kakao/chat/{BOT_ID}/u1", timeout=5).text
    assert '<span class="who">상담원</span><div class="bubble"><p>담당자입니다.</p>' in page
    assert '<span class="who">채널 메시지</span><div class="bubble"><p>채널 소식입니다.</p>' in page
    comments = kakao_sim.timeline()[0]["posts"][-1]["comments"]
    assert comments[-2]["author"] == "상담원"


# -- the control API ------------------------------------------------------------------------------


def control(sim, body: dict) -> httpx.Response:
    return httpx.post(f"{sim.url}/_control/citizens/kakao", json=body, timeout=10)


def test_control_api_acts_for_one_user(sim, kakao_sim, skill, friends_hook) -> None:
    skill.answer = lambda payload: {
        "version": "2.0",
        "template": {"outputs": [CARD], "quickReplies": MENU},
    }
    said = control(sim, {"kind": "message", "user": "u9", "text": "처음으로"})
    assert (said.status_code, said.json()) == (
        201,
        {
            "acted": True,
            "answer": {
                "ok": True,
                "reason": "",
                "texts": ["대형폐기물\n신청 후 배출하세요"],
                "quick_replies": ["민원 접수", "처리 현황"],
                "buttons": ["신청하기", "전화", "수수료"],
                "problems": [],
            },
        },
    )
    tapped = control(sim, {"kind": "tap", "user": "u9", "label": "처리 현황"})
    assert tapped.json()["answer"]["ok"] is True
    assert skill.payloads[-1]["userRequest"]["utterance"] == "내 민원 처리 현황"
    opened = control(sim, {"kind": "tap", "user": "u9", "label": "신청하기"})
    assert opened.json()["answer"]["target"] == "https://www.suncheon.go.kr/"
    photo = control(sim, {"kind": "photo", "user": "u9", "bot": BOT_ID})
    assert photo.status_code == 201
    assert "secureimage" in skill.payloads[-1]["action"]["params"]
    place = control(sim, {"kind": "location", "user": "u9", "text": "연향동 3"})
    assert skill.payloads[-1]["action"]["params"] == {"sys_location": "연향동 3"}
    assert place.status_code == 201
    kakao_sim.set_relationship_url(BOT_ID, friends_hook[0], "k")
    friend = control(sim, {"kind": "friend_added", "user": "app-77"})
    assert friend.json() == {"acted": True, "status": 200, "followers": 11}
    blocked = control(sim, {"kind": "friend_blocked", "user": "app-77"})
    assert blocked.json()["followers"] == 10


def test_control_api_errors(sim, kakao_sim, skill) -> None:
    control(sim, {"kind": "message", "user": "u9", "text": "안녕"})
    cases = [
        ({"kind": "tap", "user": "u9", "label": "없음"}, 404, "no quick reply or button"),
        ({"kind": "tap", "label": "없음"}, 400, "user (the botUserKey) is required"),
        ({"kind": "dance", "user": "u9"}, 400, "kind is one of"),
        ({"kind": "message", "user": "u9"}, 400, "text is required"),
        ({"kind": "photo", "user": "u9", "count": 50}, 400, "count is 1–10 photos"),
        ({"kind": "photo", "user": "u9", "bot": "other"}, 404, "no bot 'other'"),
    ]
    for body, status, error in cases:
        answer = control(sim, body)
        assert answer.status_code == status, body
        assert error in answer.json()["error"]


def test_the_crowd_shape_of_the_control_api_is_unchanged(sim, kakao_sim, skill) -> None:
    said = control(sim, {"kind": "message", "text": "음식물 쓰레기 배출 요일이 궁금해요"})
    assert (said.status_code, said.json()) == (201, {"acted": True})
    assert skill.payloads[-1]["userRequest"]["utterance"] == "음식물 쓰레기 배출 요일이 궁금해요"


# -- the browser client -------------------------------------------------------------------------


def chat_form(sim, user: str, **fields: str) -> httpx.Response:
    return httpx.post(
        f"{sim.url}/_control/citizens/kakao/chat/{BOT_ID}/{user}",
        data=fields,
        timeout=10,
        follow_redirects=False,
    )


def test_the_chat_page_is_a_kakaotalk_client(sim, kakao_sim, skill) -> None:
    skill.answer = lambda payload: {
        "version": "2.0",
        "template": {
            "outputs": [{"simpleText": {"text": "무엇을 도와드릴까요?"}}, CARD],
            "quickReplies": MENU,
        },
    }
    empty = httpx.get(f"{sim.url}/view/kakao/chat/{BOT_ID}/u5", timeout=5)
    assert empty.status_code == 200
    assert "아직 대화가 없습니다" in empty.text
    sent = chat_form(sim, "u5", action="message", text="처음으로")
    assert (sent.status_code, sent.headers["location"]) == (303, f"/view/kakao/chat/{BOT_ID}/u5")
    page = httpx.get(f"{sim.url}{sent.headers['location']}", timeout=5).text
    assert '<html lang="ko">' in page
    assert (
        '<li class="msg me"><span class="who">나</span><div class="bubble"><p>처음으로</p>' in page
    )
    assert "<p>무엇을 도와드릴까요?</p>" in page
    assert '<p class="card-title">대형폐기물</p>' in page
    assert '<h2 id="quick-title">빠른 답장</h2>' in page
    for label in ("민원 접수", "처리 현황", "신청하기", "전화", "수수료"):
        assert f'<button type="submit" name="label" value="{label}">{label}</button>' in page
    assert '<label for="chat-text">메시지</label>' in page
    assert '<button type="submit">전송</button>' in page
    assert '<button type="submit">사진 보내기</button>' in page
    # Outside images are named, not loaded: the page reaches nowhere but the simulator.
    assert "https://k.kakaocdn.net/dn/x.jpg" in page
    assert '<img src="https://k.kakaocdn.net' not in page
    chat_form(sim, "u5", action="tap", label="처리 현황")
    assert skill.payloads[-1]["userRequest"]["utterance"] == "내 민원 처리 현황"
    chat_form(sim, "u5", action="photo")
    page = httpx.get(f"{sim.url}/view/kakao/chat/{BOT_ID}/u5", timeout=5).text
    assert f'<img src="{sim.url}/kakao/dna/' in page
    assert 'alt="보낸 사진 1"' in page
    chat_form(sim, "u5", action="tap", label="신청하기")
    page = httpx.get(f"{sim.url}/view/kakao/chat/{BOT_ID}/u5", timeout=5).text
    assert 'role="status">휴대폰에서 열었습니다: https://www.suncheon.go.kr/</p>' in page
    chat_form(sim, "u5", action="tap", label="없는 버튼")
    page = httpx.get(f"{sim.url}/view/kakao/chat/{BOT_ID}/u5", timeout=5).text
    assert 'role="alert">마지막 답변에 그 버튼이 없습니다.</p>' in page
    # The note shows once.
    assert 'role="alert"' not in httpx.get(f"{sim.url}/view/kakao/chat/{BOT_ID}/u5").text


def test_the_chat_page_shows_a_refused_answer_as_an_error(sim, kakao_sim, skill) -> None:
    skill.answer = lambda payload: text_answer("a", [{"label": "x", "action": "webLink"}])
    chat_form(sim, "u6", action="message", text="안녕하세요")
    page = httpx.get(f"{sim.url}/view/kakao/chat/{BOT_ID}/u6", timeout=5).text
    assert '<li class="msg error"><span class="who">오류</span>' in page
    assert "시뮬레이터: invalid_response" in page
    assert 'role="alert">챗봇이 응답하지 못했습니다 (template.quickReplies[0].action' in page
    # A press whose request fails is an error too.
    skill.answer = lambda payload: text_answer("메뉴", MENU)
    chat_form(sim, "u6", action="message", text="처음으로")
    skill.answer = lambda payload: (500, b"{}")
    chat_form(sim, "u6", action="tap", label="처리 현황")
    page = httpx.get(f"{sim.url}/view/kakao/chat/{BOT_ID}/u6", timeout=5).text
    assert 'role="alert">챗봇이 응답하지 못했습니다 (http_500).</p>' in page


def test_the_chat_list_links_to_each_chat(sim, kakao_sim, skill) -> None:
    kakao_sim.citizen_message(BOT_ID, "u7", "안녕하세요", name="김민준")
    page = httpx.get(f"{sim.url}/view/kakao", timeout=5).text
    assert f'<a href="/view/kakao/chat/{BOT_ID}/u7">김민준 님과의 1:1 채팅 열기</a>' in page
    assert "새 카카오톡 사용자로 1:1 채팅 시작 열기" in page
    assert httpx.get(f"{sim.url}/view/kakao/chat/nobot/u7", timeout=5).status_code == 404
    assert httpx.get(f"{sim.url}/view/kakao/chat/{BOT_ID}", timeout=5).status_code == 404
    bad = chat_form(sim, "u7", action="message", text="")
    assert bad.status_code == 303
    page = httpx.get(f"{sim.url}/view/kakao/chat/{BOT_ID}/u7", timeout=5).text
    assert 'role="alert">메시지를 입력해 주세요.</p>' in page


@pytest.mark.e2e
def test_a_citizen_chats_in_the_browser_client(sim, kakao_sim, skill) -> None:
    """The chat page in chromium: type, tap, send a photo, by keyboard where it matters;
    accessible (axe-core) and reaching nothing outside the simulator."""
    from axe_playwright_python.sync_playwright import Axe
    from playwright.sync_api import expect, sync_playwright

    skill.answer = lambda payload: {
        "version": "2.0",
        "template": {
            "outputs": [
                {"simpleText": {"text": f"'{payload['userRequest']['utterance']}' 받았어요"}},
                CARD,
            ],
            "quickReplies": MENU,
        },
    }
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=shutil.which("chromium") or "/usr/bin/chromium",
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            page = browser.new_page(locale="ko-KR")
            outside: list[str] = []
            page.on(
                "request",
                lambda request: (
                    None
                    if request.url.startswith((sim.url, "data:"))
                    else outside.append(request.url)
                ),
            )
            page.goto(f"{sim.url}/view/kakao")
            page.get_by_role("link", name="새 카카오톡 사용자로 1:1 채팅 시작 열기").click()
            expect(
                page.get_by_role("heading", name="순천시 카카오톡 채널", level=1)
            ).to_be_visible()
            page.get_by_label("메시지").fill("처음으로")
            page.keyboard.press("Enter")
            expect(page.get_by_text("'처음으로' 받았어요")).to_be_visible()
            quick = page.get_by_role("region", name="빠른 답장")
            quick.get_by_role("button", name="처리 현황").click()
            expect(page.get_by_text("'내 민원 처리 현황' 받았어요")).to_be_visible()
            page.get_by_role("button", name="사진 보내기").click()
            photo = page.get_by_role("img", name="보낸 사진 1")
            expect(photo).to_be_visible()
            assert photo.evaluate("image => image.naturalWidth") == 320
            expect(page.get_by_text("'사진 전송' 받았어요")).to_be_visible()
            page.get_by_label("위치(주소)").fill("순천시 조례동 1234-5")
            page.get_by_role("button", name="위치 보내기").click()
            expect(page.get_by_text("'순천시 조례동 1234-5' 받았어요")).to_be_visible()
            violations = Axe().run(page).response["violations"]
            assert violations == [], violations
            assert outside == []
        finally:
            browser.close()
