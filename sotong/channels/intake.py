"""Webhook intake: the hot path from a platform's delivery to a committed InboundEvent.

Two costs dominated it: every request committing its own transaction (on SQLite, writers
queue on the one write lock, and the busy handler's sleeps made the tail hundreds of
milliseconds), and loading the channel with the ORM (query building, credentials
decrypted) on every call. So:

- **Group commit.** Request threads of a process hand their deliveries to whichever of them
  is the current *leader*; the leader stores everything waiting in one transaction and wakes
  the others, who answer only then. There is no background thread: a single request (a test,
  a quiet night) leads its own batch at once, and nothing is held in memory that has not
  been committed or refused by the time its request is answered.
- **Channel cache.** A webhook's channel is checked against the database on every call
  with one indexed raw SELECT; the ORM object (with decrypted credentials) is reused while
  the row is unchanged, so a rotated secret or new credentials take effect at once in every
  process.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache

from django.db import DataError, IntegrityError, connection, transaction
from django.utils import timezone

from sotong.channels.models import Channel, InboundEvent
from sotong.platforms.base import InboundItem

logger = logging.getLogger(__name__)

# Deliveries committed together at most; larger bursts take several rounds.
MAX_BATCH = 256
# A request gives up waiting for its commit after this long (the platform retries; a
# delivery committed after all is recognised on the retry). Below gunicorn's timeout
# (30 s) and above SQLite's busy timeout (20 s), so a leader waiting for the write lock
# fails and tells its waiters before they give up on it.
WAIT_SECONDS = 25.0

Delivery = tuple[Channel, Sequence[InboundItem]]


class IntakeTimeout(Exception):
    """The commit did not finish in time: the delivery may or may not be stored."""


@dataclass(eq=False)
class _Pending:
    deliveries: Sequence[Delivery]
    touch: frozenset[int]
    # More writes of the same request, in the batch's transaction after the deliveries
    # (a chat turn's session and transcript): in a savepoint of their own, so their
    # failure is only theirs (``then_error``) and the deliveries are stored regardless.
    then: Callable[[], object] | None = None
    woken: threading.Event = field(default_factory=threading.Event)
    # Set when the previous leader hands the next batch to this request.
    lead: bool = False
    done: bool = False
    stored: list[list[InboundEvent]] = field(default_factory=list)
    error: BaseException | None = None
    result: object = None
    then_error: BaseException | None = None


class GroupCommit:
    """Commits the deliveries of concurrent requests of one process together."""

    def __init__(self, max_batch: int = MAX_BATCH) -> None:
        self.max_batch = max_batch
        self._lock = threading.Lock()
        self._waiting: list[_Pending] = []
        self._leading = False

    def submit(
        self,
        deliveries: Sequence[Delivery],
        touch: frozenset[int] = frozenset(),
        then: Callable[[], object] | None = None,
    ) -> list[list[InboundEvent]]:
        """Store ``deliveries`` (each channel with its items) and mark the ``touch``
        channels as having had a webhook; returns the new events of each delivery. Returns
        only once they are committed; raises the database's error if they were not.
        ``then`` runs in the same transaction (see _Pending); its result or error is on
        the pending request, which ``commit_with`` returns or raises."""
        return self._submit(_Pending(deliveries, touch, then)).stored

    def _submit(self, pending: _Pending) -> _Pending:
        with self._lock:
            self._waiting.append(pending)
            if not self._leading:
                self._leading = pending.lead = True
        if not pending.lead and not pending.woken.wait(WAIT_SECONDS):
            with self._lock:
                if not pending.lead:
                    if pending in self._waiting:
                        # Never taken into a batch: nothing of it was stored.
                        self._waiting.remove(pending)
                    raise IntakeTimeout("the commit did not finish in time")
            # Made leader just as the wait ran out: lead, or nobody would.
        if pending.lead:
            self._lead()
        if pending.error is not None:
            raise pending.error
        if not pending.done:  # pragma: no cover - the leader always settles its batch
            raise IntakeTimeout("the delivery was not committed")
        return pending

    def _lead(self) -> None:
        """Commit the batch at the head of the queue (this request's own is first in it),
        then hand leadership to the next waiting request, if any."""
        with self._lock:
            batch = self._waiting[: self.max_batch]
            del self._waiting[: self.max_batch]
        try:
            _commit(batch)
        except BaseException as error:  # settled for the waiters, then re-raised
            for pending in batch:
                if not pending.done and pending.error is None:
                    pending.error = error
            raise
        finally:
            with self._lock:
                successor = self._waiting[0] if self._waiting else None
                if successor is None:
                    self._leading = False
                else:
                    successor.lead = True
            for pending in batch:
                pending.woken.set()
            if successor is not None:
                successor.woken.set()


def _commit(batch: list[_Pending]) -> None:
    """One transaction for the whole batch; if it fails, each delivery is tried on its own
    so that one bad delivery (or a moment's lock) does not refuse the others. A delivery
    is stored whole or not at all."""
    from sotong.channels import actions

    try:
        with transaction.atomic():
            stored = actions.store_inbound([d for p in batch for d in p.deliveries])
            actions.touch_webhook_channels(frozenset().union(*(p.touch for p in batch)))
            for pending in batch:
                _then(pending)
    except Exception as error:  # noqa: BLE001 - handed to the request, which answers 5xx
        if len(batch) == 1 or not isinstance(error, (IntegrityError, DataError)):
            # A locked, lost or slow database fails the whole batch at once (503, the
            # platforms retry): trying each delivery alone would only queue up more waits.
            for pending in batch:
                pending.error = error
            return
        logger.warning("webhook intake: a batch of %d failed (%s)", len(batch), error)
        for pending in batch:
            _commit([pending])
        return
    position = 0
    for pending in batch:
        pending.stored = stored[position : position + len(pending.deliveries)]
        position += len(pending.deliveries)
        pending.done = True


def _then(pending: _Pending) -> None:
    pending.result = pending.then_error = None
    if pending.then is None:
        return
    try:
        with transaction.atomic():  # a savepoint: a failure undoes only this request's writes
            pending.result = pending.then()
    except Exception as error:  # noqa: BLE001 - the request's own failure, raised to it
        pending.then_error = error


# One per process: the requests a gunicorn worker's threads are serving.
writer = GroupCommit()


def commit(
    deliveries: Sequence[Delivery], touch: frozenset[int] = frozenset()
) -> list[list[InboundEvent]]:
    return writer.submit(deliveries, touch)


def commit_with(
    deliveries: Sequence[Delivery], touch: frozenset[int], then: Callable[[], object]
) -> tuple[list[list[InboundEvent]], object]:
    """``commit``, and ``then``'s writes in the same group commit: returns the new events
    and ``then``'s result, or raises what ``then`` raised (its writes rolled back, the
    deliveries stored). One transaction for many requests instead of one each: on SQLite,
    writers queueing for the write lock is what makes the slow tail."""
    pending = writer._submit(_Pending(deliveries, touch, then))
    if pending.then_error is not None:
        raise pending.then_error
    return pending.stored, pending.result


# -- the channel a webhook address names ------------------------------------------------

_CHANNEL_COLUMNS = (
    "id",
    "organisation_id",
    "department_id",
    "kind",
    "account_id",
    "api_base",
    "credentials",
    "options",
    "status",
)
_channels: dict[tuple[str, str], tuple[tuple[object, ...], Channel]] = {}
_CACHE_LIMIT = 1000


@dataclass(frozen=True)
class WebhookChannel:
    channel: Channel
    # Whether last_webhook_at is due to be rewritten (see actions.WEBHOOK_TOUCH_EVERY).
    touch: bool


@cache
def _channel_query(vendor: str) -> str:
    quote = connection.ops.quote_name
    columns = ", ".join(quote(column) for column in _CHANNEL_COLUMNS)
    table = quote(Channel._meta.db_table)
    kind, secret, last = quote("kind"), quote("webhook_secret"), quote("last_webhook_at")
    return (
        f"SELECT {columns}, CASE WHEN {last} IS NULL OR {last} < %s THEN 1 ELSE 0 END "  # noqa: S608
        f"FROM {table} WHERE {kind} = %s AND {secret} = %s"
    )


def channel_for_webhook(kind: str, secret: str) -> WebhookChannel | None:
    """The channel whose webhook address this is, or None. Looked up on every call (a
    rotated secret stops working at once); the channel object, with its credentials
    decrypted, is reused while its row is unchanged, so it is shared between threads and
    must be treated as read only."""
    from sotong.channels.actions import WEBHOOK_TOUCH_EVERY

    due = connection.ops.adapt_datetimefield_value(timezone.now() - WEBHOOK_TOUCH_EVERY)
    with connection.cursor() as cursor:
        cursor.execute(_channel_query(connection.vendor), [due, kind, secret])
        found = cursor.fetchone()
    if found is None:
        return None
    row, touch = tuple(found[:-1]), bool(found[-1])
    key = (kind, secret)
    cached = _channels.get(key)
    if cached is not None and cached[0] == row:
        return WebhookChannel(cached[1], touch)
    channel = Channel.objects.get(pk=row[0])
    if len(_channels) >= _CACHE_LIMIT:
        _channels.clear()
    _channels[key] = (row, channel)
    return WebhookChannel(channel, touch)
