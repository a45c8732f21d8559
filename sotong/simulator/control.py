"""The simulator's control API, for tests, the demo and people trying things out:

GET  /_control/state                       platforms, faults, webhook targets
POST /_control/reset                       forget everything
POST /_control/faults/<platform>           {"kind": "rate_limited", "count": 3, ...}
POST /_control/latency/<platform>          {"low": 0.05, "high": 0.4}
DELETE /_control/faults[/<platform>]       clear faults (and latency)
GET  /_control/requests[?platform=x]       the recorded requests
POST /_control/citizens[/<platform>]       one citizen acts now: {"kind": "comment" | "message",
                                           "text": "…"} (both optional)
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from sotong.simulator.core import Fault, Latency, Response, json_response

if TYPE_CHECKING:
    from sotong.simulator.core import Simulator


def handle(simulator: Simulator, method: str, path: str, body: bytes) -> Response:
    parts = path.strip("/").split("/")[1:]
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
