"""Connector calls as seen by people: record each attempt, list a case's calls, sum them up per operation.

One row per attempt (engine.models.ConnectorCall), written in the job's own transaction, so a call
and its effect on the case commit together. Rows carry no body and no secret: only the operation,
outcome, HTTP status, duration and a short reason.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.models import ConnectorCall

OUTCOMES = ("ok", "retry", "refused", "failed", "skipped")
ERRORS = frozenset({"refused", "failed"})
DETAIL_MAX = 300
WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class Attempt:
    """What one attempt of a call was: who it was for, what came of it, how long it took."""

    case_id: int | None
    job_id: int | None
    operation: str
    system: str | None
    attempt: int
    outcome: str
    http_status: int | None
    duration_s: float
    detail: str = ""


def record(session: Session, *, attempt: Attempt, at: datetime) -> ConnectorCall:
    """Record one attempt of a connector call (the detail cut to 300 characters)."""
    if attempt.outcome not in OUTCOMES:
        raise ValueError(f"unknown outcome {attempt.outcome!r}")
    row = ConnectorCall(case_id=attempt.case_id, job_id=attempt.job_id, operation=attempt.operation[:120],
                        system=attempt.system, attempt=attempt.attempt, outcome=attempt.outcome,
                        http_status=attempt.http_status, duration_ms=max(0, round(attempt.duration_s * 1000)),
                        detail=attempt.detail[:DETAIL_MAX], at=at)
    session.add(row)
    session.flush()
    return row


def case_calls(session: Session, case_id: int) -> list[ConnectorCall]:
    """Return a case's connector calls, newest first."""
    return list(session.scalars(select(ConnectorCall).where(ConnectorCall.case_id == case_id)
                                .order_by(ConnectorCall.at.desc(), ConnectorCall.id.desc())))


@dataclass(frozen=True)
class OperationFigures:
    """One operation's calls in a window: how many, how many went wrong or were retried, how long they took."""

    operation: str
    calls: int
    errors: int
    retries: int
    p95_ms: int

    @property
    def error_rate(self) -> float:
        """Return refused and failed attempts over all attempts (0 when there were none)."""
        return self.errors / self.calls if self.calls else 0.0


def p95(values: list[int]) -> int:
    """Return the 95th percentile by nearest rank (0 for no values)."""
    if not values:
        return 0
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def operation_report(session: Session, *, now: datetime, window: timedelta = WINDOW) -> list[OperationFigures]:
    """Sum up the attempts of the last `window` (24 hours) per operation, by name."""
    rows = session.execute(select(ConnectorCall.operation, ConnectorCall.outcome, ConnectorCall.duration_ms)
                           .where(ConnectorCall.at > now - window, ConnectorCall.at <= now))
    by_operation: dict[str, list[tuple[str, int]]] = {}
    for operation, outcome, duration_ms in rows:
        by_operation.setdefault(operation, []).append((outcome, duration_ms))
    return [OperationFigures(operation=name, calls=len(items), errors=sum(o in ERRORS for o, _ in items),
                             retries=sum(o == "retry" for o, _ in items), p95_ms=p95([d for _, d in items]))
            for name, items in sorted(by_operation.items())]
