"""Telling people: who owns a post, a channel or a series, and the notices the publishing
and channel code leaves for them when something needs a person.

Each ``notify_*`` function is called inside the transaction of the state change it is
about, and is plain inserts: it cannot make that change fail over a mail server. Email
is sent by a task after the commit (``send_email``); a notice stands whether or not its
email goes out.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from functools import partial
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F, Q
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation

from sotong.core.models import Organisation, Staff
from sotong.core.permissions import Performer
from sotong.core.roles import DEPARTMENT_ROLES, Capability, Role, role_allows
from sotong.notifications.models import Notification, NotificationKind

if TYPE_CHECKING:
    from sotong.channels.models import Channel
    from sotong.inbox.models import Case, Referral, Reply
    from sotong.publishing.models import (
        FeedVersion,
        Post,
        Publication,
        PublicationChange,
        Series,
        SeriesOccurrence,
    )

logger = logging.getLogger(__name__)

# The same condition notifies the same person again only after they read the last notice
# and this long has passed (the daily checks would otherwise repeat themselves).
DEDUPE_WINDOW = dt.timedelta(days=1)
# An email is tried this many times (first send and the sweeps after it), then left.
MAX_EMAIL_ATTEMPTS = 5
# A sender that took an email this long ago and did not finish has died: try again.
EMAIL_CLAIM = dt.timedelta(minutes=10)
# The sweep does not mail notices older than this: by then they are news to nobody.
EMAIL_WITHIN = dt.timedelta(days=2)


# -- creating notices ---------------------------------------------------------------------


def notify(
    recipients: Iterable[Staff],
    kind: str,
    *,
    organisation: Organisation | int,
    link: str = "",
    params: dict[str, object] | None = None,
    dedupe_key: str = "",
) -> list[Notification]:
    """Leave a notice for each active recipient of the organisation, except those the same
    ``dedupe_key`` already told (unread, or within a day); email it after the commit."""
    organisation_id = organisation if isinstance(organisation, int) else organisation.pk
    people = {
        staff.pk: staff
        for staff in recipients
        if staff.organisation_id == organisation_id and staff.user.is_active
    }
    if not people:
        return []
    if dedupe_key:
        told = set(
            Notification.objects.filter(recipient_id__in=people, dedupe_key=dedupe_key)
            .filter(Q(read_at__isnull=True) | Q(created_at__gte=timezone.now() - DEDUPE_WINDOW))
            .values_list("recipient_id", flat=True)
        )
        people = {pk: staff for pk, staff in people.items() if pk not in told}
    created = []
    for staff in people.values():
        notification = Notification.objects.create(
            organisation_id=organisation_id,
            recipient=staff,
            kind=kind,
            params=params or {},
            link=link[:300],
            dedupe_key=dedupe_key[:200],
        )
        created.append(notification)
        if email_enabled() and staff.user.email:
            transaction.on_commit(partial(_enqueue_email, notification.pk))
    return created


def email_enabled() -> bool:
    return bool(getattr(settings, "SOTONG_EMAIL_NOTIFICATIONS", False))


def _enqueue_email(notification_id: int) -> None:
    from sotong.notifications.tasks import send_notification_email

    try:
        send_notification_email.enqueue(notification_id)
    except Exception:
        # After the commit nothing can be undone: the sweep sends it later instead.
        logger.warning("notification %s: email not queued", notification_id, exc_info=True)


# -- owners -------------------------------------------------------------------------------


def _roles(*capabilities: Capability) -> list[str]:
    return [role for role in Role.values if any(role_allows(role, c) for c in capabilities)]


def _active(organisation_id: int) -> Iterable[Staff]:
    return Staff.objects.filter(organisation_id=organisation_id, user__is_active=True)


def _sees_department(staff: Staff, department_id: int) -> bool:
    return not staff.is_department_scoped or department_id in staff.department_scope_ids()


def _unique(*groups: Iterable[Staff | None]) -> list[Staff]:
    seen: dict[int, Staff] = {}
    for group in groups:
        for staff in group:
            if staff is not None and staff.pk not in seen:
                seen[staff.pk] = staff
    return list(seen.values())


def publishers(organisation_id: int, department_id: int) -> list[Staff]:
    """Active staff who approve or publish posts of the department."""
    candidates = (
        Staff.objects.filter(
            organisation_id=organisation_id,
            user__is_active=True,
            role__in=_roles(Capability.APPROVE_POSTS, Capability.PUBLISH),
        )
        .select_related("user")
        .order_by("pk")
    )
    return [staff for staff in candidates if _sees_department(staff, department_id)]


def post_owners(post: Post) -> list[Staff]:
    """The post's author, and whoever approves or publishes its department's posts (the
    PR office and the administrators)."""
    author = post.author if post.author_id else None
    return _unique([author], publishers(post.organisation_id, post.department_id))


def channel_owners(channel: Channel) -> list[Staff]:
    """The channel's department's staff (the PR office's, for the city's own channels) and
    the administrators, who connect channels."""
    admins = Staff.objects.filter(
        organisation_id=channel.organisation_id,
        user__is_active=True,
        role__in=_roles(Capability.MANAGE_ORGANISATION),
    )
    if channel.department_id is not None:
        keepers = Staff.objects.filter(
            organisation_id=channel.organisation_id,
            user__is_active=True,
            department_id=channel.department_id,
        ).exclude(role=Role.VIEWER)
    else:
        keepers = Staff.objects.filter(
            organisation_id=channel.organisation_id,
            user__is_active=True,
            role__in=_roles(Capability.PUBLISH),
        )
    return _unique(admins.select_related("user"), keepers.select_related("user"))


def series_owners(series: Series) -> list[Staff]:
    """Who made the series, its department's authors and the administrators."""
    staff = Staff.objects.filter(
        organisation_id=series.organisation_id, user__is_active=True
    ).select_related("user")
    authors = [
        person
        for person in staff.filter(
            department_id=series.department_id, role__in=_roles(Capability.DRAFT_POSTS)
        )
    ]
    admins = staff.filter(role__in=_roles(Capability.MANAGE_ORGANISATION))
    maker = series.created_by if series.created_by_id else None
    return _unique([maker], authors, admins)


# -- what the hooks call ------------------------------------------------------------------


def _local(organisation: Organisation, moment: dt.datetime | None) -> str:
    if moment is None:
        return ""
    return timezone.localtime(moment, ZoneInfo(organisation.time_zone)).strftime("%Y-%m-%d %H:%M")


def _link(name: str, pk: int) -> str:
    try:
        return reverse(name, args=[pk])
    except NoReverseMatch:  # a deployment without that page: the notice still stands
        return ""


def _post_link(post: Post) -> str:
    return _link("publishing:post", post.pk)


def _channel_link(channel: Channel) -> str:
    return _link("channels:detail", channel.pk)


def _series_link(series: Series) -> str:
    return _link("series:detail", series.pk)


def _by_label(by: Performer | None, post: Post) -> str:
    if isinstance(by, Staff):
        return by.display_name
    if post.author_id and post.author is not None:
        return post.author.display_name
    return "Sotong"


def _not(by: Performer | None, people: list[Staff]) -> list[Staff]:
    """Nobody is told of what they did themselves."""
    if not isinstance(by, Staff):
        return people
    return [staff for staff in people if staff.pk != by.pk]


def notify_post_held(publication: Publication) -> None:
    """The post was not approved by its publish time: its owners approve and reschedule."""
    post = publication.variant.post
    notify(
        post_owners(post),
        NotificationKind.POST_HELD,
        organisation=post.organisation_id,
        link=_post_link(post),
        params={"post": post.title, "due": _local(post.organisation, publication.due_at)},
        # One notice per post, however many channels it was held on.
        dedupe_key=f"post_held:{post.pk}",
    )


def notify_channel_held(
    channel: Channel,
    reason: str,
    publication: Publication | None = None,
    *,
    also: Iterable[Staff | None] = (),
) -> None:
    """The channel's credential is dead and its queue waits: its owners reconnect it; the
    author of a post held by it hears of it too (and ``also``: who asked for a change the
    channel holds). A channel a person paused is no news."""
    from sotong.channels.models import ChannelStatus

    if channel.status == ChannelStatus.PAUSED:
        return
    people = channel_owners(channel)
    if publication is not None:
        post = publication.variant.post
        people = _unique(people, [post.author if post.author_id else None])
    people = _unique(people, also)
    notify(
        people,
        NotificationKind.CHANNEL_HELD,
        organisation=channel.organisation_id,
        link=_channel_link(channel),
        params={"channel": channel.name, "reason": reason[:300]},
        dedupe_key=f"channel_held:{channel.pk}",
    )


def notify_publication_failed(publication: Publication) -> None:
    """The platform refused the post: its author hears why (the publishers when the post
    has no author who can be told)."""
    post = publication.variant.post
    author = post.author if post.author_id else None
    people = [author] if author is not None and author.user.is_active else []
    notify(
        people or publishers(post.organisation_id, post.department_id),
        NotificationKind.PUBLICATION_FAILED,
        organisation=post.organisation_id,
        link=_post_link(post),
        params={
            "post": post.title,
            "channel": publication.channel.name,
            "reason": publication.reason,
        },
        dedupe_key=f"publication_failed:{publication.pk}",
    )


def notify_publication_unconfirmed(publication: Publication) -> None:
    """Sotong cannot settle whether the post went out: a person checks the channel."""
    post = publication.variant.post
    notify(
        post_owners(post),
        NotificationKind.PUBLICATION_UNCONFIRMED,
        organisation=post.organisation_id,
        link=_post_link(post),
        params={"post": post.title, "channel": publication.channel.name},
        dedupe_key=f"publication_unconfirmed:{publication.pk}",
    )


def notify_credential_expiring(channel: Channel) -> None:
    """A week ahead: the owners reconnect before a post fails."""
    expires = channel.credential_expires_at
    notify(
        channel_owners(channel),
        NotificationKind.CREDENTIAL_EXPIRING,
        organisation=channel.organisation_id,
        link=_channel_link(channel),
        params={"channel": channel.name, "date": _local(channel.organisation, expires)[:10]},
        dedupe_key=f"credential_expiring:{channel.pk}:{expires.isoformat() if expires else ''}",
    )


def notify_missing_permissions(channel: Channel) -> None:
    """The daily check found scopes the channel needs but was not granted."""
    scopes = sorted(str(scope) for scope in channel.missing_scopes or [])
    if not scopes:
        return
    notify(
        channel_owners(channel),
        NotificationKind.CHANNEL_PERMISSIONS,
        organisation=channel.organisation_id,
        link=_channel_link(channel),
        params={"channel": channel.name, "scopes": ", ".join(scopes)},
        dedupe_key=f"channel_permissions:{channel.pk}:{','.join(scopes)}",
    )


def notify_queue_low(series: Series, occurrence: SeriesOccurrence) -> None:
    """The queue will have nothing for this occurrence: the owners add an item."""
    notify(
        series_owners(series),
        NotificationKind.SERIES_QUEUE_LOW,
        organisation=series.organisation_id,
        link=_series_link(series),
        params={"series": series.name, "at": _local(series.organisation, occurrence.at)},
        dedupe_key=f"series_queue_low:{occurrence.pk}",
    )


def notify_occurrence_skipped(series: Series, occurrence: SeriesOccurrence) -> None:
    """An occurrence came with nothing to publish and was skipped. Holidays and days a feed
    has no rows for are the plan, not news: only an empty queue is told."""
    from sotong.publishing.models import SeriesKind

    if series.kind != SeriesKind.QUEUE:
        return
    notify(
        series_owners(series),
        NotificationKind.SERIES_SKIPPED,
        organisation=series.organisation_id,
        link=_series_link(series),
        params={
            "series": series.name,
            "at": _local(series.organisation, occurrence.at),
            "reason": occurrence.reason,
        },
        dedupe_key=f"series_skipped:{occurrence.pk}",
    )


def notify_feed_failed(series: Series, version: FeedVersion) -> None:
    """The feed could not be fetched or read: the series publishes nothing until fixed."""
    if not version.error:
        return
    notify(
        # Who uploaded a broken file saw the error on the page already.
        _not(version.by if version.by_id else None, series_owners(series)),
        NotificationKind.FEED_FAILED,
        organisation=series.organisation_id,
        link=_series_link(series),
        params={"series": series.name, "error": version.error[:300]},
        # A feed polled every few minutes fails again and again: one notice a day.
        dedupe_key=f"feed_failed:{series.pk}",
    )


# -- changes after publishing (propagation) --------------------------------------------------

# The first "no answer" is made again a minute later and usually settles then: a person
# is told only when the change was made again and still no answer came.
TELL_UNCONFIRMED_FROM_ATTEMPT = 2


def _change_people(change: PublicationChange) -> list[Staff]:
    """The post's owners and whoever asked for the change (an approver, a withdrawer)."""
    post = change.publication.variant.post
    return _unique(post_owners(post), [change.requested_by if change.requested_by_id else None])


def notify_change_held(change: PublicationChange, reason: str) -> None:
    """The channel cannot take the change (a dead credential, a missing permission): its
    owners reconnect it, and the post's author and who asked for the change hear of it.
    One notice per channel, as for held publications."""
    notify_channel_held(
        change.publication.channel,
        reason,
        change.publication,
        also=[change.requested_by if change.requested_by_id else None],
    )


def notify_change_failed(change: PublicationChange) -> None:
    """The platform refused the edit or deletion, or it failed too often: a person tries
    it again or makes it by hand."""
    post = change.publication.variant.post
    notify(
        _change_people(change),
        NotificationKind.CHANGE_FAILED,
        organisation=post.organisation_id,
        link=_post_link(post),
        params={
            "post": post.title,
            "channel": change.publication.channel.name,
            "reason": change.reason[:300],
        },
        dedupe_key=f"change_failed:{change.pk}",
    )


def notify_change_unconfirmed(change: PublicationChange) -> None:
    """No answer came for the change, again: a person checks the channel. Once per change
    (it is made again every few minutes until it is answered)."""
    if change.attempts < TELL_UNCONFIRMED_FROM_ATTEMPT:
        return
    post = change.publication.variant.post
    notify(
        _change_people(change),
        NotificationKind.CHANGE_UNCONFIRMED,
        organisation=post.organisation_id,
        link=_post_link(post),
        params={"post": post.title, "channel": change.publication.channel.name},
        dedupe_key=f"change_unconfirmed:{change.pk}",
    )


def notify_changes_by_hand(by: Performer | None, changes: Iterable[PublicationChange]) -> None:
    """Edits or deletions the platforms cannot make: a person makes them and confirms. One
    notice per post (and kind of change) for the batch, naming every channel; who made
    the batch (the approver, the withdrawer) sees the tasks on the page already."""
    from sotong.publishing.models import ChangeKind, ChangeState

    batches: dict[tuple[int, str], list[PublicationChange]] = {}
    for change in changes:
        if change.state == ChangeState.BY_HAND:
            batches.setdefault((change.publication.variant.post_id, change.kind), []).append(change)
    for (post_id, kind), batch in batches.items():
        post = batch[0].publication.variant.post
        requesters = [c.requested_by for c in batch if c.requested_by_id]
        notify(
            _not(by, _unique(post_owners(post), requesters)),
            NotificationKind.EDIT_BY_HAND
            if kind == ChangeKind.EDIT
            else NotificationKind.DELETE_BY_HAND,
            organisation=post.organisation_id,
            link=_post_link(post),
            params={
                "post": post.title,
                "channels": ", ".join(sorted(c.publication.channel.name for c in batch)),
            },
            dedupe_key=f"{kind}_by_hand:{post_id}:{min(c.pk for c in batch)}",
        )


def resolve_change_notices(change: PublicationChange) -> None:
    """The change is made: its notices (failed, unconfirmed) are read, and the post's
    by-hand notice too once no by-hand task of that kind is left. Nobody acts on them."""
    from sotong.publishing.models import ChangeState, PublicationChange

    post_id = change.publication.variant.post_id
    answered = Q(dedupe_key__in=[f"change_failed:{change.pk}", f"change_unconfirmed:{change.pk}"])
    left = PublicationChange.objects.filter(
        publication__variant__post_id=post_id, kind=change.kind, state=ChangeState.BY_HAND
    ).exclude(pk=change.pk)
    if not left.exists():
        answered |= Q(dedupe_key__startswith=f"{change.kind}_by_hand:{post_id}:")
    Notification.objects.filter(answered, read_at__isnull=True).update(read_at=timezone.now())


def _review_key(post: Post, step_id: int | None) -> str:
    from sotong.publishing.models import Review, ReviewDecision

    round_id = (
        Review.objects.filter(post=post, decision=ReviewDecision.SUBMITTED)
        .order_by("-id")
        .values_list("id", flat=True)
        .first()
    )
    return f"review:{post.pk}:{round_id or 0}:{step_id or 0}"


def _resolve_reviews(post: Post, keep: str = "") -> None:
    """Requests for approval that were answered are read: nobody acts on them again."""
    Notification.objects.filter(
        kind=NotificationKind.REVIEW_REQUESTED,
        dedupe_key__startswith=f"review:{post.pk}:",
        read_at__isnull=True,
    ).exclude(dedupe_key=keep).update(read_at=timezone.now())


def notify_review_requested(by: Performer | None, post: Post) -> None:
    """Tell whoever may decide now: the current step's approvers in an approval chain,
    else everyone who approves the department's posts."""
    from sotong.publishing.actions import approval_chain
    from sotong.publishing.models import PostStatus

    if post.status != PostStatus.IN_REVIEW:
        _resolve_reviews(post)
        return
    chain = approval_chain(post)
    current = next((state for state in chain if state.current), None)
    if chain and current is None:
        _resolve_reviews(post)
        return
    if current is not None:
        approvers = [s for s in current.approvers if not current.approved_by(s)]
        key = _review_key(post, current.step.pk)
    else:
        approvers = [
            staff
            for staff in publishers(post.organisation_id, post.department_id)
            if staff.can(Capability.APPROVE_POSTS)
        ]
        key = _review_key(post, None)
    _resolve_reviews(post, keep=key)
    if isinstance(by, Staff):  # who just approved this step has answered
        Notification.objects.filter(
            recipient=by, dedupe_key__startswith=f"review:{post.pk}:", read_at__isnull=True
        ).update(read_at=timezone.now())
    notify(
        _not(by, approvers),
        NotificationKind.REVIEW_REQUESTED,
        organisation=post.organisation_id,
        link=_post_link(post),
        params={
            "post": post.title,
            "by": _by_label(by, post),
            "due": _local(post.organisation, post.publish_at),
        },
        dedupe_key=key,
    )


def notify_decided(by: Performer, post: Post, decision: str, comment: str) -> None:
    """A decision on the post: the requests for approval are answered, and the author
    hears of changes requested or a rejection."""
    from sotong.publishing.models import ReviewDecision

    _resolve_reviews(post)
    kinds = {
        ReviewDecision.CHANGES_REQUESTED: NotificationKind.CHANGES_REQUESTED,
        ReviewDecision.REJECTED: NotificationKind.POST_REJECTED,
    }
    kind = kinds.get(decision)  # type: ignore[call-overload]
    if kind is None or not post.author_id or post.author is None:
        return
    notify(
        _not(by, [post.author]),
        kind,
        organisation=post.organisation_id,
        link=_post_link(post),
        params={"post": post.title, "by": _by_label(by, post), "comment": comment.strip()},
        dedupe_key=f"{kind}:{post.pk}:{timezone.now().isoformat()}",
    )


# -- the inbox ----------------------------------------------------------------------------


def _case_link(case: Case) -> str:
    return _link("inbox:case", case.pk)


def pr_office(organisation_id: int) -> list[Staff]:
    """Who assigns cases across the city: the PR office and the administrators."""
    return list(
        Staff.objects.filter(
            organisation_id=organisation_id,
            user__is_active=True,
            role__in=_roles(Capability.ASSIGN_CASES),
        )
        .select_related("user")
        .order_by("pk")
    )


def department_responders(organisation_id: int, department_id: int | None) -> list[Staff]:
    """The department's own staff who answer citizens. Sotong has no department-head role,
    so these stand for the department when a case is escalated."""
    if department_id is None:
        return []
    return list(
        Staff.objects.filter(
            organisation_id=organisation_id,
            user__is_active=True,
            department_id=department_id,
            role__in=[r for r in _roles(Capability.REPLY) if r in DEPARTMENT_ROLES],
        )
        .select_related("user")
        .order_by("pk")
    )


def case_handlers(case: Case) -> list[Staff]:
    """The assignee, else the department's responders, else the PR office."""
    if case.assignee_id is not None and case.assignee is not None:
        return [case.assignee]
    return department_responders(case.organisation_id, case.department_id) or pr_office(
        case.organisation_id
    )


def _case_params(case: Case) -> dict[str, object]:
    return {
        "case": f"#{case.pk}",
        "channel": case.channel.name,
        "department": case.department.name if case.department_id and case.department else "—",
        "due": _local(case.organisation, case.deadline),
    }


def notify_case_assigned(by: Performer | None, case: Case) -> None:
    notify(
        _not(by, case_handlers(case)),
        NotificationKind.CASE_ASSIGNED,
        organisation=case.organisation_id,
        link=_case_link(case),
        params=_case_params(case),
        dedupe_key=f"case_assigned:{case.pk}:{case.department_id}:{case.assignee_id}",
    )


def notify_case_due_soon(case: Case) -> None:
    notify(
        case_handlers(case),
        NotificationKind.CASE_DUE_SOON,
        organisation=case.organisation_id,
        link=_case_link(case),
        params=_case_params(case),
        dedupe_key=f"case_due_soon:{case.pk}:{case.deadline.isoformat()}",
    )


def notify_case_overdue(case: Case) -> None:
    """Past the deadline: the handlers, the PR office and the department are told."""
    notify(
        _unique(
            case_handlers(case),
            pr_office(case.organisation_id),
            department_responders(case.organisation_id, case.department_id),
        ),
        NotificationKind.CASE_OVERDUE,
        organisation=case.organisation_id,
        link=_case_link(case),
        params=_case_params(case),
        dedupe_key=f"case_overdue:{case.pk}:{case.deadline.isoformat()}",
    )


def notify_referral_requested(by: Performer | None, referral: Referral) -> None:
    case = referral.case
    notify(
        _not(by, department_responders(case.organisation_id, referral.department_id)),
        NotificationKind.REFERRAL_REQUESTED,
        organisation=case.organisation_id,
        link=_case_link(case),
        params={
            **_case_params(case),
            "department": referral.department.name,
            "by": by.display_name if isinstance(by, Staff) else "Sotong",
            "due": _local(case.organisation, referral.due_at),
        },
        dedupe_key=f"referral_requested:{referral.pk}",
    )


def notify_referral_answered(by: Performer | None, referral: Referral) -> None:
    case = referral.case
    asker = referral.asked_by if referral.asked_by_id else None
    notify(
        _not(by, _unique([asker], case_handlers(case) if asker is None else [])),
        NotificationKind.REFERRAL_ANSWERED,
        organisation=case.organisation_id,
        link=_case_link(case),
        params={**_case_params(case), "department": referral.department.name},
        dedupe_key=f"referral_answered:{referral.pk}",
    )


def notify_reply_failed(reply: Reply) -> None:
    case = reply.case
    writer = reply.by if reply.by_id else None
    notify(
        _unique([writer], case_handlers(case)),
        NotificationKind.REPLY_FAILED,
        organisation=case.organisation_id,
        link=_case_link(case),
        params={**_case_params(case), "reason": reply.reason[:300]},
        dedupe_key=f"reply_failed:{reply.pk}:{reply.attempts}",
    )


# -- reading ------------------------------------------------------------------------------


def unread_count(staff: Staff) -> int:
    return Notification.objects.for_recipient(staff).unread().count()


def mark_read(staff: Staff, notification_id: int) -> Notification:
    """Mark one of ``staff``'s own notices read; another's is not found."""
    notification = Notification.objects.for_recipient(staff).get(pk=notification_id)
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


def mark_all_read(staff: Staff) -> int:
    return Notification.objects.for_recipient(staff).unread().update(read_at=timezone.now())


# -- email --------------------------------------------------------------------------------


def send_email(notification_id: int) -> bool:
    """Email one notice to its recipient, once: taken by a conditional update, so a sweep
    and the first send never both mail it. A failure is logged (without the address) and
    left for the next sweep. True if it was sent."""
    now = timezone.now()
    taken = (
        Notification.objects.filter(
            pk=notification_id,
            emailed_at__isnull=True,
            read_at__isnull=True,
            email_attempts__lt=MAX_EMAIL_ATTEMPTS,
        )
        .filter(Q(email_claimed_at__isnull=True) | Q(email_claimed_at__lt=now - EMAIL_CLAIM))
        .update(email_claimed_at=now, email_attempts=F("email_attempts") + 1)
    )
    if not taken:
        return False
    notification = Notification.objects.select_related("recipient__user", "organisation").get(
        pk=notification_id
    )
    release = Notification.objects.filter(pk=notification_id)
    user = notification.recipient.user
    if not email_enabled() or not user.email or not user.is_active:
        release.update(email_claimed_at=None)
        return False
    with translation.override(settings.LANGUAGE_CODE):
        subject = f"[{notification.organisation.name}] {notification.title}"
        body = notification.body
        if notification.link:
            body += "\n\n" + settings.SOTONG_PUBLIC_URL.rstrip("/") + notification.link
    try:
        send_mail(subject, body, None, [user.email], fail_silently=False)
    except OSError as error:  # smtplib's errors are OSErrors too
        logger.warning(
            "notification %s: email not sent (%s), attempt %d",
            notification_id,
            type(error).__name__,
            notification.email_attempts,
        )
        release.update(email_claimed_at=None)
        return False
    release.update(emailed_at=timezone.now(), email_claimed_at=None)
    return True


def send_pending_emails(now: dt.datetime | None = None) -> int:
    """Send the emails a failure or a lost task left behind; returns how many went."""
    if not email_enabled():
        return 0
    now = now or timezone.now()
    pending = (
        Notification.objects.filter(
            emailed_at__isnull=True,
            read_at__isnull=True,
            email_attempts__lt=MAX_EMAIL_ATTEMPTS,
            created_at__gte=now - EMAIL_WITHIN,
            recipient__user__is_active=True,
        )
        .exclude(recipient__user__email="")
        .order_by("created_at")
        .values_list("pk", flat=True)[:500]
    )
    return sum(send_email(pk) for pk in list(pending))
