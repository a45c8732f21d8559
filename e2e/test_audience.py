"""Friends and reach in a real browser: an administrator types the KakaoTalk channel's
friend count, Kakao's friend callback moves it, a CSV from Excel fills earlier days (a bad
one is refused line by line), and the table and chart show it all."""

from __future__ import annotations

import datetime as dt
import json
import re
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import Page, expect

from e2e.conftest import Server, screenshot, sign_in
from e2e.test_shell import assert_accessible

pytestmark = pytest.mark.e2e

SEOUL = ZoneInfo("Asia/Seoul")
ADMIN_KEY = "kakao-demo-suncheon-admin-key"  # the demo channel's (see simulator.kakao)


def open_audience(page: Page, channel_name: str) -> str:
    page.goto("/settings/channels/")
    page.get_by_role("link", name=channel_name, exact=True).click()
    expect(page).to_have_url(re.compile(r"/settings/channels/\d+/$"))
    page.goto(page.url + "audience/")
    return page.url


def test_type_a_count_count_a_callback_import_a_file(page: Page, server: Server) -> None:
    today = dt.datetime.now(SEOUL).date()
    sign_in(page, "admin")
    address = open_audience(page, "순천시 카카오톡 채널")
    expect(page.get_by_role("heading", name="순천시 카카오톡 채널 일별 친구 수")).to_be_visible()
    expect(page.locator("#audience-how")).to_contain_text(
        "카카오톡에는 친구 수를 읽는 API가 없습니다"
    )
    assert_accessible(page)

    # Type today's count.
    expect(page.get_by_label("날짜")).to_have_value(today.isoformat())
    page.get_by_label("그날의 친구 수").fill("10000")
    page.get_by_label("그날 신규").fill("5")
    page.get_by_role("button", name="저장").click()
    expect(page.get_by_role("status")).to_contain_text(f"{today.isoformat()} 수치를 저장했습니다.")
    expect(page.locator("#audience-latest")).to_have_text("10,000")

    # Kakao tells Sotong a citizen added the channel: the count follows.
    callback_url = page.locator("#audience-how code").first.inner_text()
    answer = httpx.post(
        callback_url,
        content=json.dumps(
            {
                "event": "added",
                "id": "3419384721",
                "id_type": "app_user_id",
                "channel_public_id": "_xkxjRb",
                "updated_at": dt.datetime.now(dt.UTC).isoformat(),
            }
        ),
        headers={"Authorization": f"KakaoAK {ADMIN_KEY}", "Content-Type": "application/json"},
        timeout=10,
    )
    assert (answer.status_code, answer.text) == (200, "counted")
    refused = httpx.post(callback_url, content=b"{}", headers={"Authorization": "KakaoAK x"})
    assert refused.status_code == 401
    page.reload()
    expect(page.locator("#audience-latest")).to_have_text("10,001")
    today_row = page.locator("#audience-table tbody tr").first
    expect(today_row).to_contain_text(today.isoformat())
    expect(today_row.locator("td").nth(1)).to_have_text("6")

    # A CSV with a bad line imports nothing and names the line.
    days = [today - dt.timedelta(days=n) for n in (3, 2)]
    bad = f"날짜,친구 수,신규,차단\r\n{days[0]},9990,4,1\r\n{days[1]},-3,,\r\n"
    page.get_by_label("CSV 파일", exact=True).set_input_files(
        files=[{"name": "친구.csv", "mimeType": "text/csv", "buffer": bad.encode("cp949")}]
    )
    page.get_by_role("button", name="가져오기").click()
    expect(page.locator("#import-errors")).to_contain_text(
        "3번째 줄, 친구 수: -3은(는) 음수입니다. 0 이상이어야 합니다."
    )
    expect(page.locator("#audience-table tbody tr")).to_have_count(1)
    assert_accessible(page)

    # Fixed and saved again by Excel (CP949): both days come in.
    good = bad.replace(",-3,,", ",9993,5,2")
    page.get_by_label("CSV 파일", exact=True).set_input_files(
        files=[{"name": "친구.csv", "mimeType": "text/csv", "buffer": good.encode("cp949")}]
    )
    page.get_by_role("button", name="가져오기").click()
    expect(page.get_by_role("status")).to_contain_text("2일치를 가져왔습니다")
    rows = page.locator("#audience-table tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.nth(2)).to_contain_text(days[0].isoformat())
    expect(rows.nth(2)).to_contain_text("9,990")
    expect(rows.nth(2)).to_contain_text("파일 가져오기")

    # The chart: an image named for what it shows, its marks drawn on the server.
    chart = page.get_by_role("img", name=re.compile("친구 수와 신규·차단 추이"))
    expect(chart).to_be_visible()
    expect(chart.locator("path")).to_have_count(1)  # the two imported days joined
    expect(chart.locator("circle")).to_have_count(1)  # today, alone
    expect(chart.locator("rect")).to_have_count(5)
    assert_accessible(page)
    screenshot(page, "audience-kakao")

    # The download has the three days, ready for Excel.
    download = httpx.get(
        address.replace("audience/", "audience.csv"),
        cookies={c["name"]: c["value"] for c in page.context.cookies()},
        timeout=10,
    )
    lines = download.content.decode("utf-8-sig").splitlines()
    assert lines[0] == "날짜,친구 수,신규,차단,출처"
    assert lines[1] == f"{days[0]},9990,4,1,파일 가져오기"
    assert len(lines) == 4


def test_record_the_facebook_page_count_now(page: Page, server: Server) -> None:
    sign_in(page, "admin")
    open_audience(page, "순천시 페이스북")
    expect(page.locator("#audience-how")).to_contain_text("followers_count")
    page.get_by_role("button", name="지금 기록").click()
    expect(page.get_by_role("status")).to_contain_text("오늘 수치를 기록했습니다")
    expect(page.locator("#audience-table tbody tr").first).to_contain_text("플랫폼")
    assert_accessible(page)
