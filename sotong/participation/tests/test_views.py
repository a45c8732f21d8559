"""The staff pages of participation with Django's test client: the list, creating a poll
(Korean errors by their fields, nothing typed lost), the poll page (open and close, the
count with its chart and table, ballots and why some are not counted, posts, the city's
response), the CSV export; permissions and scoping."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.urls import reverse
from django.utils import timezone

from sotong.channels import actions as channel_actions
from sotong.conftest import SYSTEM, department
from sotong.core.models import AuditEntry
from sotong.core.roles import Role
from sotong.participation import actions
from sotong.participation.models import Ballot, Poll, PollKind, PollPost, PollState
from sotong.platforms.base import Credentials

OPTIONS = ["순천愛소식", "꽃누리", "순천人"]


def local(moment: dt.datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def make_poll(city, *, code: str = "pr", state: str = PollState.VOTING, **overrides) -> Poll:
    now = timezone.now()
    fields = {
        "title": "시 소식지 이름 정하기",
        "question": "새 소식지 이름으로 어느 것이 좋을까요?",
        "department": department(city, code),
        "opens_at": now - dt.timedelta(hours=1),
        "closes_at": now + dt.timedelta(days=7),
        "options": OPTIONS,
        **overrides,
    }
    poll = actions.create_poll(SYSTEM, city, **fields)
    if state in (PollState.VOTING, PollState.CLOSED):
        poll = actions.open_voting(SYSTEM, poll)
    if state == PollState.CLOSED:
        poll = actions.close_poll(SYSTEM, poll)
    return poll


def vote(poll: Poll, device: str, *choices: int, ref: str | None = None, **kwargs) -> Ballot:
    ballot, _created = actions.cast_choices(
        poll,
        source="web",
        identity=device,
        source_ref=ref or f"{device}-{len(choices)}-{Ballot.objects.count()}",
        choices=list(choices),
        **kwargs,
    )
    return ballot


@pytest.fixture
def editor(city, make_staff):
    return make_staff(city, Role.PR_EDITOR, "pr")


@pytest.fixture
def author(city, make_staff):
    return make_staff(city, Role.DEPARTMENT_AUTHOR, "sewer")


@pytest.fixture
def viewer(city, make_staff):
    return make_staff(city, Role.VIEWER)


def as_(client, staff):
    client.force_login(staff.user)
    return client


def html(response) -> str:
    return response.content.decode()


def create_data(city, **overrides) -> dict:
    now = timezone.now()
    data = {
        "kind": PollKind.POLL,
        "title": "신청사 디자인 선호도 조사",
        "question": "신청사 디자인 중 어느 안이 좋습니까?",
        "description": "",
        "department": department(city, "construction").pk,
        "submissions_open_at": "",
        "submissions_close_at": "",
        "opens_at": local(now + dt.timedelta(days=1)),
        "closes_at": local(now + dt.timedelta(days=8)),
        "max_choices": "1",
        "options": "1안 (유리 외벽)\n2안 (한옥 지붕)\n\n3안 (정원형)\n",
        "on_web": "on",
        "on_kakao": "on",
    }
    data.update(overrides)
    return data


# -- the list --------------------------------------------------------------------------------


def test_the_list_shows_polls_with_state_period_and_people_counted(client, city, editor) -> None:
    poll = make_poll(city)
    vote(poll, "phone-a", 1)
    vote(poll, "phone-b", 2)
    vote(poll, "phone-a", 3)  # a repeat: received, not counted
    make_poll(city, title="하수도 요금 의견", code="sewer", state=PollState.DRAFT)
    page = html(as_(client, editor).get(reverse("participation:index")))
    assert "시 소식지 이름 정하기" in page
    assert "하수도 요금 의견" in page
    assert "투표 중" in page
    row = page.split("시 소식지 이름 정하기", 1)[1].split("</tr>", 1)[0]
    assert '<td class="num">2</td>' in row  # people counted
    assert '<td class="num">3</td>' in row  # ballots received
    assert reverse("participation:new") in page


def test_department_staff_see_their_departments_polls_only_and_cannot_create(
    client, city, author
) -> None:
    make_poll(city, title="시 소식지 이름 정하기", code="pr")
    make_poll(city, title="하수도 요금 의견", code="sewer")
    page = html(as_(client, author).get(reverse("participation:index")))
    assert "하수도 요금 의견" in page
    assert "시 소식지 이름 정하기" not in page
    assert reverse("participation:new") not in page
    assert client.get(reverse("participation:new")).status_code == 403
    assert client.post(reverse("participation:new"), create_data(city)).status_code == 403
    assert not Poll.objects.filter(title="신청사 디자인 선호도 조사").exists()


# -- creating --------------------------------------------------------------------------------


def test_an_editor_creates_a_poll_as_a_draft(client, city, editor) -> None:
    data = create_data(city)
    del data["on_kakao"]  # an unticked box is not sent
    response = as_(client, editor).post(reverse("participation:new"), data)
    poll = Poll.objects.get(title="신청사 디자인 선호도 조사")
    assert (poll.on_web, poll.on_kakao) == (True, False)
    assert response.status_code == 302
    assert response["Location"] == reverse("participation:poll", args=[poll.pk])
    assert poll.state == PollState.DRAFT
    assert poll.created_by == editor
    assert list(poll.options.values_list("label", flat=True)) == [
        "1안 (유리 외벽)",
        "2안 (한옥 지붕)",
        "3안 (정원형)",
    ]
    # Typed in Seoul time, stored as the same instant.
    opens = timezone.localtime(poll.opens_at)
    assert opens.strftime("%Y-%m-%dT%H:%M") == create_data(city)["opens_at"]
    assert AuditEntry.objects.filter(action="poll.create", target_id=str(poll.pk)).exists()
    page = html(client.get(response["Location"]))
    assert "초안으로 저장했습니다" in page
    assert "아직 공개되지 않았습니다" in page


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"options": "하나뿐인 안"}, "options", "두 개"),
        ({"options": "가\n가"}, "options", "같은"),
        ({"max_choices": "5"}, "max_choices", "1부터"),
        ({"opens_at": "2026-13-40T25:00"}, "opens_at", "날짜와 시각을 입력하세요"),
        ({"title": ""}, "title", "필수"),
    ],
)
def test_bad_input_is_refused_in_korean_by_its_field_and_nothing_is_lost(
    client, city, editor, overrides, field, message
) -> None:
    data = create_data(city, **overrides)
    response = as_(client, editor).post(reverse("participation:new"), data)
    assert response.status_code == 400
    form = response.context["form"]
    assert any(message in error for error in form.errors[field]), form.errors
    page = html(response)
    assert message in page
    # What was typed comes back.
    assert "신청사 디자인 중 어느 안이 좋습니까?" in page
    if data["title"]:
        assert 'value="신청사 디자인 선호도 조사"' in page
    assert Poll.objects.count() == 0


def test_closing_before_opening_is_shown_on_the_closing_time(client, city, editor) -> None:
    now = timezone.now()
    data = create_data(
        city,
        opens_at=local(now + dt.timedelta(days=3)),
        closes_at=local(now + dt.timedelta(days=1)),
    )
    response = as_(client, editor).post(reverse("participation:new"), data)
    assert response.status_code == 400
    assert any("닫혀야" in error for error in response.context["form"].errors["closes_at"])


def test_a_naming_contest_needs_its_proposal_period(client, city, editor) -> None:
    as_(client, editor)
    data = create_data(city, kind=PollKind.NAMING, options="")
    response = client.post(reverse("participation:new"), data)
    assert response.status_code == 400
    assert response.context["form"].errors["submissions_open_at"]
    now = timezone.now()
    data.update(
        submissions_open_at=local(now),
        submissions_close_at=local(now + dt.timedelta(hours=20)),
    )
    response = client.post(reverse("participation:new"), data)
    assert response.status_code == 302
    contest = Poll.objects.get(kind=PollKind.NAMING)
    assert contest.options.count() == 0
    assert contest.submissions_close_at is not None
    page = html(client.get(response["Location"]))
    # A contest starts with proposals; its shortlist becomes the options later.
    assert "제안 접수 시작" in page
    assert "선택지가 두 개 이상 있어야 투표를 시작할 수 있습니다" not in page
    # Opening without options is refused with the action's reason.
    refused = client.post(
        reverse("participation:poll_action", args=[contest.pk, "open"]), follow=True
    )
    assert "투표를 시작하려면 선택지가 두 개 이상 있어야 합니다" in html(refused)
    contest.refresh_from_db()
    assert contest.state == PollState.DRAFT


# -- the poll page -----------------------------------------------------------------------------


def test_open_and_close_change_the_state_through_the_actions(client, city, editor) -> None:
    poll = make_poll(city, state=PollState.DRAFT)
    as_(client, editor)
    page = html(client.get(reverse("participation:poll", args=[poll.pk])))
    assert "data-confirm" in page
    assert reverse("participation:poll_action", args=[poll.pk, "open"]) in page
    response = client.post(reverse("participation:poll_action", args=[poll.pk, "open"]))
    assert response.status_code == 302
    poll.refresh_from_db()
    assert poll.state == PollState.VOTING
    assert "투표를 시작했습니다" in html(client.get(response["Location"]))
    client.post(reverse("participation:poll_action", args=[poll.pk, "close"]))
    poll.refresh_from_db()
    assert poll.state == PollState.CLOSED
    assert AuditEntry.objects.filter(action="poll.open").exists()
    assert AuditEntry.objects.filter(action="poll.close").exists()
    # A closed poll is not opened again; the page says why.
    again = client.post(reverse("participation:poll_action", args=[poll.pk, "open"]), follow=True)
    poll.refresh_from_db()
    assert poll.state == PollState.CLOSED
    assert "마감한 투표는 다시 열 수 없습니다" in html(again)
    assert client.post(reverse("participation:poll_action", args=[poll.pk, "x"])).status_code == 404
    assert (
        client.get(reverse("participation:poll_action", args=[poll.pk, "open"])).status_code == 405
    )


def test_the_count_shows_votes_shares_sources_and_what_is_not_counted(client, city, editor) -> None:
    poll = make_poll(city)
    vote(poll, "phone-a", 1)
    vote(poll, "phone-b", 2)
    vote(poll, "phone-a", 2)  # the same device again: kept, not counted
    actions.cast_choices(
        poll, source="kakao", identity="kakao-user-1", source_ref="kakao-1", choices=[1]
    )
    late = timezone.now() + dt.timedelta(days=8)
    vote(poll, "phone-c", 3, cast_at=late)
    response = as_(client, editor).get(reverse("participation:poll", args=[poll.pk]))
    page = html(response)
    result = response.context["result"]
    assert [(row.position, row.votes, row.percent) for row in result.rows] == [
        (1, 2, "66.7%"),
        (2, 1, "33.3%"),
        (3, 0, "0.0%"),
    ]
    assert result.counted == 3
    assert result.sources == ["카카오톡", "웹 페이지"]
    assert [row.by_source for row in result.rows] == [[1, 1], [0, 1], [0, 0]]
    assert dict(result.not_counted) == {
        "중복: 같은 사람의 앞선 투표가 집계됨": 1,
        "마감 후 투표": 1,
    }
    # The chart is drawn on the server: a bar per option, the longest for the most votes.
    assert page.count('<rect x="4"') == 3
    widths = [row.bar_width for row in result.rows]
    assert widths[0] > widths[1] > widths[2] == 0
    assert 'role="img"' in page
    assert '<table id="staff-table">' in page
    assert 'id="people-counted">3<' in page
    assert "집계 제외 사유별 현황" in page


def test_the_ballots_table_masks_voters_and_pages(client, city, editor) -> None:
    poll = make_poll(city)
    first = vote(poll, "phone-a", 1)
    for number in range(55):
        vote(poll, f"phone-{number}", 1 + number % 3)
    as_(client, editor)
    page = html(client.get(reverse("participation:poll", args=[poll.pk])))
    assert first.voter not in page  # never the whole pseudonym
    assert page.count("<tr>") >= 50
    assert "?page=2" in page
    older = html(client.get(reverse("participation:poll", args=[poll.pk]) + "?page=2"))
    assert f"<code>{first.voter[:8]}</code>" in older
    assert "1. 순천愛소식" in older


def test_a_post_is_added_once_with_its_channel(client, city, other_city, editor) -> None:
    poll = make_poll(city)
    band = channel_actions.connect_channel(
        SYSTEM,
        city,
        kind="band",
        name="순천시 밴드",
        account_id="band-1",
        credentials=Credentials(access_token="token"),
        verify=False,
    )
    elsewhere = channel_actions.connect_channel(
        SYSTEM,
        other_city,
        kind="band",
        name="여수시 밴드",
        account_id="band-2",
        credentials=Credentials(access_token="token"),
        verify=False,
    )
    as_(client, editor)
    url = reverse("participation:poll_action", args=[poll.pk, "post"])
    page = html(client.get(reverse("participation:poll", args=[poll.pk])))
    assert "순천시 밴드" in page
    assert "여수시 밴드" not in page
    response = client.post(
        url,
        {"channel": band.pk, "post_external_id": " AAB123 ", "url": "https://band.us/p/AAB123"},
    )
    assert response.status_code == 302
    post = PollPost.objects.get(poll=poll)
    assert (post.channel, post.post_external_id) == (band, "AAB123")
    again = client.post(url, {"channel": band.pk, "post_external_id": "AAB123", "url": ""})
    assert again.status_code == 400
    assert "이미 “시 소식지 이름 정하기” 투표에 추가되어 있습니다" in html(again)
    foreign = client.post(url, {"channel": elsewhere.pk, "post_external_id": "X1", "url": ""})
    assert foreign.status_code == 400
    empty = client.post(url, {"channel": band.pk, "post_external_id": "", "url": "nope nope"})
    assert empty.status_code == 400
    assert "플랫폼의 게시물 ID를 입력하세요" in html(empty)
    assert PollPost.objects.count() == 1


def test_the_citys_response_is_recorded(client, city, editor) -> None:
    poll = make_poll(city, state=PollState.CLOSED)
    as_(client, editor)
    url = reverse("participation:poll_action", args=[poll.pk, "decision"])
    empty = client.post(url, {"decision": "  "})
    assert empty.status_code == 400
    assert "시가 무엇을 왜 결정했는지 적어 주세요" in html(empty)
    response = client.post(url, {"decision": "1안으로 정했습니다. 시민 의견이 가장 많았습니다."})
    assert response.status_code == 302
    poll.refresh_from_db()
    assert poll.decision.startswith("1안으로 정했습니다")
    assert poll.decided_at is not None
    assert "1안으로 정했습니다" in html(client.get(response["Location"]))


# -- the export --------------------------------------------------------------------------------


def test_the_csv_export_masks_voters_and_defuses_formulas(client, city, editor) -> None:
    poll = make_poll(city)
    counted = vote(poll, "phone-a", 2)
    vote(poll, "phone-a", 1)
    Ballot.objects.create(
        organisation=city,
        poll=poll,
        source="band",
        voter="b" * 64,
        source_ref="comment-9",
        cast_at=timezone.now(),
        choices=[],
        valid=False,
        reason="none",
        detail="번호나 이름이 없습니다.",
        text='=HYPERLINK("http://evil.example","2번")',
    )
    response = as_(client, editor).get(reverse("participation:ballots_csv", args=[poll.pk]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert f"poll-{poll.pk}-ballots-" in response["Content-Disposition"]
    body = response.content.decode("utf-8")
    assert body.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    assert rows[0][:4] == ["투표 번호", "출처", "채널", "투표자 (가명)"]
    assert len(rows) == 4
    assert counted.voter not in body
    assert rows[1][3] == counted.voter[:8]
    assert rows[1][5] == "2. 꽃누리"
    comment = rows[3]
    assert comment[8].startswith("'=HYPERLINK")
    assert "번호나 이름이 없습니다." in comment[7]
    assert comment[6] == "아니요"


# -- who sees what ------------------------------------------------------------------------------


def test_a_viewer_sees_the_poll_read_only(client, city, viewer) -> None:
    poll = make_poll(city)
    vote(poll, "phone-a", 1)
    as_(client, viewer)
    response = client.get(reverse("participation:poll", args=[poll.pk]))
    assert response.status_code == 200
    page = html(response)
    assert "시 소식지 이름 정하기" in page
    for action in ("open", "close", "post", "decision"):
        assert reverse("participation:poll_action", args=[poll.pk, action]) not in page
        assert (
            client.post(reverse("participation:poll_action", args=[poll.pk, action])).status_code
            == 403
        )
    assert client.get(reverse("participation:ballots_csv", args=[poll.pk])).status_code == 200
    poll.refresh_from_db()
    assert poll.state == PollState.VOTING


def test_a_department_author_cannot_change_a_poll_of_their_department(client, city, author) -> None:
    poll = make_poll(city, code="sewer", state=PollState.DRAFT)
    as_(client, author)
    assert client.get(reverse("participation:poll", args=[poll.pk])).status_code == 200
    assert (
        client.post(reverse("participation:poll_action", args=[poll.pk, "open"])).status_code == 403
    )
    poll.refresh_from_db()
    assert poll.state == PollState.DRAFT
    other = make_poll(city, code="pr", title="다른 부서 투표")
    assert client.get(reverse("participation:poll", args=[other.pk])).status_code == 404


def test_another_citys_staff_get_404(client, city, other_city, make_staff) -> None:
    poll = make_poll(city)
    stranger = make_staff(other_city, Role.ADMIN)
    as_(client, stranger)
    assert client.get(reverse("participation:poll", args=[poll.pk])).status_code == 404
    assert client.get(reverse("participation:ballots_csv", args=[poll.pk])).status_code == 404
    for action in ("open", "close", "decision"):
        response = client.post(
            reverse("participation:poll_action", args=[poll.pk, action]), {"decision": "x"}
        )
        assert response.status_code == 404
    assert "시 소식지 이름 정하기" not in html(client.get(reverse("participation:index")))
    poll.refresh_from_db()
    assert poll.state == PollState.VOTING
    assert poll.decision == ""


def test_signed_out_people_are_sent_to_sign_in(client, city) -> None:
    poll = make_poll(city)
    for url in (
        reverse("participation:index"),
        reverse("participation:poll", args=[poll.pk]),
        reverse("participation:ballots_csv", args=[poll.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_the_navigation_links_to_participation(client, city, viewer) -> None:
    page = html(as_(client, viewer).get(reverse("participation:index")))
    assert f'href="{reverse("participation:index")}" data-shortcut="p" aria-current="page"' in page


def test_a_ballot_row_says_why_once_the_count_says_so_per_ballot(city) -> None:
    """The count may give each ballot's reason (the tally knows it): then each row says
    counted or why not; until then a row says only whether the ballot itself was valid."""
    from sotong.participation import tally, views

    poll = make_poll(city)
    first = vote(poll, "phone-a", 1)
    repeat = vote(poll, "phone-a", 2)
    labels = views._labels(poll)
    result = actions.count(poll)

    class PerBallot:
        rejected = {repeat.pk: tally.Rejection(tally.Reason.DUPLICATE, duplicate_of=first.pk)}

    rejected = views._rejected(PerBallot())  # type: ignore[arg-type]
    assert rejected == {repeat.pk: "duplicate"}
    counted, not_counted = (views.ballot_row(b, labels, rejected) for b in (first, repeat))
    assert (counted.counted, counted.why) == (True, "")
    assert (not_counted.counted, not_counted.why) == (
        False,
        "중복: 같은 사람의 앞선 투표가 집계됨",
    )
    assert not_counted.choices == "2. 꽃누리"
    assert not_counted.voter == repeat.voter[:8]
    if not hasattr(result, "rejected"):
        # Without it: valid as cast, no claim about the count.
        plain = views.ballot_row(repeat, labels, views._rejected(result))
        assert (plain.counted, plain.why) == (None, "")


# -- naming contests -----------------------------------------------------------------------------


def make_contest(city, *, propose: bool = True, **overrides) -> Poll:
    """A naming contest taking proposals now; voting planned for tomorrow."""
    now = timezone.now()
    fields = {
        "kind": PollKind.NAMING,
        "title": "소식지 이름 공모",
        "question": "새 소식지의 이름을 지어 주세요",
        "department": department(city, "pr"),
        "submissions_open_at": now - dt.timedelta(hours=1),
        "submissions_close_at": now + dt.timedelta(hours=20),
        "opens_at": now + dt.timedelta(days=1),
        "closes_at": now + dt.timedelta(days=8),
        "options": [],
        **overrides,
    }
    contest = actions.create_poll(SYSTEM, city, **fields)
    if propose:
        contest = actions.open_proposals(SYSTEM, contest)
    return contest


def proposal(contest: Poll, name: str, *, who: str, source: str = "web", reason: str = ""):
    made, _new = actions.propose(
        contest, source=source, identity=who, source_ref=f"{who}-{name}", name=name, reason=reason
    )
    return made


def moderate_url(contest: Poll, made) -> str:
    return reverse("participation:moderate", args=[contest.pk, made.pk])


def test_a_naming_contest_goes_from_proposals_to_voting_on_its_shortlist(
    client, city, editor
) -> None:
    from sotong.participation.models import Submission, SubmissionState

    contest = make_contest(city, propose=False)
    as_(client, editor)
    opened = client.post(
        reverse("participation:poll_action", args=[contest.pk, "proposals"]), follow=True
    )
    assert "제안 접수를 시작했습니다" in html(opened)
    contest.refresh_from_db()
    assert contest.state == PollState.SUBMISSIONS

    nuri = proposal(contest, "꽃누리", who="phone-a", reason="꽃의 도시라서")
    nare = proposal(contest, "순천나래", who="band-1", source="band")
    joke = proposal(contest, "ㅋㅋㅋ", who="phone-b")
    page = html(client.get(reverse("participation:poll", args=[contest.pk])))
    table = page.split('id="proposals"', 1)[1].split("</table>", 1)[0]
    assert "꽃누리" in table
    assert "꽃의 도시라서" in table
    assert "네이버 밴드" in table
    assert "웹 페이지" in table
    assert 'id="count-pending">3<' in page
    assert "후보로 투표 시작" not in page  # nothing shortlisted yet

    # A rejection needs its reason: refused in Korean, the proposal unchanged.
    refused = client.post(moderate_url(contest, joke), {"state": "rejected"}, follow=True)
    assert "반려하는 이유를 적어 주세요" in html(refused)
    assert Submission.objects.get(pk=joke.pk).state == SubmissionState.PENDING
    client.post(moderate_url(contest, joke), {"state": "rejected", "note": "장난 제안"})
    client.post(moderate_url(contest, nuri), {"state": "shortlisted", "note": ""})
    page = html(client.get(reverse("participation:poll", args=[contest.pk])))
    assert "장난 제안" in page
    assert 'id="count-rejected">1<' in page
    assert 'id="count-shortlisted">1<' in page
    assert "후보로 투표 시작" not in page  # one is not a choice

    # Forced anyway: the action's reason, in Korean; still taking proposals.
    early = client.post(
        reverse("participation:poll_action", args=[contest.pk, "shortlist"]), follow=True
    )
    assert "선택지가 두 개 이상 있어야 합니다" in html(early)
    contest.refresh_from_db()
    assert contest.state == PollState.SUBMISSIONS

    client.post(moderate_url(contest, nare), {"state": "shortlisted", "note": ""})
    page = html(client.get(reverse("participation:poll", args=[contest.pk])))
    assert "후보로 투표 시작" in page
    started = client.post(
        reverse("participation:poll_action", args=[contest.pk, "shortlist"]), follow=True
    )
    assert "후보 투표를 시작했습니다" in html(started)
    contest.refresh_from_db()
    assert contest.state == PollState.VOTING
    assert list(contest.options.values_list("label", flat=True)) == ["꽃누리", "순천나래"]
    # Started by hand before the planned day: voting runs from now, proposals ended now.
    assert contest.opens_at <= timezone.now()
    assert contest.submissions_close_at == contest.opens_at
    assert contest.is_open()
    actions_done = set(
        AuditEntry.objects.filter(
            target_id=str(contest.pk), target_type__contains="poll"
        ).values_list("action", flat=True)
    )
    assert {"poll.open_proposals", "poll.shortlist", "poll.open", "poll.open_early"} <= (
        actions_done
    )
    assert AuditEntry.objects.filter(action="poll.moderate").count() == 3
    # Voting now: the table stays, read-only.
    page = html(client.get(reverse("participation:poll", args=[contest.pk])))
    assert "꽃누리" in page.split('id="proposals"', 1)[1]
    assert 'name="state"' not in page
    after = client.post(moderate_url(contest, joke), {"state": "approved"}, follow=True)
    assert "제안 검토는 제안 접수 기간에만" in html(after)
    assert Submission.objects.get(pk=joke.pk).state == SubmissionState.REJECTED


def test_only_the_pr_office_reviews_proposals(client, city, editor, author, viewer) -> None:
    from sotong.participation.models import Submission, SubmissionState

    contest = make_contest(city)
    made = proposal(contest, "꽃누리", who="phone-a")
    for staff in (author, viewer):
        response = as_(client, staff).post(
            moderate_url(contest, made), {"state": "shortlisted", "note": ""}
        )
        assert response.status_code == 403
    assert Submission.objects.get(pk=made.pk).state == SubmissionState.PENDING
    page = html(as_(client, viewer).get(reverse("participation:poll", args=[contest.pk])))
    assert "꽃누리" in page
    assert 'name="state"' not in page
    # A proposal of another contest is not found through this one.
    other = make_contest(city, title="다른 공모")
    response = as_(client, editor).post(
        reverse("participation:moderate", args=[other.pk, made.pk]), {"state": "approved"}
    )
    assert response.status_code == 404


def test_a_plain_poll_has_no_proposals(client, city, editor) -> None:
    poll = make_poll(city, state=PollState.DRAFT)
    page = html(as_(client, editor).get(reverse("participation:poll", args=[poll.pk])))
    assert 'id="proposals"' not in page
    assert "제안 접수 시작" not in page
    refused = client.post(
        reverse("participation:poll_action", args=[poll.pk, "proposals"]), follow=True
    )
    assert "이름 공모만 제안을 받습니다" in html(refused)
