"""Reading data feeds: dated rows (CSV or JSON, uploaded or fetched from an address) for
data-driven series, and rendering one day's rows through the series' template.

A feed that cannot be read raises ``FeedError`` with a message that says where (which row,
which column) — a city official fixes the spreadsheet from it, so it must be precise.
Nothing here touches the database.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from django.template import Context, Engine, TemplateSyntaxError
from django.utils.translation import gettext as _

MAX_FEED_BYTES = 5 * 1024 * 1024
FETCH_TIMEOUT = httpx.Timeout(15.0, connect=5.0)
WEEKDAYS_KO = "월화수목금토일"

DEFAULT_TITLE_TEMPLATE = "{{ date_label }} 하수관로 교체 공사 현장 안내"
DEFAULT_BODY_TEMPLATE = """오늘({{ date_label }}) 하수관로 교체 공사 현장 {{ count }}곳을 알려드립니다.
{% for row in rows %}
▶ {{ row.location }}
 - 작업 시간: {{ row.hours }}
 - 우회 안내: {{ row.detour }}
{% endfor %}
공사 구간을 지나실 때는 안내에 따라 우회해 주세요. 불편을 드려 죄송합니다."""


class FeedError(Exception):
    """The feed cannot be read; the message says where and why."""


@dataclass(frozen=True)
class ParsedFeed:
    columns: list[str]
    # Each row: {"day": ISO date (Asia/Seoul), "number": row number, "values": {column: text}}
    rows: list[dict[str, Any]]


# 2026-11-24, 2026.11.24, 2026/11/24, 2026. 11. 24., 2026년 11월 24일
_DATE = re.compile(r"^(\d{4})\s*[-./년]\s*(\d{1,2})\s*[-./월]\s*(\d{1,2})\s*[.일]?$")
_COMPACT_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")


def parse_day(text: str, time_zone: ZoneInfo) -> dt.date | None:
    """The calendar day (in ``time_zone``) a cell names, or None if it names none.
    A moment with an offset (2026-11-24T07:00:00+09:00) counts on its local day."""
    value = text.strip()
    match = _DATE.match(value) or _COMPACT_DATE.match(value)
    if match:
        try:
            return dt.date(int(match[1]), int(match[2]), int(match[3]))
        except ValueError:
            return None
    if "T" in value or " " in value:
        try:
            moment = dt.datetime.fromisoformat(value)
        except ValueError:
            return None
        if moment.tzinfo is not None:
            moment = moment.astimezone(time_zone)
        return moment.date()
    return None


def _decode(content: bytes) -> str:
    # Spreadsheets saved by Korean offices are often CP949 (EUC-KR), not UTF-8.
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return content.decode("cp949")
    except UnicodeDecodeError as exc:
        raise FeedError(
            _("The file is neither UTF-8 nor EUC-KR text (byte %(position)d).")
            % {"position": exc.start + 1}
        ) from exc


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool | int | float):
        return str(value)
    return json.dumps(value, ensure_ascii=False)


def _dated_rows(
    records: Sequence[tuple[int, Mapping[str, object]]],
    columns: list[str],
    date_column: str,
    time_zone: ZoneInfo,
    row_word: str,
) -> ParsedFeed:
    if date_column not in columns:
        raise FeedError(
            _("There is no “%(column)s” column. The columns are: %(columns)s.")
            % {"column": date_column, "columns": ", ".join(columns) or "—"}
        )
    rows = []
    for number, record in records:
        values = {column: _cell(record.get(column)) for column in columns}
        raw = values[date_column]
        if not raw:
            raise FeedError(
                _("%(row)s %(number)d, column “%(column)s”: the date is empty.")
                % {"row": row_word, "number": number, "column": date_column}
            )
        day = parse_day(raw, time_zone)
        if day is None:
            raise FeedError(
                _(
                    "%(row)s %(number)d, column “%(column)s”: “%(value)s” is not a date. "
                    "Write it as 2026-11-24."
                )
                % {"row": row_word, "number": number, "column": date_column, "value": raw[:50]}
            )
        rows.append({"day": day.isoformat(), "number": number, "values": values})
    return ParsedFeed(columns=columns, rows=rows)


def parse_csv(content: bytes, *, date_column: str, time_zone: ZoneInfo) -> ParsedFeed:
    """Rows of a CSV file whose first line names the columns. Row numbers are as a
    spreadsheet shows them: the header is row 1."""
    text = _decode(content)
    if not text.strip():
        raise FeedError(_("The file is empty."))
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader)
        columns = [name.strip() for name in header]
        if not any(columns):
            raise FeedError(_("Row 1 must name the columns (date, location, …)."))
        duplicated = sorted({name for name in columns if name and columns.count(name) > 1})
        if duplicated:
            raise FeedError(
                _("Row 1 names a column twice: %(columns)s.") % {"columns": ", ".join(duplicated)}
            )
        records: list[tuple[int, Mapping[str, object]]] = []
        for number, cells in enumerate(reader, start=2):
            if not any(cell.strip() for cell in cells):
                continue  # blank lines at the end of a spreadsheet export
            if len(cells) != len(columns):
                raise FeedError(
                    _("Row %(number)d has %(found)d cells; row 1 names %(expected)d columns.")
                    % {"number": number, "found": len(cells), "expected": len(columns)}
                )
            records.append((number, dict(zip(columns, cells, strict=True))))
    except csv.Error as exc:
        raise FeedError(
            _("Line %(line)d is not valid CSV: %(reason)s")
            % {"line": reader.line_num, "reason": exc}
        ) from exc
    except StopIteration as exc:
        raise FeedError(_("The file is empty.")) from exc
    return _dated_rows(records, columns, date_column, time_zone, _("Row"))


def parse_json(content: bytes, *, date_column: str, time_zone: ZoneInfo) -> ParsedFeed:
    """Rows of a JSON list of objects, or of an object holding that list under "rows",
    "data", "items" or "records". Items are counted from 1."""
    text = _decode(content)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FeedError(
            _("The JSON is not valid at line %(line)d, column %(column)d: %(reason)s")
            % {"line": exc.lineno, "column": exc.colno, "reason": exc.msg}
        ) from exc
    if isinstance(data, dict):
        found = next(
            (data[key] for key in ("rows", "data", "items", "records") if key in data), None
        )
        data = found
    if not isinstance(data, list):
        raise FeedError(
            _('The JSON must be a list of rows, or an object with the list under "rows".')
        )
    columns: list[str] = []
    records: list[tuple[int, Mapping[str, object]]] = []
    for number, item in enumerate(data, start=1):
        if not isinstance(item, dict):
            raise FeedError(
                _("Item %(number)d is not an object with named values.") % {"number": number}
            )
        for key in item:
            if str(key) not in columns:
                columns.append(str(key))
        records.append((number, {str(key): value for key, value in item.items()}))
    if not records:
        return ParsedFeed(columns=[date_column], rows=[])
    return _dated_rows(records, columns, date_column, time_zone, _("Item"))


def parse(
    content: bytes, feed_format: str, *, date_column: str = "date", time_zone: ZoneInfo
) -> ParsedFeed:
    if len(content) > MAX_FEED_BYTES:
        raise FeedError(
            _("The feed is larger than %(size)d MB.") % {"size": MAX_FEED_BYTES // 1024 // 1024}
        )
    if feed_format == "json":
        return parse_json(content, date_column=date_column, time_zone=time_zone)
    return parse_csv(content, date_column=date_column, time_zone=time_zone)


def format_of(name: str, content: bytes, default: str = "csv") -> str:
    """CSV or JSON, by the file's name, else by its first character."""
    lowered = name.lower()
    if lowered.endswith(".json"):
        return "json"
    if lowered.endswith((".csv", ".txt")):
        return "csv"
    start = content.lstrip()[:1]
    if start in (b"[", b"{"):
        return "json"
    return default


def rows_on(rows: Sequence[Mapping[str, Any]], day: dt.date) -> list[dict[str, str]]:
    """The values of the rows dated ``day``, in the feed's order."""
    wanted = day.isoformat()
    return [dict(row["values"]) for row in rows if row["day"] == wanted]


def fetch(url: str, *, timeout: httpx.Timeout = FETCH_TIMEOUT) -> bytes:
    """The bytes at ``url``; FeedError when they cannot be had in time or are too large."""
    try:
        with (
            httpx.Client(timeout=timeout, follow_redirects=True) as client,
            client.stream("GET", url, headers={"User-Agent": "Sotong feed reader"}) as response,
        ):
            if response.status_code != 200:
                raise FeedError(
                    _("The address answered HTTP %(status)d.") % {"status": response.status_code}
                )
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > MAX_FEED_BYTES:
                    raise FeedError(
                        _("The feed is larger than %(size)d MB.")
                        % {"size": MAX_FEED_BYTES // 1024 // 1024}
                    )
            return bytes(body)
    except httpx.TimeoutException as exc:
        raise FeedError(_("The address did not answer in time.")) from exc
    except httpx.HTTPError as exc:
        raise FeedError(
            _("The address could not be reached: %(reason)s") % {"reason": exc or type(exc)}
        ) from exc


# Plain text, not HTML: no autoescaping, and no loaders, so {% include %} reaches nothing.
_ENGINE = Engine(autoescape=False, string_if_invalid="")


def check_template(text: str) -> None:
    """Raise FeedError if the template cannot be compiled."""
    try:
        _ENGINE.from_string(text)
    except TemplateSyntaxError as exc:
        raise FeedError(_("The template has an error: %(reason)s") % {"reason": exc}) from exc


def date_label(day: dt.date) -> str:
    return f"{day.month}월 {day.day}일({WEEKDAYS_KO[day.weekday()]})"


def render(text: str, day: dt.date, rows: Sequence[Mapping[str, str]]) -> str:
    """The template filled with one day's rows, blank lines the loops leave squeezed."""
    try:
        template = _ENGINE.from_string(text)
    except TemplateSyntaxError as exc:
        raise FeedError(_("The template has an error: %(reason)s") % {"reason": exc}) from exc
    rendered = template.render(
        Context(
            {
                "date": day,
                "date_label": date_label(day),
                "rows": [dict(row) for row in rows],
                "count": len(rows),
            },
            autoescape=False,
        )
    )
    lines = [line.rstrip() for line in rendered.strip().splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines))
