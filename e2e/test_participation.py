"""Polls and naming contests in a real browser, on the platform simulator.

A poll: the PR office creates it with three options and opens voting; two phones vote on
the public page (one of them twice, from a second tab); staff see the count 1/1/0 with one
ballot not counted as a repeat; after closing, the public page shows the results as a
chart and a table.

A naming contest (the issue's end-to-end test): proposals from the web page and a Band
comment, staff review and a shortlist of two, votes from two phones, a Band comment and a
KakaoTalk quick reply (one of them a repeat), the tally, the public results. Every page
passes axe."""

from __future__ import annotations

import base64
import datetime as dt
import re
import uuid
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect

from e2e.conftest import Server, screenshot, sign_in
from e2e.test_shell import assert_accessible

pytestmark = pytest.mark.e2e

SEOUL = ZoneInfo("Asia/Seoul")
KAKAO_BOT = "64f1c2a9e0b7d31a2c5f8e01"  # the demo city's channel (simulator DEMO_ACCOUNTS)
# What the worker does on its own every few minutes: collect Band's comments and take
# them in (the participation hook turns those under a contest's post into proposals or
# ballots).
COLLECT = """
from sotong.channels import actions
from sotong.channels.models import Channel
from sotong.inbox import ingest
for channel in Channel.objects.filter(kind="band"):
    actions.poll_channel(channel, now_asked=True)
ingest.ingest_pending()
"""
OPTIONS = ["순천愛소식", "꽃누리", "순천人"]


def phone_context(browser: Browser, server: Server, outside: list[str]) -> BrowserContext:
    context = browser.new_context(
        locale="ko-KR",
        timezone_id="Asia/Seoul",
        base_url=server.url,
        viewport={"width": 390, "height": 844},
        is_mobile=True,
    )
    context.on(
        "request",
        lambda request: (
            outside.append(request.url) if not request.url.startswith(server.url) else None
        ),
    )
    return context


def vote(phone: Page, option: str) -> None:
    phone.get_by_label(option, exact=True).check()
    phone.get_by_role("button", name="투표하기").click()


def test_a_poll_from_creation_to_public_results(
    page: Page, browser: Browser, server: Server
) -> None:
    title = f"시 소식지 이름 정하기 {uuid.uuid4().hex[:6]}"
    now = dt.datetime.now(SEOUL)
    sign_in(page, "pr.editor")
    page.get_by_role("navigation", name="주 메뉴").get_by_role("link", name="시민 참여").click()
    expect(page.get_by_role("heading", name="시민 참여", exact=True)).to_be_visible()
    assert_accessible(page)

    # Create: a mistake first (one option only) comes back in Korean with nothing lost.
    page.get_by_role("link", name="새 투표·이름 공모").click()
    expect(page.get_by_role("heading", name="새 투표·이름 공모")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("제목").fill(title)
    page.get_by_label("질문").fill("새 소식지 이름으로 어느 것이 좋을까요?")
    page.get_by_label("정책 담당 부서").select_option(label="홍보담당관")
    page.get_by_label("투표 시작").fill((now - dt.timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("투표 마감").fill((now + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("선택지").fill(OPTIONS[0])
    page.get_by_role("button", name="초안 저장").click()
    expect(page.locator("#poll-form")).to_contain_text("두 개")
    expect(page.get_by_label("제목")).to_have_value(title)
    screenshot(page, "poll-new-error")
    page.get_by_label("선택지").fill("\n".join(OPTIONS))
    page.get_by_role("button", name="초안 저장").click()
    expect(page.get_by_role("heading", name=title)).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("초안으로 저장했습니다")
    poll_url = page.url
    assert re.search(r"/participation/\d+/$", poll_url), poll_url

    # Open voting (after the browser's confirmation).
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="투표 시작").click()
    expect(page.get_by_role("status")).to_contain_text("투표를 시작했습니다")
    expect(page.locator("#poll-state")).to_have_text("투표 중")
    assert_accessible(page)
    public_url = page.locator("#public-link").get_attribute("href")
    assert public_url is not None
    assert "/p/" in public_url

    outside: list[str] = []
    first_phone = phone_context(browser, server, outside)
    second_phone = phone_context(browser, server, outside)
    try:
        # Phone A votes once.
        a = first_phone.new_page()
        a.goto(public_url)
        expect(a.get_by_role("heading", name=title)).to_be_visible()
        assert_accessible(a)
        screenshot(a, "poll-public")
        vote(a, OPTIONS[0])
        expect(a.get_by_role("status")).to_contain_text("투표했습니다.")
        expect(a.locator("#vote-done")).to_contain_text(f"1. {OPTIONS[0]}")
        assert_accessible(a)

        # Phone B has the page open in two tabs and votes from both.
        b1 = second_phone.new_page()
        b1.goto(public_url)
        b2 = second_phone.new_page()
        b2.goto(public_url)
        vote(b1, OPTIONS[1])
        expect(b1.get_by_role("status")).to_contain_text("투표했습니다.")
        vote(b2, OPTIONS[2])
        expect(b2.locator("#vote-done")).to_contain_text("집계에는 들어가지 않습니다")
        expect(b2.locator("#vote-done")).to_contain_text(f"3. {OPTIONS[2]}")
        screenshot(b2, "poll-public-repeat")

        # Staff see the count: 1, 1, 0, and one ballot not counted as a repeat.
        page.goto(poll_url)
        expect(page.locator("#people-counted")).to_have_text("2")
        rows = page.locator("#staff-table tbody tr")
        expect(rows).to_have_count(3)
        for row, votes in zip(range(3), ("1", "1", "0"), strict=True):
            expect(rows.nth(row).locator("td").first).to_have_text(votes)
        expect(page.locator("#not-counted")).to_contain_text(
            "중복: 같은 사람의 앞선 투표가 집계됨: 1"
        )
        expect(page.locator("#ballots tbody tr")).to_have_count(3)
        assert_accessible(page)
        screenshot(page, "poll-staff")

        # Close: the public page shows the results chart and its table.
        page.once("dialog", lambda dialog: dialog.accept())
        page.get_by_role("button", name="투표 마감").click()
        expect(page.get_by_role("status")).to_contain_text("마감했습니다")
        a.reload()
        expect(a.get_by_role("heading", name="결과")).to_be_visible()
        expect(a.locator("#public-chart svg[role=img]")).to_be_visible()
        table = a.locator("#public-table")
        expect(table).to_contain_text("집계 인원 2명")
        result_rows = table.locator("tbody tr")
        expect(result_rows.nth(0)).to_contain_text(f"1. {OPTIONS[0]}")
        expect(result_rows.nth(0).locator("td").nth(1)).to_have_text("50.0%")
        expect(result_rows.nth(2).locator("td").first).to_have_text("0")
        expect(a.locator("#vote-form")).to_have_count(0)
        assert_accessible(a)
        screenshot(a, "poll-public-results")
    finally:
        first_phone.close()
        second_phone.close()
    assert outside == [], f"requests left the server: {outside}"


# -- a naming contest, end to end -------------------------------------------------------------


class BandMember:
    """A Band member who writes comments through BAND's API (the simulator's crowd picks
    a post at random; a contest's comments must land under its own post). The member
    authorised an app once, as any member may, and holds a token of their own: their
    comments are a citizen's, not the city's."""

    def __init__(self, server: Server) -> None:
        from sotong.simulator.band import OAUTH_APP

        self.api = f"{server.simulator_url}/band"
        consent = httpx.get(
            f"{self.api}/oauth2/authorize",
            params={"client_id": OAUTH_APP[0], "response_type": "code", "redirect_uri": "x"},
            timeout=10,
        )
        code = re.search(r"code=([^&\"]+)", consent.text)
        assert code, consent.text
        basic = base64.b64encode(f"{OAUTH_APP[0]}:{OAUTH_APP[1]}".encode()).decode()
        granted = httpx.get(
            f"{self.api}/oauth2/token",
            params={"grant_type": "authorization_code", "code": code.group(1)},
            headers={"Authorization": f"Basic {basic}"},
            timeout=10,
        )
        self.token = granted.json()["access_token"]

    def comment(self, band_key: str, post_key: str, text: str) -> None:
        said = httpx.post(
            f"{self.api}/v2/band/post/comment/create",
            data={
                "access_token": self.token,
                "band_key": band_key,
                "post_key": post_key,
                "body": text,
            },
            timeout=10,
        )
        assert said.json()["result_code"] == 1, said.text


def city_band_post(server: Server, text: str) -> tuple[str, str]:
    """A post on the demo city's band, written by the city's account: (band, post key)."""
    from sotong.simulator.demo_world import demo_accounts

    account = next(account for account in demo_accounts() if account.kind == "band")
    made = httpx.post(
        f"{server.simulator_url}/band/v2.2/band/post/create",
        data={"access_token": account.token, "band_key": account.account_id, "content": text},
        timeout=10,
    )
    return account.account_id, made.json()["result_data"]["post_key"]


def remove_band_post(server: Server, band_key: str, post_key: str) -> None:
    """Off the band again, so later tests' random comments do not land under it."""
    from sotong.simulator.demo_world import demo_accounts

    account = next(account for account in demo_accounts() if account.kind == "band")
    httpx.post(
        f"{server.simulator_url}/band/v2/band/post/remove",
        data={"access_token": account.token, "band_key": band_key, "post_key": post_key},
        timeout=10,
    )


def kakao_chat(browser: Browser, server: Server, user: str) -> tuple[BrowserContext, Page]:
    context = browser.new_context(
        locale="ko-KR",
        timezone_id="Asia/Seoul",
        viewport={"width": 390, "height": 844},
        is_mobile=True,
    )
    chat = context.new_page()
    chat.set_default_timeout(15_000)
    chat.goto(f"{server.simulator_url}/view/kakao/chat/{KAKAO_BOT}/{user}")
    return context, chat


def chat_says(chat: Page, text: str) -> None:
    chat.get_by_label("메시지").fill(text)
    chat.get_by_role("button", name="전송").click()


def quick_replies(chat: Page) -> Locator:
    return chat.locator("section[aria-labelledby=quick-title]")


def kakao_vote(chat: Page, option: str) -> None:
    """ "투표", then the contest (when more than one poll is open), then the option."""
    chat_says(chat, "투표")
    choice = quick_replies(chat).get_by_role("button", name=option, exact=True)
    contest = quick_replies(chat).get_by_role("button", name=re.compile(r"^\d+\. 소식지 이름"))
    expect(choice.or_(contest).first).to_be_visible()
    if not choice.is_visible():
        contest.first.click()
    choice.click()


def moderate_row(page: Page, name: str) -> Locator:
    return page.locator("#proposals tbody tr", has=page.get_by_role("rowheader", name=name))


def test_a_naming_contest_end_to_end_on_the_simulator(
    page: Page, browser: Browser, server: Server
) -> None:
    marker = uuid.uuid4().hex[:4]
    title = f"소식지 이름 공모 {marker}"
    now = dt.datetime.now(SEOUL)
    band_key, post_key = city_band_post(
        server, f"[공모] 새 소식지 이름을 지어 주세요! 댓글로 '이름: …, 이유: …' ({marker})"
    )
    member = BandMember(server)
    outside: list[str] = []
    phones = [phone_context(browser, server, outside) for _phone in range(2)]
    chat_context, chat = kakao_chat(browser, server, f"e2e-naming-{marker}")
    try:
        # Staff create the contest: proposals now, voting right after.
        sign_in(page, "pr.editor")
        page.goto("/participation/new/")
        page.get_by_label("이름 공모", exact=True).check()
        page.get_by_label("제목").fill(title)
        page.get_by_label("질문").fill("새 소식지의 이름을 지어 주세요")
        page.get_by_label("정책 담당 부서").select_option(label="홍보담당관")
        switch = now + dt.timedelta(hours=2)
        page.get_by_label("제안 접수 시작").fill(
            (now - dt.timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M")
        )
        page.get_by_label("제안 접수 마감").fill(switch.strftime("%Y-%m-%dT%H:%M"))
        page.get_by_label("투표 시작").fill(switch.strftime("%Y-%m-%dT%H:%M"))
        page.get_by_label("투표 마감").fill((now + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"))
        page.get_by_role("button", name="초안 저장").click()
        expect(page.get_by_role("heading", name=title)).to_be_visible()
        poll_url = page.url

        # The city's Band post is the contest's post: comments under it take part.
        post_form = page.locator("form", has=page.get_by_role("heading", name="게시물 추가"))
        post_form.get_by_label("채널").select_option(label="순천시 밴드 (네이버 밴드)")
        post_form.get_by_label("플랫폼의 글 ID").fill(post_key)
        post_form.get_by_role("button", name="게시물 추가").click()
        expect(page.locator("#poll-posts")).to_contain_text(post_key)

        page.once("dialog", lambda dialog: dialog.accept())
        page.get_by_role("button", name="제안 접수 시작").click()
        expect(page.get_by_role("status")).to_contain_text("제안 접수를 시작했습니다")
        expect(page.locator("#poll-state")).to_have_text("제안 접수 중")
        assert_accessible(page)
        public_url = page.locator("#public-link").get_attribute("href")
        assert public_url is not None

        # Citizens propose: two on the web page, one in a Band comment.
        a, b = phones[0].new_page(), phones[1].new_page()
        a.goto(public_url)
        expect(a.get_by_role("heading", name="이름 제안하기")).to_be_visible()
        assert_accessible(a)
        a.get_by_label("제안할 이름").fill("순천나래")
        a.get_by_label("이 이름을 제안하는 이유(선택)").fill("순천만 철새처럼 날아오르자는 뜻")
        a.get_by_role("button", name="제안하기").click()
        expect(a.get_by_role("status")).to_contain_text("제안을 접수했습니다")
        expect(a.locator("#proposal-done")).to_contain_text("순천나래")
        assert_accessible(a)
        screenshot(a, "naming-public-proposed")
        b.goto(public_url)
        b.get_by_label("제안할 이름").fill("ㅋㅋㅋ")
        b.get_by_role("button", name="제안하기").click()
        expect(b.get_by_role("status")).to_contain_text("제안을 접수했습니다")
        member.comment(band_key, post_key, "이름: 꽃누리, 이유: 꽃의 도시 순천에 어울려요")
        server.sotong("shell", "-c", COLLECT)

        # Staff review: reject one with its reason, shortlist two, start voting.
        page.goto(poll_url)
        table = page.locator("#proposals")
        expect(table.locator("tbody tr")).to_have_count(3)
        expect(moderate_row(page, "꽃누리")).to_contain_text("네이버 밴드")
        expect(moderate_row(page, "꽃누리")).to_contain_text("꽃의 도시 순천에 어울려요")
        expect(moderate_row(page, "순천나래")).to_contain_text("웹 페이지")
        expect(page.locator("#count-pending")).to_have_text("3")
        assert_accessible(page)
        joke = moderate_row(page, "ㅋㅋㅋ")
        joke.get_by_role("button", name=re.compile("반려$")).click()
        expect(page.get_by_role("status")).to_contain_text("반려하는 이유를 적어 주세요")
        moderate_row(page, "ㅋㅋㅋ").get_by_label("반려 사유").fill("이름으로 볼 수 없음")
        moderate_row(page, "ㅋㅋㅋ").get_by_role("button", name=re.compile("반려$")).click()
        expect(moderate_row(page, "ㅋㅋㅋ")).to_contain_text("이름으로 볼 수 없음")
        for name in ("순천나래", "꽃누리"):
            moderate_row(page, name).get_by_role("button", name=re.compile("후보로 선정$")).click()
            expect(moderate_row(page, name)).to_contain_text("후보 선정")
        expect(page.locator("#count-shortlisted")).to_have_text("2")
        expect(page.locator("#count-rejected")).to_have_text("1")
        screenshot(page, "naming-staff-proposals")
        page.once("dialog", lambda dialog: dialog.accept())
        page.get_by_role("button", name="후보로 투표 시작").click()
        expect(page.get_by_role("status")).to_contain_text("후보 투표를 시작했습니다")
        expect(page.locator("#poll-state")).to_have_text("투표 중")
        assert_accessible(page)

        # Votes: 1. 순천나래, 2. 꽃누리 (the shortlist in the order proposed).
        a.goto(public_url)
        assert_accessible(a)
        vote(a, "꽃누리")
        expect(a.get_by_role("status")).to_contain_text("투표했습니다.")
        b.goto(public_url)
        vote(b, "순천나래")
        expect(b.locator("#vote-done")).to_contain_text("1. 순천나래")
        member.comment(band_key, post_key, "2번이요!!")
        server.sotong("shell", "-c", COLLECT)
        kakao_vote(chat, "2. 꽃누리")
        expect(chat.locator("li.msg.bot").last).to_contain_text("2. 꽃누리")
        # The same KakaoTalk friend votes again: kept, not counted.
        kakao_vote(chat, "1. 순천나래")
        screenshot(chat, "naming-kakao-vote")

        # Staff see the tally: 순천나래 1, 꽃누리 3 (web 1 + Band 1 + KakaoTalk 1).
        page.goto(poll_url)
        expect(page.locator("#people-counted")).to_have_text("4")
        rows = page.locator("#staff-table tbody tr")
        expect(rows).to_have_count(2)
        expect(rows.nth(0).locator("td").first).to_have_text("1")
        expect(rows.nth(1).locator("td").first).to_have_text("3")
        expect(page.locator("#not-counted")).to_contain_text(
            "중복: 같은 사람의 앞선 투표가 집계됨: 1"
        )
        expect(page.locator("#ballots tbody tr")).to_have_count(5)
        assert_accessible(page)
        screenshot(page, "naming-staff-tally")

        page.once("dialog", lambda dialog: dialog.accept())
        page.get_by_role("button", name="투표 마감").click()
        expect(page.get_by_role("status")).to_contain_text("마감했습니다")
        a.reload()
        expect(a.get_by_role("heading", name="결과")).to_be_visible()
        expect(a.locator("#public-chart svg[role=img]")).to_be_visible()
        results = a.locator("#public-table")
        expect(results).to_contain_text("집계 인원 4명")
        expect(results.locator("tbody tr").nth(0)).to_contain_text("1. 순천나래")
        expect(results.locator("tbody tr").nth(0).locator("td").nth(1)).to_have_text("25.0%")
        expect(results.locator("tbody tr").nth(1).locator("td").first).to_have_text("3")
        expect(results.locator("tbody tr").nth(1).locator("td").nth(1)).to_have_text("75.0%")
        assert_accessible(a)
        screenshot(a, "naming-public-results")
    finally:
        for context in (*phones, chat_context):
            context.close()
        remove_band_post(server, band_key, post_key)
    assert outside == [], f"requests left the server: {outside}"
