"""Simulated KakaoTalk channel chatbot (Kakao i Open Builder). Follows
shared/docs/platform-apis.md §1: the Event API (``POST /v2/bots/{botId}/talk``) and its
task status (``GET /v1/tasks/{taskId}``) as bot-api.kakao.com serves them, and simulated
citizens whose chat messages arrive at the city's skill URL as real v2 skill requests,
answered within the skill timeout (5 s SLA) or counted as failed.

Shapes marked M/L in the doc are attributes here (limits, task status fields).
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any, ClassVar

import httpx

from sotong.simulator.core import (
    DemoAccount,
    FaultKind,
    PlatformSimulator,
    Request,
    Response,
    WebhookTarget,
    json_response,
    route,
)

SKILL_SECRET_HEADER = "X-Sotong-Skill-Secret"  # noqa: S105 - a header name
DEFAULT_SKILL_TIMEOUT = 5.0  # seconds (H: the SLA)
DEFAULT_MAX_USERS = 100  # users per Event API call (M)
DEFAULT_TEXT_MAX = 1000  # simpleText / event text (M)
DEFAULT_RETRY_AFTER = 60  # seconds, in the 429's Retry-After (L)

DEMO_ACCOUNTS = (
    DemoAccount(
        "kakao",
        "순천시 카카오톡 채널",
        "64f1c2a9e0b7d31a2c5f8e01",
        "kakao-demo-suncheon-rest-api-key",
        "demo-hook-kakao-2026",
        {"skill_secret": "demo-skill-secret-kakao"},
        followers=10000,
    ),
)
# Channel news (채널 소식) the city posted by hand before Sotong: no API, shown in the view.
DEMO_HISTORY = (
    "[순천시] 2026 순천만국가정원 봄꽃축제 개막! 4월 한 달간 튤립과 유채꽃을 만나보세요 🌷",
    "[생활정보] 대형폐기물 배출, 이제 카카오톡으로 신청하세요. 채팅창에 '대형폐기물'을 입력하면 안내해 드립니다.",
    "[안내] 설 연휴 쓰레기 수거 일정이 변경됩니다. 2.16.(월)~2.18.(수) 수거 없음",
)


def event_answer(status: str, message: str, *, task_id: str = "") -> dict[str, Any]:
    return {
        "taskId": task_id or _task_id(),
        "status": status,
        "message": message,
        "timestamp": int(time.time() * 1000),
    }


def fail(message: str, status: int) -> Response:
    """The Event API's refusal: the documented reply with status FAIL."""
    return json_response(event_answer("FAIL", message), status)


def _task_id() -> str:
    return secrets.token_hex(12)


@dataclass
class Bot:
    id: str
    name: str
    rest_key: str
    event_names: set[str] = field(default_factory=lambda: {"sotong_reply"})
    # The Event API needs a wallet (each message costs 15 KRW + VAT).
    wallet: bool = True
    followers: int = 0
    news: list[str] = field(default_factory=list)
    # botUserKey → [{"from": "user"|"bot", "name", "text", "at", "ok", "reason"}]
    conversations: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)  # botUserKey → display name


class Platform(PlatformSimulator):
    name = "kakao"
    label = "KakaoTalk"

    def reset(self) -> None:
        self.bots: dict[str, Bot] = {}
        self.keys: dict[str, bool] = {}  # REST API key → revoked
        self.tasks: dict[str, dict[str, Any]] = {}
        self.skill_timeout = DEFAULT_SKILL_TIMEOUT
        self.max_users = DEFAULT_MAX_USERS
        self.text_max = DEFAULT_TEXT_MAX
        self.retry_after = DEFAULT_RETRY_AFTER
        # Every skill request sent: {"bot", "user", "status", "elapsed", "ok", "reason", "answer"}.
        self.skill_log: list[dict[str, Any]] = []

    # -- set-up for tests and the demo ------------------------------------------------------------

    def add_bot(
        self, bot_id: str, name: str, *, rest_key: str | None = None, followers: int = 0
    ) -> str:
        """A channel's bot with the app's REST API key; returns the key."""
        with self.lock:
            key = rest_key or secrets.token_hex(16)
            self.bots[bot_id] = Bot(bot_id, name, key, followers=followers)
            self.keys[key] = False
            return key

    def revoke_key(self, key: str) -> None:
        self.keys[key] = True

    def set_skill_url(self, bot_id: str, url: str, *, skill_secret: str = "") -> None:
        """Point the bot's fallback block skill at ``url`` (Sotong's webhook URL), with the
        custom header carrying ``skill_secret`` when one is set."""

        def sign(body: bytes) -> dict[str, str]:
            return {SKILL_SECRET_HEADER: skill_secret} if skill_secret else {}

        self.hub.set_webhook_target(self.name, bot_id, WebhookTarget(url, sign))

    def skill_payload(self, bot_id: str, user_key: str, text: str) -> dict[str, Any]:
        """A v2 skill request as Kakao sends it for a message in the 1:1 chat."""
        bot = self.bots[bot_id]
        block = {"id": "5f1a0c3e9d2b4a0001fallbk", "name": "폴백 블록"}
        return {
            "intent": {
                "id": block["id"],
                "name": block["name"],
                "extra": {"knowledge": {"matchedKnowledges": []}},
            },
            "userRequest": {
                "timezone": "Asia/Seoul",
                "lang": "kr",
                "utterance": text,
                "block": block,
                "params": {"surface": "Kakaotalk.plusfriend"},
                "user": {
                    "id": user_key,
                    "type": "botUserKey",
                    "properties": {"plusfriendUserKey": f"pf{user_key[:12]}", "isFriend": True},
                },
            },
            "bot": {"id": bot.id, "name": bot.name},
            "action": {
                "id": "64f1c2a9e0b7d31a2c5f9a10",
                "name": "소통 스킬",
                "params": {},
                "detailParams": {},
                "clientExtra": {},
            },
            "contexts": [],
        }

    # -- citizens acting -----------------------------------------------------------------------

    def citizen_message(
        self, bot_id: str, user_key: str, text: str, *, name: str = ""
    ) -> dict[str, Any]:
        """A citizen types ``text`` in the 1:1 chat: Kakao POSTs a skill request to the
        bot's skill URL once (no retries) and shows the answer, or an error when it comes
        later than ``skill_timeout`` or is not a valid skill response."""
        with self.lock:
            bot = self.bots[bot_id]
            bot.names.setdefault(user_key, name or f"카카오사용자{user_key[-4:]}")
            conversation = bot.conversations.setdefault(user_key, [])
            conversation.append(
                {"from": "user", "text": text, "at": time.time(), "ok": True, "reason": ""}
            )
            payload = self.skill_payload(bot_id, user_key, text)
            target = self.hub.webhook_targets.get((self.name, bot_id))
            timeout = self.skill_timeout
        entry = self._send_skill_request(target, payload, timeout)
        entry.update(bot=bot_id, user=user_key)
        with self.lock:
            self.skill_log.append(entry)
            conversation.append(
                {
                    "from": "bot",
                    "text": "\n".join(entry["answer"])
                    if entry["ok"]
                    else "일시적인 오류로 응답하지 못했어요. 잠시 후 다시 시도해 주세요.",
                    "at": time.time(),
                    "ok": entry["ok"],
                    "reason": entry["reason"],
                }
            )
        self.hub.webhook_log.append(
            {
                "platform": self.name,
                "account": bot_id,
                "status": entry["status"],
                "attempt": 1,
                "at": time.time(),
                "ok": entry["ok"],
                "elapsed": entry["elapsed"],
            }
        )
        return entry

    def _send_skill_request(
        self, target: WebhookTarget | None, payload: dict[str, Any], timeout: float
    ) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "status": None,
            "elapsed": 0.0,
            "ok": False,
            "reason": "",
            "answer": [],
        }
        if target is None:
            entry["reason"] = "no_skill_url"
            return entry
        body = json.dumps(payload, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json;charset=UTF-8", **target.sign(body)}
        started = time.monotonic()
        try:
            response = httpx.post(target.url, content=body, headers=headers, timeout=timeout)
        except httpx.TimeoutException:
            entry.update(elapsed=time.monotonic() - started, reason="timeout")
            return entry
        except httpx.HTTPError as exc:
            entry.update(elapsed=time.monotonic() - started, reason=type(exc).__name__)
            return entry
        elapsed = time.monotonic() - started
        entry.update(status=response.status_code, elapsed=elapsed)
        if elapsed > timeout:
            entry["reason"] = "timeout"
        elif response.status_code != 200:
            entry["reason"] = f"http_{response.status_code}"
        else:
            answer = skill_answer_texts(response.content)
            if answer is None:
                entry["reason"] = "invalid_response"
            else:
                entry.update(ok=True, answer=answer)
        return entry

    # -- errors ----------------------------------------------------------------------------------

    def fault_response(self, kind: FaultKind) -> Response:
        if kind is FaultKind.RATE_LIMITED:
            response = fail("too many requests", 429)
            response.headers["Retry-After"] = str(self.retry_after)
            return response
        if kind in {FaultKind.TOKEN_EXPIRED, FaultKind.TOKEN_REVOKED}:
            # REST API keys do not expire; both faults look like a key that is no longer valid.
            return fail("invalid rest api key", 401)
        if kind is FaultKind.MALFORMED:
            return Response(200, "<html><body>bad gateway</body></html>", content_type="text/html")
        return fail("internal server error", 500)

    def not_found(self, request: Request) -> Response:
        return fail(f"no such resource: {request.path}", 404)

    def bad_request(self, message: str) -> Response:
        return fail(message, 400)

    def _authorise(self, request: Request) -> str | Response:
        value = request.header("authorization")
        if not value.startswith("KakaoAK "):
            return fail("authorization header is missing or not KakaoAK", 401)
        key = value[len("KakaoAK ") :].strip()
        if key not in self.keys or self.keys[key]:
            return fail("invalid rest api key", 401)
        return key

    # -- the Event API -------------------------------------------------------------------------------

    @route("POST", r"/v2/bots/(?P<bot_id>[^/]+)/talk")
    def talk(self, request: Request) -> Response:
        key = self._authorise(request)
        if isinstance(key, Response):
            return key
        bot = self.bots.get(request.params["bot_id"])
        if bot is None:
            return fail(f"bot {request.params['bot_id']} not found", 404)
        if bot.rest_key != key:
            return fail("this app may not send events for this bot", 403)
        if not bot.wallet:
            return fail("event api is not available: no wallet registered for this bot", 403)
        body = request.json()
        event = body.get("event") or {}
        users = body.get("user")
        if event.get("name") not in bot.event_names:
            return fail(f"unknown event name: {event.get('name')}", 400)
        if not isinstance(users, list) or not users:
            return fail("user is required", 400)
        if len(users) > self.max_users:
            return fail(f"too many users: at most {self.max_users}", 400)
        ids = [(user.get("type"), user.get("id")) for user in users]
        if len(set(ids)) != len(ids):
            return fail("duplicated user", 400)
        if any(kind not in {"botUserKey", "plusfriendUserKey", "appUserId"} for kind, _ in ids):
            return fail("invalid user type", 400)
        text = str((event.get("data") or {}).get("text", ""))
        if len(text) > self.text_max:
            return fail(f"text is too long: at most {self.text_max}", 400)
        task_id = _task_id()
        failed = []
        for kind, user_id in ids:
            conversation = bot.conversations.get(user_id) if kind == "botUserKey" else None
            if conversation is None:
                failed.append({"user": user_id, "errorMessage": "user not found"})
                continue
            conversation.append(
                {"from": "bot", "text": text, "at": time.time(), "ok": True, "reason": "event"}
            )
        success = len(ids) - len(failed)
        self.tasks[task_id] = {
            "taskId": task_id,
            "status": "ALL_SUCCESS"
            if not failed
            else ("FAIL" if not success else "PARTIAL_SUCCESS"),
            "allRequestCount": len(ids),
            "successCount": success,
            "fail": {"count": len(failed), "list": failed},
            "timestamp": int(time.time() * 1000),
        }
        return json_response(event_answer("SUCCESS", "event accepted", task_id=task_id))

    @route("GET", r"/v1/tasks/(?P<task_id>[^/]+)")
    def task(self, request: Request) -> Response:
        key = self._authorise(request)
        if isinstance(key, Response):
            return key
        task = self.tasks.get(request.params["task_id"])
        if task is None:
            return fail(f"task {request.params['task_id']} not found", 404)
        return json_response(task)

    # -- synthetic citizens and the demo world ------------------------------------------------

    # Channel news has no comments through any API: citizens only write in the 1:1 chat.
    crowd_weights: ClassVar[dict[str, float]] = {}

    def crowd_message_accounts(self) -> list[str]:
        return list(self.bots)

    def crowd_message(self, account: str, author_id: str, author_name: str, text: str) -> None:
        # botUserKeys are opaque per-bot keys, not the citizen's numeric id.
        self.citizen_message(account, f"bk{author_id}", text, name=author_name)

    def populate_demo(self, account: DemoAccount, webhook_url: str) -> None:
        self.add_bot(
            account.account_id, account.name, rest_key=account.token, followers=account.followers
        )
        self.bots[account.account_id].news.extend(DEMO_HISTORY)
        self.set_skill_url(
            account.account_id, webhook_url, skill_secret=account.extra.get("skill_secret", "")
        )

    def timeline(self) -> list[dict[str, Any]]:
        accounts = []
        for bot in self.bots.values():
            posts: list[dict[str, Any]] = [
                {"id": f"소식 {number}", "text": text, "comments": []}
                for number, text in enumerate(reversed(bot.news), start=1)
            ]
            for user_key, messages in bot.conversations.items():
                name = bot.names.get(user_key, user_key)
                posts.append(
                    {
                        "id": f"1:1 채팅 {user_key}",
                        "text": f"{name} 님과의 1:1 채팅",
                        "comments": [
                            {
                                "author": name
                                if message["from"] == "user"
                                else (
                                    "챗봇" if message["ok"] else f"챗봇 (실패: {message['reason']})"
                                ),
                                "text": message["text"],
                            }
                            for message in messages
                        ],
                    }
                )
            accounts.append({"account": f"{bot.name} (친구 {bot.followers:,}명)", "posts": posts})
        return accounts


def skill_answer_texts(content: bytes) -> list[str] | None:
    """The texts a valid v2 skill response shows, or None when Kakao would show an error."""
    try:
        body = json.loads(content)
    except ValueError:
        return None
    if not isinstance(body, dict) or body.get("version") != "2.0":
        return None
    outputs = (body.get("template") or {}).get("outputs")
    if not isinstance(outputs, list) or not 1 <= len(outputs) <= 3:
        return None
    if len((body.get("template") or {}).get("quickReplies") or []) > 10:
        return None
    texts = []
    for output in outputs:
        if not isinstance(output, dict):
            return None
        if "simpleText" in output:
            text = (output["simpleText"] or {}).get("text")
            if not isinstance(text, str) or not 0 < len(text) <= DEFAULT_TEXT_MAX:
                return None
            texts.append(text)
        else:
            texts.append(f"[{next(iter(output), '?')}]")
    return texts
