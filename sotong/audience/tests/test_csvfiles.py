"""Reading and writing audience CSV files: the encodings Korean offices save in, the
header names in Korean or English, and every bad line named by its number."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from sotong.audience.csvfiles import FigureRow, read_figures, write_figures

SEOUL = ZoneInfo("Asia/Seoul")
TODAY = dt.date(2026, 3, 10)
KOREAN = '날짜,친구 수,신규,차단\r\n2026-03-01,10000,12,3\r\n2026-03-02,"10,009",,\r\n'


def read(content: bytes) -> list[FigureRow]:
    return read_figures(content, today=TODAY, time_zone=SEOUL)


def problems(content: bytes) -> list[str]:
    with pytest.raises(ValidationError) as raised:
        read(content)
    return raised.value.messages


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp949"])
def test_korean_headers_in_every_encoding_excel_writes(encoding) -> None:
    assert read(KOREAN.encode(encoding)) == [
        FigureRow(2, dt.date(2026, 3, 1), 10000, 12, 3),
        FigureRow(3, dt.date(2026, 3, 2), 10009, None, None),
    ]


def test_english_headers_other_columns_and_date_forms() -> None:
    content = (
        "Date, Followers ,gained,lost,메모\n"
        "2026.03.01,500,1,0,행사 홍보\n"
        "2026년 3월 2일,,4,2,\n"
        "\n"
        "20260303,510,,,\n"
        ",,,,\n"
    ).encode()
    rows = read(content)
    assert [(r.line, r.day.isoformat(), r.followers, r.gained, r.lost) for r in rows] == [
        (2, "2026-03-01", 500, 1, 0),
        (3, "2026-03-02", None, 4, 2),
        (5, "2026-03-03", 510, None, None),
    ]


def test_only_the_figure_columns_a_file_has() -> None:
    rows = read("날짜,신규\n2026-03-01,7\n".encode())
    assert rows == [FigureRow(2, dt.date(2026, 3, 1), None, 7, None)]


def test_every_bad_line_is_reported_with_its_number() -> None:
    content = (
        "날짜,친구 수,신규,차단\n"
        "2026-03-01,100,1,0\n"
        "3월 2일,100,1,0\n"  # 3: not a date
        "2026-03-11,100,,\n"  # 4: tomorrow
        "2026-03-03,-5,,\n"  # 5: negative
        "2026-03-04,1.5,x,\n"  # 6: two bad numbers
        "2026-03-05,,,\n"  # 7: no figure
        "2026-03-01,101,,\n"  # 8: the same day again
        ",100,,\n"  # 9: no date
    ).encode("cp949")
    assert problems(content) == [
        "3번째 줄: “3월 2일”은(는) 날짜가 아닙니다. 2026-03-01처럼 적어 주세요.",
        "4번째 줄: 2026-03-11은(는) 아직 오지 않은 날입니다.",
        "5번째 줄, 친구 수: -5은(는) 음수입니다. 0 이상이어야 합니다.",
        "6번째 줄, 친구 수: “1.5”은(는) 정수가 아닙니다.",
        "6번째 줄, 신규: “x”은(는) 정수가 아닙니다.",
        "7번째 줄: 친구·팔로워 수나 신규·차단 수 중 하나는 적어 주세요.",
        "8번째 줄: 2026-03-01은(는) 이미 2번째 줄에 있습니다.",
        "9번째 줄: 날짜가 비어 있습니다.",
    ]


def test_line_numbers_count_lines_inside_quoted_cells() -> None:
    content = '날짜,친구 수,메모\n2026-03-01,1,"두 줄\n메모"\n2026-03-02,x,\n'.encode()
    assert problems(content) == ["4번째 줄, 친구 수: “x”은(는) 정수가 아닙니다."]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "파일이 비어 있습니다."),
        ("친구 수,신규\n1,2\n".encode(), "1번째 줄에 열 이름을 적어 주세요"),
        ("날짜,메모\n2026-03-01,x\n".encode(), "1번째 줄에 수치 열이 없습니다"),
        ("날짜,신규,gained\n2026-03-01,1,1\n".encode(), "1번째 줄에 gained 열이 두 번 있습니다."),
        ("날짜,친구 수\n".encode(), "파일에 수치가 적힌 줄이 없습니다."),
        (b"\xff\xfe\x00\xd8\x00", "UTF-8이나 CP949(EUC-KR) 텍스트가 아닙니다"),
    ],
)
def test_files_that_cannot_be_read(content, message) -> None:
    assert message in " ".join(problems(content))


def test_many_bad_lines_are_summarised() -> None:
    content = "날짜,친구 수\n" + "".join(f"2026-02-{d:02d},x\n" for d in range(1, 29)) * 2
    messages = problems(content.encode())
    assert len(messages) == 31
    assert messages[-1] == "… 외 26건의 문제가 더 있습니다."


def test_the_download_reads_back_in() -> None:
    written = write_figures(
        "kakao",
        [
            (dt.date(2026, 3, 1), 10000, 12, 3, "직접 입력"),
            (dt.date(2026, 3, 2), None, 4, 1, "카카오 친구 알림"),
        ],
    )
    assert written.startswith("\ufeff날짜,친구 수,신규,차단,출처\r\n".encode())
    assert read(written) == [
        FigureRow(2, dt.date(2026, 3, 1), 10000, 12, 3),
        FigureRow(3, dt.date(2026, 3, 2), None, 4, 1),
    ]
    assert write_figures("youtube", []).decode("utf-8-sig").startswith("날짜,구독자 수,")
