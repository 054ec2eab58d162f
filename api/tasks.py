"""Tasks: the caller's inbox, one task with its form, claim, unclaim, complete."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

from api.deps import CurrentActor, RuntimeDep, SessionDep
from api.routing import router
from api.schemas import TaskComplete, TaskCompleted, TaskDetailRead, TaskPage, TaskRead
from engine.cases import tasks as tasks

routes = router(tags=["tasks"])
TaskId = Annotated[str, Path(pattern=r"^[0-9a-f-]{36}$")]


@routes.get("/api/tasks", response_model=TaskPage)
def inbox(
    actor: CurrentActor, session: SessionDep, rt: RuntimeDep,
    process_key: Annotated[str | None, Query(max_length=120)] = None,
    role: Annotated[str | None, Query(max_length=130)] = None,
    overdue: bool | None = None,
    claimed: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> TaskPage:
    """List the open tasks the caller may work on: overdue first, then by due date."""
    rows, total = tasks.list_tasks(session, actor=actor, limit=limit, offset=offset, process_key=process_key,
                                   role=role, overdue=overdue, claimed=claimed, now=rt.clock())
    return TaskPage(items=[TaskRead.model_validate(t) for t in rows], total=total, limit=limit, offset=offset)


@routes.get("/api/tasks/{task_id}", response_model=TaskDetailRead)
def read(task_id: TaskId, actor: CurrentActor, session: SessionDep, rt: RuntimeDep) -> TaskDetailRead:
    """Return an open task the caller may work on, with its form and the case data."""
    detail = tasks.get_task(session, rt=rt, task_id=task_id, actor=actor)
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
    """Complete a task with its form's data; the case moves on."""
    done = tasks.complete_task(session, rt=rt, task_id=task_id, actor=actor, data=body.data)
    return TaskCompleted(task_id=task_id, case_id=done.case_id, case_status=done.status)
