"""SLA figures for the dashboard: volume, open, overdue, compliance, and step durations and waits.

What the figures mean (docs/operations.md, "Dashboard"):
- The period is a cohort: the cases *started* between `date_from` and `date_to` (dates in WIB,
  both inclusive). Every figure counts those cases and their tasks, so each row adds up.
- Volume: cases started. Open: of those, still running (or stopped on an incident). Overdue
  cases: open past the service's due time (`case_record.due_at`, close of office on the
  `sla_days`-th working day, engine/sla/calendar.py, or on the case's own `sla_working_days`-th,
  engine/sla/limit.py), moved forward by every pause of the SLA
  clock (the applicant's turn, a bill waiting: engine/sla/clock.py); a case whose clock stands
  still now is not overdue. Overdue tasks: open tasks past their due time.
- SLA compliance: of the completed cases that have an SLA, the share completed by their due time
  (which excludes the applicant's time, as the due time moved on by each pause).
  Per agency, the same over its completed tasks that had a due time (`slaDays` of the step).
- Working days (median): of the completed cases, the working days from filing to completion on
  the working calendar, each day counted as the share of its service hours that passed, less the
  pauses of the SLA clock.
- Per step (BPMN user-task element): duration = opened → completed; waiting = opened → claimed
  (→ completed when nobody claimed it; → now for an open unclaimed task). Median and p90 use
  linear interpolation between closest ranks (numpy's default, `statistics.quantiles` inclusive).
Counts and durations are computed in SQL; percentiles in Python, since SQLite has none.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, case, func, select
from sqlalchemy.orm import Session

from engine.cases.assignment import APPLICANT_ROLE, agency_of
from engine.catalogue.registry import latest_versions
from engine.directory.actors import Actor
from engine.errors import NotAllowed
from engine.models import Agency, Case, OpenTask, ProcessVersion, TaskSpan
from engine.sla import calendar_store as calendar_store
from engine.sla import clock as sla_clock
from engine.sla.calendar import WorkingCalendar
from engine.sla.escalation import supervised_agencies

WIB = ZoneInfo("Asia/Jakarta")
OPEN_STATUSES = ("running", "incident")


@dataclass(frozen=True)
class Filters:
    """What the dashboard shows: a period of case starts (WIB dates, inclusive), a service, an agency."""

    date_from: date | None = None
    date_to: date | None = None
    process_key: str | None = None
    agency: str | None = None

    def bounds(self) -> tuple[datetime | None, datetime | None]:
        """Return the period as UTC instants [start, end)."""
        start = datetime.combine(self.date_from, time(0), tzinfo=WIB) if self.date_from else None
        end = datetime.combine(self.date_to + timedelta(days=1), time(0), tzinfo=WIB) if self.date_to else None
        return start, end


def _pct(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


@dataclass(frozen=True)
class ServiceFigures:
    """Case-level figures of one service over the period."""

    process_key: str
    name_id: str
    name_en: str
    agency: str
    sla_days: int | None
    volume: int
    open: int
    overdue: int
    completed: int
    measured: int  # completed cases that had an SLA
    on_time: int
    # Median working days a completed case took, its SLA pauses (the applicant's time) left out.
    working_days_median: float | None = None

    @property
    def compliance(self) -> float | None:
        return _pct(self.on_time, self.measured)


@dataclass(frozen=True)
class AgencyFigures:
    """Task-level figures of one agency over the period."""

    agency: str
    name_id: str
    name_en: str
    open_tasks: int
    overdue_tasks: int
    escalated_tasks: int
    completed_tasks: int
    measured_tasks: int
    on_time_tasks: int

    @property
    def compliance(self) -> float | None:
        return _pct(self.on_time_tasks, self.measured_tasks)


@dataclass
class StepFigures:
    """One user-task element of a service: how long it takes and how long work waits there."""

    process_key: str
    element_id: str
    name: str
    agency: str
    completed: int = 0
    open: int = 0
    overdue: int = 0
    durations: list[float] = field(default_factory=list, repr=False)
    waits: list[float] = field(default_factory=list, repr=False)

    @property
    def duration_median_h(self) -> float | None:
        return percentile(self.durations, 0.5)

    @property
    def duration_p90_h(self) -> float | None:
        return percentile(self.durations, 0.9)

    @property
    def wait_median_h(self) -> float | None:
        return percentile(self.waits, 0.5)

    @property
    def wait_p90_h(self) -> float | None:
        return percentile(self.waits, 0.9)


@dataclass(frozen=True)
class Dashboard:
    """Everything the dashboard shows for one set of filters, as of `now`."""

    filters: Filters
    now: datetime
    scope: frozenset[str] | None  # None: every agency (an administrator)
    services: list[ServiceFigures]
    agencies: list[AgencyFigures]
    steps: list[StepFigures]

    def heat(self, process_key: str) -> dict[str, float]:
        """Return the median waiting hours of each element of a service that has any."""
        return {s.element_id: s.wait_median_h for s in self.steps
                if s.process_key == process_key and s.wait_median_h is not None}


def percentile(values: Iterable[float], q: float) -> float | None:
    """Return the q-quantile (0..1) by linear interpolation between closest ranks, rounded to 0.01."""
    data = sorted(values)
    if not data:
        return None
    position = (len(data) - 1) * q
    low = int(position)
    high = min(low + 1, len(data) - 1)
    return round(data[low] + (data[high] - data[low]) * (position - low), 2)


def dashboard_scope(actor: Actor) -> frozenset[str] | None:
    """Return the agencies an actor may see on the dashboard (None: all); refuse everyone else."""
    if actor.platform_role == "admin":
        return None
    agencies = supervised_agencies(actor)
    if not agencies:
        raise NotAllowed("the dashboard is for administrators and agency supervisors (role <agency>.supervisor)")
    return agencies


def _agencies(scope: frozenset[str] | None, wanted: str | None) -> frozenset[str] | None:
    if wanted is None:
        return scope
    if scope is not None and wanted not in scope:
        raise NotAllowed(f"you supervise {', '.join(sorted(scope))}, not '{wanted}'")
    return frozenset({wanted})


def _takes_part(version: ProcessVersion, agencies: frozenset[str] | None) -> bool:
    if agencies is None:
        return True
    involved = {str(version.service.get("agency", ""))} | {agency_of(role) for role in version.roles or []}
    return bool(involved & agencies)


def services_in_scope(session: Session, *, agencies: frozenset[str] | None,
                      process_key: str | None = None) -> list[ProcessVersion]:
    """Return the latest version of each service an agency set takes part in (owner or a lane's role)."""
    return [v for v in latest_versions(session)
            if _takes_part(v, agencies) and (process_key is None or v.key == process_key)]


def _cohort(filters: Filters, keys: list[str]) -> list[ColumnElement[bool]]:
    start, end = filters.bounds()
    conditions: list[ColumnElement[bool]] = [Case.process_key.in_(keys)]
    if start is not None:
        conditions.append(Case.created_at >= start)
    if end is not None:
        conditions.append(Case.created_at < end)
    return conditions


def _count(condition: ColumnElement[bool]) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _service_figures(session: Session, versions: list[ProcessVersion], filters: Filters,
                     now: datetime) -> list[ServiceFigures]:
    is_open = Case.status.in_(OPEN_STATUSES)
    done = Case.status == "completed"
    measured = and_(done, Case.due_at.is_not(None))
    stmt = (select(Case.process_key, func.count(), _count(is_open),
                   _count(and_(is_open, Case.due_at.is_not(None), Case.due_at < now,
                               Case.sla_paused_since.is_(None))), _count(done),
                   _count(measured), _count(and_(measured, Case.completed_at <= Case.due_at)))
            .where(*_cohort(filters, [v.key for v in versions])).group_by(Case.process_key))
    counts = {row[0]: [int(x) for x in row[1:]] for row in session.execute(stmt)}
    calendar = calendar_store.load(session) or WorkingCalendar.default()
    used = sla_clock.working_days_used(session, calendar=calendar,
                                       conditions=_cohort(filters, [v.key for v in versions]))
    figures = []
    for v in versions:
        names = v.service.get("name", {})
        sla = v.service.get("sla_days")
        volume, opened, overdue, done_, measured_, on_time = counts.get(v.key, [0] * 6)
        figures.append(ServiceFigures(v.key, str(names.get("id", v.key)), str(names.get("en", v.key)),
                                      str(v.service.get("agency", "")), int(sla) if sla else None,
                                      volume, opened, overdue, done_, measured_, on_time,
                                      percentile(used.get(v.key, []), 0.5)))
    return figures


def _hours(session: Session, start: Any, end: Any) -> Any:
    """SQL: hours between two timestamp columns, on either database."""
    if session.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", end - start) / 3600.0
    return (func.julianday(end) - func.julianday(start)) * 24.0


def _task_filter(column: Any, agencies: frozenset[str] | None) -> list[ColumnElement[bool]]:
    return [] if agencies is None else [column.in_(sorted(agencies))]


def _closed_steps(session: Session, keys: list[str], filters: Filters, agencies: frozenset[str] | None,
                  steps: dict[tuple[str, str], StepFigures]) -> None:
    span = TaskSpan
    stmt = (select(span.process_key, span.element_id, span.name, span.agency,
                   _hours(session, span.created_at, span.closed_at),
                   _hours(session, span.created_at, func.coalesce(span.claimed_at, span.closed_at)))
            .join(Case, Case.id == span.case_id)
            .where(span.completed.is_(True), *_cohort(filters, keys), *_task_filter(span.agency, agencies)))
    for key, element, name, agency, duration, wait in session.execute(stmt):
        step = steps.setdefault((key, element), StepFigures(key, element, name, agency))
        step.completed += 1
        step.durations.append(max(float(duration), 0.0))
        step.waits.append(max(float(wait), 0.0))


def _open_steps(session: Session, keys: list[str], filters: Filters, agencies: frozenset[str] | None,
                now: datetime, steps: dict[tuple[str, str], StepFigures]) -> list[OpenTask]:
    rows = list(session.scalars(select(OpenTask).join(Case, Case.id == OpenTask.case_id)
                                .where(*_cohort(filters, keys), *_task_filter(OpenTask.agency, agencies))))
    for task in rows:
        step = steps.setdefault((task.process_key, task.element_id),
                                StepFigures(task.process_key, task.element_id, task.name, task.agency))
        step.open += 1
        step.overdue += int(task.due_at is not None and task.due_at < now)
        step.waits.append(max(((task.claimed_at or now) - task.created_at).total_seconds() / 3600.0, 0.0))
    return rows


def _agency_figures(session: Session, keys: list[str], filters: Filters, agencies: frozenset[str] | None,
                    open_rows: list[OpenTask], now: datetime) -> list[AgencyFigures]:
    span = TaskSpan
    measured = span.due_at.is_not(None)
    stmt = (select(span.agency, func.count(), _count(measured), _count(and_(measured, span.closed_at <= span.due_at)))
            .join(Case, Case.id == span.case_id)
            .where(span.completed.is_(True), span.role != APPLICANT_ROLE, *_cohort(filters, keys),
                   *_task_filter(span.agency, agencies)).group_by(span.agency))
    closed = {row[0]: [int(x) for x in row[1:]] for row in session.execute(stmt)}
    opened: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for task in open_rows:
        if task.role == APPLICANT_ROLE:
            continue
        counts = opened[task.agency]
        counts[0] += 1
        counts[1] += int(task.due_at is not None and task.due_at < now)
        counts[2] += int(task.escalated_at is not None)
    codes = sorted(set(closed) | set(opened))
    names = {a.code: a for a in session.scalars(select(Agency).where(Agency.code.in_(codes)))}
    return [AgencyFigures(code, names[code].name_id if code in names else code,
                          names[code].name_en if code in names else code,
                          *opened.get(code, [0, 0, 0]), *closed.get(code, [0, 0, 0])) for code in codes]


@dataclass(frozen=True)
class Scope:
    """What one actor's dashboard covers: the agencies (None: all) and the services they take part in."""

    supervised: frozenset[str] | None
    agencies: frozenset[str] | None
    versions: list[ProcessVersion]

    @property
    def keys(self) -> list[str]:
        return [v.key for v in self.versions]

    def names(self) -> dict[str, tuple[str, str]]:
        """Return each service's name in Indonesian and English."""
        names = {v.key: v.service.get("name", {}) for v in self.versions}
        return {key: (str(n.get("id", key)), str(n.get("en", key))) for key, n in names.items()}


def scope_for(session: Session, *, actor: Actor, filters: Filters) -> Scope:
    """Return what the actor may see under the filters; NotAllowed for another agency or a non-manager."""
    supervised = dashboard_scope(actor)
    agencies = _agencies(supervised, filters.agency)
    return Scope(supervised, agencies, services_in_scope(session, agencies=agencies, process_key=filters.process_key))


def build_dashboard(session: Session, *, actor: Actor, filters: Filters, now: datetime) -> Dashboard:
    """Compute the dashboard's figures for the filters, limited to what the actor may see."""
    scope = scope_for(session, actor=actor, filters=filters)
    agencies, versions, keys = scope.agencies, scope.versions, scope.keys
    steps: dict[tuple[str, str], StepFigures] = {}
    _closed_steps(session, keys, filters, agencies, steps)
    open_rows = _open_steps(session, keys, filters, agencies, now, steps)
    return Dashboard(filters, now, scope.supervised, _service_figures(session, versions, filters, now),
                     _agency_figures(session, keys, filters, agencies, open_rows, now),
                     sorted(steps.values(), key=lambda s: (s.process_key, s.element_id)))


# Spreadsheets run a cell that starts with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_HEADER = ("section", "process_key", "element_id", "agency", "name", "volume", "open", "overdue",
              "escalated", "completed", "on_time", "compliance_pct", "duration_median_h", "duration_p90_h",
              "wait_median_h", "wait_p90_h")


def safe_cell(value: object) -> str:
    """Return a value as CSV text that no spreadsheet will run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def export_rows(board: Dashboard) -> list[list[str]]:
    """Return the dashboard as CSV rows (header first): services, agencies, then steps."""
    rows: list[list[object]] = [list(CSV_HEADER)]
    for s in board.services:
        rows.append(["service", s.process_key, "", s.agency, s.name_id, s.volume, s.open, s.overdue, "",
                     s.completed, s.on_time, s.compliance, "", "", "", ""])
    for a in board.agencies:
        rows.append(["agency", "", "", a.agency, a.name_id, "", a.open_tasks, a.overdue_tasks, a.escalated_tasks,
                     a.completed_tasks, a.on_time_tasks, a.compliance, "", "", "", ""])
    for st in board.steps:
        rows.append(["step", st.process_key, st.element_id, st.agency, st.name, "", st.open, st.overdue, "",
                     st.completed, "", "", st.duration_median_h, st.duration_p90_h, st.wait_median_h, st.wait_p90_h])
    return [[safe_cell(cell) for cell in row] for row in rows]


@dataclass(frozen=True)
class Option:
    """A choice in a dashboard filter: a code and its names."""

    code: str
    name_id: str
    name_en: str


def filter_options(session: Session, *, actor: Actor) -> tuple[list[Option], list[Option]]:
    """Return the services and agencies an actor may filter the dashboard by."""
    supervised = dashboard_scope(actor)
    services = [Option(v.key, str(v.service.get("name", {}).get("id", v.key)),
                       str(v.service.get("name", {}).get("en", v.key)))
                for v in services_in_scope(session, agencies=supervised)]
    stmt = select(Agency).where(Agency.parent_code.is_(None)).order_by(Agency.code)
    if supervised is not None:
        stmt = stmt.where(Agency.code.in_(sorted(supervised)))
    agencies = [Option(a.code, a.name_id, a.name_en) for a in session.scalars(stmt)]
    return services, agencies
