"""Changes after publishing: an approved edit, or a withdrawal, carried to the posts that are
already out.

Each change to a published publication is a ``PublicationChange``. Where the platform lets
its API edit or delete a post, a worker claims the change (one worker per change, like
dispatch) and makes it; where it does not (X and Band cannot edit, Instagram, Naver Blog and
KakaoTalk have no API for either), it is a by-hand task a person confirms.

Exactly once is simple here: setting a post's text twice leaves the same post, and deleting a
post that is already gone leaves it gone. So a change whose outcome is unknown (no answer, a
worker that died mid-call) is simply made again; nothing can be duplicated.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from sotong.channels.models import Channel, ChannelStatus
from sotong.core import audit
from sotong.core.models import Staff
from sotong.core.permissions import Performer, actor_of, require
from sotong.core.roles import Capability as Permission
from sotong.notifications import actions as notifications
from sotong.platforms.base import (
    Capability,
    NextStep,
    NotFound,
    OutboundPost,
    PlatformError,
    backoff,
    next_step,
)
from sotong.publishing import adapt
from sotong.publishing.actions import MAX_IMAGES_PER_POST, image_url, images_for
from sotong.publishing.models import (
    ChangeKind,
    ChangeState,
    Post,
    PostStatus,
    Publication,
    PublicationChange,
    PublicationState,
)

logger = logging.getLogger(__name__)

SYSTEM = audit.Actor.system("publishing")
# A claim older than this belongs to a worker that died mid-call: made again (safely).
CLAIM_LEASE = dt.timedelta(minutes=5)
MAX_ATTEMPTS = 8
FIRST_RETRY = dt.timedelta(seconds=30)
LONGEST_RETRY = dt.timedelta(minutes=30)
# An unanswered change is made again after this (edits and deletes repeat safely).
CHECK_AGAIN = dt.timedelta(minutes=1)
BATCH = 100

# A change not yet made: a newer one for the same publication replaces it.
UNSETTLED = (
    ChangeState.PENDING,
    ChangeState.BY_HAND,
    ChangeState.FAILED,
    ChangeState.UNCONFIRMED,
    ChangeState.HELD,
)


@dataclass
class PropagationResult:
    claimed: int = 0
    done: int = 0
    retrying: int = 0
    unconfirmed: int = 0
    held: int = 0
    failed: int = 0
    planned: int = 0


def platform_can(channel: Channel, kind: str) -> bool:
    needed = Capability.EDIT_POST if kind == ChangeKind.EDIT else Capability.DELETE_POST
    return needed in channel.capabilities


def _plan(by: Performer, publication: Publication, kind: str, text: str) -> PublicationChange:
    """A change of ``publication``; unsettled edits it replaces are marked so."""
    superseded = PublicationChange.objects.filter(publication=publication, state__in=UNSETTLED)
    if kind == ChangeKind.EDIT:
        superseded = superseded.filter(kind=ChangeKind.EDIT)
    superseded.update(state=ChangeState.SUPERSEDED, updated_at=timezone.now())
    automatic = bool(publication.external_id) and platform_can(publication.channel, kind)
    change = PublicationChange.objects.create(
        organisation_id=publication.organisation_id,
        publication=publication,
        kind=kind,
        text=text,
        state=ChangeState.PENDING if automatic else ChangeState.BY_HAND,
        requested_by=by if isinstance(by, Staff) else None,
        requested_label=by.display_name if isinstance(by, Staff) else actor_of(by).label,
    )
    _audit(by, change, f"publication_change.{kind}")
    return change


def plan_edits(by: Performer, post: Post) -> list[PublicationChange]:
    """After approval: one edit for each publication that is out with a text other than
    its variant's. Publications that are not out are never edited (they go out with the
    new text)."""
    changes = []
    for publication in (
        post.publications()
        .filter(state=PublicationState.PUBLISHED)
        .select_related("variant", "channel")
    ):
        on_platform = publication.platform_text or publication.variant.text
        if on_platform == publication.variant.text:
            continue
        wanted = publication.variant.text
        already = PublicationChange.objects.filter(
            publication=publication,
            kind=ChangeKind.EDIT,
            text=wanted,
            state__in=(*UNSETTLED, ChangeState.APPLYING),
        ).exists()
        if not already:
            changes.append(_plan(by, publication, ChangeKind.EDIT, wanted))
    notifications.notify_changes_by_hand(by, changes)
    return changes


def plan_deletes(by: Performer, post: Post) -> list[PublicationChange]:
    """On withdrawal: a deletion for each publication that is out (replacing its unmade
    edits)."""
    changes = []
    for publication in (
        post.publications().filter(state=PublicationState.PUBLISHED).select_related("channel")
    ):
        if not PublicationChange.objects.filter(
            publication=publication,
            kind=ChangeKind.DELETE,
            state__in=(*UNSETTLED, ChangeState.APPLYING, ChangeState.DONE),
        ).exists():
            changes.append(_plan(by, publication, ChangeKind.DELETE, ""))
    notifications.notify_changes_by_hand(by, changes)
    return changes


def _audit(by: Performer, change: PublicationChange, action: str) -> None:
    post = change.publication.variant.post
    audit.record(
        actor_of(by),
        action,
        change.publication,
        organisation=post.organisation,
        department=post.department,
        after={
            "change": change.pk,
            "kind": change.kind,
            "state": change.state,
            "text": change.text,
            "reason": change.reason,
        },
    )


# -- the worker -------------------------------------------------------------------------------


def propagate_due(now: dt.datetime | None = None, *, limit: int = BATCH) -> PropagationResult:
    """One round: finish withdrawals a publication raced with, bring back changes a dead
    worker or a lost answer left, release held ones whose channel works again, then claim
    the due changes and make them."""
    from sotong.publishing.dispatch import worker_name

    now = now or timezone.now()
    result = PropagationResult()
    result.planned = _sweep_withdrawn()
    PublicationChange.objects.filter(
        state=ChangeState.APPLYING, claimed_at__lt=now - CLAIM_LEASE
    ).update(state=ChangeState.PENDING, next_attempt_at=None)
    PublicationChange.objects.filter(
        state=ChangeState.UNCONFIRMED, next_attempt_at__isnull=False, next_attempt_at__lte=now
    ).update(state=ChangeState.PENDING)
    PublicationChange.objects.filter(
        state=ChangeState.HELD, publication__channel__status=ChannelStatus.ACTIVE
    ).update(state=ChangeState.PENDING, next_attempt_at=None)
    for change_id in claim_due(now, worker_name(), limit=limit):
        result.claimed += 1
        state = apply(change_id)
        if state == ChangeState.DONE:
            result.done += 1
        elif state == ChangeState.PENDING:
            result.retrying += 1
        elif state == ChangeState.UNCONFIRMED:
            result.unconfirmed += 1
        elif state == ChangeState.HELD:
            result.held += 1
        elif state == ChangeState.FAILED:
            result.failed += 1
    return result


def _sweep_withdrawn() -> int:
    """A publication that was going out while its post was withdrawn: cancelled if it did
    not go out, deleted if it did."""
    withdrawn = Q(variant__post__status=PostStatus.WITHDRAWN)
    Publication.objects.filter(
        withdrawn, state__in=(PublicationState.SCHEDULED, PublicationState.HELD)
    ).update(state=PublicationState.CANCELLED, withdrawn_at=timezone.now())
    planned = 0
    posts = Post.objects.filter(
        status=PostStatus.WITHDRAWN,
        variants__publication__state=PublicationState.PUBLISHED,
    ).distinct()
    for post in posts:
        with transaction.atomic():
            Post.objects.select_for_update(of=("self",)).get(pk=post.pk)
            planned += len(plan_deletes(SYSTEM, post))
    return planned


def claim_due(now: dt.datetime, claimer: str, *, limit: int = BATCH) -> list[int]:
    """Mark due changes as being made by ``claimer``: at most one per publication, and none
    for a publication whose earlier change is still being made, so changes reach a platform
    in order. ``SKIP LOCKED`` on PostgreSQL; SQLite's write lock makes it exclusive."""
    with transaction.atomic():
        busy = PublicationChange.objects.filter(state=ChangeState.APPLYING).values("publication_id")
        candidates = list(
            PublicationChange.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(state=ChangeState.PENDING)
            .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
            .exclude(publication_id__in=busy)
            .order_by("created_at", "id")
            .values_list("id", "publication_id")[: limit * 2]
        )
        ids: list[int] = []
        seen: set[int] = set()
        for change_id, publication_id in candidates:
            if publication_id in seen or len(ids) >= limit:
                continue
            seen.add(publication_id)
            ids.append(change_id)
        PublicationChange.objects.filter(id__in=ids, state=ChangeState.PENDING).update(
            state=ChangeState.APPLYING, claimed_at=now, claimed_by=claimer
        )
    return ids


def _outbound(publication: Publication, text: str) -> OutboundPost:
    post = publication.variant.post
    return OutboundPost(
        text=text,
        link=post.link if publication.channel.kind in adapt.LINK_SEPARATE else "",
        idempotency_key=str(publication.idempotency_key),
        title=post.title,
        # Sent again so an edit keeps the post's images (Mastodon replaces its media).
        image_urls=tuple(
            image_url(image)
            for image in post.images.all()[
                : images_for(publication.channel.kind, MAX_IMAGES_PER_POST)
            ]
        ),
    )


def apply(change_id: int) -> str:
    """Make one claimed change on its platform and record the outcome; the new state."""
    from sotong.channels.actions import connector_for

    change = PublicationChange.objects.select_related(
        "publication__channel", "publication__variant__post"
    ).get(pk=change_id)
    if change.state != ChangeState.APPLYING:
        return change.state
    publication = change.publication
    if publication.state != PublicationState.PUBLISHED:
        # Never edit (or delete) what is not out.
        with transaction.atomic():
            if change.kind == ChangeKind.DELETE and publication.state == PublicationState.WITHDRAWN:
                return _settle(change, ChangeState.DONE, done_at=timezone.now())
            return _settle(
                change,
                ChangeState.SUPERSEDED,
                reason=_("The publication is not out (%(state)s).")
                % {"state": publication.get_state_display()},
            )
    change.attempts += 1
    change.save(update_fields=["attempts", "updated_at"])
    now = timezone.now()
    error: PlatformError | None = None
    new_url = ""
    connector = connector_for(publication.channel)
    try:
        if change.kind == ChangeKind.EDIT:
            new_url = connector.edit_post(
                publication.external_id, _outbound(publication, change.text)
            ).url
        else:
            connector.delete_post(publication.external_id)
    except NotFound as gone:
        # Deleting what is already gone is done; editing it cannot be.
        error = None if change.kind == ChangeKind.DELETE else gone
    except PlatformError as failure:
        error = failure
    finally:
        connector.close()
    with transaction.atomic():
        return _record(change, error, now, new_url)


def _settle(change: PublicationChange, state: str, **fields: object) -> str:
    change.state = state
    for name, value in fields.items():
        setattr(change, name, value)
    change.save()
    return state


def _record(
    change: PublicationChange, error: PlatformError | None, now: dt.datetime, new_url: str
) -> str:
    channel = change.publication.channel
    if error is None:
        _done(SYSTEM, change, url=new_url)
        return ChangeState.DONE
    step = next_step(error, change.attempts, MAX_ATTEMPTS)
    if step is NextStep.CHECK:
        state = _settle(
            change,
            ChangeState.UNCONFIRMED,
            reason=str(error)[:500],
            next_attempt_at=now + CHECK_AGAIN,
        )
        notifications.notify_change_unconfirmed(change)
        return state
    if step is NextStep.WAIT:
        return _settle(
            change,
            ChangeState.PENDING,
            reason=str(error)[:500],
            next_attempt_at=now + dt.timedelta(seconds=getattr(error, "retry_after", 0.0)),
            attempts=change.attempts - 1,  # waiting its turn is not a failed attempt
        )
    if step in (NextStep.RECONNECT, NextStep.PERMISSION):
        from sotong.channels.actions import needs_reconnect

        if step is NextStep.RECONNECT:
            needs_reconnect(channel, str(error))
        state = _settle(
            change,
            ChangeState.HELD,
            reason=(
                _("The channel needs reconnecting: %(reason)s") % {"reason": error}
                if step is NextStep.RECONNECT
                else _("The channel lacks a permission: %(reason)s") % {"reason": error}
            )[:500],
        )
        # The owners are to be told (notifications read this audit entry's action).
        _audit(SYSTEM, change, "publication_change.hold")
        notifications.notify_change_held(change, str(error))
        return state
    if step is NextStep.RETRY:
        return _settle(
            change,
            ChangeState.PENDING,
            reason=str(error)[:500],
            next_attempt_at=now + backoff(change.attempts, FIRST_RETRY, LONGEST_RETRY),
        )
    if step is NextStep.GIVE_UP:
        reason = _("Gave up after %(count)d attempts: %(reason)s") % {
            "count": change.attempts,
            "reason": error,
        }
    else:
        reason = str(error)  # the platform's own words: rejected content, a missing post
    state = _settle(change, ChangeState.FAILED, reason=reason[:500], next_attempt_at=None)
    _audit(SYSTEM, change, "publication_change.fail")
    notifications.notify_change_failed(change)
    return state


def _done(
    by: Performer, change: PublicationChange, *, url: str = "", by_hand: bool = False
) -> None:
    """The change is on the platform: the publication says what is there now."""
    now = timezone.now()
    publication = Publication.objects.select_for_update(of=("self",)).get(pk=change.publication_id)
    _settle(
        change,
        ChangeState.DONE,
        done_at=now,
        done_by_hand=by_hand,
        reason="",
        next_attempt_at=None,
    )
    notifications.resolve_change_notices(change)
    if change.kind == ChangeKind.EDIT:
        publication.platform_text = change.text
        if url:
            publication.url = url
        publication.save(update_fields=["platform_text", "url", "updated_at"])
        _audit(by, change, "publication.edit")
    else:
        post = publication.variant.post
        publication.state = PublicationState.WITHDRAWN
        publication.withdrawn_at = now
        publication.reason = (_("Withdrawn: %(reason)s") % {"reason": post.withdraw_reason})[:500]
        publication.save(update_fields=["state", "withdrawn_at", "reason", "updated_at"])
        _audit(by, change, "publication.withdraw")


# -- people ------------------------------------------------------------------------------------


@transaction.atomic
def retry_change(by: Performer, change: PublicationChange) -> PublicationChange:
    """A person has checked: make the failed, held or unconfirmed change again now."""
    require(by, Permission.PUBLISH, change.organisation_id)
    change = PublicationChange.objects.select_for_update(of=("self",)).get(pk=change.pk)
    if change.state not in (ChangeState.FAILED, ChangeState.UNCONFIRMED, ChangeState.HELD):
        raise ValidationError(_("Only a failed, held or unconfirmed change can be tried again."))
    if not platform_can(change.publication.channel, change.kind):
        raise ValidationError(_("This platform cannot make the change; do it by hand."))
    _settle(change, ChangeState.PENDING, next_attempt_at=None, attempts=0)
    _audit(by, change, "publication_change.retry")
    return change


@transaction.atomic
def confirm_change(by: Performer, change: PublicationChange) -> PublicationChange:
    """A person confirms the change is made on the platform: a by-hand task they have just
    done, or an unconfirmed, held or failed one they checked."""
    require(by, Permission.PUBLISH, change.organisation_id)
    change = PublicationChange.objects.select_for_update(of=("self",)).get(pk=change.pk)
    if change.state not in UNSETTLED or change.state == ChangeState.PENDING:
        raise ValidationError(_("This change is not waiting for a person."))
    _done(by, change, by_hand=True)
    return change
