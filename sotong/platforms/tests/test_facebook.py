"""Facebook connector contract tests, against the simulator (and the docs' sample payloads)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sotong.platforms.base import (
    ChannelAccount,
    ContentRejected,
    CredentialExpired,
    CredentialRevoked,
    Credentials,
    DuplicateContent,
    InboundKind,
    MalformedResponse,
    NotFound,
    OutboundPost,
    OutcomeUnknown,
    PermissionMissing,
    RateLimited,
    TransientError,
    WebhookRejected,
    WebhookRequest,
    hmac_sha256_hex,
)
from sotong.platforms.facebook import FacebookPage
from sotong.simulator.core import Fault, FaultKind
from sotong.simulator.testing import FAULT_DELAY, short_timeout_client

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "facebook"
PAGE_ID = "104220000000001"
APP_SECRET = "sim-app-secret"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@pytest.fixture
def page(sim):
    return sim.simulator["facebook"]


@pytest.fixture
def token(page):
    return page.add_page(PAGE_ID, "순천시", followers=31000)


def connector_for(sim, token: str, **extra: str) -> FacebookPage:
    credentials = Credentials(
        access_token=token,
        extra={
            "app_id": "sotong-app",
            "app_secret": APP_SECRET,
            "verify_token": "verify-me",
            **extra,
        },
    )
    account = ChannelAccount(PAGE_ID, credentials, api_base=sim.platform_url("facebook"))
    return FacebookPage(account, client=short_timeout_client())


@pytest.fixture
def facebook(sim, token):
    connector = connector_for(sim, token)
    yield connector
    connector.close()


# -- capabilities -------------------------------------------------------------------------


def test_verify_credentials_reports_identity_and_scopes(facebook) -> None:
    check = facebook.verify_credentials()
    assert check.identity == PAGE_ID
    assert check.display_name == "순천시"
    assert check.missing_scopes == ()


def test_missing_scopes_are_reported(sim, page) -> None:
    token = page.add_page(
        "104220000000002", "순천시 문화", scopes=("pages_show_list", "pages_read_engagement")
    )
    connector = connector_for(sim, token)
    connector.account.account_id = "104220000000002"
    assert "pages_manage_posts" in connector.verify_credentials().missing_scopes


def test_scopes_unknown_without_app_secret_are_not_reported_missing(sim, token) -> None:
    # No app secret: debug_token cannot be asked, so nothing says what was granted.
    connector = connector_for(sim, token, app_secret="")
    check = connector.verify_credentials()
    assert (check.identity, check.granted_scopes, check.missing_scopes) == (PAGE_ID, (), ())
    assert sim.simulator.recorded("facebook", "GET", "/debug_token") == []
    # Scopes stored with the credentials still count as known.
    connector.account.credentials.scopes = ("pages_manage_posts",)
    assert "read_insights" in connector.verify_credentials().missing_scopes


def test_permalink_lookup_failure_after_publishing_still_returns_the_post(
    facebook, sim, page
) -> None:
    # The post exists once /feed answers: a rate limit on the permalink read must not make
    # publish raise (the caller would post again); the URL is built instead.
    sim.simulator.inject("facebook", Fault(FaultKind.RATE_LIMITED, methods=frozenset({"GET"})))
    post = facebook.publish(OutboundPost(text="국화축제 셔틀버스 안내"))
    assert post.url == f"https://www.facebook.com/{post.external_id}"
    assert page.objects[post.external_id]["message"] == "국화축제 셔틀버스 안내"
    [read] = sim.simulator.recorded("facebook", "GET", f"/{post.external_id}")
    assert read.status == 400


def test_publish_text_link_and_photos(facebook, sim) -> None:
    text = facebook.publish(
        OutboundPost(text="주간꿀팁: 대형폐기물 신고 방법", link="https://www.suncheon.go.kr")
    )
    assert text.external_id.startswith(PAGE_ID + "_")
    assert text.url.startswith("https://www.facebook.com/")
    photo = facebook.publish(
        OutboundPost(text="국화 전시", image_urls=("https://img.example/1.jpg",))
    )
    album = facebook.publish(
        OutboundPost(
            text="정원 사진 모음",
            image_urls=("https://img.example/a.jpg", "https://img.example/b.jpg"),
        )
    )
    listed = {post.external_id: post.text for post in facebook.list_posts()}
    assert listed == {
        album.external_id: "정원 사진 모음",
        photo.external_id: "국화 전시",
        text.external_id: "주간꿀팁: 대형폐기물 신고 방법",
    }
    feed_call = sim.simulator.recorded("facebook", "POST", "/feed")[0]
    assert b"link=https" in feed_call.body
    assert b"access_token" not in feed_call.body  # the token goes in a header
    assert feed_call.headers["authorization"].startswith("Bearer EAAB")


def test_edit_and_delete(facebook) -> None:
    post = facebook.publish(OutboundPost(text="오타 있는 공지"))
    facebook.edit_post(post.external_id, OutboundPost(text="고친 공지"))
    assert facebook.list_posts()[0].text == "고친 공지"
    facebook.delete_post(post.external_id)
    assert facebook.list_posts() == []
    with pytest.raises(NotFound):
        facebook.delete_post(post.external_id)


def test_metrics(facebook, page) -> None:
    post = facebook.publish(OutboundPost(text="국화축제 개막"))
    stored = page.objects[post.external_id]
    stored.update(views=72041, reach=50000, reactions=718, shares=12, clicks=300)
    for number in range(3):
        page.citizen_comment(post.external_id, f"60{number}", f"시민{number}", "예뻐요")
    metrics = facebook.post_metrics(post.external_id)
    assert (
        metrics.views,
        metrics.reach,
        metrics.likes,
        metrics.comments,
        metrics.shares,
        metrics.clicks,
    ) == (72041, 50000, 718, 3, 12, 300)
    assert metrics.raw["post_media_view"] == 72041
    assert facebook.channel_metrics().followers == 31000


def test_unknown_insights_metric_is_refused(sim, token) -> None:
    connector = connector_for(sim, token)
    connector.account.options["post_metrics"] = "post_impressions"  # retired metric
    post = connector.publish(OutboundPost(text="지표 테스트"))
    with pytest.raises(ContentRejected, match="insights metric"):
        connector.post_metrics(post.external_id)


def test_comments_reply_and_hide(facebook, page) -> None:
    post = facebook.publish(OutboundPost(text="하수관로 공사 안내"))
    question = page.citizen_comment(post.external_id, "6011", "박시민", "공사 언제 끝나요?")
    spam = page.citizen_comment(post.external_id, "6012", "광고", "대출 상담 010-0000-0000")
    comments = facebook.list_comments(post.external_id)
    assert {c.external_id for c in comments} == {question["id"], spam["id"]}
    asked = next(c for c in comments if c.external_id == question["id"])
    assert (asked.kind, asked.author_name, asked.post_external_id) == (
        InboundKind.COMMENT,
        "박시민",
        post.external_id,
    )
    reply_id = facebook.reply_to_comment(asked, "12월 5일에 끝납니다.")
    facebook.hide_comment(spam["id"])
    assert page.objects[spam["id"]]["is_hidden"] is True
    threaded = {c.external_id: c for c in facebook.list_comments(post.external_id)}
    assert threaded[reply_id].parent_external_id == question["id"]


def test_messages_fetch_and_reply(facebook, page) -> None:
    page.citizen_message(PAGE_ID, "7012345678901234", "여권 재발급은 어디서 하나요?")
    messages, cursor = facebook.fetch_messages()
    assert [m.text for m in messages] == ["여권 재발급은 어디서 하나요?"]
    assert cursor
    # Polling again may repeat what came in the cursor's second (storage dedupes by id),
    # but brings nothing older.
    again, same_cursor = facebook.fetch_messages(cursor)
    assert {m.external_id for m in again} <= {messages[0].external_id}
    assert same_cursor == cursor
    message_id = facebook.reply_to_message(messages[0], "시청 민원봉사과에서 합니다.")
    assert message_id.startswith("m_")


def test_message_in_the_same_second_as_the_cursor_is_not_lost(facebook, page) -> None:
    psid = "7012345678901234"
    first = page.citizen_message(PAGE_ID, psid, "첫 번째 문의")
    seen, cursor = facebook.fetch_messages()
    assert [m.external_id for m in seen] == [first["id"]]
    # A second message arrives within the same second the last poll ended on.
    second = page.citizen_message(PAGE_ID, psid, "같은 초에 온 두 번째 문의")
    second["created"] = first["created"]
    fetched, next_cursor = facebook.fetch_messages(cursor)
    assert second["id"] in {m.external_id for m in fetched}
    assert next_cursor == cursor
    # Something older than the cursor does not come back.
    older = page.citizen_message(PAGE_ID, psid, "오래된 문의")
    older["created"] = first["created"] - 5
    assert older["id"] not in {m.external_id for m in facebook.fetch_messages(cursor)[0]}


# -- failure classes ------------------------------------------------------------------------


def test_rate_limit_is_remembered_without_calling_again(facebook, sim) -> None:
    sim.simulator.inject("facebook", Fault(FaultKind.RATE_LIMITED))
    with pytest.raises(RateLimited) as first:
        facebook.list_posts()
    assert first.value.retry_after >= 60
    calls = len(sim.simulator.recorded("facebook"))
    with pytest.raises(RateLimited):
        facebook.list_posts()
    assert len(sim.simulator.recorded("facebook")) == calls  # no second call went out


def test_usage_header_at_100_percent_blocks_further_calls(facebook, sim, page) -> None:
    page.call_budget = 2
    facebook.list_posts()
    facebook.list_posts()  # usage now 100 %
    with pytest.raises(RateLimited):
        facebook.list_posts()


def test_server_error_on_read_is_transient_and_on_write_unknown(facebook, sim) -> None:
    sim.simulator.inject("facebook", Fault(FaultKind.SERVER_ERROR, methods=frozenset({"GET"})))
    with pytest.raises(TransientError):
        facebook.list_posts()
    sim.simulator.inject("facebook", Fault(FaultKind.SERVER_ERROR, methods=frozenset({"POST"})))
    with pytest.raises(OutcomeUnknown):
        facebook.publish(OutboundPost(text="서버 오류 중 게시"))


def test_timeout_after_processing_is_unknown_then_reconciled(facebook, sim) -> None:
    post = OutboundPost(text="순천만갈대축제 개막 안내", idempotency_key="pub-1")
    sim.simulator.inject(
        "facebook",
        Fault(FaultKind.TIMEOUT_AFTER_PROCESSING, delay=FAULT_DELAY, path_pattern="/feed$"),
    )
    with pytest.raises(OutcomeUnknown):
        facebook.publish(post)
    found = facebook.find_published(post)
    assert found is not None  # it was published: the retry must not post again
    assert len(facebook.list_posts()) == 1


def test_connection_refused_is_transient(token) -> None:
    account = ChannelAccount(
        PAGE_ID, Credentials(access_token=token), api_base="http://127.0.0.1:9"
    )
    with pytest.raises(TransientError):
        FacebookPage(account, client=short_timeout_client()).publish(OutboundPost(text="x"))


@pytest.mark.parametrize(
    ("kind", "error"),
    [
        (FaultKind.TOKEN_EXPIRED, CredentialExpired),
        (FaultKind.TOKEN_REVOKED, CredentialRevoked),
        (FaultKind.MALFORMED, MalformedResponse),
    ],
)
def test_injected_failures_are_classified(facebook, sim, kind, error) -> None:
    sim.simulator.inject("facebook", Fault(kind))
    with pytest.raises(error):
        facebook.list_posts()


def test_real_token_states(facebook, page, token) -> None:
    page.expire_token(token)
    with pytest.raises(CredentialExpired):
        facebook.list_posts()
    page.tokens[token].expires_at = None
    page.revoke_token(token)
    with pytest.raises(CredentialRevoked):
        facebook.list_posts()


def test_permission_duplicate_and_rejection(sim, page, facebook) -> None:
    facebook.publish(OutboundPost(text="같은 글"))
    with pytest.raises(DuplicateContent):
        facebook.publish(OutboundPost(text="같은 글"))
    with pytest.raises(ContentRejected):
        facebook.publish(OutboundPost(text="x" * 63207))
    read_only = page.add_page("104220000000003", "읽기전용", scopes=("pages_read_engagement",))
    connector = connector_for(sim, read_only)
    connector.account.account_id = "104220000000003"
    with pytest.raises(PermissionMissing):
        connector.publish(OutboundPost(text="권한 없음"))


# -- webhooks ---------------------------------------------------------------------------------


def signed(body: bytes, secret: str = APP_SECRET) -> WebhookRequest:
    return WebhookRequest(
        "POST", {"x-hub-signature-256": "sha256=" + hmac_sha256_hex(secret, body)}, {}, body
    )


def test_handshake(facebook) -> None:
    ok = facebook.webhook_handshake(
        WebhookRequest(
            "GET",
            {},
            {
                "hub.mode": "subscribe",
                "hub.verify_token": "verify-me",
                "hub.challenge": "1158201444",
            },
            b"",
        )
    )
    assert ok is not None
    assert (ok.status, ok.body) == (200, b"1158201444")
    wrong = facebook.webhook_handshake(
        WebhookRequest(
            "GET",
            {},
            {"hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "1"},
            b"",
        )
    )
    assert wrong is not None
    assert wrong.status == 403


def test_signatures_good_bad_missing(facebook) -> None:
    body = fixture("webhook_comment.json")
    facebook.verify_webhook(signed(body))
    with pytest.raises(WebhookRejected, match="bad_signature"):
        facebook.verify_webhook(signed(body, "another-secret"))
    tampered = body.replace("주차장".encode(), "주차".encode())
    with pytest.raises(WebhookRejected, match="bad_signature"):
        facebook.verify_webhook(WebhookRequest("POST", signed(body).headers, {}, tampered))
    with pytest.raises(WebhookRejected, match="missing_signature"):
        facebook.verify_webhook(WebhookRequest("POST", {}, {}, body))


def test_docs_payloads_parse(facebook) -> None:
    [comment] = facebook.parse_webhook(signed(fixture("webhook_comment.json")))
    assert comment.kind is InboundKind.COMMENT
    assert comment.external_id == "104220000000555_900001"
    assert comment.parent_external_id == ""  # a top-level comment
    assert comment.text == "국화축제 주차장은 어디인가요?"
    [message] = facebook.parse_webhook(signed(fixture("webhook_message.json")))
    assert (message.kind, message.external_id, message.author_id) == (
        InboundKind.MESSAGE,
        "m_AbCdEf123",
        "7012345678901234",
    )
    assert facebook.parse_webhook(signed(fixture("webhook_reaction.json"))) == []


def test_replayed_delivery_carries_the_same_ids(facebook) -> None:
    body = fixture("webhook_comment.json")
    first = facebook.parse_webhook(signed(body))
    again = facebook.parse_webhook(signed(body))
    assert [item.external_id for item in first] == [item.external_id for item in again]


def test_malformed_and_foreign_deliveries_are_rejected(facebook) -> None:
    with pytest.raises(WebhookRejected, match="malformed"):
        facebook.parse_webhook(signed(b"{not json"))
    with pytest.raises(WebhookRejected, match="malformed"):
        facebook.parse_webhook(
            signed(
                json.dumps(
                    {
                        "object": "page",
                        "entry": [
                            {
                                "id": PAGE_ID,
                                "changes": [
                                    {"field": "feed", "value": {"item": "comment", "verb": "add"}}
                                ],
                            }
                        ],
                    }
                ).encode()
            )
        )
    # The app's one webhook covers all its Pages: each item names the Page it is for.
    foreign = fixture("webhook_comment.json").replace(PAGE_ID.encode(), b"999")
    assert [item.account_id for item in facebook.parse_webhook(signed(foreign))] == ["999"]


def test_simulator_delivers_signed_webhooks(sim, page, facebook) -> None:
    """The simulator's own deliveries pass the connector's signature check."""
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

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
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        page.subscribe_webhooks(PAGE_ID, f"http://127.0.0.1:{server.server_port}/hook")
        post = facebook.publish(OutboundPost(text="웹훅 시험"))
        page.citizen_comment(post.external_id, "6099", "최시민", "좋아요")
    finally:
        server.shutdown()
    [delivery] = received
    facebook.verify_webhook(delivery)
    [item] = facebook.parse_webhook(delivery)
    assert (item.text, item.post_external_id) == ("좋아요", post.external_id)
