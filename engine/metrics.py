"""Operational counts read from the database at scrape time: cases, open tasks, jobs, connector calls.

Counting in the database rather than in process memory keeps the numbers right however many API
processes and workers run. Only counts leave this module: no names, ids or case data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, func, select
from sqlalchemy import case as when
from sqlalchemy.orm import Session

from engine.models import Case, ConnectorCall, Job, OpenTask, Role

# Upper bounds (seconds) of the connector call histogram's buckets; +Inf is the count itself.
CALL_BUCKETS_S = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


@dataclass(frozen=True)
class AgencyTasks:
    """Open user tasks routed to one agency's roles, and how many of them are past due."""

    agency: str
    open: int
    overdue: int


@dataclass(frozen=True)
class CallLatency:
    """One operation's connector call durations as a cumulative histogram (counts per CALL_BUCKETS_S bound)."""

    operation: str
    buckets: tuple[int, ...]
    count: int
    sum_s: float


@dataclass(frozen=True)
class Snapshot:
    """What the platform's metrics report about the database at one moment."""

    cases: dict[tuple[str, str], int] = field(default_factory=dict)  # (process_key, status) -> count
    tasks: list[AgencyTasks] = field(default_factory=list)
    jobs: dict[tuple[str, str], int] = field(default_factory=dict)  # (kind, status) -> count
    job_lag_s: float = 0.0
    connector_calls: dict[tuple[str, str], int] = field(default_factory=dict)  # (operation, outcome) -> count
    connector_seconds: list[CallLatency] = field(default_factory=list)


def snapshot(session: Session, *, now: datetime) -> Snapshot:
    """Count cases, open and overdue tasks per agency, jobs, and the lag of the oldest due job."""
    cases = {(key, status): count for key, status, count in session.execute(
        select(Case.process_key, Case.status, func.count()).group_by(Case.process_key, Case.status))}
    jobs = {(kind, status): count for kind, status, count in session.execute(
        select(Job.kind, Job.status, func.count()).group_by(Job.kind, Job.status))}
    calls = {(operation, outcome): count for operation, outcome, count in session.execute(
        select(ConnectorCall.operation, ConnectorCall.outcome, func.count())
        .group_by(ConnectorCall.operation, ConnectorCall.outcome))}
    return Snapshot(cases=cases, tasks=_tasks(session, now=now), jobs=jobs, job_lag_s=job_lag(session, now=now),
                    connector_calls=calls, connector_seconds=connector_latency(session))


def connector_latency(session: Session) -> list[CallLatency]:
    """Bucket every recorded connector call's duration per operation, as a Prometheus histogram counts it."""
    under = [func.sum(when((ConnectorCall.duration_ms <= round(bound * 1000), 1), else_=0))
             for bound in CALL_BUCKETS_S]
    rows = session.execute(select(ConnectorCall.operation, func.count(), func.sum(ConnectorCall.duration_ms), *under)
                           .group_by(ConnectorCall.operation).order_by(ConnectorCall.operation))
    return [CallLatency(operation=row[0], count=int(row[1]), sum_s=int(row[2] or 0) / 1000,
                        buckets=tuple(int(n or 0) for n in row[3:])) for row in rows]


def _tasks(session: Session, *, now: datetime) -> list[AgencyTasks]:
    late = when((and_(OpenTask.due_at.is_not(None), OpenTask.due_at < now), 1), else_=0)
    counts = {agency: (int(n), int(overdue or 0)) for agency, n, overdue in session.execute(
        select(OpenTask.agency, func.count(), func.sum(late)).group_by(OpenTask.agency))}
    # Every agency that has roles gets a series, at zero when idle: a graph shows the drop to zero.
    agencies = set(session.scalars(select(Role.agency_code).distinct())) | set(counts)
    return [AgencyTasks(a, *counts.get(a, (0, 0))) for a in sorted(agencies)]


def job_lag(session: Session, *, now: datetime) -> float:
    """Return the seconds since the oldest job a worker could claim came due (0 when none waits).

    Claimable is what `jobs.claim_due` takes: pending and due, or running past its lease (its
    worker died): the lease's end is when that job came due again.
    """
    pending = session.scalar(select(func.min(Job.due_at)).where(Job.status == "pending", Job.due_at <= now))
    stale = session.scalar(select(func.min(Job.locked_until)).where(Job.status == "running",
                                                                    Job.locked_until < now))
    oldest = min((t for t in (pending, stale) if t is not None), default=None)
    return max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0
