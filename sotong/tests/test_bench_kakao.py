"""A fast smoke of the KakaoTalk skill benchmark's request generator and answer check (the
load run itself is `python -m bench kakao_skill`)."""

from __future__ import annotations

import json
from collections import defaultdict
from importlib import resources
from pathlib import Path

import pytest

from bench import kakao_skill
from sotong.platforms.base import Credentials, WebhookRejected, WebhookRequest
from sotong.platforms.kakao import SKILL_SECRET_HEADER, KakaoChannel
from sotong.simulator.kakao import skill_answer_texts
from sotong.simulator.testing import UNREACHABLE, make_connector


def _fixture(name: str) -> bytes:
    return resources.files("sotong.platforms").joinpath(f"fixtures/kakao/{name}").read_bytes()


def test_requests_have_the_fixture_shape_and_the_demo_bot() -> None:
    fixture = json.loads(_fixture("skill_request.json"))
    payload = kakao_skill.skill_request(kakao_skill.user_key(7), "쓰레기 배출 요일")
    assert payload.keys() == fixture.keys()
    assert payload["userRequest"].keys() == fixture["userRequest"].keys()
    assert payload["bot"]["id"] == kakao_skill.ACCOUNT.account_id == "64f1c2a9e0b7d31a2c5f8e01"
    assert payload["userRequest"]["utterance"] == "쓰레기 배출 요일"
    assert payload["userRequest"]["user"]["type"] == "botUserKey"
    assert payload["userRequest"]["user"]["id"] == kakao_skill.user_key(7)
    assert len(kakao_skill.user_key(7)) == 64
    assert kakao_skill.user_key(7) != kakao_skill.user_key(7, "warm-up")
    # The generator does not change the kept fixture it copies.
    assert json.loads(_fixture("skill_request.json")) == fixture


def test_the_connector_takes_a_generated_request_with_the_benchmarks_secret(
    tmp_path: Path,
) -> None:
    """What wrk sends (body and skill secret header) passes the skill endpoint's check and
    parses as one message from the citizen."""
    body = json.dumps(
        kakao_skill.skill_request(kakao_skill.user_key(3), "처음으로"), ensure_ascii=False
    ).encode()
    secret = kakao_skill.ACCOUNT.extra["skill_secret"]
    connector = make_connector(
        KakaoChannel,
        UNREACHABLE,
        kakao_skill.ACCOUNT.account_id,
        Credentials(extra={"skill_secret": secret}),
    )
    try:
        request = WebhookRequest("POST", {SKILL_SECRET_HEADER.lower(): secret}, {}, body)
        connector.verify_webhook(request)
        items = connector.parse_webhook(request)
        with pytest.raises(WebhookRejected):
            connector.verify_webhook(WebhookRequest("POST", {}, {}, body))
    finally:
        connector.close()
    assert [(item.text, item.author_id) for item in items] == [
        ("처음으로", kakao_skill.user_key(3))
    ]
    assert (
        f'["{SKILL_SECRET_HEADER}"] = "{secret}"'
        in kakao_skill.lua_script(tmp_path, "t", [body], tmp_path / "stats.json").read_text()
    )


def test_bodies_keep_each_conversation_in_order_on_one_wrk_thread() -> None:
    users = 40
    bodies, mix = kakao_skill.request_bodies(users)
    assert len(bodies) == users * kakao_skill.TURNS
    assert all(b"\n" not in body for body in bodies)
    questions = kakao_skill.faq_questions()
    seen: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for index, body in enumerate(bodies):
        request = json.loads(body)["userRequest"]
        seen[request["user"]["id"]].append((index % kakao_skill.THREADS, request["utterance"]))
    assert len(seen) == users
    for number in range(users):
        sent = seen[kakao_skill.user_key(number)]
        assert len({thread for thread, _ in sent}) == 1
        assert [text for _, text in sent] == [
            text for _, text in kakao_skill.conversation(number, questions)
        ]
    # Mostly menu, quick replies and FAQ questions; a few complaints.
    assert set(mix) == {"menu", "faq", "quick_reply", "complaint"}
    assert mix["complaint"] == users // kakao_skill.COMPLAINT_EVERY
    assert mix["faq"] > mix["complaint"] * 4
    with pytest.raises(ValueError, match="multiple"):
        kakao_skill.request_bodies(kakao_skill.THREADS + 1)


def test_faq_turns_ask_questions_the_demo_faq_answers() -> None:
    questions = kakao_skill.faq_questions()
    assert len(questions) >= 15
    assert "생활쓰레기 배출 요일이 언제인가요?" in questions
    asked = {
        text
        for number in range(200)
        for kind, text in kakao_skill.conversation(number, questions)
        if kind == "faq"
    }
    assert asked <= set(questions)
    assert len(asked) > len(questions) // 2
    complaints = {
        text
        for number in range(200)
        for kind, text in kakao_skill.conversation(number, questions)
        if kind == "complaint"
    }
    assert complaints <= set(kakao_skill.COMPLAINTS)


def test_the_answer_check_agrees_with_the_simulated_kakao() -> None:
    def answer(outputs: int = 1, replies: int = 0, text: str = "안내") -> bytes:
        return json.dumps(
            {
                "version": "2.0",
                "template": {
                    "outputs": [{"simpleText": {"text": text}}] * outputs,
                    "quickReplies": [
                        {"label": "처음으로", "action": "message", "messageText": "처음으로"}
                    ]
                    * replies,
                },
            }
        ).encode()

    check = kakao_skill.check_skill_response
    assert check(200, _fixture("skill_response.json")) == ""
    assert check(200, answer(outputs=3, replies=10)) == ""
    bad = {
        "version": (200, answer().replace(b'"2.0"', b'"1.0"')),
        "no outputs": (200, answer(outputs=0)),
        "four outputs": (200, answer(outputs=4)),
        "eleven replies": (200, answer(replies=11)),
        "empty text": (200, answer(text="")),
        "long text": (200, answer(text="가" * 1001)),
        "not json": (200, b"<html>"),
    }
    for name, (status, content) in bad.items():
        assert check(status, content), name
        assert skill_answer_texts(content) is None, name
    assert check(503, answer()) == "HTTP 503"
