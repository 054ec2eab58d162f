"""Cases: apply (or file for a walk-in applicant), read, history, list, cancel, retry."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import Path, Query
from pydantic import Field

from api.deps import AdminActor, CurrentActor, RuntimeDep, SessionDep
from api.errors import FORBIDDEN, NOT_FOUND, ApiError
from api.routing import router
from api.schemas import (
    BundleCreate,
    BundleCreated,
    CaseCancel,
    CaseCreate,
    CaseCreated,
    CasePage,
    CaseRead,
    CaseStatusRead,
    CaseSummary,
    EventRead,
    MessageCreate,
    Model,
    TaskRead,
)
from api.schemas.cases import OutreachRead
from api.schemas.tasks import next_task_reads
from engine.cases import access as access
from engine.cases import bundles as bundles
from engine.cases import filing as filing
from engine.cases import listing as listing
from engine.cases import messages as messages
from engine.cases import next_tasks as upcoming
from engine.cases import priority as priority
from engine.cases import search as search
from engine.cases import service as cases
from engine.connectors import report as calls
from engine.directory.actors import Actor
from engine.models import Case
from engine.privacy import access as privacy
from forms.personal import mask
from web.privacy import AccessClient

routes = router(tags=["cases"])
CaseId = Annotated[int, Path(ge=1, le=2**31 - 1)]


def _visible_case(session: SessionDep, actor: Actor, case_id: int) -> Case:
    # Same answer for "does not exist" and "not yours": ids are not enumerable.
    if not access.may_view_case(session, actor, case_id):
        raise ApiError(NOT_FOUND, f"case {case_id} not found")
    return cases.get_case(session, case_id)


def _needs(body: CaseCreate | BundleCreate) -> priority.Needs:
    """Return the priority-service and jemput bola request of an application."""
    asked = body.outreach
    outreach = priority.Outreach(asked.reason, asked.address, asked.contact) if asked else None
    return priority.Needs(body.priority, outreach)


@routes.post("/api/cases", response_model=CaseCreated, status_code=201)
def start(body: CaseCreate, actor: CurrentActor, session: SessionDep, rt: RuntimeDep) -> CaseCreated:
    """Apply for a service with its required documents; the front office may file for a walk-in applicant."""
    applicant_id = cases.applicant_for(session, actor=actor, applicant_username=body.applicant_username)
    started = filing.file_application(session, rt=rt, process_key=body.process_key, data=body.data,
                                      channel=body.channel, actor=actor, applicant_id=applicant_id,
                                      documents=body.documents, needs=_needs(body),
                                      notice_accepted=body.privacy_notice_accepted)
    return CaseCreated(id=started.id, tracking_number=started.tracking_number, pin=started.pin,
                       status=started.status, stage=started.stage,
                       next_tasks=next_task_reads(upcoming.next_tasks(session, case_id=started.id, actor=actor)))


@routes.post("/api/bundles", response_model=BundleCreated, status_code=201)
def start_bundle(body: BundleCreate, actor: CurrentActor, session: SessionDep, rt: RuntimeDep) -> BundleCreated:
    """Apply for several services at once (integrated one-stop): one tracking number and PIN for all."""
    applicant_id = cases.applicant_for(session, actor=actor, applicant_username=body.applicant_username)
    started = bundles.start_bundle(session, rt=rt, services=[(s.process_key, s.data) for s in body.services],
                                   channel=body.channel, actor=actor, applicant_id=applicant_id,
                                   documents=[dict(s.documents) for s in body.services],
                                   notice_accepted=body.privacy_notice_accepted, needs=_needs(body))
    return BundleCreated(id=started.id, tracking_number=started.tracking_number, pin=started.pin, cases=[
        CaseCreated(id=c.id, tracking_number=c.tracking_number, pin="", status=c.status, stage=c.stage,
                    next_tasks=next_task_reads(upcoming.next_tasks(session, case_id=c.id, actor=actor)))
        for c in started.cases])


@routes.post("/api/cases/{case_id}/messages", response_model=CaseStatusRead)
def message(case_id: CaseId, body: MessageCreate, actor: CurrentActor, session: SessionDep,
            rt: RuntimeDep) -> CaseStatusRead:
    """Deliver a message to a case waiting for it (a partner system's answer, e.g. the civil registry's).

    The sender must hold the role of the lane the waiting event lies in.
    """
    if actor.platform_role not in ("admin", "officer"):
        raise ApiError(FORBIDDEN, "only partner systems (officer accounts) and admins send messages")
    if not access.takes_part_in(session, actor, case_id):
        raise ApiError(NOT_FOUND, f"case {case_id} not found")
    status = messages.deliver_message(session, rt=rt, case_id=case_id, name=body.name, payload=body.payload,
                                      actor=actor)
    return CaseStatusRead(id=case_id, status=status)


@routes.get("/api/cases", response_model=CasePage)
def list_cases(
    actor: CurrentActor, session: SessionDep,
    process_key: Annotated[str | None, Query(max_length=120)] = None,
    status: Literal["running", "completed", "incident", "cancelled"] | None = None,
    tracking_number: Annotated[str | None, Query(max_length=20)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> CasePage:
    """List the cases the caller may read, newest first, with filters and pagination."""
    rows, total = cases.list_cases(session, actor=actor, process_key=process_key, status=status,
                                   tracking_number=tracking_number, limit=limit, offset=offset)
    return CasePage(items=[CaseSummary.model_validate(r) for r in rows], total=total,
                    total_capped=total > listing.TOTAL_CAP, limit=limit, offset=offset)


class CaseHitRead(Model):
    id: int
    tracking_number: str
    process_key: str
    status: str
    stage_id: str
    stage_en: str
    channel: str
    applicant_name: str | None
    nik: str | None
    created_at: datetime
    priority: str | None = None
    outreach_for: str | None = None


class CaseHitPage(Model):
    items: list[CaseHitRead]
    total: int = Field(description=f"exact up to {listing.TOTAL_CAP}; {listing.TOTAL_CAP + 1} means more")
    total_capped: bool = Field(description=f"more than {listing.TOTAL_CAP} cases match: page on to a short page")
    limit: int
    offset: int


# Declared before /api/cases/{case_id}, which would otherwise take "search" for an id.
@routes.get("/api/cases/search", response_model=CaseHitPage)
def search_cases(
    actor: CurrentActor, session: SessionDep,
    q: Annotated[str, Query(min_length=1, max_length=120,
                            description="tracking number, full NIK (16 digits) or applicant name")],
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> CaseHitPage:
    """Find the cases the staff member may read by tracking number, full 16-digit NIK or applicant name."""
    hits, total = search.search_cases(session, actor=actor, text=q, limit=limit, offset=offset)
    return CaseHitPage(items=[CaseHitRead.model_validate(h) for h in hits], total=total,
                       total_capped=total > listing.TOTAL_CAP, limit=limit, offset=offset)


Reveal = Annotated[bool, Query(description="show the personal data in full (staff; needs a reason, recorded)")]
Reason = Annotated[str | None, Query(max_length=privacy.REASON_MAX, description="why the personal data is revealed")]


def _full_view(session: SessionDep, rt: RuntimeDep, actor: Actor, case: Case, *, reveal: bool, reason: str | None,
               client: privacy.Client) -> tuple[dict[str, str], bool]:
    """Return the case's classified fields and whether this answer shows them in full (a reveal is recorded)."""
    classified = privacy.classified(session, case, rt=rt)
    if privacy.is_data_subject(actor, case):
        return classified, True
    task = privacy.workable_task(session, actor, case.id)
    if task is not None:  # as on the task page: the officer the work needs it from
        if privacy.holds_personal(case.data, classified):
            privacy.record_view(session, actor=actor, case=case, how=privacy.TASK, client=client, task=task)
        return classified, True
    if not reveal:
        return classified, False
    why = privacy.reason_given(reason)
    privacy.record_view(session, actor=actor, case=case, how=privacy.API, client=client, reason=why)
    return classified, True


def _shown(value: str | None, full: bool) -> str:
    return (value or "") if full else mask(value)


@routes.get("/api/cases/{case_id}", response_model=CaseRead)
def read(case_id: CaseId, actor: CurrentActor, session: SessionDep, rt: RuntimeDep, client: AccessClient,
         reveal: Reveal = False, reason: Reason = None) -> CaseRead:
    """Return a case the caller may read, with its data (personal values masked for staff unless revealed)."""
    case = _visible_case(session, actor, case_id)
    classified, full = _full_view(session, rt, actor, case, reveal=reveal, reason=reason, client=client)
    version = cases.version_number(session, case)
    open_tasks = [TaskRead.model_validate(t) for t in cases.open_tasks(session, case.id)]
    return CaseRead(id=case.id, tracking_number=case.tracking_number, process_key=case.process_key,
                    process_version=version, status=case.status, stage_id=case.stage_id,
                    stage_en=case.stage_en, outcome=case.outcome, channel=case.channel,
                    applicant_id=case.applicant_id, filed_by_id=case.filed_by_id, created_at=case.created_at,
                    updated_at=case.updated_at, due_at=case.due_at, completed_at=case.completed_at,
                    data=case.data if full else privacy.masked(case.data, classified), open_tasks=open_tasks,
                    priority=case.priority,
                    outreach=OutreachRead(reason=case.outreach_for, address=_shown(case.outreach_address, full),
                                          contact=_shown(case.outreach_contact, full)) if case.outreach_for else None)


@routes.get("/api/cases/{case_id}/events", response_model=list[EventRead])
def events(case_id: CaseId, actor: CurrentActor, session: SessionDep, rt: RuntimeDep, client: AccessClient,
           reveal: Reveal = False, reason: Reason = None) -> list[EventRead]:
    """Return a case's history, oldest first: who did what, when, with which data change (masked as the case)."""
    case = _visible_case(session, actor, case_id)
    classified, full = _full_view(session, rt, actor, case, reveal=reveal, reason=reason, client=client)
    read = [EventRead.model_validate(e) for e in cases.history(session, case_id)]
    return read if full else [e.model_copy(update={"diff": privacy.masked_diff(e.diff, classified)}) for e in read]


@routes.post("/api/cases/{case_id}/cancel", response_model=CaseStatusRead)
def cancel(case_id: CaseId, body: CaseCancel, actor: AdminActor, session: SessionDep, rt: RuntimeDep) -> CaseStatusRead:
    """Cancel a running case (admin), closing its tasks and timers."""
    cases.cancel_case(session, rt=rt, case_id=case_id, actor=actor, reason=body.reason)
    return CaseStatusRead(id=case_id, status="cancelled")


@routes.post("/api/cases/{case_id}/retry", response_model=CaseStatusRead)
def retry(case_id: CaseId, actor: AdminActor, session: SessionDep, rt: RuntimeDep) -> CaseStatusRead:
    """Retry a case's incident (admin), on the newest version of its process."""
    status = cases.retry_incident(session, rt=rt, case_id=case_id, actor=actor)
    return CaseStatusRead(id=case_id, status=status)



class ConnectorCallRead(Model):
    id: int
    job_id: int | None
    operation: str
    system: str | None
    attempt: int
    outcome: Literal["ok", "retry", "refused", "failed"]
    http_status: int | None
    duration_ms: int
    detail: str
    at: datetime


@routes.get("/api/cases/{case_id}/calls", response_model=list[ConnectorCallRead])
def connector_calls(case_id: CaseId, actor: CurrentActor, session: SessionDep) -> list[ConnectorCallRead]:
    """Return the calls a case made to partner systems, newest first (staff who may read the case, admins)."""
    if actor.platform_role not in ("admin", "officer"):
        raise ApiError(NOT_FOUND, f"case {case_id} not found")
    _visible_case(session, actor, case_id)
    return [ConnectorCallRead.model_validate(c) for c in calls.case_calls(session, case_id)]
