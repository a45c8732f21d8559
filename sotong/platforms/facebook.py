"""Facebook Page connector (Graph API). Contract: shared/docs/platform-apis.md §3.

Page tokens obtained through /me/accounts do not expire; they die when an admin changes
their password or removes the app, which Graph reports as error 190.
"""

from __future__ import annotations

import json
import secrets
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
    DuplicateContent,
    InboundItem,
    InboundKind,
    NotFound,
    OAuthApp,
    OutboundPost,
    PermissionMissing,
    PlatformError,
    PostMetrics,
    PublishedPost,
    RateLimited,
    RateLimitState,
    TextLimits,
    TransientError,
    WebhookRejected,
    WebhookRequest,
    WebhookResponse,
    constant_time_equal,
    epoch_to_datetime,
    hmac_sha256_hex,
    iso_to_datetime,
    parse_json_body,
    register,
)

GRAPH_VERSION = "v25.0"
THROTTLING_CODES = {4, 17, 32, 613, 80001}
# Views and reach after the impressions metrics were retired (Nov 2025 – Jun 2026).
DEFAULT_POST_METRICS = ("post_media_view", "post_total_media_view_unique", "post_clicks")
POST_FIELDS = "id,message,created_time,permalink_url"


@register
class FacebookPage(Connector):
    kind = "facebook"
    label = "Facebook"
    capabilities = frozenset(
        {
            Capability.PUBLISH_TEXT,
            Capability.PUBLISH_LINK,
            Capability.PUBLISH_IMAGE,
            Capability.EDIT_POST,
            Capability.DELETE_POST,
            Capability.LIST_POSTS,
            Capability.POST_METRICS,
            Capability.CHANNEL_METRICS,
            Capability.LIST_COMMENTS,
            Capability.REPLY_COMMENT,
            Capability.HIDE_COMMENT,
            Capability.FETCH_MESSAGES,
            Capability.REPLY_MESSAGE,
            Capability.WEBHOOKS,
        }
    )
    default_api_base = "https://graph.facebook.com"
    limits = TextLimits(max_length=63206, max_images=10)
    required_scopes: ClassVar[tuple[str, ...]] = (
        "pages_manage_posts",
        "pages_read_engagement",
        "pages_manage_engagement",
        "pages_read_user_engagement",
        "pages_messaging",
        "pages_manage_metadata",
        "read_insights",
    )

    @property
    def version(self) -> str:
        return self.account.options.get("graph_version", GRAPH_VERSION)

    @property
    def page_id(self) -> str:
        return self.account.account_id

    def _url(self, path: str) -> str:
        return f"/{self.version}/{path.lstrip('/')}"

    def _auth(self) -> dict[str, str]:
        # In a header, not the query string: URLs end up in proxy and access logs.
        token = self.account.credentials.access_token
        return {"Authorization": f"Bearer {token}"} if token else {}

    def _get(self, path: str, **params: Any) -> Any:
        return self.json(self.request("GET", self._url(path), params=params, headers=self._auth()))

    def _post(self, path: str, *, idempotent: bool = False, **data: Any) -> Any:
        response = self.request(
            "POST", self._url(path), data=data, headers=self._auth(), idempotent=idempotent
        )
        return self.json(response)

    # -- errors and limits ---------------------------------------------------------------

    def classify(self, response: httpx.Response) -> PlatformError:
        try:
            error = response.json()["error"]
            code = int(error.get("code", 0))
            subcode = int(error.get("error_subcode") or 0)
            message = f"Facebook: {error.get('message', 'error')} (code {code})"
        except (ValueError, KeyError, TypeError, AttributeError):
            return super().classify(response)
        status = response.status_code
        if code == 190:
            if subcode == 463:
                return CredentialExpired(message, platform_code=code, status=status)
            return CredentialRevoked(message, platform_code=code, status=status)
        if code in THROTTLING_CODES:
            return RateLimited(
                message,
                retry_after=self._regain_seconds(response),
                platform_code=code,
                status=status,
            )
        if code == 10 or 200 <= code < 300:
            return PermissionMissing(message, platform_code=code, status=status)
        if code == 100 and subcode == 33:
            return NotFound(message, platform_code=code, status=status)
        if code == 506:
            return DuplicateContent(message, platform_code=code, status=status)
        if code in {1, 2} or status >= 500:
            return TransientError(message, platform_code=code, status=status)
        return ContentRejected(message, platform_code=code, status=status)

    @staticmethod
    def _usage_headers(response: httpx.Response) -> list[dict[str, Any]]:
        usages: list[dict[str, Any]] = []
        for name in ("x-app-usage", "x-page-usage"):
            if name in response.headers:
                try:
                    usages.append(json.loads(response.headers[name]))
                except ValueError:
                    continue
        if "x-business-use-case-usage" in response.headers:
            try:
                for entries in json.loads(response.headers["x-business-use-case-usage"]).values():
                    usages.extend(entries)
            except (ValueError, AttributeError):
                pass
        return usages

    def _regain_seconds(self, response: httpx.Response) -> float:
        minutes = [
            float(usage.get("estimated_time_to_regain_access") or 0)
            for usage in self._usage_headers(response)
        ]
        return max([60.0, *(m * 60 for m in minutes)])

    def observe_rate_limits(self, response: httpx.Response) -> None:
        for usage in self._usage_headers(response):
            if (
                max(
                    float(usage.get(key) or 0)
                    for key in ("call_count", "total_cputime", "total_time")
                )
                >= 100
            ):
                RateLimitState.block(self._rate_key, self._regain_seconds(response))

    # -- account ----------------------------------------------------------------------------

    def verify_credentials(self) -> AccountCheck:
        page = self._get("me", fields="id,name")
        extra = self.account.credentials.extra
        granted: tuple[str, ...] = self.account.credentials.scopes
        expires_at = None
        if extra.get("app_id") and extra.get("app_secret"):
            debug = self._get(
                "debug_token",
                input_token=self.account.credentials.access_token,
                access_token=f"{extra['app_id']}|{extra['app_secret']}",
            )
            data = self.require(debug, "data")
            granted = tuple(data.get("scopes", ()))
            if data.get("expires_at"):
                expires_at = epoch_to_datetime(data["expires_at"])
        return AccountCheck(
            identity=str(self.require(page, "id")),
            display_name=page.get("name", ""),
            granted_scopes=granted,
            # Without the app secret nothing says what was granted: report no gaps then.
            missing_scopes=tuple(s for s in self.required_scopes if granted and s not in granted),
            expires_at=expires_at,
        )

    # -- posts ------------------------------------------------------------------------------

    def publish(self, post: OutboundPost) -> PublishedPost:
        if post.image_urls:
            if len(post.image_urls) == 1:
                answer = self._post(
                    f"{self.page_id}/photos",
                    url=post.image_urls[0],
                    message=post.text,
                    published="true",
                )
                external_id = str(self.require(answer, "post_id"))
            else:
                media = []
                for url in post.image_urls:
                    # Unpublished uploads change nothing people see; safe to repeat.
                    photo = self._post(
                        f"{self.page_id}/photos", url=url, published="false", idempotent=True
                    )
                    media.append({"media_fbid": str(self.require(photo, "id"))})
                answer = self._post(
                    f"{self.page_id}/feed", message=post.text, attached_media=json.dumps(media)
                )
                external_id = str(self.require(answer, "id"))
        else:
            data: dict[str, Any] = {"message": post.text}
            if post.link:
                data["link"] = post.link
            external_id = str(self.require(self._post(f"{self.page_id}/feed", **data), "id"))
        return PublishedPost(
            external_id=external_id, url=self._permalink(external_id), text=post.text
        )

    def _permalink(self, external_id: str) -> str:
        # The post exists by now: no failure of this lookup may turn the call into an error
        # (a caller would retry it and post twice).
        try:
            return str(self._get(external_id, fields="permalink_url").get("permalink_url", ""))
        except PlatformError:
            return f"https://www.facebook.com/{external_id}"

    def edit_post(self, external_id: str, post: OutboundPost) -> PublishedPost:
        # Setting the same message twice leaves the same result: idempotent.
        self._post(external_id, message=post.text, idempotent=True)
        return PublishedPost(
            external_id=external_id, url=self._permalink(external_id), text=post.text
        )

    def delete_post(self, external_id: str) -> None:
        self.json(
            self.request("DELETE", self._url(external_id), headers=self._auth(), idempotent=True)
        )

    def list_posts(self, *, limit: int = 25) -> list[PublishedPost]:
        answer = self._get(f"{self.page_id}/posts", fields=POST_FIELDS, limit=limit)
        return [
            PublishedPost(
                external_id=str(item["id"]),
                url=item.get("permalink_url", ""),
                text=item.get("message", ""),
                created_at=iso_to_datetime(item["created_time"])
                if item.get("created_time")
                else None,
            )
            for item in self.require(answer, "data")
        ]

    def post_metrics(self, external_id: str) -> PostMetrics:
        counts = self._get(
            external_id,
            fields="shares,reactions.summary(total_count).limit(0),comments.summary(total_count).limit(0)",
        )
        metric_names = self.account.options.get("post_metrics", ",".join(DEFAULT_POST_METRICS))
        insights = self._get(f"{external_id}/insights", metric=metric_names, period="lifetime")
        raw: dict[str, Any] = {}
        for metric in self.require(insights, "data"):
            values = metric.get("values") or [{}]
            raw[metric["name"]] = values[-1].get("value")
        raw["reactions"] = counts.get("reactions", {}).get("summary", {}).get("total_count")
        raw["comments"] = counts.get("comments", {}).get("summary", {}).get("total_count")
        raw["shares"] = counts.get("shares", {}).get("count", 0)
        return PostMetrics(
            views=raw.get("post_media_view"),
            reach=raw.get("post_total_media_view_unique"),
            likes=raw["reactions"],
            comments=raw["comments"],
            shares=raw["shares"],
            clicks=raw.get("post_clicks"),
            raw=raw,
        )

    def channel_metrics(self) -> ChannelMetrics:
        page = self._get(self.page_id, fields="followers_count,fan_count")
        return ChannelMetrics(followers=page.get("followers_count"), raw=page)

    # -- comments and messages ------------------------------------------------------------

    def _comment(self, item: dict[str, Any], post_id: str) -> InboundItem:
        author = item.get("from") or {}
        parent = (item.get("parent") or {}).get("id", "")
        return InboundItem(
            kind=InboundKind.COMMENT,
            external_id=str(item["id"]),
            text=item.get("message", ""),
            author_id=str(author.get("id", "")),
            author_name=author.get("name", ""),
            created_at=iso_to_datetime(item["created_time"]) if item.get("created_time") else None,
            post_external_id=post_id,
            parent_external_id=parent,
            raw=item,
        )

    def list_comments(self, post_external_id: str) -> list[InboundItem]:
        answer = self._get(
            f"{post_external_id}/comments",
            fields="id,message,from,created_time,like_count,comment_count,parent",
            order="reverse_chronological",
            filter="stream",
        )
        return [self._comment(item, post_external_id) for item in self.require(answer, "data")]

    def reply_to_comment(self, comment: InboundItem, text: str) -> str:
        return str(self.require(self._post(f"{comment.external_id}/comments", message=text), "id"))

    def hide_comment(self, comment_external_id: str, *, hidden: bool = True) -> None:
        self._post(comment_external_id, is_hidden="true" if hidden else "false", idempotent=True)

    def fetch_messages(self, cursor: str = "") -> tuple[list[InboundItem], str]:
        answer = self._get(
            f"{self.page_id}/conversations",
            platform="messenger",
            fields="id,messages{id,message,from,created_time}",
        )
        items: list[InboundItem] = []
        newest = cursor
        for conversation in self.require(answer, "data"):
            for message in (conversation.get("messages") or {}).get("data", []):
                sender = message.get("from") or {}
                if str(sender.get("id")) == self.page_id:
                    continue  # our own replies
                created = message.get("created_time", "")
                # Strictly older only: the cursor's second may hold more messages than the
                # last poll saw. Those seen come again; storage recognises their ids.
                if cursor and created < cursor:
                    continue
                newest = max(newest, created)
                items.append(
                    InboundItem(
                        kind=InboundKind.MESSAGE,
                        external_id=str(message["id"]),
                        text=message.get("message", ""),
                        author_id=str(sender.get("id", "")),
                        author_name=sender.get("name", ""),
                        created_at=iso_to_datetime(created) if created else None,
                        conversation_id=str(conversation.get("id", "")),
                        raw=message,
                    )
                )
        return items, newest

    def reply_to_message(self, message: InboundItem, text: str) -> str:
        body = {
            "recipient": {"id": message.author_id},
            "messaging_type": "RESPONSE",
            "message": {"text": text},
        }
        response = self.request(
            "POST",
            self._url(f"{self.page_id}/messages"),
            headers=self._auth(),
            json=body,
            idempotent=False,
        )
        return str(self.require(self.json(response), "message_id"))

    # -- connecting by OAuth (Facebook Login) ----------------------------------------------
    # The admin grants the app the Page permissions, Sotong swaps the code for a user token,
    # and /me/accounts gives each Page with its own (non-expiring) Page token.

    oauth_login = True

    def oauth_authorize_url(self, app: OAuthApp, *, state: str, code_challenge: str) -> str:
        """The Facebook Login dialog asking for every permission Sotong uses. (Facebook
        Login for a confidential app takes no PKCE; the app secret protects the swap.)"""
        query = urlencode(
            {
                "client_id": app.client_id,
                "redirect_uri": app.redirect_uri,
                "state": state,
                "response_type": "code",
                "scope": ",".join(("pages_show_list", *self.required_scopes)),
            }
        )
        return self.endpoint(f"https://www.facebook.com/{self.version}/dialog/oauth?{query}")

    def oauth_accounts(
        self, app: OAuthApp, *, code: str, code_verifier: str
    ) -> list[ConnectableAccount]:
        """The Pages the signed-in admin manages, each with its Page token and the app's
        secrets (for webhook signatures) and a fresh webhook verify token."""
        self.sign_in_with_code(app, code)
        pages = self._get("me/accounts", fields="id,name,access_token")
        return [
            ConnectableAccount(
                account_id=str(page["id"]),
                name=page.get("name", ""),
                credentials=Credentials(
                    access_token=page["access_token"],
                    extra={
                        "app_id": app.client_id,
                        "app_secret": app.client_secret,
                        "verify_token": secrets.token_urlsafe(16),
                    },
                ),
            )
            for page in self.require(pages, "data")
        ]

    def sign_in_with_code(self, app: OAuthApp, code: str) -> None:
        """Swap an authorisation code for the admin's user token and act with it (the
        Instagram connector signs in the same way)."""
        answer = self._get(
            "oauth/access_token",
            client_id=app.client_id,
            client_secret=app.client_secret,
            redirect_uri=app.redirect_uri,
            code=code,
        )
        self.account.credentials.access_token = str(self.require(answer, "access_token"))

    # -- webhooks ---------------------------------------------------------------------------

    def register_webhook(self, url: str) -> None:
        """Subscribe the Page to the app's webhook (comments and messages). The address
        itself is the app's, set once in Meta's app dashboard for all the city's Pages."""
        self._post(
            f"{self.page_id}/subscribed_apps", subscribed_fields="feed,messages", idempotent=True
        )

    def webhook_handshake(self, request: WebhookRequest) -> WebhookResponse | None:
        if request.method != "GET" or "hub.mode" not in request.query:
            return None
        expected = self.account.credentials.extra.get("verify_token", "")
        if (
            request.query.get("hub.mode") == "subscribe"
            and expected
            and constant_time_equal(request.query.get("hub.verify_token", ""), expected)
        ):
            return WebhookResponse(200, request.query.get("hub.challenge", "").encode())
        return WebhookResponse(403, b"verify token mismatch")

    def verify_webhook(self, request: WebhookRequest) -> None:
        signature = request.header("x-hub-signature-256")
        if not signature:
            raise WebhookRejected("missing_signature", "no X-Hub-Signature-256")
        secret = self.account.credentials.extra.get("app_secret", "")
        expected = "sha256=" + hmac_sha256_hex(secret, request.body)
        if not secret or not constant_time_equal(signature, expected):
            raise WebhookRejected("bad_signature", "X-Hub-Signature-256 does not match")

    def parse_webhook(self, request: WebhookRequest) -> list[InboundItem]:
        payload = parse_json_body(request)
        if not isinstance(payload, dict) or payload.get("object") != "page":
            raise WebhookRejected("malformed", "not a page event")
        try:
            return self._parse_entries(payload.get("entry", []))
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            raise WebhookRejected("malformed", f"unexpected shape: {exc!r}") from exc

    def _parse_entries(self, entries: list[dict[str, Any]]) -> list[InboundItem]:
        # One app webhook serves every Page of the app: each entry names its Page, and
        # Sotong files the items under that Page's channel.
        items: list[InboundItem] = []
        for entry in entries:
            account_id = str(entry.get("id", ""))
            for change in entry.get("changes", []):
                value = change.get("value") or {}
                if (
                    change.get("field") != "feed"
                    or value.get("item") != "comment"
                    or value.get("verb") != "add"
                ):
                    continue
                author = value.get("from") or {}
                parent = str(value.get("parent_id", ""))
                post_id = str(value.get("post_id", ""))
                items.append(
                    InboundItem(
                        kind=InboundKind.COMMENT,
                        external_id=str(value["comment_id"]),
                        text=value.get("message", ""),
                        author_id=str(author.get("id", "")),
                        author_name=author.get("name", ""),
                        created_at=epoch_to_datetime(value["created_time"])
                        if value.get("created_time")
                        else None,
                        post_external_id=post_id,
                        parent_external_id="" if parent == post_id else parent,
                        raw=value,
                        account_id=account_id,
                    )
                )
            for event in entry.get("messaging", []):
                message = event.get("message") or {}
                if not message.get("mid") or message.get("is_echo"):
                    continue
                sender = str((event.get("sender") or {}).get("id", ""))
                items.append(
                    InboundItem(
                        kind=InboundKind.MESSAGE,
                        external_id=str(message["mid"]),
                        text=message.get("text", ""),
                        author_id=sender,
                        created_at=epoch_to_datetime(event["timestamp"] / 1000)
                        if event.get("timestamp")
                        else None,
                        conversation_id=sender,
                        raw=event,
                        account_id=account_id,
                    )
                )
        return items
