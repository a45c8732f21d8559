"""Canned responses (상용 답변): managed by the PR office with an audit entry for each change,
placeholders checked on save (a Korean error names the unknown one), offered by department,
filled from the case (the citizen's name masked in public), counted when inserted; the
settings pages, the case page's insert, and the JSON API."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import translation

from sotong.conftest import SYSTEM, department
from sotong.core.models import AuditEntry
from sotong.core.roles import Role
from sotong.inbox import actions, canned, ingest
from sotong.inbox.models import CannedResponse, Case

BODY = "{시민}님, {부서}에서 {기한}까지 답변드리겠습니다. 담당: {담당자} ({기관})"


@pytest.fixture
def case(city, comment) -> Case:
    comment("하수구 냄새가 심해요", author="6011", name="박시민")
    ingest.ingest_pending()
    return actions.assign(SYSTEM, Case.objects.get(), department=department(city, "sewer"))


@pytest.fixture
def editor(city, make_staff):
    return make_staff(city, Role.PR_EDITOR, "pr")


@pytest.fixture
def shared(city) -> CannedResponse:
    return canned.create(SYSTEM, city, title="접수 안내", body=BODY)


@pytest.fixture
def for_roads(city) -> CannedResponse:
    return canned.create(
        SYSTEM,
        city,
        title="도로 보수 안내",
        body="{부서}에서 확인합니다.",
        department=department(city, "roads"),
    )


def korean_errors(error: ValidationError) -> dict[str, list[str]]:
    with translation.override("ko"):
        return {field: [str(m) for m in messages] for field, messages in error.message_dict.items()}


# -- managing ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        (Role.ADMIN, True),
        (Role.PR_EDITOR, True),
        (Role.DEPARTMENT_RESPONDER, False),
        (Role.DEPARTMENT_AUTHOR, False),
        (Role.VIEWER, False),
    ],
)
def test_the_pr_office_and_administrators_manage_them_audited(
    city, make_staff, role: str, allowed: bool
) -> None:
    staff = make_staff(city, role, "sewer" if role.startswith("department") else None)
    if not allowed:
        with pytest.raises(PermissionDenied):
            canned.create(staff, city, title="안내", body=BODY)
        assert not CannedResponse.objects.exists()
        return
    entry = canned.create(staff, city, title="안내", body=BODY)
    created = AuditEntry.objects.get(action="canned.create", actor_id=staff.user_id)
    assert created.after["title"] == "안내"
    canned.edit(staff, entry, title="접수 안내", body=BODY, department=department(city, "sewer"))
    edited = AuditEntry.objects.get(action="canned.edit")
    assert edited.before == {"title": "안내", "department": None}
    assert edited.after == {"title": "접수 안내", "department": department(city, "sewer").pk}
    canned.retire(staff, entry)
    entry.refresh_from_db()
    assert not entry.active
    assert AuditEntry.objects.get(action="canned.retire").after == {"active": False}
    canned.restore(staff, entry)
    assert AuditEntry.objects.filter(action="canned.restore").count() == 1
    # Editing without a change writes nothing.
    canned.edit(staff, entry, title="접수 안내", body=BODY, department=department(city, "sewer"))
    assert AuditEntry.objects.filter(action="canned.edit").count() == 1


def test_another_city_cannot_manage_ours(city, other_city, make_staff, shared) -> None:
    stranger = make_staff(other_city, Role.ADMIN)
    with pytest.raises(PermissionDenied):
        canned.edit(stranger, shared, title="x", body="y")
    with pytest.raises(PermissionDenied):
        canned.retire(stranger, shared)
    assert list(canned.visible(stranger)) == []


def test_an_unknown_placeholder_is_refused_in_korean_and_nothing_is_saved(city, shared) -> None:
    with pytest.raises(ValidationError) as raised:
        canned.create(SYSTEM, city, title="오타", body="{시만}님 안녕하세요, {부서} 입니다")
    errors = korean_errors(raised.value)
    assert list(errors) == ["body"]
    assert "알 수 없는 자리표시자" in errors["body"][0]
    assert "{시만}" in errors["body"][0]
    assert "{시민}" in errors["body"][0]  # and says what may be used
    with pytest.raises(ValidationError) as unclosed:
        canned.create(SYSTEM, city, title="괄호", body="{시민님 안녕하세요")
    assert "중괄호" in korean_errors(unclosed.value)["body"][0]
    with pytest.raises(ValidationError) as editing:
        canned.edit(SYSTEM, shared, title="접수 안내", body="{담당}에게 연락하세요")
    assert "{담당}" in korean_errors(editing.value)["body"][0]
    shared.refresh_from_db()
    assert shared.body == BODY
    assert CannedResponse.objects.count() == 1


def test_other_bad_input(city, shared) -> None:
    for values, field in (
        ({"title": " ", "body": BODY}, "title"),
        ({"title": "x" * 101, "body": BODY}, "title"),
        ({"title": "빈 내용", "body": "  "}, "body"),
        ({"title": "긴 내용", "body": "가" * 2001}, "body"),
        ({"title": "접수 안내", "body": BODY}, "title"),  # an active one has this title
    ):
        with pytest.raises(ValidationError) as raised:
            canned.create(SYSTEM, city, **values)
        assert field in raised.value.message_dict
    # Spaces inside braces are forgiven; Hangul is stored composed (NFC).
    entry = canned.create(SYSTEM, city, title="공백", body="{ 시민 }님, {기관}입니다")
    assert entry.body == "{시민}님, {기관}입니다"


# -- who sees which ------------------------------------------------------------------------


def test_department_staff_see_the_shared_ones_and_their_own(
    city, make_staff, shared, for_roads, case
) -> None:
    sewer_one = canned.create(
        SYSTEM, city, title="준설 일정", body="준설합니다", department=department(city, "sewer")
    )
    responder = make_staff(city, Role.DEPARTMENT_RESPONDER, "sewer")
    editor = make_staff(city, Role.PR_EDITOR, "pr")
    assert set(canned.visible(responder)) == {shared, sewer_one}
    assert set(canned.visible(editor)) == {shared, for_roads, sewer_one}
    # On the sewer case: the shared one and the case's department's, not the roads one.
    assert list(canned.for_case(responder, case)) == [shared, sewer_one]
    assert list(canned.for_case(editor, case)) == [shared, sewer_one]
    canned.retire(SYSTEM, sewer_one)
    assert list(canned.for_case(responder, case)) == [shared]


# -- filling in ----------------------------------------------------------------------------


def test_placeholders_are_filled_from_the_case_and_the_name_is_masked_in_public(
    city, case, editor, shared
) -> None:
    case.assignee = editor
    case.save(update_fields=["assignee"])
    text = canned.insert(editor, shared, case, public=True)
    day = case.deadline.astimezone(ZoneInfo("Asia/Seoul")).date()
    weekday = "월화수목금토일"[day.weekday()]
    assert text == (
        f"박*민님, 하수도과에서 {day.year}년 {day.month}월 {day.day}일({weekday})까지 "
        f"답변드리겠습니다. 담당: {editor.display_name} (순천시)"
    )
    # In a private reply the PR office, who may see personal data, gets the full name.
    # Masked in a private reply too: the reply's text is read by all who see the case.
    assert canned.insert(editor, shared, case, public=False).startswith("박*민님, ")
    shared.refresh_from_db()
    assert shared.use_count == 2
    assert shared.last_used_at is not None


def test_fallbacks_and_name_masking() -> None:
    assert canned.mask_name("박시민") == "박*민"
    assert canned.mask_name("남궁민수") == "남**수"
    assert canned.mask_name("홍길") == "홍*"
    assert canned.mask_name("John Smith") == "J**n S***h"
    assert canned.fill("{시민}님 {없음}", {"시민": "박*민"}) == "박*민님 {없음}"


def test_an_unassigned_case_fills_in_words_not_blanks(city, comment, shared) -> None:
    comment("가로등이 꺼졌어요", author="6020", name="")
    ingest.ingest_pending()
    case = Case.objects.get()
    filled = canned.fill(shared.body, canned.values_for(case))
    with translation.override("ko"):
        assert filled.startswith("시민님, 담당 부서에서 ")
        assert "담당: 담당자 (순천시)" in filled


def test_inserting_needs_the_right_to_reply_and_an_offered_response(
    city, case, make_staff, for_roads, shared
) -> None:
    author = make_staff(city, Role.DEPARTMENT_AUTHOR, "sewer")
    with pytest.raises(PermissionDenied):
        canned.insert(author, shared, case, public=True)
    responder = make_staff(city, Role.DEPARTMENT_RESPONDER, "sewer")
    with pytest.raises(PermissionDenied):
        canned.insert(responder, for_roads, case, public=True)  # another department's
    roads = make_staff(city, Role.DEPARTMENT_RESPONDER, "roads")
    with pytest.raises(PermissionDenied):
        canned.insert(roads, shared, case, public=True)  # a case they do not see
    for entry in (shared, for_roads):
        entry.refresh_from_db()
        assert entry.use_count == 0


# -- pages -----------------------------------------------------------------------------------


def signed_in(staff) -> Client:
    client = Client()
    client.force_login(staff.user)
    return client


def test_settings_pages_add_edit_and_retire(city, editor, make_staff) -> None:
    client = signed_in(editor)
    listing = client.get(reverse("inbox:canned_list"))
    assert listing.status_code == 200
    bad = client.post(
        reverse("inbox:canned_create"),
        {"title": "안내", "body": "{주소}로 오세요", "department": ""},
    )
    assert bad.status_code == 400
    assert "{주소}" in bad.content.decode()
    assert not CannedResponse.objects.exists()
    done = client.post(
        reverse("inbox:canned_create"),
        {"title": "안내", "body": BODY, "department": department(city, "sewer").pk},
    )
    assert done.status_code == 302
    entry = CannedResponse.objects.get()
    assert entry.department == department(city, "sewer")
    edit_url = reverse("inbox:canned_edit", args=[entry.pk])
    assert client.get(edit_url).status_code == 200
    assert (
        client.post(edit_url, {"title": "새 안내", "body": BODY, "department": ""}).status_code
        == 302
    )
    entry.refresh_from_db()
    assert (entry.title, entry.department) == ("새 안내", None)
    client.post(reverse("inbox:canned_action", args=[entry.pk, "retire"]))
    entry.refresh_from_db()
    assert not entry.active
    assert "새 안내" in client.get(reverse("inbox:canned_list")).content.decode()
    assert client.post(reverse("inbox:canned_action", args=[entry.pk, "delete"])).status_code == 404
    responder = signed_in(make_staff(city, Role.DEPARTMENT_RESPONDER, "sewer"))
    assert responder.get(reverse("inbox:canned_list")).status_code == 403
    assert (
        responder.post(reverse("inbox:canned_action", args=[entry.pk, "restore"])).status_code
        == 403
    )


def test_the_case_page_offers_and_inserts_them(city, case, editor, shared, for_roads) -> None:
    client = signed_in(editor)
    page = client.get(reverse("inbox:case", args=[case.pk])).content.decode()
    assert 'id="canned-select"' in page
    assert "접수 안내" in page
    assert "도로 보수 안내" not in page  # another department's
    url = reverse("inbox:insert_canned", args=[case.pk])
    found = client.post(
        url, {"canned": shared.pk, "visibility": "public"}, headers={"Accept": "application/json"}
    )
    assert found.status_code == 200
    assert found.json()["text"].startswith("박*민님, 하수도과에서")
    # Without script: the page comes back with the text after what was typed.
    fallback = client.post(
        url, {"canned": shared.pk, "visibility": "public", "text": "안녕하세요."}
    )
    assert fallback.status_code == 200
    assert "안녕하세요.\n\n박*민님, 하수도과에서" in fallback.content.decode()
    assert client.post(url, {"canned": for_roads.pk}).status_code == 404
    shared.refresh_from_db()
    assert shared.use_count == 2


# -- API -------------------------------------------------------------------------------------


def test_api_lists_and_renders_for_a_case(
    city, case, editor, make_staff, shared, for_roads
) -> None:
    client = signed_in(editor)
    listed = client.get(f"/api/v1/cases/{case.pk}/canned-responses")
    assert listed.status_code == 200
    assert [item["title"] for item in listed.json()] == ["접수 안내"]
    assert listed.json()[0]["body"] == BODY
    rendered = client.post(
        f"/api/v1/cases/{case.pk}/canned-responses/{shared.pk}/render",
        {"public": False},
        content_type="application/json",
    )
    assert rendered.status_code == 200
    assert rendered.json()["text"].startswith("박*민님, 하수도과에서")
    other = client.post(
        f"/api/v1/cases/{case.pk}/canned-responses/{for_roads.pk}/render",
        {},
        content_type="application/json",
    )
    assert other.status_code == 404
    author = signed_in(make_staff(city, Role.DEPARTMENT_AUTHOR, "sewer"))
    refused = author.post(
        f"/api/v1/cases/{case.pk}/canned-responses/{shared.pk}/render",
        {},
        content_type="application/json",
    )
    assert refused.status_code == 403
    shared.refresh_from_db()
    assert shared.use_count == 1
