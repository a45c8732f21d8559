"""The server-drawn chart: where the line and the bars go."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest

from sotong.audience import chart

DAYS = [dt.date(2026, 3, 1) + dt.timedelta(days=n) for n in range(6)]


def figures(**by_index):
    return {
        DAYS[index]: SimpleNamespace(followers=f, gained=g, lost=lo)
        for index, (f, g, lo) in ((int(k[1:]), v) for k, v in by_index.items())
    }


def test_the_line_breaks_at_unknown_days_and_spans_the_counts() -> None:
    drawn = chart.build(
        DAYS, figures(d0=(100, 0, 0), d1=(110, 5, 0), d2=(None, 1, 2), d4=(120, 0, 4))
    )
    assert (drawn.followers_min, drawn.followers_max) == (100, 120)
    assert len(drawn.line_paths) == 1  # days 0–1
    start, end = drawn.line_paths[0][1:].split(" L")
    # The lowest count sits on the bottom of the line panel, the highest on the top.
    assert float(start.split()[1]) == chart.LINE_BOTTOM
    assert float(end.split()[1]) == pytest.approx(chart.LINE_BOTTOM - 52, abs=0.1)
    assert len(drawn.dots) == 1
    assert drawn.dots[0][1] == chart.LINE_TOP
    assert drawn.max_label == "120"
    assert drawn.flow_max == 5
    gained = [bar for bar in drawn.bars if bar.kind == "gained"]
    lost = [bar for bar in drawn.bars if bar.kind == "lost"]
    assert [bar.height for bar in gained] == [34.0, 6.8]  # 5 is the full half-panel
    assert all(bar.y + bar.height == drawn.baseline for bar in gained)
    assert [bar.height for bar in lost] == [13.6, 27.2]
    assert all(bar.y == drawn.baseline for bar in lost)
    assert not drawn.empty


def test_no_figures_no_marks() -> None:
    drawn = chart.build(DAYS, {})
    assert drawn.empty
    assert drawn.max_label == ""
    assert drawn.bars == ()


def test_one_count_only_is_a_dot_in_the_middle() -> None:
    drawn = chart.build(DAYS, figures(d5=(10_000, None, None)))
    # The last of six slots across 640 px: centred half a slot from the right edge.
    assert drawn.dots == ((658.7, 66.0),)
    assert drawn.max_label == "10,000"
