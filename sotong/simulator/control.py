"""The simulator's control API, for tests, the demo and people trying things out:

GET  /_control/state                       platforms, faults, webhook targets
POST /_control/reset                       forget everything
POST /_control/faults/<platform>           {"kind": "rate_limited", "count": 3, ...}
POST /_control/latency/<platform>          {"low": 0.05, "high": 0.4}
DELETE /_control/faults[/<platform>]       clear faults (and latency)
GET  /_control/requests[?platform=x]       the recorded requests
POST /_control/citizens[/<platform>]       one citizen acts now: {"kind": "comment" | "message",
                                           "text": "…"} (both optional)
POST /_control/citizens/kakao              with "user" (a botUserKey), or kind "tap" | "photo" |
                                           "location" | "friend_added" | "friend_blocked": that
                                           KakaoTalk user acts ({"label"} for a tap, {"text"} for
                                           a message or a place, "bot" optional); answers what
                                           the chat showed: {"acted", "answer": {"ok", "texts",
                                           "quick_replies", "buttons", "reason", "problems"}}
POST /_control/citizens/kakao/chat/<bot>/<user>   the browser chat client's forms
                                           (action=message|tap|photo|location); 303 back
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, quote

from sotong.simulator.core import Fault, Latency, Response, json_response

if TYPE_CHECKING:
    from sotong.simulator.core import Simulator


KAKAO_ONLY_KINDS = frozenset({"tap", "photo", "location", "friend_added", "friend_blocked"})


def handle(simulator: Simulator, method: str, path: str, body: bytes) -> Response:
    parts = path.strip("/").split("/")[1:]
    if parts[:3] == ["citizens", "kakao", "chat"] and "kakao" in simulator.platforms:
        return kakao_chat_form(simulator, method, parts[3:], body)
    try:
        data = json.loads(body) if body else {}
    except ValueError:
        return json_response({"error": "body is not JSON"}, 400)
    what = parts[0] if parts else ""
    platform = parts[1] if len(parts) > 1 else None
    if platform is not None and platform not in simulator.platforms:
        return json_response({"error": f"no simulated platform {platform!r}"}, 404)
    if what == "state" and method == "GET":
        return json_response(
            {
                "platforms": sorted(simulator.platforms),
                "faults": {
                    name: [fault.kind.value for fault in faults]
                    for name, faults in simulator.faults.items()
                },
                "webhook_targets": [f"{p}:{a}" for p, a in simulator.webhook_targets],
            }
        )
    if what == "reset" and method == "POST":
        simulator.reset()
        return json_response({"ok": True})
    if what == "faults" and method == "POST" and platform:
        try:
            simulator.inject(platform, Fault.from_json(data))
        except (KeyError, ValueError) as exc:
            return json_response({"error": f"bad fault: {exc}"}, 400)
        return json_response({"ok": True}, 201)
    if what == "faults" and method == "DELETE":
        simulator.clear_faults(platform)
        return json_response({"ok": True})
    if what == "latency" and method == "POST" and platform:
        simulator.latency[platform] = Latency(float(data.get("low", 0)), float(data.get("high", 0)))
        return json_response({"ok": True})
    if (
        what == "citizens"
        and method == "POST"
        and platform == "kakao"
        and isinstance(data, dict)
        and (data.get("user") or data.get("kind") in KAKAO_ONLY_KINDS)
    ):
        # One KakaoTalk user acts; {"kind": "message", "text"} alone stays a crowd act.
        status, answer = simulator["kakao"].act(data)
        return json_response(answer, status)
    if what == "citizens" and method == "POST":
        from sotong.simulator.citizens import Crowd

        crowd = Crowd(simulator, seed=simulator.random.randrange(2**32))
        kind = data.get("kind")
        if kind not in (None, "comment", "message"):
            return json_response({"error": "kind is comment or message"}, 400)
        acted = crowd.act(platform=platform, kind=kind, text=str(data.get("text") or ""))
        return json_response({"acted": acted}, 201 if acted else 409)
    if what == "requests" and method == "GET":
        return json_response(
            [
                {
                    "platform": entry.platform,
                    "method": entry.method,
                    "path": entry.path,
                    "status": entry.status,
                    "at": entry.at,
                }
                for entry in simulator.recorded(platform)
            ]
        )
    return json_response({"error": "unknown control call"}, 404)


def kakao_chat_form(simulator: Simulator, method: str, rest: list[str], body: bytes) -> Response:
    """The KakaoTalk chat page's forms: act, then back to the chat (post/redirect/get)."""
    if method != "POST" or len(rest) != 2 or not all(rest):
        return json_response({"error": "POST /_control/citizens/kakao/chat/<bot>/<user>"}, 404)
    bot_id, user_key = rest
    kakao = simulator["kakao"]
    if bot_id not in kakao.bots:
        return json_response({"error": f"no bot {bot_id!r}"}, 404)
    fields = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    kakao.chat_form(bot_id, user_key, {name: values[0] for name, values in fields.items()})
    location = f"/view/kakao/chat/{quote(bot_id, safe='')}/{quote(user_key, safe='')}"
    return Response(303, b"", headers={"Location": location}, content_type="text/plain")
