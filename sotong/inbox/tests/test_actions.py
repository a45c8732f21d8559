"""Actions on cases: each checks permission and department scope and leaves an audit
entry; replies go out through the channel, are retried on passing failures and shown
failed otherwise; deadlines remind and escalate once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from sotong.conftest import SYSTEM, department
from sotong.core.models import AuditEntry, Organisation, Staff
from sotong.core.roles import Role
from sotong.inbox import actions, ingest, selectors
from sotong.inbox.models import (
    Case,
    CaseKind,
    CaseStatus,
    Message,
    Referral,
    ReferralState,
    Reply,
    ReplyState,
    RoutingLabel,
)
from sotong.notifications.models import Notification, NotificationKind
from sotong.platforms.base import RateLimitState
from sotong.simulator.core import Fault, FaultKind

from .conftest import PAGE_ID


@pytest.fixture
def case(city, comment) -> Case:
    comment("조례동 하수구 냄새가 심해요. 언제 고쳐주시나요?")
    ingest.ingest_pending()
    case = Case.objects.get()
    return actions.assign(SYSTEM, case, department=department(city, "sewer"))


def test_department_staff_see_only_their_departments_cases(
    city, other_city, make_staff, comment
) -> None:
    comment("하수구 냄새", author="1")
    comment("도로 파임", author="2")
    ingest.ingest_pending()
    sewer_case, roads_case = Case.objects.order_by("pk")
    actions.assign(SYSTEM, sewer_case, department=department(city, "sewer"))
    actions.assign(SYSTEM, roads_case, department=department(city, "roads"))
    author = make_staff(city, Role.DEPARTMENT_AUTHOR, "sewer")
    responder = make_staff(city, Role.DEPARTMENT_RESPONDER, "sewer")
    editor = make_staff(city, Role.PR_EDITOR, "pr")
    stranger = make_staff(other_city, Role.ADMIN)
    everything = selectors.CaseFilters()
    assert list(selectors.inbox(author, everything)) == [sewer_case]
    assert list(Message.objects.for_staff(author)) == list(sewer_case.messages.all())
    assert set(selectors.inbox(editor, everything)) == {sewer_case, roads_case}
    assert list(selectors.inbox(stranger, everything)) == []
    with pytest.raises(PermissionDenied):
        actions.add_note(responder, roads_case, "제 부서 건이 아닙니다")
    with pytest.raises(PermissionDenied):
        actions.add_note(stranger, sewer_case, "다른 시")
    actions.add_note(responder, sewer_case, "현장 확인 예정")
    # A department's staff never see the citizen's original words of another's case.
    assert actions.may_see_personal_data(responder, sewer_case)
    assert not actions.may_see_personal_data(responder, roads_case)
    assert not actions.may_see_personal_data(author, sewer_case)


def _referral(city: Organisation, case: Case) -> Referral:
    return actions.refer(SYSTEM, case, department=department(city, "sewer"), question="확인 부탁")


ACTIONS: dict[str, tuple[Callable[[Staff, Case, Organisation], Any], set[str]]] = {
    "case.assign": (
        lambda by, case, city: actions.assign(by, case, department=department(city, "roads")),
        {Role.ADMIN, Role.PR_EDITOR},
    ),
    "case.status": (
        lambda by, case, city: actions.change_status(by, case, CaseStatus.IN_PROGRESS),
        {Role.ADMIN, Role.PR_EDITOR, Role.DEPARTMENT_RESPONDER},
    ),
    "case.kind": (
        lambda by, case, city: actions.change_kind(by, case, CaseKind.GRIEVANCE),
        {Role.ADMIN, Role.PR_EDITOR},
    ),
    "case.note": (
        lambda by, case, city: actions.add_note(by, case, "내부 메모"),
        {Role.ADMIN, Role.PR_EDITOR, Role.DEPARTMENT_RESPONDER},
    ),
    "case.close": (
        lambda by, case, city: actions.close(by, case),
        {Role.ADMIN, Role.PR_EDITOR, Role.DEPARTMENT_RESPONDER},
    ),
    "case.satisfaction": (
        lambda by, case, city: actions.record_satisfaction(by, case, 4, "빨리 고쳐주셔서 감사"),
        {Role.ADMIN, Role.PR_EDITOR, Role.DEPARTMENT_RESPONDER},
    ),
    "referral.create": (
        lambda by, case, city: actions.refer(by, case, department=department(city, "sewer")),
        {Role.ADMIN, Role.PR_EDITOR},
    ),
    "referral.answer": (
        lambda by, case, city: actions.answer_referral(by, _referral(city, case), "다음 주 보수"),
        {Role.ADMIN, Role.PR_EDITOR, Role.DEPARTMENT_RESPONDER},
    ),
    "reply.create": (
        lambda by, case, city: actions.reply(by, case, "현장 확인 후 조치하겠습니다."),
        {Role.ADMIN, Role.PR_EDITOR, Role.DEPARTMENT_RESPONDER},
    ),
    "routing.correct": (
        lambda by, case, city: actions.correct_routing(
            by, case.messages.get(), department(city, "sewer")
        ),
        {Role.ADMIN, Role.PR_EDITOR},
    ),
    "case.view_personal_data": (
        lambda by, case, city: actions.personal_data(by, case),
        {Role.ADMIN, Role.PR_EDITOR, Role.DEPARTMENT_RESPONDER},
    ),
}
ROLES = [Role.ADMIN, Role.PR_EDITOR, Role.DEPARTMENT_RESPONDER, Role.DEPARTMENT_AUTHOR, Role.VIEWER]


@pytest.mark.parametrize("action", sorted(ACTIONS))
@pytest.mark.parametrize("role", ROLES)
def test_each_action_checks_permission_and_is_audited(
    action: str, role: str, city, case, make_staff
) -> None:
    call, allowed = ACTIONS[action]
    code = "sewer" if role in (Role.DEPARTMENT_RESPONDER, Role.DEPARTMENT_AUTHOR) else None
    code = "pr" if role == Role.PR_EDITOR else code
    staff = make_staff(city, role, code)
    if role not in allowed:
        with pytest.raises(PermissionDenied):
            call(staff, case, city)
        assert not AuditEntry.objects.filter(action=action, actor_id=staff.user_id).exists()
        return
    call(staff, case, city)
    entry = AuditEntry.objects.get(action=action, actor_id=staff.user_id)
    assert entry.organisation_id == city.pk
    # Nothing the citizen or staff wrote goes into the audit log.
    assert "하수구" not in str(entry.after)
    assert "메모" not in str(entry.after)


def test_bad_input_is_refused_in_korean_and_changes_nothing(city, case) -> None:
    with pytest.raises(ValidationError):
        actions.add_note(SYSTEM, case, "   ")
    with pytest.raises(ValidationError):
        actions.record_satisfaction(SYSTEM, case, 6)
    with pytest.raises(ValidationError):
        actions.reply(SYSTEM, case, "")
    with pytest.raises(ValidationError):
        actions.change_kind(SYSTEM, case, "nonsense")
    with pytest.raises(ValidationError):
        actions.reopen(SYSTEM, case)  # not finished
    with pytest.raises(ValidationError):
        actions.hide_message(SYSTEM, case.messages.get(), "")
    with pytest.raises(ValidationError):
        actions.reply(SYSTEM, case, "비공개 답변", public=False)  # a comment is answered in public
    assert Reply.objects.count() == 0
    case.refresh_from_db()
    assert case.satisfaction is None
    assert case.kind == CaseKind.OTHER


def test_a_reply_goes_out_on_the_channel_and_answers_the_case(case, page) -> None:
    answer = actions.reply(SYSTEM, case, "다음 주 월요일에 준설 작업을 합니다.")
    assert answer.state == ReplyState.PENDING
    assert actions.send_reply(answer.pk) == ReplyState.SENT
    answer.refresh_from_db()
    comment = page.objects[case.messages.get().external_id]
    replies = [page.objects[key] for key in comment["replies"]]
    assert [r["message"] for r in replies] == ["다음 주 월요일에 준설 작업을 합니다."]
    assert answer.external_id == replies[0]["id"]
    case.refresh_from_db()
    assert case.status == CaseStatus.ANSWERED
    assert case.answered_at is not None
    assert AuditEntry.objects.filter(action="reply.sent", target_id=str(answer.pk)).exists()
    # Sending again does nothing: it is sent.
    assert actions.send_reply(answer.pk) == ReplyState.SENT
    assert len(comment["replies"]) == 1


def test_a_reply_that_fails_for_a_passing_reason_is_retried(case, sim, page) -> None:
    sim.simulator.inject(
        "facebook", Fault(FaultKind.RATE_LIMITED, count=1, methods=frozenset({"POST"}))
    )
    answer = actions.reply(SYSTEM, case, "확인 중입니다.")
    assert actions.send_reply(answer.pk) == ReplyState.PENDING
    answer.refresh_from_db()
    assert answer.attempts == 0  # waiting its turn is not a failed attempt
    assert answer.reason
    assert answer.next_attempt_at > timezone.now()
    assert actions.send_due_replies() == {"sent": 0, "failed": 0, "waiting": 0}  # not due yet
    # Time passes: the retry is due and the platform's rate limit has lifted.
    Reply.objects.filter(pk=answer.pk).update(next_attempt_at=timezone.now())
    RateLimitState.clear()
    assert actions.send_due_replies()["sent"] == 1
    answer.refresh_from_db()
    assert answer.state == ReplyState.SENT
    assert answer.attempts == 1


def test_a_reply_refused_is_shown_failed_told_and_can_be_sent_again(
    city, case, sim, make_staff
) -> None:
    editor = make_staff(city, Role.PR_EDITOR, "pr")
    sim.simulator.inject(
        "facebook", Fault(FaultKind.TOKEN_REVOKED, count=1, methods=frozenset({"POST"}))
    )
    answer = actions.reply(editor, case, "확인 중입니다.")
    assert actions.send_reply(answer.pk) == ReplyState.FAILED
    answer.refresh_from_db()
    assert answer.reason
    assert answer.text == "확인 중입니다."
    assert AuditEntry.objects.filter(action="reply.failed", target_id=str(answer.pk)).exists()
    assert Notification.objects.filter(
        recipient=editor, kind=NotificationKind.REPLY_FAILED
    ).exists()
    case.refresh_from_db()
    assert case.status != CaseStatus.ANSWERED
    actions.retry_reply(editor, answer)
    assert actions.send_reply(answer.pk) == ReplyState.SENT
    with pytest.raises(ValidationError):
        actions.retry_reply(editor, answer)


def test_hiding_a_comment_hides_it_on_the_platform_and_keeps_it_here(case, page) -> None:
    message = case.messages.get()
    actions.hide_message(SYSTEM, message, "욕설")
    assert page.objects[message.external_id]["is_hidden"] is True
    message.refresh_from_db()
    assert message.hidden_at is not None
    assert message.hidden_reason == "욕설"
    assert Message.objects.filter(pk=message.pk).exists()
    entry = AuditEntry.objects.get(action="message.hide", target_id=str(message.pk))
    assert entry.after == {"reason": "욕설"}


def test_a_referral_is_asked_answered_and_told(city, case, make_staff) -> None:
    editor = make_staff(city, Role.PR_EDITOR, "pr")
    responder = make_staff(city, Role.DEPARTMENT_RESPONDER, "sewer")
    roads = make_staff(city, Role.DEPARTMENT_RESPONDER, "roads")
    referral = actions.refer(editor, case, department=department(city, "sewer"), question="일정?")
    assert referral.due_at == case.deadline
    assert Notification.objects.filter(
        recipient=responder, kind=NotificationKind.REFERRAL_REQUESTED
    ).exists()
    with pytest.raises(PermissionDenied):
        actions.answer_referral(roads, referral, "모릅니다")
    actions.answer_referral(responder, referral, "다음 주 월요일 준설")
    referral.refresh_from_db()
    assert referral.state == ReferralState.ANSWERED
    assert referral.answered_by == responder
    assert Notification.objects.filter(
        recipient=editor, kind=NotificationKind.REFERRAL_ANSWERED
    ).exists()
    with pytest.raises(ValidationError):
        actions.answer_referral(responder, referral, "두 번째 답")


def test_a_routing_correction_is_stored_as_a_label(city, case) -> None:
    from sotong.nlp.routing import default_model

    message = case.messages.get()
    shared = default_model().suggest(message.masked_text, k=3)
    actions.correct_routing(SYSTEM, message, department(city, "roads"))
    label = RoutingLabel.objects.get()
    assert (label.message, label.unit) == (message, "도로과")
    # The shipped model all cities share is not changed by one city's label: the city's
    # own model learns it when retrained.
    assert default_model().suggest(message.masked_text, k=3) == shared


def test_routing_a_case_assigns_it_and_labels_the_latest_message_together(city, case) -> None:
    roads = department(city, "roads")
    routed = actions.route(SYSTEM, case, roads)
    assert routed.department == roads
    label = RoutingLabel.objects.get()
    assert (label.message, label.department) == (case.messages.get(), roads)


def test_routing_is_all_or_nothing(city, case, monkeypatch) -> None:
    from django.db import DatabaseError

    def fail(*args: Any, **kwargs: Any) -> None:
        raise DatabaseError("disk I/O error")

    # The label is written after the assignment: when it fails, the assignment is undone.
    monkeypatch.setattr(RoutingLabel.objects, "create", fail)
    with pytest.raises(DatabaseError):
        actions.route(SYSTEM, case, department(city, "roads"))
    case.refresh_from_db()
    assert case.department == department(city, "sewer")
    assert not AuditEntry.objects.filter(
        action="case.assign", after__department=department(city, "roads").pk
    ).exists()


def test_routing_refuses_a_message_of_another_case(city, case, comment) -> None:
    comment("다른 글의 문의", author="6099")
    ingest.ingest_pending()
    stranger = Message.objects.exclude(case=case).get()
    with pytest.raises(ValidationError):
        actions.route(SYSTEM, case, department(city, "roads"), message=stranger)
    assert not RoutingLabel.objects.exists()


def test_reminders_before_and_escalation_after_the_deadline_once(city, case, make_staff) -> None:
    editor = make_staff(city, Role.PR_EDITOR, "pr")
    responder = make_staff(city, Role.DEPARTMENT_RESPONDER, "sewer")
    case.refresh_from_db()
    assert case.remind_at is not None
    assert case.received_at < case.remind_at < case.deadline
    early = actions.remind_and_escalate(case.remind_at - dt.timedelta(minutes=1))
    assert early == {"reminded": 0, "escalated": 0}
    after_reminder = case.remind_at + dt.timedelta(minutes=1)
    assert actions.remind_and_escalate(after_reminder) == {"reminded": 1, "escalated": 0}
    assert actions.remind_and_escalate(after_reminder) == {"reminded": 0, "escalated": 0}
    assert (
        Notification.objects.filter(
            recipient=responder, kind=NotificationKind.CASE_DUE_SOON
        ).count()
        == 1
    )
    late = case.deadline + dt.timedelta(minutes=1)
    assert actions.remind_and_escalate(late) == {"reminded": 0, "escalated": 1}
    assert actions.remind_and_escalate(late) == {"reminded": 0, "escalated": 0}
    for person in (editor, responder):
        assert (
            Notification.objects.filter(
                recipient=person, kind=NotificationKind.CASE_OVERDUE
            ).count()
            == 1
        )
    notice = Notification.objects.filter(kind=NotificationKind.CASE_OVERDUE).first()
    assert notice is not None
    assert f"#{case.pk}" in notice.title
    assert "하수구" not in notice.body
    assert AuditEntry.objects.filter(action="case.escalate", target_id=str(case.pk)).exists()
    # An answered case is neither reminded nor escalated.
    actions.change_status(SYSTEM, case, CaseStatus.ANSWERED)
    Case.objects.filter(pk=case.pk).update(escalated_at=None, reminded_at=None)
    assert actions.remind_and_escalate(late) == {"reminded": 0, "escalated": 0}


def test_the_page_is_ours_not_a_citizen(channel) -> None:
    assert channel.account_id == PAGE_ID
