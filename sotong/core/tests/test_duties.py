"""Department duties (사무분장): parsing and validation, the audited action, the settings
page, and the demo city's template."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from sotong.conftest import SYSTEM, department
from sotong.core import actions
from sotong.core.demo import load_department_specs
from sotong.core.models import DUTIES_MAX, AuditEntry, Department, parse_duties
from sotong.core.roles import Role


def messages_of(error: ValidationError) -> list[str]:
    return [str(message) for message in error.messages]


def test_keywords_one_per_line_or_comma_separated_without_repeats() -> None:
    text = "하수, 하수구，맨홀\n\n  우수관 、 악취  \r\n정화조\n하수구\n불법  주정차\n"
    assert parse_duties(text) == [
        "하수",
        "하수구",
        "맨홀",
        "우수관",
        "악취",
        "정화조",
        "불법 주정차",
    ]
    assert parse_duties("") == []


def test_an_empty_keyword_is_refused_in_korean_with_its_line() -> None:
    with pytest.raises(ValidationError) as caught:
        parse_duties("하수구\n맨홀,,악취")
    assert messages_of(caught.value) == [
        "2번째 줄에 빈 키워드가 있습니다. 남는 쉼표를 지워 주세요."
    ]


def test_too_long_and_too_many_keywords_are_refused_in_korean() -> None:
    with pytest.raises(ValidationError) as caught:
        parse_duties("하수구, " + "가" * 21)
    assert messages_of(caught.value) == [
        f"“{'가' * 21}”은(는) 너무 깁니다. 키워드는 20자 이내로 입력하세요."
    ]
    many = "\n".join(f"키워드{n}" for n in range(DUTIES_MAX + 1))
    with pytest.raises(ValidationError) as caught:
        parse_duties(many)
    assert messages_of(caught.value) == [
        "키워드가 61개로 너무 많습니다. 최대 60개까지 입력할 수 있습니다."
    ]
    assert len(parse_duties("\n".join(f"키워드{n}" for n in range(DUTIES_MAX)))) == DUTIES_MAX


def test_setting_duties_stores_them_one_per_line_and_audits_the_change(city) -> None:
    sewer = department(city, "sewer")
    actions.set_department_duties(SYSTEM, sewer, "하수구, 맨홀\n악취, 하수구")
    sewer.refresh_from_db()
    assert sewer.duties == "하수구\n맨홀\n악취"
    assert sewer.duty_keywords == ["하수구", "맨홀", "악취"]
    entry = AuditEntry.objects.get(action="department.duties", target_id=str(sewer.pk))
    assert entry.before == {"duties": []}
    assert entry.after == {"duties": ["하수구", "맨홀", "악취"]}
    assert entry.department_id == sewer.pk
    # The same keywords again change nothing and record nothing.
    actions.set_department_duties(SYSTEM, sewer, "하수구\n맨홀\n악취")
    assert AuditEntry.objects.filter(action="department.duties").count() == 1


def test_invalid_duties_keep_the_stored_ones(city) -> None:
    sewer = department(city, "sewer")
    actions.set_department_duties(SYSTEM, sewer, "하수구")
    with pytest.raises(ValidationError) as caught:
        actions.set_department_duties(SYSTEM, sewer, "맨홀,")
    assert "duties" in caught.value.message_dict
    sewer.refresh_from_db()
    assert sewer.duty_keywords == ["하수구"]


def test_only_department_managers_set_duties(city, make_staff) -> None:
    author = make_staff(city, Role.DEPARTMENT_AUTHOR, "sewer")
    with pytest.raises(PermissionDenied):
        actions.set_department_duties(author, department(city, "sewer"), "하수구")
    assert department(city, "sewer").duties == ""


def test_create_department_with_duties_audits_them(city) -> None:
    created = actions.create_department(
        SYSTEM,
        city,
        code="water",
        name="수도과",
        kind="division",
        duties=["상수도, 단수", "수도요금"],
    )
    assert created.duty_keywords == ["상수도", "단수", "수도요금"]
    entry = AuditEntry.objects.get(action="department.create", target_id=str(created.pk))
    assert entry.after["duties"] == ["상수도", "단수", "수도요금"]


@pytest.fixture
def signed_in(client, city, make_staff):
    client.force_login(make_staff(city, Role.ADMIN).user)
    return client


def test_duties_are_edited_on_the_departments_page(signed_in, city) -> None:
    sewer = department(city, "sewer")
    listing = signed_in.get(reverse("web:departments")).content.decode()
    assert reverse("web:department_duties", args=[sewer.pk]) in listing
    page = signed_in.get(reverse("web:department_duties", args=[sewer.pk])).content.decode()
    assert "부서 사무분장" in page
    assert "사무분장 키워드" in page
    response = signed_in.post(
        reverse("web:department_duties", args=[sewer.pk]),
        {"duties": "하수구\r\n맨홀, 악취"},
        follow=True,
    )
    html = response.content.decode()
    assert "하수도과의 사무분장을 저장했습니다." in html
    assert "하수구, 맨홀, 악취" in html  # shown in the list
    assert department(city, "sewer").duty_keywords == ["하수구", "맨홀", "악취"]


def test_bad_duties_on_the_page_get_a_korean_error_and_keep_what_was_typed(signed_in, city) -> None:
    sewer = department(city, "sewer")
    response = signed_in.post(
        reverse("web:department_duties", args=[sewer.pk]), {"duties": "하수구,,맨홀"}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "1번째 줄에 빈 키워드가 있습니다" in html
    assert "하수구,,맨홀" in html
    assert department(city, "sewer").duties == ""


def test_duties_are_given_when_a_department_is_added(signed_in, city) -> None:
    response = signed_in.post(
        reverse("web:departments"),
        {"name": "수도과", "code": "water", "kind": "division", "duties": "상수도\n단수"},
        follow=True,
    )
    assert response.status_code == 200
    assert Department.objects.get(organisation=city, code="water").duty_keywords == [
        "상수도",
        "단수",
    ]


def test_department_staff_cannot_open_the_duties_page(client, city, make_staff) -> None:
    client.force_login(make_staff(city, Role.DEPARTMENT_AUTHOR, "sewer").user)
    url = reverse("web:department_duties", args=[department(city, "sewer").pk])
    assert client.get(url).status_code == 403
    assert client.post(url, {"duties": "하수구"}).status_code == 403
    assert department(city, "sewer").duties == ""


def test_another_citys_department_is_not_found(signed_in, other_city) -> None:
    foreign = department(other_city, "sewer")
    url = reverse("web:department_duties", args=[foreign.pk])
    assert signed_in.get(url).status_code == 404


def test_every_demo_department_has_valid_duties() -> None:
    specs = load_department_specs()
    assert len(specs) == 15
    for spec in specs:
        assert spec.duties, spec.code
        assert parse_duties(", ".join(spec.duties)) == list(spec.duties), spec.code
    sewerage = next(spec for spec in specs if spec.code == "sewerage")
    assert {"하수구", "맨홀", "악취", "침수"} <= set(sewerage.duties)


def test_the_list_shows_the_first_keywords_and_how_many_more(signed_in, city) -> None:
    keywords = [f"키워드{n}" for n in range(10)]
    actions.set_department_duties(SYSTEM, department(city, "sewer"), ", ".join(keywords))
    html = signed_in.get(reverse("web:departments")).content.decode()
    assert ", ".join(keywords[:8]) + " 외 2개" in html
