"""The KakaoTalk conversation through the skill URL, as Kakao calls it: menu, FAQ, complaint
intake with a photo, status, hand-off to staff and back, and the requests refused."""

from __future__ import annotations

import datetime as dt
import json
from importlib import resources

import pytest
from django.urls import reverse

from sotong.channels.models import InboundEvent
from sotong.chat import actions
from sotong.chat.models import ChatSession, ChatTurn, Owner, Step
from sotong.chat.tests.conftest import SKILL_SECRET
from sotong.conftest import SYSTEM
from sotong.core.roles import Role
from sotong.inbox import actions as inbox
from sotong.inbox import ingest, triage
from sotong.inbox.models import Case, CaseStatus, Reply, ReplyState
from sotong.platforms.kakao import SKILL_SECRET_HEADER, validate_skill_response

PHOTO = "https://talk.kakaocdn.net/dna/test/photo-1.jpg"


def session_of(user: str = "user-key-0001") -> ChatSession:
    return ChatSession.objects.get(
        citizen_key=ingest.pseudonym(ChatSession.objects.first().channel_id, user)
    )


def test_first_words_get_the_menu(citizen) -> None:
    said = citizen("안녕하세요")
    assert said.status == 200
    assert "순천시" in said.text
    assert said.labels == [
        "민원 접수",
        "생활 정보",
        "행사·축제",
        "주간꿀팁",
        "처리 현황",
        "상담원 연결",
    ]
    session = ChatSession.objects.get()
    assert session.owner == Owner.BOT
    assert session.turns == 1
    # Menu turns are the transcript's, not the inbox's.
    assert not InboundEvent.objects.exists()
    assert ChatTurn.objects.get().what == "menu"


def test_a_question_the_faq_knows_is_answered_and_rated(citizen, faq_entries) -> None:
    citizen("처음으로")
    said = citizen("음식물쓰레기 버리는 날이 언제예요?")
    assert "일요일부터 목요일까지" in said.texts[0]
    assert said.texts[1] == "도움이 되었나요?"
    assert said.labels[:2] == ["도움이 됐어요", "도움이 안 됐어요"]
    thanks = citizen("도움이 됐어요")
    assert "다행" in thanks.text
    turns = list(ChatTurn.objects.order_by("at", "pk").values_list("what", flat=True))
    assert turns == ["menu", "faq", "faq_helped"]
    assert not Case.objects.exists()


def test_personal_data_in_the_transcript_is_masked_and_the_original_encrypted(citizen) -> None:
    citizen("제 번호는 010-1234-5678 이에요")
    turn = ChatTurn.objects.get()
    assert "1234" not in turn.masked
    assert "5678" in turn.masked
    assert turn.said == "제 번호는 010-1234-5678 이에요"
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT said FROM chat_chatturn WHERE id = %s", [turn.pk])
        stored = cursor.fetchone()[0]
    assert "010-1234" not in stored


def test_an_unhelpful_answer_hands_the_citizen_to_staff(citizen, faq_entries) -> None:
    citizen("음식물쓰레기 버리는 날 알려주세요")
    said = citizen("도움이 안 됐어요")
    assert "담당자" in said.text or "직원" in said.text
    session = session_of()
    assert session.owner == Owner.STAFF
    case = session.case
    assert case is not None
    assert case.status == CaseStatus.NEW
    message = case.messages.get()
    # Staff see what was asked and answered before the hand-off.
    assert "음식물쓰레기 버리는 날 알려주세요" in message.text
    assert "일요일부터 목요일까지" in message.text


def test_two_questions_the_bot_cannot_answer_go_to_a_person(citizen, faq_entries) -> None:
    citizen("처음으로")
    first = citizen("시립도서관 휴관일이 궁금합니다")
    assert "상담원 연결" in first.labels
    assert session_of().owner == Owner.BOT
    citizen("주말에 시립도서관 여나요")
    assert session_of().owner == Owner.STAFF
    assert Case.objects.count() == 1


def intake(
    citizen,
    *,
    what: str = "집 앞 도로에 큰 구멍이 생겨서 차가 다니기 위험해요",
    user: str = "user-key-0001",
):
    citizen("민원 접수", user=user)
    where = citizen(what, user=user)
    assert "어디" in where.text
    when = citizen("조례동 123-4 앞", user=user)
    assert "방금" in when.labels
    photo = citizen("어제", user=user)
    assert "사진 없음" in photo.labels
    return photo


def test_a_complaint_with_a_photo_gets_a_receipt_and_becomes_a_case(citizen) -> None:
    intake(citizen)
    more = citizen(photos=(PHOTO,))
    assert "1" in more.text
    assert "다음" in more.labels
    consent = citizen("다음")
    assert "개인정보" in consent.text
    assert consent.labels == ["동의합니다", "동의하지 않습니다"]
    confirm = citizen("동의합니다")
    assert "조례동 123-4" in confirm.text
    assert "사진: 1" in confirm.text
    receipt = citizen("접수하기")
    case = Case.objects.get()
    assert f"접수번호 {case.pk}" in receipt.text.replace("No. ", "")
    assert "시행령" in receipt.text
    assert receipt.labels == ["처리 현황", "처음으로"]
    message = case.messages.get()
    assert "큰 구멍" in message.text
    assert "조례동 123-4" in message.text
    event = InboundEvent.objects.get(pk=message.event_id)
    assert json.loads(event.payload)["attachments"] == [{"kind": "image", "url": PHOTO}]
    session = session_of()
    assert session.step == Step.MENU
    assert session.draft == ""
    assert session.case_id == case.pk
    # Pressing 접수하기 again (or Kakao showing the button twice) makes no second case.
    citizen("접수하기")
    assert Case.objects.count() == 1
    # A second complaint is a case of its own, not a follow-up of the first.
    intake(citizen, what="공원 가로등이 며칠째 꺼져 있어요")
    citizen("사진 없음")
    citizen("동의합니다")
    citizen("접수하기")
    assert Case.objects.count() == 2
    assert session_of().case_id == Case.objects.exclude(pk=case.pk).get().pk


def test_an_answer_to_a_complaint_reaches_the_citizen_with_their_next_message(
    citizen, make_staff, city
) -> None:
    intake(citizen)
    citizen("사진 없음")
    citizen("동의합니다")
    citizen("접수하기")
    case = Case.objects.get()
    answer = inbox.reply(
        make_staff(city, Role.PR_EDITOR), case, "내일 보수하겠습니다.", public=False
    )
    assert answer.state == ReplyState.HELD
    said = citizen("처음으로")
    assert said.texts[0] == "내일 보수하겠습니다."
    assert "민원 접수" in said.labels


def test_refusing_consent_deletes_the_draft_and_makes_no_case(citizen) -> None:
    intake(citizen)
    citizen("사진 없음")
    refused = citizen("동의하지 않습니다")
    assert "120" in refused.text
    session = session_of()
    assert session.draft == ""
    assert session.step == Step.MENU
    assert not Case.objects.exists()
    assert not InboundEvent.objects.exists()


def test_cancel_at_any_step_and_an_expired_draft_is_forgotten(citizen) -> None:
    citizen("민원 접수")
    citizen("가로등이 고장나서 밤에 너무 어두워요")
    cancelled = citizen("취소")
    assert "삭제" in cancelled.text
    assert session_of().draft == ""
    citizen("민원 접수")
    citizen("가로등이 고장나서 밤에 너무 어두워요")
    ChatSession.objects.update(last_active_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    later = citizen("조례동")
    assert "시간이 지나" in later.text
    assert session_of().step == Step.MENU


def test_status_shows_only_the_citizens_own_cases(citizen) -> None:
    intake(citizen)
    citizen("사진 없음")
    citizen("동의합니다")
    citizen("접수하기")
    mine = Case.objects.get()
    intake(citizen, user="someone-else", what="공원 화장실 세면대가 막혀서 물이 넘쳐요")
    citizen("사진 없음", user="someone-else")
    citizen("동의합니다", user="someone-else")
    citizen("접수하기", user="someone-else")
    theirs = Case.objects.exclude(pk=mine.pk).get()
    listed = citizen("처리 현황")
    assert f"{mine.pk}번" in listed.text
    assert f"{theirs.pk}번" not in listed.text
    assert listed.labels == [f"{mine.pk}번", "처음으로"]
    detail = citizen(f"{mine.pk}번")
    assert "신규" in detail.text or "접수" in detail.text
    assert "처리 기한" in detail.text
    citizen("처리 현황")
    refused = citizen(f"{theirs.pk}")
    assert "없습니다" in refused.text or "없어요" in refused.text
    assert "공원" not in refused.text


def test_while_staff_own_the_conversation_the_bot_is_silent_and_replies_wait(
    citizen, make_staff, city, faq_entries
) -> None:
    citizen("상담원 연결")
    session = session_of()
    assert session.owner == Owner.STAFF
    # A question the FAQ knows is not answered by the bot now: it is for staff.
    passed = citizen("음식물쓰레기 버리는 날 알려주세요")
    assert "일요일" not in passed.text
    assert InboundEvent.objects.count() == 2
    ingest.ingest_pending()
    case = Case.objects.get()
    assert case.messages.count() == 2
    # The FAQ does not answer a case the chatbot handed over.
    triage.triage_pending()
    assert not Reply.objects.exists()
    editor = make_staff(city, Role.PR_EDITOR)
    answer = inbox.reply(
        editor, case, "담당자입니다. 내일 오전에 현장 확인하겠습니다.", public=False
    )
    assert answer.state == ReplyState.HELD  # the Event API is not enabled
    next_turn = citizen("감사합니다")
    assert next_turn.texts[0] == "담당자입니다. 내일 오전에 현장 확인하겠습니다."
    answer.refresh_from_db()
    assert answer.state == ReplyState.SENT
    # Delivered once: the following turn does not repeat it.
    again = citizen("네")
    assert "현장 확인" not in again.text


def test_the_citizen_or_a_closed_case_gives_the_conversation_back_to_the_bot(
    citizen, make_staff, city
) -> None:
    citizen("상담원 연결")
    back = citizen("처음으로")
    assert session_of().owner == Owner.BOT
    assert "민원 접수" in back.labels
    citizen("상담원 연결")
    assert session_of().owner == Owner.STAFF
    case = session_of().case
    inbox.close(make_staff(city), case)
    menu = citizen("안녕하세요")
    assert session_of().owner == Owner.BOT
    assert "민원 접수" in menu.labels


def test_staff_can_hand_the_conversation_back(citizen, make_staff, city) -> None:
    citizen("상담원 연결")
    session = actions.hand_back_to_bot(make_staff(city), session_of())
    assert session.owner == Owner.BOT


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"secret": "wrong"}, 401),
        ({"body": b"{not json"}, 400),
        ({"bot": "someone-elses-bot"}, 400),
        ({"no_user": True}, 400),
    ],
)
def test_foreign_or_malformed_requests_are_refused_with_no_side_effect(
    client, kakao_channel, change, status
) -> None:
    from sotong.chat.tests.conftest import sample_request

    payload = sample_request()
    if "bot" in change:
        payload["bot"]["id"] = change["bot"]
    if change.get("no_user"):
        del payload["userRequest"]["user"]
    body = change.get("body") or json.dumps(payload).encode()
    response = client.post(
        reverse("channels:webhook", args=["kakao", kakao_channel.webhook_secret]),
        data=body,
        content_type="application/json",
        headers={SKILL_SECRET_HEADER: change.get("secret", SKILL_SECRET)},
    )
    assert response.status_code == status
    assert not ChatSession.objects.exists()
    assert not InboundEvent.objects.exists()


def test_a_turn_that_lost_a_race_is_decided_again(citizen) -> None:
    citizen("안녕하세요")
    session = session_of()
    stale = session.turns
    ChatSession.objects.filter(pk=session.pk).update(turns=stale + 1)
    with pytest.raises(actions._Conflict):
        actions._save(session, stale)
    said = citizen("민원 접수")
    assert "어떤 불편" in said.text or "문제" in said.text


def test_settings_are_validated_and_used(citizen, city) -> None:
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as error:
        actions.update_settings(
            SYSTEM,
            city,
            greeting="",
            menu=[{"label": "아주아주아주아주긴라벨이름입니다", "action": "intake"}],
            consent_text="",
            retention_years=3,
            idle_minutes=30,
        )
    assert "14" in str(error.value)
    actions.update_settings(
        SYSTEM,
        city,
        greeting="순천시 챗봇입니다.",
        menu=[
            {"label": "민원 접수", "action": "intake"},
            {"label": "운영 시간", "action": "text", "value": "평일 9시부터 6시까지 운영합니다."},
        ],
        consent_text="",
        retention_years=3,
        idle_minutes=30,
    )
    said = citizen("처음으로")
    assert said.texts == ["순천시 챗봇입니다."]
    assert said.labels == ["민원 접수", "운영 시간"]
    assert citizen("운영 시간").texts == ["평일 9시부터 6시까지 운영합니다."]


def test_idle_drafts_are_deleted(citizen) -> None:
    citizen("민원 접수")
    citizen("가로등이 고장나서 밤에 너무 어두워요")
    assert actions.forget_idle_drafts() == 0
    ChatSession.objects.update(last_active_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    assert actions.forget_idle_drafts() == 1
    assert session_of().draft == ""


SAMPLES = sorted(
    path.name
    for path in resources.files("sotong.platforms").joinpath("fixtures/kakao").iterdir()
    if path.name.startswith("skill_request")
)


@pytest.mark.parametrize("name", SAMPLES)
def test_every_documented_sample_request_gets_a_valid_answer(
    client, kakao_channel, faq_entries, name
) -> None:
    """Kakao's sample requests (the fallback block, a quick reply with its block and extra,
    a photo by the secureimage plugin or as its address, 지식+ matches, callback enabled,
    detail parameters), each answered within the response format's limits."""
    body = resources.files("sotong.platforms").joinpath(f"fixtures/kakao/{name}").read_bytes()
    response = client.post(
        reverse("channels:webhook", args=["kakao", kakao_channel.webhook_secret]),
        data=body,
        content_type="application/json;charset=UTF-8",
        headers={SKILL_SECRET_HEADER: SKILL_SECRET},
    )
    assert response.status_code == 200
    answer = response.json()
    assert validate_skill_response(answer) == []
    assert answer["template"]["outputs"]
    assert ChatSession.objects.count() == 1


def test_a_citizen_votes_in_the_chat(citizen, city) -> None:
    from django.utils import timezone

    from sotong.conftest import department
    from sotong.participation import actions as participation

    now = timezone.now()
    poll = participation.open_voting(
        SYSTEM,
        participation.create_poll(
            SYSTEM,
            city,
            title="소식지 이름",
            question="어느 이름이 좋을까요?",
            department=department(city, "pr"),
            opens_at=now - dt.timedelta(hours=1),
            closes_at=now + dt.timedelta(days=1),
            options=["순천愛소식", "꽃누리", "순천人"],
        ),
    )
    asked = citizen("투표")
    assert "어느 이름이 좋을까요?" in asked.text
    assert asked.labels[:3] == ["1. 순천愛소식", "2. 꽃누리", "3. 순천人"]
    unclear = citizen("모르겠어요")
    assert "다시 골라" in unclear.text
    done = citizen("2. 꽃누리")
    assert "2. 꽃누리에 투표하셨어요" in done.text
    citizen("투표")
    citizen("3")  # the same person again: kept, not counted
    assert [option.votes for option in participation.count(poll).options] == [0, 1, 0]


def test_a_menu_item_shows_the_latest_posts_of_its_topic(citizen, city, kakao_channel) -> None:
    from django.utils import timezone

    from sotong.conftest import department
    from sotong.publishing.models import Post, Publication, PublicationState, Variant

    empty = citizen("행사·축제")
    assert "아직 올라온 소식이 없어요" in empty.text
    for number, topics in enumerate((["축제"], ["교통"], ["축제"]), start=1):
        post = Post.objects.create(
            organisation=city,
            department=department(city, "pr"),
            title=f"순천만 갈대축제 안내 {number}",
            body="본문",
            topics=topics,
        )
        variant = Variant.objects.create(
            organisation=city, post=post, channel=kakao_channel, text="본문"
        )
        Publication.objects.create(
            organisation=city,
            variant=variant,
            channel=kakao_channel,
            due_at=timezone.now(),
            state=PublicationState.PUBLISHED,
            url=f"https://pf.kakao.com/_x/{number}",
            published_at=timezone.now() - dt.timedelta(minutes=10 - number),
        )
    said = citizen("행사·축제")
    card = said.body["template"]["outputs"][0]["listCard"]
    assert card["header"]["title"] == "행사·축제"
    assert [item["title"] for item in card["items"]] == [
        "순천만 갈대축제 안내 3",
        "순천만 갈대축제 안내 1",
    ]
    assert card["items"][0]["link"] == {"web": "https://pf.kakao.com/_x/3"}
