"""Chat test fixtures: the city's KakaoTalk channel (bot on the simulator), FAQ entries, and
a citizen who talks to the skill URL the way Kakao calls it."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from sotong.channels import actions as channels
from sotong.channels.models import Channel
from sotong.conftest import SYSTEM, department
from sotong.faq import actions as faq
from sotong.platforms.base import Credentials
from sotong.platforms.kakao import SKILL_SECRET_HEADER, validate_skill_response
from sotong.simulator.testing import running_simulator, sim  # noqa: F401

BOT_ID = "64f1c2a9e0b7d31a2c5f8e01"
SKILL_SECRET = "test-skill-secret"


@pytest.fixture(autouse=True)
def _fresh_settings_cache() -> None:
    # Primary keys repeat from test to test: another test's cached settings must not leak.
    from sotong.chat.sessions import forget_settings

    forget_settings()


def sample_request() -> dict[str, Any]:
    text = resources.files("sotong.platforms").joinpath("fixtures/kakao/skill_request.json")
    found: dict[str, Any] = json.loads(text.read_text("utf-8"))
    return found


@pytest.fixture
def bot(sim):  # noqa: F811
    platform = sim.simulator["kakao"]
    key = platform.add_bot(BOT_ID, "순천시 카카오톡 채널", followers=10000)
    return platform, key


@pytest.fixture
def kakao_channel(city, sim, bot) -> Channel:  # noqa: F811
    _platform, key = bot
    return channels.connect_channel(
        SYSTEM,
        city,
        kind="kakao",
        name="순천시 카카오톡 채널",
        account_id=BOT_ID,
        credentials=Credentials(access_token=key, extra={"skill_secret": SKILL_SECRET}),
        api_base=sim.platform_url("kakao"),
    )


@pytest.fixture
def faq_entries(city):
    environment = department(city, "sewer")
    return [
        faq.create_entry(
            SYSTEM,
            city,
            questions=[
                "생활쓰레기 배출 요일이 언제인가요?",
                "음식물쓰레기 버리는 날 알려주세요",
            ],
            answer="생활쓰레기와 음식물쓰레기는 일요일부터 목요일까지, 해가 진 뒤 집 앞에 내놓으세요.",
            department=environment,
        ),
        faq.create_entry(
            SYSTEM,
            city,
            questions=["여권 발급 시간이 어떻게 되나요?", "여권 신청은 몇 시까지 가능한가요?"],
            answer="여권 접수는 평일 오전 9시부터 오후 6시까지 민원봉사과에서 합니다.",
            department=environment,
        ),
    ]


@dataclass
class Said:
    """What the chat showed for one request."""

    status: int
    body: dict[str, Any] = field(default_factory=dict)

    @property
    def texts(self) -> list[str]:
        outputs = self.body.get("template", {}).get("outputs", [])
        return [o["simpleText"]["text"] for o in outputs if "simpleText" in o]

    @property
    def text(self) -> str:
        return "\n".join(self.texts)

    @property
    def labels(self) -> list[str]:
        return [q["label"] for q in self.body.get("template", {}).get("quickReplies", [])]


Citizen = Callable[..., Said]


@pytest.fixture
def citizen(client: Client, kakao_channel: Channel) -> Citizen:
    """A citizen writes (or sends a photo) in the 1:1 chat: Kakao POSTs a skill request."""

    def say(
        text: str = "",
        *,
        user: str = "user-key-0001",
        photos: tuple[str, ...] = (),
        mutate: Callable[[dict[str, Any]], None] | None = None,
    ) -> Said:
        payload = copy.deepcopy(sample_request())
        payload["userRequest"]["utterance"] = text or (photos[0] if photos else "")
        payload["userRequest"]["user"]["id"] = user
        payload["action"]["params"] = {}
        payload["action"]["detailParams"] = {}
        if photos:
            listed = ", ".join(photos)
            payload["action"]["params"]["secureimage"] = json.dumps(
                {
                    "privacyAgreement": "Y",
                    "imageQuantity": str(len(photos)),
                    "secureUrls": f"List({listed})",
                }
            )
        if mutate:
            mutate(payload)
        response = client.post(
            reverse("channels:webhook", args=["kakao", kakao_channel.webhook_secret]),
            data=json.dumps(payload, ensure_ascii=False),
            content_type="application/json;charset=UTF-8",
            headers={SKILL_SECRET_HEADER: SKILL_SECRET},
        )
        said = Said(response.status_code)
        if response.status_code == 200:
            said.body = response.json()
            problems = validate_skill_response(said.body)
            assert problems == [], problems
        return said

    return say
