"""Publishing in a real browser: a department author writes a notice once for the city's
Facebook Page and Band, watches the live per-channel preview, asks for approval; the PR
editor approves it from the approval queue, moves it to now; one dispatch round publishes
both on the platform simulator, and the post page shows each with its address."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from e2e.conftest import Server, screenshot, sign_in
from e2e.test_shell import assert_accessible

pytestmark = pytest.mark.e2e

SEOUL = ZoneInfo("Asia/Seoul")
TITLE = "조례동 하수관로 교체 공사 안내"
BODY = "11월 24일부터 28일까지 조례동 일부 구간을 통제합니다. 우회도로를 이용해 주세요."


def seoul_minute(delta: dt.timedelta = dt.timedelta()) -> str:
    """A datetime-local value in Seoul time, to the minute."""
    return (dt.datetime.now(SEOUL) + delta).strftime("%Y-%m-%dT%H:%M")


def choose_channel(page: Page, platform: str) -> str:
    """Tick the first channel on ``platform`` and return its name (test_channels may have
    renamed the demo city's Facebook channel when it reconnected it)."""
    box = page.get_by_role("checkbox", name=re.compile(rf"\({re.escape(platform)}\)$")).first
    box.check()
    label = page.locator(f'label[for="{box.get_attribute("id")}"]').inner_text()
    return label.rsplit(" (", 1)[0].strip()


def publication(page: Page, channel: str):
    return page.locator("article.publication-item").filter(
        has=page.get_by_role("heading", name=re.compile(re.escape(channel)))
    )


def test_compose_approve_publish_on_the_simulator(page: Page, server: Server) -> None:
    sign_in(page, "sewer.author")
    page.goto("/compose/")
    expect(page.get_by_role("heading", name="글쓰기")).to_be_visible()
    page.get_by_label("제목").fill(TITLE)
    page.get_by_label("본문").fill(BODY)
    page.get_by_label("해시태그").fill("#순천, 공사안내")
    page.get_by_label("안전").check()
    facebook_name = choose_channel(page, "Facebook")
    band_name = choose_channel(page, "네이버 밴드")

    # The live preview: each channel's adapted text, as the author types.
    preview = page.locator("#preview")
    band = preview.locator("article").filter(has_text=band_name)
    facebook = preview.locator("article").filter(has_text=facebook_name)
    expect(band.locator("pre")).to_have_text(re.compile(r"^\[안내\] " + TITLE))
    expect(band).to_contain_text("길이 제한 없음")
    expect(facebook.locator("pre")).to_contain_text("#순천 #공사안내")
    expect(facebook).to_contain_text("자 남음")
    page.get_by_label("본문").fill(BODY + " 문의: 하수도과")
    expect(facebook.locator("pre")).to_contain_text("문의: 하수도과")
    assert_accessible(page)
    screenshot(page, "publishing-compose")

    page.get_by_role("button", name="초안 저장").click()
    expect(page.get_by_role("heading", name=TITLE, level=1)).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("초안으로 저장했습니다")
    expect(page.locator("#post-status")).to_have_text("초안")
    page.get_by_label("게시 시각").fill(seoul_minute(dt.timedelta(minutes=1)))
    page.get_by_role("button", name="승인 요청").click()
    expect(page.get_by_role("status")).to_contain_text("승인을 요청했습니다")
    expect(page.locator("#post-status")).to_have_text("승인 대기")
    expect(publication(page, facebook_name)).to_contain_text("예약됨")
    post_url = page.url
    assert_accessible(page)

    # The PR editor approves from the approval queue.
    page.context.clear_cookies()
    sign_in(page, "pr.editor")
    page.goto("/approvals/")
    expect(page.get_by_role("heading", name="승인 대기")).to_be_visible()
    row = page.locator("tbody tr").filter(has_text=TITLE)
    expect(row).to_contain_text("하수도과")
    expect(row).to_contain_text(facebook_name)
    expect(row).to_contain_text(band_name)
    assert_accessible(page)
    row.get_by_role("link", name=TITLE).click()
    expect(page).to_have_url(post_url)
    page.get_by_role("button", name="승인", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("승인했습니다")
    expect(page.locator("#post-status")).to_have_text("승인됨")

    # Move both publications to now rather than wait for their minute.
    for channel in (facebook_name, band_name):
        item = publication(page, channel)
        item.get_by_label("새 게시 시각").fill(seoul_minute())
        item.get_by_role("button", name="시각 변경").click()
        expect(page.get_by_role("status")).to_contain_text("게시 시각을 옮겼습니다")
    result = server.sotong("publish", "due")
    assert result.returncode == 0, result.stderr

    page.reload()
    for channel in (facebook_name, band_name):
        expect(publication(page, channel).locator(".publication-state")).to_have_text("게시됨")
    expect(publication(page, facebook_name).locator("a.publication-url")).to_have_attribute(
        "href", re.compile(r"^https://www\.facebook\.com/104220000000001/posts/")
    )
    # BAND's API answers a post key and no address: the page shows the key instead.
    expect(
        publication(page, band_name).locator("a.publication-url, code.publication-id")
    ).to_have_text(re.compile(r"\S+"))
    timeline = page.locator("ol.timeline")
    expect(timeline).to_contain_text("승인 요청")
    expect(timeline).to_contain_text("승인")
    assert_accessible(page)
    screenshot(page, "publishing-post")

    # On the (simulated) Facebook Page itself.
    page.goto(f"{server.simulator_url}/view/facebook")
    expect(page.get_by_text(re.compile(TITLE)).first).to_be_visible()


PROPAGATE = (
    "import os, django, json, dataclasses;"
    "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'sotong.settings');"
    "django.setup();"
    "from sotong.publishing import propagation;"
    "print(json.dumps(dataclasses.asdict(propagation.propagate_due())))"
)


def propagate(server: Server) -> dict[str, int]:
    """One round of the propagation worker, as the periodic task runs it."""
    import json
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-c", PROPAGATE],
        env=server.env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_edit_after_publishing_then_withdraw(page: Page, server: Server) -> None:
    title = "순천만 갈대숲 야간 개장 안내"
    sign_in(page, "pr.editor")
    page.goto("/compose/")
    page.get_by_label("제목").fill(title)
    page.get_by_label("본문").fill("10월 한 달 동안 갈대숲을 밤 9시까지 엽니다.")
    facebook_name = choose_channel(page, "Facebook")
    page.get_by_role("button", name="초안 저장").click()
    expect(page.get_by_role("heading", name=title, level=1)).to_be_visible()
    page.get_by_label("게시 시각").fill(seoul_minute())
    page.get_by_role("button", name="승인 요청").click()
    page.get_by_role("button", name="승인", exact=True).click()
    expect(page.locator("#post-status")).to_have_text("승인됨")
    assert server.sotong("publish", "due").returncode == 0
    page.reload()
    item = publication(page, facebook_name)
    expect(item.locator(".publication-state")).to_have_text("게시됨")

    # Edit after publishing: through the variant's form, back to approval, then out.
    page.get_by_role("link", name="게시 후 수정").click()
    expect(page.locator("#editing-published")).to_be_visible()
    new_text = "10월 한 달 동안 갈대숲을 밤 10시까지 엽니다. (시간 변경)"
    page.get_by_label(f"{facebook_name} 문안").fill(new_text)
    page.get_by_role("button", name=re.compile(f"{re.escape(facebook_name)}.*저장")).click()
    expect(page.get_by_role("status")).to_contain_text("승인되면 채널의 게시물이 수정됩니다")
    expect(page.locator("#post-status")).to_have_text("승인 대기")
    expect(item.locator(".publication-state")).to_have_text("게시됨")  # stays out meanwhile
    page.get_by_role("button", name="승인", exact=True).click()
    expect(page.locator("#post-status")).to_have_text("승인됨")
    assert propagate(server)["done"] == 1
    page.reload()
    expect(item.locator(".publication-change .change-state")).to_have_text("완료")
    page.goto(f"{server.simulator_url}/view/facebook")
    expect(page.get_by_text(re.compile(r"밤 10시까지 엽니다")).first).to_be_visible()
    page.go_back()

    # Withdraw: a reason and a confirmation; the post disappears from the Page.
    page.get_by_label("게시 취소 사유").fill("야간 개장이 취소되었습니다")
    page.get_by_label(re.compile("게시된 모든 채널에서")).check()
    page.get_by_role("button", name="게시 취소", exact=True).click()
    expect(page.locator("#post-status")).to_have_text("게시 취소됨")
    assert propagate(server)["done"] == 1
    page.reload()
    expect(item.locator(".publication-state")).to_have_text("게시 취소됨")
    expect(page.locator("#post-withdrawn")).to_contain_text("야간 개장이 취소되었습니다")
    history = page.locator("#history")
    expect(history.locator("li.revision")).to_have_count(3)
    expect(history).to_contain_text("게시 후 수정")
    expect(history.locator("ins", has_text="밤 10시까지")).to_have_count(1)
    expect(history.locator("del", has_text="밤 9시까지")).to_have_count(1)
    assert_accessible(page)
    screenshot(page, "publishing-withdrawn")
    post_url = page.url
    page.goto(f"{server.simulator_url}/view/facebook")
    expect(page.get_by_text(re.compile(r"갈대숲을 밤"))).to_have_count(0)
    page.goto(post_url)
