"""Inbox test fixtures: the city's Facebook Page on the simulator, citizens writing on it,
and the polling that brings what they wrote in as inbound events; the city's KakaoTalk
channel and messages from its chat."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.utils import timezone

from sotong.channels import actions as channels
from sotong.channels.models import Channel, InboundEvent
from sotong.conftest import SYSTEM
from sotong.platforms.base import Credentials, InboundItem, InboundKind
from sotong.simulator.testing import running_simulator, sim  # noqa: F401

PAGE_ID = "104220000000001"


@dataclass
class Said:
    post: str
    external_id: str


@pytest.fixture
def page(sim):  # noqa: F811
    return sim.simulator["facebook"]


@pytest.fixture
def channel(city, sim, page) -> Channel:  # noqa: F811
    token = page.add_page(PAGE_ID, "순천시")
    return channels.connect_channel(
        SYSTEM,
        city,
        kind="facebook",
        name="순천시 페이스북",
        account_id=PAGE_ID,
        credentials=Credentials(access_token=token, extra={"app_secret": "sim-app-secret"}),
        api_base=sim.platform_url("facebook"),
    )


@pytest.fixture
def post(page, channel) -> str:
    return str(page.add_post(PAGE_ID, "조례동 하수관로 공사 안내")["id"])


@pytest.fixture
def comment(page, post, channel) -> Callable[..., Said]:
    """A citizen comments on the post; Sotong polls it in as an inbound event."""

    def say(text: str, author: str = "6011", name: str = "박시민", on: str | None = None) -> Said:
        where = on or post
        made = page.citizen_comment(where, author, name, text)
        channels.poll_channel(channel, now_asked=True)
        return Said(where, str(made["id"]))

    return say


@pytest.fixture
def message(page, channel) -> Callable[..., Said]:
    """A citizen writes to the Page in private."""

    def say(text: str, psid: str = "7012345678901234") -> Said:
        made = page.citizen_message(PAGE_ID, psid, text)
        channels.poll_channel(channel, now_asked=True)
        return Said("", str(made["id"]))

    return say


# -- KakaoTalk ------------------------------------------------------------------------------

KAKAO_BOT = "64f1c2a9e0b7d31a2c5f8e99"
CITIZEN_KEY = "bot-user-key-0001"


@pytest.fixture
def kakao_bot(sim):  # noqa: F811
    return sim.simulator["kakao"]


@pytest.fixture
def kakao_channel(city, sim, kakao_bot) -> Channel:  # noqa: F811
    """The city's KakaoTalk channel on the simulator, Event API off (the default)."""
    key = kakao_bot.add_bot(KAKAO_BOT, "순천시 카카오톡 채널")
    return channels.connect_channel(
        SYSTEM,
        city,
        kind="kakao",
        name="순천시 카카오톡",
        account_id=KAKAO_BOT,
        credentials=Credentials(access_token=key),
        api_base=sim.platform_url("kakao"),
    )


@pytest.fixture
def kakao_says(kakao_channel) -> Callable[..., InboundEvent]:
    """A citizen's message in the KakaoTalk chat, as the chat hands it to the inbox
    (``raw`` carries photos and a location the way the chat composes them)."""
    counter = iter(range(1, 10_000))

    def say(
        text: str,
        user: str = CITIZEN_KEY,
        *,
        raw: dict[str, object] | None = None,
        channel: Channel | None = None,
    ) -> InboundEvent:
        item = InboundItem(
            kind=InboundKind.MESSAGE,
            external_id=f"kakao-test-{next(counter)}",
            text=text,
            author_id=user,
            created_at=timezone.now(),
            conversation_id=user,
            raw=raw or {},
        )
        [event] = channels.record_inbound(channel or kakao_channel, [item])
        return event

    return say
