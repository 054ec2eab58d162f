"""Supervision: an agency's supervisor (or an admin) reassigns a claimed task, releases it, reads any task.

Every reassignment and release names a reason; it goes into the case's history and the audit log.
Only officers holding the task's role (in its bound organisation, when it has one) may receive it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, select, update
from sqlalchemy import case as sql_case
from sqlalchemy.orm import Session

from engine.cases import tasks as tasks
from engine.cases.access import may_supervise
from engine.cases.assignment import APPLICANT_ROLE
from engine.directory import audit as audit
from engine.directory.actors import Actor
from engine.errors import CaseConflict, InvalidInput, TaskNotForYourRole, TaskNotFound
from engine.models import Case, CaseEvent, Membership, OpenTask, Role, User
from engine.runtime import Runtime

REASON_MAX = 500


class NotEligible(InvalidInput):
    """The chosen officer does not hold the task's role (in its organisation), or is not an active officer."""


@dataclass(frozen=True)
class Officer:
    """An officer a task may go to."""

    user_id: int
    username: str
    display_name: str


@dataclass(frozen=True)
class Workload:
    """One officer's open claimed tasks in the agencies a supervisor oversees."""

    user_id: int
    username: str
    display_name: str
    claimed: int
    overdue: int
    oldest_claim: datetime | None


def _supervised_task(session: Session, task_id: str, actor: Actor) -> OpenTask:
    task = session.get(OpenTask, task_id)
    if task is None:
        raise TaskNotFound(f"task {task_id} is not open")
    if not may_supervise(actor, task.agency):
        raise TaskNotForYourRole("only the supervisors of the task's agency and admins may do this")
    return task


def view_task(session: Session, *, rt: Runtime, task_id: str, actor: Actor) -> tasks.TaskDetail:
    """Return any open task of an agency the actor oversees, to read (not to complete)."""
    task = _supervised_task(session, task_id, actor)
    case = session.get(Case, task.case_id)
    assert case is not None  # noqa: S101 - the foreign key guarantees it
    compiled = rt.specs.get(session, case.process_version_id)
    meta = compiled.by_element.get(task.element_id)
    schema, ui = tasks.form_schemas(compiled, meta)
    return tasks.TaskDetail(task, case, schema, ui, meta.sla_days if meta else None)


def supervised_task(session: Session, *, task_id: str, actor: Actor) -> OpenTask:
    """Return an open task the actor oversees, or raise TaskNotFound / TaskNotForYourRole."""
    return _supervised_task(session, task_id, actor)


def eligible_officers(session: Session, *, task: OpenTask) -> list[Officer]:
    """Return the active officers who hold the task's role (in its bound organisation), by name."""
    stmt = (select(User.id, User.username, User.display_name).join(Membership, Membership.user_id == User.id)
            .where(Membership.role_key == task.role, User.active.is_(True), User.platform_role == "officer"))
    if task.bound_org:
        stmt = stmt.where(Membership.organisation_code == task.bound_org)
    rows = session.execute(stmt.distinct().order_by(User.display_name, User.username))
    return [Officer(*row) for row in rows]


def _reason(reason: str) -> str:
    text = " ".join((reason or "").split())
    if not text:
        raise InvalidInput("give a reason", message_id="isi alasannya")
    return text[:REASON_MAX]


def _record(session: Session, rt: Runtime, task: OpenTask, actor: Actor, action: str, label: str,
            detail: dict[str, object]) -> None:
    session.add(CaseEvent(case_id=task.case_id, at=rt.clock(), actor=actor.username, action=action,
                          task_id=task.id, element_id=task.element_id, label=label[:255], diff=None))
    audit.record(session, actor=actor.username, action=f"task.{action}", subject=f"task:{task.id}",
                 detail={"case_id": task.case_id, "task": task.name, **detail})


def _username(session: Session, user_id: int | None) -> str | None:
    return session.scalar(select(User.username).where(User.id == user_id)) if user_id is not None else None


def _move(session: Session, task: OpenTask, *, frm: int | None, to: int | None, now: datetime | None) -> None:
    # Compare-and-set on the claimant: a claim or release that happened meanwhile is a conflict, not lost.
    claimed = OpenTask.assignee_id.is_(None) if frm is None else OpenTask.assignee_id == frm
    result = session.execute(update(OpenTask).where(OpenTask.id == task.id, claimed)
                             .values(assignee_id=to, claimed_at=now).execution_options(synchronize_session=False))
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise CaseConflict("the task changed hands meanwhile; reload and try again")
    session.refresh(task)


def reassign_task(session: Session, *, rt: Runtime, task_id: str, actor: Actor, to: str, reason: str) -> OpenTask:
    """Give an open task to another officer who holds its role, with a reason (supervisors, admins)."""
    task = _supervised_task(session, task_id, actor)
    why = _reason(reason)
    if task.role == APPLICANT_ROLE:
        raise InvalidInput("an applicant's task cannot be reassigned", message_id="tugas pemohon tidak dapat dialihkan")
    target = next((o for o in eligible_officers(session, task=task) if o.username == to), None)
    if target is None:
        raise NotEligible(f"'{to}' does not hold the role {task.role}",
                          message_id=f"'{to}' tidak memegang peran {task.role}")
    previous = _username(session, task.assignee_id)
    if task.assignee_id == target.user_id:
        raise InvalidInput(f"the task is already with {to}", message_id=f"tugas sudah dipegang {to}")
    _move(session, task, frm=task.assignee_id, to=target.user_id, now=rt.clock())
    _record(session, rt, task, actor, "reassigned", f"{previous or '—'} → {to}: {why}",
            {"from": previous, "to": to, "reason": why})
    return task


def release_task(session: Session, *, rt: Runtime, task_id: str, actor: Actor, reason: str) -> OpenTask:
    """Put a claimed task back in its role's pool, with a reason (supervisors, admins)."""
    task = _supervised_task(session, task_id, actor)
    why = _reason(reason)
    if task.assignee_id is None:
        raise InvalidInput("the task is not claimed", message_id="tugas belum diambil siapa pun")
    previous = _username(session, task.assignee_id)
    _move(session, task, frm=task.assignee_id, to=None, now=None)
    _record(session, rt, task, actor, "released", f"{previous}: {why}", {"from": previous, "reason": why})
    return task


def workload(session: Session, *, agencies: frozenset[str], now: datetime) -> list[Workload]:
    """Return, per officer holding a role of these agencies, their open claimed tasks there and how many are late."""
    if not agencies:
        return []
    codes = sorted(agencies)
    late = sql_case((and_(OpenTask.due_at.is_not(None), OpenTask.due_at < now), 1), else_=0)
    staff = (select(Membership.user_id).join(Role, Role.key == Membership.role_key)
             .where(Role.agency_code.in_(codes)))
    counts = (select(OpenTask.assignee_id.label("uid"), func.count().label("n"), func.sum(late).label("late"),
                     func.min(OpenTask.claimed_at).label("oldest"))
              .where(OpenTask.agency.in_(codes), OpenTask.assignee_id.is_not(None))
              .group_by(OpenTask.assignee_id).subquery())
    rows = session.execute(
        select(User.id, User.username, User.display_name, func.coalesce(counts.c.n, 0),
               func.coalesce(counts.c.late, 0), counts.c.oldest)
        .outerjoin(counts, counts.c.uid == User.id)
        .where(User.platform_role == "officer", User.active.is_(True),
               User.id.in_(staff) | counts.c.uid.is_not(None))
        .order_by(func.coalesce(counts.c.late, 0).desc(), func.coalesce(counts.c.n, 0).desc(), User.username))
    return [Workload(uid, name, display, int(n), int(overdue), oldest)
            for uid, name, display, n, overdue, oldest in rows]

