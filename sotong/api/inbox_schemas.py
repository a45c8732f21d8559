"""Request and response bodies of the inbox API. Citizens' words appear masked only (the
personal information triage found is replaced); the original text and the citizen's handle
come only from ``GET /cases/{id}/original``, for the staff allowed to see them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Field, Schema

from sotong.api.schemas import SEOUL_NOTE, ChannelRef, DepartmentOut, Moment

STATUSES = "new, assigned, in_progress, waiting_for_citizen, answered, closed or reopened"
KINDS = "other, question_law, question_system, suggestion or grievance"


class StaffRef(Schema):
    id: int
    name: str


class SuggestionOut(Schema):
    unit: str = Field(description="The department unit the routing model predicted.")
    department_id: int | None = Field(description="The city's department it maps to, if any.")
    name: str
    confidence: float = Field(description="0–1.")


class TriageOut(Schema):
    intent: str = Field(description="question, complaint, suggestion, opinion, praise or spam.")
    urgency: str = Field(description="normal, high or urgent.")
    reasons: list[str] = Field(description="Why, e.g. the safety words found.")
    suggestions: list[SuggestionOut] = Field(description="Top departments with confidence.")
    triaged_at: dt.datetime | None


class CaseSummary(Schema):
    id: int
    status: str = Field(description=STATUSES)
    kind: str = Field(description=KINDS)
    urgency: str
    intent: str = Field(description="The latest message's intent ('' before triage).")
    channel: ChannelRef
    department: DepartmentOut | None
    assignee: StaffRef | None
    citizen: str = Field(description="A pseudonymous label, never the handle.")
    received_at: dt.datetime
    deadline: dt.datetime = Field(description="Counted in business days for the kind.")
    overdue: bool
    message_count: int
    latest_text: str = Field(description="The latest message, masked.")


class CasePage(Schema):
    count: int
    limit: int
    offset: int
    items: list[CaseSummary]


class MessageOut(Schema):
    id: int
    kind: str = Field(description="comment, message (private) or mention.")
    text: str = Field(description="Masked: personal information is replaced.")
    pii_kinds: list[str] = Field(description="Kinds of personal information masked.")
    occurred_at: dt.datetime | None
    received_at: dt.datetime
    triage: TriageOut
    hidden_at: dt.datetime | None
    hidden_reason: str
    reply_modes: list[str] = Field(
        description="'public' or 'private' as the channel allows; empty: answer on the platform."
    )


class EventOut(Schema):
    id: int
    kind: str
    kind_label: str = Field(description="The kind in words (Korean).")
    at: dt.datetime
    actor: str
    text: str = Field(description="A note, a referral's question or answer, a reason.")
    data: dict[str, Any]


class ReplyOut(Schema):
    id: int
    message: int
    text: str
    public: bool
    state: str = Field(
        description="awaiting_approval (on a sensitive case, until a PR editor approves), "
        "returned (sent back to be changed), pending (being sent), sent or failed."
    )
    reason: str = Field(description="Why it failed or waits, in the platform's words.")
    review_comment: str = Field(description="What the approver asked to change, if returned.")
    attempts: int
    by: str | None
    created_at: dt.datetime
    sent_at: dt.datetime | None


class ReferralOut(Schema):
    id: int
    case: int
    department: DepartmentOut
    question: str
    asked_by: str | None
    asked_at: dt.datetime
    due_at: dt.datetime
    state: str = Field(description="open or answered.")
    answer: str
    answered_by: str | None
    answered_at: dt.datetime | None


class CaseDetail(CaseSummary):
    messages: list[MessageOut] = Field(description="The conversation, oldest first, masked.")
    triage: TriageOut | None = Field(description="The latest message's triage.")
    events: list[EventOut] = Field(description="The case's timeline, oldest first.")
    replies: list[ReplyOut]
    referrals: list[ReferralOut]
    opened_at: dt.datetime
    answered_at: dt.datetime | None
    closed_at: dt.datetime | None
    satisfaction: int | None
    satisfaction_comment: str
    sensitive: bool = Field(
        description="Replies on the case wait for a PR editor's approval before they are sent."
    )
    sensitivity: str = Field(
        description="auto (sensitive while triage finds high urgency), marked or cleared."
    )
    sensitivity_reason: str
    may_see_personal_data: bool = Field(
        description="Whether GET /cases/{id}/original is open to you."
    )


class OriginalMessageOut(Schema):
    id: int
    text: str


class OriginalOut(Schema):
    handle: str = Field(description="The citizen's platform id.")
    name: str
    messages: list[OriginalMessageOut]


# -- requests ---------------------------------------------------------------------------------


class AssignIn(Schema):
    department_id: int
    assignee_id: int | None = Field(None, description="A staff member of that department.")


class StatusIn(Schema):
    status: str = Field(max_length=40, description=STATUSES, examples=["in_progress"])


class KindIn(Schema):
    kind: str = Field(max_length=40, description=KINDS, examples=["grievance"])


class NoteIn(Schema):
    text: str = Field(max_length=100_000, description="Internal: never shown to the citizen.")


class ReplyIn(Schema):
    text: str = Field(max_length=100_000)
    public: bool = Field(True, description="Public under a comment, private in a conversation.")
    message_id: int | None = Field(
        None, description="The message answered (one of the case's); default: the latest."
    )


class ReferIn(Schema):
    department_id: int
    question: str = Field("", max_length=100_000)
    due: Moment | None = Field(None, description=SEOUL_NOTE + " Default: the case's deadline.")


class AnswerIn(Schema):
    answer: str = Field(max_length=100_000)


class HideIn(Schema):
    reason: str = Field(max_length=2000, description="Kept in the audit log (required).")


class RoutingIn(Schema):
    department_id: int
    assign: bool = Field(
        False, description="Also assign the case there (the case page's one-click suggestion)."
    )


class SatisfactionIn(Schema):
    score: int = Field(description="1 to 5, as the citizen gave it.")
    comment: str = Field("", max_length=10_000)


class FaqMatchOut(Schema):
    entry: int
    question: str = Field(description="The variant of the entry's question that matched.")
    answer: str
    department: DepartmentOut
    score: float = Field(description="BM25.")
    confidence: float = Field(description="Calibrated, 0–1.")
    confident: bool = Field(description="Confident enough to be sent automatically.")
