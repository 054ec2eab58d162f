"""Object-level access: which tasks and cases an actor may see, as SQL conditions and checks."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, and_, exists, false, or_, select, true
from sqlalchemy.orm import Session, aliased

from engine.cases import assignment as routing
from engine.directory.actors import Actor
from engine.models import Case, CaseEvent, OpenTask, TaskSpan
from engine.sla.escalation import is_supervisor_role, supervised_agencies

# The counter role: the front office serves whoever walks in, whichever channel they filed through.
COUNTER = "front_office"


_OWN = aliased(Case, name="own_task_case")  # built once: every inbox read and task page asks


def visible_tasks(actor: Actor) -> Any:
    """SQL condition: open tasks the actor may work on: a role they hold (in the bound organisation),
    unclaimed or claimed by them; or their own case's applicant tasks. Mirrors `routing.may_work_on`.
    """
    if actor.user_id is None:
        return false()
    conditions = []
    for role, org in actor.memberships:
        # A supervisor also sees the overdue tasks escalated to their role (engine/sla/escalation.py).
        holds = or_(OpenTask.role == role, OpenTask.escalated_to == role) if is_supervisor_role(role) else (
            OpenTask.role == role)
        conditions.append(and_(holds,
                               or_(OpenTask.bound_org.is_(None), OpenTask.bound_org == org),
                               or_(OpenTask.assignee_id.is_(None), OpenTask.assignee_id == actor.user_id)))
    # A correlated EXISTS on the task's own case, not `case_id IN (all my cases)`: the inbox reads
    # the role's tasks through its index and checks each task's one case (bench/REPORT.md).
    own = _OWN
    own_case = (select(own.id).where(own.id == OpenTask.case_id,
                                     or_(own.applicant_id == actor.user_id,
                                         and_(own.applicant_id.is_(None), own.filed_by_id == actor.user_id)))
                .correlate(OpenTask).exists())
    conditions.append(and_(OpenTask.role == routing.APPLICANT_ROLE, own_case))
    return or_(*conditions)


def counter_agencies(actor: Actor) -> frozenset[str]:
    """Return the agencies whose counter (`<agency>.front_office`, held in the agency itself) the actor staffs."""
    return frozenset(routing.agency_of(role) for role, org in actor.memberships
                     if role == f"{routing.agency_of(role)}.{COUNTER}" and org == routing.agency_of(role))


def agency_tasks(agencies: frozenset[str]) -> Any:
    """SQL condition on OpenTask: the open tasks of these agencies (a supervisor's queue)."""
    return OpenTask.agency.in_(sorted(agencies)) if agencies else false()


def agency_cases(agencies: frozenset[str]) -> Any:
    """SQL condition on Case: cases with a task, open or past, of one of these agencies (point lookups per case)."""
    if not agencies:
        return false()
    codes = sorted(agencies)
    return or_(exists().where(OpenTask.case_id == Case.id, OpenTask.agency.in_(codes)),
               exists().where(TaskSpan.case_id == Case.id, TaskSpan.agency.in_(codes)))


def visible_cases(actor: Actor) -> Any:
    """SQL condition on Case: the cases an actor may read.

    Admins read every case; applicants their own; officers the cases they filed, hold an open
    task of, or acted on, and, as an agency's supervisor (`<agency>.supervisor`) or at its
    counter (`<agency>.front_office`), every case with a task of that agency, open or past;
    analysts (who model processes) none.

    Each officer rule is an EXISTS on the case's own rows (an index lookup per case): right for one
    case and for a text that finds few; a list of an officer's cases walks `case_sources` instead.
    """
    if actor.platform_role == "admin":
        return true()
    if actor.user_id is None:
        return false()
    if actor.platform_role == "applicant":
        return Case.applicant_id == actor.user_id
    if actor.platform_role != "officer":
        return false()
    conditions = [Case.filed_by_id == actor.user_id,
                  exists().where(OpenTask.case_id == Case.id, visible_tasks(actor)),
                  exists().where(CaseEvent.case_id == Case.id, CaseEvent.actor == actor.username)]
    # The front office must find the case of whoever stands at the counter, filed online or not.
    overseen = supervised_agencies(actor) | counter_agencies(actor)
    if overseen:
        conditions.append(agency_cases(overseen))
    return or_(*conditions)


def case_sources(actor: Actor) -> list[Select[int]] | None:
    """Return the officer's sources of readable case ids (together exactly `visible_cases`); None for others.

    Each source selects one case-id column that an index walks in id order, so a page of the
    union costs about a page of each source, however long the officer's history.
    """
    if actor.platform_role != "officer" or actor.user_id is None:
        return None
    me = actor.user_id
    sources: list[Select[int]] = [select(Case.id).where(Case.filed_by_id == me)]
    for role, org in actor.memberships:
        reachable = (or_(OpenTask.bound_org.is_(None), OpenTask.bound_org == org),
                     or_(OpenTask.assignee_id.is_(None), OpenTask.assignee_id == me))
        sources.append(select(OpenTask.case_id).where(OpenTask.role == role, *reachable))
        if is_supervisor_role(role):
            sources.append(select(OpenTask.case_id).where(OpenTask.escalated_to == role, *reachable))
    # Their own application's applicant tasks (visible_tasks); a case they filed is already a source.
    sources.append(select(Case.id).where(Case.applicant_id == me, exists().where(
        OpenTask.case_id == Case.id, OpenTask.role == routing.APPLICANT_ROLE)))
    sources.append(select(CaseEvent.case_id).where(CaseEvent.actor == actor.username))
    for agency in sorted(supervised_agencies(actor) | counter_agencies(actor)):
        sources += [select(OpenTask.case_id).where(OpenTask.agency == agency),
                    select(TaskSpan.case_id).where(TaskSpan.agency == agency)]
    return sources


def may_supervise(actor: Actor, agency: str) -> bool:
    """Tell whether the actor oversees an agency's tasks (reassign, release, read): its supervisors, admins."""
    return actor.platform_role == "admin" or (actor.platform_role == "officer"
                                              and agency in supervised_agencies(actor))


def may_view_case(session: Session, actor: Actor, case_id: int) -> bool:
    """Tell whether the actor may read this case."""
    found = session.scalar(select(Case.id).where(Case.id == case_id, visible_cases(actor)))
    return found is not None


def may_file_for_others(actor: Actor) -> bool:
    """Tell whether the actor may file an application for someone else (front office, admin)."""
    if actor.platform_role == "admin":
        return True
    return actor.platform_role == "officer" and any(role.endswith(".front_office") for role, _ in actor.memberships)


def takes_part_in(session: Session, actor: Actor, case_id: int) -> bool:
    """Tell whether the actor may read the case or holds a role of its process (partner systems)."""
    if may_view_case(session, actor, case_id):
        return True
    from engine.models import ProcessVersion

    roles = session.scalar(select(ProcessVersion.roles).join(Case, Case.process_version_id == ProcessVersion.id)
                           .where(Case.id == case_id))
    return bool(roles) and any(actor.holds(role) for role in roles or [])
