"""The simulator's machinery: control API, faults, latency, the request log, the web view,
and the synthetic citizens."""

from __future__ import annotations

import time

import httpx

from sotong.simulator import citizens, demo_world
from sotong.simulator.core import Fault, FaultKind, RunningSimulator, Simulator

PAGE_ID = "104220000000001"


def test_control_api_injects_faults_and_lists_requests(sim) -> None:
    token = sim.simulator["facebook"].add_page(PAGE_ID, "순천시")
    headers = {"Authorization": f"Bearer {token}"}
    me = f"{sim.url}/facebook/v25.0/me"
    created = httpx.post(
        f"{sim.url}/_control/faults/facebook", json={"kind": "server_error", "count": 2}
    )
    assert created.status_code == 201
    assert [httpx.get(me, headers=headers).status_code for _ in range(3)] == [500, 500, 200]
    log = httpx.get(f"{sim.url}/_control/requests", params={"platform": "facebook"}).json()
    assert [entry["status"] for entry in log][-3:] == [500, 500, 200]
    assert (
        httpx.post(f"{sim.url}/_control/faults/facebook", json={"kind": "nonsense"}).status_code
        == 400
    )
    assert (
        httpx.post(f"{sim.url}/_control/faults/nowhere", json={"kind": "timeout"}).status_code
        == 404
    )
    state = httpx.get(f"{sim.url}/_control/state").json()
    assert "facebook" in state["platforms"]


def test_probabilistic_faults_and_latency(sim) -> None:
    token = sim.simulator["facebook"].add_page(PAGE_ID, "순천시")
    headers = {"Authorization": f"Bearer {token}"}
    sim.simulator.inject("facebook", Fault(FaultKind.SERVER_ERROR, count=None, probability=0.5))
    statuses = [
        httpx.get(f"{sim.url}/facebook/v25.0/me", headers=headers).status_code for _ in range(40)
    ]
    assert 5 < statuses.count(500) < 35
    sim.simulator.clear_faults("facebook")
    httpx.post(f"{sim.url}/_control/latency/facebook", json={"low": 0.2, "high": 0.2})
    started = time.monotonic()
    httpx.get(f"{sim.url}/facebook/v25.0/me", headers=headers)
    assert time.monotonic() - started >= 0.2


def test_unknown_platform_and_web_view(sim) -> None:
    assert httpx.get(f"{sim.url}/myspace/api").status_code == 404
    sim.simulator["facebook"].add_page(PAGE_ID, "순천시")
    view = httpx.get(f"{sim.url}/view/facebook")
    assert view.status_code == 200
    assert 'lang="ko"' in view.text
    assert "순천시" in view.text
    assert httpx.get(f"{sim.url}/view/nowhere").status_code == 404


def test_citizens_comment_with_personal_data_and_write_privately() -> None:
    from sotong.simulator import facebook as simulated_facebook

    running = RunningSimulator(Simulator(seed=3, platforms=[simulated_facebook.Platform])).start()
    try:
        simulator = running.simulator
        demo_world.populate(simulator, sotong_url="http://127.0.0.1:1")
        simulator.webhook_targets.clear()  # nobody is listening in this test
        facebook = simulator["facebook"]
        post = facebook.add_post(PAGE_ID, "순천만국가정원 국화 전시가 한창입니다")
        notice = facebook.add_post(PAGE_ID, "하수관로 공사로 도로를 통제합니다")
        crowd = citizens.Crowd(simulator, per_minute=60, seed=11, message_share=0.3)
        for _ in range(60):
            assert crowd.act()
        comments = [
            obj["message"] for obj in facebook.objects.values() if obj.get("kind") == "comment"
        ]
        messages = [
            m for page in facebook.pages.values() for c in page.conversations.values() for m in c
        ]
        assert len(comments) + len(messages) == 60
        assert messages
        # Scenery draws more comments on Facebook than a works notice does.
        assert len(post["comments"]) > len(notice["comments"])
        assert any("010-" in text for text in comments + [m["message"] for m in messages])
    finally:
        running.stop()


def test_comment_generator_is_seeded() -> None:
    import random

    first = [citizens.comment_for("국화 축제", random.Random(5)).text for _ in range(1)]
    again = [citizens.comment_for("국화 축제", random.Random(5)).text for _ in range(1)]
    assert first == again
    categories = {
        citizens.comment_for("도로 공사 안내", random.Random(n)).category for n in range(200)
    }
    assert {"question", "report", "praise", "spam"} <= categories


def test_control_api_makes_a_citizen_act_now(sim) -> None:
    facebook = sim.simulator["facebook"]
    facebook.add_page(PAGE_ID, "순천시")
    url = f"{sim.url}/_control/citizens/facebook"
    # Nothing published yet: a comment has nothing to go under.
    assert httpx.post(url, json={"kind": "comment"}).json() == {"acted": False}
    post = facebook.add_post(PAGE_ID, "순천만 갈대 축제")
    answer = httpx.post(url, json={"kind": "comment", "text": "주차장은 어디에 있나요?"})
    assert (answer.status_code, answer.json()) == (201, {"acted": True})
    assert [facebook.objects[c]["message"] for c in post["comments"]] == ["주차장은 어디에 있나요?"]
    assert httpx.post(url, json={"kind": "message"}).status_code == 201
    assert sum(len(c) for c in facebook.pages[PAGE_ID].conversations.values()) == 1
    assert httpx.post(url, json={"kind": "shout"}).status_code == 400
