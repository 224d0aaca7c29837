"""Charts drawn on the server as SVG: readable without a network, a script or a chart library."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

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
        bars.append(Bar(LEFT + i * step + step * 0.1, HEIGHT - BOTTOM - h, step * 0.8, h,
                        f"{day.isoformat()}: {n} download{'' if n == 1 else 's'}", n))
    return BarChart(bars, maximum, series[0][0].isoformat() if series else "", series[-1][0].isoformat() if series else "")
