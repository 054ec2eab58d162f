"""The inbox as a table: open tasks with their case, applicant and claimant; filters, search and sorting.

The officer's inbox lists the tasks `access.visible_tasks` allows; a supervisor's queue lists the open
tasks of their agency (`access.agency_tasks`). Both read only the `task` and `case_record` read models.

The default order (priority cases first, then by due date) is read as keyset walks: the scope is split
into lanes (`Scope`: the officer's roles as `inbox.lanes` splits them, or the supervisor's agencies), and
each lane walks `ix_task_role_priority` (`ix_task_escalated_priority`, `ix_task_agency_priority`) in that
order and stops after the rows the page needs; the lanes' rows are merged here. `task.prioritized` copies
the case's priority service for this. Other sorts and a search text read and sort every matching task.
Either way a page lies within the first `inbox.CAP` rows (`MAX_PAGE` pages), and counts stop past CAP.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, literal, select, true, union, union_all
from sqlalchemy.orm import Session, aliased

from engine.cases import access as access
from engine.cases import inbox as inbox
from engine.cases.inbox import CAP
from engine.cases.search import applicant_name, matches
from engine.directory.actors import Actor
from engine.errors import InvalidInput
from engine.models import Case, OpenTask, User
from forms.personal import mask

# Sortable columns by their URL name. "menunggu" (waiting) sorts by how long the task has waited,
# so ascending means the newest task first. "batas", the default, is the priority queue: cases of
# applicants with priority service (engine/cases/priority.py) first, then by due date.
SORTS = ("nomor", "layanan", "langkah", "pemohon", "kanal", "menunggu", "batas", "diambil")
DEFAULT_SORT = "batas"


@dataclass(frozen=True)
class Filters:
    """What the inbox table shows: search text, filters, and the sort."""

    text: str = ""
    process_key: str | None = None
    element_id: str | None = None
    channel: str | None = None
    role: str | None = None
    overdue: bool = False
    priority: bool = False
    outreach: bool = False
    sort: str = DEFAULT_SORT
    descending: bool = False


@dataclass(frozen=True)
class Row:
    """One open task with what the table shows of its case."""

    task: OpenTask
    tracking_number: str
    channel: str
    applicant_name: str | None
    claimed_by: str | None
    priority: str | None
    outreach_for: str | None


@dataclass(frozen=True)
class Step:
    """A step (user task of a service) that has open tasks in the scope: a filter choice."""

    process_key: str
    element_id: str
    name: str


def _order(sort: str, descending: bool, applicant: Any, claimant: Any) -> list[Any]:
    columns = {"nomor": Case.tracking_number, "layanan": OpenTask.process_key, "langkah": OpenTask.name,
               "pemohon": applicant, "kanal": Case.channel, "diambil": claimant}
    if sort == "menunggu":  # waiting longer = opened earlier
        first = OpenTask.created_at.asc() if descending else OpenTask.created_at.desc()
        return [first, OpenTask.id]
    if sort in columns:
        column = columns[sort]
        return [column.is_(None), column.desc() if descending else column.asc(), OpenTask.created_at, OpenTask.id]
    # The priority queue: priority cases first, then by due date (tasks without one last), then the oldest.
    due = OpenTask.due_at.desc() if descending else OpenTask.due_at.asc()
    return [Case.priority.is_(None), OpenTask.due_at.is_(None), due, OpenTask.created_at, OpenTask.id]


@dataclass(frozen=True)
class Table:
    """One page of the table: its rows and the total, counted up to `inbox.CAP` (CAP + 1 and `capped`: more)."""

    rows: list[Row]
    total: int
    capped: bool


@dataclass(frozen=True)
class Scope:
    """The open tasks a table lists, as `lanes`, and as one SQL condition on OpenTask (`where()`).

    Each lane is a condition an index walks in the default order (role, escalated supervisor role or
    agency first); their union is `where()`, which only the other sorts and a search read (it is built
    on demand). `distinct`: a task may fall in two lanes.
    """

    lanes: tuple[ColumnElement[bool], ...]
    distinct: bool
    condition: Callable[[], Any]

    def where(self) -> Any:
        """Return the scope as one SQL condition on OpenTask."""
        return self.condition()


def officer_scope(actor: Actor) -> Scope:
    """Return the open tasks an officer may work on (`access.visible_tasks`), split as the inbox splits them."""
    return Scope(tuple(inbox.lanes(actor)), inbox.overlapping(actor), lambda: access.visible_tasks(actor))


def agency_scope(agencies: frozenset[str]) -> Scope:
    """Return the open tasks of these agencies (a supervisor's queue, `access.agency_tasks`), one lane per agency."""
    return Scope(tuple(OpenTask.agency == a for a in sorted(agencies)), False, lambda: access.agency_tasks(agencies))


# A page starts within the first CAP rows: the total is counted no further, and a page past it would
# read and sort every matching task. Narrowing the list (search, filters) reaches the rest.
MAX_PAGE = CAP // 50


class PageTooFar(InvalidInput):
    """A page past the first `inbox.CAP` rows was asked for (the pages say so before asking)."""


_NO_DUE = datetime.min.replace(tzinfo=UTC)
AnySelect = Select[*tuple[Any, ...]]
Key = tuple[bool, bool, datetime, datetime, str]


def _key(prioritized: bool, due_at: datetime | None, created_at: datetime, task_id: str) -> Key:
    """A task's place in the default order: priority cases first, then dated by due date, then by age, then id."""
    return (not prioritized, due_at is None, due_at or _NO_DUE, created_at, task_id)


def _keyed(filters: Filters) -> bool:
    """Tell whether the page is read by keyset walks (the default order, no search text)."""
    return filters.sort == DEFAULT_SORT and not filters.descending and not filters.text


def _task_filtered(stmt: AnySelect, filters: Filters, now: datetime) -> AnySelect:
    """Add the filters on the task and its case (all but the search text) to a query on OpenTask."""
    if filters.process_key:
        stmt = stmt.where(OpenTask.process_key == filters.process_key)
    if filters.element_id:
        stmt = stmt.where(OpenTask.element_id == filters.element_id)
    if filters.role:
        stmt = stmt.where(OpenTask.role == filters.role)
    if filters.overdue:
        stmt = stmt.where(and_(OpenTask.due_at.is_not(None), OpenTask.due_at < now))
    if filters.priority:
        stmt = stmt.where(OpenTask.prioritized == true())
    if filters.channel or filters.outreach:  # checked on each walked task's own case
        own = select(Case.id).where(Case.id == OpenTask.case_id)
        if filters.channel:
            own = own.where(Case.channel == filters.channel)
        if filters.outreach:
            own = own.where(Case.outreach_for.is_not(None))
        stmt = stmt.where(own.correlate(OpenTask).exists())
    return stmt


def _walk(lane: ColumnElement[bool], filters: Filters, now: datetime, *, prioritized: bool, dated: bool,
          limit: int) -> AnySelect:
    """The query of up to `limit` tasks of one lane in one part of the default order (priority or not, dated or not)."""
    keys: AnySelect = select(OpenTask.id, OpenTask.due_at, OpenTask.created_at)
    stmt = _task_filtered(keys.where(lane, OpenTask.prioritized == prioritized), filters, now)
    if dated:
        stmt = stmt.where(OpenTask.due_at.is_not(None)).order_by(OpenTask.due_at, OpenTask.created_at, OpenTask.id)
    else:
        stmt = stmt.where(OpenTask.due_at.is_(None)).order_by(OpenTask.created_at, OpenTask.id)
    return stmt.limit(limit)


def _walk_all(session: Session, scope: Scope, filters: Filters, now: datetime, want: int) -> list[str]:
    """Return the ids of the first `want` tasks of the scope in the default order, each once.

    One statement per part of the order (priority and dated first), its lanes' walks side by side
    (UNION ALL of each lane's ordered, limited walk), merged here; a later part is read only when needed.
    """
    ids: list[str] = []
    seen: set[str] = set()
    for prioritized in (True, False) if not filters.priority else (True,):
        for dated in (True, False) if not filters.overdue else (True,):
            need = want - len(ids)
            if need <= 0 or not scope.lanes:
                return ids
            walks = [_walk(lane, filters, now, prioritized=prioritized, dated=dated, limit=need)
                     for lane in scope.lanes]
            stmt = union_all(*(select(w.subquery()) for w in walks)) if len(walks) > 1 else walks[0]
            rows = sorted((_key(prioritized, due, _utc(created), tid), tid) for tid, due, created in (
                (r[0], _utc(r[1]) if r[1] is not None else None, r[2]) for r in session.execute(stmt)))
            for _key_of, tid in rows:
                if tid not in seen:
                    seen.add(tid)
                    ids.append(tid)
                    if len(ids) == want:
                        return ids
    return ids


def _utc(value: datetime) -> datetime:
    """A datetime read through a subquery: UTC-aware, as the mapped column type returns it."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _capped_count(session: Session, scope: Scope, filters: Filters, now: datetime) -> int:
    """Count the scope's matching tasks, each lane up to CAP + 1 (so the count stops past CAP)."""
    if not scope.lanes:
        return 0
    parts = [_task_filtered(select(OpenTask.id).where(lane), filters, now).limit(CAP + 1).subquery()
             for lane in scope.lanes]
    combine = union if scope.distinct else union_all
    ids = combine(*(select(p.c.id) for p in parts)).subquery() if len(parts) > 1 else parts[0]
    return int(session.scalar(select(func.count()).select_from(ids)) or 0)


def _columns() -> tuple[Select[Any], Any, Any, Any]:
    """The table's query (task, case and people columns) before its scope, with the applicant alias and sort columns."""
    return _TABLE, _APPLICANT, _NAME, _CLAIMED_BY


# Made once: aliasing a mapped class copies its columns, which costs more than the rest of a page's SQL.
_APPLICANT, _CLAIMANT = aliased(User, name="applicant"), aliased(User, name="claimant")
_NAME = applicant_name(Case, _APPLICANT)
_CLAIMED_BY = func.coalesce(func.nullif(_CLAIMANT.display_name, ""), _CLAIMANT.username)
_TABLE = (select(OpenTask, Case.tracking_number, Case.channel, _NAME, _CLAIMED_BY, Case.priority, Case.outreach_for)
          .join(Case, Case.id == OpenTask.case_id)
          .outerjoin(_APPLICANT, _APPLICANT.id == Case.applicant_id)
          .outerjoin(_CLAIMANT, _CLAIMANT.id == OpenTask.assignee_id))


def list_rows(session: Session, *, scope: Scope, filters: Filters, now: datetime, limit: int = 50,
              offset: int = 0) -> Table:
    """Return a page of open tasks within `scope` matching the filters, and the total counted up to CAP.

    A page past the first CAP rows is refused (PageTooFar).
    """
    if offset + limit > CAP:
        raise PageTooFar(f"offset {offset} lies past the first {CAP} rows: narrow the list with a filter",
                         message_id=f"posisi {offset} melewati {CAP} baris pertama: persempit daftar dengan penyaring")
    if _keyed(filters):
        return _keyed_rows(session, scope=scope, filters=filters, now=now, limit=limit, offset=offset)
    stmt, applicant, name, claimed_by = _columns()
    stmt = stmt.where(scope.where())
    if filters.text:
        found = matches(filters.text, Case, applicant)
        stmt = stmt.where(found if found is not None else OpenTask.id.is_(None))
    stmt = _task_filtered(stmt, filters, now)
    # Counting stops past the cap: "1.000+" is as useful on a page as the exact figure, and never reads every task.
    counted = (session.scalar(select(func.count()).select_from(stmt.limit(CAP + 1).subquery())) or 0
               if filters.text else _capped_count(session, scope, filters, now))
    ordered = stmt.order_by(*_order(filters.sort, filters.descending, name, claimed_by)).limit(limit).offset(offset)
    # The list shows the applicant's name masked (forms.personal); the task page shows it in full.
    return Table([_masked(Row(*row)) for row in session.execute(ordered)], min(counted, CAP + 1), counted > CAP)


def _keyed_rows(session: Session, *, scope: Scope, filters: Filters, now: datetime, limit: int,
                offset: int) -> Table:
    """The default order's page: the lanes walked to the page's end and merged, then the page's columns read."""
    ids = _walk_all(session, scope, filters, now, offset + limit)[offset:]
    rows: list[Row] = []
    if ids:
        found = {row[0].id: row for row in session.execute(_columns()[0].where(OpenTask.id.in_(ids)))}
        rows = [_masked(Row(*found[tid])) for tid in ids if tid in found]
    counted = _capped_count(session, scope, filters, now)
    return Table(rows, min(counted, CAP + 1), counted > CAP)


def _masked(row: Row) -> Row:
    return replace(row, applicant_name=mask(row.applicant_name) if row.applicant_name else None)


def steps(session: Session, *, scope: Scope) -> list[Step]:
    """Return the steps with open tasks in the scope, by service then name (the step filter's choices).

    Each lane is read as a loose index scan (`ix_task_role_step`, `ix_task_agency_step`): one statement
    per step found, seeking the lane's next step after it, so the cost follows the steps, not the tasks.
    """
    found: set[tuple[str, str, str]] = set()
    for lane in scope.lanes:
        after: tuple[str, str, str] | None = None
        while True:
            step = _next_step(session, lane, after)
            if step is None:
                break
            found.add(step)
            after = step
    return [Step(*step) for step in sorted(found, key=lambda s: (s[0], s[2], s[1]))]


def _next_step(session: Session, lane: ColumnElement[bool],
               after: tuple[str, str, str] | None) -> tuple[str, str, str] | None:
    """Return the lane's first step (service, element, name) after `after`, or None.

    `(service, element, name) > after` as three seeks of one statement, each with equalities then one
    range: SQLite seeks a row-value range on its first column only, then reads every task of that service.
    """
    columns = (OpenTask.process_key, OpenTask.element_id, OpenTask.name)
    if after is None:
        first = session.execute(select(*columns).where(lane).order_by(*columns).limit(1)).first()
        return (first[0], first[1], first[2]) if first is not None else None
    service, element, name = after
    seeks = [select(*columns).where(lane, OpenTask.process_key == service, OpenTask.element_id == element,
                                    OpenTask.name > name).order_by(OpenTask.name),
             select(*columns).where(lane, OpenTask.process_key == service, OpenTask.element_id > element)
             .order_by(OpenTask.element_id, OpenTask.name),
             select(*columns).where(lane, OpenTask.process_key > service).order_by(*columns)]
    # The seeks' ranges follow one another in the index's order (the database's collation): the first that
    # finds a row holds the next step.
    rows = session.execute(union_all(*(select(seek.add_columns(literal(n).label("seek")).limit(1).subquery())
                                       for n, seek in enumerate(seeks)))).all()
    if not rows:
        return None
    first = min(rows, key=lambda row: int(row[3]))
    return (first[0], first[1], first[2])


def waiting(since: datetime, now: datetime) -> tuple[int, int, int]:
    """Return how long a task has waited as (days, hours, minutes)."""
    minutes = max(0, int((now - since).total_seconds() // 60))
    return minutes // 1440, minutes % 1440 // 60, minutes % 60
