"""The webhook under a real gunicorn (Sotong's server settings, several workers and threads)
against a file or server database: concurrent deliveries, re-deliveries, refused ones, and a
worker killed mid-load. Every delivery answered 200 is stored, and stored once."""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest

from sotong.cli import gunicorn_command
from sotong.platforms.base import hmac_sha256_hex

pytestmark = pytest.mark.multiprocess

PAGE_ID = "104220000000001"
APP_SECRET = "server-app-secret"
HOOK = "intake-test-hook"
DELIVERIES = 300
REFUSED = 20

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
actor = Actor.system("tests")
city = core_actions.create_organisation(actor, slug="suncheon", name="순천시")
channel = actions.connect_channel(actor, city, kind="facebook", name="fb", account_id="{PAGE_ID}",
    credentials=Credentials(access_token="x", extra={{"app_secret": "{APP_SECRET}"}}), verify=False)
Channel.objects.filter(pk=channel.pk).update(webhook_secret="{HOOK}")
"""

COUNT = """
import json
import django
django.setup()
from sotong.channels.models import InboundEvent
print(json.dumps(list(InboundEvent.objects.values_list("external_id", flat=True))))
"""


def delivery(number: int) -> bytes:
    value = {
        "item": "comment",
        "verb": "add",
        "comment_id": f"555_{number}",
        "post_id": f"{PAGE_ID}_555",
        "from": {"id": str(7000 + number), "name": "김시민"},
        "message": f"가로등이 꺼져 있어요 ({number})",
        "created_time": 1700000000 + number,
    }
    entry = {"id": PAGE_ID, "time": 1, "changes": [{"field": "feed", "value": value}]}
    return json.dumps({"object": "page", "entry": [entry]}, ensure_ascii=False).encode()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def stored(env: dict[str, str]) -> Counter[str]:
    output = subprocess.run(
        [sys.executable, "-c", COUNT], env=env, capture_output=True, text=True, check=True
    ).stdout
    return Counter(json.loads(output))


def test_every_accepted_delivery_is_stored_once_even_when_a_worker_is_killed(
    tmp_path: Path, process_database_url: str
) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": process_database_url,
        "SOTONG_DATA_DIR": str(tmp_path / "data"),
        "DJANGO_SETTINGS_MODULE": "sotong.settings",
        "SOTONG_DEBUG": "false",
        "SOTONG_WEB_WORKERS": "2",
        "SOTONG_WEB_THREADS": "8",
    }
    subprocess.run([sys.executable, "-c", SETUP], env=env, check=True, timeout=120)
    port = free_port()
    url = f"http://127.0.0.1:{port}/hooks/facebook/{HOOK}/"
    server = subprocess.Popen(
        gunicorn_command(f"127.0.0.1:{port}"),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.post(url, content=b"{}", timeout=2).status_code == 401:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "gunicorn did not start"
            time.sleep(0.2)

        accepted: set[int] = set()
        answers: Counter[int] = Counter()
        forged: list[int] = []
        lock = threading.Lock()
        # Each delivery twice (a platform's re-delivery), and some signed with a wrong secret.
        work = [n for n in range(DELIVERIES) for _ in range(2)]
        work += [DELIVERIES + n for n in range(REFUSED)]
        random.Random(5).shuffle(work)

        def send(numbers: list[int]) -> None:
            with httpx.Client(timeout=30) as client:
                for number in numbers:
                    body = delivery(number)
                    secret = APP_SECRET if number < DELIVERIES else "forged"
                    signature = "sha256=" + hmac_sha256_hex(secret, body)
                    try:
                        status = client.post(
                            url,
                            content=body,
                            headers={
                                "Content-Type": "application/json",
                                "X-Hub-Signature-256": signature,
                            },
                        ).status_code
                    except httpx.TransportError:
                        status = 0  # the worker died under this request: the platform retries
                    with lock:
                        answers[status] += 1
                        if status == 200:
                            accepted.add(number)
                        if number >= DELIVERIES:
                            forged.append(status)

        threads = [threading.Thread(target=send, args=(work[k::16],)) for k in range(16)]
        for thread in threads:
            thread.start()
        while sum(answers.values()) < len(work) // 3:
            time.sleep(0.01)
        workers = subprocess.run(
            ["pgrep", "-P", str(server.pid)], capture_output=True, text=True, check=True
        ).stdout.split()
        os.kill(int(workers[0]), signal.SIGKILL)
        for thread in threads:
            thread.join(timeout=120)

        # Each forged delivery is refused, or had its connection cut by the killed worker
        # (which answers nothing at all): never accepted.
        assert len(forged) == REFUSED
        assert set(forged) <= {401, 0}
        assert forged.count(401) >= REFUSED // 2
        assert set(answers) <= {0, 200, 401, 503}
        assert not accepted & set(range(DELIVERIES, DELIVERIES + REFUSED))
        counts = stored(env)
        assert max(counts.values()) == 1
        assert {f"555_{n}" for n in accepted} <= set(counts)
        assert not any(f"555_{n}" in counts for n in range(DELIVERIES, DELIVERIES + REFUSED))

        # The platform retries what was not answered 200.
        with httpx.Client(timeout=30) as client:
            for number in sorted(set(range(DELIVERIES)) - accepted):
                body = delivery(number)
                response = client.post(
                    url,
                    content=body,
                    headers={
                        "Content-Type": "application/json",
                        "X-Hub-Signature-256": "sha256=" + hmac_sha256_hex(APP_SECRET, body),
                    },
                )
                assert response.status_code == 200
        assert stored(env) == Counter(f"555_{n}" for n in range(DELIVERIES))
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
