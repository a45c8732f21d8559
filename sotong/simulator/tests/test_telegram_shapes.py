"""The simulated Telegram Bot API answers in the documented shapes (shared/docs/platform-apis.md
§8 and the samples in sotong/platforms/fixtures/telegram/)."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from sotong.simulator.core import Fault, FaultKind
from sotong.simulator.testing import api_client, same_shape

FIXTURES = Path(__file__).resolve().parents[2] / "platforms" / "fixtures" / "telegram"


def load(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


@pytest.fixture
def tg(sim):
    return sim.simulator["telegram"]


@pytest.fixture
def token(tg):
    token = tg.add_bot("suncheon_city_bot")
    tg.add_channel("@suncheon_city", "순천시", admin_token=token, members=10)
    return token


@pytest.fixture
def api(sim, token):
    client = api_client(f"{sim.platform_url('telegram')}/bot{token}")
    yield client
    client.close()


def test_send_message_shape(api) -> None:
    answer = api.post("/sendMessage", json={"chat_id": "@suncheon_city", "text": "안내"})
    same_shape(answer.json(), load("send_message.json"))
    assert answer.json()["result"]["chat"]["type"] == "channel"


def test_form_and_query_parameters_work_too(api) -> None:
    form = api.post("/sendMessage", data={"chat_id": "@suncheon_city", "text": "폼"})
    query = api.get("/sendMessage", params={"chat_id": "@suncheon_city", "text": "쿼리"})
    assert form.json()["result"]["message_id"] + 1 == query.json()["result"]["message_id"]


def test_get_updates_shape_and_offset(api, tg, token) -> None:
    tg.citizen_message(token, 5123456789, "민준", "안녕하세요")
    tg.citizen_message(token, 5123456789, "민준", "두 번째")
    updates = api.post("/getUpdates", json={}).json()
    same_shape(updates, load("get_updates.json"))
    first, second = updates["result"]
    assert second["update_id"] == first["update_id"] + 1
    after = api.post("/getUpdates", json={"offset": second["update_id"]}).json()["result"]
    assert [u["update_id"] for u in after] == [second["update_id"]]


def test_webhook_set_disables_get_updates(api) -> None:
    bad = api.post(
        "/setWebhook", json={"url": "https://example.org/h", "secret_token": "no spaces!"}
    )
    assert bad.status_code == 400
    assert api.post(
        "/setWebhook", json={"url": "https://example.org/h", "secret_token": "ok_1"}
    ).json() == {
        "ok": True,
        "result": True,
        "description": "Webhook was set",
    }
    conflict = api.post("/getUpdates")
    assert conflict.status_code == 409
    same_shape(conflict.json(), load("error_conflict.json"))
    assert api.post("/getWebhookInfo").json()["result"]["url"] == "https://example.org/h"
    api.post("/deleteWebhook")
    assert api.post("/getUpdates").json()["ok"] is True


@pytest.mark.parametrize(
    ("kind", "sample", "status"),
    [
        (FaultKind.RATE_LIMITED, "error_rate_limited.json", 429),
        (FaultKind.TOKEN_REVOKED, "error_unauthorized.json", 401),
        (FaultKind.SERVER_ERROR, "error_unauthorized.json", 500),
    ],
)
def test_error_bodies(sim, api, kind, sample, status) -> None:
    sim.simulator.inject("telegram", Fault(kind))
    answer = api.post("/getMe")
    assert answer.status_code == status
    same_shape(answer.json(), load(sample))
    assert answer.json()["error_code"] == status


def test_too_long_and_unknowns(sim, api) -> None:
    long = api.post("/sendMessage", json={"chat_id": "@suncheon_city", "text": "가" * 4097})
    assert long.json() == load("error_bad_request.json")
    assert api.post("/noSuchMethod").json() == {
        "ok": False,
        "error_code": 404,
        "description": "Not Found",
    }
    wrong = httpx.post(f"{sim.platform_url('telegram')}/bot123:nope/getMe", timeout=5)
    assert wrong.json() == load("error_unauthorized.json")
    missing = api.post("/getChat", json={"chat_id": "@nowhere"})
    assert missing.json()["description"] == "Bad Request: chat not found"


def test_chat_member_and_count(api, tg, token) -> None:
    me = api.post("/getMe").json()["result"]
    member = api.post("/getChatMember", json={"chat_id": "@suncheon_city", "user_id": me["id"]})
    assert member.json()["result"]["status"] == "administrator"
    assert member.json()["result"]["can_post_messages"] is True
    assert (
        api.post("/getChatMemberCount", json={"chat_id": "@suncheon_city"}).json()["result"] == 10
    )


def test_media_group_and_photo_shapes(api) -> None:
    photo = api.post(
        "/sendPhoto",
        json={"chat_id": "@suncheon_city", "photo": "https://img.example/1.jpg", "caption": "c"},
    ).json()["result"]
    assert isinstance(photo["photo"], list)
    assert {"file_id", "file_unique_id", "width", "height"} <= set(photo["photo"][0])
    group = api.post(
        "/sendMediaGroup",
        json={
            "chat_id": "@suncheon_city",
            "media": [
                {"type": "photo", "media": "https://img.example/a.jpg"},
                {"type": "photo", "media": "https://img.example/b.jpg"},
            ],
        },
    ).json()["result"]
    assert len(group) == 2
    assert group[0]["media_group_id"] == group[1]["media_group_id"]
