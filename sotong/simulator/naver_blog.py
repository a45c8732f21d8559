"""Simulated Naver Blog: only the public RSS feed at rss.blog.naver.com/{blogId}.xml, as
Naver has had no write API since 6 May 2020 (shared/docs/platform-apis.md §7). Staff
"publish by hand" through ``publish_by_hand``; the feed then shows the post, some items with
CDATA and some without, as real feeds differ."""

from __future__ import annotations

import datetime as dt
import html
import itertools
import time
from dataclasses import dataclass, field
from email.utils import format_datetime
from typing import Any
from xml.sax.saxutils import escape

from sotong.simulator.core import (
    DemoAccount,
    FaultKind,
    PlatformSimulator,
    Request,
    Response,
    route,
)

KST = dt.timezone(dt.timedelta(hours=9))
RSS_TYPE = "text/xml;charset=UTF-8"
# L: the feed holds only the most recent posts (about 30–50); a setting on the platform.
DEFAULT_FEED_SIZE = 30
DEFAULT_EXCERPT_LENGTH = 200

DEMO_ACCOUNTS = (
    DemoAccount(
        "naver_blog",
        "순천시 블로그",
        "suncheon_city",
        "",  # the feed is public: no token
        "demo-hook-naver_blog-2026",
        followers=12000,
    ),
)
DEMO_HISTORY: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    (
        "[순천의 역사] 낙안읍성, 조선의 읍성이 살아 숨 쉬는 마을",
        "낙안읍성은 1397년 왜구를 막기 위해 쌓은 토성에서 시작되어 1626년 임경업 군수가 "
        "석성으로 다시 쌓았습니다. 지금도 주민이 초가집에 살며 조선 시대 읍성의 모습을 "
        "그대로 간직하고 있습니다.",
        "순천의 역사",
        ("낙안읍성", "순천역사", "국가유산"),
    ),
    (
        "[순천의 역사] 선암사 승선교, 보물이 된 무지개다리",
        "선암사 입구의 승선교는 조선 숙종 때 놓인 것으로 전해지는 홍예교입니다. 계곡물에 "
        "비친 다리와 강선루가 어우러진 풍경은 사계절 내내 많은 이들의 발길을 붙잡습니다.",
        "순천의 역사",
        ("선암사", "승선교", "보물"),
    ),
    (
        "[순천의 역사] 순천왜성과 정유재란의 기억",
        "해룡면 신성리의 순천왜성은 1597년 정유재란 때 왜군이 쌓은 성으로, 이듬해 조명 "
        "연합군과 치열한 전투가 벌어진 곳입니다. 성터를 걸으며 400여 년 전 역사를 돌아봅니다.",
        "순천의 역사",
        ("순천왜성", "정유재란"),
    ),
)


@dataclass
class Blog:
    id: str
    nick: str
    description: str = ""
    posts: list[dict[str, Any]] = field(default_factory=list)


def _cdata(text: str) -> str:
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


class Platform(PlatformSimulator):
    name = "naver_blog"
    label = "Naver Blog"

    def reset(self) -> None:
        self.blogs: dict[str, Blog] = {}
        self.feed_size = DEFAULT_FEED_SIZE
        self.excerpt_length = DEFAULT_EXCERPT_LENGTH
        self._log_numbers = itertools.count(223600000001)

    # -- set-up for tests and the demo -------------------------------------------------------

    def add_blog(self, blog_id: str, nick: str, description: str = "") -> Blog:
        with self.lock:
            blog = Blog(blog_id, nick, description or f"{nick}의 공식 블로그입니다.")
            self.blogs[blog_id] = blog
            return blog

    def publish_by_hand(
        self,
        blog_id: str,
        title: str,
        body: str,
        *,
        category: str = "공지사항",
        tags: tuple[str, ...] = (),
        cdata: bool | None = None,
        published: float | None = None,
    ) -> dict[str, Any]:
        """A post a staff member wrote in Naver's editor; ``cdata`` chooses how the feed
        wraps it (by default, alternately with and without CDATA)."""
        with self.lock:
            blog = self.blogs[blog_id]
            log_no = str(next(self._log_numbers))
            post = {
                "log_no": log_no,
                "title": title,
                "body": body,
                "category": category,
                "tags": tags,
                "cdata": (len(blog.posts) % 2 == 0) if cdata is None else cdata,
                "published": published if published is not None else time.time(),
                "thumbnail": f"https://blogthumb.pstatic.net/MjAyNjEw/{log_no}.jpg?type=s3",
            }
            blog.posts.append(post)
            return post

    # -- errors -----------------------------------------------------------------------------

    @staticmethod
    def _error_page(status: int, message: str) -> Response:
        page = (
            '<!DOCTYPE html><html lang="ko"><head><meta charset="utf-8">'
            "<title>네이버 블로그</title></head><body>"
            f'<div class="error"><p>{html.escape(message)}</p></div></body></html>'
        )
        return Response(status, page, content_type="text/html;charset=UTF-8")

    def fault_response(self, kind: FaultKind) -> Response:
        if kind is FaultKind.RATE_LIMITED:
            response = self._error_page(429, "요청이 너무 많습니다. 잠시 후 다시 시도해 주세요.")
            response.headers["Retry-After"] = "60"
            return response
        if kind in {FaultKind.TOKEN_EXPIRED, FaultKind.TOKEN_REVOKED}:
            # A public feed has no token; the nearest thing is a blog turned private.
            return self._error_page(403, "비공개 블로그입니다.")
        if kind is FaultKind.MALFORMED:
            feed = self._render(next(iter(self.blogs.values()), Blog("unknown", "알 수 없음")))
            return Response(200, feed[: len(feed) // 2], content_type=RSS_TYPE)
        return self._error_page(500, "일시적인 오류가 발생했습니다.")

    def not_found(self, request: Request) -> Response:
        return self._error_page(404, "페이지를 찾을 수 없습니다.")

    def bad_request(self, message: str) -> Response:
        return self._error_page(400, "잘못된 요청입니다.")

    # -- the feed -----------------------------------------------------------------------------

    @route("GET", r"/(?P<blog_id>[A-Za-z0-9_-]+)\.xml")
    def feed(self, request: Request) -> Response:
        blog = self.blogs.get(request.params["blog_id"])
        if blog is None:
            return self.not_found(request)
        return Response(200, self._render(blog), content_type=RSS_TYPE)

    def _excerpt(self, body: str) -> str:
        text = " ".join(body.split())
        if len(text) > self.excerpt_length:
            return text[: self.excerpt_length] + "..."
        return text

    def _render(self, blog: Blog) -> str:
        items = []
        for post in sorted(blog.posts, key=lambda p: p["published"], reverse=True)[
            : self.feed_size
        ]:
            wrap = _cdata if post["cdata"] else escape
            url = f"https://blog.naver.com/{blog.id}/{post['log_no']}"
            description = f'<img src="{post["thumbnail"]}"/> {escape(self._excerpt(post["body"]))}'
            published = dt.datetime.fromtimestamp(post["published"], tz=KST)
            items.append(
                "<item>"
                f"<author>{escape(blog.id)}</author>"
                f"<category>{wrap(post['category'])}</category>"
                f"<title>{wrap(post['title'])}</title>"
                f"<link>{wrap(url + '?fromRss=true&trackingCode=rss')}</link>"
                f"<guid>{url}</guid>"
                f"<description>{wrap(description)}</description>"
                f"<pubDate>{format_datetime(published)}</pubDate>"
                + (f"<tag>{wrap(','.join(post['tags']))}</tag>" if post["tags"] else "")
                + "</item>"
            )
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<rss version="2.0"><channel>'
            f"<title>{escape(blog.nick)}의 블로그</title>"
            f"<link>https://blog.naver.com/{blog.id}</link>"
            "<image><url>https://blogpfthumb-phinf.pstatic.net/profile.png</url>"
            f"<title>{escape(blog.nick)}의 블로그</title>"
            f"<link>https://blog.naver.com/{blog.id}</link></image>"
            f"<description>{escape(blog.description)}</description>"
            "<language>ko</language><generator>Naver Blog</generator>"
            f"<pubDate>{format_datetime(dt.datetime.now(tz=KST))}</pubDate>"
            + "".join(items)
            + "</channel></rss>"
        )

    # -- the demo world and the web view -------------------------------------------------------
    # No crowd: Naver offers no comment API, so comments there would never reach Sotong.

    def populate_demo(self, account: DemoAccount, webhook_url: str) -> None:
        self.add_blog(account.account_id, "순천시")
        day = 86400
        for age, (title, body, category, tags) in enumerate(reversed(DEMO_HISTORY)):
            self.publish_by_hand(
                account.account_id,
                title,
                body,
                category=category,
                tags=tags,
                published=time.time() - (len(DEMO_HISTORY) - age) * 3 * day,
            )

    def timeline(self) -> list[dict[str, Any]]:
        return [
            {
                "account": f"{blog.nick}의 블로그",
                "posts": [
                    {
                        "id": post["log_no"],
                        "text": f"{post['title']}\n{post['body']}",
                        "url": f"https://blog.naver.com/{blog.id}/{post['log_no']}",
                        "comments": [],
                    }
                    for post in sorted(blog.posts, key=lambda p: p["published"], reverse=True)
                ],
            }
            for blog in self.blogs.values()
        ]
