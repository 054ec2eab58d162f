"""Record one step of a case: its state, its read models, its timers and its history, together."""

from __future__ import annotations

import json
import math
import sys
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from engine.bpmn import compile as spiff
from engine.bpmn import outbound as outbound
from engine.bpmn import state as state
from engine.bpmn.instance import StepOutcome
from engine.cases import assignment as routing
from engine.cases import hotsql as hotsql
from engine.cases.assignment import RoutingError
from engine.db import on_commit
from engine.directory import service as directory
from engine.documents import service as documents
from engine.models import Incident, Job
from engine.notify import service as notify
from engine.privacy import lookup as lookup
from engine.privacy.fields import Sealer
from engine.runtime import LoadedCase, Runtime
from engine.sla import clock as sla_clock
from engine.sla import limit as sla_limit
from forms.validation import FieldError, FormInvalid

MAX_INT_DIGITS = sys.get_int_max_str_digits() or sys.maxsize


@dataclass(frozen=True)
class StepRecord:
    """What happened in this step, for the case history."""

    actor: str
    action: str
    task_id: str | None = None
    element_id: str | None = None
    label: str | None = None
    diff: dict[str, Any] | None = None
    # The user who claims `task_id` with this step (a completion that takes an unclaimed task): the task's span
    # gets them and the step's time, and the history a "claimed" event before the step's own.
    claimed_by: int | None = None


def data_diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """Return the keys that were added, changed or removed between two data snapshots."""
    changed = state.changed_items(before, after)
    removed = sorted(k for k in before if k not in after)
    return {"set": changed, "removed": removed} if removed else {"set": changed}


def jsonable(data: dict[str, Any]) -> dict[str, Any]:
    """Return case data as plain JSON values: the read model pages, documents and payloads use.

    Decimals become numbers, dates and times ISO strings; the typed values stay in the
    workflow's own state (engine.bpmn.state), which is what the engine reads back. A number JSON
    cannot hold (a script's infinity or NaN) becomes its text, so the step is still recorded.
    """
    try:
        text = json.dumps(data, default=_plain, separators=(",", ":"), allow_nan=False)
    except ValueError:  # rare: a non-finite float somewhere; the common path stays one dumps
        text = json.dumps(_finite(data), default=_plain, separators=(",", ":"), allow_nan=False)
    loaded = json.loads(text)
    return loaded if isinstance(loaded, dict) else {}


def _finite(value: Any) -> Any:
    """Return the value with every non-finite float replaced by its JSON-like text ("Infinity", "NaN")."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {key: _finite(child) for key, child in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_finite(child) for child in value]
    return value


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return _decimal(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, timedelta):
        return f"P{value.days}DT{value.seconds}S"
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    return str(value)


def _decimal(value: Decimal) -> int | float | str:
    """Return a Decimal as a JSON number when one holds it exactly enough, else as its text."""
    if not value.is_finite():  # Decimal("Infinity"), "NaN" and "sNaN" (which refuses even comparison)
        return str(value)
    if value == value.to_integral_value():
        # Python writes no integer of more digits than its int-to-text limit (4,300 by default).
        return int(value) if value.adjusted() < MAX_INT_DIGITS else str(value)
    number = float(value)
    return number if math.isfinite(number) else str(value)


def is_provider(session: Session, rt: Runtime, code: str, marketplace: str) -> bool:
    """Tell whether `code` is a provider firm registered under the marketplace agency (not the agency itself).

    Filing and every step that routes a task bound to a provider firm ask it. The firm's parent is read
    once per process (`rt.agency_parents`: an agency never changes once created); it is kept when the
    transaction that read it commits, so a firm another transaction may still undo is never remembered.
    """
    if code in rt.agency_parents:
        return rt.agency_parents[code] == marketplace
    found = hotsql.fetch_one(session, "agency_parent", {"code": code})
    if found is None:
        return False
    parent: str | None = found.parent_code
    on_commit(session, partial(rt.agency_parents.__setitem__, code, parent))
    return parent == marketplace


def _route(session: Session, rt: Runtime, loaded: LoadedCase, task: spiff.ReadyTask) -> routing.Route:
    meta = task.meta
    try:
        return routing.route(role=meta.role, bind_organisation=meta.bind_organisation, bind_user=meta.bind_user,
                             data=task.data,
                             organisation_exists=lambda code, mk: is_provider(session, rt, code, mk),
                             bind_agency=meta.bind_agency, role_exists=lambda key: directory.role_exists(session, key))
    except RoutingError as exc:
        field = exc.field or "(form)"
        raise FormInvalid([FieldError(field, "routing", f"Tidak dapat meneruskan tugas: {exc}",
                                      f"Cannot route the task: {exc}")]) from exc


def _new_task_rows(session: Session, rt: Runtime, loaded: LoadedCase, ready: list[spiff.ReadyTask],
                   now: datetime) -> list[dict[str, Any]]:
    """Route the tasks this step opened and return their open-task rows (reads only: routing looks people up)."""
    rows = []
    for task in ready:
        if task.task_id in loaded.open_before:
            continue
        where = _route(session, rt, loaded, task)
        assignee = directory.get_user(session, where.assignee).id if where.assignee else None
        due = rt.calendar.due_at(now, task.meta.sla_days) if task.meta.sla_days else None
        rows.append({"id": task.task_id, "case_id": loaded.row.id, "process_key": loaded.row.process_key,
                     "element_id": task.meta.element_id, "name": task.meta.name, "lane": task.meta.lane,
                     "role": where.role, "agency": where.agency, "bound_org": where.bound_org,
                     "assignee_id": assignee, "created_at": now, "due_at": due, "overdue": False})
    return rows


def _sync_tasks(batch: hotsql.Batch, loaded: LoadedCase, open_now: set[str], rows: list[dict[str, Any]],
                now: datetime, done_task: str | None = None, claimed_by: int | None = None) -> None:
    """Close the open-task rows of tasks no longer open (into task_span), then add the new ones.

    `claimed_by` took `done_task` with this step: its span records them as its assignee, claimed now.
    """
    gone = loaded.open_before - open_now
    batch.close_tasks([{"tid": tid, "now": now, "done": tid == done_task,
                        "uid": claimed_by if tid == done_task else None,
                        "claimed": now if claimed_by is not None and tid == done_task else None}
                       for tid in sorted(gone)])
    batch.add("task_insert", rows)
    loaded.open_before = open_now


@dataclass(frozen=True)
class StepContext:
    """What a step reads of its case besides the workflow, in one statement before it writes."""

    case: notify.StepCase
    pause: sla_clock.Pause | None  # the SLA clock's open pause, None when it runs
    bill_open: bool


def _read_context(session: Session, loaded: LoadedCase, known: Any) -> StepContext:
    """Return the step's context from a row that holds it already (hotsql's task_context), else read it."""
    row = known if known is not None else hotsql.fetch_one(session, "step_context", {"case_id": loaded.row.id})
    head = loaded.row
    account = notify.Account(row.email, row.language) if row.account_id is not None else None
    case = notify.StepCase(head.id, row.tracking_number, head.process_key, head.process_version_id, account,
                           bool(row.webhooks))
    pause = sla_clock.Pause(row.pause_reason, row.pause_element, row.pause_id) if row.pause_id is not None else None
    return StepContext(case, pause, bool(row.bill_open))


def _sync_clock(batch: hotsql.Batch, session: Session, rt: Runtime, loaded: LoadedCase,
                ready: list[spiff.ReadyTask], now: datetime, data: dict[str, Any], context: StepContext) -> None:
    """Stop the case's SLA clock while the applicant must act (or a bill waits), start it again after.

    Then put the due date at the case's own time limit when its data sets one (engine/sla/limit.py).
    The clock's state was read with the step's context: a step that leaves it as it is writes nothing.
    """
    steps = [sla_clock.OpenStep(t.meta.element_id, t.meta.role, t.meta.sla_clock) for t in ready]
    hold = sla_clock.hold_for(steps, bill_open=context.bill_open)
    wanted = (hold.reason, hold.element_id) if hold is not None else None
    # Queued after the step's task rows (a pause that ends after service hours moves their due dates: it sends
    # them first).
    changed = wanted != (context.pause[:2] if context.pause is not None else None) and sla_clock.sync(
        session, calendar=rt.calendar, case_id=loaded.row.id, hold=hold, now=now, current=context.pause, batch=batch)
    if sla_limit.case_days(data) is not None:
        if changed:
            batch.run()  # the time limit counts the pause just ended, and sets the due date after the clock's
        sla_limit.apply(session, calendar=rt.calendar, case_id=loaded.row.id, data=data)


def _due(timer: spiff.PendingTimer, now: datetime) -> datetime:
    """Place a timer on the engine's clock.

    SpiffWorkflow counts a timer from the wall clock when it starts (this very step; the script
    engine puts dates in that frame too, see engine.bpmn.timers); re-anchoring it on the engine's
    clock keeps jobs, SLAs and tests on one notion of now.
    """
    return now + (timer.due_at - datetime.now(UTC))


def _sync_timers(batch: hotsql.Batch, loaded: LoadedCase, outcome: StepOutcome, now: datetime) -> None:
    timers = {t.task_id: t for t in outcome.timers}
    case_id, before = loaded.row.id, loaded.timers_before
    batch.add("timer_delete", [{"case_id": case_id, "tid": tid}
                                                  for tid in sorted(set(before) - set(timers))])
    batch.add("job_insert", [
        {"kind": "timer", "case_id": case_id, "task_id": t.task_id, "due_at": _due(t, now), "created_at": now}
        for tid, t in timers.items() if tid not in before])
    batch.add("timer_move", [  # a cycle timer moves its next due time
        {"case_id": case_id, "tid": tid, "due_at": _due(t, now)}
        for tid, t in timers.items() if tid in before and before[tid].due_at != t.due_at])
    loaded.timers_before = timers


def _queue_outbound(batch: hotsql.Batch, loaded: LoadedCase, now: datetime, calls: list[outbound.OutboundCall],
                    sealer: Sealer) -> None:
    batch.add("job_insert_payload", [
        {"kind": "outbound", "case_id": loaded.row.id, "task_id": call.ticket, "due_at": now, "created_at": now,
         "topic": None, "payload": {"operation": call.operation, "params": sealer.seal(jsonable(call.params)),
                                    "ticket": call.ticket}}
        for call in calls])


def _queue_messages(batch: hotsql.Batch, loaded: LoadedCase, thrown: list[tuple[str, Any]], now: datetime,
                    sealer: Sealer) -> None:
    # Messages a case throws go to the other cases of its integrated application (bundle).
    if not thrown or loaded.row.bundle_id is None:
        return
    batch.add("job_insert_payload", [
        {"kind": "message", "case_id": loaded.row.id, "task_id": str(uuid.uuid4()), "due_at": now,
         "created_at": now, "topic": topic(loaded.row.bundle_id, name),
         "payload": {"name": name, "bundle_id": loaded.row.bundle_id,
                     "payload": sealer.seal(jsonable(payload if isinstance(payload, dict) else {"value": payload}))}}
        for name, payload in thrown])


def topic(bundle_id: int, name: str) -> str:
    """Address of a message inside an integrated application."""
    return f"bundle:{bundle_id}:{name}"[:160]


def _wake_parked(session: Session, loaded: LoadedCase, outcome: StepOutcome, now: datetime) -> None:
    # A case that starts waiting for a message may find it already thrown by a peer and parked.
    waiting = {w.name for w in outcome.waits}
    new = waiting - loaded.waiting_before
    loaded.waiting_before = waiting
    if new and loaded.row.bundle_id is not None:
        topics = [topic(loaded.row.bundle_id, name) for name in new]
        session.execute(update(Job).where(Job.kind == "message", Job.status == "parked", Job.topic.in_(topics))
                        .values(status="pending", due_at=now))


STALLED = ("Permohonan berhenti tanpa tugas, pengatur waktu, atau pesan yang ditunggu di '{element}'. / "
           "The case stopped with nothing to wait for at '{element}': no open task, timer, message or outside call.")


def _stalled(session: Session, loaded: LoadedCase, outcome: StepOutcome,
             calls: list[outbound.OutboundCall]) -> str | None:
    """Return the element where a case stopped for good, or None when something can still move it.

    A case moves on when a person completes a task, a timer fires, a message arrives (from a
    partner answering an outside call, or from a case of the same integrated application), or
    an outside call is still to be sent. With none of these, "waiting" would last forever.
    """
    if outcome.ready or calls or outcome.cancelled or outcome.finished or outcome.timers or outcome.waits:
        return None
    outbound_open = session.scalar(select(Job.id).where(
        Job.kind == "outbound", Job.case_id == loaded.row.id, Job.status.in_(("pending", "running"))).limit(1))
    if outbound_open is not None:
        return None
    return loaded.workflow.stopped_at()


def _status(loaded: LoadedCase, outcome: StepOutcome, incident: bool, now: datetime) -> dict[str, Any]:
    row = loaded.row
    values: dict[str, Any] = {"status": "running", "stage_id": row.stage_id, "stage_en": row.stage_en,
                              "outcome": None, "completed_at": None}
    if incident:
        values["status"] = "incident"
    elif outcome.cancelled:
        values.update(status="cancelled", stage_id="Dibatalkan", stage_en="Cancelled", completed_at=now)
    elif outcome.finished:
        end = outcome.end_event_name
        values.update(status="completed", outcome=end, stage_id=end or "Selesai", stage_en=end or "Finished",
                      completed_at=now)
    elif outcome.ready:
        first = outcome.ready[0].meta
        values.update(stage_id=first.stage or first.name, stage_en=first.stage_en or first.stage or first.name)
    else:
        values.update(stage_id="Menunggu", stage_en="Waiting")
    return values


def _event(case_id: int, now: datetime, actor: str, action: str, *, task_id: str | None = None,
           element_id: str | None = None, label: str | None = None, diff: dict[str, Any] | None = None,
           ) -> dict[str, Any]:
    return {"case_id": case_id, "at": now, "actor": actor, "action": action, "task_id": task_id,
            "element_id": element_id, "label": label, "diff": diff}


def record_step(
    session: Session, rt: Runtime, loaded: LoadedCase, *, result: spiff.RunResult, record: StepRecord,
    before: dict[str, Any], context: Any = None,
) -> int:
    """Persist the step: state, open tasks, timers, status, history and any incident; return the new version.

    `context` is the step's context when the caller read it already (the row of hotsql's task_context).
    """
    now = rt.clock()
    fresh = loaded.row.version == 0  # the first step of a case start_case has just inserted
    sealer = rt.sealer(loaded.compiled)
    outcome = loaded.workflow.outcome(loaded.tracker, sealer)
    calls = loaded.workflow.take_calls()
    if result.error_element is None and (stopped := _stalled(session, loaded, outcome, calls)) is not None:
        result.error_element, result.error_message = stopped, STALLED.format(element=stopped)
    incident = result.error_element is not None
    after = jsonable(outcome.data)
    values = _status(loaded, outcome, incident, now)
    # The task that was done (or failed) leaves the inbox; tasks opened by a failed run wait for the retry.
    ready = [t for t in outcome.ready if t.task_id in loaded.open_before] if incident else outcome.ready
    # Every read first (routing, the clock's state, whom to tell), then the writes together: SQLite takes
    # its write lock at the first write (engine.db), so the lock is held for the writes alone.
    new_rows = _new_task_rows(session, rt, loaded, ready, now)
    events = notify.step_events(loaded, ready=outcome.ready, action=record.action, values=values)
    step = _read_context(session, loaded, context)
    # The read models, timers, queued work and history: sent together at the end (hotsql.Batch).
    batch = hotsql.Batch(session)
    notify.on_step(session, rt, loaded, events=events, case=step.case, values=values, data=after, batch=batch)
    # The version check: on SQLite the first write; on PostgreSQL the first part of the batch's statement (one
    # round trip less), whose other parts a lost race leaves unwritten. Either way a lost race fails the step,
    # and its transaction undoes what it wrote before (a woken message, a clock or lookup change).
    claim = (record.task_id, record.claimed_by) if record.task_id and record.claimed_by is not None else None
    version = rt.save_state(session, loaded, outcome.changes, values | {"data": after}, batch=batch, claim=claim)
    _sync_tasks(batch, loaded, {t.task_id for t in ready}, new_rows, now,
                record.task_id if record.action == "completed" else None, record.claimed_by)
    if not incident:
        _sync_timers(batch, loaded, outcome, now)
        _queue_outbound(batch, loaded, now, calls, sealer)
        _queue_messages(batch, loaded, outcome.thrown, now, sealer)
        _wake_parked(session, loaded, outcome, now)
        _sync_clock(batch, session, rt, loaded, outcome.ready, now, after, step)
    if fresh:  # a new case has no lookup rows to replace: its own go with the batch
        batch.add("lookup_insert", lookup.lookup_rows(case_id=loaded.row.id, data=after))
    elif lookup.changed(before, after):
        lookup.write_lookups(session, case_id=loaded.row.id, data=after)
    diff = record.diff if record.diff is not None else data_diff(before, after)
    _write_history(batch, session, loaded, outcome, result, record, now,
                   values=values, diff=sealer.seal_diff(diff), data=after)
    batch.run()
    head = loaded.row
    head.status, head.stage_id, head.stage_en = values["status"], values["stage_id"], values["stage_en"]
    loaded.settled = not incident  # an incident keeps the stored open tasks, not the workflow's: look again
    return version


def _write_history(batch: hotsql.Batch, session: Session, loaded: LoadedCase, outcome: StepOutcome,
                   result: spiff.RunResult, record: StepRecord, now: datetime, *, values: dict[str, Any],
                   diff: dict[str, Any] | None, data: dict[str, Any]) -> None:
    """Write the step's history events in order (the step's own, then an incident or the completion) in one go."""
    case_id = loaded.row.id
    events = [_event(case_id, now, record.actor, "claimed", task_id=record.task_id, element_id=record.element_id,
                     label=record.label)] if record.claimed_by is not None else []
    events.append(_event(case_id, now, record.actor, record.action, task_id=record.task_id,
                         element_id=record.element_id, label=record.label, diff=diff))
    if result.error_element is not None:
        session.add(Incident(case_id=case_id, element_id=result.error_element or "",
                             message=result.error_message or "", created_at=now))
        events.append(_event(case_id, now, "system", "incident", element_id=result.error_element,
                             label=result.error_message))
    elif values["status"] == "completed":
        events.append(_event(case_id, now, "system", "completed", label=values["outcome"]))
        documents.queue_issue(session, case_id=case_id, service=loaded.compiled.service,
                              end_event=outcome.end_event_id, now=now, data=data, batch=batch)
    batch.add("event_insert", events)
