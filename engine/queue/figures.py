"""Queue figures for the dashboard: visitors per day, tickets per agency, waiting and service times, no-shows.

Waiting time runs from taking the ticket to its first call; service time from the call to done.
Times are in minutes; median and 90th percentile (nearest rank) over the tickets of the period.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.models import QueueTicket


@dataclass(frozen=True)
class Spread:
    """Median and 90th percentile in minutes (None without any ticket)."""

    median: float | None
    p90: float | None


@dataclass(frozen=True)
class AgencyQueue:
    """One agency's queue over a period."""

    agency: str
    tickets: int
    served: int
    no_shows: int
    waiting: Spread
    service: Spread


@dataclass(frozen=True)
class QueueFigures:
    """The queue over a period: visitors per day and the figures per agency and in total."""

    per_day: list[tuple[date, int]]
    agencies: list[AgencyQueue]
    total: AgencyQueue


def spread(minutes: list[float]) -> Spread:
    """Return the median and the 90th percentile (nearest rank) of a list of minutes."""
    if not minutes:
        return Spread(None, None)
    ordered = sorted(minutes)
    p90 = ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)]
    return Spread(round(statistics.median(ordered), 1), round(p90, 1))


def _agency(agency: str, rows: list[QueueTicket]) -> AgencyQueue:
    waits = [(t.called_at - t.taken_at).total_seconds() / 60 for t in rows if t.called_at is not None]
    serves = [(t.finished_at - t.called_at).total_seconds() / 60 for t in rows
              if t.status == "done" and t.called_at is not None and t.finished_at is not None]
    return AgencyQueue(agency, len(rows), sum(t.status == "done" for t in rows),
                       sum(t.status == "no_show" for t in rows), spread(waits), spread(serves))


def figures(session: Session, *, date_from: date, date_to: date, agencies: set[str] | None = None,
            agency: str | None = None) -> QueueFigures:
    """Return the queue figures of the days from `date_from` to `date_to` (both included).

    `agencies` limits them to the agencies a supervisor manages (None: all); `agency` to one.
    """
    stmt = select(QueueTicket).where(QueueTicket.day >= date_from, QueueTicket.day <= date_to)
    if agency:
        stmt = stmt.where(QueueTicket.agency == agency)
    rows = [t for t in session.scalars(stmt) if agencies is None or t.agency in agencies]
    per_day = Counter(t.day for t in rows)
    by_agency: dict[str, list[QueueTicket]] = {}
    for t in rows:
        by_agency.setdefault(t.agency, []).append(t)
    return QueueFigures(sorted(per_day.items()), [_agency(a, by_agency[a]) for a in sorted(by_agency)],
                        _agency("", rows))
