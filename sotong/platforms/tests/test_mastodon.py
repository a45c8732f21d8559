"""Mastodon connector contract tests, against the simulated instance (and the docs' samples)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from sotong.platforms.base import (
    Capability,
    ChannelAccount,
    ContentRejected,
    CredentialRevoked,
    Credentials,
    InboundKind,
    MalformedResponse,
    NotFound,
    OutboundPost,
    OutcomeUnknown,
    PermissionMissing,
    RateLimited,
    TransientError,
)
from sotong.platforms.mastodon import MastodonAccount, html_to_text, status_length
from sotong.simulator.core import Fault, FaultKind
from sotong.simulator.testing import (
    FAULT_DELAY,
    PNG,
    UNREACHABLE,
    fault_raises,
    make_connector,
    rate_limit_is_remembered,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "mastodon"
ACCOUNT_ID = "109000000000000001"


def load(name: str) -> object:
    return json.loads((FIXTURES / name).read_text())


@pytest.fixture
def instance(sim):
    return sim.simulator["mastodon"]


@pytest.fixture
def token(instance):
    return instance.add_account(ACCOUNT_ID, "순천시", "suncheon", followers=2300)


def connector_for(sim, token: str, **options: str) -> MastodonAccount:
    credentials = Credentials(access_token=token)
    return make_connector(
        MastodonAccount, sim.platform_url("mastodon"), ACCOUNT_ID, credentials, **options
    )


@pytest.fixture
def mastodon(sim, token) -> Iterator[MastodonAccount]:
    connector = connector_for(sim, token)
    yield connector
    connector.close()


# -- the instance is the API address ------------------------------------------------------------


def test_no_default_instance_and_no_webhooks_or_refresh() -> None:
    assert MastodonAccount.default_api_base == ""
    assert MastodonAccount.oauth_login is False
    assert Capability.WEBHOOKS not in MastodonAccount.capabilities
    assert Capability.REFRESH_CREDENTIALS not in MastodonAccount.capabilities
    without = MastodonAccount(ChannelAccount(ACCOUNT_ID, Credentials(access_token="t")))
    with pytest.raises(NotFound, match="instance address"):
        without.verify_credentials()


def test_connect_with_api_base(mastodon, sim) -> None:
    check = mastodon.verify_credentials()
    assert (check.identity, check.display_name) == (ACCOUNT_ID, "순천시")
    call = sim.simulator.recorded("mastodon", "GET", "/api/v1/accounts/verify_credentials")[0]
    assert call.headers["authorization"].startswith("Bearer ")


def test_html_and_counting_helpers() -> None:
    [descendant] = load("context.json")["descendants"]  # type: ignore[index]
    assert html_to_text(descendant["content"]) == "@suncheon 주차장은 어디인가요?"
    assert html_to_text("<p>a<br />b</p><p>c &amp; d</p>") == "a\nb\n\nc & d"
    assert status_length("가" * 10 + " https://example.com/" + "x" * 100) == 10 + 1 + 23


# -- capabilities -------------------------------------------------------------------------


def test_publish_text_link_and_images(mastodon, sim, instance, image_server) -> None:
    text = mastodon.publish(
        OutboundPost(text="국화 전시 안내", link="https://www.suncheon.go.kr/kr/news/list?page=1")
    )
    assert text.url == f"https://mastodon.example/@suncheon/{text.external_id}"
    assert text.text == "국화 전시 안내\n\nhttps://www.suncheon.go.kr/kr/news/list?page=1"
    photos = mastodon.publish(
        OutboundPost(
            text="정원 사진", image_urls=(f"{image_server}/a.png", f"{image_server}/b.png")
        )
    )
    assert len(sim.simulator.recorded("mastodon", "POST", "/api/v2/media")) == 2
    assert len(instance.statuses[photos.external_id]["media_ids"]) == 2
    assert [p.external_id for p in mastodon.list_posts()] == [photos.external_id, text.external_id]
    listing = sim.simulator.recorded("mastodon", "GET", f"/api/v1/accounts/{ACCOUNT_ID}/statuses")
    assert listing[0].query["exclude_replies"] == ["true"]


def test_idempotency_key_makes_a_retry_return_the_original(mastodon, sim, instance) -> None:
    post = OutboundPost(text="갈대축제 개막", idempotency_key="pub-42")
    first = mastodon.publish(post)
    again = mastodon.publish(post)
    assert again.external_id == first.external_id
    assert len(mastodon.list_posts()) == 1
    calls = sim.simulator.recorded("mastodon", "POST", "/api/v1/statuses")
    assert [c.headers["idempotency-key"] for c in calls] == ["pub-42", "pub-42"]


def test_instance_limits_and_option_override(sim, instance, token) -> None:
    instance.max_characters = 1000
    roomy = connector_for(sim, token)
    assert roomy.instance_limits()["max_characters"] == 1000
    assert roomy.publish(OutboundPost(text="가" * 900)).external_id
    strict = connector_for(sim, token, max_characters="100")
    with pytest.raises(ContentRejected, match="100"):
        strict.publish(OutboundPost(text="나" * 101))
    instance.max_characters = 500
    fresh = connector_for(sim, token)
    with pytest.raises(ContentRejected):  # refused before sending
        fresh.publish(OutboundPost(text="다" * 501))
    assert fresh.publish(OutboundPost(text="라" * 476 + " https://example.com/" + "x" * 200))


def test_edit_and_delete(mastodon) -> None:
    post = mastodon.publish(OutboundPost(text="오타 있는 공지"))
    edited = mastodon.edit_post(post.external_id, OutboundPost(text="고친 공지"))
    assert edited.text == "고친 공지"
    assert mastodon.list_posts()[0].text == "고친 공지"
    mastodon.delete_post(post.external_id)
    assert mastodon.list_posts() == []
    with pytest.raises(NotFound):
        mastodon.delete_post(post.external_id)


def test_metrics(mastodon, instance) -> None:
    post = mastodon.publish(OutboundPost(text="국화축제 개막"))
    instance.statuses[post.external_id].update(favourites_count=64, reblogs_count=21)
    instance.citizen_reply(post.external_id, "2244994945", "김시민", "몇 시까지 하나요?")
    metrics = mastodon.post_metrics(post.external_id)
    assert (metrics.views, metrics.likes, metrics.comments, metrics.shares) == (None, 64, 1, 21)
    assert mastodon.channel_metrics().followers == 2300


def test_comments_and_reply_mention_the_author(mastodon, instance) -> None:
    post = mastodon.publish(OutboundPost(text="하수관로 공사 안내"))
    question = instance.citizen_reply(post.external_id, "2244994945", "김시민", "언제 끝나요?")
    [comment] = mastodon.list_comments(post.external_id)
    assert (comment.kind, comment.external_id, comment.author_name, comment.text) == (
        InboundKind.COMMENT,
        question["id"],
        "김시민",
        "@suncheon 언제 끝나요?",
    )
    reply_id = mastodon.reply_to_comment(comment, "12월 5일에 끝납니다.")
    reply = instance.statuses[reply_id]
    assert reply["text"] == "@citizen994945 12월 5일에 끝납니다."
    assert (reply["in_reply_to_id"], reply["visibility"]) == (question["id"], "public")
    threaded = {c.external_id: c for c in mastodon.list_comments(post.external_id)}
    assert threaded[reply_id].parent_external_id == question["id"]


def test_mentions_and_direct_messages(mastodon, instance) -> None:
    post = mastodon.publish(OutboundPost(text="셔틀버스 안내"))
    reply = instance.citizen_reply(post.external_id, "2244994945", "김시민", "어디서 타나요?")
    mention = instance.citizen_mention(ACCOUNT_ID, "2244994946", "이시민", "가로등이 꺼졌어요")
    dm = instance.citizen_mention(
        ACCOUNT_ID, "2244994947", "박시민", "여권 재발급은 어디서?", direct=True
    )
    items, cursor = mastodon.fetch_messages()
    assert {i.external_id: i.kind for i in items} == {
        reply["id"]: InboundKind.COMMENT,
        mention["id"]: InboundKind.MENTION,
        dm["id"]: InboundKind.MESSAGE,
    }
    commented = next(i for i in items if i.kind is InboundKind.COMMENT)
    assert commented.post_external_id == post.external_id
    message = next(i for i in items if i.kind is InboundKind.MESSAGE)
    answer_id = mastodon.reply_to_message(message, "시청 민원실에서 합니다.")
    answer = instance.statuses[answer_id]
    assert (answer["visibility"], answer["in_reply_to_id"]) == ("direct", dm["id"])
    assert answer["text"].startswith("@citizen994947 ")
    assert mastodon.fetch_messages(cursor)[0] == []
    later = instance.citizen_mention(ACCOUNT_ID, "2244994947", "박시민", "감사합니다", direct=True)
    assert [i.external_id for i in mastodon.fetch_messages(cursor)[0]] == [later["id"]]


def test_a_burst_larger_than_a_page_is_read_whole_oldest_first(mastodon, instance, sim) -> None:
    instance.citizen_mention(ACCOUNT_ID, "2244994946", "이시민", "첫 문의")
    _, cursor = mastodon.fetch_messages()
    burst = [
        instance.citizen_mention(ACCOUNT_ID, f"22449950{n:02d}", "시민", f"문의 {n}")
        for n in range(95)  # more than two pages of 40
    ]
    before = len(sim.simulator.recorded("mastodon", "GET", "/api/v1/notifications"))
    items, newest = mastodon.fetch_messages(cursor)
    assert sorted(i.external_id for i in items) == sorted(s["id"] for s in burst)
    calls = sim.simulator.recorded("mastodon", "GET", "/api/v1/notifications")[before:]
    # min_id pages up from the cursor; each next one from the Link header; until empty.
    min_ids = [call.query["min_id"][0] for call in calls]
    assert min_ids[0] == cursor
    assert len(calls) == 4
    assert all(call.query["types[]"] == ["mention"] for call in calls)
    assert mastodon.fetch_messages(newest) == ([], newest)


def test_polling_stops_after_the_page_bound_and_resumes_without_gaps(
    mastodon, instance, monkeypatch
) -> None:
    import sotong.platforms.mastodon as module

    monkeypatch.setattr(module, "NOTIFICATIONS_PAGE", 5)
    monkeypatch.setattr(module, "NOTIFICATION_PAGES", 2)
    instance.citizen_mention(ACCOUNT_ID, "2244994946", "이시민", "첫 문의")
    _, cursor = mastodon.fetch_messages()
    burst = [
        instance.citizen_mention(ACCOUNT_ID, f"22449950{n:02d}", "시민", f"문의 {n}")
        for n in range(13)
    ]
    seen: list[str] = []
    for _ in range(3):
        items, cursor = mastodon.fetch_messages(cursor)
        seen.extend(i.external_id for i in items)
    assert sorted(seen) == sorted(s["id"] for s in burst)  # each once, none skipped


# -- failure classes ------------------------------------------------------------------------


def test_rate_limit_is_remembered_without_calling_again(mastodon, sim) -> None:
    first = rate_limit_is_remembered(sim, "mastodon", mastodon.list_posts)
    assert 100 <= first.retry_after <= 121  # from the ISO 8601 reset header


def test_exhausted_budget_header_blocks_further_calls(mastodon, sim, instance) -> None:
    instance.rate_limit = 2
    mastodon.list_posts()  # verify_credentials, then statuses: X-RateLimit-Remaining 0
    with pytest.raises(RateLimited):
        mastodon.list_posts()
    assert len(sim.simulator.recorded("mastodon")) == 2


def test_server_error_on_read_is_transient_and_on_write_unknown(mastodon, sim) -> None:
    mastodon.instance_limits()
    sim.simulator.inject("mastodon", Fault(FaultKind.SERVER_ERROR, methods=frozenset({"GET"})))
    with pytest.raises(TransientError):
        mastodon.verify_credentials()
    sim.simulator.inject("mastodon", Fault(FaultKind.SERVER_ERROR, methods=frozenset({"POST"})))
    with pytest.raises(OutcomeUnknown):  # no idempotency key: may have been published
        mastodon.publish(OutboundPost(text="서버 오류 중 게시"))
    sim.simulator.inject("mastodon", Fault(FaultKind.SERVER_ERROR, methods=frozenset({"POST"})))
    with pytest.raises(TransientError):  # with a key a retry is safe
        mastodon.publish(OutboundPost(text="키 있는 게시", idempotency_key="k-1"))


def test_timeout_after_processing_without_key_is_unknown_then_reconciled(mastodon, sim) -> None:
    post = OutboundPost(text="순천만갈대축제 개막 안내", link="https://www.suncheon.go.kr")
    mastodon.instance_limits()
    sim.simulator.inject(
        "mastodon",
        Fault(FaultKind.TIMEOUT_AFTER_PROCESSING, delay=FAULT_DELAY, path_pattern="/statuses$"),
    )
    with pytest.raises(OutcomeUnknown):
        mastodon.publish(post)
    found = mastodon.find_published(post)
    assert found is not None
    assert len(mastodon.list_posts()) == 1


def test_timeout_after_processing_with_key_is_retried_safely(mastodon, sim) -> None:
    post = OutboundPost(text="국화 전시 연장 안내", idempotency_key="pub-7")
    mastodon.instance_limits()
    sim.simulator.inject(
        "mastodon",
        Fault(FaultKind.TIMEOUT_AFTER_PROCESSING, delay=FAULT_DELAY, path_pattern="/statuses$"),
    )
    with pytest.raises(TransientError):  # retryable: the key prevents a duplicate
        mastodon.publish(post)
    retried = mastodon.publish(post)
    assert [p.external_id for p in mastodon.list_posts()] == [retried.external_id]


def test_connection_refused_is_transient(token) -> None:
    credentials = Credentials(access_token=token)
    unreachable = make_connector(MastodonAccount, UNREACHABLE, ACCOUNT_ID, credentials)
    with pytest.raises(TransientError):
        unreachable.verify_credentials()


def test_image_unreachable_is_transient_and_missing_is_refused(mastodon, image_server) -> None:
    with pytest.raises(TransientError, match="cannot fetch image"):
        mastodon.fetch_image(f"{UNREACHABLE}/a.png")
    with pytest.raises(ContentRejected, match=r"image not available \(HTTP 404\)"):
        mastodon.fetch_image(f"{image_server}/missing.png")
    assert mastodon.fetch_image(f"{image_server}/a.png") == (PNG, "image/png")


@pytest.mark.parametrize(
    ("kind", "error"),
    [
        (FaultKind.TOKEN_EXPIRED, CredentialRevoked),  # tokens do not expire: invalid = revoked
        (FaultKind.TOKEN_REVOKED, CredentialRevoked),
        (FaultKind.MALFORMED, MalformedResponse),
        (FaultKind.TIMEOUT, TransientError),
    ],
)
def test_injected_failures_are_classified(mastodon, sim, kind, error) -> None:
    fault_raises(
        sim, "mastodon", Fault(kind, delay=FAULT_DELAY), error, mastodon.verify_credentials
    )


def test_revoked_token(mastodon, instance, token) -> None:
    instance.revoke_token(token)
    with pytest.raises(CredentialRevoked):
        mastodon.verify_credentials()


def test_permission_rejection_and_not_found(sim, instance, mastodon) -> None:
    read_only = instance.add_account(ACCOUNT_ID, "순천시", scopes=("read",))
    with pytest.raises(PermissionMissing):
        connector_for(sim, read_only).publish(OutboundPost(text="권한 없음"))
    instance.max_characters = 10
    # Told 500 by options, the instance still refuses: its 422 is ContentRejected.
    with pytest.raises(ContentRejected, match="character limit"):
        connector_for(sim, mastodon.account.credentials.access_token, max_characters="500").publish(
            OutboundPost(text="열 글자를 넘는 아주 긴 공지입니다")
        )
    with pytest.raises(NotFound):
        mastodon.post_metrics("113000000000000999")
    with pytest.raises(NotFound):
        mastodon.list_comments("113000000000000999")
