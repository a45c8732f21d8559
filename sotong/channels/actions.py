"""Business operations on channels: connect, check, pause, refresh credentials, and take
in what citizens send. Views, the CLI and tasks call these."""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import httpx
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from sotong.channels.models import Channel, ChannelStatus, InboundEvent
from sotong.core import audit
from sotong.core.models import AuditEntry, Department, Organisation
from sotong.core.permissions import Performer, actor_of, require
from sotong.core.roles import Capability as Permission
from sotong.notifications import actions as notifications
from sotong.platforms.base import (
    AccountCheck,
    Capability,
    Connector,
    CredentialExpired,
    CredentialRevoked,
    Credentials,
    InboundItem,
    PermissionMissing,
    PlatformError,
    RateLimited,
    WebhookRejected,
    WebhookRequest,
    WebhookResponse,
    connector_class,
)

logger = logging.getLogger(__name__)

# Refresh credentials this long before they expire.
REFRESH_AHEAD = dt.timedelta(hours=1)
# How often to ask a platform for new comments and messages: often where it pushes
# nothing, rarely where webhooks deliver and polling only catches what they missed.
POLL_EVERY = dt.timedelta(minutes=5)
POLL_EVERY_WITH_WEBHOOKS = dt.timedelta(hours=1)
# Comments are read on our posts of the last week, at most this many posts per poll.
POLL_POSTS = 10
POLL_POSTS_WITHIN = dt.timedelta(days=7)


class Unchanged:
    """A parameter left as it is (``department`` when reconnecting)."""


UNCHANGED = Unchanged()


def connector_for(channel: Channel, *, client: httpx.Client | None = None) -> Connector:
    """The platform connector acting for ``channel`` (credentials decrypted in memory only);
    ``client`` replaces its HTTP client (tests use short timeouts)."""
    from sotong.platforms.base import ChannelAccount

    account = ChannelAccount(
        account_id=channel.account_id,
        credentials=channel.get_credentials(),
        api_base=channel.api_base,
        options={str(k): str(v) for k, v in (channel.options or {}).items()},
    )
    return channel.connector_class(account, client=client)


def _status_snapshot(channel: Channel) -> dict[str, object]:
    return {"status": channel.status, "reason": channel.status_reason}


@dataclass(frozen=True)
class CheckResult:
    ok: bool
    message: str
    check: AccountCheck | None = None


@transaction.atomic
def connect_channel(
    by: Performer,
    organisation: Organisation,
    *,
    kind: str,
    name: str,
    account_id: str,
    credentials: Credentials,
    department: Department | Unchanged | None = UNCHANGED,
    api_base: str = "",
    options: dict[str, str] | None = None,
    verify: bool = True,
) -> Channel:
    """Add a channel (or reconnect an existing one with new credentials). With ``verify``
    the credentials are tried against the platform first; a channel that cannot be reached,
    or whose token belongs to another account, is not saved. Reconnecting keeps what the
    new credentials do not replace: the department (unless one is given), the channel's
    options (unless given) and the secrets besides the token (app secret, webhook secret)."""
    require(by, Permission.MANAGE_ORGANISATION, organisation)
    try:
        platform = connector_class(kind)
    except KeyError as exc:
        raise ValidationError({"kind": _("Unknown platform.")}) from exc
    if isinstance(department, Department) and department.organisation_id != organisation.pk:
        raise ValidationError({"department": _("The department belongs to another organisation.")})
    channel = Channel.objects.filter(
        organisation=organisation, kind=kind, account_id=account_id
    ).first()
    created = channel is None
    if channel is None:
        channel = Channel(organisation=organisation, kind=kind, account_id=account_id)
    else:
        kept = channel.get_credentials().extra
        credentials.extra = {**kept, **{k: v for k, v in credentials.extra.items() if v}}
    before = None if created else _status_snapshot(channel)
    channel.name = name
    if not isinstance(department, Unchanged):
        channel.department = department
    channel.api_base = api_base
    if options is not None or created:
        channel.options = options or {}
    channel.set_credentials(credentials)
    channel.status = channel.base_status
    channel.status_reason = ""
    channel.full_clean()
    if verify and (credentials.access_token or not platform.needs_token):
        result = _verify(channel)
        if not result.ok:
            raise ValidationError(
                _("The platform refused these credentials: %(reason)s") % {"reason": result.message}
            )
        identity = result.check.identity if result.check else account_id
        if platform.identity_from_token and identity != account_id:
            raise ValidationError(
                _("These credentials are for account %(identity)s, not %(account)s.")
                % {"identity": identity, "account": account_id}
            )
    channel.save()
    audit.record(
        actor_of(by),
        "channel.connect" if created else "channel.reconnect",
        channel,
        organisation=organisation,
        department=channel.department,
        before=before,
        after={
            "kind": kind,
            "name": name,
            "account_id": account_id,
            "api_base": api_base or "(platform)",
            **_status_snapshot(channel),
        },
    )
    return channel


def _verify(channel: Channel) -> CheckResult:
    connector = connector_for(channel)
    try:
        check = connector.verify_credentials()
    except PlatformError as error:
        return CheckResult(False, str(error))
    finally:
        connector.close()
    if check.expires_at:
        channel.credential_expires_at = check.expires_at
    channel.missing_scopes = list(check.missing_scopes)
    return CheckResult(True, check.display_name or check.identity, check)


def check_channel(channel: Channel, *, by: Performer | None = None) -> CheckResult:
    """Try the channel's credentials against the platform and record its health; a channel
    whose credential is dead needs reconnecting. A paused or by-hand channel stays so."""
    if Capability.REFRESH_CREDENTIALS in channel.capabilities and _expires_soon(channel):
        refresh_credentials(channel)
        channel.refresh_from_db()
    if channel.connector_class.needs_token and not channel.get_credentials().access_token:
        # Nothing to try (a KakaoTalk channel that only receives chats has no Event API
        # key): say so without calling the platform or changing the channel's status.
        return CheckResult(False, _("No token is stored for this channel."))
    connector = connector_for(channel)
    try:
        check = connector.verify_credentials()
        result = CheckResult(True, check.display_name or check.identity, check)
    except (CredentialExpired, CredentialRevoked) as error:
        result = CheckResult(False, str(error))
        if channel.status != ChannelStatus.PAUSED:  # a paused channel stays paused
            _set_status(channel, ChannelStatus.NEEDS_RECONNECT, str(error), by)
    except PermissionMissing as error:
        result = CheckResult(False, str(error))
    except PlatformError as error:
        # The platform could not answer: say so, but a hiccup does not disconnect anyone.
        result = CheckResult(False, str(error))
    finally:
        connector.close()
    fields = ["last_checked_at", "last_check_ok"]
    channel.last_checked_at = timezone.now()
    channel.last_check_ok = result.ok
    if result.check is not None:
        channel.missing_scopes = list(result.check.missing_scopes)
        fields.append("missing_scopes")
        if result.check.expires_at:
            channel.credential_expires_at = result.check.expires_at
            fields.append("credential_expires_at")
        if channel.status == ChannelStatus.NEEDS_RECONNECT:
            _set_status(channel, channel.base_status, "", by)
    channel.save(update_fields=fields)
    notifications.notify_missing_permissions(channel)
    return result


def _expires_soon(channel: Channel) -> bool:
    expires = channel.credential_expires_at
    return expires is not None and expires - timezone.now() < REFRESH_AHEAD


def needs_reconnect(channel: Channel, reason: str) -> None:
    """A platform refused the channel's credential while Sotong was using it (publishing,
    carrying an edit): the channel waits for a person to reconnect it, its owners told."""
    _set_status(channel, ChannelStatus.NEEDS_RECONNECT, reason, None)


def _set_status(channel: Channel, status: str, reason: str, by: Performer | None) -> None:
    if channel.status == status and channel.status_reason == reason[:300]:
        return
    before = _status_snapshot(channel)
    channel.status = status
    channel.status_reason = reason[:300]
    channel.save(update_fields=["status", "status_reason"])
    audit.record(
        actor_of(by) if by is not None else audit.Actor.system("channels"),
        "channel.status",
        channel,
        organisation=channel.organisation,
        department=channel.department,
        before=before,
        after=_status_snapshot(channel),
    )
    if status == ChannelStatus.NEEDS_RECONNECT:
        notifications.notify_channel_held(channel, channel.status_reason)


@transaction.atomic
def pause_channel(by: Performer, channel: Channel, *, reason: str = "") -> Channel:
    """Stop publishing and polling on a channel; what is queued waits."""
    require(by, Permission.MANAGE_ORGANISATION, channel.organisation_id)
    _set_status(channel, ChannelStatus.PAUSED, reason or _("Paused by staff"), by)
    return channel


@transaction.atomic
def resume_channel(by: Performer, channel: Channel) -> Channel:
    require(by, Permission.MANAGE_ORGANISATION, channel.organisation_id)
    if channel.status != ChannelStatus.PAUSED:
        raise ValidationError(_("Only a paused channel can be resumed."))
    _set_status(channel, channel.base_status, "", by)
    return channel


@transaction.atomic
def rotate_webhook_secret(by: Performer, channel: Channel) -> Channel:
    """A new secret in the channel's webhook URL; the old URL stops working at once."""
    from sotong.channels.models import new_webhook_secret

    require(by, Permission.MANAGE_ORGANISATION, channel.organisation_id)
    channel.webhook_secret = new_webhook_secret()
    channel.save(update_fields=["webhook_secret"])
    audit.record(
        actor_of(by),
        "channel.rotate_webhook_secret",
        channel,
        organisation=channel.organisation,
        department=channel.department,
    )
    return channel


def refresh_credentials(channel: Channel) -> bool:
    """Refresh a short-lived token (X, YouTube) before it expires; True on success. A
    refresh the platform refuses marks the channel for reconnecting."""
    if Capability.REFRESH_CREDENTIALS not in channel.capabilities:
        return False
    used = channel.get_credentials().refresh_token
    connector = connector_for(channel)
    try:
        fresh = connector.refresh_credentials()
    except (CredentialExpired, CredentialRevoked) as error:
        # X retires a refresh token once used: if another process refreshed first, ours
        # was refused, yet the channel holds good new tokens. Not a reason to reconnect.
        channel.refresh_from_db()
        if channel.get_credentials().refresh_token != used:
            return True
        _set_status(channel, ChannelStatus.NEEDS_RECONNECT, str(error), None)
        return False
    except PlatformError as error:
        logger.warning("channel %s: refresh failed: %s", channel.pk, type(error).__name__)
        return False
    finally:
        connector.close()
    with transaction.atomic():
        locked = Channel.objects.select_for_update().get(pk=channel.pk)
        locked.set_credentials(fresh)
        locked.save(update_fields=["credentials", "credential_expires_at"])
        if locked.status == ChannelStatus.NEEDS_RECONNECT:
            # A process that lost the refresh race may have flagged it before we saved.
            _set_status(locked, locked.base_status, "", None)
        audit.record(
            audit.Actor.system("channels"),
            "channel.refresh_credentials",
            locked,
            organisation=locked.organisation,
            department=locked.department,
            after={"expires_at": fresh.expires_at},
        )
    return True


# -- inbound ------------------------------------------------------------------------------


def record_inbound(channel: Channel, items: list[InboundItem]) -> list[InboundEvent]:
    """Store what citizens sent, once per (channel, external id); returns the new events.
    A re-delivered or replayed item is recognised and not stored twice."""
    with transaction.atomic():
        return store_inbound([(channel, items)])[0]


# Rows per INSERT: 13 parameters each stays far below SQLite's and PostgreSQL's limits.
_INSERT_ROWS = 500
# last_webhook_at only proves the webhook works (a day's window): rewritten at most this
# often, not on every delivery.
WEBHOOK_TOUCH_EVERY = dt.timedelta(minutes=1)


def store_inbound(
    deliveries: Sequence[tuple[Channel, Sequence[InboundItem]]],
) -> list[list[InboundEvent]]:
    """Insert the items of each (channel, items) delivery, skipping any (channel, external
    id) already stored (or repeated earlier in ``deliveries``); returns each delivery's new
    events. Run inside a transaction. One INSERT … ON CONFLICT DO NOTHING RETURNING per
    500 rows (SQLite 3.35+ and PostgreSQL alike): a model save per row cost more than all
    the rest of a webhook."""
    fields = [f for f in InboundEvent._meta.concrete_fields if not f.primary_key]
    events = [
        [
            InboundEvent(
                organisation_id=channel.organisation_id,
                channel=channel,
                kind=item.kind.value,
                external_id=item.external_id,
                text=item.text,
                author_id=item.author_id,
                author_name=item.author_name,
                payload=json.dumps(dict(item.raw), ensure_ascii=False, default=str),
                post_external_id=item.post_external_id,
                parent_external_id=item.parent_external_id,
                conversation_id=item.conversation_id,
                occurred_at=item.created_at,
            )
            for item in items
        ]
        for channel, items in deliveries
    ]
    # In key order: two PostgreSQL transactions inserting overlapping keys in different
    # orders could deadlock on the unique index.
    flat = sorted(
        (event for group in events for event in group),
        key=lambda event: (event.channel_id, event.external_id),
    )
    inserted: dict[tuple[int, str], int] = {}
    for start in range(0, len(flat), _INSERT_ROWS):
        inserted.update(_insert_events(fields, flat[start : start + _INSERT_ROWS]))
    created: list[list[InboundEvent]] = []
    for group in events:
        new = []
        for event in group:
            pk = inserted.pop((event.channel_id, event.external_id), None)
            if pk is None:
                continue  # already have it
            event.pk = pk
            event._state.adding = False
            event._state.db = connection.alias
            new.append(event)
        created.append(new)
    return created


def _insert_events(
    fields: list[models.Field], events: list[InboundEvent]
) -> dict[tuple[int, str], int]:
    """Insert ``events`` in one statement; returns {(channel id, external id): pk} of the
    rows actually inserted."""
    quote = connection.ops.quote_name
    table = quote(InboundEvent._meta.db_table)
    columns = ", ".join(quote(str(f.column)) for f in fields)
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    sql = (
        f"INSERT INTO {table} ({columns}) VALUES {', '.join([row] * len(events))} "  # noqa: S608
        f"ON CONFLICT ({quote('channel_id')}, {quote('external_id')}) DO NOTHING "
        f"RETURNING {quote('id')}, {quote('channel_id')}, {quote('external_id')}"
    )
    # What the ORM's insert would send: defaults, encryption, the backend's date format.
    params = [
        f.get_db_prep_save(f.pre_save(event, True), connection) for event in events for f in fields
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {(channel_id, external_id): pk for pk, channel_id, external_id in cursor.fetchall()}


def touch_webhook_channels(channel_ids: Iterable[int], now: dt.datetime | None = None) -> None:
    """Record that these channels' webhooks deliver (see webhook_working)."""
    ids = sorted(set(channel_ids))
    if not ids:
        return
    now = now or timezone.now()
    Channel.objects.filter(pk__in=ids).filter(
        models.Q(last_webhook_at__isnull=True)
        | models.Q(last_webhook_at__lt=now - WEBHOOK_TOUCH_EVERY)
    ).update(last_webhook_at=now)


@dataclass(frozen=True)
class WebhookOutcome:
    response: WebhookResponse
    new_events: int = 0


# Platform kind → the function that answers a chat turn in the webhook's response (the
# chat app registers KakaoTalk's): (channel, parsed items, touch) → (response, events stored).
CONVERSATIONS: dict[str, Callable[..., tuple[WebhookResponse, int]]] = {}


def receive_webhook(
    channel: Channel, request: WebhookRequest, *, touch: bool = True
) -> WebhookOutcome:
    """Answer a platform's webhook call for ``channel``: its handshake, or a delivery that
    is verified, parsed and stored. Rejections are answered with 4xx and store nothing. A
    delivery is answered 200 only once it is committed (with other requests' deliveries,
    see intake); if the database cannot take it, 503 and the platform sends it again.
    ``touch=False``: the channel's last_webhook_at is recent, no need to rewrite it."""
    from sotong.channels import intake

    connector = connector_for(channel)
    try:
        handshake = connector.webhook_handshake(request)
        if handshake is not None:
            return WebhookOutcome(handshake)
        if request.method != "POST":
            return WebhookOutcome(WebhookResponse(405, b"method not allowed"))
        connector.verify_webhook(request)
        items = connector.parse_webhook(request)
    except WebhookRejected as rejection:
        status = 401 if rejection.reason in {"missing_signature", "bad_signature"} else 400
        logger.warning("channel %s: webhook rejected (%s)", channel.pk, rejection.reason)
        return WebhookOutcome(WebhookResponse(status, rejection.reason.encode()))
    else:
        conversation = CONVERSATIONS.get(channel.kind)
        if conversation is not None:
            # A chatbot platform: the answer is the bot's turn, not an acknowledgement.
            answer, new_events = conversation(channel, items, touch=touch)
            return WebhookOutcome(answer, new_events)
        routed = _route(channel, items)
        deliveries = [
            (target, _from_citizens(connector, group))
            if target is channel
            else (target, _from_citizens_of(target, group))
            for target, group in routed
        ]
        # Other Pages of the app: rare, and the update is conditional (touch_webhook_channels).
        touched = {target.pk for target, _ in routed if target is not channel}
        if touch:
            touched.add(channel.pk)
        try:
            stored = intake.commit(deliveries, touch=frozenset(touched))
        except (DatabaseError, intake.IntakeTimeout) as error:
            logger.error("channel %s: webhook not stored, asked to retry: %s", channel.pk, error)
            return WebhookOutcome(WebhookResponse(503, b"retry later"))
        return WebhookOutcome(connector.webhook_ack(items), sum(len(new) for new in stored))
    finally:
        connector.close()


def _route(channel: Channel, items: list[InboundItem]) -> list[tuple[Channel, list[InboundItem]]]:
    """Which channel each delivered item belongs to. A Meta or X app has one webhook for
    all its accounts, so a delivery that came in on one channel's address may carry items
    for the city's other Pages: they go to the channel of the same platform and app (the
    signature was checked with that app's secret). Items for accounts Sotong does not
    have are left out (the platform is still answered 200, or it would resend forever)."""
    groups: dict[str, list[InboundItem]] = {}
    for item in items:
        groups.setdefault(item.account_id or channel.account_id, []).append(item)
    routed: list[tuple[Channel, list[InboundItem]]] = []
    for account_id, group in groups.items():
        if account_id == channel.account_id:
            routed.append((channel, group))
            continue
        target = Channel.objects.filter(
            organisation_id=channel.organisation_id, kind=channel.kind, account_id=account_id
        ).first()
        if target is None or _app_of(target) != _app_of(channel):
            logger.warning(
                "channel %s: %d webhook items for an account Sotong does not have",
                channel.pk,
                len(group),
            )
            continue
        routed.append((target, group))
    return routed


def _app_of(channel: Channel) -> tuple[str, str]:
    extra = channel.get_credentials().extra
    return extra.get("app_id", ""), extra.get("app_secret", "") or extra.get("consumer_secret", "")


def _from_citizens_of(channel: Channel, items: list[InboundItem]) -> list[InboundItem]:
    """Our own replies come back through webhooks too."""
    connector = connector_for(channel)
    try:
        return _from_citizens(connector, items)
    finally:
        connector.close()


def register_webhook(by: Performer, channel: Channel, url: str) -> CheckResult:
    """Ask the platform to send the channel's events to ``url`` (Telegram's setWebhook, a
    Facebook Page's subscription to the app). Where the address is set in the platform's
    own console (Meta's app dashboard, Kakao's skill settings), the page shows it to copy."""
    require(by, Permission.MANAGE_ORGANISATION, channel.organisation_id)
    connector = connector_for(channel)
    try:
        connector.register_webhook(url)
    except PlatformError as error:
        return CheckResult(False, str(error))
    finally:
        connector.close()
    audit.record(
        actor_of(by),
        "channel.register_webhook",
        channel,
        organisation=channel.organisation,
        department=channel.department,
    )
    return CheckResult(True, url)


def warn_of_expiring_credentials() -> list[Channel]:
    """Channels whose credential runs out within a week and cannot be renewed by Sotong
    itself: each is recorded once per expiry date in the audit log, which the channel
    pages show, so owners hear of it before a post fails."""
    from sotong.channels.models import EXPIRY_WARNING_DAYS

    soon = timezone.now() + dt.timedelta(days=EXPIRY_WARNING_DAYS)
    warned = []
    for channel in Channel.objects.filter(
        credential_expires_at__isnull=False, credential_expires_at__lte=soon
    ).exclude(status=ChannelStatus.PAUSED):
        if (
            Capability.REFRESH_CREDENTIALS in channel.capabilities
            and channel.get_credentials().refresh_token
        ):
            continue  # renewed before expiry by refresh_expiring_credentials
        expires = channel.credential_expires_at.isoformat() if channel.credential_expires_at else ""
        already = AuditEntry.objects.filter(
            action="channel.expiry_warning",
            target_type=Channel._meta.label_lower,
            target_id=str(channel.pk),
            after__expires_at=expires,
        ).exists()
        if already:
            continue
        audit.record(
            audit.Actor.system("channels"),
            "channel.expiry_warning",
            channel,
            organisation=channel.organisation,
            department=channel.department,
            after={"expires_at": expires, "days_left": channel.days_until_expiry},
        )
        notifications.notify_credential_expiring(channel)
        warned.append(channel)
    return warned


# -- polling ------------------------------------------------------------------------------

POLLABLE = frozenset({Capability.FETCH_MESSAGES, Capability.LIST_COMMENTS})


# A webhook counts as working while deliveries keep coming within this long.
WEBHOOK_PROVEN_FOR = dt.timedelta(days=1)


def webhook_working(channel: Channel, now: dt.datetime | None = None) -> bool:
    last = channel.last_webhook_at
    return last is not None and (now or timezone.now()) - last < WEBHOOK_PROVEN_FOR


def poll_interval(channel: Channel) -> dt.timedelta:
    """Hourly as a net under a webhook that is delivering; as often as a platform without
    webhooks while none has arrived (not registered yet, or broken)."""
    return POLL_EVERY_WITH_WEBHOOKS if webhook_working(channel) else POLL_EVERY


def channels_due_for_polling(now: dt.datetime | None = None) -> list[Channel]:
    """Active channels whose platform can be asked for comments or messages, and whose
    next poll is due."""
    now = now or timezone.now()
    pollable_kinds = [
        kind
        for kind in Channel.objects.values_list("kind", flat=True).distinct()
        if connector_class(kind).capabilities & POLLABLE
    ]
    return list(
        Channel.objects.filter(status=ChannelStatus.ACTIVE, kind__in=pollable_kinds)
        .filter(models.Q(next_poll_at__isnull=True) | models.Q(next_poll_at__lte=now))
        .select_related("organisation", "department")
    )


@dataclass(frozen=True)
class PollResult:
    new_events: int
    error: str = ""
    # Not due, or another process was polling it.
    skipped: bool = False


def poll_channel(channel: Channel, *, now_asked: bool = False) -> PollResult:
    """Ask the platform for new comments on our recent posts and new messages, and store
    them once each. Safe to run again after a crash: what was stored is recognised, and the
    message cursor moves only after the messages it covers are stored. A channel is polled
    by one process at a time: the poll first claims it by moving its next poll time (a
    person's "collect now" claims it even when it is not due)."""
    now = timezone.now()
    next_poll = now + poll_interval(channel)
    claim = Channel.objects.filter(pk=channel.pk, status=ChannelStatus.ACTIVE)
    if not now_asked:
        claim = claim.filter(models.Q(next_poll_at__isnull=True) | models.Q(next_poll_at__lte=now))
    if not claim.update(next_poll_at=next_poll):
        return PollResult(0, skipped=True)
    channel.refresh_from_db(fields=["message_cursor", "credentials", "status"])
    connector = connector_for(channel)
    new = 0
    error = ""
    try:
        if connector.supports(Capability.FETCH_MESSAGES):
            items, cursor = connector.fetch_messages(channel.message_cursor)
            new += len(record_inbound(channel, _from_citizens(connector, items)))
            if cursor != channel.message_cursor:
                channel.message_cursor = cursor[:200]
                channel.save(update_fields=["message_cursor"])
        if connector.supports(Capability.LIST_COMMENTS) and connector.supports(
            Capability.LIST_POSTS
        ):
            since = timezone.now() - POLL_POSTS_WITHIN
            for post in connector.list_posts(limit=POLL_POSTS):
                if post.created_at is not None and post.created_at < since:
                    continue
                items = connector.list_comments(post.external_id)
                new += len(record_inbound(channel, _from_citizens(connector, items)))
    except RateLimited as limited:
        error = str(limited)
        next_poll = timezone.now() + dt.timedelta(seconds=max(limited.retry_after, 60))
    except CredentialExpired as expired:
        error = str(expired)
        # A short-lived token (X, YouTube) that ran out between refresh rounds: refresh it
        # and poll again soon; only a refused refresh needs a person.
        if refresh_credentials(channel):
            next_poll = timezone.now()
        elif Capability.REFRESH_CREDENTIALS not in channel.capabilities:
            _set_status(channel, ChannelStatus.NEEDS_RECONNECT, error, None)
    except CredentialRevoked as dead:
        error = str(dead)
        _set_status(channel, ChannelStatus.NEEDS_RECONNECT, error, None)
    except PlatformError as failure:
        # A hiccup: what was stored stays stored; the next poll picks up the rest.
        error = str(failure)
        logger.warning("channel %s: poll failed: %s", channel.pk, type(failure).__name__)
    finally:
        connector.close()
    channel.last_polled_at = timezone.now()
    channel.next_poll_at = next_poll
    channel.save(update_fields=["last_polled_at", "next_poll_at"])
    return PollResult(new, error)


def _from_citizens(connector: Connector, items: list[InboundItem]) -> list[InboundItem]:
    """Our own replies come back in comment threads; they are not citizens speaking."""
    return [item for item in items if not connector.is_own(item)]
