"""The inbox in the JSON API: cases (list, detail, original words on request), what staff
do on them (assign, status, kind, note, reply, close, reopen, refer, satisfaction, mark
sensitive), canned responses offered on a case, replies waiting for approval (approve,
return, resubmit), on referrals, replies and messages, and the FAQ's drafts. Thin like the publishing API: rows
are looked up through the scoped selectors (404 outside the caller's department) and the
inbox actions check permissions and rules (their Korean messages are the 400s)."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.responses import Status

from sotong.api.errors import ApiError, ErrorOut
from sotong.api.inbox_schemas import (
    AnswerIn,
    AssignIn,
    CaseDetail,
    CasePage,
    CaseSummary,
    EventOut,
    FaqMatchOut,
    HideIn,
    KindIn,
    MessageOut,
    NoteIn,
    OriginalMessageOut,
    OriginalOut,
    ReferIn,
    ReferralOut,
    ReplyIn,
    ReplyOut,
    RoutingIn,
    SatisfactionIn,
    StaffRef,
    StatusIn,
    SuggestionOut,
    TriageOut,
)
from sotong.api.schemas import ChannelRef, DepartmentOut
from sotong.core.models import Department, Staff
from sotong.faq import answers as faq_answers
from sotong.inbox import actions, canned, selectors
from sotong.inbox.models import (
    Case,
    CaseEvent,
    CaseStatus,
    Intent,
    Message,
    Referral,
    Reply,
    Urgency,
)

MAX_PAGE = 100
MAX_FAQ_QUERY = 2000

router = Router(tags=["inbox"])


def documented(*codes: int) -> dict[int, Any]:
    """Error responses every operation documents (401 always; the others as it can meet)."""
    return dict.fromkeys((401, *codes), ErrorOut)


def _staff(request: HttpRequest) -> Staff:
    return cast(Staff, request.auth)  # type: ignore[attr-defined]


def _department(department: Department | None) -> DepartmentOut | None:
    return DepartmentOut(id=department.pk, name=department.name) if department else None


def _person(staff: Staff | None) -> StaffRef | None:
    return StaffRef(id=staff.pk, name=staff.display_name) if staff else None


def _name(staff: Staff | None) -> str | None:
    return staff.display_name if staff else None


def _triage(message: Message) -> TriageOut:
    return TriageOut(
        intent=message.intent,
        urgency=message.urgency,
        reasons=[str(reason) for reason in message.reasons or []],
        suggestions=[
            SuggestionOut(
                unit=str(item.get("unit", "")),
                department_id=item.get("department_id"),
                name=str(item.get("name", "")),
                confidence=float(item.get("confidence", 0.0)),
            )
            for item in message.suggestions or []
        ],
        triaged_at=_local(message.triaged_at),
    )


def _local(value: Any) -> Any:
    return timezone.localtime(value) if value is not None else None


def _summary_fields(case: Case, messages: list[Message]) -> dict[str, Any]:
    """``messages`` oldest first."""
    latest = messages[-1] if messages else None
    return {
        "id": case.pk,
        "status": case.status,
        "kind": case.kind,
        "urgency": case.urgency,
        "intent": latest.intent if latest else "",
        "channel": ChannelRef(id=case.channel.pk, kind=case.channel.kind, name=case.channel.name),
        "department": _department(case.department),
        "assignee": _person(case.assignee),
        "citizen": case.citizen.label,
        "received_at": _local(case.received_at),
        "deadline": _local(case.deadline),
        "overdue": case.is_overdue(),
        "message_count": len(messages),
        "latest_text": latest.masked_text if latest else "",
    }


def _reply(answer: Reply) -> ReplyOut:
    return ReplyOut(
        id=answer.pk,
        message=answer.message_id,
        text=answer.text,
        public=answer.public,
        state=answer.state,
        reason=answer.reason,
        review_comment=answer.review_comment,
        attempts=answer.attempts,
        by=_name(answer.by),
        created_at=_local(answer.created_at),
        sent_at=_local(answer.sent_at),
    )


def _referral(referral: Referral) -> ReferralOut:
    return ReferralOut(
        id=referral.pk,
        case=referral.case_id,
        department=cast(DepartmentOut, _department(referral.department)),
        question=referral.question,
        asked_by=_name(referral.asked_by),
        asked_at=_local(referral.asked_at),
        due_at=_local(referral.due_at),
        state=referral.state,
        answer=referral.answer,
        answered_by=_name(referral.answered_by),
        answered_at=_local(referral.answered_at),
    )


def _message_out(message: Message) -> MessageOut:
    return MessageOut(
        id=message.pk,
        kind=message.kind,
        text=message.masked_text,
        pii_kinds=[str(kind) for kind in message.pii_kinds or []],
        occurred_at=_local(message.occurred_at),
        received_at=_local(message.received_at),
        triage=_triage(message),
        hidden_at=_local(message.hidden_at),
        hidden_reason=message.hidden_reason,
        reply_modes=actions.reply_modes(message),
    )


def _event(event: CaseEvent) -> EventOut:
    return EventOut(
        id=event.pk,
        kind=event.kind,
        kind_label=str(event.get_kind_display()),
        at=_local(event.at),
        actor=event.actor_label,
        text=event.text,
        data=event.data or {},
    )


def _detail(staff: Staff, case: Case) -> CaseDetail:
    case = selectors.cases(staff).get(pk=case.pk)
    messages = list(case.messages.select_related("channel").order_by("received_at", "pk"))
    return CaseDetail(
        **_summary_fields(case, messages),
        messages=[_message_out(message) for message in messages],
        triage=_triage(messages[-1]) if messages else None,
        events=[_event(event) for event in case.events.all()],
        replies=[_reply(answer) for answer in case.replies.select_related("by")],
        referrals=[
            _referral(referral)
            for referral in case.referrals.select_related("department", "asked_by", "answered_by")
        ],
        opened_at=_local(case.opened_at),
        answered_at=_local(case.answered_at),
        closed_at=_local(case.closed_at),
        satisfaction=case.satisfaction,
        satisfaction_comment=case.satisfaction_comment,
        sensitive=case.is_sensitive,
        sensitivity=case.sensitivity,
        sensitivity_reason=case.sensitivity_reason,
        may_see_personal_data=actions.may_see_personal_data(staff, case),
    )


def _case(staff: Staff, case_id: int) -> Case:
    return get_object_or_404(selectors.cases(staff), pk=case_id)


def _message(staff: Staff, message_id: int) -> Message:
    queryset = Message.objects.for_staff(staff).select_related("channel", "case")
    return get_object_or_404(queryset, pk=message_id)


def _department_of(staff: Staff, department_id: int, field: str) -> Department:
    """A department of the caller's city; whether it may be chosen is the action's rule."""
    department = Department.objects.filter(
        organisation_id=staff.organisation_id, pk=department_id
    ).first()
    if department is None:
        raise ValidationError({field: _("Choose an active department of this city.")})
    return department


# -- cases ------------------------------------------------------------------------------------


class CaseFilters(Schema):
    status: CaseStatus | None = None
    department: int | None = None
    channel: int | None = None
    intent: Intent | None = None
    urgency: Urgency | None = None
    overdue: bool = False
    finished: bool = False
    limit: int = 50
    offset: int = 0


@router.get(
    "/cases",
    response={200: CasePage, **documented(422)},
    summary="List cases / 민원 목록",
    description="Open cases, the most urgent first then the nearest deadline; answered and "
    "closed ones too with `finished=true` or when `status` asks for them. Filter by status, "
    "department id, channel id, intent, urgency and `overdue=true`; page with limit (at most "
    f"{MAX_PAGE}) and offset. Department staff see their department's cases only. Texts are "
    "masked.",
)
def list_cases(request: HttpRequest, filters: Query[CaseFilters]) -> CasePage:
    if not 1 <= filters.limit <= MAX_PAGE or filters.offset < 0:
        raise ApiError(
            422,
            "validation_error",
            _("Some fields are missing or not valid."),
            {"limit": [_("Between 1 and %(max)d.") % {"max": MAX_PAGE}]},
        )
    cases: QuerySet[Case] = selectors.inbox(
        _staff(request),
        selectors.CaseFilters(
            channel=filters.channel,
            department=filters.department,
            status=filters.status or "",
            intent=filters.intent or "",
            overdue=filters.overdue,
            include_finished=filters.finished,
        ),
    )
    if filters.urgency:
        cases = cases.filter(urgency=filters.urgency)
    page = cases[filters.offset : filters.offset + filters.limit]
    return CasePage(
        count=cases.count(),
        limit=filters.limit,
        offset=filters.offset,
        items=[
            # The selector prefetches the messages newest first.
            CaseSummary(**_summary_fields(case, list(reversed(case.messages.all()))))
            for case in page
        ],
    )


@router.get(
    "/cases/{case_id}",
    response={200: CaseDetail, **documented(404)},
    summary="A case with its messages, triage, timeline, replies and referrals / 민원 상세",
    description="Messages are masked; the original words are at `/cases/{id}/original` for "
    "the staff allowed to see them.",
)
def case_detail(request: HttpRequest, case_id: int) -> CaseDetail:
    staff = _staff(request)
    return _detail(staff, _case(staff, case_id))


@router.get(
    "/cases/{case_id}/original",
    response={200: OriginalOut, **documented(403, 404)},
    summary="The original words and the citizen's handle / 원문 보기",
    description="For the PR office and the responders of the case's department only (403 "
    "otherwise). Each look is recorded in the audit log, as on the case page.",
)
def case_original(request: HttpRequest, response: HttpResponse, case_id: int) -> OriginalOut:
    staff = _staff(request)
    personal = actions.personal_data(staff, _case(staff, case_id))
    # Personal data: no shared or browser cache keeps a copy.
    response["Cache-Control"] = "private, no-store"
    return OriginalOut(
        handle=personal.handle,
        name=personal.name,
        messages=[
            OriginalMessageOut(id=original.message.pk, text=original.text)
            for original in personal.originals
        ],
    )


@router.post(
    "/cases/{case_id}/assign",
    response={200: CaseDetail, **documented(400, 403, 404, 422)},
    summary="Assign to a department and a person / 배정",
    description="A new or reopened case becomes assigned. The PR office assigns.",
)
def assign(request: HttpRequest, case_id: int, payload: AssignIn) -> CaseDetail:
    staff = _staff(request)
    case = _case(staff, case_id)
    department = _department_of(staff, payload.department_id, "department_id")
    assignee = None
    if payload.assignee_id is not None:
        assignee = Staff.objects.filter(
            organisation_id=staff.organisation_id, pk=payload.assignee_id
        ).first()
        if assignee is None:
            raise ValidationError({"assignee_id": _("Choose a staff member of this city.")})
    actions.assign(staff, case, department=department, assignee=assignee)
    return _detail(staff, case)


@router.post(
    "/cases/{case_id}/status",
    response={200: CaseDetail, **documented(400, 403, 404, 422)},
    summary="Change the status / 상태 변경",
    description="Closing and reopening work as `/close` and `/reopen` do. An unknown status "
    "is 400.",
)
def change_status(request: HttpRequest, case_id: int, payload: StatusIn) -> CaseDetail:
    staff = _staff(request)
    case = _case(staff, case_id)
    actions.change_status(staff, case, payload.status)
    return _detail(staff, case)


@router.post(
    "/cases/{case_id}/kind",
    response={200: CaseDetail, **documented(400, 403, 404, 422)},
    summary="Set the kind of complaint; the deadline is counted again / 민원 종류 변경",
)
def change_kind(request: HttpRequest, case_id: int, payload: KindIn) -> CaseDetail:
    staff = _staff(request)
    case = _case(staff, case_id)
    actions.change_kind(staff, case, payload.kind)
    return _detail(staff, case)


@router.post(
    "/cases/{case_id}/notes",
    response={201: EventOut, **documented(400, 403, 404, 422)},
    summary="Add an internal note / 내부 메모",
)
def add_note(request: HttpRequest, case_id: int, payload: NoteIn) -> Status[EventOut]:
    staff = _staff(request)
    return Status(201, _event(actions.add_note(staff, _case(staff, case_id), payload.text)))


@router.post(
    "/cases/{case_id}/reply",
    response={201: ReplyOut, **documented(400, 403, 404, 422)},
    summary="Reply to the citizen on their channel / 답변 보내기",
    description="Stored at once, then sent through the channel by a worker (retried on "
    "passing failures, shown `failed` otherwise). A channel that cannot answer through "
    "Sotong, or not in the way asked (public or private), is 400.",
)
def reply(request: HttpRequest, case_id: int, payload: ReplyIn) -> Status[ReplyOut]:
    staff = _staff(request)
    case = _case(staff, case_id)
    message = None
    if payload.message_id is not None:
        message = (
            Message.objects.for_staff(staff)
            .select_related("channel")
            .filter(pk=payload.message_id, case=case)
            .first()
        )
        if message is None:
            raise ValidationError({"message_id": _("There is no message to reply to.")})
    answer = actions.reply(staff, case, payload.text, public=payload.public, message=message)
    return Status(201, _reply(answer))


@router.post(
    "/cases/{case_id}/close",
    response={200: CaseDetail, **documented(403, 404)},
    summary="Close the case / 종결",
    description="A follow-up from the citizen reopens it.",
)
def close(request: HttpRequest, case_id: int) -> CaseDetail:
    staff = _staff(request)
    case = _case(staff, case_id)
    actions.close(staff, case)
    return _detail(staff, case)


@router.post(
    "/cases/{case_id}/reopen",
    response={200: CaseDetail, **documented(400, 403, 404)},
    summary="Reopen an answered or closed case / 다시 열기",
    description="Its deadline is counted again from now.",
)
def reopen(request: HttpRequest, case_id: int) -> CaseDetail:
    staff = _staff(request)
    case = _case(staff, case_id)
    actions.reopen(staff, case)
    return _detail(staff, case)


@router.post(
    "/cases/{case_id}/refer",
    response={201: ReferralOut, **documented(400, 403, 404, 422)},
    summary="Ask a department for its answer / 부서 협조 요청",
    description="Due by the case's deadline unless `due` says otherwise; the department's "
    "responders are told. The PR office refers.",
)
def refer(request: HttpRequest, case_id: int, payload: ReferIn) -> Status[ReferralOut]:
    staff = _staff(request)
    case = _case(staff, case_id)
    department = _department_of(staff, payload.department_id, "department_id")
    referral = actions.refer(
        staff, case, department=department, question=payload.question, due_at=payload.due
    )
    return Status(201, _referral(referral))


@router.post(
    "/cases/{case_id}/satisfaction",
    response={200: CaseDetail, **documented(400, 403, 404, 422)},
    summary="Record the citizen's satisfaction (1–5) / 만족도 기록",
)
def satisfaction(request: HttpRequest, case_id: int, payload: SatisfactionIn) -> CaseDetail:
    staff = _staff(request)
    case = _case(staff, case_id)
    actions.record_satisfaction(staff, case, payload.score, payload.comment)
    return _detail(staff, case)


# -- referrals, replies, messages ---------------------------------------------------------------


def _referral_of(staff: Staff, referral_id: int) -> Referral:
    """Referrals to the caller's department (all of them for the PR office)."""
    return get_object_or_404(selectors.referrals(staff), pk=referral_id)


@router.post(
    "/referrals/{referral_id}/answer",
    response={200: ReferralOut, **documented(400, 403, 404, 422)},
    summary="Answer a referral for your department / 협조 요청 답변",
    description="The department's answer goes to the PR office, which turns it into the reply "
    "to the citizen. Referrals to another department are 404.",
)
def answer_referral(request: HttpRequest, referral_id: int, payload: AnswerIn) -> ReferralOut:
    staff = _staff(request)
    referral = actions.answer_referral(staff, _referral_of(staff, referral_id), payload.answer)
    return _referral(referral)


@router.post(
    "/replies/{reply_id}/retry",
    response={200: ReplyOut, **documented(400, 403, 404)},
    summary="Send a failed reply again / 답변 다시 보내기",
    description="Only a failed reply (400 otherwise).",
)
def retry_reply(request: HttpRequest, reply_id: int) -> ReplyOut:
    staff = _staff(request)
    replies = Reply.objects.for_staff(staff).select_related("case", "by")
    answer = actions.retry_reply(staff, get_object_or_404(replies, pk=reply_id))
    return _reply(get_object_or_404(replies, pk=answer.pk))


@router.post(
    "/messages/{message_id}/hide",
    response={200: MessageOut, **documented(400, 403, 404, 422)},
    summary="Hide an abusive or spam comment on the platform / 댓글 숨기기",
    description="Where the platform allows it (400 otherwise). The reason goes in the audit "
    "log; nothing is deleted in Sotong.",
)
def hide(request: HttpRequest, message_id: int, payload: HideIn) -> MessageOut:
    staff = _staff(request)
    return _message_out(actions.hide_message(staff, _message(staff, message_id), payload.reason))


@router.post(
    "/messages/{message_id}/routing",
    response={200: CaseDetail, **documented(400, 403, 404, 422)},
    summary="Correct where a message belongs / 담당 부서 바로잡기",
    description="Stored as a label the city's routing model learns from. With "
    "`assign=true` the case is also assigned to that department, in the same transaction.",
)
def correct_routing(request: HttpRequest, message_id: int, payload: RoutingIn) -> CaseDetail:
    staff = _staff(request)
    message = _message(staff, message_id)
    department = _department_of(staff, payload.department_id, "department_id")
    if payload.assign:
        actions.route(staff, message.case, department, message=message)
    else:
        actions.correct_routing(staff, message, department)
    # After assigning elsewhere the caller may no longer see the case.
    return _detail(staff, _case(staff, message.case_id))


# -- canned responses, sensitive cases, reply approval --------------------------------------------


class CannedOut(Schema):
    id: int
    title: str
    body: str = Field(
        description="With its placeholders: {시민}, {부서}, {기한}, {담당자}, {기관}."
    )
    department: DepartmentOut | None = Field(description="None: shared by the whole city.")
    use_count: int


class RenderIn(Schema):
    public: bool = Field(
        True, description="For a public reply the citizen's name is masked (홍*동)."
    )


class RenderedOut(Schema):
    canned: int
    title: str
    text: str = Field(description="Filled in for the case, ready for the reply text.")


class SensitivityIn(Schema):
    sensitivity: str = Field(
        max_length=20,
        description="marked (sensitive), cleared (not sensitive) or auto (sensitive while "
        "triage urgency is high or urgent).",
        examples=["marked"],
    )
    reason: str = Field(max_length=2000, description="Why (required, at most 300 characters).")


class SensitivityOut(Schema):
    case: int
    sensitivity: str
    sensitive: bool = Field(description="Whether replies on the case now wait for approval.")
    reason: str


class ReturnIn(Schema):
    comment: str = Field(max_length=100_000, description="What should change (required).")


class ResubmitIn(Schema):
    text: str = Field(max_length=100_000)


class ReviewedReplyOut(ReplyOut):
    case: int
    purpose: str = Field(description="answer, or survey (the satisfaction question).")
    submitted_by: str | None = Field(description="Who last wrote or edited the text.")
    reviewed_by: str | None
    reviewed_at: dt.datetime | None


def _reviewed(answer: Reply) -> ReviewedReplyOut:
    return ReviewedReplyOut(
        **_reply(answer).dict(),
        case=answer.case_id,
        purpose=answer.purpose,
        submitted_by=_name(answer.submitted_by),
        reviewed_by=_name(answer.reviewed_by),
        reviewed_at=_local(answer.reviewed_at),
    )


def _reply_of(staff: Staff, reply_id: int) -> Reply:
    replies = Reply.objects.for_staff(staff).select_related(
        "case", "by", "submitted_by", "reviewed_by"
    )
    return get_object_or_404(replies, pk=reply_id)


@router.get(
    "/cases/{case_id}/canned-responses",
    response={200: list[CannedOut], **documented(404)},
    summary="Canned responses offered on a case / 상용 답변 목록",
    description="The active ones shared by the city, the case's department's and your own "
    "department's, by title.",
)
def canned_responses(request: HttpRequest, case_id: int) -> list[CannedOut]:
    staff = _staff(request)
    case = _case(staff, case_id)
    return [
        CannedOut(
            id=entry.pk,
            title=entry.title,
            body=entry.body,
            department=_department(entry.department),
            use_count=entry.use_count,
        )
        for entry in canned.for_case(staff, case)
    ]


@router.post(
    "/cases/{case_id}/canned-responses/{canned_id}/render",
    response={200: RenderedOut, **documented(403, 404, 422)},
    summary="Fill a canned response in for a case / 상용 답변 채우기",
    description="The placeholders filled from the case, as the reply form inserts it; counts "
    "as one use. For staff who may reply on the case (403 otherwise).",
)
def render_canned(
    request: HttpRequest, case_id: int, canned_id: int, payload: RenderIn
) -> RenderedOut:
    staff = _staff(request)
    case = _case(staff, case_id)
    entry = get_object_or_404(canned.for_case(staff, case), pk=canned_id)
    text = canned.insert(staff, entry, case, public=payload.public)
    return RenderedOut(canned=entry.pk, title=entry.title, text=text)


@router.post(
    "/cases/{case_id}/sensitivity",
    response={200: SensitivityOut, **documented(400, 403, 404, 422)},
    summary="Mark a case sensitive or not / 민감 민원 지정",
    description="Replies on a sensitive case wait for a PR editor's approval before they are "
    "sent. The PR office decides; the reason is required and kept on the timeline.",
)
def set_sensitivity(request: HttpRequest, case_id: int, payload: SensitivityIn) -> SensitivityOut:
    staff = _staff(request)
    case = actions.set_sensitivity(
        staff, _case(staff, case_id), payload.sensitivity, payload.reason
    )
    return SensitivityOut(
        case=case.pk,
        sensitivity=case.sensitivity,
        sensitive=case.is_sensitive,
        reason=case.sensitivity_reason,
    )


@router.get(
    "/replies/awaiting-approval",
    response={200: list[ReviewedReplyOut], **documented()},
    summary="Replies awaiting approval / 승인 대기 답변",
    description="Replies on sensitive cases you see, waiting for a PR editor, oldest first.",
)
def awaiting_approval(request: HttpRequest) -> list[ReviewedReplyOut]:
    staff = _staff(request)
    replies = actions.awaiting_approval(staff).select_related("submitted_by", "reviewed_by")
    return [_reviewed(answer) for answer in replies[:MAX_PAGE]]


@router.post(
    "/replies/{reply_id}/approve",
    response={200: ReviewedReplyOut, **documented(400, 403, 404)},
    summary="Approve a reply on a sensitive case / 답변 승인",
    description="It is then sent as any reply is. For PR editors (APPROVE_POSTS); not the "
    "reply's writer, unless they are the city's only approver (400).",
)
def approve_reply(request: HttpRequest, reply_id: int) -> ReviewedReplyOut:
    staff = _staff(request)
    answer = actions.approve_reply(staff, _reply_of(staff, reply_id))
    return _reviewed(_reply_of(staff, answer.pk))


@router.post(
    "/replies/{reply_id}/return",
    response={200: ReviewedReplyOut, **documented(400, 403, 404, 422)},
    summary="Return a reply for changes / 답변 반려",
    description="With a comment saying what should change; the writer is told, and edits "
    "and resubmits it.",
)
def return_reply(request: HttpRequest, reply_id: int, payload: ReturnIn) -> ReviewedReplyOut:
    staff = _staff(request)
    answer = actions.return_reply(staff, _reply_of(staff, reply_id), payload.comment)
    return _reviewed(_reply_of(staff, answer.pk))


@router.post(
    "/replies/{reply_id}/resubmit",
    response={200: ReviewedReplyOut, **documented(400, 403, 404, 422)},
    summary="Edit and resubmit a returned reply / 답변 재상신",
    description="It waits for approval again (or is sent at once if the case is no longer "
    "sensitive).",
)
def resubmit_reply(request: HttpRequest, reply_id: int, payload: ResubmitIn) -> ReviewedReplyOut:
    staff = _staff(request)
    answer = actions.resubmit_reply(staff, _reply_of(staff, reply_id), payload.text)
    return _reviewed(_reply_of(staff, answer.pk))


# -- FAQ --------------------------------------------------------------------------------------


class FaqQuery(Schema):
    q: str
    k: int = 3


@router.get(
    "/faq",
    response={200: list[FaqMatchOut], **documented(422)},
    summary="FAQ answers that fit a text / FAQ 답변 찾기",
    description="The city's valid FAQ entries that best fit `q` (at most `k`, 1–10), with "
    "BM25 score and calibrated confidence: drafts for a reply. `confident` marks one good "
    "enough to be sent automatically.",
    tags=["faq"],
)
def faq(request: HttpRequest, query: Query[FaqQuery]) -> list[FaqMatchOut]:
    if not 1 <= query.k <= 10 or len(query.q) > MAX_FAQ_QUERY:
        field, message = (
            ("k", _("Between 1 and %(max)d.") % {"max": 10})
            if not 1 <= query.k <= 10
            else ("q", _("The value is too long."))
        )
        raise ApiError(
            422, "validation_error", _("Some fields are missing or not valid."), {field: [message]}
        )
    staff = _staff(request)
    found = faq_answers.suggestions_for(staff.organisation, query.q, k=query.k)
    return [
        FaqMatchOut(
            entry=match.entry.pk,
            question=match.question,
            answer=match.entry.answer,
            department=cast(DepartmentOut, _department(match.entry.department)),
            score=round(match.score, 4),
            confidence=round(match.confidence, 4),
            confident=match.confident,
        )
        for match in found.matches
    ]


__all__ = ["router"]
