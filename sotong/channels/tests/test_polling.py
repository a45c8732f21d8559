"""Polling: what platforms do not push is read on a schedule, stored once, and a failed or
interrupted poll loses nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from sotong.channels import actions
from sotong.channels.models import Channel, ChannelStatus, InboundEvent
from sotong.channels.tasks import poll_due_channels
from sotong.conftest import SYSTEM
from sotong.platforms.base import Credentials
from sotong.simulator.core import Fault, FaultKind

PAGE_ID = "104220000000001"


@pytest.fixture
def page(sim):
    return sim.simulator["facebook"]


@pytest.fixture
def channel(city, sim, page) -> Channel:
    token = page.add_page(PAGE_ID, "순천시")
    return actions.connect_channel(
        SYSTEM,
        city,
        kind="facebook",
        name="순천시 페이스북",
        account_id=PAGE_ID,
        credentials=Credentials(access_token=token, extra={"app_secret": "sim-app-secret"}),
        api_base=sim.platform_url("facebook"),
    )


def citizens_speak(page) -> dict[str, str]:
    """No webhook target is set: only a poll can find these."""
    post = page.add_post(PAGE_ID, "조례동 하수관로 공사 안내")
    asked = page.citizen_comment(post["id"], "6011", "박시민", "공사 언제 끝나요?")
    wrote = page.citizen_message(PAGE_ID, "7012345678901234", "여권 재발급은 어디서 하나요?")
    return {"post": post["id"], "comment": asked["id"], "message": wrote["id"]}


def test_poll_stores_comments_and_messages_once(channel, page) -> None:
    said = citizens_speak(page)
    first = actions.poll_channel(channel)
    assert (first.new_events, first.error) == (2, "")
    events = {e.external_id: e for e in InboundEvent.objects.filter(channel=channel)}
    assert set(events) == {said["comment"], said["message"]}
    assert events[said["comment"]].text == "공사 언제 끝나요?"
    assert events[said["comment"]].post_external_id == said["post"]
    # A poll that is not due is skipped; one run anyway (another worker's, or a
    # person's "collect now") stores nothing twice.
    assert actions.poll_channel(channel).skipped
    assert actions.poll_channel(channel, now_asked=True).new_events == 0
    assert InboundEvent.objects.filter(channel=channel).count() == 2
    channel.refresh_from_db()
    assert channel.message_cursor
    # No webhook delivery has arrived yet: polled as often as a platform without them.
    assert channel.next_poll_at < timezone.now() + dt.timedelta(minutes=6)
    Channel.objects.filter(pk=channel.pk).update(last_webhook_at=timezone.now())
    channel.refresh_from_db()
    assert actions.poll_interval(channel) == actions.POLL_EVERY_WITH_WEBHOOKS


def test_our_own_replies_are_not_taken_for_citizens(channel, page) -> None:
    said = citizens_speak(page)
    from sotong.channels.actions import connector_for

    connector = connector_for(channel)
    comment = next(c for c in connector.list_comments(said["post"]))
    connector.reply_to_comment(comment, "12월 5일에 끝납니다.")
    connector.close()
    actions.poll_channel(channel)
    stored = InboundEvent.objects.filter(channel=channel)
    assert sorted(stored.values_list("kind", flat=True)) == ["comment", "message"]
    assert "12월 5일에 끝납니다." not in [event.text for event in stored]


def test_a_poll_cut_short_keeps_what_it_read_and_the_next_one_finishes(channel, page, sim) -> None:
    said = citizens_speak(page)
    # Messages are read, then the platform fails while listing posts.
    sim.simulator.inject("facebook", Fault(FaultKind.SERVER_ERROR, path_pattern=r"/posts$"))
    result = actions.poll_channel(channel)
    assert result.error
    assert list(InboundEvent.objects.values_list("external_id", flat=True)) == [said["message"]]
    assert actions.poll_channel(channel, now_asked=True).new_events == 1
    assert InboundEvent.objects.count() == 2


def test_rate_limit_pushes_the_next_poll_back(channel, page, sim) -> None:
    citizens_speak(page)
    sim.simulator.inject("facebook", Fault(FaultKind.RATE_LIMITED))
    result = actions.poll_channel(channel)
    assert "Facebook" in result.error
    channel.refresh_from_db()
    assert channel.next_poll_at >= timezone.now() + dt.timedelta(seconds=59)
    assert channel not in actions.channels_due_for_polling()


def test_a_dead_token_marks_the_channel_for_reconnecting(channel, page) -> None:
    page.revoke_token(channel.get_credentials().access_token)
    actions.poll_channel(channel)
    channel.refresh_from_db()
    assert channel.status == ChannelStatus.NEEDS_RECONNECT
    assert channel not in actions.channels_due_for_polling()


def test_the_periodic_task_polls_due_active_channels_only(channel, page) -> None:
    citizens_speak(page)
    actions.pause_channel(SYSTEM, channel)
    assert poll_due_channels.call() == {"channels": 0, "new_events": 0, "failed": 0}
    actions.resume_channel(SYSTEM, channel)
    assert poll_due_channels.call() == {"channels": 1, "new_events": 2, "failed": 0}
    # Not due again until its interval has passed.
    assert poll_due_channels.call()["channels"] == 0
    later = timezone.now() + dt.timedelta(hours=2)
    assert channel in actions.channels_due_for_polling(later)


def test_staff_collect_now_from_the_channel_page(client, channel, page, make_staff, city) -> None:
    from django.urls import reverse

    from sotong.core.roles import Role

    citizens_speak(page)
    admin = make_staff(city, Role.ADMIN)
    client.force_login(admin.user)
    detail = client.get(reverse("channels:detail", args=[channel.pk])).content.decode()
    assert "웹훅 수신 기록 없음: 수신될 때까지 5분마다 수집" in detail
    response = client.post(reverse("channels:action", args=[channel.pk, "poll"]), follow=True)
    assert "새 댓글과 메시지 2건을 수집했습니다." in response.content.decode()
    assert "마지막 수집" in response.content.decode()


def test_band_our_replies_written_as_a_person_are_not_taken_for_citizens(city, sim) -> None:
    """Band has no webhooks: a poll is the only way comments arrive, and the city's replies
    are written under the staff member's user key, not the band's."""
    from sotong.simulator.band import DEMO_ACCOUNTS

    band = sim.simulator["band"]
    account = DEMO_ACCOUNTS[0]
    band.populate_demo(account, "")
    channel = actions.connect_channel(
        SYSTEM,
        city,
        kind="band",
        name=account.name,
        account_id=account.account_id,
        credentials=Credentials(access_token=account.token),
        api_base=sim.platform_url("band"),
    )
    assert actions.poll_interval(channel) == actions.POLL_EVERY
    connector = actions.connector_for(channel)
    post_key = connector.list_posts()[0].external_id
    band.citizen_comment(post_key, "citizen-1", "김시민", "우회도로는 어디인가요?")
    question = connector.list_comments(post_key)[-1]
    connector.reply_to_comment(question, "연향로로 우회하시면 됩니다.")
    connector.close()
    result = actions.poll_channel(channel)
    stored = InboundEvent.objects.filter(channel=channel)
    assert [event.text for event in stored] == ["우회도로는 어디인가요?"]
    assert result.new_events == 1


def test_an_expired_token_is_refreshed_and_polled_again(city, sim) -> None:
    """X tokens live two hours: one that ran out between refresh rounds is refreshed by the
    poll itself, not turned into a reconnect."""
    from sotong.simulator.x import DEMO_ACCOUNTS

    account = DEMO_ACCOUNTS[0]
    x = sim.simulator["x"]
    x.populate_demo(account, "")
    sim.simulator.webhook_targets.clear()
    channel = actions.connect_channel(
        SYSTEM,
        city,
        kind="x",
        name=account.name,
        account_id=account.account_id,
        credentials=Credentials(
            access_token=account.token,
            refresh_token=account.refresh_token,
            extra=dict(account.extra),
        ),
        api_base=sim.platform_url("x"),
    )
    sim.simulator.inject("x", Fault(FaultKind.TOKEN_EXPIRED))
    result = actions.poll_channel(channel)
    channel.refresh_from_db()
    assert result.error
    assert channel.status == ChannelStatus.ACTIVE
    assert channel.get_credentials().access_token != account.token  # refreshed
    assert channel.next_poll_at <= timezone.now()  # and polled again at once
    assert not actions.poll_channel(channel).error


def test_two_pollers_at_once_poll_once(channel, page, sim) -> None:
    citizens_speak(page)
    stale = Channel.objects.get(pk=channel.pk)
    assert not actions.poll_channel(channel).skipped
    assert actions.poll_channel(stale).skipped  # the other worker's copy was due too
    assert len(sim.simulator.recorded("facebook", "GET", "/conversations")) == 1
