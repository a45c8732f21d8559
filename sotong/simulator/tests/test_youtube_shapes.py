"""The simulated YouTube Data API answers in the documented shapes (shared/docs/platform-apis.md
§6 and the docs' samples in sotong/platforms/fixtures/youtube/)."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from sotong.platforms.base import pkce_challenge
from sotong.simulator.core import Fault, FaultKind
from sotong.simulator.testing import api_client, same_shape
from sotong.simulator.youtube import OAUTH_APP

FIXTURES = Path(__file__).resolve().parents[2] / "platforms" / "fixtures" / "youtube"
CHANNEL_ID = "UCsuncheonCityTube2026xy"


def load(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


@pytest.fixture
def api(sim):
    token = sim.simulator["youtube"].add_channel(CHANNEL_ID, "순천시", subscribers=18400)
    client = api_client(sim.platform_url("youtube") + "/youtube/v3", f"Bearer {token}")
    yield client
    client.close()


@pytest.fixture
def video(sim, api):
    return sim.simulator["youtube"].add_video(CHANNEL_ID, "갈대축제", views=48210, likes=1320)


def test_channels_shape_and_string_counts(api) -> None:
    answer = api.get(
        "/channels", params={"part": "snippet,contentDetails,statistics", "mine": "true"}
    ).json()
    same_shape(answer, load("channels.json"))
    statistics = answer["items"][0]["statistics"]
    assert statistics["subscriberCount"] == "18400"
    assert answer["items"][0]["contentDetails"]["relatedPlaylists"]["uploads"].startswith("UU")


def test_playlist_items_and_videos(sim, api, video) -> None:
    newer = sim.simulator["youtube"].add_video(CHANNEL_ID, "정원 산책")
    first = api.get(
        "/playlistItems",
        params={"part": "contentDetails", "playlistId": "UU" + CHANNEL_ID[2:], "maxResults": 1},
    ).json()
    assert first["items"][0]["contentDetails"]["videoId"] == newer["id"]
    assert first["nextPageToken"]
    listing = api.get(
        "/playlistItems",
        params={
            "part": "snippet,contentDetails",
            "playlistId": "UU" + CHANNEL_ID[2:],
            "maxResults": 50,
        },
    ).json()
    documented = load("playlist_items.json")
    documented.pop("nextPageToken")  # only with a next page
    same_shape(listing, documented)
    videos = api.get("/videos", params={"part": "statistics", "id": video["id"]}).json()
    same_shape(videos, load("videos_statistics.json"))
    assert videos["items"][0]["statistics"]["viewCount"] == "48210"
    assert api.get("/videos", params={"part": "statistics", "id": "nope"}).json()["items"] == []


def test_comment_threads_and_reply_shapes(sim, api, video) -> None:
    platform = sim.simulator["youtube"]
    top = platform.citizen_comment(video["id"], "UCcitizen0001", "김시민", "주차장은요?")
    reply = api.post(
        "/comments",
        params={"part": "snippet"},
        json={"snippet": {"parentId": top["id"], "textOriginal": "동문 주차장입니다."}},
    )
    assert reply.status_code == 200
    same_shape(reply.json(), load("comment_insert.json"))
    threads = api.get(
        "/commentThreads",
        params={
            "part": "snippet,replies",
            "videoId": video["id"],
            "maxResults": 100,
            "order": "time",
            "textFormat": "plainText",
        },
    ).json()
    documented = load("comment_threads.json")
    documented.pop("nextPageToken")
    same_shape(threads, documented)
    assert threads["items"][0]["snippet"]["totalReplyCount"] == 1


def test_moderation_answers_204(sim, api, video) -> None:
    comment = sim.simulator["youtube"].citizen_comment(video["id"], "UCv", "시민", "광고")
    held = api.post(
        "/comments/setModerationStatus",
        params={"id": comment["id"], "moderationStatus": "heldForReview"},
    )
    assert (held.status_code, held.content) == (204, b"")


@pytest.mark.parametrize(
    ("kind", "status", "reason"),
    [
        (FaultKind.TOKEN_EXPIRED, 401, "authError"),
        (FaultKind.RATE_LIMITED, 403, "rateLimitExceeded"),
        (FaultKind.SERVER_ERROR, 503, "backendError"),
    ],
)
def test_error_bodies(sim, api, kind, status, reason) -> None:
    sim.simulator.inject("youtube", Fault(kind))
    response = api.get("/channels", params={"part": "snippet", "mine": "true"})
    assert response.status_code == status
    same_shape(response.json(), load("error_auth.json" if status == 401 else "error_quota.json"))
    assert response.json()["error"]["errors"][0]["reason"] == reason


def test_quota_exhaustion_and_other_errors(sim, api, video) -> None:
    platform = sim.simulator["youtube"]
    platform.max_comment_length = 3
    top = platform.citizen_comment(video["id"], "UCv", "시민", "질문")
    too_long = api.post(
        "/comments",
        params={"part": "snippet"},
        json={"snippet": {"parentId": top["id"], "textOriginal": "너무 긴 답"}},
    )
    assert too_long.status_code == 400
    same_shape(too_long.json(), load("error_too_long.json"))
    assert too_long.json()["error"]["errors"][0]["reason"] == "commentTextTooLong"
    assert platform.quota_used == 50
    platform.daily_quota = 50
    exhausted = api.get("/channels", params={"part": "snippet", "mine": "true"})
    assert exhausted.status_code == 403
    assert exhausted.json() == load("error_quota.json")
    missing = httpx.get(
        f"{sim.platform_url('youtube')}/youtube/v3/channels", params={"part": "id"}, timeout=5
    )
    assert missing.status_code == 401


def test_token_endpoint(sim) -> None:
    platform = sim.simulator["youtube"]
    platform.add_channel(CHANNEL_ID, "순천시")
    client_id, secret = OAUTH_APP
    base = sim.platform_url("youtube")
    verifier = "verifier-0123456789-0123456789-0123456789"
    consent = httpx.get(
        base + "/o/oauth2/v2/auth",
        params={
            "client_id": client_id,
            "redirect_uri": "http://x/cb",
            "response_type": "code",
            "scope": "https://www.googleapis.com/auth/youtube.readonly",
            "access_type": "offline",
            "prompt": "consent",
            "code_challenge": pkce_challenge(verifier),
            "code_challenge_method": "S256",
        },
        timeout=5,
    )
    code = consent.text.split("code=")[1].split("&")[0].replace("%2F", "/")
    answer = httpx.post(
        base + "/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "code_verifier": verifier,
            "client_id": client_id,
            "client_secret": secret,
            "redirect_uri": "http://x/cb",
        },
        timeout=5,
    )
    same_shape(answer.json(), load("token.json"))
    refreshed = httpx.post(
        base + "/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": answer.json()["refresh_token"],
            "client_id": client_id,
            "client_secret": secret,
        },
        timeout=5,
    ).json()
    assert set(refreshed) == {"access_token", "expires_in", "scope", "token_type"}
    assert refreshed["expires_in"] == 3599
    bad = httpx.post(
        base + "/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": "1//nope",
            "client_id": client_id,
            "client_secret": secret,
        },
        timeout=5,
    )
    assert bad.status_code == 400
    assert bad.json() == load("token_invalid_grant.json")
