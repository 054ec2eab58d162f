"""Record one step of a case: its state, its read models, its timers and its history, together."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, insert, update
from sqlalchemy.orm import Session

from engine import directory, routing, spiff
from engine.models import CaseEvent, Incident, Job, OpenTask
from engine.runtime import LoadedCase, Runtime
from engine.routing import RoutingError
from forms.validation import FieldError, FormInvalid


@dataclass(frozen=True)
class StepRecord:
    """What happened in this step, for the case history."""

    actor: str
    action: str
    task_id: str | None = None
    element_id: str | None = None
    label: str | None = None
    diff: dict[str, Any] | None = None


def data_diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """Return the keys that were added, changed or removed between two data snapshots."""
    changed = {k: v for k, v in after.items() if k not in before or before[k] != v}
    removed = sorted(k for k in before if k not in after)
    return {"set": changed, "removed": removed} if removed else {"set": changed}


def _jsonable(data: dict[str, Any]) -> dict[str, Any]:
    import json

    from engine.state import _dumps

    loaded = json.loads(_dumps(data))
    return loaded if isinstance(loaded, dict) else {}


def _route(session: Session, loaded: LoadedCase, task: spiff.ReadyTask, user_ids: dict[str, int]) -> OpenTask:
    meta = task.meta
    try:
        where = routing.route(role=meta.role, bind_organisation=meta.bind_organisation, bind_user=meta.bind_user,
                              data=task.data,
                              organisation_exists=lambda code, mk: directory.organisation_exists(session, code, mk))
    except RoutingError as exc:
        field = exc.field or "(form)"
        raise FormInvalid([FieldError(field, "routing", f"Tidak dapat meneruskan tugas: {exc}",
                                      f"Cannot route the task: {exc}")]) from exc
    assignee = None
    if where.assignee is not None:
        assignee = user_ids.get(where.assignee) or directory.get_user(session, where.assignee).id
    return OpenTask(id=task.task_id, case_id=loaded.row.id, process_key=loaded.row.process_key,
                    element_id=meta.element_id, name=meta.name, lane=meta.lane, role=where.role,
                    agency=where.agency, bound_org=where.bound_org, assignee_id=assignee)


def _sync_tasks(session: Session, rt: Runtime, loaded: LoadedCase, now: datetime) -> list[spiff.ReadyTask]:
    ready = rt.ready_tasks(loaded)
    open_now = {t.task_id for t in ready}
    gone = loaded.open_before - open_now
    if gone:
        session.execute(delete(OpenTask).where(OpenTask.id.in_(gone)).execution_options(synchronize_session=False))
    rows = []
    for task in ready:
        if task.task_id in loaded.open_before:
            continue
        row = _route(session, loaded, task, {})
        due = rt.calendar.due_at(now, task.meta.sla_days) if task.meta.sla_days else None
        rows.append({c: getattr(row, c) for c in ("id", "case_id", "process_key", "element_id", "name", "lane",
                                                    "role", "agency", "bound_org", "assignee_id")}
                    | {"created_at": now, "due_at": due, "overdue": False})
    if rows:
        session.execute(insert(OpenTask), rows)
    loaded.open_before = open_now
    return ready


def _due(timer: spiff.PendingTimer, now: datetime) -> datetime:
    """Place a timer on the engine's clock.

    SpiffWorkflow computes a duration's due time from the wall clock when the timer starts
    (this very step); re-anchoring that duration on the engine's clock keeps jobs, SLAs and
    tests on one notion of now. Absolute dates stay as they are.
    """
    if not timer.relative:
        return timer.due_at
    return now + (timer.due_at - datetime.now(UTC))


def _sync_timers(session: Session, loaded: LoadedCase, now: datetime) -> None:
    timers = {t.task_id: t for t in spiff.pending_timers(loaded.workflow)}
    gone = set(loaded.timers_before) - set(timers)
    if gone:
        session.execute(delete(Job).where(Job.kind == "timer", Job.case_id == loaded.row.id,
                                          Job.task_id.in_(gone), Job.status == "pending"))
    new = [t for tid, t in timers.items() if tid not in loaded.timers_before]
    if new:
        session.execute(insert(Job), [
            {"kind": "timer", "case_id": loaded.row.id, "task_id": t.task_id, "due_at": _due(t, now),
             "status": "pending", "attempts": 0, "created_at": now} for t in new])
    changed = [t for tid, t in timers.items() if tid in loaded.timers_before and
               loaded.timers_before[tid].due_at != t.due_at]
    for t in changed:  # cycle timers move their next due time
        session.execute(update(Job).where(Job.kind == "timer", Job.case_id == loaded.row.id,
                                          Job.task_id == t.task_id).values(due_at=_due(t, now), status="pending"))
    loaded.timers_before = timers


def _status(loaded: LoadedCase, ready: list[spiff.ReadyTask], incident: bool) -> dict[str, Any]:
    workflow = loaded.workflow
    if incident:
        return {"status": "incident"}
    if spiff.is_finished(workflow):
        outcome = spiff.end_event_reached(workflow)
        return {"status": "completed", "outcome": outcome, "stage_id": outcome or "Selesai",
                "stage_en": outcome or "Finished"}
    if ready:
        first = ready[0].meta
        return {"status": "running", "stage_id": first.stage or first.name,
                "stage_en": first.stage_en or first.stage or first.name}
    return {"status": "running", "stage_id": "Menunggu", "stage_en": "Waiting"}


def record_step(
    session: Session, rt: Runtime, loaded: LoadedCase, *, result: spiff.RunResult, record: StepRecord,
    before: dict[str, Any],
) -> int:
    """Persist the step: state, open tasks, timers, status, history and any incident; return the new version."""
    now = rt.clock()
    incident = result.error_element is not None
    ready = _sync_tasks(session, rt, loaded, now) if not incident else rt.ready_tasks(loaded)
    if not incident:
        _sync_timers(session, loaded, now)
    after = _jsonable(spiff.case_data(loaded.workflow))
    values = _status(loaded, ready, incident) | {"data": after}
    if values["status"] == "completed":
        values["completed_at"] = now
    version = rt.save_state(session, loaded, values)
    diff = record.diff if record.diff is not None else data_diff(before, after)
    events = [{"case_id": loaded.row.id, "at": now, "actor": record.actor, "action": record.action,
               "task_id": record.task_id, "element_id": record.element_id, "label": record.label, "diff": diff}]
    if incident:
        session.add(Incident(case_id=loaded.row.id, element_id=result.error_element or "",
                             message=result.error_message or "", created_at=now))
        events.append({"case_id": loaded.row.id, "at": now, "actor": "system", "action": "incident",
                       "task_id": None, "element_id": result.error_element, "label": result.error_message,
                       "diff": None})
    elif values["status"] == "completed":
        events.append({"case_id": loaded.row.id, "at": now, "actor": "system", "action": "completed",
                       "task_id": None, "element_id": None, "label": values.get("outcome"), "diff": None})
    session.execute(insert(CaseEvent), events)
    return version
