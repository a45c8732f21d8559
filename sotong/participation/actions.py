"""Running polls and naming contests: creating one with its options, opening and closing
voting, the posts whose comments count, ballots from the web page, KakaoTalk and comments
(each stored once, valid or not, with the reason), and the count.

Who: the PR office (PUBLISH) and administrators run polls; the count is for every staff
member who sees the poll's department. Citizens are known by keyed pseudonyms only.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from sotong.core import audit
from sotong.core.models import Department, Organisation, Staff
from sotong.core.permissions import Performer, actor_of
from sotong.core.roles import Capability
from sotong.participation.models import (
    Ballot,
    IdentityLink,
    Poll,
    PollKind,
    PollOption,
    PollPost,
    PollState,
    Submission,
    SubmissionState,
)

MAX_OPTIONS = 20
TEXT_KEPT = 500

AUDITED = ("title", "question", "state", "opens_at", "closes_at", "max_choices", "decision")


def may_run(by: Performer) -> bool:
    from sotong.core.audit import Actor

    return isinstance(by, Actor) or by.can(Capability.PUBLISH)


def _require(by: Performer, organisation_id: int) -> None:
    from sotong.core.audit import Actor

    if isinstance(by, Actor):
        return
    if by.organisation_id != organisation_id or not by.can(Capability.PUBLISH):
        raise PermissionDenied("participation")


def voter_key(source: str, identity: str) -> str:
    """The keyed pseudonym a citizen votes under on one source (never the identity)."""
    key = hmac.new(settings.SECRET_KEY.encode(), b"sotong.participation.voter", hashlib.sha256)
    return hmac.new(key.digest(), f"{source}:{identity}".encode(), hashlib.sha256).hexdigest()


def _clean_options(labels: Sequence[str]) -> list[str]:
    cleaned = [" ".join(label.split()) for label in labels if label.strip()]
    errors = []
    if len(cleaned) < 2:
        errors.append(_("A poll needs at least two options."))
    if len(cleaned) > MAX_OPTIONS:
        errors.append(_("At most %(n)s options.") % {"n": MAX_OPTIONS})
    if len({label.casefold() for label in cleaned}) != len(cleaned):
        errors.append(_("Two options have the same name."))
    if any(len(label) > 100 for label in cleaned):
        errors.append(_("An option has at most 100 characters."))
    if errors:
        raise ValidationError({"options": errors})
    return cleaned


def _check_times(
    opens_at: dt.datetime, closes_at: dt.datetime, max_choices: int, options: int
) -> None:
    errors: dict[str, list[str]] = {}
    if closes_at <= opens_at:
        errors["closes_at"] = [_("Voting must close after it opens.")]
    if not 1 <= max_choices <= max(options, 1):
        errors["max_choices"] = [
            _("Choices per person: from 1 to the number of options (%(n)s).") % {"n": options}
        ]
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def create_poll(
    by: Performer,
    organisation: Organisation,
    *,
    title: str,
    question: str,
    department: Department,
    opens_at: dt.datetime,
    closes_at: dt.datetime,
    options: Sequence[str] = (),
    kind: str = PollKind.POLL,
    description: str = "",
    max_choices: int = 1,
    on_web: bool = True,
    on_kakao: bool = True,
    submissions_open_at: dt.datetime | None = None,
    submissions_close_at: dt.datetime | None = None,
) -> Poll:
    """A poll (or a naming contest, whose options come from the shortlist later), as a
    draft: nothing is public until voting (or taking proposals) is opened."""
    _require(by, organisation.pk)
    if department.organisation_id != organisation.pk:
        raise ValidationError({"department": _("Choose one of the city's departments.")})
    if not title.strip() or not question.strip():
        raise ValidationError({"title": _("Give the poll a title and a question.")})
    labels = _clean_options(options) if kind == PollKind.POLL or options else []
    _check_times(opens_at, closes_at, max_choices, len(labels) or MAX_OPTIONS)
    if kind == PollKind.NAMING:
        if submissions_open_at is None or submissions_close_at is None:
            raise ValidationError({"submissions_open_at": _("Say when proposals are taken.")})
        if not submissions_open_at < submissions_close_at <= opens_at:
            raise ValidationError(
                {"submissions_close_at": _("Proposals close before voting opens.")}
            )
    poll = Poll.objects.create(
        organisation=organisation,
        kind=kind,
        title=title.strip(),
        question=question.strip(),
        description=description.strip(),
        department=department,
        opens_at=opens_at,
        closes_at=closes_at,
        max_choices=max_choices,
        on_web=on_web,
        on_kakao=on_kakao,
        submissions_open_at=submissions_open_at,
        submissions_close_at=submissions_close_at,
        created_by=None if isinstance(by, audit.Actor) else by,
    )
    PollOption.objects.bulk_create(
        PollOption(organisation=organisation, poll=poll, position=number, label=label)
        for number, label in enumerate(labels, start=1)
    )
    audit.record(
        actor_of(by),
        "poll.create",
        poll,
        organisation=organisation,
        department=department,
        after={**audit.snapshot(poll, AUDITED), "options": labels},
    )
    return poll


def _audit_poll(by: Performer, action: str, poll: Poll, before: dict[str, object]) -> None:
    audit.record(
        actor_of(by),
        action,
        poll,
        organisation=poll.organisation,
        department=poll.department,
        before=before,
        after=audit.snapshot(poll, AUDITED),
    )


def _change_state(by: Performer, poll: Poll, state: str, action: str) -> Poll:
    _require(by, poll.organisation_id)
    with transaction.atomic():
        locked = Poll.objects.select_for_update().get(pk=poll.pk)
        before = audit.snapshot(locked, AUDITED)
        locked.state = state
        fields = ["state"]
        now = timezone.now()
        if state == PollState.CLOSED and locked.closes_at > now:
            # Closed early by hand: what comes after now is late, whatever was planned.
            locked.closes_at = now
            fields.append("closes_at")
        locked.save(update_fields=fields)
        _audit_poll(by, action, locked, before)
    return locked


def open_voting(by: Performer, poll: Poll) -> Poll:
    """Voting runs from ``opens_at`` to ``closes_at``; ballots outside are kept as late."""
    if poll.options.count() < 2:
        raise ValidationError(_("A poll needs at least two options before voting opens."))
    if poll.state == PollState.CLOSED:
        raise ValidationError(_("A closed poll cannot be opened again."))
    return _change_state(by, poll, PollState.VOTING, "poll.open")


def close_poll(by: Performer, poll: Poll) -> Poll:
    """Close voting and send the result to the department that owns the policy (and the
    PR office), as a notice linking to the poll's page with its count."""
    from sotong.notifications.actions import notify, publishers
    from sotong.notifications.models import NotificationKind

    closed = _change_state(by, poll, PollState.CLOSED, "poll.close")
    result = count(closed)
    ranked = sorted(result.options, key=lambda option: (-option.votes, option.position))
    summary = ", ".join(f"{option.label} {option.votes}" for option in ranked[:5])
    department_staff = Staff.objects.filter(
        organisation_id=closed.organisation_id,
        department_id=closed.department_id,
        user__is_active=True,
    ).select_related("user")
    with transaction.atomic():
        notify(
            [*department_staff, *publishers(closed.organisation_id, closed.department_id)],
            NotificationKind.POLL_CLOSED,
            organisation=closed.organisation_id,
            link=f"/participation/{closed.pk}/",
            params={"poll": closed.title, "people": result.people, "result": summary},
            dedupe_key=f"poll-closed:{closed.pk}",
        )
    return closed


def publish_response(by: Performer, poll: Poll) -> Any:
    """The city's response as a post drafted for every channel the poll ran on (its posts'
    channels): written once, approved and published like any post."""
    from sotong.channels.models import Channel
    from sotong.publishing import actions as publishing

    _require(by, poll.organisation_id)
    if not poll.decision:
        raise ValidationError({"decision": _("Record the city's response first.")})
    channels = list(Channel.objects.filter(pk__in=poll.posts.values("channel_id")).order_by("pk"))
    if not channels:
        raise ValidationError(_("The poll ran on no channel post: publish the response by hand."))
    result = count(poll)
    lines = [
        poll.decision,
        "",
        _("Result (%(people)s people):") % {"people": result.people},
        *(f"{option.position}. {option.label}: {option.votes}" for option in result.options),
    ]
    return publishing.compose(
        by,
        poll.organisation,
        department=poll.department,
        title=_("Result: %(poll)s") % {"poll": poll.title},
        body="\n".join(lines),
        channels=channels,
    )


@transaction.atomic
def add_post(
    by: Performer, poll: Poll, channel_id: int, post_external_id: str, url: str = ""
) -> PollPost:
    """Comments under this post are read as votes from now on."""
    from sotong.channels.models import Channel

    _require(by, poll.organisation_id)
    if not Channel.objects.filter(pk=channel_id, organisation_id=poll.organisation_id).exists():
        raise ValidationError({"channel": _("Choose one of the city's channels.")})
    post_external_id = post_external_id.strip()
    if not post_external_id:
        raise ValidationError({"post_external_id": _("Give the post's id on the platform.")})
    taken = PollPost.objects.filter(channel_id=channel_id, post_external_id=post_external_id)
    if taken.exists():
        raise ValidationError(
            {"post_external_id": _("Comments under this post already count for a poll.")}
        )
    post = PollPost.objects.create(
        organisation_id=poll.organisation_id,
        poll=poll,
        channel_id=channel_id,
        post_external_id=post_external_id,
        url=url,
    )
    audit.record(
        actor_of(by),
        "poll.add_post",
        poll,
        organisation=poll.organisation,
        department=poll.department,
        after={"channel": channel_id, "post": post_external_id},
    )
    return post


def record_decision(by: Performer, poll: Poll, decision: str) -> Poll:
    """What the city decided and why: shown on the results page."""
    _require(by, poll.organisation_id)
    if not decision.strip():
        raise ValidationError({"decision": _("Write what the city decided and why.")})
    with transaction.atomic():
        locked = Poll.objects.select_for_update().get(pk=poll.pk)
        before = audit.snapshot(locked, AUDITED)
        locked.decision = decision.strip()
        locked.decided_at = timezone.now()
        locked.save(update_fields=["decision", "decided_at"])
        _audit_poll(by, "poll.decision", locked, before)
    return locked


# -- ballots ------------------------------------------------------------------------------------


def _option_labels(poll: Poll) -> list[str]:
    return list(poll.options.order_by("position").values_list("label", flat=True))


def _store_ballot(ballot: Ballot) -> tuple[Ballot, bool]:
    """Store once per (poll, source, source_ref): a repeat returns the stored one."""
    try:
        with transaction.atomic():
            ballot.save(force_insert=True)
    except IntegrityError:
        found = Ballot.objects.get(
            poll_id=ballot.poll_id, source=ballot.source, source_ref=ballot.source_ref
        )
        return found, False
    return ballot, True


def cast_choices(
    poll: Poll,
    *,
    source: str,
    identity: str,
    source_ref: str,
    choices: Sequence[int],
    cast_at: dt.datetime | None = None,
    channel_id: int | None = None,
) -> tuple[Ballot, bool]:
    """A ballot with its choices given (the web form, a KakaoTalk quick reply). Invalid
    ones (no choice, too many, an unknown option) are kept with the reason, not counted."""
    count = poll.options.count()
    chosen = sorted(set(int(choice) for choice in choices))
    reason = detail = ""
    if not chosen:
        reason, detail = "none", _("No option was chosen.")
    elif any(not 1 <= choice <= count for choice in chosen):
        reason, detail = "unknown_option", _("The option does not exist.")
    elif len(chosen) > poll.max_choices:
        reason, detail = (
            "too_many_choices",
            _("More than %(n)s options were chosen.") % {"n": poll.max_choices},
        )
    return _store_ballot(
        Ballot(
            organisation_id=poll.organisation_id,
            poll=poll,
            source=source,
            channel_id=channel_id,
            voter=voter_key(source, identity),
            source_ref=source_ref,
            cast_at=cast_at or timezone.now(),
            choices=chosen,
            valid=not reason,
            reason=reason,
            detail=detail,
        )
    )


def cast_text(
    poll: Poll,
    *,
    source: str,
    identity: str,
    source_ref: str,
    text: str,
    cast_at: dt.datetime | None = None,
    channel_id: int | None = None,
    message_id: int | None = None,
) -> tuple[Ballot, bool]:
    """A ballot written in words (a comment under the poll's post, a chat message):
    read by ``nlp.votes``; a comment naming two options or none is kept as invalid with
    the reason staff see."""
    from sotong.nlp import votes
    from sotong.nlp.pii import mask

    read = votes.parse(text, _option_labels(poll))
    return _store_ballot(
        Ballot(
            organisation_id=poll.organisation_id,
            poll=poll,
            source=source,
            channel_id=channel_id,
            voter=voter_key(source, identity),
            source_ref=source_ref,
            cast_at=cast_at or timezone.now(),
            choices=[read.option] if read.option is not None else [],
            valid=read.option is not None,
            reason="" if read.option is not None else read.reason[:30],
            detail="" if read.option is not None else read.detail[:300],
            text=mask(text).masked[:TEXT_KEPT],
            message_id=message_id,
        )
    )


# -- the count ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class OptionResult:
    position: int
    label: str
    votes: int
    share: float
    by_source: dict[str, int]


@dataclass(frozen=True)
class Result:
    options: list[OptionResult]
    counted: int
    not_counted: dict[str, int]  # reason → ballots
    people: int
    sources: list[str]
    # Each ballot not counted → why (tally.Reason: late, duplicate, invalid, …).
    rejected: dict[int, str]


def count(poll: Poll) -> Result:
    """The exact count of ``poll``'s ballots under its rules (``participation.tally``):
    once per person per source, once overall where the person linked identities; late,
    invalid and repeated ballots are kept and not counted."""
    from sotong.participation import tally

    rows = Ballot.objects.filter(poll=poll).values_list(
        "pk", "source", "voter", "cast_at", "choices", "valid", "reason"
    )
    ballots = [
        tally.BallotIn(
            id=pk,
            channel=source,
            voter=voter,
            cast_at=cast_at,
            choices=tuple(choices or ()),
            valid=valid,
            reason=reason,
        )
        for pk, source, voter, cast_at, choices, valid, reason in rows
    ]
    links = {
        (source, voter): person
        for source, voter, person in IdentityLink.objects.filter(
            organisation_id=poll.organisation_id
        ).values_list("source", "voter", "person")
    }
    labels = _option_labels(poll)
    found = tally.tally(
        ballots,
        len(labels),
        tally.Rules(opens_at=poll.opens_at, closes_at=poll.closes_at, max_choices=poll.max_choices),
        links=links,
    )
    total = sum(found.counts.values()) or 0
    sources = sorted({ballot.channel for ballot in ballots})
    return Result(
        options=[
            OptionResult(
                position=number,
                label=label,
                votes=found.counts.get(number, 0),
                share=(found.counts.get(number, 0) / total) if total else 0.0,
                by_source={
                    source: found.by_channel.get(source, {}).get(number, 0) for source in sources
                },
            )
            for number, label in enumerate(labels, start=1)
        ],
        counted=len(found.counted),
        not_counted=dict(found.reason_counts()),
        people=len(found.counted),
        sources=sources,
        rejected={pk: str(rejection.reason) for pk, rejection in found.rejected.items()},
    )


# -- naming contests ------------------------------------------------------------------------------

MAX_NAME = 30
PROPOSALS_PER_PERSON = 3
_LABELLED = re.compile(
    r"이름\s*[:：은는]?\s*(?P<name>[^\n,/]+?)\s*(?:[,/\n]|\s)\s*(?:이유|까닭|왜냐하면)\s*[:：은는]?\s*(?P<reason>.+)$",
    re.DOTALL,
)
_SEPARATORS = re.compile(r"\s+[-–—]\s+|[:：\n]|[,，]\s|\(|[!.。]\s")


def split_proposal(text: str) -> tuple[str, str]:
    """A comment proposing a name → (name, reason): "이름: 꽃누리, 이유: 꽃의 도시라서", or the
    words before the first separator ("꽃누리 - 꽃의 도시 순천"). Staff review every one."""
    text = " ".join(text.split()) if "\n" not in text else text.strip()
    found = _LABELLED.search(text)
    if found:
        return found["name"].strip(" '\"“”‘’"), found["reason"].strip()
    parts = _SEPARATORS.split(text, maxsplit=1)
    name = parts[0].strip(" '\"“”‘’")
    reason = parts[1].strip(" )") if len(parts) > 1 else ""
    return name, reason


def open_proposals(by: Performer, poll: Poll) -> Poll:
    if poll.kind != PollKind.NAMING:
        raise ValidationError(_("Only a naming contest takes proposals."))
    if poll.state != PollState.DRAFT:
        raise ValidationError(_("Proposals are taken before voting, from a draft."))
    return _change_state(by, poll, PollState.SUBMISSIONS, "poll.open_proposals")


def propose(
    poll: Poll,
    *,
    source: str,
    identity: str,
    source_ref: str,
    name: str,
    reason: str = "",
    at: dt.datetime | None = None,
) -> tuple[Submission, bool]:
    """A citizen proposes a name (web form, KakaoTalk, a comment under the contest's post).
    Stored once per source reference; refused in Korean when the contest does not take
    proposals now, the name is empty or too long, or the person proposed enough already."""
    moment = at or timezone.now()
    name = " ".join(name.split())
    if poll.state != PollState.SUBMISSIONS or not (
        (poll.submissions_open_at or poll.opens_at)
        <= moment
        < (poll.submissions_close_at or poll.opens_at)
    ):
        raise ValidationError(_("This contest is not taking proposals now."))
    if not name:
        raise ValidationError({"name": _("Write the name you propose.")})
    if len(name) > MAX_NAME:
        raise ValidationError({"name": _("A name has at most %(n)s characters.") % {"n": MAX_NAME}})
    voter = voter_key(source, identity)
    existing = Submission.objects.filter(poll=poll, source=source, source_ref=source_ref).first()
    if existing is not None:
        return existing, False
    if (
        Submission.objects.filter(poll=poll, source=source, voter=voter).count()
        >= PROPOSALS_PER_PERSON
    ):
        raise ValidationError(
            _("One person may propose up to %(n)s names.") % {"n": PROPOSALS_PER_PERSON}
        )
    try:
        with transaction.atomic():
            made = Submission.objects.create(
                organisation_id=poll.organisation_id,
                poll=poll,
                name=name,
                reason=reason.strip()[:1000],
                source=source,
                voter=voter,
                source_ref=source_ref,
                submitted_at=moment,
            )
    except IntegrityError:
        return Submission.objects.get(poll=poll, source=source, source_ref=source_ref), False
    return made, True


def moderate(by: Performer, submission: Submission, state: str, note: str = "") -> Submission:
    """Approve, reject (with a note) or shortlist a proposal."""
    _require(by, submission.organisation_id)
    if state not in SubmissionState.values or state == SubmissionState.PENDING:
        raise ValidationError({"state": _("Choose approve, reject or shortlist.")})
    if state == SubmissionState.REJECTED and not note.strip():
        raise ValidationError({"note": _("Say why the proposal is rejected.")})
    with transaction.atomic():
        locked = Submission.objects.select_for_update().get(pk=submission.pk)
        before = {"state": locked.state, "note": locked.note}
        locked.state = state
        locked.note = note.strip()[:300]
        locked.moderated_by = None if isinstance(by, audit.Actor) else by
        locked.moderated_at = timezone.now()
        locked.save(update_fields=["state", "note", "moderated_by", "moderated_at"])
        audit.record(
            actor_of(by),
            "poll.moderate",
            locked,
            organisation=locked.organisation,
            before=before,
            after={"state": locked.state, "note": locked.note, "poll": locked.poll_id},
        )
    return locked


def open_voting_on_shortlist(by: Performer, poll: Poll) -> Poll:
    """The shortlisted names, in the order they were proposed, become the options (names
    proposed more than once are one option); then voting opens."""
    _require(by, poll.organisation_id)
    if poll.kind != PollKind.NAMING or poll.state != PollState.SUBMISSIONS:
        raise ValidationError(_("Voting on a shortlist follows the proposals of a naming contest."))
    names: list[str] = []
    for name in poll.submissions.filter(state=SubmissionState.SHORTLISTED).values_list(
        "name", flat=True
    ):
        if name.casefold() not in {known.casefold() for known in names}:
            names.append(name)
    labels = _clean_options(names)
    if poll.max_choices > len(labels):
        raise ValidationError(
            _("Choices per person: from 1 to the number of options (%(n)s).") % {"n": len(labels)}
        )
    with transaction.atomic():
        poll.options.all().delete()
        PollOption.objects.bulk_create(
            PollOption(
                organisation_id=poll.organisation_id, poll=poll, position=number, label=label
            )
            for number, label in enumerate(labels, start=1)
        )
        audit.record(
            actor_of(by),
            "poll.shortlist",
            poll,
            organisation=poll.organisation,
            department=poll.department,
            after={"options": labels},
        )
    return _change_state(by, poll, PollState.VOTING, "poll.open")


def start_voting_now(by: Performer, poll: Poll) -> Poll:
    """Staff opened voting by hand before its planned time (the shortlist was ready
    early): voting runs from now, and proposals ended now, so the ballots cast from now
    count instead of being kept as early."""
    _require(by, poll.organisation_id)
    with transaction.atomic():
        locked = Poll.objects.select_for_update().get(pk=poll.pk)
        now = timezone.now()
        if locked.state != PollState.VOTING or locked.opens_at <= now:
            return locked
        if locked.closes_at <= now:
            raise ValidationError(_("Voting must close after it opens."))
        before = audit.snapshot(locked, AUDITED)
        locked.opens_at = now
        fields = ["opens_at"]
        if (
            locked.submissions_close_at is not None
            and locked.submissions_close_at > now
            and (locked.submissions_open_at or now) <= now
        ):
            locked.submissions_close_at = now
            fields.append("submissions_close_at")
        locked.save(update_fields=fields)
        _audit_poll(by, "poll.open_early", locked, before)
    return locked
