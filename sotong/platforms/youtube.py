"""YouTube channel connector (YouTube Data API v3). Contract: shared/docs/platform-apis.md §6.

YouTube has no API for text or image posts (community posts are not in the Data API), so
Sotong reads the channel's videos, their figures and comments, and answers and moderates
comments. There are no comment webhooks: comments are polled. Access tokens last about an
hour and are refreshed with the refresh token; a refused refresh (``invalid_grant``) means
the person must connect again.

Quota: every call costs units from a daily budget (list 1, insert/update 50) that resets at
midnight Pacific time; ``quotaExceeded`` blocks the channel until then.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import httpx

from sotong.platforms.base import (
    AccountCheck,
    Capability,
    ChannelMetrics,
    ConnectableAccount,
    Connector,
    ContentRejected,
    CredentialExpired,
    CredentialRevoked,
    Credentials,
    InboundItem,
    InboundKind,
    MalformedResponse,
    NotFound,
    OAuthApp,
    PermissionMissing,
    PlatformError,
    PostMetrics,
    PublishedPost,
    RateLimited,
    TextLimits,
    TransientError,
    iso_to_datetime,
    register,
)

API = "/youtube/v3"
SCOPES = (
    "https://www.googleapis.com/auth/youtube.readonly",
    "https://www.googleapis.com/auth/youtube.force-ssl",
)
PACIFIC = ZoneInfo("America/Los_Angeles")
QUOTA_REASONS = {"quotaExceeded", "dailyLimitExceeded"}
RATE_REASONS = {"rateLimitExceeded", "userRateLimitExceeded"}
AUTH_REASONS = {"authError", "invalidCredentials"}
PERMISSION_REASONS = {"insufficientPermissions", "forbidden", "commentsDisabled"}
REJECTED_REASONS = {"commentTextTooLong", "processingFailure", "invalidCommentMetadata"}
NOT_FOUND_REASONS = {
    "videoNotFound",
    "commentNotFound",
    "channelNotFound",
    "commentThreadNotFound",
    "playlistNotFound",
    "parentCommentNotFound",
}
TRANSIENT_REASONS = {"backendError", "internalError"}
DEFAULT_RATE_LIMIT_SECONDS = 60.0
MAX_COMMENT_PAGES = 5


def seconds_until_pacific_midnight(now: dt.datetime | None = None) -> float:
    """YouTube's daily quota resets at midnight Pacific time."""
    local = (now or dt.datetime.now(tz=dt.UTC)).astimezone(PACIFIC)
    midnight = dt.datetime.combine(local.date() + dt.timedelta(days=1), dt.time(), PACIFIC)
    return max(1.0, (midnight - local).total_seconds())


def _count(value: Any) -> int | None:
    """YouTube's statistics are strings ("72041"): numbers here, None when absent."""
    if value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise MalformedResponse(f"YouTube: count {value!r} is not a number") from exc


@register
class YouTubeChannel(Connector):
    kind = "youtube"
    label = "YouTube"
    # No PUBLISH_*: the Data API uploads videos only, and Sotong does not make videos.
    capabilities = frozenset(
        {
            Capability.LIST_POSTS,
            Capability.POST_METRICS,
            Capability.CHANNEL_METRICS,
            Capability.LIST_COMMENTS,
            Capability.REPLY_COMMENT,
            Capability.HIDE_COMMENT,
            Capability.REFRESH_CREDENTIALS,
        }
    )
    default_api_base = "https://www.googleapis.com"
    # Comment replies: ≤10,000 characters (L on the number).
    limits = TextLimits(max_length=10000)
    required_scopes: ClassVar[tuple[str, ...]] = SCOPES
    oauth_login = True

    @property
    def channel_id(self) -> str:
        return self.account.account_id

    def _auth(self) -> dict[str, str]:
        # In a header, not the query string: URLs end up in proxy and access logs.
        return {"Authorization": f"Bearer {self.account.credentials.access_token}"}

    def _get(self, resource: str, **params: Any) -> Any:
        response = self.request("GET", f"{API}/{resource}", params=params, headers=self._auth())
        return self.json(response)

    # -- errors -----------------------------------------------------------------------------

    def classify(self, response: httpx.Response) -> PlatformError:
        status = response.status_code
        try:
            body = response.json()
        except ValueError:
            return super().classify(response)
        if isinstance(body, dict) and isinstance(body.get("error"), str):
            return self._classify_oauth(body, status)
        try:
            error = body["error"]
            reasons = [str(item.get("reason", "")) for item in error.get("errors") or []]
            message = f"YouTube: {error.get('message', 'error')} ({', '.join(reasons) or status})"
        except (KeyError, TypeError, AttributeError):
            return super().classify(response)
        reason = reasons[0] if reasons else ""
        if reason in QUOTA_REASONS:
            return RateLimited(
                message,
                retry_after=seconds_until_pacific_midnight(),
                platform_code=reason,
                status=status,
            )
        if reason in RATE_REASONS or status == 429:
            return RateLimited(
                message,
                retry_after=self._retry_after(response),
                platform_code=reason,
                status=status,
            )
        if reason in AUTH_REASONS or status == 401:
            return CredentialExpired(message, platform_code=reason, status=status)
        if reason in PERMISSION_REASONS:
            return PermissionMissing(message, platform_code=reason, status=status)
        if reason in REJECTED_REASONS:
            return ContentRejected(message, platform_code=reason, status=status)
        if reason in NOT_FOUND_REASONS or status == 404:
            return NotFound(message, platform_code=reason, status=status)
        if reason in TRANSIENT_REASONS or status >= 500:
            return TransientError(message, platform_code=reason, status=status)
        if status == 403:
            return PermissionMissing(message, platform_code=reason, status=status)
        return ContentRejected(message, platform_code=reason, status=status)

    def _retry_after(self, response: httpx.Response) -> float:
        header = response.headers.get("retry-after", "")
        if header.isdigit():
            return float(header)
        try:
            return float(self.account.options.get("rate_limit_seconds", DEFAULT_RATE_LIMIT_SECONDS))
        except ValueError:
            return DEFAULT_RATE_LIMIT_SECONDS

    def _classify_oauth(self, body: dict[str, Any], status: int) -> PlatformError:
        """Google's token endpoint: {"error": "invalid_grant", "error_description": …}."""
        error = str(body["error"])
        message = f"YouTube: {body.get('error_description', error)} ({error})"
        if error == "invalid_grant":
            return CredentialRevoked(message, platform_code=error, status=status)
        if error in {"invalid_client", "unauthorized_client"}:
            return PermissionMissing(message, platform_code=error, status=status)
        if status >= 500:
            return TransientError(message, platform_code=error, status=status)
        return ContentRejected(message, platform_code=error, status=status)

    # -- account ----------------------------------------------------------------------------

    def verify_credentials(self) -> AccountCheck:
        """The channel the token acts for, and the scopes it was granted."""
        answer = self._get("channels", part="snippet", mine="true")
        items = self.require(answer, "items")
        channel = next((c for c in items if c.get("id") == self.channel_id), None)
        if channel is None:
            raise NotFound(f"{self.label}: the token does not belong to this channel")
        granted = self.account.credentials.scopes
        return AccountCheck(
            identity=self.channel_id,
            display_name=str((channel.get("snippet") or {}).get("title", "")),
            granted_scopes=granted,
            # Scopes are known from the OAuth answer; a token typed in by hand has none.
            missing_scopes=tuple(s for s in self.required_scopes if s not in granted)
            if granted
            else (),
            expires_at=self.account.credentials.expires_at,
        )

    def refresh_credentials(self) -> Credentials:
        """A new access token from the refresh token; ``invalid_grant`` (revoked, or
        expired in a consent screen still in Testing) raises CredentialRevoked."""
        current = self.account.credentials
        if not current.refresh_token:
            raise CredentialRevoked(f"{self.label}: no refresh token; connect again")
        response = self.request(
            "POST",
            self.endpoint("https://oauth2.googleapis.com/token"),
            data={
                "grant_type": "refresh_token",
                "refresh_token": current.refresh_token,
                "client_id": current.extra.get("client_id", ""),
                "client_secret": current.extra.get("client_secret", ""),
            },
            # Asking twice only mints another access token.
            idempotent=True,
        )
        answer = self.json(response)
        fresh = Credentials(
            access_token=str(self.require(answer, "access_token")),
            # Google sends a new refresh token only sometimes; keep the old one otherwise.
            refresh_token=str(answer.get("refresh_token") or current.refresh_token),
            expires_at=self._expires_at(answer),
            scopes=tuple(str(answer["scope"]).split()) if answer.get("scope") else current.scopes,
            extra=dict(current.extra),
        )
        self.account.credentials = fresh
        return fresh

    @staticmethod
    def _expires_at(answer: dict[str, Any]) -> dt.datetime | None:
        if not answer.get("expires_in"):
            return None
        return dt.datetime.now(tz=dt.UTC) + dt.timedelta(seconds=int(answer["expires_in"]))

    # -- videos (our "posts") ------------------------------------------------------------------

    def _uploads_playlist(self) -> str:
        answer = self._get("channels", part="contentDetails", id=self.channel_id)
        items = self.require(answer, "items")
        if not items:
            raise NotFound(f"{self.label}: channel {self.channel_id} not found")
        return str(self.require(items[0], "contentDetails", "relatedPlaylists", "uploads"))

    def list_posts(self, *, limit: int = 25) -> list[PublishedPost]:
        """The channel's latest uploads (each video is a "post")."""
        answer = self._get(
            "playlistItems",
            part="snippet,contentDetails",
            playlistId=self._uploads_playlist(),
            maxResults=min(limit, 50),
        )
        posts = []
        for item in self.require(answer, "items"):
            details = item.get("contentDetails") or {}
            video_id = str(details.get("videoId") or "")
            if not video_id:
                raise MalformedResponse(f"{self.label}: playlist item lacks videoId")
            published = details.get("videoPublishedAt") or (item.get("snippet") or {}).get(
                "publishedAt"
            )
            posts.append(
                PublishedPost(
                    external_id=video_id,
                    url=f"https://www.youtube.com/watch?v={video_id}",
                    text=str((item.get("snippet") or {}).get("title", "")),
                    created_at=iso_to_datetime(published) if published else None,
                )
            )
        return posts

    def post_metrics(self, external_id: str) -> PostMetrics:
        """Views, likes and comments of a video (the API gives them as strings)."""
        answer = self._get("videos", part="statistics", id=external_id)
        items = self.require(answer, "items")
        if not items:
            raise NotFound(f"{self.label}: video {external_id} not found", platform_code=404)
        statistics = self.require(items[0], "statistics")
        return PostMetrics(
            views=_count(statistics.get("viewCount")),
            likes=_count(statistics.get("likeCount")),
            comments=_count(statistics.get("commentCount")),
            raw=dict(statistics),
        )

    def channel_metrics(self) -> ChannelMetrics:
        answer = self._get("channels", part="statistics", id=self.channel_id)
        items = self.require(answer, "items")
        if not items:
            raise NotFound(f"{self.label}: channel {self.channel_id} not found")
        statistics = self.require(items[0], "statistics")
        hidden = bool(statistics.get("hiddenSubscriberCount"))
        return ChannelMetrics(
            followers=None if hidden else _count(statistics.get("subscriberCount")),
            raw=dict(statistics),
        )

    # -- comments ---------------------------------------------------------------------------

    def _comment(self, comment: dict[str, Any], video_id: str, parent: str = "") -> InboundItem:
        snippet = comment.get("snippet") or {}
        published = snippet.get("publishedAt")
        return InboundItem(
            kind=InboundKind.COMMENT,
            external_id=str(comment["id"]),
            text=str(snippet.get("textOriginal") or snippet.get("textDisplay") or ""),
            author_id=str((snippet.get("authorChannelId") or {}).get("value", "")),
            author_name=str(snippet.get("authorDisplayName", "")),
            created_at=iso_to_datetime(published) if published else None,
            post_external_id=video_id,
            parent_external_id=parent or str(snippet.get("parentId", "")),
            raw=comment,
        )

    def list_comments(self, post_external_id: str) -> list[InboundItem]:
        """A video's comment threads, newest first, with their replies."""
        params: dict[str, Any] = {
            "part": "snippet,replies",
            "videoId": post_external_id,
            "maxResults": 100,
            "order": "time",
            "textFormat": "plainText",
        }
        items: list[InboundItem] = []
        for _page in range(MAX_COMMENT_PAGES):
            answer = self._get("commentThreads", **params)
            for thread in self.require(answer, "items"):
                top = self.require(thread, "snippet", "topLevelComment")
                items.append(self._comment(top, post_external_id))
                for reply in (thread.get("replies") or {}).get("comments", []):
                    items.append(self._comment(reply, post_external_id, parent=str(top["id"])))
            if not answer.get("nextPageToken"):
                break
            params["pageToken"] = answer["nextPageToken"]
        return items

    def reply_to_comment(self, comment: InboundItem, text: str) -> str:
        """Reply in the comment's thread (YouTube threads are one level deep)."""
        parent = comment.parent_external_id or comment.external_id
        response = self.request(
            "POST",
            f"{API}/comments",
            params={"part": "snippet"},
            json={"snippet": {"parentId": parent, "textOriginal": text}},
            headers=self._auth(),
            idempotent=False,
        )
        return str(self.require(self.json(response), "id"))

    def hide_comment(self, comment_external_id: str, *, hidden: bool = True) -> None:
        """Hold a comment for review (hidden from the public) or publish it again."""
        self.request(
            "POST",
            f"{API}/comments/setModerationStatus",
            params={
                "id": comment_external_id,
                "moderationStatus": "heldForReview" if hidden else "published",
            },
            headers=self._auth(),
            # Setting the same status twice leaves the same result.
            idempotent=True,
        )

    # -- connecting by OAuth (Google) ------------------------------------------------------------

    def oauth_authorize_url(self, app: OAuthApp, *, state: str, code_challenge: str) -> str:
        """Google's consent screen, for a refresh token (offline, consent) with PKCE."""
        query = urlencode(
            {
                "client_id": app.client_id,
                "redirect_uri": app.redirect_uri,
                "response_type": "code",
                "scope": " ".join(self.required_scopes),
                "access_type": "offline",
                "prompt": "consent",
                "include_granted_scopes": "true",
                "state": state,
                "code_challenge": code_challenge,
                "code_challenge_method": "S256",
            }
        )
        return self.endpoint(f"https://accounts.google.com/o/oauth2/v2/auth?{query}")

    def oauth_accounts(
        self, app: OAuthApp, *, code: str, code_verifier: str
    ) -> list[ConnectableAccount]:
        """Swap the code (with the PKCE verifier) for tokens; the channels they manage."""
        response = self.request(
            "POST",
            self.endpoint("https://oauth2.googleapis.com/token"),
            data={
                "grant_type": "authorization_code",
                "code": code,
                "code_verifier": code_verifier,
                "client_id": app.client_id,
                "client_secret": app.client_secret,
                "redirect_uri": app.redirect_uri,
            },
            # A code is single-use: a lost answer cannot be asked for again.
            idempotent=False,
        )
        answer = self.json(response)
        credentials = Credentials(
            access_token=str(self.require(answer, "access_token")),
            refresh_token=str(answer.get("refresh_token", "")),
            expires_at=self._expires_at(answer),
            scopes=tuple(str(answer.get("scope", "")).split()),
            extra={"client_id": app.client_id, "client_secret": app.client_secret},
        )
        self.account.credentials = credentials
        channels = self._get("channels", part="snippet,statistics", mine="true")
        return [
            ConnectableAccount(
                account_id=str(channel["id"]),
                name=str((channel.get("snippet") or {}).get("title", "")),
                credentials=credentials,
            )
            for channel in self.require(channels, "items")
        ]
