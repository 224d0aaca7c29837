"""Charts drawn on the server as SVG: readable without a network, a script or a chart library."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import ngettext

WIDTH, HEIGHT, TOP, BOTTOM, LEFT = 720, 180, 12, 22, 36


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str  # "2026-11-27: 12 downloads", the bar's <title>
    value: int


@dataclass(frozen=True)
class BarChart:
    bars: list[Bar]
    maximum: int
    first: str
    last: str
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    baseline: float = HEIGHT - BOTTOM


def per_day(series: list[tuple[date, int]]) -> BarChart:
    """One bar a day, scaled to the largest; the template draws it (templates/admin/_chart.html)."""
    maximum = max((n for _d, n in series), default=0)
    area = HEIGHT - TOP - BOTTOM
    step = (WIDTH - LEFT) / max(1, len(series))
    bars = []
    for i, (day, n) in enumerate(series):
        h = area * n / maximum if maximum else 0
        bars.append(
            Bar(
                LEFT + i * step + step * 0.1,
                HEIGHT - BOTTOM - h,
                step * 0.8,
                h,
                ngettext("%(day)s: %(num)d download", "%(day)s: %(num)d downloads", n, day=day.isoformat()),
                n,
            )
        )
    return BarChart(
        bars, maximum, series[0][0].isoformat() if series else "", series[-1][0].isoformat() if series else ""
    )
