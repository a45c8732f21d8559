"""Audience figures in CSV: reading a file staff import (a spreadsheet saved as CSV, in
UTF-8 with or without a BOM, or CP949 as Korean Excel writes it) and writing the table
for download. Every problem is reported with its line, so the file can be fixed and
imported again; a file with any problem yields nothing. No database here."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from sotong.publishing.feeds import parse_day

MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 20_000
# Errors listed at most; the rest are counted.
MAX_REPORTED = 30

# The header names each column is known by, compared without spaces or case.
COLUMNS: dict[str, tuple[str, ...]] = {
    "day": ("날짜", "일자", "date", "day"),
    "followers": ("친구수", "followers", "팔로워수", "구독자수", "멤버수", "이웃수"),
    "gained": ("신규", "신규친구", "gained", "new"),
    "lost": ("차단", "lost", "blocked"),
}
FIGURES = ("followers", "gained", "lost")
# The download's header (in Korean whatever the page's language: it is a file format),
# with the figure named as on the platform; the import reads it back.
FIGURE_HEADERS = {
    "kakao": "친구 수",
    "band": "멤버 수",
    "telegram": "멤버 수",
    "youtube": "구독자 수",
    "naver_blog": "이웃 수",
}

_NUMBER = re.compile(r"^\d{1,3}(,\d{3})+$|^\d+$")


@dataclass(frozen=True)
class FigureRow:
    line: int
    day: dt.date
    followers: int | None
    gained: int | None
    lost: int | None


def _key(name: str) -> str:
    return "".join(name.split()).casefold()


def _decode(content: bytes) -> str:
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return content.decode("cp949")
    except UnicodeDecodeError as exc:
        raise ValidationError(
            _("The file is neither UTF-8 nor CP949 (EUC-KR) text (byte %(position)d).")
            % {"position": exc.start + 1}
        ) from exc


def _columns(header: list[str]) -> dict[str, int]:
    """Which cell of a row holds each known column."""
    wanted = {_key(alias): name for name, aliases in COLUMNS.items() for alias in aliases}
    found: dict[str, int] = {}
    for index, cell in enumerate(header):
        name = wanted.get(_key(cell))
        if name is None:
            continue  # other columns (출처, notes) are left alone
        if name in found:
            raise ValidationError(
                _("Line 1 names the %(column)s column twice.") % {"column": cell.strip()}
            )
        found[name] = index
    if "day" not in found:
        raise ValidationError(
            _(
                "Line 1 must name the columns: 날짜 (or date) and at least one of 친구 수, 신규, 차단."
            )
        )
    if not any(name in found for name in FIGURES):
        raise ValidationError(
            _("Line 1 has no figure column: add 친구 수 (followers), 신규 (gained) or 차단 (lost).")
        )
    return found


def _number(text: str, line: int, column: str, errors: list[str]) -> int | None:
    value = text.strip()
    if not value:
        return None
    if value.startswith("-") and _NUMBER.match(value[1:]):
        errors.append(
            _("Line %(line)d, %(column)s: %(value)s is negative; figures are 0 or more.")
            % {"line": line, "column": column, "value": value}
        )
        return None
    if not _NUMBER.match(value):
        errors.append(
            _("Line %(line)d, %(column)s: “%(value)s” is not a whole number.")
            % {"line": line, "column": column, "value": value[:30]}
        )
        return None
    return int(value.replace(",", ""))


def read_figures(content: bytes, *, today: dt.date, time_zone: ZoneInfo) -> list[FigureRow]:
    """The rows of an audience CSV whose first line names the columns (날짜/date,
    친구 수/followers, 신규/gained, 차단/lost; others are ignored). Raises ValidationError
    listing every bad line (a date that is not one or is after ``today``, a number that is
    negative or not whole, a line with no figure, a day given twice)."""
    if len(content) > MAX_BYTES:
        raise ValidationError(
            _("The file is larger than %(size)d MB.") % {"size": MAX_BYTES // (1024 * 1024)}
        )
    text = _decode(content)
    if not text.strip():
        raise ValidationError(_("The file is empty."))
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    errors: list[str] = []
    rows: list[FigureRow] = []
    first_line: dict[dt.date, int] = {}
    lines = 0
    try:
        header = next(reader)
        columns = _columns(header)
        names = {name: header[index].strip() for name, index in columns.items()}
        for cells in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in cells):
                continue  # blank lines at the end of a spreadsheet export
            lines += 1
            if lines > MAX_ROWS:
                raise ValidationError(
                    _("The file has more than %(count)d lines.") % {"count": MAX_ROWS}
                )

            def cell(name: str, cells: list[str] = cells) -> str:
                index = columns.get(name)
                return cells[index] if index is not None and index < len(cells) else ""

            before = len(errors)
            raw_day = cell("day").strip()
            day = parse_day(raw_day, time_zone) if raw_day else None
            if not raw_day:
                errors.append(_("Line %(line)d: the date is empty.") % {"line": line})
            elif day is None:
                errors.append(
                    _("Line %(line)d: “%(value)s” is not a date. Write it as 2026-03-01.")
                    % {"line": line, "value": raw_day[:30]}
                )
            elif day > today:
                errors.append(
                    _("Line %(line)d: %(day)s is in the future.")
                    % {"line": line, "day": day.isoformat()}
                )
            elif day in first_line:
                errors.append(
                    _("Line %(line)d: %(day)s is already on line %(first)d.")
                    % {"line": line, "day": day.isoformat(), "first": first_line[day]}
                )
            figures = {
                name: _number(cell(name), line, names[name], errors) if name in columns else None
                for name in FIGURES
            }
            if len(errors) == before and all(value is None for value in figures.values()):
                errors.append(
                    _("Line %(line)d: give the follower count, or new or lost people.")
                    % {"line": line}
                )
            if len(errors) == before and day is not None:
                first_line[day] = line
                rows.append(FigureRow(line, day, **figures))
    except csv.Error as exc:
        errors.append(
            _("Line %(line)d is not valid CSV: %(reason)s")
            % {"line": reader.line_num, "reason": exc}
        )
    except StopIteration:
        raise ValidationError(_("The file is empty.")) from None
    if errors:
        raise ValidationError(reported(errors))
    if not rows:
        raise ValidationError(_("The file has no lines with figures."))
    return rows


def reported(errors: list[str]) -> list[str]:
    if len(errors) <= MAX_REPORTED:
        return errors
    return [
        *errors[:MAX_REPORTED],
        _("… and %(count)d more problems.") % {"count": len(errors) - MAX_REPORTED},
    ]


def write_figures(
    kind: str, rows: Iterable[tuple[dt.date, int | None, int | None, int | None, str]]
) -> bytes:
    """The rows of a ``kind`` channel as CSV with a BOM (so Korean Excel reads it as
    UTF-8), header first."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["날짜", FIGURE_HEADERS.get(kind, "팔로워 수"), "신규", "차단", "출처"])
    for day, followers, gained, lost, source in rows:
        writer.writerow(
            [
                day.isoformat(),
                "" if followers is None else followers,
                "" if gained is None else gained,
                "" if lost is None else lost,
                source,
            ]
        )
    return buffer.getvalue().encode("utf-8-sig")
