"""Channels in a real browser: connect the city's Facebook Page by signing in at the
(simulated) platform, test the connection, pause it; the simulator's own web view."""

from __future__ import annotations

import re

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
