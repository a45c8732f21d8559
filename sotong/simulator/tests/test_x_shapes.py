"""The simulated X API answers in the documented shapes (shared/docs/platform-apis.md §5 and
the docs' samples in sotong/platforms/fixtures/x/)."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from sotong.simulator import x as simulated_x
from sotong.simulator.core import Fault, FaultKind
from sotong.simulator.testing import api_client, same_shape

FIXTURES = Path(__file__).resolve().parents[2] / "platforms" / "fixtures" / "x"
USER_ID = "1587000000000000001"
CITIZEN = "2244994945"


@pytest.fixture
def platform(sim):
    return sim.simulator["x"]


@pytest.fixture
def api(sim, platform):
    token = platform.add_user(USER_ID, "순천시", "suncheon_city")
    client = api_client(sim.platform_url("x"), f"Bearer {token}")
    yield client
    client.close()


def load(name: str) -> object:
    return json.loads((FIXTURES / name).read_text())


def test_create_list_and_metrics_shapes(api, platform) -> None:
    created = api.post("/2/tweets", json={"text": "국화 전시 https://scgardens.or.kr"})
    assert created.status_code == 201
    same_shape(created.json(), load("tweet_create.json"))
    assert set(created.json()["data"]) == {"id", "text"}
    tweet_id = created.json()["data"]["id"]
    platform.citizen_reply(tweet_id, CITIZEN, "김시민", "주차장은요?")
    listing = api.get(
        f"/2/users/{USER_ID}/tweets",
        params={
            "max_results": 5,
            "exclude": "replies,retweets",
            "tweet.fields": "created_at,public_metrics,conversation_id",
        },
    )
    same_shape(listing.json(), load("user_tweets.json"))
    assert listing.json()["data"][0]["public_metrics"]["reply_count"] == 1
    metrics = api.get(
        f"/2/tweets/{tweet_id}", params={"tweet.fields": "public_metrics,non_public_metrics"}
    )
    same_shape(metrics.json(), load("tweet_metrics.json"))


def test_mentions_dm_and_media_shapes(api, platform) -> None:
    post = api.post("/2/tweets", json={"text": "셔틀버스 안내"}).json()["data"]["id"]
    platform.citizen_reply(post, CITIZEN, "김시민", "어디서 타나요?")
    mentions = api.get(
        f"/2/users/{USER_ID}/mentions",
        params={
            "tweet.fields": "created_at,author_id,conversation_id,in_reply_to_user_id,referenced_tweets",
            "expansions": "author_id",
        },
    )
    same_shape(mentions.json(), load("mentions.json"))
    platform.citizen_dm(USER_ID, CITIZEN, "김시민", "문의드립니다")
    events = api.get(
        "/2/dm_events",
        params={
            "event_types": "MessageCreate",
            "dm_event.fields": "id,text,sender_id,dm_conversation_id,created_at,event_type",
            "expansions": "sender_id",
        },
    )
    same_shape(events.json(), load("dm_events.json"))
    sent = api.post(f"/2/dm_conversations/with/{CITIZEN}/messages", json={"text": "답변입니다"})
    assert sent.status_code == 201
    same_shape(sent.json(), load("dm_send.json"))
    media = api.post(
        "/2/media/upload",
        files={"media": ("a.png", b"\x89PNG\r\n\x1a\n" + b"0" * 10, "image/png")},
        data={"media_category": "tweet_image"},
    )
    same_shape(media.json(), load("media_upload.json"))


def test_mentions_and_dm_events_page_with_next_token(api, platform) -> None:
    tweets = [platform.citizen_mention(USER_ID, CITIZEN, "김시민", f"문의 {n}") for n in range(7)]
    ids = [t["id"] for t in reversed(tweets)]  # newest first
    first = api.get(f"/2/users/{USER_ID}/mentions", params={"max_results": 5}).json()
    assert [t["id"] for t in first["data"]] == ids[:5]
    token = first["meta"]["next_token"]
    second = api.get(
        f"/2/users/{USER_ID}/mentions", params={"max_results": 5, "pagination_token": token}
    ).json()
    assert [t["id"] for t in second["data"]] == ids[5:]
    assert "next_token" not in second["meta"]
    # since_id bounds every page.
    bounded = api.get(
        f"/2/users/{USER_ID}/mentions",
        params={"max_results": 5, "since_id": ids[3], "pagination_token": token},
    ).json()
    assert bounded["meta"] == {"result_count": 0}
    bad = api.get(f"/2/users/{USER_ID}/mentions", params={"pagination_token": "nonsense!"})
    assert bad.status_code == 400
    events = [platform.citizen_dm(USER_ID, CITIZEN, "김시민", f"메시지 {n}") for n in range(3)]
    page = api.get("/2/dm_events", params={"max_results": 2}).json()
    assert [e["id"] for e in page["data"]] == [events[2]["id"], events[1]["id"]]
    rest = api.get(
        "/2/dm_events", params={"max_results": 2, "pagination_token": page["meta"]["next_token"]}
    ).json()
    assert [e["id"] for e in rest["data"]] == [events[0]["id"]]
    assert "next_token" not in rest["meta"]


def test_rate_limit_headers_on_every_answer(api, platform) -> None:
    platform.rate_limits["GET /2/users/me"] = 2
    first = api.get("/2/users/me")
    assert first.headers["x-rate-limit-limit"] == "2"
    assert first.headers["x-rate-limit-remaining"] == "1"
    assert int(first.headers["x-rate-limit-reset"]) > 1_700_000_000
    api.get("/2/users/me")
    refused = api.get("/2/users/me")
    assert refused.status_code == 429
    assert refused.headers["x-rate-limit-remaining"] == "0"
    assert "retry-after" not in refused.headers
    same_shape(refused.json(), load("error_rate_limit.json"))


@pytest.mark.parametrize(
    ("kind", "sample", "status"),
    [
        (FaultKind.TOKEN_EXPIRED, "error_unauthorized.json", 401),
        (FaultKind.TOKEN_REVOKED, "error_unauthorized.json", 401),
        (FaultKind.RATE_LIMITED, "error_rate_limit.json", 429),
    ],
)
def test_fault_bodies(sim, api, kind, sample, status) -> None:
    sim.simulator.inject("x", Fault(kind))
    answer = api.get("/2/users/me")
    assert answer.status_code == status
    assert answer.json() == load(sample)


def test_duplicate_overlong_and_missing(api, sim) -> None:
    api.post("/2/tweets", json={"text": "중복"})
    again = api.post("/2/tweets", json={"text": "중복"})
    assert again.status_code == 403
    assert again.json() == load("error_duplicate.json")
    long = api.post("/2/tweets", json={"text": "가" * 141})
    assert long.status_code == 400
    same_shape(long.json(), load("error_invalid_request.json"))
    exactly = api.post("/2/tweets", json={"text": "나" * 140})
    assert exactly.status_code == 201
    missing = api.get("/2/tweets/1990000000000999999")
    assert missing.status_code == 200
    assert missing.json()["errors"][0]["type"].endswith("/problems/resource-not-found")
    anonymous = httpx.get(sim.platform_url("x") + "/2/users/me", timeout=5)
    assert anonymous.status_code == 401


def test_oauth_token_endpoint_shapes(sim, platform) -> None:
    platform.add_user(USER_ID, "순천시")
    refresh = "refresh-shape"
    platform.refresh_tokens[refresh] = simulated_x.Token(USER_ID, simulated_x.ALL_SCOPES, None)
    client_auth = simulated_x.OAUTH_APP
    answer = httpx.post(
        sim.platform_url("x") + "/2/oauth2/token",
        data={"grant_type": "refresh_token", "refresh_token": refresh},
        auth=client_auth,
        timeout=5,
    )
    same_shape(answer.json(), load("token.json"))
    assert answer.json()["expires_in"] == 7200
    reused = httpx.post(
        sim.platform_url("x") + "/2/oauth2/token",
        data={"grant_type": "refresh_token", "refresh_token": refresh},
        auth=client_auth,
        timeout=5,
    )
    assert reused.status_code == 400
    assert reused.json() == load("error_refresh_refused.json")
    no_client = httpx.post(
        sim.platform_url("x") + "/2/oauth2/token",
        data={"grant_type": "refresh_token", "refresh_token": "x"},
        timeout=5,
    )
    assert no_client.status_code == 401


def test_webhook_payload_shapes(sim, platform) -> None:
    deliveries: list[object] = []
    platform.add_user(USER_ID, "순천시", "suncheon_city")
    post = platform.add_tweet(USER_ID, "공지")
    sim.simulator.deliver_webhook = lambda _p, _a, payload, **_k: deliveries.append(payload)  # type: ignore[method-assign]
    try:
        platform.citizen_reply(post["id"], CITIZEN, "김시민", "질문")
        platform.citizen_dm(USER_ID, CITIZEN, "김시민", "문의")
    finally:
        del sim.simulator.deliver_webhook
    tweet_event, dm_event = deliveries
    documented = load("webhook_tweet_create.json")
    assert isinstance(documented, dict)
    documented["tweet_create_events"] = documented["tweet_create_events"][:1]
    same_shape(tweet_event, documented)
    same_shape(dm_event, load("webhook_dm.json"))
