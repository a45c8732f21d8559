"""Notices in a real browser: a post that was not approved by its publish time is held by
a dispatch round, the author's bell shows it, the notices page lists it, and marking it
read clears the count."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import time

import pytest
from playwright.sync_api import Page, expect

from e2e.conftest import Server, screenshot, sign_in
from e2e.test_publishing import choose_channel, seoul_minute
from e2e.test_shell import assert_accessible

pytestmark = pytest.mark.e2e

# Let the publish time pass: the held post's publications fall due now.
MAKE_DUE = """
import sys, django
django.setup()
from django.utils import timezone
from datetime import timedelta
from sotong.publishing.models import Publication
moved = Publication.objects.filter(variant__post__title=sys.argv[1]).update(
    due_at=timezone.now() - timedelta(seconds=1)
)
print(moved)
"""


def test_a_held_post_rings_the_authors_bell(page: Page, server: Server) -> None:
    title = f"알림 시험 공지 {int(time.time())}"
    sign_in(page, "sewer.author")
    page.goto("/notifications/")
    expect(page.get_by_role("heading", name="알림", level=1)).to_be_visible()
    read_all = page.get_by_role("button", name="모두 읽음")
    if read_all.count():  # left by other browser tests on the same server
        read_all.click()
    expect(page.get_by_role("link", name="알림: 읽지 않음 0건")).to_be_visible()

    page.goto("/compose/")
    page.get_by_label("제목").fill(title)
    page.get_by_label("본문").fill(
        "알림 시험용 공지입니다. 승인 없이 게시 시각이 지나면 보류됩니다."
    )
    choose_channel(page, "Facebook")
    page.get_by_role("button", name="초안 저장").click()
    expect(page.get_by_role("heading", name=title, level=1)).to_be_visible()
    page.get_by_label("게시 시각").fill(seoul_minute(dt.timedelta(minutes=5)))
    page.get_by_role("button", name="승인 요청").click()
    expect(page.locator("#post-status")).to_have_text("승인 대기")

    # Nobody approves it; its time comes and a dispatch round runs.
    moved = subprocess.run(
        [sys.executable, "-c", MAKE_DUE, title],
        env={**server.env, "DJANGO_SETTINGS_MODULE": "sotong.settings"},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert moved.stdout.strip() == "1"
    assert '"held": 1' in server.sotong("publish", "due").stdout

    page.goto("/")
    bell = page.get_by_role("link", name="알림: 읽지 않음 1건")
    expect(bell).to_be_visible()
    bell.click()
    expect(page).to_have_url(f"{server.url}/notifications/")
    notice = page.locator("ol.notices li.unread")
    expect(notice).to_have_count(1)
    expect(notice.get_by_role("link", name=f"보류됨: “{title}”")).to_be_visible()
    expect(notice).to_contain_text("게시 시각")
    assert_accessible(page)
    screenshot(page, "notifications")

    notice.get_by_role("button", name=f"보류됨: “{title}” — 읽음 표시").click()
    expect(page.get_by_role("link", name="알림: 읽지 않음 0건")).to_be_visible()
    expect(page.locator("ol.notices li.unread")).to_have_count(0)
    page.reload()
    expect(page.get_by_role("link", name="알림: 읽지 않음 0건")).to_be_visible()
    # The notice leads to the post, where it can be approved and rescheduled.
    page.get_by_role("link", name=f"보류됨: “{title}”").click()
    expect(page.get_by_role("heading", name=title, level=1)).to_be_visible()
