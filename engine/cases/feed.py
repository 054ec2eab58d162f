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

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import and_, delete, event, false, func, literal, or_, select, text, tuple_
from sqlalchemy import case as sql_case
from sqlalchemy.orm import Session

from engine.cases import assignment as routing
from engine.cases.access import visible_tasks
from engine.db import AFTER_COMMIT, on_commit
from engine.directory.actors import Actor
from engine.models import Case, OpenTask, TaskFeed
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
    stmt = select(TaskFeed.tx, TaskFeed.seq).order_by(TaskFeed.tx.desc(), TaskFeed.seq.desc()).limit(1)
    below = _settled_below(session)
    if below is not None:
        stmt = stmt.where(TaskFeed.tx < below)
    row = session.execute(stmt).first()
    return Cursor(row.tx, row.seq) if row is not None else START


def unsettled(session: Session) -> bool:
    """Tell whether the log holds committed rows that are not settled yet (always False on SQLite).

    Such a row is held back by some other transaction still running, possibly in another database
    of the same cluster; the reader looks again shortly instead of waiting for its next poll.
    """
    below = _settled_below(session)
    if below is None:
        return False
    return session.scalar(select(TaskFeed.seq).where(TaskFeed.tx >= below).limit(1)) is not None


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
class Change:
    """Who a change may concern: the task's role, its escalation, and its case's applicant (or filer)."""

    role: str
    escalated_to: str | None
    applicant_id: int | None


def changes(session: Session, *, after: Cursor, upto: Cursor, limit: int = 1000) -> list[Change] | None:
    """Return who the changes after `after` up to `upto` may concern; None when there are more than `limit`."""
    applicant = func.coalesce(Case.applicant_id, Case.filed_by_id)
    rows = session.execute(select(TaskFeed.role, TaskFeed.escalated_to, applicant)
                           .outerjoin(Case, Case.id == TaskFeed.case_id)
                           .where(_between(after, upto)).limit(limit + 1)).all()
    return None if len(rows) > limit else [Change(role, escalated, who) for role, escalated, who in rows]


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


def _may_have_written(session: Session) -> None:
    if _listeners and _notify not in session.info.get(AFTER_COMMIT, []):
        on_commit(session, _notify)


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _context: Any) -> None:
    _may_have_written(session)


@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    # The step's driver SQL (engine/cases/hotsql.py) writes tasks without a flush.
    if "mpp_hotsql" in session.info:
        _may_have_written(session)
