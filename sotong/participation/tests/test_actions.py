"""Running a poll: creating it (with the checks staff see in Korean), opening and closing,
ballots from each source stored once with their reasons, and the exact count."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from sotong.conftest import SYSTEM, department
from sotong.core.models import AuditEntry
from sotong.core.roles import Role
from sotong.participation import actions
from sotong.participation.models import Ballot, IdentityLink, Poll, PollState

OPTIONS = ["순천愛소식", "꽃누리", "순천人"]


@pytest.fixture
def poll(city):
    now = timezone.now()
    made = actions.create_poll(
        SYSTEM,
        city,
        title="시 소식지 이름 정하기",
        question="새 소식지 이름으로 어느 것이 좋을까요?",
        department=department(city, "pr"),
        opens_at=now - dt.timedelta(hours=1),
        closes_at=now + dt.timedelta(days=7),
        options=OPTIONS,
    )
    return actions.open_voting(SYSTEM, made)


def test_a_poll_is_made_as_a_draft_with_its_options_and_audited(city) -> None:
    now = timezone.now()
    made = actions.create_poll(
        SYSTEM,
        city,
        title="신청사 건립 의견",
        question="신청사 디자인 중 어느 안이 좋습니까?",
        department=department(city, "construction"),
        opens_at=now,
        closes_at=now + dt.timedelta(days=3),
        options=["1안", " 2안 ", "", "3안"],
    )
    assert made.state == PollState.DRAFT
    assert list(made.options.values_list("position", "label")) == [
        (1, "1안"),
        (2, "2안"),
        (3, "3안"),
    ]
    assert AuditEntry.objects.filter(action="poll.create").exists()


@pytest.mark.parametrize(
    ("options", "closes_in", "max_choices", "message"),
    [
        (["하나"], 3, 1, "두 개"),
        (["가", "가"], 3, 1, "같은"),
        (["가", "나"], -1, 1, "닫혀야"),
        (["가", "나"], 3, 3, "1부터"),
    ],
)
def test_bad_polls_are_refused_in_korean(city, options, closes_in, max_choices, message) -> None:
    now = timezone.now()
    with pytest.raises(ValidationError) as error:
        actions.create_poll(
            SYSTEM,
            city,
            title="제목",
            question="질문",
            department=department(city, "pr"),
            opens_at=now,
            closes_at=now + dt.timedelta(days=closes_in),
            options=options,
            max_choices=max_choices,
        )
    assert message in str(error.value)


def test_only_the_pr_office_runs_polls(city, make_staff, poll) -> None:
    author = make_staff(city, Role.DEPARTMENT_AUTHOR, "roads")
    with pytest.raises(PermissionDenied):
        actions.close_poll(author, poll)
    editor = make_staff(city, Role.PR_EDITOR)
    assert actions.close_poll(editor, poll).state == PollState.CLOSED


def test_each_person_counts_once_per_source_and_late_ballots_are_kept(poll) -> None:
    now = timezone.now()
    actions.cast_choices(poll, source="web", identity="device-a", source_ref="r1", choices=[2])
    # The same device again: stored, not counted.
    actions.cast_choices(poll, source="web", identity="device-a", source_ref="r2", choices=[1])
    actions.cast_choices(poll, source="web", identity="device-b", source_ref="r3", choices=[1])
    # The same request delivered twice is stored once.
    _ballot, new = actions.cast_choices(
        poll, source="web", identity="device-b", source_ref="r3", choices=[1]
    )
    assert not new
    actions.cast_choices(poll, source="kakao", identity="user-a", source_ref="k1", choices=[2])
    actions.cast_choices(
        poll,
        source="kakao",
        identity="user-c",
        source_ref="k2",
        choices=[3],
        cast_at=now + dt.timedelta(days=8),
    )
    bad, _ = actions.cast_choices(
        poll, source="web", identity="device-d", source_ref="r4", choices=[9]
    )
    assert not bad.valid
    assert bad.reason == "unknown_option"
    assert Ballot.objects.count() == 6
    result = actions.count(poll)
    assert [option.votes for option in result.options] == [1, 2, 0]
    assert result.options[1].by_source == {"kakao": 1, "web": 1}
    assert result.counted == 3
    assert {str(reason): n for reason, n in result.not_counted.items()} == {
        "late": 1,
        "invalid": 1,
        "duplicate": 1,
    }


def test_a_person_who_linked_two_identities_counts_once(poll, city) -> None:
    actions.cast_choices(poll, source="web", identity="device-a", source_ref="r1", choices=[1])
    actions.cast_choices(poll, source="kakao", identity="user-a", source_ref="k1", choices=[2])
    assert sum(option.votes for option in actions.count(poll).options) == 2
    for source, identity in (("web", "device-a"), ("kakao", "user-a")):
        IdentityLink.objects.create(
            organisation=city,
            person="person-1",
            source=source,
            voter=actions.voter_key(source, identity),
        )
    assert sum(option.votes for option in actions.count(poll).options) == 1


def test_too_many_choices_are_invalid_not_cut(poll) -> None:
    ballot, _ = actions.cast_choices(
        poll, source="web", identity="d", source_ref="r", choices=[1, 2]
    )
    assert not ballot.valid
    assert ballot.reason == "too_many_choices"


def test_the_decision_is_recorded_and_audited(poll) -> None:
    with pytest.raises(ValidationError):
        actions.record_decision(SYSTEM, poll, "  ")
    decided = actions.record_decision(
        SYSTEM, poll, "꽃누리로 정했습니다. 가장 많은 시민이 골랐습니다."
    )
    assert decided.decided_at is not None
    assert AuditEntry.objects.filter(action="poll.decision").exists()


def test_closing_tells_the_department_and_the_response_is_drafted_for_the_channels(
    city, make_staff, poll, channel, post
) -> None:
    from sotong.notifications.models import Notification, NotificationKind
    from sotong.publishing.models import Variant

    pr_staff = make_staff(city, Role.DEPARTMENT_RESPONDER, "pr")
    actions.add_post(SYSTEM, poll, channel.pk, post)
    actions.cast_choices(poll, source="web", identity="d1", source_ref="r1", choices=[2])
    actions.close_poll(SYSTEM, poll)
    notice = Notification.objects.get(recipient=pr_staff, kind=NotificationKind.POLL_CLOSED)
    assert notice.params["result"].startswith("꽃누리 1")
    assert notice.link == f"/participation/{poll.pk}/"
    with pytest.raises(ValidationError):
        actions.publish_response(SYSTEM, poll)
    decided = actions.record_decision(SYSTEM, poll, "새 소식지 이름은 꽃누리로 정했습니다.")
    drafted = actions.publish_response(SYSTEM, decided)
    assert "꽃누리로 정했습니다" in drafted.body
    assert "2. 꽃누리: 1" in drafted.body
    assert list(Variant.objects.filter(post=drafted).values_list("channel_id", flat=True)) == [
        channel.pk
    ]


def test_the_demo_city_has_an_open_poll(db) -> None:
    from sotong.core.demo import seed_demo

    city = seed_demo()
    poll = Poll.objects.get(organisation=city)
    assert poll.is_open()
    assert list(poll.options.values_list("label", flat=True)) == ["순천愛소식", "꽃누리", "순천人"]
    seed_demo()  # again: no second poll
    assert Poll.objects.filter(organisation=city).count() == 1
