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
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import lru_cache, partial
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    and_,
    func,
    literal,
    literal_column,
    select,
    true,
    tuple_,
    union,
    union_all,
)
from sqlalchemy.orm import Session, aliased

from engine.cases import access as access
from engine.cases import assignment as routing
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
    # Per lane: whether it holds the actor's own cases' applicant tasks (`inbox.lane_roles`), checked per task.
    own_cases: tuple[bool, ...] = ()
    # The scope's statements that depend on nothing else (`_memo`): built and keyed once, run by every page.
    memo: dict[Any, Any] = field(default_factory=dict, compare=False, hash=False, repr=False)

    def where(self) -> Any:
        """Return the scope as one SQL condition on OpenTask."""
        return self.condition()


# A scope and its statements are kept per actor (per set of agencies): building the SQL of a page, and the key
# SQLAlchemy finds its compiled form by, cost more client CPU than running it. Bounded, and a changed role
# (another `Actor`) is another key.
@lru_cache(maxsize=1024)
def officer_scope(actor: Actor) -> Scope:
    """Return the open tasks an officer may work on (`access.visible_tasks`), split as the inbox splits them."""
    return Scope(tuple(inbox.lanes(actor)), inbox.overlapping(actor), lambda: access.visible_tasks(actor),
                 tuple(role == routing.APPLICANT_ROLE for role in inbox.lane_roles(actor)))


@lru_cache(maxsize=256)
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


MEMO_MAX = 64


def _memo(scope: Scope, key: tuple[Any, ...], filters: Filters, build: Callable[[], AnySelect]) -> AnySelect:
    """Return the scope's statement `key`, built once; one that reads `now` (the overdue filter) is built every time.

    A scope keeps at most MEMO_MAX statements (the filters come from the query string): past that, built every time.
    """
    if filters.overdue:
        return build()
    found = scope.memo.get(key)
    if found is None:
        found = build()
        if len(scope.memo) < MEMO_MAX:
            scope.memo[key] = found
    return found


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
            stmt = _memo(scope, ("walk", filters, prioritized, dated, need), filters,
                         partial(_walks, scope, filters, now, prioritized, dated, need))
            rows = sorted((_key(prioritized, due, _utc(created), tid), tid) for tid, due, created in (
                (r[0], _utc(r[1]) if r[1] is not None else None, r[2]) for r in session.execute(stmt)))
            for _key_of, tid in rows:
                if tid not in seen:
                    seen.add(tid)
                    ids.append(tid)
                    if len(ids) == want:
                        return ids
    return ids


def _walks(scope: Scope, filters: Filters, now: datetime, prioritized: bool, dated: bool, need: int) -> AnySelect:
    """One part of the order's walks, its lanes side by side (UNION ALL of each lane's ordered, limited walk)."""
    walks = [_walk(lane, filters, now, prioritized=prioritized, dated=dated, limit=need) for lane in scope.lanes]
    return union_all(*(select(w.subquery()) for w in walks)) if len(walks) > 1 else walks[0]  # type: ignore[return-value]


def _utc(value: datetime) -> datetime:
    """A datetime read through a subquery: UTC-aware, as the mapped column type returns it."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _capped_count(session: Session, scope: Scope, filters: Filters, now: datetime) -> int:
    """Count the scope's matching tasks, each lane up to CAP + 1 (so the count stops past CAP)."""
    if not scope.lanes:
        return 0
    return int(session.scalar(_capped_count_query(scope, filters, now)) or 0)


def _capped_count_query(scope: Scope, filters: Filters, now: datetime) -> AnySelect:
    """The query of `_capped_count` (the scope has lanes)."""
    return _memo(scope, ("count", filters), filters, lambda: _count_query(scope, filters, now))


def _count_query(scope: Scope, filters: Filters, now: datetime) -> AnySelect:
    parts = [_task_filtered(select(OpenTask.id).where(lane), filters, now).limit(CAP + 1).subquery()
             for lane in scope.lanes]
    combine = union if scope.distinct else union_all
    ids = combine(*(select(p.c.id) for p in parts)).subquery() if len(parts) > 1 else parts[0]
    return select(func.count()).select_from(ids)


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
    """The default order's page: the lanes walked to the page's end and merged, then the page's columns read.

    The page's columns and the total are one statement (the count a scalar subquery beside each row); an
    empty page counts on its own.
    """
    ids = _walk_all(session, scope, filters, now, offset + limit)[offset:]
    if not ids:
        counted = _capped_count(session, scope, filters, now)
        return Table([], min(counted, CAP + 1), counted > CAP)
    total = _capped_count_query(scope, filters, now).scalar_subquery().label("total")
    found = {row[0].id: row for row in session.execute(_columns()[0].add_columns(total).where(OpenTask.id.in_(ids)))}
    counted = int(next(iter(found.values()))[-1]) if found else _capped_count(session, scope, filters, now)
    rows = [_masked(Row(*found[tid][:-1])) for tid in ids if tid in found]
    return Table(rows, min(counted, CAP + 1), counted > CAP)


def _masked(row: Row) -> Row:
    return replace(row, applicant_name=mask(row.applicant_name) if row.applicant_name else None)


def steps(session: Session, *, scope: Scope) -> list[Step]:
    """Return the steps with open tasks in the scope, by service then name (the step filter's choices).

    Each lane is read as a loose index scan (`ix_task_role_step`, `ix_task_agency_step`), seeking the lane's
    next step after the last one found, so the cost follows the steps, not the tasks. On PostgreSQL every
    lane's scan is one recursive CTE and all lanes are one statement (`_steps_statement`); on SQLite, where
    a statement costs no round trip, and for the own-cases lane, one statement per step found (`_next_step`).
    """
    found: set[tuple[str, str, str]] = set()
    lanes = scope.lanes
    if session.get_bind().dialect.name == "postgresql":
        # The own-cases lane checks each task's case: as a recursive CTE its estimated cost passes
        # PostgreSQL's jit_above_cost, and JIT compiling takes ~300 ms. It keeps the statement per step.
        own = {n for n, flag in enumerate(scope.own_cases) if flag}
        seekable = tuple(lane for n, lane in enumerate(lanes) if n not in own)
        if seekable:
            stmt = _memo(scope, ("steps",), Filters(), lambda: _steps_statement(seekable))
            found = {(row[0], row[1], row[2]) for row in session.execute(stmt)}
        lanes = tuple(lane for n, lane in enumerate(lanes) if n in own)
    for lane in lanes:
        after: tuple[str, str, str] | None = None
        while True:
            step = _next_step(session, lane, after)
            if step is None:
                break
            found.add(step)
            after = step
    return [Step(*step) for step in sorted(found, key=lambda s: (s[0], s[2], s[1]))]


# LIMIT 1 written out, not a parameter: a plan made without the limit's value (a generic plan, which
# PostgreSQL may pick for a statement run often) estimates each seek to read a tenth of the lane's tasks, and a
# recursive CTE of such seeks costs enough for PostgreSQL to JIT-compile it (~250 ms, for a 0.1 ms statement).
_ONE: ColumnElement[int] = literal_column("1", Integer())


def _steps_statement(lanes: tuple[ColumnElement[bool], ...]) -> AnySelect:
    """Every lane's steps in one statement (PostgreSQL): per lane, a recursive CTE whose each step seeks the next.

    `(service, element, name) > (the last step found)` is one row-value range on the step index after the
    lane's equality, which PostgreSQL seeks directly (in the index's collation, as ORDER BY reads it).
    """
    columns = (OpenTask.process_key, OpenTask.element_id, OpenTask.name)
    scans = []
    for n, lane in enumerate(lanes):
        first = select(*columns).where(lane).order_by(*columns).limit(_ONE).subquery(f"first_{n}")
        found = select(first.c.process_key, first.c.element_id, first.c.name).cte(f"steps_{n}", recursive=True)
        after = tuple_(found.c.process_key, found.c.element_id, found.c.name)
        seek = (select(*columns).where(lane, tuple_(*columns) > after).order_by(*columns).limit(_ONE)
                .lateral(f"next_{n}"))
        found = found.union_all(select(seek.c.process_key, seek.c.element_id, seek.c.name)
                                .select_from(found).join(seek, true()))
        scans.append(select(found.c.process_key, found.c.element_id, found.c.name))
    return union_all(*scans) if len(scans) > 1 else scans[0]  # type: ignore[return-value]


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
