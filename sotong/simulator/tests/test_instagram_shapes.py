"""The simulated Instagram API (Facebook Login) answers in the documented shapes
(shared/docs/platform-apis.md §4 and the samples in sotong/platforms/fixtures/instagram/)."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from sotong.simulator.core import Fault, FaultKind
from sotong.simulator.testing import same_shape

FIXTURES = Path(__file__).resolve().parents[2] / "platforms" / "fixtures" / "instagram"
IG_ID = "17841400000000001"
IMAGE = "https://img.suncheon.example/reeds.jpg"


@pytest.fixture
def graph(sim):
    token = sim.simulator["instagram"].add_account(IG_ID, "suncheon_city")
    client = httpx.Client(
        base_url=sim.platform_url("instagram") + "/v25.0",
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    )
    yield client
    client.close()


def load(name: str) -> object:
    return json.loads((FIXTURES / name).read_text())


def publish(graph: httpx.Client, caption: str = "갈대밭") -> str:
    container = graph.post(f"/{IG_ID}/media", data={"image_url": IMAGE, "caption": caption})
    same_shape(container.json(), load("container_created.json"))
    container_id = container.json()["id"]
    while (
        graph.get(f"/{container_id}", params={"fields": "status_code"}).json()["status_code"]
        != "FINISHED"
    ):
        pass
    published = graph.post(f"/{IG_ID}/media_publish", data={"creation_id": container_id}).json()
    same_shape(published, load("media_publish.json"))
    assert set(published) == {"id"}
    return str(published["id"])


def test_container_lifecycle(graph) -> None:
    container_id = graph.post(f"/{IG_ID}/media", data={"image_url": IMAGE}).json()["id"]
    first = graph.get(f"/{container_id}", params={"fields": "status_code,status"}).json()
    assert first["status_code"] == "IN_PROGRESS"
    early = graph.post(f"/{IG_ID}/media_publish", data={"creation_id": container_id})
    assert early.json()["error"]["code"] == 9007
    done = graph.get(f"/{container_id}", params={"fields": "status_code,status"}).json()
    same_shape(done, load("container_status.json"))
    assert done["status_code"] == "FINISHED"
    graph.post(f"/{IG_ID}/media_publish", data={"creation_id": container_id})
    again = graph.get(f"/{container_id}", params={"fields": "status_code"}).json()
    assert again["status_code"] == "PUBLISHED"


def test_publishing_limit_shape(graph) -> None:
    publish(graph)
    limit = graph.get(
        f"/{IG_ID}/content_publishing_limit", params={"fields": "quota_usage,config"}
    ).json()
    same_shape(limit, load("content_publishing_limit.json"))
    assert limit["data"][0]["quota_usage"] == 1
    assert limit["data"][0]["config"] == {"quota_total": 50, "quota_duration": 86400}


def test_media_listing_and_insights_shapes(graph) -> None:
    media_id = publish(graph)
    listing = graph.get(
        f"/{IG_ID}/media",
        params={
            "fields": "id,caption,media_type,media_url,permalink,timestamp,like_count,comments_count"
        },
    ).json()
    documented = load("media_list.json")
    assert isinstance(documented, dict)
    documented["paging"].pop("next")  # only present when there is a next page
    same_shape(listing, documented)
    insights = graph.get(f"/{media_id}/insights", params={"metric": "views,reach"})
    same_shape(insights.json(), load("media_insights.json"))
    assert [m["name"] for m in insights.json()["data"]] == ["views", "reach"]
    retired = graph.get(f"/{media_id}/insights", params={"metric": "impressions"})
    assert retired.status_code == 400
    assert retired.json()["error"]["code"] == 100


def test_comments_and_replies_shape(sim, graph) -> None:
    media_id = publish(graph)
    comment = sim.simulator["instagram"].citizen_comment(
        media_id, "1789", "kim_citizen", "주차장은 어디인가요?"
    )
    reply = graph.post(f"/{comment['id']}/replies", data={"message": "제1주차장입니다."}).json()
    assert set(reply) == {"id"}
    listing = graph.get(
        f"/{media_id}/comments",
        params={"fields": "id,text,timestamp,username,like_count,replies{id,text,username}"},
    ).json()
    same_shape(listing, load("media_comments.json"))
    assert listing["data"][0]["replies"]["data"][0]["id"] == reply["id"]
    hidden = graph.post(f"/{comment['id']}", data={"hide": "true"}).json()
    assert hidden == {"success": True}


@pytest.mark.parametrize(
    ("kind", "sample"),
    [
        (FaultKind.TOKEN_EXPIRED, "error_token_expired.json"),
        (FaultKind.RATE_LIMITED, "error_rate_limit.json"),
    ],
)
def test_error_bodies(sim, graph, kind, sample) -> None:
    sim.simulator.inject("instagram", Fault(kind))
    response = graph.get(f"/{IG_ID}")
    assert response.status_code == 400
    documented = load(sample)
    assert isinstance(documented, dict)
    same_shape(response.json(), documented)
    assert response.json()["error"]["code"] == documented["error"]["code"]


def test_business_use_case_header(graph) -> None:
    usage = json.loads(graph.get(f"/{IG_ID}").headers["x-business-use-case-usage"])
    [entry] = usage[IG_ID]
    assert entry["type"] == "instagram"
    assert {"call_count", "total_cputime", "total_time", "estimated_time_to_regain_access"} <= set(
        entry
    )
    assert all(isinstance(entry[k], int) for k in ("call_count", "total_cputime", "total_time"))


def test_unknown_object_and_missing_token(sim, graph) -> None:
    missing = graph.get("/17999999999999999")
    assert (missing.json()["error"]["code"], missing.json()["error"]["error_subcode"]) == (100, 33)
    anonymous = httpx.get(f"{sim.platform_url('instagram')}/v25.0/{IG_ID}", timeout=5)
    assert anonymous.status_code == 400
    assert "error" in anonymous.json()


def test_dm_reply_is_sent_from_the_linked_page(sim) -> None:
    # Facebook Login: POST /{page-id}/messages (doc §4 e); the reply is the IG account's.
    instagram = sim.simulator["instagram"]
    token = instagram.add_account(IG_ID, "suncheon_city", page_id="104220000000011")
    instagram.citizen_message(IG_ID, "6543210987654321", "문의드립니다")
    with httpx.Client(
        base_url=sim.platform_url("instagram") + "/v25.0",
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    ) as graph:
        body = {"recipient": {"id": "6543210987654321"}, "message": {"text": "답변입니다"}}
        sent = graph.post("/104220000000011/messages", json=body)
        assert sent.status_code == 200
        assert set(sent.json()) == {"recipient_id", "message_id"}
        conversation = instagram.accounts[IG_ID].conversations["6543210987654321"]
        assert conversation[-1]["from"] == IG_ID
        unknown = graph.post("/104299999999999/messages", json=body)
        assert (unknown.json()["error"]["code"], unknown.json()["error"]["error_subcode"]) == (
            100,
            33,
        )


def test_me_accounts_carries_the_linked_instagram_account(sim) -> None:
    instagram = sim.simulator["instagram"]
    instagram.add_account(IG_ID, "suncheon_city", page_id="104220000000011")
    base = sim.platform_url("instagram") + "/v25.0"
    dialog = httpx.get(
        base + "/dialog/oauth",
        params={"client_id": instagram.app_id, "redirect_uri": "http://127.0.0.1/cb", "state": "s"},
        timeout=5,
    )
    code = dialog.text.split("code=")[1].split("&")[0]
    token = httpx.get(
        base + "/oauth/access_token",
        params={
            "client_id": instagram.app_id,
            "client_secret": instagram.app_secret,
            "code": code,
            "redirect_uri": "http://127.0.0.1/cb",
        },
        timeout=5,
    ).json()
    assert set(token) == {"access_token", "token_type", "expires_in"}
    pages = httpx.get(
        base + "/me/accounts",
        params={"fields": "id,name,access_token,instagram_business_account{id,username}"},
        headers={"Authorization": f"Bearer {token['access_token']}"},
        timeout=5,
    ).json()
    same_shape(pages, load("me_accounts.json"))
    assert pages["data"][0]["instagram_business_account"]["id"] == IG_ID


def test_webhook_payloads_match_the_docs(sim) -> None:
    """What the simulator would deliver has the documented shape."""
    instagram = sim.simulator["instagram"]
    instagram.add_account(IG_ID, "suncheon_city")
    sent: list[object] = []
    sim.simulator.deliver_webhook = lambda platform, account, payload, **kw: sent.append(payload)
    try:
        media = instagram.add_media(IG_ID, "선암사", IMAGE)
        instagram.citizen_comment(media["id"], "1789", "kim_citizen", "예뻐요")
        instagram.citizen_message(IG_ID, "6543210987654321", "문의")
    finally:
        del sim.simulator.deliver_webhook
    same_shape(sent[0], load("webhook_comment.json"))
    same_shape(sent[1], load("webhook_message.json"))
