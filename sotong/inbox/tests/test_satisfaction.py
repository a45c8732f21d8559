"""Satisfaction (만족도): after an answer in a private conversation a short message asks for
a score, and what the citizen writes back within 7 days is recorded (``take_score``);
replies can carry the link of a public survey page (signed, no login, once, 14 days,
CSRF-protected); the case page and the inbox show the figures."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from sotong.conftest import SYSTEM, department
from sotong.core.models import AuditEntry
from sotong.core.roles import Role
from sotong.inbox import actions, ingest, satisfaction
from sotong.inbox.models import (
    Case,
    CaseEvent,
    CaseEventKind,
    CaseStatus,
    Reply,
    ReplyPurpose,
    ReplyState,
    SatisfactionSurvey,
    SurveyAnswerSource,
)

from .conftest import PAGE_ID

PSID = "7012345678901234"


@pytest.fixture
def private_case(city, message) -> Case:
    message("주차 단속 시간이 궁금합니다", psid=PSID)
    ingest.ingest_pending()
    return actions.assign(SYSTEM, Case.objects.get(), department=department(city, "traffic"))


@pytest.fixture
def comment_case(city, comment) -> Case:
    comment("하수구 냄새가 심해요", author="6011", name="박시민")
    ingest.ingest_pending()
    return actions.assign(SYSTEM, Case.objects.get(), department=department(city, "sewer"))


def answer_privately(case: Case) -> Reply:
    """Answer the case in private and let the sender run, as the worker would."""
    answer = actions.reply(SYSTEM, case, "평일 07시부터 20시까지 단속합니다.", public=False)
    assert actions.send_reply(answer.pk) == ReplyState.SENT
    return answer


def the_question(case: Case) -> Reply:
    return Reply.objects.get(case=case, purpose=ReplyPurpose.SURVEY)


# -- parsing a score -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("5", (5, "")),
        ("5점", (5, "")),
        ("⑤", (5, "")),
        ("５점이요", (5, "")),
        ("5 친절했어요", (5, "친절했어요")),
        ("4점 드려요. 빨라서 좋았어요", (4, "빨라서 좋았어요")),
        ("네 3점", (3, "")),
        ("4/5", (4, "")),
        ("매우 만족", (5, "")),
        ("매우 만족합니다 감사해요", (5, "감사해요")),
        ("만족해요", (4, "")),
        ("보통이에요", (3, "")),
        ("불만족", (2, "")),
        ("만족스럽지 않아요 너무 늦어요", (2, "너무 늦어요")),
        ("매우 불만족스럽습니다", (1, "")),
        ("★★★★☆", (4, "")),
        ("10점 만점에 8점", (4, "")),
        ("3번 출구 쪽도 막혔어요", None),
        ("10시에 다시 갔는데요", None),
        ("2.5", None),
        ("45", None),
        ("1층 화장실이 고장났어요", None),
        ("아직도 안 고쳐졌어요. 불만족입니다", None),
        ("", None),
    ],
)
def test_parse_score(text: str, expected: tuple[int, str] | None) -> None:
    assert satisfaction.parse_score(text) == expected


# -- asking by private message and taking the answer ---------------------------------------


def test_after_a_private_answer_the_citizen_is_asked_once_by_message(
    city, private_case, page
) -> None:
    answer_privately(private_case)
    question = the_question(private_case)
    assert question.public is False
    assert question.state == ReplyState.PENDING
    assert "1(매우 불만족)부터 5(매우 만족)" in question.text
    assert "순천시" in question.text
    survey = SatisfactionSurvey.objects.get(case=private_case)
    assert survey.asked_at is None  # asked once it is sent
    assert actions.send_reply(question.pk) == ReplyState.SENT
    survey.refresh_from_db()
    assert survey.asked_at is not None
    said = [m["message"] for m in page.pages[PAGE_ID].conversations[PSID]]
    assert said[-1] == question.text
    assert CaseEvent.objects.filter(
        case=private_case, kind=CaseEventKind.SATISFACTION_ASKED
    ).exists()
    assert AuditEntry.objects.filter(action="satisfaction.ask").count() == 1
    # A second answer on the case does not ask again.
    answer_privately(private_case)
    assert Reply.objects.filter(case=private_case, purpose=ReplyPurpose.SURVEY).count() == 1


def test_a_score_written_back_within_7_days_is_recorded_and_keeps_the_case_answered(
    private_case,
) -> None:
    answer_privately(private_case)
    now = timezone.now()
    # Not asked yet (the question is not sent): nothing is taken.
    assert satisfaction.take_score(private_case, "5", now) is False
    actions.send_reply(the_question(private_case).pk)
    assert satisfaction.take_score(private_case, "3번 출구도 단속하나요?", now) is False
    asked = SatisfactionSurvey.objects.get(case=private_case).asked_at
    late = asked + dt.timedelta(days=7, minutes=1)
    assert satisfaction.take_score(private_case, "5", late) is False
    assert (
        satisfaction.take_score(private_case, "5점 친절했어요", asked + dt.timedelta(days=6))
        is True
    )
    private_case.refresh_from_db()
    assert (private_case.satisfaction, private_case.satisfaction_comment) == (5, "친절했어요")
    assert private_case.status == CaseStatus.ANSWERED
    survey = SatisfactionSurvey.objects.get(case=private_case)
    assert survey.answered_via == SurveyAnswerSource.MESSAGE
    entry = AuditEntry.objects.filter(action="case.satisfaction").get()
    assert entry.after == {"satisfaction": 5, "source": "message", "comment_length": 5}
    # Once per case: a second number is an ordinary message.
    assert satisfaction.take_score(private_case, "1", asked + dt.timedelta(days=6)) is False
    private_case.refresh_from_db()
    assert private_case.satisfaction == 5


def test_a_score_arriving_on_the_channel_keeps_the_case_answered_and_a_question_reopens_it(
    private_case, message
) -> None:
    answer_privately(private_case)
    actions.send_reply(the_question(private_case).pk)
    message("5점이요 친절했어요", psid=PSID)
    result = ingest.ingest_pending()
    assert (result.messages, result.cases_reopened) == (1, 0)
    private_case.refresh_from_db()
    assert (private_case.status, private_case.satisfaction) == (CaseStatus.ANSWERED, 5)
    # The score is kept on the case's record like any message.
    assert private_case.messages.count() == 2
    message("그런데 주말에도 단속하나요?", psid=PSID)
    result = ingest.ingest_pending()
    assert result.cases_reopened == 1
    private_case.refresh_from_db()
    assert private_case.status == CaseStatus.REOPENED


@pytest.mark.parametrize(
    "text",
    [
        "1 주일째 그대로예요. 다시 와 주세요",
        "2 번째 문의입니다 아직 안 고쳐졌어요",
        "불만 있어요 처리가 안 됐어요",
        "보통 며칠 걸리나요?",
        "1점이요 아직도 냄새가 나요 언제 고쳐요?",
    ],
)
def test_a_follow_up_that_asks_again_is_not_taken_as_a_score(private_case, message, text) -> None:
    answer_privately(private_case)
    actions.send_reply(the_question(private_case).pk)
    message(text, psid=PSID)
    result = ingest.ingest_pending()
    assert result.cases_reopened == 1
    private_case.refresh_from_db()
    assert private_case.status == CaseStatus.REOPENED
    assert private_case.satisfaction is None


def test_personal_data_in_a_satisfaction_comment_is_masked(private_case) -> None:
    answer_privately(private_case)
    actions.send_reply(the_question(private_case).pk)
    asked = SatisfactionSurvey.objects.get(case=private_case).asked_at
    assert satisfaction.take_score(private_case, "5점 010-1234-5678 로 연락 감사했어요", asked)
    private_case.refresh_from_db()
    assert "1234-5678" not in private_case.satisfaction_comment
    assert "010-" in private_case.satisfaction_comment
    event = CaseEvent.objects.get(case=private_case, kind=CaseEventKind.SATISFACTION)
    assert "1234-5678" not in event.text


def test_the_question_answers_nothing_a_case_reopened_meanwhile_stays_open(private_case) -> None:
    answer_privately(private_case)
    actions.reopen(SYSTEM, private_case)
    actions.send_reply(the_question(private_case).pk)
    private_case.refresh_from_db()
    assert private_case.status == CaseStatus.REOPENED


def test_no_question_on_a_public_comment(comment_case) -> None:
    answer = actions.reply(SYSTEM, comment_case, "준설하겠습니다.")
    actions.send_reply(answer.pk)
    assert not Reply.objects.filter(purpose=ReplyPurpose.SURVEY).exists()
    # Nor a link: the city has not turned it on.
    assert Reply.objects.get(pk=answer.pk).text == "준설하겠습니다."


def test_no_question_when_the_city_turned_it_off(city, private_case) -> None:
    satisfaction.update_options(
        SYSTEM, city, ask_satisfaction_by_message=False, survey_link_in_replies=False
    )
    answer_privately(private_case)
    assert not Reply.objects.filter(purpose=ReplyPurpose.SURVEY).exists()


def test_changing_the_options_is_for_the_pr_office_and_audited(city, make_staff) -> None:
    responder = make_staff(city, Role.DEPARTMENT_RESPONDER, "sewer")
    with pytest.raises(PermissionDenied):
        satisfaction.update_options(
            responder, city, ask_satisfaction_by_message=False, survey_link_in_replies=True
        )
    editor = make_staff(city, Role.PR_EDITOR, "pr")
    satisfaction.update_options(
        editor, city, ask_satisfaction_by_message=True, survey_link_in_replies=True
    )
    entry = AuditEntry.objects.get(action="inbox.settings")
    assert entry.before == {"ask_satisfaction_by_message": True, "survey_link_in_replies": False}
    assert entry.after == {"ask_satisfaction_by_message": True, "survey_link_in_replies": True}
    client = Client()
    client.force_login(editor.user)
    page = client.get(reverse("inbox:options"))
    assert page.status_code == 200
    client.post(reverse("inbox:options"), {"ask_satisfaction_by_message": "on"})
    assert satisfaction.options(city.pk).survey_link_in_replies is False
    other = Client()
    other.force_login(responder.user)
    assert other.get(reverse("inbox:options")).status_code == 403


# -- the survey page -------------------------------------------------------------------------


def survey_path(reply: Reply) -> str:
    found = re.search(r"(/survey/[^/\s]+/)", reply.text)
    assert found, reply.text
    return found.group(1)


@pytest.fixture
def linked(city, comment_case) -> tuple[Case, str]:
    """A public answer carrying the survey link, sent."""
    satisfaction.update_options(
        SYSTEM, city, ask_satisfaction_by_message=True, survey_link_in_replies=True
    )
    answer = actions.reply(SYSTEM, comment_case, "오늘 오후 준설하겠습니다.")
    assert answer.text.startswith("오늘 오후 준설하겠습니다.\n\n이번 답변에 만족하셨나요?")
    actions.send_reply(answer.pk)
    return comment_case, survey_path(answer)


def test_a_citizen_answers_the_survey_page_once_without_signing_in(linked, page) -> None:
    case, path = linked
    comment = page.objects[case.messages.get().external_id]
    assert path in page.objects[comment["replies"][0]]["message"]  # it went out with the reply
    survey = SatisfactionSurvey.objects.get(case=case)
    assert survey.link_sent_at is not None
    assert survey.expires_at == survey.link_sent_at + dt.timedelta(days=14)
    citizen = Client(enforce_csrf_checks=True)
    form = citizen.get(path)
    assert form.status_code == 200
    html = form.content.decode()
    assert 'lang="ko"' in html
    assert "답변에 얼마나 만족하셨나요?" in html
    assert form["Cache-Control"] == "private, no-store"
    assert form["Referrer-Policy"] == "same-origin"
    # Nothing personal on the page.
    assert "박시민" not in html
    assert "하수구" not in html
    # CSRF-safe: a post without the page's token is refused.
    assert citizen.post(path, {"score": "4"}).status_code == 403
    token = citizen.cookies["csrftoken"].value
    missing = citizen.post(path, {"score": "", "csrfmiddlewaretoken": token})
    assert missing.status_code == 400
    assert "1점부터 5점 중에서 골라 주세요" in missing.content.decode()
    done = citizen.post(
        path, {"score": "4", "comment": "빨리 와 주셔서 감사합니다", "csrfmiddlewaretoken": token}
    )
    assert done.status_code == 302
    thanks = citizen.get(done["Location"])
    assert "응답이 기록되었습니다" in thanks.content.decode()
    case.refresh_from_db()
    assert (case.satisfaction, case.satisfaction_comment) == (4, "빨리 와 주셔서 감사합니다")
    assert SatisfactionSurvey.objects.get(case=case).answered_via == SurveyAnswerSource.PAGE
    # One answer per case.
    again = citizen.post(path, {"score": "1", "csrfmiddlewaretoken": token})
    assert again.status_code == 200
    assert "이미 응답하신" in again.content.decode()
    case.refresh_from_db()
    assert case.satisfaction == 4


def test_an_expired_forged_or_altered_link_is_refused_clearly(linked) -> None:
    case, path = linked
    survey_id = SatisfactionSurvey.objects.get().pk
    forged = signing.Signer(salt=satisfaction.SALT, key="not-the-secret-" * 4).sign_object(
        {"s": survey_id}
    )
    for bad in (f"/survey/{forged}/", path.replace("/survey/", "/survey/x"), "/survey/1/"):
        response = Client().get(bad)
        assert response.status_code == 404
        assert "올바르지 않은 만족도 조사 주소" in response.content.decode()
    SatisfactionSurvey.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    expired = Client().get(path)
    assert expired.status_code == 410
    assert "만족도 조사가 끝났습니다" in expired.content.decode()
    assert "14일" in expired.content.decode()
    with pytest.raises(satisfaction.SurveyClosed):
        satisfaction.answer_survey(SatisfactionSurvey.objects.get(), 5)
    case.refresh_from_db()
    assert case.satisfaction is None


def test_staff_recording_closes_the_survey_and_a_citizen_cannot_overwrite_it(linked) -> None:
    case, path = linked
    actions.record_satisfaction(SYSTEM, case, 3, "전화로 들음")
    assert "이미 응답하신" in Client().get(path).content.decode()
    with pytest.raises(ValidationError):
        actions.record_satisfaction(satisfaction.CITIZEN, case, 5, source=SurveyAnswerSource.PAGE)
    # Staff may correct what they recorded.
    actions.record_satisfaction(SYSTEM, case, 4)
    case.refresh_from_db()
    assert case.satisfaction == 4
    with pytest.raises(ValidationError):
        actions.record_satisfaction(SYSTEM, case, True)  # a bool is not a score
    with pytest.raises(ValidationError):
        actions.record_satisfaction(SYSTEM, case, 3, "가" * 2001)


def test_the_link_is_not_added_after_an_answer(linked) -> None:
    case, _path = linked
    actions.record_satisfaction(SYSTEM, case, 5)
    later = actions.reply(SYSTEM, case, "추가 안내드립니다.")
    assert later.text == "추가 안내드립니다."


# -- figures on the pages ------------------------------------------------------------------


def test_the_case_page_and_the_inbox_show_satisfaction(city, comment, make_staff) -> None:
    comment("하수구 냄새", author="1")
    comment("도로 파임", author="2")
    ingest.ingest_pending()
    first, second = Case.objects.order_by("pk")
    for case, score in ((first, 5), (second, 2)):
        actions.assign(SYSTEM, case, department=department(city, "sewer"))
        actions.change_status(SYSTEM, case, CaseStatus.ANSWERED)
        actions.record_satisfaction(SYSTEM, case, score, "의견")
    assert satisfaction.average(Case.objects.all()) == satisfaction.Average(3.5, 2)
    assert satisfaction.average(Case.objects.none()) == satisfaction.Average(None, 0)
    client = Client()
    client.force_login(make_staff(city, Role.PR_EDITOR, "pr").user)
    inbox = client.get(reverse("inbox:index")).content.decode()
    assert "3.5 / 5" in inbox  # answered cases count though the list shows open ones
    roads = client.get(reverse("inbox:index"), {"department": department(city, "roads").pk})
    assert "3.5 / 5" not in roads.content.decode()
    page = client.get(reverse("inbox:case", args=[first.pk])).content.decode()
    assert "5 / 5" in page


def test_the_link_is_left_out_where_it_would_not_fit_the_platform() -> None:
    from sotong.channels.models import Channel
    from sotong.inbox.models import Message

    on_x = Message(channel=Channel(kind="x"))
    # X counts Hangul double and a link as 23: 120 Hangul and a link fit, 140 and one do not.
    assert satisfaction._fits(on_x, "가" * 120 + " https://sotong.example/survey/abc/")
    assert not satisfaction._fits(on_x, "가" * 140 + " https://sotong.example/survey/abc/")


def test_a_failure_to_ask_never_undoes_a_sent_reply(private_case, monkeypatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("bug")

    monkeypatch.setattr(satisfaction, "_ask_by_message", broken)
    answer = answer_privately(private_case)
    answer.refresh_from_db()
    assert answer.state == ReplyState.SENT
    private_case.refresh_from_db()
    assert private_case.status == CaseStatus.ANSWERED
    assert not Reply.objects.filter(purpose=ReplyPurpose.SURVEY).exists()
