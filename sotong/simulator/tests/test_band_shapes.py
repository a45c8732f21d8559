"""The simulated BAND Open API answers in the documented shapes (shared/docs/platform-apis.md
§2 and the docs' samples in sotong/platforms/fixtures/band/)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import httpx
import pytest

from sotong.simulator.band import OAUTH_APP
from sotong.simulator.core import Fault, FaultKind
from sotong.simulator.testing import api_client, same_shape

FIXTURES = Path(__file__).resolve().parents[2] / "platforms" / "fixtures" / "band"
BAND_KEY = "AADsuncheonCityBand2026x"


def load(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


@pytest.fixture
def band(sim):
    platform = sim.simulator["band"]
    token = platform.add_band(BAND_KEY, "순천시 소식", member_count=4200)
    client = api_client(sim.platform_url("band"))
    client.token = token  # type: ignore[attr-defined]
    yield client
    client.close()


def call(client: httpx.Client, method: str, path: str, **params: str) -> httpx.Response:
    params = {"access_token": client.token, **params}  # type: ignore[attr-defined]
    if method == "GET":
        return client.get(path, params=params)
    return client.post(path, data=params)


def test_bands_profile_permissions(band) -> None:
    same_shape(call(band, "GET", "/v2.1/bands").json(), load("bands.json"))
    same_shape(call(band, "GET", "/v2/profile", band_key=BAND_KEY).json(), load("profile.json"))
    permissions = call(
        band,
        "GET",
        "/v2/band/permissions",
        band_key=BAND_KEY,
        permissions="posting,commenting,contents_deletion",
    ).json()
    same_shape(permissions, load("permissions.json"))
    assert permissions["result_data"]["permissions"] == [
        "posting",
        "commenting",
        "contents_deletion",
    ]


def test_post_create_list_get_and_comment(sim, band) -> None:
    created = call(band, "POST", "/v2.2/band/post/create", band_key=BAND_KEY, content="공사 안내")
    assert created.status_code == 200
    same_shape(created.json(), load("create_post.json"))
    assert set(created.json()["result_data"]) == {"band_key", "post_key"}
    post_key = created.json()["result_data"]["post_key"]
    sim.simulator["band"].citizen_comment(post_key, "AAB_citizen", "김시민", "우회도로는요?")
    listing = call(band, "GET", "/v2/band/posts", band_key=BAND_KEY, locale="ko_KR").json()
    documented = load("posts.json")
    documented["result_data"]["paging"]["next_params"] = None  # only with a next page
    same_shape(listing, documented)
    assert isinstance(listing["result_data"]["items"][0]["created_at"], int)  # epoch ms
    one = call(band, "GET", "/v2.1/band/post", band_key=BAND_KEY, post_key=post_key).json()
    same_shape(one, load("post.json"))
    comments = call(
        band, "GET", "/v2/band/post/comments", band_key=BAND_KEY, post_key=post_key
    ).json()
    documented = load("comments.json")
    documented["result_data"]["items"][0].pop("photo")  # only on comments with a photo
    same_shape(comments, documented)
    wrote = call(
        band,
        "POST",
        "/v2/band/post/comment/create",
        band_key=BAND_KEY,
        post_key=post_key,
        body="네",
    ).json()
    assert wrote == load("create_comment.json")


def test_posts_paging_carries_next_params(band) -> None:
    for number in range(3):
        call(band, "POST", "/v2.2/band/post/create", band_key=BAND_KEY, content=f"글 {number}")
    first = call(band, "GET", "/v2/band/posts", band_key=BAND_KEY, limit="2").json()
    following = first["result_data"]["paging"]["next_params"]
    assert set(following) == {"after", "limit", "band_key", "access_token"}
    second = band.get("/v2/band/posts", params=following).json()
    assert [item["content"] for item in second["result_data"]["items"]] == ["글 0"]
    assert second["result_data"]["paging"]["next_params"] is None


@pytest.mark.parametrize(
    ("kind", "sample"),
    [
        (FaultKind.TOKEN_EXPIRED, "error_expired.json"),
        (FaultKind.RATE_LIMITED, "error_cooldown.json"),
    ],
)
def test_error_envelopes_under_http_200(sim, band, kind, sample) -> None:
    sim.simulator.inject("band", Fault(kind))
    response = call(band, "GET", "/v2.1/bands")
    assert response.status_code == 200
    same_shape(response.json(), load(sample))
    assert response.json()["result_code"] == load(sample)["result_code"]


def test_real_errors(sim, band) -> None:
    sim.simulator["band"].max_content_length = 5
    too_long = call(band, "POST", "/v2.2/band/post/create", band_key=BAND_KEY, content="가" * 6)
    assert too_long.json() == load("error_too_long.json")
    anonymous = band.get("/v2.1/bands")
    assert anonymous.json()["result_code"] == 212
    wrong = band.get("/v2.1/bands", params={"access_token": "nope"})
    assert wrong.json()["result_code"] == 10401
    missing = call(band, "GET", "/v2.1/band/post", band_key=BAND_KEY, post_key="AAnope")
    assert missing.json()["result_code"] == 3000


def test_oauth_token_answer(sim) -> None:
    platform = sim.simulator["band"]
    client_id, secret = OAUTH_APP
    base = sim.platform_url("band")
    consent = httpx.get(
        base + "/oauth2/authorize",
        params={"response_type": "code", "client_id": client_id, "redirect_uri": "http://x/cb"},
        timeout=5,
    )
    code = consent.text.split("code=")[1].split("&")[0]
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    answer = httpx.get(
        base + "/oauth2/token",
        params={"grant_type": "authorization_code", "code": code},
        headers={"Authorization": f"Basic {basic}"},
        timeout=5,
    )
    same_shape(answer.json(), load("token.json"))
    assert answer.json()["expires_in"] == platform.expires_in
    refused = httpx.get(
        base + "/oauth2/token",
        params={"grant_type": "authorization_code", "code": code},
        headers={"Authorization": "Basic bm9wZTpub3Bl"},
        timeout=5,
    )
    assert refused.status_code == 401
