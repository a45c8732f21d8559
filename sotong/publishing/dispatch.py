"""Dispatch: due publications are claimed atomically and sent through their channel's
connector, each exactly once.

A publication's idempotency key is stored before the platform is called; the call's
outcome is recorded after it. A worker that dies between the two leaves the publication
claimed; the next dispatch round finds it, asks the platform whether the post is there
(``find_published``) and only then posts again. An outcome Sotong cannot confirm stays
*unconfirmed*, never shown as published or failed, until that check or a person settles it.
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import os
import queue
import socket
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import httpx
from django.db import connection, transaction
from django.db.models import Count, F, Min, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from sotong.channels.actions import connector_for
from sotong.channels.models import Channel, ChannelStatus
from sotong.core import audit
from sotong.notifications import actions as notifications
from sotong.platforms.base import (
    DEFAULT_TIMEOUT,
    Capability,
    Connector,
    NextStep,
    OutboundPost,
    PlatformError,
    PublishedPost,
    backoff,
    next_step,
)
from sotong.publishing import adapt
from sotong.publishing.actions import MAX_IMAGES_PER_POST, audit_publication, image_url, images_for
from sotong.publishing.models import (
    HoldReason,
    PostStatus,
    Publication,
    PublicationState,
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
    """Who holds a claim: host, process and PID namespace, so a dispatcher on the same host
    can tell a claimer that has died (its process is gone) without waiting for the lease."""
    return f"{socket.gethostname()}:{os.getpid()}:{_pid_namespace()}"


def _pid_namespace() -> str:
    try:
        return str(os.stat("/proc/self/ns/pid").st_ino)
    except OSError:
        return ""


def publish_concurrency() -> int:
    """How many publications one dispatcher sends side by side (threads: the time goes in
    waiting on the platforms). Each thread holds its own database connection."""
    return max(1, int(os.environ.get("SOTONG_PUBLISH_CONCURRENCY", "16")))


@dataclass(frozen=True)
class Pace:
    """A platform's documented publishing limit: ``calls`` per account per sliding ``window``."""

    calls: int
    window: dt.timedelta


# Claims follow these, so calls are not spent on answers of 429 (shared/docs/platform-apis.md).
# Facebook (4,800 calls × engaged users a day per Page) and BAND (quotas unpublished) have
# no figure to pace by: their connectors read the usage headers and error codes instead.
PUBLISH_PACES: dict[str, Pace] = {
    "x": Pace(100, dt.timedelta(minutes=15)),  # POST /2/tweets, per user
    "mastodon": Pace(300, dt.timedelta(minutes=5)),  # every call, per account
    "telegram": Pace(20, dt.timedelta(minutes=1)),  # per group or channel (Bots FAQ)
    "instagram": Pace(50, dt.timedelta(hours=24)),  # published posts, rolling
}
# Our clock and the platform's see one call up to a network trip apart.
PACE_MARGIN = dt.timedelta(milliseconds=500)
# After a claimer died: its requests still in flight reach the platform within this, so
# the platform is asked only afterwards.
DOUBT_GRACE = dt.timedelta(seconds=3)
# The task's dispatcher runs for DISPATCH_SPAN after it was enqueued; the scheduler enqueues
# one every DISPATCH_EVERY, so with two workers or more one is always dispatching, and a
# worker's death leaves no gap.
DISPATCH_EVERY = dt.timedelta(seconds=5)
DISPATCH_SPAN = dt.timedelta(seconds=10)
POLL_SECONDS = 0.2
# How long finished publications wait for others to be recorded with them.
GATHER_SECONDS = 0.05
HOUSEKEEPING_SECONDS = 1.0
# Recent posts asked for when reconciling (the platforms give at most 100 a page).
RECONCILE_DEPTH = 100
# Of that listing, room left for posts people make on the platform themselves meanwhile.
DOUBT_MARGIN = 20


def dispatch_due(now: dt.datetime | None = None, *, limit: int = DISPATCH_BATCH) -> DispatchResult:
    """One dispatch round: recover publications a dead worker left claimed, reconcile
    unconfirmed ones, release held ones whose channel works again, then claim the due ones
    (each by one worker only) and publish them, several side by side."""
    now = now or timezone.now()
    result = DispatchResult()
    _housekeeping(now, result, limit=limit)
    ids = claim_due(now, limit=limit)
    result.claimed += len(ids)
    if len(ids) > 1 and not transaction.get_connection().in_atomic_block:
        pool = _Publishers(min(publish_concurrency(), len(ids)))
        try:
            for publication_id in ids:
                pool.submit(publication_id)
            while pool.busy:
                for state in pool.collect(timeout=POLL_SECONDS):
                    _count(result, state)
        finally:
            pool.close()
    else:
        # Inside the caller's transaction other connections cannot see the claims: in turn.
        for publication_id in ids:
            _count(result, publish(publication_id))
    return result


def dispatch_for(seconds: float) -> DispatchResult:
    """Dispatch continuously for ``seconds``: claim what is due as soon as it is due and a
    publishing thread is free, so a publication waits for neither a round nor a batch."""
    deadline = time.monotonic() + seconds
    result = DispatchResult()
    size = publish_concurrency()
    pool = _Publishers(size)
    next_housekeeping = 0.0
    try:
        while True:
            clock = time.monotonic()
            now = timezone.now()
            if clock >= next_housekeeping:
                _housekeeping(now, result, check=pool.submit_check)
                next_housekeeping = clock + HOUSEKEEPING_SECONDS
            # Claimed ahead by a pool's worth: the threads find the next publication waiting
            # while this loop records outcomes.
            free = 2 * size - pool.busy
            if free > 0:
                ids = claim_due(now, limit=free)
                result.claimed += len(ids)
                for publication_id in ids:
                    pool.submit(publication_id)
            for state in pool.collect(timeout=POLL_SECONDS):
                _count(result, state)
            if time.monotonic() >= deadline:
                break
        while pool.busy:
            for state in pool.collect(timeout=POLL_SECONDS):
                _count(result, state)
    finally:
        pool.close()
    return result


@dataclass(frozen=True)
class _Checked:
    """A channel's unconfirmed publications checked against the platform."""

    reconciled: int


def _count(result: DispatchResult, state: str | _Checked) -> None:
    if isinstance(state, _Checked):
        result.reconciled += state.reconciled
    elif state == PublicationState.PUBLISHED:
        result.published += 1
    elif state == PublicationState.UNCONFIRMED:
        result.unconfirmed += 1
    elif state == PublicationState.SCHEDULED:
        result.retrying += 1
    elif state == PublicationState.HELD:
        result.held += 1
    elif state == PublicationState.FAILED:
        result.failed += 1


class _Publishers:
    """A bounded set of threads publishing claimed publications and checking unconfirmed
    ones (checks first: a channel in doubt may be holding posts back); each thread closes
    its own database connection when the set is closed."""

    CHECK, SEND, STOP = 0, 1, 2

    def __init__(self, size: int) -> None:
        self.todo: queue.PriorityQueue[tuple[int, int, int | list[Publication] | None]] = (
            queue.PriorityQueue()
        )
        self.done: queue.Queue[_Sent | _Checked | str] = queue.Queue()
        self.busy = 0
        self.order = itertools.count()
        self.client = _shared_client()
        self.threads = [
            threading.Thread(target=self._run, name=f"publish-{n}", daemon=True)
            for n in range(size)
        ]
        for thread in self.threads:
            thread.start()

    def _run(self) -> None:
        try:
            while (job := self.todo.get()[2]) is not None:
                self.done.put(self._do(job))
        finally:
            connection.close()

    def _do(self, job: int | list[Publication]) -> _Sent | _Checked | str:
        if isinstance(job, list):
            try:
                return _Checked(reconcile_channel(job, client=self.client))
            except Exception:  # a bug in one check must not stop the dispatcher
                # Checked again at the next round (their next check was pushed back).
                logger.exception("checking %d unconfirmed publications failed", len(job))
                return _Checked(0)
        try:
            return _send(job, client=self.client)
        except Exception:  # one publication's bug must not stop the rest
            # Left claimed: the lease brings it back to be reconciled, never lost.
            logger.exception("publishing %s failed unexpectedly", job)
            return PublicationState.PUBLISHING

    def submit(self, publication_id: int) -> None:
        self.busy += 1
        self.todo.put((self.SEND, next(self.order), publication_id))

    def submit_check(self, publications: list[Publication]) -> None:
        self.busy += 1
        self.todo.put((self.CHECK, next(self.order), publications))

    def collect(self, timeout: float) -> list[str | _Checked]:
        """The states of publications finished since last asked, waiting up to ``timeout``
        for the first and a moment for others to join it; their outcomes are recorded here,
        together (one write transaction for many: writers queue for SQLite's one lock)."""
        finished: list[_Sent | _Checked | str] = []
        try:
            finished.append(self.done.get(timeout=timeout))
            gather_until = time.monotonic() + GATHER_SECONDS
            while (left := gather_until - time.monotonic()) > 0 and len(finished) < self.busy:
                finished.append(self.done.get(timeout=left))
        except queue.Empty:
            pass
        self.busy -= len(finished)
        batch = [item for item in finished if isinstance(item, _Sent)]
        states: list[str | _Checked] = [item for item in finished if not isinstance(item, _Sent)]
        if batch:
            states += _record_all(batch)
        return states

    def close(self) -> None:
        for _thread in self.threads:
            self.todo.put((self.STOP, next(self.order), None))
        for thread in self.threads:
            thread.join()


_client_lock = threading.Lock()
_client: httpx.Client | None = None


def _shared_client() -> httpx.Client:
    """One HTTP client per process for publishing: its connection pool is thread-safe, and
    building a client (TLS context) for each post would cost more than the post."""
    global _client
    with _client_lock:
        if _client is None or _client.is_closed:
            _client = httpx.Client(
                timeout=DEFAULT_TIMEOUT,
                follow_redirects=False,
                headers={"User-Agent": "Sotong/0.1"},
                limits=httpx.Limits(max_connections=200, max_keepalive_connections=100),
            )
        return _client


def _housekeeping(
    now: dt.datetime,
    result: DispatchResult,
    *,
    limit: int = DISPATCH_BATCH,
    check: Callable[[list[Publication]], None] | None = None,
) -> None:
    """Recover what dead workers left claimed, release held publications whose channel works
    again, and check the unconfirmed ones that are due a check, each channel's together:
    by ``check`` (the publishing threads) or here."""
    _recover_abandoned(now)
    Publication.objects.filter(
        state=PublicationState.HELD,
        hold_reason=HoldReason.CHANNEL,
        channel__status=ChannelStatus.ACTIVE,
    ).update(state=PublicationState.SCHEDULED, hold_reason="", next_attempt_at=None)
    by_channel: dict[int, list[Publication]] = {}
    for publication in Publication.objects.filter(
        state=PublicationState.UNCONFIRMED, next_attempt_at__lte=now
    ).select_related("variant__post", "variant__channel", "channel")[:limit]:
        # Taken by pushing its next check back: two dispatchers never reconcile one together.
        taken = Publication.objects.filter(
            pk=publication.pk,
            state=PublicationState.UNCONFIRMED,
            next_attempt_at=publication.next_attempt_at,
        ).update(next_attempt_at=now + RECONCILE_AGAIN)
        if taken:
            by_channel.setdefault(publication.channel_id, []).append(publication)
    for publications in by_channel.values():
        if check is not None:
            check(publications)
        else:
            result.reconciled += reconcile_channel(publications)


def _recover_abandoned(now: dt.datetime) -> None:
    """A claim whose lease ran out, or whose worker is known dead, is unconfirmed: the
    platform is asked before anything is posted again."""
    reason = "The worker stopped while publishing; checking the platform."
    Publication.objects.filter(
        state=PublicationState.PUBLISHING, claimed_at__lt=now - CLAIM_LEASE
    ).update(state=PublicationState.UNCONFIRMED, reason=reason, next_attempt_at=now)
    dead = _dead_claimers()
    if dead:
        Publication.objects.filter(state=PublicationState.PUBLISHING, claimed_by__in=dead).update(
            state=PublicationState.UNCONFIRMED, reason=reason, next_attempt_at=now + DOUBT_GRACE
        )


def _dead_claimers() -> list[str]:
    """Claimers known to be dead: a process on this host (same PID namespace) that no
    longer exists, or a worker whose heartbeat stopped."""
    from django.conf import settings

    from sotong.core.models import WorkerHeartbeat

    claimers = set(
        Publication.objects.filter(state=PublicationState.PUBLISHING).values_list(
            "claimed_by", flat=True
        )
    )
    if not claimers:
        return []
    here = (socket.gethostname(), _pid_namespace())
    lost_before = timezone.now() - dt.timedelta(seconds=settings.SOTONG_WORKER_LOST_AFTER_SECONDS)
    last_seen: dict[tuple[str, int], dt.datetime] = {}
    for host, pid, seen in WorkerHeartbeat.objects.values_list("hostname", "pid", "last_seen_at"):
        if (host, pid) not in last_seen or seen > last_seen[(host, pid)]:
            last_seen[(host, pid)] = seen
    dead = []
    for claimer in claimers:
        host, _, rest = claimer.partition(":")
        pid_text, _, namespace = rest.partition(":")
        if not pid_text.isdigit():
            continue
        pid = int(pid_text)
        gone_here = (host, namespace) == here and bool(namespace) and not _process_exists(pid)
        silent = (host, pid) in last_seen and last_seen[(host, pid)] < lost_before
        if gone_here or silent:
            dead.append(claimer)
    return dead


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive
    return True


def _pace_budgets(now: dt.datetime) -> dict[int, int]:
    """Calls each paced channel may still make now, counted from the claims in its window
    (one indexed range per kind: channel, claimed_at)."""
    budgets: dict[int, int] = {}
    channels_of: dict[str, list[int]] = {}
    for channel_id, kind in Channel.objects.filter(kind__in=PUBLISH_PACES).values_list(
        "id", "kind"
    ):
        budgets[channel_id] = PUBLISH_PACES[kind].calls
        channels_of.setdefault(kind, []).append(channel_id)
    for kind, channel_ids in channels_of.items():
        pace = PUBLISH_PACES[kind]
        recent = (
            Publication.objects.filter(
                channel_id__in=channel_ids, claimed_at__gt=now - pace.window - PACE_MARGIN
            )
            .values_list("channel_id")
            .annotate(calls=Count("id"))
            .order_by()
        )
        for channel_id, calls in recent:
            budgets[channel_id] -= calls
    return budgets


def _doubt_budgets() -> dict[int, int]:
    """Posts each channel in doubt may still take: a channel with posts whose outcome is
    being checked goes on posting only while the platform's list of recent posts
    (RECONCILE_DEPTH) still reaches back to the oldest of them."""
    oldest = dict(
        Publication.objects.filter(
            state=PublicationState.UNCONFIRMED, next_attempt_at__isnull=False
        )
        .values_list("channel_id")
        .annotate(since=Min("claimed_at"))
        .order_by()
    )
    budgets: dict[int, int] = {}
    for channel in Channel.objects.filter(pk__in=oldest):
        if Capability.LIST_POSTS not in channel.capabilities:
            continue  # the platform cannot tell: a person settles it, the channel goes on
        since = oldest[channel.pk]
        if since is None:
            budgets[channel.pk] = 0
            continue
        posted_since = Publication.objects.filter(channel=channel, claimed_at__gte=since).count()
        budgets[channel.pk] = RECONCILE_DEPTH - DOUBT_MARGIN - posted_since
    return budgets


def claim_due(now: dt.datetime, *, limit: int = DISPATCH_BATCH) -> list[int]:
    """Mark due publications as being published by this worker and return their ids, within
    each channel's pace. On PostgreSQL ``SKIP LOCKED`` lets several workers claim side by
    side; SQLite's write lock makes the claim exclusive."""
    with transaction.atomic():
        budgets = _pace_budgets(now)
        for channel_id, left in _doubt_budgets().items():
            budgets[channel_id] = min(budgets.get(channel_id, left), left)
        blocked = {channel_id for channel_id, left in budgets.items() if left <= 0}
        candidates = list(
            Publication.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(state=PublicationState.SCHEDULED, due_at__lte=now)
            .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
            .exclude(channel_id__in=blocked)
            .order_by("due_at", "id")
            .values_list("id", "channel_id")[:limit]
        )
        ids = []
        for publication_id, channel_id in candidates:
            if channel_id in budgets:
                if budgets[channel_id] <= 0:
                    continue
                budgets[channel_id] -= 1
            ids.append(publication_id)
        # The attempt is counted with the claim: one write fewer per publication.
        Publication.objects.filter(id__in=ids, state=PublicationState.SCHEDULED).update(
            state=PublicationState.PUBLISHING,
            claimed_at=now,
            claimed_by=worker_name(),
            attempts=F("attempts") + 1,
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
        image_urls=tuple(
            image_url(image)
            for image in post.images.all()[
                : images_for(publication.channel.kind, MAX_IMAGES_PER_POST)
            ]
        ),
    )


def _settle(publication: Publication, state: str, **fields: object) -> str:
    publication.state = state
    for name, value in fields.items():
        setattr(publication, name, value)
    publication.save()
    return state


@dataclass(frozen=True)
class _Hold:
    """Not sent: the post or the channel may not publish now."""

    reason: str  # a HoldReason
    message: str


@dataclass(frozen=True)
class _Withdrawn:
    """Not sent: the post was withdrawn after this publication was claimed."""


@dataclass
class _Sent:
    """One claimed publication after its platform call (or its hold), to be recorded."""

    publication: Publication
    outcome: PublishedPost | PlatformError | _Hold | _Withdrawn
    at: dt.datetime


def publish(publication_id: int, *, client: httpx.Client | None = None) -> str:
    """Send one claimed publication through its channel's connector and record what
    happened. Returns the publication's new state. ``client``: a shared HTTP client (the
    dispatcher's), left open."""
    sent = _send(publication_id, client=client)
    if isinstance(sent, str):
        return sent
    with transaction.atomic():
        return _record(sent)


def _send(publication_id: int, *, client: httpx.Client | None) -> _Sent | str:
    """Call the platform for one claimed publication and return the outcome unrecorded (the
    caller records it, several in one transaction: on SQLite every write waits for the one
    write lock). Only reads here; a publication no longer claimed returns its state."""
    publication = Publication.objects.select_related(
        "variant__post__organisation", "variant__post__department", "variant__channel", "channel"
    ).get(pk=publication_id)
    if publication.state != PublicationState.PUBLISHING:
        return publication.state
    post = publication.variant.post
    channel = publication.channel
    if post.status == PostStatus.WITHDRAWN:
        return _Sent(publication, _Withdrawn(), timezone.now())
    if post.status != PostStatus.APPROVED:
        hold = _Hold(
            HoldReason.NOT_APPROVED,
            _("Not approved by its publish time; approve it and set a new time."),
        )
        return _Sent(publication, hold, timezone.now())
    if channel.status != ChannelStatus.ACTIVE:
        message = _("The channel is %(status)s.") % {"status": channel.get_status_display()}
        return _Sent(publication, _Hold(HoldReason.CHANNEL, message), timezone.now())
    connector = connector_for(channel, client=client)
    now = timezone.now()
    outcome: PublishedPost | PlatformError
    try:
        outcome = connector.publish(_outbound(publication))
    except PlatformError as error:
        outcome = error
    finally:
        if client is None:
            connector.close()
    return _Sent(publication, outcome, now)


def _record(sent: _Sent) -> str:
    """Record one outcome with its audit entry; call inside a transaction."""
    publication, outcome = sent.publication, sent.outcome
    if isinstance(outcome, _Withdrawn):
        state = _settle(
            publication,
            PublicationState.CANCELLED,
            withdrawn_at=sent.at,
            attempts=publication.attempts - 1,
        )
        audit_publication(SYSTEM, publication, "publication.cancel")
        return state
    if isinstance(outcome, _Hold):
        state = _settle(
            publication,
            PublicationState.HELD,
            hold_reason=outcome.reason,
            reason=outcome.message,
            attempts=publication.attempts - 1,  # nothing was sent
        )
        audit_publication(SYSTEM, publication, "publication.hold")
        if outcome.reason == HoldReason.NOT_APPROVED:
            notifications.notify_post_held(publication)
        else:
            notifications.notify_channel_held(publication.channel, outcome.message, publication)
        return state
    return _record_outcome(publication, outcome, sent.at)


def _record_all(batch: list[_Sent]) -> list[str]:
    """Record a batch of outcomes in one transaction; should one fail to record, each of
    the others is recorded alone (the failing one stays claimed and is reconciled)."""
    try:
        with transaction.atomic():
            return [_record(sent) for sent in batch]
    except Exception:  # one bad record must not lose the others' outcomes
        logger.exception("recording %d outcomes together failed; recording one by one", len(batch))
    states = []
    for sent in batch:
        try:
            with transaction.atomic():
                states.append(_record(sent))
        except Exception:  # left claimed: the lease brings it back to reconcile
            logger.exception("recording publication %s failed", sent.publication.pk)
            states.append(PublicationState.PUBLISHING)
    return states


def _record_outcome(
    publication: Publication, outcome: PublishedPost | PlatformError, now: dt.datetime
) -> str:
    if not isinstance(outcome, PlatformError):
        state = _settle(
            publication,
            PublicationState.PUBLISHED,
            external_id=outcome.external_id,
            url=outcome.url,
            published_at=timezone.now(),
            reason="",
        )
        audit_publication(SYSTEM, publication, "publication.publish")
        return state
    channel = publication.channel
    reason = str(outcome)[:500]
    step = next_step(outcome, publication.attempts, MAX_ATTEMPTS)
    if step is NextStep.CHECK:
        return _settle(
            publication,
            PublicationState.UNCONFIRMED,
            reason=reason,
            next_attempt_at=now + RECONCILE_AGAIN,
        )
    if step is NextStep.WAIT:
        return _settle(
            publication,
            PublicationState.SCHEDULED,
            reason=reason,
            next_attempt_at=now + dt.timedelta(seconds=getattr(outcome, "retry_after", 0.0)),
            attempts=publication.attempts - 1,  # waiting its turn is not a failed attempt
        )
    if step in (NextStep.RECONNECT, NextStep.PERMISSION):
        from sotong.channels.actions import needs_reconnect

        if step is NextStep.RECONNECT:
            needs_reconnect(channel, str(outcome))
        state = _settle(
            publication, PublicationState.HELD, hold_reason=HoldReason.CHANNEL, reason=reason
        )
        audit_publication(SYSTEM, publication, "publication.hold")
        notifications.notify_channel_held(channel, publication.reason, publication)
        return state
    if step is NextStep.RETRY:
        return _settle(
            publication,
            PublicationState.SCHEDULED,
            reason=reason,
            next_attempt_at=now + backoff(publication.attempts, FIRST_RETRY, LONGEST_RETRY),
        )
    if step is NextStep.GIVE_UP:
        reason = _("Gave up after %(count)d attempts: %(reason)s") % {
            "count": publication.attempts,
            "reason": outcome,
        }
    # Rejected content, a duplicate, a missing page: trying again would not help.
    state = _settle(publication, PublicationState.FAILED, reason=reason[:500])
    audit_publication(SYSTEM, publication, "publication.fail")
    notifications.notify_publication_failed(publication)
    return state


def reconcile_channel(
    publications: Sequence[Publication], *, client: httpx.Client | None = None
) -> int:
    """Check one channel's unconfirmed publications against one listing of its recent
    posts; returns how many were found published."""
    connector = connector_for(publications[0].channel, client=client)
    found = 0
    try:
        with connector.listing_remembered():
            for publication in publications:
                if reconcile(publication, connector=connector) == PublicationState.PUBLISHED:
                    found += 1
    finally:
        if client is None:
            connector.close()
    return found


def reconcile(publication: Publication, *, connector: Connector | None = None) -> str:
    """Settle an unconfirmed publication by asking the platform whether the post is there.
    Found: published. Not there, on a platform that lists our posts: safe to post again.
    A platform that cannot tell (Telegram) leaves it to a person."""
    channel = publication.channel
    own = connector is None
    connector = connector or connector_for(channel)
    try:
        found = connector.find_published(_outbound(publication), limit=RECONCILE_DEPTH)
    except PlatformError as error:
        publication.next_attempt_at = timezone.now() + RECONCILE_AGAIN
        publication.reason = str(error)[:500]
        publication.save(update_fields=["next_attempt_at", "reason"])
        return publication.state
    finally:
        if own:
            connector.close()
    with transaction.atomic():
        # Settled meanwhile (by a person, or another dispatcher): that stands.
        current = (
            Publication.objects.select_for_update(of=("self",))
            .filter(pk=publication.pk)
            .values_list("state", flat=True)
            .first()
        )
        if current != PublicationState.UNCONFIRMED:
            return str(current)
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
            audit_publication(SYSTEM, publication, "publication.reconcile")
            return state
        if Capability.LIST_POSTS in channel.capabilities:
            return _settle(
                publication,
                PublicationState.SCHEDULED,
                reason=_("Not found on the platform after an unconfirmed attempt; posting again."),
                next_attempt_at=None,
            )
        notifications.notify_publication_unconfirmed(publication)
        return _settle(
            publication,
            PublicationState.UNCONFIRMED,
            reason=_(
                "The platform cannot show whether the post went out: check the channel, then "
                "confirm it or publish again."
            ),
            next_attempt_at=None,
        )
