"""Topic tags in a real browser: a PR editor adds 정원 under 설정 → 주제 분류 (a duplicate is
refused in Korean), moves it up and finds it offered on the compose page; a department
author cannot open the settings. The settings page passes the axe check, errors included."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from e2e.conftest import screenshot, sign_in
from e2e.test_shell import assert_accessible

pytestmark = pytest.mark.e2e


def test_an_editor_adds_a_topic_and_authors_are_offered_it(page: Page) -> None:
    sign_in(page, "pr.editor")
    page.goto("/settings/")
    page.get_by_role("link", name="주제 분류").first.click()
    expect(page.get_by_role("heading", name="주제 분류", exact=True)).to_be_visible()
    topics = page.locator("#topics")
    for name in ("관광", "축제", "생활정보", "교통", "환경", "복지", "안전", "행정"):
        expect(topics.get_by_role("rowheader", name=name, exact=True)).to_be_visible()
    assert_accessible(page)

    # A name already on the list is refused, in Korean, and nothing is added.
    page.get_by_label("주제 이름", exact=True).fill(" 관광 ")
    page.get_by_role("button", name="주제 추가").click()
    expect(page.locator("#topic-form")).to_contain_text("‘관광’ 주제가 이미 있습니다.")
    expect(topics.locator("tbody tr")).to_have_count(8)
    assert_accessible(page)

    page.get_by_label("주제 이름", exact=True).fill("정원")
    page.get_by_role("button", name="주제 추가").click()
    expect(page.get_by_role("status")).to_contain_text("‘정원’ 주제를 추가했습니다.")
    expect(topics.locator("tbody tr").last).to_contain_text("정원")
    # Up one place, above 행정.
    page.get_by_role("button", name="위로 정원").click()
    expect(topics.locator("tbody tr").nth(7)).to_contain_text("정원")
    expect(topics.locator("tbody tr").last).to_contain_text("행정")
    assert_accessible(page)
    screenshot(page, "topics-settings")

    page.goto("/compose/")
    expect(page.get_by_role("checkbox", name="정원", exact=True)).to_be_visible()
    # Offered in the organisation's order: after 안전, before 행정.
    expect(page.locator("#id_topics label").nth(7)).to_have_text("정원")
    expect(page.locator("#id_topics label").nth(8)).to_have_text("행정")


def test_a_department_author_cannot_open_the_topic_settings(page: Page) -> None:
    sign_in(page, "sewer.author")
    page.goto("/settings/")
    expect(page.get_by_role("link", name="주제 분류")).to_have_count(0)
    response = page.goto("/settings/topics/")
    assert response is not None
    assert response.status == 403
