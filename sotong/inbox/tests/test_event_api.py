"""Staff replies to KakaoTalk citizens: by the Event API where the city pays for it (each
message priced and counted per month), else held until the citizen writes again and
delivered with the chat's answer (``take_held_replies``) exactly once, never lost."""

from __future__ import annotations

import datetime as dt
import json
import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from sotong.channels.models import Channel
from sotong.core.models import AuditEntry, Staff
from sotong.core.roles import Role
from sotong.inbox import actions, event_api, ingest
from sotong.inbox.models import (
    Case,
    CaseEvent,
    CaseEventKind,
    CaseStatus,
    InboxSettings,
    Reply,
    ReplyDelivery,
    ReplyPurpose,
    ReplyState,
    Sensitivity,
)

from .conftest import CITIZEN_KEY, KAKAO_BOT


@pytest.fixture
def editor(city, make_staff) -> Staff:
    return make_staff(city, Role.PR_EDITOR, "pr")


@pytest.fixture
def case(kakao_says) -> Case:
    kakao_says("우리 동네 가로등이 꺼졌어요")
    ingest.ingest_pending()
    return Case.objects.get()


@pytest.fixture
def no_survey(city) -> None:
    """Without the satisfaction question, one reply is one message."""
    InboxSettings.objects.create(organisation=city, ask_satisfaction_by_message=False)


def turn_on(channel: Channel, **options: str) -> Channel:
    channel.options = {**channel.options, "event_api": "true", **options}
    channel.save(update_fields=["options"])
    return channel


def talks(sim) -> list:
    return sim.simulator.recorded("kakao", "POST", f"/v2/bots/{KAKAO_BOT}/talk")


# -- the options ------------------------------------------------------------------------------


def test_the_event_api_is_off_unless_the_city_turns_it_on(kakao_channel, channel) -> None:
    assert not event_api.enabled(kakao_channel)
    assert event_api.holds(kakao_channel)
    assert event_api.price(kakao_channel) == Decimal("16.5")
    # Only KakaoTalk holds replies: the Facebook Page answers whenever it likes.
    assert not event_api.holds(channel)
    for value, on in (("true", True), ("1", True), (True, True), ("false", False), ("", False)):
        kakao_channel.options = {"event_api": value}
        assert event_api.enabled(kakao_channel) is on
    for value, price in (("20", Decimal(20)), ("abc", Decimal("16.5")), ("-3", Decimal("16.5"))):
        kakao_channel.options = {"event_api_price": value}
        assert event_api.price(kakao_channel) == price


def test_the_city_turns_the_event_api_on_when_connecting_the_channel(
    client, city, sim, kakao_bot, kakao_channel, make_staff
) -> None:
    admin = make_staff(city, Role.ADMIN)
    client.force_login(admin.user)
    url = reverse("channels:connect", args=["kakao"])
    form = client.get(url).content.decode()
    assert 'name="option_event_api"' in form
    assert "직원 답변을 이벤트 API로 보내기" in form
    assert (
        'name="option_event_api"'
        not in client.get(reverse("channels:connect", args=["facebook"])).content.decode()
    )
    # Reconnecting keeps the channel's other options (the event name, the price).
    kakao_channel.options = {"event_name": "sotong_reply", "event_api_price": "20"}
    kakao_channel.save(update_fields=["options"])
    posted = {
        "name": "순천시 카카오톡",
        "account_id": KAKAO_BOT,
        "access_token": kakao_bot.bots[KAKAO_BOT].rest_key,
        "api_base": sim.platform_url("kakao"),
        "option_event_api": "on",
    }
    assert client.post(url, posted).status_code == 302
    kakao_channel.refresh_from_db()
    assert kakao_channel.options == {
        "event_name": "sotong_reply",
        "event_api_price": "20",
        "event_api": "true",
    }
    assert event_api.enabled(kakao_channel)
    assert event_api.price(kakao_channel) == Decimal(20)
    del posted["option_event_api"]
    assert client.post(url, posted).status_code == 302
    kakao_channel.refresh_from_db()
    assert not event_api.enabled(kakao_channel)
    assert kakao_channel.options["event_api_price"] == "20"


# -- Event API off: held, then delivered with the citizen's next message ----------------------


def test_without_the_event_api_a_reply_is_held_and_never_sent_by_itself(
    sim, case, editor, kakao_channel
) -> None:
    answer = actions.reply(editor, case, "내일 오전 중으로 교체하겠습니다.", public=False)
    assert answer.state == ReplyState.HELD
    # No task, sweep or retry sends it: nothing goes to the platform.
    assert actions.send_reply(answer.pk) == ReplyState.HELD
    assert actions.send_due_replies() == {"sent": 0, "failed": 0, "waiting": 0}
    assert talks(sim) == []
    assert CaseEvent.objects.filter(case=case, kind=CaseEventKind.REPLY_HELD).count() == 1
    case.refresh_from_db()
    assert case.status != CaseStatus.ANSWERED
    assert AuditEntry.objects.get(action="reply.create").after["state"] == ReplyState.HELD


def test_held_replies_go_with_the_citizens_next_message_once_oldest_first(
    sim, case, editor, kakao_channel, kakao_says
) -> None:
    first = actions.reply(editor, case, "접수했습니다. 현장을 확인하겠습니다.", public=False)
    second = actions.reply(editor, case, "교체 일정은 내일 오전입니다.", public=False)
    # Another citizen's held reply stays theirs.
    kakao_says("우리 집 앞 보도블록이 깨졌어요", user="bot-user-key-0002")
    ingest.ingest_pending()
    other_case = Case.objects.exclude(pk=case.pk).get()
    other = actions.reply(editor, other_case, "확인하겠습니다.", public=False)

    with transaction.atomic():
        taken = actions.take_held_replies(kakao_channel, CITIZEN_KEY)
    answers = [reply for reply in taken if reply.purpose == ReplyPurpose.ANSWER]
    assert [reply.pk for reply in answers] == [first.pk, second.pk]
    # The answers asked the satisfaction question, which came along after them.
    assert [reply.purpose for reply in taken] == ["answer", "answer", "survey"]
    assert "1" in taken[-1].text
    assert "5" in taken[-1].text
    for reply in taken:
        reply.refresh_from_db()
        assert reply.state == ReplyState.SENT
        assert reply.delivery == ReplyDelivery.NEXT_MESSAGE
        assert reply.sent_at is not None
        assert reply.price is None  # the skill answer costs nothing
    case.refresh_from_db()
    assert case.status == CaseStatus.ANSWERED
    assert case.answered_at is not None
    assert case.survey.asked_at is not None
    sent_events = CaseEvent.objects.filter(case=case, kind=CaseEventKind.REPLY_SENT)
    assert [event.data["delivery"] for event in sent_events] == ["next_message"] * 3
    entries = AuditEntry.objects.filter(action="reply.sent")
    assert entries.count() == 3
    assert {entry.after["delivery"] for entry in entries} == {"next_message"}
    # Never twice, and nothing of the platform was called.
    assert actions.take_held_replies(kakao_channel, CITIZEN_KEY) == []
    assert talks(sim) == []
    other.refresh_from_db()
    assert other.state == ReplyState.HELD
    assert [reply.pk for reply in actions.take_held_replies(kakao_channel, "bot-user-key-0002")][
        :1
    ] == [other.pk]


def test_an_answer_that_cannot_be_built_puts_the_replies_back_on_hold(
    case, editor, kakao_channel, no_survey
) -> None:
    answer = actions.reply(editor, case, "내일 교체합니다.", public=False)

    class AnswerFailed(Exception):
        pass

    def answer_the_citizen() -> None:
        with transaction.atomic():
            assert len(actions.take_held_replies(kakao_channel, CITIZEN_KEY)) == 1
            raise AnswerFailed

    with pytest.raises(AnswerFailed):
        answer_the_citizen()
    answer.refresh_from_db()
    assert answer.state == ReplyState.HELD
    assert answer.sent_at is None
    assert not CaseEvent.objects.filter(case=case, kind=CaseEventKind.REPLY_SENT).exists()
    # The next message delivers it after all.
    assert [reply.pk for reply in actions.take_held_replies(kakao_channel, CITIZEN_KEY)] == [
        answer.pk
    ]


def test_approval_comes_first_then_the_hold(city, case, editor, make_staff, kakao_channel) -> None:
    actions.set_sensitivity(editor, case, Sensitivity.MARKED, "언론 문의")
    writer = make_staff(city, Role.PR_EDITOR, "pr")
    answer = actions.reply(writer, case, "사실관계를 확인 중입니다.", public=False)
    assert answer.state == ReplyState.AWAITING_APPROVAL
    # Not approved: the citizen's next message does not carry it.
    assert actions.take_held_replies(kakao_channel, CITIZEN_KEY) == []
    actions.approve_reply(editor, answer)
    answer.refresh_from_db()
    assert answer.state == ReplyState.HELD
    assert CaseEvent.objects.filter(case=case, kind=CaseEventKind.REPLY_HELD).exists()
    taken = actions.take_held_replies(kakao_channel, CITIZEN_KEY)
    assert taken[0].pk == answer.pk
    answer.refresh_from_db()
    assert (answer.state, answer.delivery) == (ReplyState.SENT, ReplyDelivery.NEXT_MESSAGE)


def test_a_reply_queued_before_the_event_api_was_turned_off_is_held(
    sim, case, editor, kakao_channel
) -> None:
    turn_on(kakao_channel)
    answer = actions.reply(editor, case, "곧 교체합니다.", public=False)
    assert answer.state == ReplyState.PENDING
    kakao_channel.options = {"event_api": "false"}
    kakao_channel.save(update_fields=["options"])
    assert actions.send_reply(answer.pk) == ReplyState.HELD
    answer.refresh_from_db()
    assert (answer.state, answer.attempts) == (ReplyState.HELD, 0)
    assert talks(sim) == []


def test_a_kakaotalk_reply_fits_one_speech_bubble(case, editor) -> None:
    with pytest.raises(ValidationError) as too_long:
        actions.reply(editor, case, "가" * 1001, public=False)
    assert "1000" in " ".join(too_long.value.messages)
    assert not Reply.objects.exists()


# -- Event API on: sent at once, priced and counted ---------------------------------------------


def test_with_the_event_api_replies_go_at_once_priced_and_counted(
    sim, case, editor, kakao_channel
) -> None:
    turn_on(kakao_channel)
    answer = actions.reply(editor, case, "내일 오전 중으로 교체하겠습니다.", public=False)
    assert answer.state == ReplyState.PENDING
    assert actions.send_reply(answer.pk) == ReplyState.SENT
    answer.refresh_from_db()
    assert answer.delivery == ReplyDelivery.EVENT_API
    assert answer.price == Decimal("16.5")
    [talk] = talks(sim)
    sent = json.loads(talk.body)
    assert sent["user"] == [{"type": "botUserKey", "id": CITIZEN_KEY}]
    assert sent["event"]["data"]["text"] == "내일 오전 중으로 교체하겠습니다."
    # The satisfaction question is an Event API message too: paid and counted.
    question = Reply.objects.get(purpose=ReplyPurpose.SURVEY)
    assert question.state == ReplyState.PENDING
    assert actions.send_reply(question.pk) == ReplyState.SENT
    usage = event_api.monthly_usage(kakao_channel)
    assert (usage.count, usage.cost, usage.enabled) == (2, Decimal("33.0"), True)
    assert usage.cost_display == "33"
    # Nothing is held for the citizen's next message.
    assert actions.take_held_replies(kakao_channel, CITIZEN_KEY) == []
    assert AuditEntry.objects.filter(action="reply.sent").first().after["delivery"] == "event_api"


def test_the_monthly_count_is_the_citys_month_at_the_price_of_each_message(
    case, editor, kakao_channel, no_survey
) -> None:
    turn_on(kakao_channel, event_api_price="20")
    for text in ("첫 답변", "두 번째 답변", "세 번째 답변"):
        answer = actions.reply(editor, case, text, public=False)
        assert actions.send_reply(answer.pk) == ReplyState.SENT
    first, second, third = Reply.objects.order_by("pk")
    # Sent at 23:30 on 31 March in Seoul (14:30 UTC): March's, not April's.
    march = dt.datetime(2026, 3, 31, 14, 30, tzinfo=dt.UTC)
    Reply.objects.filter(pk=first.pk).update(sent_at=march, price=Decimal("16.5"))
    # 00:10 on 1 April in Seoul is still 31 March in UTC: April's.
    april = dt.datetime(2026, 3, 31, 15, 10, tzinfo=dt.UTC)
    Reply.objects.filter(pk=second.pk).update(sent_at=april)
    in_march = event_api.monthly_usage(kakao_channel, dt.datetime(2026, 3, 15, tzinfo=dt.UTC))
    in_april = event_api.monthly_usage(kakao_channel, dt.datetime(2026, 4, 20, tzinfo=dt.UTC))
    assert (in_march.count, in_march.cost) == (1, Decimal("16.5"))
    assert (in_april.count, in_april.cost) == (1, Decimal("20"))
    assert in_april.month == dt.date(2026, 4, 1)
    # The third went out now, at the channel's price now.
    now = event_api.monthly_usage(kakao_channel)
    assert (now.count, now.cost) == (1, Decimal("20"))
    assert third.sent_at is not None


def test_a_refused_event_api_message_is_failed_not_counted(sim, case, editor, kakao_channel):
    turn_on(kakao_channel)
    sim.simulator["kakao"].bots[KAKAO_BOT].wallet = False  # no wallet: Kakao refuses
    answer = actions.reply(editor, case, "답변입니다.", public=False)
    assert actions.send_reply(answer.pk) == ReplyState.FAILED
    answer.refresh_from_db()
    assert answer.delivery == ReplyDelivery.PLATFORM
    assert event_api.monthly_usage(kakao_channel).count == 0
    # Sent again after the city turned the Event API off: held for the citizen instead.
    kakao_channel.options = {"event_api": "false"}
    kakao_channel.save(update_fields=["options"])
    assert actions.retry_reply(editor, answer).state == ReplyState.HELD


# -- the pages ----------------------------------------------------------------------------------


def test_the_case_page_says_how_each_reply_reached_the_citizen(
    client, case, editor, kakao_channel
) -> None:
    client.force_login(editor.user)
    saved = client.post(
        reverse("inbox:case_action", args=[case.pk, "reply"]),
        {"text": "보류된 답변", "visibility": "private"},
        follow=True,
    )
    assert "시민이 다음에 메시지를 보내면 카카오톡으로 함께 전달됩니다" in saved.content.decode()
    held = Reply.objects.get()
    assert held.state == ReplyState.HELD
    page = client.get(reverse("inbox:case", args=[case.pk])).content.decode()
    assert "시민의 다음 메시지를 기다리는 중" in page
    assert 'id="kakao-delivery"' in page
    actions.take_held_replies(kakao_channel, CITIZEN_KEY)
    turn_on(kakao_channel)
    paid = actions.reply(editor, case, "이벤트 API 답변", public=False)
    actions.send_reply(paid.pk)
    page = client.get(reverse("inbox:case", args=[case.pk])).content.decode()
    delivered = page.split(f'id="reply-{held.pk}"', 1)[1].split("</li>", 1)[0]
    assert "시민의 다음 메시지에 함께 전달됨" in delivered
    by_event = page.split(f'id="reply-{paid.pk}"', 1)[1].split("</li>", 1)[0]
    assert "카카오톡 이벤트 API로 보냄 (16.5원)" in by_event


def test_the_inbox_shows_the_months_event_api_count_and_cost(
    client, case, editor, kakao_channel, no_survey
) -> None:
    client.force_login(editor.user)
    page = client.get(reverse("inbox:index")).content.decode()
    assert 'id="event-api-usage"' in page
    assert "순천시 카카오톡" in page
    turn_on(kakao_channel)
    for text in ("하나", "둘"):
        actions.send_reply(actions.reply(editor, case, text, public=False).pk)
    page = client.get(reverse("inbox:index")).content.decode()
    usage = page.split('id="event-api-usage"', 1)[1].split("</section>", 1)[0]
    assert "2" in usage
    assert "33원" in usage
    assert "16.5원" in usage
    # The polled fragment does not compute it again every 10 seconds.
    fragment = client.get(reverse("inbox:index"), {"fragment": "1"}).content.decode()
    assert "event-api-usage" not in fragment


def test_a_department_sees_no_other_departments_kakaotalk_figures(
    city, client, case, make_staff, kakao_channel
) -> None:
    from sotong.conftest import department

    kakao_channel.department = department(city, "roads")
    kakao_channel.save(update_fields=["department"])
    sewer = make_staff(city, Role.DEPARTMENT_RESPONDER, "sewer")
    assert event_api.usage_for(sewer) == []
    client.force_login(sewer.user)
    assert 'id="event-api-usage"' not in client.get(reverse("inbox:index")).content.decode()


# -- two requests at once (PostgreSQL row locks) -------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_requests_at_once_deliver_a_held_reply_once(
    city, kakao_channel, kakao_says, make_staff
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("SQLite takes one writer at a time (IMMEDIATE transactions): no race")
    InboxSettings.objects.create(organisation=city, ask_satisfaction_by_message=False)
    kakao_says("가로등 고장")
    ingest.ingest_pending()
    case = Case.objects.get()
    answer = actions.reply(
        make_staff(city, Role.PR_EDITOR, "pr"), case, "교체합니다.", public=False
    )
    first_took = threading.Event()
    release = threading.Event()
    results: dict[str, list[int]] = {}

    def first() -> None:
        try:
            with transaction.atomic():
                results["first"] = [
                    r.pk for r in actions.take_held_replies(kakao_channel, CITIZEN_KEY)
                ]
                first_took.set()
                release.wait(10)
        finally:
            connection.close()

    def second() -> None:
        try:
            with transaction.atomic():
                results["second"] = [
                    r.pk for r in actions.take_held_replies(kakao_channel, CITIZEN_KEY)
                ]
        finally:
            connection.close()

    one = threading.Thread(target=first)
    one.start()
    assert first_took.wait(10)
    two = threading.Thread(target=second)
    two.start()
    two.join(0.5)
    assert two.is_alive()  # waiting for the first request's lock
    release.set()
    one.join(10)
    two.join(10)
    assert results == {"first": [answer.pk], "second": []}
    answer.refresh_from_db()
    assert answer.state == ReplyState.SENT
    assert answer.sent_at <= timezone.now()
    assert CaseEvent.objects.filter(kind=CaseEventKind.REPLY_SENT).count() == 1
