"""Timer values: what a timer expression may evaluate to, and the ISO string SpiffWorkflow schedules.

A timer expression is Python, evaluated in the sandbox when the timer starts. Accepted values:
- timeDuration: an ISO-8601 duration ("P2D", "PT1H") or a `timedelta` (`timedelta(hours=2)`);
- timeDate: an ISO-8601 date-time, a `datetime` (naive means WIB), or a bare date (a `date` or a
  "2026-12-01" string), meaning the close of service hours that day on the working calendar (16:00
  WIB, 16:30 on a Friday, the Ramadan closing time in Ramadan), e.g. `add_working_days(today(), 3)`;
- timeCycle: an ISO-8601 repeating interval ("R3/PT1H").
Anything else raises TimerValueError, which the script engine turns into an incident on the timer.

SpiffWorkflow compares a timer's value with the wall clock, while the platform's clock may differ
(tests move it by hand). A date is therefore handed to SpiffWorkflow as "the wall-clock instant
that is as far from now as the date is from the engine's now", like a duration; the step that
stores the timer's job places it back on the engine's clock (engine.cases.steps).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    DurationTimerEventDefinition,
    TimeDateEventDefinition,
    TimerEventDefinition,
)

WIB = ZoneInfo("Asia/Jakarta")
SERVICE_HOURS_END = time(16, 0)
LAST_YEAR = datetime.max.year
MIN_CYCLE = timedelta(minutes=1)  # the shortest interval a repeating timer may have
# The most days each unit of an ISO-8601 duration can span (a year 366 days, a month 31).
_MOST_DAYS = {"years": 366, "months": 31, "weeks": 7, "days": 1, "hours": 1 / 24, "minutes": 1 / 1440,
              "seconds": 1 / 86400}
KINDS = {DurationTimerEventDefinition: "timeDuration", TimeDateEventDefinition: "timeDate",
         CycleTimerEventDefinition: "timeCycle"}


class TimerValueError(ValueError):
    """A timer expression evaluated to something that is not a time of its kind."""


def kind_of(definition: Any) -> str | None:
    """Return the BPMN kind of a timer event definition (timeDuration, timeDate, timeCycle), or None."""
    return KINDS.get(type(definition))


Closing = Callable[[date], time]


def default_closing(_day: date) -> time:
    """Return 16:00, the closing time when no working calendar is at hand (lint's checks)."""
    return SERVICE_HOURS_END


def end_of_service_day(day: date, closing: Closing = default_closing) -> datetime:
    """Return the close of service hours (WIB) on a day, by the calendar's closing time of that date."""
    return datetime.combine(day, closing(day), WIB)


def as_duration(value: Any, *, wall_now: datetime) -> str:
    """Return an ISO-8601 duration for a timeDuration value that ends before the calendar does."""
    if isinstance(value, timedelta):
        if value < timedelta(0):
            raise TimerValueError(f"the duration {value} is negative")
        if value.days > _days_left(wall_now):
            raise TimerValueError(f"the duration {value} is too long: it would end after the year {LAST_YEAR}")
        seconds = value.total_seconds()
        return f"PT{int(seconds)}S" if seconds == int(seconds) else f"PT{seconds:.6f}S"
    if not isinstance(value, str):
        raise TimerValueError(_wrong_type("timeDuration", value, 'an ISO-8601 duration such as "P2D" or a timedelta'))
    _check_span(value, wall_now)
    return value


def _check_span(duration: str, wall_now: datetime) -> None:
    """Refuse a duration that is not ISO-8601, or that would end after the last day a date can name.

    SpiffWorkflow adds a duration to now month by month (a loop as long as the months it names)
    and then overflows on a duration such as "P99999999D": check first, from an upper bound.
    """
    try:
        parsed = TimerEventDefinition.parse_iso_duration(duration)
    except Exception as exc:  # SpiffWorkflow raises a bare Exception for a bad duration
        raise TimerValueError(f'"{_shown(duration)}" is not an ISO-8601 duration such as "P2D" or "PT1H"') from exc
    try:
        days = sum(parsed.get(unit, 0) * most for unit, most in _MOST_DAYS.items())
    except OverflowError:  # a count of units with hundreds of digits
        days = math.inf
    if days > _days_left(wall_now):
        raise TimerValueError(f'the duration "{_shown(duration)}" is too long: it would end after the year {LAST_YEAR}')


def _days_left(wall_now: datetime) -> int:
    """Return how many whole days remain between now and the last instant a datetime can hold, less a day."""
    return (datetime.max.replace(tzinfo=UTC) - wall_now.astimezone(UTC)).days - 1


def as_instant(value: Any, closing: Closing = default_closing) -> datetime:
    """Return the aware instant a timeDate value names; a bare date is that day's closing time."""
    if isinstance(value, str):
        if len(value.strip()) == len("2026-12-01"):
            try:
                value = date.fromisoformat(value.strip())
            except ValueError:
                pass  # not a bare date: parsed (or refused) as a date-time below
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError as exc:
            raise TimerValueError(f'"{value}" is not an ISO-8601 date-time such as "2026-12-01T09:00:00+07:00"'
                                  ) from exc
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=WIB)
    if isinstance(value, date):
        return end_of_service_day(value, closing)
    raise TimerValueError(_wrong_type("timeDate", value, "a date-time, a date or an ISO-8601 date-time string"))


def as_cycle(value: Any, *, wall_now: datetime) -> str:
    """Return an ISO-8601 repeating interval for a timeCycle value."""
    if not isinstance(value, str):
        raise TimerValueError(_wrong_type("timeCycle", value, 'an ISO-8601 repeating interval such as "R3/PT1H"'))
    invalid = f'"{_shown(value)}" is not an ISO-8601 repeating interval such as "R3/PT1H"'
    # The parts as SpiffWorkflow splits them; its parser steps through a long duration month by month.
    for part in value.upper().replace("--", "/").strip("R").split("/")[1:]:
        if part.startswith("P"):
            try:
                _check_span(part, wall_now)
            except TimerValueError as exc:
                raise TimerValueError(f"{invalid}: {exc}") from exc
    try:
        _repeats, _start, every = TimerEventDefinition.parse_iso_recurring_interval(value)
    except Exception as exc:  # SpiffWorkflow raises bare Exceptions, ValueErrors and AttributeErrors here
        raise TimerValueError(invalid) from exc
    if isinstance(every, timedelta) and every < MIN_CYCLE:
        # "R/PT0S" would fire again at once, forever: the job worker would do nothing else.
        raise TimerValueError(f'the repeating timer "{_shown(value)}" repeats every {every}; '
                              f"it must wait at least {int(MIN_CYCLE.total_seconds())} seconds between repeats")
    return value


def timer_value(kind: str, value: Any, *, engine_now: datetime, wall_now: datetime,
                closing: Closing = default_closing) -> str:
    """Turn an evaluated timer expression into the string SpiffWorkflow schedules; TimerValueError if unfit.

    `closing` gives a date's closing time on the working calendar (a bare date fires then).
    """
    if kind == "timeDuration":
        return as_duration(value, wall_now=wall_now)
    if kind == "timeDate":
        try:
            return (as_instant(value, closing) + (wall_now - engine_now)).isoformat()
        except OverflowError as exc:  # a date at the very edge of the calendar, moved onto the wall clock
            raise TimerValueError(f"the date {value!r:.60} is out of range") from exc
    return as_cycle(value, wall_now=wall_now)


def _wrong_type(kind: str, value: Any, expected: str) -> str:
    return f"the {kind} expression gave {type(value).__name__} {value!r:.60}; expected {expected}"


def _shown(text: str) -> str:
    """Return a value short enough for an incident message."""
    return text if len(text) <= 60 else f"{text[:57]}..."
