"""The audience page with Django's test client: table, chart, typing, importing, reading
now and the CSV download; who sees and who may change what."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from sotong.audience import actions
from sotong.audience.models import AudienceDay
from sotong.channels import actions as channel_actions
from sotong.conftest import SYSTEM, department
from sotong.core.roles import Role
from sotong.platforms.base import Credentials

PAGE_ID = "104220000000001"


def add_channel(city, kind: str, name: str, **kwargs):
    return channel_actions.connect_channel(
        SYSTEM,
        city,
        kind=kind,
        name=name,
        account_id=f"{kind}-{name}",
        credentials=Credentials(access_token="token", extra=kwargs.pop("extra", {})),
        verify=False,
        **kwargs,
    )


@pytest.fixture
def kakao(city):
    return add_channel(city, "kakao", "순천시 카카오톡", extra={"admin_key": "k"})


@pytest.fixture
def band(city):
    return add_channel(city, "band", "하수도과 밴드", department=department(city, "sewer"))


@pytest.fixture
def facebook(city, sim):
    token = sim.simulator["facebook"].add_page(PAGE_ID, "순천시", followers=31_000)
    return channel_actions.connect_channel(
        SYSTEM,
        city,
        kind="facebook",
        name="순천시 페이스북",
        account_id=PAGE_ID,
        credentials=Credentials(access_token=token),
        api_base=sim.platform_url("facebook"),
    )


def as_(client, staff):
    client.force_login(staff.user)
    return client


def page_of(channel) -> str:
    return reverse("audience:channel", args=[channel.pk])


def today(channel) -> dt.date:
    return actions.local_day(channel.organisation)


def test_the_page_shows_the_table_the_chart_and_the_forms(client, city, kakao, make_staff) -> None:
    admin = make_staff(city)
    day = today(kakao)
    actions.record_figures(admin, kakao, day=day - dt.timedelta(days=2), followers=9_990, gained=3)
    actions.record_figures(admin, kakao, day=day, followers=10_000, gained=12, lost=2)
    html = as_(client, admin).get(page_of(kakao)).content.decode()
    assert "순천시 카카오톡 일별 친구 수" in html
    assert '<svg viewBox="0 0 720 236" role="img" aria-labelledby="chart-title chart-desc"' in html
    assert "친구 수와 신규·차단 추이" in html
    start = html.index("<svg viewBox")
    svg = html[start : html.index("</svg>", start)]
    assert svg.count("<path d=") == 0
    assert svg.count("<circle") == 2
    assert svg.count('fill="#1d6b36"/>') == 2
    assert svg.count('fill="#a1161b"/>') == 1
    assert 'id="audience-table"' in html
    assert '<td class="num">10,000</td>' in html
    assert html.count("직원 입력") == 2
    assert "하루 수치 입력" in html
    assert "CSV 파일 가져오기" in html
    # KakaoTalk: the friend callback address, for administrators.
    assert reverse("audience:kakao_friends", args=[kakao.webhook_secret]) in html
    assert "카카오톡에는 친구 수를 읽는 API가 없습니다" in html
    assert f'href="{reverse("channels:detail", args=[kakao.pk])}"' in html
    # No platform reading here: no "지금 기록".
    assert "지금 기록" not in html


def test_viewers_see_figures_but_no_forms_and_cannot_post(client, city, kakao, make_staff) -> None:
    viewer = as_(client, make_staff(city, Role.VIEWER))
    html = viewer.get(page_of(kakao)).content.decode()
    assert "하루 수치 입력" not in html
    assert reverse("audience:kakao_friends", args=[kakao.webhook_secret]) not in html
    answer = viewer.post(
        reverse("audience:record", args=[kakao.pk]),
        {"type-day": today(kakao).isoformat(), "type-followers": "5"},
    )
    assert answer.status_code == 403
    assert not AudienceDay.objects.exists()


def test_department_staff_see_only_their_departments_channels(
    client, city, kakao, band, make_staff
) -> None:
    author = as_(client, make_staff(city, Role.DEPARTMENT_AUTHOR, "sewer"))
    assert author.get(page_of(kakao)).status_code == 404  # the city's own channel
    assert (
        author.post(
            reverse("audience:record", args=[kakao.pk]),
            {"type-day": today(kakao).isoformat(), "type-followers": "5"},
        ).status_code
        == 404
    )
    assert author.get(reverse("audience:download", args=[kakao.pk])).status_code == 404
    answer = author.post(
        reverse("audience:record", args=[band.pk]),
        {"type-day": today(band).isoformat(), "type-followers": "4,2"},
    )
    assert "정수를 입력하세요." in answer.content.decode()  # “4,2” is not a number
    answer = author.post(
        reverse("audience:record", args=[band.pk]),
        {"type-day": today(band).isoformat(), "type-followers": "4200"},
    )
    assert answer.status_code == 302
    assert AudienceDay.objects.get(channel=band).followers == 4200
    roads = as_(client, make_staff(city, Role.DEPARTMENT_AUTHOR, "roads"))
    assert roads.get(page_of(band)).status_code == 404


def test_typing_errors_are_shown_in_korean_and_nothing_is_saved(
    client, city, kakao, make_staff
) -> None:
    admin = as_(client, make_staff(city))
    tomorrow = today(kakao) + dt.timedelta(days=1)
    html = admin.post(
        reverse("audience:record", args=[kakao.pk]),
        {"type-day": tomorrow.isoformat(), "type-followers": "-4"},
    ).content.decode()
    assert "0 이상을 입력하세요." in html
    html = admin.post(
        reverse("audience:record", args=[kakao.pk]),
        {"type-day": tomorrow.isoformat(), "type-gained": "3"},
    ).content.decode()
    assert f"{tomorrow.isoformat()}은(는) 아직 오지 않았습니다." in html
    html = admin.post(
        reverse("audience:record", args=[kakao.pk]), {"type-day": today(kakao).isoformat()}
    ).content.decode()
    assert "친구·팔로워 수나 그날의 신규·차단 수 중 하나는 입력하세요." in html
    assert not AudienceDay.objects.exists()
    answer = admin.post(
        reverse("audience:record", args=[kakao.pk]),
        {"type-day": today(kakao).isoformat(), "type-followers": "10000", "type-gained": "7"},
        follow=True,
    )
    assert f"{today(kakao).isoformat()} 수치를 저장했습니다." in answer.content.decode()


def test_importing_shows_every_bad_line_and_imports_nothing(
    client, city, kakao, make_staff
) -> None:
    admin = as_(client, make_staff(city))
    bad = "날짜,친구 수,신규,차단\n2026-03-01,10000,1,0\n2026-13-01,10001,,\n2026-03-03,,x,\n"
    html = admin.post(
        reverse("audience:import", args=[kakao.pk]),
        {"import-file": SimpleUploadedFile("friends.csv", bad.encode("cp949"), "text/csv")},
    ).content.decode()
    assert "아무것도 가져오지 않았습니다" in html
    assert "3번째 줄: “2026-13-01”은(는) 날짜가 아닙니다." in html
    assert "4번째 줄, 신규: “x”은(는) 정수가 아닙니다." in html
    assert not AudienceDay.objects.exists()
    good = "\ufeff날짜,친구 수,신규,차단\n2026-03-01,10000,1,0\n2026-03-02,10003,4,1\n"
    answer = admin.post(
        reverse("audience:import", args=[kakao.pk]),
        {"import-file": SimpleUploadedFile("friends.csv", good.encode(), "text/csv")},
        follow=True,
    )
    assert "2일치를 가져왔습니다(2026-03-01 ~ 2026-03-02)." in answer.content.decode()
    assert AudienceDay.objects.filter(channel=kakao).count() == 2
    html = admin.post(reverse("audience:import", args=[kakao.pk]), {}).content.decode()
    assert "CSV 파일을 고르세요." in html


def test_reading_now_for_the_pr_office(client, city, facebook, band, make_staff) -> None:
    editor = as_(client, make_staff(city, Role.PR_EDITOR, "pr"))
    assert "지금 기록" in editor.get(page_of(facebook)).content.decode()
    answer = editor.post(reverse("audience:collect", args=[facebook.pk]), follow=True)
    html = answer.content.decode()
    assert "오늘 수치를 기록했습니다: 31,000." in html
    assert "<code>followers_count</code>" in html
    # A department's author types their band's figures but does not ask the platform.
    author = as_(client, make_staff(city, Role.DEPARTMENT_AUTHOR, "sewer"))
    html = author.get(page_of(band)).content.decode()
    assert "하루 수치 입력" in html
    assert "지금 기록" not in html
    assert author.post(reverse("audience:collect", args=[band.pk])).status_code == 403
    assert author.get(reverse("audience:collect", args=[band.pk])).status_code == 405
    assert not AudienceDay.objects.filter(channel=band).exists()


def test_reading_now_says_why_it_failed(client, city, facebook, make_staff, sim) -> None:
    from sotong.simulator.core import Fault, FaultKind

    sim.simulator.inject("facebook", Fault(FaultKind.RATE_LIMITED))
    admin = as_(client, make_staff(city))
    html = admin.post(reverse("audience:collect", args=[facebook.pk]), follow=True).content.decode()
    assert "기록하지 못했습니다: 플랫폼 호출 한도에 걸렸습니다." in html


def test_the_csv_download_has_every_day_and_reads_back(client, city, kakao, make_staff) -> None:
    admin = make_staff(city)
    actions.record_figures(admin, kakao, day=dt.date(2025, 1, 5), followers=8_000)
    actions.record_figures(admin, kakao, day=today(kakao), gained=3, lost=1)
    answer = as_(client, admin).get(reverse("audience:download", args=[kakao.pk]))
    assert answer["Content-Type"] == "text/csv; charset=utf-8"
    assert answer["Content-Disposition"].startswith(f'attachment; filename="audience-{kakao.pk}-')
    text = answer.content.decode("utf-8-sig")
    assert text.splitlines() == [
        "날짜,친구 수,신규,차단,출처",
        "2025-01-05,8000,,,직원 입력",
        f"{today(kakao).isoformat()},,3,1,직원 입력",
    ]
    # A download can be imported again as it is.
    rows = actions.import_figures(admin, kakao, answer.content)
    assert len(rows) == 2


def test_signed_out_people_are_sent_to_sign_in(client, kakao) -> None:
    answer = client.get(page_of(kakao))
    assert answer.status_code == 302
    assert "/accounts/login/" in answer["Location"]
