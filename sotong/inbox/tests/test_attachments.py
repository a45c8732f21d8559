"""Photos and the location a citizen sends with a KakaoTalk complaint: recorded at ingest
(the batch and the one-by-one paths), fetched from a real local HTTP server (size, type
sniffed from the bytes, timeouts, refusals, retries with backoff), shown on the case page
and served only to staff who see the case."""

from __future__ import annotations

import datetime as dt
import hashlib
import http.server
import io
import json
import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from sotong.conftest import SYSTEM, department
from sotong.core.roles import Role
from sotong.inbox import actions, attachments, ingest
from sotong.inbox.models import (
    AttachmentState,
    Case,
    Message,
    MessageAttachment,
)


def image_bytes(fmt: str, size: tuple[int, int] = (40, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 80, 40)).save(out, fmt)
    return out.getvalue()


JPEG = image_bytes("JPEG")
HTML = b"<!doctype html><html><body><script>alert(1)</script></body></html>"


class PhotoServer:
    """A real HTTP server on loopback standing in for the platform's image host."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        self.fail_first: dict[str, int] = {}
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner.requests.append(self.path)
                path = self.path.split("?", 1)[0]
                if owner.fail_first.get(path, 0) > 0:
                    owner.fail_first[path] -= 1
                    self._send(503, b"busy", "text/plain")
                elif path == "/photo.jpg":
                    self._send(200, JPEG, "image/jpeg")
                elif path == "/photo.png":
                    # The server's word is not taken: the bytes say PNG.
                    self._send(200, image_bytes("PNG"), "application/octet-stream")
                elif path == "/page.jpg":
                    self._send(200, HTML, "image/jpeg")
                elif path == "/big.jpg":
                    self._send(200, JPEG + b"\0" * (10 * 1024 * 1024), "image/jpeg")
                elif path == "/big-undeclared.jpg":
                    # No Content-Length: cut off while reading.
                    self.send_response(200)
                    self.send_header("Content-Type", "image/jpeg")
                    self.send_header("Connection", "close")
                    self.end_headers()
                    self.wfile.write(JPEG)
                    chunk = b"\0" * (1024 * 1024)
                    for _ in range(12):
                        self.wfile.write(chunk)
                elif path == "/slow.jpg":
                    time.sleep(1.5)
                    self._send(200, JPEG, "image/jpeg")
                elif path == "/moved.jpg":
                    self.send_response(302)
                    self.send_header("Location", "/photo.jpg")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                elif path == "/loop.jpg":
                    self.send_response(302)
                    self.send_header("Location", "/loop.jpg")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                else:
                    self._send(404, b"not found", "text/plain")

            def _send(self, status: int, body: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"{self.base}{path}?token=secret-signed-part"


@pytest.fixture
def photo_server() -> Iterator[PhotoServer]:
    server = PhotoServer()
    server.thread.start()
    yield server
    server.server.shutdown()
    server.server.server_close()


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def quick():
    """A client with a short read timeout, for the slow server."""
    with httpx.Client(timeout=httpx.Timeout(0.5, connect=2.0)) as client:
        yield client


def complaint(kakao_says, photo_server: PhotoServer, *paths: str, **extra: object):
    raw = {
        "attachments": [{"kind": "image", "url": photo_server.url(path)} for path in paths],
        **extra,
    }
    return kakao_says("횡단보도 신호등이 고장났어요", raw=raw)


def the_photo(position: int = 0) -> MessageAttachment:
    return MessageAttachment.objects.get(position=position)


# -- reading the raw payload ---------------------------------------------------------------------


def test_only_image_addresses_are_taken_from_the_raw_payload() -> None:
    raw = {
        "attachments": [
            {"kind": "image", "url": "https://kakaocdn.example/a.jpg"},
            {"kind": "video", "url": "https://kakaocdn.example/b.mp4"},
            {"kind": "image", "url": "javascript:alert(1)"},
            {"kind": "image", "url": "file:///etc/passwd"},
            {"kind": "image"},
            "https://kakaocdn.example/c.jpg",
            {"kind": "image", "url": "https://kakaocdn.example/a.jpg"},  # again
            {"kind": "image", "url": "http://kakaocdn.example/d.png"},
        ]
    }
    assert attachments.photo_urls(raw) == [
        "https://kakaocdn.example/a.jpg",
        "http://kakaocdn.example/d.png",
    ]
    assert attachments.photo_urls({"attachments": "x"}) == []
    many = {"attachments": [{"kind": "image", "url": f"https://x.example/{n}"} for n in range(20)]}
    assert len(attachments.photo_urls(many)) == attachments.MAX_PER_MESSAGE


def test_a_location_is_checked() -> None:
    place = attachments.location_from_raw(
        {"location": {"latitude": 34.9506, "longitude": 127.4872, "address": " 순천시  장천동 "}}
    )
    assert place == {"latitude": 34.9506, "longitude": 127.4872, "address": "순천시 장천동"}
    # Coordinates off the globe, or only one of them, are dropped; the address stays.
    assert attachments.location_from_raw(
        {"location": {"latitude": 134.0, "longitude": 127.4, "address": "연향동"}}
    ) == {"latitude": None, "longitude": None, "address": "연향동"}
    assert (
        attachments.location_from_raw(
            {"location": {"latitude": "34.95", "longitude": None, "address": ""}}
        )
        is None
    )
    assert attachments.location_from_raw({"location": {"latitude": True, "longitude": 1}}) is None
    assert attachments.location_from_raw({"location": "순천"}) is None
    assert attachments.location_from_raw({}) is None


def test_the_bytes_say_what_an_image_is() -> None:
    assert attachments.sniff(JPEG) == ("image/jpeg", "jpg")
    assert attachments.sniff(image_bytes("PNG")) == ("image/png", "png")
    assert attachments.sniff(image_bytes("GIF")) == ("image/gif", "gif")
    assert attachments.sniff(image_bytes("WEBP")) == ("image/webp", "webp")
    assert attachments.sniff(HTML) is None
    assert attachments.sniff(b"%PDF-1.7") is None
    assert attachments.sniff(b"") is None


# -- ingest ------------------------------------------------------------------------------------


def test_ingest_records_photos_and_the_location_batch_path(
    kakao_says, photo_server, django_capture_on_commit_callbacks
) -> None:
    from django_tasks_db.models import DBTaskResult

    complaint(
        kakao_says,
        photo_server,
        "/photo.jpg",
        "/photo.png",
        location={"latitude": 34.9506, "longitude": 127.4872, "address": "순천시 장천동 18"},
    )
    kakao_says("사진 없는 다른 민원", user="bot-user-key-0002")
    with django_capture_on_commit_callbacks(execute=True):
        result = ingest.ingest_pending()
    assert result.messages == 2
    message = Message.objects.get(conversation_id="bot-user-key-0001")
    photos = list(message.attachments.order_by("position"))
    assert [photo.position for photo in photos] == [0, 1]
    assert {photo.state for photo in photos} == {AttachmentState.PENDING}
    assert photos[0].source_url == photo_server.url("/photo.jpg")
    assert message.place == {
        "latitude": 34.9506,
        "longitude": 127.4872,
        "address": "순천시 장천동 18",
    }
    other = Message.objects.get(conversation_id="bot-user-key-0002")
    assert (other.attachments.count(), other.place) == (0, None)
    # The platform's address and the location are encrypted at rest.
    with connection.cursor() as cursor:
        cursor.execute("SELECT source_url FROM inbox_messageattachment")
        stored = " ".join(row[0] for row in cursor.fetchall())
        cursor.execute("SELECT location FROM inbox_message")
        stored += " ".join(row[0] for row in cursor.fetchall())
    assert "127.0.0.1" not in stored
    assert "장천동" not in stored
    # Each photo's fetch was queued once the ingest committed.
    queued = DBTaskResult.objects.filter(task_path__endswith="fetch_attachment_task")
    assert sorted(row.args_kwargs["args"][0] for row in queued) == [photo.pk for photo in photos]


def test_ingest_records_photos_on_the_one_by_one_path(kakao_says, photo_server) -> None:
    event = complaint(kakao_says, photo_server, "/photo.jpg")
    result = ingest.IngestResult()
    ingest._ingest_one(event, False, result)
    assert result.messages == 1
    assert Message.objects.get().attachments.count() == 1


def test_ingest_event_takes_one_event_now_and_is_idempotent(kakao_says, photo_server) -> None:
    first = kakao_says("먼저 온 메시지", user="bot-user-key-0009")
    event = complaint(kakao_says, photo_server, "/photo.jpg")
    message = ingest.ingest_event(event)
    assert message is not None
    assert message.event_id == event.pk
    assert message.case.pk == Case.objects.get().pk  # the receipt number, at once
    assert message.attachments.count() == 1
    # Only that event: the other waits for the workers.
    first.refresh_from_db()
    assert first.processed_at is None
    # Again, or after a worker's round: the same message, nothing made twice.
    assert ingest.ingest_event(event) == message
    assert ingest.ingest_pending().messages == 1  # the other event only
    assert ingest.ingest_event(event) == message
    assert Message.objects.filter(event=event).count() == 1
    assert MessageAttachment.objects.count() == 1


def test_ingest_event_returns_the_message_a_worker_made_meanwhile(kakao_says) -> None:
    event = kakao_says("동시에 처리되는 메시지")
    # A worker loaded the event before this request and takes it first.
    stale = type(event).objects.select_related("channel", "organisation").get(pk=event.pk)
    ingest._ingest_batch([stale], set(), ingest.IngestResult())
    taken = ingest.ingest_event(event)
    assert taken == Message.objects.get()
    assert Case.objects.count() == 1


def test_ingest_event_of_our_own_reply_coming_back_makes_no_message(
    kakao_says, comment, channel
) -> None:
    said = comment("공사 언제 끝나요?")
    ingest.ingest_pending()
    case = Case.objects.get()
    answer = actions.reply(SYSTEM, case, "다음 주에 끝납니다.")
    assert actions.send_reply(answer.pk) == "sent"
    answer.refresh_from_db()
    from sotong.channels import actions as channels
    from sotong.platforms.base import InboundItem, InboundKind

    [echo] = channels.record_inbound(
        channel,
        [
            InboundItem(
                kind=InboundKind.COMMENT,
                external_id=answer.external_id,
                text="다음 주에 끝납니다.",
                author_id="city",
                post_external_id=said.post,
            )
        ],
    )
    assert ingest.ingest_event(echo) is None
    echo.refresh_from_db()
    assert echo.processed_at is not None  # taken, as our own: no case, no message
    assert Message.objects.count() == 1


# -- fetching ------------------------------------------------------------------------------------


def fetched_photo(kakao_says, photo_server, path: str, **fetch_args) -> MessageAttachment:
    complaint(kakao_says, photo_server, path)
    ingest.ingest_pending()
    photo = the_photo()
    attachments.fetch(photo.pk, **fetch_args)
    photo.refresh_from_db()
    return photo


def test_a_photo_is_fetched_stored_unguessably_and_its_address_forgotten(
    kakao_says, photo_server, settings
) -> None:
    photo = fetched_photo(kakao_says, photo_server, "/photo.jpg")
    assert photo.state == AttachmentState.FETCHED
    assert (photo.content_type, photo.size) == ("image/jpeg", len(JPEG))
    assert photo.sha256 == hashlib.sha256(JPEG).hexdigest()
    assert photo.fetched_at is not None
    assert photo.source_url == ""
    assert photo.attempts == 1
    stored = Path(settings.MEDIA_ROOT) / photo.file.name
    assert stored.read_bytes() == JPEG
    # citizen-photos/<year>/<month>/<random token>.jpg: no case, message or photo id.
    folder, year, month, name = photo.file.name.split("/")
    assert (folder, year, month) == (
        "citizen-photos",
        f"{timezone.now():%Y}",
        f"{timezone.now():%m}",
    )
    assert name.endswith(".jpg")
    assert len(name.removesuffix(".jpg")) >= 32
    # Done: a second fetch does nothing.
    assert attachments.fetch(photo.pk) == AttachmentState.FETCHED
    assert len(photo_server.requests) == 1


def test_the_type_comes_from_the_bytes_not_the_header(kakao_says, photo_server) -> None:
    png = fetched_photo(kakao_says, photo_server, "/photo.png")
    assert (png.state, png.content_type) == (AttachmentState.FETCHED, "image/png")
    assert png.file.name.endswith(".png")


def test_a_web_page_called_jpg_is_refused_for_good(kakao_says, photo_server, settings) -> None:
    photo = fetched_photo(kakao_says, photo_server, "/page.jpg")
    assert (photo.state, photo.error) == (AttachmentState.FAILED, "not_an_image")
    assert not photo.file
    assert photo.source_url == ""
    assert not (Path(settings.MEDIA_ROOT) / "citizen-photos").exists()


@pytest.mark.parametrize("path", ["/big.jpg", "/big-undeclared.jpg"])
def test_a_photo_over_10_mb_is_refused(kakao_says, photo_server, path) -> None:
    photo = fetched_photo(kakao_says, photo_server, path)
    assert (photo.state, photo.error) == (AttachmentState.FAILED, "too_large")
    assert not photo.file


def test_a_missing_photo_is_not_asked_again(kakao_says, photo_server) -> None:
    photo = fetched_photo(kakao_says, photo_server, "/expired.jpg")
    assert (photo.state, photo.error) == (AttachmentState.FAILED, "gone")
    assert attachments.fetch_due() == {"fetched": 0, "failed": 0, "waiting": 0}
    assert len(photo_server.requests) == 1


def test_a_timeout_is_tried_again_later_with_doubling_waits(
    kakao_says, photo_server, quick
) -> None:
    started = timezone.now()
    photo = fetched_photo(kakao_says, photo_server, "/slow.jpg", client=quick)
    assert (photo.state, photo.error, photo.attempts) == (AttachmentState.PENDING, "timeout", 1)
    wait = photo.next_attempt_at - started
    assert attachments.FIRST_RETRY <= wait <= attachments.FIRST_RETRY + dt.timedelta(seconds=5)
    # Not due yet: the sweep leaves it.
    assert attachments.fetch_due(client=quick) == {"fetched": 0, "failed": 0, "waiting": 0}
    MessageAttachment.objects.filter(pk=photo.pk).update(next_attempt_at=timezone.now())
    assert attachments.fetch_due(client=quick) == {"fetched": 0, "failed": 0, "waiting": 1}
    photo.refresh_from_db()
    assert photo.attempts == 2
    second_wait = photo.next_attempt_at - timezone.now()
    assert second_wait > attachments.FIRST_RETRY  # doubled
    # After the last attempt it is given up.
    MessageAttachment.objects.filter(pk=photo.pk).update(
        attempts=attachments.MAX_ATTEMPTS - 1, next_attempt_at=timezone.now()
    )
    assert attachments.fetch(photo.pk, client=quick) == AttachmentState.FAILED
    photo.refresh_from_db()
    assert (photo.error, photo.source_url) == ("timeout", "")


def test_a_passing_server_error_is_retried_and_then_fetched(kakao_says, photo_server) -> None:
    photo_server.fail_first["/photo.jpg"] = 1
    photo = fetched_photo(kakao_says, photo_server, "/photo.jpg")
    assert (photo.state, photo.error) == (AttachmentState.PENDING, "server_error")
    MessageAttachment.objects.filter(pk=photo.pk).update(next_attempt_at=timezone.now())
    assert attachments.fetch_due() == {"fetched": 1, "failed": 0, "waiting": 0}
    photo.refresh_from_db()
    assert (photo.state, photo.error, photo.attempts) == (AttachmentState.FETCHED, "", 2)


def test_redirects_are_followed_a_few_times(kakao_says, photo_server) -> None:
    moved = fetched_photo(kakao_says, photo_server, "/moved.jpg")
    assert moved.state == AttachmentState.FETCHED
    assert photo_server.requests == ["/moved.jpg?token=secret-signed-part", "/photo.jpg"]


def test_a_redirect_loop_is_given_up(kakao_says, photo_server) -> None:
    photo = fetched_photo(kakao_says, photo_server, "/loop.jpg")
    assert (photo.state, photo.error) == (AttachmentState.FAILED, "too_many_redirects")
    assert len(photo_server.requests) == attachments.MAX_REDIRECTS + 1


def test_no_fetch_from_a_private_network_for_a_real_channel(
    kakao_says, kakao_channel, photo_server
) -> None:
    # The production channel talks to Kakao itself: a loopback or intranet address in a
    # message must not make Sotong call it.
    kakao_channel.api_base = ""
    kakao_channel.save(update_fields=["api_base"])
    photo = fetched_photo(kakao_says, photo_server, "/photo.jpg")
    assert (photo.state, photo.error) == (AttachmentState.FAILED, "blocked_address")
    assert photo_server.requests == []
    with pytest.raises(attachments.FetchError) as intranet:
        attachments.download("http://10.1.2.3/a.jpg", client=httpx.Client())
    assert intranet.value.code == "blocked_address"
    with pytest.raises(attachments.FetchError) as with_password:
        attachments.download("https://user:pw@kakaocdn.example/a.jpg", client=httpx.Client())
    assert with_password.value.code == "bad_url"


def test_the_platforms_address_is_never_logged(kakao_says, photo_server, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    for path in ("/photo.jpg", "/expired.jpg"):
        complaint(kakao_says, photo_server, path)
    ingest.ingest_pending()
    for photo in MessageAttachment.objects.all():
        attachments.fetch(photo.pk)
    assert "127.0.0.1" not in caplog.text
    assert "secret-signed-part" not in caplog.text
    assert "not fetched (gone" in caplog.text


# -- the case page and the photo view ---------------------------------------------------------------


@pytest.fixture
def photo_case(kakao_says, photo_server) -> Case:
    complaint(
        kakao_says,
        photo_server,
        "/photo.jpg",
        "/page.jpg",
        "/photo.png",
        location={"latitude": 34.9506, "longitude": 127.4872, "address": "순천시 장천동 18"},
    )
    ingest.ingest_pending()
    attachments.fetch(the_photo(0).pk)
    attachments.fetch(the_photo(1).pk)
    return Case.objects.get()


def test_the_case_page_shows_photos_and_the_location(client, city, photo_case, make_staff) -> None:
    client.force_login(make_staff(city, Role.PR_EDITOR, "pr").user)
    page = client.get(reverse("inbox:case", args=[photo_case.pk])).content.decode()
    fetched = the_photo(0)
    url = reverse("inbox:photo", args=[photo_case.pk, fetched.pk])
    assert f'src="{url}"' in page
    assert 'alt="시민이 보낸 사진 1"' in page
    assert "사진 2을(를) 가져오지 못했습니다" in page
    assert "JPEG, PNG, GIF, WebP 이미지가 아닙니다" in page
    assert "사진 3: 가져오는 중…" in page
    assert "순천시 장천동 18" in page
    assert "위도, 경도 34.9506, 127.4872" in page
    # The platform's address never reaches the page.
    assert "127.0.0.1" not in page
    # Offline intranet: coordinates as text, no map frame or tiles from elsewhere.
    assert "<iframe" not in page
    assert "tile" not in page.lower()


def test_the_photo_is_served_inline_as_what_it_is(client, city, photo_case, make_staff) -> None:
    client.force_login(make_staff(city, Role.PR_EDITOR, "pr").user)
    fetched = the_photo(0)
    response = client.get(reverse("inbox:photo", args=[photo_case.pk, fetched.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["Content-Disposition"] == f'inline; filename="photo-{fetched.pk}.jpg"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    assert "private" in response["Cache-Control"]
    assert response.content == JPEG
    # A photo not (yet) here is not found; nor one of another case.
    refused = the_photo(1)
    assert client.get(reverse("inbox:photo", args=[photo_case.pk, refused.pk])).status_code == 404
    assert client.get(reverse("inbox:photo", args=[photo_case.pk + 1, fetched.pk])).status_code == (
        404
    )


def test_the_photo_is_only_for_staff_who_see_the_case(
    client, city, other_city, photo_case, make_staff
) -> None:
    url = reverse("inbox:photo", args=[photo_case.pk, the_photo(0).pk])
    # Not signed in: to the sign-in page.
    anonymous = client.get(url)
    assert anonymous.status_code == 302
    assert "/login" in anonymous["Location"]
    actions.assign(SYSTEM, photo_case, department=department(city, "roads"))
    # Another department's responder, and another city's administrator: not found.
    client.force_login(make_staff(city, Role.DEPARTMENT_RESPONDER, "sewer").user)
    assert client.get(url).status_code == 404
    client.force_login(make_staff(other_city, Role.ADMIN).user)
    assert client.get(url).status_code == 404
    # The department it is assigned to sees it.
    client.force_login(make_staff(city, Role.DEPARTMENT_RESPONDER, "roads").user)
    assert client.get(url).status_code == 200
    assert client.post(url).status_code == 405


def test_a_photo_file_gone_from_disk_is_not_found(
    client, city, photo_case, make_staff, settings
) -> None:
    fetched = the_photo(0)
    (Path(settings.MEDIA_ROOT) / fetched.file.name).unlink()
    client.force_login(make_staff(city, Role.PR_EDITOR, "pr").user)
    assert client.get(reverse("inbox:photo", args=[photo_case.pk, fetched.pk])).status_code == 404


def test_a_message_without_photos_shows_none(client, city, kakao_says, make_staff) -> None:
    kakao_says("사진 없이 보낸 민원", raw={"location": {"address": "조례동"}})
    ingest.ingest_pending()
    case = Case.objects.get()
    client.force_login(make_staff(city, Role.PR_EDITOR, "pr").user)
    page = client.get(reverse("inbox:case", args=[case.pk])).content.decode()
    assert 'class="photos"' not in page
    assert "조례동" in page
    assert "위도, 경도" not in page
    assert json.loads(Message.objects.get().location) == {
        "latitude": None,
        "longitude": None,
        "address": "조례동",
    }
