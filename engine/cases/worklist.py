"""The inbox as a table: open tasks with their case, applicant and claimant; filters, search and sorting.

The officer's inbox lists the tasks `access.visible_tasks` allows; a supervisor's queue lists the open
tasks of their agency (`access.agency_tasks`). Both read only the `task` and `case_record` read models.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session, aliased

from engine.cases.inbox import CAP
from engine.cases.search import applicant_name, matches
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


def list_rows(session: Session, *, scope: Any, filters: Filters, now: datetime, limit: int = 50,
              offset: int = 0) -> Table:
    """Return a page of open tasks within `scope` (an SQL condition on OpenTask) matching the filters, and the total."""
    applicant, claimant = aliased(User), aliased(User)
    name = applicant_name(Case, applicant)
    claimed_by = func.coalesce(func.nullif(claimant.display_name, ""), claimant.username)
    stmt = (select(OpenTask, Case.tracking_number, Case.channel, name, claimed_by, Case.priority, Case.outreach_for)
            .join(Case, Case.id == OpenTask.case_id)
            .outerjoin(applicant, applicant.id == Case.applicant_id)
            .outerjoin(claimant, claimant.id == OpenTask.assignee_id)
            .where(scope))
    if filters.text:
        found = matches(filters.text, Case, applicant)
        stmt = stmt.where(found if found is not None else OpenTask.id.is_(None))
    if filters.process_key:
        stmt = stmt.where(OpenTask.process_key == filters.process_key)
    if filters.element_id:
        stmt = stmt.where(OpenTask.element_id == filters.element_id)
    if filters.channel:
        stmt = stmt.where(Case.channel == filters.channel)
    if filters.role:
        stmt = stmt.where(OpenTask.role == filters.role)
    if filters.overdue:
        stmt = stmt.where(and_(OpenTask.due_at.is_not(None), OpenTask.due_at < now))
    if filters.priority:
        stmt = stmt.where(Case.priority.is_not(None))
    if filters.outreach:
        stmt = stmt.where(Case.outreach_for.is_not(None))
    # Counting stops past the cap: "1.000+" is as useful on a page as the exact figure, and never reads every task.
    counted = session.scalar(select(func.count()).select_from(stmt.limit(CAP + 1).subquery())) or 0
    ordered = stmt.order_by(*_order(filters.sort, filters.descending, name, claimed_by)).limit(limit).offset(offset)
    # The list shows the applicant's name masked (forms.personal); the task page shows it in full.
    return Table([_masked(Row(*row)) for row in session.execute(ordered)], min(counted, CAP + 1), counted > CAP)


def _masked(row: Row) -> Row:
    return replace(row, applicant_name=mask(row.applicant_name) if row.applicant_name else None)


def steps(session: Session, *, scope: Any) -> list[Step]:
    """Return the steps with open tasks in the scope, by service then name (the step filter's choices)."""
    rows = session.execute(select(OpenTask.process_key, OpenTask.element_id, OpenTask.name).where(scope)
                           .group_by(OpenTask.process_key, OpenTask.element_id, OpenTask.name)
                           .order_by(OpenTask.process_key, OpenTask.name))
    return [Step(*row) for row in rows]


def waiting(since: datetime, now: datetime) -> tuple[int, int, int]:
    """Return how long a task has waited as (days, hours, minutes)."""
    minutes = max(0, int((now - since).total_seconds() // 60))
    return minutes // 1440, minutes % 1440 // 60, minutes % 60
