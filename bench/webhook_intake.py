"""Benchmark: signed Facebook comment webhooks taken in by Sotong (signature check, parse,
one encrypted InboundEvent each) under gunicorn with Sotong's own settings and the embedded
default database (SQLite in WAL mode), at 100 concurrent clients. Reported beside the
webhook ceiling measured in the same `make bench` run, and checked: every delivery answered
200 is stored exactly once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.common import RESULTS, ROOT, gunicorn, write_result, wrk
from sotong.platforms.base import hmac_sha256_hex

CONNECTIONS = 100
SECONDS = 10
# More distinct deliveries than the server can take in the run, so each one is new.
DELIVERIES = 60_000
PAGE_ID = "104220000000001"
APP_SECRET = "bench-app-secret"  # noqa: S105 - a benchmark's own secret
HOOK_SECRET = "bench-hook-facebook"  # noqa: S105

SETUP = f"""
import django
django.setup()
from django.core.management import call_command
call_command("migrate", interactive=False, verbosity=0)
from sotong.channels import actions
from sotong.channels.models import Channel
from sotong.core import actions as core_actions
from sotong.core.audit import Actor
from sotong.platforms.base import Credentials
actor = Actor.system("bench")
city = core_actions.create_organisation(actor, slug="bench", name="순천시")
channel = actions.connect_channel(actor, city, kind="facebook", name="bench", account_id="{PAGE_ID}",
    credentials=Credentials(access_token="x", extra={{"app_secret": "{APP_SECRET}"}}), verify=False)
Channel.objects.filter(pk=channel.pk).update(webhook_secret="{HOOK_SECRET}")
"""

COUNT = """
import django
django.setup()
from django.db.models import Count
from sotong.channels.models import InboundEvent
print(InboundEvent.objects.count(),
      InboundEvent.objects.values("external_id").annotate(n=Count("id")).filter(n__gt=1).count())
"""


def delivery(number: int) -> bytes:
    comment_id = f"104220000000555_{900000 + number}"
    return json.dumps(
        {
            "object": "page",
            "entry": [
                {
                    "id": PAGE_ID,
                    "time": 1700000000,
                    "changes": [
                        {
                            "field": "feed",
                            "value": {
                                "item": "comment",
                                "verb": "add",
                                "comment_id": comment_id,
                                "post_id": f"{PAGE_ID}_104220000000555",
                                "parent_id": f"{PAGE_ID}_104220000000555",
                                "from": {"id": str(6012345678901 + number), "name": "김시민"},
                                "message": f"국화축제 주차장은 어디인가요? ({number})",
                                "created_time": 1700000000 + number,
                            },
                        }
                    ],
                }
            ],
        },
        ensure_ascii=False,
    ).encode()


def lua_script(path: Path) -> Path:
    """wrk sends the pre-signed deliveries in turn (Lua has no HMAC of its own)."""
    bodies = path / "bodies.txt"
    with bodies.open("wb") as out:
        for number in range(DELIVERIES):
            body = delivery(number)
            out.write(f"sha256={hmac_sha256_hex(APP_SECRET, body)}\t".encode() + body + b"\n")
    script = path / "intake.lua"
    script.write_text(
        f"""
local deliveries = {{}}
for line in io.lines("{bodies}") do
  local tab = line:find("\\t", 1, true)
  deliveries[#deliveries + 1] = {{line:sub(1, tab - 1), line:sub(tab + 1)}}
end
local counter = 0
function setup(thread)
  thread:set("offset", counter)
  counter = counter + 1
end
local next_index = nil
request = function()
  if next_index == nil then next_index = offset + 1 end
  local item = deliveries[((next_index - 1) % #deliveries) + 1]
  next_index = next_index + 2
  return wrk.format("POST", nil, {{["Content-Type"] = "application/json",
    ["X-Hub-Signature-256"] = item[1]}}, item[2])
end
"""
    )
    return script


def run() -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="sotong-bench-") as tmp:
        work = Path(tmp)
        env = {
            "SOTONG_DATA_DIR": str(work),
            "DATABASE_URL": f"sqlite:///{work / 'bench.sqlite3'}",
            "DJANGO_SETTINGS_MODULE": "sotong.settings",
            # As in production (the ceiling runs without debug too).
            "SOTONG_DEBUG": "false",
        }
        full_env = {**os.environ, **env}
        subprocess.run([sys.executable, "-c", SETUP], env=full_env, cwd=ROOT, check=True)
        script = lua_script(work)
        url_path = f"/hooks/facebook/{HOOK_SECRET}/"
        with gunicorn("sotong.wsgi:application", env=env) as url:
            figures = wrk(
                url + url_path,
                connections=CONNECTIONS,
                seconds=SECONDS,
                script=str(script),
            )
        counted = subprocess.run(
            [sys.executable, "-c", COUNT],
            env=full_env,
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.split()
    stored, duplicated = int(counted[0]), int(counted[1])
    figures["events_stored"] = stored
    figures["events_duplicated"] = duplicated
    ceiling = _ceiling()
    if ceiling:
        figures["ceiling_requests_per_second"] = ceiling
        figures["ratio_to_ceiling"] = round(figures["requests_per_second"] / ceiling, 3)
    settings = {
        "server": "gunicorn (sotong.gunicorn_conf), sotong.wsgi",
        "database": "SQLite (WAL), the embedded default",
        "load": f"wrk, {CONNECTIONS} connections, {SECONDS} s, distinct signed comment deliveries",
    }
    write_result("webhook_intake", figures, settings)
    answered = figures["requests"] - figures["non_2xx"]
    if duplicated or (answered <= DELIVERIES and stored < answered):
        raise RuntimeError(
            f"{answered:.0f} deliveries answered, {stored} stored, {duplicated} twice"
        )
    return figures


def _ceiling() -> float | None:
    """The ceiling measured earlier in this run (bench/results/webhook_ceiling.json)."""
    try:
        data = json.loads((RESULTS / "webhook_ceiling.json").read_text())
    except (OSError, ValueError):
        return None
    return float(data["figures"]["requests_per_second"])
