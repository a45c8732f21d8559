"""The FAQ knowledge base: who may change which entries, validity dates in Seoul time,
the audit trail, the per-process index noticing another process's change, answers and
suggestions, and the pages (list, search, form with errors, try box over HTMX)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse

from sotong.conftest import SYSTEM, department
from sotong.core.models import AuditEntry
from sotong.core.roles import Role
from sotong.faq import actions, answers, selectors
from sotong.faq.models import FaqEntry, FaqIndexVersion

GARBAGE = ["생활쓰레기 배출 요일이 언제인가요?", "음식물쓰레기 버리는 날 알려주세요"]
SEWER = ["하수구가 막혔어요 어디에 신고하나요?", "하수도 역류 신고"]


@pytest.fixture(autouse=True)
def _fresh_cache():
    answers.forget_indexes()
    yield
    answers.forget_indexes()


@pytest.fixture
def editor(city, make_staff):
    return make_staff(city, Role.PR_EDITOR, "pr")


@pytest.fixture
def sewer_author(city, make_staff):
    return make_staff(city, Role.DEPARTMENT_AUTHOR, "sewer")


def add(city, by=SYSTEM, questions=SEWER, code="sewer", **kwargs) -> FaqEntry:
    return actions.create_entry(
        by,
        city,
        questions=questions,
        answer=kwargs.pop("answer", "하수도과 061-749-0000으로 신고해 주세요."),
        department=department(city, code),
        **kwargs,
    )


def signed_in(staff) -> Client:
    client = Client()
    client.force_login(staff.user)
    return client


# -- actions: validation, permissions, audit -------------------------------------------------


def test_an_editor_adds_an_entry_with_variants_cleaned_and_audited(city, editor) -> None:
    entry = add(
        city, editor, questions=" 하수구가  막혔어요 \n\n하수도 역류 신고\n하수도 역류 신고"
    )
    assert entry.question_list() == ["하수구가 막혔어요", "하수도 역류 신고"]
    assert entry.updated_by == editor
    log = AuditEntry.objects.get(action="faq.create", target_id=str(entry.pk))
    assert log.actor_label == editor.user.username
    assert log.department_id == entry.department_id
    assert log.after["questions"] == "하수구가 막혔어요\n하수도 역류 신고"


def test_an_edit_records_only_what_changed_and_a_no_op_records_nothing(city, editor) -> None:
    entry = add(city, editor)
    actions.edit_entry(
        editor,
        entry,
        questions=SEWER,
        answer="안전신문고 앱으로 신고해 주세요.",
        department=entry.department,
        valid_until=dt.date(2026, 12, 31),
    )
    log = AuditEntry.objects.get(action="faq.edit")
    assert set(log.before) == {"answer", "valid_until"}
    assert log.after["valid_until"] == "2026-12-31"
    actions.edit_entry(
        editor,
        entry,
        questions=SEWER,
        answer="안전신문고 앱으로 신고해 주세요.",
        department=entry.department,
        valid_until=dt.date(2026, 12, 31),
    )
    assert AuditEntry.objects.filter(action="faq.edit").count() == 1


def test_bad_input_is_refused_in_korean_and_nothing_is_saved(city, editor) -> None:
    with pytest.raises(ValidationError) as refused:
        add(
            city,
            editor,
            questions="\n  \n",
            answer="",
            valid_from=dt.date(2026, 5, 1),
            valid_until=dt.date(2026, 4, 1),
        )
    assert set(refused.value.message_dict) == {"questions", "answer", "valid_until"}
    with pytest.raises(ValidationError) as too_long:
        add(city, editor, answer="가" * (actions.MAX_ANSWER_LENGTH + 1))
    assert "answer" in too_long.value.message_dict
    assert not FaqEntry.objects.exists()
    assert not AuditEntry.objects.filter(action__startswith="faq.").exists()


def test_department_authors_manage_their_own_department_only(city, sewer_author, editor) -> None:
    own = add(city, sewer_author)
    roads = add(city, editor, questions=["도로 파손 신고"], code="roads")
    with pytest.raises(PermissionDenied):
        add(city, sewer_author, questions=["도로 파손 신고"], code="roads")
    with pytest.raises(PermissionDenied):
        actions.retire_entry(sewer_author, roads)
    # Nor may they hand their own entry to another department.
    with pytest.raises(PermissionDenied):
        actions.edit_entry(
            sewer_author, own, questions=SEWER, answer="답", department=department(city, "roads")
        )
    assert list(selectors.entries(sewer_author)) == [own]
    assert set(selectors.entries(editor)) == {own, roads}
    assert actions.may_edit(sewer_author, own)
    assert not actions.may_edit(sewer_author, roads)


def test_viewers_responders_and_other_cities_may_not_write(
    city, other_city, make_staff, editor
) -> None:
    viewer = make_staff(city, Role.VIEWER)
    responder = make_staff(city, Role.DEPARTMENT_RESPONDER, "sewer")
    stranger = make_staff(other_city, Role.ADMIN)
    for by in (viewer, responder, stranger):
        with pytest.raises(PermissionDenied):
            add(city, by)
    entry = add(city, editor)
    with pytest.raises(PermissionDenied):
        actions.retire_entry(stranger, entry)
    assert not selectors.entries(stranger).exists()


# -- validity, answers, cache ---------------------------------------------------------------


def test_only_active_entries_within_their_dates_answer(city) -> None:
    day = dt.date(2026, 10, 20)
    festival = add(
        city,
        questions=["순천만갈대축제 언제 해요?"],
        code="pr",
        answer="10월 24일부터 11월 2일까지 순천만습지에서 열립니다.",
        valid_from=dt.date(2026, 10, 1),
        valid_until=dt.date(2026, 11, 2),
    )
    question = "갈대축제 언제 열려요"
    assert answers.answer_for(city, question, day=day).entry == festival  # type: ignore[union-attr]
    assert answers.answer_for(city, question, day=dt.date(2026, 11, 2)) is not None
    assert answers.answer_for(city, question, day=dt.date(2026, 11, 3)) is None
    assert answers.answer_for(city, question, day=dt.date(2026, 9, 30)) is None
    actions.retire_entry(SYSTEM, festival)
    assert answers.answer_for(city, question, day=day) is None
    actions.restore_entry(SYSTEM, festival)
    assert answers.answer_for(city, question, day=day) is not None


def test_today_is_seoul_time(city) -> None:
    # 15:30 UTC on 31 December is already 1 January in Seoul.
    late = dt.datetime(2026, 12, 31, 15, 30, tzinfo=dt.UTC)
    assert selectors.today(city, late) == dt.date(2027, 1, 1)


def test_answer_and_suggestions(city, other_city) -> None:
    sewer = add(city)
    add(city, questions=GARBAGE, code="roads", answer="일~목 저녁에 내놓아 주세요.")
    found = answers.answer_for(city, "하수구 막힘 신고합니다")
    assert found is not None
    assert found.entry == sewer
    assert found.confident
    assert found.confidence >= answers.retrieval.CONFIDENT
    assert answers.answer_for(city, "아파트 층간소음 때문에 못 살겠어요") is None
    assert answers.answer_for(city, "   ") is None
    # Another city's FAQ is its own.
    assert answers.answer_for(other_city, "하수구 막힘 신고합니다") is None
    suggestions = answers.suggestions_for(city, "쓰레기 하수구", k=3)
    assert {match.entry for match in suggestions.matches} == set(FaqEntry.objects.all())
    assert not any(match.confident for match in suggestions.matches)


def test_a_change_in_another_process_reaches_the_cached_index(city) -> None:
    entry = add(city)
    index = answers.index_for(city)
    assert answers.index_for(city) is index  # cached while nothing changes
    version = FaqIndexVersion.objects.get(organisation=city).version
    # Another worker edits the entry: this process only sees the version change in the DB.
    FaqEntry.objects.filter(pk=entry.pk).update(questions="가로등이 고장났어요")
    assert answers.index_for(city) is index  # not yet told
    FaqIndexVersion.objects.filter(organisation=city).update(version=version + 1)
    rebuilt = answers.index_for(city)
    assert rebuilt is not index
    assert rebuilt.search("가로등 고장")[0].entry_id == entry.pk
    # A new day rebuilds too (validity dates), without any change.
    assert answers.index_for(city, dt.date(2030, 1, 1)) is not rebuilt


def test_every_action_bumps_the_version(city, editor) -> None:
    entry = add(city, editor)
    versions = [answers.current_version(city.pk)]
    actions.edit_entry(editor, entry, questions=GARBAGE, answer="답", department=entry.department)
    versions.append(answers.current_version(city.pk))
    actions.retire_entry(editor, entry)
    versions.append(answers.current_version(city.pk))
    actions.restore_entry(editor, entry)
    versions.append(answers.current_version(city.pk))
    assert versions == [1, 2, 3, 4]


# -- pages ------------------------------------------------------------------------------------


def test_the_page_flow(city, editor) -> None:
    client = signed_in(editor)
    page = client.get(reverse("faq:create"))
    assert page.status_code == 200
    refused = client.post(
        reverse("faq:create"),
        {"questions": "", "answer": "", "department": department(city, "sewer").pk},
    )
    assert refused.status_code == 400
    assert "적어도 하나" in refused.content.decode()
    created = client.post(
        reverse("faq:create"),
        {
            "questions": "\n".join(SEWER),
            "answer": "하수도과로 신고해 주세요.",
            "department": department(city, "sewer").pk,
            "valid_from": "2020-01-01",
        },
    )
    assert created.status_code == 302
    entry = FaqEntry.objects.get()
    listing = client.get(reverse("faq:list"), {"search": "역류"}).content.decode()
    assert "하수구가 막혔어요" in listing
    assert "답변 중" in listing
    assert (
        "하수구가 막혔어요"
        not in client.get(reverse("faq:list"), {"search": "여권"}).content.decode()
    )
    # The try box over HTMX: a fragment with the match and its confidence.
    fragment = client.get(reverse("faq:try"), {"q": "하수구 막힘 신고"}, HTTP_HX_REQUEST="true")
    body = fragment.content.decode()
    assert "<html" not in body
    assert "자동으로 답변" in body
    assert "하수도과로 신고해 주세요." in body
    none = client.get(reverse("faq:try"), {"q": "층간소음"}, HTTP_HX_REQUEST="true")
    assert "자동으로 답변" not in none.content.decode()
    # Without JavaScript the same results come in the full page.
    full = client.get(reverse("faq:try"), {"q": "하수구 막힘 신고"}).content.decode()
    assert "<html" in full
    assert "자동으로 답변" in full
    edited = client.post(
        reverse("faq:edit", args=[entry.pk]),
        {
            "questions": "\n".join(SEWER),
            "answer": "안전신문고로 신고해 주세요.",
            "department": department(city, "sewer").pk,
            "valid_from": "2020-01-01",
            "valid_until": "2019-01-01",
        },
    )
    assert edited.status_code == 400  # until before from: refused, nothing lost
    entry.refresh_from_db()
    assert entry.answer == "하수도과로 신고해 주세요."
    assert client.post(reverse("faq:action", args=[entry.pk, "retire"])).status_code == 302
    entry.refresh_from_db()
    assert not entry.active
    assert client.post(reverse("faq:action", args=[entry.pk, "explode"])).status_code == 404


def test_pages_respect_roles_and_departments(city, make_staff, sewer_author) -> None:
    roads = add(city, questions=["도로 파손 신고"], code="roads")
    viewer = signed_in(make_staff(city, Role.VIEWER))
    assert viewer.get(reverse("faq:list")).status_code == 200
    assert viewer.get(reverse("faq:create")).status_code == 403
    author = signed_in(sewer_author)
    assert author.get(reverse("faq:edit", args=[roads.pk])).status_code == 404
    form = author.get(reverse("faq:create")).content.decode()
    assert "하수도과" in form
    assert "도로과" not in form
    assert Client().get(reverse("faq:list")).status_code == 302
