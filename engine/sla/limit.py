"""A case's own time limit: a package shortens (or lengthens) the service's `sla_days` from the case's data.

Some rules promise a different time limit for some applications of one service: the PBG of
low-income housing (rumah MBR) in 10 working days where the service standard says 28. A package
says so by setting the case-data field `sla_working_days` (a start-form field, a task form, a
script or a decision) to a whole number of working days from 1 to 365 (docs/bpmn-conventions.md,
"A case's own time limit"). After every step the engine puts the case's due date at the close of
the `sla_working_days`-th working day after filing, moved forward by the SLA clock's pauses so far
(engine/sla/clock.py), so the due date, the overdue counts and the compliance figures follow it.
Lint refuses a value that cannot be one; a value that is not one at run time is left out and the
service's `sla_days` stands.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from engine.models import Case
from engine.sla.calendar import WorkingCalendar

FIELD = "sla_working_days"
MIN_DAYS, MAX_DAYS = 1, 365


def whole_days(value: Any) -> int | None:
    """Return a value as a time limit: a whole number of working days from 1 to 365, else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return value if isinstance(value, int) and MIN_DAYS <= value <= MAX_DAYS else None


def valid(value: Any) -> bool:
    """Tell whether a value can be a case's time limit."""
    return whole_days(value) is not None


def case_days(data: Mapping[str, Any]) -> int | None:
    """Return the time limit the case data sets, or None when it sets none (or one that cannot be)."""
    return whole_days(data.get(FIELD))


def apply(session: Session, *, calendar: WorkingCalendar, case_id: int, data: Mapping[str, Any]) -> None:
    """Move the case's due date to the time limit its data sets, counting the pauses that have ended."""
    days = case_days(data)
    if days is None:
        return
    created, due, paused_s = session.execute(
        select(Case.created_at, Case.due_at, Case.sla_paused_s).where(Case.id == case_id)).one()
    wanted = calendar.due_at(created, days)
    if paused_s:
        wanted = calendar.add_working_time(wanted, timedelta(seconds=paused_s))
    if wanted != due:
        session.execute(update(Case).where(Case.id == case_id).values(due_at=wanted))
