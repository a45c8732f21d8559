"""Synthetic citizens: a seeded crowd that comments on what the city publishes and writes
to it in private, in Korean, with the personal data real citizens put in their messages
(phone numbers, addresses, resident registration numbers, car plates) for Sotong to mask.

Reacting differs by platform, as Suncheon found: Facebook draws comments on scenery,
food and festivals; Band on practical notices; X and Mastodon on short questions.
"""

from __future__ import annotations

import logging
import random
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sotong.simulator.core import PlatformSimulator, Simulator

logger = logging.getLogger(__name__)

SURNAMES = "김이박최정강조윤장임한오서신권황안송전홍"
GIVEN = [
    "민준",
    "서연",
    "도윤",
    "지우",
    "하은",
    "예준",
    "수아",
    "시우",
    "지호",
    "서윤",
    "영숙",
    "정호",
    "미경",
    "상철",
    "은주",
    "성민",
    "혜진",
    "동현",
    "순자",
    "광수",
]
PLACES = [
    "조례동",
    "연향동",
    "왕지동",
    "해룡면 신대리",
    "덕연동",
    "풍덕동",
    "저전동",
    "매곡동",
    "서면",
    "별량면",
]
TOPICS = {
    "scenery": ["국화", "정원", "갈대", "순천만", "야경", "단풍"],
    "festival": ["축제", "공연", "행사", "개막"],
    "notice": ["공사", "하수", "도로", "통제", "신청", "접수", "안내", "모집", "단수", "주차"],
}


@dataclass(frozen=True)
class Utterance:
    text: str
    category: str  # question, complaint, praise, spam, report
    contains_personal_data: bool = False


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN)


def _phone(rng: random.Random) -> str:
    return f"010-{rng.randint(2000, 9999)}-{rng.randint(1000, 9999)}"


def _rrn(rng: random.Random) -> str:
    return f"{rng.randint(50, 99):02d}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}-{rng.choice('12')}{rng.randint(100000, 999999)}"


def _plate(rng: random.Random) -> str:
    return f"{rng.randint(10, 399)}{rng.choice('가나다라마거너더러머버서어저고노도로모보소오조구누두루무부수우주')} {rng.randint(1000, 9999)}"


def _address(rng: random.Random) -> str:
    return f"순천시 {rng.choice(PLACES)} {rng.randint(1, 999)}-{rng.randint(1, 30)}"


def topic_of(text: str) -> str:
    for topic, words in TOPICS.items():
        if any(word in text for word in words):
            return topic
    return "general"


def comment_for(post_text: str, rng: random.Random) -> Utterance:
    """A citizen's comment under a post, fitting what the post is about."""
    topic = topic_of(post_text)
    roll = rng.random()
    if roll < 0.04:
        return Utterance(f"부업으로 월 300 보장! 카톡 문의 {_phone(rng)}", "spam", True)
    if topic in {"scenery", "festival"}:
        if roll < 0.55:
            return Utterance(
                rng.choice(
                    [
                        "너무 예뻐요!",
                        "주말에 가족이랑 다녀왔어요 😊",
                        "사진 정말 멋지네요",
                        "작년보다 더 좋아졌어요",
                        "순천 최고👍",
                    ]
                ),
                "praise",
            )
        if roll < 0.85:
            return Utterance(
                rng.choice(
                    [
                        "주차장은 어디에 있나요?",
                        "입장료가 있나요?",
                        "몇 시까지 하나요?",
                        "반려견 동반 가능한가요?",
                        "셔틀버스는 어디서 타나요?",
                    ]
                ),
                "question",
            )
        return Utterance(
            f"주차 안내가 부족해요. {_plate(rng)} 차량이 입구를 막고 있었어요", "complaint", True
        )
    if roll < 0.45:
        return Utterance(
            rng.choice(
                [
                    "공사 기간이 언제까지인가요?",
                    "우회도로는 어디인가요?",
                    "신청은 어디서 하나요?",
                    "대상 조건이 어떻게 되나요?",
                    "온라인 접수도 되나요?",
                ]
            ),
            "question",
        )
    if roll < 0.75:
        return Utterance(
            f"{_address(rng)} 앞 {rng.choice(['하수구 냄새가 심해요', '도로가 파였어요', '가로등이 꺼져 있어요', '쓰레기가 쌓여 있어요'])}. "
            f"연락 주세요 {_phone(rng)}",
            "report",
            True,
        )
    if roll < 0.9:
        return Utterance("좋은 정보 감사합니다", "praise")
    return Utterance(f"민원 넣었는데 답이 없어요. {_name(rng)} {_phone(rng)}", "complaint", True)


def private_message(rng: random.Random) -> Utterance:
    """A citizen writing to the city in private (Messenger, Telegram, KakaoTalk)."""
    roll = rng.random()
    if roll < 0.4:
        return Utterance(
            rng.choice(
                [
                    "대형폐기물 배출은 어떻게 하나요?",
                    "여권 재발급은 어디서 하나요?",
                    "음식물 쓰레기 배출 요일이 궁금해요",
                    "주민등록등본 온라인 발급되나요?",
                ]
            ),
            "question",
        )
    if roll < 0.8:
        return Utterance(
            f"{_address(rng)}에 {rng.choice(['불법주차가 계속돼요', '하수관이 막혔어요', '소음이 심해요'])}. "
            f"{_name(rng)} {_phone(rng)}",
            "report",
            True,
        )
    return Utterance(f"기초연금 신청하려고요. 주민번호 {_rrn(rng)} 입니다", "question", True)


class Crowd:
    """Acts ``per_minute`` times a minute on the simulator until stopped."""

    def __init__(
        self,
        simulator: Simulator,
        *,
        per_minute: float = 6.0,
        seed: int = 0,
        message_share: float = 0.25,
    ) -> None:
        self.simulator = simulator
        self.interval = 60.0 / per_minute
        self.rng = random.Random(seed)
        self.message_share = message_share
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="citizens", daemon=True)
        self.acted = 0

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.wait(self.rng.expovariate(1 / self.interval)):
            try:
                self.act()
            except Exception:  # one failed act must not end the crowd
                logger.warning("citizen act failed", exc_info=True)

    def act(self, *, platform: str | None = None, kind: str | None = None, text: str = "") -> bool:
        """One citizen does one thing; False when there was nothing to react to. ``platform``
        and ``kind`` ("comment" or "message") narrow the choice, ``text`` sets the words
        (the control API uses them to act on demand)."""
        platforms = [
            candidate
            for name, candidate in self.simulator.platforms.items()
            if platform is None or name == platform
        ]
        candidates: list[tuple[float, PlatformSimulator, str, str, str]] = []
        for simulated in platforms:
            if not simulated.crowd_weights or kind == "message":
                continue
            with simulated.lock:
                posts = simulated.crowd_posts()
            for account, post_id, post_text in posts:
                weight = simulated.crowd_weights.get(topic_of(post_text), 1.0)
                candidates.append((weight, simulated, account, post_id, post_text))
        author_id = str(self.rng.randint(10**9, 10**10))
        name = _name(self.rng)
        if candidates and (kind == "comment" or self.rng.random() > self.message_share):
            weights = [candidate[0] for candidate in candidates]
            _weight, chosen, account, post_id, post_text = self.rng.choices(
                candidates, weights=weights
            )[0]
            words = text or comment_for(post_text, self.rng).text
            chosen.crowd_comment(account, post_id, author_id, name, words)
            self.acted += 1
            return True
        if kind == "comment":
            return False
        inboxes = [
            (simulated, account)
            for simulated in platforms
            for account in simulated.crowd_message_accounts()
        ]
        if not inboxes:
            return False
        chosen, account = self.rng.choice(inboxes)
        chosen.crowd_message(account, author_id, name, text or private_message(self.rng).text)
        self.acted += 1
        return True
