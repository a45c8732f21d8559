"""Simulated YouTube Data API v3 (channels, uploads playlist, videos, comment threads,
comments and moderation) and Google OAuth (consent page, token endpoint with PKCE and
refresh). Follows shared/docs/platform-apis.md §6: the same paths under /youtube/v3,
parameters, JSON shapes (statistics as strings) and error bodies.

Every call is charged against a settable daily quota with the doc's costs (list 1,
insert/update 50); past it, 403 ``quotaExceeded``. Comments have no webhooks: Sotong polls.
"""

from __future__ import annotations

import datetime as dt
import html
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from sotong.platforms.base import pkce_challenge
from sotong.simulator.core import (
    DemoAccount,
    FaultKind,
    PlatformSimulator,
    Request,
    Response,
    json_response,
    route,
)

API = "/youtube/v3"
READONLY = "https://www.googleapis.com/auth/youtube.readonly"
FORCE_SSL = "https://www.googleapis.com/auth/youtube.force-ssl"
ALL_SCOPES = (READONLY, FORCE_SSL)
# The simulator's demo Google app (client id, client secret): demo values only.
OAUTH_APP = ("sotong-sim.apps.googleusercontent.com", "sim-google-secret")
DEFAULT_DAILY_QUOTA = 10000
COST_LIST = 1
COST_WRITE = 50
TOKEN_LIFETIME = 3599  # seconds
DEFAULT_MAX_COMMENT = 10000  # L on the number

DEMO_ACCOUNTS = (
    DemoAccount(
        "youtube",
        "순천시 유튜브",
        "UCsuncheonCityTube2026xy",
        "ya29.demo-suncheon-youtube-token",
        "demo-hook-youtube-2026",
        {"client_id": OAUTH_APP[0], "client_secret": OAUTH_APP[1]},
        followers=18400,
        refresh_token="1//demo-suncheon-youtube-refresh",  # noqa: S106 - demo value
    ),
)
# Videos the city uploaded before Sotong: (title, views, likes).
DEMO_HISTORY: tuple[tuple[str, int, int], ...] = (
    ("2026 순천만갈대축제 하이라이트 🎉", 48210, 1320),
    ("순천만국가정원 가을 정원 산책 4K", 23150, 710),
    ("[순천시 브리핑] 11월 시정 소식", 2140, 45),
)


def iso(moment: float) -> str:
    return dt.datetime.fromtimestamp(moment, tz=dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def google_error(status: int, reason: str, message: str, domain: str = "youtube.api") -> Response:
    return json_response(
        {
            "error": {
                "code": status,
                "message": message,
                "errors": [{"message": message, "domain": domain, "reason": reason}],
            }
        },
        status,
    )


def new_id(prefix: str = "", length: int = 11) -> str:
    return prefix + secrets.token_urlsafe(length)[:length]


@dataclass
class Token:
    channel_id: str
    scopes: tuple[str, ...]
    expires_at: float
    revoked: bool = False


@dataclass
class Channel:
    id: str
    title: str
    subscribers: int = 0
    hidden_subscribers: bool = False
    video_ids: list[str] = field(default_factory=list)

    @property
    def uploads(self) -> str:
        return "UU" + self.id[2:]


class Platform(PlatformSimulator):
    name = "youtube"
    label = "YouTube"

    def reset(self) -> None:
        self.channels: dict[str, Channel] = {}
        self.videos: dict[str, dict[str, Any]] = {}
        self.comments: dict[str, dict[str, Any]] = {}
        self.tokens: dict[str, Token] = {}
        self.refresh_tokens: dict[str, Token] = {}
        self.oauth_codes: dict[str, tuple[str, str, str]] = {}  # code → (refresh, challenge, uri)
        self.client_id, self.client_secret = OAUTH_APP
        self.daily_quota = DEFAULT_DAILY_QUOTA
        self.quota_used = 0
        self.max_comment_length = DEFAULT_MAX_COMMENT
        self.token_lifetime = TOKEN_LIFETIME

    # -- set-up for tests and the demo -------------------------------------------------------

    def add_channel(
        self,
        channel_id: str,
        title: str,
        *,
        token: str | None = None,
        refresh_token: str | None = None,
        scopes: tuple[str, ...] = ALL_SCOPES,
        subscribers: int = 0,
    ) -> str:
        """A channel with an access token (and refresh token); returns the access token."""
        with self.lock:
            self.channels[channel_id] = Channel(channel_id, title, subscribers=subscribers)
            token = token or f"ya29.{secrets.token_urlsafe(24)}"
            self.tokens[token] = Token(channel_id, scopes, time.time() + self.token_lifetime)
            if refresh_token:
                self.refresh_tokens[refresh_token] = Token(channel_id, scopes, float("inf"))
            return token

    def add_video(self, channel_id: str, title: str, **figures: int) -> dict[str, Any]:
        """An upload, with its figures (views, likes)."""
        with self.lock:
            video: dict[str, Any] = {
                "id": new_id(),
                "channel_id": channel_id,
                "title": title,
                "description": "",
                "published": time.time(),
                "views": figures.get("views", 0),
                "likes": figures.get("likes", 0),
                "thread_ids": [],
            }
            self.videos[video["id"]] = video
            self.channels[channel_id].video_ids.append(video["id"])
            return video

    def expire_token(self, token: str) -> None:
        self.tokens[token].expires_at = time.time() - 1

    def revoke_token(self, token: str) -> None:
        """Access revoked by the person: the access and refresh tokens both die."""
        channel = self.tokens[token].channel_id
        for entry in (*self.tokens.values(), *self.refresh_tokens.values()):
            if entry.channel_id == channel:
                entry.revoked = True

    def _new_comment(
        self, video_id: str, author_id: str, author_name: str, text: str, parent_id: str = ""
    ) -> dict[str, Any]:
        video = self.videos[video_id]
        comment: dict[str, Any] = {
            "id": ("" if not parent_id else parent_id + ".") + new_id("Ugz", 20),
            "video_id": video_id,
            "channel_id": video["channel_id"],
            "parent_id": parent_id,
            "author_id": author_id,
            "author_name": author_name,
            "text": text,
            "likes": 0,
            "published": time.time(),
            "status": "published",
            "replies": [],
        }
        self.comments[comment["id"]] = comment
        if parent_id:
            self.comments[parent_id]["replies"].append(comment["id"])
        else:
            video["thread_ids"].append(comment["id"])
        return comment

    def citizen_comment(
        self, video_id: str, author_id: str, author_name: str, text: str
    ) -> dict[str, Any]:
        """A viewer comments on a video (no webhook: Sotong polls)."""
        with self.lock:
            return self._new_comment(video_id, author_id, f"@{author_name}", text)

    # -- errors and quota -------------------------------------------------------------------

    def fault_response(self, kind: FaultKind) -> Response:
        if kind is FaultKind.RATE_LIMITED:
            return google_error(
                403,
                "rateLimitExceeded",
                "The request cannot be completed because you have exceeded your quota.",
                "youtube.quota",
            )
        if kind in (FaultKind.TOKEN_EXPIRED, FaultKind.TOKEN_REVOKED):
            # The API does not tell an expired token from a revoked one: both are 401.
            return self._auth_error()
        if kind is FaultKind.MALFORMED:
            return Response(
                200, "<html><body>Error 502 (Server Error)</body></html>", content_type="text/html"
            )
        return google_error(503, "backendError", "Backend Error", "global")

    @staticmethod
    def _auth_error() -> Response:
        response = json_response(
            {
                "error": {
                    "code": 401,
                    "message": "Request had invalid authentication credentials.",
                    "errors": [
                        {
                            "message": "Invalid Credentials",
                            "domain": "global",
                            "reason": "authError",
                            "location": "Authorization",
                            "locationType": "header",
                        }
                    ],
                }
            },
            401,
        )
        response.headers["WWW-Authenticate"] = 'Bearer realm="https://accounts.google.com/"'
        return response

    def not_found(self, request: Request) -> Response:
        return google_error(404, "notFound", f"Not Found: {request.path}", "global")

    def bad_request(self, message: str) -> Response:
        return google_error(400, "badRequest", message, "global")

    def _authorise(
        self, request: Request, *, cost: int, scope: str | None = None
    ) -> Token | Response:
        token = self.tokens.get(request.bearer_token())
        if token is None or token.revoked or token.expires_at < time.time():
            return self._auth_error()
        if scope and scope not in token.scopes:
            return google_error(
                403,
                "insufficientPermissions",
                "Request had insufficient authentication scopes.",
                "global",
            )
        if self.quota_used + cost > self.daily_quota:
            return google_error(
                403,
                "quotaExceeded",
                "The request cannot be completed because you have exceeded your "
                '<a href="/youtube/v3/getting-started#quota">quota</a>.',
                "youtube.quota",
            )
        self.quota_used += cost
        return token

    # -- OAuth ------------------------------------------------------------------------------

    @route("GET", r"/o/oauth2/v2/auth")
    def consent(self, request: Request) -> Response:
        """Google's consent screen: one link granting the scopes asked for."""
        if request.arg("client_id") != self.client_id:
            return Response(400, "Error 401: invalid_client", content_type="text/plain")
        if request.arg("code_challenge_method") != "S256" or not request.arg("code_challenge"):
            return Response(400, "Error 400: invalid_request (PKCE)", content_type="text/plain")
        scopes = tuple((request.arg("scope") or "").split())
        channel = next(iter(self.channels.values()), None)
        if channel is None:
            channel = Channel("UC" + new_id("", 22), "순천시")
            self.channels[channel.id] = channel
        refresh = f"1//{secrets.token_urlsafe(30)}"
        self.refresh_tokens[refresh] = Token(channel.id, scopes, float("inf"))
        code = f"4/{secrets.token_urlsafe(20)}"
        redirect_uri = request.arg("redirect_uri") or ""
        self.oauth_codes[code] = (refresh, request.arg("code_challenge") or "", redirect_uri)
        query = urlencode(
            {"code": code, "state": request.arg("state") or "", "scope": " ".join(scopes)}
        )
        target = html.escape(f"{redirect_uri}?{query}")
        page = (
            '<!doctype html><html lang="ko"><meta charset="utf-8">'
            "<title>Google 계정으로 로그인 (시뮬레이터)</title>"
            f"<h1>Sotong이 YouTube 계정 관리 권한을 요청합니다</h1><p>{html.escape(' '.join(scopes))}</p>"
            f'<a id="allow" href="{target}">허용</a></html>'
        )
        return Response(200, page, content_type="text/html; charset=utf-8")

    def _grant(self, refresh: str, *, with_refresh: bool) -> Response:
        grant = self.refresh_tokens[refresh]
        access = f"ya29.{secrets.token_urlsafe(24)}"
        self.tokens[access] = Token(
            grant.channel_id, grant.scopes, time.time() + self.token_lifetime
        )
        body = {
            "access_token": access,
            "expires_in": self.token_lifetime,
            "scope": " ".join(grant.scopes),
            "token_type": "Bearer",
        }
        if with_refresh:
            body["refresh_token"] = refresh
        return json_response(body)

    @route("POST", r"/token")
    def token(self, request: Request) -> Response:
        if (
            request.arg("client_id") != self.client_id
            or request.arg("client_secret") != self.client_secret
        ):
            return json_response(
                {"error": "invalid_client", "error_description": "The OAuth client was not found."},
                401,
            )
        grant_type = request.arg("grant_type")
        if grant_type == "refresh_token":
            grant = self.refresh_tokens.get(request.arg("refresh_token") or "")
            if grant is None or grant.revoked:
                return json_response(
                    {
                        "error": "invalid_grant",
                        "error_description": "Token has been expired or revoked.",
                    },
                    400,
                )
            return self._grant(request.arg("refresh_token") or "", with_refresh=False)
        if grant_type == "authorization_code":
            entry = self.oauth_codes.pop(request.arg("code") or "", None)
            if entry is None:
                return json_response(
                    {"error": "invalid_grant", "error_description": "Malformed auth code."}, 400
                )
            refresh, challenge, redirect_uri = entry
            if pkce_challenge(request.arg("code_verifier") or "") != challenge:
                return json_response(
                    {"error": "invalid_grant", "error_description": "Invalid code verifier."}, 400
                )
            if request.arg("redirect_uri") != redirect_uri:
                return json_response(
                    {"error": "redirect_uri_mismatch", "error_description": "Bad Request"}, 400
                )
            return self._grant(refresh, with_refresh=True)
        return json_response({"error": "unsupported_grant_type"}, 400)

    # -- channels, playlists and videos ----------------------------------------------------------

    @staticmethod
    def _parts(request: Request) -> set[str]:
        parts = {p.strip() for p in (request.arg("part") or "").split(",") if p.strip()}
        if not parts:
            raise ValueError("Required parameter: part")
        return parts

    @route("GET", API + r"/channels")
    def list_channels(self, request: Request) -> Response:
        token = self._authorise(request, cost=COST_LIST, scope=None)
        if isinstance(token, Response):
            return token
        parts = self._parts(request)
        if request.arg("mine") == "true":
            wanted = [token.channel_id]
        elif request.arg("id"):
            wanted = (request.arg("id") or "").split(",")
        else:
            return google_error(
                400, "missingRequiredParameter", "No filter selected.", "youtube.parameter"
            )
        items = []
        for channel_id in wanted:
            channel = self.channels.get(channel_id)
            if channel is None:
                continue
            item: dict[str, Any] = {
                "kind": "youtube#channel",
                "etag": secrets.token_urlsafe(8),
                "id": channel.id,
            }
            if "snippet" in parts:
                item["snippet"] = {
                    "title": channel.title,
                    "description": "순천시 공식 유튜브 채널",
                    "customUrl": "@suncheon",
                    "publishedAt": "2012-03-01T00:00:00Z",
                    "country": "KR",
                }
            if "contentDetails" in parts:
                item["contentDetails"] = {
                    "relatedPlaylists": {"likes": "", "uploads": channel.uploads}
                }
            if "statistics" in parts:
                item["statistics"] = {
                    "viewCount": str(sum(self.videos[v]["views"] for v in channel.video_ids)),
                    "subscriberCount": str(channel.subscribers),
                    "hiddenSubscriberCount": channel.hidden_subscribers,
                    "videoCount": str(len(channel.video_ids)),
                }
            items.append(item)
        return json_response(
            {
                "kind": "youtube#channelListResponse",
                "etag": secrets.token_urlsafe(8),
                "pageInfo": {"totalResults": len(items), "resultsPerPage": 5},
                "items": items,
            }
        )

    @route("GET", API + r"/playlistItems")
    def list_playlist_items(self, request: Request) -> Response:
        token = self._authorise(request, cost=COST_LIST)
        if isinstance(token, Response):
            return token
        parts = self._parts(request)
        playlist = request.arg("playlistId") or ""
        channel = next((c for c in self.channels.values() if c.uploads == playlist), None)
        if channel is None:
            return google_error(
                404,
                "playlistNotFound",
                "The playlist identified with the request's playlistId parameter cannot be found.",
            )
        limit = min(int(request.arg("maxResults") or 5), 50)
        start = int(request.arg("pageToken") or 0)
        ids = list(reversed(channel.video_ids))
        items = []
        for position, video_id in enumerate(ids[start : start + limit], start=start):
            video = self.videos[video_id]
            item: dict[str, Any] = {
                "kind": "youtube#playlistItem",
                "etag": secrets.token_urlsafe(8),
                "id": f"{playlist}.{video_id}",
            }
            if "snippet" in parts:
                item["snippet"] = {
                    "publishedAt": iso(video["published"]),
                    "channelId": channel.id,
                    "title": video["title"],
                    "description": video["description"],
                    "channelTitle": channel.title,
                    "playlistId": playlist,
                    "position": position,
                    "resourceId": {"kind": "youtube#video", "videoId": video_id},
                }
            if "contentDetails" in parts:
                item["contentDetails"] = {
                    "videoId": video_id,
                    "videoPublishedAt": iso(video["published"]),
                }
            items.append(item)
        body: dict[str, Any] = {
            "kind": "youtube#playlistItemListResponse",
            "etag": secrets.token_urlsafe(8),
            "items": items,
            "pageInfo": {"totalResults": len(ids), "resultsPerPage": limit},
        }
        if start + limit < len(ids):
            body["nextPageToken"] = str(start + limit)
        return json_response(body)

    def _visible_comments(self, video: dict[str, Any]) -> int:
        total = 0
        for thread_id in video["thread_ids"]:
            thread = self.comments[thread_id]
            if thread["status"] == "published":
                total += 1 + sum(
                    1 for r in thread["replies"] if self.comments[r]["status"] == "published"
                )
        return total

    @route("GET", API + r"/videos")
    def list_videos(self, request: Request) -> Response:
        token = self._authorise(request, cost=COST_LIST)
        if isinstance(token, Response):
            return token
        parts = self._parts(request)
        ids = [i for i in (request.arg("id") or "").split(",") if i]
        if len(ids) > 50:
            return google_error(400, "invalidValue", "Too many ids", "youtube.parameter")
        items = []
        for video_id in ids:
            video = self.videos.get(video_id)
            if video is None:
                continue  # unknown ids are left out, not an error
            item: dict[str, Any] = {
                "kind": "youtube#video",
                "etag": secrets.token_urlsafe(8),
                "id": video_id,
            }
            if "snippet" in parts:
                item["snippet"] = {
                    "publishedAt": iso(video["published"]),
                    "channelId": video["channel_id"],
                    "title": video["title"],
                    "description": video["description"],
                }
            if "statistics" in parts:
                # Strings, as the real API sends them; dislikes are hidden.
                item["statistics"] = {
                    "viewCount": str(video["views"]),
                    "likeCount": str(video["likes"]),
                    "favoriteCount": "0",
                    "commentCount": str(self._visible_comments(video)),
                }
            items.append(item)
        return json_response(
            {
                "kind": "youtube#videoListResponse",
                "etag": secrets.token_urlsafe(8),
                "items": items,
                "pageInfo": {"totalResults": len(items), "resultsPerPage": len(items)},
            }
        )

    # -- comments ---------------------------------------------------------------------------

    def _comment_view(self, comment: dict[str, Any]) -> dict[str, Any]:
        snippet: dict[str, Any] = {
            "channelId": comment["channel_id"],
            "videoId": comment["video_id"],
            "textDisplay": html.escape(comment["text"]),
            "textOriginal": comment["text"],
            "authorDisplayName": comment["author_name"],
            "authorProfileImageUrl": "https://yt3.ggpht.com/a/default-user.jpg",
            "authorChannelUrl": f"http://www.youtube.com/channel/{comment['author_id']}",
            "authorChannelId": {"value": comment["author_id"]},
            "canRate": True,
            "viewerRating": "none",
            "likeCount": comment["likes"],
            "publishedAt": iso(comment["published"]),
            "updatedAt": iso(comment["published"]),
        }
        if comment["parent_id"]:
            snippet["parentId"] = comment["parent_id"]
        return {
            "kind": "youtube#comment",
            "etag": secrets.token_urlsafe(8),
            "id": comment["id"],
            "snippet": snippet,
        }

    @route("GET", API + r"/commentThreads")
    def list_comment_threads(self, request: Request) -> Response:
        token = self._authorise(request, cost=COST_LIST)
        if isinstance(token, Response):
            return token
        parts = self._parts(request)
        video = self.videos.get(request.arg("videoId") or "")
        if video is None:
            return google_error(
                404,
                "videoNotFound",
                "The video identified by the videoId parameter could not be found.",
            )
        threads = [
            self.comments[t]
            for t in video["thread_ids"]
            if self.comments[t]["status"] == "published"
        ]
        threads.reverse()  # order=time: newest first (insertion order is time order)
        limit = min(int(request.arg("maxResults") or 20), 100)
        start = int(request.arg("pageToken") or 0)
        items = []
        for thread in threads[start : start + limit]:
            replies = [
                self.comments[r]
                for r in thread["replies"]
                if self.comments[r]["status"] == "published"
            ]
            item: dict[str, Any] = {
                "kind": "youtube#commentThread",
                "etag": secrets.token_urlsafe(8),
                "id": thread["id"],
                "snippet": {
                    "channelId": thread["channel_id"],
                    "videoId": thread["video_id"],
                    "topLevelComment": self._comment_view(thread),
                    "canReply": True,
                    "totalReplyCount": len(replies),
                    "isPublic": True,
                },
            }
            if "replies" in parts and replies:
                item["replies"] = {"comments": [self._comment_view(r) for r in replies]}
            items.append(item)
        body: dict[str, Any] = {
            "kind": "youtube#commentThreadListResponse",
            "pageInfo": {"totalResults": len(items), "resultsPerPage": limit},
            "items": items,
        }
        if start + limit < len(threads):
            body["nextPageToken"] = str(start + limit)
        return json_response(body)

    @route("POST", API + r"/comments")
    def insert_comment(self, request: Request) -> Response:
        token = self._authorise(request, cost=COST_WRITE, scope=FORCE_SSL)
        if isinstance(token, Response):
            return token
        snippet = request.json().get("snippet") or {}
        parent = self.comments.get(str(snippet.get("parentId", "")))
        if parent is None or parent["parent_id"]:
            return google_error(
                404,
                "parentCommentNotFound",
                "The parent comment specified for the comment could not be found.",
            )
        text = str(snippet.get("textOriginal", ""))
        if not text:
            return google_error(400, "commentTextRequired", "The comment must contain text.")
        if len(text) > self.max_comment_length:
            return google_error(400, "commentTextTooLong", "The comment text is too long.")
        channel = self.channels[token.channel_id]
        reply = self._new_comment(
            parent["video_id"], channel.id, f"@{channel.title}", text, parent_id=parent["id"]
        )
        return json_response(self._comment_view(reply))

    @route("POST", API + r"/comments/setModerationStatus")
    def set_moderation_status(self, request: Request) -> Response:
        token = self._authorise(request, cost=COST_WRITE, scope=FORCE_SSL)
        if isinstance(token, Response):
            return token
        status = request.arg("moderationStatus") or ""
        if status not in {"heldForReview", "published", "rejected"}:
            return google_error(
                400, "invalidModerationStatus", "Invalid moderation status.", "youtube.parameter"
            )
        ids = [i for i in (request.arg("id") or "").split(",") if i]
        missing = [i for i in ids if i not in self.comments]
        if not ids or missing:
            return google_error(
                404, "commentNotFound", "The comment could not be found.", "youtube.comment"
            )
        for comment_id in ids:
            comment = self.comments[comment_id]
            if self.videos[comment["video_id"]]["channel_id"] != token.channel_id:
                return google_error(
                    403, "forbidden", "The comment cannot be moderated by this channel."
                )
            comment["status"] = status
        return Response(204, None)

    # -- synthetic citizens and the demo world ------------------------------------------------

    # YouTube viewers comment on videos of festivals and scenery.
    crowd_weights = {"festival": 3.0, "scenery": 2.5, "general": 0.6, "notice": 0.3}

    def crowd_posts(self) -> list[tuple[str, str, str]]:
        return [
            (channel.id, video_id, self.videos[video_id]["title"])
            for channel in self.channels.values()
            for video_id in channel.video_ids[-10:]
        ]

    def crowd_comment(
        self, account: str, post_id: str, author_id: str, author_name: str, text: str
    ) -> None:
        self.citizen_comment(post_id, f"UC{author_id}", author_name, text)

    def populate_demo(self, account: DemoAccount, webhook_url: str) -> None:
        """The city's channel and uploads; no comment webhooks on YouTube."""
        self.add_channel(
            account.account_id,
            "순천시",
            token=account.token,
            refresh_token=account.refresh_token or None,
            subscribers=account.followers,
        )
        # The demo token must outlive a demo session; refreshing also works.
        self.tokens[account.token].expires_at = time.time() + 7 * 24 * 3600
        for title, views, likes in DEMO_HISTORY:
            self.add_video(account.account_id, title, views=views, likes=likes)

    def timeline(self) -> list[dict[str, Any]]:
        return [
            {
                "account": channel.title,
                "posts": [
                    {
                        "id": video_id,
                        "text": self.videos[video_id]["title"],
                        "url": f"https://www.youtube.com/watch?v={video_id}",
                        "comments": [
                            {
                                "author": self.comments[cid]["author_name"],
                                "text": self.comments[cid]["text"],
                            }
                            for thread_id in self.videos[video_id]["thread_ids"]
                            for cid in (thread_id, *self.comments[thread_id]["replies"])
                            if self.comments[cid]["status"] == "published"
                        ],
                    }
                    for video_id in reversed(channel.video_ids)
                ],
            }
            for channel in self.channels.values()
        ]
