"""Replies in a real browser: the PR office adds a canned response (a typo in a placeholder
is refused in Korean), inserts it on a case by keyboard and sends it with the survey link;
the citizen answers the survey page on a phone; a reply on a sensitive case waits until
another PR editor approves it, then shows as sent on the simulated Band post."""

from __future__ import annotations

import re
import uuid

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from e2e.conftest import Server, screenshot, sign_in
from e2e.test_shell import assert_accessible

pytestmark = pytest.mark.e2e

# What the worker does on its own (see e2e/test_inbox.py): collect from Band and triage;
# send the replies that are due.
COLLECT = """
from sotong.channels import actions
from sotong.channels.models import Channel
from sotong.inbox import ingest, triage
for channel in Channel.objects.filter(kind="band"):
    actions.poll_channel(channel, now_asked=True)
ingest.ingest_pending()
triage.triage_pending()
"""
SEND = """
from sotong.inbox import actions
print(actions.send_due_replies())
"""
# The demo city's options back to their defaults, for the tests that run after this file.
DEFAULT_OPTIONS = """
from sotong.core.audit import Actor
from sotong.core.models import Organisation
from sotong.inbox import satisfaction
for city in Organisation.objects.all():
    satisfaction.update_options(Actor.system("e2e"), city, ask_satisfaction_by_message=True,
                                survey_link_in_replies=False)
"""


def citizen_comments(server: Server, text: str) -> None:
    said = httpx.post(
        f"{server.simulator_url}/_control/citizens/band",
        json={"kind": "comment", "text": text},
        timeout=10,
    )
    assert said.json() == {"acted": True}
    server.sotong("shell", "-c", COLLECT)


def open_case(page: Page, marker: str) -> str:
    page.goto("/inbox/")
    page.locator("#inbox-list tr", has_text=marker).locator("a.case-link").click()
    expect(page.get_by_role("heading", name=re.compile(r"민원 #\d+"))).to_be_visible()
    return page.url


def assign_to_sewerage(page: Page) -> None:
    assign = page.locator("#assign-form")
    assign.get_by_label("부서", exact=True).select_option(label="하수도과")
    assign.get_by_role("button", name="배정").click()
    expect(page.locator("#case-department")).to_contain_text("하수도과")


def test_a_canned_response_is_inserted_sent_and_the_survey_answered(
    page: Page, server: Server, browser: Browser
) -> None:
    marker = uuid.uuid4().hex[:6]
    title = f"준설 안내 {marker}"
    sign_in(page, "pr.editor")
    try:
        page.goto("/settings/inbox/")
        page.get_by_label("답변에 만족도 조사 링크 붙이기").check()
        page.get_by_role("button", name="저장").click()
        expect(page.get_by_role("status")).to_contain_text("민원함 설정을 저장했습니다")
        assert_accessible(page)

        page.goto("/settings/canned-responses/new/")
        page.get_by_label("제목").fill(title)
        body = page.get_by_label("문안")
        body.fill("{시민}님, {부서}에서 {기한}까지 준설하겠습니다. 문의: {담당}")
        page.get_by_role("button", name="저장").click()
        expect(page.locator("#canned-form")).to_contain_text("알 수 없는 자리표시자입니다: {담당}")
        expect(body).to_have_value(re.compile(r"문의: \{담당\}$"))  # nothing typed is lost
        assert_accessible(page)
        body.fill("{시민}님, {부서}에서 {기한}까지 준설하겠습니다. - {기관}")
        page.get_by_role("button", name="저장").click()
        expect(page.get_by_role("status")).to_contain_text("추가했습니다")
        expect(page.locator("#canned-table")).to_contain_text(title)
        assert_accessible(page)

        citizen_comments(server, f"조례동 하수구가 막혔어요 {marker}")
        case_url = open_case(page, marker)
        assign_to_sewerage(page)
        # By keyboard: choose in the list, Tab to "넣기", Enter.
        chosen = page.get_by_label("상용 답변")
        chosen.select_option(label=title)
        chosen.focus()
        page.keyboard.press("Tab")
        expect(page.get_by_role("button", name="넣기")).to_be_focused()
        page.keyboard.press("Enter")
        box = page.locator("#reply-form").get_by_label("답변", exact=True)
        expect(box).to_have_value(
            re.compile(
                r"^\S\*+\S님, 하수도과에서 \d{4}년 \d{1,2}월 \d{1,2}일\(.\)까지 준설하겠습니다\. - 순천시$"
            )
        )
        expect(box).to_be_focused()
        expect(page.locator("#canned-status")).to_have_text(f"넣었습니다: {title}")
        assert_accessible(page)
        screenshot(page, "inbox-canned")
        page.get_by_role("button", name="답변 보내기").click()
        expect(page.get_by_role("status")).to_contain_text("채널로 보내는 중입니다")
        server.sotong("shell", "-c", SEND)
        page.reload()
        sent = page.locator(".reply", has_text="준설하겠습니다")
        expect(sent).to_contain_text("보냄")
        expect(sent).to_contain_text("/survey/")
        words = sent.locator("p.words").inner_text()
        link = re.search(r"(/survey/[^/\s]+/)", words)
        assert link, words

        # On Band, under the post: the answer and the link.
        page.goto(f"{server.simulator_url}/view/band")
        expect(page.get_by_text(link.group(1), exact=False).first).to_be_visible()

        # The citizen, on a phone, not signed in.
        phone = browser.new_context(
            locale="ko-KR",
            timezone_id="Asia/Seoul",
            base_url=server.url,
            viewport={"width": 390, "height": 844},
            is_mobile=True,
        )
        citizen = phone.new_page()
        try:
            citizen.goto(link.group(1))
            expect(citizen.get_by_role("heading", name="만족도 조사")).to_be_visible()
            assert_accessible(citizen)
            screenshot(citizen, "survey")
            citizen.get_by_role("button", name="응답 보내기").click()
            expect(citizen.get_by_role("alert")).to_contain_text("1점부터 5점 중에서 골라 주세요")
            citizen.get_by_label("4 – 만족").check()
            citizen.get_by_label("하고 싶은 말씀(선택)").fill(f"빨리 와 주셔서 감사합니다 {marker}")
            citizen.get_by_role("button", name="응답 보내기").click()
            expect(citizen.get_by_role("status")).to_contain_text("응답이 기록되었습니다")
            screenshot(citizen, "survey-answered")
            citizen.goto(link.group(1))
            expect(citizen.get_by_text("이미 응답하신 만족도 조사입니다")).to_be_visible()
        finally:
            phone.close()

        page.goto(case_url)
        expect(page.locator("#case-satisfaction")).to_contain_text("4 / 5")
        expect(page.locator("#case-satisfaction")).to_contain_text("만족도 조사 페이지")
        page.goto("/inbox/?status=answered")
        expect(page.locator("#satisfaction-average")).to_contain_text("/ 5")
    finally:
        server.sotong("shell", "-c", DEFAULT_OPTIONS)


def test_a_sensitive_reply_waits_for_another_editors_approval(page: Page, server: Server) -> None:
    marker = uuid.uuid4().hex[:6]
    citizen_comments(server, f"구청 공사 때문에 하수가 역류합니다 {marker}")
    sign_in(page, "pr.editor")
    case_url = open_case(page, marker)
    assign_to_sewerage(page)
    sensitivity = page.locator("#sensitivity-form")
    sensitivity.get_by_label("민감 민원 여부").select_option("marked")
    sensitivity.get_by_label("사유").fill("언론 보도가 예정된 건")
    sensitivity.get_by_role("button", name="민감 민원 여부 바꾸기").click()
    expect(page.locator("#case-sensitivity")).to_contain_text("답변 승인 필요")

    answer = f"역류 원인을 오늘 점검하고 내일까지 조치하겠습니다. ({marker})"
    page.locator("#reply-form").get_by_label("답변", exact=True).fill(answer)
    page.get_by_role("button", name="승인 요청").click()
    expect(page.get_by_role("status")).to_contain_text("승인을 받은 뒤 보냅니다")
    waiting = page.locator(".reply", has_text=marker)
    expect(waiting).to_contain_text("승인 대기")
    # The writer cannot approve their own reply.
    expect(waiting.get_by_role("button", name="승인하고 보내기")).to_have_count(0)
    assert_accessible(page)
    server.sotong("shell", "-c", SEND)  # the sender does not take it
    page.goto(f"{server.simulator_url}/view/band")
    expect(page.get_by_text(answer)).to_have_count(0)

    page.context.clear_cookies()
    sign_in(page, "pr.editor2")
    page.goto("/inbox/")
    page.locator("#inbox-figures").get_by_role("link", name=re.compile("승인 대기 답변")).click()
    expect(page.locator("#inbox-list tr", has_text=marker)).to_have_count(1)
    page.goto(case_url)
    waiting = page.locator(".reply", has_text=marker)
    assert_accessible(page)
    screenshot(page, "inbox-approval")
    waiting.get_by_role("button", name="승인하고 보내기").click()
    expect(page.get_by_role("status")).to_contain_text("답변을 승인했습니다")
    server.sotong("shell", "-c", SEND)
    page.reload()
    expect(page.locator(".reply", has_text=marker)).to_contain_text("보냄")
    expect(page.locator("#case-status")).to_contain_text("답변 완료")
    page.goto(f"{server.simulator_url}/view/band")
    expect(page.get_by_text(answer)).to_be_visible()
