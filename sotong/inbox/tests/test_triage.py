"""Triage: normalise, mask, classify and route each message once; a message a dead worker
left untriaged is triaged by the next run, exactly once."""

from __future__ import annotations

import pytest

from sotong.inbox import ingest, routing, triage
from sotong.inbox.models import Case, Intent, Message, Urgency


def test_a_message_left_untriaged_is_triaged_by_the_next_run_exactly_once(comment) -> None:
    comment("조례동 하수구가 막혔어요 ㅠㅠ 연락처 010-1234-5678")
    ingest.ingest_pending()  # the worker dies here, before triage
    message = Message.objects.get()
    assert message.triaged_at is None
    assert message.masked_text == ""
    assert triage.triage_pending() == 1
    message.refresh_from_db()
    first = message.triaged_at
    assert first is not None
    assert "010-1234-5678" not in message.masked_text
    assert "phone" in message.pii_kinds
    assert message.intent in Intent.values
    assert message.urgency in Urgency.values
    assert 1 <= len(message.suggestions) <= triage.SUGGESTIONS
    assert all(0.0 <= s["confidence"] <= 1.0 for s in message.suggestions)
    # Later runs, and a second worker that picked the same message, change nothing.
    assert triage.triage_pending() == 0
    assert triage.triage_message(message.pk) is False
    message.refresh_from_db()
    assert message.triaged_at == first


def test_a_worker_dying_mid_triage_loses_nothing(comment, monkeypatch) -> None:
    comment("도로에 싱크홀이 생겨 위험합니다")
    ingest.ingest_pending()

    def dies(organisation):
        raise SystemExit("worker killed")

    with monkeypatch.context() as patched:
        patched.setattr(routing, "model_for", dies)
        with pytest.raises(SystemExit):
            triage.triage_pending()
    message = Message.objects.get()
    assert message.triaged_at is None
    assert message.masked_text == ""
    assert triage.triage_pending() == 1
    assert triage.triage_pending() == 0


def test_urgency_raises_the_case(comment) -> None:
    comment("가스 냄새가 나요 화재 위험이 있어요 빨리 와주세요")
    ingest.ingest_pending()
    triage.triage_pending()
    message = Message.objects.get()
    assert message.urgency != Urgency.NORMAL
    assert Case.objects.get().urgency == message.urgency


def test_suggested_units_map_to_todays_departments(city) -> None:
    # A former name (alias) of a department finds today's department.
    assert routing.department_for_unit(city, "하수과").name == "하수도과"
    assert routing.department_for_unit(city, "안전건설국 하수도과").name == "하수도과"
    assert routing.department_for_unit(city, "없는과") is None


def test_one_failing_message_does_not_stop_the_others(comment, monkeypatch) -> None:
    comment("첫 번째 글", author="1")
    comment("두 번째 글", author="2")
    ingest.ingest_pending()
    first, second = Message.objects.order_by("pk")
    real = triage.analyse_many

    def chokes_on_the_first(organisation, texts):
        if "첫 번째 글" in texts:
            raise ValueError("analyser bug")
        return real(organisation, texts)

    # The batch fails as a whole, then each message is tried on its own.
    monkeypatch.setattr(triage, "analyse_many", chokes_on_the_first)
    assert triage.triage_pending() == 1
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.triaged_at is None
    assert second.triaged_at is not None
    assert second.masked_text == "두 번째 글"
    monkeypatch.setattr(triage, "analyse_many", real)
    assert triage.triage_pending() == 1
    assert triage.triage_pending() == 0


def test_a_batch_that_fails_to_store_is_stored_one_by_one(comment, monkeypatch) -> None:
    comment("첫 번째 글", author="1")
    comment("두 번째 글", author="2")
    comment("세 번째 글", author="3")
    ingest.ingest_pending()
    first, second, third = Message.objects.order_by("pk")
    real = triage._store

    def fails_on_the_second(message, found, case=None):
        if message.pk == second.pk:
            raise RuntimeError("database said no")
        return real(message, found, case)

    def fails_as_a_whole(analysed):  # type: ignore[no-untyped-def]
        # Part-way through the batch write: what it wrote must be rolled back.
        triage._store(analysed[0][0], analysed[0][1])
        raise RuntimeError("database said no")

    monkeypatch.setattr(triage, "_store_all", fails_as_a_whole)
    monkeypatch.setattr(triage, "_store", fails_on_the_second)
    assert triage.triage_pending() == 2
    assert set(Message.objects.filter(triaged_at__isnull=False).values_list("pk", flat=True)) == {
        first.pk,
        third.pk,
    }
    monkeypatch.setattr(triage, "_store", real)
    assert triage.triage_pending() == 1
    assert triage.triage_pending() == 0


def test_a_batch_analyses_each_text_as_alone(comment) -> None:
    texts = ["가스 냄새가 나요 빨리 와주세요", "주차장 어디인가요? 010-2345-6789", "감사합니다"]
    for number, text in enumerate(texts):
        comment(text, author=str(number))
    ingest.ingest_pending()
    city = Message.objects.first().organisation
    alone = [triage.analyse(city, text) for text in texts]
    assert triage.analyse_many(city, texts) == alone
    assert triage.triage_pending() == 3
    stored = Message.objects.order_by("pk")
    assert [m.masked_text for m in stored] == [a.masked_text for a in alone]
    assert [m.suggestions for m in stored] == [a.suggestions for a in alone]
    assert "010-2345-6789" not in stored[1].masked_text


def test_a_batch_leaves_alone_what_another_run_triaged_first(comment) -> None:
    comment("첫 번째 글", author="1")
    comment("두 번째 글: 화재 위험이 있어요", author="2")
    ingest.ingest_pending()
    first, second = Message.objects.order_by("pk")
    found = {m.pk: triage.analyse(m.organisation, m.text) for m in (first, second)}
    # Another worker triaged the first message after this run read it.
    assert triage.triage_message(first.pk)
    done = triage._store_all([(first, found[first.pk]), (second, found[second.pk])])
    assert [m.pk for m in done] == [second.pk]
    second.refresh_from_db()
    assert second.masked_text == "두 번째 글: 화재 위험이 있어요"
    assert second.case.urgency != "normal"
    from sotong.core.models import AuditEntry

    entry = AuditEntry.objects.get(action="case.urgency", target_id=str(second.case_id))
    assert entry.before["urgency"] == "normal"
    assert entry.after["urgency"] == second.case.urgency
    assert entry.after["sensitive"] is True
