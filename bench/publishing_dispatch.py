"""Benchmark: 10,000 publications due in the same minute on 7 channels of the demo city,
published by real `sotong worker` processes (the scheduler's dispatch task) against the
platform simulator with 50–300 ms latency and the platforms' real rate limits.

Channels (all publish by API): the demo city's Facebook page, X, BAND, Telegram channel and
Mastodon account, plus two department channels (관광진흥과's Facebook page and BAND). The
simulators enforce X's 100 posts per 15 min per user and Mastodon's 300 calls per 5 min per
account; Telegram's simulator is set to its documented 20 messages per minute per channel;
Facebook (4,800 calls × engaged users a day) and BAND (unpublished quotas) do not limit
at this scale.

Lateness is measured beyond what the limits force: the k-th post on a channel limited to L
per sliding window W cannot go before max(its due time, the (k-L)-th's earliest time + W).
A publication still waiting at the end for a window that has not opened is not a loss.

Two runs, each on a fresh SQLite file database (the embedded default): steady, and with one
worker killed (SIGKILL) mid-run and restarted. ``--small`` (or PUBLISHING_BENCH_SCALE)
lowers the sizes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter, deque
from pathlib import Path
from typing import Any

from bench.common import ROOT, write_result
from sotong.simulator.core import DemoAccount, Latency, Request, RunningSimulator, Simulator

PUBLICATIONS = 10_000
DUE_SECONDS = 60.0
# After the due minute: time for the last ones to go out, then the workers are stopped.
SETTLE_SECONDS = 20.0
WORKERS = 2
CONCURRENCY = 24  # publishing threads per worker (SOTONG_PUBLISH_CONCURRENCY)
LATENCY = (0.05, 0.30)
KILL_AFTER = 25.0  # seconds after the first due time
RESTART_AFTER = 3.0
# A publication whose forced minimum is this close to the end may still be in flight.
END_TOLERANCE = 5.0
TELEGRAM_PER_MINUTE = 20

# (platform, seconds, calls) as the simulators enforce them on publishing.
LIMITS = {"x": (900.0, 100), "mastodon": (300.0, 300), "telegram": (60.0, TELEGRAM_PER_MINUTE)}

EXTRA_ACCOUNTS = (
    DemoAccount(
        "facebook",
        "순천시 관광진흥과 페이스북",
        "104220000000077",
        "bench-facebook-tourism-token",
        "bench-hook-facebook-tourism",
    ),
    DemoAccount(
        "band", "순천시 관광진흥과 밴드", "AADsuncheonTourBand2026b", "bench-band-tourism-token", ""
    ),
)

SETUP = """
import django, json, sys, datetime as dt
django.setup()
from django.core.management import call_command
call_command("migrate", interactive=False, verbosity=0)
from sotong.core.demo import seed_demo
from sotong.channels import actions as channel_actions
from sotong.core.audit import Actor
from sotong.platforms.base import Credentials
city = seed_demo()
extra = json.loads(sys.argv[1])
for kind, name, account_id, token, url in extra:
    channel_actions.connect_channel(Actor.system("bench"), city, kind=kind, name=name,
        account_id=account_id, credentials=Credentials(access_token=token), api_base=url,
        verify=False)
"""

POPULATE = """
import django, json, sys, datetime as dt
django.setup()
from django.utils import timezone
from sotong.channels.models import Channel
from sotong.core.models import Department, Organisation
from sotong.publishing.models import Post, PostStatus, Publication, Variant
total, first_due, span = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
kinds = ("facebook", "x", "band", "telegram", "mastodon")
city = Organisation.objects.get()
channels = sorted(Channel.objects.filter(kind__in=kinds), key=lambda c: (c.kind, c.pk))
assert len(channels) == 7, [c.name for c in channels]
department = Department.objects.filter(organisation=city).order_by("pk").first()
start = dt.datetime.fromtimestamp(first_due, tz=dt.UTC)
per_post = len(channels)
posts = Post.objects.bulk_create(
    Post(organisation=city, department=department, title=f"벤치 공지 {n}", body="순천시 소식",
         status=PostStatus.APPROVED, publish_at=start)
    for n in range((total + per_post - 1) // per_post))
variants, due = [], []
for number in range(total):
    post, channel = posts[number // per_post], channels[number % per_post]
    variants.append(Variant(organisation=city, post=post, channel=channel,
                            text=f"[순천시 알림 {number:05d}] {channel.name} 벤치 공지입니다."))
    due.append(start + dt.timedelta(seconds=span * number / total))
variants = Variant.objects.bulk_create(variants, batch_size=2000)
Publication.objects.bulk_create(
    (Publication(organisation=city, variant=v, channel=v.channel, due_at=d)
     for v, d in zip(variants, due)), batch_size=2000)
print(json.dumps([c.name for c in channels]))
"""

READ = """
import django, json
django.setup()
from sotong.publishing.models import Publication
rows = Publication.objects.values_list(
    "id", "channel__kind", "channel__name", "channel__account_id", "variant__text", "due_at",
    "state", "attempts")
print(json.dumps([[i, k, n, a, t, d.timestamp(), s, at] for i, k, n, a, t, d, s, at in rows],
                 ensure_ascii=False))
"""


def _python(script: str, env: dict[str, str], *args: str) -> str:
    return subprocess.run(
        [sys.executable, "-c", script, *args],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def _start(env: dict[str, str], log: Path, *args: str) -> subprocess.Popen[bytes]:
    with log.open("ab") as output:
        return subprocess.Popen(
            [sys.executable, "-m", "sotong", *args],
            env=env,
            cwd=ROOT,
            stdout=output,
            stderr=subprocess.STDOUT,
        )


def _posted(simulator: Simulator) -> list[tuple[str, str, str, float, int]]:
    """Every publishing call the platforms answered: (platform, account, text, time, status)."""
    calls = []
    for entry in list(simulator.requests):
        if entry.method != "POST":
            continue
        request = Request(entry.method, entry.path, entry.query, entry.headers, entry.body)
        platform, path = entry.platform, entry.path
        if platform == "facebook" and path.endswith("/feed"):
            account, text = path.split("/")[-2], request.arg("message")
        elif platform == "x" and path == "/2/tweets":
            account, text = "x", (request.json() or {}).get("text")
        elif platform == "band" and path.endswith("/band/post/create"):
            account, text = request.arg("band_key") or "", request.arg("content")
        elif platform == "telegram" and path.endswith("/sendMessage"):
            account, text = request.arg("chat_id") or "", request.arg("text")
        elif platform == "mastodon" and path == "/api/v1/statuses":
            account, text = "mastodon", request.arg("status")
        else:
            continue
        calls.append((platform, account, text or "", entry.at, entry.status))
    return calls


def _forced_minimum(kind: str, due: list[float]) -> list[float]:
    """The earliest time the k-th post (in due order) may go, given the platform's window."""
    if kind not in LIMITS:
        return list(due)
    window, calls = LIMITS[kind]
    earliest: list[float] = []
    for k, moment in enumerate(sorted(due)):
        earliest.append(max(moment, earliest[k - calls] + window) if k >= calls else moment)
    return earliest


def _percentile(values: list[float], percent: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(percent / 100 * (len(ordered) - 1)))]


def scenario(name: str, total: int, *, kill: bool) -> dict[str, Any]:
    simulator = Simulator(seed=4)
    simulator.requests = deque(maxlen=max(50_000, total * 5))
    running = RunningSimulator(simulator)
    running.start()
    try:
        return _run(name, simulator, running.url, total, kill=kill)
    finally:
        running.stop()


def _run(name: str, simulator: Simulator, url: str, total: int, *, kill: bool) -> dict[str, Any]:
    from sotong.simulator import demo_world

    demo_world.populate(simulator, sotong_url="http://127.0.0.1:9")
    for account in EXTRA_ACCOUNTS:
        simulator.platforms[account.kind].populate_demo(account, "")
    simulator.webhook_targets.clear()
    simulator["telegram"].max_messages_per_minute_per_chat = TELEGRAM_PER_MINUTE
    for platform in ("facebook", "x", "band", "telegram", "mastodon"):
        simulator.latency[platform] = Latency(*LATENCY)

    with tempfile.TemporaryDirectory(prefix="sotong-bench-publish-") as tmp:
        work = Path(tmp)
        env = {
            **os.environ,
            "SOTONG_DATA_DIR": str(work),
            "DATABASE_URL": f"sqlite:///{work / 'bench.sqlite3'}",
            "DJANGO_SETTINGS_MODULE": "sotong.settings",
            "SOTONG_DEBUG": "false",
            "SOTONG_SIMULATOR_URL": url,
            "SOTONG_PUBLISH_CONCURRENCY": str(CONCURRENCY),
        }
        extra = [[a.kind, a.name, a.account_id, a.token, f"{url}/{a.kind}"] for a in EXTRA_ACCOUNTS]
        _python(SETUP, env, json.dumps(extra))
        first_due = time.time() + 12
        channels = json.loads(_python(POPULATE, env, str(total), str(first_due), str(DUE_SECONDS)))
        log = work / "processes.log"
        scheduler = _start(env, log, "scheduler", "--tick", "0.5")
        workers = [_start(env, log, "worker", "--interval", "0.1") for _ in range(WORKERS)]
        killed_at = None
        if kill:
            time.sleep(max(0.0, first_due + KILL_AFTER - time.time()))
            workers[0].send_signal(signal.SIGKILL)
            workers[0].wait()
            killed_at = time.time()
            time.sleep(RESTART_AFTER)
            workers[0] = _start(env, log, "worker", "--interval", "0.1")
        time.sleep(max(0.0, first_due + DUE_SECONDS + SETTLE_SECONDS - time.time()))
        stopped_at = time.time()
        for process in (scheduler, *workers):
            process.send_signal(signal.SIGTERM)
        for process in (scheduler, *workers):
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        rows = json.loads(_python(READ, env))
        errors = [
            line
            for line in log.read_text(errors="replace").splitlines()
            if "Traceback" in line or "ERROR" in line
        ]
    figures = _analyse(simulator, rows, stopped_at)
    figures["channels"] = channels
    figures["first_due_to_stop_seconds"] = round(stopped_at - first_due, 1)
    if killed_at is not None:
        figures["killed_after_seconds"] = round(killed_at - first_due, 1)
    figures["worker_log_errors"] = len(errors)
    return figures


def _analyse(simulator: Simulator, rows: list[list[Any]], stopped_at: float) -> dict[str, Any]:
    posted = _posted(simulator)
    ok = [call for call in posted if 200 <= call[4] < 300]
    refused = Counter(call[0] for call in posted if call[4] == 429)
    times: dict[str, list[float]] = {}
    for _platform, _account, text, at, _status in ok:
        times.setdefault(text, []).append(at)
    per_channel: dict[str, dict[str, Any]] = {}
    lateness: list[float] = []
    lost = unconfirmed = duplicates = 0
    by_channel: dict[str, list[list[Any]]] = {}
    for row in rows:
        by_channel.setdefault(row[2], []).append(row)
    for channel, items in sorted(by_channel.items()):
        kind = items[0][1]
        items.sort(key=lambda row: row[5])
        earliest = _forced_minimum(kind, [row[5] for row in items])
        went = sorted(min(times[row[4]]) for row in items if row[4] in times)
        dup = sum(len(times[row[4]]) - 1 for row in items if row[4] in times)
        if kind in LIMITS:
            # The k-th post on a window-limited channel against the k-th earliest time.
            late = [at - earliest[k] for k, at in enumerate(went)]
        else:
            late = [min(times[row[4]]) - row[5] for row in items if row[4] in times]
        waiting = backlog = channel_lost = channel_unconfirmed = 0
        for k, row in enumerate(items):
            if row[4] in times:
                if row[6] != "published":
                    channel_unconfirmed += 1  # out, but Sotong does not know it yet
                continue
            if row[6] == "unconfirmed":
                channel_unconfirmed += 1  # left to a person
            elif row[6] in ("failed", "held", "cancelled", "published"):
                channel_lost += 1  # refused, stopped, or recorded as out but not on the platform
            elif earliest[k] < stopped_at - END_TOLERANCE:
                backlog += 1  # still queued at the stop: late, not dropped
            else:
                waiting += 1
        limited = sum(1 for k, row in enumerate(items) if earliest[k] > row[5] + 1e-6)
        per_channel[channel] = {
            "kind": kind,
            "publications": len(items),
            "posted": len(went),
            "rate_limited": limited,
            "waiting_for_window_at_end": waiting,
            "backlog_at_stop": backlog,
            "forced_minimum_last_seconds": round(max(earliest) - max(row[5] for row in items), 1),
            "lateness_p50_s": round(_percentile(late, 50), 3),
            "lateness_p99_s": round(_percentile(late, 99), 3),
            "duplicates": dup,
            "losses": channel_lost,
            "unconfirmed": channel_unconfirmed,
            "answers_429": refused.get(kind, 0),
        }
        lateness.extend(late)
        lost += channel_lost
        unconfirmed += channel_unconfirmed
        duplicates += dup
    return {
        "publications": len(rows),
        "posted": sum(c["posted"] for c in per_channel.values()),
        "waiting_for_window_at_end": sum(
            c["waiting_for_window_at_end"] for c in per_channel.values()
        ),
        "backlog_at_stop": sum(c["backlog_at_stop"] for c in per_channel.values()),
        "states_at_stop": dict(Counter(row[6] for row in rows)),
        "lateness_p50_s": round(_percentile(lateness, 50), 3),
        "lateness_p99_s": round(_percentile(lateness, 99), 3),
        "lateness_max_s": round(max(lateness, default=0.0), 3),
        "duplicates": duplicates,
        "losses": lost,
        "unconfirmed": unconfirmed,
        "answers_429": sum(refused.values()),
        "per_channel": per_channel,
    }


def _table(results: dict[str, dict[str, Any]]) -> str:
    lines = [
        f"{'run':<14}{'posted':>8}{'waiting':>9}{'p50 s':>8}{'p99 s':>8}{'max s':>8}"
        f"{'dup':>5}{'lost':>6}{'backlog':>8}{'unconf':>8}{'429':>5}"
    ]
    for name, figures in results.items():
        lines.append(
            f"{name:<14}{figures['posted']:>8}{figures['waiting_for_window_at_end']:>9}"
            f"{figures['lateness_p50_s']:>8.3f}{figures['lateness_p99_s']:>8.3f}"
            f"{figures['lateness_max_s']:>8.3f}{figures['duplicates']:>5}{figures['losses']:>6}"
            f"{figures['backlog_at_stop']:>8}"
            f"{figures['unconfirmed']:>8}{figures['answers_429']:>5}"
        )
    first = next(iter(results.values()))
    lines.append("")
    lines.append(f"{'channel':<28}{'due':>6}{'posted':>8}{'limited':>9}{'p99 s':>8}{'429':>5}")
    for channel, c in first["per_channel"].items():
        lines.append(
            f"{channel:<28}{c['publications']:>6}{c['posted']:>8}{c['rate_limited']:>9}"
            f"{c['lateness_p99_s']:>8.3f}{c['answers_429']:>5}"
        )
    return "\n".join(lines)


def run(scale: float | None = None) -> dict[str, Any]:
    if scale is None:
        scale = float(
            os.environ.get("PUBLISHING_BENCH_SCALE", "0.1" if "--small" in sys.argv else "1")
        )
    total = max(70, int(PUBLICATIONS * scale))
    results = {
        "steady": scenario("steady", total, kill=False),
        "worker_killed": scenario("worker_killed", total, kill=True),
    }
    print(_table(results), flush=True)
    settings = {
        "publications": total,
        "due_within_seconds": DUE_SECONDS,
        "channels": "Facebook ×2 (city, 관광진흥과), X, BAND ×2 (city, 관광진흥과), Telegram, Mastodon",
        "latency_seconds": list(LATENCY),
        "rate_limits": {
            "x": "100 posts / 15 min per user (simulator)",
            "mastodon": "300 calls / 5 min per account (simulator)",
            "telegram": f"{TELEGRAM_PER_MINUTE} messages / min per channel (simulator, set)",
            "facebook, band": "none binding at this scale",
        },
        "database": "SQLite (WAL), the embedded default, a file",
        "processes": f"1 `sotong scheduler`, {WORKERS} `sotong worker` "
        f"({CONCURRENCY} publishing threads each), simulator in the benchmark process",
        "kill": f"SIGKILL one worker {KILL_AFTER:.0f} s after the first due time, "
        f"restart {RESTART_AFTER:.0f} s later",
        "settle_seconds": SETTLE_SECONDS,
        "target": "duplicates 0, losses 0, p99 lateness < 2 s beyond the rate-limit minimum",
    }
    write_result("publishing_dispatch", results, settings)
    return {
        name: {k: v for k, v in figures.items() if k not in ("per_channel", "channels")}
        for name, figures in results.items()
    }


if __name__ == "__main__":
    run()
