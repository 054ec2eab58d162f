"""Escalation: an overdue task goes, once, to the supervisor of the agency it belongs to.

Convention: each agency's supervisor is the role `<agency>.supervisor` (e.g. `dpmptsp.supervisor`).
`mpp bootstrap` creates it for every agency that has roles; an administrator can create it and
grant it like any other role. A supervisor membership follows the routing rule of every role:
held in the agency itself it covers all the agency's tasks; held in a provider firm of a
marketplace agency (`konsultan.supervisor` @ `konsultan_griya`) it covers the tasks bound to that
firm. The overdue scan (engine/jobs/service.py) escalates each overdue task once: the task row records
the supervisor role and the time, the case history records an `escalated` event, and from then on
the task is visible to and claimable by the supervisor as well as by its own role.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from engine.cases.assignment import APPLICANT_ROLE, agency_of
from engine.directory.actors import Actor
from engine.models import CaseEvent, OpenTask
from engine.sla import clock as sla_clock

SUPERVISOR = "supervisor"


def supervisor_role(agency: str) -> str:
    """Return the supervisor role of an agency."""
    return f"{agency}.{SUPERVISOR}"


def is_supervisor_role(role: str) -> bool:
    """Tell whether a role key is an agency's supervisor role."""
    return role != APPLICANT_ROLE and role.endswith(f".{SUPERVISOR}")


def supervised_agencies(actor: Actor) -> frozenset[str]:
    """Return the agencies the actor supervises as a whole (supervisor role held in the agency itself)."""
    return frozenset(agency_of(role) for role, org in actor.memberships
                     if is_supervisor_role(role) and org == agency_of(role))


def escalate_overdue(session: Session, *, now: datetime) -> int:
    """Escalate open tasks past their due time to their agency's supervisor, once each; return how many."""
    stmt = select(OpenTask.id, OpenTask.case_id, OpenTask.element_id, OpenTask.role, OpenTask.agency).where(
        OpenTask.escalated_at.is_(None), OpenTask.due_at.is_not(None), OpenTask.due_at < now,
        OpenTask.role != APPLICANT_ROLE, sla_clock.task_clock_runs())
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)  # two scans never escalate one task twice
    # A task already in a supervisor's lane has nobody above it on this platform.
    late = [row for row in session.execute(stmt) if not is_supervisor_role(row.role)]
    if not late:
        return 0
    session.execute(update(OpenTask).where(OpenTask.id.in_([row.id for row in late]))
                    .values(escalated_to=OpenTask.agency + f".{SUPERVISOR}", escalated_at=now)
                    .execution_options(synchronize_session=False))
    session.execute(insert(CaseEvent), [
        {"case_id": row.case_id, "at": now, "actor": "system", "action": "escalated", "task_id": row.id,
         "element_id": row.element_id, "label": supervisor_role(row.agency), "diff": None} for row in late])
    return len(late)
