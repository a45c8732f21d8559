"""KakaoTalk channel connector (Kakao i Open Builder skill server + Event API).
Contract: shared/docs/platform-apis.md §1.

The 1:1 chat is a webhook: Kakao POSTs a v2 skill request to Sotong's skill URL and takes
the bot's answer from the HTTP response, within a 5 s SLA, and never re-sends. A
department's later answer goes out through the Event API (``KakaoAK`` REST API key, which
does not expire). Channel news (채널 소식) and friend counts have no API: staff publish by
hand and type the friend count in.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import uuid
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import httpx

from sotong.platforms.base import (
    AccountCheck,
    Capability,
    Connector,
    ContentRejected,
    CredentialRevoked,
    InboundItem,
    InboundKind,
    NotFound,
    PermissionMissing,
    PlatformError,
    RateLimited,
    TextLimits,
    TransientError,
    WebhookRejected,
    WebhookRequest,
    WebhookResponse,
    constant_time_equal,
    parse_json_body,
    register,
)

# -- skill responses ------------------------------------------------------------------------
# Small builders later code (smarter answers in the KakaoTalk chat) reuses. The limits are
# the doc's (text H, counts M): breaking them makes Kakao show the citizen an error.

SKILL_VERSION = "2.0"
ACK_TEXT = "문의가 접수되었습니다. 담당자가 확인 후 답변드리겠습니다."
SIMPLE_TEXT_MAX = 1000
MAX_OUTPUTS = 3
MAX_QUICK_REPLIES = 10
# Sotong's own header for the optional shared secret (Kakao signs nothing; the admin UI
# may let us add a header to skill requests, doc L).
SKILL_SECRET_HEADER = "X-Sotong-Skill-Secret"  # noqa: S105 - a header name
DEFAULT_EVENT_NAME = "sotong_reply"
# Any id works: only the key is checked. A 404 for it proves the key is good.
PROBE_TASK_ID = "sotong-credential-probe"
DEFAULT_RETRY_AFTER = 60.0


def simple_text(text: str) -> dict[str, Any]:
    """A ``simpleText`` output; text must be 1–1000 characters."""
    if not text or len(text) > SIMPLE_TEXT_MAX:
        raise ValueError(f"simpleText takes 1–{SIMPLE_TEXT_MAX} characters, not {len(text)}")
    return {"simpleText": {"text": text}}


def quick_reply(
    label: str,
    message_text: str = "",
    *,
    block_id: str = "",
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A quick reply button: sends ``message_text`` (default: the label), or jumps to a block."""
    if not label:
        raise ValueError("a quick reply needs a label")
    if block_id:
        return {"label": label, "action": "block", "blockId": block_id, "extra": dict(extra or {})}
    return {"label": label, "action": "message", "messageText": message_text or label}


def skill_response(
    outputs: Sequence[Mapping[str, Any]], quick_replies: Sequence[Mapping[str, Any]] = ()
) -> dict[str, Any]:
    """A v2 skill response with 1–3 outputs and at most 10 quick replies."""
    if not 1 <= len(outputs) <= MAX_OUTPUTS:
        raise ValueError(f"a skill response takes 1–{MAX_OUTPUTS} outputs, not {len(outputs)}")
    if len(quick_replies) > MAX_QUICK_REPLIES:
        raise ValueError(f"at most {MAX_QUICK_REPLIES} quick replies, not {len(quick_replies)}")
    template: dict[str, Any] = {"outputs": [dict(output) for output in outputs]}
    if quick_replies:
        template["quickReplies"] = [dict(reply) for reply in quick_replies]
    return {"version": SKILL_VERSION, "template": template}


def skill_webhook_response(body: Mapping[str, Any]) -> WebhookResponse:
    return WebhookResponse(
        200,
        json.dumps(body, ensure_ascii=False).encode(),
        content_type="application/json;charset=UTF-8",
    )


@register
class KakaoChannel(Connector):
    """``account_id`` is the Open Builder bot id; ``access_token`` the app's REST API key.
    Options: ``event_name`` (the Event API event set up in the admin, default
    ``sotong_reply``)."""

    kind = "kakao"
    identity_from_token = False
    label = "KakaoTalk"
    capabilities = frozenset(
        {Capability.WEBHOOKS, Capability.REPLY_MESSAGE, Capability.MANUAL_PUBLISH}
    )
    default_api_base = "https://bot-api.kakao.com"
    limits = TextLimits(max_length=SIMPLE_TEXT_MAX)
    required_scopes: ClassVar[tuple[str, ...]] = ()

    @property
    def bot_id(self) -> str:
        return self.account.account_id

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"KakaoAK {self.account.credentials.access_token}"}

    # -- errors ------------------------------------------------------------------------------

    def is_error_body(self, response: httpx.Response) -> bool:
        # The Event API may accept the HTTP call yet refuse the job: {"status": "FAIL"}.
        # (A task's status FAIL is a delivery report, not an error.)
        if (
            response.status_code != 200
            or not response.request.url.path.endswith("/talk")
            or "json" not in response.headers.get("content-type", "")
        ):
            return False
        try:
            body = response.json()
        except ValueError:
            return False
        return isinstance(body, dict) and body.get("status") == "FAIL"

    def classify(self, response: httpx.Response) -> PlatformError:
        status = response.status_code
        try:
            body = response.json()
            # Event API shape {"status":"FAIL","message"}; Kakao's common {"code","msg"}.
            detail = str(body.get("message") or body.get("msg") or "error")
            code = body.get("code", status)
        except (ValueError, AttributeError):
            return super().classify(response)
        message = f"KakaoTalk: {detail} (HTTP {status})"
        if status == 401:
            # REST API keys never expire: a refused key was revoked or regenerated.
            return CredentialRevoked(message, platform_code=code, status=status)
        if status == 403:
            return PermissionMissing(message, platform_code=code, status=status)
        if status == 404:
            return NotFound(message, platform_code=code, status=status)
        if status == 429:
            try:
                retry_after = float(response.headers.get("retry-after", ""))
            except ValueError:
                retry_after = float(
                    self.account.options.get("rate_limit_retry_after", DEFAULT_RETRY_AFTER)
                )
            return RateLimited(message, retry_after=retry_after, platform_code=code, status=status)
        if status >= 500:
            return TransientError(message, platform_code=code, status=status)
        return ContentRejected(message, platform_code=code, status=status)

    # -- account -----------------------------------------------------------------------------

    def verify_credentials(self) -> AccountCheck:
        """The Event API has no "who am I": ask for the status of a task that does not
        exist. A valid key gets 404 (or 200); a revoked one 401 → CredentialRevoked."""
        with contextlib.suppress(NotFound):
            self.request("GET", f"/v1/tasks/{PROBE_TASK_ID}", headers=self._auth(), idempotent=True)
        return AccountCheck(identity=self.bot_id)

    # -- messages ------------------------------------------------------------------------------

    def reply_to_message(self, message: InboundItem, text: str) -> str:
        """Send ``text`` to the citizen through the Event API; returns the task id. Each
        delivered message costs money and is not idempotent: never retried blindly."""
        if not text or len(text) > SIMPLE_TEXT_MAX:
            raise ContentRejected(f"KakaoTalk: text must be 1–{SIMPLE_TEXT_MAX} characters")
        body = {
            "event": {
                "name": self.account.options.get("event_name", DEFAULT_EVENT_NAME),
                "data": {"text": text},
            },
            "user": [{"type": "botUserKey", "id": message.author_id}],
        }
        response = self.request(
            "POST",
            f"/v2/bots/{self.bot_id}/talk",
            headers=self._auth(),
            json=body,
            idempotent=False,
        )
        return str(self.require(self.json(response), "taskId"))

    def task_status(self, task_id: str) -> dict[str, Any]:
        """Per-user delivery of an Event API job (``GET /v1/tasks/{taskId}``)."""
        answer = self.json(self.request("GET", f"/v1/tasks/{task_id}", headers=self._auth()))
        self.require(answer, "status")
        return dict(answer)

    # -- webhooks (skill requests) ----------------------------------------------------------------

    def verify_webhook(self, request: WebhookRequest) -> None:
        """The unguessable secret in the skill URL is the main protection (Kakao signs
        nothing). With ``skill_secret`` set, the request must also carry it in a header."""
        expected = self.account.credentials.extra.get("skill_secret", "")
        if not expected:
            return
        given = request.header(SKILL_SECRET_HEADER)
        if not given:
            raise WebhookRejected("missing_signature", f"no {SKILL_SECRET_HEADER}")
        if not constant_time_equal(given, expected):
            raise WebhookRejected("bad_signature", f"{SKILL_SECRET_HEADER} does not match")

    def parse_webhook(self, request: WebhookRequest) -> list[InboundItem]:
        """A v2 skill request → one MESSAGE from the citizen's botUserKey."""
        payload = parse_json_body(request)
        if not isinstance(payload, dict):
            raise WebhookRejected("malformed", "not a skill request")
        user_request = payload.get("userRequest")
        bot = payload.get("bot")
        if not isinstance(user_request, dict) or not isinstance(bot, dict):
            raise WebhookRejected("malformed", "no userRequest or bot")
        user = user_request.get("user")
        utterance = user_request.get("utterance")
        if (
            not isinstance(user, dict)
            or not isinstance(user.get("id"), str)
            or not user["id"]
            or not isinstance(utterance, str)
        ):
            raise WebhookRejected("malformed", "no userRequest.user.id or utterance")
        if str(bot.get("id", "")) != self.bot_id:
            raise WebhookRejected("unknown_account", f"bot {bot.get('id')}")
        user_key = user["id"]
        # Kakao sends no message id and never re-sends a skill request. A hash of the body
        # would merge two genuine messages: the body has no timestamp or request id, so a
        # citizen typing "네" twice sends identical bytes. So each request gets a fresh id;
        # the only "duplicate" this can create is an attacker replaying a request, and that
        # needs the secret skill URL.
        return [
            InboundItem(
                kind=InboundKind.MESSAGE,
                external_id=f"kakao-{uuid.uuid4().hex}",
                text=utterance,
                author_id=user_key,
                created_at=dt.datetime.now(tz=dt.UTC),
                conversation_id=user_key,
                raw=payload,
            )
        ]

    def webhook_ack(self, items: list[InboundItem]) -> WebhookResponse:
        """The answer the citizen sees at once (the 5 s SLA): a valid skill response."""
        return skill_webhook_response(skill_response([simple_text(ACK_TEXT)]))
