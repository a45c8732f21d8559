"""The KakaoTalk 1:1 chat in real browsers: a citizen in the simulator's KakaoTalk client
gets the menu, an FAQ answer, makes a complaint with a photo and gets a receipt; staff
answer the case in Sotong; the answer reaches the citizen with their next message, and
the status shows it. The PR office edits the chatbot's menu."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import Browser, Page, expect

from e2e.conftest import Server, screenshot, sign_in
from e2e.test_shell import assert_accessible

pytestmark = pytest.mark.e2e

BOT_ID = "64f1c2a9e0b7d31a2c5f8e01"  # the demo city's channel (simulator DEMO_ACCOUNTS)
# What the worker does on its own: triage the new message (its masked text is what staff
# see) and fetch the complaint's photos from KakaoTalk's server.
WORKER = """
from sotong.inbox import attachments, triage
triage.triage_pending()
print(attachments.fetch_due())
"""


def send(chat: Page, text: str) -> None:
    chat.get_by_label("메시지").fill(text)
    chat.get_by_role("button", name="전송").click()


def tap(chat: Page, label: str) -> None:
    chat.locator("section[aria-labelledby=quick-title]").get_by_role(
        "button", name=label, exact=True
    ).click()


def last_answer(chat: Page):
    return chat.locator("li.msg.bot").last


def test_a_citizen_goes_from_the_faq_to_a_complaint_to_the_answer(
    page: Page, server: Server, browser: Browser
) -> None:
    marker = uuid.uuid4().hex[:6]
    user = f"e2e-citizen-{marker}"
    phone = browser.new_context(
        locale="ko-KR",
        timezone_id="Asia/Seoul",
        viewport={"width": 390, "height": 844},
        is_mobile=True,
    )
    chat = phone.new_page()
    chat.set_default_timeout(15_000)
    try:
        chat.goto(f"{server.simulator_url}/view/kakao/chat/{BOT_ID}/{user}")
        send(chat, "안녕하세요")
        quick = chat.locator("section[aria-labelledby=quick-title]")
        for label in ("민원 접수", "생활 정보", "처리 현황", "상담원 연결"):
            expect(quick.get_by_role("button", name=label, exact=True)).to_be_visible()

        # A question the FAQ knows, answered at once, and rated.
        send(chat, "음식물쓰레기 버리는 날 알려주세요")
        expect(last_answer(chat)).to_contain_text("일요일부터 목요일까지")
        expect(last_answer(chat)).to_contain_text("도움이 되었나요?")
        tap(chat, "도움이 됐어요")
        expect(last_answer(chat)).to_contain_text("다행이에요")

        # A complaint: what, where, when, a photo, consent, confirm.
        tap(chat, "민원 접수")
        expect(last_answer(chat)).to_contain_text("어떤 불편이 있으신가요?")
        send(chat, f"집 앞 보도블록이 깨져서 걸려 넘어질 뻔했어요 {marker}")
        expect(last_answer(chat)).to_contain_text("어디인가요?")
        send(chat, "순천시 조례동 1234-5 앞 인도")
        tap(chat, "어제")
        expect(last_answer(chat)).to_contain_text("사진이 있으면")
        chat.get_by_role("button", name="사진 보내기").click()
        expect(last_answer(chat)).to_contain_text("사진 1장을 받았어요")
        tap(chat, "다음")
        expect(last_answer(chat)).to_contain_text("개인정보 수집·이용 동의")
        tap(chat, "동의합니다")
        expect(last_answer(chat)).to_contain_text("조례동 1234-5")
        expect(last_answer(chat)).to_contain_text("사진: 1장")
        tap(chat, "접수하기")
        expect(last_answer(chat)).to_contain_text("민원이 접수되었습니다")
        receipt = re.search(r"접수번호 (\d+)", last_answer(chat).inner_text())
        assert receipt, last_answer(chat).inner_text()
        number = receipt.group(1)
        expect(last_answer(chat)).to_contain_text("처리 기한")
        screenshot(chat, "kakao-chat-receipt")

        # Staff answer the case in Sotong.
        server.sotong("shell", "-c", WORKER)
        sign_in(page, "pr.editor")
        page.goto(f"/inbox/cases/{number}/")
        expect(page.get_by_role("heading", name=f"민원 #{number}")).to_be_visible()
        expect(page.locator("main")).to_contain_text(marker)
        expect(page.locator("main")).to_contain_text("조례동")  # the lot number is masked
        expect(page.locator("main img").first).to_be_visible()
        box = page.locator("#reply-form").get_by_label("답변", exact=True)
        box.fill(f"도로과입니다. 내일 오전에 보도블록을 교체하겠습니다. {marker}")
        page.get_by_role("button", name="답변 보내기").click()
        expect(page.get_by_role("status")).to_be_visible()
        page.reload()
        expect(page.locator(".reply", has_text="보도블록을 교체")).to_contain_text("다음 메시지")
        assert_accessible(page)
        screenshot(page, "kakao-case-held-reply")

        # The citizen writes again: the answer comes with the bot's, then the status.
        send(chat, "처리 현황")
        expect(
            chat.locator("li.msg.bot", has_text="보도블록을 교체하겠습니다").first
        ).to_be_visible()
        tap(chat, f"{number}번")
        expect(last_answer(chat)).to_contain_text(f"접수번호 {number}")
        expect(last_answer(chat)).to_contain_text("보도블록을 교체하겠습니다")
        screenshot(chat, "kakao-chat-status")

        page.reload()
        expect(page.locator(".reply", has_text="보도블록을 교체")).to_contain_text(
            "시민의 다음 메시지에 함께 전달됨"
        )
        page.goto("/inbox/chats/")
        expect(page.locator("#chat-table")).to_contain_text(f"#{number}")
        assert_accessible(page)
    finally:
        phone.close()


def test_the_pr_office_changes_the_chatbot_menu(page: Page, server: Server) -> None:
    sign_in(page, "pr.editor")
    page.goto("/settings/chatbot/")
    expect(page.get_by_role("heading", name="카카오톡 챗봇")).to_be_visible()
    page.get_by_label("1번 버튼", exact=True).fill("아주아주아주아주긴라벨이름입니다")
    page.get_by_role("button", name="저장").click()
    expect(page.locator("#chat-settings-form")).to_contain_text("14")
    assert_accessible(page)
    page.get_by_label("1번 버튼", exact=True).fill("민원 신고")
    page.get_by_role("button", name="저장").click()
    expect(page.get_by_role("status")).to_contain_text("챗봇 설정을 저장했습니다")
    chat = page.context.new_page()
    user = f"e2e-menu-{uuid.uuid4().hex[:6]}"
    chat.goto(f"{server.simulator_url}/view/kakao/chat/{BOT_ID}/{user}")
    send(chat, "처음으로")
    tap(chat, "민원 신고")
    expect(last_answer(chat)).to_contain_text("어떤 불편이 있으신가요?")
    # Back to the demo's menu for the other tests.
    page.get_by_label("1번 버튼", exact=True).fill("민원 접수")
    page.get_by_role("button", name="저장").click()
    expect(page.get_by_role("status")).to_contain_text("챗봇 설정을 저장했습니다")
