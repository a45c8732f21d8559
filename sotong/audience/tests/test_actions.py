"""Audience actions: reading follower counts from the (simulated) platforms, on the
scheduler's round and on a person's request; typed and imported figures and when they
replace a platform's; who may do what."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from sotong.audience import actions
from sotong.audience.models import AudienceDay, AudienceSource, figure_name
from sotong.audience.tasks import collect_followers as collect_task
from sotong.channels import actions as channel_actions
from sotong.channels.models import ChannelStatus
from sotong.conftest import SYSTEM, department
from sotong.core.models import AuditEntry
from sotong.core.roles import Role
from sotong.core.scheduler import periodic_jobs
from sotong.platforms.base import Credentials, NextStep
from sotong.simulator.core import Fault, FaultKind

PAGE_ID = "104220000000001"
BAND_KEY = "AAAbBbCcDdEeFf0123"


@pytest.fixture
def facebook_page(sim):
    page = sim.simulator["facebook"]
    return page, page.add_page(PAGE_ID, "순천시", followers=31_000)


@pytest.fixture
def facebook(city, sim, facebook_page):
    return channel_actions.connect_channel(
        SYSTEM,
        city,
        kind="facebook",
        name="순천시 페이스북",
        account_id=PAGE_ID,
        credentials=Credentials(access_token=facebook_page[1], extra={"app_secret": "s"}),
        api_base=sim.platform_url("facebook"),
    )


@pytest.fixture
def band(city, sim):
    platform = sim.simulator["band"]
    token = platform.add_band(BAND_KEY, "순천시 소식", member_count=4_200)
    return channel_actions.connect_channel(
        SYSTEM,
        city,
        kind="band",
        name="순천시 밴드",
        account_id=BAND_KEY,
        credentials=Credentials(access_token=token),
        api_base=sim.platform_url("band"),
        department=department(city, "sewer"),
    )


@pytest.fixture
def kakao(city):
    return channel_actions.connect_channel(
        SYSTEM,
        city,
        kind="kakao",
        name="순천시 카카오톡",
        account_id="bot-1",
        credentials=Credentials(),
        verify=False,
    )


def today(channel) -> dt.date:
    return actions.local_day(channel.organisation)


def row(channel, day: dt.date | None = None) -> AudienceDay:
    return AudienceDay.objects.get(channel=channel, day=day or today(channel))


# -- platform readings --------------------------------------------------------------------


def test_the_platform_count_is_todays_figure_and_later_readings_replace_it(
    facebook, facebook_page
) -> None:
    result = actions.collect_followers(facebook)
    assert (result.stored, result.followers, result.error) == (True, 31_000, "")
    first = row(facebook)
    assert (first.followers, first.gained, first.lost, first.source) == (
        31_000,
        None,
        None,
        "platform",
    )
    assert first.figure_name == "followers_count"
    facebook_page[0].pages[PAGE_ID].followers = 31_050
    actions.collect_followers(facebook)
    assert AudienceDay.objects.filter(channel=facebook).count() == 1
    assert row(facebook).followers == 31_050
    # The scheduler's readings are not audited; they are data, not decisions.
    assert not AuditEntry.objects.filter(action__startswith="audience.").exists()


def test_the_day_is_the_organisations_day_not_utc(facebook) -> None:
    # 2026-03-03 23:30 UTC is already 4 March in Seoul.
    late = dt.datetime(2026, 3, 3, 23, 30, tzinfo=dt.UTC)
    actions.collect_followers(facebook, now=late)
    assert row(facebook, dt.date(2026, 3, 4)).followers == 31_000


def test_the_round_reads_every_active_channel_that_has_a_count(facebook, band, kakao, sim) -> None:
    assert collect_task.call() == {"channels": 2, "stored": 2, "kept": 0, "failed": 0}
    assert row(band).followers == 4_200
    assert figure_name(band.kind) == "member_count"
    assert not AudienceDay.objects.filter(channel=kakao).exists()  # KakaoTalk has no API
    channel_actions.pause_channel(SYSTEM, band)
    assert actions.collect_all()["channels"] == 1
    assert {job.name for job in periodic_jobs()} >= {
        "sotong.audience.tasks.collect_followers",
        "sotong.audience.tasks.prune_friend_events",
    }


def test_a_rate_limit_is_logged_and_the_round_goes_on(facebook, band, sim, caplog) -> None:
    sim.simulator.inject("facebook", Fault(FaultKind.RATE_LIMITED))
    assert actions.collect_all() == {"channels": 2, "stored": 1, "kept": 0, "failed": 1}
    assert not AudienceDay.objects.filter(channel=facebook).exists()
    assert row(band).followers == 4_200
    assert "follower count not read (wait, RateLimited)" in caplog.text
    # The rate limit is remembered: the next try is not even sent, and says when to retry.
    result = actions.collect_followers(facebook)
    assert result.step == NextStep.WAIT
    assert "플랫폼 호출 한도에 걸렸습니다" in result.error


def test_a_dead_credential_is_reported_and_changes_nothing(facebook, facebook_page) -> None:
    facebook_page[0].revoke_token(facebook_page[1])
    result = actions.collect_followers(facebook)
    assert (result.stored, result.step) == (False, NextStep.RECONNECT)
    assert (
        result.error == "플랫폼이 채널 인증 정보를 더 이상 받지 않습니다. 채널을 다시 연결하세요."
    )
    facebook.refresh_from_db()
    assert facebook.status == ChannelStatus.ACTIVE  # the channel's own check decides that
    assert not AudienceDay.objects.exists()


def test_an_outage_is_retried_next_round(facebook, sim) -> None:
    sim.simulator.inject("facebook", Fault(FaultKind.SERVER_ERROR, count=5))
    result = actions.collect_followers(facebook)
    assert result.step == NextStep.RETRY
    assert not AudienceDay.objects.exists()


def test_a_platform_without_a_count_api_says_so(kakao, make_staff, city) -> None:
    result = actions.collect_followers(kakao, by=make_staff(city))
    assert not result.stored
    assert "직접 입력하거나 파일로 가져오세요" in result.error


def test_asking_now_is_for_administrators_and_the_pr_office(facebook, city, make_staff) -> None:
    editor = make_staff(city, Role.PR_EDITOR, "pr")
    result = actions.collect_followers(facebook, by=editor)
    assert result.stored
    assert row(facebook).recorded_by == editor
    entry = AuditEntry.objects.get(action="audience.collect")
    assert entry.after == {"day": today(facebook).isoformat(), "followers": 31_000}
    for role, code in [(Role.DEPARTMENT_AUTHOR, "sewer"), (Role.VIEWER, None)]:
        with pytest.raises(PermissionDenied):
            actions.collect_followers(facebook, by=make_staff(city, role, code))


# -- typed figures ------------------------------------------------------------------------


def test_typing_a_day_and_correcting_it(kakao, city, make_staff) -> None:
    admin = make_staff(city)
    day = today(kakao) - dt.timedelta(days=1)
    actions.record_figures(admin, kakao, day=day, followers=10_000, gained=12)
    actions.record_figures(admin, kakao, day=day, lost=3)  # an empty figure keeps the day's
    typed = row(kakao, day)
    assert (typed.followers, typed.gained, typed.lost, typed.source) == (10_000, 12, 3, "typed")
    assert typed.recorded_by == admin
    entries = list(AuditEntry.objects.filter(action="audience.record").order_by("id"))
    assert entries[0].before is None
    assert entries[1].before == {"followers": 10_000, "gained": 12, "lost": None, "source": "typed"}
    assert entries[1].after["lost"] == 3


@pytest.mark.parametrize(
    ("figures", "errors"),
    [
        (
            {"day_offset": 1, "followers": 5},
            {"day": ["%s은(는) 아직 오지 않았습니다. 오늘이나 그 이전 날짜만 기록할 수 있습니다."]},
        ),
        ({"followers": -1}, {"followers": ["0 이상을 입력하세요."]}),
        ({"gained": 2, "lost": -3}, {"lost": ["0 이상을 입력하세요."]}),
        ({}, {"__all__": ["친구·팔로워 수나 그날의 신규·차단 수 중 하나는 입력하세요."]}),
    ],
)
def test_typed_figures_are_checked_in_korean(kakao, city, make_staff, figures, errors) -> None:
    day = today(kakao) + dt.timedelta(days=figures.pop("day_offset", 0))
    with pytest.raises(ValidationError) as raised:
        actions.record_figures(make_staff(city), kakao, day=day, **figures)
    if "day" in errors:
        errors = {"day": [errors["day"][0] % day.isoformat()]}
    assert raised.value.message_dict == errors
    assert not AudienceDay.objects.exists()


def test_typed_figures_replace_the_platforms_only_when_confirmed(
    facebook, city, make_staff
) -> None:
    actions.collect_followers(facebook)
    editor = make_staff(city, Role.PR_EDITOR, "pr")
    with pytest.raises(ValidationError) as raised:
        actions.record_figures(editor, facebook, day=today(facebook), followers=30_000)
    assert raised.value.messages == [
        f"{today(facebook).isoformat()}에는 플랫폼에서 받은 수치(팔로워 31,000)가 있습니다. "
        "바꾸려면 ‘플랫폼 수치 덮어쓰기’를 선택하세요."
    ]
    assert row(facebook).followers == 31_000
    # Adding what the platform did not give, or repeating its figure, needs no confirming.
    actions.record_figures(editor, facebook, day=today(facebook), followers=31_000, gained=40)
    assert (row(facebook).followers, row(facebook).gained) == (31_000, 40)
    actions.record_figures(editor, facebook, day=today(facebook), followers=30_000, replace=True)
    assert (row(facebook).followers, row(facebook).source) == (30_000, "typed")
    # From now on the platform's reading leaves the staff's figure alone.
    result = actions.collect_followers(facebook)
    assert (result.kept, result.stored) == (True, False)
    assert row(facebook).followers == 30_000


def test_who_may_type_figures(facebook, band, city, make_staff) -> None:
    day = today(band)
    sewer_author = make_staff(city, Role.DEPARTMENT_AUTHOR, "sewer")
    actions.record_figures(sewer_author, band, day=day, gained=1)  # the band is 하수도과's
    with pytest.raises(PermissionDenied):  # the city's own Facebook Page is not
        actions.record_figures(sewer_author, facebook, day=day, gained=1)
    roads_author = make_staff(city, Role.DEPARTMENT_AUTHOR, "roads")
    responder = make_staff(city, Role.DEPARTMENT_RESPONDER, "sewer")
    viewer = make_staff(city, Role.VIEWER)
    for staff in (roads_author, responder, viewer):
        with pytest.raises(PermissionDenied):
            actions.record_figures(staff, band, day=day, gained=2)
        with pytest.raises(PermissionDenied):
            actions.import_figures(staff, band, "날짜,신규\n2026-03-01,1\n".encode())
    assert row(band).gained == 1


def test_staff_of_another_city_may_not(facebook, other_city, make_staff) -> None:
    with pytest.raises(PermissionDenied):
        actions.record_figures(make_staff(other_city), facebook, day=today(facebook), gained=1)
    with pytest.raises(PermissionDenied):
        actions.collect_followers(facebook, by=make_staff(other_city))


# -- imported figures ---------------------------------------------------------------------


def csv_of(*lines: str, encoding: str = "utf-8") -> bytes:
    return ("\r\n".join(["날짜,친구 수,신규,차단", *lines]) + "\r\n").encode(encoding)


def test_importing_a_file_records_its_days_and_is_audited(kakao, city, make_staff) -> None:
    admin = make_staff(city)
    actions.record_figures(admin, kakao, day=dt.date(2026, 3, 2), followers=1, gained=9)
    rows = actions.import_figures(
        admin,
        kakao,
        csv_of("2026-03-01,10000,12,3", "2026-03-02,10009,,", encoding="cp949"),
        filename="친구현황.csv",
    )
    assert [(r.day.isoformat(), r.followers, r.gained, r.lost, r.source) for r in rows] == [
        ("2026-03-01", 10000, 12, 3, "imported"),
        # Typed figures are replaced without asking; an empty cell keeps the day's.
        ("2026-03-02", 10009, 9, None, "imported"),
    ]
    assert AudienceDay.objects.filter(channel=kakao).count() == 2
    entry = AuditEntry.objects.get(action="audience.import")
    assert entry.after["file"] == "친구현황.csv"
    assert (entry.after["days"], entry.after["new_days"]) == (2, 1)
    assert entry.after["replaced"] == {
        "2026-03-02": {"followers": 1, "gained": 9, "lost": None, "source": "typed"}
    }


def test_a_file_with_any_bad_line_imports_nothing(kakao, city, make_staff) -> None:
    with pytest.raises(ValidationError) as raised:
        actions.import_figures(
            make_staff(city), kakao, csv_of("2026-03-01,10000,12,3", "2026-03-02,-1,,")
        )
    assert raised.value.messages == ["3번째 줄, 친구 수: -1은(는) 음수입니다. 0 이상이어야 합니다."]
    assert not AudienceDay.objects.exists()
    assert not AuditEntry.objects.filter(action="audience.import").exists()


def test_a_file_replaces_platform_figures_only_when_confirmed(facebook, city, make_staff) -> None:
    now = timezone.now()
    actions.collect_followers(facebook, now=now)
    day = today(facebook)
    yesterday = day - dt.timedelta(days=1)
    admin = make_staff(city)
    content = csv_of(f"{yesterday},30900,5,1", f"{day},30000,,")
    with pytest.raises(ValidationError) as raised:
        actions.import_figures(admin, facebook, content)
    assert raised.value.messages == [
        f"3번째 줄: {day}에는 플랫폼에서 받은 수치(팔로워 31,000)가 있습니다.",
        "이 날짜들도 가져오려면 ‘플랫폼 수치 덮어쓰기’를 선택하세요.",
    ]
    assert AudienceDay.objects.count() == 1
    actions.import_figures(admin, facebook, content, replace=True)
    assert (row(facebook).followers, row(facebook).source) == (30_000, "imported")
    assert row(facebook, yesterday).followers == 30_900


def test_the_callback_source_counts_as_the_platforms(kakao, city, make_staff) -> None:
    AudienceDay.objects.create(
        organisation=city,
        channel=kakao,
        day=dt.date(2026, 3, 1),
        gained=4,
        lost=0,
        source=AudienceSource.CALLBACK,
    )
    with pytest.raises(ValidationError):
        actions.import_figures(make_staff(city), kakao, csv_of("2026-03-01,,5,"))
    # Adding the count the callbacks cannot give is no conflict.
    actions.import_figures(make_staff(city), kakao, csv_of("2026-03-01,10000,,"))
    imported = row(kakao, dt.date(2026, 3, 1))
    assert (imported.followers, imported.gained, imported.lost) == (10_000, 4, 0)
