"""Cases: start one, read it, its history, cancel it, retry an incident."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from engine.bpmn import compile as spiff
from engine.bpmn.compile import RunResult
from engine.bpmn.state import SERIALIZER_VERSION
from engine.cases import access as access
from engine.cases import hotsql as hotsql
from engine.cases import listing as listing
from engine.cases import priority as priority
from engine.cases import tracking as tracking
from engine.cases.assignment import agency_of
from engine.cases.steps import StepRecord, is_provider, record_step
from engine.catalogue import lifecycle as lifecycle
from engine.catalogue import registry as registry
from engine.directory import service as directory
from engine.directory.actors import Actor
from engine.errors import CaseNotFound, InvalidInput, NotAllowed, ProcessNotFound
from engine.models import Case, CaseEvent, Incident, Job, OpenTask, ProcessVersion
from engine.runtime import CaseHead, LoadedCase, Runtime
from forms.numbers import check_numbers
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
    applicant_id: int | None = None, bundle_id: int | None = None, needs: priority.Needs | None = None,
) -> StartedCase:
    """Start a case of the latest version of a service and run it until it waits.

    `needs` carries priority service and a jemput bola request (engine/cases/priority.py).
    """
    if channel not in CHANNELS:
        raise InvalidInput(f"unknown channel '{channel}'; use one of {', '.join(CHANNELS)}")
    # One statement: is the service retired (running cases of a retired service still finish), and its newest version.
    retired, version_id = hotsql.fetch_one(session, "start_version", {"key": process_key})
    if retired:
        raise lifecycle.ServiceRetired(process_key)
    if version_id is None:
        raise ProcessNotFound(f"no service '{process_key}'")
    compiled = rt.specs.get(session, version_id)
    if channel not in compiled.service.get("channels", CHANNELS):
        raise InvalidInput(f"service '{process_key}' is not offered through channel '{channel}'")
    needs = needs or priority.Needs()
    priority.refuse_invalid(compiled.service, needs)
    check_numbers(data)  # before the schema: jsonschema fails on infinities and on integers no double holds
    form = compiled.form(compiled.service.get("start_form"))
    data = priority.with_form_fields(form or {}, data, needs)
    # The start form sees the channel too, so its rules may depend on it.
    clean = validate(form, {**data, "channel": channel})
    _check_bindings(session, rt, compiled, clean)
    now = rt.clock()
    number, pin = unique_tracking_number(session), tracking.new_pin()
    rt.calendars.refresh(session)
    sla = int(compiled.service.get("sla_days", 0) or 0)
    pin_hash = tracking.hash_pin(pin, number, rt.settings.secret_key.get_secret_value())
    asked = Case()  # transient, never added: priority.record says which columns the request sets
    priority.record(asked, needs)
    # The case data is written (sealed) by the step below, with the row's first version: not here.
    values = {"tracking_number": number, "pin_hash": pin_hash, "process_key": process_key,
              "process_version_id": version_id, "channel": channel, "applicant_id": applicant_id,
              "filed_by_id": actor.user_id, "bundle_id": bundle_id, "data": {}, "wf_meta": "{}",
              "serializer_version": SERIALIZER_VERSION, "version": 0, "status": "running", "stage_id": "",
              "stage_en": "", "created_at": now, "updated_at": now,
              "due_at": rt.calendar.due_at(now, sla) if sla else None,
              **{name: getattr(asked, name) for name in _ASKED}}
    # The workflow runs before the first write: on SQLite the write lock is taken only for the writes.
    workflow = rt.runner.new_workflow(compiled, clean)
    result = rt.runner.advance(workflow)
    session.flush()  # what the caller added, before the case that may refer to it
    case_id = int(hotsql.fetch_one(session, "case_insert", values).id)
    from engine.bpmn.state import new_tracker

    head = CaseHead(case_id, 0, process_key, version_id, "running", "", "", bundle_id)
    loaded = LoadedCase(head, compiled, workflow, new_tracker())
    record_step(session, rt, loaded, result=result, before={},
                record=StepRecord(actor.username, "started", label=compiled.service.get("name", {}).get("id")))
    return StartedCase(loaded.row.id, number, pin, loaded.row.status, loaded.row.stage_id)


# The new case's row is written past the ORM (hotsql's case_insert: the ORM's unit of work, even Core's insert,
# costs more than the insert): nothing of it is left in the session, so a later read of the case sees what the
# step wrote.
_ASKED = ("priority", "outreach_for", "outreach_address", "outreach_contact")  # priority.record's columns


@dataclass(frozen=True)
class StartForm:
    """What an application form needs: the service standard and its first form."""

    process_key: str
    version: int
    service: dict[str, Any]
    schema: dict[str, Any]
    ui_schema: dict[str, Any] | None


def start_form(session: Session, *, rt: Runtime, process_key: str) -> StartForm:
    """Return the latest version's service standard and start form (with its UI schema)."""
    newest = hotsql.read_all(session, "latest_version", {"key": process_key})  # not the whole row: its JSON unread
    if not newest:
        raise ProcessNotFound(f"no service '{process_key}'")
    found = newest[0]
    compiled = rt.specs.get(session, found.id)
    path = str(compiled.service.get("start_form") or "")
    schema = compiled.form(path) if path else None
    ui = compiled.form(path.replace(".schema.json", ".uischema.json")) if path else None
    return StartForm(process_key, found.version, compiled.service, schema or {"type": "object", "properties": {}},
                     ui if isinstance(ui, dict) else None)


def applicant_for(session: Session, *, actor: Actor, applicant_username: str | None) -> int | None:
    """Decide whose application this is: the applicant's own, or one the front office files."""
    if actor.platform_role == "applicant":
        if applicant_username not in (None, "", actor.username):
            raise NotAllowed("applicants apply for themselves only")
        return actor.user_id
    if not access.may_file_for_others(actor):
        raise NotAllowed("only applicants and front-office officers can file applications")
    if not applicant_username:
        return None
    user = directory.get_user(session, applicant_username)
    if user.platform_role != "applicant":
        raise NotAllowed(f"'{applicant_username}' is not an applicant account")
    return user.id


@dataclass(frozen=True)
class DiagramState:
    """A case's diagram with the elements to highlight: done, waiting now, and overdue."""

    xml: str
    done: list[str]
    active: list[str]
    overdue: list[str]


def diagram_state(session: Session, *, case_id: int, now: datetime) -> DiagramState:
    """Return the BPMN of the case's version with its completed, active and overdue user tasks."""
    case = get_case(session, case_id)
    version = session.get(ProcessVersion, case.process_version_id)
    xml = registry.main_bpmn(session, key=case.process_key, version=version.version if version else 1)
    done = sorted({e for e in session.scalars(select(CaseEvent.element_id).where(
        CaseEvent.case_id == case_id, CaseEvent.action == "completed", CaseEvent.element_id.is_not(None))) if e})
    open_rows = session.execute(select(OpenTask.element_id, OpenTask.due_at).where(OpenTask.case_id == case_id)).all()
    overdue = sorted({el for el, due in open_rows if due is not None and due < now})
    active = sorted({el for el, _due in open_rows} - set(overdue))
    return DiagramState(xml.decode("utf-8") if isinstance(xml, bytes) else str(xml), done, active, overdue)


def provider_choices(session: Session, *, rt: Runtime, process_key: str) -> dict[str, list[tuple[str, str]]]:
    """Return, per start-form field that binds a provider firm, the firms one may choose (code, name)."""
    found = rt.specs.latest(session, process_key)
    if found is None:
        raise ProcessNotFound(f"no service '{process_key}'")
    choices: dict[str, list[tuple[str, str]]] = {}
    for meta in found[1].tasks.values():
        if meta.bind_organisation and meta.role and meta.bind_organisation not in choices:
            choices[meta.bind_organisation] = directory.providers_of(session, agency_of(meta.role))
    return choices


def _check_bindings(session: Session, rt: Runtime, compiled: spiff.CompiledProcess, data: dict[str, Any]) -> None:
    """Refuse at once a chosen provider that does not exist, instead of failing steps later."""
    errors: list[FieldError] = []
    checked: set[tuple[str, str]] = set()  # several tasks may bind the same field in the same marketplace
    for meta in compiled.tasks.values():
        key = meta.bind_organisation
        if key and key in data and meta.role and key not in {e.path for e in errors}:
            marketplace = agency_of(meta.role)
            if (key, marketplace) in checked:
                continue
            checked.add((key, marketplace))
            if not is_provider(session, rt, str(data[key]), marketplace):
                errors.append(FieldError(key, "provider", f"Penyedia '{data[key]}' tidak terdaftar.",
                                         f"Provider '{data[key]}' is not registered under '{marketplace}'."))
    if errors:
        raise FormInvalid(errors)


def unique_tracking_number(session: Session) -> str:
    """Draw a tracking number no case or bundle has."""
    for _ in range(10):
        number = tracking.new_tracking_number()
        if hotsql.fetch_one(session, "tracking_taken", {"number": number}) is None:
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
    """Return a page of the cases an actor may read (all, for the CLI), newest first, with the total.

    The total is exact up to `listing.TOTAL_CAP`; TOTAL_CAP + 1 means more than that.
    """
    conditions = []
    if process_key:
        conditions.append(Case.process_key == process_key)
    if status:
        conditions.append(Case.status == status)
    if tracking_number:
        conditions.append(Case.tracking_number == tracking.normalise(tracking_number))
    if actor is None:
        stmt = select(Case).where(*conditions)
        total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
        return list(session.scalars(stmt.order_by(Case.id.desc()).limit(limit).offset(offset))), total
    matching = select(Case.id).where(*conditions) if conditions else None
    ids, total = listing.visible_page(session, actor=actor, matching=matching, selective=bool(tracking_number),
                                      limit=limit, offset=offset)
    return list(session.scalars(select(Case).where(Case.id.in_(ids)).order_by(Case.id.desc()))), total


def cancel_case(session: Session, *, rt: Runtime, case_id: int, actor: Actor, reason: str) -> None:
    """Cancel a running case: close its tasks and timers and record why."""
    loaded = rt.load_case(session, case_id)
    if loaded.row.status in ("completed", "cancelled"):
        raise InvalidInput(f"case {case_id} is already {loaded.row.status}")
    before = loaded.workflow.data()
    loaded.workflow.cancel()
    result = RunResult()
    record_step(session, rt, loaded, result=result, before=before,
                record=StepRecord(actor.username, "cancelled", label=reason, diff={}))


def retry_incident(session: Session, *, rt: Runtime, case_id: int, actor: Actor, migrate: bool = True) -> str:
    """Retry the failed element of a case, first moving it to the latest version when asked; return status."""
    loaded = rt.load_case(session, case_id)
    if loaded.row.status != "incident":
        raise InvalidInput(f"case {case_id} has no open incident")
    if migrate:
        from engine.bpmn.migrate import migrate_to_latest

        migrate_to_latest(session, rt, loaded)
    before = loaded.workflow.data()
    loaded.workflow.retry_failed()
    # A failed step writes no new tasks or timer jobs (see steps): compare with what is stored, not the workflow.
    loaded.open_before = set(session.scalars(select(OpenTask.id).where(OpenTask.case_id == case_id)))
    # A timer job parked after its worker died (engine.jobs) is scheduled afresh by this step.
    session.execute(delete(Job).where(Job.kind == "timer", Job.case_id == case_id, Job.status == "failed"))
    scheduled = set(session.scalars(select(Job.task_id).where(Job.kind == "timer", Job.case_id == case_id,
                                                              Job.status == "pending")))
    loaded.timers_before = {tid: t for tid, t in loaded.timers_before.items() if tid in scheduled}
    result = rt.runner.advance(loaded.workflow, resume=True)
    now: datetime = rt.clock()
    session.execute(update(Incident).where(Incident.case_id == case_id, Incident.resolved_at.is_(None))
                    .values(resolved_at=now))
    record_step(session, rt, loaded, result=result, before=before,
                record=StepRecord(actor.username, "retried"))
    return "incident" if result.error_element else "running"
