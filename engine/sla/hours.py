"""Service hours: when the offices are open on each weekday, and special hours for a date range (Ramadan).

A week is seven entries, Monday first; each is a tuple of (opens, closes) intervals, empty for a
closed day. A break is the gap between two intervals: Friday 08:00–11:30 and 13:00–16:30.

The defaults follow the civil-service working hours (Perpres 21/2023: 37.5 hours a week) as a
public-service mall keeps them: Monday to Thursday 08:00–16:00, Friday 08:00–16:30 with the Friday
prayer break 11:30–13:00; during Ramadan (the KemenPAN-RB circular of each year) Monday to
Thursday 08:00–15:00 and Friday 08:00–15:30 with the same break. Administrators change them on the
calendar page (docs/operations.md, "Working calendar").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, time
from typing import Any

from engine.errors import InvalidInput

Interval = tuple[time, time]
Day = tuple[Interval, ...]
Week = tuple[Day, Day, Day, Day, Day, Day, Day]

WEEKDAYS = (("Senin", "Monday"), ("Selasa", "Tuesday"), ("Rabu", "Wednesday"), ("Kamis", "Thursday"),
            ("Jumat", "Friday"), ("Sabtu", "Saturday"), ("Minggu", "Sunday"))

_WEEKDAY: Day = ((time(8, 0), time(16, 0)),)
_FRIDAY: Day = ((time(8, 0), time(11, 30)), (time(13, 0), time(16, 30)))
DEFAULT_WEEK: Week = (_WEEKDAY, _WEEKDAY, _WEEKDAY, _WEEKDAY, _FRIDAY, (), ())
_RAMADAN_DAY: Day = ((time(8, 0), time(15, 0)),)
_RAMADAN_FRIDAY: Day = ((time(8, 0), time(11, 30)), (time(13, 0), time(15, 30)))
RAMADAN_WEEK: Week = (_RAMADAN_DAY, _RAMADAN_DAY, _RAMADAN_DAY, _RAMADAN_DAY, _RAMADAN_FRIDAY, (), ())

_CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


class HoursInvalid(InvalidInput):
    """Service hours that cannot be used: a bad time, a reversed or overlapping interval."""

    def __init__(self, message: str, message_id: str = "") -> None:
        super().__init__(message, message_id=message_id or message)


@dataclass(frozen=True)
class HoursRange:
    """Special service hours for the days from `starts` to `ends` (both inclusive), e.g. Ramadan."""

    starts: date
    ends: date
    week: Week
    name: str = "Ramadan"

    def covers(self, day: date) -> bool:
        """Tell whether the range holds this date."""
        return self.starts <= day <= self.ends


def parse_clock(text: str) -> time:
    """Return "HH:MM" (24-hour) as a time; HoursInvalid otherwise."""
    found = _CLOCK.match(text.strip())
    if found is None:
        raise HoursInvalid(f"'{text}' is not a time like 08:00", f"'{text}' bukan jam seperti 08:00")
    return time(int(found.group(1)), int(found.group(2)))


def make_day(opens: str, closes: str, break_starts: str = "", break_ends: str = "") -> Day:
    """Build one day's intervals from its opening and closing time and an optional break; empty opens: closed."""
    if not opens.strip() and not closes.strip():
        return ()
    start, end = parse_clock(opens), parse_clock(closes)
    if end <= start:
        raise HoursInvalid(f"closing time {closes} must be after opening time {opens}",
                           f"jam tutup {closes} harus sesudah jam buka {opens}")
    if not break_starts.strip() and not break_ends.strip():
        return ((start, end),)
    pause_from, pause_to = parse_clock(break_starts), parse_clock(break_ends)
    if not start < pause_from < pause_to < end:
        raise HoursInvalid(f"the break {break_starts}–{break_ends} must lie inside {opens}–{closes}",
                           f"istirahat {break_starts}–{break_ends} harus di dalam {opens}–{closes}")
    return ((start, pause_from), (pause_to, end))


def day_fields(day: Day) -> tuple[str, str, str, str]:
    """Return a day as (opens, closes, break starts, break ends) texts for a form."""
    if not day:
        return ("", "", "", "")
    first, last = day[0], day[-1]
    gap = ("", "") if len(day) == 1 else (_text(first[1]), _text(day[1][0]))
    return (_text(first[0]), _text(last[1]), *gap)


def _text(moment: time) -> str:
    return moment.strftime("%H:%M")


def week_to_json(week: Week) -> list[list[list[str]]]:
    """Return a week as JSON: per weekday a list of ["HH:MM", "HH:MM"] intervals."""
    return [[[_text(a), _text(b)] for a, b in day] for day in week]


def week_from_json(value: Any) -> Week:
    """Return a week stored by week_to_json; HoursInvalid when it is not one."""
    if not isinstance(value, list) or len(value) != 7:
        raise HoursInvalid("a week has seven days")
    days: list[Day] = []
    for entry in value:
        intervals = tuple((parse_clock(str(a)), parse_clock(str(b))) for a, b in entry)
        if any(b <= a for a, b in intervals) or any(
                intervals[i][1] > intervals[i + 1][0] for i in range(len(intervals) - 1)):
            raise HoursInvalid("intervals of a day must be ordered and must not overlap")
        days.append(intervals)
    return (days[0], days[1], days[2], days[3], days[4], days[5], days[6])


def day_seconds(day: Day) -> int:
    """Return the open seconds of a day."""
    return sum((b.hour * 3600 + b.minute * 60) - (a.hour * 3600 + a.minute * 60) for a, b in day)
