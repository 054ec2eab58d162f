"""Working-day calendar for Indonesia: SLAs count "hari kerja", not calendar days.

Saturdays, Sundays, national holidays and cuti bersama (collective leave set by the SKB 3 Menteri)
do not count. Holidays come from `engine/data/holidays_id.toml`; outside the years that file covers
only weekends are skipped, so a far-future due date is approximate rather than an error.
"""

from __future__ import annotations

import bisect
import functools
import tomllib
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, date, datetime, time, timedelta
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo

JAKARTA = ZoneInfo("Asia/Jakarta")
OFFICE_CLOSES = time(16, 0)
HOLIDAY_KINDS = ("national", "cuti_bersama")
DATA_FILE = "data/holidays_id.toml"

_SATURDAY = 5


# Scripts in diagrams call add_working_days; bound the day-by-day walk (about 14 years).
MAX_WORKING_DAYS = 3650


class WorkingCalendar:
    """Answer working-day questions for one set of holidays in one time zone."""

    def __init__(self, holidays: Mapping[date, str], tz: ZoneInfo = JAKARTA) -> None:
        self._names = dict(holidays)
        self.tz = tz
        # Only holidays on weekdays change a count; weekends are skipped anyway.
        self._weekday_holidays = sorted(d for d in self._names if d.weekday() < _SATURDAY)

    @classmethod
    def default(cls) -> WorkingCalendar:
        """Return the shared calendar built from the bundled Indonesian holiday list."""
        return _default_calendar()

    def is_working_day(self, d: date) -> bool:
        """Tell whether offices are open on this date."""
        return d.weekday() < _SATURDAY and d not in self._names

    def holiday_name(self, d: date) -> str | None:
        """Return the holiday's Indonesian name, or None on an ordinary day."""
        return self._names.get(d)

    def add_working_days(self, start: date, days: int) -> date:
        """Return the date `days` working days after `start` (start itself does not count).

        days=0 gives start when it is a working day, else the next working day; a negative value
        counts backwards to the |days|-th working day before start.
        """
        if abs(days) > MAX_WORKING_DAYS:
            raise ValueError(f"at most {MAX_WORKING_DAYS} working days can be added, not {days}")
        if days == 0:
            return start if self.is_working_day(start) else self.add_working_days(start, 1)
        step = timedelta(days=1 if days > 0 else -1)
        current, remaining = start, abs(days)
        while remaining:
            current += step
            if self.is_working_day(current):
                remaining -= 1
        return current

    def working_days_between(self, start: date, end: date) -> int:
        """Count working days in (start, end]; negative when end is before start."""
        if end < start:
            return -self.working_days_between(end, start)
        weekdays = _weekdays_upto(end) - _weekdays_upto(start)
        lo = bisect.bisect_right(self._weekday_holidays, start)
        hi = bisect.bisect_right(self._weekday_holidays, end)
        return weekdays - (hi - lo)

    def due_at(self, created: datetime, days: int) -> datetime:
        """Return close of office (16:00 local) on the `days`-th working day after `created`, in UTC."""
        if created.tzinfo is None:
            raise ValueError("created must be timezone-aware")
        local_day = created.astimezone(self.tz).date()
        due_day = self.add_working_days(local_day, days)
        return datetime.combine(due_day, OFFICE_CLOSES, tzinfo=self.tz).astimezone(UTC)


def _weekdays_upto(d: date) -> int:
    """Count Monday-to-Friday dates from a fixed epoch Monday up to and including d."""
    # date.min is a Monday (0001-01-01), so ordinal 1 starts a full week.
    ordinal = d.toordinal()
    weeks, rest = divmod(ordinal, 7)
    return weeks * 5 + min(rest, 5)


def parse_holidays(raw: bytes) -> dict[date, tuple[str, str]]:
    """Parse the holiday TOML into {date: (name, kind)}; raise ValueError on a bad entry."""
    document: dict[str, Any] = tomllib.loads(raw.decode("utf-8"))
    result: dict[date, tuple[str, str]] = {}
    for index, entry in enumerate(document.get("holiday", [])):
        day, name, kind = entry.get("date"), entry.get("name"), entry.get("kind")
        if not isinstance(day, date) or isinstance(day, datetime):
            raise ValueError(f"holiday #{index + 1}: date must be a plain TOML date, got {day!r}")
        if not isinstance(name, str) or not name.strip():
            raise ValueError(f"holiday {day}: name is missing")
        if kind not in HOLIDAY_KINDS:
            raise ValueError(f"holiday {day}: kind must be one of {', '.join(HOLIDAY_KINDS)}")
        if day in result:
            raise ValueError(f"holiday {day} is listed twice")
        result[day] = (name.strip(), kind)
    return result


def load_holiday_data() -> bytes:
    """Return the bytes of the bundled holiday file."""
    return resources.files("engine").joinpath(DATA_FILE).read_bytes()


@functools.cache
def _default_calendar() -> WorkingCalendar:
    entries = parse_holidays(load_holiday_data())
    return WorkingCalendar({day: name for day, (name, _kind) in entries.items()})


class _FixedClock:
    """A clock stopped at one instant: what an isolated script run sees of the engine's clock."""

    def __init__(self, instant: datetime) -> None:
        self.instant = instant

    def __call__(self) -> datetime:
        return self.instant


class ScriptHelpers(Mapping[str, Any]):
    """The date helpers diagrams' scripts and timers call, on the engine's clock and calendar.

    Pickling takes a snapshot: the clock's reading now, and the calendar (by name when it is the
    bundled one). So a script run in a worker process (`engine.isolation`) sees the same `today()`
    as the engine that sent it, including a test's hand-moved clock.
    """

    def __init__(self, clock: Callable[[], datetime], calendar: WorkingCalendar | None = None) -> None:
        self.clock, self.calendar = clock, calendar or WorkingCalendar.default()
        self._names: dict[str, Any] = {
            "add_working_days": self.calendar.add_working_days,
            "after_working_days": self.after_working_days,
            "working_days_between": self.calendar.working_days_between,
            "today": self.today,
            "now": self.now,
        }

    def now(self) -> datetime:
        """Return the engine's current time in Jakarta (WIB)."""
        return self.clock().astimezone(JAKARTA)

    def today(self) -> date:
        """Return the engine's current date in Jakarta (WIB)."""
        return self.now().date()

    def after_working_days(self, days: int) -> datetime:
        """Return the instant `days` working days from now, at closing time (the SLA convention)."""
        return self.calendar.due_at(self.clock(), days).astimezone(JAKARTA)

    def __getitem__(self, name: str) -> Any:
        return self._names[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def __reduce__(self) -> tuple[Any, ...]:
        calendar = None if self.calendar is WorkingCalendar.default() else self.calendar
        return (ScriptHelpers, (_FixedClock(self.clock()), calendar))
