"""Working calendar for Indonesia: SLAs count "hari kerja" and working hours, not calendar time.

Closed days (Saturday and Sunday by default), national holidays and cuti bersama (collective leave
set by the SKB 3 Menteri) do not count, and a working day counts only its service hours
(engine/sla/hours.py: Friday and Ramadan hours). The database holds what administrators maintain
(engine/sla/calendar_store.py); `engine/data/holidays_id.toml` is the bundled default. Outside the
years the holiday list covers only closed weekdays are skipped, so a far-future due date is
approximate rather than an error.
"""

from __future__ import annotations

import bisect
import functools
import tomllib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo

from engine.sla.hours import DEFAULT_WEEK, RAMADAN_WEEK, Day, HoursRange, Week, day_seconds

JAKARTA = ZoneInfo("Asia/Jakarta")
OFFICE_CLOSES = time(16, 0)  # the close of a day without hours (a closed weekday a script still names)
HOLIDAY_KINDS = ("national", "cuti_bersama")
DATA_FILE = "data/holidays_id.toml"

_MON_TO_FRI = frozenset(range(5))


# Scripts in diagrams call add_working_days; bound the day-by-day walk (about 14 years).
MAX_WORKING_DAYS = 3650
MAX_REMEMBERED = 4096  # add_working_days answers kept per calendar snapshot


@dataclass(frozen=True)
class _Data:
    """Everything a calendar knows, swapped as one reference so readers never see half an update."""

    names: dict[date, str]
    week: Week
    ranges: tuple[HoursRange, ...]
    provisional_years: frozenset[int]
    weekday_holidays: list[date]
    fast: bool  # Monday to Friday open in every week: whole-day counts need no day-by-day walk
    # (start, days) → add_working_days' answer on these contents (a new snapshot starts empty).
    added: dict[tuple[date, int], date] = field(default_factory=dict, compare=False, repr=False)


def _data(holidays: Mapping[date, str], week: Week, ranges: Sequence[HoursRange],
          provisional_years: frozenset[int]) -> _Data:
    open_days = [frozenset(i for i, day in enumerate(w) if day) for w in (week, *(r.week for r in ranges))]
    names = dict(holidays)
    # Only holidays on open weekdays change a count; weekends are skipped anyway.
    return _Data(names, week, tuple(sorted(ranges, key=lambda r: r.starts)), provisional_years,
                 sorted(d for d in names if d.weekday() < 5), all(days == _MON_TO_FRI for days in open_days))


class WorkingCalendar:
    """Answer working-day and working-hour questions for one set of holidays and hours in one time zone."""

    def __init__(self, holidays: Mapping[date, str], tz: ZoneInfo = JAKARTA, *, week: Week = DEFAULT_WEEK,
                 ranges: Sequence[HoursRange] = (), provisional_years: frozenset[int] = frozenset()) -> None:
        self.tz = tz
        self._d = _data(holidays, week, ranges, provisional_years)

    @classmethod
    def default(cls) -> WorkingCalendar:
        """Return the shared calendar built from the bundled Indonesian holiday list and default hours."""
        return _default_calendar()

    @classmethod
    def bundled(cls) -> WorkingCalendar:
        """Return a new calendar from the bundled file: one a runtime may later swap for the database's."""
        return cls(**_bundled_parts())

    def swap(self, other: WorkingCalendar) -> None:
        """Take over another calendar's holidays and hours (the store's reload), in one assignment."""
        self._d = other._d

    @property
    def week(self) -> Week:
        return self._d.week

    @property
    def ranges(self) -> tuple[HoursRange, ...]:
        return self._d.ranges

    @property
    def provisional_years(self) -> frozenset[int]:
        return self._d.provisional_years

    def hours_on(self, d: date) -> Day:
        """Return the service-hour intervals of a date (empty when offices are closed)."""
        data = self._d
        if d in data.names:
            return ()
        week = next((r.week for r in data.ranges if r.covers(d)), data.week)
        return week[d.weekday()]

    def is_working_day(self, d: date) -> bool:
        """Tell whether offices are open on this date."""
        return bool(self.hours_on(d))

    def holiday_name(self, d: date) -> str | None:
        """Return the holiday's Indonesian name, or None on an ordinary day."""
        return self._d.names.get(d)

    def closing_time(self, d: date) -> time:
        """Return when offices close on a date (16:00 on a closed day)."""
        hours = self.hours_on(d)
        return hours[-1][1] if hours else OFFICE_CLOSES

    def add_working_days(self, start: date, days: int) -> date:
        """Return the date `days` working days after `start` (start itself does not count).

        days=0 gives start when it is a working day, else the next working day; a negative value
        counts backwards to the |days|-th working day before start.
        """
        if abs(days) > MAX_WORKING_DAYS:
            raise ValueError(f"at most {MAX_WORKING_DAYS} working days can be added, not {days}")
        # Every step that opens a task with a time limit asks this of today: the walk is done once per snapshot.
        data = self._d
        found = data.added.get((start, days))
        if found is None:
            found = self._add_working_days(start, days)
            if len(data.added) >= MAX_REMEMBERED:
                data.added.clear()
            data.added[(start, days)] = found
        return found

    def _add_working_days(self, start: date, days: int) -> date:
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
        data = self._d
        if not data.fast:
            return sum(self.is_working_day(start + timedelta(days=i)) for i in range(1, (end - start).days + 1))
        weekdays = _weekdays_upto(end) - _weekdays_upto(start)
        lo = bisect.bisect_right(data.weekday_holidays, start)
        hi = bisect.bisect_right(data.weekday_holidays, end)
        return weekdays - (hi - lo)

    def due_at(self, created: datetime, days: int) -> datetime:
        """Return the close of office on the `days`-th working day after `created`, in UTC.

        The close follows the day's hours: 16:00 Monday to Thursday, 16:30 on a Friday by default.
        """
        if created.tzinfo is None:
            raise ValueError("created must be timezone-aware")
        local_day = created.astimezone(self.tz).date()
        due_day = self.add_working_days(local_day, days)
        return datetime.combine(due_day, self.closing_time(due_day), tzinfo=self.tz).astimezone(UTC)

    def _intervals(self, d: date) -> list[tuple[datetime, datetime]]:
        return [(datetime.combine(d, a, tzinfo=self.tz), datetime.combine(d, b, tzinfo=self.tz))
                for a, b in self.hours_on(d)]

    def add_working_time(self, start: datetime, span: timedelta) -> datetime:
        """Return the instant `span` of service hours after `start` (aware), in UTC; span must not be negative."""
        if start.tzinfo is None:
            raise ValueError("start must be timezone-aware")
        if span < timedelta(0):
            raise ValueError("a working time span cannot be negative")
        remaining, day = span, start.astimezone(self.tz).date()
        for _ in range(MAX_WORKING_DAYS * 2):
            for opens, closes in self._intervals(day):
                begin = max(opens, start)
                if begin >= closes:
                    continue
                if begin + remaining <= closes:
                    return (begin + remaining).astimezone(UTC)
                remaining -= closes - begin
            day += timedelta(days=1)
        raise ValueError(f"{span} of working time ends too far in the future")

    def add_working_hours(self, start: datetime, hours: float) -> datetime:
        """Return the instant `hours` service hours after `start`, in UTC."""
        return self.add_working_time(start, timedelta(hours=hours))

    def _overlaps(self, start: datetime, end: datetime) -> Iterator[tuple[date, float]]:
        """Yield (day, open seconds of that day inside [start, end)) for each working day the span touches."""
        day, last = start.astimezone(self.tz).date(), end.astimezone(self.tz).date()
        while day <= last:
            seconds = sum(max((min(b, end) - max(a, start)).total_seconds(), 0.0) for a, b in self._intervals(day))
            if seconds:
                yield day, seconds
            day += timedelta(days=1)

    def working_time_between(self, start: datetime, end: datetime) -> timedelta:
        """Return the service hours between two aware instants (negative when end is before start)."""
        if end < start:
            return -self.working_time_between(end, start)
        return timedelta(seconds=sum(seconds for _day, seconds in self._overlaps(start, end)))

    def working_days_used(self, start: datetime, end: datetime) -> float:
        """Return the working days between two instants, each day counted as the share of its hours that passed."""
        if end <= start:
            return 0.0
        return sum(seconds / day_seconds(self.hours_on(day)) for day, seconds in self._overlaps(start, end))


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


def parse_ramadan(raw: bytes) -> list[HoursRange]:
    """Return the Ramadan ranges of the holiday TOML (`[[ramadan]] starts, ends`), with the default Ramadan hours."""
    document: dict[str, Any] = tomllib.loads(raw.decode("utf-8"))
    ranges = []
    for entry in document.get("ramadan", []):
        starts, ends = entry.get("starts"), entry.get("ends")
        if not (isinstance(starts, date) and isinstance(ends, date) and starts <= ends):
            raise ValueError(f"ramadan {starts!r}..{ends!r}: starts and ends must be plain dates, in order")
        ranges.append(HoursRange(starts, ends, RAMADAN_WEEK, str(entry.get("name") or "Ramadan")))
    return ranges


def provisional_years(raw: bytes) -> frozenset[int]:
    """Return the years a holiday TOML marks provisional (`provisional_years = [2027]`)."""
    years = tomllib.loads(raw.decode("utf-8")).get("provisional_years", [])
    return frozenset(int(y) for y in years if isinstance(y, int))


def _bundled_parts() -> dict[str, Any]:
    raw = load_holiday_data()
    return {"holidays": {day: name for day, (name, _kind) in parse_holidays(raw).items()},
            "ranges": parse_ramadan(raw), "provisional_years": provisional_years(raw)}


@functools.cache
def _default_calendar() -> WorkingCalendar:
    return WorkingCalendar(**_bundled_parts())


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
            "add_working_days": self.add_working_days,
            "after_working_days": self.after_working_days,
            "working_days_between": self.working_days_between,
            "add_working_hours": self.add_working_hours,
            "after_working_hours": self.after_working_hours,
            "today": self.today,
            "now": self.now,
        }

    def now(self) -> datetime:
        """Return the engine's current time in Jakarta (WIB)."""
        return self.clock().astimezone(JAKARTA)

    def today(self) -> date:
        """Return the engine's current date in Jakarta (WIB)."""
        return self.now().date()

    # Looked up on each call: the runtime's calendar object stays, its contents follow the database.
    def add_working_days(self, start: date, days: int) -> date:
        """Return the date `days` working days after `start`."""
        return self.calendar.add_working_days(start, days)

    def working_days_between(self, start: date, end: date) -> int:
        """Count working days in (start, end]."""
        return self.calendar.working_days_between(start, end)

    def after_working_days(self, days: int) -> datetime:
        """Return the instant `days` working days from now, at closing time (the SLA convention)."""
        return self.calendar.due_at(self.clock(), days).astimezone(JAKARTA)

    def add_working_hours(self, start: datetime, hours: float) -> datetime:
        """Return the instant `hours` service hours after `start` (naive means WIB), in WIB."""
        aware = start if start.tzinfo is not None else start.replace(tzinfo=JAKARTA)
        return self.calendar.add_working_hours(aware, hours).astimezone(JAKARTA)

    def after_working_hours(self, hours: float) -> datetime:
        """Return the instant `hours` service hours from now, in WIB."""
        return self.calendar.add_working_hours(self.clock(), hours).astimezone(JAKARTA)

    def __getitem__(self, name: str) -> Any:
        return self._names[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def __reduce__(self) -> tuple[Any, ...]:
        calendar = None if self.calendar is WorkingCalendar.default() else self.calendar
        return (ScriptHelpers, (_FixedClock(self.clock()), calendar))
