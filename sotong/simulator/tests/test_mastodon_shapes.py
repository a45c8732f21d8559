"""The simulated Mastodon instance answers in the documented shapes (shared/docs/
platform-apis.md §8 and the docs' samples in sotong/platforms/fixtures/mastodon/)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import httpx
import pytest

from sotong.simulator.core import Fault, FaultKind
from sotong.simulator.testing import api_client, same_shape

FIXTURES = Path(__file__).resolve().parents[2] / "platforms" / "fixtures" / "mastodon"
ACCOUNT_ID = "109000000000000001"
CITIZEN = "2244994945"


@pytest.fixture
def instance(sim):
    return sim.simulator["mastodon"]


@pytest.fixture
def api(sim, instance):
    token = instance.add_account(ACCOUNT_ID, "순천시", "suncheon", followers=2300)
    client = api_client(sim.platform_url("mastodon"), f"Bearer {token}")
    yield client
    client.close()


def load(name: str) -> object:
    return json.loads((FIXTURES / name).read_text())


def test_status_account_and_instance_shapes(api, instance) -> None:
    created = api.post("/api/v1/statuses", data={"status": "국화 전시 https://scgardens.or.kr"})
    assert created.status_code == 200
    same_shape(created.json(), load("status.json"))
    assert created.json()["content"].startswith("<p>")
    assert 'href="https://scgardens.or.kr"' in created.json()["content"]
    same_shape(api.get("/api/v1/accounts/verify_credentials").json(), load("account.json"))
    same_shape(api.get("/api/v2/instance").json(), load("instance.json"))
    listing = api.get(f"/api/v1/accounts/{ACCOUNT_ID}/statuses", params={"limit": 20})
    same_shape(listing.json()[0], load("status.json"))
    assert 'rel="next"' in listing.headers["link"]


def test_context_notifications_and_media_shapes(api, instance) -> None:
    post = api.post("/api/v1/statuses", data={"status": "주차 안내"}).json()["id"]
    instance.citizen_reply(post, CITIZEN, "김시민", "주차장은 어디인가요?")
    instance.citizen_mention(ACCOUNT_ID, CITIZEN, "김시민", "여권 재발급은?", direct=True)
    same_shape(api.get(f"/api/v1/statuses/{post}/context").json(), load("context.json"))
    notifications = api.get("/api/v1/notifications", params={"types[]": "mention"}).json()
    same_shape(notifications, load("notifications.json"))
    assert [n["status"]["visibility"] for n in notifications] == ["direct", "public"]
    media = api.post(
        "/api/v2/media",
        files={"file": ("a.png", b"\x89PNG\r\n\x1a\n", "image/png")},
        data={"description": "국화 전시"},
    )
    same_shape(media.json(), load("media.json"))
    assert media.json()["description"] == "국화 전시"


def test_notifications_page_by_max_id_since_id_and_min_id_with_link_header(api, instance) -> None:
    for n in range(7):
        instance.citizen_mention(ACCOUNT_ID, CITIZEN, "김시민", f"문의 {n}")
    everything = [n["id"] for n in api.get("/api/v1/notifications").json()]
    assert everything == sorted(everything, key=int, reverse=True)  # newest first
    oldest = everything[-1]
    params = {"types[]": "mention", "limit": 3}
    newest_page = api.get("/api/v1/notifications", params={**params, "since_id": oldest})
    assert [n["id"] for n in newest_page.json()] == everything[:3]
    # min_id: the page immediately above it, still newest first.
    above = api.get("/api/v1/notifications", params={**params, "min_id": oldest})
    assert [n["id"] for n in above.json()] == everything[-4:-1]
    links = above.links
    assert f"min_id={everything[-4]}" in links["prev"]["url"]  # newer: from its newest
    assert f"max_id={everything[-2]}" in links["next"]["url"]  # older: below its oldest
    assert "types%5B%5D=mention" in links["prev"]["url"]
    assert "limit=3" in links["prev"]["url"]
    older = api.get("/api/v1/notifications", params={**params, "max_id": everything[0]})
    assert [n["id"] for n in older.json()] == everything[1:4]
    top = api.get("/api/v1/notifications", params={**params, "min_id": everything[0]})
    assert top.json() == []
    assert "link" not in top.headers


def test_rate_limit_headers_are_iso_8601(api, instance) -> None:
    instance.rate_limit = 2
    first = api.get("/api/v1/accounts/verify_credentials")
    assert first.headers["x-ratelimit-limit"] == "2"
    assert first.headers["x-ratelimit-remaining"] == "1"
    reset = dt.datetime.fromisoformat(first.headers["x-ratelimit-reset"].replace("Z", "+00:00"))
    assert reset > dt.datetime.now(dt.UTC)
    api.get("/api/v1/accounts/verify_credentials")
    refused = api.get("/api/v1/accounts/verify_credentials")
    assert refused.status_code == 429
    assert refused.json() == load("error_rate_limit.json")


@pytest.mark.parametrize(
    ("kind", "sample", "status"),
    [
        (FaultKind.TOKEN_REVOKED, "error_unauthorized.json", 401),
        (FaultKind.RATE_LIMITED, "error_rate_limit.json", 429),
    ],
)
def test_fault_bodies(sim, api, kind, sample, status) -> None:
    sim.simulator.inject("mastodon", Fault(kind))
    answer = api.get("/api/v1/accounts/verify_credentials")
    assert answer.status_code == status
    assert answer.json() == load(sample)


def test_validation_not_found_and_idempotency(api, sim) -> None:
    long = api.post("/api/v1/statuses", data={"status": "가" * 501})
    assert long.status_code == 422
    assert long.json() == load("error_validation.json")
    missing = api.get("/api/v1/statuses/113000000000000999")
    assert missing.status_code == 404
    assert missing.json() == load("error_not_found.json")
    first = api.post("/api/v1/statuses", data={"status": "한 번"}, headers={"Idempotency-Key": "k"})
    again = api.post("/api/v1/statuses", data={"status": "한 번"}, headers={"Idempotency-Key": "k"})
    assert first.json()["id"] == again.json()["id"]
    anonymous = httpx.get(sim.platform_url("mastodon") + "/api/v1/accounts/verify_credentials")
    assert anonymous.status_code == 401
    assert anonymous.json() == load("error_unauthorized.json")


def test_delete_returns_the_status_with_its_source(api) -> None:
    post = api.post("/api/v1/statuses", data={"status": "지울 글"}).json()["id"]
    deleted = api.delete(f"/api/v1/statuses/{post}")
    same_shape(deleted.json(), load("status.json"))
    assert deleted.json()["text"] == "지울 글"
