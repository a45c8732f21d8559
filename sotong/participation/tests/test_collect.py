"""Comments under a poll's post become ballots as the inbox takes them in (once each, in
the same transaction); a valid vote closes its case, anything else stays with staff; a
naming contest's comments are proposals while it takes them."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from sotong.conftest import SYSTEM, department
from sotong.inbox import ingest
from sotong.inbox.models import Case, CaseStatus
from sotong.participation import actions
from sotong.participation.models import Ballot, PollKind, Submission, SubmissionState


@pytest.fixture
def poll(city, channel, post):
    now = timezone.now()
    made = actions.create_poll(
        SYSTEM,
        city,
        title="소식지 이름",
        question="어느 이름이 좋을까요?",
        department=department(city, "pr"),
        opens_at=now - dt.timedelta(hours=1),
        closes_at=now + dt.timedelta(days=7),
        options=["순천愛소식", "꽃누리", "순천人"],
    )
    actions.add_post(SYSTEM, made, channel.pk, post)
    return actions.open_voting(SYSTEM, made)


def test_comments_under_the_poll_post_are_counted_once(poll, comment) -> None:
    comment("2번이요!!", author="7001")
    comment("꽃누리가 좋아요", author="7002")
    comment("1번이랑 3번 둘 다 좋아요", author="7003")
    comment("투표는 언제까지인가요?", author="7004")
    ingest.ingest_pending()
    ingest.ingest_pending()  # collecting again changes nothing
    ballots = {b.text: b for b in Ballot.objects.all()}
    assert len(ballots) == 4
    assert ballots["2번이요!!"].choices == [2]
    assert ballots["꽃누리가 좋아요"].choices == [2]
    assert not ballots["1번이랑 3번 둘 다 좋아요"].valid
    assert ballots["1번이랑 3번 둘 다 좋아요"].detail
    assert not ballots["투표는 언제까지인가요?"].valid
    assert [option.votes for option in actions.count(poll).options] == [0, 2, 0]
    # Valid votes need no answer; the question and the unclear comment stay open for staff.
    statuses = sorted(Case.objects.values_list("status", flat=True))
    assert statuses.count(CaseStatus.CLOSED) == 2
    assert len(statuses) - statuses.count(CaseStatus.CLOSED) == 2


def test_the_same_commenter_counts_once(poll, comment) -> None:
    comment("2번", author="7001")
    comment("아니 3번으로 할게요", author="7001")
    ingest.ingest_pending()
    assert [option.votes for option in actions.count(poll).options] == [0, 1, 0]


def test_a_naming_contest_takes_proposals_then_votes_on_the_shortlist(
    city, channel, post, comment
) -> None:
    now = timezone.now()
    contest = actions.create_poll(
        SYSTEM,
        city,
        kind=PollKind.NAMING,
        title="새 소식지 이름 공모",
        question="순천시 소식지의 새 이름을 제안해 주세요",
        department=department(city, "pr"),
        submissions_open_at=now - dt.timedelta(days=1),
        submissions_close_at=now + dt.timedelta(hours=1),
        opens_at=now + dt.timedelta(hours=1),
        closes_at=now + dt.timedelta(days=7),
    )
    actions.add_post(SYSTEM, contest, channel.pk, post)
    contest = actions.open_proposals(SYSTEM, contest)
    comment("꽃누리 - 꽃의 도시 순천다운 이름이라서요", author="8001")
    comment("이름: 순천愛소식, 이유: 순천을 사랑하는 마음", author="8002")
    ingest.ingest_pending()
    proposals = {s.name: s for s in Submission.objects.all()}
    assert set(proposals) == {"꽃누리", "순천愛소식"}
    assert proposals["꽃누리"].reason == "꽃의 도시 순천다운 이름이라서요"
    actions.propose(
        contest, source="web", identity="device-1", source_ref="w1", name="순천人", reason="사람"
    )
    for name in ("꽃누리", "순천人"):
        actions.moderate(SYSTEM, Submission.objects.get(name=name), SubmissionState.SHORTLISTED)
    actions.moderate(
        SYSTEM, proposals["순천愛소식"], SubmissionState.REJECTED, "기존 이름과 비슷함"
    )
    voting = actions.open_voting_on_shortlist(SYSTEM, contest)
    assert list(voting.options.values_list("label", flat=True)) == ["꽃누리", "순천人"]
