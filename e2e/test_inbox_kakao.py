"""A KakaoTalk complaint with a photo and a place, in a real browser: the case page shows
the photo (fetched from the platform's image server into Sotong, served to staff only)
and the place as text; a reply waits for the citizen's next message (the demo city has not
turned on the paid Event API) and the page says when it went with it; the inbox shows the
month's Event API figures. The chat itself is e2e/test_kakao_chat.py: here the complaint
is handed to the inbox as the chat hands it over, so this page is tested on its own."""

from __future__ import annotations

import http.server
import io
import json
import threading
import uuid
from collections.abc import Iterator

import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from e2e.conftest import Server, screenshot, sign_in
from e2e.test_shell import assert_accessible

pytestmark = pytest.mark.e2e

# What the chat does with a complaint (channels.intake + inbox.ingest.ingest_event), and
# what the worker does with its photos (inbox.attachments.fetch_due).
COMPLAIN = """
import json
from django.utils import timezone
from sotong.channels import actions
from sotong.channels.models import Channel
from sotong.inbox import attachments, ingest
from sotong.platforms.base import InboundItem, InboundKind
given = {given}
channel = Channel.objects.get(kind="kakao")
[event] = actions.record_inbound(channel, [InboundItem(
    kind=InboundKind.MESSAGE, external_id="e2e-" + given["user"], text=given["text"],
    author_id=given["user"], conversation_id=given["user"], created_at=timezone.now(),
    raw={{"attachments": [{{"kind": "image", "url": given["photo"]}}],
         "location": {{"latitude": 34.9506, "longitude": 127.4872, "address": given["place"]}}}},
)])
message = ingest.ingest_event(event)
print(json.dumps({{"case": message.case_id, "photos": attachments.fetch_due()}}))
"""
# The citizen writes again: the chat takes the held replies into its answer.
NEXT_MESSAGE = """
from django.db import transaction
from sotong.channels.models import Channel
from sotong.inbox import actions
with transaction.atomic():
    taken = actions.take_held_replies(Channel.objects.get(kind="kakao"), "{user}")
print(len(taken))
"""


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (480, 320), (90, 140, 200)).save(out, "JPEG")
    return out.getvalue()


@pytest.fixture
def image_server() -> Iterator[str]:
    """The platform's image server: a real HTTP server on loopback (the demo channel's
    API is on this host too, so Sotong may fetch from it)."""
    body = jpeg()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/dn/photo.jpg?expires=60"
    server.shutdown()
    server.server_close()


def test_a_kakaotalk_complaint_with_a_photo_and_a_held_reply(
    page: Page, server: Server, image_server: str
) -> None:
    marker = uuid.uuid4().hex[:6]
    user = f"e2e-inbox-{marker}"
    given = {
        "user": user,
        "text": f"가로등이 깜빡거려요 {marker}",
        "photo": image_server,
        "place": f"순천시 장천동 {marker}",
    }
    result = server.sotong("shell", "-c", COMPLAIN.format(given=repr(given)))
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome["photos"]["fetched"] >= 1, outcome
    number = outcome["case"]

    sign_in(page, "pr.editor")
    page.goto(f"/inbox/cases/{number}/")
    expect(page.get_by_role("heading", name=f"민원 #{number}")).to_be_visible()
    photo = page.get_by_role("img", name="시민이 보낸 사진 1")
    expect(photo).to_be_visible()
    # Loaded from Sotong (never from the platform's address) and decoded as the JPEG it is.
    photo.evaluate(
        "image => image.decode ? image.decode() : new Promise(done => image.onload = done)"
    )
    assert photo.evaluate("image => image.naturalWidth") == 480
    place = page.locator(".place")
    expect(place).to_contain_text(given["place"])
    expect(place).to_contain_text("위도, 경도 34.9506, 127.4872")
    expect(page.locator("#kakao-delivery")).to_contain_text("이벤트 API를 쓰지 않으므로")
    assert_accessible(page)

    page.locator("#reply-form").get_by_label("답변", exact=True).fill(
        f"도로과입니다. 오늘 중으로 점검하겠습니다. {marker}"
    )
    page.get_by_role("button", name="답변 보내기").click()
    expect(page.get_by_role("status")).to_contain_text("카카오톡으로 함께 전달됩니다")
    reply = page.locator(".reply", has_text="오늘 중으로 점검")
    expect(reply).to_contain_text("시민의 다음 메시지를 기다리는 중")
    assert_accessible(page)
    screenshot(page, "kakao-case-photo-held-reply")

    taken = server.sotong("shell", "-c", NEXT_MESSAGE.format(user=user))
    assert taken.stdout.strip().splitlines()[-1] in {"1", "2"}  # the answer (+ the survey)
    page.reload()
    expect(page.locator(".reply", has_text="오늘 중으로 점검")).to_contain_text(
        "시민의 다음 메시지에 함께 전달됨"
    )
    expect(page.locator("#case-status")).to_contain_text("답변 완료")

    page.goto("/inbox/")
    usage = page.locator("#event-api-usage")
    expect(usage.get_by_role("heading", name="이번 달 카카오톡 이벤트 API")).to_be_visible()
    expect(usage).to_contain_text("이벤트 API 꺼짐")
    assert_accessible(page)
