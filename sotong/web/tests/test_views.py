"""Staff pages: sign-in and lockout, Korean validation messages, permissions, HTMX."""

from __future__ import annotations

import pytest
from django.urls import reverse

from sotong.conftest import department
from sotong.core.models import AuditEntry, CalendarException, Department, Staff
from sotong.core.roles import Role

PASSWORD = "correct-horse-battery"


@pytest.fixture
def admin(city, make_staff):
    return make_staff(city, Role.ADMIN)


@pytest.fixture
def signed_in(client, admin):
    client.force_login(admin.user)
    return client


def test_pages_need_sign_in(client, db) -> None:
    response = client.get(reverse("web:home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_sign_in_and_lockout_after_five_failures(client, admin) -> None:
    username = admin.user.username
    for _attempt in range(4):
        response = client.post(reverse("login"), {"username": username, "password": "wrong"})
        assert response.status_code == 200
        assert "아이디 또는 비밀번호가 맞지 않습니다" in response.content.decode()
    fifth = client.post(reverse("login"), {"username": username, "password": "wrong"})
    assert fifth.status_code == 429
    # Locked even with the right password now.
    locked = client.post(reverse("login"), {"username": username, "password": PASSWORD})
    assert locked.status_code == 429
    assert "계정 잠김" in locked.content.decode()
    assert not client.get(reverse("web:home")).wsgi_request.user.is_authenticated


def test_correct_sign_in_lands_on_home(client, admin) -> None:
    response = client.post(
        reverse("login"), {"username": admin.user.username, "password": PASSWORD}, follow=True
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "순천시" in html
    assert f"{admin.display_name}님, 안녕하세요" in html
    assert 'lang="ko"' in html


def test_user_without_staff_profile_is_refused(client, django_user_model) -> None:
    user = django_user_model.objects.create_user("nobody", password=PASSWORD)
    client.force_login(user)
    response = client.get(reverse("web:home"))
    assert response.status_code == 403
    assert "기관에 속해 있지 않습니다" in response.content.decode()


def test_english_is_available(signed_in) -> None:
    signed_in.post(reverse("set_language"), {"language": "en", "next": "/"})
    html = signed_in.get(reverse("web:home")).content.decode()
    assert 'lang="en"' in html
    assert "Hello," in html


def test_navigation_shows_every_section(signed_in) -> None:
    html = signed_in.get(reverse("web:home")).content.decode()
    for label in ("홈", "글쓰기", "콘텐츠 달력", "민원함", "시민 참여", "성과 분석", "설정"):
        assert label in html


def test_invalid_working_hours_get_a_korean_message(signed_in, city) -> None:
    response = signed_in.post(
        reverse("web:organisation"),
        {"work_start": "09:00", "lunch_start": "19:00", "lunch_end": "20:00", "work_end": "18:00"},
    )
    assert response.status_code == 200
    assert "점심시간은 근무시간 안에 있어야 합니다" in response.content.decode()
    city.refresh_from_db()
    assert city.lunch_start.hour == 12


def test_rename_department_through_the_page(signed_in, city) -> None:
    sewer = department(city, "sewer")
    response = signed_in.post(
        reverse("web:department_rename", args=[sewer.pk]), {"name": "하수관리과"}, follow=True
    )
    assert "옛 이름은 별칭으로 남습니다" in response.content.decode()
    sewer.refresh_from_db()
    assert sewer.name == "하수관리과"
    assert AuditEntry.objects.filter(action="department.rename", target_id=str(sewer.pk)).exists()


def test_duplicate_department_code_is_reported_in_korean(signed_in, city) -> None:
    response = signed_in.post(
        reverse("web:departments"), {"name": "새과", "code": "sewer", "kind": "division"}
    )
    assert response.status_code == 200
    assert Department.objects.filter(organisation=city, name="새과").count() == 0
    assert "이미 존재합니다" in response.content.decode()


def test_add_staff_with_missing_fields(signed_in, city) -> None:
    response = signed_in.post(
        reverse("web:staff"), {"display_name": "", "username": "", "role": "department_author"}
    )
    html = response.content.decode()
    assert "필수 항목입니다" in html
    response = signed_in.post(
        reverse("web:staff"),
        {
            "display_name": "박새로",
            "username": "park",
            "role": "department_author",
            "password": "long-enough-pass",
        },
    )
    assert "부서 직원은 부서를 지정해야 합니다" in response.content.decode()
    assert not Staff.objects.filter(user__username="park").exists()


def test_department_staff_cannot_manage_or_see_other_departments(client, city, make_staff) -> None:
    author = make_staff(city, Role.DEPARTMENT_AUTHOR, "sewer")
    other = make_staff(city, Role.DEPARTMENT_AUTHOR, "roads")
    client.force_login(author.user)
    assert (
        client.get(
            reverse("web:department_rename", args=[department(city, "roads").pk])
        ).status_code
        == 403
    )
    assert (
        client.post(
            reverse("web:departments"), {"name": "x", "code": "x", "kind": "division"}
        ).status_code
        == 403
    )
    assert client.get(reverse("web:staff_change", args=[other.pk])).status_code == 403
    staff_page = client.get(reverse("web:staff")).content.decode()
    assert author.display_name in staff_page
    assert other.display_name not in staff_page


def test_other_citys_rows_are_not_found(signed_in, other_city, make_staff) -> None:
    stranger = make_staff(other_city, Role.VIEWER)
    foreign = department(other_city, "sewer")
    assert signed_in.get(reverse("web:department_rename", args=[foreign.pk])).status_code == 404
    assert signed_in.get(reverse("web:staff_change", args=[stranger.pk])).status_code == 404


def test_viewer_cannot_see_the_audit_log(client, city, make_staff) -> None:
    viewer = make_staff(city, Role.VIEWER)
    client.force_login(viewer.user)
    assert client.get(reverse("web:audit")).status_code == 403


def test_audit_log_filters_with_htmx(signed_in, city) -> None:
    signed_in.post(
        reverse("web:calendar"), {"date": "2026-12-31", "name": "임시공휴일", "closed": "closed"}
    )
    assert CalendarException.objects.filter(organisation=city).count() == 1
    response = signed_in.get(
        reverse("web:audit"), {"action": "calendar.set_exception"}, HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert "<html" not in html  # only the rows
    assert "calendar.set_exception" in html
    assert "department.create" not in html


def test_calendar_exception_removal_is_post_only(signed_in, city) -> None:
    signed_in.post(
        reverse("web:calendar"), {"date": "2026-12-31", "name": "임시공휴일", "closed": "closed"}
    )
    exception = CalendarException.objects.get(organisation=city)
    url = reverse("web:calendar_exception_remove", args=[exception.pk])
    assert signed_in.get(url).status_code == 405
    signed_in.post(url)
    assert not CalendarException.objects.filter(pk=exception.pk).exists()


def test_health_endpoint(client, db) -> None:
    response = client.get(reverse("health"))
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
