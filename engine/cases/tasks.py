"""User tasks: the inbox, claiming, and completing a task with its form's data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    CompoundSelect,
    Select,
    and_,
    bindparam,
    false,
    func,
    literal,
    not_,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.orm import Session

from engine.bpmn import compile as spiff
from engine.cases import assignment as routing
from engine.cases import hotsql as hotsql
from engine.cases import inbox as inbox
from engine.cases.access import visible_tasks
from engine.cases.steps import StepRecord, record_step
from engine.directory.actors import Actor
from engine.errors import (
    InvalidInput,
    TaskAlreadyCompleted,
    TaskClaimedByOther,
    TaskNotForYourRole,
    TaskNotFound,
)
from engine.models import Case, CaseEvent, OpenTask
from engine.runtime import CaseHead, Runtime
from forms.numbers import check_numbers
from forms.validation import validate

# The form of a task that names none (a manual or plain task): nothing to fill in, only "done".
# It takes no data, so completing such a task cannot write into the case.
EMPTY_FORM: dict[str, Any] = {"type": "object", "properties": {}, "additionalProperties": False}


def form_schemas(compiled: spiff.CompiledProcess, meta: spiff.TaskMeta | None,
                 ) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """Return a task's form schema and UI schema; a task without a form gets the empty form."""
    if meta is None:
        return None, None
    if not meta.form:
        return dict(EMPTY_FORM), None
    ui = compiled.form(f"forms/{meta.ui_form}") if meta.ui_form else None
    return compiled.form(f"forms/{meta.form}"), ui


@dataclass(frozen=True)
class TaskDetail:
    """An open task with what its form needs: schema, UI schema and the case data."""

    task: OpenTask
    case: Case
    schema: dict[str, Any] | None
    ui_schema: dict[str, Any] | None
    sla_days: int | None


def inbox_query(
    actor: Actor, *, process_key: str | None = None, role: str | None = None, overdue: bool | None = None,
    claimed: bool | None = None, now: datetime | None = None, case_id: int | None = None,
) -> Select[OpenTask]:
    """Build the plain query of open tasks an actor may work on, with filters, in the inbox's order.

    It reads and sorts every matching task: the pages come from `inbox.inbox_page`, which returns the
    same rows in the same order; this query is its reference and serves whole-set reads (counts per role).
    """
    filters = inbox.Filters(process_key=process_key, role=role, overdue=overdue, claimed=claimed, case_id=case_id,
                            now=now)
    stmt = inbox.filtered(select(OpenTask).where(visible_tasks(actor)), filters)
    return stmt.order_by(OpenTask.due_at.is_(None), OpenTask.due_at, OpenTask.created_at, OpenTask.id)


def list_tasks(
    session: Session, *, actor: Actor, limit: int = 50, offset: int = 0, **filters: Any,
) -> tuple[list[OpenTask], int]:
    """Return a page of the actor's open tasks and the total, counted up to `inbox.CAP` (see `inbox.inbox_page`)."""
    page = inbox.inbox_page(session, actor=actor, filters=inbox.Filters(**filters), limit=limit, offset=offset)
    return page.rows, page.total


@dataclass(frozen=True)
class QueueCount:
    """One work queue of an officer: a role in an agency, with its open and overdue tasks.

    Counts stop past `inbox.CAP`: CAP + 1 with `capped` (open) or `overdue_capped` mean "more than CAP".
    """

    role: str
    agency: str
    total: int
    overdue: int
    capped: bool = False
    overdue_capped: bool = False


def queue_counts(session: Session, *, actor: Actor, now: datetime) -> list[QueueCount]:
    """Return the actor's queues (per role) with open and overdue counts, queues with overdue work first.

    One statement: each of the inbox's lanes (`inbox.lanes`, less the tasks of the lanes before it that may
    share them, `inbox.lane_roles`, so none is counted twice) gives up to CAP + 1 of its tasks, and up to
    CAP + 1 of its overdue ones, from its index alone: a queue's agency is its role's (`routing.agency_of`,
    as routing gives every task).
    """
    stmt = _queue_counts_query(actor)
    counts: list[QueueCount] = []
    if stmt is not None:
        found: dict[str, list[int]] = {}
        for role, kind, n in session.execute(stmt, {"queue_now": now}):
            found.setdefault(role, [0, 0])[int(kind)] += int(n)
        cap = inbox.CAP
        counts = [QueueCount(role, routing.agency_of(role), min(total, cap + 1), min(overdue, cap + 1), total > cap,
                             overdue > cap) for role, (total, overdue) in found.items()]
    # Every role the actor holds is a queue, even an empty one: "nothing to do" is an answer too.
    shown = {q.role for q in counts}
    counts += [QueueCount(role, routing.agency_of(role), 0, 0) for role in sorted({r for r, _ in actor.memberships})
               if role not in shown and role != routing.APPLICANT_ROLE]
    return sorted(counts, key=lambda q: (-q.overdue, -q.total, q.role, q.agency))


@lru_cache(maxsize=1024)
def _queue_counts_query(actor: Actor) -> CompoundSelect[*tuple[Any, ...]] | None:
    """The statement of `queue_counts` (None: no lanes), built once per actor; the time is its `queue_now` parameter.

    Building it, and the key SQLAlchemy finds its compiled form by, cost more client CPU than running it.
    """
    conds, roles = inbox.lanes(actor), inbox.lane_roles(actor)
    if not conds:
        return None
    late = and_(OpenTask.due_at.is_not(None), OpenTask.due_at < bindparam("queue_now", type_=OpenTask.due_at.type))
    parts = []
    for n, cond in enumerate(conds):
        # Only the lanes before it that may share its tasks (not limited to another role): fewer terms to plan.
        before = [c for c, role in zip(conds[:n], roles[:n], strict=True)
                  if role is None or roles[n] is None or role == roles[n]]
        # COALESCE: an escalated lane's condition is NULL, not false, on a task escalated to no one.
        own = and_(cond, not_(func.coalesce(or_(*before), false()))) if before else cond
        for kind in (0, 1):
            lane = select(OpenTask.role).where(own, *([late] if kind else [])).limit(inbox.CAP + 1).subquery()
            parts.append(select(lane.c.role, literal(kind).label("kind"), func.count()).group_by(lane.c.role))
    return union_all(*parts)


def _task_for(session: Session, task_id: str, actor: Actor) -> tuple[OpenTask, Case]:
    task = session.get(OpenTask, task_id)
    if task is None:
        raise _missing(session, task_id)
    case = session.get(Case, task.case_id)
    assert case is not None  # noqa: S101 - the foreign key guarantees it
    _authorize(_AuthRow(task.role, task.bound_org, task.assignee_id, case.applicant_id, case.filed_by_id,
                        task.escalated_to), actor)
    return task, case


@dataclass(frozen=True)
class _AuthRow:
    role: str
    bound_org: str | None
    assignee_id: int | None
    applicant_id: int | None
    filed_by_id: int | None
    escalated_to: str | None = None


def get_task(session: Session, *, rt: Runtime, task_id: str, actor: Actor) -> TaskDetail:
    """Return an open task the actor may work on, with its form."""
    task, case = _task_for(session, task_id, actor)
    compiled = rt.specs.get(session, case.process_version_id)
    meta = compiled.by_element.get(task.element_id)
    schema, ui = form_schemas(compiled, meta)
    return TaskDetail(task, case, schema, ui, meta.sla_days if meta else None)


def claim_task(session: Session, *, rt: Runtime, task_id: str, actor: Actor) -> OpenTask:
    """Claim an unclaimed task for the actor; a task claimed by someone else is a conflict."""
    task, _case = _task_for(session, task_id, actor)
    if task.assignee_id == actor.user_id:
        return task
    now = rt.clock()
    result = session.execute(update(OpenTask).where(OpenTask.id == task_id, OpenTask.assignee_id.is_(None))
                             .values(assignee_id=actor.user_id, claimed_at=now)
                             .execution_options(synchronize_session=False))
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise TaskClaimedByOther("another officer has claimed this task")
    session.refresh(task)
    _audit(session, rt, task, actor, "claimed")
    return task


def unclaim_task(session: Session, *, rt: Runtime, task_id: str, actor: Actor) -> OpenTask:
    """Release a task the actor claimed (an admin may release anyone's)."""
    task = session.get(OpenTask, task_id)
    if task is None:
        raise TaskNotFound(f"task {task_id} is not open")
    if task.assignee_id != actor.user_id and actor.platform_role != "admin":
        raise TaskNotForYourRole("only the officer who claimed the task can release it")
    task.assignee_id, task.claimed_at = None, None
    session.flush()
    _audit(session, rt, task, actor, "unclaimed")
    return task


def _audit(session: Session, rt: Runtime, task: OpenTask, actor: Actor, action: str) -> None:
    session.add(CaseEvent(case_id=task.case_id, at=rt.clock(), actor=actor.username, action=action,
                          task_id=task.id, element_id=task.element_id, label=task.name, diff=None))
    session.flush()


def _missing(session: Session, task_id: str) -> Exception:
    done = session.scalar(select(CaseEvent.case_id).where(CaseEvent.task_id == task_id,
                                                          CaseEvent.action == "completed").limit(1))
    if done is not None:
        return TaskAlreadyCompleted("this task has already been completed")
    return TaskNotFound(f"task {task_id} is not open")


def _authorize(row: Any, actor: Actor) -> None:
    applicant = row.applicant_id if row.applicant_id is not None else row.filed_by_id
    kwargs = {"task_role": row.role, "task_bound_org": row.bound_org, "user_id": actor.user_id or -1,
              "memberships": set(actor.memberships), "applicant_id": applicant,
              "task_escalated_to": getattr(row, "escalated_to", None)}
    if routing.may_work_on(task_assignee=row.assignee_id, **kwargs):
        return
    if row.assignee_id is not None and routing.may_work_on(task_assignee=None, **kwargs):
        raise TaskClaimedByOther("another officer has claimed this task")
    raise TaskNotForYourRole("this task belongs to a role you do not hold")


@dataclass(frozen=True)
class Completed:
    """The outcome of completing a task: its case and the case's new status."""

    case_id: int
    status: str


def complete_task(session: Session, *, rt: Runtime, task_id: str, actor: Actor, data: dict[str, Any],
                  claim: bool = False) -> Completed:
    """Complete an open task with data valid for its form; return its case and the case's status.

    With `claim`, an unclaimed task is claimed for the actor as part of the step (history: claimed, then
    completed), so the task's span keeps who took it and when. The claim is written with the step's own
    rows (`StepRecord.claimed_by`), not as an update of the task row before them: the row leaves the open
    tasks in the same step anyway, and on PostgreSQL the step's writes stay one statement. Another officer's
    claim or completion in between fails the step as the separate update did (engine.runtime.Runtime.save_state).
    """
    if not isinstance(data, dict):
        raise InvalidInput("task data must be an object")
    row = hotsql.fetch_one(session, "task_context", {"tid": task_id})
    if row is None:
        raise _missing(session, task_id)
    _authorize(row, actor)
    compiled = rt.specs.get(session, row.process_version_id)
    meta = compiled.by_element.get(row.element_id)
    check_numbers(data)  # before the schema: jsonschema fails on infinities and on integers no double holds
    clean = validate(form_schemas(compiled, meta)[0], data)
    loaded = rt.load_case(session, row.id, CaseHead.of(row))
    if task_id not in loaded.open_before:
        raise TaskAlreadyCompleted("this task has already been completed")
    before = loaded.workflow.data()
    result = rt.runner.complete(loaded.workflow, task_id, clean)
    # After validation and the step: a refused form writes nothing, and SQLite's write lock is taken only now.
    claimer = actor.user_id if claim and row.assignee_id is None else None
    record_step(session, rt, loaded, result=result, before=before,
                record=StepRecord(actor.username, "completed", task_id=task_id, element_id=row.element_id,
                                  label=row.name, claimed_by=claimer), context=row)
    return Completed(row.id, loaded.row.status)
