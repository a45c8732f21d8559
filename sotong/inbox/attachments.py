"""Photos citizens send with a message (a complaint made in the KakaoTalk chat), and where
they say the matter is.

The chat puts them in the inbound item's raw payload: ``raw["attachments"] = [{"kind":
"image", "url": "https://…"}]`` and ``raw["location"] = {"latitude", "longitude",
"address"}``. Ingest records one ``MessageAttachment`` per photo (``from_raw``) and the
location on the message (``location_from_raw``); a task then fetches each photo soon,
for the platform's address expires (``fetch``):

- with a timeout, at most 10 MB (refused from the declared length, else cut off while
  reading), following at most 3 redirects;
- kept only if the bytes are a JPEG, PNG, GIF or WebP image, whatever the server says;
- passing trouble (timeouts, connection errors, 5xx, 429) is tried again with doubling
  waits (``platforms.base.backoff``), refusals (404, not an image, too big) are not;
- an address on a private network is fetched only from the host the channel itself is
  pointed at (the simulator or a practice server): a citizen's message must not make
  Sotong call the city's intranet.

The platform's address can open the citizen's photo without sign-in: it is stored
encrypted, forgotten once the photo is here, and never logged (logs name the
attachment's id only).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import logging
import socket
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sotong.channels.models import Channel
from sotong.inbox.models import (
    AttachmentKind,
    AttachmentState,
    Message,
    MessageAttachment,
    attachment_path,
)
from sotong.platforms.base import backoff

logger = logging.getLogger(__name__)

MAX_BYTES = 10 * 1024 * 1024
# More photos than this in one message are not fetched (the intake asks for one).
MAX_PER_MESSAGE = 10
MAX_URL = 2000
MAX_ADDRESS = 500
MAX_REDIRECTS = 3
TIMEOUT = httpx.Timeout(15.0, connect=5.0)
# A server dripping bytes slowly never times out a single read: the whole fetch has this long.
TOTAL_SECONDS = 60.0
MAX_ATTEMPTS = 5
FIRST_RETRY = dt.timedelta(seconds=30)
LONGEST_RETRY = dt.timedelta(minutes=10)
# A fetcher that took a photo this long ago and did not finish has died.
CLAIM = dt.timedelta(minutes=5)
USER_AGENT = "Sotong/0.1 (photo fetch)"

# (signature check, content type, file extension), read from the first bytes.
_SIGNATURES: tuple[tuple[Any, str, str], ...] = (
    (lambda head: head.startswith(b"\xff\xd8\xff"), "image/jpeg", "jpg"),
    (lambda head: head.startswith(b"\x89PNG\r\n\x1a\n"), "image/png", "png"),
    (lambda head: head[:6] in (b"GIF87a", b"GIF89a"), "image/gif", "gif"),
    (lambda head: head[:4] == b"RIFF" and head[8:12] == b"WEBP", "image/webp", "webp"),
)

ERRORS = {
    "too_large": _("larger than 10 MB"),
    "not_an_image": _("not a JPEG, PNG, GIF or WebP image"),
    "timeout": _("the platform did not answer in time"),
    "unreachable": _("the platform could not be reached"),
    "gone": _("the platform no longer has it (its address has expired)"),
    "refused": _("the platform refused it"),
    "server_error": _("the platform failed"),
    "blocked_address": _("its address is on a private network"),
    "bad_url": _("its address is not valid"),
    "too_many_redirects": _("the platform sent it on too many redirects"),
}


def error_label(code: str) -> str:
    """The reason a photo is not here, in words."""
    return str(ERRORS.get(code, code))


# -- from the raw payload ---------------------------------------------------------------------


def photo_urls(raw: dict[str, Any]) -> list[str]:
    """The image addresses in ``raw["attachments"]`` (http or https, at most 10);
    anything else there is ignored."""
    found = raw.get("attachments")
    if not isinstance(found, list):
        return []
    urls: list[str] = []
    for entry in found:
        if not isinstance(entry, dict) or entry.get("kind") != AttachmentKind.IMAGE:
            continue
        url = entry.get("url")
        if (
            isinstance(url, str)
            and len(url) <= MAX_URL
            and urlsplit(url).scheme in ("http", "https")
            and url not in urls
        ):
            urls.append(url)
    return urls[:MAX_PER_MESSAGE]


def _coordinate(value: object, limit: float) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    if number != number or not -limit <= number <= limit:  # NaN, or off the globe
        return None
    return round(number, 7)


def location_from_raw(raw: dict[str, Any]) -> dict[str, Any] | None:
    """``raw["location"]`` checked: {"latitude", "longitude", "address"} with coordinates
    on the globe (both or neither) and the address trimmed; None when nothing is left."""
    found = raw.get("location")
    if not isinstance(found, dict):
        return None
    latitude = _coordinate(found.get("latitude"), 90)
    longitude = _coordinate(found.get("longitude"), 180)
    if latitude is None or longitude is None:
        latitude = longitude = None
    address = found.get("address")
    address = " ".join(address.split())[:MAX_ADDRESS] if isinstance(address, str) else ""
    if latitude is None and not address:
        return None
    return {"latitude": latitude, "longitude": longitude, "address": address}


def from_raw(message: Message, raw: dict[str, Any]) -> list[MessageAttachment]:
    """The photo rows of ``message`` (unsaved), in the order the citizen sent them."""
    return [
        MessageAttachment(
            organisation_id=message.organisation_id,
            message=message,
            position=position,
            kind=AttachmentKind.IMAGE,
            source_url=url,
            next_attempt_at=message.received_at,
        )
        for position, url in enumerate(photo_urls(raw))
    ]


def enqueue(attachment_ids: list[int]) -> None:
    """Fetch these soon (after the commit that made them). A lost task is no loss: the
    periodic sweep takes every photo still to fetch."""
    from sotong.inbox.tasks import fetch_attachment_task

    for pk in attachment_ids:
        try:
            fetch_attachment_task.enqueue(pk)
        except Exception:
            logger.warning("photo %s: fetch not queued", pk, exc_info=True)


# -- fetching ---------------------------------------------------------------------------------


class FetchError(Exception):
    def __init__(self, code: str, *, retryable: bool = False) -> None:
        super().__init__(code)
        self.code = code
        self.retryable = retryable


@dataclass(frozen=True)
class Photo:
    content: bytes
    content_type: str
    extension: str


def sniff(content: bytes) -> tuple[str, str] | None:
    """(content type, extension) of an image by its first bytes, or None."""
    head = content[:16]
    for matches, content_type, extension in _SIGNATURES:
        if matches(head):
            return content_type, extension
    return None


def _private_hosts(channel: Channel) -> frozenset[str]:
    """Hosts on a private network a photo may come from: the one the channel is pointed
    at instead of the platform (the simulator, a practice server)."""
    host = urlsplit(channel.api_base).hostname if channel.api_base else None
    return frozenset({host}) if host else frozenset()


def _check_address(url: str, private_ok: frozenset[str]) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FetchError("bad_url")
    if parts.username or parts.password:
        raise FetchError("bad_url")
    host = parts.hostname
    if host in private_ok:
        return
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except ValueError:  # a port out of range
        raise FetchError("bad_url") from None
    except OSError:
        raise FetchError("unreachable", retryable=True) from None
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if not address.is_global:
            raise FetchError("blocked_address")


def download(url: str, *, client: httpx.Client, private_ok: frozenset[str] = frozenset()) -> Photo:
    """The image at ``url``, checked; raises FetchError with a code from ERRORS."""
    deadline = time.monotonic() + TOTAL_SECONDS
    for _hop in range(MAX_REDIRECTS + 1):
        _check_address(url, private_ok)
        try:
            with client.stream("GET", url, headers={"Accept": "image/*"}) as response:
                if response.is_redirect and "location" in response.headers:
                    url = urljoin(url, response.headers["location"])
                    continue
                _check_status(response.status_code)
                return _read(response, deadline)
        except httpx.TimeoutException:
            raise FetchError("timeout", retryable=True) from None
        except (httpx.InvalidURL, httpx.UnsupportedProtocol):
            raise FetchError("bad_url") from None
        except httpx.TransportError:
            raise FetchError("unreachable", retryable=True) from None
    raise FetchError("too_many_redirects")


def _check_status(status: int) -> None:
    if status == 200:
        return
    if status in (401, 403, 404, 410):
        # Platforms answer an expired signed address with 403 or 404: it will not come back.
        raise FetchError("gone")
    if status == 429 or status >= 500:
        raise FetchError("server_error", retryable=True)
    raise FetchError("refused")


def _read(response: httpx.Response, deadline: float) -> Photo:
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BYTES:
        raise FetchError("too_large")
    chunks: list[bytes] = []
    total = 0
    for chunk in response.iter_bytes():
        total += len(chunk)
        if total > MAX_BYTES:
            raise FetchError("too_large")
        if time.monotonic() > deadline:
            raise FetchError("timeout", retryable=True)
        chunks.append(chunk)
    content = b"".join(chunks)
    kind = sniff(content)
    if kind is None:
        raise FetchError("not_an_image")
    return Photo(content, *kind)


def fetch(attachment_id: int, *, client: httpx.Client | None = None) -> str:
    """Fetch one photo that is due; returns its state afterwards. Taken by a conditional
    update, so two workers never fetch the same photo."""
    now = timezone.now()
    taken = (
        MessageAttachment.objects.filter(
            pk=attachment_id, state=AttachmentState.PENDING, next_attempt_at__lte=now
        )
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - CLAIM))
        .update(claimed_at=now, attempts=F("attempts") + 1)
    )
    if not taken:
        state = MessageAttachment.objects.filter(pk=attachment_id).values_list("state", flat=True)
        return state.first() or ""
    attachment = MessageAttachment.objects.select_related("message__channel").get(pk=attachment_id)
    own_client = client is None
    http = client or httpx.Client(
        timeout=TIMEOUT, follow_redirects=False, headers={"User-Agent": USER_AGENT}
    )
    try:
        photo = download(
            attachment.source_url or "",
            client=http,
            private_ok=_private_hosts(attachment.message.channel),
        )
    except FetchError as error:
        _not_fetched(attachment, error)
    else:
        _store(attachment, photo)
    finally:
        if own_client:
            http.close()
    return attachment.state


def _store(attachment: MessageAttachment, photo: Photo) -> None:
    from sotong.publishing.images import written

    storage = MessageAttachment._meta.get_field("file").storage
    path = attachment_path(attachment, f"photo.{photo.extension}")
    # The file is written first and removed again if the row cannot be recorded.
    with written(storage, path, photo.content) as name, transaction.atomic():
        attachment.file.name = name
        attachment.content_type = photo.content_type
        attachment.size = len(photo.content)
        attachment.sha256 = hashlib.sha256(photo.content).hexdigest()
        attachment.fetched_at = timezone.now()
        attachment.state = AttachmentState.FETCHED
        attachment.error = ""
        attachment.claimed_at = None
        attachment.source_url = ""  # the photo is here: the address is no longer needed
        attachment.save(
            update_fields=[
                "file",
                "content_type",
                "size",
                "sha256",
                "fetched_at",
                "state",
                "error",
                "claimed_at",
                "source_url",
            ]
        )


def _not_fetched(attachment: MessageAttachment, error: FetchError) -> None:
    attachment.refresh_from_db(fields=["attempts"])
    attachment.error = error.code
    attachment.claimed_at = None
    fields = ["error", "claimed_at"]
    if error.retryable and attachment.attempts < MAX_ATTEMPTS:
        attachment.next_attempt_at = timezone.now() + backoff(
            attachment.attempts, FIRST_RETRY, LONGEST_RETRY
        )
        fields.append("next_attempt_at")
    else:
        attachment.state = AttachmentState.FAILED
        attachment.source_url = ""
        fields += ["state", "source_url"]
    attachment.save(update_fields=fields)
    logger.info("photo %s not fetched (%s, try %d)", attachment.pk, error.code, attachment.attempts)


def fetch_due(limit: int = 50, *, client: httpx.Client | None = None) -> dict[str, int]:
    """Fetch the photos that are due (first tries a lost task left, and retries)."""
    now = timezone.now()
    due = list(
        MessageAttachment.objects.filter(state=AttachmentState.PENDING, next_attempt_at__lte=now)
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - CLAIM))
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    counts = {"fetched": 0, "failed": 0, "waiting": 0}
    for pk in due:
        state = fetch(pk, client=client)
        key = {AttachmentState.FETCHED: "fetched", AttachmentState.FAILED: "failed"}.get(
            state,  # type: ignore[call-overload]
            "waiting",
        )
        counts[key] += 1
    return counts
