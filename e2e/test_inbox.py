"""The inbox in a real browser: a citizen comments on the city's (simulated) Band post;
the comment is collected, triaged and masked; the PR office assigns it to 하수도과 and
answers; the answer appears under the post on Band; the case closes within its deadline."""

from __future__ import annotations

import re
import uuid

import httpx
import pytest
from playwright.sync_api import Page, expect

from e2e.conftest import Server, screenshot, sign_in
from e2e.test_shell import assert_accessible

pytestmark = pytest.mark.e2e

# One round of what the worker does on its own: collect from Band (it has no webhooks),
# take in the new events, triage them; and send the replies that are due.
COLLECT = """
from sotong.channels import actions
from sotong.channels.models import Channel
from sotong.inbox import ingest, triage
for channel in Channel.objects.filter(kind="band"):
    actions.poll_channel(channel, now_asked=True)
result = ingest.ingest_pending()
print(result.messages, triage.triage_pending())
"""
SEND = """
from sotong.inbox import actions
print(actions.send_due_replies())
"""


def test_a_band_comment_is_triaged_assigned_answered_and_closed(page: Page, server: Server) -> None:
    marker = uuid.uuid4().hex[:6]
    words = f"조례동 하수구가 막혀서 물이 넘쳐요 {marker} 연락처 010-2345-6789"
    said = httpx.post(
        f"{server.simulator_url}/_control/citizens/band",
        json={"kind": "comment", "text": words},
        timeout=10,
    )
    assert said.json() == {"acted": True}
    server.sotong("shell", "-c", COLLECT)

    sign_in(page, "pr.editor")
    page.goto("/inbox/")
    expect(page.get_by_role("heading", name="민원함")).to_be_visible()
    expect(page.get_by_text(re.compile("j 다음 민원"))).to_be_visible()
    row = page.locator("#inbox-list tr", has_text=marker)
    expect(row).to_have_count(1)
    # Masked before anyone sees it: the phone number is not on the page.
    expect(row).not_to_contain_text("010-2345-6789")
    expect(row).to_contain_text("하수구")
    assert "010-2345-6789" not in page.content()
    assert_accessible(page)
    screenshot(page, "inbox")

    # The keyboard: j moves to the first case, Enter opens the one in focus.
    page.keyboard.press("j")
    expect(page.locator("#inbox-list a.case-link").first).to_be_focused()
    row.locator("a.case-link").focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/inbox/cases/\d+/$"))
    expect(page.get_by_role("heading", name=re.compile(r"민원 #\d+"))).to_be_visible()
    expect(page.locator("#triage-intent")).not_to_have_text("—")
    # 하수구 is one of 하수도과's duties (사무분장): suggested first, and the page says why.
    first = page.locator("ul.suggestions li").first
    expect(first).to_contain_text("하수도과")
    expect(first).to_contain_text("사무분장: 하수구")
    assert "010-2345-6789" not in page.content()
    assert_accessible(page)

    assign = page.locator("#assign-form")
    assign.get_by_label("부서", exact=True).select_option(label="하수도과")
    assign.get_by_role("button", name="배정").click()
    expect(page.get_by_role("status")).to_contain_text("배정했습니다")
    expect(page.locator("#case-department")).to_contain_text("하수도과")

    answer = f"막힌 하수구는 오늘 오후 준설하겠습니다. 불편을 드려 죄송합니다. ({marker})"
    reply = page.locator("#reply-form")
    reply.get_by_label("답변", exact=True).fill(answer)
    reply.get_by_role("button", name="답변 보내기").click()
    expect(page.get_by_role("status")).to_contain_text("채널로 보내는 중입니다")
    server.sotong("shell", "-c", SEND)
    page.reload()
    expect(page.locator(".reply", has_text=marker)).to_contain_text("보냄")
    expect(page.locator("#case-status")).to_contain_text("답변 완료")
    screenshot(page, "inbox-case")
    case_url = page.url

    # The answer is under the post on Band.
    page.goto(f"{server.simulator_url}/view/band")
    expect(page.get_by_text(answer)).to_be_visible()

    page.goto(case_url)
    page.get_by_role("button", name="민원 종결").click()
    expect(page.get_by_role("status")).to_contain_text("민원을 종결했습니다")
    expect(page.locator("#case-status")).to_contain_text("종결")
    expect(page.locator("#case-deadline")).to_contain_text("기한 내 답변")
    assert_accessible(page)
