"""The SLA clock of a case: it stands still while the applicant must act, and the due date moves on by as much.

Service standards (PermenPAN-RB 15/2014) count the time limit from a complete file and leave out the
applicant's time. The clock pauses while (docs/bpmn-conventions.md, "The SLA clock"):
- a task in an `applicant` lane is open (unless the task says `slaClock = running`);
- a task marked `slaClock = paused` is open (e.g. waiting for a date the applicant chose);
- a bill of the case waits to be paid (engine/payments).
Each pause is a `sla_pause` row; when it ends, the service hours it lasted are added to the case's
`sla_paused_s` and its `due_at` moves forward by them on the working calendar. The open officer
tasks' due dates move the same way, each by the service hours of the pause it was open for (from the
pause's start, or from the task's opening when it opened inside the pause); an applicant's own task
keeps its date. A paused case is never overdue, and neither are its tasks (the overdue scan skips them).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple, cast

from sqlalchemy import ColumnElement, Connection, Table, bindparam, or_, select, update
from sqlalchemy.orm import Session

from engine.cases import hotsql as hotsql
from engine.models import Bill, Case, OpenTask, SlaPause
from engine.sla.calendar import WorkingCalendar

APPLICANT_ROLE = "applicant"
SLA_CLOCK_VALUES = ("paused", "running")
REASONS = {"applicant": ("menunggu pemohon", "waiting for the applicant"),
           "payment": ("menunggu pembayaran", "waiting for payment"),
           "marked": ("menunggu pemohon", "waiting for the applicant")}


@dataclass(frozen=True)
class Hold:
    """Why the clock stands still now: a reason and the step that holds it (None for a bill)."""

    reason: str
    element_id: str | None = None


@dataclass(frozen=True)
class OpenStep:
    """What the clock needs to know of an open task."""

    element_id: str
    role: str | None
    sla_clock: str | None


def hold_for(steps: Iterable[OpenStep], *, bill_open: bool) -> Hold | None:
    """Return why the clock should stand still with these tasks open, or None when it runs."""
    for step in steps:
        if step.sla_clock == "paused":
            return Hold("marked", step.element_id)
        if step.role == APPLICANT_ROLE and step.sla_clock != "running":
            return Hold("applicant", step.element_id)
    return Hold("payment") if bill_open else None


def task_clock_runs() -> ColumnElement[bool]:
    """Return the condition an open task meets when its clock runs (the overdue scan and escalation).

    An officer's task in a paused case stands still: its due date moves on when the pause ends.
    """
    paused_cases = select(Case.id).where(Case.sla_paused_since.is_not(None))
    return or_(OpenTask.role == APPLICANT_ROLE, OpenTask.case_id.not_in(paused_cases))


def bill_open(session: Session, case_id: int) -> bool:
    """Tell whether a bill of the case waits to be paid."""
    return session.scalar(select(Bill.id).where(Bill.case_id == case_id, Bill.status == "open").limit(1)) is not None


class Pause(NamedTuple):
    """A case's open pause as a step reads it with its context: why, at which step, and its row."""

    reason: str
    element_id: str | None
    id: int


_UNREAD: Any = object()  # `sync` was not told the open pause: it reads it

# A step's clock statements, built once: each call only binds its values (Core, no ORM unit of work).
_PAUSES, _CASES, _TASKS = (cast(Table, m.__table__) for m in (SlaPause, Case, OpenTask))
_OPEN_PAUSE = select(_PAUSES.c.reason, _PAUSES.c.element_id, _PAUSES.c.id).where(
    _PAUSES.c.case_id == bindparam("p_case"), _PAUSES.c.ended_at.is_(None)).order_by(_PAUSES.c.id)
_ENDING = select(_PAUSES.c.started_at, _CASES.c.due_at, _CASES.c.sla_paused_s).join(
    _CASES, _CASES.c.id == _PAUSES.c.case_id).where(_PAUSES.c.id == bindparam("p_pause"))
# The pause's writes need no answer: they are hotsql statements (engine/cases/hotsql.py), queued with the step's
# other writes (one pipeline on PostgreSQL): pause_insert, case_paused, pause_end, case_pause_ended(_runs).
_OFFICER_DUES = select(_TASKS.c.id, _TASKS.c.created_at, _TASKS.c.due_at).where(
    _TASKS.c.case_id == bindparam("p_case"), _TASKS.c.due_at.is_not(None), _TASKS.c.role != APPLICANT_ROLE,
    _TASKS.c.created_at < bindparam("p_now"))
_TASK_DUE = update(_TASKS).where(_TASKS.c.id == bindparam("p_task")).values(due_at=bindparam("p_due"))


def sync(session: Session, *, calendar: WorkingCalendar, case_id: int, hold: Hold | None, now: datetime,
         current: Pause | None = _UNREAD, batch: hotsql.Batch | None = None) -> bool:
    """Start, keep, switch or end the case's pause so that it matches `hold`; return whether it changed it.

    `current` is the case's open pause when the caller read it already (a step reads it with its context).
    The writes go into `batch` after what it holds (a step's, which sends it), else they are sent here.
    A pause that ends with service hours sends the batch first: it moves the due dates of the open tasks,
    the step's new ones included.
    """
    conn = session.connection()
    if current is _UNREAD:
        found = conn.execute(_OPEN_PAUSE, {"p_case": case_id}).first()
        current = Pause(*found) if found is not None else None
    if current is None and hold is None:
        return False
    if current is not None and hold is not None and (current.reason, current.element_id) == (hold.reason,
                                                                                              hold.element_id):
        return False
    writes = batch if batch is not None else hotsql.Batch(session)
    if current is not None:
        _end(conn, writes, calendar=calendar, case_id=case_id, pause_id=current.id, now=now,
             keep_paused=hold is not None)
    if hold is not None:
        writes.add("pause_insert", [{"case_id": case_id, "reason": hold.reason, "element_id": hold.element_id,
                                     "now": now}])
        if current is None:
            writes.add("case_paused", [{"case_id": case_id, "now": now}])
    if batch is None:
        writes.run()
    return True


def hold_for_payment(session: Session, *, calendar: WorkingCalendar, case_id: int, now: datetime) -> None:
    """Stop the clock for a bill just issued, unless it stands still already."""
    if session.connection().execute(_OPEN_PAUSE, {"p_case": case_id}).first() is None:
        sync(session, calendar=calendar, case_id=case_id, hold=Hold("payment"), now=now, current=None)


def _end(conn: Connection, writes: hotsql.Batch, *, calendar: WorkingCalendar, case_id: int, pause_id: int,
         now: datetime, keep_paused: bool) -> None:
    started, due, total = conn.execute(_ENDING, {"p_pause": pause_id}).one()
    paused = calendar.working_time_between(started, now) if now > started else None
    seconds = int(paused.total_seconds()) if paused is not None else 0
    writes.add("pause_end", [{"pause_id": pause_id, "now": now, "seconds": seconds}])
    if due is not None and paused is not None and seconds:
        due = calendar.add_working_time(due, paused)
    writes.add("case_pause_ended" if keep_paused else "case_pause_ended_runs",
               [{"case_id": case_id, "total": (total or 0) + seconds, "due": due}])
    if seconds:
        writes.run()  # the open tasks' rows, as this step leaves them, before their due dates move
        _move_task_dues(conn, calendar=calendar, case_id=case_id, started=started, now=now)


def _move_task_dues(conn: Connection, *, calendar: WorkingCalendar, case_id: int, started: datetime,
                    now: datetime) -> None:
    """Move each open officer task's due date by the service hours of the pause it stood still in."""
    for task_id, created, due in conn.execute(_OFFICER_DUES, {"p_case": case_id, "p_now": now}).all():
        paused = calendar.working_time_between(max(created, started), now)
        if due is not None and paused > timedelta(0):
            conn.execute(_TASK_DUE, {"p_task": task_id, "p_due": calendar.add_working_time(due, paused)})


@dataclass(frozen=True)
class ClockStatus:
    """A case's SLA clock as its pages show it: paused or not, working days used and left."""

    paused: bool
    reason: tuple[str, str] | None  # (Indonesian, English)
    used_days: float
    remaining_days: float | None  # None: no time limit; negative: overdue by so many
    due_at: datetime | None


def status(session: Session, *, calendar: WorkingCalendar, case: Case, now: datetime) -> ClockStatus:
    """Return the case's clock: used = working days since filing less the pauses; left = up to the due time."""
    pauses = list(session.scalars(select(SlaPause).where(SlaPause.case_id == case.id).order_by(SlaPause.id)))
    current = next((p for p in pauses if p.ended_at is None), None)
    end = case.completed_at or now
    if current is not None:
        end = min(end, current.started_at)
    used = calendar.working_days_used(case.created_at, end) - sum(
        calendar.working_days_used(p.started_at, p.ended_at) for p in pauses if p.ended_at is not None)
    remaining = None
    if case.due_at is not None:
        remaining = (calendar.working_days_used(end, case.due_at) if case.due_at >= end
                     else -calendar.working_days_used(case.due_at, end))
    reason = REASONS.get(current.reason) if current is not None else None
    return ClockStatus(current is not None, reason, round(max(used, 0.0), 1),
                       None if remaining is None else round(remaining, 1), case.due_at)


def working_days_used(session: Session, *, calendar: WorkingCalendar,
                      conditions: list[ColumnElement[bool]]) -> dict[str, list[float]]:
    """Return, per service, the working days each completed case matching `conditions` used, less its pauses."""
    cases = session.execute(select(Case.id, Case.process_key, Case.created_at, Case.completed_at).where(
        *conditions, Case.status == "completed", Case.completed_at.is_not(None))).all()
    paused: dict[int, float] = {}
    rows = session.execute(select(SlaPause.case_id, SlaPause.started_at, SlaPause.ended_at)
                           .join(Case, Case.id == SlaPause.case_id)
                           .where(*conditions, Case.status == "completed", SlaPause.ended_at.is_not(None)))
    for case_id, started, ended in rows:
        if ended is None:
            continue
        paused[case_id] = paused.get(case_id, 0.0) + calendar.working_days_used(started, ended)
    used: dict[str, list[float]] = {}
    for case_id, key, created, completed in cases:
        if completed is None:
            continue
        days = calendar.working_days_used(created, completed) - paused.get(case_id, 0.0)
        used.setdefault(key, []).append(max(days, 0.0))
    return used
