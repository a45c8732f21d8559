"""Recurring series: rules in Asia/Seoul, holidays skipped, the queue and its warnings,
exactly one post per occurrence, pre-approved and needs-approval series, and the pages."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from sotong.channels.models import Channel
from sotong.conftest import department
from sotong.core.models import AuditEntry
from sotong.core.roles import Role
from sotong.publishing import series as series_actions
from sotong.publishing.models import (
    OccurrenceState,
    Post,
    PostStatus,
    Publication,
    PublicationState,
    Review,
    ReviewDecision,
    Series,
    SeriesKind,
    SeriesOccurrence,
)
from sotong.publishing.series import SeriesSettings

SEOUL = ZoneInfo("Asia/Seoul")
WEEKLY_MONDAY = "FREQ=WEEKLY;BYDAY=MO;BYHOUR=9;BYMINUTE=0"


def seoul(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SEOUL)


@pytest.fixture
def facebook(city) -> Channel:
    return Channel.objects.create(
        organisation=city, kind="facebook", name="순천시 페이스북", account_id="104220000000001"
    )


@pytest.fixture
def author(city, make_staff):
    return make_staff(city, Role.DEPARTMENT_AUTHOR, "sewer")


@pytest.fixture
def editor(city, make_staff):
    return make_staff(city, Role.PR_EDITOR, "pr")


def settings_for(city, channels, **overrides) -> SeriesSettings:
    fields = {
        "name": "주간꿀팁",
        "department": department(city, "sewer"),
        "channels": channels,
        "rule": WEEKLY_MONDAY,
        "starts_at": seoul(2027, 1, 26, 0, 0),
        "skip_holidays": True,
        "lead_time": dt.timedelta(hours=24),
        **overrides,
    }
    return SeriesSettings(**fields)


def make_series(by, city, channels, **overrides) -> Series:
    return series_actions.create_series(
        by, city, kind=SeriesKind.QUEUE, values=settings_for(city, channels, **overrides)
    )


def fill(by, series, count: int) -> None:
    for number in range(1, count + 1):
        series_actions.add_item(
            by,
            series,
            title=f"꿀팁 {number}",
            body=f"겨울철 수도관 동파 예방 꿀팁 {number}번입니다.",
            hashtags="#순천 #꿀팁",
        )


# -- rules --------------------------------------------------------------------------------


def test_next_occurrences_are_mondays_at_nine_seoul_time() -> None:
    found = series_actions.next_occurrences(
        WEEKLY_MONDAY, seoul(2027, 1, 1), SEOUL, seoul(2027, 1, 1), 5
    )
    assert found == [
        seoul(2027, 1, 4, 9),
        seoul(2027, 1, 11, 9),
        seoul(2027, 1, 18, 9),
        seoul(2027, 1, 25, 9),
        seoul(2027, 2, 1, 9),
    ]
    # 09:00 KST is 00:00 UTC, all year: Korea keeps no daylight saving time.
    assert {moment.astimezone(dt.UTC).hour for moment in found} == {0}
    july = series_actions.next_occurrences(
        WEEKLY_MONDAY, seoul(2027, 1, 1), SEOUL, seoul(2027, 7, 1), 1
    )
    assert july[0].astimezone(dt.UTC) == dt.datetime(2027, 7, 5, 0, 0, tzinfo=dt.UTC)


def test_rule_prefix_and_utc_until_are_understood() -> None:
    rule = "RRULE:FREQ=DAILY;BYHOUR=7;BYMINUTE=0;UNTIL=20270103T000000Z"
    found = series_actions.next_occurrences(rule, seoul(2027, 1, 1), SEOUL, seoul(2027, 1, 1), 9)
    # UNTIL 2027-01-03 00:00 UTC is 09:00 in Seoul: the 07:00 post that day still counts.
    assert found == [seoul(2027, 1, 1, 7), seoul(2027, 1, 2, 7), seoul(2027, 1, 3, 7)]


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ("", "반복 규칙을 입력하세요"),
        ("FREQ=WEEKLY;BYDAY=XX", "invalid 'BYDAY': XX"),
        ("FREQ=WEEKLY;BYHOUR=25", "반복 규칙을 읽을 수 없습니다"),
        ("BYDAY=MO", "FREQ=DAILY"),
        ("FREQ=MINUTELY", "한 시간에 한 번"),
        ("FREQ=HOURLY;BYMINUTE=0,30", "한 시간에 한 번"),
        ("DTSTART:20270101T090000\nRRULE:FREQ=DAILY", "RRULE 한 줄"),
        ("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30", "시작 이후에 해당하는 날짜가 없습니다"),
    ],
)
def test_bad_rules_get_a_korean_error(rule: str, expected: str) -> None:
    with pytest.raises(ValidationError) as raised:
        series_actions.parse_rule(rule, seoul(2027, 1, 1), SEOUL)
    message = " ".join(raised.value.message_dict["rule"])
    assert expected in message


def test_a_bad_rule_is_not_saved(city, facebook, author) -> None:
    with pytest.raises(ValidationError) as raised:
        make_series(author, city, [facebook], rule="FREQ=WEEKLY;BYDAY=MON")
    assert "rule" in raised.value.message_dict
    assert not Series.objects.exists()


# -- holidays -----------------------------------------------------------------------------


def test_upcoming_leaves_out_seollal_and_samiljeol_mondays(city, facebook, author) -> None:
    series = make_series(author, city, [facebook])
    fill(author, series, 3)
    entries = series_actions.upcoming(series, now=seoul(2027, 1, 31, 12))
    assert [(e.at, e.holiday) for e in entries] == [
        (seoul(2027, 2, 1, 9), None),
        (seoul(2027, 2, 8, 9), "설날 다음날"),  # 설날 falls on Sunday 7 Feb 2027
        (seoul(2027, 2, 15, 9), None),
        (seoul(2027, 2, 22, 9), None),
        (seoul(2027, 3, 1, 9), "삼일절"),
        (seoul(2027, 3, 8, 9), None),
        (seoul(2027, 3, 15, 9), None),
    ]
    # The queue's three items go to the first three Mondays that are published.
    assert [e.item.title if e.item else None for e in entries if not e.holiday] == [
        "꿀팁 1",
        "꿀팁 2",
        "꿀팁 3",
        None,
        None,
    ]


def test_a_holiday_monday_is_skipped_and_keeps_its_item(city, facebook, author) -> None:
    series = make_series(author, city, [facebook], starts_at=seoul(2027, 8, 10))
    fill(author, series, 2)
    # 16 Aug 2027 is the substitute holiday for 광복절 (a Sunday that year).
    result = series_actions.materialise(series, now=seoul(2027, 8, 15, 10))
    assert result.skipped == 1
    assert result.created == 0
    skipped = SeriesOccurrence.objects.get(series=series, at=seoul(2027, 8, 16, 9))
    assert skipped.state == OccurrenceState.SKIPPED
    assert "광복절 대체 휴일" in skipped.reason
    assert len(series_actions.queue(series)) == 2
    series_actions.materialise(series, now=seoul(2027, 8, 22, 10))
    post = Post.objects.get()
    assert post.title == "꿀팁 1"
    assert post.publish_at == seoul(2027, 8, 23, 9)


def test_holidays_are_kept_when_the_series_says_so(city, facebook, author) -> None:
    series = make_series(author, city, [facebook], skip_holidays=False)
    fill(author, series, 1)
    series_actions.materialise(series, now=seoul(2027, 2, 7, 10))
    assert Post.objects.get().publish_at == seoul(2027, 2, 8, 9)


def test_the_office_calendar_closes_days_too(city, facebook, author) -> None:
    from sotong.core.models import CalendarException

    CalendarException.objects.create(organisation=city, date=dt.date(2027, 2, 15), closed=True)
    series = make_series(author, city, [facebook])
    entries = series_actions.upcoming(series, now=seoul(2027, 2, 10))
    assert entries[0].at == seoul(2027, 2, 15, 9)
    assert entries[0].holiday == "임시공휴일"


# -- the queue ----------------------------------------------------------------------------


def test_each_occurrence_takes_the_next_item_through_the_usual_actions(
    city, facebook, author
) -> None:
    series = make_series(author, city, [facebook])
    fill(author, series, 2)
    result = series_actions.materialise(series, now=seoul(2027, 1, 31, 10))
    assert result.created == 1
    post = Post.objects.get()
    assert post.title == "꿀팁 1"
    assert post.hashtags == ["순천", "꿀팁"]
    assert post.author == author
    assert post.department.code == "sewer"
    assert post.status == PostStatus.IN_REVIEW
    publication = Publication.objects.get(variant__post=post)
    assert publication.due_at == seoul(2027, 2, 1, 9)
    assert publication.state == PublicationState.SCHEDULED
    assert "#꿀팁" in publication.variant.text
    actions = set(
        AuditEntry.objects.filter(target_id=str(post.pk)).values_list("action", flat=True)
    )
    assert {"post.compose", "post.submit"} <= actions
    assert [item.title for item in series_actions.queue(series)] == ["꿀팁 2"]


def test_materialising_twice_makes_one_post(city, facebook, author) -> None:
    series = make_series(author, city, [facebook])
    fill(author, series, 3)
    now = seoul(2027, 1, 31, 10)
    first = series_actions.materialise(series, now=now)
    # A second worker, or the same round again after a crash, with a stale cursor.
    Series.objects.filter(pk=series.pk).update(settled_until=None)
    series.refresh_from_db()
    second = series_actions.materialise(series, now=now)
    assert first.created == 1
    assert second.created == 0
    assert Post.objects.count() == 1
    assert SeriesOccurrence.objects.filter(series=series).count() >= 1
    assert len(series_actions.queue(series)) == 2


def test_one_row_per_occurrence_is_enforced_by_the_database(city, facebook, author) -> None:
    series = make_series(author, city, [facebook])
    at = seoul(2027, 2, 1, 9)
    SeriesOccurrence.objects.create(organisation=city, series=series, at=at)
    with pytest.raises(IntegrityError), transaction.atomic():
        SeriesOccurrence.objects.create(organisation=city, series=series, at=at)


def test_a_crash_mid_preparation_leaves_nothing_half_done(
    city, facebook, author, monkeypatch
) -> None:
    series = make_series(author, city, [facebook])
    fill(author, series, 1)

    def crash(*args, **kwargs):
        raise RuntimeError("worker killed")

    monkeypatch.setattr(series_actions.actions, "submit", crash)
    with pytest.raises(RuntimeError):
        series_actions.materialise(series, now=seoul(2027, 1, 31, 10))
    assert not Post.objects.exists()
    assert not SeriesOccurrence.objects.exists()
    assert len(series_actions.queue(series)) == 1
    monkeypatch.undo()
    series.refresh_from_db()
    assert series_actions.materialise(series, now=seoul(2027, 1, 31, 10)).created == 1
    assert Post.objects.count() == 1


def test_an_empty_queue_is_warned_once_then_skipped(city, facebook, author) -> None:
    series = make_series(author, city, [facebook])
    fill(author, series, 1)
    # Sunday: Monday's post takes the only item; the Monday after has none.
    for minute in range(3):
        series_actions.materialise(series, now=seoul(2027, 1, 31, 10, minute))
    warnings = AuditEntry.objects.filter(action="series.queue_empty")
    assert warnings.count() == 1
    # 8 Feb is 설날 다음날 and skipped: the next occurrence to publish is 15 Feb.
    assert dt.datetime.fromisoformat(warnings.get().after["at"]) == seoul(2027, 2, 15, 9)
    assert [o.at for o in series_actions.warnings(series, now=seoul(2027, 1, 31, 11))] == [
        seoul(2027, 2, 15, 9)
    ]
    # Rounds through the week (the holiday skipped on the way): not repeated.
    series_actions.materialise(series, now=seoul(2027, 2, 7, 10))
    assert warnings.count() == 1


def test_an_empty_occurrence_is_skipped_never_published_blank(city, facebook, author) -> None:
    series = make_series(author, city, [facebook], skip_holidays=False)
    series_actions.materialise(series, now=seoul(2027, 1, 31, 10))
    waiting = SeriesOccurrence.objects.get(series=series, at=seoul(2027, 2, 1, 9))
    assert waiting.state == OccurrenceState.WAITING
    assert waiting.warned_at is not None
    result = series_actions.materialise(series, now=seoul(2027, 2, 1, 9, 1))
    assert result.skipped == 1
    waiting.refresh_from_db()
    assert waiting.state == OccurrenceState.SKIPPED
    assert waiting.reason == "대기열이 비어 있었습니다."
    assert not Post.objects.exists()
    skips = AuditEntry.objects.filter(action="series.skip")
    assert skips.count() == 1
    # The next Monday is warned of too: once per occurrence.
    assert AuditEntry.objects.filter(action="series.queue_empty").count() == 2


def test_an_item_added_in_time_saves_the_occurrence(city, facebook, author) -> None:
    series = make_series(author, city, [facebook])
    series_actions.materialise(series, now=seoul(2027, 1, 31, 10))
    fill(author, series, 1)
    assert series_actions.materialise(series, now=seoul(2027, 1, 31, 10, 5)).created == 1
    occurrence = SeriesOccurrence.objects.get(series=series, at=seoul(2027, 2, 1, 9))
    assert occurrence.state == OccurrenceState.CREATED
    assert occurrence.post.title == "꿀팁 1"


def test_queue_reorder_and_remove(city, facebook, author, make_staff) -> None:
    series = make_series(author, city, [facebook])
    fill(author, series, 3)
    first, second, third = series_actions.queue(series)
    series_actions.move_item(author, third, "up")
    assert [i.title for i in series_actions.queue(series)] == ["꿀팁 1", "꿀팁 3", "꿀팁 2"]
    series_actions.move_item(author, first, "up")  # already first: nothing moves
    series_actions.remove_item(author, second)
    assert [i.title for i in series_actions.queue(series)] == ["꿀팁 1", "꿀팁 3"]
    with pytest.raises(ValidationError):
        series_actions.add_item(author, series, title="링크", body="본문", link="not a link")
    roads = make_staff(city, Role.DEPARTMENT_AUTHOR, "roads")
    with pytest.raises(PermissionDenied):
        series_actions.add_item(roads, series, title="남의 과", body="본문")


# -- approval -----------------------------------------------------------------------------


def test_a_pre_approved_series_posts_approved_with_the_approver_named(
    city, facebook, author, editor
) -> None:
    series = make_series(editor, city, [facebook], pre_approved=True)
    assert series.approver == editor
    fill(author, series, 1)
    series_actions.materialise(series, now=seoul(2027, 1, 31, 10))
    post = Post.objects.get()
    assert post.status == PostStatus.APPROVED
    review = Review.objects.get(post=post, decision=ReviewDecision.APPROVED)
    assert review.by == editor
    assert review.by_label == editor.display_name
    assert "주간꿀팁" in review.comment
    assert editor.display_name in review.comment
    publication = Publication.objects.get(variant__post=post)
    assert publication.state == PublicationState.SCHEDULED


def test_only_an_approver_can_pre_approve(city, facebook, author) -> None:
    with pytest.raises(ValidationError) as raised:
        make_series(author, city, [facebook], pre_approved=True)
    assert "pre_approved" in raised.value.message_dict


def test_an_approver_who_left_does_not_approve(city, facebook, author, editor) -> None:
    series = make_series(editor, city, [facebook], pre_approved=True)
    fill(author, series, 1)
    editor.user.is_active = False
    editor.user.save()
    series_actions.materialise(series, now=seoul(2027, 1, 31, 10))
    post = Post.objects.get()
    assert post.status == PostStatus.IN_REVIEW
    occurrence = SeriesOccurrence.objects.get(post=post)
    assert "승인을 기다립니다" in occurrence.reason


def test_an_occurrence_needing_approval_is_held_if_nobody_approves(city, facebook, author) -> None:
    from sotong.publishing import dispatch

    series = make_series(author, city, [facebook])
    fill(author, series, 1)
    series_actions.materialise(series, now=seoul(2027, 1, 31, 10))
    post = Post.objects.get()
    assert post.status == PostStatus.IN_REVIEW
    dispatch.dispatch_due(seoul(2027, 2, 1, 9, 0, 30))
    publication = Publication.objects.get(variant__post=post)
    assert publication.state == PublicationState.HELD


def test_changing_the_rule_forgets_waiting_occurrences(city, facebook, author) -> None:
    series = make_series(author, city, [facebook])
    series_actions.materialise(series, now=seoul(2027, 1, 31, 10))
    assert SeriesOccurrence.objects.filter(state=OccurrenceState.WAITING).exists()
    series_actions.update_series(
        author,
        series,
        values=settings_for(
            city, [facebook], rule="FREQ=WEEKLY;BYDAY=TU;BYHOUR=10", starts_at=seoul(2027, 2, 1)
        ),
    )
    assert not SeriesOccurrence.objects.filter(state=OccurrenceState.WAITING).exists()
    series.refresh_from_db()
    entries = series_actions.upcoming(series, now=seoul(2027, 2, 1))
    assert entries[0].at == seoul(2027, 2, 2, 10)


# -- pages --------------------------------------------------------------------------------


def page(response) -> str:
    return response.content.decode()


def test_series_pages_create_queue_and_history(client, city, facebook, author, editor) -> None:
    client.force_login(editor.user)
    response = client.post(
        reverse("series:create"),
        {
            "kind": "queue",
            "name": "주간꿀팁",
            "department": department(city, "sewer").pk,
            "channels": [facebook.pk],
            "rule": "FREQ=WEEKLY;BYDAY=XX",
            "starts_at": "2027-01-26T00:00",
            "skip_holidays": "on",
            "lead_hours": "24",
        },
    )
    assert response.status_code == 200
    assert "반복 규칙을 읽을 수 없습니다" in page(response)
    assert not Series.objects.exists()
    response = client.post(
        reverse("series:create"),
        {
            "kind": "queue",
            "name": "주간꿀팁",
            "department": department(city, "sewer").pk,
            "channels": [facebook.pk],
            "rule": WEEKLY_MONDAY,
            "starts_at": "2027-01-26T00:00",
            "skip_holidays": "on",
            "pre_approved": "on",
            "lead_hours": "24",
        },
    )
    series = Series.objects.get()
    assert response.status_code == 302
    assert series.pre_approved
    assert series.approver == editor
    url = reverse("series:detail", args=[series.pk])
    html = page(client.get(url))
    assert "주간꿀팁" in html
    assert "대기열이 비어" in html
    response = client.post(
        reverse("series:item_add", args=[series.pk]),
        {"title": "첫 꿀팁", "body": "동파 예방", "link": "", "hashtags": "#순천"},
    )
    assert response.status_code == 302
    client.post(
        reverse("series:item_add", args=[series.pk]),
        {"title": "둘째 꿀팁", "body": "빙판길 조심", "link": "", "hashtags": ""},
    )
    second = series_actions.queue(series)[1]
    client.post(reverse("series:item_move", args=[series.pk, second.pk, "up"]))
    assert [i.title for i in series_actions.queue(series)] == ["둘째 꿀팁", "첫 꿀팁"]
    response = client.post(
        reverse("series:item_add", args=[series.pk]),
        {"title": "", "body": "", "link": "", "hashtags": ""},
        follow=True,
    )
    assert "필수 항목" in page(response)
    series_actions.materialise(series, now=seoul(2027, 1, 31, 10))
    series_actions.materialise(series, now=seoul(2027, 2, 8, 9, 30))
    html = page(client.get(url))
    assert "둘째 꿀팁" in html  # history: the post made
    assert "설날 다음날" in html  # history: the holiday skipped with its reason
    assert reverse("publishing:post", args=[Post.objects.get().pk]) in html
    listing = page(client.get(reverse("series:list")))
    assert url in listing


def test_department_authors_see_only_their_series(client, city, facebook, author, make_staff):
    make_series(author, city, [facebook])
    roads = make_staff(city, Role.DEPARTMENT_AUTHOR, "roads")
    client.force_login(roads.user)
    assert "주간꿀팁" not in page(client.get(reverse("series:list")))
    series = Series.objects.get()
    assert client.get(reverse("series:detail", args=[series.pk])).status_code == 404


def test_a_viewer_cannot_create_series(client, city, make_staff) -> None:
    viewer = make_staff(city, Role.VIEWER)
    client.force_login(viewer.user)
    assert client.get(reverse("series:create")).status_code == 403
