"""The public voting page with Django's test client, as a citizen's phone sees it: the
per-device cookie, CSRF, the rate limit, the honeypot, repeat and late votes, the page
before opening and the results after closing."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.cache import cache
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone

from sotong.participation import actions, views
from sotong.participation.models import Ballot, PollState
from sotong.participation.tests.test_views import make_poll


@pytest.fixture(autouse=True)
def _fresh_rate_limit():
    # The limit lives in the cache, which outlives a test's database.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def poll(city):
    return make_poll(city)


def url_of(poll) -> str:
    return reverse("participation:public", args=[poll.public_token])


def html(response) -> str:
    return response.content.decode()


def phone() -> Client:
    return Client(enforce_csrf_checks=True, REMOTE_ADDR="203.0.113.7")


def device_of(citizen: Client) -> str:
    """The device token inside the phone's signed cookie, read as the page reads it."""
    request = RequestFactory().get("/")
    request.COOKIES[views.DEVICE_COOKIE] = citizen.cookies[views.DEVICE_COOKIE].value
    device = views._device(request)
    assert device is not None
    return device


def open_page(citizen: Client, poll) -> tuple[str, str]:
    """The page as first seen: returns the page and the CSRF token to post with."""
    response = citizen.get(url_of(poll))
    assert response.status_code == 200
    return html(response), citizen.cookies["csrftoken"].value


def cast(citizen: Client, poll, token: str, *choices: int, **extra):
    data = {"choice": [str(choice) for choice in choices], "csrfmiddlewaretoken": token}
    data.update(extra)
    return citizen.post(url_of(poll), data)


def test_the_page_is_korean_sets_a_signed_device_cookie_and_keeps_no_cache(poll) -> None:
    citizen = phone()
    response = citizen.get(url_of(poll))
    page = html(response)
    assert 'lang="ko"' in page
    assert "새 소식지 이름으로 어느 것이 좋을까요?" in page
    assert page.count('type="radio"') == 3
    assert "투표하기" in page
    assert response["Cache-Control"] == "private, no-store"
    assert response["Referrer-Policy"] == "same-origin"
    cookie = response.cookies[views.DEVICE_COOKIE]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert cookie["max-age"] == views.DEVICE_MAX_AGE
    # Signed: the value carries its signature, and the device token is not guessable.
    device = device_of(citizen)
    assert len(device) >= 20
    assert cookie.value.startswith(device + ":")
    # A second view keeps the same device.
    again = citizen.get(url_of(poll))
    assert views.DEVICE_COOKIE not in again.cookies


def test_a_vote_is_stored_under_the_device_and_confirmed(poll) -> None:
    citizen = phone()
    _page, token = open_page(citizen, poll)
    device = device_of(citizen)
    response = cast(citizen, poll, token, 2)
    assert response.status_code == 302
    ballot = Ballot.objects.get()
    assert (ballot.source, ballot.choices, ballot.valid) == ("web", [2], True)
    assert ballot.voter == actions.voter_key("web", device)
    assert device not in ballot.voter
    assert response["Location"] == f"{url_of(poll)}?ballot={ballot.source_ref}"
    done = html(citizen.get(response["Location"]))
    assert "투표했습니다." in done
    assert "2. 꽃누리" in done
    assert 'id="vote-form"' not in done
    # Coming back later: the page remembers the vote instead of offering the form.
    later = html(citizen.get(url_of(poll)))
    assert "이 기기에서 이미 투표하셨습니다." in later
    assert 'id="vote-form"' not in later
    # Another phone's address for the confirmation shows nothing of this vote.
    stranger = phone()
    stranger.get(url_of(poll))
    assert "2. 꽃누리" not in html(stranger.get(response["Location"]))


def test_a_second_vote_from_the_same_device_is_kept_but_not_counted(poll) -> None:
    citizen = phone()
    _page, token = open_page(citizen, poll)
    cast(citizen, poll, token, 1)
    # A second tab opened before the first vote, or a double click: a new ballot.
    second = cast(citizen, poll, token, 3)
    assert second.status_code == 302
    assert Ballot.objects.count() == 2
    page = html(citizen.get(second["Location"]))
    assert "3. 순천人" in page
    assert "이미 투표하셨기 때문에 이번 투표는 기록만 되고 집계에는 들어가지 않습니다" in page
    result = actions.count(poll)
    assert [option.votes for option in result.options] == [1, 0, 0]
    assert result.not_counted == {"duplicate": 1}


def test_a_post_without_the_csrf_token_is_refused(poll) -> None:
    citizen = phone()
    citizen.get(url_of(poll))
    response = citizen.post(url_of(poll), {"choice": "1"})
    assert response.status_code == 403
    assert Ballot.objects.count() == 0


def test_a_post_without_the_device_cookie_is_refused_and_gets_one(poll) -> None:
    citizen = phone()
    _page, token = open_page(citizen, poll)
    del citizen.cookies[views.DEVICE_COOKIE]
    response = cast(citizen, poll, token, 1)
    assert response.status_code == 400
    assert "이 기기를 확인할 수 없습니다" in html(response)
    assert views.DEVICE_COOKIE in response.cookies
    # A forged cookie is no better than none.
    citizen.cookies[views.DEVICE_COOKIE] = "forged-device-token-1234567890"
    assert cast(citizen, poll, token, 1).status_code == 400
    assert Ballot.objects.count() == 0


def test_the_rate_limit_stops_a_burst_from_one_address(poll, settings) -> None:
    settings.SOTONG_VOTE_RATE_LIMIT = 3
    citizen = phone()
    _page, token = open_page(citizen, poll)
    for _vote in range(3):
        assert cast(citizen, poll, token, 1).status_code == 302
    response = cast(citizen, poll, token, 1)
    assert response.status_code == 429
    assert response["Retry-After"] == "60"
    assert "짧은 시간에 이 연결에서 너무 많은 투표가 들어왔습니다" in html(response)
    assert Ballot.objects.count() == 3
    # Another address is not held up.
    other = Client(enforce_csrf_checks=True, REMOTE_ADDR="198.51.100.20")
    _page, other_token = open_page(other, poll)
    assert cast(other, poll, other_token, 2).status_code == 302


def test_the_honeypot_catches_a_form_filler(poll) -> None:
    citizen = phone()
    page, token = open_page(citizen, poll)
    # People never see it: off-screen, hidden from assistive technology, out of the tab order.
    hidden = re.search(r'<div class="hp" aria-hidden="true">(.*?)</div>', page, re.S)
    assert hidden is not None
    assert 'tabindex="-1"' in hidden.group(1)
    response = cast(citizen, poll, token, 1, website="https://spam.example")
    assert response.status_code == 400
    assert "이 투표는 접수할 수 없습니다" in html(response)
    assert Ballot.objects.count() == 0


def test_a_vote_without_a_choice_or_with_too_many_is_refused_in_korean(city) -> None:
    poll = make_poll(city, max_choices=2)
    citizen = phone()
    page, token = open_page(citizen, poll)
    assert page.count('type="checkbox"') == 3
    assert "최대 2개까지 고르세요" in page
    none = cast(citizen, poll, token)
    assert none.status_code == 400
    assert "하나 이상 고르세요" in html(none)
    many = cast(citizen, poll, token, 1, 2, 3)
    assert many.status_code == 400
    assert "최대 2개까지 고를 수 있습니다" in html(many)
    unknown = cast(citizen, poll, token, 7)
    assert unknown.status_code == 400
    assert Ballot.objects.count() == 0
    assert cast(citizen, poll, token, 1, 3).status_code == 302
    assert Ballot.objects.get().choices == [1, 3]


def test_a_late_ballot_is_kept_marked_and_not_counted(poll) -> None:
    citizen = phone()
    _page, token = open_page(citizen, poll)
    cast(citizen, poll, token, 1)
    # The page was open on another phone when voting closed.
    late_phone = phone()
    _page, late_token = open_page(late_phone, poll)
    # Voting closes just after the first vote, before the second phone sends its own.
    first = Ballot.objects.get()
    type(poll).objects.filter(pk=poll.pk).update(
        closes_at=first.cast_at + dt.timedelta(microseconds=1)
    )
    response = cast(late_phone, poll, late_token, 2)
    assert response.status_code == 302
    assert Ballot.objects.count() == 2
    page = html(late_phone.get(response["Location"]))
    assert "투표 마감 뒤에 도착하여 기록만 되고 집계에는 들어가지 않습니다" in page
    assert "투표가 마감되었습니다." in page
    poll.refresh_from_db()
    result = actions.count(poll)
    assert [option.votes for option in result.options] == [1, 0, 0]
    assert result.not_counted == {"late": 1}


def test_a_poll_closed_by_hand_before_its_time_takes_no_more_votes(poll) -> None:
    citizen = phone()
    _page, token = open_page(citizen, poll)
    actions.close_poll(actions.audit.Actor.system("tests"), poll)
    response = cast(citizen, poll, token, 1)
    assert response.status_code == 409
    assert "투표가 접수되지 않았습니다." in html(response)
    assert Ballot.objects.count() == 0


def test_before_opening_the_page_says_when(city) -> None:
    now = timezone.now()
    poll = make_poll(
        city, opens_at=now + dt.timedelta(days=2), closes_at=now + dt.timedelta(days=9)
    )
    citizen = Client()
    page = html(citizen.get(url_of(poll)))
    opens = timezone.localtime(poll.opens_at).strftime("%Y-%m-%d %H:%M")
    assert f"투표는 {opens}에 시작합니다." in page
    assert 'id="vote-form"' not in page
    # A vote sent anyway (a page kept from a rehearsal) is kept as early, not counted.
    assert citizen.post(url_of(poll), {"choice": "1"}).status_code == 302
    assert actions.count(poll).not_counted == {"early": 1}


def test_after_closing_the_page_shows_the_results_and_the_citys_response(poll) -> None:
    for number, choice in enumerate([1, 1, 2]):
        citizen = Client(REMOTE_ADDR=f"203.0.113.{number + 1}")
        page, token = open_page(citizen, poll)
        cast(citizen, poll, token, choice)
    system = actions.audit.Actor.system("tests")
    actions.close_poll(system, poll)
    before = html(phone().get(url_of(poll)))
    assert "투표가 마감되었습니다." in before
    assert "시의 답변을 이곳에 공개할 예정입니다" in before
    actions.record_decision(system, poll, "‘순천愛소식’으로 정했습니다.")
    response = phone().get(url_of(poll))
    page = html(response)
    assert 'id="vote-form"' not in page
    assert '<svg viewBox="0 0 360 138" role="img"' in page
    table = page.split('<table id="public-table">', 1)[1].split("</table>", 1)[0]
    assert "집계 인원 3명" in table
    rows = re.findall(
        r"<tr>\s*<th scope=\"row\">(.*?)</th>\s*<td class=\"num\">(\d+)</td>\s*<td class=\"num\">(.*?)</td>",
        table,
    )
    assert rows == [
        ("1. 순천愛소식", "2", "66.7%"),
        ("2. 꽃누리", "1", "33.3%"),
        ("3. 순천人", "0", "0.0%"),
    ]
    assert "‘순천愛소식’으로 정했습니다." in page


def test_a_draft_or_unknown_poll_is_not_found(city) -> None:
    draft = make_poll(city, state=PollState.DRAFT)
    response = phone().get(url_of(draft))
    assert response.status_code == 404
    assert "투표를 찾을 수 없습니다" in html(response)
    assert draft.question not in html(response)
    assert phone().get("/p/not-a-token/").status_code == 404
    assert Client().put(url_of(make_poll(city))).status_code == 405


# -- naming contests: proposals on the public page ---------------------------------------------


@pytest.fixture
def contest(city):
    from sotong.participation.tests.test_views import make_contest

    return make_contest(city)


def propose(citizen: Client, contest, token: str, name: str, reason: str = "", **extra):
    data = {"name": name, "reason": reason, "website": "", "csrfmiddlewaretoken": token}
    data.update(extra)
    return citizen.post(url_of(contest), data)


def test_a_citizen_proposes_names_until_the_limit(contest) -> None:
    from sotong.participation.models import Submission

    citizen = phone()
    page, token = open_page(citizen, contest)
    assert 'id="proposal-form"' in page
    assert "제안할 이름" in page
    assert "이 이름을 제안하는 이유(선택)" in page
    assert "제안 접수:" in page
    response = propose(citizen, contest, token, "  꽃누리 ", "꽃의 도시 순천이라서")
    assert response.status_code == 302
    page = html(citizen.get(response["Location"]))
    assert "제안을 접수했습니다" in page
    assert "제안한 이름: 꽃누리" in page
    made = Submission.objects.get()
    assert (made.name, made.reason, made.source) == ("꽃누리", "꽃의 도시 순천이라서", "web")
    assert made.voter == actions.voter_key("web", device_of(citizen))
    assert "이 기기에서 이름을 2개 더 제안할 수 있습니다" in page
    for name in ("순천나래", "늘봄"):
        assert propose(citizen, contest, token, name).status_code == 302
    # The fourth: the action's limit in Korean; what was typed is kept.
    response = propose(citizen, contest, token, "한가람", "강이 흐르는 도시")
    assert response.status_code == 400
    page = html(response)
    assert "한 사람이 이름을 3개까지 제안할 수 있습니다" in page
    assert 'value="한가람"' in page
    assert "강이 흐르는 도시" in page
    assert Submission.objects.count() == 3
    # Another phone still may.
    other = Client(enforce_csrf_checks=True, REMOTE_ADDR="198.51.100.20")
    _page, other_token = open_page(other, contest)
    assert propose(other, contest, other_token, "한가람").status_code == 302
    assert Submission.objects.count() == 4


def test_a_bad_proposal_is_refused_in_korean_and_nothing_stored(contest) -> None:
    from sotong.participation.models import Submission

    citizen = phone()
    _page, token = open_page(citizen, contest)
    empty = propose(citizen, contest, token, "   ", "이유만 적었어요")
    assert empty.status_code == 400
    assert "제안할 이름을 적어 주세요" in html(empty)
    assert "이유만 적었어요" in html(empty)
    long = propose(citizen, contest, token, "가" * 31)
    assert long.status_code == 400
    assert "이름은 30자까지 쓸 수 있습니다" in html(long)
    bot = propose(citizen, contest, token, "꽃누리", website="http://spam.example")
    assert bot.status_code == 400
    assert "제출을 받을 수 없습니다" in html(bot) or 'id="vote-problem"' in html(bot)
    # Without the CSRF token, or without the device cookie.
    assert citizen.post(url_of(contest), {"name": "꽃누리"}).status_code == 403
    del citizen.cookies[views.DEVICE_COOKIE]
    assert propose(citizen, contest, token, "꽃누리").status_code == 400
    assert Submission.objects.count() == 0


def test_proposals_share_the_rate_limit(contest, settings) -> None:
    settings.SOTONG_VOTE_RATE_LIMIT = 2
    citizen = phone()
    _page, token = open_page(citizen, contest)
    assert propose(citizen, contest, token, "꽃누리").status_code == 302
    assert propose(citizen, contest, token, "순천나래").status_code == 302
    assert propose(citizen, contest, token, "늘봄").status_code == 429


def test_after_the_proposal_period_the_form_is_gone_and_a_late_one_refused(city) -> None:
    from sotong.participation.models import Submission, SubmissionState
    from sotong.participation.tests.test_views import SYSTEM, make_contest

    now = timezone.now()
    contest = make_contest(
        city,
        submissions_open_at=now - dt.timedelta(days=2),
        submissions_close_at=now - dt.timedelta(hours=1),
    )
    # No form, so no CSRF token: a page kept open from before the end posts without one.
    citizen = Client(REMOTE_ADDR="203.0.113.9")
    page = html(citizen.get(url_of(contest)))
    assert 'id="proposal-form"' not in page
    assert "지금은 제안을 받지 않습니다" in page
    response = propose(citizen, contest, "", "꽃누리")
    assert response.status_code == 400
    assert "지금은 이 공모의 제안 접수 기간이 아닙니다" in html(response)
    assert Submission.objects.count() == 0

    # While voting: the shortlist is what a citizen chooses from.
    for name, who in (("꽃누리", "a"), ("순천나래", "b")):
        made, _new = actions.propose(
            contest,
            source="band",
            identity=who,
            source_ref=who,
            name=name,
            at=now - dt.timedelta(hours=2),
        )
        actions.moderate(SYSTEM, made, SubmissionState.SHORTLISTED)
    actions.open_voting_on_shortlist(SYSTEM, contest)
    actions.start_voting_now(SYSTEM, contest)
    page = html(citizen.get(url_of(contest)))
    assert 'id="vote-form"' in page
    assert 'id="proposal-form"' not in page
    assert page.count('type="radio"') == 2
    assert "꽃누리" in page
    assert "순천나래" in page
