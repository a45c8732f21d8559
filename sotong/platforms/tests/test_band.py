"""BAND connector contract tests, against the simulator (and the docs' sample payloads)."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from sotong.platforms.band import BandConnector
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
    WebhookRequest,
)
from sotong.simulator.band import OAUTH_APP
from sotong.simulator.core import Fault, FaultKind
from sotong.simulator.testing import (
    FAULT_DELAY,
    UNREACHABLE,
    fault_raises,
    make_connector,
    rate_limit_is_remembered,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "band"
BAND_KEY = "AADsuncheonCityBand2026x"


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


@pytest.fixture
def platform(sim):
    return sim.simulator["band"]


@pytest.fixture
def token(platform):
    return platform.add_band(BAND_KEY, "순천시 소식", member_count=4200)


def connector_for(sim, token: str, band_key: str = BAND_KEY, **options: str) -> BandConnector:
    credentials = Credentials(access_token=token)
    return make_connector(BandConnector, sim.platform_url("band"), band_key, credentials, **options)


@pytest.fixture
def band(sim, token):
    connector = connector_for(sim, token)
    yield connector
    connector.close()


def test_claims_only_what_band_allows() -> None:
    assert Capability.PUBLISH_IMAGE not in BandConnector.capabilities
    assert Capability.WEBHOOKS not in BandConnector.capabilities
    assert Capability.FETCH_MESSAGES not in BandConnector.capabilities
    assert Capability.HIDE_COMMENT not in BandConnector.capabilities


# -- capabilities -------------------------------------------------------------------------


def test_verify_credentials_reports_band_and_permissions(band) -> None:
    check = band.verify_credentials()
    assert check.identity == BAND_KEY
    assert check.display_name == "순천시청"
    assert check.granted_scopes == ("posting", "commenting", "contents_deletion")
    assert check.missing_scopes == ()


def test_missing_permissions_are_reported(sim, platform) -> None:
    token = platform.add_band("AADotherBand", "문화", permissions=("commenting",))
    check = connector_for(sim, token, band_key="AADotherBand").verify_credentials()
    assert check.missing_scopes == ("posting", "contents_deletion")


def test_publish_text_and_link_in_the_text(band, sim) -> None:
    plain = band.publish(OutboundPost(text="[안내] 대형폐기물 신고 방법"))
    linked = band.publish(
        OutboundPost(text="청년 월세 지원 신청 안내", link="https://www.suncheon.go.kr/youth")
    )
    assert plain.external_id != linked.external_id
    assert linked.text == "청년 월세 지원 신청 안내\n\nhttps://www.suncheon.go.kr/youth"
    listed = {post.external_id: post.text for post in band.list_posts()}
    assert listed == {plain.external_id: plain.text, linked.external_id: linked.text}
    call = sim.simulator.recorded("band", "POST", "/v2.2/band/post/create")[0]
    form = parse_qs(call.body.decode())
    assert form["band_key"] == [BAND_KEY]
    assert form["do_push"] == ["false"]
    assert form["access_token"] == [band.account.credentials.access_token]
    assert call.query == {}  # the token travels in the form body, not the URL


def test_images_are_refused_before_any_call(band, sim) -> None:
    with pytest.raises(ContentRejected):
        band.publish(OutboundPost(text="사진", image_urls=("https://img.example/a.jpg",)))
    assert sim.simulator.recorded("band") == []


def test_delete_then_not_found(band) -> None:
    post = band.publish(OutboundPost(text="잘못 올린 공지"))
    band.delete_post(post.external_id)
    assert band.list_posts() == []
    with pytest.raises(NotFound) as missing:
        band.delete_post(post.external_id)
    assert missing.value.platform_code == 3000


def test_metrics(band, platform) -> None:
    post = band.publish(OutboundPost(text="하수관로 공사 안내"))
    platform.posts[post.external_id].update(post_read_count=1840, emotion_count=32)
    platform.citizen_comment(post.external_id, "AAB1", "김시민", "우회도로는요?")
    platform.citizen_comment(post.external_id, "AAB2", "이시민", "감사합니다")
    metrics = band.post_metrics(post.external_id)
    assert (metrics.views, metrics.likes, metrics.comments, metrics.shares) == (1840, 32, 2, None)
    assert metrics.raw["post_read_count"] == 1840
    assert band.channel_metrics().followers == 4200
    with pytest.raises(NotFound):
        band.post_metrics("AAnoSuchPost")


def test_comments_and_reply_with_mention(band, platform) -> None:
    post = band.publish(OutboundPost(text="청년 월세 지원 신청 안내"))
    first = platform.citizen_comment(
        post.external_id, "AABcitizen1", "김시민", "온라인 접수도 되나요?"
    )
    second = platform.citizen_comment(post.external_id, "AABcitizen2", "박시민", "대상 조건은요?")
    comments = band.list_comments(post.external_id)
    assert [c.external_id for c in comments] == [second["comment_key"], first["comment_key"]]
    asked = comments[1]
    assert (asked.kind, asked.author_id, asked.author_name, asked.post_external_id) == (
        InboundKind.COMMENT,
        "AABcitizen1",
        "김시민",
        post.external_id,
    )
    assert asked.created_at is not None
    reply_id = band.reply_to_comment(asked, "네, 정부24에서 접수합니다.")
    stored = platform.comments[reply_id]
    assert stored["content"] == (
        '<band:refer user_key="AABcitizen1">김시민</band:refer> 네, 정부24에서 접수합니다.'
    )
    assert stored["post_key"] == post.external_id


def test_comment_paging_is_followed(band, platform) -> None:
    post = band.publish(OutboundPost(text="단수 안내"))
    for number in range(25):
        platform.citizen_comment(
            post.external_id, f"AAB{number}", f"시민{number}", f"질문 {number}"
        )
    comments = band.list_comments(post.external_id)
    assert len(comments) == 25
    assert len({c.external_id for c in comments}) == 25


def test_no_webhooks_or_messages(band) -> None:
    with pytest.raises(Unsupported):
        band.fetch_messages()
    with pytest.raises(Unsupported):
        band.verify_webhook(WebhookRequest("POST", {}, {}, b"{}"))


# -- failure classes ------------------------------------------------------------------------


def test_error_under_http_200_is_classified(band, sim, platform) -> None:
    assert platform.error_status == 200
    sim.simulator.inject("band", Fault(FaultKind.TOKEN_EXPIRED))
    with pytest.raises(CredentialExpired) as expired:
        band.list_posts()
    assert (expired.value.status, expired.value.platform_code) == (200, 10401)


def test_error_status_is_a_setting(band, sim, platform) -> None:
    platform.error_status = 400
    sim.simulator.inject("band", Fault(FaultKind.TOKEN_EXPIRED))
    with pytest.raises(CredentialExpired) as expired:
        band.list_posts()
    assert expired.value.status == 400


def test_cooldown_is_remembered_without_calling_again(band, sim) -> None:
    first = rate_limit_is_remembered(sim, "band", band.list_posts)
    assert first.retry_after == 60
    assert first.platform_code == 1003


def test_quota_waits_longer_and_is_a_setting(sim, platform, token) -> None:
    platform.daily_quota = 1
    connector = connector_for(sim, token, quota_retry_seconds="7200")
    connector.list_posts()
    with pytest.raises(RateLimited) as quota:
        connector.list_posts()
    assert (quota.value.platform_code, quota.value.retry_after) == (1002, 7200)


def test_server_error_on_read_is_transient_and_on_write_unknown(band, sim) -> None:
    sim.simulator.inject("band", Fault(FaultKind.SERVER_ERROR, methods=frozenset({"GET"})))
    with pytest.raises(TransientError):
        band.list_posts()
    sim.simulator.inject("band", Fault(FaultKind.SERVER_ERROR, methods=frozenset({"POST"})))
    with pytest.raises(OutcomeUnknown):
        band.publish(OutboundPost(text="서버 오류 중 게시"))


def test_invalid_response_code_on_write_is_unknown(band, sim, platform, monkeypatch) -> None:
    platform.error_status = 200

    def broken(request):  # 2300 under HTTP 200, as BAND may answer
        return platform.error(2300, "Invalid response")

    create = next(r for r in platform.routes if "post/create" in r.pattern.pattern)
    monkeypatch.setattr(create, "handler", broken)
    with pytest.raises(OutcomeUnknown) as unknown:
        band.publish(OutboundPost(text="x"))
    assert unknown.value.platform_code == 2300


def test_timeouts(band, sim) -> None:
    timeout = Fault(FaultKind.TIMEOUT, delay=FAULT_DELAY)
    fault_raises(sim, "band", timeout, TransientError, band.list_posts)


def test_timeout_after_processing_is_unknown_then_reconciled(band, sim) -> None:
    post = OutboundPost(
        text="순천만갈대축제 교통 통제 안내",
        link="https://www.suncheon.go.kr",
        idempotency_key="p1",
    )
    sim.simulator.inject(
        "band",
        Fault(FaultKind.TIMEOUT_AFTER_PROCESSING, delay=FAULT_DELAY, path_pattern="post/create$"),
    )
    with pytest.raises(OutcomeUnknown):
        band.publish(post)
    found = band.find_published(post)
    assert found is not None  # it was published: the retry must not post again
    assert len(band.list_posts()) == 1
    assert band.find_published(OutboundPost(text="다른 글")) is None


def test_connection_refused_is_transient(token) -> None:
    credentials = Credentials(access_token=token)
    unreachable = make_connector(BandConnector, UNREACHABLE, BAND_KEY, credentials)
    with pytest.raises(TransientError):
        unreachable.publish(OutboundPost(text="x"))


@pytest.mark.parametrize(
    ("kind", "error"),
    [
        (FaultKind.TOKEN_EXPIRED, CredentialExpired),
        # BAND has one code (10401) for a token that no longer works.
        (FaultKind.TOKEN_REVOKED, CredentialExpired),
        (FaultKind.MALFORMED, MalformedResponse),
    ],
)
def test_injected_failures_are_classified(band, sim, kind, error) -> None:
    fault_raises(sim, "band", Fault(kind), error, band.list_posts)


def test_real_token_states(band, platform, token) -> None:
    platform.revoke_token(token)
    with pytest.raises(CredentialExpired):
        band.verify_credentials()


def test_permission_and_rejection(sim, platform, band) -> None:
    platform.max_content_length = 100
    with pytest.raises(ContentRejected) as too_long:
        band.publish(OutboundPost(text="가" * 101))
    assert too_long.value.platform_code == 3001
    reader = platform.add_band("AADreaderBand", "읽기", permissions=("commenting",))
    connector = connector_for(sim, reader, band_key="AADreaderBand")
    with pytest.raises(PermissionMissing) as forbidden:
        connector.publish(OutboundPost(text="권한 없음"))
    assert forbidden.value.platform_code == 10403
    with pytest.raises(PermissionMissing):
        connector_for(sim, reader, band_key="AADnotMine").list_posts()  # 60102


def test_unknown_post_code_is_a_setting(sim, platform, token) -> None:
    platform.post_not_found_code = 60000
    with pytest.raises(ContentRejected):
        connector_for(sim, token).delete_post("AAnope")
    connector = connector_for(sim, token, not_found_codes="3000,60000")
    with pytest.raises(NotFound):
        connector.delete_post("AAnope")


# -- documented payloads -----------------------------------------------------------------------


def _answer(payload: dict) -> httpx.Response:
    return httpx.Response(
        200, json=payload, request=httpx.Request("GET", "https://openapi.band.us")
    )


def test_docs_payloads_parse(band, monkeypatch) -> None:
    samples = {
        "/v2/band/posts": fixture("posts.json"),
        "/v2.1/band/post": fixture("post.json"),
        "/v2/band/post/comments": fixture("comments.json"),
        "/v2.1/bands": fixture("bands.json"),
    }
    monkeypatch.setattr(band, "request", lambda method, url, **kw: _answer(samples[url]))
    [post] = band.list_posts()
    assert post.external_id == "AACEdJ3qSaE2Vfsx0jLaGMeb"
    assert post.created_at is not None
    assert post.created_at.year == 2025
    assert band.post_metrics(post.external_id).views == 1840
    [comment] = band.list_comments(post.external_id)
    assert (comment.external_id, comment.author_id) == ("AABq3DwM5sA1bTcgiAHTj3yE", "AAB_citizen")
    assert band.channel_metrics().followers == 4200


def test_documented_errors_classify(band) -> None:
    cases = [
        ("error_expired.json", CredentialExpired),
        ("error_cooldown.json", RateLimited),
        ("error_too_long.json", ContentRejected),
    ]
    for name, error in cases:
        response = _answer(fixture(name))
        assert band.is_error_body(response)
        assert isinstance(band.classify(response), error)
    assert not band.is_error_body(_answer(fixture("create_post.json")))


# -- OAuth ----------------------------------------------------------------------------------------


def test_oauth_connect_lists_each_band(sim, platform) -> None:
    platform.add_band(BAND_KEY, "순천시 소식", member_count=4200)
    platform.add_band("AADsecondBand", "순천시 문화", member_count=900)
    app = OAuthApp(*OAUTH_APP, redirect_uri="http://127.0.0.1/cb")
    connector = connector_for(sim, "", band_key="")
    url = connector.oauth_authorize_url(app, state="st-1", code_challenge="ignored")
    assert url.startswith(sim.platform_url("band") + "/oauth2/authorize?")
    consent = httpx.get(url, timeout=5)
    assert 'lang="ko"' in consent.text
    assert 'id="allow"' in consent.text
    target = consent.text.split('href="')[1].split('"')[0].replace("&amp;", "&")
    query = parse_qs(urlsplit(target).query)
    assert query["state"] == ["st-1"]
    accounts = connector.oauth_accounts(app, code=query["code"][0], code_verifier="v")
    assert {(a.account_id, a.name) for a in accounts} == {
        (BAND_KEY, "순천시 소식"),
        ("AADsecondBand", "순천시 문화"),
    }
    credentials = accounts[0].credentials
    assert credentials.access_token
    assert credentials.refresh_token
    assert credentials.expires_at is not None
    token_call = sim.simulator.recorded("band", "GET", "/oauth2/token")[0]
    assert token_call.headers["authorization"].startswith("Basic ")
    with pytest.raises(CredentialRevoked):  # a code works once
        connector.oauth_accounts(app, code=query["code"][0], code_verifier="v")
