"""Channels in a real browser: connect the city's Facebook Page by signing in at the
(simulated) platform, test the connection, pause it; the simulator's own web view."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import Page, expect

from e2e.conftest import Server, screenshot, sign_in
from e2e.test_shell import assert_accessible

pytestmark = pytest.mark.e2e


def test_connect_facebook_by_oauth_then_check_and_pause(page: Page, server: Server) -> None:
    sign_in(page, "admin")
    page.goto("/settings/channels/")
    expect(page.get_by_role("heading", name="채널", exact=True)).to_be_visible()
    # The demo city's Facebook channel is already there, pointing at the simulator.
    expect(page.locator("table")).to_contain_text("순천시 페이스북")
    assert_accessible(page)
    page.get_by_role("link", name="Facebook", exact=True).click()
    page.get_by_role("link", name="Facebook 로그인 후 계정 선택").click()
    # At the (simulated) Facebook consent page.
    expect(page).to_have_url(re.compile(re.escape(server.simulator_url)))
    page.get_by_role("link", name="허용").click()
    expect(page.get_by_role("heading", name="계정 선택")).to_be_visible()
    page.get_by_label("채널 이름").fill("순천시 공식 페이스북")
    page.get_by_role("button", name="연결").click()
    expect(page.get_by_role("status")).to_contain_text("순천시 공식 페이스북 채널을 연결했습니다")
    expect(page.locator("#channel-status")).to_contain_text("정상")
    assert_accessible(page)

    page.get_by_role("button", name="연결 점검").click()
    expect(page.get_by_role("status")).to_contain_text("연결이 정상입니다")
    screenshot(page, "channel-detail")
    page.get_by_role("button", name="일시 중지").click()
    expect(page.locator("#channel-status")).to_contain_text("일시 중지")
    page.get_by_role("button", name="재개").click()
    expect(page.locator("#channel-status")).to_contain_text("정상")


def test_simulator_web_view_shows_the_page(page: Page, server: Server) -> None:
    page.goto(f"{server.simulator_url}/view/facebook")
    expect(page.get_by_role("heading", name="Facebook")).to_be_visible()
    expect(page.get_by_role("heading", name="순천시")).to_be_visible()
    screenshot(page, "simulator-facebook")


def test_the_demo_city_has_a_channel_on_every_platform(page: Page, server: Server) -> None:
    from sotong.simulator.demo_world import demo_accounts

    sign_in(page, "admin")
    page.goto("/settings/channels/")
    rows = page.locator("tbody tr")
    # One row per demo account (other tests may reconnect some under another name).
    expect(rows).to_have_count(len(demo_accounts()))
    for label in ("Instagram", "네이버 밴드", "카카오톡 채널", "YouTube", "Mastodon"):
        expect(rows.filter(has_text=label)).to_have_count(1)
    # KakaoTalk news and Naver Blog have no publishing API: their channels are by hand.
    expect(rows.filter(has_text="순천시 블로그")).to_contain_text("수동 게시")
    assert_accessible(page)
    screenshot(page, "channels-list")


def test_connect_telegram_by_token_refuses_a_wrong_one(page: Page, server: Server) -> None:
    from sotong.simulator.telegram import DEMO_ACCOUNTS

    account = DEMO_ACCOUNTS[0]
    sign_in(page, "admin")
    page.goto("/settings/channels/connect/telegram/")
    expect(page.get_by_role("heading", name="Telegram 연결")).to_be_visible()
    # Telegram has no OAuth: the bot token from BotFather is entered by hand.
    expect(page.get_by_role("link", name=re.compile("로그인 후 계정 선택"))).to_have_count(0)
    expect(page.get_by_label("리프레시 토큰")).to_have_count(0)  # Telegram tokens do not expire
    page.get_by_label("채널 이름").fill(account.name)
    page.get_by_label("플랫폼 계정").fill(account.account_id)
    page.get_by_label("액세스 토큰").fill("7700112233:wrong-token")
    page.get_by_label("웹훅 비밀 토큰").fill(account.extra["secret_token"])
    page.get_by_label("API 주소").fill(f"{server.simulator_url}/telegram")
    page.get_by_role("button", name="연결").click()
    expect(page.get_by_text(re.compile("플랫폼이 이 인증 정보를 거부했습니다"))).to_be_visible()
    assert "wrong-token" not in page.content()  # a token is never shown back
    assert_accessible(page)
    screenshot(page, "channel-connect-refused")
    # Secrets are not shown back after an error: both are entered again.
    page.get_by_label("액세스 토큰").fill(account.token)
    page.get_by_label("웹훅 비밀 토큰").fill(account.extra["secret_token"])
    page.get_by_role("button", name="연결").click()
    expect(page.get_by_role("status")).to_contain_text(f"{account.name} 채널을 연결했습니다")
    expect(page.locator("#channel-status")).to_contain_text("정상")
    expect(page.get_by_role("status")).to_contain_text("플랫폼이 이제 소통으로 이벤트를 보냅니다")
    expect(page.locator("#channel-intake")).to_contain_text("웹훅 수신 기록 없음")


def test_band_comments_are_collected_on_demand(page: Page, server: Server) -> None:
    said = httpx.post(
        f"{server.simulator_url}/_control/citizens/band",
        json={"kind": "comment", "text": "공사 기간이 언제까지인가요?"},
        timeout=10,
    )
    assert said.json() == {"acted": True}
    sign_in(page, "admin")
    page.goto("/settings/channels/")
    page.get_by_role("link", name="순천시 밴드").click()
    expect(page.locator("#channel-intake")).to_contain_text("5분마다 수집")
    page.get_by_role("button", name="지금 수집").click()
    expect(page.get_by_role("status")).to_contain_text(
        re.compile(r"새 댓글과 메시지 [1-9]\d*건을 수집했습니다")
    )
    expect(page.locator("#channel-intake")).to_contain_text("마지막 수집")
    assert_accessible(page)
    screenshot(page, "channel-collected")


def test_a_kakaotalk_friend_is_answered_through_sotong(page: Page, server: Server) -> None:
    """The simulated KakaoTalk user writes; Kakao calls Sotong's skill URL and shows the
    chatbot's answer, as the simulator's chat view shows."""
    said = httpx.post(
        f"{server.simulator_url}/_control/citizens/kakao",
        json={"kind": "message", "text": "음식물 쓰레기 배출 요일이 궁금해요"},
        timeout=10,
    )
    assert said.json() == {"acted": True}
    page.goto(f"{server.simulator_url}/view/kakao")
    expect(page.get_by_text("음식물 쓰레기 배출 요일이 궁금해요")).to_be_visible()
    # The chatbot answers from the city's FAQ at once (sotong/chat).
    expect(page.get_by_text(re.compile("일요일부터 목요일까지")).first).to_be_visible()
    screenshot(page, "simulator-kakao-chat")


@pytest.mark.parametrize(
    "kind",
    [
        "facebook",
        "instagram",
        "x",
        "band",
        "kakao",
        "naver_blog",
        "youtube",
        "telegram",
        "mastodon",
    ],
)
def test_simulator_web_view_of_each_platform(kind: str, page: Page, server: Server) -> None:
    page.goto(f"{server.simulator_url}/view/{kind}")
    expect(page.locator("main h2").first).to_be_visible()
    expect(page.locator("article.post").first).to_be_visible()
