"""Data-driven series: CSV and JSON feeds of dated rows rendered into one post per day,
no post on a day without rows, broken feeds reported precisely and publishing nothing,
and a feed fetched over HTTP from a real local server."""

from __future__ import annotations

import datetime as dt
import http.server
import json
import threading
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from sotong.channels.models import Channel
from sotong.conftest import department
from sotong.core.models import AuditEntry
from sotong.core.roles import Role
from sotong.publishing import feeds
from sotong.publishing import series as series_actions
from sotong.publishing.models import (
    OccurrenceState,
    Post,
    PostStatus,
    Publication,
    SeriesKind,
    SeriesOccurrence,
)
from sotong.publishing.series import SeriesSettings

SEOUL = ZoneInfo("Asia/Seoul")
DAILY_SEVEN = "FREQ=DAILY;BYHOUR=7;BYMINUTE=0"

SITES_CSV = """date,location,hours,detour
2027-03-02,조례동 호수공원 앞,09:00~17:00,연향대로 이용
2027-03-02,"연향동 패션거리, 2구간",10:00~16:00,중앙로 이용
2027-03-03,왕지동 봉화로,09:00~18:00,봉화터널 우회
""".encode()

SITES_JSON = json.dumps(
    {
        "rows": [
            {
                "date": "2027.03.02",
                "location": "해룡면 신대리",
                "hours": "09~17시",
                "detour": "없음",
            },
            {"date": "2027년 3월 4일", "location": "덕연동", "hours": "종일", "detour": "남승룡로"},
        ]
    },
    ensure_ascii=False,
).encode()


def seoul(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SEOUL)


@pytest.fixture
def band(city) -> Channel:
    return Channel.objects.create(
        organisation=city, kind="band", name="순천시 밴드", account_id="band-key-1"
    )


@pytest.fixture
def author(city, make_staff):
    return make_staff(city, Role.DEPARTMENT_AUTHOR, "sewer")


def feed_series(author, city, channels, **overrides):
    fields = {
        "name": "오늘의 하수관로 공사 현장",
        "department": department(city, "sewer"),
        "channels": channels,
        "rule": DAILY_SEVEN,
        "starts_at": seoul(2027, 3, 1, 0, 0),
        "skip_holidays": False,
        "lead_time": dt.timedelta(hours=1),
        "hashtags": ["순천", "공사안내"],
        "title_template": feeds.DEFAULT_TITLE_TEMPLATE,
        "body_template": feeds.DEFAULT_BODY_TEMPLATE,
        **overrides,
    }
    return series_actions.create_series(
        author, city, kind=SeriesKind.FEED, values=SeriesSettings(**fields)
    )


# -- parsing ------------------------------------------------------------------------------


def test_csv_rows_are_dated_in_seoul() -> None:
    parsed = feeds.parse(SITES_CSV, "csv", time_zone=SEOUL)
    assert parsed.columns == ["date", "location", "hours", "detour"]
    assert [row["day"] for row in parsed.rows] == ["2027-03-02", "2027-03-02", "2027-03-03"]
    assert parsed.rows[1]["values"]["location"] == "연향동 패션거리, 2구간"
    assert parsed.rows[2]["number"] == 4  # spreadsheet row: the header is row 1


def test_euc_kr_csv_from_a_korean_spreadsheet() -> None:
    parsed = feeds.parse(SITES_CSV.decode().encode("cp949"), "csv", time_zone=SEOUL)
    assert parsed.rows[0]["values"]["location"] == "조례동 호수공원 앞"


def test_a_moment_with_an_offset_counts_on_its_seoul_day() -> None:
    # 23:30 UTC on 1 March is 08:30 on 2 March in Seoul.
    assert feeds.parse_day("2027-03-01T23:30:00+00:00", SEOUL) == dt.date(2027, 3, 2)
    assert feeds.parse_day("20270302", SEOUL) == dt.date(2027, 3, 2)
    assert feeds.parse_day("2027. 3. 2.", SEOUL) == dt.date(2027, 3, 2)
    assert feeds.parse_day("3월 2일", SEOUL) is None


def test_json_rows_with_korean_dates() -> None:
    parsed = feeds.parse(SITES_JSON, "json", time_zone=SEOUL)
    assert [row["day"] for row in parsed.rows] == ["2027-03-02", "2027-03-04"]


@pytest.mark.parametrize(
    ("content", "feed_format", "expected"),
    [
        (b'date,location\n2027-03-02,"unclosed\n', "csv", "올바른 CSV가 아닙니다"),
        (b"location,hours\n\xec\xa1\xb0\xeb\xa1\x80,9\n", "csv", "“date” 열이 없습니다"),
        (
            "date,location\n2027-03-02,조례동\n2027-02-30,연향동\n".encode(),
            "csv",
            "행 3, “date” 열: “2027-02-30”은(는) 날짜가 아닙니다",
        ),
        ("date,location\n,조례동\n".encode(), "csv", "행 2, “date” 열: 날짜가 비어 있습니다"),
        ("date,location\n2027-03-02,조례동,덤\n".encode(), "csv", "2행의 칸은 3개인데"),
        (b"", "csv", "파일이 비어 있습니다"),
        (b'[{"date": "2027-03-02"},', "json", "JSON 형식이 잘못되었습니다(1번째 줄"),
        (b'[{"date": "next tuesday"}]', "json", "항목 1, “date” 열"),
        (b'{"sites": []}', "json", '"rows" 아래에 목록'),
        (b'["2027-03-02"]', "json", "1번째 항목이 이름 붙은 값으로 된 객체가 아닙니다"),
    ],
)
def test_broken_feeds_say_where(content: bytes, feed_format: str, expected: str) -> None:
    with pytest.raises(feeds.FeedError) as raised:
        feeds.parse(content, feed_format, time_zone=SEOUL)
    assert expected in str(raised.value)


def test_rendering_is_plain_text_without_escaping() -> None:
    rows = [{"location": "A&B <공사>", "hours": "9~17", "detour": '우회로 "1"'}]
    text = feeds.render(feeds.DEFAULT_BODY_TEMPLATE, dt.date(2027, 3, 2), rows)
    assert "▶ A&B <공사>" in text
    assert '우회 안내: 우회로 "1"' in text
    assert text.startswith("오늘(3월 2일(화)) 하수관로 교체 공사 현장 1곳을 알려드립니다.")
    assert "\n\n\n" not in text
    with pytest.raises(feeds.FeedError, match="서식에 오류가 있습니다"):
        feeds.render("{% for row in rows %}", dt.date(2027, 3, 2), rows)


# -- the series ---------------------------------------------------------------------------


def test_one_post_per_day_with_only_that_days_rows(city, band, author) -> None:
    series = feed_series(author, city, [band])
    version = series_actions.upload_feed(author, series, name="sites.csv", content=SITES_CSV)
    assert version.ok
    assert len(version.rows) == 3
    series_actions.materialise(series, now=seoul(2027, 3, 2, 6, 5))
    post = Post.objects.get()
    assert post.title == "3월 2일(화) 하수관로 교체 공사 현장 안내"
    assert "현장 2곳" in post.body
    assert "조례동 호수공원 앞" in post.body
    assert "연향동 패션거리, 2구간" in post.body
    assert "왕지동" not in post.body  # the 3rd's row waits for the 3rd
    assert post.hashtags == ["순천", "공사안내"]
    assert post.status == PostStatus.IN_REVIEW
    assert Publication.objects.get(variant__post=post).due_at == seoul(2027, 3, 2, 7)
    series_actions.materialise(series, now=seoul(2027, 3, 3, 6, 5))
    assert Post.objects.count() == 2
    assert Post.objects.filter(body__contains="왕지동 봉화로").count() == 1


def test_a_day_without_rows_has_no_post(city, band, author) -> None:
    series = feed_series(author, city, [band])
    series_actions.upload_feed(author, series, name="sites.json", content=SITES_JSON)
    series_actions.materialise(series, now=seoul(2027, 3, 3, 6, 5))
    waiting = SeriesOccurrence.objects.get(at=seoul(2027, 3, 3, 7))
    assert waiting.state == OccurrenceState.WAITING  # rows may still come before 07:00
    series_actions.materialise(series, now=seoul(2027, 3, 3, 7, 1))
    waiting.refresh_from_db()
    assert waiting.state == OccurrenceState.SKIPPED
    assert waiting.reason == "피드에 2027-03-03 자료가 없습니다."
    assert not Post.objects.exists()
    series_actions.materialise(series, now=seoul(2027, 3, 4, 6, 5))
    assert Post.objects.get().title.startswith("3월 4일(목)")


def test_a_broken_feed_publishes_nothing_not_even_the_old_rows(city, band, author) -> None:
    series = feed_series(author, city, [band])
    series_actions.upload_feed(author, series, name="sites.csv", content=SITES_CSV)
    broken = series_actions.upload_feed(
        author,
        series,
        name="sites.csv",
        content="date,location,hours,detour\n2027-03-02,조례동,9~17,없음\n2027-13-02,연향동,9~17,없음\n".encode(),
    )
    assert not broken.ok
    assert "행 3, “date” 열: “2027-13-02”은(는) 날짜가 아닙니다" in broken.error
    assert AuditEntry.objects.filter(action="series.feed_error").count() == 1
    # The good version before it has rows for the 2nd: they are not used.
    series_actions.materialise(series, now=seoul(2027, 3, 2, 7, 1))
    assert not Post.objects.exists()
    skipped = SeriesOccurrence.objects.get(at=seoul(2027, 3, 2, 7))
    assert skipped.state == OccurrenceState.SKIPPED
    assert skipped.reason.startswith("피드를 읽을 수 없습니다: 행 3")
    assert series_actions.feed_preview(series, today=dt.date(2027, 3, 2)) == []


def test_a_fixed_feed_before_the_time_saves_the_day(city, band, author) -> None:
    series = feed_series(author, city, [band])
    series_actions.upload_feed(author, series, name="sites.csv", content=b"location\nA\n")
    series_actions.materialise(series, now=seoul(2027, 3, 2, 6, 10))
    assert not Post.objects.exists()
    series_actions.upload_feed(author, series, name="sites.csv", content=SITES_CSV)
    series_actions.materialise(series, now=seoul(2027, 3, 2, 6, 20))
    assert Post.objects.count() == 1


def test_templates_are_checked_when_saved(city, band, author) -> None:
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as raised:
        feed_series(author, city, [band], body_template="{% for row in rows %}{{ row.location }}")
    assert "서식에 오류가 있습니다" in raised.value.message_dict["body_template"][0]


# -- fetched from an address --------------------------------------------------------------


class FeedServer:
    """A real HTTP server on the loopback address serving whatever ``body`` is set to."""

    def __init__(self) -> None:
        self.body = SITES_CSV
        self.status = 200
        self.requests = 0
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner.requests += 1
                self.send_response(owner.status)
                self.send_header("Content-Type", "text/csv; charset=utf-8")
                self.send_header("Content-Length", str(len(owner.body)))
                self.end_headers()
                self.wfile.write(owner.body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/sites.csv"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FeedServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    with FeedServer() as server:
        yield server


def test_a_feed_fetched_on_schedule(city, band, author, feed_server) -> None:
    series = feed_series(author, city, [band], feed_url=feed_server.url)
    assert series.feed_next_fetch_at is not None
    result = series_actions.materialise_due(now=seoul(2027, 3, 2, 6, 5))
    assert result.fetched == 1
    assert result.created == 1
    version = series_actions.latest_feed(series)
    assert bytes(version.content) == SITES_CSV
    assert version.source == "url"
    series.refresh_from_db()
    # Not due again until the poll interval has passed.
    assert (
        series_actions.fetch_due_feeds(now=series.feed_next_fetch_at - dt.timedelta(seconds=1)) == 0
    )
    # The same bytes again: the version stands, only its check time moves.
    series_actions.fetch_feed(series)
    assert series.feed_versions.count() == 1
    assert feed_server.requests == 2


def test_a_feed_address_that_fails_stops_the_series(city, band, author, feed_server) -> None:
    series = feed_series(author, city, [band], feed_url=feed_server.url)
    series_actions.fetch_feed(series)
    feed_server.status = 500
    failed = series_actions.fetch_feed(series)
    assert failed.error == "주소가 HTTP 500 응답을 보냈습니다."
    series.refresh_from_db()
    assert series.feed_next_fetch_at is not None
    series_actions.materialise(series, now=seoul(2027, 3, 2, 7, 1))
    assert not Post.objects.exists()
    feed_server.status = 200
    feed_server.body = b"date;location\n"  # parses as one column named "date;location"
    assert "“date” 열이 없습니다" in series_actions.fetch_feed(series).error


def test_an_address_that_does_not_answer_in_time(city, band, author) -> None:
    import socket

    import httpx

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)  # accepts the connection, never answers
    try:
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/feed.json"
        with pytest.raises(feeds.FeedError, match="제한 시간 안에 응답하지 않았습니다"):
            feeds.fetch(url, timeout=httpx.Timeout(0.5))
    finally:
        listener.close()


# -- pages --------------------------------------------------------------------------------


def test_feed_page_upload_preview_and_error(client, city, band, author) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    series = feed_series(author, city, [band], starts_at=seoul(2027, 3, 1))
    client.force_login(author.user)
    url = reverse("series:detail", args=[series.pk])
    response = client.post(
        reverse("series:feed_upload", args=[series.pk]),
        {"file": SimpleUploadedFile("sites.csv", SITES_CSV, content_type="text/csv")},
        follow=True,
    )
    html = response.content.decode()
    assert "피드를 읽었습니다: 3행." in html
    detail = client.get(url).content.decode()
    assert "sites.csv" in detail
    assert "date, location, hours, detour" in detail
    response = client.post(
        reverse("series:feed_upload", args=[series.pk]),
        {"file": SimpleUploadedFile("sites.csv", b"location\nA\n", content_type="text/csv")},
        follow=True,
    )
    html = response.content.decode()
    assert "“date” 열이 없습니다. 있는 열: location." in html
    assert "마지막으로 읽을 수 있었던 버전" in html
    assert "이 연재는 아무것도 게시하지 않습니다" in html


def test_feed_preview_renders_the_next_days(city, band, author) -> None:
    series = feed_series(author, city, [band])
    series_actions.upload_feed(author, series, name="sites.csv", content=SITES_CSV)
    days = series_actions.feed_preview(series, days=3, today=dt.date(2027, 3, 1))
    assert [len(day.rows) for day in days] == [0, 2, 1]
    assert days[1].title == "3월 2일(화) 하수관로 교체 공사 현장 안내"
    assert "봉화터널 우회" in days[2].body


def test_upcoming_shows_each_days_rows(city, band, author) -> None:
    series = feed_series(author, city, [band])
    series_actions.upload_feed(author, series, name="sites.csv", content=SITES_CSV)
    entries = series_actions.upcoming(series, now=seoul(2027, 3, 1, 8), count=3)
    assert [(e.at, len(e.rows)) for e in entries] == [
        (seoul(2027, 3, 2, 7), 2),
        (seoul(2027, 3, 3, 7), 1),
        (seoul(2027, 3, 4, 7), 0),
    ]
