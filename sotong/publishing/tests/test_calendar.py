"""The content calendar: what each staff member sees where (scoping, Korea-time days,
filters), rescheduling from it, and its iCalendar feed."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.views import LogoutView
from django.core import signing
from django.urls import include, path, reverse
from django.utils import timezone
from icalendar import Calendar

from sotong.channels import actions as channel_actions
from sotong.channels.models import Channel
from sotong.conftest import SYSTEM, department
from sotong.core.models import AuditEntry, Organisation
from sotong.core.roles import Role
from sotong.platforms.base import Credentials
from sotong.publishing import actions
from sotong.publishing.calendar_views import FEED_SALT, feed_token
from sotong.publishing.models import Campaign, Publication, PublicationState

SEOUL = ZoneInfo("Asia/Seoul")

# A URL configuration without the compose pages: the calendar must work before they exist.
urlpatterns = [
    path("accounts/logout/", LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("sotong.publishing.calendar_urls")),
    path("", include("sotong.web.urls")),
]


def channel(organisation: Organisation, kind: str, name: str, department_=None) -> Channel:
    # Not verified against a platform: the calendar never calls one.
    return channel_actions.connect_channel(
        SYSTEM,
        organisation,
        kind=kind,
        name=name,
        account_id=f"{organisation.slug}-{kind}",
        credentials=Credentials(access_token=f"token-{kind}"),
        department=department_,
        api_base=f"http://127.0.0.1:9/{kind}",
        verify=False,
    )


def scheduled(
    organisation: Organisation,
    title: str,
    at: dt.datetime,
    channels: list[Channel],
    *,
    code: str = "sewer",
    campaign: Campaign | None = None,
) -> list[Publication]:
    """A post written, submitted for ``at`` and approved: its publications are scheduled."""
    post = actions.compose(
        SYSTEM,
        organisation,
        department=department(organisation, code),
        title=title,
        body=f"{title} 안내입니다.",
        channels=channels,
        campaign=campaign,
    )
    actions.submit(SYSTEM, post, publish_at=at)
    actions.approve(SYSTEM, post)
    return list(Publication.objects.filter(variant__post=post).order_by("channel__name"))


def kst(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SEOUL)


@pytest.fixture
def facebook(city) -> Channel:
    return channel(city, "facebook", "순천시 페이스북")


@pytest.fixture
def band(city) -> Channel:
    return channel(city, "band", "순천시 밴드")


@pytest.fixture
def editor(city, make_staff):
    return make_staff(city, Role.PR_EDITOR, "pr")


@pytest.fixture
def sewer_author(city, make_staff):
    return make_staff(city, Role.DEPARTMENT_AUTHOR, "sewer")


@pytest.fixture
def festival(city) -> Campaign:
    return Campaign.objects.create(organisation=city, name="순천만갈대축제 2030")


@pytest.fixture
def november(city, other_city, facebook, band, festival):
    """A November with work of two departments, a festival campaign, and another city's."""
    sewer = scheduled(city, "조례동 하수관로 공사", kst(2030, 11, 26, 10, 0), [facebook, band])
    roads = scheduled(
        city,
        "갈대축제 교통 통제",
        kst(2030, 11, 12, 9, 0),
        [facebook],
        code="roads",
        campaign=festival,
    )
    yeosu = channel(other_city, "facebook", "여수시 페이스북")
    foreign = scheduled(other_city, "여수 밤바다 축제", kst(2030, 11, 26, 10, 0), [yeosu])
    return {"sewer": sewer, "roads": roads, "foreign": foreign}


def month_page(client, staff, query: str = "month=2030-11"):
    client.force_login(staff.user)
    response = client.get(f"/calendar/?{query}")
    assert response.status_code == 200
    return response


def shown_titles(response) -> set[str]:
    return {
        entry.publication.variant.post.title
        for week_url, week in response.context["weeks"]
        for day in week
        for entry in day.entries
    }


# -- what is shown where --------------------------------------------------------------------


def test_editor_sees_every_department_but_not_another_city(client, editor, november) -> None:
    response = month_page(client, editor)
    assert shown_titles(response) == {"조례동 하수관로 공사", "갈대축제 교통 통제"}
    assert response.context["count"] == 3  # the sewer post goes to two channels
    html = response.content.decode()
    assert "여수 밤바다 축제" not in html
    assert "콘텐츠 달력: 2030년 11월" in html
    # Its day, its time, its channel and its state in Korean.
    day = html[html.index('id="day-2030-11-26"') :]
    day = day[: day.index("</td>")]
    assert "10:00" in day
    assert "순천시 페이스북" in day
    assert "순천시 밴드" in day
    assert "예약됨" in day


def test_department_staff_see_only_their_department(client, sewer_author, november) -> None:
    response = month_page(client, sewer_author)
    assert shown_titles(response) == {"조례동 하수관로 공사"}
    assert "갈대축제 교통 통제" not in response.content.decode()
    # The reschedule form is for those who may publish.
    assert "calendar/publications/" not in response.content.decode()


def test_korean_weekdays_holidays_and_today(client, editor, city) -> None:
    response = month_page(client, editor, "month=2030-12")
    html = response.content.decode()
    for weekday in ("월요일", "화요일", "수요일", "목요일", "금요일", "토요일", "일요일"):
        assert weekday in html
    christmas = html[html.index('id="day-2030-12-25"') :]
    assert "기독탄신일" in christmas[: christmas.index("</td>")]
    assert 'aria-current="date"' not in html  # today is not in December 2030

    today = timezone.now().astimezone(SEOUL).date()
    html = month_page(client, editor, "").content.decode()
    today_cell = re.search(
        rf'<td class="[^"]*today[^"]*" aria-current="date" id="day-{today}"', html
    )
    assert today_cell is not None
    assert "오늘" in html


def test_a_day_is_a_korean_day(client, editor, city, facebook) -> None:
    """23:30 KST on 30 November is 14:30 UTC: November. 00:30 KST on 1 December is still
    30 November in UTC, but December in Korea."""
    scheduled(city, "11월 마지막 밤 공지", kst(2030, 11, 30, 23, 30), [facebook])
    scheduled(city, "12월 첫 새벽 공지", kst(2030, 12, 1, 0, 30), [facebook])
    november = month_page(client, editor, "month=2030-11")
    assert shown_titles(november) == {"11월 마지막 밤 공지"}
    last_day = next(
        day
        for _url, week in november.context["weeks"]
        for day in week
        if day.date == dt.date(2030, 11, 30)
    )
    assert [entry.at.strftime("%H:%M") for entry in last_day.entries] == ["23:30"]
    december = month_page(client, editor, "month=2030-12")
    assert shown_titles(december) == {"12월 첫 새벽 공지"}
    # December's first grid row starts on Monday 25 November: 30 November is shown, empty.
    first_row = december.context["weeks"][0][1]
    assert first_row[0].date == dt.date(2030, 11, 25)
    first_cell = first_row[5]
    assert first_cell.date == dt.date(2030, 11, 30)
    assert not first_cell.in_period
    assert first_cell.entries == []

    week = client.get("/calendar/week/?week=2030-W48")  # 25 Nov – 1 Dec
    days = {
        day.date: [e.publication.variant.post.title for e in day.entries]
        for day in week.context["days"]
    }
    assert days[dt.date(2030, 11, 30)] == ["11월 마지막 밤 공지"]
    assert days[dt.date(2030, 12, 1)] == ["12월 첫 새벽 공지"]


def test_published_items_show_their_address_and_sit_where_they_went_out(
    client, editor, city, facebook
) -> None:
    [publication] = scheduled(city, "순천만 국가정원 야간 개장", kst(2030, 11, 2, 9, 0), [facebook])
    Publication.objects.filter(pk=publication.pk).update(
        state=PublicationState.PUBLISHED,
        url="https://facebook.example/posts/1",
        published_at=kst(2030, 11, 3, 8, 15),
    )
    html = month_page(client, editor).content.decode()
    cell = html[html.index('id="day-2030-11-03"') :]
    cell = cell[: cell.index("</td>")]
    assert "08:15" in cell
    assert "게시됨" in cell
    assert 'href="https://facebook.example/posts/1"' in cell
    before = html[html.index('id="day-2030-11-02"') :]
    assert "국가정원" not in before[: before.index("</td>")]
    # A published item cannot be moved.
    assert f"/calendar/publications/{publication.pk}/reschedule/" not in html


def test_states_have_words_not_only_colours(client, editor, city, facebook, band) -> None:
    first, second = scheduled(city, "상태 점검 공지", kst(2030, 11, 5, 9, 0), [facebook, band])
    Publication.objects.filter(pk=first.pk).update(
        state=PublicationState.FAILED, reason="플랫폼이 거부했습니다"
    )
    Publication.objects.filter(pk=second.pk).update(state=PublicationState.HELD)
    client.force_login(editor.user)
    html = client.get("/calendar/week/?week=2030-W45").content.decode()
    assert "실패" in html
    assert "보류" in html
    assert "플랫폼이 거부했습니다" in html
    assert 'class="entry entry-failed"' in html


def test_cancelled_items_are_hidden_unless_asked_for(client, editor, city, facebook) -> None:
    [publication] = scheduled(city, "취소된 공지", kst(2030, 11, 6, 9, 0), [facebook])
    Publication.objects.filter(pk=publication.pk).update(state=PublicationState.CANCELLED)
    assert shown_titles(month_page(client, editor)) == set()
    assert shown_titles(month_page(client, editor, "month=2030-11&cancelled=on")) == {"취소된 공지"}


# -- filters --------------------------------------------------------------------------------


def test_filters_by_department_channel_and_campaign(
    client, editor, city, november, band, festival
) -> None:
    roads = department(city, "roads")
    assert shown_titles(month_page(client, editor, f"month=2030-11&department={roads.pk}")) == {
        "갈대축제 교통 통제"
    }
    by_channel = month_page(client, editor, f"month=2030-11&channel={band.pk}")
    assert shown_titles(by_channel) == {"조례동 하수관로 공사"}
    assert by_channel.context["count"] == 1
    assert shown_titles(month_page(client, editor, f"month=2030-11&campaign={festival.pk}")) == {
        "갈대축제 교통 통제"
    }


def test_filters_are_kept_across_navigation(client, editor, november, band) -> None:
    response = month_page(client, editor, f"month=2030-11&channel={band.pk}")
    assert response.context["previous_url"] == f"/calendar/?month=2030-10&channel={band.pk}"
    assert response.context["next_url"] == f"/calendar/?month=2030-12&channel={band.pk}"
    assert f"channel={band.pk}" in response.context["week_url"]
    week_url = next(url for url, days in response.context["weeks"] if days[0].date.day == 25)
    week = client.get(week_url)  # 25 November – 1 December
    assert week.status_code == 200
    assert week.context["monday"] == dt.date(2030, 11, 25)
    assert [entry.publication.channel for day in week.context["days"] for entry in day.entries] == [
        band
    ]
    assert week.context["next_url"] == f"/calendar/week/?week=2030-W49&channel={band.pk}"
    assert week.context["month_url"] == f"/calendar/?month=2030-11&channel={band.pk}"


def test_another_citys_filter_values_are_refused(client, editor, november, other_city) -> None:
    foreign_channel = Channel.objects.get(organisation=other_city)
    response = month_page(client, editor, f"month=2030-11&channel={foreign_channel.pk}")
    # Reported and ignored: the city's own items, none of the other city's.
    assert response.context["filters"].errors["channel"]
    assert shown_titles(response) == {"조례동 하수관로 공사", "갈대축제 교통 통제"}
    assert "channel=" not in response.context["next_url"]


def test_an_unreadable_month_or_week_falls_back_with_a_korean_message(client, editor) -> None:
    client.force_login(editor.user)
    today = timezone.now().astimezone(SEOUL).date()
    response = client.get("/calendar/?month=2030-13")
    assert response.context["first"] == today.replace(day=1)
    assert "달을 읽을 수 없어" in response.content.decode()
    response = client.get("/calendar/week/?week=2030-W54")
    assert response.context["monday"] == today - dt.timedelta(days=today.weekday())
    assert "주를 읽을 수 없어" in response.content.decode()


def test_the_calendar_needs_a_sign_in(client) -> None:
    response = client.get("/calendar/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.urls("sotong.publishing.tests.test_calendar")
def test_without_the_compose_pages_titles_are_shown_unlinked(client, editor, november) -> None:
    html = month_page(client, editor).content.decode()
    assert "조례동 하수관로 공사" in html
    assert '<span class="entry-title">조례동 하수관로 공사</span>' in html


def test_titles_link_to_the_post_page(client, editor, november) -> None:
    post = november["sewer"][0].variant.post
    html = month_page(client, editor).content.decode()
    assert f'href="{reverse("publishing:post", args=[post.pk])}"' in html


# -- rescheduling ---------------------------------------------------------------------------


def test_an_editor_reschedules_from_the_calendar(client, editor, november) -> None:
    publication = november["sewer"][0]
    client.force_login(editor.user)
    back = "/calendar/?month=2030-11&channel=1"
    response = client.post(
        f"/calendar/publications/{publication.pk}/reschedule/",
        {"due_at": "2030-11-28T14:30", "next": back},
    )
    assert response.status_code == 302
    assert response["Location"] == back
    publication.refresh_from_db()
    # The time typed is Korea time.
    assert publication.due_at == dt.datetime(2030, 11, 28, 5, 30, tzinfo=dt.UTC)
    assert AuditEntry.objects.filter(action="publication.reschedule").count() == 1
    page = client.get(back).content.decode()
    assert "2030-11-28 14:30" in page  # the confirmation


def test_a_held_publication_is_released_when_moved(client, editor, november) -> None:
    publication = november["roads"][0]
    Publication.objects.filter(pk=publication.pk).update(state=PublicationState.HELD)
    client.force_login(editor.user)
    client.post(
        f"/calendar/publications/{publication.pk}/reschedule/",
        {"due_at": "2030-11-13T09:00"},
        follow=True,
    )
    publication.refresh_from_db()
    assert publication.state == PublicationState.SCHEDULED
    assert publication.due_at == kst(2030, 11, 13, 9, 0)


def test_department_authors_may_not_reschedule(client, sewer_author, november) -> None:
    publication = november["sewer"][0]
    client.force_login(sewer_author.user)
    response = client.post(
        f"/calendar/publications/{publication.pk}/reschedule/", {"due_at": "2030-11-28T14:30"}
    )
    assert response.status_code == 403
    publication.refresh_from_db()
    assert publication.due_at == kst(2030, 11, 26, 10, 0)


def test_another_citys_publication_cannot_be_moved(client, editor, november) -> None:
    foreign = november["foreign"][0]
    client.force_login(editor.user)
    response = client.post(
        f"/calendar/publications/{foreign.pk}/reschedule/", {"due_at": "2030-11-28T14:30"}
    )
    assert response.status_code == 404
    foreign.refresh_from_db()
    assert foreign.due_at == kst(2030, 11, 26, 10, 0)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "새 날짜와 시각을 고르세요"),
        ("내일 아침", "날짜와 시각을 양식에 맞게 입력하세요"),
        ("2020-01-01T09:00", "아직 지나지 않은 시각을 고르세요"),
    ],
)
def test_bad_times_are_refused_in_korean(client, editor, november, value, message) -> None:
    publication = november["sewer"][0]
    client.force_login(editor.user)
    response = client.post(
        f"/calendar/publications/{publication.pk}/reschedule/",
        {"due_at": value, "next": "/calendar/?month=2030-11"},
        follow=True,
    )
    html = response.content.decode()
    assert "조례동 하수관로 공사 일정을 옮기지 못했습니다" in html
    assert message in html
    publication.refresh_from_db()
    assert publication.due_at == kst(2030, 11, 26, 10, 0)


def test_a_published_item_is_not_moved(client, editor, november) -> None:
    publication = november["sewer"][0]
    Publication.objects.filter(pk=publication.pk).update(state=PublicationState.PUBLISHED)
    client.force_login(editor.user)
    response = client.post(
        f"/calendar/publications/{publication.pk}/reschedule/",
        {"due_at": "2030-11-28T14:30"},
        follow=True,
    )
    assert "아직 게시되지 않은 글만 일정을 옮길 수 있습니다" in response.content.decode()
    publication.refresh_from_db()
    assert publication.due_at == kst(2030, 11, 26, 10, 0)


def test_reschedule_goes_back_only_to_this_site(client, editor, november) -> None:
    publication = november["sewer"][0]
    client.force_login(editor.user)
    response = client.post(
        f"/calendar/publications/{publication.pk}/reschedule/",
        {"due_at": "2030-11-28T14:30", "next": "https://evil.example/"},
    )
    assert response["Location"] == "/calendar/"


# -- the iCalendar feed ---------------------------------------------------------------------


def feed(client, staff, query: str = ""):
    return client.get(reverse("calendar:ics", args=[feed_token(staff)]) + query)


def test_the_feed_page_shows_the_staff_members_address(client, editor, band) -> None:
    client.force_login(editor.user)
    html = client.get(f"/calendar/feed/?channel={band.pk}").content.decode()
    address = f"http://testserver/calendar/feed/{feed_token(editor)}.ics?channel={band.pk}"
    assert f'value="{address}"' in html
    # The same address on every visit, so a calendar subscribed to it keeps working.
    assert feed_token(editor) == feed_token(editor)


def test_feed_addresses_given_out_before_still_work(client, editor) -> None:
    from django.core import signing

    from sotong.publishing.calendar_views import FEED_SALT, staff_for_token

    older = signing.dumps({"staff": editor.pk}, salt=FEED_SALT)
    assert staff_for_token(older) == editor
    assert staff_for_token(older[:-2] + "xx") is None
    assert client.get(reverse("calendar:ics", args=[older])).status_code == 200


def test_the_feed_is_valid_icalendar_of_what_the_staff_member_sees(
    client, editor, november, city
) -> None:
    published = november["roads"][0]
    Publication.objects.filter(pk=published.pk).update(
        state=PublicationState.PUBLISHED,
        url="https://facebook.example/posts/9",
        published_at=kst(2030, 11, 12, 9, 0, 5),
    )
    response = feed(client, editor)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    body = response.content
    # RFC 5545 lines end in CRLF.
    assert b"\r\n" in body
    assert body.replace(b"\r\n", b"").count(b"\n") == 0
    calendar = Calendar.from_ical(body)
    assert str(calendar["VERSION"]) == "2.0"
    assert str(calendar["X-WR-CALNAME"]) == "순천시 게시 일정"
    events = {str(event["UID"]): event for event in calendar.walk("VEVENT")}
    sewer_facebook = next(p for p in november["sewer"] if p.channel.kind == "facebook")
    assert set(events) == {
        f"publication-{p.pk}@suncheon.sotong" for p in [*november["sewer"], published]
    }
    event = events[f"publication-{sewer_facebook.pk}@suncheon.sotong"]
    start = event.decoded("DTSTART")
    assert start == dt.datetime(2030, 11, 26, 1, 0, tzinfo=dt.UTC)
    assert start.utcoffset() == dt.timedelta(0)
    assert b"DTSTART:20301126T010000Z" in body
    assert str(event["SUMMARY"]) == "[순천시 페이스북] 조례동 하수관로 공사 · 예약됨"
    assert str(event["STATUS"]) == "CONFIRMED"
    assert "URL" not in event
    done = events[f"publication-{published.pk}@suncheon.sotong"]
    assert str(done["URL"]) == "https://facebook.example/posts/9"
    assert "게시됨" in str(done["SUMMARY"])
    # The same UID on the next fetch: calendar apps update instead of duplicating.
    again = Calendar.from_ical(feed(client, editor).content)
    assert {str(e["UID"]) for e in again.walk("VEVENT")} == set(events)


def test_a_department_staff_members_feed_holds_only_their_department(
    client, sewer_author, november
) -> None:
    calendar = Calendar.from_ical(feed(client, sewer_author).content)
    summaries = {str(event["SUMMARY"]) for event in calendar.walk("VEVENT")}
    assert summaries == {
        "[순천시 페이스북] 조례동 하수관로 공사 · 예약됨",
        "[순천시 밴드] 조례동 하수관로 공사 · 예약됨",
    }


def test_the_feed_keeps_the_filters(client, editor, november, band) -> None:
    calendar = Calendar.from_ical(feed(client, editor, f"?channel={band.pk}").content)
    assert [str(e["SUMMARY"]) for e in calendar.walk("VEVENT")] == [
        "[순천시 밴드] 조례동 하수관로 공사 · 예약됨"
    ]


def test_a_bad_feed_token_is_not_found(client, editor, november) -> None:
    token = feed_token(editor)
    assert client.get(f"/calendar/feed/{token}x.ics").status_code == 404
    assert client.get("/calendar/feed/nonsense.ics").status_code == 404
    # Signed by Sotong, but for something else.
    other = signing.dumps({"staff": editor.pk}, salt="something-else")
    assert client.get(f"/calendar/feed/{other}.ics").status_code == 404
    forged = signing.dumps({"staff": editor.pk}, salt=FEED_SALT, key="not-the-secret-key")
    assert client.get(f"/calendar/feed/{forged}.ics").status_code == 404


def test_a_deactivated_staff_members_feed_stops(client, editor, november) -> None:
    url = reverse("calendar:ics", args=[feed_token(editor)])
    assert client.get(url).status_code == 200
    editor.user.is_active = False
    editor.user.save()
    assert client.get(url).status_code == 404
