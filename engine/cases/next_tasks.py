"""The next tasks of one case for the actor who just moved it: what their client works on next, without the inbox.

A start or a completion answers with them, so a client that continues with the same case needs
no inbox read to find its next task. Only the case's own open tasks are read (one query by
`case_id`), and each is checked with `routing.may_work_on`, the rule `access.visible_tasks`
mirrors for the inbox.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from engine.cases import assignment as routing
from engine.cases import hotsql as hotsql
from engine.directory.actors import Actor


@dataclass(frozen=True)
class NextTask:
    """An open task of the case the actor may work on now."""

    id: str
    case_id: int
    element_id: str
    name: str
    role: str
    due_at: datetime | None


def next_tasks(session: Session, *, case_id: int, actor: Actor) -> list[NextTask]:
    """Return the case's open tasks the actor may work on now, oldest first."""
    if actor.user_id is None:
        return []
    return of_rows(open_rows(session, case_id), case_id=case_id, actor=actor)


def open_rows(session: Session, case_id: int) -> list[Any]:
    """Return the case's open tasks, oldest first, with what `may_work` and `tracking.next_steps` read of each."""
    return hotsql.read_all(session, "open_steps", {"case_id": case_id})


def of_rows(rows: list[Any], *, case_id: int, actor: Actor) -> list[NextTask]:
    """Return the tasks among the case's open rows (`open_rows`) the actor may work on now."""
    if actor.user_id is None:
        return []
    memberships = set(actor.memberships)
    return [NextTask(row.id, case_id, row.element_id, row.name, row.role, hotsql.read_time(row.due_at)) for row in rows
            if may_work(actor.user_id, memberships, row, applicant_id=row.applicant_id, filed_by_id=row.filed_by_id)]


def may_work(user_id: int, memberships: set[tuple[str, str]], task: Any, *, applicant_id: int | None,
             filed_by_id: int | None) -> bool:
    """Tell whether a user may work on a task (an OpenTask or a row with its columns) of a case with this applicant.

    `routing.may_work_on` for one task read with its case's applicant and filer (the filer acts for a
    walk-in applicant); the case's inbox page (`inbox._case_page`) keeps its tasks by the same rule.
    """
    return routing.may_work_on(task_role=task.role, task_bound_org=task.bound_org, task_assignee=task.assignee_id,
                               user_id=user_id, memberships=memberships,
                               applicant_id=applicant_id if applicant_id is not None else filed_by_id,
                               task_escalated_to=task.escalated_to)
