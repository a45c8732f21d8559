"""Benchmark: ingest + triage throughput on one core with the embedded default database
(SQLite in WAL mode, a fresh file), beside the raw SQLite insert rate measured in the same
run on the same file (the ceiling), and beside Kiwi's morphological analysis of the same
texts alone (the analyser ceiling: triage reads every text once through Kiwi).

N synthetic Korean citizen texts (questions, complaints, suggestions, praise; a third carry
a phone number, e-mail, car plate or detailed address to mask), generated deterministically,
spread over the demo city's channels as comments under posts and private conversations,
are stored as inbound events (bulk, not timed). Then, in batches of ``BATCH``:

- ceiling: plain ``executemany`` of rows as wide as a message into a table of the same
  file, one transaction per batch;
- ingest only: ``ingest.ingest_pending`` until every event is a message;
- triage only: ``triage.triage_pending`` until every message is triaged;
- end to end: a second set of N events, ``ingest_pending`` then ``triage_pending`` per batch
  (what the inbox task does).

The measuring runs in a child process pinned to CPU 0 (``os.sched_setaffinity``): one core.
Checked: every event became exactly one message, every message was triaged exactly once, and
no generated personal information is left in a masked text. ``--small`` (or
INBOX_BENCH_MESSAGES) lowers N."""

from __future__ import annotations

import json
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.common import ROOT, write_result

MESSAGES = 20_000
SMALL = 2_000
BATCH = 500
SEED = 20260504

PLACES = [
    "조례동", "연향동", "왕조동", "해룡면", "풍덕동", "덕연동", "매곡동", "낙안면", "장천동",
    "신대지구", "금당동", "도사동", "순천역 앞", "아랫장", "웃장", "순천만 습지 입구",
]  # fmt: skip
QUESTIONS = [
    "{place} 하수관로 공사는 언제 끝나나요?",
    "{place} 주민센터 운영 시간이 어떻게 되나요?",
    "여권 재발급은 {place} 어디서 하나요?",
    "{place} 쓰레기 배출 요일이 궁금합니다",
    "국화축제 주차장은 {place} 근처에 있나요?",
    "{place} 버스 노선이 바뀌었는지 문의드립니다",
    "전입신고 온라인으로 가능한가요? {place} 살아요",
    "{place} 공공자전거 대여소 위치 알려주실 수 있나요?",
]
COMPLAINTS = [
    "{place} 도로에 불법 주차가 너무 많아서 불편합니다",
    "{place} 골목 가로등이 아직도 고장 나 있어요 왜 안 고치나요",
    "{place} 공사 소음 때문에 밤에 잠을 못 자요 짜증납니다",
    "{place} 하수구 악취가 심해요 계속 방치하시네요",
    "{place} 쓰레기 무단 투기 좀 단속해 주세요 엉망입니다",
    "{place} 인도 보도블록이 깨져서 아이가 넘어질 뻔했어요",
]
URGENT = [
    "{place} 도로에 싱크홀이 생겼어요 지금 위험합니다",
    "{place} 상가 건물에서 연기가 나고 가스 냄새가 나요 빨리 와주세요",
    "{place} 하천이 범람해서 도로가 침수됐어요",
]
SUGGESTIONS = [
    "{place}에 횡단보도를 하나 설치해 주셨으면 좋겠습니다",
    "{place} 공원에 그늘막을 늘려 주시길 건의합니다",
    "{place} 어린이 보호구역 표지판 개선을 제안합니다",
]
PRAISE = [
    "{place} 주민센터 직원분이 친절하게 안내해 주셔서 감사합니다",
    "{place} 꽃길 정말 예쁘게 만들어 주셔서 고맙습니다 최고예요",
]
OPINIONS = ["오늘 {place} 날씨가 좋네요 ㅎㅎ", "{place} 축제 분위기가 좋았습니다"]
KINDS = [
    (QUESTIONS, 35),
    (COMPLAINTS, 30),
    (URGENT, 5),
    (SUGGESTIONS, 12),
    (PRAISE, 10),
    (OPINIONS, 8),
]
NAMES = ["김민준", "이서연", "박지호", "최수아", "정예준", "강하은", "조도윤", "윤지우"]
EMAIL_HOSTS = ["naver.com", "daum.net", "gmail.com", "hanmail.net"]
ROADS = ["중앙로", "장명로", "연향번영길", "조례1길", "해룡로"]
PLATE_LETTERS = "가나다라마거너더러머버서어저고노도로모보소오조구누두루무부수우주"


def _pii(rng: random.Random) -> tuple[str, str, str]:
    """(sentence with the personal information, the literal to mask, its kind)."""
    kind = rng.choice(["phone", "phone", "email", "plate", "address"])
    if kind == "phone":
        value = f"010-{rng.randrange(2000, 9999)}-{rng.randrange(1000, 9999)}"
        return f" 연락처 {value} 입니다", value, kind
    if kind == "email":
        value = f"citizen{rng.randrange(100, 99999)}@{rng.choice(EMAIL_HOSTS)}"
        return f" 답변은 {value} 로 부탁드려요", value, kind
    if kind == "plate":
        value = f"{rng.randrange(10, 399)}{rng.choice(PLATE_LETTERS)}{rng.randrange(1000, 9999)}"
        return f" 차량번호 {value} 차량이에요", value, kind
    value = f"{rng.choice(ROADS)} {rng.randrange(1, 300)}-{rng.randrange(1, 40)}"
    # A detailed address: the building number goes, the road name stays.
    return f" 주소는 순천시 {value} 입니다", value.split()[1], kind


def texts(count: int, seed: int) -> list[tuple[str, str]]:
    """``count`` (text, personal-information literal or "") pairs, deterministic."""
    rng = random.Random(seed)
    pools = [pool for pool, _ in KINDS]
    weights = [weight for _, weight in KINDS]
    out = []
    for _ in range(count):
        pool = rng.choices(pools, weights)[0]
        text = rng.choice(pool).format(place=rng.choice(PLACES))
        literal = ""
        if rng.random() < 0.35:
            extra, literal, _kind = _pii(rng)
            text += extra
        if rng.random() < 0.15:
            text += rng.choice([" ㅠㅠ", " ㅋㅋㅋㅋㅋ", "!!", " 부탁드립니다", " 확인 부탁드려요."])
        out.append((text, literal))
    return out


CHILD = """
import sys
from bench.inbox_throughput import measure
measure(sys.argv[1], int(sys.argv[2]))
"""


def run() -> dict[str, Any]:
    small = "--small" in sys.argv
    count = int(os.environ.get("INBOX_BENCH_MESSAGES", SMALL if small else MESSAGES))
    with tempfile.TemporaryDirectory(prefix="sotong-bench-") as tmp:
        work = Path(tmp)
        env = {
            **os.environ,
            "SOTONG_DATA_DIR": str(work),
            "DATABASE_URL": f"sqlite:///{work / 'bench.sqlite3'}",
            "DJANGO_SETTINGS_MODULE": "sotong.settings",
            "SOTONG_DEBUG": "false",
        }
        output = subprocess.run(
            [sys.executable, "-c", CHILD, str(work), str(count)],
            env=env,
            cwd=ROOT,
            check=True,
            stdout=subprocess.PIPE,
            text=True,
        ).stdout
    figures: dict[str, Any] = json.loads(output.strip().splitlines()[-1])
    settings = {
        "database": "SQLite (WAL, synchronous=NORMAL), the embedded default, fresh file",
        "cpu": "measuring process pinned to CPU 0 (os.sched_setaffinity(0, {0})): one core",
        "messages": count,
        "batch": BATCH,
        "texts": "synthetic Korean comments and private messages, seed "
        f"{SEED}; ~35 % with a phone, e-mail, plate or detailed address",
        "ceiling": "sqlite3 executemany of message-wide rows, one transaction per batch, "
        "same database file, same run",
    }
    write_result("inbox_throughput", figures, settings)
    _table(figures)
    return figures


def _table(figures: dict[str, Any]) -> None:
    print(f"{'phase':<24}{'msg/s':>10}{'p50 ms':>10}{'p99 ms':>10}")
    for phase in ("ceiling", "analyser_ceiling", "ingest", "triage", "end_to_end"):
        row = figures[phase]
        print(
            f"{phase:<24}{row['per_second']:>10.0f}"
            f"{row['batch_p50_ms']:>10.1f}{row['batch_p99_ms']:>10.1f}"
        )


def _summary(count: int, seconds: float, batches: list[float]) -> dict[str, float]:
    ordered = sorted(batches)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))] if ordered else 0.0
    return {
        "messages": count,
        "seconds": round(seconds, 3),
        "per_second": round(count / seconds, 1) if seconds else 0.0,
        "batches": len(batches),
        "batch_p50_ms": round(statistics.median(ordered) * 1000, 2) if ordered else 0.0,
        "batch_p99_ms": round(p99 * 1000, 2),
    }


# -- the measuring child ------------------------------------------------------------------


def measure(work: str, count: int) -> None:
    os.sched_setaffinity(0, {0})
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    from sotong.core.demo import seed_demo

    city = seed_demo()
    # Loaded before the clock starts, as in a running worker.
    from sotong.faq.answers import answer_for
    from sotong.nlp.routing import default_model
    from sotong.nlp.tokenise import kiwi

    kiwi()
    default_model()
    answer_for(city, "주차장은 어디인가요?")

    figures: dict[str, Any] = {}
    first = _store_events(city, count, "a", SEED)
    figures["ceiling"] = _ceiling(Path(work) / "bench.sqlite3", count)
    figures["analyser_ceiling"] = _analyser_ceiling(count)
    figures["ingest"] = _drain(_ingest, _events_pending, count)
    figures["triage"] = _drain(_triage, _messages_pending, count)
    second = _store_events(city, count, "b", SEED + 1)
    figures["end_to_end"] = _drain(
        lambda: _ingest() + _triage(),
        lambda: _events_pending() or _messages_pending(),
        count,
    )
    figures["checks"] = _check({**first, **second}, 2 * count)
    ceiling = figures["ceiling"]["per_second"]
    analyser = figures["analyser_ceiling"]["per_second"]
    for phase in ("ingest", "triage", "end_to_end"):
        figures[phase]["ratio_to_ceiling"] = round(figures[phase]["per_second"] / ceiling, 4)
    for phase in ("triage", "end_to_end"):
        figures[phase]["ratio_to_analyser"] = round(figures[phase]["per_second"] / analyser, 3)
    print(json.dumps(figures, ensure_ascii=False))


_done = {"ingested": 0, "triaged": 0}


def _ingest() -> int:
    from sotong.inbox import ingest

    result = ingest.ingest_pending(limit=BATCH)
    _done["ingested"] += result.messages
    return result.messages + result.skipped


def _triage() -> int:
    from sotong.inbox import triage

    done = triage.triage_pending(limit=BATCH)
    _done["triaged"] += done
    return done


def _drain(step: Callable[[], int], pending: Callable[[], bool], count: int) -> dict[str, float]:
    """Run ``step`` (one batch) until nothing is ``pending``; per-batch times."""
    batches: list[float] = []
    started = time.perf_counter()
    while pending():
        began = time.perf_counter()
        if not step():
            raise RuntimeError("a batch made no progress")
        batches.append(time.perf_counter() - began)
    return _summary(count, time.perf_counter() - started, batches)


def _events_pending() -> bool:
    from sotong.channels.models import InboundEvent

    return InboundEvent.objects.filter(processed_at__isnull=True).exists()


def _messages_pending() -> bool:
    from sotong.inbox.models import Message

    return Message.objects.filter(triaged_at__isnull=True).exists()


def _store_events(city: Any, count: int, tag: str, seed: int) -> dict[str, str]:
    """``count`` inbound events over the city's channels; returns external id → the
    personal-information literal its text carries ("" if none)."""
    import datetime as dt

    from django.utils import timezone

    from sotong.channels.models import Channel, InboundEvent

    channels = list(Channel.objects.filter(organisation=city).order_by("pk"))
    rng = random.Random(seed)
    start = timezone.now() - dt.timedelta(hours=1)
    literals: dict[str, str] = {}
    events = []
    for number, (text, literal) in enumerate(texts(count, seed)):
        channel = channels[number % len(channels)]
        author = f"{tag}-user-{rng.randrange(count // 3 or 1)}"
        external_id = f"{tag}-{number:07d}"
        private = rng.random() < 0.2
        received = start + dt.timedelta(milliseconds=number)
        events.append(
            InboundEvent(
                organisation=city,
                channel=channel,
                kind="message" if private else "comment",
                external_id=external_id,
                text=text,
                author_id=author,
                author_name=rng.choice(NAMES),
                payload="",
                post_external_id="" if private else f"{tag}-post-{rng.randrange(300)}",
                conversation_id=f"conv-{author}" if private else "",
                occurred_at=received,
                received_at=received,
            )
        )
        literals[external_id] = literal
    InboundEvent.objects.bulk_create(events, batch_size=BATCH)
    return literals


def _analyser_ceiling(count: int) -> dict[str, float]:
    """Kiwi's morphological analysis alone over the same texts, in batches: triage reads
    every text once through it, so end-to-end triage cannot pass this rate on one core."""
    from sotong.nlp.tokenise import morphemes_many

    batches: list[float] = []
    corpus = [text for text, _ in texts(count, SEED)]
    started = time.perf_counter()
    for start in range(0, count, BATCH):
        began = time.perf_counter()
        for _ in morphemes_many(corpus[start : start + BATCH]):
            pass
        batches.append(time.perf_counter() - began)
    return _summary(count, time.perf_counter() - started, batches)


def _ceiling(path: Path, count: int) -> dict[str, float]:
    """Plain executemany of rows as wide as a message row (same file, WAL)."""
    import base64

    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    columns = [
        "organisation_id INTEGER", "event_id INTEGER UNIQUE", "channel_id INTEGER",
        "case_id INTEGER", "citizen_id INTEGER", "kind TEXT", "external_id TEXT",
        "post_external_id TEXT", "parent_external_id TEXT", "conversation_id TEXT",
        "text TEXT", "masked_text TEXT", "pii_kinds TEXT", "text_hash TEXT",
        "occurred_at TEXT", "received_at TEXT", "intent TEXT", "urgency TEXT",
        "reasons TEXT", "suggestions TEXT", "triaged_at TEXT",
    ]  # fmt: skip
    db.execute(
        "CREATE TABLE bench_ceiling (id INTEGER PRIMARY KEY AUTOINCREMENT, "
        + ", ".join(columns)
        + ")"
    )
    db.execute("CREATE INDEX bench_ceiling_received ON bench_ceiling (received_at)")
    rng = random.Random(SEED)
    rows = []
    for number, (text, _literal) in enumerate(texts(count, SEED)):
        encrypted = base64.urlsafe_b64encode(rng.randbytes(len(text.encode()) + 60)).decode()
        rows.append(
            (
                1, number, 1 + number % 7, number // 2, number // 3, "comment",
                f"c-{number:07d}", f"post-{number % 300}", "", "", "fernet:" + encrypted, text, '["phone"]',
                f"{number:064x}", "2026-05-04 09:00:00", "2026-05-04 09:00:00",
                "question", "normal", '["question: 언제"]',
                '[{"unit": "하수도과", "department_id": 3, "name": "하수도과", '
                '"confidence": 0.61}]', "2026-05-04 09:00:01",
            )
        )  # fmt: skip
    placeholders = ", ".join("?" * len(columns))
    names = ", ".join(c.split()[0] for c in columns)
    sql = f"INSERT INTO bench_ceiling ({names}) VALUES ({placeholders})"  # noqa: S608
    batches: list[float] = []
    started = time.perf_counter()
    for at in range(0, count, BATCH):
        began = time.perf_counter()
        db.execute("BEGIN IMMEDIATE")
        db.executemany(sql, rows[at : at + BATCH])
        db.execute("COMMIT")
        batches.append(time.perf_counter() - began)
    seconds = time.perf_counter() - started
    db.execute("DROP TABLE bench_ceiling")
    db.close()
    return _summary(count, seconds, batches)


def _check(literals: dict[str, str], events: int) -> dict[str, int]:
    from django.db.models import Count

    from sotong.channels.models import InboundEvent
    from sotong.inbox import triage
    from sotong.inbox.models import Message

    stored = InboundEvent.objects.count()
    messages = Message.objects.count()
    doubled = Message.objects.values("event").annotate(n=Count("id")).filter(n__gt=1).count()
    unprocessed = InboundEvent.objects.filter(processed_at__isnull=True).count()
    untriaged = Message.objects.filter(triaged_at__isnull=True).count()
    again = triage.triage_pending(limit=BATCH)
    leaked = 0
    with_pii = 0
    for external_id, masked in Message.objects.values_list("external_id", "masked_text"):
        literal = literals.get(external_id, "")
        if literal:
            with_pii += 1
            leaked += literal in masked
    checks = {
        "events": stored,
        "messages": messages,
        "messages_twice": doubled,
        "events_unprocessed": unprocessed,
        "untriaged": untriaged,
        "triaged_counted": _done["triaged"],
        "triaged_again_on_rerun": again,
        "texts_with_pii": with_pii,
        "pii_left_in_masked_text": leaked,
    }
    if (
        stored != events
        or messages != events
        or doubled
        or unprocessed
        or untriaged
        or _done["triaged"] != events
        or again
        or leaked
    ):
        raise RuntimeError(f"inbox throughput checks failed: {checks}")
    return checks
