"""Instagram connector: Instagram API with Facebook Login, on graph.facebook.com.
Contract: shared/docs/platform-apis.md §4.

The account is the city's professional Instagram account linked to its Facebook Page; it
acts with the Page token, so errors, rate-limit headers and webhook signatures are
Facebook's, and this connector builds on ``FacebookPage`` for them.

Publishing is two-step: a media container (harmless: nobody sees it, it expires after 24 h)
and ``media_publish``, which is not idempotent.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import replace
from typing import Any, ClassVar
from urllib.parse import urlencode

import httpx

from sotong.platforms.base import (
    AccountCheck,
    Capability,
    ChannelMetrics,
    ConnectableAccount,
    ContentRejected,
    Credentials,
    InboundItem,
    InboundKind,
    MalformedResponse,
    OAuthApp,
    OutboundPost,
    PlatformError,
    PostMetrics,
    PublishedPost,
    RateLimited,
    TextLimits,
    TransientError,
    Unsupported,
    WebhookRejected,
    WebhookRequest,
    epoch_to_datetime,
    iso_to_datetime,
    parse_json_body,
    register,
)
from sotong.platforms.facebook import FacebookPage

DEFAULT_POST_METRICS = (
    "views",
    "reach",
    "likes",
    "comments",
    "shares",
    "saved",
    "total_interactions",
)
MEDIA_FIELDS = "id,caption,media_type,media_url,permalink,timestamp,like_count,comments_count"
COMMENT_FIELDS = (
    "id,text,timestamp,username,from,like_count,replies{id,text,timestamp,username,from}"
)
MAX_CAROUSEL = 10
# Content publishing errors (code 9, subcode 2207042: the 24 h publishing quota is used up).
PUBLISH_QUOTA_CODE = 9
# How long to wait when the quota is used up and Graph does not say; the window is rolling.
DEFAULT_QUOTA_RETRY_SECONDS = 3600.0


@register
class Instagram(FacebookPage):
    kind = "instagram"
    label = "Instagram"
    capabilities = frozenset(
        {
            Capability.PUBLISH_IMAGE,
            Capability.LIST_POSTS,
            Capability.POST_METRICS,
            Capability.CHANNEL_METRICS,
            Capability.LIST_COMMENTS,
            Capability.REPLY_COMMENT,
            Capability.HIDE_COMMENT,
            Capability.REPLY_MESSAGE,
            Capability.WEBHOOKS,
        }
    )
    default_api_base = "https://graph.facebook.com"
    limits = TextLimits(
        max_length=2200, image_required=True, max_images=MAX_CAROUSEL, max_hashtags=30
    )
    required_scopes: ClassVar[tuple[str, ...]] = (
        "instagram_basic",
        "instagram_content_publish",
        "instagram_manage_comments",
        "instagram_manage_insights",
        "instagram_manage_messages",
        "pages_show_list",
        "pages_read_engagement",
        "pages_manage_metadata",
    )
    oauth_login = True

    @property
    def ig_user_id(self) -> str:
        return self.account.account_id

    def _option_float(self, name: str, default: float) -> float:
        try:
            return float(self.account.options.get(name, default))
        except ValueError:
            return default

    # -- errors ---------------------------------------------------------------------------

    def classify(self, response: httpx.Response) -> PlatformError:
        error = super().classify(response)
        if error.platform_code == PUBLISH_QUOTA_CODE:
            return RateLimited(
                error.message.replace("Facebook:", "Instagram:", 1),
                retry_after=self._option_float("quota_retry_after", DEFAULT_QUOTA_RETRY_SECONDS),
                platform_code=error.platform_code,
                status=error.status,
            )
        error.message = error.message.replace("Facebook:", "Instagram:", 1)
        error.args = (error.message,)
        return error

    # -- account --------------------------------------------------------------------------

    def verify_credentials(self) -> AccountCheck:
        """The Page token's validity and scopes (as for Facebook), and the linked
        Instagram account's id and @username."""
        page_check = super().verify_credentials()
        user = self._get(self.ig_user_id, fields="id,username,name")
        return replace(
            page_check,
            identity=str(self.require(user, "id")),
            display_name=str(user.get("username") or user.get("name") or ""),
        )

    def channel_metrics(self) -> ChannelMetrics:
        user = self._get(self.ig_user_id, fields="followers_count,media_count")
        return ChannelMetrics(followers=user.get("followers_count"), raw=user)

    # -- publishing -------------------------------------------------------------------------

    def publish(self, post: OutboundPost) -> PublishedPost:
        """Container(s), wait until FINISHED, then one ``media_publish``. Only the last step
        shows anything to people, so only it may end in OutcomeUnknown."""
        if not post.image_urls:
            raise ContentRejected("Instagram: a post needs at least one image")
        if len(post.image_urls) > MAX_CAROUSEL:
            raise ContentRejected(f"Instagram: at most {MAX_CAROUSEL} images in a carousel")
        self._check_publishing_quota()
        caption = self._caption(post)
        if len(post.image_urls) == 1:
            container = self._container(image_url=post.image_urls[0], caption=caption)
        else:
            children = [
                self._container(image_url=url, is_carousel_item="true") for url in post.image_urls
            ]
            container = self._container(
                media_type="CAROUSEL", children=",".join(children), caption=caption
            )
        self._wait_until_finished(container)
        answer = self._post(f"{self.ig_user_id}/media_publish", creation_id=container)
        media_id = str(self.require(answer, "id"))
        return PublishedPost(external_id=media_id, url=self._permalink(media_id), text=caption)

    @staticmethod
    def _caption(post: OutboundPost) -> str:
        # Links in captions are not clickable, but people can still copy them.
        return f"{post.text}\n{post.link}" if post.link else post.text

    def find_published(self, post: OutboundPost, *, limit: int = 25) -> PublishedPost | None:
        """After an unknown outcome of ``media_publish``: our recent media with this caption."""
        return super().find_published(replace(post, text=self._caption(post)), limit=limit)

    def _check_publishing_quota(self) -> None:
        answer = self._get(
            f"{self.ig_user_id}/content_publishing_limit", fields="quota_usage,config"
        )
        data = self.require(answer, "data")
        if not data:
            return
        usage = data[0].get("quota_usage") or 0
        config = data[0].get("config") or {}
        total = config.get("quota_total")
        if total is not None and usage >= total:
            # Not remembered as an account-wide block: reading and replying still work.
            raise RateLimited(
                f"Instagram: {usage} of {total} posts published in the last 24 h",
                retry_after=self._option_float("quota_retry_after", DEFAULT_QUOTA_RETRY_SECONDS),
                platform_code="content_publishing_limit",
            )

    def _container(self, **fields: str) -> str:
        # Creating a container changes nothing people see; safe to repeat.
        answer = self._post(f"{self.ig_user_id}/media", idempotent=True, **fields)
        return str(self.require(answer, "id"))

    def _wait_until_finished(self, container_id: str) -> None:
        attempts = int(self._option_float("container_poll_attempts", 10))
        interval = self._option_float("container_poll_interval", 1.0)
        for attempt in range(attempts):
            answer = self._get(container_id, fields="status_code,status")
            status = self.require(answer, "status_code")
            if status == "FINISHED":
                return
            if status == "ERROR":
                raise ContentRejected(f"Instagram: media refused ({answer.get('status', '')})")
            if status == "EXPIRED":
                raise TransientError("Instagram: the media container expired; publish again")
            if status == "PUBLISHED":
                raise MalformedResponse("Instagram: the container was already published")
            if attempt + 1 < attempts:
                time.sleep(interval)
        # Nothing was published yet, so trying again later is safe.
        raise TransientError("Instagram: the media is still being processed; try again later")

    def _permalink(self, external_id: str) -> str:
        # Published already: a failed lookup leaves the link empty, never fails the call.
        try:
            return str(self._get(external_id, fields="permalink").get("permalink", ""))
        except PlatformError:
            return ""

    def edit_post(self, external_id: str, post: OutboundPost) -> PublishedPost:
        raise self._unsupported(Capability.EDIT_POST)

    def delete_post(self, external_id: str) -> None:
        raise self._unsupported(Capability.DELETE_POST)

    def list_posts(self, *, limit: int = 25) -> list[PublishedPost]:
        answer = self._get(f"{self.ig_user_id}/media", fields=MEDIA_FIELDS, limit=limit)
        return [
            PublishedPost(
                external_id=str(item["id"]),
                url=item.get("permalink", ""),
                text=item.get("caption", ""),
                created_at=iso_to_datetime(item["timestamp"]) if item.get("timestamp") else None,
            )
            for item in self.require(answer, "data")
        ]

    def post_metrics(self, external_id: str) -> PostMetrics:
        metric_names = self.account.options.get("post_metrics", ",".join(DEFAULT_POST_METRICS))
        insights = self._get(f"{external_id}/insights", metric=metric_names)
        raw: dict[str, Any] = {}
        for metric in self.require(insights, "data"):
            values = metric.get("values") or [{}]
            raw[metric["name"]] = values[-1].get("value")
        return PostMetrics(
            views=raw.get("views"),
            reach=raw.get("reach"),
            likes=raw.get("likes"),
            comments=raw.get("comments"),
            shares=raw.get("shares"),
            raw=raw,
        )

    # -- comments and messages --------------------------------------------------------------

    def _comment(self, item: dict[str, Any], post_id: str, parent_id: str = "") -> InboundItem:
        author = item.get("from") or {}
        username = author.get("username") or item.get("username", "")
        return InboundItem(
            kind=InboundKind.COMMENT,
            external_id=str(item["id"]),
            text=item.get("text", ""),
            author_id=str(author.get("id") or username),
            author_name=username,
            created_at=iso_to_datetime(item["timestamp"]) if item.get("timestamp") else None,
            post_external_id=post_id,
            parent_external_id=parent_id,
            raw=item,
        )

    def list_comments(self, post_external_id: str) -> list[InboundItem]:
        answer = self._get(f"{post_external_id}/comments", fields=COMMENT_FIELDS)
        items: list[InboundItem] = []
        for item in self.require(answer, "data"):
            items.append(self._comment(item, post_external_id))
            for reply in (item.get("replies") or {}).get("data", []):
                items.append(self._comment(reply, post_external_id, str(item["id"])))
        return items

    def reply_to_comment(self, comment: InboundItem, text: str) -> str:
        # Instagram threads one level deep: a reply to a reply goes under the top comment.
        target = comment.parent_external_id or comment.external_id
        return str(self.require(self._post(f"{target}/replies", message=text), "id"))

    def hide_comment(self, comment_external_id: str, *, hidden: bool = True) -> None:
        self._post(comment_external_id, hide="true" if hidden else "false", idempotent=True)

    def fetch_messages(self, cursor: str = "") -> tuple[list[InboundItem], str]:
        # Direct messages arrive by webhook only (Capability.FETCH_MESSAGES not claimed).
        raise self._unsupported(Capability.FETCH_MESSAGES)

    @property
    def messaging_id(self) -> str:
        """Who sends DMs: with Facebook Login the linked Page (``/{page-id}/messages``);
        the Instagram user only where no Page id is known (Instagram Login's form)."""
        return self.account.credentials.extra.get("page_id") or self.ig_user_id

    def reply_to_message(self, message: InboundItem, text: str) -> str:
        body = {"recipient": {"id": message.author_id}, "message": {"text": text}}
        response = self.request(
            "POST",
            self._url(f"{self.messaging_id}/messages"),
            headers=self._auth(),
            json=body,
            idempotent=False,
        )
        return str(self.require(self.json(response), "message_id"))

    # -- webhooks -------------------------------------------------------------------------
    # The handshake and X-Hub-Signature-256 check are Facebook's (inherited).

    def parse_webhook(self, request: WebhookRequest) -> list[InboundItem]:
        payload = parse_json_body(request)
        if not isinstance(payload, dict) or payload.get("object") != "instagram":
            raise WebhookRejected("malformed", "not an instagram event")
        try:
            return self._parse_entries(payload.get("entry", []))
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            raise WebhookRejected("malformed", f"unexpected shape: {exc!r}") from exc

    def _parse_entries(self, entries: list[dict[str, Any]]) -> list[InboundItem]:
        # Messages (Messenger-style ``messaging[]``) are parsed as Facebook's.
        items = super()._parse_entries(entries)
        for entry in entries:
            for change in entry.get("changes", []):
                if change.get("field") != "comments":
                    continue
                value = change["value"]
                author = value.get("from") or {}
                created = entry.get("time")
                items.append(
                    InboundItem(
                        kind=InboundKind.COMMENT,
                        external_id=str(value["id"]),
                        text=value.get("text", ""),
                        author_id=str(author.get("id", "")),
                        author_name=author.get("username", ""),
                        created_at=epoch_to_datetime(created) if created else None,
                        post_external_id=str((value.get("media") or {}).get("id", "")),
                        parent_external_id=str(value.get("parent_id", "")),
                        raw=value,
                        account_id=str(entry.get("id", "")),
                    )
                )
        return items

    def register_webhook(self, url: str) -> None:
        # Instagram's webhook fields are subscribed for the whole app in Meta's dashboard.
        raise Unsupported(f"{self.label}: the webhook is set in Meta's app dashboard")

    # -- connecting by OAuth (Facebook Login) ----------------------------------------------

    def oauth_authorize_url(self, app: OAuthApp, *, state: str, code_challenge: str) -> str:
        """The Facebook Login dialog asking for the Instagram and Page permissions."""
        query = urlencode(
            {
                "client_id": app.client_id,
                "redirect_uri": app.redirect_uri,
                "state": state,
                "response_type": "code",
                "scope": ",".join(self.required_scopes),
            }
        )
        dialog = self.endpoint(f"https://www.facebook.com/{self.version}/dialog/oauth")
        return f"{dialog}?{query}"

    def oauth_accounts(
        self, app: OAuthApp, *, code: str, code_verifier: str
    ) -> list[ConnectableAccount]:
        """Swap the code for a user token, then list the Pages with a linked Instagram
        professional account: one connectable account each, acting with the Page token."""
        token = self.json(
            self.request(
                "GET",
                self._url("oauth/access_token"),
                params={
                    "client_id": app.client_id,
                    "client_secret": app.client_secret,
                    "redirect_uri": app.redirect_uri,
                    "code": code,
                },
            )
        )
        user_token = str(self.require(token, "access_token"))
        pages = self.json(
            self.request(
                "GET",
                self._url("me/accounts"),
                params={"fields": "id,name,access_token,instagram_business_account{id,username}"},
                headers={"Authorization": f"Bearer {user_token}"},
            )
        )
        accounts: list[ConnectableAccount] = []
        for page in self.require(pages, "data"):
            linked = page.get("instagram_business_account")
            if not linked or not page.get("access_token"):
                continue
            username = linked.get("username", "")
            accounts.append(
                ConnectableAccount(
                    account_id=str(linked["id"]),
                    name=f"@{username}" if username else page.get("name", ""),
                    credentials=Credentials(
                        access_token=str(page["access_token"]),
                        extra={
                            "app_id": app.client_id,
                            "app_secret": app.client_secret,
                            "verify_token": secrets.token_urlsafe(16),
                            # DM replies go out as the Page (Facebook Login).
                            "page_id": str(page["id"]),
                        },
                    ),
                )
            )
        return accounts
