"""The FAQ in a real browser: a PR editor adds an entry with two ways of asking, types a
paraphrase into the try box and sees, live over HTMX, that it would be answered
automatically; an empty form is refused in Korean. The pages pass the axe check."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from e2e.conftest import screenshot, sign_in
from e2e.test_shell import assert_accessible

pytestmark = pytest.mark.e2e


def test_an_editor_adds_an_faq_and_tries_a_paraphrase(page: Page) -> None:
    sign_in(page, "pr.editor")
    page.get_by_role("link", name="자주 묻는 질문").click()
    expect(page.get_by_role("heading", name="자주 묻는 질문", exact=True)).to_be_visible()
    # The demo city's FAQ is there.
    expect(page.locator("#faq-entries tbody tr")).to_have_count(15)
    assert_accessible(page)

    page.get_by_role("link", name="항목 추가").click()
    page.get_by_role("button", name="항목 추가").click()
    expect(page.locator("#faq-form")).to_contain_text(
        "시민이 묻는 말로 질문을 적어도 하나 입력해 주세요."
    )
    assert_accessible(page)

    page.get_by_label("질문", exact=True).fill(
        "반려견 동물등록은 어디서 하나요?\n강아지 등록 방법 알려주세요"
    )
    page.get_by_label("답변", exact=True).fill(
        "반려견 동물등록은 가까운 동물등록대행 동물병원이나 읍·면·동 행정복지센터에서 하실 수 있습니다."
    )
    page.get_by_label("담당 부서").select_option(label="환경보호과")
    page.get_by_role("button", name="항목 추가").click()
    expect(page.get_by_role("status")).to_contain_text(
        "‘반려견 동물등록은 어디서 하나요?’ 항목을 추가했습니다."
    )
    row = page.locator("#faq-entries tbody tr", has_text="반려견 동물등록은 어디서 하나요?")
    expect(row).to_contain_text("외 1개 질문")
    expect(row).to_contain_text("답변 중")

    # Typing is enough: the results come in as the editor writes (HTMX).
    page.get_by_label("시민이 쓸 법한 질문").fill("우리 강아지 동물 등록하려면 어디로 가요")
    matches = page.locator("#try-matches")
    expect(matches).to_be_visible()
    top = matches.locator("tbody tr").first
    expect(top).to_contain_text("반려견 동물등록은 어디서 하나요?")
    expect(top).to_contain_text("자동으로 답변")
    expect(page.locator("#try-answer")).to_contain_text("동물등록대행 동물병원")
    assert_accessible(page)
    screenshot(page, "faq-try")

    # A question the FAQ does not answer would go to staff.
    page.get_by_label("시민이 쓸 법한 질문").fill("아파트 층간소음 때문에 못 살겠어요")
    expect(page.locator("#try-answer")).to_have_count(0)
    expect(page.locator("#try-results")).not_to_contain_text("자동으로 답변")
