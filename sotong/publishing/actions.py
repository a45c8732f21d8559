"""Business operations on posts: compose once, adapt per channel, approve, schedule, and
publish each variant exactly once. Views, the CLI and tasks call these.

Exactly once: a publication's idempotency key is stored before the platform is called;
the call's outcome is recorded after it. A worker that dies between the two leaves the
publication claimed; the next dispatch round finds it, asks the platform whether the post
is there (``find_published``) and only then posts again. An outcome Sotong cannot confirm
stays *unconfirmed* — never shown as published or failed — until that check, or a person,
settles it.
"""

from __future__ import annotations

import datetime as dt
import logging
import socket
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from sotong.channels.actions import connector_for
from sotong.channels.models import Channel, ChannelStatus
from sotong.core import audit
from sotong.core.models import Department, Organisation, Staff
from sotong.core.permissions import Performer, actor_of, require
from sotong.core.roles import DEPARTMENT_ROLES
from sotong.core.roles import Capability as Permission
from sotong.platforms.base import (
    Capability,
    CredentialExpired,
    CredentialRevoked,
    OutboundPost,
    OutcomeUnknown,
    PermissionMissing,
    PlatformError,
    RateLimited,
    TransientError,
)
from sotong.publishing import adapt
from sotong.publishing.models import (
    Campaign,
    HoldReason,
    Post,
    PostStatus,
    Publication,
    PublicationState,
    Review,
    ReviewDecision,
    Variant,
)

logger = logging.getLogger(__name__)

# A claim older than this belongs to a worker that died mid-publish.
CLAIM_LEASE = dt.timedelta(minutes=5)
# Transient failures are retried with doubling waits, then the publication fails loudly.
MAX_ATTEMPTS = 8
FIRST_RETRY = dt.timedelta(seconds=30)
LONGEST_RETRY = dt.timedelta(minutes=30)
RECONCILE_AGAIN = dt.timedelta(minutes=1)
DISPATCH_BATCH = 200

OPEN_STATES = (
    PublicationState.SCHEDULED,
    PublicationState.HELD,
    PublicationState.BY_HAND,
)


def _check_department(by: Performer, department: Department) -> None:
    """Department authors write for their own department only."""
    if (
        isinstance(by, Staff)
        and by.role in DEPARTMENT_ROLES
        and department.pk not in by.department_scope_ids()
    ):
        raise PermissionDenied("another department's post")


def content_of(post: Post) -> adapt.PostContent:
    return adapt.PostContent(
        title=post.title, body=post.body, link=post.link, hashtags=tuple(post.hashtags)
    )


def variant_fit(variant: Variant) -> adapt.Fit:
    return adapt.measure(variant.channel.kind, variant.text)


def _template(channel: Channel) -> str | None:
    template = (channel.options or {}).get("post_template")
    return str(template) if template else None


def _publishable_channels(organisation: Organisation, channels: Iterable[Channel]) -> list[Channel]:
    chosen = list(channels)
    for channel in chosen:
        if channel.organisation_id != organisation.pk:
            raise ValidationError(_("The channel belongs to another organisation."))
        if not adapt.can_publish_to(channel.kind):
            raise ValidationError(_("%(channel)s takes no posts.") % {"channel": channel.name})
    return chosen


@transaction.atomic
def compose(
    by: Performer,
    organisation: Organisation,
    *,
    department: Department,
    title: str,
    body: str,
    channels: Sequence[Channel],
    link: str = "",
    hashtags: Sequence[str] = (),
    topics: Sequence[str] = (),
    campaign: Campaign | None = None,
    publish_at: dt.datetime | None = None,
) -> Post:
    """Write a post once, with a variant for each channel adapted to its rules."""
    require(by, Permission.DRAFT_POSTS, organisation)
    _check_department(by, department)
    if department.organisation_id != organisation.pk:
        raise ValidationError({"department": _("The department belongs to another organisation.")})
    if not channels:
        raise ValidationError({"channels": _("Choose at least one channel.")})
    post = Post(
        organisation=organisation,
        department=department,
        author=by if isinstance(by, Staff) else None,
        title=title.strip(),
        body=body.strip(),
        link=link.strip(),
        hashtags=list(hashtags),
        topics=list(topics),
        campaign=campaign,
        publish_at=publish_at,
    )
    post.full_clean()
    post.save()
    for channel in _publishable_channels(organisation, channels):
        Variant.objects.create(
            organisation=organisation,
            post=post,
            channel=channel,
            text=adapt.adapt(channel.kind, content_of(post), _template(channel)),
        )
    audit.record(
        actor_of(by),
        "post.compose",
        post,
        organisation=organisation,
        department=department,
        after={"title": post.title, "channels": [c.pk for c in channels]},
    )
    return post


def _back_to_review(by: Performer, post: Post, why: str) -> None:
    """An approved post that changes is approved again before it goes out."""
    if post.status != PostStatus.APPROVED:
        return
    post.status = PostStatus.IN_REVIEW
    post.save(update_fields=["status", "updated_at"])
    _review(by, post, ReviewDecision.SUBMITTED, why)


@transaction.atomic
def edit_variant(by: Performer, variant: Variant, text: str) -> Variant:
    """The author's own wording for one channel."""
    post = Post.objects.select_for_update().get(pk=variant.post_id)
    require(by, Permission.DRAFT_POSTS, post.organisation_id)
    _check_department(by, post.department)
    _require_editable(post)
    before = {"text": variant.text}
    variant.text = text.strip()
    variant.edited = True
    variant.save(update_fields=["text", "edited"])
    _back_to_review(by, post, _("A variant was edited after approval."))
    audit.record(
        actor_of(by),
        "variant.edit",
        variant,
        organisation=post.organisation,
        department=post.department,
        before=before,
        after={"text": variant.text},
    )
    return variant


def _require_editable(post: Post) -> None:
    if post.status == PostStatus.REJECTED:
        raise ValidationError(_("A rejected post cannot be changed."))
    if post.publications().filter(state=PublicationState.PUBLISHED).exists():
        raise ValidationError(_("The post has already gone out; edit it on the platform."))


def _review(by: Performer, post: Post, decision: str, comment: str = "") -> Review:
    actor = actor_of(by)
    return Review.objects.create(
        organisation=post.organisation,
        post=post,
        by=by if isinstance(by, Staff) else None,
        by_label=by.display_name if isinstance(by, Staff) else actor.label,
        decision=decision,
        comment=comment,
    )


def unfit_variants(post: Post) -> list[tuple[Variant, adapt.Fit]]:
    result = []
    for variant in post.variants.select_related("channel"):
        fit = variant_fit(variant)
        if not fit.fits:
            result.append((variant, fit))
    return result


@transaction.atomic
def submit(by: Performer, post: Post, *, publish_at: dt.datetime | None = None) -> Post:
    """Ask for approval, and put the post in the calendar for ``publish_at``. A variant
    that does not fit its channel cannot be scheduled."""
    require(by, Permission.DRAFT_POSTS, post.organisation_id)
    _check_department(by, post.department)
    if post.status not in (PostStatus.DRAFT, PostStatus.CHANGES_REQUESTED):
        raise ValidationError(_("Only a draft can be submitted."))
    unfit = unfit_variants(post)
    if unfit:
        raise ValidationError(
            _("These variants do not fit their channel: %(channels)s")
            % {"channels": ", ".join(variant.channel.name for variant, _fit in unfit)}
        )
    post.publish_at = publish_at or post.publish_at or timezone.now()
    post.status = PostStatus.IN_REVIEW
    post.save(update_fields=["publish_at", "status", "updated_at"])
    _schedule(post)
    _review(by, post, ReviewDecision.SUBMITTED)
    audit.record(
        actor_of(by),
        "post.submit",
        post,
        organisation=post.organisation,
        department=post.department,
        after={"publish_at": post.publish_at},
    )
    return post


def _schedule(post: Post) -> None:
    """One publication per variant, due at the post's time; by hand where there is no API."""
    due_at = post.publish_at or timezone.now()
    for variant in post.variants.select_related("channel"):
        manual = Capability.MANUAL_PUBLISH in variant.channel.capabilities and not (
            variant.channel.capabilities & {Capability.PUBLISH_TEXT, Capability.PUBLISH_IMAGE}
        )
        state = PublicationState.BY_HAND if manual else PublicationState.SCHEDULED
        publication = Publication.objects.filter(variant=variant).first()
        if publication is None:
            Publication.objects.create(
                organisation=post.organisation,
                variant=variant,
                channel=variant.channel,
                due_at=due_at,
                state=state,
            )
        elif publication.state in (*OPEN_STATES, PublicationState.CANCELLED):
            publication.due_at = due_at
            publication.state = state
            publication.hold_reason = ""
            publication.next_attempt_at = None
            publication.save(
                update_fields=["due_at", "state", "hold_reason", "next_attempt_at", "updated_at"]
            )


@transaction.atomic
def approve(by: Performer, post: Post, *, comment: str = "") -> Post:
    """Approve the post: its variants go out at their time."""
    return _decide(by, post, ReviewDecision.APPROVED, PostStatus.APPROVED, comment)


@transaction.atomic
def request_changes(by: Performer, post: Post, *, comment: str) -> Post:
    if not comment.strip():
        raise ValidationError({"comment": _("Say what should change.")})
    return _decide(
        by, post, ReviewDecision.CHANGES_REQUESTED, PostStatus.CHANGES_REQUESTED, comment
    )


@transaction.atomic
def reject(by: Performer, post: Post, *, comment: str) -> Post:
    if not comment.strip():
        raise ValidationError({"comment": _("Say why the post is rejected.")})
    return _decide(by, post, ReviewDecision.REJECTED, PostStatus.REJECTED, comment)


def _decide(by: Performer, post: Post, decision: str, status: str, comment: str) -> Post:
    require(by, Permission.APPROVE_POSTS, post.organisation_id)
    post = Post.objects.select_for_update().get(pk=post.pk)
    if post.status != PostStatus.IN_REVIEW:
        raise ValidationError(_("Only a post awaiting approval can be decided on."))
    before = {"status": post.status}
    post.status = status
    post.save(update_fields=["status", "updated_at"])
    if status != PostStatus.APPROVED:
        post.publications().filter(state__in=OPEN_STATES).update(
            state=PublicationState.CANCELLED, updated_at=timezone.now()
        )
    _review(by, post, decision, comment.strip())
    audit.record(
        actor_of(by),
        f"post.{decision}",
        post,
        organisation=post.organisation,
        department=post.department,
        before=before,
        after={"status": status, "comment": comment.strip()},
    )
    return post


@transaction.atomic
def reschedule(by: Performer, publication: Publication, due_at: dt.datetime) -> Publication:
    """Move a publication that has not gone out; a held one is released if it may go."""
    require(by, Permission.PUBLISH, publication.organisation_id)
    publication = Publication.objects.select_for_update().get(pk=publication.pk)
    if publication.state not in OPEN_STATES:
        raise ValidationError(_("Only a publication that has not gone out can be moved."))
    before = {"due_at": publication.due_at, "state": publication.state}
    publication.due_at = due_at
    if publication.state == PublicationState.HELD:
        publication.state = PublicationState.SCHEDULED
        publication.hold_reason = ""
    publication.next_attempt_at = None
    publication.save(update_fields=["due_at", "state", "hold_reason", "next_attempt_at"])
    _audit_publication(by, publication, "publication.reschedule", before)
    return publication


def _audit_publication(
    by: Performer,
    publication: Publication,
    action: str,
    before: Mapping[str, object] | None = None,
) -> None:
    post = publication.variant.post
    audit.record(
        actor_of(by),
        action,
        publication,
        organisation=post.organisation,
        department=post.department,
        before=before,
        after={
            "state": publication.state,
            "due_at": publication.due_at,
            "url": publication.url,
            "reason": publication.reason,
        },
    )


# -- dispatch -----------------------------------------------------------------------------

SYSTEM = audit.Actor.system("publishing")


@dataclass
class DispatchResult:
    claimed: int = 0
    published: int = 0
    unconfirmed: int = 0
    retrying: int = 0
    held: int = 0
    failed: int = 0
    reconciled: int = 0


def worker_name() -> str:
    import os

    return f"{socket.gethostname()}:{os.getpid()}"


def dispatch_due(now: dt.datetime | None = None, *, limit: int = DISPATCH_BATCH) -> DispatchResult:
    """One dispatch round: recover publications a dead worker left claimed, reconcile
    unconfirmed ones, release held ones whose channel works again, then claim the due ones
    (each by one worker only) and publish them."""
    now = now or timezone.now()
    result = DispatchResult()
    Publication.objects.filter(
        state=PublicationState.PUBLISHING, claimed_at__lt=now - CLAIM_LEASE
    ).update(
        state=PublicationState.UNCONFIRMED,
        reason="The worker stopped while publishing; checking the platform.",
        next_attempt_at=now,
    )
    Publication.objects.filter(
        state=PublicationState.HELD,
        hold_reason=HoldReason.CHANNEL,
        channel__status=ChannelStatus.ACTIVE,
    ).update(state=PublicationState.SCHEDULED, hold_reason="", next_attempt_at=None)
    for publication in Publication.objects.filter(
        state=PublicationState.UNCONFIRMED, next_attempt_at__lte=now
    ).select_related("variant__post", "channel")[:limit]:
        if reconcile(publication) == PublicationState.PUBLISHED:
            result.reconciled += 1
    for publication_id in claim_due(now, limit=limit):
        state = publish(publication_id)
        result.claimed += 1
        if state == PublicationState.PUBLISHED:
            result.published += 1
        elif state == PublicationState.UNCONFIRMED:
            result.unconfirmed += 1
        elif state == PublicationState.SCHEDULED:
            result.retrying += 1
        elif state == PublicationState.HELD:
            result.held += 1
        elif state == PublicationState.FAILED:
            result.failed += 1
    return result


def claim_due(now: dt.datetime, *, limit: int = DISPATCH_BATCH) -> list[int]:
    """Mark due publications as being published by this worker and return their ids. On
    PostgreSQL ``SKIP LOCKED`` lets several workers claim side by side; SQLite's write lock
    makes the claim exclusive."""
    with transaction.atomic():
        ids = list(
            Publication.objects.select_for_update(skip_locked=True)
            .filter(state=PublicationState.SCHEDULED, due_at__lte=now)
            .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
            .order_by("due_at", "id")
            .values_list("id", flat=True)[:limit]
        )
        Publication.objects.filter(id__in=ids, state=PublicationState.SCHEDULED).update(
            state=PublicationState.PUBLISHING, claimed_at=now, claimed_by=worker_name()
        )
    return ids


def _outbound(publication: Publication) -> OutboundPost:
    variant = publication.variant
    post = variant.post
    return OutboundPost(
        text=variant.text,
        # Only where the platform takes a link apart from the text (a card); elsewhere the
        # variant's text already carries it.
        link=post.link if publication.channel.kind in adapt.LINK_SEPARATE else "",
        idempotency_key=str(publication.idempotency_key),
        title=post.title,
    )


def _settle(publication: Publication, state: str, **fields: object) -> str:
    publication.state = state
    for name, value in fields.items():
        setattr(publication, name, value)
    publication.save()
    return state


def publish(publication_id: int) -> str:
    """Send one claimed publication through its channel's connector and record what
    happened. Returns the publication's new state."""
    publication = Publication.objects.select_related(
        "variant__post__organisation", "variant__post__department", "channel"
    ).get(pk=publication_id)
    if publication.state != PublicationState.PUBLISHING:
        return publication.state
    post = publication.variant.post
    channel = publication.channel
    if post.status != PostStatus.APPROVED:
        state = _settle(
            publication,
            PublicationState.HELD,
            hold_reason=HoldReason.NOT_APPROVED,
            reason=_("Not approved by its publish time; approve it and set a new time."),
        )
        _audit_publication(SYSTEM, publication, "publication.hold")
        return state
    if channel.status != ChannelStatus.ACTIVE:
        state = _settle(
            publication,
            PublicationState.HELD,
            hold_reason=HoldReason.CHANNEL,
            reason=_("The channel is %(status)s.") % {"status": channel.get_status_display()},
        )
        _audit_publication(SYSTEM, publication, "publication.hold")
        return state
    publication.attempts += 1
    publication.save(update_fields=["attempts"])
    connector = connector_for(channel)
    now = timezone.now()
    try:
        published = connector.publish(_outbound(publication))
    except OutcomeUnknown as unknown:
        state = _settle(
            publication,
            PublicationState.UNCONFIRMED,
            reason=str(unknown)[:500],
            next_attempt_at=now + RECONCILE_AGAIN,
        )
    except RateLimited as limited:
        state = _settle(
            publication,
            PublicationState.SCHEDULED,
            reason=str(limited)[:500],
            next_attempt_at=now + dt.timedelta(seconds=limited.retry_after),
            attempts=publication.attempts - 1,  # waiting its turn is not a failed attempt
        )
    except (CredentialExpired, CredentialRevoked, PermissionMissing) as dead:
        from sotong.channels.actions import _set_status

        if not isinstance(dead, PermissionMissing):
            _set_status(channel, ChannelStatus.NEEDS_RECONNECT, str(dead), None)
        state = _settle(
            publication,
            PublicationState.HELD,
            hold_reason=HoldReason.CHANNEL,
            reason=str(dead)[:500],
        )
        _audit_publication(SYSTEM, publication, "publication.hold")
    except TransientError as failure:
        if publication.attempts >= MAX_ATTEMPTS:
            state = _settle(
                publication,
                PublicationState.FAILED,
                reason=_("Gave up after %(count)d attempts: %(reason)s")
                % {"count": publication.attempts, "reason": failure},
            )
            _audit_publication(SYSTEM, publication, "publication.fail")
        else:
            wait = min(FIRST_RETRY * 2 ** (publication.attempts - 1), LONGEST_RETRY)
            state = _settle(
                publication,
                PublicationState.SCHEDULED,
                reason=str(failure)[:500],
                next_attempt_at=now + wait,
            )
    except PlatformError as refused:
        # Rejected content, a duplicate, a missing page: trying again would not help.
        state = _settle(publication, PublicationState.FAILED, reason=str(refused)[:500])
        _audit_publication(SYSTEM, publication, "publication.fail")
    else:
        state = _settle(
            publication,
            PublicationState.PUBLISHED,
            external_id=published.external_id,
            url=published.url,
            published_at=timezone.now(),
            reason="",
        )
        _audit_publication(SYSTEM, publication, "publication.publish")
    finally:
        connector.close()
    return state


def reconcile(publication: Publication) -> str:
    """Settle an unconfirmed publication by asking the platform whether the post is there.
    Found: published. Not there, on a platform that lists our posts: safe to post again.
    A platform that cannot tell (Telegram) leaves it to a person."""
    channel = publication.channel
    connector = connector_for(channel)
    try:
        found = connector.find_published(_outbound(publication))
    except PlatformError as error:
        publication.next_attempt_at = timezone.now() + RECONCILE_AGAIN
        publication.reason = str(error)[:500]
        publication.save(update_fields=["next_attempt_at", "reason"])
        return publication.state
    finally:
        connector.close()
    if found is not None:
        state = _settle(
            publication,
            PublicationState.PUBLISHED,
            external_id=found.external_id,
            url=found.url,
            published_at=found.created_at or timezone.now(),
            reason="",
            next_attempt_at=None,
        )
        _audit_publication(SYSTEM, publication, "publication.reconcile")
        return state
    if Capability.LIST_POSTS in channel.capabilities:
        return _settle(
            publication,
            PublicationState.SCHEDULED,
            reason=_("Not found on the platform after an unconfirmed attempt; posting again."),
            next_attempt_at=None,
        )
    return _settle(
        publication,
        PublicationState.UNCONFIRMED,
        reason=_(
            "The platform cannot show whether the post went out: check the channel, then "
            "confirm it or publish again."
        ),
        next_attempt_at=None,
    )


@transaction.atomic
def retry(by: Performer, publication: Publication) -> Publication:
    """A person has checked: the unconfirmed or failed publication goes out again now."""
    require(by, Permission.PUBLISH, publication.organisation_id)
    publication = Publication.objects.select_for_update().get(pk=publication.pk)
    if publication.state not in (PublicationState.UNCONFIRMED, PublicationState.FAILED):
        raise ValidationError(_("Only an unconfirmed or failed publication can be retried."))
    before = {"state": publication.state}
    publication.state = PublicationState.SCHEDULED
    publication.next_attempt_at = None
    publication.due_at = min(publication.due_at, timezone.now())
    publication.save(update_fields=["state", "next_attempt_at", "due_at"])
    _audit_publication(by, publication, "publication.retry", before)
    return publication


@transaction.atomic
def confirm(by: Performer, publication: Publication, *, url: str) -> Publication:
    """A person confirms the post is on the platform at ``url``: an unconfirmed one, or a
    by-hand one they have just posted."""
    require(by, Permission.PUBLISH, publication.organisation_id)
    publication = Publication.objects.select_for_update().get(pk=publication.pk)
    if publication.state not in (PublicationState.UNCONFIRMED, PublicationState.BY_HAND):
        raise ValidationError(_("Only an unconfirmed or by-hand publication can be confirmed."))
    if publication.variant.post.status != PostStatus.APPROVED:
        raise ValidationError(_("The post is not approved."))
    if not url.startswith(("https://", "http://")):
        raise ValidationError({"url": _("Enter the post's address on the platform.")})
    before = {"state": publication.state}
    publication.by_hand = publication.state == PublicationState.BY_HAND
    publication.state = PublicationState.PUBLISHED
    publication.url = url
    publication.published_at = timezone.now()
    publication.reason = ""
    publication.save()
    _audit_publication(by, publication, "publication.confirm", before)
    return publication
