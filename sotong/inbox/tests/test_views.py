"""The inbox pages: the list (and its polled fragment), the case page, actions through
forms, department scoping, and personal data shown only on request, with an audit entry."""

from __future__ import annotations

import pytest
from django.urls import reverse

from sotong.conftest import SYSTEM, department
from sotong.core.models import AuditEntry
from sotong.core.roles import Role
from sotong.inbox import actions, ingest
from sotong.inbox.models import Case, CaseStatus, Reply


@pytest.fixture
def case(city, comment) -> Case:
    comment("하수구 냄새가 심해요 010-9876-5432", author="6011", name="박시민")
    ingest.ingest_pending()
    return Case.objects.get()


def signed_in(client, staff):
    client.force_login(staff.user)
    return client


def test_inbox_lists_cases_with_filters_and_a_polled_fragment(
    client, city, case, make_staff
) -> None:
    page = signed_in(client, make_staff(city, Role.PR_EDITOR, "pr")).get(reverse("inbox:index"))
    assert page.status_code == 200
    html = page.content.decode()
    assert f'href="{reverse("inbox:case", args=[case.pk])}"' in html
    assert 'hx-trigger="every 10s"' in html
    assert "010-9876-5432" not in html
    assert "박시민" not in html
    fragment = client.get(reverse("inbox:index"), {"fragment": "1"})
    assert fragment.status_code == 200
    assert b"<html" not in fragment.content
    assert b'id="inbox-list"' in fragment.content
    closed = client.get(reverse("inbox:index"), {"status": CaseStatus.CLOSED})
    assert f"#{case.pk}".encode() not in closed.content
    overdue = client.get(reverse("inbox:index"), {"overdue": "on"})
    assert overdue.status_code == 200


def test_department_staff_cannot_open_another_departments_case(
    client, city, case, make_staff
) -> None:
    actions.assign(SYSTEM, case, department=department(city, "roads"))
    sewer = signed_in(client, make_staff(city, Role.DEPARTMENT_RESPONDER, "sewer"))
    assert sewer.get(reverse("inbox:case", args=[case.pk])).status_code == 404
    assert f"#{case.pk}".encode() not in sewer.get(reverse("inbox:index")).content
    answer = sewer.post(reverse("inbox:case_action", args=[case.pk, "note"]), {"text": "x"})
    assert answer.status_code == 404


def test_case_page_actions_through_forms(client, city, case, make_staff) -> None:
    editor = make_staff(city, Role.PR_EDITOR, "pr")
    signed_in(client, editor)
    url = reverse("inbox:case", args=[case.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert "010-9876-5432" not in page.content.decode()
    sewer = department(city, "sewer")
    done = client.post(
        reverse("inbox:case_action", args=[case.pk, "assign"]), {"department": sewer.pk}
    )
    assert done.status_code == 302
    case.refresh_from_db()
    assert case.department == sewer
    assert case.status == CaseStatus.ASSIGNED
    empty = client.post(reverse("inbox:case_action", args=[case.pk, "note"]), {"text": ""})
    assert empty.status_code == 400
    assert (
        "메모를 입력하세요" in empty.content.decode() or "Write the note." in empty.content.decode()
    )
    client.post(
        reverse("inbox:case_action", args=[case.pk, "reply"]),
        {"text": "현장 확인하겠습니다.", "visibility": "public"},
    )
    assert Reply.objects.get(case=case).text == "현장 확인하겠습니다."
    refused = client.post(
        reverse("inbox:case_action", args=[case.pk, "reply"]),
        {"text": "비공개로", "visibility": "private"},
    )
    assert refused.status_code == 400
    assert client.post(reverse("inbox:case_action", args=[case.pk, "nonsense"])).status_code == 404


def test_the_original_is_shown_on_request_and_the_look_is_audited(
    client, city, case, make_staff
) -> None:
    editor = make_staff(city, Role.PR_EDITOR, "pr")
    signed_in(client, editor)
    shown = client.post(reverse("inbox:case_action", args=[case.pk, "personal"]))
    assert shown.status_code == 200
    html = shown.content.decode()
    assert "010-9876-5432" in html
    assert "박시민" in html
    assert AuditEntry.objects.filter(
        action="case.view_personal_data", actor_id=editor.user_id, target_id=str(case.pk)
    ).exists()
    viewer = make_staff(city, Role.VIEWER)
    signed_in(client, viewer)
    assert client.get(reverse("inbox:case", args=[case.pk])).status_code == 200
    refused = client.post(reverse("inbox:case_action", args=[case.pk, "personal"]))
    assert refused.status_code == 403
