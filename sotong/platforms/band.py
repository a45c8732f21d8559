"""Naver BAND connector (BAND Open API). Contract: shared/docs/platform-apis.md §2.

BAND answers every call with an envelope ``{"result_code": 1, "result_data": {...}}``; any
other ``result_code`` is an error, and the HTTP status of errors is not documented (often
200), so errors are read from the body. The documented contract puts ``access_token`` in
the query string (GET) or the form body (POST): BAND takes no Authorization header for the
API. Sotong never logs request URLs, so the token does not reach a log.

The write-post API takes text only (no images, no link cards): a link is written into the
text. There are no webhooks and no DMs: comments are polled.
"""

from __future__ import annotations

import base64
import datetime as dt
from functools import cached_property
from typing import Any, ClassVar
from urllib.parse import urlencode

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
    OutboundPost,
    OutcomeUnknown,
    PermissionMissing,
    PlatformError,
    PostMetrics,
    PublishedPost,
    RateLimited,
    TextLimits,
    TransientError,
    epoch_to_datetime,
    normalise_for_match,
    register,
)

SUCCESS = 1
EXPIRED_CODES = {10401}
PERMISSION_CODES = {10403, 2142}
QUOTA_CODES = {1001, 1002}  # app / user quota exceeded
COOLDOWN_CODE = 1003  # calls too fast
REJECTED_CODES = {211, 212, 3001, 3002, 3003, 60000}
TRANSIENT_CODES = {2300}
MEMBER_CODES = (60100, 60105)
# BAND documents no "no such post" code. 3000 ("invalid request") is what the simulator
# answers for an unknown post_key; the option ``not_found_codes`` can change it.
DEFAULT_NOT_FOUND_CODES = "3000"
# Quota numbers are not published (L): how long to wait is a setting.
DEFAULT_COOLDOWN_SECONDS = 60.0
DEFAULT_QUOTA_RETRY_SECONDS = 3600.0
PERMISSIONS = ("posting", "commenting", "contents_deletion")
MAX_COMMENT_PAGES = 5


def _ms_to_datetime(value: Any) -> dt.datetime | None:
    if value in (None, ""):
        return None
    return epoch_to_datetime(float(value) / 1000)


@register
class BandConnector(Connector):
    kind = "band"
    identity_from_token = False
    label = "BAND"
    # PUBLISH_LINK: BAND has no link cards, so the link is written into the text.
    capabilities = frozenset(
        {
            Capability.PUBLISH_TEXT,
            Capability.PUBLISH_LINK,
            Capability.DELETE_POST,
            Capability.LIST_POSTS,
            Capability.POST_METRICS,
            Capability.CHANNEL_METRICS,
            Capability.LIST_COMMENTS,
            Capability.REPLY_COMMENT,
        }
    )
    default_api_base = "https://openapi.band.us"
    # The text limit is not published: the platform's 3001 answer is what counts.
    limits = TextLimits(max_length=None, max_images=0)
    # BAND's own permission names, as /v2/band/permissions reports them.
    required_scopes: ClassVar[tuple[str, ...]] = PERMISSIONS
    oauth_login = True

    @property
    def band_key(self) -> str:
        return self.account.account_id

    def _option_float(self, name: str, default: float) -> float:
        try:
            return float(self.account.options.get(name, default))
        except (TypeError, ValueError):
            return default

    # -- HTTP -------------------------------------------------------------------------------

    def _data(self, response: httpx.Response) -> Any:
        body = self.json(response)
        if not isinstance(body, dict) or body.get("result_code") != SUCCESS:
            raise MalformedResponse(f"{self.label}: answer is not a BAND envelope")
        return body.get("result_data") or {}

    def _get(self, path: str, **params: Any) -> Any:
        # The documented contract: access_token is a query parameter.
        params["access_token"] = self.account.credentials.access_token
        return self._data(self.request("GET", path, params=params))

    def _post(self, path: str, *, idempotent: bool, **data: Any) -> Any:
        # In the form body rather than the URL: bodies are not written to access logs.
        data["access_token"] = self.account.credentials.access_token
        return self._data(self.request("POST", path, data=data, idempotent=idempotent))

    # -- errors -----------------------------------------------------------------------------

    def is_error_body(self, response: httpx.Response) -> bool:
        """BAND answers errors with a result_code other than 1, usually under HTTP 200."""
        try:
            body = response.json()
        except ValueError:
            return False
        return isinstance(body, dict) and "result_code" in body and body["result_code"] != SUCCESS

    def classify(self, response: httpx.Response) -> PlatformError:
        try:
            body = response.json()
            code = int(body["result_code"])
            data = body.get("result_data") or {}
            detail = data.get("message", "error") if isinstance(data, dict) else "error"
        except (ValueError, KeyError, TypeError, AttributeError):
            return self._classify_oauth(response)
        status = response.status_code
        message = f"{self.label}: {detail} (result_code {code})"
        not_found = {
            int(c)
            for c in self.account.options.get("not_found_codes", DEFAULT_NOT_FOUND_CODES).split(",")
            if c.strip().isdigit()
        }
        if code in EXPIRED_CODES:
            return CredentialExpired(message, platform_code=code, status=status)
        if code in PERMISSION_CODES:
            return PermissionMissing(message, platform_code=code, status=status)
        if code == COOLDOWN_CODE:
            wait = self._option_float("cooldown_seconds", DEFAULT_COOLDOWN_SECONDS)
            return RateLimited(message, retry_after=wait, platform_code=code, status=status)
        if code in QUOTA_CODES:
            wait = self._option_float("quota_retry_seconds", DEFAULT_QUOTA_RETRY_SECONDS)
            return RateLimited(message, retry_after=wait, platform_code=code, status=status)
        if code in not_found:
            return NotFound(message, platform_code=code, status=status)
        if code in TRANSIENT_CODES or status >= 500:
            return TransientError(message, platform_code=code, status=status)
        if MEMBER_CODES[0] <= code <= MEMBER_CODES[1]:
            # Not a member of the band, or the account is no longer connected to it.
            return PermissionMissing(message, platform_code=code, status=status)
        # REJECTED_CODES and anything else: the platform refused what was sent.
        return ContentRejected(message, platform_code=code, status=status)

    def _classify_oauth(self, response: httpx.Response) -> PlatformError:
        """The token endpoint answers OAuth-style errors; anything else falls back."""
        try:
            error = response.json().get("error")
        except (ValueError, AttributeError):
            error = None
        if error in {"invalid_grant", "invalid_token"}:
            return CredentialRevoked(f"{self.label}: {error}", status=response.status_code)
        if error:
            return PermissionMissing(f"{self.label}: {error}", status=response.status_code)
        return super().classify(response)

    # -- account ----------------------------------------------------------------------------

    def verify_credentials(self) -> AccountCheck:
        """Who the token belongs to, and which of BAND's permissions it has in this band."""
        profile = self._get("/v2/profile", band_key=self.band_key)
        granted = self._get(
            "/v2/band/permissions", band_key=self.band_key, permissions=",".join(PERMISSIONS)
        )
        permissions = tuple(str(p) for p in self.require(granted, "permissions"))
        return AccountCheck(
            identity=self.band_key,
            display_name=str(profile.get("name", "")),
            granted_scopes=permissions,
            missing_scopes=tuple(p for p in self.required_scopes if p not in permissions),
            expires_at=self.account.credentials.expires_at,
        )

    def is_own(self, item: InboundItem) -> bool:
        """Our comments are written as the person the token belongs to (a user key), not as
        the band."""
        return bool(item.author_id) and item.author_id == self._own_user_key

    @cached_property
    def _own_user_key(self) -> str:
        known = self.account.credentials.extra.get("user_key", "")
        if known:
            return known
        return str(self._get("/v2/profile", band_key=self.band_key).get("user_key", ""))

    # -- posts ------------------------------------------------------------------------------

    @staticmethod
    def content_of(post: OutboundPost) -> str:
        """The text BAND is sent: no link cards, so the link goes at the end of the text."""
        if post.link and post.link not in post.text:
            return f"{post.text}\n\n{post.link}".strip()
        return post.text

    def publish(self, post: OutboundPost) -> PublishedPost:
        """Write a text post. Not idempotent: a lost answer is OutcomeUnknown, and
        ``find_published`` tells whether it was posted."""
        if post.image_urls:
            raise ContentRejected(f"{self.label}: the API cannot post images")
        content = self.content_of(post)
        try:
            answer = self._post(
                "/v2.2/band/post/create",
                idempotent=False,
                band_key=self.band_key,
                content=content,
                do_push="true" if self.account.options.get("do_push") == "true" else "false",
            )
        except TransientError as error:
            if error.platform_code not in TRANSIENT_CODES:
                raise  # never reached BAND (connection refused): nothing was written
            # 2300 under HTTP 200 on a write: it may have been written all the same.
            raise OutcomeUnknown(
                f"{error.message}; reconcile before retrying", platform_code=error.platform_code
            ) from error
        return PublishedPost(external_id=str(self.require(answer, "post_key")), text=content)

    def find_published(self, post: OutboundPost, *, limit: int = 25) -> PublishedPost | None:
        """Our recent post with this content (the link included, as it was sent)."""
        wanted = normalise_for_match(self.content_of(post))
        for candidate in self.recent_posts(limit=limit):
            if normalise_for_match(candidate.text) == wanted:
                return candidate
        return None

    def delete_post(self, external_id: str) -> None:
        """Remove a post; removing it twice answers NotFound, so it is safe to retry."""
        self._post(
            "/v2/band/post/remove", idempotent=True, band_key=self.band_key, post_key=external_id
        )

    def list_posts(self, *, limit: int = 25) -> list[PublishedPost]:
        answer = self._get(
            "/v2/band/posts", band_key=self.band_key, locale="ko_KR", limit=min(limit, 100)
        )
        return [
            PublishedPost(
                external_id=str(item["post_key"]),
                text=str(item.get("content", "")),
                created_at=_ms_to_datetime(item.get("created_at")),
            )
            for item in self.require(answer, "items")
        ]

    def post_metrics(self, external_id: str) -> PostMetrics:
        """Reads, emotions and comments (BAND has no shares)."""
        answer = self._get("/v2.1/band/post", band_key=self.band_key, post_key=external_id)
        post = self.require(answer, "post")
        raw = {
            name: post.get(name) for name in ("post_read_count", "emotion_count", "comment_count")
        }
        return PostMetrics(
            views=raw["post_read_count"],
            likes=raw["emotion_count"],
            comments=raw["comment_count"],
            raw=raw,
        )

    def channel_metrics(self) -> ChannelMetrics:
        answer = self._get("/v2.1/bands")
        for band in self.require(answer, "bands"):
            if band.get("band_key") == self.band_key:
                return ChannelMetrics(followers=band.get("member_count"), raw=band)
        raise NotFound(f"{self.label}: the token's bands do not include this band")

    # -- comments ---------------------------------------------------------------------------

    def _comment(self, item: dict[str, Any], post_key: str) -> InboundItem:
        author = item.get("author") or {}
        return InboundItem(
            kind=InboundKind.COMMENT,
            external_id=str(item["comment_key"]),
            text=str(item.get("content", "")),
            author_id=str(author.get("user_key", "")),
            author_name=str(author.get("name", "")),
            created_at=_ms_to_datetime(item.get("created_at")),
            post_external_id=post_key,
            raw=item,
        )

    def list_comments(self, post_external_id: str) -> list[InboundItem]:
        """A post's comments, newest first, following BAND's paging a few pages deep."""
        params: dict[str, Any] = {
            "band_key": self.band_key,
            "post_key": post_external_id,
            "sort": "-created_at",
        }
        items: list[InboundItem] = []
        for _page in range(MAX_COMMENT_PAGES):
            answer = self._get("/v2/band/post/comments", **params)
            items.extend(
                self._comment(item, post_external_id) for item in self.require(answer, "items")
            )
            following = (answer.get("paging") or {}).get("next_params")
            if not following:
                break
            # next_params repeats access_token: ours is added by _get, never taken from it.
            params = {k: v for k, v in following.items() if k != "access_token"}
            params.setdefault("post_key", post_external_id)
            params.setdefault("sort", "-created_at")
        return items

    @staticmethod
    def mention(user_key: str, name: str) -> str:
        """A mention the way BAND itself writes one in a comment."""
        safe_key = user_key.replace('"', "")
        safe_name = name.replace("<", "").replace(">", "")
        return f'<band:refer user_key="{safe_key}">{safe_name}</band:refer>'

    def reply_to_comment(self, comment: InboundItem, text: str) -> str:
        """BAND comments are flat: a comment on the post, mentioning the citizen. The
        answer carries no comment key, so it is looked up afterwards ("" if not found)."""
        body = text
        if comment.author_id:
            body = f"{self.mention(comment.author_id, comment.author_name)} {text}"
        try:
            self._post(
                "/v2/band/post/comment/create",
                idempotent=False,
                band_key=self.band_key,
                post_key=comment.post_external_id,
                body=body,
            )
        except TransientError as error:
            if error.platform_code not in TRANSIENT_CODES:
                raise
            raise OutcomeUnknown(
                f"{error.message}; reconcile before retrying", platform_code=error.platform_code
            ) from error
        wanted = normalise_for_match(body)
        for item in self.list_comments(comment.post_external_id):
            if normalise_for_match(item.text) == wanted:
                return item.external_id
        return ""

    # -- connecting by OAuth ------------------------------------------------------------------

    def oauth_authorize_url(self, app: OAuthApp, *, state: str, code_challenge: str) -> str:
        """BAND's sign-in page. (BAND takes no PKCE; the client secret protects the swap.)"""
        query = urlencode(
            {
                "response_type": "code",
                "client_id": app.client_id,
                "redirect_uri": app.redirect_uri,
                "state": state,
            }
        )
        return self.endpoint(f"https://auth.band.us/oauth2/authorize?{query}")

    def oauth_accounts(
        self, app: OAuthApp, *, code: str, code_verifier: str
    ) -> list[ConnectableAccount]:
        """Swap the code for the member's token; each band they belong to is an account."""
        basic = base64.b64encode(f"{app.client_id}:{app.client_secret}".encode()).decode()
        response = self.request(
            "GET",
            self.endpoint("https://auth.band.us/oauth2/token"),
            params={"grant_type": "authorization_code", "code": code},
            headers={"Authorization": f"Basic {basic}"},
            # A code is single-use: a lost answer cannot be asked for again.
            idempotent=False,
        )
        token = self.json(response)
        if not isinstance(token, dict) or not token.get("access_token"):
            raise MalformedResponse(f"{self.label}: token answer lacks access_token")
        expires_at = None
        if token.get("expires_in"):
            expires_at = dt.datetime.now(tz=dt.UTC) + dt.timedelta(seconds=int(token["expires_in"]))
        self.account.credentials = Credentials(access_token=str(token["access_token"]))
        bands = self.require(self._get("/v2.1/bands"), "bands")
        return [
            ConnectableAccount(
                account_id=str(band["band_key"]),
                name=str(band.get("name", "")),
                credentials=Credentials(
                    access_token=str(token["access_token"]),
                    refresh_token=str(token.get("refresh_token", "")),
                    expires_at=expires_at,
                    scopes=tuple(str(token.get("scope", "")).split()) if token.get("scope") else (),
                ),
            )
            for band in bands
        ]
