"""The simulated Graph API answers in the documented shapes (shared/docs/platform-apis.md §3
and the docs' samples in sotong/platforms/fixtures/facebook/)."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from sotong.simulator.core import Fault, FaultKind
from sotong.simulator.testing import same_shape

FIXTURES = Path(__file__).resolve().parents[2] / "platforms" / "fixtures" / "facebook"
PAGE_ID = "104220000000001"


@pytest.fixture
def graph(sim):
    token = sim.simulator["facebook"].add_page(PAGE_ID, "순천시")
    client = httpx.Client(
        base_url=sim.platform_url("facebook") + "/v25.0",
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    )
    yield client
    client.close()


def load(name: str) -> object:
    return json.loads((FIXTURES / name).read_text())


def test_feed_post_and_listing_shapes(graph) -> None:
    created = graph.post(f"/{PAGE_ID}/feed", data={"message": "국화 전시"}).json()
    assert set(created) == {"id"}
    assert created["id"].startswith(PAGE_ID + "_")
    listing = graph.get(
        f"/{PAGE_ID}/posts",
        params={
            "fields": "id,message,created_time,permalink_url,reactions.summary(total_count).limit(0),"
            "comments.summary(total_count).limit(0)"
        },
    ).json()
    documented = load("page_posts.json")
    documented["paging"].pop("next")  # only present when there is a next page
    same_shape(listing, documented)


def test_photo_answer_has_id_and_post_id(graph) -> None:
    answer = graph.post(
        f"/{PAGE_ID}/photos", data={"url": "https://img.example/a.jpg", "message": "x"}
    ).json()
    assert set(answer) == {"id", "post_id"}


def test_insights_shape_and_unknown_metric(graph) -> None:
    post_id = graph.post(f"/{PAGE_ID}/feed", data={"message": "지표"}).json()["id"]
    insights = graph.get(
        f"/{post_id}/insights", params={"metric": "post_media_view", "period": "lifetime"}
    )
    same_shape(insights.json(), load("post_insights.json"))
    assert insights.json()["data"][0]["id"] == f"{post_id}/insights/post_media_view/lifetime"
    retired = graph.get(f"/{post_id}/insights", params={"metric": "post_impressions"})
    assert retired.status_code == 400
    assert retired.json()["error"]["code"] == 100


@pytest.mark.parametrize(
    ("kind", "sample", "status"),
    [
        (FaultKind.TOKEN_EXPIRED, "error_token_expired.json", 400),
        (FaultKind.RATE_LIMITED, "error_page_rate_limit.json", 400),
    ],
)
def test_error_bodies(sim, graph, kind, sample, status) -> None:
    sim.simulator.inject("facebook", Fault(kind))
    response = graph.get("/me")
    assert response.status_code == status
    same_shape(response.json(), load(sample))
    assert response.json()["error"]["code"] == load(sample)["error"]["code"]


def test_duplicate_error_body(graph) -> None:
    graph.post(f"/{PAGE_ID}/feed", data={"message": "중복"})
    again = graph.post(f"/{PAGE_ID}/feed", data={"message": "중복"})
    same_shape(again.json(), load("error_duplicate.json"))
    assert again.json()["error"]["code"] == 506


def test_usage_header_is_json_percentages(graph) -> None:
    usage = json.loads(graph.get("/me").headers["x-app-usage"])
    assert set(usage) == {"call_count", "total_cputime", "total_time"}
    assert all(isinstance(value, int) for value in usage.values())


def test_unknown_object_and_missing_token(sim, graph) -> None:
    missing = graph.get("/123_456")
    assert missing.json()["error"]["code"] == 100
    assert missing.json()["error"]["error_subcode"] == 33
    anonymous = httpx.get(sim.platform_url("facebook") + "/v25.0/me", timeout=5)
    assert anonymous.status_code == 400
    assert "error" in anonymous.json()


def test_webhook_handshake_and_oauth_flow(sim) -> None:
    facebook = sim.simulator["facebook"]
    facebook.add_page(PAGE_ID, "순천시")
    base = sim.platform_url("facebook") + "/v25.0"
    dialog = httpx.get(
        base + "/dialog/oauth",
        params={
            "client_id": facebook.app_id,
            "redirect_uri": "http://127.0.0.1/cb",
            "state": "s1",
            "scope": "pages_show_list,pages_manage_posts",
        },
        timeout=5,
    )
    assert dialog.status_code == 200
    code = dialog.text.split("code=")[1].split("&")[0]
    token = httpx.get(
        base + "/oauth/access_token",
        params={
            "client_id": facebook.app_id,
            "client_secret": facebook.app_secret,
            "code": code,
            "redirect_uri": "http://127.0.0.1/cb",
        },
        timeout=5,
    ).json()
    assert set(token) == {"access_token", "token_type", "expires_in"}
    pages = httpx.get(
        base + "/me/accounts",
        headers={"Authorization": f"Bearer {token['access_token']}"},
        timeout=5,
    ).json()
    assert pages["data"][0]["id"] == PAGE_ID
    assert pages["data"][0]["access_token"]
