"""KakaoTalk's Event API: the one way to reach a KakaoTalk citizen who has not just written
(shared/docs/platform-apis.md §1). It is paid per delivered message (15 KRW + VAT), so a
city turns it on per channel:

- ``event_api`` (channel option, default off): staff replies go out at once through the
  Event API, each recorded with its price and counted per month;
- off: a reply is held (``ReplyState.HELD``) until the citizen writes again, and then goes
  with the bot's answer to that message (``actions.take_held_replies``).

``event_api_price`` (KRW per message including VAT, default 16.5) is what the counts cost.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from django.db.models import Count, Sum
from django.utils import timezone

from sotong.channels.models import Channel, PlatformKind
from sotong.core.models import Staff
from sotong.inbox.models import Reply, ReplyDelivery, ReplyState, price_text

OPTION = "event_api"
PRICE_OPTION = "event_api_price"
# 15 KRW + 10 % VAT (H: the Event API guide).
DEFAULT_PRICE = Decimal("16.5")
_TRUE = frozenset({"1", "true", "yes", "on"})


def is_kakao(channel: Channel) -> bool:
    return channel.kind == PlatformKind.KAKAO


def enabled(channel: Channel) -> bool:
    """Whether the city pays for the Event API on ``channel`` (a KakaoTalk channel)."""
    value = (channel.options or {}).get(OPTION, False)
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in _TRUE


def price(channel: Channel) -> Decimal:
    """KRW per message including VAT: the channel's ``event_api_price``, else 16.5."""
    value = (channel.options or {}).get(PRICE_OPTION)
    if value is None or value == "":
        return DEFAULT_PRICE
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return DEFAULT_PRICE
    return amount if amount.is_finite() and amount >= 0 else DEFAULT_PRICE


def holds(channel: Channel) -> bool:
    """A reply on ``channel`` cannot be sent now and waits for the citizen's next message:
    a KakaoTalk channel without the Event API."""
    return is_kakao(channel) and not enabled(channel)


@dataclass(frozen=True)
class Usage:
    """A channel's Event API messages in one month."""

    channel: Channel
    month: dt.date
    count: int
    cost: Decimal
    enabled: bool
    price: Decimal

    @property
    def cost_display(self) -> str:
        return price_text(self.cost)

    @property
    def price_display(self) -> str:
        return price_text(self.price)


def month_bounds(organisation_zone: str, at: dt.datetime | None = None) -> tuple[dt.datetime, ...]:
    """The calendar month around ``at`` in the organisation's time zone: (start, end)."""
    zone = ZoneInfo(organisation_zone)
    local = timezone.localtime(at or timezone.now(), zone)
    start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    following = (start + dt.timedelta(days=32)).replace(day=1)
    return start, following


def monthly_usage(channel: Channel, at: dt.datetime | None = None) -> Usage:
    """How many replies went out by the Event API on ``channel`` in the month of ``at``
    (now by default, in the city's time zone) and what they cost at the prices they were
    sent at."""
    start, end = month_bounds(channel.organisation.time_zone, at)
    figures = Reply.objects.filter(
        case__channel=channel,
        state=ReplyState.SENT,
        delivery=ReplyDelivery.EVENT_API,
        sent_at__gte=start,
        sent_at__lt=end,
    ).aggregate(count=Count("pk"), cost=Sum("price"))
    return Usage(
        channel=channel,
        month=start.date(),
        count=int(figures["count"] or 0),
        cost=Decimal(figures["cost"] or 0),
        enabled=enabled(channel),
        price=price(channel),
    )


def usage_for(staff: Staff, at: dt.datetime | None = None) -> list[Usage]:
    """This month's figures of the KakaoTalk channels ``staff`` sees (for the inbox)."""
    channels = (
        Channel.objects.for_staff(staff)
        .filter(kind=PlatformKind.KAKAO)
        .select_related("organisation")
        .order_by("name", "pk")
    )
    return [monthly_usage(channel, at) for channel in channels]
