"""The simulated Kakao bot API answers in the documented shapes (shared/docs/platform-apis.md
§1 and the samples in sotong/platforms/fixtures/kakao/), and simulated citizens send real v2
skill requests."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

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
