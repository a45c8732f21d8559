"""The staff shell in a real browser: sign-in and lockout, settings flows, scoping,
language, keyboard use and accessibility (axe-core)."""

from __future__ import annotations

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from e2e.conftest import screenshot, sign_in

pytestmark = pytest.mark.e2e

AXE = Axe()


def assert_accessible(page: Page) -> None:
    results = AXE.run(page)
    violations = results.response["violations"]
    assert violations == [], results.generate_report()


def test_sign_in_page_is_korean_and_accessible(page: Page) -> None:
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/$"))
    expect(page.locator("html")).to_have_attribute("lang", "ko")
    expect(page.get_by_role("heading", name="소통 로그인")).to_be_visible()
    assert_accessible(page)
    screenshot(page, "login")


def test_five_failed_sign_ins_lock_the_account(page: Page) -> None:
    for _attempt in range(4):
        sign_in(page, "parks.responder", "wrong-password")
        expect(page.get_by_role("alert")).to_contain_text("아이디 또는 비밀번호가 맞지 않습니다")
    sign_in(page, "parks.responder", "wrong-password")
    expect(page.get_by_role("heading", name="계정 잠김")).to_be_visible()
    sign_in(page, "parks.responder")  # the right password no longer helps
    expect(page.get_by_role("heading", name="계정 잠김")).to_be_visible()
    screenshot(page, "locked")


def test_admin_renames_a_department_and_finds_it_in_the_audit_log(page: Page) -> None:
    sign_in(page, "admin")
    expect(page.get_by_role("heading", name="관리자님, 안녕하세요")).to_be_visible()
    expect(page.locator("#system-status")).to_contain_text("작업 처리기")
    assert_accessible(page)
    screenshot(page, "home-admin")

    page.get_by_role("navigation", name="주 메뉴").get_by_role("link", name="설정").click()
    page.get_by_role("link", name="부서").first.click()
    expect(page.get_by_role("heading", name="부서", exact=True)).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name="이름 변경 문화예술과").click()
    page.get_by_label("새 이름").fill("문화정책과")
    page.get_by_role("button", name="저장").click()
    expect(page.get_by_role("status")).to_contain_text("옛 이름은 별칭으로 남습니다")
    row = page.locator("#department-culture-arts")
    expect(row).to_contain_text("문화정책과")
    expect(row).to_contain_text("문화예술과")  # kept as an alias
    screenshot(page, "departments")

    page.get_by_role("link", name="감사 로그").first.click()
    page.get_by_label("작업").select_option("department.rename")
    # HTMX swaps the rows in place and keeps the filter in the address.
    expect(page).to_have_url(re.compile(r"action=department.rename"))
    rows = page.locator("#audit-rows tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("admin")
    expect(rows.first).to_contain_text("문화정책과")
    assert_accessible(page)
    screenshot(page, "audit")


def test_validation_errors_are_shown_in_korean(page: Page) -> None:
    sign_in(page, "admin")
    page.goto("/settings/organisation/")
    page.get_by_label("점심시간 시작").fill("19:00")
    page.get_by_label("점심시간 종료").fill("20:00")
    page.get_by_role("button", name="저장").click()
    expect(page.get_by_role("alert")).to_contain_text("점심시간은 근무시간 안에 있어야 합니다")
    assert_accessible(page)


def test_admin_adds_staff_who_can_then_sign_in(page: Page) -> None:
    sign_in(page, "admin")
    page.goto("/settings/staff/")
    page.get_by_label("이름").fill("배수로")
    page.get_by_label("아이디").fill("sewer.new")
    page.get_by_label("역할").select_option("department_responder")
    page.get_by_label("부서", exact=True).select_option(label="하수도과")
    page.get_by_label("초기 비밀번호").fill("a-strong-start-pw")
    page.get_by_role("button", name="추가").click()
    expect(page.get_by_role("status")).to_contain_text("배수로님이 이제 로그인할 수 있습니다")
    assert_accessible(page)
    page.get_by_role("button", name="로그아웃").click()
    sign_in(page, "sewer.new", "a-strong-start-pw")
    expect(page.get_by_role("heading", name="배수로님, 안녕하세요")).to_be_visible()


def test_temporary_holiday_appears_in_the_office_calendar(page: Page) -> None:
    sign_in(page, "admin")
    page.goto("/settings/calendar/")
    page.get_by_label("날짜").fill("2027-01-04")
    page.get_by_label("이름").fill("임시공휴일")
    page.get_by_role("button", name="추가").click()
    expect(page.get_by_role("status")).to_contain_text("달력을 저장했습니다")
    expect(page.locator("table").first).to_contain_text("2027-01-04")
    assert_accessible(page)
    screenshot(page, "calendar")


def test_department_author_sees_only_their_department(page: Page) -> None:
    sign_in(page, "sewer.author")
    expect(page.get_by_role("banner")).to_contain_text("부서 작성자 · 하수도과")
    page.goto("/settings/staff/")
    table = page.locator("table")
    expect(table).to_contain_text("홍하수")
    expect(table).to_contain_text("문배관")
    expect(table).not_to_contain_text("권교통")
    expect(page.get_by_role("button", name="추가")).to_have_count(0)
    page.goto("/settings/departments/")
    expect(page.get_by_role("link", name=re.compile("이름 변경"))).to_have_count(0)
    page.goto("/settings/audit/")
    expect(page.locator("#audit-rows")).not_to_contain_text("교통과")
    response = page.goto("/settings/organisation/")
    assert response is not None
    expect(page.get_by_role("button", name="저장")).to_have_count(0)
    screenshot(page, "department-author")


def test_viewer_is_refused_the_audit_log(page: Page) -> None:
    sign_in(page, "viewer")
    response = page.goto("/settings/audit/")
    assert response is not None
    assert response.status == 403
    expect(page.get_by_role("heading", name="권한 없음")).to_be_visible()


def test_english_and_keyboard_navigation(page: Page) -> None:
    sign_in(page, "pr.editor")
    page.get_by_label("언어").select_option("en")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", name="Hello, 김소통")).to_be_visible()
    # Skip link first in the tab order, then "g s" opens Settings.
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.locator("body").click(position={"x": 600, "y": 600})
    page.keyboard.press("g")
    page.keyboard.press("s")
    expect(page).to_have_url(re.compile(r"/settings/$"))
    expect(page.get_by_role("heading", name="Settings")).to_be_visible()
    # Sections not built yet are marked, not linked.
    expect(page.locator(".nav-pending").first).to_have_attribute("aria-disabled", "true")
    screenshot(page, "settings-en")
