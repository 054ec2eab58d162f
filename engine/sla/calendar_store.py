"""The working calendar in the database: what administrators maintain, loaded once and reloaded on change.

Each edit bumps `working_calendar.revision`. A runtime keeps one WorkingCalendar object and swaps
its contents when the revision it last loaded is no longer the database's: it looks at most every
CHECK_EVERY_S seconds (another process's edit), and at once after an edit in its own process.
"""

from __future__ import annotations

import time as monotonic
from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from sqlalchemy import delete, extract, select, update
from sqlalchemy.orm import Session

from engine.db import on_commit
from engine.directory import audit
from engine.errors import InvalidInput, NotFound
from engine.models import CalendarHoliday, CalendarHoursRange, WorkingCalendarRow, utcnow
from engine.sla.calendar import HOLIDAY_KINDS, WorkingCalendar
from engine.sla.holiday_import import Holiday
from engine.sla.hours import HoursRange, Week, week_from_json, week_to_json

CHECK_EVERY_S = 30.0
MIN_YEAR, MAX_YEAR = 2000, 2100


def revision(session: Session) -> int | None:
    """Return the calendar's revision, or None when the database holds no calendar (use the bundled one)."""
    return session.scalar(select(WorkingCalendarRow.revision).where(WorkingCalendarRow.id == 1))


def load(session: Session) -> WorkingCalendar | None:
    """Build the calendar the database holds, or None when it holds none."""
    row = session.get(WorkingCalendarRow, 1)
    if row is None:
        return None
    holidays = list(session.scalars(select(CalendarHoliday)))
    ranges = [HoursRange(r.starts, r.ends, week_from_json(r.week), r.name)
              for r in session.scalars(select(CalendarHoursRange))]
    return WorkingCalendar({h.day: h.name for h in holidays}, week=week_from_json(row.week), ranges=ranges,
                           provisional_years=frozenset(h.day.year for h in holidays if h.provisional))


class CalendarCache:
    """One runtime's calendar, reloaded from the database when its revision changes."""

    def __init__(self, calendar: WorkingCalendar) -> None:
        self.calendar = calendar
        self.loaded: int | None = None
        self._checked = -CHECK_EVERY_S

    def refresh(self, session: Session) -> WorkingCalendar:
        """Return the calendar, first reloading it when the database's revision moved on."""
        now = monotonic.monotonic()
        if now - self._checked < CHECK_EVERY_S:
            return self.calendar
        current = revision(session)
        self._checked = now
        if current is not None and current != self.loaded:
            fresh = load(session)
            if fresh is not None:
                self.calendar.swap(fresh)
                self.loaded = current
        return self.calendar

    def invalidate(self) -> None:
        """Make the next refresh look at the database (an edit in this process)."""
        self._checked = -CHECK_EVERY_S


def _bump(session: Session, *, actor: str, cache: CalendarCache | None) -> None:
    changed = session.execute(update(WorkingCalendarRow).where(WorkingCalendarRow.id == 1).values(
        revision=WorkingCalendarRow.revision + 1, updated_at=utcnow(), updated_by=actor))
    if changed.rowcount == 0:  # type: ignore[attr-defined]
        session.add(WorkingCalendarRow(id=1, revision=1, week=week_to_json(WorkingCalendar.default().week),
                                       updated_at=utcnow(), updated_by=actor))
    session.flush()
    if cache is not None:
        on_commit(session, cache.invalidate)


@dataclass(frozen=True)
class YearView:
    """One year of the holiday list as the admin page shows it."""

    year: int
    provisional: bool
    holidays: list[CalendarHoliday]


@dataclass(frozen=True)
class CalendarView:
    """Everything the admin calendar page shows."""

    week: Week
    ranges: list[CalendarHoursRange]
    years: list[YearView]


def view(session: Session) -> CalendarView:
    """Return the weekly hours, the special-hours ranges and the holidays by year."""
    row = session.get(WorkingCalendarRow, 1)
    week = week_from_json(row.week) if row is not None else WorkingCalendar.default().week
    by_year: dict[int, list[CalendarHoliday]] = defaultdict(list)
    for holiday in session.scalars(select(CalendarHoliday).order_by(CalendarHoliday.day)):
        by_year[holiday.day.year].append(holiday)
    years = [YearView(year, any(h.provisional for h in rows), rows) for year, rows in sorted(by_year.items())]
    ranges = list(session.scalars(select(CalendarHoursRange).order_by(CalendarHoursRange.starts)))
    return CalendarView(week, ranges, years)


def add_holiday(session: Session, *, day: date, name: str, kind: str, actor: str,
                cache: CalendarCache | None = None) -> None:
    """Add (or rename) one holiday; InvalidInput for a bad name or kind."""
    name = name.strip()
    if not name or len(name) > 255:
        raise InvalidInput("the holiday needs a name of at most 255 characters",
                           message_id="hari libur perlu nama, paling banyak 255 karakter")
    if kind not in HOLIDAY_KINDS:
        raise InvalidInput("kind must be national or cuti_bersama",
                           message_id="jenis harus libur nasional atau cuti bersama")
    if not MIN_YEAR <= day.year <= MAX_YEAR:
        raise InvalidInput(f"the year must be {MIN_YEAR}–{MAX_YEAR}", message_id=f"tahun harus {MIN_YEAR}–{MAX_YEAR}")
    row = session.get(CalendarHoliday, day)
    if row is None:
        session.add(CalendarHoliday(day=day, name=name, kind=kind, provisional=False, source="admin"))
    else:
        row.name, row.kind, row.source = name, kind, "admin"
    audit.record(session, actor=actor, action="calendar.holiday_set", subject=day.isoformat(),
                 detail={"name": name, "kind": kind})
    _bump(session, actor=actor, cache=cache)


def remove_holiday(session: Session, *, day: date, actor: str, cache: CalendarCache | None = None) -> None:
    """Remove one holiday; NotFound when the date is no holiday."""
    row = session.get(CalendarHoliday, day)
    if row is None:
        raise NotFound(f"{day} is not a holiday", message_id=f"{day} bukan hari libur")
    session.delete(row)
    audit.record(session, actor=actor, action="calendar.holiday_removed", subject=day.isoformat(),
                 detail={"name": row.name})
    _bump(session, actor=actor, cache=cache)


def import_holidays(session: Session, *, holidays: list[Holiday], actor: str, provisional: bool = False,
                    cache: CalendarCache | None = None) -> list[int]:
    """Replace every year the list covers with its days (one transaction); return the years replaced."""
    years = sorted({h.day.year for h in holidays})
    outside = [y for y in years if not MIN_YEAR <= y <= MAX_YEAR]
    if outside:
        raise InvalidInput(f"the year {outside[0]} is outside {MIN_YEAR}–{MAX_YEAR}",
                           message_id=f"tahun {outside[0]} di luar {MIN_YEAR}–{MAX_YEAR}")
    session.execute(delete(CalendarHoliday).where(extract("year", CalendarHoliday.day).in_(years)))
    session.add_all(CalendarHoliday(day=h.day, name=h.name, kind=h.kind, provisional=provisional, source="import")
                    for h in holidays)
    audit.record(session, actor=actor, action="calendar.imported", subject=",".join(map(str, years)),
                 detail={"days": len(holidays), "provisional": provisional})
    _bump(session, actor=actor, cache=cache)
    return years


def set_week(session: Session, *, week: Week, actor: str, cache: CalendarCache | None = None) -> None:
    """Replace the weekly service hours."""
    row = session.get(WorkingCalendarRow, 1)
    if row is None:
        _bump(session, actor=actor, cache=None)
        row = session.get(WorkingCalendarRow, 1)
    assert row is not None  # noqa: S101 - made just above
    row.week = week_to_json(week)
    audit.record(session, actor=actor, action="calendar.hours_set", subject="week", detail={"week": row.week})
    _bump(session, actor=actor, cache=cache)


def add_range(session: Session, *, name: str, starts: date, ends: date, week: Week, actor: str,
              cache: CalendarCache | None = None) -> None:
    """Add a date range with its own service hours (Ramadan); InvalidInput when the dates are reversed."""
    name = name.strip() or "Ramadan"
    if ends < starts:
        raise InvalidInput("the range must end on or after its first day",
                           message_id="rentang harus berakhir pada atau sesudah hari pertamanya")
    if (ends - starts).days > 62:
        raise InvalidInput("a range of special hours spans at most 62 days",
                           message_id="rentang jam khusus paling lama 62 hari")
    session.add(CalendarHoursRange(name=name[:120], starts=starts, ends=ends, week=week_to_json(week)))
    audit.record(session, actor=actor, action="calendar.range_added", subject=name[:120],
                 detail={"starts": starts.isoformat(), "ends": ends.isoformat()})
    _bump(session, actor=actor, cache=cache)


def remove_range(session: Session, *, range_id: int, actor: str, cache: CalendarCache | None = None) -> None:
    """Remove a special-hours range; NotFound when there is none with this id."""
    row = session.get(CalendarHoursRange, range_id)
    if row is None:
        raise NotFound(f"no special-hours range {range_id}", message_id=f"tidak ada rentang jam khusus {range_id}")
    session.delete(row)
    audit.record(session, actor=actor, action="calendar.range_removed", subject=row.name,
                 detail={"starts": row.starts.isoformat(), "ends": row.ends.isoformat()})
    _bump(session, actor=actor, cache=cache)
