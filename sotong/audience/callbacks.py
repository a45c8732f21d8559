"""KakaoTalk's relationship callback (shared/docs/platform-apis.md §1, "Broadcast posts
and friend counts"): Kakao POSTs

    {"event": "added"|"blocked", "id": "…", "id_type": "app_user_id",
     "channel_public_id": "_xxxx", "updated_at": "…"}

with ``Authorization: KakaoAK {admin key}``. This module checks and reads one; it touches
no database (the actions count it). Reasons are for Kakao's and the operator's logs, in
English like the other webhook answers."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from dataclasses import dataclass
from zoneinfo import ZoneInfo

EVENTS = ("added", "blocked")
# Kakao is a Korean service: a time without an offset is Korean time.
KAKAO_ZONE = ZoneInfo("Asia/Seoul")
MAX_BODY = 16 * 1024


class CallbackRejected(Exception):
    """Not a callback to count; ``status`` is the HTTP answer (400 or 401)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class FriendCallback:
    event: str
    friend_id: str
    id_type: str
    channel_public_id: str
    occurred_at: dt.datetime


def check_authorization(header: str, admin_key: str) -> None:
    """The header must be ``KakaoAK {admin key}``, compared in constant time. A channel
    with no admin key stored accepts no callback."""
    if not admin_key:
        raise CallbackRejected(401, "no admin key is set up for this channel")
    if not header:
        raise CallbackRejected(401, "missing Authorization header")
    if not hmac.compare_digest(header.encode(), f"KakaoAK {admin_key}".encode()):
        raise CallbackRejected(401, "Authorization does not match the channel's admin key")


def parse(body: bytes) -> FriendCallback:
    """The callback in ``body``, or CallbackRejected(400) saying precisely what is wrong."""
    if len(body) > MAX_BODY:
        raise CallbackRejected(400, f"body is larger than {MAX_BODY} bytes")
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise CallbackRejected(400, "body is not JSON") from None
    if not isinstance(data, dict):
        raise CallbackRejected(400, "body is not a JSON object")
    event = data.get("event")
    if event not in EVENTS:
        raise CallbackRejected(
            400, f"unknown event {str(event)[:40]!r}: expected 'added' or 'blocked'"
        )
    friend_id = data.get("id")
    if isinstance(friend_id, bool) or not isinstance(friend_id, str | int) or friend_id == "":
        raise CallbackRejected(400, "'id' is missing or not a string")
    id_type = data.get("id_type", "")
    public_id = data.get("channel_public_id", "")
    if not isinstance(id_type, str) or not isinstance(public_id, str):
        raise CallbackRejected(400, "'id_type' and 'channel_public_id' must be strings")
    updated = data.get("updated_at")
    if not isinstance(updated, str) or not updated:
        raise CallbackRejected(400, "'updated_at' is missing")
    try:
        occurred = dt.datetime.fromisoformat(updated.replace("Z", "+00:00"))
    except ValueError:
        raise CallbackRejected(
            400, f"'updated_at' {updated[:40]!r} is not an ISO 8601 time"
        ) from None
    if occurred.tzinfo is None:
        occurred = occurred.replace(tzinfo=KAKAO_ZONE)
    return FriendCallback(
        event=event,
        friend_id=str(friend_id),
        id_type=id_type,
        channel_public_id=public_id,
        occurred_at=occurred.astimezone(dt.UTC),
    )


def friend_key(secret: str, id_type: str, friend_id: str) -> str:
    """A keyed hash of the friend's id: the same friend gives the same key, and without
    the secret nobody can tell which id it was (not even by trying every id)."""
    message = f"sotong.audience.kakao-friend\x00{id_type}\x00{friend_id}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
