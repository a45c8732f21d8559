"""Naver Blog connector contract tests: the public RSS feed, against the simulator and the
documented feed samples. There is no write API: staff publish by hand."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from sotong.platforms.base import (
    Capability,
    ChannelAccount,
    Credentials,
    MalformedResponse,
    NotFound,
    OutboundPost,
    PermissionMissing,
    TransientError,
    Unsupported,
    connector_class,
)
from sotong.platforms.naver_blog import NaverBlog, clean_link
from sotong.simulator.core import Fault, FaultKind
from sotong.simulator.testing import (
    FAULT_DELAY,
    UNREACHABLE,
    fault_raises,
    make_connector,
    rate_limit_is_remembered,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "naver_blog"
BLOG_ID = "suncheon_city"
KST = dt.timezone(dt.timedelta(hours=9))
LONG_BODY = (
    "순천만국가정원 국화 전시가 11월 1일부터 열립니다. 정원 곳곳에 3만 점의 국화 작품이 "
    "전시되며, 주말에는 정원 해설사와 함께하는 무료 탐방 프로그램도 운영합니다. "
) * 3


@pytest.fixture
def platform(sim):
    blog = sim.simulator["naver_blog"]
    blog.add_blog(BLOG_ID, "순천시")
    return blog


def connector_for(sim, blog_id: str = BLOG_ID) -> NaverBlog:
    return make_connector(NaverBlog, sim.platform_url("naver_blog"), blog_id)


@pytest.fixture
def naver(sim, platform):
    connector = connector_for(sim)
    yield connector
    connector.close()


def test_registered_with_manual_publishing_only() -> None:
    assert connector_class("naver_blog") is NaverBlog
    assert NaverBlog.capabilities == {Capability.MANUAL_PUBLISH, Capability.LIST_POSTS}
    assert not NaverBlog.oauth_login


def test_real_feed_address() -> None:
    connector = NaverBlog(ChannelAccount(BLOG_ID, Credentials()))
    assert (
        connector.endpoint(f"https://rss.blog.naver.com/{BLOG_ID}.xml")
        == "https://rss.blog.naver.com/suncheon_city.xml"
    )


# -- capabilities -------------------------------------------------------------------------


def test_verify_reads_the_feed_without_credentials(naver, sim) -> None:
    check = naver.verify_credentials()
    assert (check.identity, check.display_name) == (BLOG_ID, "순천시의 블로그")
    [call] = sim.simulator.recorded("naver_blog")
    assert call.path == f"/{BLOG_ID}.xml"
    assert "authorization" not in call.headers


def test_publishing_is_manual(naver) -> None:
    with pytest.raises(Unsupported):
        naver.publish(OutboundPost(text="API로는 쓸 수 없습니다"))


def test_list_posts_with_and_without_cdata(naver, platform) -> None:
    first = platform.publish_by_hand(
        BLOG_ID,
        "낙안읍성 & 민속마을",
        "<b>초가집</b> 마을 이야기",
        cdata=True,
        published=1_758_600_000,
    )
    second = platform.publish_by_hand(
        BLOG_ID, "선암사 <승선교>", "무지개다리 & 강선루", cdata=False, published=1_758_700_000
    )
    posts = naver.list_posts()
    assert [p.external_id for p in posts] == [second["log_no"], first["log_no"]]
    assert posts[0].url == f"https://blog.naver.com/{BLOG_ID}/{second['log_no']}"
    assert posts[0].text == "무지개다리 & 강선루"
    # Typed text that looks like markup stays text; only the feed's own HTML is removed.
    assert posts[1].text == "<b>초가집</b> 마을 이야기"
    titles = [item.title for item in naver.fetch_feed().items]
    assert titles == ["선암사 <승선교>", "낙안읍성 & 민속마을"]
    assert posts[0].created_at == dt.datetime.fromtimestamp(1_758_700_000, tz=dt.UTC)
    assert posts[0].created_at is not None
    assert posts[0].created_at.utcoffset() == dt.timedelta(hours=9)
    assert [p.external_id for p in naver.list_posts(limit=1)] == [second["log_no"]]


def test_feed_only_reaches_the_latest_posts(naver, platform) -> None:
    platform.feed_size = 3
    for number in range(5):
        platform.publish_by_hand(BLOG_ID, f"글 {number}", f"본문 {number}")
    assert len(naver.list_posts(limit=25)) == 3


def test_post_published_by_hand_is_found_by_title_or_text(naver, platform) -> None:
    post = OutboundPost(text=LONG_BODY, title="국화 전시 안내", idempotency_key="blog-1")
    assert naver.find_published(post) is None
    platform.publish_by_hand(BLOG_ID, "국화 전시 안내", LONG_BODY)
    by_title = naver.find_published(post)
    assert by_title is not None
    # Staff changed the title in Naver's editor: the body excerpt still matches.
    by_text = naver.find_published(OutboundPost(text=LONG_BODY, title="다른 제목"))
    assert by_text is not None
    assert by_text.external_id == by_title.external_id
    assert naver.find_published(OutboundPost(text="전혀 다른 글", title="없는 제목")) is None


def test_short_excerpt_does_not_match_a_longer_post(naver, platform) -> None:
    platform.publish_by_hand(BLOG_ID, "사진", "국화")
    assert naver.find_published(OutboundPost(text="국화 전시 안내문 전체 본문", title="")) is None
    assert naver.find_published(OutboundPost(text="국화", title="")) is not None


# -- failure classes ------------------------------------------------------------------------


def test_unknown_blog_is_not_found(sim, platform) -> None:
    with pytest.raises(NotFound):
        connector_for(sim, "no_such_blog").verify_credentials()


def test_rate_limit_is_remembered_without_calling_again(naver, sim) -> None:
    first = rate_limit_is_remembered(sim, "naver_blog", naver.list_posts)
    assert first.retry_after == 60


@pytest.mark.parametrize(
    ("kind", "error"),
    [
        (FaultKind.SERVER_ERROR, TransientError),
        (FaultKind.MALFORMED, MalformedResponse),
        (FaultKind.TIMEOUT, TransientError),
        (FaultKind.TIMEOUT_AFTER_PROCESSING, TransientError),
        # A public feed has no token: a blog turned private is the nearest failure.
        (FaultKind.TOKEN_EXPIRED, PermissionMissing),
        (FaultKind.TOKEN_REVOKED, PermissionMissing),
    ],
)
def test_injected_failures_are_classified(naver, sim, platform, kind, error) -> None:
    platform.publish_by_hand(BLOG_ID, "제목", "본문")
    fault_raises(sim, "naver_blog", Fault(kind, delay=FAULT_DELAY), error, naver.list_posts)


def test_connection_refused_is_transient() -> None:
    with pytest.raises(TransientError):
        make_connector(NaverBlog, UNREACHABLE, BLOG_ID).list_posts()


def test_unsafe_or_foreign_documents_are_malformed(naver) -> None:
    bomb = b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa">]><rss><channel/></rss>'
    with pytest.raises(MalformedResponse):
        naver.parse_feed(bomb)
    with pytest.raises(MalformedResponse):
        naver.parse_feed(b"<html><body>blocked</body></html>")
    with pytest.raises(MalformedResponse):
        naver.parse_feed(
            b'<rss version="2.0"><channel><item><link>https://blog.naver.com/x/</link></item>'
            b"</channel></rss>"
        )


# -- the documented feed --------------------------------------------------------------------


def test_documented_feeds_parse(naver) -> None:
    cdata = naver.parse_feed((FIXTURES / "feed_cdata.xml").read_bytes())
    assert cdata.title == "순천시의 블로그"
    [item] = cdata.items
    assert (item.log_no, item.url) == (
        "223612345678",
        "https://blog.naver.com/suncheon_city/223612345678",
    )
    assert item.title == "순천만갈대축제 개막 안내"
    assert item.text.startswith(
        "올해 순천만갈대축제가 10월 24일 개막합니다. 갈대숲 탐방로와 & 야간"
    )
    assert item.created_at == dt.datetime(2025, 9, 23, 14, 30, tzinfo=KST)
    assert (item.category, item.tags) == ("공지사항", ("순천만", "갈대축제"))
    plain = naver.parse_feed((FIXTURES / "feed_plain.xml").read_bytes())
    [item] = plain.items
    assert (item.log_no, item.title) == ("223600000123", "[순천의 역사] 낙안읍성 & 민속마을")
    assert item.text == "낙안읍성은 1397년 왜구를 막기 위해 쌓은 토성에서 시작되었습니다."
    assert item.tags == ()  # the tag element is not always there


def test_clean_link_keeps_other_parameters() -> None:
    assert (
        clean_link("https://blog.naver.com/a/1?fromRss=true&trackingCode=rss")
        == "https://blog.naver.com/a/1"
    )
    assert (
        clean_link("https://blog.naver.com/a/1?fromRss=true&x=2")
        == "https://blog.naver.com/a/1?x=2"
    )
