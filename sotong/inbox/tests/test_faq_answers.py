"""A plain question the city's FAQ answers confidently is answered on its channel at once
and the case closed; complaints, urgent reports and conversations under way wait for
people; an FAQ reply that fails to send reopens the case."""

from __future__ import annotations

import pytest

from sotong.conftest import SYSTEM, department
from sotong.faq import actions as faq
from sotong.faq.answers import forget_indexes
from sotong.inbox import actions, ingest, triage
from sotong.inbox.models import Case, CaseStatus, Intent, Message, Reply, ReplyState
from sotong.simulator.core import Fault, FaultKind

ANSWER = "음식물 쓰레기는 일·화·목요일 저녁 7시부터 배출하시면 됩니다."


@pytest.fixture(autouse=True)
def collection_faq(city):
    forget_indexes()
    faq.create_entry(
        SYSTEM,
        city,
        questions=["음식물 쓰레기 배출 요일이 언제인가요?", "음식물 쓰레기 언제 버려요?"],
        answer=ANSWER,
        department=department(city, "sewer"),
    )
    yield
    forget_indexes()


def triaged(comment, text: str) -> Message:
    comment(text)
    ingest.ingest_pending()
    triage.triage_pending()
    return Message.objects.order_by("-pk").first()


def test_a_question_the_faq_answers_is_answered_and_closed(comment, page) -> None:
    message = triaged(comment, "음식물 쓰레기는 무슨 요일에 버리나요?")
    assert message.intent == Intent.QUESTION
    case = Case.objects.get(pk=message.case_id)
    assert case.status == CaseStatus.CLOSED
    answer = Reply.objects.get(case=case)
    assert (answer.text, answer.public, answer.by) == (ANSWER, True, None)
    assert case.events.filter(text__contains="음식물 쓰레기").exists()  # the note says which
    assert actions.send_reply(answer.pk) == ReplyState.SENT
    replies = page.objects[message.external_id]["replies"]
    assert [page.objects[r]["message"] for r in replies] == [ANSWER]
    case.refresh_from_db()
    assert case.status == CaseStatus.CLOSED
    assert case.answered_at is not None


@pytest.mark.parametrize(
    "text",
    [
        "음식물 쓰레기를 왜 아직도 안 치워 가나요? 냄새 때문에 너무 불편합니다",  # a complaint
        "가스 냄새가 나요 화재 위험 있어요 빨리 와주세요",  # urgent
        "주차장 요금은 얼마인가요?",  # nothing in the FAQ answers it
    ],
)
def test_what_the_faq_does_not_answer_waits_for_people(comment, text) -> None:
    message = triaged(comment, text)
    case = Case.objects.get(pk=message.case_id)
    assert case.status == CaseStatus.NEW
    assert not Reply.objects.filter(case=case).exists()


def test_an_faq_reply_that_cannot_be_sent_reopens_the_case(comment, sim) -> None:
    message = triaged(comment, "음식물 쓰레기 언제 버려요?")
    answer = Reply.objects.get(case_id=message.case_id)
    sim.simulator.inject(
        "facebook", Fault(FaultKind.TOKEN_REVOKED, count=1, methods=frozenset({"POST"}))
    )
    assert actions.send_reply(answer.pk) == ReplyState.FAILED
    case = Case.objects.get(pk=message.case_id)
    assert case.status == CaseStatus.REOPENED
    assert case.closed_at is None


def test_a_case_marked_sensitive_is_not_answered_by_the_faq(comment) -> None:
    from sotong.inbox.models import Sensitivity

    comment("음식물 쓰레기는 무슨 요일에 버리나요?")
    ingest.ingest_pending()
    case = Case.objects.get()
    # The PR office marked it before triage reached it.
    Case.objects.filter(pk=case.pk).update(sensitivity=Sensitivity.MARKED)
    triage.triage_pending()
    case.refresh_from_db()
    assert case.status == CaseStatus.NEW
    assert not Reply.objects.filter(case=case).exists()


def test_a_reply_refused_for_a_dead_credential_asks_for_reconnecting(comment, sim) -> None:
    from sotong.channels.models import Channel

    message = triaged(comment, "음식물 쓰레기 언제 버려요?")
    answer = Reply.objects.get(case_id=message.case_id)
    sim.simulator.inject(
        "facebook", Fault(FaultKind.TOKEN_REVOKED, count=1, methods=frozenset({"POST"}))
    )
    assert actions.send_reply(answer.pk) == ReplyState.FAILED
    answer.refresh_from_db()
    assert "다시 연결" in answer.reason or "reconnect" in answer.reason
    channel = Channel.objects.get(pk=message.channel_id)
    assert channel.status == "needs_reconnect"
