"""Ingest: inbound events become messages and cases exactly once, however often they are
delivered or however many runs overlap; follow-ups join or reopen their case."""

from __future__ import annotations

import datetime as dt

from django.db import connection
from django.utils import timezone

from sotong.channels import actions as channels
from sotong.channels.models import InboundEvent
from sotong.conftest import SYSTEM
from sotong.core.models import AuditEntry
from sotong.inbox import actions, ingest
from sotong.inbox.models import Case, CaseStatus, Citizen, Message, Reply, ReplyState
from sotong.platforms.base import InboundItem, InboundKind

from .conftest import PAGE_ID


def test_each_event_becomes_one_message_and_one_case(comment) -> None:
    said = comment("공사 언제 끝나요? 010-1234-5678")
    result = ingest.ingest_pending()
    assert (result.messages, result.cases_opened) == (1, 1)
    message = Message.objects.get()
    assert message.external_id == said.external_id
    assert message.text == "공사 언제 끝나요? 010-1234-5678"
    assert message.event.processed_at is not None
    case = message.case
    assert case.status == CaseStatus.NEW
    assert case.thread_key == said.post
    assert case.deadline > case.received_at
    assert AuditEntry.objects.filter(action="case.open", target_id=str(case.pk)).count() == 1


def test_redelivery_and_overlapping_runs_never_duplicate(channel, comment) -> None:
    said = comment("하수구 냄새가 심해요")
    event = InboundEvent.objects.get(external_id=said.external_id)
    # The platform delivers the same comment again (a webhook retry, an overlapping poll).
    item = InboundItem(
        kind=InboundKind.COMMENT,
        external_id=said.external_id,
        text="하수구 냄새가 심해요",
        author_id="6011",
        post_external_id=said.post,
    )
    assert channels.record_inbound(channel, [item]) == []
    channels.poll_channel(channel, now_asked=True)
    # Two workers picked the same pending event before either committed.
    stale = InboundEvent.objects.select_related("channel", "organisation").get(pk=event.pk)
    first = ingest.ingest_pending()
    late, late_batch = ingest.IngestResult(), ingest.IngestResult()
    ingest._ingest_one(stale, False, late)
    ingest._ingest_batch([stale], set(), late_batch)
    again = ingest.ingest_pending()
    assert (first.messages, late.messages, late_batch.messages, again.messages) == (1, 0, 0, 0)
    assert Message.objects.count() == 1
    assert Case.objects.count() == 1


def test_citizens_are_pseudonymous_and_their_handle_is_encrypted(comment) -> None:
    comment("첫 댓글", author="6011", name="박시민")
    comment("두 번째 댓글", author="6011", name="박시민")
    comment("다른 분 댓글", author="6022", name="김민원")
    ingest.ingest_pending()
    assert Citizen.objects.count() == 2
    citizen = Citizen.objects.get(
        pseudonym=ingest.pseudonym(Citizen.objects.first().channel_id, "6011")
    )
    assert len(citizen.pseudonym) == 64
    assert "6011" not in citizen.pseudonym
    assert citizen.handle == "6011"
    assert citizen.display_name == "박시민"
    with connection.cursor() as cursor:
        cursor.execute("SELECT handle, display_name FROM inbox_citizen")
        stored = " ".join(value for row in cursor.fetchall() for value in row)
    assert "6011" not in stored
    assert "박시민" not in stored
    # Same citizen, same post: one case with both comments.
    assert citizen.cases.count() == 1
    assert citizen.cases.get().messages.count() == 2


def test_a_new_thread_is_a_new_case(page, comment) -> None:
    comment("공사 질문")
    other = str(page.add_post("104220000000001", "순천만 갈대축제")["id"])
    comment("축제 질문", on=other)
    ingest.ingest_pending()
    assert Case.objects.count() == 2


def test_private_messages_from_one_person_form_one_conversation(message) -> None:
    message("여권 재발급은 어디서 하나요?")
    message("토요일에도 되나요?")
    ingest.ingest_pending()
    assert Case.objects.count() == 1
    assert Message.objects.filter(kind="message").count() == 2


def test_a_follow_up_reopens_an_answered_case(comment) -> None:
    comment("공사 언제 끝나요?")
    ingest.ingest_pending()
    case = Case.objects.get()
    actions.change_status(SYSTEM, case, CaseStatus.ANSWERED)
    actions.close(SYSTEM, case)
    comment("아직도 공사 중인데요?")
    result = ingest.ingest_pending()
    case.refresh_from_db()
    assert result.cases_reopened == 1
    assert result.cases_opened == 0
    assert case.status == CaseStatus.REOPENED
    assert case.closed_at is None
    assert case.messages.count() == 2
    assert AuditEntry.objects.filter(action="case.reopen", target_id=str(case.pk)).exists()


def test_a_follow_up_long_after_closing_is_a_new_case(comment) -> None:
    comment("공사 언제 끝나요?")
    ingest.ingest_pending()
    case = Case.objects.get()
    actions.close(SYSTEM, case)
    Case.objects.filter(pk=case.pk).update(
        closed_at=timezone.now() - ingest.REOPEN_WITHIN - dt.timedelta(days=1)
    )
    comment("작년 공사 관련 다른 질문입니다")
    ingest.ingest_pending()
    assert Case.objects.count() == 2
    case.refresh_from_db()
    assert case.status == CaseStatus.CLOSED


def test_our_own_replies_coming_back_are_not_cases(channel, comment) -> None:
    said = comment("공사 언제 끝나요?")
    ingest.ingest_pending()
    case = Case.objects.get()
    answer = Reply.objects.create(
        organisation=case.organisation,
        case=case,
        message=case.messages.get(),
        text="다음 주 금요일까지입니다.",
        state=ReplyState.SENT,
        external_id="our-reply-1",
    )
    # The platform shows our reply in the thread under another author id.
    ours = InboundItem(
        kind=InboundKind.COMMENT,
        external_id=answer.external_id,
        text=answer.text,
        author_id="someone-else",
        post_external_id=said.post,
    )
    by_page = InboundItem(
        kind=InboundKind.COMMENT,
        external_id="page-comment-2",
        text="안내드립니다",
        author_id="104220000000001",
        post_external_id=said.post,
    )
    reaction = InboundItem(
        kind=InboundKind.REACTION, external_id="like-1", text="", author_id="6099"
    )
    # Stored as the channel layer would store a webhook it could not filter.
    for item in (ours, by_page, reaction):
        InboundEvent.objects.create(
            organisation=channel.organisation,
            channel=channel,
            kind=item.kind.value,
            external_id=item.external_id,
            text=item.text,
            author_id=item.author_id,
            post_external_id=item.post_external_id,
        )
    result = ingest.ingest_pending()
    assert (result.messages, result.skipped) == (0, 3)
    assert Message.objects.count() == 1
    assert not InboundEvent.objects.filter(processed_at__isnull=True).exists()


def test_a_batch_groups_each_citizens_thread_into_one_case(page, post, channel, comment) -> None:
    comment("첫 번째: 가로등이 꺼졌어요", author="6011")
    comment("두 번째: 사진 첨부합니다", author="6011")
    comment("다른 분의 글", author="6012")
    other_post = str(page.add_post(PAGE_ID, "다른 게시물")["id"])
    comment("같은 분, 다른 게시물", author="6011", on=other_post)
    result = ingest.ingest_pending()
    assert (result.messages, result.cases_opened) == (4, 3)
    citizen = Citizen.objects.get(pseudonym=ingest.pseudonym(channel.pk, "6011"))
    first_thread = Case.objects.get(citizen=citizen, thread_key=post)
    assert [m.text for m in first_thread.messages.order_by("received_at", "pk")] == [
        "첫 번째: 가로등이 꺼졌어요",
        "두 번째: 사진 첨부합니다",
    ]
    assert Citizen.objects.count() == 2
    assert AuditEntry.objects.filter(action="case.open").count() == 3
    assert first_thread.events.filter(kind="message").count() == 2


def test_a_batch_that_races_another_worker_falls_back_to_one_by_one(comment, monkeypatch) -> None:
    comment("하수구가 막혔어요", author="6011")
    said = comment("저도 같은 문제예요", author="6012")
    event = InboundEvent.objects.get(external_id=said.external_id)
    real_bulk_create = Citizen.objects.bulk_create

    def other_worker_first(objs, *args, **kwargs):  # type: ignore[no-untyped-def]
        # Another worker commits the same citizen between our lookup and our insert.
        monkeypatch.setattr(Citizen.objects, "bulk_create", real_bulk_create)
        Citizen.objects.create(
            organisation_id=event.organisation_id,
            channel_id=event.channel_id,
            pseudonym=ingest.pseudonym(event.channel_id, "6012"),
            first_seen_at=event.received_at,
            last_seen_at=event.received_at,
        )
        return real_bulk_create(objs, *args, **kwargs)

    monkeypatch.setattr(Citizen.objects, "bulk_create", other_worker_first)
    result = ingest.ingest_pending()
    assert (result.messages, result.cases_opened) == (2, 2)
    assert Message.objects.count() == 2
    assert Citizen.objects.count() == 2
    assert not InboundEvent.objects.filter(processed_at__isnull=True).exists()


def test_one_inbox_run_drains_a_burst_batch_after_batch(comment, monkeypatch) -> None:
    from sotong.inbox import tasks, triage

    for number in range(5):
        comment(f"{number}번째 문의입니다", author=str(7000 + number))
    monkeypatch.setattr(ingest, "BATCH", 2)
    monkeypatch.setattr(triage, "BATCH", 2)
    totals = tasks.process_inbox.call()
    assert (totals["messages"], totals["triaged"]) == (5, 5)
    assert not InboundEvent.objects.filter(processed_at__isnull=True).exists()
    assert not Message.objects.filter(triaged_at__isnull=True).exists()


def test_an_inbox_run_steps_aside_while_another_is_running(comment) -> None:
    import datetime as dt

    from sotong.core.scheduler import acquire_lease, release_lease
    from sotong.inbox import tasks

    comment("가로등이 꺼졌어요")
    assert acquire_lease("other-worker", dt.timedelta(seconds=60), name=tasks.INBOX_LEASE_NAME)
    assert tasks.process_inbox.call()["busy"] == 1
    assert InboundEvent.objects.filter(processed_at__isnull=True).exists()
    # The other run ends (or its lease runs out): the next run takes the work.
    release_lease("other-worker", name=tasks.INBOX_LEASE_NAME)
    assert tasks.process_inbox.call()["messages"] == 1


def test_one_event_that_cannot_be_taken_in_holds_back_no_other(comment, monkeypatch) -> None:
    comment("첫 번째 글", author="6011")
    poison = comment("두 번째 글", author="6012")
    comment("세 번째 글", author="6013")
    real = ingest._message

    def trips_on_one(event, *args):  # type: ignore[no-untyped-def]
        if event.external_id == poison.external_id:
            raise ValueError("an analyser bug")
        return real(event, *args)

    monkeypatch.setattr(ingest, "_message", trips_on_one)
    result = ingest.ingest_pending()
    assert (result.messages, result.cases_opened) == (2, 2)
    left = InboundEvent.objects.filter(processed_at__isnull=True)
    assert [event.external_id for event in left] == [poison.external_id]
    monkeypatch.setattr(ingest, "_message", real)
    assert ingest.ingest_pending().messages == 1
    assert Message.objects.count() == 3
