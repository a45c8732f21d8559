"""The demo city's open poll: the name of the city newsletter, on the web page and in the
KakaoTalk chat, so `make demo` shows participation end to end."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.utils import timezone

from sotong.core.audit import Actor
from sotong.core.models import Department, Organisation
from sotong.participation import actions
from sotong.participation.models import Poll

OPTIONS = ["순천愛소식", "꽃누리", "순천人"]


def seed_demo_poll(
    organisation: Organisation, actor: Actor, progress: Callable[[str], None] = lambda step: None
) -> Poll | None:
    """Open a month-long poll if the city has none yet."""
    if Poll.objects.filter(organisation=organisation).exists():
        return None
    department = Department.objects.filter(organisation=organisation, code="mayor-office").first()
    if department is None:
        return None
    progress("poll")
    now = timezone.now()
    poll = actions.create_poll(
        actor,
        organisation,
        title="시 소식지 새 이름",
        question="순천시 소식지의 새 이름으로 어느 것이 좋을까요?",
        description="시민 여러분이 고른 이름으로 2027년 1월호부터 소식지를 펴냅니다.",
        department=department,
        opens_at=now,
        closes_at=now + dt.timedelta(days=30),
        options=OPTIONS,
    )
    return actions.open_voting(actor, poll)
