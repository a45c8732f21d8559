"""A small web view of each simulated platform: a page's timeline with its comments, so a
person can see what Sotong "published" — and, for KakaoTalk, a chat client: the citizen's
side of a 1:1 chat with the city's chatbot (/view/kakao/chat/<bot>/<user>), posting plain
HTML forms to the control API (/_control/citizens/kakao/chat/<bot>/<user>)."""

from __future__ import annotations

import datetime as dt
from html import escape
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote

from sotong.simulator.core import Response

if TYPE_CHECKING:
    from collections.abc import Mapping

    from sotong.simulator.core import Simulator

STYLE = """body{font-family:system-ui,'Noto Sans KR',sans-serif;margin:0;background:#f3f5f8;color:#1b1f24}
header{background:#333;color:#fff;padding:.6rem 1rem}header a{color:#fff;margin-right:1rem;display:inline-block}
main{max-width:46rem;margin:1rem auto;padding:0 1rem}.post{background:#fff;border:1px solid #d0d5dc;
border-radius:6px;padding:1rem;margin:0 0 1rem}.post p{white-space:pre-wrap}.comments{border-top:1px solid #eee;
margin-top:.5rem;padding-top:.5rem}.comment{margin:.3rem 0}.muted{color:#4a5360;font-size:.9rem}"""
# KakaoTalk's own colours: the blue-grey room, yellow bubbles for what the citizen sent.
CHAT_STYLE = """.room{background:#b2c7d9;border-radius:8px;padding:.75rem;margin:0 0 1rem}
.bubbles{list-style:none;margin:0;padding:0}.msg{display:flex;flex-direction:column;
align-items:flex-start;margin:.6rem 0;max-width:85%}.msg.me{margin-left:auto;align-items:flex-end}
.bubble{background:#fff;color:#191919;border-radius:12px;padding:.5rem .75rem;white-space:pre-wrap;
overflow-wrap:anywhere;margin:.15rem 0}.msg.me .bubble{background:#fee500}.msg.error .bubble{background:#fff0f0;
color:#7a0c0c;border:1px solid #b3261e}.msg.wait .bubble{font-style:italic}.who,.when{font-size:.8rem;
color:#1b2a38}.card-title{font-weight:700;margin:0 0 .25rem}.bubble p{margin:.25rem 0}
.bubble ul{margin:.25rem 0;padding-left:1.1rem}.bubble img{max-width:14rem;border-radius:8px;display:block}
.choices{list-style:none;display:flex;flex-wrap:wrap;gap:.4rem;padding:0;margin:.4rem 0 0}
button{font:inherit;padding:.35rem .8rem;border-radius:16px;border:1px solid #4a5360;background:#fff;
color:#191919;cursor:pointer}input[type=text]{font:inherit;padding:.4rem;border:1px solid #4a5360;
border-radius:6px;flex:1;min-width:0}button:focus-visible,input:focus-visible,a:focus-visible{outline:3px solid #1a5fb4;
outline-offset:2px}.send{display:flex;flex-wrap:wrap;gap:.5rem;align-items:center;margin:.5rem 0}.note{padding:.5rem .75rem;
border-radius:6px;background:#e8f0fe}.note.error{background:#fff0f0;color:#7a0c0c}
.visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}"""
KST = dt.timezone(dt.timedelta(hours=9))


def handle(simulator: Simulator, path: str) -> Response:
    names = sorted(simulator.platforms)
    nav = "".join(
        f'<a href="/view/{name}">{escape(simulator.platforms[name].label or name)}</a>'
        for name in names
    )
    platform_name = path.removeprefix("/view").strip("/")
    if platform_name.startswith("kakao/chat/") and "kakao" in simulator.platforms:
        return kakao_chat(simulator, nav, platform_name.removeprefix("kakao/chat/"))
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
                chat = (
                    f'<p><a href="{escape(post["chat"])}">{escape(post["text"])} 열기</a></p>'
                    if post.get("chat")
                    else ""
                )
                posts.append(
                    f'<article class="post"><p>{escape(post["text"])}</p>{chat}'
                    f'<div class="muted">{escape(str(post.get("id", "")))}</div>'
                    f'<div class="comments">{comments or "<span class=muted>댓글 없음</span>"}</div></article>'
                )
            sections.append(
                f"<h2>{escape(account['account'])}</h2>" + ("".join(posts) or "<p>게시물 없음</p>")
            )
        body = f"<h1>{escape(platform.label or platform_name)}</h1>" + "".join(sections)
    return _page("Simulator", nav, body)


def _page(title: str, nav: str, body: str, style: str = "") -> Response:
    html = (
        f'<!doctype html><html lang="ko"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{STYLE}{style}</style></head><body>"
        f'<header><nav aria-label="플랫폼">{nav}</nav></header><main>{body}</main></body></html>'
    )
    return Response(200, html, content_type="text/html; charset=utf-8")


# -- the KakaoTalk chat client ---------------------------------------------------------------


def kakao_chat(simulator: Simulator, nav: str, rest: str) -> Response:
    parts = rest.strip("/").split("/")
    if len(parts) != 2 or not all(parts):
        return Response(404, "no such chat", content_type="text/plain; charset=utf-8")
    bot_id, user_key = unquote(parts[0]), unquote(parts[1])
    view = simulator["kakao"].chat_view(bot_id, user_key)
    if view is None:
        return Response(404, "no such bot", content_type="text/plain; charset=utf-8")
    action = f"/_control/citizens/kakao/chat/{quote(bot_id, safe='')}/{quote(user_key, safe='')}"
    own_host = simulator.base_url

    def tap_buttons(labels: list[str]) -> str:
        if not labels:
            return ""
        items = "".join(
            f'<li><button type="submit" name="label" value="{escape(label)}">{escape(label)}</button></li>'
            for label in labels
        )
        return (
            f'<form method="post" action="{action}"><input type="hidden" name="action" value="tap">'
            f'<ul class="choices">{items}</ul></form>'
        )

    def picture(url: str, alt: str) -> str:
        # Only the simulator's own CDN is loaded: a page must not reach outside.
        if own_host and url.startswith(own_host):
            return f'<img src="{escape(url)}" alt="{escape(alt)}">'
        return f"<p>[사진: {escape(alt)}] {escape(url)}</p>"

    def bubble_html(bubble: Mapping[str, Any]) -> str:
        if bubble["kind"] == "text":
            return f"<p>{escape(bubble['text'])}</p>"
        if bubble["kind"] == "image":
            return picture(bubble["url"], bubble["alt"])
        if bubble["kind"] == "list":
            rows = "".join(
                f"<li>{escape(row['title'])}"
                + (f" — {escape(row['description'])}" if row["description"] else "")
                + (f" ({escape(row['url'])})" if row["url"] else "")
                + "</li>"
                for row in bubble["rows"]
            )
            taps = [row["title"] for row in bubble["rows"] if row["tap"]]
            return (
                f'<p class="card-title">{escape(bubble["title"])}</p><ul>{rows}</ul>'
                + tap_buttons(taps + bubble["buttons"])
            )
        parts = []
        if bubble["image"]:
            parts.append(picture(bubble["image"], bubble["title"] or "카드 이미지"))
        if bubble["title"]:
            parts.append(f'<p class="card-title">{escape(bubble["title"])}</p>')
        if bubble["description"]:
            parts.append(f"<p>{escape(bubble['description'])}</p>")
        return "".join(parts) + tap_buttons(bubble["buttons"])

    items = []
    for message in view["messages"]:
        when = dt.datetime.fromtimestamp(message["at"], tz=KST)
        time_html = f'<time class="when" datetime="{when.isoformat()}">{when:%H:%M}</time>'
        if message["from"] == "user":
            if message.get("photos"):
                content = "".join(
                    picture(url, f"보낸 사진 {number}")
                    for number, url in enumerate(message["photos"], start=1)
                )
            else:
                content = f"<p>{escape(message['text'])}</p>"
            items.append(
                f'<li class="msg me"><span class="who">나</span>'
                f'<div class="bubble">{content}</div>{time_html}</li>'
            )
            continue
        kind = message.get("kind", "answer")
        if not message["ok"]:
            who, css = "오류", "error"
            content = (
                f"<p>{escape(message['text'])}</p>"
                f'<p class="who">시뮬레이터: {escape(message["reason"])}</p>'
            )
        elif message.get("staff"):
            who, css, content = "상담원", "bot", f"<p>{escape(message['text'])}</p>"
        elif kind == "event":
            who, css, content = "채널 메시지", "bot", f"<p>{escape(message['text'])}</p>"
        elif kind == "callback_wait":
            who, css, content = "챗봇", "bot wait", f"<p>{escape(message['text'])}</p>"
        else:
            who, css = "챗봇", "bot"
            answer = message.get("answer") or {}
            # Each output is a bubble of its own, as KakaoTalk shows them.
            content = '</div><div class="bubble">'.join(
                bubble_html(b) for b in answer.get("bubbles", [])
            ) or (f"<p>{escape(message['text'])}</p>")
        items.append(
            f'<li class="msg {css}"><span class="who">{who}</span>'
            f'<div class="bubble">{content}</div>{time_html}</li>'
        )
    note = ""
    if view["note"]:
        text, is_error = view["note"]
        note = (
            f'<p class="note{" error" if is_error else ""}" role="{"alert" if is_error else "status"}">'
            f"{escape(text)}</p>"
        )
    quick = (
        f'<section aria-labelledby="quick-title"><h2 id="quick-title">빠른 답장</h2>'
        f"{tap_buttons(view['quick_replies'])}</section>"
        if view["quick_replies"]
        else ""
    )
    talk = (
        "".join(items)
        or '<li class="msg bot"><span class="who">안내</span><div class="bubble"><p>아직 대화가 없습니다. 메시지를 보내 보세요.</p></div></li>'
    )
    body = (
        f'<p><a href="/view/kakao">채팅 목록으로</a></p>'
        f"<h1>{escape(view['bot_name'])}</h1>"
        f'<p class="muted">{escape(view["user_name"])} 님의 카카오톡 1:1 채팅 · 친구 {view["followers"]:,}명</p>'
        f"{note}"
        f'<section class="room" aria-labelledby="room-title"><h2 id="room-title" class="visually-hidden">대화</h2>'
        f'<ol class="bubbles">{talk}</ol></section>'
        f"{quick}"
        f'<section aria-labelledby="send-title"><h2 id="send-title">보내기</h2>'
        f'<form class="send" method="post" action="{action}"><input type="hidden" name="action" value="message">'
        f'<label for="chat-text">메시지</label><input type="text" id="chat-text" name="text" maxlength="1000" '
        f'required autocomplete="off"><button type="submit">전송</button></form>'
        f'<form class="send" method="post" action="{action}"><input type="hidden" name="action" value="photo">'
        f'<button type="submit">사진 보내기</button></form>'
        f'<form class="send" method="post" action="{action}"><input type="hidden" name="action" value="location">'
        f'<label for="chat-address">위치(주소)</label><input type="text" id="chat-address" name="address" '
        f'required autocomplete="off"><button type="submit">위치 보내기</button></form></section>'
    )
    title = f"{view['user_name']} 님과의 채팅 - {view['bot_name']}"
    return _page(title, nav, body, CHAT_STYLE)
