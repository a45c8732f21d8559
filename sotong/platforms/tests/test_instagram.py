"""Instagram connector contract tests, against the simulator (and the docs' sample payloads)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from sotong.platforms.base import (
    Capability,
    ChannelAccount,
    ContentRejected,
    CredentialExpired,
    CredentialRevoked,
    Credentials,
    InboundItem,
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
    WebhookRejected,
    WebhookRequest,
    connector_class,
    hmac_sha256_hex,
)
from sotong.platforms.instagram import Instagram
from sotong.simulator.core import Fault, FaultKind
from sotong.simulator.instagram import OAUTH_APP
from sotong.simulator.testing import FAULT_DELAY, short_timeout_client

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "instagram"
IG_ID = "17841400000000001"
PAGE_ID = "104220000000011"  # the Facebook Page the Instagram account is linked to
APP_ID, APP_SECRET = OAUTH_APP
IMAGE = "https://img.suncheon.example/garden.jpg"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@pytest.fixture
def platform(sim):
    return sim.simulator["instagram"]


@pytest.fixture
def token(platform):
    return platform.add_account(IG_ID, "suncheon_city", page_id=PAGE_ID, followers=24000)


def connector_for(
    sim, token: str, account_id: str = IG_ID, *, page_id: str = PAGE_ID, **options: str
) -> Instagram:
    extra = {"app_id": APP_ID, "app_secret": APP_SECRET, "verify_token": "verify-me"}
    if page_id:
        extra["page_id"] = page_id
    credentials = Credentials(access_token=token, extra=extra)
    account = ChannelAccount(
        account_id,
        credentials,
        api_base=sim.platform_url("instagram"),
        options={"container_poll_interval": "0.01", **options},
    )
    return Instagram(account, client=short_timeout_client())


@pytest.fixture
def instagram(sim, token):
    connector = connector_for(sim, token)
    yield connector
    connector.close()


def test_registered_with_honest_capabilities() -> None:
    assert connector_class("instagram") is Instagram
    assert Capability.PUBLISH_TEXT not in Instagram.capabilities
    assert Capability.FETCH_MESSAGES not in Instagram.capabilities
    assert Instagram.limits.image_required
    assert (Instagram.limits.max_length, Instagram.limits.max_hashtags) == (2200, 30)


# -- capabilities -------------------------------------------------------------------------


def test_verify_credentials_reports_the_instagram_account(instagram) -> None:
    check = instagram.verify_credentials()
    assert (check.identity, check.display_name) == (IG_ID, "suncheon_city")
    assert check.missing_scopes == ()


def test_missing_scopes_are_reported(sim, platform) -> None:
    other = "17841400000000002"
    token = platform.add_account(other, "suncheon_culture", scopes=("instagram_basic",))
    check = connector_for(sim, token, other).verify_credentials()
    assert "instagram_content_publish" in check.missing_scopes


def test_publish_single_image_waits_for_container(instagram, sim, platform) -> None:
    platform.processing_polls = 2
    post = instagram.publish(OutboundPost(text="순천만국가정원 국화 전시 🌼", image_urls=(IMAGE,)))
    assert post.url.startswith("https://www.instagram.com/p/")
    stored = platform.objects[post.external_id]
    assert (stored["caption"], stored["urls"]) == ("순천만국가정원 국화 전시 🌼", [IMAGE])
    status_checks = [
        r
        for r in sim.simulator.recorded("instagram", "GET")
        if b"status_code" in str(r.query).encode()
    ]
    assert len(status_checks) == 3  # IN_PROGRESS twice, then FINISHED
    quota_checks = sim.simulator.recorded("instagram", "GET", "content_publishing_limit")
    assert len(quota_checks) == 1
    publish_call = sim.simulator.recorded("instagram", "POST", "/media_publish")[0]
    assert publish_call.headers["authorization"].startswith("Bearer EAAB")
    assert b"access_token" not in publish_call.body


def test_publish_carousel(instagram, platform, sim) -> None:
    urls = ("https://img.example/a.jpg", "https://img.example/b.jpg", "https://img.example/c.jpg")
    post = instagram.publish(OutboundPost(text="낙안읍성 사진 모음", image_urls=urls))
    stored = platform.objects[post.external_id]
    assert (stored["media_type"], stored["urls"]) == ("CAROUSEL_ALBUM", list(urls))
    containers = sim.simulator.recorded("instagram", "POST", f"/{IG_ID}/media")
    bodies = [parse_qs(r.body.decode()) for r in containers if r.path.endswith("/media")]
    assert sum(1 for b in bodies if b.get("is_carousel_item") == ["true"]) == 3
    assert bodies[-1]["media_type"] == ["CAROUSEL"]
    assert len(instagram.list_posts()) == 1  # a carousel is one post


def test_image_is_required_and_nothing_is_sent(instagram, sim) -> None:
    with pytest.raises(ContentRejected, match="image"):
        instagram.publish(OutboundPost(text="글만 있는 공지"))
    assert sim.simulator.recorded("instagram") == []


def test_container_error_is_rejected_and_never_published(instagram, platform, sim) -> None:
    original = platform._container_status

    def failing(container):
        container["status_code"] = "ERROR"
        return original(container)

    platform._container_status = failing
    try:
        with pytest.raises(ContentRejected, match="refused"):
            instagram.publish(OutboundPost(text="깨진 이미지", image_urls=(IMAGE,)))
    finally:
        del platform._container_status
    assert sim.simulator.recorded("instagram", "POST", "/media_publish") == []


def test_container_still_processing_is_transient(sim, token, platform) -> None:
    platform.processing_polls = 50
    connector = connector_for(sim, token, container_poll_attempts="3")
    with pytest.raises(TransientError, match="still being processed"):
        connector.publish(OutboundPost(text="큰 사진", image_urls=(IMAGE,)))
    assert sim.simulator.recorded("instagram", "POST", "/media_publish") == []


def test_publishing_quota_is_checked_first(instagram, platform, sim) -> None:
    platform.quota_total = 1
    instagram.publish(OutboundPost(text="오늘의 첫 게시물", image_urls=(IMAGE,)))
    with pytest.raises(RateLimited) as refused:
        instagram.publish(OutboundPost(text="두 번째", image_urls=(IMAGE,)))
    assert refused.value.retry_after == 3600
    containers = sim.simulator.recorded("instagram", "POST", f"/{IG_ID}/media")
    assert [r.path.rsplit("/", 1)[-1] for r in containers] == ["media", "media_publish"]
    instagram.list_posts()  # reading still works: the quota is not an account-wide block


def test_quota_error_from_media_publish_is_rate_limited(instagram, platform) -> None:
    platform.quota_total = 0
    instagram.account.options["quota_retry_after"] = "120"
    instagram._check_publishing_quota = lambda: None  # as if the check raced another publish
    with pytest.raises(RateLimited) as refused:
        instagram.publish(OutboundPost(text="한도 초과", image_urls=(IMAGE,)))
    assert (refused.value.platform_code, refused.value.retry_after) == (9, 120)


def test_list_posts_and_metrics(instagram, platform) -> None:
    media = platform.add_media(
        IG_ID, "선암사 승선교 #선암사", IMAGE, views=27100, reach=19800, likes=1404, shares=61
    )
    media["saved"] = 290
    platform.citizen_comment(media["id"], "1789", "kim_citizen", "멋져요")
    [listed] = instagram.list_posts()
    assert (listed.external_id, listed.text) == (media["id"], "선암사 승선교 #선암사")
    assert listed.created_at is not None
    metrics = instagram.post_metrics(media["id"])
    assert (metrics.views, metrics.reach, metrics.likes, metrics.comments, metrics.shares) == (
        27100,
        19800,
        1404,
        1,
        61,
    )
    assert metrics.clicks is None
    assert (metrics.raw["saved"], metrics.raw["total_interactions"]) == (290, 1404 + 1 + 61 + 290)
    assert instagram.channel_metrics().followers == 24000


def test_retired_metric_is_refused(sim, token, platform) -> None:
    connector = connector_for(sim, token, post_metrics="impressions")
    media = platform.add_media(IG_ID, "x", IMAGE)
    with pytest.raises(ContentRejected, match="no longer supported"):
        connector.post_metrics(media["id"])


def test_comments_replies_and_hide(instagram, platform) -> None:
    media = platform.add_media(IG_ID, "낙안읍성 야경", IMAGE)
    question = platform.citizen_comment(media["id"], "1789", "kim_citizen", "야간 개장 언제예요?")
    spam = platform.citizen_comment(media["id"], "1790", "ad_bot", "부업 문의 010-0000-0000")
    comments = {c.external_id: c for c in instagram.list_comments(media["id"])}
    assert set(comments) == {question["id"], spam["id"]}
    asked = comments[question["id"]]
    assert (asked.kind, asked.author_id, asked.author_name, asked.post_external_id) == (
        InboundKind.COMMENT,
        "1789",
        "kim_citizen",
        media["id"],
    )
    reply_id = instagram.reply_to_comment(asked, "금·토 저녁 9시까지 엽니다.")
    threaded = {c.external_id: c for c in instagram.list_comments(media["id"])}
    assert threaded[reply_id].parent_external_id == question["id"]
    assert threaded[reply_id].text == "금·토 저녁 9시까지 엽니다."
    # A reply to a reply goes under the top-level comment (one level of threading).
    second = instagram.reply_to_comment(threaded[reply_id], "감사합니다")
    assert platform.objects[second]["parent_id"] == question["id"]
    instagram.hide_comment(spam["id"])
    assert platform.objects[spam["id"]]["hidden"] is True
    instagram.hide_comment(spam["id"], hidden=False)
    assert platform.objects[spam["id"]]["hidden"] is False


def test_reply_to_direct_message(instagram, platform, sim) -> None:
    platform.citizen_message(IG_ID, "6543210987654321", "선암사 가는 버스 번호 알려주세요")
    [message] = instagram.parse_webhook(signed(fixture("webhook_message.json")))
    message_id = instagram.reply_to_message(message, "1번 버스를 타세요.")
    assert message_id.startswith("aWdfZAG1f")
    # Facebook Login: the reply goes out as the linked Page (doc §4 e), not the IG user.
    [call] = sim.simulator.recorded("instagram", "POST", "/messages")
    assert call.path == f"/v25.0/{PAGE_ID}/messages"
    assert json.loads(call.body)["recipient"] == {"id": "6543210987654321"}
    with pytest.raises(Unsupported):
        instagram.fetch_messages()


def test_reply_without_a_known_page_falls_back_to_the_instagram_user(sim, platform, token) -> None:
    platform.citizen_message(IG_ID, "6543210987654321", "문의드립니다")
    connector = connector_for(sim, token, page_id="")
    [message] = connector.parse_webhook(signed(fixture("webhook_message.json")))
    assert connector.reply_to_message(message, "답변입니다.").startswith("aWdfZAG1f")
    [call] = sim.simulator.recorded("instagram", "POST", "/messages")
    assert call.path == f"/v25.0/{IG_ID}/messages"
    connector.close()


def test_permalink_lookup_failure_after_publishing_still_returns_the_post(
    instagram, sim, platform
) -> None:
    # The media is live once media_publish answers: a refused permalink read (here a rate
    # limit on the media's GET; media ids start 180) must not make publish raise, or the
    # caller would publish again.
    sim.simulator.inject(
        "instagram",
        Fault(FaultKind.RATE_LIMITED, methods=frozenset({"GET"}), path_pattern=r"/180\d{13}$"),
    )
    post = instagram.publish(OutboundPost(text="국화 전시", image_urls=(IMAGE,)))
    assert platform.objects[post.external_id]["caption"] == "국화 전시"
    assert post.url == ""
    assert len(sim.simulator.recorded("instagram", "POST", "/media_publish")) == 1
    permalink_reads = sim.simulator.recorded("instagram", "GET", f"/{post.external_id}")
    assert [r.status for r in permalink_reads] == [400]


def test_edit_and_delete_are_unsupported(instagram) -> None:
    with pytest.raises(Unsupported):
        instagram.edit_post("1", OutboundPost(text="x"))
    with pytest.raises(Unsupported):
        instagram.delete_post("1")


# -- failure classes ------------------------------------------------------------------------


def test_rate_limit_is_remembered_without_calling_again(instagram, sim) -> None:
    sim.simulator.inject("instagram", Fault(FaultKind.RATE_LIMITED))
    with pytest.raises(RateLimited) as first:
        instagram.list_posts()
    assert first.value.retry_after >= 60
    assert first.value.message.startswith("Instagram:")
    calls = len(sim.simulator.recorded("instagram"))
    with pytest.raises(RateLimited):
        instagram.list_posts()
    assert len(sim.simulator.recorded("instagram")) == calls


def test_usage_header_at_100_percent_blocks_further_calls(instagram, platform) -> None:
    platform.call_budget = 2
    instagram.list_posts()
    instagram.list_posts()
    with pytest.raises(RateLimited):
        instagram.list_posts()


def test_server_error_on_read_is_transient_and_on_publish_unknown(instagram, sim) -> None:
    sim.simulator.inject("instagram", Fault(FaultKind.SERVER_ERROR, methods=frozenset({"GET"})))
    with pytest.raises(TransientError):
        instagram.list_posts()
    sim.simulator.inject("instagram", Fault(FaultKind.SERVER_ERROR, path_pattern="/media_publish$"))
    with pytest.raises(OutcomeUnknown):
        instagram.publish(OutboundPost(text="서버 오류 중 게시", image_urls=(IMAGE,)))


def test_server_error_on_container_is_transient_not_unknown(instagram, sim) -> None:
    sim.simulator.inject("instagram", Fault(FaultKind.SERVER_ERROR, path_pattern=r"/\d+/media$"))
    with pytest.raises(TransientError) as raised:
        instagram.publish(OutboundPost(text="컨테이너 오류", image_urls=(IMAGE,)))
    assert not isinstance(raised.value, OutcomeUnknown)


def test_timeout_after_processing_is_unknown_then_reconciled(instagram, sim) -> None:
    post = OutboundPost(
        text="순천만갈대축제 개막 안내",
        link="https://www.suncheon.go.kr",
        image_urls=(IMAGE,),
        idempotency_key="pub-1",
    )
    sim.simulator.inject(
        "instagram",
        Fault(
            FaultKind.TIMEOUT_AFTER_PROCESSING, delay=FAULT_DELAY, path_pattern="/media_publish$"
        ),
    )
    with pytest.raises(OutcomeUnknown):
        instagram.publish(post)
    found = instagram.find_published(post)
    assert found is not None
    assert len(instagram.list_posts()) == 1


def test_timeout_before_processing_on_publish_is_unknown_and_not_found(instagram, sim) -> None:
    post = OutboundPost(text="응답 없음", image_urls=(IMAGE,))
    sim.simulator.inject(
        "instagram", Fault(FaultKind.TIMEOUT, delay=FAULT_DELAY, path_pattern="/media_publish$")
    )
    with pytest.raises(OutcomeUnknown):
        instagram.publish(post)
    assert instagram.find_published(post) is None


def test_connection_refused_is_transient(token) -> None:
    account = ChannelAccount(IG_ID, Credentials(access_token=token), api_base="http://127.0.0.1:9")
    with pytest.raises(TransientError):
        Instagram(account, client=short_timeout_client()).publish(
            OutboundPost(text="x", image_urls=(IMAGE,))
        )


@pytest.mark.parametrize(
    ("kind", "error"),
    [
        (FaultKind.TOKEN_EXPIRED, CredentialExpired),
        (FaultKind.TOKEN_REVOKED, CredentialRevoked),
        (FaultKind.MALFORMED, MalformedResponse),
        (FaultKind.TIMEOUT, TransientError),
    ],
)
def test_injected_failures_are_classified(instagram, sim, kind, error) -> None:
    sim.simulator.inject("instagram", Fault(kind, delay=FAULT_DELAY))
    with pytest.raises(error):
        instagram.list_posts()


def test_real_token_states(instagram, platform, token) -> None:
    platform.expire_token(token)
    with pytest.raises(CredentialExpired):
        instagram.list_posts()
    platform.tokens[token].expires_at = None
    platform.revoke_token(token)
    with pytest.raises(CredentialRevoked):
        instagram.list_posts()


def test_permission_rejection_and_not_found(sim, platform, instagram) -> None:
    with pytest.raises(ContentRejected, match="too long"):
        instagram.publish(OutboundPost(text="가" * 2201, image_urls=(IMAGE,)))
    with pytest.raises(ContentRejected, match="hashtags"):
        instagram.publish(
            OutboundPost(text=" ".join(f"#태그{n}" for n in range(31)), image_urls=(IMAGE,))
        )
    with pytest.raises(NotFound):
        instagram.list_comments("17999999999999999")
    read_only = platform.add_account("17841400000000003", "readonly", scopes=("instagram_basic",))
    connector = connector_for(sim, read_only, "17841400000000003")
    with pytest.raises(PermissionMissing):
        connector.publish(OutboundPost(text="권한 없음", image_urls=(IMAGE,)))


# -- webhooks ---------------------------------------------------------------------------------


def signed(body: bytes, secret: str = APP_SECRET) -> WebhookRequest:
    return WebhookRequest(
        "POST", {"x-hub-signature-256": "sha256=" + hmac_sha256_hex(secret, body)}, {}, body
    )


def test_handshake(instagram) -> None:
    query = {"hub.mode": "subscribe", "hub.verify_token": "verify-me", "hub.challenge": "8812"}
    ok = instagram.webhook_handshake(WebhookRequest("GET", {}, query, b""))
    assert ok is not None
    assert (ok.status, ok.body) == (200, b"8812")
    wrong = instagram.webhook_handshake(
        WebhookRequest("GET", {}, {**query, "hub.verify_token": "guess"}, b"")
    )
    assert wrong is not None
    assert wrong.status == 403


def test_signatures_good_bad_missing(instagram) -> None:
    body = fixture("webhook_comment.json")
    instagram.verify_webhook(signed(body))
    with pytest.raises(WebhookRejected, match="bad_signature"):
        instagram.verify_webhook(signed(body, "another-secret"))
    tampered = body.replace("야간".encode(), "주간".encode())
    with pytest.raises(WebhookRejected, match="bad_signature"):
        instagram.verify_webhook(WebhookRequest("POST", signed(body).headers, {}, tampered))
    with pytest.raises(WebhookRejected, match="missing_signature"):
        instagram.verify_webhook(WebhookRequest("POST", {}, {}, body))


def test_docs_payloads_parse(instagram) -> None:
    [comment] = instagram.parse_webhook(signed(fixture("webhook_comment.json")))
    assert (comment.kind, comment.external_id, comment.post_external_id) == (
        InboundKind.COMMENT,
        "17865799348089039",
        "17920238422030506",
    )
    assert (comment.author_id, comment.author_name) == ("1789401234567890", "kim_citizen")
    assert comment.text == "낙안읍성 야간 개장은 언제인가요?"
    [message] = instagram.parse_webhook(signed(fixture("webhook_message.json")))
    assert (message.kind, message.external_id, message.author_id) == (
        InboundKind.MESSAGE,
        "aWdfZAG1fZAmFjZAGlkOjE3ODQxNDAw",
        "6543210987654321",
    )
    assert instagram.parse_webhook(signed(fixture("webhook_message_echo.json"))) == []


def test_replayed_delivery_carries_the_same_ids(instagram) -> None:
    body = fixture("webhook_comment.json")
    first = instagram.parse_webhook(signed(body))
    again = instagram.parse_webhook(signed(body))
    assert [i.external_id for i in first] == [i.external_id for i in again] == ["17865799348089039"]


def test_malformed_and_foreign_deliveries_are_rejected(instagram) -> None:
    with pytest.raises(WebhookRejected, match="malformed"):
        instagram.parse_webhook(signed(b"{not json"))
    page_event = fixture("webhook_comment.json").replace(b'"instagram"', b'"page"')
    with pytest.raises(WebhookRejected, match="malformed"):
        instagram.parse_webhook(signed(page_event))
    broken = {
        "object": "instagram",
        "entry": [{"id": IG_ID, "changes": [{"field": "comments", "value": {"text": "id 없음"}}]}],
    }
    with pytest.raises(WebhookRejected, match="malformed"):
        instagram.parse_webhook(signed(json.dumps(broken).encode()))
    # The app's one webhook covers all its accounts: each item names the one it is for.
    foreign = fixture("webhook_comment.json").replace(IG_ID.encode(), b"999")
    assert [item.account_id for item in instagram.parse_webhook(signed(foreign))] == ["999"]


def test_simulator_delivers_signed_webhooks(sim, platform, instagram) -> None:
    received: list[WebhookRequest] = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append(
                WebhookRequest("POST", {k.lower(): v for k, v in self.headers.items()}, {}, body)
            )
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        platform.subscribe_webhooks(IG_ID, f"http://127.0.0.1:{server.server_port}/hook")
        post = instagram.publish(OutboundPost(text="웹훅 시험", image_urls=(IMAGE,)))
        platform.citizen_comment(post.external_id, "1789", "kim_citizen", "좋아요")
        platform.citizen_message(IG_ID, "6543210987654321", "문의드립니다")
    finally:
        server.shutdown()
    comment_delivery, message_delivery = received
    for delivery in received:
        instagram.verify_webhook(delivery)
    [comment] = instagram.parse_webhook(comment_delivery)
    assert (comment.text, comment.post_external_id) == ("좋아요", post.external_id)
    [message] = instagram.parse_webhook(message_delivery)
    assert isinstance(message, InboundItem)
    assert (message.kind, message.text) == (InboundKind.MESSAGE, "문의드립니다")


# -- connecting by OAuth ----------------------------------------------------------------------


def test_oauth_connect_lists_linked_instagram_accounts(sim, platform) -> None:
    platform.add_account(IG_ID, "suncheon_city", page_id="104220000000011")
    app = OAuthApp(APP_ID, APP_SECRET, "http://127.0.0.1/cb")
    connector = Instagram(
        ChannelAccount("", Credentials(), api_base=sim.platform_url("instagram")),
        client=short_timeout_client(),
    )
    assert Instagram.oauth_login
    url = connector.oauth_authorize_url(app, state="s1", code_challenge="unused")
    parts = urlsplit(url)
    assert url.startswith(sim.platform_url("instagram") + "/v25.0/dialog/oauth?")
    assert "instagram_content_publish" in parse_qs(parts.query)["scope"][0]
    consent = httpx.get(url, timeout=5)
    assert 'lang="ko"' in consent.text
    allow = consent.text.split('id="allow" href="')[1].split('"')[0]
    callback = parse_qs(urlsplit(allow).query)
    assert callback["state"] == ["s1"]
    [account] = connector.oauth_accounts(app, code=callback["code"][0], code_verifier="")
    assert (account.account_id, account.name) == (IG_ID, "@suncheon_city")
    assert account.credentials.extra["app_secret"] == APP_SECRET
    assert len(account.credentials.extra["verify_token"]) >= 16
    # The linked Page is kept: DM replies are sent as it.
    assert account.credentials.extra["page_id"] == "104220000000011"
    # The Page token it got works for the account.
    connected = connector_for(sim, account.credentials.access_token)
    assert connected.verify_credentials().identity == IG_ID
    # The code is single-use.
    with pytest.raises(ContentRejected):
        connector.oauth_accounts(app, code=callback["code"][0], code_verifier="")


def test_real_oauth_dialog_is_on_www_facebook_com() -> None:
    connector = Instagram(ChannelAccount("", Credentials()), client=short_timeout_client())
    url = connector.oauth_authorize_url(
        OAuthApp("123", "secret", "https://sotong.example/cb"), state="s", code_challenge="c"
    )
    assert url.startswith("https://www.facebook.com/v25.0/dialog/oauth?client_id=123")
    assert "secret" not in url
