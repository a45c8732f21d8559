"""The platform simulator's machinery: requests and responses, routing, faults, the request
log, outgoing webhooks, and the threaded HTTP server. Platform behaviour lives in one module
per platform (simulator/facebook.py, …), mirroring sotong/platforms/.

No Django here: the simulator runs on its own, in tests, in `sotong simulate` and in the demo.
"""

from __future__ import annotations

import email.parser
import email.policy
import itertools
import json
import logging
import random
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from socketserver import ThreadingMixIn
from typing import Any, ClassVar
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import httpx

logger = logging.getLogger(__name__)


@dataclass
class Request:
    method: str
    path: str  # below the platform prefix, e.g. "/v25.0/123/feed"
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    body: bytes
    params: dict[str, str] = field(default_factory=dict)  # from the route pattern
    # Headers the platform adds to its answer (the caller's rate-limit budget): see answer().
    answer_headers: dict[str, str] = field(default_factory=dict)

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")

    @property
    def form(self) -> dict[str, list[str]]:
        if "application/x-www-form-urlencoded" in self.header("content-type"):
            return parse_qs(self.body.decode("utf-8", "replace"), keep_blank_values=True)
        return {}

    def json(self) -> Any:
        if not self.body:
            return {}
        return json.loads(self.body)

    def arg(self, name: str, default: str | None = None) -> str | None:
        """A parameter from the query string, a form body or a JSON body, as platforms
        accept all three."""
        for source in (self.query, self.form):
            if name in source:
                return source[name][0]
        if "json" in self.header("content-type"):
            try:
                data = self.json()
            except ValueError:
                return default
            if isinstance(data, dict) and name in data:
                value = data[name]
                return value if isinstance(value, str) else json.dumps(value)
        return default

    def bearer_token(self) -> str:
        value = self.header("authorization")
        return value[7:].strip() if value.lower().startswith("bearer ") else ""

    def multipart(self) -> dict[str, tuple[bytes, str]]:
        """Fields of a multipart/form-data body: name → (bytes, content type)."""
        content_type = self.header("content-type")
        if "multipart/form-data" not in content_type:
            return {}
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            f"Content-Type: {content_type}\r\n\r\n".encode() + self.body
        )
        fields: dict[str, tuple[bytes, str]] = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            if isinstance(name, str):
                payload = part.get_payload(decode=True)
                fields[name] = (
                    payload if isinstance(payload, bytes) else b"",
                    part.get_content_type(),
                )
        return fields


@dataclass
class Response:
    status: int = 200
    body: Any = None  # dict/list → JSON; str/bytes as they are
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json; charset=utf-8"
    # Hold the answer this long after processing (the "timeout after processing" fault).
    delay_after: float = 0.0

    def encode(self) -> bytes:
        if self.body is None:
            return b""
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode()
        return json.dumps(self.body, ensure_ascii=False).encode()


def json_response(body: Any, status: int = 200, **headers: str) -> Response:
    return Response(status=status, body=body, headers=dict(headers))


@dataclass(frozen=True)
class Allowance:
    """One call measured against a rate limit: whether it may go ahead, the calls then
    left in the window, and when (epoch seconds) the window's oldest call leaves it."""

    allowed: bool
    remaining: int
    reset: float


@dataclass
class RateWindow:
    """A sliding-window rate limit: the times of each key's calls in the last ``seconds``."""

    seconds: float
    calls: dict[Hashable, list[float]] = field(default_factory=dict)

    def take(self, key: Hashable, limit: int) -> Allowance:
        """Count a call for ``key``, unless ``limit`` calls are already in the window."""
        now = time.time()
        window = [t for t in self.calls.get(key, []) if t > now - self.seconds]
        reset = (window[0] if window else now) + self.seconds
        if len(window) >= limit:
            return Allowance(False, 0, reset)
        window.append(now)
        self.calls[key] = window
        return Allowance(True, limit - len(window), reset)


class FaultKind(StrEnum):
    SERVER_ERROR = "server_error"
    RATE_LIMITED = "rate_limited"
    TOKEN_EXPIRED = "token_expired"  # noqa: S105 - a fault's name, not a secret
    TOKEN_REVOKED = "token_revoked"  # noqa: S105
    MALFORMED = "malformed"
    # Process the request (state changes), then answer too late: the duplicate maker.
    TIMEOUT_AFTER_PROCESSING = "timeout_after_processing"
    # Answer too late without processing.
    TIMEOUT = "timeout"


@dataclass
class Fault:
    kind: FaultKind
    # Either the next ``count`` matching requests, or each with ``probability``.
    count: int | None = 1
    probability: float = 1.0
    methods: frozenset[str] = frozenset()
    path_pattern: str = ""
    delay: float = 3.0  # seconds, for the timeout kinds

    def matches(self, request: Request) -> bool:
        if self.methods and request.method not in self.methods:
            return False
        return not self.path_pattern or re.search(self.path_pattern, request.path) is not None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Fault:
        return cls(
            kind=FaultKind(data["kind"]),
            count=data.get("count", 1),
            probability=float(data.get("probability", 1.0)),
            methods=frozenset(method.upper() for method in data.get("methods", ())),
            path_pattern=data.get("path_pattern", ""),
            delay=float(data.get("delay", 3.0)),
        )


@dataclass
class Latency:
    """Added to every answer of a platform: uniform between the two bounds, in seconds."""

    low: float = 0.0
    high: float = 0.0


@dataclass
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Callable[..., Response]


@dataclass(frozen=True)
class RecordedRequest:
    platform: str
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    status: int
    at: float


class PlatformSimulator:
    """One platform's simulated API. Subclasses register routes with ``@route`` and render
    the platform's own error shapes in ``fault_response``."""

    name: str = ""
    label: str = ""

    def __init__(self, hub: Simulator) -> None:
        self.hub = hub
        self.lock = threading.RLock()
        self.routes: list[Route] = []
        self._ids = itertools.count(1)
        for attribute in dir(type(self)):
            handler = getattr(self, attribute)
            spec = getattr(handler, "_route", None)
            if spec:
                method, pattern = spec
                self.routes.append(Route(method, re.compile(f"^{pattern}$"), handler))
        self.reset()

    def reset(self) -> None:
        """Forget all state (tests call this through the hub)."""

    def next_id(self) -> int:
        return next(self._ids)

    def fault_response(self, kind: FaultKind) -> Response:
        """The platform's own answer for an injected fault."""
        raise NotImplementedError(f"{self.name} must render fault {kind}")

    def not_found(self, request: Request) -> Response:
        return json_response({"error": "not found"}, 404)

    def bad_request(self, message: str) -> Response:
        """The platform's answer to a request it cannot read."""
        return json_response({"error": message}, 400)

    def answer(self, request: Request, body: Any, status: int = 200) -> Response:
        """A JSON answer with the headers gathered for ``request`` (``answer_headers``)."""
        return json_response(body, status, **request.answer_headers)

    def dispatch(self, request: Request) -> Response:
        allowed = False
        for route in self.routes:
            match = route.pattern.match(request.path)
            if match is None:
                continue
            allowed = True
            if route.method != request.method:
                continue
            request.params = match.groupdict()
            with self.lock:
                return route.handler(request)
        if allowed:
            return json_response({"error": "method not allowed"}, 405)
        return self.not_found(request)

    # -- the web view ----------------------------------------------------------------------

    def timeline(self) -> list[dict[str, Any]]:
        """Accounts with their posts and comments, for the simulator's web view:
        [{"account": str, "posts": [{"id", "text", "url", "comments": [{"author", "text"}]}]}]."""
        return []

    # -- synthetic citizens (simulator/citizens.py) ------------------------------------------
    # How readily citizens here react to a post on each topic (scenery, festival, notice,
    # general) compared with other platforms; empty: they do not comment here.
    crowd_weights: ClassVar[dict[str, float]] = {}

    def crowd_posts(self) -> list[tuple[str, str, str]]:
        """Recent posts citizens may react to: (account, post id, text)."""
        return []

    def crowd_comment(
        self, account: str, post_id: str, author_id: str, author_name: str, text: str
    ) -> None:
        """A citizen comments on one of ``crowd_posts``, as the platform then reports it
        (state, and a webhook where the platform sends one)."""

    def crowd_message_accounts(self) -> list[str]:
        """Accounts citizens can write to in private; empty where the platform has no DMs."""
        return []

    def crowd_message(self, account: str, author_id: str, author_name: str, text: str) -> None:
        """A citizen writes to ``account`` in private."""

    # -- the demo world (simulator/demo_world.py) ------------------------------------------

    def populate_demo(self, account: DemoAccount, webhook_url: str) -> None:
        """Create the demo city's ``account`` here, with its history, and send its
        webhooks (where the platform has them) to ``webhook_url``."""


@dataclass(frozen=True)
class DemoAccount:
    """One of the demo city's accounts on a simulated platform. `sotong simulate` creates
    it; `sotong demo` connects a channel to it with the same id, token and secrets.
    Demo values only: nothing here is a real secret."""

    kind: str
    name: str
    account_id: str
    token: str
    webhook_secret: str
    extra: dict[str, str] = field(default_factory=dict)
    followers: int = 0
    refresh_token: str = ""


def route(
    method: str, pattern: str
) -> Callable[[Callable[..., Response]], Callable[..., Response]]:
    def register(handler: Callable[..., Response]) -> Callable[..., Response]:
        handler._route = (method.upper(), pattern)  # type: ignore[attr-defined]
        return handler

    return register


@dataclass
class WebhookTarget:
    """Where a platform delivers webhooks for an account, and how it signs them."""

    url: str
    sign: Callable[[bytes], dict[str, str]]


class Simulator:
    """The hub: one WSGI application serving every platform under /<platform>/…, the
    control API under /_control/… and the web view under /view/…."""

    def __init__(
        self, *, seed: int = 0, platforms: Iterable[type[PlatformSimulator]] | None = None
    ) -> None:
        self.random = random.Random(seed)
        self.lock = threading.RLock()
        self.requests: deque[RecordedRequest] = deque(maxlen=5000)
        self.faults: dict[str, list[Fault]] = {}
        self.latency: dict[str, Latency] = {}
        self.webhook_targets: dict[tuple[str, str], WebhookTarget] = {}
        self.webhook_log: deque[dict[str, Any]] = deque(maxlen=1000)
        self.base_url = ""
        self.platforms: dict[str, PlatformSimulator] = {}
        for platform_class in platforms if platforms is not None else all_platform_classes():
            platform = platform_class(self)
            self.platforms[platform.name] = platform

    def __getitem__(self, name: str) -> Any:
        return self.platforms[name]

    # -- faults ----------------------------------------------------------------------------

    def inject(self, platform: str, fault: Fault) -> None:
        with self.lock:
            self.faults.setdefault(platform, []).append(fault)

    def clear_faults(self, platform: str | None = None) -> None:
        with self.lock:
            if platform is None:
                self.faults.clear()
                self.latency.clear()
            else:
                self.faults.pop(platform, None)
                self.latency.pop(platform, None)

    def _take_fault(self, platform: str, request: Request) -> Fault | None:
        with self.lock:
            for fault in self.faults.get(platform, []):
                if not fault.matches(request):
                    continue
                if fault.count is not None:
                    fault.count -= 1
                    if fault.count <= 0:
                        self.faults[platform].remove(fault)
                    return fault
                if self.random.random() < fault.probability:
                    return fault
        return None

    def reset(self) -> None:
        with self.lock:
            self.clear_faults()
            self.requests.clear()
            self.webhook_log.clear()
            self.webhook_targets.clear()
        for platform in self.platforms.values():
            with platform.lock:
                platform.reset()

    def recorded(
        self, platform: str | None = None, method: str | None = None, path_contains: str = ""
    ) -> list[RecordedRequest]:
        with self.lock:
            return [
                entry
                for entry in self.requests
                if (platform is None or entry.platform == platform)
                and (method is None or entry.method == method)
                and path_contains in entry.path
            ]

    # -- webhooks --------------------------------------------------------------------------

    def set_webhook_target(self, platform: str, account: str, target: WebhookTarget) -> None:
        with self.lock:
            self.webhook_targets[(platform, account)] = target

    def deliver_webhook(
        self, platform: str, account: str, payload: Any, *, attempts: int = 3
    ) -> int | None:
        """POST ``payload`` to the account's webhook target with the platform's signature,
        retrying failed deliveries as platforms do. Returns the final HTTP status."""
        target = self.webhook_targets.get((platform, account))
        if target is None:
            return None
        body = (
            payload
            if isinstance(payload, bytes)
            else json.dumps(payload, ensure_ascii=False).encode()
        )
        headers = {"Content-Type": "application/json", **target.sign(body)}
        status: int | None = None
        for attempt in range(1, attempts + 1):
            try:
                status = httpx.post(
                    target.url, content=body, headers=headers, timeout=10
                ).status_code
            except httpx.HTTPError as exc:
                logger.warning("webhook to %s failed: %s", target.url, type(exc).__name__)
                status = None
            self.webhook_log.append(
                {
                    "platform": platform,
                    "account": account,
                    "status": status,
                    "attempt": attempt,
                    "at": time.time(),
                }
            )
            if status is not None and status < 500:
                break
            time.sleep(0.2 * attempt)
        return status

    # -- WSGI ------------------------------------------------------------------------------

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        request_path = environ.get("PATH_INFO", "/")
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        headers = {
            key[5:].replace("_", "-").lower(): value
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        if environ.get("CONTENT_TYPE"):
            headers["content-type"] = environ["CONTENT_TYPE"]
        query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        response, platform_name, sub_path = self.handle(
            environ["REQUEST_METHOD"], request_path, query, headers, body
        )
        if platform_name:
            with self.lock:
                self.requests.append(
                    RecordedRequest(
                        platform_name,
                        environ["REQUEST_METHOD"],
                        sub_path,
                        query,
                        headers,
                        body,
                        response.status,
                        time.time(),
                    )
                )
        if response.delay_after:
            time.sleep(response.delay_after)
        payload = response.encode()
        status_line = f"{response.status} {STATUS_TEXT.get(response.status, 'Status')}"
        start_response(
            status_line,
            [
                ("Content-Type", response.content_type),
                ("Content-Length", str(len(payload))),
                *response.headers.items(),
            ],
        )
        return [payload]

    def handle(
        self,
        method: str,
        path: str,
        query: dict[str, list[str]],
        headers: dict[str, str],
        body: bytes,
    ) -> tuple[Response, str, str]:
        from sotong.simulator import control, webview

        if path.startswith("/_control/"):
            return control.handle(self, method, path, body), "", ""
        if path == "/" or path.startswith("/view"):
            return webview.handle(self, path), "", ""
        platform_name, _, rest = path.lstrip("/").partition("/")
        platform = self.platforms.get(platform_name)
        if platform is None:
            return json_response({"error": f"no simulated platform {platform_name!r}"}, 404), "", ""
        request = Request(method, "/" + rest, query, headers, body)
        latency = self.latency.get(platform_name)
        if latency and latency.high > 0:
            time.sleep(self.random.uniform(latency.low, latency.high))
        fault = self._take_fault(platform_name, request)
        if fault is not None:
            if fault.kind is FaultKind.TIMEOUT_AFTER_PROCESSING:
                response = platform.dispatch(request)
                response.delay_after = fault.delay
                return response, platform_name, request.path
            if fault.kind is FaultKind.TIMEOUT:
                return (
                    Response(status=504, body=b"", delay_after=fault.delay),
                    platform_name,
                    request.path,
                )
            return platform.fault_response(fault.kind), platform_name, request.path
        try:
            return platform.dispatch(request), platform_name, request.path
        except (ValueError, KeyError, TypeError) as exc:
            # What a real API does with a body it cannot read: a 400 in its own shape.
            logger.info("simulator %s: bad request %s: %s", platform_name, request.path, exc)
            return platform.bad_request(str(exc)), platform_name, request.path


STATUS_TEXT = {
    200: "OK",
    201: "Created",
    202: "Accepted",
    204: "No Content",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


PLATFORM_MODULES = (
    "facebook",
    "instagram",
    "x",
    "band",
    "kakao",
    "naver_blog",
    "youtube",
    "telegram",
    "mastodon",
)


def all_platform_classes() -> list[type[PlatformSimulator]]:
    import importlib

    classes = []
    for name in PLATFORM_MODULES:
        try:
            module = importlib.import_module(f"sotong.simulator.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"sotong.simulator.{name}":
                raise
            continue
        classes.append(module.Platform)
    return classes


def all_demo_accounts() -> list[DemoAccount]:
    """Every simulator module's ``DEMO_ACCOUNTS``, in platform order."""
    import importlib

    accounts: list[DemoAccount] = []
    for platform_class in all_platform_classes():
        module = importlib.import_module(platform_class.__module__)
        accounts.extend(getattr(module, "DEMO_ACCOUNTS", ()))
    return accounts


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("simulator: " + format, *args)


class ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True
    # socketserver's default backlog of 5 drops connections when many workers call at
    # once (a benchmark, a busy demo); platforms' own servers do not.
    request_queue_size = 256


class RunningSimulator:
    """A simulator served over HTTP in a background thread (tests, `sotong simulate`)."""

    def __init__(self, simulator: Simulator, host: str = "127.0.0.1", port: int = 0) -> None:
        self.simulator = simulator
        self.server = make_server(
            host, port, simulator, server_class=ThreadingWSGIServer, handler_class=_QuietHandler
        )
        self.url = f"http://{host}:{self.server.server_port}"
        simulator.base_url = self.url
        self.thread = threading.Thread(
            target=self.server.serve_forever, name="simulator", daemon=True
        )

    def start(self) -> RunningSimulator:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def platform_url(self, platform: str) -> str:
        return f"{self.url}/{platform}"
