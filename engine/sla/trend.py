"""The dashboard's figures over time: cases started and SLA compliance per day (or week) of the period.

Same cohort as engine/sla/service.py: the cases *started* in each day (WIB). Compliance of a day is
the share of that day's completed cases with an SLA that were completed by their due time, so a
recent day's compliance moves as its cases finish. Periods longer than `DAILY_UP_TO` days are
counted per week (Monday to Sunday) to keep the chart readable.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from engine.models import Case
from engine.sla.service import Filters, _cohort, _count, _pct

DAILY_UP_TO = 62
WIB_HOURS = 7  # Asia/Jakarta has no daylight saving time: WIB is always UTC+7


@dataclass(frozen=True)
class TrendPoint:
    """One day (or week) of the period: cases started, and of those completed with an SLA, how many on time."""

    start: date
    days: int
    started: int
    measured: int
    on_time: int

    @property
    def compliance(self) -> float | None:
        return _pct(self.on_time, self.measured)


def _wib_day(session: Session) -> Any:
    """SQL: the WIB calendar day of a case's start, as text YYYY-MM-DD on either database."""
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone("Asia/Jakarta", Case.created_at), "YYYY-MM-DD")
    return func.date(Case.created_at, f"+{WIB_HOURS} hours")


def _per_day(session: Session, filters: Filters, keys: list[str]) -> dict[date, tuple[int, int, int]]:
    day = _wib_day(session)
    measured = and_(Case.status == "completed", Case.due_at.is_not(None))
    stmt = (select(day, func.count(), _count(measured), _count(and_(measured, Case.completed_at <= Case.due_at)))
            .where(*_cohort(filters, keys)).group_by(day))
    return {date.fromisoformat(str(row[0])): (int(row[1]), int(row[2]), int(row[3])) for row in session.execute(stmt)}


def trend(session: Session, *, filters: Filters, keys: list[str], today: date) -> list[TrendPoint]:
    """Return one point per day of the period (per week beyond DAILY_UP_TO days), empty days included."""
    counts = _per_day(session, filters, keys) if keys else {}
    first = filters.date_from or min(counts, default=today)
    last = filters.date_to or max([today, *counts])
    if last < first:
        return []
    weekly = (last - first).days + 1 > DAILY_UP_TO
    if weekly:
        first -= timedelta(days=first.weekday())
    width = 7 if weekly else 1
    points = []
    start = first
    while start <= last:
        days = [start + timedelta(days=n) for n in range(width)]
        sums = [sum(counts.get(d, (0, 0, 0))[i] for d in days) for i in range(3)]
        points.append(TrendPoint(start, width, *sums))
        start += timedelta(days=width)
    return points
