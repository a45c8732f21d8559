"""Benchmark: the KakaoTalk skill endpoint (/hooks/kakao/<secret>/) answering real v2 skill
requests from 2,000 citizens of the demo city (its KakaoTalk channel and FAQ, as `sotong demo`
sets them up) under gunicorn with Sotong's own settings and the embedded default database
(SQLite in WAL mode), at 100 concurrent clients. Kakao gives up on a skill after 5 s; the
target is p99 ≤ 50 ms. Reported beside the bare framework endpoint (bench.webhook_ceiling)
measured in the same run, and checked: a sample of answers taken after the load is a valid
v2 skill response.

The figures do not depend on what the endpoint answers (a fixed acknowledgement, or the
chat's menu, FAQ answers and complaint intake): only that it answers validly."""

from __future__ import annotations

import copy
import hashlib
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import httpx

from bench.common import ROOT, gunicorn, write_result, wrk
from sotong.platforms.kakao import (
    MAX_OUTPUTS,
    MAX_QUICK_REPLIES,
    SIMPLE_TEXT_MAX,
    SKILL_SECRET_HEADER,
    SKILL_VERSION,
)
from sotong.simulator.kakao import DEMO_ACCOUNTS

CONNECTIONS = 100
SECONDS = 10
# Long enough for every worker to be up: gunicorn answers as soon as the first is, and
# each loads the Korean analyser (Kiwi, ~2.5 s) at start.
WARM_UP_SECONDS = 8
THREADS = 2  # wrk's, as in the ceiling's run
USERS = 2_000
# The warm-up talks as other citizens, so the measured run starts every conversation fresh.
WARM_UP_USERS = 200
P99_TARGET_MS = 50
KAKAO_DEADLINE_S = 5.0  # the platform gives up on a skill then
ACCOUNT = DEMO_ACCOUNTS[0]

# What citizens send in the 1:1 chat: the menu, quick replies (the menu's items and the FAQ
# answer's "도움이 되었나요?"), questions the FAQ answers, and now and then a complaint. The
# hand-off ("상담원 연결") is left out: after it the bot stays silent for that citizen, so
# its later turns would measure staff-message intake, not the bot's answers.
MENU = "처음으로"
MENU_REPLIES = ("생활 정보", "행사·축제", "주간꿀팁", "처리 현황")
FEEDBACK_REPLIES = ("도움이 됐어요",)
COMPLAINT_START = "민원 접수"
COMPLAINTS = (
    "아파트 앞 가로등이 사흘째 꺼져 있어서 밤에 너무 어두워요",
    "조례동 사거리 도로에 포트홀이 크게 생겨서 차가 덜컹거려요",
    "골목 하수구에서 냄새가 심하게 올라옵니다 확인 부탁드려요",
    "공원 놀이터 그네 줄이 끊어져 있어요 아이들이 다칠까 걱정됩니다",
    "버스정류장 의자가 부서져 있어요",
    "집 앞에 누가 대형 쓰레기를 일주일째 버려두고 갔어요",
)
TURNS = 8
# One citizen in four goes on to a complaint; the others ask the FAQ once more.
COMPLAINT_EVERY = 4


def faq_questions() -> list[str]:
    """The demo city's FAQ questions as shipped (sotong/faq/fixtures), the ones it answers."""
    text = resources.files("sotong.faq").joinpath("fixtures/suncheon-faq.json").read_text("utf-8")
    return [question for row in json.loads(text) for question in row["questions"]]


def user_key(number: int, prefix: str = "bench") -> str:
    """A botUserKey-like id (Kakao's are 64-70 hex characters), the same on every run."""
    return hashlib.sha256(f"{prefix}-{number}".encode()).hexdigest()


def conversation(number: int, questions: Sequence[str]) -> list[tuple[str, str]]:
    """Citizen ``number``'s turns, as (kind, utterance): always ``TURNS`` of them."""
    rng = random.Random(number)
    first, second, third = rng.sample(list(questions), 3)
    turns = [
        ("menu", MENU),
        ("faq", first),
        ("quick_reply", rng.choice(FEEDBACK_REPLIES)),
        ("quick_reply", rng.choice(MENU_REPLIES)),
        ("faq", second),
        ("menu", MENU),
    ]
    if number % COMPLAINT_EVERY == 0:
        turns += [("quick_reply", COMPLAINT_START), ("complaint", rng.choice(COMPLAINTS))]
    else:
        turns += [("faq", third), ("quick_reply", rng.choice(FEEDBACK_REPLIES))]
    return turns


# The platform's documented sample request, kept as a fixture.
_FIXTURE: dict[str, Any] = json.loads(
    resources.files("sotong.platforms")
    .joinpath("fixtures/kakao/skill_request.json")
    .read_text("utf-8")
)


def skill_request(key: str, utterance: str) -> dict[str, Any]:
    """A v2 skill request as Kakao sends it for a chat message (the shape of the kept
    fixture sotong/platforms/fixtures/kakao/skill_request.json), from citizen ``key``."""
    payload: dict[str, Any] = copy.deepcopy(_FIXTURE)
    payload["bot"] = {"id": ACCOUNT.account_id, "name": ACCOUNT.name}
    user_request = payload["userRequest"]
    user_request["utterance"] = utterance
    user_request["user"]["id"] = key
    user_request["user"]["properties"]["plusfriendUserKey"] = f"pf{key[:10]}"
    # A message to the fallback block carries no entity the builder extracted.
    payload["action"]["params"] = {}
    payload["action"]["detailParams"] = {}
    return payload


def request_bodies(users: int, prefix: str = "bench") -> tuple[list[bytes], Counter[str]]:
    """Every citizen's turns, turn by turn (first turns of all citizens, then second
    turns…), one JSON body each, and the mix of kinds. wrk thread t of ``THREADS`` sends
    bodies t, t + THREADS, …: with ``users`` a multiple of ``THREADS`` each citizen is
    served by one thread only, and their next turn comes ``users / THREADS`` requests
    later, long after the previous one was answered — a conversation in order."""
    if users % THREADS:
        raise ValueError(f"users must be a multiple of {THREADS}")
    questions = faq_questions()
    conversations = [conversation(number, questions) for number in range(users)]
    mix: Counter[str] = Counter(kind for turns in conversations for kind, _ in turns)
    bodies = [
        json.dumps(
            skill_request(user_key(number, prefix), conversations[number][turn][1]),
            ensure_ascii=False,
        ).encode()
        for turn in range(TURNS)
        for number in range(users)
    ]
    return bodies, mix


def lua_done(stats: Path) -> str:
    """A wrk ``done`` writing the latency figures its text report leaves out (max, mean,
    timeouts) to ``stats`` as JSON."""
    return f"""
done = function(summary, latency, requests)
  local out = io.open("{stats}", "w")
  out:write(string.format(
    '{{"latency_mean_ms": %.3f, "latency_max_ms": %.3f, "timeouts": %d}}',
    latency.mean / 1000, latency.max / 1000, summary.errors.timeout))
  out:close()
end
"""


def lua_script(work: Path, name: str, bodies: list[bytes], stats: Path) -> Path:
    """wrk POSTs ``bodies`` in turn (see request_bodies) with the channel's skill secret."""
    bodies_path = work / f"{name}.bodies"
    bodies_path.write_bytes(b"".join(body + b"\n" for body in bodies))
    script = work / f"{name}.lua"
    script.write_text(
        f"""
local bodies = {{}}
for line in io.lines("{bodies_path}") do bodies[#bodies + 1] = line end
local counter = 0
function setup(thread)
  thread:set("offset", counter)
  counter = counter + 1
end
local headers = {{["Content-Type"] = "application/json;charset=UTF-8",
  ["{SKILL_SECRET_HEADER}"] = "{ACCOUNT.extra["skill_secret"]}"}}
local next_index = nil
request = function()
  if next_index == nil then next_index = offset + 1 end
  local body = bodies[((next_index - 1) % #bodies) + 1]
  next_index = next_index + {THREADS}
  return wrk.format("POST", nil, headers, body)
end
"""
        + lua_done(stats)
    )
    return script


def measure_ceiling(work: Path) -> dict[str, Any]:
    """bench.webhook_ceiling's measurement (same app, server, warm-up and load), taken
    again here rather than through its run(), which would rewrite webhook_ceiling.json;
    with the same extra figures as the skill's."""
    from bench import webhook_ceiling

    stats = work / "ceiling.json"
    script = work / "ceiling.lua"
    script.write_text(lua_done(stats))
    with gunicorn("bench.ceiling_app:application", env={}) as url:
        wrk(url + "/", connections=webhook_ceiling.CONNECTIONS, seconds=WARM_UP_SECONDS)
        figures = wrk(
            url + "/",
            connections=webhook_ceiling.CONNECTIONS,
            seconds=webhook_ceiling.SECONDS,
            threads=THREADS,
            script=str(script),
        )
    figures.update(json.loads(stats.read_text()))
    return figures


def check_skill_response(status: int, content: bytes) -> str:
    """Why Kakao would show the citizen an error instead of this answer ("" if it would
    not): version 2.0, 1–3 outputs, at most 10 quick replies, simple texts of 1–1000."""
    if status != 200:
        return f"HTTP {status}"
    try:
        body = json.loads(content)
    except ValueError:
        return "not JSON"
    if not isinstance(body, dict) or body.get("version") != SKILL_VERSION:
        return "version is not 2.0"
    template = body.get("template")
    if not isinstance(template, dict):
        return "no template"
    outputs = template.get("outputs")
    if not isinstance(outputs, list) or not 1 <= len(outputs) <= MAX_OUTPUTS:
        return f"outputs: not 1–{MAX_OUTPUTS}"
    replies = template.get("quickReplies", [])
    if not isinstance(replies, list) or len(replies) > MAX_QUICK_REPLIES:
        return f"quick replies: more than {MAX_QUICK_REPLIES}"
    for output in outputs:
        if not isinstance(output, dict) or len(output) != 1:
            return "an output is not one component"
        if "simpleText" in output:
            text = (output["simpleText"] or {}).get("text")
            if not isinstance(text, str) or not 0 < len(text) <= SIMPLE_TEXT_MAX:
                return f"simpleText: not 1–{SIMPLE_TEXT_MAX} characters"
    return ""


def check_sample(url: str, questions: Sequence[str]) -> dict[str, Any]:
    """Two new citizens' whole conversations (one with a complaint), one request at a time
    on the unloaded server; every answer must be a valid skill response within Kakao's
    deadline."""
    problems: list[str] = []
    elapsed: list[float] = []
    with httpx.Client(
        headers={
            "Content-Type": "application/json;charset=UTF-8",
            SKILL_SECRET_HEADER: ACCOUNT.extra["skill_secret"],
        },
        timeout=KAKAO_DEADLINE_S,
    ) as client:
        for number in (0, 1):  # 0 complains (COMPLAINT_EVERY), 1 asks the FAQ
            key = user_key(number, "sample")
            for kind, utterance in conversation(number, questions):
                body = json.dumps(skill_request(key, utterance), ensure_ascii=False).encode()
                started = time.monotonic()
                try:
                    response = client.post(url, content=body)
                except httpx.HTTPError as error:  # Kakao shows the citizen an error too
                    problem = type(error).__name__
                else:
                    problem = check_skill_response(response.status_code, response.content)
                elapsed.append(time.monotonic() - started)
                if problem:
                    problems.append(f"{kind}: {problem}")
    return {
        "sample_checked": len(elapsed),
        "sample_invalid": problems,
        "sample_max_ms": round(max(elapsed) * 1000, 3),
    }


SETUP = """
import django
django.setup()
from django.conf import settings
# Nobody logs in to the benchmark's city: a fast hasher spares the demo's staff accounts
# some eight seconds of password hashing.
settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
from django.core.management import call_command
call_command("migrate", interactive=False, verbosity=0)
from sotong.channels.models import Channel
from sotong.core.demo import seed_demo
from sotong.faq.models import FaqEntry
city = seed_demo()
channel = Channel.objects.get(organisation=city, kind="kakao")
print(channel.webhook_secret, FaqEntry.objects.filter(organisation=city).count())
"""


def _within_target(figures: dict[str, Any]) -> bool:
    """p99 within the target, and no answer so slow or failed that it is not counted in it."""
    return bool(
        figures["latency_p99_ms"] <= P99_TARGET_MS
        and not figures["timeouts"]
        and not figures["non_2xx"]
    )


def run() -> dict[str, Any]:
    questions = faq_questions()
    with tempfile.TemporaryDirectory(prefix="sotong-bench-") as tmp:
        work = Path(tmp)
        # The bare framework endpoint first, as `make bench` does, then the skill.
        ceiling = measure_ceiling(work)
        env = {
            "SOTONG_DATA_DIR": str(work),
            "DATABASE_URL": f"sqlite:///{work / 'bench.sqlite3'}",
            "DJANGO_SETTINGS_MODULE": "sotong.settings",
            "SOTONG_DEBUG": "false",
        }
        hook_secret, faq_entries = subprocess.run(
            [sys.executable, "-c", SETUP],
            env={**os.environ, **env},
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.split()
        if int(faq_entries) == 0:
            raise RuntimeError("the demo city has no FAQ: its answers would not be real")
        warm_bodies, _ = request_bodies(WARM_UP_USERS, prefix="warm-up")
        bodies, mix = request_bodies(USERS)
        warm_up = lua_script(work, "warm-up", warm_bodies, work / "warm-up.json")
        stats = work / "skill.json"
        script = lua_script(work, "skill", bodies, stats)
        with gunicorn("sotong.wsgi:application", env=env) as url:
            skill_url = f"{url}/hooks/kakao/{hook_secret}/"
            # Every worker loads the FAQ index and the analyser before the measured run.
            wrk(
                skill_url,
                connections=CONNECTIONS,
                seconds=WARM_UP_SECONDS,
                threads=THREADS,
                script=str(warm_up),
            )
            skill = wrk(
                skill_url,
                connections=CONNECTIONS,
                seconds=SECONDS,
                threads=THREADS,
                script=str(script),
                # Kakao waits 5 s: slower answers are the platform's timeouts, the rest count.
                timeout_seconds=KAKAO_DEADLINE_S,
            )
            skill.update(json.loads(stats.read_text()))
            skill.update(check_sample(skill_url, questions))
    skill["ratio_to_ceiling"] = round(
        skill["requests_per_second"] / ceiling["requests_per_second"], 3
    )
    figures = {
        "skill": skill,
        "ceiling": ceiling,
        "p99_target_ms": P99_TARGET_MS,
        "p99_within_target": _within_target(skill),
        "ceiling_p99_within_target": _within_target(ceiling),
    }
    total = sum(mix.values())
    settings = {
        "server": "gunicorn (sotong.gunicorn_conf), sotong.wsgi; ceiling: bench.ceiling_app",
        "database": "SQLite (WAL), the embedded default, with the demo city (sotong demo)",
        "load": (
            f"wrk, {THREADS} threads, {CONNECTIONS} connections, {SECONDS} s after a "
            f"{WARM_UP_SECONDS} s warm-up, same machine"
        ),
        # wrk's default: a slower answer counts in "timeouts", not in the latencies.
        "wrk_timeout_s": 2,
        "citizens": USERS,
        "turns_per_citizen": TURNS,
        "mix": {kind: round(count / total, 3) for kind, count in sorted(mix.items())},
    }
    write_result("kakao_skill", figures, settings)
    if skill["sample_invalid"]:
        raise RuntimeError(f"invalid skill responses: {skill['sample_invalid']}")
    return figures
