"""Votes written as comments under a poll's posts: when the inbox takes in a comment on
such a post, a ballot is stored in the same transaction (so it is never lost or counted
twice: the comment's id is the ballot's reference). A comment read as a valid vote needs
no answer, so its case is closed with a note; anything else (a question under the poll, a
comment naming two options) stays with staff, and the invalid ballot shows why."""

from __future__ import annotations

from django.utils.translation import gettext as _

from sotong.core.audit import Actor
from sotong.inbox.models import Message, MessageKind
from sotong.participation import actions
from sotong.participation.models import BallotSource, PollPost, PollState

COUNTER = Actor.system("participation")
# Comments count while voting runs and after (kept as late); not on a draft.
COUNTING_STATES = frozenset({PollState.VOTING, PollState.CLOSED})


def source_of(kind: str) -> str:
    return kind if kind in BallotSource.values else BallotSource.OTHER


def ballots_from(messages: list[Message]) -> int:
    """Ballots from the new ``messages`` that are comments on a poll's post; returns how
    many were stored. Runs inside the inbox's ingest transaction."""
    from sotong.inbox import actions as inbox

    comments = [m for m in messages if m.kind == MessageKind.COMMENT and m.post_external_id]
    if not comments:
        return 0
    posts = {
        (post.channel_id, post.post_external_id): post
        for post in PollPost.objects.filter(
            channel_id__in={m.channel_id for m in comments},
            post_external_id__in={m.post_external_id for m in comments},
        ).select_related("poll", "channel")
    }
    stored = 0
    for message in comments:
        post = posts.get((message.channel_id, message.post_external_id))
        if post is None:
            continue
        if post.poll.state == PollState.SUBMISSIONS:
            stored += _proposal(post, message)
            continue
        if post.poll.state not in COUNTING_STATES:
            continue
        ballot, new = actions.cast_text(
            post.poll,
            source=source_of(post.channel.kind),
            identity=message.citizen.pseudonym,
            source_ref=message.external_id,
            text=message.text or "",
            cast_at=message.occurred_at or message.received_at,
            channel_id=message.channel_id,
            message_id=message.pk,
        )
        if not new:
            continue
        stored += 1
        if ballot.valid:
            case = message.case
            inbox.add_note(
                COUNTER,
                case,
                _("Counted as a vote for option %(number)s in the poll “%(poll)s”.")
                % {"number": ballot.choices[0], "poll": post.poll.title},
            )
            inbox.close(COUNTER, case)
    return stored


def _proposal(post: PollPost, message: Message) -> int:
    """A comment under a naming contest's post while it takes proposals: the name (and the
    reason) go to staff's review; the case is closed with a note. A comment that is not a
    proposal (too long a name, the person's fourth) stays with staff as it is."""
    from django.core.exceptions import ValidationError

    from sotong.inbox import actions as inbox

    name, reason = actions.split_proposal(message.text or "")
    try:
        made, new = actions.propose(
            post.poll,
            source=source_of(post.channel.kind),
            identity=message.citizen.pseudonym,
            source_ref=message.external_id,
            name=name,
            reason=reason,
            at=message.occurred_at or message.received_at,
        )
    except ValidationError:
        return 0
    if not new:
        return 0
    inbox.add_note(
        COUNTER,
        message.case,
        _("Taken as a proposal “%(name)s” in the contest “%(poll)s”.")
        % {"name": made.name, "poll": post.poll.title},
    )
    inbox.close(COUNTER, message.case)
    return 1
