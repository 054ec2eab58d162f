"""The task feed: what changed in the open tasks an actor may see, read from the `task_feed` change log.

Triggers on `task` (migration 0026) append one row per task opened, claimed, released,
reassigned, escalated or closed, whoever wrote it. A reader keeps a cursor `(tx, seq)`:

- SQLite's writers take turns (every transaction begins IMMEDIATE), so `seq` is commit order and
  `tx` is always 0.
- On PostgreSQL a sequence number is drawn before its transaction commits, so a later number can
  become visible first. `tx` is the writing transaction's id; a row is *settled* once its id is
  below the oldest transaction still running (`pg_snapshot_xmin`): every row that becomes visible
  later has a greater `tx`, so reading settled rows in `(tx, seq)` order never skips one.

Each changed task is read as it is now: an open task the actor may work on now
(`access.visible_tasks`, the inbox's rule) is a `task` event; a task of their roles (or their own
case's applicant task) that they may no longer work on (closed, claimed or given to someone else)
is a `gone` event. A task that changed several times since the cursor comes once, at its last change.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import and_, bindparam, delete, event, false, func, literal, or_, select, text, tuple_
from sqlalchemy import case as sql_case
from sqlalchemy.orm import Session

from engine.cases import assignment as routing
from engine.cases import hotsql as hotsql
from engine.cases.access import visible_tasks
from engine.directory.actors import Actor
from engine.models import Case, OpenTask, PersonalDataAccess, StoredFile, TaskFeed
from engine.sla.escalation import is_supervisor_role

# The change log keeps this many rows; a reader further behind is told to read its inbox again.
KEEP = 100_000


class Cursor(NamedTuple):
    """A position in the change log: (writing transaction on PostgreSQL else 0, sequence number)."""

    tx: int
    seq: int

    def __str__(self) -> str:
        return f"{self.tx}-{self.seq}"


START = Cursor(0, 0)


def parse_cursor(text: str) -> Cursor | None:
    """Read a cursor as `__str__` writes it; None for anything else."""
    tx, _, seq = text.strip().partition("-")
    if not (tx.isdigit() and seq.isdigit()) or len(tx) > 19 or len(seq) > 19:
        return None
    return Cursor(int(tx), int(seq))


@dataclass(frozen=True)
class FeedEvent:
    """One change for the actor: `task` (an open task they may work on now, as it is) or `gone`."""

    cursor: Cursor
    kind: str
    task_id: str
    case_id: int
    task: OpenTask | None
    tracking_number: str | None


@dataclass(frozen=True)
class FeedBatch:
    """The actor's events after a cursor, the cursor to read on from, and whether they fell behind the log."""

    events: list[FeedEvent]
    cursor: Cursor
    reset: bool


def _settled_below(session: Session) -> int | None:
    """Return the oldest running transaction id on PostgreSQL (rows below it are settled); None on SQLite."""
    if session.get_bind().dialect.name != "postgresql":
        return None
    return int(session.scalar(text("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint")) or 0)


def head(session: Session) -> Cursor:
    """Return the cursor of the newest settled change (START when there is none)."""
    return _head(session, _settled_below(session))


def head_and_pending(session: Session) -> tuple[Cursor, bool]:
    """Return the newest settled cursor and whether committed rows wait to settle (never on SQLite).

    Such a row is held back by some other transaction still running, possibly in another database
    of the same cluster; the reader looks again shortly instead of waiting for its next poll. Both
    answers come from one reading of the oldest running transaction: read apart, that transaction
    could end in between, and a row neither settled at the first read nor waiting at the second
    would be announced only by the next poll.
    """
    below = _settled_below(session)
    if below is None:
        return _head(session, None), False
    return _head(session, below), session.scalar(
        select(TaskFeed.seq).where(TaskFeed.tx >= below).limit(1)) is not None


def settle_before_now(session: Session, *, within_s: float = 1.0) -> None:
    """Wait (at most `within_s`) until every transaction that began before this call has ended, so that
    a head read next covers every change committed before it (PostgreSQL; at once on SQLite).

    A client that reconnects expects its replay to hold what it saw committed; such a change is held
    back while any older transaction in the cluster still runs, usually for milliseconds.
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    target = int(session.scalar(text("SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint")) or 0)
    deadline, pause = time.monotonic() + within_s, 0.005
    while (_settled_below(session) or 0) < target and time.monotonic() < deadline:
        time.sleep(pause)
        pause = min(pause * 2, 0.1)


def _head(session: Session, below: int | None) -> Cursor:
    stmt = select(TaskFeed.tx, TaskFeed.seq).order_by(TaskFeed.tx.desc(), TaskFeed.seq.desc()).limit(1)
    if below is not None:
        stmt = stmt.where(TaskFeed.tx < below)
    row = session.execute(stmt).first()
    return Cursor(row.tx, row.seq) if row is not None else START


def _between(after: Cursor, upto: Cursor) -> Any:
    position = tuple_(TaskFeed.tx, TaskFeed.seq)
    return and_(position > tuple_(literal(after.tx), literal(after.seq)),
                position <= tuple_(literal(upto.tx), literal(upto.seq)))


def audience(actor: Actor) -> Any:
    """SQL condition on TaskFeed (joined to Case): changes to tasks of the actor's roles or own cases,
    whoever holds them: `visible_tasks` without its assignee condition.
    """
    if actor.user_id is None:
        return false()
    conditions = []
    for role, org in actor.memberships:
        holds = or_(TaskFeed.role == role, TaskFeed.escalated_to == role) if is_supervisor_role(role) else (
            TaskFeed.role == role)
        conditions.append(and_(holds, or_(TaskFeed.bound_org.is_(None), TaskFeed.bound_org == org)))
    own = or_(Case.applicant_id == actor.user_id, and_(Case.applicant_id.is_(None), Case.filed_by_id == actor.user_id))
    conditions.append(and_(TaskFeed.role == routing.APPLICANT_ROLE, own))
    return or_(*conditions)


def read_events(session: Session, *, actor: Actor, after: Cursor, upto: Cursor | None = None,
                limit: int = 500) -> FeedBatch:
    """Return the actor's events after `after` up to `upto` (a settled cursor; by default the newest).

    Without `upto` (a client resuming) the cursor is checked first: `reset` when the log was pruned
    past it or it is not one of this database's.
    """
    if upto is None:
        upto = head(session)
        if after > upto or after.seq + 1 < (session.scalar(select(func.min(TaskFeed.seq))) or 0):
            return FeedBatch([], upto, reset=True)
    if after >= upto:
        return FeedBatch([], after, reset=False)
    now_visible = sql_case((visible_tasks(actor), True), else_=False)
    rows = session.execute(
        select(TaskFeed.tx, TaskFeed.seq, TaskFeed.task_id, TaskFeed.case_id, OpenTask, now_visible.label("visible"),
               Case.tracking_number)
        .outerjoin(Case, Case.id == TaskFeed.case_id).outerjoin(OpenTask, OpenTask.id == TaskFeed.task_id)
        .where(_between(after, upto), audience(actor))
        .order_by(TaskFeed.tx, TaskFeed.seq).limit(limit + 1)).all()
    if len(rows) > limit:
        return FeedBatch([], upto, reset=True)
    last: dict[str, FeedEvent] = {}
    for row in rows:
        visible = bool(row.visible) and row.OpenTask is not None
        last.pop(row.task_id, None)  # keep each task once, at its last change
        last[row.task_id] = FeedEvent(Cursor(row.tx, row.seq), "task" if visible else "gone", row.task_id,
                                      row.case_id, row.OpenTask if visible else None, row.tracking_number)
    return FeedBatch(list(last.values()), upto, reset=False)


@dataclass(frozen=True)
class Changed:
    """One change of the log, for every stream of a process at once: the columns that decide who it
    concerns (as the change wrote them), the case's owner (its applicant, or the filer of a walk-in
    case), and the task as it is now (None once closed).
    """

    cursor: Cursor
    task_id: str
    case_id: int
    role: str
    escalated_to: str | None
    bound_org: str | None
    owner: int | None
    task: OpenTask | None
    tracking_number: str | None


# Read by the hub at every wake-up: built once, so each read only binds its range.
_CHANGED = (
    select(TaskFeed.tx, TaskFeed.seq, TaskFeed.task_id, TaskFeed.case_id, TaskFeed.role, TaskFeed.escalated_to,
           TaskFeed.bound_org, func.coalesce(Case.applicant_id, Case.filed_by_id).label("owner"), OpenTask,
           Case.tracking_number)
    .outerjoin(Case, Case.id == TaskFeed.case_id).outerjoin(OpenTask, OpenTask.id == TaskFeed.task_id)
    .where(tuple_(TaskFeed.tx, TaskFeed.seq) > tuple_(bindparam("after_tx"), bindparam("after_seq")),
           tuple_(TaskFeed.tx, TaskFeed.seq) <= tuple_(bindparam("upto_tx"), bindparam("upto_seq")))
    .order_by(TaskFeed.tx, TaskFeed.seq).limit(bindparam("rows")))


def read_changed(session: Session, *, after: Cursor, upto: Cursor, limit: int = 500) -> list[Changed] | None:
    """Return the changes after `after` up to `upto` with their tasks as they are now, for any actor to sort
    with `events_of`; None when there are more than `limit` (each reader then reads its own with `read_events`).
    """
    rows = session.execute(_CHANGED, {"after_tx": after.tx, "after_seq": after.seq, "upto_tx": upto.tx,
                                      "upto_seq": upto.seq, "rows": limit + 1}).all()
    if len(rows) > limit:
        return None
    return [Changed(Cursor(r.tx, r.seq), r.task_id, r.case_id, r.role, r.escalated_to, r.bound_org, r.owner,
                    r.OpenTask, r.tracking_number) for r in rows]


def _holds(actor: Actor, role: str, escalated_to: str | None, bound_org: str | None) -> bool:
    """Tell whether one of the actor's memberships holds a task's role (or, as a supervisor, its escalation)."""
    for held, org in actor.memberships:
        if (role == held or (escalated_to == held and is_supervisor_role(held))) and bound_org in (None, org):
            return True
    return False


def in_audience(actor: Actor, change: Changed) -> bool:
    """Tell whether a change is one of the actor's: `audience` (the SQL condition) in Python."""
    if actor.user_id is None:
        return False
    if change.role == routing.APPLICANT_ROLE and change.owner == actor.user_id:
        return True
    return _holds(actor, change.role, change.escalated_to, change.bound_org)


def may_see(actor: Actor, task: OpenTask, owner: int | None) -> bool:
    """Tell whether the actor may work on an open task now: `access.visible_tasks` (the inbox's rule) in Python."""
    if actor.user_id is None:
        return False
    if task.role == routing.APPLICANT_ROLE and owner == actor.user_id:
        return True
    return (task.assignee_id in (None, actor.user_id)
            and _holds(actor, task.role, task.escalated_to, task.bound_org))


def events_of(actor: Actor, changed: list[Changed]) -> list[FeedEvent]:
    """Return the actor's events among changes read with `read_changed`, as `read_events` returns them."""
    last: dict[str, FeedEvent] = {}
    for change in changed:
        if not in_audience(actor, change):
            continue
        visible = change.task is not None and may_see(actor, change.task, change.owner)
        last.pop(change.task_id, None)  # keep each task once, at its last change
        last[change.task_id] = FeedEvent(change.cursor, "task" if visible else "gone", change.task_id,
                                         change.case_id, change.task if visible else None, change.tracking_number)
    return list(last.values())


def prune(session: Session, *, keep: int = KEEP) -> int:
    """Delete all but the newest `keep` changes (the newest one always stays); return how many went."""
    newest = session.scalar(select(func.max(TaskFeed.seq)))
    if newest is None or newest <= keep:
        return 0
    return int(session.execute(delete(TaskFeed).where(TaskFeed.seq <= newest - keep)).rowcount or 0)  # type: ignore[attr-defined]


# In-process wake-ups: a transaction that may have changed tasks calls every listener once it commits,
# so this process's streams read at once; other processes' commits are found by polling `head`.
_listeners: list[Callable[[], None]] = []


def listen(callback: Callable[[], None]) -> None:
    """Call `callback` (from the committing thread) after each commit that may have changed tasks."""
    _listeners.append(callback)


def unlisten(callback: Callable[[], None]) -> None:
    """Stop calling `callback`."""
    if callback in _listeners:
        _listeners.remove(callback)


def _notify() -> None:
    for callback in list(_listeners):
        callback()


# Set on a session whose transaction may have changed tasks; the outermost commit calls the listeners.
_CHANGED_KEY = "mpp_feed_changed"


def _may_have_written(session: Session) -> None:
    if _listeners:
        session.info[_CHANGED_KEY] = True


# Rows a transaction may write without touching a task: a flush of these alone (an upload, the
# access record of a read) marks nothing, so its commit wakes nobody. Any other flush marks: a claim
# writes the task with an UPDATE statement, which no flush reports, and the history row it flushes
# with it marks the transaction. (A `do_orm_execute` listener would see that UPDATE, but makes
# SQLAlchemy build an execution state for every statement of every session.)
_NOT_TASKS: tuple[type, ...] = (StoredFile, PersonalDataAccess)


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _context: Any) -> None:
    # The session's new, dirty and deleted objects are still those of the flush that just ran.
    if _listeners and not all(isinstance(obj, _NOT_TASKS)
                              for obj in (*session.new, *session.dirty, *session.deleted)):
        session.info[_CHANGED_KEY] = True


@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    # The step's driver SQL (engine/cases/hotsql.py) writes tasks without a flush; its SELECTs (the login
    # check of every request) mark nothing. Also called when a savepoint is released (the filing's step
    # runs in one): the mark waits for the outermost commit.
    if hotsql.WROTE in session.info:
        _may_have_written(session)


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    # SQLAlchemy calls this when a savepoint is released too, before anything is visible to other
    # sessions: a stream woken then read nothing, and the commit that followed woke nobody.
    if not session.in_nested_transaction() and session.info.pop(_CHANGED_KEY, False):
        _notify()


@event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session: Session, previous_transaction: Any) -> None:
    if previous_transaction.parent is None:  # the whole transaction was undone (not a savepoint)
        session.info.pop(_CHANGED_KEY, None)
