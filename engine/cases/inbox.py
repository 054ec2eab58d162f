"""The inbox as keyset pages: one index walk per role the actor holds, merged in Python, and a capped total.

`access.visible_tasks` is one OR over the actor's memberships; a database can neither walk an index
in the inbox's order through it nor stop early, so it reads and sorts every open task of the actor's
roles. Here the same condition is split into lanes (a role with its bound organisations; a supervisor
role's escalated tasks; the applicant tasks of the actor's own cases). Each lane walks
`ix_task_role_order` (or `ix_task_escalated_order`) in the inbox's order from a cursor and stops at
the page size; the lanes' sorted rows are merged. The order is `due_at IS NULL, due_at, created_at, id`.
"""

from __future__ import annotations

import base64
import binascii
import heapq
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, Select, and_, func, or_, select, tuple_, union, union_all
from sqlalchemy.orm import Session, aliased

from engine.cases import access as access
from engine.cases import assignment as routing
from engine.cases import hotsql as hotsql
from engine.cases import next_tasks as upcoming
from engine.directory.actors import Actor
from engine.errors import InvalidInput
from engine.models import Case, OpenTask
from engine.sla.escalation import is_supervisor_role

# Beyond this many matching tasks the total says "more than CAP" (docs/api.md), as the case lists do
# (`listing.TOTAL_CAP`): counting stops there.
CAP = 1000
_NO_DUE = datetime.min.replace(tzinfo=UTC)  # stands in for a missing due date in the Python sort key

Key = tuple[bool, datetime, datetime, str]


@dataclass(frozen=True)
class Filters:
    """The inbox's filters; `overdue` needs `now`."""

    process_key: str | None = None
    role: str | None = None
    overdue: bool | None = None
    claimed: bool | None = None
    case_id: int | None = None
    now: datetime | None = None


@dataclass(frozen=True)
class Page:
    """One page of the inbox: its tasks, the total (CAP + 1 and `capped` when more than CAP match), the next cursor."""

    rows: list[OpenTask]
    total: int
    capped: bool
    next_cursor: str | None


def sort_key(task: OpenTask) -> Key:
    """Return a task's place in the inbox: dated tasks first by due date, then by age, then by id."""
    return (task.due_at is None, task.due_at or _NO_DUE, task.created_at, task.id)


def encode_cursor(task: OpenTask) -> str:
    """Return the opaque cursor of the page after this task."""
    raw = [task.due_at.isoformat() if task.due_at else None, task.created_at.isoformat(), task.id]
    return base64.urlsafe_b64encode(json.dumps(raw, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> Key:
    """Return the sort key a cursor stands for; a cursor this inbox did not give is refused."""
    try:
        due, created, task_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        when = datetime.fromisoformat(created)
        due_at = datetime.fromisoformat(due) if due is not None else None
        if not isinstance(task_id, str) or when.tzinfo is None or (due_at is not None and due_at.tzinfo is None):
            raise ValueError(cursor)
        return (due_at is None, due_at.astimezone(UTC) if due_at else _NO_DUE, when.astimezone(UTC), task_id)
    except (ValueError, TypeError, OverflowError, binascii.Error) as exc:
        raise InvalidInput("the cursor is not one this inbox gave") from exc


def lanes(actor: Actor, role_filter: str | None = None) -> list[ColumnElement[bool]]:
    """Split `access.visible_tasks(actor)` into conditions an index walks in order; their union is the same set.

    The role lanes come first (no two share a task), then the escalated ones, then the applicant's: a
    lane may share tasks only with lanes before it (`tasks.queue_counts` relies on that).
    """
    if actor.user_id is None:
        return []
    mine = or_(OpenTask.assignee_id.is_(None), OpenTask.assignee_id == actor.user_id)
    orgs: dict[str, set[str]] = {}
    for role, org in actor.memberships:
        orgs.setdefault(role, set()).add(org)
    out: list[ColumnElement[bool]] = []
    escalated: list[ColumnElement[bool]] = []
    for role in sorted(orgs):
        where = or_(OpenTask.bound_org.is_(None), OpenTask.bound_org.in_(sorted(orgs[role])))
        if role_filter in (None, role):
            out.append(and_(OpenTask.role == role, where, mine))
        # A supervisor also works the overdue tasks escalated to their role (engine/sla/escalation.py).
        if is_supervisor_role(role):
            escalated.append(and_(OpenTask.escalated_to == role, where, mine))
    out += escalated
    if role_filter in (None, routing.APPLICANT_ROLE):
        out.append(and_(OpenTask.role == routing.APPLICANT_ROLE, _own_cases(actor, actor.user_id)))
    return out


def lane_roles(actor: Actor, role_filter: str | None = None) -> list[str | None]:
    """Return the task role each of `lanes(actor, role_filter)` is limited to, in the same order (None: any role).

    Two lanes limited to different roles share no task: `tasks.queue_counts` leaves such pairs out of
    the conditions that keep a task from being counted twice.
    """
    if actor.user_id is None:
        return []
    held = sorted({role for role, _org in actor.memberships})
    out: list[str | None] = [role for role in held if role_filter in (None, role)]
    out += [None for role in held if is_supervisor_role(role)]
    if role_filter in (None, routing.APPLICANT_ROLE):
        out.append(routing.APPLICANT_ROLE)
    return out


def _own_cases(actor: Actor, user_id: int) -> ColumnElement[bool]:
    """SQL condition: the task's case is the actor's (as applicant, or as the filer of a walk-in case).

    Most actors own few cases or none: the condition then starts from their cases. The counter staff
    who file for walk-ins own many, so there it is checked per applicant task instead (an EXISTS).
    Either way costs what the smaller side costs; an EXISTS for everyone made every officer's
    page check every open applicant task of the platform (52 ms CPU for 20,000 of them on SQLite).
    """
    if access.may_file_for_others(actor):
        own = _OWN
        return (select(own.id).where(own.id == OpenTask.case_id,
                                     or_(own.applicant_id == user_id,
                                         and_(own.applicant_id.is_(None), own.filed_by_id == user_id)))
                .correlate(OpenTask).exists())
    mine = select(Case.id).where(Case.applicant_id == user_id).union_all(
        select(Case.id).where(Case.filed_by_id == user_id, Case.applicant_id.is_(None)))
    return OpenTask.case_id.in_(mine)


# Made once: aliasing a mapped class copies its columns, which costs more than the rest of a page's SQL.
_OWN = aliased(Case, name="own_case")


def filtered(stmt: Select[Any], filters: Filters) -> Select[Any]:
    """Add the inbox's filters to a query on OpenTask."""
    if filters.case_id is not None:
        stmt = stmt.where(OpenTask.case_id == filters.case_id)
    if filters.process_key:
        stmt = stmt.where(OpenTask.process_key == filters.process_key)
    if filters.role:
        stmt = stmt.where(OpenTask.role == filters.role)
    if filters.overdue is not None and filters.now is not None:
        late = and_(OpenTask.due_at.is_not(None), OpenTask.due_at < filters.now)
        stmt = stmt.where(late if filters.overdue else ~late)
    if filters.claimed is not None:
        stmt = stmt.where(OpenTask.assignee_id.is_not(None) if filters.claimed else OpenTask.assignee_id.is_(None))
    return stmt


def _walk(session: Session, lane: ColumnElement[bool], filters: Filters, after: Key | None, *, dated: bool,
          limit: int) -> list[OpenTask]:
    """Read up to `limit` tasks of one lane after the cursor: the dated ones or the undated ones, in order."""
    stmt = filtered(select(OpenTask).where(lane), filters)
    order: tuple[Any, ...]
    if dated:
        stmt = stmt.where(OpenTask.due_at.is_not(None))
        if after is not None:
            stmt = stmt.where(tuple_(OpenTask.due_at, OpenTask.created_at, OpenTask.id) > tuple_(*after[1:]))
        order = (OpenTask.due_at, OpenTask.created_at, OpenTask.id)
    else:
        stmt = stmt.where(OpenTask.due_at.is_(None))
        if after is not None and after[0]:
            stmt = stmt.where(tuple_(OpenTask.created_at, OpenTask.id) > tuple_(*after[2:]))
        order = (OpenTask.created_at, OpenTask.id)
    return list(session.scalars(stmt.order_by(*order).limit(limit)))


def _merged(streams: Iterable[list[OpenTask]], limit: int) -> list[OpenTask]:
    """Merge sorted lanes into one sorted list of at most `limit` tasks, each once (lanes may overlap)."""
    out: list[OpenTask] = []
    seen: set[str] = set()
    merged: Iterator[OpenTask] = heapq.merge(*streams, key=sort_key)
    for task in merged:
        if task.id not in seen:
            seen.add(task.id)
            out.append(task)
            if len(out) == limit:
                break
    return out


def _walk_all(session: Session, conds: list[ColumnElement[bool]], filters: Filters, after: Key | None,
              want: int) -> list[OpenTask]:
    """Return the first `want` tasks of the lanes after the cursor, in the inbox's order."""
    rows: list[OpenTask] = []
    if after is None or not after[0]:
        rows = _merged((_walk(session, c, filters, after, dated=True, limit=want) for c in conds), want)
    only_late = filters.overdue is True and filters.now is not None
    if len(rows) < want and not only_late:  # undated tasks come after every dated one
        rows += _merged((_walk(session, c, filters, after, dated=False, limit=want - len(rows)) for c in conds),
                        want - len(rows))
    return rows


def overlapping(actor: Actor) -> bool:
    """Tell whether a task may fall in two of the actor's lanes (an escalated task of a role they hold too)."""
    return any(is_supervisor_role(role) or role == routing.APPLICANT_ROLE for role, _ in actor.memberships)


def capped_total(session: Session, conds: list[ColumnElement[bool]], filters: Filters, *,
                 distinct: bool) -> tuple[int, bool]:
    """Count the lanes' tasks up to CAP (each lane stops after CAP + 1): CAP + 1 and True mean "more than CAP".

    Lanes that may share a task (`distinct`) are counted through UNION, the others through UNION ALL.
    """
    if not conds:
        return 0, False
    parts = [filtered(select(OpenTask.id).where(c), filters).limit(CAP + 1).subquery() for c in conds]
    combine = union if distinct else union_all
    ids = combine(*(select(p.c.id) for p in parts)).subquery() if len(parts) > 1 else parts[0]
    found = int(session.scalar(select(func.count()).select_from(ids)) or 0)
    return min(found, CAP + 1), found > CAP


def inbox_page(session: Session, *, actor: Actor, filters: Filters, limit: int = 50, offset: int = 0,
               cursor: str | None = None) -> Page:
    """Return a page of the actor's open tasks after the cursor (or `offset` in), the capped total, the next cursor."""
    after = decode_cursor(cursor) if cursor else None
    if filters.case_id is not None:
        return _case_page(session, actor=actor, case_id=filters.case_id, filters=filters, after=after, limit=limit,
                          offset=offset)
    conds = lanes(actor, filters.role or None)
    rows = _walk_all(session, conds, filters, after, offset + limit + 1) if conds else []
    page = rows[offset:offset + limit]
    total, capped = capped_total(session, conds, filters, distinct=overlapping(actor))
    more = len(rows) > offset + limit
    return Page(page, total, capped, encode_cursor(page[-1]) if more and page else None)


def _case_page(session: Session, *, actor: Actor, case_id: int, filters: Filters, after: Key | None, limit: int,
               offset: int) -> Page:
    """Return the page of one case's open tasks: a case has a handful, read at once and sorted here.

    A client that learnt a case's number from an answer asks for its tasks with `case_id`; walking
    every lane twice and counting them would cost ten statements for the two or three rows one
    statement on `ix_task_case` returns. The case's open tasks are read whole with its applicant and
    filer, and those the actor may work on are kept in Python by `next_tasks.may_work`
    (`routing.may_work_on`, the rule `access.visible_tasks` mirrors): building that condition for each
    actor cost more than the read.
    """
    if actor.user_id is None:
        return Page([], 0, False, None)
    found: Iterable[tuple[OpenTask, int | None, int | None]]
    if filters == Filters(case_id=case_id, now=filters.now):  # only the case: driver SQL (hotsql)
        found = _case_tasks(session, case_id)
    else:
        found = cast("Iterable[tuple[OpenTask, int | None, int | None]]",
                     session.execute(filtered(_CASE_TASKS_ANY, filters)))
    memberships = set(actor.memberships)
    rows = sorted((task for task, applicant, filer in found
                   if upcoming.may_work(actor.user_id, memberships, task, applicant_id=applicant, filed_by_id=filer)),
                  key=sort_key)
    if after is not None:
        rows = [t for t in rows if sort_key(t) > after]
    page = rows[offset:offset + limit]
    more = len(rows) > offset + limit
    return Page(page, len(rows), False, encode_cursor(page[-1]) if more and page else None)


# The case's open tasks with what `next_tasks.may_work` needs of the case; filtered further when asked.
_CASE_TASKS_ANY = cast("Select[Any]", select(OpenTask, Case.applicant_id, Case.filed_by_id)
                       .join(Case, Case.id == OpenTask.case_id))
_TIMES = ("claimed_at", "created_at", "due_at", "escalated_at")
_FLAGS = ("overdue", "prioritized")


def _case_tasks(session: Session, case_id: int) -> list[tuple[OpenTask, int | None, int | None]]:
    """Return the case's open tasks with its applicant and filer, read as driver SQL (engine/cases/hotsql.py).

    A client finding its next task asks this once per step. The rows come back as transient `OpenTask`
    objects (not in the session), each column typed as the ORM reads it; through the ORM's query the
    same read cost about twice as much of our CPU.
    """
    found = []
    for row in hotsql.read_all(session, "case_tasks", {"case_id": case_id}):
        values = row._asdict()
        applicant, filer = values.pop("applicant_id"), values.pop("filed_by_id")
        values.update({name: hotsql.read_time(values[name]) for name in _TIMES})
        values.update({name: bool(values[name]) for name in _FLAGS})
        found.append((OpenTask(**values), applicant, filer))
    return found
