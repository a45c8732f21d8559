"""Business operations on cases: assign, change status or kind, note, refer to a
department and answer the referral, reply through the channel, close, reopen, hide a
comment, record satisfaction, correct routing. Each checks permission and department
scope, records a timeline event and an audit entry in the same transaction.

Audit entries and notices carry ids, kinds and lengths, never what citizens or staff wrote
(logs must not hold personal data); the words stay on the case, encrypted where they are
the citizen's.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from sotong.core import audit
from sotong.core.audit import Actor
from sotong.core.models import Department, Staff
from sotong.core.permissions import Performer, actor_of
from sotong.core.roles import Capability as Permission
from sotong.inbox import deadlines, event_api
from sotong.inbox.ingest import item_of
from sotong.inbox.models import (
    FINISHED_STATUSES,
    Case,
    CaseEvent,
    CaseEventKind,
    CaseKind,
    CaseStatus,
    Message,
    MessageKind,
    Referral,
    ReferralState,
    Reply,
    ReplyDelivery,
    ReplyPurpose,
    ReplyState,
    RoutingLabel,
    SatisfactionSurvey,
    Sensitivity,
    SurveyAnswerSource,
)
from sotong.notifications import actions as notifications
from sotong.platforms.base import (
    Capability,
    NextStep,
    PlatformError,
    next_step,
)

if TYPE_CHECKING:
    from sotong.channels.models import Channel

logger = logging.getLogger(__name__)

SYSTEM = Actor.system("inbox")

# Staff who handle cases: the PR office assigns, departments answer.
HANDLE = (Permission.ASSIGN_CASES, Permission.REPLY)

# A reply that failed for a passing reason is tried again after these waits, then failed.
REPLY_RETRY_AFTER = (
    dt.timedelta(minutes=1),
    dt.timedelta(minutes=5),
    dt.timedelta(minutes=15),
    dt.timedelta(hours=1),
)
MAX_REPLY_ATTEMPTS = len(REPLY_RETRY_AFTER) + 1
# A sender that took a reply this long ago and did not finish has died.
REPLY_CLAIM = dt.timedelta(minutes=5)
MAX_NOTE = 5000
MAX_REPLY = 2000
MAX_SATISFACTION_COMMENT = 2000


# -- permission and scope -------------------------------------------------------------------


def may(by: Performer, *capabilities: Permission) -> bool:
    return isinstance(by, Actor) or any(by.can(capability) for capability in capabilities)


def _require(by: Performer, case: Case, *capabilities: Permission) -> None:
    """``by`` holds one of ``capabilities`` in the case's organisation and sees the case
    (department roles see only their department's cases)."""
    if isinstance(by, Actor):
        return
    if by.organisation_id != case.organisation_id or not may(by, *capabilities):
        raise PermissionDenied("not allowed on this case")
    if not Case.objects.for_staff(by).filter(pk=case.pk).exists():
        raise PermissionDenied("case outside your department")


def may_see_personal_data(staff: Staff, case: Case) -> bool:
    """The original words and the citizen's handle are for the staff who handle the case:
    the PR office, and the responders of the department it is assigned to. Viewers and
    department authors see the masked text only."""
    if staff.organisation_id != case.organisation_id or not may(staff, *HANDLE):
        return False
    return Case.objects.for_staff(staff).filter(pk=case.pk).exists()


@dataclass(frozen=True)
class Original:
    message: Message
    text: str


@dataclass(frozen=True)
class PersonalData:
    handle: str
    name: str
    originals: list[Original]


def personal_data(by: Staff, case: Case) -> PersonalData:
    """The citizen's handle and the original words of the case's messages, for allowed
    staff only; each look is recorded in the audit log (who looked at what, when)."""
    if not may_see_personal_data(by, case):
        raise PermissionDenied("personal data not allowed")
    messages = list(case.messages.order_by("received_at", "pk"))
    audit.record(
        actor_of(by),
        "case.view_personal_data",
        case,
        organisation=case.organisation,
        department=case.department,
        after={"messages": [message.pk for message in messages]},
    )
    return PersonalData(
        handle=case.citizen.handle or "",
        name=case.citizen.display_name or "",
        originals=[Original(message, message.text or "") for message in messages],
    )


def _event(
    by: Performer, case: Case, kind: str, *, text: str = "", data: dict[str, object] | None = None
) -> CaseEvent:
    return CaseEvent.objects.create(
        organisation_id=case.organisation_id,
        case=case,
        kind=kind,
        actor=by if isinstance(by, Staff) else None,
        actor_label=by.display_name if isinstance(by, Staff) else by.label,
        text=text,
        data=audit._jsonable(data or {}),
    )


def _audit(
    by: Performer,
    action: str,
    target: models.Model,
    case: Case,
    *,
    before: Mapping[str, object] | None = None,
    after: Mapping[str, object] | None = None,
) -> None:
    audit.record(
        actor_of(by),
        action,
        target,
        organisation=case.organisation,
        department=case.department,
        before=before,
        after=after,
    )


def _locked(case: Case) -> Case:
    return Case.objects.select_for_update().select_related("organisation").get(pk=case.pk)


# -- assignment, status, kind -----------------------------------------------------------------


@transaction.atomic
def assign(
    by: Performer, case: Case, *, department: Department, assignee: Staff | None = None
) -> Case:
    """Give the case to a department, and to a person in it if named."""
    _require(by, case, Permission.ASSIGN_CASES)
    case = _locked(case)
    if department.organisation_id != case.organisation_id or not department.is_active:
        raise ValidationError({"department": _("Choose an active department of this city.")})
    if assignee is not None:
        if assignee.organisation_id != case.organisation_id or not assignee.user.is_active:
            raise ValidationError({"assignee": _("Choose a staff member of this city.")})
        if assignee.is_department_scoped and department.pk not in assignee.department_scope_ids():
            raise ValidationError(
                {"assignee": _("This person does not work in the chosen department.")}
            )
    before = {"department": case.department_id, "assignee": case.assignee_id}
    case.department = department
    case.assignee = assignee
    if case.status in (CaseStatus.NEW, CaseStatus.REOPENED):
        case.status = CaseStatus.ASSIGNED
    case.save(update_fields=["department", "assignee", "status"])
    after = {"department": department.pk, "assignee": assignee.pk if assignee else None}
    _event(
        by,
        case,
        CaseEventKind.ASSIGNED,
        data={
            **after,
            "department_name": department.name,
            "assignee_name": assignee.display_name if assignee else "",
        },
    )
    _audit(by, "case.assign", case, case, before=before, after=after)
    notifications.notify_case_assigned(by, case)
    return case


@transaction.atomic
def change_status(by: Performer, case: Case, status: str) -> Case:
    """Move the case to ``status`` (closing and reopening have their own actions)."""
    _require(by, case, *HANDLE)
    if status not in CaseStatus.values:
        raise ValidationError({"status": _("Unknown status.")})
    if status == CaseStatus.CLOSED:
        return close(by, case)
    if status == CaseStatus.REOPENED:
        return reopen(by, case)
    case = _locked(case)
    if case.status == status:
        return case
    before = {"status": case.status}
    case.status = status
    fields = ["status"]
    if status == CaseStatus.ANSWERED and case.answered_at is None:
        case.answered_at = timezone.now()
        fields.append("answered_at")
    case.save(update_fields=fields)
    _event(by, case, CaseEventKind.STATUS, data={"from": before["status"], "to": status})
    _audit(by, "case.status", case, case, before=before, after={"status": status})
    return case


@transaction.atomic
def change_kind(by: Performer, case: Case, kind: str) -> Case:
    """Set the kind of complaint; the deadline is counted again from receipt."""
    _require(by, case, Permission.ASSIGN_CASES)
    if kind not in CaseKind.values:
        raise ValidationError({"kind": _("Unknown kind of complaint.")})
    case = _locked(case)
    if case.kind == kind:
        return case
    before = {"kind": case.kind, "deadline": case.deadline}
    case.kind = kind
    case.deadline, case.remind_at = deadlines.schedule(case.organisation, kind, case.received_at)
    case.reminded_at = None
    case.escalated_at = None
    case.save(update_fields=["kind", "deadline", "remind_at", "reminded_at", "escalated_at"])
    after = {"kind": kind, "deadline": case.deadline}
    _event(
        by,
        case,
        CaseEventKind.KIND,
        data={"from": before["kind"], "to": kind, "deadline": case.deadline},
    )
    _audit(by, "case.kind", case, case, before=before, after=after)
    return case


@transaction.atomic
def add_note(by: Performer, case: Case, text: str) -> CaseEvent:
    """An internal note on the case, for staff only."""
    _require(by, case, *HANDLE)
    text = text.strip()
    if not text:
        raise ValidationError({"text": _("Write the note.")})
    if len(text) > MAX_NOTE:
        raise ValidationError(
            {"text": _("A note is at most %(max)d characters.") % {"max": MAX_NOTE}}
        )
    event = _event(by, case, CaseEventKind.NOTE, text=text)
    _audit(by, "case.note", case, case, after={"event": event.pk, "length": len(text)})
    return event


@transaction.atomic
def close(by: Performer, case: Case) -> Case:
    """Close the case; a follow-up from the citizen reopens it."""
    _require(by, case, *HANDLE)
    case = _locked(case)
    if case.status == CaseStatus.CLOSED:
        return case
    before = {"status": case.status}
    now = timezone.now()
    case.status = CaseStatus.CLOSED
    case.closed_at = now
    case.save(update_fields=["status", "closed_at"])
    within = (case.answered_at or now) <= case.deadline
    _event(by, case, CaseEventKind.STATUS, data={"from": before["status"], "to": case.status})
    _audit(
        by,
        "case.close",
        case,
        case,
        before=before,
        after={"status": case.status, "within_deadline": within},
    )
    return case


@transaction.atomic
def reopen(by: Performer, case: Case) -> Case:
    """Reopen an answered or closed case; its deadline is counted again from now."""
    _require(by, case, *HANDLE)
    case = _locked(case)
    if case.status not in FINISHED_STATUSES:
        raise ValidationError(_("Only an answered or closed case can be reopened."))
    before = {"status": case.status, "deadline": case.deadline}
    now = timezone.now()
    case.status = CaseStatus.REOPENED
    case.closed_at = None
    case.deadline, case.remind_at = deadlines.schedule(case.organisation, case.kind, now)
    case.reminded_at = None
    case.escalated_at = None
    case.save(
        update_fields=[
            "status",
            "closed_at",
            "deadline",
            "remind_at",
            "reminded_at",
            "escalated_at",
        ]
    )
    _event(by, case, CaseEventKind.REOPENED, data={"deadline": case.deadline})
    _audit(
        by,
        "case.reopen",
        case,
        case,
        before=before,
        after={"status": case.status, "deadline": case.deadline},
    )
    return case


@transaction.atomic
def record_satisfaction(
    by: Performer,
    case: Case,
    score: int,
    comment: str = "",
    *,
    source: str = SurveyAnswerSource.STAFF,
) -> Case:
    """The citizen's satisfaction with the answer (1–5): as staff heard it (they may
    correct it later), or as the citizen gave it on the survey page or by writing back on
    the channel (``sotong.inbox.satisfaction``), which the citizen can do once. Either
    way the case's survey counts as answered, so the citizen is not asked again."""
    _require(by, case, *HANDLE)
    if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 5:
        raise ValidationError({"score": _("Satisfaction is from 1 to 5.")})
    if source not in SurveyAnswerSource.values:
        raise ValidationError({"source": _("Unknown source of the answer.")})
    comment = comment.strip()
    if len(comment) > MAX_SATISFACTION_COMMENT:
        raise ValidationError(
            {
                "comment": _("A comment is at most %(max)d characters.")
                % {"max": MAX_SATISFACTION_COMMENT}
            }
        )
    from sotong.nlp.pii import mask

    # Kept masked: every handler of the case reads it, and nothing needs the original.
    comment = mask(comment).masked
    case = _locked(case)
    survey = SatisfactionSurvey.objects.select_for_update().filter(case=case).first()
    if source != SurveyAnswerSource.STAFF and survey is not None and survey.answered_at:
        raise ValidationError(_("This survey has been answered already. Thank you."))
    now = timezone.now()
    before = {"satisfaction": case.satisfaction}
    case.satisfaction = score
    case.satisfaction_comment = comment
    case.save(update_fields=["satisfaction", "satisfaction_comment"])
    if survey is not None and survey.answered_at is None:
        survey.answered_at = now
        survey.answered_via = source
        survey.save(update_fields=["answered_at", "answered_via"])
    _event(
        by,
        case,
        CaseEventKind.SATISFACTION,
        text=case.satisfaction_comment,
        data={"score": score, "source": source},
    )
    _audit(
        by,
        "case.satisfaction",
        case,
        case,
        before=before,
        after={"satisfaction": score, "source": source, "comment_length": len(comment)},
    )
    return case


# -- referrals --------------------------------------------------------------------------------


@transaction.atomic
def refer(
    by: Performer,
    case: Case,
    *,
    department: Department,
    question: str = "",
    due_at: dt.datetime | None = None,
) -> Referral:
    """Ask a department for its answer on the case, due by the case's deadline unless
    another time is given. The department's responders are told."""
    _require(by, case, Permission.ASSIGN_CASES)
    case = _locked(case)
    if department.organisation_id != case.organisation_id or not department.is_active:
        raise ValidationError({"department": _("Choose an active department of this city.")})
    due = due_at or case.deadline
    if due <= timezone.now():
        raise ValidationError({"due_at": _("The answer must be due in the future.")})
    referral = Referral.objects.create(
        organisation_id=case.organisation_id,
        case=case,
        department=department,
        question=question.strip()[:MAX_NOTE],
        asked_by=by if isinstance(by, Staff) else None,
        due_at=due,
    )
    fields = []
    if case.department_id is None:
        case.department = department
        fields.append("department")
    if case.status in (CaseStatus.NEW, CaseStatus.REOPENED):
        case.status = CaseStatus.ASSIGNED
        fields.append("status")
    if fields:
        case.save(update_fields=fields)
    _event(
        by,
        case,
        CaseEventKind.REFERRED,
        text=referral.question,
        data={"referral": referral.pk, "department_name": department.name, "due": due},
    )
    _audit(
        by,
        "referral.create",
        referral,
        case,
        after={"case": case.pk, "department": department.pk, "due_at": due},
    )
    notifications.notify_referral_requested(by, referral)
    return referral


@transaction.atomic
def answer_referral(by: Performer, referral: Referral, answer: str) -> Referral:
    """The department's answer; the PR office turns it into the reply to the citizen."""
    if not isinstance(by, Actor):
        if not by.can(Permission.REPLY) and not by.can(Permission.ASSIGN_CASES):
            raise PermissionDenied("not allowed to answer referrals")
        if not Referral.objects.for_staff(by).filter(pk=referral.pk).exists():
            raise PermissionDenied("referral outside your department")
    referral = Referral.objects.select_for_update().select_related("case").get(pk=referral.pk)
    answer = answer.strip()
    if not answer:
        raise ValidationError({"answer": _("Write the department's answer.")})
    if referral.state != ReferralState.OPEN:
        raise ValidationError(_("This referral has been answered already."))
    referral.answer = answer[:MAX_NOTE]
    referral.answered_by = by if isinstance(by, Staff) else None
    referral.answered_at = timezone.now()
    referral.state = ReferralState.ANSWERED
    referral.save(update_fields=["answer", "answered_by", "answered_at", "state"])
    case = referral.case
    if case.status in (CaseStatus.ASSIGNED, CaseStatus.NEW):
        case.status = CaseStatus.IN_PROGRESS
        case.save(update_fields=["status"])
    _event(
        by,
        case,
        CaseEventKind.REFERRAL_ANSWERED,
        text=referral.answer,
        data={"referral": referral.pk, "department_name": referral.department.name},
    )
    _audit(
        by,
        "referral.answer",
        referral,
        case,
        after={"case": case.pk, "length": len(referral.answer)},
    )
    notifications.notify_referral_answered(by, referral)
    return referral


# -- replies ----------------------------------------------------------------------------------


def reply_modes(message: Message) -> list[str]:
    """How a message can be answered on its channel: ``public`` under a comment or mention,
    ``private`` in a conversation; empty where the platform offers no API for it."""
    capabilities = message.channel.capabilities
    if message.kind == MessageKind.MESSAGE:
        return ["private"] if Capability.REPLY_MESSAGE in capabilities else []
    return ["public"] if Capability.REPLY_COMMENT in capabilities else []


def _enqueue_send(reply_id: int) -> None:
    from sotong.inbox.tasks import send_reply_task

    try:
        send_reply_task.enqueue(reply_id)
    except Exception:
        # The periodic sweep sends it instead: a stored reply is never lost.
        logger.warning("reply %s: send not queued", reply_id, exc_info=True)


@transaction.atomic
def reply(
    by: Performer,
    case: Case,
    text: str,
    *,
    public: bool = True,
    message: Message | None = None,
) -> Reply:
    """Answer the citizen through the channel they used: stored first, then sent by a task
    (retried on passing failures, shown failed otherwise)."""
    _require(by, case, Permission.REPLY)
    text = text.strip()
    if not text:
        raise ValidationError({"text": _("Write the reply.")})
    if len(text) > MAX_REPLY:
        raise ValidationError(
            {"text": _("A reply is at most %(max)d characters.") % {"max": MAX_REPLY}}
        )
    message = (
        message or case.messages.select_related("channel").order_by("-received_at", "-pk").first()
    )
    if message is None or message.case_id != case.pk:
        raise ValidationError(_("There is no message to reply to."))
    modes = reply_modes(message)
    wanted = "public" if public else "private"
    if wanted not in modes:
        if not modes:
            raise ValidationError(
                _("This channel cannot reply through Sotong; answer on the platform.")
            )
        raise ValidationError(
            {
                "public": _("On this channel the reply can only be %(mode)s.")
                % {"mode": _mode_label(modes[0])}
            }
        )
    _check_length(message, text)
    from sotong.inbox import satisfaction

    text = satisfaction.with_survey_link(case, message, text)
    # Read now under the case's lock, not from the caller's copy: a case being marked
    # sensitive at this moment (set_sensitivity locks it too) counts.
    waiting = _locked(case).is_sensitive
    staff = by if isinstance(by, Staff) else None
    answer = Reply.objects.create(
        organisation_id=case.organisation_id,
        case=case,
        message=message,
        text=text,
        public=public,
        by=staff,
        submitted_by=staff,
        state=ReplyState.AWAITING_APPROVAL if waiting else ready_state(message),
    )
    _event(
        by,
        case,
        CaseEventKind.REPLY,
        text=text,
        data={"reply": answer.pk, "public": public, "awaiting_approval": waiting},
    )
    _audit(
        by,
        "reply.create",
        answer,
        case,
        after={
            "case": case.pk,
            "message": message.pk,
            "public": public,
            "length": len(text),
            "awaiting_approval": waiting,
            "state": answer.state,
        },
    )
    if waiting:
        # Not sent: a PR editor approves it first (approve_reply releases it then).
        _notify_reply_approvers(by, answer)
    else:
        _release(answer)
    return answer


def ready_state(message: Message) -> str:
    """The state of a reply on ``message`` that may go out now: sending, or held for the
    citizen's next message where the platform cannot reach them (KakaoTalk without the
    Event API)."""
    return ReplyState.HELD if event_api.holds(message.channel) else ReplyState.PENDING


def _release(answer: Reply) -> None:
    """A reply that may go out: sent by a task after the commit, or, held, recorded as
    waiting for the citizen's next message."""
    if answer.state == ReplyState.HELD:
        _event(SYSTEM, answer.case, CaseEventKind.REPLY_HELD, data={"reply": answer.pk})
    else:
        transaction.on_commit(partial(_enqueue_send, answer.pk))


def _check_length(message: Message, text: str) -> None:
    # KakaoTalk shows at most 1000 characters in one speech bubble (simpleText), whether
    # the reply goes by the Event API or with the bot's next answer.
    if not event_api.is_kakao(message.channel):
        return
    from sotong.platforms.kakao import SIMPLE_TEXT_MAX

    if len(text) > SIMPLE_TEXT_MAX:
        raise ValidationError(
            {
                "text": _("On KakaoTalk a reply is at most %(max)d characters.")
                % {"max": SIMPLE_TEXT_MAX}
            }
        )


def _mode_label(mode: str) -> str:
    return _("public") if mode == "public" else _("private")


@transaction.atomic
def retry_reply(by: Performer, answer: Reply) -> Reply:
    """Send a failed reply again."""
    _require(by, answer.case, Permission.REPLY)
    answer = (
        Reply.objects.select_for_update(of=("self",))
        .select_related("case", "message__channel")
        .get(pk=answer.pk)
    )
    if answer.state != ReplyState.FAILED:
        raise ValidationError(_("Only a failed reply can be sent again."))
    answer.state = ready_state(answer.message)
    answer.next_attempt_at = timezone.now()
    answer.claimed_at = None
    answer.attempts = 0
    answer.save(update_fields=["state", "next_attempt_at", "claimed_at", "attempts"])
    _audit(
        by,
        "reply.retry",
        answer,
        answer.case,
        after={"case": answer.case_id, "state": answer.state},
    )
    _release(answer)
    return answer


def send_reply(reply_id: int) -> str:
    """Send one pending reply through its channel; returns its state afterwards. Taken by a
    conditional update, so two workers never send the same reply."""
    from sotong.channels.actions import connector_for

    now = timezone.now()
    taken = (
        Reply.objects.filter(pk=reply_id, state=ReplyState.PENDING, next_attempt_at__lte=now)
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - REPLY_CLAIM))
        .update(claimed_at=now, attempts=F("attempts") + 1)
    )
    if not taken:
        return Reply.objects.filter(pk=reply_id).values_list("state", flat=True).first() or ""
    answer = Reply.objects.select_related(
        "message__event", "message__channel", "case__organisation", "case__channel"
    ).get(pk=reply_id)
    message = answer.message
    if event_api.holds(message.channel):
        # Queued before the city turned the Event API off: it waits for the citizen.
        _hold(answer)
        return answer.state
    kakao = event_api.is_kakao(message.channel)
    connector = connector_for(message.channel)
    try:
        item = item_of(message.event)
        if message.kind == MessageKind.MESSAGE:
            external_id = connector.reply_to_message(item, answer.text)
        else:
            external_id = connector.reply_to_comment(item, answer.text)
    except PlatformError as error:
        _not_sent(answer, error)
    else:
        _sent(
            answer,
            external_id,
            # On KakaoTalk a reply Sotong sends itself is an Event API message: paid.
            delivery=ReplyDelivery.EVENT_API if kakao else ReplyDelivery.PLATFORM,
            price=event_api.price(message.channel) if kakao else None,
        )
    finally:
        connector.close()
    return answer.state


@transaction.atomic
def _hold(answer: Reply) -> None:
    taken = Reply.objects.filter(pk=answer.pk, state=ReplyState.PENDING).update(
        state=ReplyState.HELD, claimed_at=None, attempts=F("attempts") - 1
    )
    if taken:
        answer.state = ReplyState.HELD
        _event(SYSTEM, answer.case, CaseEventKind.REPLY_HELD, data={"reply": answer.pk})


@transaction.atomic
def _sent(
    answer: Reply,
    external_id: str,
    *,
    delivery: str = ReplyDelivery.PLATFORM,
    price: Decimal | None = None,
) -> None:
    now = timezone.now()
    answer.state = ReplyState.SENT
    answer.external_id = external_id[:200]
    answer.sent_at = now
    answer.reason = ""
    answer.claimed_at = None
    answer.delivery = delivery
    answer.price = price
    answer.save(
        update_fields=[
            "state",
            "external_id",
            "sent_at",
            "reason",
            "claimed_at",
            "delivery",
            "price",
        ]
    )
    _record_sent(answer, now)


def _record_sent(answer: Reply, now: dt.datetime) -> None:
    """What follows a reply reaching the citizen, however it went: the case is answered,
    the timeline and the audit log say so, and the satisfaction question may follow."""
    case = _locked(answer.case)
    before = {"status": case.status}
    # The satisfaction question answers nothing: a case reopened meanwhile stays open.
    if answer.purpose == ReplyPurpose.ANSWER:
        if case.status != CaseStatus.CLOSED:
            case.status = CaseStatus.ANSWERED
        if case.answered_at is None:
            case.answered_at = now
        case.save(update_fields=["status", "answered_at"])
    _event(
        SYSTEM,
        case,
        CaseEventKind.REPLY_SENT,
        data={"reply": answer.pk, "delivery": answer.delivery},
    )
    _audit(
        SYSTEM,
        "reply.sent",
        answer,
        case,
        before=before,
        after={
            "status": case.status,
            "within_deadline": now <= case.deadline,
            "delivery": answer.delivery,
            "price": answer.price,
        },
    )
    from sotong.inbox import satisfaction

    satisfaction.reply_sent(answer, case)


@transaction.atomic
def _not_sent(answer: Reply, error: PlatformError) -> None:
    answer.reason = str(error)[:300]
    answer.claimed_at = None
    step = next_step(error, answer.attempts, MAX_REPLY_ATTEMPTS)
    if step in (NextStep.WAIT, NextStep.RETRY):
        if step is NextStep.WAIT:
            # Waiting its turn is not a failed attempt.
            wait = dt.timedelta(seconds=getattr(error, "retry_after", 0.0))
            answer.attempts -= 1
        else:
            wait = REPLY_RETRY_AFTER[min(answer.attempts, len(REPLY_RETRY_AFTER)) - 1]
        answer.next_attempt_at = timezone.now() + wait
        answer.save(update_fields=["reason", "claimed_at", "next_attempt_at", "attempts"])
        return
    answer.state = ReplyState.FAILED
    if step is NextStep.CHECK:
        # It may have gone out: sending blindly again could answer twice.
        answer.reason = _("No answer from the platform: check the post before sending again.")
    elif step is NextStep.RECONNECT:
        from sotong.channels.actions import needs_reconnect

        needs_reconnect(answer.case.channel, str(error))
        answer.reason = _("The channel needs reconnecting: %(reason)s") % {"reason": error}
    elif step is NextStep.PERMISSION:
        answer.reason = _("The channel lacks a permission: %(reason)s") % {"reason": error}
    answer.reason = answer.reason[:300]
    answer.save(update_fields=["state", "reason", "claimed_at"])
    case = _locked(answer.case)
    if case.status == CaseStatus.CLOSED and case.answered_at is None:
        # Closed on the strength of this reply (an FAQ answer): the citizen was not answered.
        case.status = CaseStatus.REOPENED
        case.closed_at = None
        case.save(update_fields=["status", "closed_at"])
    _event(SYSTEM, case, CaseEventKind.REPLY_FAILED, text=answer.reason, data={"reply": answer.pk})
    _audit(
        SYSTEM,
        "reply.failed",
        answer,
        case,
        after={"reason": answer.reason, "attempts": answer.attempts, "error": type(error).__name__},
    )
    notifications.notify_reply_failed(answer)


def send_due_replies(limit: int = 100) -> dict[str, int]:
    """Send the pending replies that are due (first tries a lost task left, and retries)."""
    counts = {"sent": 0, "failed": 0, "waiting": 0}
    due = list(
        Reply.objects.filter(state=ReplyState.PENDING, next_attempt_at__lte=timezone.now())
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    for pk in due:
        state = send_reply(pk)
        key = {ReplyState.SENT: "sent", ReplyState.FAILED: "failed"}.get(state, "waiting")  # type: ignore[call-overload]
        counts[key] += 1
    return counts


# -- KakaoTalk: replies held for the citizen's next message ----------------------------------


@transaction.atomic
def take_held_replies(channel: Channel, user_key: str) -> list[Reply]:
    """The replies held for a KakaoTalk citizen (``user_key``: their botUserKey) on any of
    their cases (each complaint made in the chat is a case of its own), marked sent "with
    the citizen's next message" and returned oldest first, for the chat to put in its
    answer to the skill request it is handling.

    Call it inside the transaction that builds that answer: if the answer cannot be made,
    the rollback puts the replies back on hold, so a reply is never lost; and each is
    taken by one conditional update under a row lock (PostgreSQL; SQLite has one writer
    at a time), so two requests never both deliver it. A satisfaction question that the
    delivered answers raise is held too, and comes in the same list, after them."""
    from sotong.inbox.ingest import pseudonym

    citizen = pseudonym(channel.pk, user_key)
    taken: list[Reply] = []
    # Two rounds: the answers, then the satisfaction question their delivery asks.
    for _round in range(2):
        held = list(
            Reply.objects.select_for_update(of=("self",))
            .filter(
                state=ReplyState.HELD,
                case__channel=channel,
                case__citizen__pseudonym=citizen,
            )
            .select_related("case", "message__channel")
            .order_by("created_at", "pk")
        )
        if not held:
            break
        for answer in held:
            now = timezone.now()
            if not Reply.objects.filter(pk=answer.pk, state=ReplyState.HELD).update(
                state=ReplyState.SENT,
                delivery=ReplyDelivery.NEXT_MESSAGE,
                sent_at=now,
                reason="",
                claimed_at=None,
            ):
                continue  # taken meanwhile (SQLite has no row locks)
            answer.state = ReplyState.SENT
            answer.delivery = ReplyDelivery.NEXT_MESSAGE
            answer.sent_at = now
            answer.reason = ""
            answer.claimed_at = None
            _record_sent(answer, now)
            taken.append(answer)
    return taken


# -- platform moderation, routing -------------------------------------------------------------


@transaction.atomic
def hide_message(by: Performer, message: Message, reason: str) -> Message:
    """Hide an abusive or spam comment on the platform where it allows. The reason goes in
    the audit log; nothing is deleted in Sotong."""
    from sotong.channels.actions import connector_for

    case = message.case
    _require(by, case, Permission.ASSIGN_CASES)
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the comment is hidden.")})
    if (
        message.kind == MessageKind.MESSAGE
        or Capability.HIDE_COMMENT not in message.channel.capabilities
    ):
        raise ValidationError(_("This platform does not let Sotong hide comments."))
    if message.hidden_at is not None:
        return message
    connector = connector_for(message.channel)
    try:
        connector.hide_comment(message.external_id)
    except PlatformError as error:
        raise ValidationError(
            _("The platform did not hide the comment: %(reason)s") % {"reason": str(error)[:200]}
        ) from error
    finally:
        connector.close()
    message.hidden_at = timezone.now()
    message.hidden_reason = reason[:300]
    message.save(update_fields=["hidden_at", "hidden_reason"])
    _event(by, case, CaseEventKind.HIDDEN, text=message.hidden_reason, data={"message": message.pk})
    _audit(by, "message.hide", message, case, after={"reason": message.hidden_reason})
    return message


@transaction.atomic
def correct_routing(by: Performer, message: Message, department: Department) -> RoutingLabel:
    """Say which department the message belongs to: stored as a label, which the city's
    routing model learns at its next retraining (a correction is a label)."""
    case = message.case
    _require(by, case, Permission.ASSIGN_CASES)
    if department.organisation_id != case.organisation_id:
        raise ValidationError({"department": _("Choose a department of this city.")})
    label = RoutingLabel.objects.create(
        organisation_id=case.organisation_id,
        message=message,
        department=department,
        unit=department.name,
        by=by if isinstance(by, Staff) else None,
    )
    # Learnt by the city's own model when it is next retrained (routing_models.retrain_due):
    # never in place, where the shared shipped model would carry one city's label to all.
    _event(
        by,
        case,
        CaseEventKind.ROUTING,
        data={"message": message.pk, "department_name": department.name},
    )
    _audit(
        by,
        "routing.correct",
        label,
        case,
        after={"message": message.pk, "department": department.pk},
    )
    return label


@transaction.atomic
def route(
    by: Performer, case: Case, department: Department, *, message: Message | None = None
) -> Case:
    """One decision, two records: assign the case to ``department`` and label the message
    (by default the citizen's latest) as belonging there, so the routing model learns it.
    Both or neither: a label without the assignment would teach what nobody decided."""
    label_for = message or case.messages.order_by("-received_at", "-pk").first()
    if label_for is not None and label_for.case_id != case.pk:
        raise ValidationError({"message": _("This message belongs to another case.")})
    case = assign(by, case, department=department)
    if label_for is not None:
        correct_routing(by, label_for, department)
    return case


# -- deadlines --------------------------------------------------------------------------------


def remind_and_escalate(now: dt.datetime | None = None) -> dict[str, int]:
    """Remind the handlers of cases whose reminder time has come, and escalate overdue
    cases to the PR office and the department; each once per deadline."""
    now = now or timezone.now()
    counts = {"reminded": 0, "escalated": 0}
    open_cases = Case.objects.exclude(status__in=FINISHED_STATUSES).select_related(
        "organisation", "channel", "department", "assignee__user"
    )
    for case in open_cases.filter(remind_at__lte=now, reminded_at__isnull=True, deadline__gt=now):
        with transaction.atomic():
            if not Case.objects.filter(pk=case.pk, reminded_at__isnull=True).update(
                reminded_at=now
            ):
                continue
            _event(SYSTEM, case, CaseEventKind.REMINDED, data={"deadline": case.deadline})
            notifications.notify_case_due_soon(case)
        counts["reminded"] += 1
    for case in open_cases.filter(deadline__lte=now, escalated_at__isnull=True):
        with transaction.atomic():
            if not Case.objects.filter(pk=case.pk, escalated_at__isnull=True).update(
                escalated_at=now
            ):
                continue
            _event(SYSTEM, case, CaseEventKind.ESCALATED, data={"deadline": case.deadline})
            _audit(SYSTEM, "case.escalate", case, case, after={"deadline": case.deadline})
            notifications.notify_case_overdue(case)
        counts["escalated"] += 1
    return counts


# -- sensitive cases and reply approval -------------------------------------------------------
#
# A reply on a sensitive case waits (ReplyState.AWAITING_APPROVAL) until a PR editor, i.e.
# staff holding APPROVE_POSTS who see the case, approves it: then it is enqueued exactly as
# an ordinary reply is. Or the approver returns it with a comment, and whoever may reply on
# the case edits and resubmits it. Four eyes: nobody approves words they wrote or last
# edited, unless they are the organisation's only approver (a small city's one PR editor
# must still be able to answer); such a self-approval is marked in the audit entry.


@transaction.atomic
def set_sensitivity(by: Performer, case: Case, sensitivity: str, reason: str) -> Case:
    """Mark the case sensitive (its replies wait for approval), not sensitive, or back to
    following triage (sensitive while urgency is high). The PR office decides; the reason
    is kept on the case's timeline."""
    _require(by, case, Permission.ASSIGN_CASES)
    if sensitivity not in Sensitivity.values:
        raise ValidationError({"sensitivity": _("Choose whether the case is sensitive.")})
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("Say why.")})
    if len(reason) > 300:
        raise ValidationError(
            {"reason": _("A reason is at most %(max)d characters.") % {"max": 300}}
        )
    case = _locked(case)
    if case.sensitivity == sensitivity:
        return case
    before = {"sensitivity": case.sensitivity, "sensitive": case.is_sensitive}
    case.sensitivity = sensitivity
    case.sensitivity_reason = reason
    case.sensitivity_by = by if isinstance(by, Staff) else None
    case.sensitivity_at = timezone.now()
    case.save(
        update_fields=["sensitivity", "sensitivity_reason", "sensitivity_by", "sensitivity_at"]
    )
    event = _event(
        by,
        case,
        CaseEventKind.SENSITIVITY,
        text=reason,
        data={"sensitivity": sensitivity, "sensitive": case.is_sensitive},
    )
    _audit(
        by,
        "case.sensitivity",
        case,
        case,
        before=before,
        after={"sensitivity": sensitivity, "sensitive": case.is_sensitive, "event": event.pk},
    )
    return case


def reply_approvers(case: Case) -> list[Staff]:
    """Active staff of the case's organisation who approve replies and see the case."""
    people = (
        Staff.objects.filter(organisation_id=case.organisation_id, user__is_active=True)
        .select_related("user")
        .order_by("pk")
    )
    return [
        staff
        for staff in people
        if staff.can(Permission.APPROVE_POSTS)
        and (not staff.is_department_scoped or case.department_id in staff.department_scope_ids())
    ]


def _writers(answer: Reply) -> set[int]:
    return {pk for pk in (answer.by_id, answer.submitted_by_id) if pk is not None}


def _sole_approver(staff: Staff, case: Case) -> bool:
    approvers = reply_approvers(case)
    return len(approvers) == 1 and approvers[0].pk == staff.pk


def may_approve(staff: Staff, answer: Reply) -> bool:
    """For the pages: whether to offer approve and return on ``answer``."""
    if answer.state != ReplyState.AWAITING_APPROVAL or not may(staff, Permission.APPROVE_POSTS):
        return False
    if staff.organisation_id != answer.organisation_id:
        return False
    if not Case.objects.for_staff(staff).filter(pk=answer.case_id).exists():
        return False
    return staff.pk not in _writers(answer) or _sole_approver(staff, answer.case)


def awaiting_approval(staff: Staff) -> models.QuerySet[Reply]:
    """Replies waiting for approval on the cases ``staff`` sees, oldest first."""
    return (
        Reply.objects.for_staff(staff)
        .filter(state=ReplyState.AWAITING_APPROVAL)
        .select_related("case", "by")
        .order_by("created_at", "pk")
    )


def _reviewable(by: Performer, answer: Reply) -> tuple[Reply, bool]:
    """Lock ``answer`` for a decision by ``by``; whether it is a self-approval."""
    _require(by, answer.case, Permission.APPROVE_POSTS)
    answer = (
        Reply.objects.select_for_update(of=("self",))
        .select_related(
            "case__organisation", "case__channel", "case__department", "message__channel"
        )
        .get(pk=answer.pk)
    )
    if answer.state != ReplyState.AWAITING_APPROVAL:
        raise ValidationError(_("This reply is not waiting for approval."))
    own = isinstance(by, Staff) and by.pk in _writers(answer)
    if own and not _sole_approver(by, answer.case):  # type: ignore[arg-type]
        raise ValidationError(_("You wrote this reply: another PR editor approves it."))
    return answer, own


def _resolve_approval_notices(answer: Reply) -> None:
    """The notices asking for a decision on ``answer`` are answered: read."""
    from sotong.notifications.models import Notification

    Notification.objects.filter(
        dedupe_key__startswith=f"reply_approval:{answer.pk}:", read_at__isnull=True
    ).update(read_at=timezone.now())


def _case_words(case: Case) -> dict[str, str]:
    """What a notice about a reply says of its case (notices keep their params as made)."""
    from zoneinfo import ZoneInfo

    due = timezone.localtime(case.deadline, ZoneInfo(case.organisation.time_zone))
    return {"case": f"#{case.pk}", "due": due.strftime("%Y-%m-%d %H:%M")}


def _notify_reply_approvers(by: Performer, answer: Reply) -> None:
    """The approvers hear of a reply waiting for them (its writers excepted, unless one of
    them is the only approver), as publishing tells approvers of a post in review."""
    from sotong.notifications.models import NotificationKind

    case = answer.case
    approvers = reply_approvers(case)
    writers = _writers(answer)
    people = [staff for staff in approvers if staff.pk not in writers] or approvers
    _resolve_approval_notices(answer)
    notifications.notify(
        people,
        NotificationKind.REPLY_APPROVAL_REQUESTED,
        organisation=case.organisation_id,
        link=reverse("inbox:case", args=[case.pk]),
        params={
            **_case_words(case),
            "by": by.display_name if isinstance(by, Staff) else "Sotong",
        },
        dedupe_key=f"reply_approval:{answer.pk}:{timezone.now().isoformat()}",
    )


@transaction.atomic
def approve_reply(by: Performer, answer: Reply) -> Reply:
    """Approve a reply waiting on a sensitive case: it is sent as any reply is (stored,
    then sent by a task, retried, shown failed if refused)."""
    answer, own = _reviewable(by, answer)
    now = timezone.now()
    answer.state = ready_state(answer.message)
    answer.next_attempt_at = now
    answer.claimed_at = None
    answer.attempts = 0
    answer.reviewed_by = by if isinstance(by, Staff) else None
    answer.reviewed_at = now
    answer.save(
        update_fields=[
            "state",
            "next_attempt_at",
            "claimed_at",
            "attempts",
            "reviewed_by",
            "reviewed_at",
        ]
    )
    case = answer.case
    _event(by, case, CaseEventKind.REPLY_APPROVED, data={"reply": answer.pk, "self_approved": own})
    _audit(
        by,
        "reply.approve",
        answer,
        case,
        before={"state": ReplyState.AWAITING_APPROVAL},
        after={"state": answer.state, "case": case.pk, "self_approved": own},
    )
    _resolve_approval_notices(answer)
    _release(answer)
    return answer


@transaction.atomic
def return_reply(by: Performer, answer: Reply, comment: str) -> Reply:
    """Send a waiting reply back to be changed, saying what should change. Its writer
    is told; it is not sent."""
    from sotong.notifications.models import NotificationKind

    comment = comment.strip()
    if not comment:
        raise ValidationError({"comment": _("Say what should change.")})
    if len(comment) > MAX_NOTE:
        raise ValidationError(
            {"comment": _("A comment is at most %(max)d characters.") % {"max": MAX_NOTE}}
        )
    answer, _own = _reviewable(by, answer)
    now = timezone.now()
    answer.state = ReplyState.RETURNED
    answer.reviewed_by = by if isinstance(by, Staff) else None
    answer.reviewed_at = now
    answer.review_comment = comment
    answer.save(update_fields=["state", "reviewed_by", "reviewed_at", "review_comment"])
    case = answer.case
    _event(by, case, CaseEventKind.REPLY_RETURNED, text=comment, data={"reply": answer.pk})
    _audit(
        by,
        "reply.return",
        answer,
        case,
        before={"state": ReplyState.AWAITING_APPROVAL},
        after={"state": answer.state, "case": case.pk, "comment_length": len(comment)},
    )
    _resolve_approval_notices(answer)
    writers = Staff.objects.filter(pk__in=_writers(answer)).select_related("user")
    # Only writers who still see the case: it may have moved to another department.
    told = [
        staff
        for staff in writers
        if (not isinstance(by, Staff) or staff.pk != by.pk)
        and Case.objects.for_staff(staff).filter(pk=case.pk).exists()
    ]
    notifications.notify(
        told,
        NotificationKind.REPLY_RETURNED,
        organisation=case.organisation_id,
        link=reverse("inbox:case", args=[case.pk]),
        params={
            **_case_words(case),
            "by": by.display_name if isinstance(by, Staff) else "Sotong",
            "comment": comment,
        },
        dedupe_key=f"reply_returned:{answer.pk}:{now.isoformat()}",
    )
    return answer


@transaction.atomic
def resubmit_reply(by: Performer, answer: Reply, text: str) -> Reply:
    """The returned reply, edited: it waits for approval again (or goes out at once if
    the case is no longer sensitive). Anyone who may reply on the case may resubmit it;
    whoever does may not approve it then."""
    _require(by, answer.case, Permission.REPLY)
    text = text.strip()
    if not text:
        raise ValidationError({"text": _("Write the reply.")})
    if len(text) > MAX_REPLY:
        raise ValidationError(
            {"text": _("A reply is at most %(max)d characters.") % {"max": MAX_REPLY}}
        )
    answer = (
        Reply.objects.select_for_update(of=("self",))
        .select_related("case__organisation", "message__channel")
        .get(pk=answer.pk)
    )
    if answer.state != ReplyState.RETURNED:
        raise ValidationError(_("Only a returned reply can be edited and resubmitted."))
    from sotong.inbox import satisfaction

    case = answer.case
    _check_length(answer.message, text)
    text = satisfaction.with_survey_link(case, answer.message, text)
    waiting = _locked(case).is_sensitive
    before_length = len(answer.text)
    answer.text = text
    answer.submitted_by = by if isinstance(by, Staff) else None
    answer.state = ReplyState.AWAITING_APPROVAL if waiting else ready_state(answer.message)
    answer.next_attempt_at = timezone.now()
    answer.save(update_fields=["text", "submitted_by", "state", "next_attempt_at"])
    _event(
        by,
        case,
        CaseEventKind.REPLY_RESUBMITTED,
        text=text,
        data={"reply": answer.pk, "awaiting_approval": waiting},
    )
    _audit(
        by,
        "reply.resubmit",
        answer,
        case,
        before={"state": ReplyState.RETURNED, "length": before_length},
        after={"state": answer.state, "length": len(text), "case": case.pk},
    )
    if waiting:
        _notify_reply_approvers(by, answer)
    else:
        _release(answer)
    return answer
