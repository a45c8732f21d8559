"""YouTube connector contract tests, against the simulator (and the docs' sample payloads)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from sotong.platforms.base import (
    Capability,
    ContentRejected,
    CredentialExpired,
    CredentialRevoked,
    Credentials,
    InboundKind,
    MalformedResponse,
    NotFound,
    OAuthApp,
    OutboundPost,
    OutcomeUnknown,
    PermissionMissing,
    RateLimited,
    TransientError,
    Unsupported,
    pkce_challenge,
)
from sotong.platforms.youtube import SCOPES, YouTubeChannel, seconds_until_pacific_midnight
from sotong.simulator.core import Fault, FaultKind
from sotong.simulator.testing import (
    FAULT_DELAY,
    UNREACHABLE,
    fault_raises,
    make_connector,
    rate_limit_is_remembered,
)
from sotong.simulator.youtube import OAUTH_APP, READONLY

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "youtube"
CHANNEL_ID = "UCsuncheonCityTube2026xy"
REFRESH = "1//test-refresh"


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


@pytest.fixture
def platform(sim):
    return sim.simulator["youtube"]


@pytest.fixture
def token(platform):
    return platform.add_channel(CHANNEL_ID, "순천시", refresh_token=REFRESH, subscribers=18400)


def connector_for(sim, token: str, channel_id: str = CHANNEL_ID, **options: str) -> YouTubeChannel:
    credentials = Credentials(
        access_token=token,
        refresh_token=REFRESH,
        scopes=SCOPES,
        extra={"client_id": OAUTH_APP[0], "client_secret": OAUTH_APP[1]},
    )
    return make_connector(
        YouTubeChannel, sim.platform_url("youtube"), channel_id, credentials, **options
    )


@pytest.fixture
def youtube(sim, token):
    connector = connector_for(sim, token)
    yield connector
    connector.close()


@pytest.fixture
def video(platform, token):
    return platform.add_video(CHANNEL_ID, "2026 순천만갈대축제 하이라이트", views=48210, likes=1320)


def test_claims_no_publishing() -> None:
    assert (
        not {
            Capability.PUBLISH_TEXT,
            Capability.PUBLISH_LINK,
            Capability.PUBLISH_IMAGE,
            Capability.WEBHOOKS,
            Capability.FETCH_MESSAGES,
        }
        & YouTubeChannel.capabilities
    )


def test_publish_is_unsupported(youtube) -> None:
    with pytest.raises(Unsupported):
        youtube.publish(OutboundPost(text="x"))


# -- capabilities -------------------------------------------------------------------------


def test_verify_credentials(youtube, sim) -> None:
    check = youtube.verify_credentials()
    assert (check.identity, check.display_name, check.missing_scopes) == (CHANNEL_ID, "순천시", ())
    call = sim.simulator.recorded("youtube", "GET", "/youtube/v3/channels")[0]
    assert call.headers["authorization"] == f"Bearer {youtube.account.credentials.access_token}"
    assert "access_token" not in call.query  # the token goes in a header


def test_missing_scope_is_reported(sim, token) -> None:
    connector = connector_for(sim, token)
    connector.account.credentials.scopes = (READONLY,)
    assert connector.verify_credentials().missing_scopes == (SCOPES[1],)


def test_list_posts_reads_the_uploads_playlist(youtube, platform, video, sim) -> None:
    newer = platform.add_video(CHANNEL_ID, "순천만국가정원 가을 산책")
    posts = youtube.list_posts()
    assert [p.external_id for p in posts] == [newer["id"], video["id"]]
    assert posts[1].text == "2026 순천만갈대축제 하이라이트"
    assert posts[1].url == f"https://www.youtube.com/watch?v={video['id']}"
    assert posts[1].created_at is not None
    playlist_call = sim.simulator.recorded("youtube", "GET", "/playlistItems")[0]
    assert playlist_call.query["playlistId"] == ["UU" + CHANNEL_ID[2:]]


def test_metrics_are_numbers(youtube, platform, video) -> None:
    platform.citizen_comment(video["id"], "UCviewer1", "김시민", "멋져요")
    metrics = youtube.post_metrics(video["id"])
    assert (metrics.views, metrics.likes, metrics.comments, metrics.shares) == (
        48210,
        1320,
        1,
        None,
    )
    assert metrics.raw["viewCount"] == "48210"  # the platform's own strings kept in raw
    assert youtube.channel_metrics().followers == 18400
    with pytest.raises(NotFound):
        youtube.post_metrics("noSuchVideo")


def test_hidden_subscriber_count_is_none(youtube, platform) -> None:
    platform.channels[CHANNEL_ID].hidden_subscribers = True
    assert youtube.channel_metrics().followers is None


def test_comments_reply_and_hide(youtube, platform, video) -> None:
    question = platform.citizen_comment(video["id"], "UCviewer1", "김시민", "주차장은 어디인가요?")
    spam = platform.citizen_comment(video["id"], "UCviewer2", "광고", "부업 문의 010-0000-0000")
    comments = youtube.list_comments(video["id"])
    assert [c.external_id for c in comments] == [spam["id"], question["id"]]
    asked = comments[1]
    assert (asked.kind, asked.author_id, asked.author_name, asked.post_external_id) == (
        InboundKind.COMMENT,
        "UCviewer1",
        "@김시민",
        video["id"],
    )
    reply_id = youtube.reply_to_comment(asked, "동문 주차장을 이용해 주세요.")
    assert platform.comments[reply_id]["parent_id"] == question["id"]
    threaded = {c.external_id: c for c in youtube.list_comments(video["id"])}
    assert threaded[reply_id].parent_external_id == question["id"]
    assert threaded[reply_id].author_id == CHANNEL_ID
    # A reply to a reply goes into the same (one-level) thread.
    second = youtube.reply_to_comment(threaded[reply_id], "추가 안내입니다.")
    assert platform.comments[second]["parent_id"] == question["id"]
    youtube.hide_comment(spam["id"])
    assert platform.comments[spam["id"]]["status"] == "heldForReview"
    assert spam["id"] not in {c.external_id for c in youtube.list_comments(video["id"])}
    youtube.hide_comment(spam["id"], hidden=False)
    assert platform.comments[spam["id"]]["status"] == "published"
    with pytest.raises(NotFound):
        youtube.hide_comment("UgzNoSuchComment")


def test_comment_pages_are_followed(youtube, platform, video) -> None:
    for number in range(130):
        platform.citizen_comment(video["id"], f"UC{number}", f"시청자{number}", f"댓글 {number}")
    assert len({c.external_id for c in youtube.list_comments(video["id"])}) == 130


def test_quota_costs_units(youtube, platform, video) -> None:
    youtube.list_posts()  # channels + playlistItems: 2 units
    assert platform.quota_used == 2
    [comment] = [platform.citizen_comment(video["id"], "UCv", "시민", "질문")]
    youtube.hide_comment(comment["id"])
    assert platform.quota_used == 52


# -- failure classes ------------------------------------------------------------------------


def test_quota_exceeded_waits_until_pacific_midnight(youtube, sim, platform) -> None:
    platform.daily_quota = 1
    youtube.channel_metrics()
    with pytest.raises(RateLimited) as exhausted:
        youtube.channel_metrics()
    assert exhausted.value.platform_code == "quotaExceeded"
    assert abs(exhausted.value.retry_after - seconds_until_pacific_midnight()) < 5
    calls = len(sim.simulator.recorded("youtube"))
    with pytest.raises(RateLimited):
        youtube.list_posts()
    assert len(sim.simulator.recorded("youtube")) == calls  # no second call went out


def test_pacific_midnight() -> None:
    # 07:00 UTC on 24 Nov is 23:00 PST: one hour to go.
    at = dt.datetime(2026, 11, 24, 7, 0, tzinfo=dt.UTC)
    assert seconds_until_pacific_midnight(at) == 3600
    # 06:00 UTC on 1 Jul is 23:00 PDT.
    assert seconds_until_pacific_midnight(dt.datetime(2026, 7, 1, 6, 0, tzinfo=dt.UTC)) == 3600


def test_rate_limit_is_remembered_without_calling_again(youtube, sim) -> None:
    first = rate_limit_is_remembered(sim, "youtube", youtube.channel_metrics)
    assert (first.platform_code, first.retry_after) == ("rateLimitExceeded", 60)


def test_server_error_on_read_is_transient_and_on_write_unknown(
    youtube, sim, platform, video
) -> None:
    comment = platform.citizen_comment(video["id"], "UCv", "시민", "질문")
    on_get = Fault(FaultKind.SERVER_ERROR, methods=frozenset({"GET"}))
    failed = fault_raises(sim, "youtube", on_get, TransientError, youtube.channel_metrics)
    assert failed.platform_code == "backendError"
    [item] = youtube.list_comments(video["id"])
    sim.simulator.inject("youtube", Fault(FaultKind.SERVER_ERROR, methods=frozenset({"POST"})))
    with pytest.raises(OutcomeUnknown):
        youtube.reply_to_comment(item, "답변")
    assert comment["replies"] == []


def test_timeouts(youtube, sim, platform, video) -> None:
    platform.citizen_comment(video["id"], "UCv", "시민", "질문")
    [item] = youtube.list_comments(video["id"])
    timeout = Fault(FaultKind.TIMEOUT, delay=FAULT_DELAY)
    fault_raises(sim, "youtube", timeout, TransientError, youtube.channel_metrics)
    sim.simulator.inject(
        "youtube",
        Fault(FaultKind.TIMEOUT_AFTER_PROCESSING, delay=FAULT_DELAY, path_pattern="/comments$"),
    )
    with pytest.raises(OutcomeUnknown):
        youtube.reply_to_comment(item, "답변")
    # It was posted: listing shows it, so a reconciler does not reply twice.
    assert [c.text for c in youtube.list_comments(video["id"])] == ["질문", "답변"]


def test_connection_refused_is_transient(token) -> None:
    credentials = Credentials(access_token=token)
    unreachable = make_connector(YouTubeChannel, UNREACHABLE, CHANNEL_ID, credentials)
    with pytest.raises(TransientError):
        unreachable.list_posts()


@pytest.mark.parametrize(
    ("kind", "error"),
    [
        (FaultKind.TOKEN_EXPIRED, CredentialExpired),
        # The API answers 401 for a revoked token too; the refresh then says revoked.
        (FaultKind.TOKEN_REVOKED, CredentialExpired),
        (FaultKind.MALFORMED, MalformedResponse),
    ],
)
def test_injected_failures_are_classified(youtube, sim, kind, error) -> None:
    fault_raises(sim, "youtube", Fault(kind), error, youtube.list_posts)


def test_expired_token_is_refreshed(youtube, platform, token) -> None:
    platform.expire_token(token)
    with pytest.raises(CredentialExpired):
        youtube.channel_metrics()
    fresh = youtube.refresh_credentials()
    assert fresh.access_token != token
    assert fresh.refresh_token == REFRESH  # kept: Google sent none
    assert fresh.extra["client_id"] == OAUTH_APP[0]
    assert fresh.expires_at is not None
    remaining = fresh.expires_at - dt.datetime.now(tz=dt.UTC)
    assert dt.timedelta(minutes=55) < remaining <= dt.timedelta(hours=1)
    assert youtube.channel_metrics().followers == 18400


def test_revoked_grant_needs_reconnecting(youtube, platform, token) -> None:
    platform.revoke_token(token)
    with pytest.raises(CredentialExpired):
        youtube.channel_metrics()
    with pytest.raises(CredentialRevoked) as revoked:
        youtube.refresh_credentials()
    assert revoked.value.platform_code == "invalid_grant"


def test_permission_rejection_and_not_found(sim, platform, youtube, video) -> None:
    platform.max_comment_length = 20
    comment = platform.citizen_comment(video["id"], "UCv", "시민", "질문")
    [item] = youtube.list_comments(video["id"])
    with pytest.raises(ContentRejected) as too_long:
        youtube.reply_to_comment(item, "가" * 21)
    assert too_long.value.platform_code == "commentTextTooLong"
    reader = platform.add_channel("UCreaderOnly000000000000", "읽기", scopes=(READONLY,))
    connector = connector_for(sim, reader, channel_id="UCreaderOnly000000000000")
    with pytest.raises(PermissionMissing) as forbidden:
        connector.hide_comment(comment["id"])
    assert forbidden.value.platform_code == "insufficientPermissions"
    with pytest.raises(NotFound) as missing:
        youtube.list_comments("noSuchVideo")
    assert missing.value.platform_code == "videoNotFound"


# -- documented payloads -----------------------------------------------------------------------


def _answer(payload: dict, status: int = 200) -> httpx.Response:
    return httpx.Response(
        status, json=payload, request=httpx.Request("GET", "https://www.googleapis.com")
    )


def test_docs_payloads_parse(youtube, monkeypatch) -> None:
    samples = {
        "/youtube/v3/channels": fixture("channels.json"),
        "/youtube/v3/playlistItems": fixture("playlist_items.json"),
        "/youtube/v3/videos": fixture("videos_statistics.json"),
        "/youtube/v3/commentThreads": {**fixture("comment_threads.json"), "nextPageToken": ""},
    }
    monkeypatch.setattr(youtube, "request", lambda method, url, **kw: _answer(samples[url]))
    [post] = youtube.list_posts()
    assert post.external_id == "dQw4w9WgXcQ"
    assert post.created_at == dt.datetime(2026, 10, 20, 9, 0, tzinfo=dt.UTC)
    metrics = youtube.post_metrics("dQw4w9WgXcQ")
    assert (metrics.views, metrics.likes, metrics.comments) == (48210, 1320, 87)
    assert youtube.channel_metrics().followers == 18400
    top, reply = youtube.list_comments("dQw4w9WgXcQ")
    assert (top.external_id, top.author_id, top.parent_external_id) == (
        "UgzThreadA1b2c3",
        "UCcitizen0001",
        "",
    )
    assert reply.parent_external_id == "UgzThreadA1b2c3"


def test_documented_errors_classify(youtube) -> None:
    assert isinstance(youtube.classify(_answer(fixture("error_quota.json"), 403)), RateLimited)
    assert isinstance(youtube.classify(_answer(fixture("error_auth.json"), 401)), CredentialExpired)
    assert isinstance(
        youtube.classify(_answer(fixture("error_too_long.json"), 400)), ContentRejected
    )
    assert isinstance(
        youtube.classify(_answer(fixture("token_invalid_grant.json"), 400)), CredentialRevoked
    )


def test_string_counts_that_are_not_numbers_are_malformed(youtube, monkeypatch) -> None:
    broken = fixture("videos_statistics.json")
    broken["items"][0]["statistics"]["viewCount"] = "many"
    monkeypatch.setattr(youtube, "request", lambda method, url, **kw: _answer(broken))
    with pytest.raises(MalformedResponse):
        youtube.post_metrics("dQw4w9WgXcQ")


# -- OAuth ----------------------------------------------------------------------------------------


def test_oauth_connect_with_pkce(sim, platform) -> None:
    platform.add_channel(CHANNEL_ID, "순천시", subscribers=18400)
    app = OAuthApp(*OAUTH_APP, redirect_uri="http://127.0.0.1/cb")
    connector = connector_for(sim, "", channel_id="")
    verifier = "a-long-random-verifier-string-for-pkce-0123456789"
    url = connector.oauth_authorize_url(app, state="st-9", code_challenge=pkce_challenge(verifier))
    assert url.startswith(sim.platform_url("youtube") + "/o/oauth2/v2/auth?")
    asked = parse_qs(urlsplit(url).query)
    assert asked["access_type"] == ["offline"]
    assert asked["prompt"] == ["consent"]
    assert asked["code_challenge_method"] == ["S256"]
    assert asked["scope"] == [" ".join(SCOPES)]
    consent = httpx.get(url, timeout=5)
    assert 'lang="ko"' in consent.text
    target = consent.text.split('id="allow" href="')[1].split('"')[0].replace("&amp;", "&")
    query = parse_qs(urlsplit(target).query)
    assert query["state"] == ["st-9"]
    with pytest.raises(CredentialRevoked):  # a wrong verifier is refused
        connector_for(sim, "", channel_id="").oauth_accounts(
            app, code=query["code"][0], code_verifier="wrong"
        )
    consent = httpx.get(url, timeout=5)
    target = consent.text.split('id="allow" href="')[1].split('"')[0].replace("&amp;", "&")
    code = parse_qs(urlsplit(target).query)["code"][0]
    [account] = connector.oauth_accounts(app, code=code, code_verifier=verifier)
    assert (account.account_id, account.name) == (CHANNEL_ID, "순천시")
    credentials = account.credentials
    assert credentials.refresh_token.startswith("1//")
    assert credentials.scopes == SCOPES
    assert credentials.extra == {"client_id": OAUTH_APP[0], "client_secret": OAUTH_APP[1]}
    assert credentials.expires_at is not None
    # The channel's connector can refresh with what it kept.
    channel = connector_for(sim, credentials.access_token)
    channel.account.credentials = credentials
    assert channel.refresh_credentials().access_token != credentials.access_token
