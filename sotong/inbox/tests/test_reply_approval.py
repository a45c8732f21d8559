"""Reply approval on sensitive cases (답변 승인): a case is sensitive when the PR office marks
it (with a reason) or triage found high urgency; a reply there waits, is not sent, and
the approvers are told; a PR editor other than its writer approves it (then it goes out as
any reply) or returns it with a comment (then it is edited and resubmitted). The sole
approver of a city may approve their own, marked in the audit log."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import translation

from sotong.conftest import SYSTEM, department
from sotong.core.models import AuditEntry, Staff
from sotong.core.roles import Role
from sotong.inbox import actions, ingest
from sotong.inbox.models import (
    Case,
    CaseEvent,
    CaseEventKind,
    Reply,
    ReplyState,
    Sensitivity,
    Urgency,
)
from sotong.notifications.models import Notification, NotificationKind


@pytest.fixture
def case(city, comment) -> Case:
    comment("하수구 냄새가 심해요. 언제 고쳐주시나요?")
    ingest.ingest_pending()
    return actions.assign(SYSTEM, Case.objects.get(), department=department(city, "sewer"))


@pytest.fixture
def editor(city, make_staff) -> Staff:
    return make_staff(city, Role.PR_EDITOR, "pr")


@pytest.fixture
def editor2(city, make_staff) -> Staff:
    return make_staff(city, Role.PR_EDITOR, "pr")


@pytest.fixture
def sensitive(case, editor) -> Case:
    return actions.set_sensitivity(editor, case, Sensitivity.MARKED, "언론 문의가 들어온 건")


def korean(error: ValidationError) -> str:
    with translation.override("ko"):
        return " ".join(str(message) for message in error.messages)


# -- sensitivity -----------------------------------------------------------------------------


def test_marking_sensitive_is_for_the_pr_office_with_a_reason_and_audited(
    city, case, editor, make_staff
) -> None:
    responder = make_staff(city, Role.DEPARTMENT_RESPONDER, "sewer")
    with pytest.raises(PermissionDenied):
        actions.set_sensitivity(responder, case, Sensitivity.MARKED, "민감")
    with pytest.raises(ValidationError) as no_reason:
        actions.set_sensitivity(editor, case, Sensitivity.MARKED, "  ")
    assert "사유" in korean(no_reason.value)
    with pytest.raises(ValidationError):
        actions.set_sensitivity(editor, case, "secret", "이유")
    case.refresh_from_db()
    assert not case.is_sensitive
    actions.set_sensitivity(editor, case, Sensitivity.MARKED, "언론 문의")
    case.refresh_from_db()
    assert case.is_sensitive
    assert (case.sensitivity_reason, case.sensitivity_by) == ("언론 문의", editor)
    entry = AuditEntry.objects.get(action="case.sensitivity")
    assert entry.after["sensitivity"] == "marked"
    assert entry.after["sensitive"] is True
    assert "언론" not in str(entry.after)  # the reason is on the timeline, not in the log
    event = CaseEvent.objects.get(case=case, kind=CaseEventKind.SENSITIVITY)
    assert event.text == "언론 문의"


def test_high_urgency_makes_a_case_sensitive_unless_cleared(case, editor) -> None:
    assert not case.is_sensitive
    Case.objects.filter(pk=case.pk).update(urgency=Urgency.HIGH)
    case.refresh_from_db()
    assert case.is_sensitive
    answer = actions.reply(editor, case, "현장을 확인하겠습니다.")
    assert answer.state == ReplyState.AWAITING_APPROVAL
    actions.set_sensitivity(editor, case, Sensitivity.CLEARED, "단순 민원으로 확인")
    case.refresh_from_db()
    assert not case.is_sensitive
    assert actions.reply(editor, case, "바로 보냅니다.").state == ReplyState.PENDING


# -- waiting, approving, returning -----------------------------------------------------------


def test_a_reply_on_a_sensitive_case_waits_and_the_approvers_are_told(
    sensitive, editor, editor2, make_staff, city
) -> None:
    admin = make_staff(city, Role.ADMIN)
    answer = actions.reply(editor, sensitive, "현장 확인 후 조치하겠습니다.")
    assert answer.state == ReplyState.AWAITING_APPROVAL
    # Not sent by the sweep or a stray task.
    assert actions.send_due_replies() == {"sent": 0, "failed": 0, "waiting": 0}
    assert actions.send_reply(answer.pk) == ReplyState.AWAITING_APPROVAL
    told = set(
        Notification.objects.filter(kind=NotificationKind.REPLY_APPROVAL_REQUESTED).values_list(
            "recipient", flat=True
        )
    )
    assert told == {editor2.pk, admin.pk}  # the writer is not asked to approve their own
    notice = Notification.objects.filter(recipient=editor2).get()
    assert notice.link == reverse("inbox:case", args=[sensitive.pk])
    assert f"#{sensitive.pk}" in notice.title
    assert "하수구" not in notice.body
    created = AuditEntry.objects.get(action="reply.create", target_id=str(answer.pk))
    assert created.after["awaiting_approval"] is True
    assert list(actions.awaiting_approval(editor2)) == [answer]


def test_another_pr_editor_approves_and_it_goes_out_on_the_channel(
    sensitive, editor, editor2, page
) -> None:
    answer = actions.reply(editor, sensitive, "다음 주 월요일에 준설합니다.")
    with pytest.raises(ValidationError) as own:
        actions.approve_reply(editor, answer)
    assert "다른 홍보 담당자" in korean(own.value)
    actions.approve_reply(editor2, answer)
    answer.refresh_from_db()
    assert answer.state == ReplyState.PENDING
    assert (answer.reviewed_by, answer.attempts) == (editor2, 0)
    assert actions.send_reply(answer.pk) == ReplyState.SENT
    comment = page.objects[sensitive.messages.get().external_id]
    assert [page.objects[key]["message"] for key in comment["replies"]] == [
        "다음 주 월요일에 준설합니다."
    ]
    sensitive.refresh_from_db()
    assert sensitive.status == "answered"
    entry = AuditEntry.objects.get(action="reply.approve")
    assert entry.actor_id == editor2.user_id
    assert entry.after["self_approved"] is False
    assert CaseEvent.objects.filter(case=sensitive, kind=CaseEventKind.REPLY_APPROVED).exists()
    # The request for approval is answered: read.
    assert not Notification.objects.filter(
        kind=NotificationKind.REPLY_APPROVAL_REQUESTED, read_at__isnull=True
    ).exists()
    with pytest.raises(ValidationError):
        actions.approve_reply(editor2, answer)  # not waiting any more


def test_only_approvers_who_see_the_case_decide(sensitive, editor, city, make_staff) -> None:
    answer = actions.reply(editor, sensitive, "확인 중입니다.")
    responder = make_staff(city, Role.DEPARTMENT_RESPONDER, "sewer")
    author = make_staff(city, Role.DEPARTMENT_AUTHOR, "sewer")
    for person in (responder, author):
        with pytest.raises(PermissionDenied):
            actions.approve_reply(person, answer)
        with pytest.raises(PermissionDenied):
            actions.return_reply(person, answer, "고쳐 주세요")
        assert not actions.may_approve(person, answer)
    answer.refresh_from_db()
    assert answer.state == ReplyState.AWAITING_APPROVAL


def test_the_only_approver_may_approve_their_own_reply_marked_in_the_audit_log(
    sensitive, editor, city, make_staff
) -> None:
    # A department responder writes; the one PR editor approves (no self-approval).
    responder = make_staff(city, Role.DEPARTMENT_RESPONDER, "sewer")
    theirs = actions.reply(responder, sensitive, "부서 답변입니다.")
    assert actions.may_approve(editor, theirs)
    # The one PR editor's own reply: nobody else could ever approve it.
    own = actions.reply(editor, sensitive, "홍보실 답변입니다.")
    assert actions.may_approve(editor, own)
    actions.approve_reply(editor, own)
    entry = AuditEntry.objects.get(action="reply.approve", target_id=str(own.pk))
    assert entry.after["self_approved"] is True


def test_return_with_a_comment_edit_and_resubmit(
    sensitive, editor, editor2, city, make_staff
) -> None:
    third = make_staff(city, Role.PR_EDITOR, "pr")
    answer = actions.reply(editor, sensitive, "곧 처리합니다.")
    with pytest.raises(ValidationError) as empty:
        actions.return_reply(editor2, answer, " ")
    assert "고쳐야" in korean(empty.value)
    actions.return_reply(editor2, answer, "처리 일정을 구체적으로 적어 주세요.")
    answer.refresh_from_db()
    assert answer.state == ReplyState.RETURNED
    assert answer.review_comment == "처리 일정을 구체적으로 적어 주세요."
    notice = Notification.objects.get(recipient=editor, kind=NotificationKind.REPLY_RETURNED)
    assert "처리 일정" in notice.body
    assert actions.send_reply(answer.pk) == ReplyState.RETURNED  # a returned reply never goes
    with pytest.raises(ValidationError):
        actions.approve_reply(editor2, answer)
    with pytest.raises(ValidationError):
        actions.resubmit_reply(editor, answer, "")
    # Edited by the second editor, who therefore may not approve it now.
    actions.resubmit_reply(editor2, answer, "3월 5일까지 준설을 마치겠습니다.")
    answer.refresh_from_db()
    assert answer.state == ReplyState.AWAITING_APPROVAL
    assert (answer.text, answer.submitted_by) == ("3월 5일까지 준설을 마치겠습니다.", editor2)
    assert not actions.may_approve(editor, answer)  # wrote it first
    assert not actions.may_approve(editor2, answer)  # edited it
    assert actions.may_approve(third, answer)
    actions.approve_reply(third, answer)
    answer.refresh_from_db()
    assert answer.state == ReplyState.PENDING
    kinds = list(
        CaseEvent.objects.filter(case=sensitive).values_list("kind", flat=True).order_by("pk")
    )
    assert kinds[-4:] == [
        CaseEventKind.REPLY,
        CaseEventKind.REPLY_RETURNED,
        CaseEventKind.REPLY_RESUBMITTED,
        CaseEventKind.REPLY_APPROVED,
    ]
    for action in ("reply.return", "reply.resubmit", "reply.approve"):
        entry = AuditEntry.objects.get(action=action, target_id=str(answer.pk))
        assert "준설" not in str(entry.after)
        assert "일정" not in str(entry.after)
    with pytest.raises(ValidationError):
        actions.resubmit_reply(editor, answer, "또 고침")  # only a returned one


def test_a_resubmitted_reply_goes_out_at_once_when_the_case_is_no_longer_sensitive(
    sensitive, editor, editor2
) -> None:
    answer = actions.reply(editor, sensitive, "곧 처리합니다.")
    actions.return_reply(editor2, answer, "표현을 다듬어 주세요.")
    actions.set_sensitivity(editor2, sensitive, Sensitivity.CLEARED, "일반 민원으로 판단")
    actions.resubmit_reply(editor, answer, "빠르게 처리하겠습니다.")
    answer.refresh_from_db()
    assert answer.state == ReplyState.PENDING


# -- pages -----------------------------------------------------------------------------------


def signed_in(staff: Staff) -> Client:
    client = Client()
    client.force_login(staff.user)
    return client


def test_pages_show_waiting_replies_and_take_decisions(sensitive, editor, editor2) -> None:
    writer = signed_in(editor)
    case_url = reverse("inbox:case", args=[sensitive.pk])
    page = writer.get(case_url).content.decode()
    assert 'id="sensitive-note"' in page
    sent = writer.post(
        reverse("inbox:case_action", args=[sensitive.pk, "reply"]),
        {"text": "확인 후 연락드리겠습니다.", "visibility": "public"},
    )
    assert sent.status_code == 302
    answer = Reply.objects.get()
    assert answer.state == ReplyState.AWAITING_APPROVAL
    approve_url = reverse("inbox:review_reply", args=[sensitive.pk, answer.pk, "approve"])
    # The writer sees it waiting, without the approve button.
    assert approve_url not in writer.get(case_url).content.decode()
    approver = signed_in(editor2)
    inbox = approver.get(reverse("inbox:index")).content.decode()
    assert 'id="inbox-figures"' in inbox
    assert "awaiting_approval=on" in inbox
    only = approver.get(reverse("inbox:index"), {"awaiting_approval": "on"}).content.decode()
    assert reverse("inbox:case", args=[sensitive.pk]) in only
    assert approve_url in approver.get(case_url).content.decode()
    return_url = reverse("inbox:review_reply", args=[sensitive.pk, answer.pk, "return"])
    empty = approver.post(return_url, {f"return-{answer.pk}-comment": ""})
    assert empty.status_code == 400
    returned = approver.post(return_url, {f"return-{answer.pk}-comment": "일정을 넣어 주세요"})
    assert returned.status_code == 302
    resubmit_url = reverse("inbox:review_reply", args=[sensitive.pk, answer.pk, "resubmit"])
    page = writer.get(case_url).content.decode()
    assert "일정을 넣어 주세요" in page
    assert resubmit_url in page
    writer.post(resubmit_url, {f"resubmit-{answer.pk}-text": "3월 5일에 연락드리겠습니다."})
    answer.refresh_from_db()
    assert answer.state == ReplyState.AWAITING_APPROVAL
    own = writer.post(approve_url, follow=True)
    assert "다른 홍보 담당자" in own.content.decode() or "another PR editor" in own.content.decode()
    assert approver.post(approve_url).status_code == 302
    answer.refresh_from_db()
    assert answer.state == ReplyState.PENDING
    assert (
        approver.post(
            reverse("inbox:review_reply", args=[sensitive.pk, answer.pk, "delete"])
        ).status_code
        == 404
    )


def test_the_sensitivity_form(case, editor, city, make_staff) -> None:
    client = signed_in(editor)
    url = reverse("inbox:sensitivity", args=[case.pk])
    missing = client.post(url, {"sensitivity-sensitivity": "marked", "sensitivity-reason": ""})
    assert missing.status_code == 400
    done = client.post(url, {"sensitivity-sensitivity": "marked", "sensitivity-reason": "언론"})
    assert done.status_code == 302
    case.refresh_from_db()
    assert case.sensitivity == Sensitivity.MARKED
    responder = signed_in(make_staff(city, Role.DEPARTMENT_RESPONDER, "sewer"))
    assert responder.post(url, {"sensitivity-sensitivity": "cleared"}).status_code == 403


# -- API -------------------------------------------------------------------------------------


def post_json(client: Client, path: str, body: dict[str, object] | None = None):
    return client.post(path, body or {}, content_type="application/json")


def test_api_marks_sensitive_lists_approves_returns_and_resubmits(
    case, editor, editor2, city, make_staff
) -> None:
    writer, approver = signed_in(editor), signed_in(editor2)
    marked = post_json(
        writer, f"/api/v1/cases/{case.pk}/sensitivity", {"sensitivity": "marked", "reason": "언론"}
    )
    assert marked.status_code == 200
    assert marked.json()["sensitive"] is True
    bad = post_json(
        writer, f"/api/v1/cases/{case.pk}/sensitivity", {"sensitivity": "marked", "reason": ""}
    )
    assert bad.status_code == 400
    created = post_json(writer, f"/api/v1/cases/{case.pk}/reply", {"text": "확인하겠습니다."})
    assert created.status_code == 201
    assert created.json()["state"] == "awaiting"
    reply_id = created.json()["id"]
    waiting = approver.get("/api/v1/replies/awaiting-approval").json()
    assert [item["id"] for item in waiting] == [reply_id]
    assert waiting[0]["submitted_by"] == editor.display_name
    own = post_json(writer, f"/api/v1/replies/{reply_id}/approve")
    assert own.status_code == 400
    returned = post_json(approver, f"/api/v1/replies/{reply_id}/return", {"comment": "날짜를"})
    assert returned.status_code == 200
    assert (returned.json()["state"], returned.json()["review_comment"]) == ("returned", "날짜를")
    again = post_json(writer, f"/api/v1/replies/{reply_id}/resubmit", {"text": "5일에 하겠습니다."})
    assert again.json()["state"] == "awaiting"
    approved = post_json(approver, f"/api/v1/replies/{reply_id}/approve")
    assert approved.status_code == 200
    assert approved.json()["state"] == "pending"
    assert approved.json()["reviewed_by"] == editor2.display_name
    roads = signed_in(make_staff(city, Role.DEPARTMENT_RESPONDER, "roads"))
    assert post_json(roads, f"/api/v1/replies/{reply_id}/approve").status_code == 404
