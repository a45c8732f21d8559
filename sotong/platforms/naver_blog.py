"""Naver Blog connector. Contract: shared/docs/platform-apis.md §7.

Naver ended posting through its API on 6 May 2020, so staff publish by hand
(``Capability.MANUAL_PUBLISH``) and Sotong reads the blog's public RSS feed to find what
was published, with its stable id (``logNo``). No credentials: the feed is public.
"""

from __future__ import annotations

import datetime as dt
import html
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx

from sotong.platforms.base import (
    AccountCheck,
    Capability,
    Connector,
    MalformedResponse,
    NotFound,
    OutboundPost,
    PermissionMissing,
    PlatformError,
    PublishedPost,
    RateLimited,
    TextLimits,
    normalise_for_match,
    register,
)

# Query parameters the feed adds to its links; the post's address is the same without.
TRACKING_PARAMETERS = {"fromRss", "trackingCode"}
# A blog's feed is small (L: 30–50 items); anything far larger is not a feed.
MAX_FEED_BYTES = 5 * 1024 * 1024
ELLIPSES = ("...", "…")
MIN_EXCERPT_MATCH = 20


@dataclass(frozen=True)
class FeedItem:
    log_no: str
    url: str
    title: str
    text: str  # the description: an excerpt of the post, HTML removed
    created_at: dt.datetime | None
    category: str = ""
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Feed:
    title: str
    link: str
    items: tuple[FeedItem, ...]


def clean_link(url: str) -> str:
    """The post's address without the feed's tracking parameters."""
    parts = urlsplit(url.strip())
    query = [(k, v) for k, v in parse_qsl(parts.query) if k not in TRACKING_PARAMETERS]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))


def html_to_text(fragment: str) -> str:
    """The readable text of an HTML excerpt (the feed's descriptions)."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


@register
class NaverBlog(Connector):
    kind = "naver_blog"
    identity_from_token = False
    needs_token = False
    label = "Naver Blog"
    capabilities = frozenset({Capability.MANUAL_PUBLISH, Capability.LIST_POSTS})
    default_api_base = "https://rss.blog.naver.com"
    limits = TextLimits()
    required_scopes = ()

    @property
    def blog_id(self) -> str:
        return self.account.account_id

    # -- errors ---------------------------------------------------------------------------

    def classify(self, response: httpx.Response) -> PlatformError:
        status = response.status_code
        if status == 404:
            return NotFound(f"Naver Blog: no blog {self.blog_id!r}", status=status)
        if status == 403:
            # Naver answers a closed (비공개) blog's feed with 403: nothing a token can fix.
            return PermissionMissing(
                f"Naver Blog: the feed of {self.blog_id!r} is not public", status=status
            )
        if status == 429:
            try:
                retry_after = float(response.headers.get("retry-after", "60"))
            except ValueError:
                retry_after = 60.0
            return RateLimited(
                "Naver Blog: too many requests", retry_after=retry_after, status=status
            )
        return super().classify(response)

    # -- the feed -------------------------------------------------------------------------

    def fetch_feed(self) -> Feed:
        """The blog's RSS feed, parsed."""
        url = self.endpoint(f"https://rss.blog.naver.com/{self.blog_id}.xml")
        response = self.request("GET", url, headers={"Accept": "application/rss+xml, */*"})
        return self.parse_feed(response.content)

    def parse_feed(self, body: bytes) -> Feed:
        """RSS 2.0 as Naver serves it; titles and descriptions with or without CDATA."""
        if len(body) > MAX_FEED_BYTES or b"<!DOCTYPE" in body or b"<!ENTITY" in body:
            raise MalformedResponse("Naver Blog: the answer is not a plain RSS feed")
        try:
            root = ET.fromstring(body)  # noqa: S314 - no DTD (checked above), size capped
        except ET.ParseError as exc:
            raise MalformedResponse(f"Naver Blog: the feed is not valid XML ({exc})") from exc
        channel = root.find("channel")
        if root.tag != "rss" or channel is None:
            raise MalformedResponse("Naver Blog: the answer is not an RSS feed")
        items = tuple(self._item(element) for element in channel.findall("item"))
        return Feed(
            title=(channel.findtext("title") or "").strip(),
            link=(channel.findtext("link") or "").strip(),
            items=items,
        )

    def _item(self, element: ET.Element) -> FeedItem:
        link = clean_link(element.findtext("link") or element.findtext("guid") or "")
        log_no = urlsplit(link).path.rstrip("/").rsplit("/", 1)[-1]
        if not log_no.isdigit():
            raise MalformedResponse(f"Naver Blog: an item has no post number ({link!r})")
        published = element.findtext("pubDate")
        try:
            created_at = parsedate_to_datetime(published) if published else None
        except (TypeError, ValueError):
            created_at = None
        tags = element.findtext("tag") or ""
        return FeedItem(
            log_no=log_no,
            url=link,
            title=html.unescape((element.findtext("title") or "").strip()),
            text=html_to_text(element.findtext("description") or ""),
            created_at=created_at,
            category=(element.findtext("category") or "").strip(),
            tags=tuple(tag.strip() for tag in tags.split(",") if tag.strip()),
        )

    # -- account and posts ----------------------------------------------------------------

    def verify_credentials(self) -> AccountCheck:
        """The blog exists and its feed is readable: its id and the feed's title."""
        feed = self.fetch_feed()
        return AccountCheck(identity=self.blog_id, display_name=feed.title)

    def list_posts(self, *, limit: int = 25) -> list[PublishedPost]:
        """The blog's recent posts, newest first, as far as the feed reaches."""
        return [
            PublishedPost(
                external_id=item.log_no, url=item.url, text=item.text, created_at=item.created_at
            )
            for item in self.fetch_feed().items[:limit]
        ]

    def find_published(self, post: OutboundPost, *, limit: int = 25) -> PublishedPost | None:
        """The post staff published by hand: same title, or a body the feed's excerpt
        begins (the feed carries only the start of each post)."""
        title = normalise_for_match(post.title)
        body = normalise_for_match(post.text)
        for item in self.fetch_feed().items[:limit]:
            excerpt = normalise_for_match(item.text)
            for ellipsis in ELLIPSES:
                excerpt = excerpt.removesuffix(ellipsis).rstrip()
            same_title = bool(title) and normalise_for_match(item.title) == title
            # A short excerpt (a photo post) says too little to match on.
            same_body = bool(body) and (
                excerpt == body or (len(excerpt) >= MIN_EXCERPT_MATCH and body.startswith(excerpt))
            )
            if same_title or same_body:
                return PublishedPost(
                    external_id=item.log_no,
                    url=item.url,
                    text=item.text,
                    created_at=item.created_at,
                )
        return None
