"""A small web view of each simulated platform: a page's timeline with its comments, so a
person can see what Sotong "published"."""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

from sotong.simulator.core import Response

if TYPE_CHECKING:
    from sotong.simulator.core import Simulator

STYLE = """body{font-family:system-ui,'Noto Sans KR',sans-serif;margin:0;background:#f3f5f8;color:#1b1f24}
header{background:#333;color:#fff;padding:.6rem 1rem}header a{color:#fff;margin-right:1rem}
main{max-width:46rem;margin:1rem auto;padding:0 1rem}.post{background:#fff;border:1px solid #d0d5dc;
border-radius:6px;padding:1rem;margin:0 0 1rem}.post p{white-space:pre-wrap}.comments{border-top:1px solid #eee;
margin-top:.5rem;padding-top:.5rem}.comment{margin:.3rem 0}.muted{color:#4a5360;font-size:.9rem}"""


def handle(simulator: Simulator, path: str) -> Response:
    names = sorted(simulator.platforms)
    nav = "".join(
        f'<a href="/view/{name}">{escape(simulator.platforms[name].label or name)}</a>'
        for name in names
    )
    platform_name = path.removeprefix("/view").strip("/")
    if not platform_name:
        body = "<h1>Sotong platform simulator</h1><p>Choose a platform above.</p>"
    elif platform_name not in simulator.platforms:
        return Response(404, "no such platform", content_type="text/plain; charset=utf-8")
    else:
        platform = simulator.platforms[platform_name]
        with platform.lock:
            timeline = platform.timeline()
        sections = []
        for account in timeline:
            posts = []
            for post in account["posts"]:
                comments = "".join(
                    f'<div class="comment"><strong>{escape(c["author"])}</strong> {escape(c["text"])}</div>'
                    for c in post.get("comments", [])
                )
                posts.append(
                    f'<article class="post"><p>{escape(post["text"])}</p>'
                    f'<div class="muted">{escape(str(post.get("id", "")))}</div>'
                    f'<div class="comments">{comments or "<span class=muted>댓글 없음</span>"}</div></article>'
                )
            sections.append(
                f"<h2>{escape(account['account'])}</h2>" + ("".join(posts) or "<p>게시물 없음</p>")
            )
        body = f"<h1>{escape(platform.label or platform_name)}</h1>" + "".join(sections)
    html = (
        f'<!doctype html><html lang="ko"><head><meta charset="utf-8"><title>Simulator</title>'
        f"<style>{STYLE}</style></head><body><header>{nav}</header><main>{body}</main></body></html>"
    )
    return Response(200, html, content_type="text/html; charset=utf-8")
