"""The audience chart, drawn on the server as SVG geometry (no JavaScript, no chart
library): the follower count as a line over the days, and each day's new and lost people
as bars above and below a baseline. The table beside it carries the same figures as text;
the chart only shows their shape."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

WIDTH = 720
LEFT = 72  # room for the axis labels
RIGHT = 8
LINE_TOP, LINE_BOTTOM = 14, 118
BARS_TOP, BARS_BOTTOM = 146, 214
HEIGHT = 236


class Figures(Protocol):
    followers: int | None
    gained: int | None
    lost: int | None


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    kind: str  # "gained" or "lost"


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    # One SVG path per run of consecutive days with a known follower count.
    line_paths: tuple[str, ...]
    # Days with a count but no neighbour to join: drawn as dots.
    dots: tuple[tuple[float, float], ...]
    bars: tuple[Bar, ...]
    followers_min: int | None
    followers_max: int | None
    flow_max: int
    first_day: dt.date
    last_day: dt.date
    baseline: float
    left: int = LEFT
    right: int = WIDTH - RIGHT
    line_top: int = LINE_TOP
    line_bottom: int = LINE_BOTTOM
    bars_top: int = BARS_TOP
    bars_bottom: int = BARS_BOTTOM

    @property
    def empty(self) -> bool:
        return not self.line_paths and not self.dots and not self.bars

    # Axis labels, grouped by thousands (the SVG is rendered with localisation off).
    @property
    def max_label(self) -> str:
        return "" if self.followers_max is None else f"{self.followers_max:,}"

    @property
    def min_label(self) -> str:
        return "" if self.followers_min is None else f"{self.followers_min:,}"

    @property
    def flow_label(self) -> str:
        return f"{self.flow_max:,}"


def _round(value: float) -> float:
    return round(value, 1)


def build(days: Sequence[dt.date], figures: Mapping[dt.date, Figures]) -> Chart:
    """The chart of ``days`` (oldest first, one slot each), with the figures known for
    some of them."""
    if not days:
        raise ValueError("a chart needs at least one day")
    slot = (WIDTH - LEFT - RIGHT) / len(days)
    counts = [figures[day].followers if day in figures else None for day in days]
    known = [count for count in counts if count is not None]
    low, high = (min(known), max(known)) if known else (None, None)

    def x_of(index: int) -> float:
        return LEFT + slot * index + slot / 2

    floor, ceiling = low or 0, high or 0

    def y_of(count: int) -> float:
        if ceiling == floor:
            return (LINE_TOP + LINE_BOTTOM) / 2
        return LINE_BOTTOM - (count - floor) / (ceiling - floor) * (LINE_BOTTOM - LINE_TOP)

    paths: list[str] = []
    dots: list[tuple[float, float]] = []
    run: list[tuple[float, float]] = []
    for index, count in enumerate([*counts, None]):
        if count is not None:
            run.append((_round(x_of(index)), _round(y_of(count))))
            continue
        if len(run) == 1:
            dots.append(run[0])
        elif run:
            paths.append("M" + " L".join(f"{x} {y}" for x, y in run))
        run = []

    flows = [
        (figures[day].gained or 0, figures[day].lost or 0) if day in figures else (0, 0)
        for day in days
    ]
    flow_max = max((max(pair) for pair in flows), default=0)
    baseline = (BARS_TOP + BARS_BOTTOM) / 2
    half = (BARS_BOTTOM - BARS_TOP) / 2
    bar_width = _round(max(slot * 0.7, 1.0))
    bars: list[Bar] = []
    for index, (gained, lost) in enumerate(flows):
        x = _round(x_of(index) - bar_width / 2)
        if gained and flow_max:
            height = _round(max(gained / flow_max * half, 1.0))
            bars.append(Bar(x, _round(baseline - height), bar_width, height, "gained"))
        if lost and flow_max:
            height = _round(max(lost / flow_max * half, 1.0))
            bars.append(Bar(x, _round(baseline), bar_width, height, "lost"))
    return Chart(
        width=WIDTH,
        height=HEIGHT,
        line_paths=tuple(paths),
        dots=tuple(dots),
        bars=tuple(bars),
        followers_min=low,
        followers_max=high,
        flow_max=flow_max,
        first_day=days[0],
        last_day=days[-1],
        baseline=baseline,
    )
