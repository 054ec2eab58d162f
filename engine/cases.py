"""Cases: start one, read it, its history, cancel it, retry an incident."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from engine import spiff, tracking
from engine.access import visible_cases
from engine.actors import Actor
from engine.directory import is_provider
from engine.errors import CaseNotFound, InvalidInput, ProcessNotFound
from engine.models import Bundle, Case, CaseEvent, Incident, OpenTask, ProcessVersion
from engine.routing import agency_of
from engine.runtime import CaseHead, LoadedCase, Runtime
from engine.state import SERIALIZER_VERSION
from engine.steps import StepRecord, record_step
from forms.validation import FieldError, FormInvalid, validate

CHANNELS = ("tatap_muka", "drive_thru", "terpadu", "daring")


@dataclass(frozen=True)
class StartedCase:
    """A new case: its id, the tracking number and PIN to give the applicant, its status."""

    id: int
    tracking_number: str
    pin: str
    status: str
    stage: str


def start_case(
    session: Session, *, rt: Runtime, process_key: str, data: dict[str, Any], channel: str, actor: Actor,
    applicant_id: int | None = None, bundle_id: int | None = None,
) -> StartedCase:
    """Start a case of the latest version of a service and run it until it waits."""
    if channel not in CHANNELS:
        raise InvalidInput(f"unknown channel '{channel}'; use one of {', '.join(CHANNELS)}")
    found = rt.specs.latest(session, process_key)
    if found is None:
        raise ProcessNotFound(f"no service '{process_key}'")
    version, compiled = found
    if channel not in compiled.service.get("channels", CHANNELS):
        raise InvalidInput(f"service '{process_key}' is not offered through channel '{channel}'")
    # The start form sees the channel too, so its rules may depend on it.
    clean = validate(compiled.form(compiled.service.get("start_form")), {**data, "channel": channel})
    _check_bindings(session, compiled, clean)
    now = rt.clock()
    number, pin = unique_tracking_number(session), tracking.new_pin()
    sla = int(compiled.service.get("sla_days", 0) or 0)
    pin_hash = tracking.hash_pin(pin, number, rt.settings.secret_key.get_secret_value())
    row = Case(tracking_number=number, pin_hash=pin_hash,
               process_key=process_key, process_version_id=version.id, channel=channel,
               applicant_id=applicant_id, filed_by_id=actor.user_id, bundle_id=bundle_id, data=clean, wf_meta="{}",
               serializer_version=SERIALIZER_VERSION, version=0, created_at=now, updated_at=now,
               due_at=rt.calendar.due_at(now, sla) if sla else None)
    session.add(row)
    session.flush()
    workflow = rt.runner.new_workflow(compiled, clean)
    from engine.state import new_tracker

    loaded = LoadedCase(CaseHead.of(row), compiled, workflow, new_tracker())
    result = rt.runner.advance(workflow)
    record_step(session, rt, loaded, result=result, before={},
                record=StepRecord(actor.username, "started", label=compiled.service.get("name", {}).get("id")))
    session.refresh(row)
    return StartedCase(row.id, number, pin, row.status, row.stage_id)


def _check_bindings(session: Session, compiled: spiff.CompiledProcess, data: dict[str, Any]) -> None:
    """Refuse at once a chosen provider that does not exist, instead of failing steps later."""
    errors: list[FieldError] = []
    for meta in compiled.tasks.values():
        key = meta.bind_organisation
        if key and key in data and meta.role and key not in {e.path for e in errors}:
            marketplace = agency_of(meta.role)
            if not is_provider(session, str(data[key]), marketplace):
                errors.append(FieldError(key, "provider", f"Penyedia '{data[key]}' tidak terdaftar.",
                                         f"Provider '{data[key]}' is not registered under '{marketplace}'."))
    if errors:
        raise FormInvalid(errors)


def unique_tracking_number(session: Session) -> str:
    """Draw a tracking number no case or bundle has."""
    for _ in range(10):
        number = tracking.new_tracking_number()
        taken = session.scalar(select(Case.id).where(Case.tracking_number == number)) or session.scalar(
            select(Bundle.id).where(Bundle.tracking_number == number))
        if taken is None:
            return number
    raise RuntimeError("could not draw a free tracking number")  # 40 random bits: practically unreachable


def get_case(session: Session, case_id: int) -> Case:
    """Return a case row or raise CaseNotFound."""
    row = session.get(Case, case_id)
    if row is None:
        raise CaseNotFound(f"case {case_id} not found")
    return row


def version_number(session: Session, case: Case) -> int:
    """Return the version number of the process version a case runs on."""
    return int(session.scalar(select(ProcessVersion.version).where(ProcessVersion.id == case.process_version_id))
               or 0)


def summary(session: Session) -> tuple[int, int]:
    """Return how many cases are running and how many tasks are open."""
    running = session.scalar(select(func.count()).select_from(Case).where(Case.status == "running")) or 0
    open_count = session.scalar(select(func.count()).select_from(OpenTask)) or 0
    return running, open_count


def history(session: Session, case_id: int) -> list[CaseEvent]:
    """Return a case's events, oldest first."""
    return list(session.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id)))


def open_tasks(session: Session, case_id: int) -> list[OpenTask]:
    """Return a case's open user tasks."""
    return list(session.scalars(select(OpenTask).where(OpenTask.case_id == case_id).order_by(OpenTask.created_at)))


def list_cases(
    session: Session, *, actor: Actor | None = None, process_key: str | None = None, status: str | None = None,
    tracking_number: str | None = None, limit: int = 50, offset: int = 0,
) -> tuple[list[Case], int]:
    """Return a page of the cases an actor may read (all, for the CLI), newest first, with the total."""
    stmt = select(Case) if actor is None else select(Case).where(visible_cases(actor))
    if process_key:
        stmt = stmt.where(Case.process_key == process_key)
    if status:
        stmt = stmt.where(Case.status == status)
    if tracking_number:
        stmt = stmt.where(Case.tracking_number == tracking.normalise(tracking_number))
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(stmt.order_by(Case.id.desc()).limit(limit).offset(offset))
    return list(rows), total


def cancel_case(session: Session, *, rt: Runtime, case_id: int, actor: Actor, reason: str) -> None:
    """Cancel a running case: close its tasks and timers and record why."""
    loaded = rt.load_case(session, case_id)
    if loaded.row.status in ("completed", "cancelled"):
        raise InvalidInput(f"case {case_id} is already {loaded.row.status}")
    before = spiff.case_data(loaded.workflow)
    loaded.workflow.cancel()
    result = spiff.RunResult()
    record_step(session, rt, loaded, result=result, before=before,
                record=StepRecord(actor.username, "cancelled", label=reason, diff={}))


def retry_incident(session: Session, *, rt: Runtime, case_id: int, actor: Actor, migrate: bool = True) -> str:
    """Retry the failed element of a case, first moving it to the latest version when asked; return status."""
    loaded = rt.load_case(session, case_id)
    if loaded.row.status != "incident":
        raise InvalidInput(f"case {case_id} has no open incident")
    if migrate:
        from engine.migration import migrate_to_latest

        migrate_to_latest(session, rt, loaded)
    before = spiff.case_data(loaded.workflow)
    for task in spiff.error_tasks(loaded.workflow):
        spiff.reset_error_task(loaded.workflow, task)
    result = rt.runner.advance(loaded.workflow)
    now: datetime = rt.clock()
    session.execute(update(Incident).where(Incident.case_id == case_id, Incident.resolved_at.is_(None))
                    .values(resolved_at=now))
    record_step(session, rt, loaded, result=result, before=before,
                record=StepRecord(actor.username, "retried"))
    return "incident" if result.error_element else "running"
