"""The JSON API in a real browser and over HTTP: a department author makes a token on the
token page (its secret shown once), a script composes a post with it, the post is on its
page; revoked, the token gets 401. The docs page is Swagger UI served by Sotong itself."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import Page, expect

from e2e.conftest import Server, screenshot, sign_in
from e2e.test_shell import assert_accessible

pytestmark = pytest.mark.e2e

TITLE = "API로 올린 하수도 공사 안내"


def test_token_compose_and_revoke(page: Page, server: Server) -> None:
    sign_in(page, "sewer.author")
    page.goto("/settings/")
    page.get_by_role("link", name="API 토큰").first.click()
    expect(page.get_by_role("heading", name="API 토큰", exact=True)).to_be_visible()
    assert_accessible(page)
    page.get_by_label("토큰 이름").fill("홈페이지 연동")
    page.get_by_role("button", name="토큰 만들기").click()
    expect(page.get_by_role("heading", name="새 토큰")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("한 번만")
    secret = page.get_by_label("토큰", exact=True).input_value()
    assert secret.startswith("sotong_")
    expect(page.get_by_role("button", name="토큰 복사")).to_be_visible()
    assert_accessible(page)
    screenshot(page, "api-tokens")
    # Shown once: the list keeps only its start.
    page.goto("/api/tokens/")
    assert secret not in page.content()
    expect(page.locator("#api-tokens")).to_contain_text("홈페이지 연동")

    headers = {"Authorization": f"Bearer {secret}"}
    with httpx.Client(base_url=server.url, headers=headers, timeout=30) as api:
        channels = api.get("/api/v1/channels").json()
        facebook = next(channel for channel in channels if channel["kind"] == "facebook")
        made = api.post(
            "/api/v1/posts",
            json={
                "title": TITLE,
                "body": "12월 1일부터 조례동 하수관로 공사를 합니다. 우회도로를 이용해 주세요.",
                "hashtags": ["순천"],
                "channels": [facebook["id"]],
            },
            headers={"Idempotency-Key": "e2e-compose-1"},
        )
        assert made.status_code == 201, made.text
        post = made.json()
        assert post["status"] == "draft"
        assert post["created_at"].endswith("+09:00")

        page.goto(f"/posts/{post['id']}/")
        expect(page.get_by_role("heading", name=TITLE)).to_be_visible()

        page.goto("/api/tokens/")
        page.get_by_role("button", name="폐기 홈페이지 연동").click()
        expect(page.get_by_role("status")).to_contain_text("더 이상 쓸 수 없습니다")
        refused = api.get("/api/v1/channels")
        assert refused.status_code == 401
        assert refused.headers["WWW-Authenticate"].startswith("Bearer")


def test_the_docs_page_is_swagger_ui_with_no_outside_request(page: Page, server: Server) -> None:
    sign_in(page, "pr.editor")
    page.goto("/api/v1/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Sotong API")
    expect(page.locator(".swagger-ui .opblock-tag").first).to_be_visible()
    expect(page.get_by_text("/api/v1/posts/{post_id}/request-changes")).to_be_visible()
    screenshot(page, "api-docs")
    # The page fixture fails the test if anything was fetched from outside the server.
