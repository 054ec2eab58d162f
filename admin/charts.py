"""The dashboard's charts as geometry for server-side SVG (admin/templates/dashboard/_charts.html).

Pure functions: figures in, coordinates out. The template adds the words (both languages), a
<title>/<desc> per chart, a <title> per mark and a data table beside each chart, so the charts
need no JavaScript and a screen reader gets the same numbers.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

from engine.sla.service import Dashboard, percentile
from engine.sla.trend import TrendPoint

# Drawn at about this size, so the 13-unit text stays readable from a phone (scaled ~0.7) to a desktop (~1.3).
WIDTH = 480
TREND_HEIGHT = 200
LEFT, RIGHT, TOP, BOTTOM = 40, 12, 12, 30
ROW = 26  # height of one agency's bar in the comparison charts
LABEL = 170  # room for the agency names left of the comparison bars
MAX_BAR = 36  # a short period's bars stay bars, not blocks
# A wait shorter than a quarter of this never shows warm on the heat map: one working day.
HEAT_MIN_SCALE_H = 8.0


@dataclass(frozen=True)
class Mark:
    """A bar (x, y, width, height) or a point (x, y) of a chart, with what it stands for."""

    key: str
    label: str
    value: float | None
    x: float
    y: float
    width: float = 0.0
    height: float = 0.0


@dataclass(frozen=True)
class Tick:
    """A gridline position on the value axis and its number."""

    pos: float
    value: float


@dataclass(frozen=True)
class Chart:
    """One chart: its size, its marks, the value axis and (for a line) the path through its points."""

    width: int
    height: int
    marks: list[Mark]
    ticks: list[Tick]
    path: str = ""
    maximum: float = 0.0


def nice_ceiling(value: float) -> float:
    """Return the smallest 1, 2, 2.5 or 5 × 10^k at or above a value (1 for nothing)."""
    if value <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(value))
    return next(step * power for step in (1, 2, 2.5, 5, 10) if step * power >= value - 1e-9)


def _ticks(maximum: float, top: float, bottom: float, *, whole: bool = False) -> list[Tick]:
    """Return 1 to 5 gridlines; for counts (`whole`) only at whole numbers."""
    parts = next((n for n in (4, 5, 2) if not whole or (maximum / n).is_integer()), 1)
    return [Tick(round(bottom - (bottom - top) * n / parts, 1), maximum * n / parts) for n in range(parts + 1)]


def _label(point: TrendPoint) -> str:
    return point.start.strftime("%d-%m-%Y")


def volume_chart(points: list[TrendPoint]) -> Chart:
    """Return one bar per day (or week): the cases started."""
    maximum = nice_ceiling(max((p.started for p in points), default=0))
    plot_w, base = WIDTH - LEFT - RIGHT, TREND_HEIGHT - BOTTOM
    slot = plot_w / max(len(points), 1)
    bar = min(slot * 0.7, MAX_BAR)
    marks = []
    for n, p in enumerate(points):
        height = (base - TOP) * p.started / maximum
        marks.append(Mark(p.start.isoformat(), _label(p), p.started, round(LEFT + n * slot + (slot - bar) / 2, 1),
                          round(base - height, 1), round(bar, 1), round(height, 1)))
    return Chart(WIDTH, TREND_HEIGHT, marks, _ticks(maximum, TOP, base, whole=True), maximum=maximum)


def compliance_chart(points: list[TrendPoint]) -> Chart:
    """Return one point per day (or week) that has completed cases with an SLA: the share on time."""
    plot_w, base = WIDTH - LEFT - RIGHT, TREND_HEIGHT - BOTTOM
    slot = plot_w / max(len(points), 1)
    marks = [Mark(p.start.isoformat(), _label(p), p.compliance, round(LEFT + n * slot + slot / 2, 1),
                  round(base - (base - TOP) * p.compliance / 100, 1))
             for n, p in enumerate(points) if p.compliance is not None]
    path = " ".join(f"{'M' if n == 0 else 'L'}{m.x},{m.y}" for n, m in enumerate(marks))
    return Chart(WIDTH, TREND_HEIGHT, marks, _ticks(100.0, TOP, base), path=path, maximum=100.0)


def axis_labels(points: list[TrendPoint]) -> list[Mark]:
    """Return the dates written under a trend chart: the first, the middle and the last."""
    if not points:
        return []
    slot = (WIDTH - LEFT - RIGHT) / len(points)
    chosen = sorted({0, len(points) // 2, len(points) - 1})
    return [Mark(points[n].start.isoformat(), _label(points[n]), None, round(LEFT + n * slot + slot / 2, 1),
                 TREND_HEIGHT - 10) for n in chosen]


@dataclass(frozen=True)
class AgencyRow:
    """One agency's figures side by side: tasks handled, step SLA compliance, median step duration."""

    agency: str
    name_id: str
    name_en: str
    tasks: int
    compliance: float | None
    median_h: float | None


def agency_rows(board: Dashboard) -> list[AgencyRow]:
    """Return each agency's volume (open and completed tasks), compliance and median task duration."""
    durations: dict[str, list[float]] = defaultdict(list)
    for step in board.steps:
        durations[step.agency].extend(step.durations)
    return [AgencyRow(a.agency, a.name_id, a.name_en, a.open_tasks + a.completed_tasks, a.compliance,
                      percentile(durations.get(a.agency, []), 0.5)) for a in board.agencies]


def agency_chart(rows: list[AgencyRow], metric: str, *, maximum: float | None = None) -> Chart:
    """Return one horizontal bar per agency for a metric of AgencyRow (tasks, compliance, median_h)."""
    values = [getattr(r, metric) for r in rows]
    top = maximum if maximum is not None else nice_ceiling(max((v for v in values if v is not None), default=0))
    height = TOP + ROW * len(rows) + BOTTOM
    plot_w = WIDTH - LABEL - 48  # room for the value written after the longest bar
    marks = [Mark(r.agency, r.name_id, v, LABEL, TOP + n * ROW + 4, round(plot_w * (v or 0) / top, 1), ROW - 8)
             for n, (r, v) in enumerate(zip(rows, values, strict=True))]
    whole = metric == "tasks"
    parts = next((n for n in (2, 1) if not whole or (top / n).is_integer()), 1)
    ticks = [Tick(round(LABEL + plot_w * n / parts, 1), top * n / parts) for n in range(parts + 1)]
    return Chart(WIDTH, height, marks, ticks, maximum=top)


@dataclass(frozen=True)
class HeatScale:
    """The heat map's colour levels: four equal bands from 0 to `scale` hours (the last open-ended)."""

    scale: float
    levels: dict[str, int]

    @property
    def bands(self) -> list[tuple[int, float, float | None]]:
        step = self.scale / 4
        return [(n + 1, round(step * n, 1), round(step * (n + 1), 1) if n < 3 else None) for n in range(4)]


def heat_scale(heat: dict[str, float]) -> HeatScale:
    """Colour waits on a scale from 0 to the longest median wait, but never shorter than a working day.

    Relative-only colouring painted a 3-minute wait dark red when every wait was short: the floor
    keeps short waits pale, and level 1 (the first quarter) is drawn neutral.
    """
    scale = max([HEAT_MIN_SCALE_H, *heat.values()])
    return HeatScale(scale, {element: min(4, 1 + int(4 * hours / scale)) for element, hours in heat.items()})
