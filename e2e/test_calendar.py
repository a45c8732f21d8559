"""The content calendar in a real browser: a PR editor finds a scheduled post, filters by
channel, moves it to another time and sees it in the week view."""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from e2e.conftest import Server, screenshot, sign_in
from e2e.test_shell import assert_accessible

pytestmark = pytest.mark.e2e

SEOUL = ZoneInfo("Asia/Seoul")

# Run inside the server's own database (a separate process): write a post for the
# sewerage division to Facebook and Band, submit it for DUE and approve it.
MAKE_POST = """
import datetime as dt, json
from sotong.channels.models import Channel
from sotong.core.audit import Actor
from sotong.core.models import Department, Organisation
from sotong.publishing import actions
from sotong.publishing.models import Publication
actor = Actor.system("e2e")
city = Organisation.objects.get(slug="suncheon")
channels = {
    kind: Channel.objects.filter(organisation=city, kind=kind).order_by("pk").first()
    for kind in ("facebook", "band")
}
post = actions.compose(
    actor, city,
    department=Department.objects.get(organisation=city, code="sewerage"),
    title=TITLE,
    body="조례동 일부 구간을 통제합니다. 우회도로를 이용해 주세요.",
    channels=list(channels.values()),
)
actions.submit(actor, post, publish_at=dt.datetime.fromisoformat(DUE))
actions.approve(actor, post)
print(json.dumps({
    kind: {"id": Publication.objects.get(variant__post=post, channel=channel).pk,
           "channel": channel.name, "channel_id": channel.pk}
    for kind, channel in channels.items()
}))
"""


def make_post(server: Server, title: str, due: dt.datetime) -> dict[str, dict[str, object]]:
    code = f"TITLE = {title!r}\nDUE = {due.isoformat()!r}\n" + MAKE_POST
    result = server.sotong("shell", "-c", code)
    created: dict[str, dict[str, object]] = json.loads(result.stdout.strip().splitlines()[-1])
    return created


def test_editor_filters_reschedules_and_switches_to_the_week(page: Page, server: Server) -> None:
    today = dt.datetime.now(SEOUL).date()
    day = today + dt.timedelta(days=2)
    # Moved by a day within the same month, so the month page shows both days.
    new_day = day + dt.timedelta(days=1)
    if new_day.month != day.month:
        new_day = day - dt.timedelta(days=1)
    title = f"조례동 하수관로 교체 공사 안내 {uuid.uuid4().hex[:6]}"
    created = make_post(server, title, dt.datetime.combine(day, dt.time(10, 0), SEOUL))
    facebook, band = created["facebook"], created["band"]

    sign_in(page, "pr.editor")
    page.get_by_role("navigation", name="주 메뉴").get_by_role("link", name="콘텐츠 달력").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("콘텐츠 달력")
    if day.month != today.month:
        page.get_by_role("link", name="다음 달").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"{day.year}년 {day.month}월")

    item = page.locator(f"#day-{day.isoformat()} #publication-{facebook['id']}")
    expect(item).to_contain_text(title)
    expect(item).to_contain_text("10:00")
    expect(item).to_contain_text(str(facebook["channel"]))
    expect(item).to_contain_text("예약됨")
    expect(page.locator("[aria-current=date]")).to_contain_text("오늘")
    assert_accessible(page)

    # Only Band.
    page.get_by_label("채널", exact=True).select_option(value=str(band["channel_id"]))
    page.get_by_role("button", name="적용").click()
    expect(page).to_have_url(re.compile(r"channel=\d+"))
    expect(page.locator(f"#publication-{facebook['id']}")).to_have_count(0)
    band_item = page.locator(f"#day-{day.isoformat()} #publication-{band['id']}")
    expect(band_item).to_contain_text(title)

    # Move it to 15:30 on another day.
    band_item.get_by_text("일정 변경").click()
    band_item.get_by_label("새 게시 시각").fill(f"{new_day.isoformat()}T15:30")
    band_item.get_by_role("button", name="옮기기").click()
    expect(page.get_by_role("status")).to_contain_text(
        f"게시 시각을 {new_day.isoformat()} 15:30(으)로 옮겼습니다"
    )
    expect(page).to_have_url(re.compile(r"channel=\d+"))  # still filtered
    moved = page.locator(f"#day-{new_day.isoformat()} #publication-{band['id']}")
    expect(moved).to_contain_text("15:30")
    expect(page.locator(f"#day-{day.isoformat()} #publication-{band['id']}")).to_have_count(0)
    screenshot(page, "calendar-month")

    # The week holding the new day, still filtered by Band.
    page.locator("tr", has=page.locator(f"#day-{new_day.isoformat()}")).get_by_role(
        "link", name=re.compile("주간 보기")
    ).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("주차")
    expect(page).to_have_url(re.compile(r"week=\d{4}-W\d{2}.*channel=\d+"))
    section = page.get_by_role("region", name=re.compile(f"{new_day.month}월 {new_day.day}일"))
    expect(section.locator(f"#publication-{band['id']}")).to_contain_text("15:30")
    expect(section.locator(f"#publication-{band['id']}")).to_contain_text(title)
    expect(page.locator(f"#publication-{facebook['id']}")).to_have_count(0)
    assert_accessible(page)
    screenshot(page, "calendar-week")


def test_the_feed_address_serves_icalendar(page: Page, server: Server) -> None:
    sign_in(page, "pr.editor")
    page.goto("/calendar/")
    page.get_by_role("link", name="달력 앱에서 구독").click()
    address = page.get_by_label("내 달력 구독 주소").input_value()
    assert re.match(rf"{re.escape(server.url)}/calendar/feed/.+\.ics$", address)
    assert_accessible(page)
    # A calendar app has no session: fetch the address without the browser's cookies.
    import httpx

    answer = httpx.get(address, timeout=10)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/calendar")
    assert answer.text.startswith("BEGIN:VCALENDAR\r\n")
    assert "X-WR-CALNAME:순천시 게시 일정" in answer.text
    assert httpx.get(address.replace("/feed/", "/feed/x"), timeout=10).status_code == 404
