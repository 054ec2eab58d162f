"""Shapes of tasks: the inbox, a task with its form, completing it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from api.schemas.common import Model


class TaskRead(Model):
    id: str
    case_id: int
    process_key: str
    element_id: str
    name: str
    lane: str | None
    role: str
    agency: str
    bound_org: str | None
    assignee_id: int | None
    claimed_at: datetime | None
    created_at: datetime
    due_at: datetime | None
    overdue: bool
    escalated_to: str | None = Field(default=None, description="the supervisor role an overdue task went to")
    escalated_at: datetime | None = None


class TaskPage(Model):
    items: list[TaskRead]
    total: int = Field(description="matching tasks, exact up to 1,000; 1001 with total_capped: more than 1,000")
    total_capped: bool = Field(default=False, description="more than 1,000 tasks match")
    limit: int
    offset: int
    next_cursor: str | None = Field(default=None, description="pass as `cursor` for the next page; null on the last")


class TaskDetailRead(Model):
    task: TaskRead
    tracking_number: str
    form_schema: dict[str, Any] | None
    ui_schema: dict[str, Any] | None
    case_data: dict[str, Any]


class TaskComplete(Model):
    data: dict[str, Any] = Field(default_factory=dict)


class NextStepRead(Model):
    """An open step of the case after the completion: where the case went."""

    name: str
    name_en: str
    role: str
    agency: str
    agency_name: str
    agency_name_en: str


class NextTaskRead(Model):
    """An open task of the case the caller may work on now: complete it without reading the inbox."""

    id: str
    case_id: int
    element_id: str
    name: str
    role: str
    due_at: datetime | None
    form: str = Field(description="where the task's form and the case data are read: GET /api/tasks/{id}")


def next_task_reads(found: list[Any]) -> list[NextTaskRead]:
    """Shape the engine's next tasks (engine.cases.next_tasks.NextTask) with the link to each task's form."""
    return [NextTaskRead(id=t.id, case_id=t.case_id, element_id=t.element_id, name=t.name, role=t.role,
                         due_at=t.due_at, form=f"/api/tasks/{t.id}") for t in found]


class TaskCompleted(Model):
    task_id: str
    case_id: int
    case_status: str
    next_steps: list[NextStepRead] = Field(default_factory=list, description="the case's open steps now; "
                                           "none when the case ended")
    next_tasks: list[NextTaskRead] = Field(default_factory=list, description=(
        "the case's open tasks the caller may work on now (other roles' tasks are not listed: their "
        "officers find them with GET /api/tasks?case_id=)"))
