"""Tasks: the caller's inbox, one task with its form, claim, unclaim, complete; supervisors' reassign and release."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Path, Query
from pydantic import Field

from api.deps import CurrentActor, RuntimeDep, SessionDep
from api.errors import FORBIDDEN, ApiError
from api.routing import router
from api.schemas import Model, NextStepRead, TaskComplete, TaskCompleted, TaskDetailRead, TaskPage, TaskRead
from api.schemas.tasks import next_task_reads
from engine.cases import access as access
from engine.cases import assign as assign
from engine.cases import inbox as inbox_pages
from engine.cases import tasks as tasks
from engine.cases import tracking as tracking
from engine.documents import filestore as filestore
from engine.privacy import access as privacy
from web.privacy import AccessClient

routes = router(tags=["tasks"])
TaskId = Annotated[str, Path(pattern=r"^[0-9a-f-]{36}$")]


@routes.get("/api/tasks", response_model=TaskPage)
def inbox(
    actor: CurrentActor, session: SessionDep, rt: RuntimeDep,
    process_key: Annotated[str | None, Query(max_length=120)] = None,
    role: Annotated[str | None, Query(max_length=130)] = None,
    overdue: bool | None = None,
    claimed: bool | None = None,
    case_id: Annotated[int | None, Query(ge=1, le=2**31 - 1, description="only this case's tasks")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000, description="rows to skip (after `cursor`, if given)")] = 0,
    cursor: Annotated[str | None, Query(max_length=400, description="`next_cursor` of the page before")] = None,
) -> TaskPage:
    """List the open tasks the caller may work on: overdue first, then by due date; page on with `next_cursor`."""
    filters = inbox_pages.Filters(process_key=process_key, role=role, overdue=overdue, claimed=claimed,
                                  case_id=case_id, now=rt.clock())
    page = inbox_pages.inbox_page(session, actor=actor, filters=filters, limit=limit, offset=offset, cursor=cursor)
    return TaskPage(items=[TaskRead.model_validate(t) for t in page.rows], total=page.total,
                    total_capped=page.capped, limit=limit, offset=offset, next_cursor=page.next_cursor)


@routes.get("/api/tasks/{task_id}", response_model=TaskDetailRead)
def read(task_id: TaskId, actor: CurrentActor, session: SessionDep, rt: RuntimeDep,
         client: AccessClient) -> TaskDetailRead:
    """Return an open task the caller may work on, with its form and the case data in full (recorded)."""
    detail = tasks.get_task(session, rt=rt, task_id=task_id, actor=actor)
    if privacy.holds_personal(detail.case.data, privacy.classified(session, detail.case, rt=rt)):
        privacy.record_view(session, actor=actor, case=detail.case, how=privacy.TASK, client=client, task=detail.task)
    return TaskDetailRead(task=TaskRead.model_validate(detail.task), tracking_number=detail.case.tracking_number,
                          form_schema=detail.schema, ui_schema=detail.ui_schema, case_data=detail.case.data)


@routes.post("/api/tasks/{task_id}/claim", response_model=TaskRead)
def claim(task_id: TaskId, actor: CurrentActor, session: SessionDep, rt: RuntimeDep) -> TaskRead:
    """Claim a task so that no other officer works on it."""
    return TaskRead.model_validate(tasks.claim_task(session, rt=rt, task_id=task_id, actor=actor))


@routes.post("/api/tasks/{task_id}/unclaim", response_model=TaskRead)
def unclaim(task_id: TaskId, actor: CurrentActor, session: SessionDep, rt: RuntimeDep) -> TaskRead:
    """Release a task the caller claimed."""
    return TaskRead.model_validate(tasks.unclaim_task(session, rt=rt, task_id=task_id, actor=actor))


@routes.post("/api/tasks/{task_id}/complete", response_model=TaskCompleted)
def complete(task_id: TaskId, body: TaskComplete, actor: CurrentActor, session: SessionDep,
             rt: RuntimeDep) -> TaskCompleted:
    """Complete a task with its form's data (claiming it when unclaimed); answer the caller's next tasks of the case."""
    done = tasks.complete_task(session, rt=rt, task_id=task_id, actor=actor, data=body.data, claim=True)
    # Files the form references (POST /api/files) become readable by the case's officers.
    filestore.link_case_files(session, case_id=done.case_id, data=body.data, actor=actor)
    open_steps, next_mine = tracking.after_step(session, case_id=done.case_id, actor=actor, rt=rt)
    steps = [NextStepRead(name=st.name_id, name_en=st.name_en, role=st.role, agency=st.agency_code,
                          agency_name=st.agency_id, agency_name_en=st.agency_en) for st in open_steps]
    mine = next_task_reads(next_mine)
    return TaskCompleted(task_id=task_id, case_id=done.case_id, case_status=done.status, next_steps=steps,
                         next_tasks=mine)


class TaskReassign(Model):
    to: str = Field(min_length=1, max_length=120, description="username of an officer holding the task's role")
    reason: str = Field(min_length=1, max_length=500)


class TaskRelease(Model):
    reason: str = Field(min_length=1, max_length=500)


class WorkloadRead(Model):
    username: str
    display_name: str
    claimed: int
    overdue: int
    oldest_claim: datetime | None


@routes.post("/api/tasks/{task_id}/reassign", response_model=TaskRead)
def reassign(task_id: TaskId, body: TaskReassign, actor: CurrentActor, session: SessionDep, rt: RuntimeDep) -> TaskRead:
    """Give a task to another officer holding its role, with a reason (the agency's supervisors, admins)."""
    return TaskRead.model_validate(assign.reassign_task(session, rt=rt, task_id=task_id, actor=actor, to=body.to,
                                                        reason=body.reason))


@routes.post("/api/tasks/{task_id}/release", response_model=TaskRead)
def release(task_id: TaskId, body: TaskRelease, actor: CurrentActor, session: SessionDep, rt: RuntimeDep) -> TaskRead:
    """Put a claimed task back in its role's pool, with a reason (the agency's supervisors, admins)."""
    return TaskRead.model_validate(assign.release_task(session, rt=rt, task_id=task_id, actor=actor,
                                                       reason=body.reason))


@routes.get("/api/supervision/workload", response_model=list[WorkloadRead])
def workload(actor: CurrentActor, session: SessionDep, rt: RuntimeDep,
             agency: Annotated[str, Query(min_length=1, max_length=64)]) -> list[WorkloadRead]:
    """Return each officer's open claimed tasks (and overdue ones) in an agency (its supervisors, admins)."""
    if not access.may_supervise(actor, agency):
        raise ApiError(FORBIDDEN, "only the agency's supervisors and admins see its workload")
    rows = assign.workload(session, agencies=frozenset([agency]), now=rt.clock())
    return [WorkloadRead.model_validate(w) for w in rows]
