"""The simulated Naver Blog feed has the documented RSS shape (shared/docs/platform-apis.md
§7 and sotong/platforms/fixtures/naver_blog/), with CDATA on some items and not others."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from email.utils import parsedate_to_datetime
from pathlib import Path

import httpx
import pytest

from sotong.simulator.core import Fault, FaultKind

FIXTURES = Path(__file__).resolve().parents[2] / "platforms" / "fixtures" / "naver_blog"
BLOG_ID = "suncheon_city"


@pytest.fixture
def feed_url(sim):
    blog = sim.simulator["naver_blog"]
    blog.add_blog(BLOG_ID, "순천시")
    blog.publish_by_hand(BLOG_ID, "낙안읍성", "초가집 마을", tags=("낙안읍성", "역사"))
    blog.publish_by_hand(BLOG_ID, "선암사", "승선교 & 강선루", tags=("선암사",))
    return f"{sim.platform_url('naver_blog')}/{BLOG_ID}.xml"


def structure(element: ET.Element) -> set[str]:
    return {child.tag for child in element}


def test_feed_has_the_documented_elements(feed_url) -> None:
    response = httpx.get(feed_url, timeout=5)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/xml")
    documented = ET.fromstring((FIXTURES / "feed_cdata.xml").read_bytes())  # noqa: S314
    actual = ET.fromstring(response.content)  # noqa: S314
    assert (actual.tag, actual.get("version")) == ("rss", "2.0")
    assert structure(documented.find("channel")) <= structure(actual.find("channel"))  # type: ignore[arg-type]
    documented_item = documented.find("channel/item")
    assert documented_item is not None
    for item in actual.findall("channel/item"):
        assert structure(documented_item) <= structure(item)
        assert item.findtext("link", "").endswith("?fromRss=true&trackingCode=rss")
        assert item.findtext("guid", "").startswith(f"https://blog.naver.com/{BLOG_ID}/")
        published = parsedate_to_datetime(item.findtext("pubDate", ""))
        assert published.utcoffset() is not None
        assert published.utcoffset().total_seconds() == 9 * 3600  # type: ignore[union-attr]
    assert actual.findtext("channel/title") == "순천시의 블로그"
    assert actual.findtext("channel/generator") == "Naver Blog"


def test_some_items_use_cdata_and_some_do_not(feed_url) -> None:
    text = httpx.get(feed_url, timeout=5).text
    assert "<title><![CDATA[낙안읍성]]></title>" in text
    assert "<title>선암사</title>" in text
    assert "승선교 &amp;amp; 강선루" in text  # HTML escaped, then XML escaped


def test_unknown_blog_is_an_html_404(sim, feed_url) -> None:
    response = httpx.get(f"{sim.platform_url('naver_blog')}/no_such_blog.xml", timeout=5)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert response.text == (FIXTURES / "not_found.html").read_text().strip()


def test_malformed_fault_is_truncated_xml(sim, feed_url) -> None:
    sim.simulator.inject("naver_blog", Fault(FaultKind.MALFORMED))
    response = httpx.get(feed_url, timeout=5)
    assert response.status_code == 200
    with pytest.raises(ET.ParseError):
        ET.fromstring(response.content)  # noqa: S314


def test_rate_limit_fault_says_when_to_retry(sim, feed_url) -> None:
    sim.simulator.inject("naver_blog", Fault(FaultKind.RATE_LIMITED))
    response = httpx.get(feed_url, timeout=5)
    assert (response.status_code, response.headers["retry-after"]) == (429, "60")
