"""Simulated X API v2 (posts, media, timelines, mentions, recent search, DMs, OAuth 2.0 with
PKCE, Account Activity webhooks). Follows shared/docs/platform-apis.md §5: the same paths,
JSON shapes, problem bodies and x-rate-limit-* headers as api.x.com; the consent page
(x.com/i/oauth2/authorize) is served under the same prefix."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from sotong.platforms.base import pkce_challenge
from sotong.platforms.x import URL_PATTERN, weighted_length
from sotong.simulator.core import (
    DemoAccount,
    FaultKind,
    PlatformSimulator,
    RateWindow,
    Request,
    Response,
    WebhookTarget,
    json_response,
    route,
)

# The simulator's practice app (client id, client secret) for the OAuth sign-in.
OAUTH_APP = ("sotong-x-client", "sim-x-client-secret")
CONSUMER_SECRET = "sim-x-consumer-secret"  # noqa: S105 - the simulator's own test secret
ALL_SCOPES = (
    "tweet.read",
    "tweet.write",
    "users.read",
    "dm.read",
    "dm.write",
    "offline.access",
    "media.write",
)
TOKEN_LIFETIME = 7200
WINDOW = 15 * 60
# Per user and 15-minute window (doc: M, third-party transcription); others get the default.
DEFAULT_RATE_LIMITS = {
    "POST /2/tweets": 100,
    "DELETE /2/tweets/:id": 50,
    "GET /2/users/:id/tweets": 900,
    "GET /2/users/:id/mentions": 300,
    "GET /2/tweets/search/recent": 300,
    "GET /2/dm_events": 300,
    "POST /2/dm_conversations/with/:id/messages": 200,
    "POST /2/media/upload": 500,
}
DEFAULT_RATE_LIMIT = 900
MAX_IMAGE_BYTES = 5 * 1024 * 1024  # doc: M
NON_PUBLIC_MAX_AGE = 30 * 24 * 3600
SNOWFLAKE_BASE = 1_990_000_000_000_000_000

DEMO_USER_ID = "1587000000000000001"
DEMO_ACCOUNTS = (
    DemoAccount(
        "x",
        "순천시 X",
        DEMO_USER_ID,
        "demo-x-suncheon-access-token",
        "demo-hook-x-2026",
        {
            "client_id": OAUTH_APP[0],
            "client_secret": OAUTH_APP[1],
            "consumer_secret": CONSUMER_SECRET,
        },
        followers=12800,
        refresh_token="demo-x-suncheon-refresh-token",  # noqa: S106 - demo value
    ),
)
DEMO_HISTORY: tuple[tuple[str, dict[str, int]], ...] = (
    (
        "순천만국가정원 국화 전시가 이번 주말까지 이어집니다 🌼 https://scgardens.or.kr",
        {"impression_count": 18420, "like_count": 211, "retweet_count": 37, "url_link_clicks": 402},
    ),
    (
        "[교통] 조례동 하수관로 공사로 11.24.~11.28. 일부 구간을 통제합니다. 우회 부탁드려요.",
        {"impression_count": 6210, "like_count": 18, "retweet_count": 9},
    ),
    (
        "순천만습지 갈대축제 셔틀버스 시간표를 안내합니다.",
        {"impression_count": 9050, "like_count": 74, "retweet_count": 21},
    ),
)


def problem(
    status: int, title: str, detail: str, type_: str = "about:blank", **extra: Any
) -> Response:
    return json_response(
        {"title": title, "type": type_, "status": status, "detail": detail, **extra}, status
    )


def invalid_request(message: str, **parameters: list[str]) -> Response:
    return json_response(
        {
            "errors": [{"parameters": parameters, "message": message}],
            "title": "Invalid Request",
            "detail": "One or more parameters to your request was invalid.",
            "type": "https://api.twitter.com/2/problems/invalid-request",
        },
        400,
    )


def not_found_error(kind: str, value: str, parameter: str = "id") -> dict[str, Any]:
    return {
        "value": value,
        "detail": f"Could not find {kind} with {parameter}: [{value}].",
        "title": "Not Found Error",
        "resource_type": kind,
        "parameter": parameter,
        "resource_id": value,
        "type": "https://api.twitter.com/2/problems/resource-not-found",
    }


def iso(moment: float) -> str:
    return dt.datetime.fromtimestamp(moment, tz=dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def legacy_time(moment: float) -> str:
    """The v1.1 time format Account Activity events still use."""
    return dt.datetime.fromtimestamp(moment, tz=dt.UTC).strftime("%a %b %d %H:%M:%S +0000 %Y")


def _next_token(last_id: str) -> str:
    """An opaque pagination token (as X's are) for the items older than ``last_id``."""
    return base64.b32encode(f"before:{last_id}".encode()).decode().rstrip("=").lower()


def _token_id(token: str) -> int | None:
    try:
        padded = token.upper() + "=" * (-len(token) % 8)
        kind, _, value = base64.b32decode(padded).decode().partition(":")
        return int(value) if kind == "before" else None
    except ValueError:
        return None


def hmac_b64(secret: str, payload: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), payload, hashlib.sha256).digest()).decode()


@dataclass
class Token:
    user_id: str
    scopes: tuple[str, ...]
    expires_at: float | None
    revoked: bool = False


@dataclass
class User:
    id: str
    name: str
    username: str
    followers: int = 0
    tweet_ids: list[str] = field(default_factory=list)


class Platform(PlatformSimulator):
    name = "x"
    label = "X"

    def reset(self) -> None:
        self.users: dict[str, User] = {}
        self.tokens: dict[str, Token] = {}
        self.refresh_tokens: dict[str, Token] = {}
        self.tweets: dict[str, dict[str, Any]] = {}
        self.media: dict[str, dict[str, Any]] = {}
        self.dm_events: list[dict[str, Any]] = []
        self.oauth_codes: dict[str, dict[str, Any]] = {}
        self.client_id, self.client_secret = OAUTH_APP
        self.consumer_secret = CONSUMER_SECRET
        self.max_weighted_length = 280
        self.max_image_bytes = MAX_IMAGE_BYTES
        self.rate_limits = dict(DEFAULT_RATE_LIMITS)
        self.calls = RateWindow(WINDOW)
        self.signed_in_user = ""  # who the consent page signs in as (default: the first user)

    def snowflake(self) -> str:
        return str(SNOWFLAKE_BASE + self.next_id() * 4096)

    # -- set-up for tests and the demo -------------------------------------------------------

    def add_user(
        self,
        user_id: str,
        name: str,
        username: str = "",
        *,
        token: str | None = None,
        refresh_token: str | None = None,
        scopes: tuple[str, ...] = ALL_SCOPES,
        expires_in: float | None = TOKEN_LIFETIME,
        followers: int = 0,
    ) -> str:
        """An account with a user access token (2 h unless ``expires_in`` is None); returns
        the token. ``refresh_token`` registers a refresh token for it too."""
        with self.lock:
            self.users.setdefault(
                user_id, User(user_id, name, username or f"user{user_id[-6:]}", followers)
            )
            token = token or secrets.token_urlsafe(32)
            expires = time.time() + expires_in if expires_in is not None else None
            self.tokens[token] = Token(user_id, scopes, expires)
            if refresh_token:
                self.refresh_tokens[refresh_token] = Token(user_id, scopes, None)
            return token

    def add_tweet(
        self, user_id: str, text: str, *, age: float = 0.0, **metrics: int
    ) -> dict[str, Any]:
        """A post made outside Sotong, ``age`` seconds old, with its figures."""
        with self.lock:
            tweet = self._new_tweet(user_id, text, created=time.time() - age)
            tweet["metrics"].update(metrics)
            return tweet

    def expire_token(self, token: str) -> None:
        self.tokens[token].expires_at = time.time() - 1

    def revoke_token(self, token: str) -> None:
        """The user removed the app: its access and refresh tokens die."""
        user_id = self.tokens[token].user_id
        for store in (self.tokens, self.refresh_tokens):
            for value in store.values():
                if value.user_id == user_id:
                    value.revoked = True

    def subscribe_webhooks(self, user_id: str, url: str) -> None:
        def sign(body: bytes) -> dict[str, str]:
            return {
                "x-twitter-webhooks-signature": "sha256=" + hmac_b64(self.consumer_secret, body)
            }

        self.hub.set_webhook_target(self.name, user_id, WebhookTarget(url, sign))

    def crc_check(self, url: str) -> bool:
        """What X does at registration and hourly: GET ?crc_token=… and check the answer."""
        import httpx

        crc_token = secrets.token_urlsafe(24)
        answer = httpx.get(url, params={"crc_token": crc_token}, timeout=10)
        expected = "sha256=" + hmac_b64(self.consumer_secret, crc_token.encode())
        try:
            return answer.status_code == 200 and answer.json().get("response_token") == expected
        except ValueError:
            return False

    # -- citizens acting (synthetic citizens and tests) -------------------------------------------

    def _citizen(self, author_id: str, author_name: str) -> User:
        return self.users.setdefault(
            author_id, User(author_id, author_name, f"citizen{author_id[-6:]}")
        )

    def citizen_reply(
        self, tweet_id: str, author_id: str, author_name: str, text: str
    ) -> dict[str, Any]:
        """A citizen replies to a post (mentioning its author, as X's reply does)."""
        with self.lock:
            parent = self.tweets[tweet_id]
            owner = self.users[parent["author_id"]]
            self._citizen(author_id, author_name)
            reply = self._new_tweet(
                author_id, f"@{owner.username} {text}", reply_to=parent, mentions=[owner.id]
            )
        self._deliver_tweet(owner.id, reply)
        return reply

    def citizen_mention(
        self, user_id: str, author_id: str, author_name: str, text: str
    ) -> dict[str, Any]:
        with self.lock:
            owner = self.users[user_id]
            self._citizen(author_id, author_name)
            tweet = self._new_tweet(author_id, f"@{owner.username} {text}", mentions=[owner.id])
        self._deliver_tweet(owner.id, tweet)
        return tweet

    def citizen_dm(
        self, user_id: str, sender_id: str, sender_name: str, text: str
    ) -> dict[str, Any]:
        with self.lock:
            sender = self._citizen(sender_id, sender_name)
            event = self._new_dm(sender_id, user_id, text)
        self.hub.deliver_webhook(
            self.name,
            user_id,
            {
                "for_user_id": user_id,
                "direct_message_events": [
                    {
                        "type": "message_create",
                        "id": event["id"],
                        "created_timestamp": str(int(event["created"] * 1000)),
                        "message_create": {
                            "target": {"recipient_id": user_id},
                            "sender_id": sender_id,
                            "message_data": {"text": text, "entities": {}},
                        },
                    }
                ],
                "users": {
                    sender_id: {
                        "id": sender_id,
                        "name": sender.name,
                        "screen_name": sender.username,
                    }
                },
            },
        )
        return event

    def _deliver_tweet(self, owner_id: str, tweet: dict[str, Any]) -> None:
        author = self.users[tweet["author_id"]]
        replied = tweet.get("replied_to") or ""
        self.hub.deliver_webhook(
            self.name,
            owner_id,
            {
                "for_user_id": owner_id,
                "tweet_create_events": [
                    {
                        "created_at": legacy_time(tweet["created"]),
                        "id": int(tweet["id"]),
                        "id_str": tweet["id"],
                        "text": tweet["text"],
                        "in_reply_to_status_id": int(replied) if replied else None,
                        "in_reply_to_status_id_str": replied or None,
                        "in_reply_to_user_id_str": tweet.get("in_reply_to_user_id"),
                        "user": {
                            "id": int(author.id),
                            "id_str": author.id,
                            "name": author.name,
                            "screen_name": author.username,
                        },
                        "entities": {
                            "user_mentions": [
                                {"id_str": uid, "screen_name": self.users[uid].username}
                                for uid in tweet["mentions"]
                            ]
                        },
                    }
                ],
            },
        )

    # -- errors -----------------------------------------------------------------------------

    def fault_response(self, kind: FaultKind) -> Response:
        if kind is FaultKind.RATE_LIMITED:
            response = problem(429, "Too Many Requests", "Too Many Requests")
            response.headers.update(
                {
                    "x-rate-limit-limit": "100",
                    "x-rate-limit-remaining": "0",
                    "x-rate-limit-reset": str(int(time.time()) + 120),
                }
            )
            return response
        if kind in (FaultKind.TOKEN_EXPIRED, FaultKind.TOKEN_REVOKED):
            return self._unauthorized()
        if kind is FaultKind.MALFORMED:
            return Response(
                200, "<html><body>Something went wrong</body></html>", content_type="text/html"
            )
        return problem(503, "Service Unavailable", "Service Unavailable")

    def not_found(self, request: Request) -> Response:
        return json_response(
            {"errors": [{"message": "Sorry, that page does not exist", "code": 34}]}, 404
        )

    def bad_request(self, message: str) -> Response:
        return invalid_request(message)

    def _unauthorized(self) -> Response:
        return problem(401, "Unauthorized", "Unauthorized")

    def _authorise(
        self, request: Request, endpoint: str, scope: str | None = None
    ) -> Token | Response:
        token = self.tokens.get(request.bearer_token())
        if (
            token is None
            or token.revoked
            or (token.expires_at is not None and token.expires_at < time.time())
        ):
            return self._unauthorized()
        if scope and scope not in token.scopes:
            return problem(403, "Forbidden", "Forbidden")
        limit = self.rate_limits.get(endpoint, DEFAULT_RATE_LIMIT)
        allowance = self.calls.take((token.user_id, endpoint), limit)
        reset = str(int(allowance.reset))
        if not allowance.allowed:
            response = problem(429, "Too Many Requests", "Too Many Requests")
            response.headers.update(
                {
                    "x-rate-limit-limit": str(limit),
                    "x-rate-limit-reset": reset,
                    "x-rate-limit-remaining": "0",
                }
            )
            return response
        request.answer_headers.update(
            {
                "x-rate-limit-limit": str(limit),
                "x-rate-limit-remaining": str(allowance.remaining),
                "x-rate-limit-reset": reset,
            }
        )
        return token

    # -- OAuth 2.0 with PKCE ---------------------------------------------------------------------

    @route("GET", r"/i/oauth2/authorize")
    def oauth_consent(self, request: Request) -> Response:
        """The consent page: one button granting what was asked, back to redirect_uri."""
        if (
            request.arg("client_id") != self.client_id
            or request.arg("code_challenge_method") != "S256"
        ):
            return Response(
                400, "<p>Something went wrong.</p>", content_type="text/html; charset=utf-8"
            )
        user_id = self.signed_in_user or next(iter(self.users), "")
        if not user_id:
            return Response(
                400, "<p>No account to sign in as.</p>", content_type="text/html; charset=utf-8"
            )
        code = secrets.token_urlsafe(24)
        scopes = tuple((request.arg("scope") or "").split())
        self.oauth_codes[code] = {
            "user_id": user_id,
            "scopes": scopes,
            "challenge": request.arg("code_challenge") or "",
            "redirect_uri": request.arg("redirect_uri") or "",
        }
        target = f"{request.arg('redirect_uri')}?{urlencode({'state': request.arg('state') or '', 'code': code})}"
        html = (
            '<!doctype html><html lang="ko"><meta charset="utf-8"><title>X 로그인 (시뮬레이터)</title>'
            f"<h1>Sotong이 {self.users[user_id].name} 계정 접근을 요청합니다</h1>"
            f"<p>{' '.join(scopes)}</p>"
            f'<a id="allow" href="{target}">허용</a></html>'
        )
        return Response(200, html, content_type="text/html; charset=utf-8")

    def _client_authenticated(self, request: Request) -> bool:
        value = request.header("authorization")
        if value.lower().startswith("basic "):
            try:
                client_id, _, secret = base64.b64decode(value[6:]).decode().partition(":")
            except ValueError:
                return False
            return client_id == self.client_id and secret == self.client_secret
        return False

    def _oauth_error(self, error: str, description: str, status: int = 400) -> Response:
        return json_response({"error": error, "error_description": description}, status)

    @route("POST", r"/2/oauth2/token")
    def oauth_token(self, request: Request) -> Response:
        if not self._client_authenticated(request):
            return self._oauth_error(
                "unauthorized_client", "Missing valid authorization header", 401
            )
        grant = request.arg("grant_type")
        if grant == "authorization_code":
            pending = self.oauth_codes.pop(request.arg("code") or "", None)
            if (
                pending is None
                or pending["redirect_uri"] != request.arg("redirect_uri")
                or pkce_challenge(request.arg("code_verifier") or "") != pending["challenge"]
            ):
                return self._oauth_error(
                    "invalid_request", "Value passed for the authorization code was invalid."
                )
            user_id, scopes = pending["user_id"], pending["scopes"]
        elif grant == "refresh_token":
            old = self.refresh_tokens.pop(request.arg("refresh_token") or "", None)
            if old is None or old.revoked:
                return self._oauth_error(
                    "invalid_request", "Value passed for the token was invalid."
                )
            user_id, scopes = old.user_id, old.scopes
        else:
            return self._oauth_error("unsupported_grant_type", "Grant type is not supported.")
        access = self.add_user(user_id, self.users[user_id].name, scopes=scopes)
        answer: dict[str, Any] = {
            "token_type": "bearer",
            "expires_in": TOKEN_LIFETIME,
            "access_token": access,
            "scope": " ".join(scopes),
        }
        if "offline.access" in scopes:
            refresh = secrets.token_urlsafe(32)
            self.refresh_tokens[refresh] = Token(user_id, scopes, None)
            answer["refresh_token"] = refresh
        return json_response(answer)

    # -- users ------------------------------------------------------------------------------

    def _user_view(self, user: User, fields: str) -> dict[str, Any]:
        view: dict[str, Any] = {"id": user.id, "name": user.name, "username": user.username}
        if "public_metrics" in fields:
            view["public_metrics"] = {
                "followers_count": user.followers,
                "following_count": 120,
                "tweet_count": len(user.tweet_ids),
                "listed_count": 3,
                "like_count": 0,
            }
        return view

    @route("GET", r"/2/users/me")
    def users_me(self, request: Request) -> Response:
        token = self._authorise(request, "GET /2/users/me", "users.read")
        if isinstance(token, Response):
            return token
        user = self.users[token.user_id]
        return self.answer(
            request, {"data": self._user_view(user, request.arg("user.fields") or "")}
        )

    # -- posts ------------------------------------------------------------------------------

    def _new_tweet(
        self,
        author_id: str,
        text: str,
        *,
        reply_to: dict[str, Any] | None = None,
        mentions: list[str] | None = None,
        media_keys: list[str] | None = None,
        created: float | None = None,
    ) -> dict[str, Any]:
        tweet_id = self.snowflake()
        urls = []
        # X rewrites every link to t.co and appends the media's link.
        for match in URL_PATTERN.finditer(text):
            short = f"https://t.co/{secrets.token_urlsafe(7)[:10]}"
            urls.append(
                {"url": short, "expanded_url": match.group(0), "display_url": match.group(0)[:26]}
            )
        for original in urls:
            text = text.replace(original["expanded_url"], original["url"], 1)
        if media_keys:
            text = f"{text} https://t.co/{secrets.token_urlsafe(7)[:10]}"
        tweet: dict[str, Any] = {
            "id": tweet_id,
            "text": text,
            "author_id": author_id,
            "created": created if created is not None else time.time(),
            "conversation_id": reply_to["conversation_id"] if reply_to else tweet_id,
            "replied_to": reply_to["id"] if reply_to else "",
            "in_reply_to_user_id": reply_to["author_id"] if reply_to else None,
            "mentions": mentions or [],
            "media_keys": media_keys or [],
            "urls": urls,
            "deleted": False,
            "metrics": {
                "retweet_count": 0,
                "like_count": 0,
                "quote_count": 0,
                "bookmark_count": 0,
                "impression_count": 0,
                "url_link_clicks": 0,
                "user_profile_clicks": 0,
            },
        }
        self.tweets[tweet_id] = tweet
        self.users[author_id].tweet_ids.append(tweet_id)
        return tweet

    def _live(self, tweet_id: str) -> dict[str, Any] | None:
        tweet = self.tweets.get(tweet_id)
        return tweet if tweet and not tweet["deleted"] else None

    def _reply_count(self, tweet_id: str) -> int:
        return sum(
            1 for t in self.tweets.values() if t["replied_to"] == tweet_id and not t["deleted"]
        )

    def _tweet_view(
        self, tweet: dict[str, Any], fields: set[str], requester: str = ""
    ) -> dict[str, Any]:
        view: dict[str, Any] = {
            "id": tweet["id"],
            "text": tweet["text"],
            "edit_history_tweet_ids": [tweet["id"]],
        }
        metrics = tweet["metrics"]
        values: dict[str, Any] = {
            "created_at": iso(tweet["created"]),
            "author_id": tweet["author_id"],
            "conversation_id": tweet["conversation_id"],
            "public_metrics": {
                "retweet_count": metrics["retweet_count"],
                "reply_count": self._reply_count(tweet["id"]),
                "like_count": metrics["like_count"],
                "quote_count": metrics["quote_count"],
                "bookmark_count": metrics["bookmark_count"],
                "impression_count": metrics["impression_count"],
            },
        }
        if tweet["in_reply_to_user_id"]:
            values["in_reply_to_user_id"] = tweet["in_reply_to_user_id"]
            values["referenced_tweets"] = [{"type": "replied_to", "id": tweet["replied_to"]}]
        if tweet["urls"]:
            values["entities"] = {"urls": [{"start": 0, "end": 23, **url} for url in tweet["urls"]]}
        if (
            "non_public_metrics" in fields
            and requester == tweet["author_id"]
            and time.time() - tweet["created"] <= NON_PUBLIC_MAX_AGE
        ):
            values["non_public_metrics"] = {
                "impression_count": metrics["impression_count"],
                "url_link_clicks": metrics["url_link_clicks"],
                "user_profile_clicks": metrics["user_profile_clicks"],
            }
        view.update({name: values[name] for name in fields if name in values})
        return view

    @staticmethod
    def _fields(request: Request, name: str = "tweet.fields") -> set[str]:
        return {part for part in (request.arg(name) or "").split(",") if part}

    @route("POST", r"/2/tweets")
    def create_tweet(self, request: Request) -> Response:
        token = self._authorise(request, "POST /2/tweets", "tweet.write")
        if isinstance(token, Response):
            return token
        if "application/json" not in request.header("content-type"):
            return invalid_request(
                "Requests with bodies must have content-type of application/json."
            )
        body = request.json()
        text = str(body.get("text") or "")
        media_ids = [str(m) for m in (body.get("media") or {}).get("media_ids", [])]
        if not text and not media_ids:
            return invalid_request("text or media is required", text=[])
        if weighted_length(text) > self.max_weighted_length:
            return invalid_request(
                f"Your Tweet text is too long. Its weighted length is {weighted_length(text)}.",
                text=[text[:40]],
            )
        if len(media_ids) > 4 or any(m not in self.media for m in media_ids):
            return invalid_request("Your media IDs are invalid.", media_ids=media_ids)
        reply_to = None
        reply_id = str((body.get("reply") or {}).get("in_reply_to_tweet_id") or "")
        if reply_id:
            reply_to = self._live(reply_id)
            if reply_to is None:
                return problem(
                    403,
                    "Forbidden",
                    "You attempted to reply to a Tweet that is deleted or not visible to you.",
                )
        author = self.users[token.user_id]
        recent = [self.tweets[t] for t in author.tweet_ids[-50:] if not self.tweets[t]["deleted"]]
        if text and any(self._original_text(t) == text for t in recent):
            return problem(
                403, "Forbidden", "You are not allowed to create a Tweet with duplicate content."
            )
        tweet = self._new_tweet(
            token.user_id,
            text,
            reply_to=reply_to,
            mentions=[reply_to["author_id"]] if reply_to else [],
            media_keys=[self.media[m]["media_key"] for m in media_ids],
        )
        tweet["original_text"] = text
        return self.answer(request, {"data": {"id": tweet["id"], "text": tweet["text"]}}, 201)

    @staticmethod
    def _original_text(tweet: dict[str, Any]) -> str:
        return str(tweet.get("original_text", tweet["text"]))

    @route("DELETE", r"/2/tweets/(?P<tweet_id>\d+)")
    def delete_tweet(self, request: Request) -> Response:
        token = self._authorise(request, "DELETE /2/tweets/:id", "tweet.write")
        if isinstance(token, Response):
            return token
        tweet = self._live(request.params["tweet_id"])
        if tweet is None:
            return json_response(
                {
                    "errors": [not_found_error("tweet", request.params["tweet_id"])],
                    "title": "Not Found Error",
                    "detail": "Could not find tweet.",
                    "type": "https://api.twitter.com/2/problems/resource-not-found",
                },
                404,
            )
        if tweet["author_id"] != token.user_id:
            return problem(
                403, "Forbidden", "You are not allowed to delete a Tweet that is not yours."
            )
        tweet["deleted"] = True
        return self.answer(request, {"data": {"deleted": True}})

    @route("GET", r"/2/tweets/(?P<tweet_id>\d+)")
    def get_tweet(self, request: Request) -> Response:
        token = self._authorise(request, "GET /2/tweets/:id", "tweet.read")
        if isinstance(token, Response):
            return token
        tweet = self._live(request.params["tweet_id"])
        if tweet is None:
            return self.answer(
                request, {"errors": [not_found_error("tweet", request.params["tweet_id"])]}
            )
        fields = self._fields(request)
        view = self._tweet_view(tweet, fields, token.user_id)
        answer: dict[str, Any] = {"data": view}
        if "non_public_metrics" in fields and "non_public_metrics" not in view:
            answer["errors"] = [
                {
                    "title": "Field Authorization Error",
                    "detail": "Sorry, you are not authorized to access 'non_public_metrics' on a Tweet.",
                    "type": "https://api.twitter.com/2/problems/not-authorized-for-field",
                    "field": "non_public_metrics",
                    "resource_type": "tweet",
                    "resource_id": tweet["id"],
                    "section": "data",
                }
            ]
        return self.answer(request, answer)

    def _listing(
        self,
        request: Request,
        tweets: list[dict[str, Any]],
        requester: str,
        paging_param: str = "pagination_token",
    ) -> dict[str, Any] | Response:
        since = int(request.arg("since_id") or 0)
        limit = min(int(request.arg("max_results") or 10), 100)
        page = self._page(request, tweets, limit, lambda t: int(t["id"]) > since, paging_param)
        if isinstance(page, Response):
            return page
        chosen, next_token = page
        fields = self._fields(request)
        answer: dict[str, Any] = {}
        if chosen:
            answer["data"] = [self._tweet_view(t, fields, requester) for t in chosen]
            if "author_id" in (request.arg("expansions") or ""):
                authors = {t["author_id"] for t in chosen}
                answer["includes"] = {
                    "users": [self._user_view(self.users[a], "") for a in authors]
                }
        meta: dict[str, Any] = {"result_count": len(chosen)}
        if chosen:
            meta.update(newest_id=chosen[0]["id"], oldest_id=chosen[-1]["id"])
        if next_token:
            meta["next_token"] = next_token
        answer["meta"] = meta
        return answer

    def _page(
        self,
        request: Request,
        items: list[dict[str, Any]],
        limit: int,
        wanted: Callable[[dict[str, Any]], bool],
        paging_param: str = "pagination_token",
    ) -> tuple[list[dict[str, Any]], str] | Response:
        """One page of ``items`` (newest first) and the ``meta.next_token`` for the one
        after it ("" on the last), resuming at ``pagination_token`` (doc §5 b; recent
        search takes the token back as ``next_token``)."""
        older_than: int | None = None
        given = request.arg(paging_param)
        if given:
            older_than = _token_id(given)
            if older_than is None:
                return invalid_request(
                    f"The `{paging_param}` query parameter value [{given}] is not valid",
                    **{paging_param: [given]},
                )
        matching = [
            item
            for item in sorted(items, key=lambda item: int(item["id"]), reverse=True)
            if wanted(item) and (older_than is None or int(item["id"]) < older_than)
        ]
        chosen = matching[:limit]
        return chosen, _next_token(chosen[-1]["id"]) if len(matching) > limit else ""

    def _listing_answer(self, request: Request, listing: dict[str, Any] | Response) -> Response:
        return listing if isinstance(listing, Response) else self.answer(request, listing)

    @route("GET", r"/2/users/(?P<user_id>\d+)/tweets")
    def user_tweets(self, request: Request) -> Response:
        token = self._authorise(request, "GET /2/users/:id/tweets", "tweet.read")
        if isinstance(token, Response):
            return token
        user = self.users.get(request.params["user_id"])
        if user is None:
            return self.answer(
                request, {"errors": [not_found_error("user", request.params["user_id"])]}
            )
        if not 5 <= int(request.arg("max_results") or 10) <= 100:
            return invalid_request(
                "The `max_results` query parameter value is not between 5 and 100", max_results=[]
            )
        excluded = set((request.arg("exclude") or "").split(","))
        tweets = [
            self.tweets[t]
            for t in user.tweet_ids
            if not self.tweets[t]["deleted"]
            and not ("replies" in excluded and self.tweets[t]["replied_to"])
        ]
        return self._listing_answer(request, self._listing(request, tweets, token.user_id))

    @route("GET", r"/2/users/(?P<user_id>\d+)/mentions")
    def user_mentions(self, request: Request) -> Response:
        token = self._authorise(request, "GET /2/users/:id/mentions", "tweet.read")
        if isinstance(token, Response):
            return token
        user_id = request.params["user_id"]
        tweets = [t for t in self.tweets.values() if user_id in t["mentions"] and not t["deleted"]]
        return self._listing_answer(request, self._listing(request, tweets, token.user_id))

    @route("GET", r"/2/tweets/search/recent")
    def search_recent(self, request: Request) -> Response:
        token = self._authorise(request, "GET /2/tweets/search/recent", "tweet.read")
        if isinstance(token, Response):
            return token
        match = re.fullmatch(r"conversation_id:(\d+)", (request.arg("query") or "").strip())
        if match is None:
            # The simulator understands only the thread query Sotong makes.
            return invalid_request(
                "Unsupported query in the simulator", query=[request.arg("query") or ""]
            )
        week_ago = time.time() - 7 * 24 * 3600
        tweets = [
            t
            for t in self.tweets.values()
            if t["conversation_id"] == match.group(1)
            and t["id"] != match.group(1)
            and not t["deleted"]
            and t["created"] >= week_ago
        ]
        return self._listing_answer(
            request, self._listing(request, tweets, token.user_id, "next_token")
        )

    @route("POST", r"/2/media/upload")
    def media_upload(self, request: Request) -> Response:
        token = self._authorise(request, "POST /2/media/upload", "media.write")
        if isinstance(token, Response):
            return token
        fields = request.multipart()
        content, content_type = fields.get("media", (b"", ""))
        if not content:
            return invalid_request("media is required", media=[])
        if len(content) > self.max_image_bytes:
            return invalid_request("File size exceeds 5242880 bytes.", media=[])
        if not content_type.startswith("image/") and not content.startswith(
            (b"\x89PNG", b"\xff\xd8", b"GIF8")
        ):
            return invalid_request("Unsupported media type.", media=[])
        media_id = self.snowflake()
        self.media[media_id] = {
            "media_key": f"3_{media_id}",
            "size": len(content),
            "owner": token.user_id,
        }
        return self.answer(
            request,
            {
                "data": {
                    "id": media_id,
                    "media_key": f"3_{media_id}",
                    "size": len(content),
                    "expires_after_secs": 86400,
                    "image": {"image_type": content_type or "image/jpeg", "w": 1200, "h": 800},
                }
            },
        )

    # -- direct messages --------------------------------------------------------------------------

    def _new_dm(self, sender_id: str, recipient_id: str, text: str) -> dict[str, Any]:
        low, high = sorted((sender_id, recipient_id), key=int)
        event = {
            "id": self.snowflake(),
            "text": text,
            "sender_id": sender_id,
            "recipient_id": recipient_id,
            "dm_conversation_id": f"{low}-{high}",
            "created": time.time(),
        }
        self.dm_events.append(event)
        return event

    @route("GET", r"/2/dm_events")
    def dm_events_list(self, request: Request) -> Response:
        token = self._authorise(request, "GET /2/dm_events", "dm.read")
        if isinstance(token, Response):
            return token
        limit = min(int(request.arg("max_results") or 100), 100)
        page = self._page(
            request,
            self.dm_events,
            limit,
            lambda e: token.user_id in (e["sender_id"], e["recipient_id"]),
        )
        if isinstance(page, Response):
            return page
        mine, next_token = page
        answer: dict[str, Any] = {
            "data": [
                {
                    "id": e["id"],
                    "text": e["text"],
                    "event_type": "MessageCreate",
                    "sender_id": e["sender_id"],
                    "dm_conversation_id": e["dm_conversation_id"],
                    "created_at": iso(e["created"]),
                }
                for e in mine
            ],
            "meta": {"result_count": len(mine)},
        }
        if next_token:
            answer["meta"]["next_token"] = next_token
        if "sender_id" in (request.arg("expansions") or ""):
            answer["includes"] = {
                "users": [
                    self._user_view(self.users[s], "") for s in {e["sender_id"] for e in mine}
                ]
            }
        if not mine:
            del answer["data"]
        return self.answer(request, answer)

    @route("POST", r"/2/dm_conversations/with/(?P<participant_id>\d+)/messages")
    def dm_send(self, request: Request) -> Response:
        token = self._authorise(request, "POST /2/dm_conversations/with/:id/messages", "dm.write")
        if isinstance(token, Response):
            return token
        participant = request.params["participant_id"]
        text = str(request.json().get("text") or "")
        if not text:
            return invalid_request("text is required", text=[])
        if participant not in self.users:
            return problem(403, "Forbidden", "You cannot send messages to this user.")
        event = self._new_dm(token.user_id, participant, text)
        return self.answer(
            request,
            {
                "data": {
                    "dm_conversation_id": event["dm_conversation_id"],
                    "dm_event_id": event["id"],
                }
            },
            201,
        )

    # -- synthetic citizens and the demo world ------------------------------------------------

    # Short questions: practical notices and festivals draw them, scenery less.
    crowd_weights = {"scenery": 0.8, "festival": 1.5, "notice": 1.8, "general": 1.0}

    def _owned(self) -> list[User]:
        return [
            u for u in self.users.values() if any(t.user_id == u.id for t in self.tokens.values())
        ]

    def crowd_posts(self) -> list[tuple[str, str, str]]:
        return [
            (user.id, tid, self.tweets[tid]["text"])
            for user in self._owned()
            for tid in user.tweet_ids[-10:]
            if not self.tweets[tid]["deleted"] and not self.tweets[tid]["replied_to"]
        ]

    def crowd_comment(
        self, account: str, post_id: str, author_id: str, author_name: str, text: str
    ) -> None:
        self.citizen_reply(post_id, author_id, author_name, text)

    def crowd_message_accounts(self) -> list[str]:
        return [user.id for user in self._owned()]

    def crowd_message(self, account: str, author_id: str, author_name: str, text: str) -> None:
        self.citizen_dm(account, author_id, author_name, text)

    def populate_demo(self, account: DemoAccount, webhook_url: str) -> None:
        # The demo channel keeps no expiry, so its token does not expire here either.
        self.add_user(
            account.account_id,
            "순천시",
            "suncheon_city",
            token=account.token,
            refresh_token=account.refresh_token or None,
            expires_in=None,
            followers=account.followers,
        )
        for age, (text, figures) in enumerate(reversed(DEMO_HISTORY), start=1):
            self.add_tweet(account.account_id, text, age=age * 86400, **figures)
        self.subscribe_webhooks(account.account_id, webhook_url)

    def timeline(self) -> list[dict[str, Any]]:
        return [
            {
                "account": f"{user.name} (@{user.username})",
                "posts": [
                    {
                        "id": tid,
                        "text": self.tweets[tid]["text"],
                        "url": f"https://x.com/{user.username}/status/{tid}",
                        "comments": [
                            {"author": self.users[t["author_id"]].name, "text": t["text"]}
                            for t in self.tweets.values()
                            if t["conversation_id"] == tid and t["id"] != tid and not t["deleted"]
                        ],
                    }
                    for tid in reversed(user.tweet_ids)
                    if not self.tweets[tid]["deleted"] and not self.tweets[tid]["replied_to"]
                ],
            }
            for user in self._owned()
        ]
