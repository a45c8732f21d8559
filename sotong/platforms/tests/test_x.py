"""X connector contract tests, against the simulator (and the docs' sample payloads)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from sotong.platforms.base import (
    ChannelAccount,
    ContentRejected,
    CredentialExpired,
    CredentialRevoked,
    Credentials,
    DuplicateContent,
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
    WebhookRejected,
    WebhookRequest,
    pkce_challenge,
)
from sotong.platforms.x import XAccount, weighted_length
from sotong.simulator import x as simulated_x
from sotong.simulator.core import Fault, FaultKind
from sotong.simulator.testing import (
    FAULT_DELAY,
    UNREACHABLE,
    fault_raises,
    make_connector,
    rate_limit_is_remembered,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "x"
USER_ID = "1587000000000000001"
CONSUMER_SECRET = simulated_x.CONSUMER_SECRET


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@pytest.fixture
def platform(sim):
    return sim.simulator["x"]


@pytest.fixture
def token(platform):
    return platform.add_user(
        USER_ID, "순천시", "suncheon_city", refresh_token="refresh-1", followers=12800
    )


def connector_for(sim, token: str, **changes: object) -> XAccount:
    credentials = Credentials(
        access_token=token,
        refresh_token="refresh-1",
        scopes=simulated_x.ALL_SCOPES,
        extra={
            "client_id": simulated_x.OAUTH_APP[0],
            "client_secret": simulated_x.OAUTH_APP[1],
            "consumer_secret": CONSUMER_SECRET,
        },
    )
    for name, value in changes.items():
        setattr(credentials, name, value)
    return make_connector(XAccount, sim.platform_url("x"), USER_ID, credentials)


@pytest.fixture
def x(sim, token) -> Iterator[XAccount]:
    connector = connector_for(sim, token)
    yield connector
    connector.close()


# -- counting -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "weight"),
    [
        ("hello", 5),
        ("안녕하세요", 10),  # Hangul weighs 2
        ("가" * 140, 280),
        ("공지 https://www.suncheon.go.kr/kr/news/0001/?page=3&x=1 확인", 4 + 1 + 23 + 1 + 4),
        ("👍🏽", 2),  # emoji with skin tone: one sequence
        ("👨\u200d👩\u200d👧", 2),  # ZWJ family
        ("🇰🇷", 2),  # flag
        ("cafe\u0301", 4),  # NFC: é is one code point
        ("“quoted” – ok", 13),  # U+201C/D and U+2013 are in the light range
    ],
)
def test_weighted_length(text, weight) -> None:
    assert weighted_length(text) == weight


def test_limits_declare_twitter_counting() -> None:
    assert (XAccount.limits.max_length, XAccount.limits.counting) == (280, "twitter")


# -- capabilities -------------------------------------------------------------------------


def test_verify_credentials(x) -> None:
    check = x.verify_credentials()
    assert (check.identity, check.display_name, check.missing_scopes) == (USER_ID, "순천시", ())


def test_missing_scopes_are_reported(sim, platform, token) -> None:
    connector = connector_for(sim, token, scopes=("tweet.read", "users.read"))
    assert "tweet.write" in connector.verify_credentials().missing_scopes


def test_publish_text_link_and_images(x, sim, platform, image_server) -> None:
    text = x.publish(OutboundPost(text="국화 전시 안내", link="https://www.suncheon.go.kr"))
    assert text.url == f"https://x.com/i/web/status/{text.external_id}"
    body = json.loads(sim.simulator.recorded("x", "POST", "/2/tweets")[0].body)
    assert body == {"text": "국화 전시 안내\nhttps://www.suncheon.go.kr"}  # the link is in the text
    assert text.text.startswith("국화 전시 안내\nhttps://t.co/")
    photos = x.publish(
        OutboundPost(
            text="정원 사진", image_urls=(f"{image_server}/a.png", f"{image_server}/b.png")
        )
    )
    uploads = sim.simulator.recorded("x", "POST", "/2/media/upload")
    assert len(uploads) == 2
    assert b'name="media_category"' in uploads[0].body
    assert b"tweet_image" in uploads[0].body
    assert len(platform.tweets[photos.external_id]["media_keys"]) == 2
    assert uploads[0].headers["authorization"].startswith("Bearer ")
    listed = [post.external_id for post in x.list_posts()]
    assert listed == [photos.external_id, text.external_id]


def test_publish_refuses_too_many_images_and_missing_image(x, image_server) -> None:
    with pytest.raises(ContentRejected):
        x.publish(OutboundPost(text="많은 사진", image_urls=(f"{image_server}/a.png",) * 5))
    with pytest.raises(ContentRejected, match="image not available"):
        x.publish(OutboundPost(text="없는 사진", image_urls=(f"{image_server}/missing.png",)))


def test_delete(x) -> None:
    post = x.publish(OutboundPost(text="오타 있는 공지"))
    x.delete_post(post.external_id)
    assert x.list_posts() == []
    with pytest.raises(NotFound):
        x.delete_post(post.external_id)


def test_metrics_public_and_non_public(x, platform) -> None:
    post = x.publish(OutboundPost(text="갈대축제 개막"))
    platform.tweets[post.external_id]["metrics"].update(
        impression_count=9050, like_count=74, retweet_count=21, quote_count=3, url_link_clicks=88
    )
    platform.citizen_reply(post.external_id, "2244994945", "김시민", "몇 시까지 하나요?")
    metrics = x.post_metrics(post.external_id)
    assert (metrics.views, metrics.likes, metrics.comments, metrics.shares, metrics.clicks) == (
        9050,
        74,
        1,
        24,
        88,
    )
    old = platform.add_tweet(USER_ID, "지난달 공지", age=40 * 86400, impression_count=500)
    aged = x.post_metrics(old["id"])  # non-public metrics are gone after 30 days
    assert (aged.views, aged.clicks) == (500, None)
    assert x.channel_metrics().followers == 12800
    with pytest.raises(NotFound):
        x.post_metrics("1990000000000999999")


def test_comments_and_reply(x, platform) -> None:
    post = x.publish(OutboundPost(text="하수관로 공사 안내"))
    question = platform.citizen_reply(post.external_id, "2244994945", "김시민", "언제 끝나요?")
    [comment] = x.list_comments(post.external_id)
    assert (comment.kind, comment.external_id, comment.author_name, comment.post_external_id) == (
        InboundKind.COMMENT,
        question["id"],
        "김시민",
        post.external_id,
    )
    reply_id = x.reply_to_comment(comment, "12월 5일에 끝납니다.")
    threaded = {item.external_id: item for item in x.list_comments(post.external_id)}
    assert threaded[reply_id].parent_external_id == question["id"]
    assert platform.tweets[reply_id]["replied_to"] == question["id"]


def test_mentions_and_dms_fetch_and_reply(x, platform) -> None:
    post = x.publish(OutboundPost(text="셔틀버스 안내"))
    reply = platform.citizen_reply(post.external_id, "2244994945", "김시민", "어디서 타나요?")
    mention = platform.citizen_mention(USER_ID, "2244994946", "이시민", "가로등이 꺼졌어요")
    dm = platform.citizen_dm(USER_ID, "2244994947", "박시민", "여권 재발급은 어디서 하나요?")
    items, cursor = x.fetch_messages()
    kinds = {item.external_id: item.kind for item in items}
    assert kinds == {
        reply["id"]: InboundKind.COMMENT,
        mention["id"]: InboundKind.MENTION,
        dm["id"]: InboundKind.MESSAGE,
    }
    message = next(item for item in items if item.kind is InboundKind.MESSAGE)
    assert (message.author_id, message.author_name) == ("2244994947", "박시민")
    event_id = x.reply_to_message(message, "시청 민원실에서 합니다.")
    assert platform.dm_events[-1]["id"] == event_id
    assert platform.dm_events[-1]["recipient_id"] == "2244994947"
    assert x.fetch_messages(cursor)[0] == []  # our own reply is not inbound
    later = platform.citizen_dm(USER_ID, "2244994947", "박시민", "감사합니다")
    assert [item.external_id for item in x.fetch_messages(cursor)[0]] == [later["id"]]


def test_bursts_larger_than_a_page_are_read_back_to_the_cursor(x, platform, sim) -> None:
    platform.citizen_mention(USER_ID, "2244994946", "이시민", "첫 문의")
    platform.citizen_dm(USER_ID, "2244994947", "박시민", "첫 메시지")
    _, cursor = x.fetch_messages()
    mentions = [
        platform.citizen_mention(USER_ID, f"22449950{n:03d}", "시민", f"가로등 {n}")
        for n in range(230)  # three pages of 100
    ]
    dms = [
        platform.citizen_dm(USER_ID, f"22449960{n:03d}", "시민", f"문의 {n}") for n in range(150)
    ]
    before = len(sim.simulator.recorded("x", "GET"))
    items, newest = x.fetch_messages(cursor)
    got = sorted(item.external_id for item in items)
    assert got == sorted(t["id"] for t in [*mentions, *dms])
    calls = sim.simulator.recorded("x", "GET")[before:]
    mention_calls = [c for c in calls if c.path.endswith("/mentions")]
    dm_calls = [c for c in calls if c.path == "/2/dm_events"]
    assert (len(mention_calls), len(dm_calls)) == (3, 2)
    # Later pages follow meta.next_token as pagination_token, keeping since_id.
    assert "pagination_token" in mention_calls[1].query
    assert mention_calls[1].query["since_id"] == mention_calls[0].query["since_id"]
    assert "pagination_token" in dm_calls[1].query
    assert newest == f"{mentions[-1]['id']}:{dms[-1]['id']}"
    assert x.fetch_messages(newest) == ([], newest)


def test_refresh_credentials_rotates_tokens(x, sim) -> None:
    fresh = x.refresh_credentials()
    assert fresh.access_token != ""
    assert fresh.refresh_token not in ("", "refresh-1")
    assert fresh.expires_at is not None
    assert fresh.extra["consumer_secret"] == CONSUMER_SECRET
    assert x.verify_credentials().identity == USER_ID  # the new access token works
    stale = connector_for(sim, "unused")
    with pytest.raises(CredentialRevoked):  # refresh tokens are single-use
        stale.refresh_credentials()


def test_refused_refresh_after_revocation(x, platform, token) -> None:
    platform.revoke_token(token)
    with pytest.raises(CredentialExpired):  # X answers a revoked token like an expired one
        x.list_posts()
    with pytest.raises(CredentialRevoked):
        x.refresh_credentials()


def test_oauth_connect_with_pkce(sim, platform) -> None:
    platform.add_user(USER_ID, "순천시", "suncheon_city")
    connector = XAccount(ChannelAccount("", Credentials(), api_base=sim.platform_url("x")))
    app = OAuthApp(*simulated_x.OAUTH_APP, redirect_uri="http://sotong.test/cb")
    verifier = "v" * 50
    url = connector.oauth_authorize_url(app, state="s-1", code_challenge=pkce_challenge(verifier))
    query = parse_qs(urlsplit(url).query)
    assert url.startswith(sim.platform_url("x") + "/i/oauth2/authorize?")
    assert query["code_challenge_method"] == ["S256"]
    assert set(query["scope"][0].split()) == set(XAccount.required_scopes)
    consent = httpx.get(url, timeout=5)
    assert 'lang="ko"' in consent.text
    assert 'id="allow"' in consent.text
    redirect = consent.text.split('id="allow" href="')[1].split('"')[0].replace("&amp;", "&")
    params = parse_qs(urlsplit(redirect).query)
    assert params["state"] == ["s-1"]
    with pytest.raises(CredentialRevoked):  # a wrong verifier is refused
        XAccount(ChannelAccount("", Credentials(), api_base=sim.platform_url("x"))).oauth_accounts(
            app, code=params["code"][0], code_verifier="w" * 50
        )
    # The code was used up by the refused attempt; sign in again.
    consent = httpx.get(url, timeout=5)
    redirect = consent.text.split('id="allow" href="')[1].split('"')[0].replace("&amp;", "&")
    code = parse_qs(urlsplit(redirect).query)["code"][0]
    [account] = connector.oauth_accounts(app, code=code, code_verifier=verifier)
    assert (account.account_id, account.name) == (USER_ID, "순천시")
    assert account.credentials.refresh_token
    assert account.credentials.expires_at is not None
    assert set(account.credentials.scopes) == set(XAccount.required_scopes)
    assert account.credentials.extra["client_secret"] == simulated_x.OAUTH_APP[1]
    token_call = sim.simulator.recorded("x", "POST", "/2/oauth2/token")[-1]
    assert token_call.headers["authorization"].startswith("Basic ")


# -- failure classes ------------------------------------------------------------------------


def test_rate_limit_is_remembered_without_calling_again(x, sim) -> None:
    first = rate_limit_is_remembered(sim, "x", x.list_posts)
    assert 100 <= first.retry_after <= 121  # from x-rate-limit-reset, not a guess


def test_exhausted_budget_header_blocks_further_calls(x, sim, platform) -> None:
    platform.rate_limits["GET /2/users/:id/tweets"] = 2
    x.list_posts()
    x.list_posts()  # x-rate-limit-remaining: 0
    calls = len(sim.simulator.recorded("x"))
    with pytest.raises(RateLimited):
        x.list_posts()
    assert len(sim.simulator.recorded("x")) == calls


def test_server_error_on_read_is_transient_and_on_write_unknown(x, sim) -> None:
    sim.simulator.inject("x", Fault(FaultKind.SERVER_ERROR, methods=frozenset({"GET"})))
    with pytest.raises(TransientError):
        x.list_posts()
    sim.simulator.inject("x", Fault(FaultKind.SERVER_ERROR, methods=frozenset({"POST"})))
    with pytest.raises(OutcomeUnknown):
        x.publish(OutboundPost(text="서버 오류 중 게시"))


def test_timeout_after_processing_is_unknown_then_reconciled(x, sim) -> None:
    post = OutboundPost(
        text="순천만갈대축제 개막 안내", link="https://www.suncheon.go.kr", idempotency_key="pub-1"
    )
    sim.simulator.inject(
        "x",
        Fault(FaultKind.TIMEOUT_AFTER_PROCESSING, delay=FAULT_DELAY, path_pattern="/2/tweets$"),
    )
    with pytest.raises(OutcomeUnknown):
        x.publish(post)
    found = x.find_published(post)  # found although X rewrote the link to t.co
    assert found is not None
    assert len(x.list_posts()) == 1
    assert x.find_published(OutboundPost(text="다른 글")) is None


def test_timeout_before_processing_on_read_is_transient(x, sim) -> None:
    timeout = Fault(FaultKind.TIMEOUT, delay=FAULT_DELAY)
    fault_raises(sim, "x", timeout, TransientError, x.list_posts)


def test_connection_refused_is_transient(token) -> None:
    unreachable = make_connector(XAccount, UNREACHABLE, USER_ID, Credentials(access_token=token))
    with pytest.raises(TransientError):
        unreachable.publish(OutboundPost(text="x"))


@pytest.mark.parametrize(
    ("kind", "error"),
    [
        (FaultKind.TOKEN_EXPIRED, CredentialExpired),
        (FaultKind.TOKEN_REVOKED, CredentialExpired),  # X's 401 does not tell them apart
        (FaultKind.MALFORMED, MalformedResponse),
    ],
)
def test_injected_failures_are_classified(x, sim, kind, error) -> None:
    fault_raises(sim, "x", Fault(kind), error, x.list_posts)


def test_expired_token_then_refresh(x, platform, token) -> None:
    platform.expire_token(token)
    with pytest.raises(CredentialExpired):
        x.list_posts()
    x.refresh_credentials()
    assert x.list_posts() == []


def test_permission_duplicate_rejection_and_not_found(sim, platform, x) -> None:
    x.publish(OutboundPost(text="같은 글"))
    with pytest.raises(DuplicateContent):
        x.publish(OutboundPost(text="같은 글"))
    with pytest.raises(ContentRejected):  # refused before sending
        x.publish(OutboundPost(text="가" * 141))
    assert len(sim.simulator.recorded("x", "POST", "/2/tweets")) == 2
    read_only = platform.add_user(USER_ID, "순천시", scopes=("tweet.read", "users.read"))
    with pytest.raises(PermissionMissing):
        connector_for(sim, read_only).publish(OutboundPost(text="권한 없음"))
    gone = x.publish(OutboundPost(text="지울 글"))
    x.delete_post(gone.external_id)
    comment = x.list_comments(gone.external_id)  # an empty thread
    assert comment == []
    with pytest.raises(NotFound):
        x.reply_to_comment(InboundItem(InboundKind.COMMENT, gone.external_id, "", "1"), "답글")


def test_simulator_refuses_overlong_text_with_problem(sim, token) -> None:
    answer = httpx.post(
        sim.platform_url("x") + "/2/tweets",
        json={"text": "가" * 141},
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    )
    assert answer.status_code == 400
    assert answer.json()["type"].endswith("/problems/invalid-request")
    assert isinstance(connector_for(sim, token).classify(answer), ContentRejected)


# -- webhooks ---------------------------------------------------------------------------------


def sign(body: bytes, secret: str = CONSUMER_SECRET) -> str:
    return (
        "sha256="
        + base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
    )


def signed(body: bytes, secret: str = CONSUMER_SECRET) -> WebhookRequest:
    return WebhookRequest("POST", {"x-twitter-webhooks-signature": sign(body, secret)}, {}, body)


def test_crc_handshake(x, sim, token) -> None:
    answer = x.webhook_handshake(WebhookRequest("GET", {}, {"crc_token": "abc123"}, b""))
    assert answer is not None
    assert answer.status == 200
    assert json.loads(answer.body) == {"response_token": sign(b"abc123")}
    assert x.webhook_handshake(WebhookRequest("POST", {}, {}, b"{}")) is None
    unconfigured = connector_for(sim, token)
    unconfigured.account.credentials.extra["consumer_secret"] = ""
    refused = unconfigured.webhook_handshake(WebhookRequest("GET", {}, {"crc_token": "a"}, b""))
    assert refused is not None
    assert refused.status == 403


def test_signatures_good_bad_missing(x) -> None:
    body = fixture("webhook_dm.json")
    x.verify_webhook(signed(body))
    with pytest.raises(WebhookRejected, match="bad_signature"):
        x.verify_webhook(signed(body, "another-secret"))
    tampered = body.replace("대형폐기물".encode(), "소형폐기물".encode())
    with pytest.raises(WebhookRejected, match="bad_signature"):
        x.verify_webhook(WebhookRequest("POST", signed(body).headers, {}, tampered))
    with pytest.raises(WebhookRejected, match="missing_signature"):
        x.verify_webhook(WebhookRequest("POST", {}, {}, body))


def test_docs_payloads_parse(x) -> None:
    [reply] = x.parse_webhook(signed(fixture("webhook_tweet_create.json")))  # ours skipped
    assert (reply.kind, reply.external_id, reply.author_name, reply.post_external_id) == (
        InboundKind.COMMENT,
        "1460400000000000001",
        "김시민",
        "1460323737035677698",
    )
    assert reply.created_at is not None
    assert reply.created_at.year == 2026
    [message] = x.parse_webhook(signed(fixture("webhook_dm.json")))
    assert (message.kind, message.external_id, message.author_id, message.conversation_id) == (
        InboundKind.MESSAGE,
        "1580705921830768647",
        "2244994945",
        f"2244994945-{USER_ID}",
    )


def test_replayed_delivery_carries_the_same_ids(x) -> None:
    body = fixture("webhook_tweet_create.json")
    first = x.parse_webhook(signed(body))
    again = x.parse_webhook(signed(body))
    assert (
        [i.external_id for i in first] == [i.external_id for i in again] == ["1460400000000000001"]
    )


def test_malformed_and_foreign_deliveries_are_rejected(x) -> None:
    with pytest.raises(WebhookRejected, match="malformed"):
        x.parse_webhook(signed(b"{not json"))
    with pytest.raises(WebhookRejected, match="malformed"):
        x.parse_webhook(
            signed(json.dumps({"for_user_id": USER_ID, "tweet_create_events": [{}]}).encode())
        )
    foreign = fixture("webhook_dm.json").replace(
        b'"for_user_id": "1587000000000000001"', b'"for_user_id": "999"'
    )
    # The app's one webhook covers all its users: each item names the one it is for.
    assert {item.account_id for item in x.parse_webhook(signed(foreign))} == {"999"}


def test_simulator_delivers_signed_webhooks_and_checks_crc(sim, platform, x) -> None:
    received: list[WebhookRequest] = []

    class Receiver(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            query = {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}
            answer = x.webhook_handshake(WebhookRequest("GET", {}, query, b""))
            assert answer is not None
            self.send_response(answer.status)
            self.send_header("Content-Type", answer.content_type)
            self.end_headers()
            self.wfile.write(answer.body)

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
        url = f"http://127.0.0.1:{server.server_port}/hook"
        assert platform.crc_check(url)
        platform.subscribe_webhooks(USER_ID, url)
        post = x.publish(OutboundPost(text="웹훅 시험"))
        platform.citizen_reply(post.external_id, "2244994945", "최시민", "좋아요")
        platform.citizen_dm(USER_ID, "2244994945", "최시민", "문의드려요")
    finally:
        server.shutdown()
    items = []
    for delivery in received:
        x.verify_webhook(delivery)
        items.extend(x.parse_webhook(delivery))
    assert [(i.kind, i.author_name) for i in items] == [
        (InboundKind.COMMENT, "최시민"),
        (InboundKind.MESSAGE, "최시민"),
    ]
    # The webhook and the polling fetch name the same items.
    fetched = {i.external_id for i in x.fetch_messages()[0]}
    assert {i.external_id for i in items} == fetched
