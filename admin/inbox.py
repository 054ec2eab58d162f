"""Officers' inbox: queues per role, claim and release, the task page with its form, the case page."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from admin import signing as signing
from engine.cases import access as access
from engine.cases import assign as assign
from engine.cases import casefiles as casefiles
from engine.cases import inbox as inbox_pages
from engine.cases import service as cases
from engine.cases import tasks as tasks
from engine.cases import worklist as worklist
from engine.catalogue import service as catalogue
from engine.connectors import report as calls
from engine.directory.actors import Actor
from engine.documents import filestore as filestore
from engine.errors import CaseNotFound, TaskClaimedByOther, TaskNotForYourRole
from engine.models import Case
from engine.privacy import access as privacy
from engine.privacy import retention as retention
from engine.sla import clock as sla_clock
from engine.sla.escalation import supervised_agencies
from forms.personal import mask
from web.deps import CsrfForm, RowId, RuntimeDep, SessionDep, StaffPageActor
from web.downloads import stored_file
from web.privacy import AccessClient
from web.routing import TransactionalRoute
from web.session import language
from web.taskflow import (
    case_view,
    checked_task_id,
    completion_message,
    initial_values,
    submit_task,
    task_extras,
    task_form,
)
from web.templates import ACTIONS as BASE_ACTIONS
from web.templates import CHANNELS, Pages

routes = APIRouter(route_class=TransactionalRoute, include_in_schema=False)
pages = Pages(Path(__file__).resolve().parent / "templates")
PAGE = 50
CAP_LABEL = f"{inbox_pages.CAP:,}+"  # "1,000+" ("1.000+" in Indonesian): the table counts no further
# The case history as staff read it, with the supervisors' actions (engine/cases/assign.py).
ACTIONS = {**BASE_ACTIONS, "reassigned": ("Dialihkan", "Reassigned"), "released": ("Dilepas penyelia",
                                                                                  "Released by a supervisor")}
CALL_OUTCOMES = {"ok": ("berhasil", "ok"), "retry": ("diulang", "retried"), "refused": ("ditolak", "refused"),
                 "failed": ("gagal", "failed")}


def read_filters(request: Request) -> worklist.Filters:
    """Read the inbox table's search, filters and sort from the query string (unknown values are ignored)."""
    q = request.query_params
    sort = q.get("urut") or worklist.DEFAULT_SORT
    return worklist.Filters(
        text=(q.get("cari") or "").strip()[:120], process_key=(q.get("layanan") or None),
        element_id=(q.get("langkah") or None), channel=q.get("kanal") if q.get("kanal") in CHANNELS else None,
        role=(q.get("peran") or "")[:130] or None, overdue=q.get("terlambat") == "1",
        priority=q.get("prioritas") == "1", outreach=q.get("jemput") == "1",
        sort=sort if sort in worklist.SORTS else worklist.DEFAULT_SORT, descending=q.get("arah") == "turun")


def _with(request: Request, **changes: str | None) -> str:
    params = {k: v for k, v in request.query_params.items() if k not in changes and v}
    params.update({k: v for k, v in changes.items() if v})
    return f"{request.url.path}?{urlencode(params)}" if params else request.url.path


def table_context(request: Request, session: SessionDep, *, scope: worklist.Scope, now: datetime,
                  page: int) -> dict[str, Any]:
    """Return what the task table needs: its rows of the page, filters, choices, sort and page links.

    Pages end at `worklist.MAX_PAGE` (the first `inbox.CAP` tasks); past it the table says to narrow the list.
    """
    filters = read_filters(request)
    too_far = page > worklist.MAX_PAGE
    table = worklist.list_rows(session, scope=scope, filters=filters, now=now, limit=0 if too_far else PAGE,
                               offset=0 if too_far else (page - 1) * PAGE)
    # Past the counting cap the last page is unknown: "next" stays while the page is full, up to the last page shown.
    pages_total = min(worklist.MAX_PAGE, max(1, -(-table.total // PAGE),
                                             page + 1 if table.capped and len(table.rows) == PAGE else page))
    more_than_shown = too_far or (page == worklist.MAX_PAGE and table.capped and len(table.rows) == PAGE)

    def sort_link(column: str) -> str:
        flip = column == filters.sort and not filters.descending
        return _with(request, urut=column, arah="turun" if flip else None, halaman=None)

    def sort_state(column: str) -> str | None:
        if column != filters.sort:
            return None
        return "descending" if filters.descending else "ascending"

    return {"rows": table.rows, "total": table.total, "total_capped": table.capped, "total_cap_label": CAP_LABEL,
            "filters": filters, "page": page, "pages": pages_total, "now": now, "max_page": worklist.MAX_PAGE,
            "more_than_shown": more_than_shown,
            "steps": worklist.steps(session, scope=scope), "services": service_names(session),
            "sort_link": sort_link, "sort_state": sort_state, "waiting": worklist.waiting,
            "page_link": lambda n: _with(request, halaman=str(n) if n > 1 else None)}


def service_names(session: SessionDep) -> dict[str, dict[str, str]]:
    """Return each deployed service's name in both languages, by process key."""
    return {s.key: s.standard.get("name") or {"id": s.key, "en": s.key} for s in catalogue.list_services(session)}


@routes.get("/kotak-tugas")
def inbox(request: Request, session: SessionDep, rt: RuntimeDep, actor: StaffPageActor,
          halaman: int = Query(1, ge=1, le=100_000)) -> Response:
    """Show the officer's queues (per role, with counts) and a table of their open tasks: search, filters, sort."""
    now = rt.clock()
    return pages.render(request, "inbox/inbox.html", {
        "queues": tasks.queue_counts(session, actor=actor, now=now),
        **table_context(request, session, scope=worklist.officer_scope(actor), now=now, page=halaman),
        "supervises": bool(supervised_agencies(actor)) or actor.platform_role == "admin",
        "done": request.query_params.get("selesai"), "done_message": _done_message(request, session, actor)})


def _done_message(request: Request, session: SessionDep, actor: Actor) -> str:
    """Say where the case of the task this officer just completed went (only to the officer who completed it)."""
    done_task = request.query_params.get("tugas", "")
    if not re.fullmatch(r"[0-9a-f-]{36}", done_task):
        return ""
    return completion_message(session, task_id=done_task, actor=actor, lang=language(request))


@routes.post("/tugas/{task_id}/ambil")
def claim(task_id: str, session: SessionDep, rt: RuntimeDep, actor: StaffPageActor, form: CsrfForm) -> Response:
    """Claim a task, then open it."""
    tasks.claim_task(session, rt=rt, task_id=checked_task_id(task_id), actor=actor)
    return RedirectResponse(f"/tugas/{task_id}", status_code=303)


@routes.post("/tugas/{task_id}/lepas")
def unclaim(task_id: str, session: SessionDep, rt: RuntimeDep, actor: StaffPageActor, form: CsrfForm) -> Response:
    """Release a claimed task back to the queue."""
    tasks.unclaim_task(session, rt=rt, task_id=checked_task_id(task_id), actor=actor)
    return RedirectResponse("/kotak-tugas", status_code=303)


def _task_page(request: Request, session: SessionDep, rt: RuntimeDep, actor: Actor, task_id: str, *,
               client: privacy.Client, values: dict[str, Any] | None = None,
               errors: dict[str, str] | None = None, status: int = 200) -> Response:
    read_only = False
    try:
        detail = tasks.get_task(session, rt=rt, task_id=task_id, actor=actor)
    except (TaskNotForYourRole, TaskClaimedByOther):
        # An admin or the agency's supervisor reads the task (to reassign it), never completes it.
        if actor.platform_role != "admin" and not supervised_agencies(actor):
            raise
        detail, read_only = assign.view_task(session, rt=rt, task_id=task_id, actor=actor), True
    # Only the officer who may work the task sees the citizen's data in full (recorded); an overseer, masked.
    view = case_view(session, rt=rt, case=detail.case)
    classified = view["field_labels"].personal_fields()
    if read_only:
        values = privacy.masked(initial_values(detail), classified) if values is None else values
    elif privacy.holds_personal(detail.case.data, classified):
        privacy.record_view(session, actor=actor, case=detail.case, how=privacy.TASK, client=client, task=detail.task)
    fields, title = task_form(detail, lang=language(request), values=values, errors=errors)
    return pages.render(request, "inbox/task.html", {
        "detail": detail, "fields": fields, "errors": errors or {}, "title": title, "read_only": read_only,
        "may_supervise": access.may_supervise(actor, detail.task.agency),
        "claimed_by_me": detail.task.assignee_id == actor.user_id, "now": rt.clock(),
        **_case_context(session, rt, detail.case, view=view, full=not read_only),
        **task_extras(session, rt=rt, detail=detail, lang=language(request)),
        **signing.signing_context(session, rt, detail)},
        status=status)


def _case_context(session: SessionDep, rt: RuntimeDep, case: Case, *, view: dict[str, Any],
                  full: bool) -> dict[str, Any]:
    files = casefiles.case_files(session, case=case)
    classified = view["field_labels"].personal_fields()
    # A jemput bola request's address and phone are the applicant's too (engine/cases/priority.py).
    shown_masked = not full and (privacy.holds_personal(case.data, classified) or bool(case.outreach_for))
    return {"history": cases.history(session, case.id), "files": files, "case": case, "ACTIONS": ACTIONS,
            "case_data": case.data if full else privacy.masked(case.data, classified),
            "personal_masked": shown_masked, "mask": mask, "reveal_action": f"/kasus/{case.id}/data-pribadi",
            "labels": catalogue.field_labels(session, rt=rt, version_id=case.process_version_id),
            **view,
            "file_names": {filestore.ref(f.id): f.filename for f in files},
            "calls": calls.case_calls(session, case.id), "CALL_OUTCOMES": CALL_OUTCOMES}


@routes.get("/tugas/{task_id}")
def task_page(request: Request, task_id: str, session: SessionDep, rt: RuntimeDep, actor: StaffPageActor,
              client: AccessClient) -> Response:
    """Show a task: its form, the case data, documents, history and diagram."""
    return _task_page(request, session, rt, actor, checked_task_id(task_id), client=client)


@routes.post("/tugas/{task_id}")
def complete(request: Request, task_id: str, session: SessionDep, rt: RuntimeDep, actor: StaffPageActor,
             form: CsrfForm, client: AccessClient) -> Response:
    """Complete a task with its form; on a refused input, show the form again with the errors."""
    detail = tasks.get_task(session, rt=rt, task_id=checked_task_id(task_id), actor=actor)
    result = submit_task(session, rt=rt, actor=actor, detail=detail, form=form, lang=language(request))
    if result.completed is None:
        return _task_page(request, session, rt, actor, task_id, client=client, values=result.data,
                          errors=result.errors, status=422)
    return RedirectResponse(f"/kotak-tugas?selesai={detail.case.tracking_number}&tugas={detail.task.id}",
                            status_code=303)


@routes.get("/kasus/{case_id}")
def case_page(request: Request, case_id: RowId, session: SessionDep, rt: RuntimeDep, actor: StaffPageActor,
              client: AccessClient) -> Response:
    """Show a case to staff who may read it: data (personal values masked but for a task's officer), tasks, history."""
    _may_view(session, actor, case_id)
    case = cases.get_case(session, case_id)
    # An officer who may work one of the case's open tasks reads it in full here too, as on the task page.
    task = privacy.workable_task(session, actor, case_id)
    view = case_view(session, rt=rt, case=case)
    if task is not None and privacy.holds_personal(case.data, view["field_labels"].personal_fields()):
        privacy.record_view(session, actor=actor, case=case, how=privacy.TASK, client=client, task=task)
    return _case_page(request, session, rt, case, view=view, full=task is not None)


@routes.post("/kasus/{case_id}/data-pribadi")
def reveal(request: Request, case_id: RowId, session: SessionDep, rt: RuntimeDep, actor: StaffPageActor,
           form: CsrfForm, client: AccessClient) -> Response:
    """Show a case with its personal data in full, for this view only, after a reason (recorded)."""
    _may_view(session, actor, case_id)
    case = cases.get_case(session, case_id)
    reason = privacy.reason_given(str(form.get("reason") or ""))
    privacy.record_view(session, actor=actor, case=case, how=privacy.REVEAL, client=client, reason=reason)
    return _case_page(request, session, rt, case, view=case_view(session, rt=rt, case=case), full=True,
                      revealed=True)


def _case_page(request: Request, session: SessionDep, rt: RuntimeDep, case: Case, *, view: dict[str, Any], full: bool,
               revealed: bool = False) -> Response:
    calendar = rt.calendars.refresh(session)
    running = case.status == "running"
    clock = sla_clock.status(session, calendar=calendar, case=case, now=rt.clock()) if running else None
    context = _case_context(session, rt, case, view=view, full=full)
    return pages.render(request, "inbox/case.html", {
        "open_tasks": cases.open_tasks(session, case.id), "now": rt.clock(), "sla": clock, "revealed": revealed,
        "holds": retention.holds_of(session, case_id=case.id),
        **context})


def _may_view(session: SessionDep, actor: Actor, case_id: int) -> None:
    # Same answer for "does not exist" and "not yours": ids are not enumerable.
    if not access.may_view_case(session, actor, case_id):
        raise CaseNotFound(f"case {case_id} not found")


@routes.get("/kasus/{case_id}/diagram.json")
def case_diagram(case_id: RowId, session: SessionDep, rt: RuntimeDep, actor: StaffPageActor) -> Response:
    """Return the case's diagram with its done, active and overdue elements (for the viewer)."""
    _may_view(session, actor, case_id)
    state = cases.diagram_state(session, case_id=case_id, now=rt.clock())
    return JSONResponse({"xml": state.xml, "done": state.done, "active": state.active, "overdue": state.overdue},
                        headers={"Cache-Control": "no-store"})


@routes.get("/berkas/{file_id}")
def download(request: Request, file_id: RowId, session: SessionDep, rt: RuntimeDep, actor: StaffPageActor,
             client: AccessClient) -> Response:
    """Send a stored document to staff who may read its case; a personal one (a KTP scan) needs a task or a reason."""
    return _send_file(request, session, rt, actor, file_id, client=client, reason=None)


@routes.post("/berkas/{file_id}")
def reveal_file(request: Request, file_id: RowId, session: SessionDep, rt: RuntimeDep, actor: StaffPageActor,
                form: CsrfForm, client: AccessClient) -> Response:
    """Send a personal document to staff who may read its case, after a reason (recorded)."""
    if not filestore.may_read_file(session, actor=actor, file_id=file_id):
        raise filestore.FileNotFound(f"file {file_id} not found")
    reason = privacy.reason_given(str(form.get("reason") or ""))
    return _send_file(request, session, rt, actor, file_id, client=client, reason=reason)


def _send_file(request: Request, session: SessionDep, rt: RuntimeDep, actor: Actor, file_id: int, *,
               client: privacy.Client, reason: str | None) -> Response:
    case = privacy.personal_file(session, file_id=file_id, rt=rt)
    if case is not None and filestore.may_read_file(session, actor=actor, file_id=file_id):
        if reason is None and not privacy.sees_file_in_full(session, actor, case=case, file_id=file_id):
            return pages.render(request, "inbox/reveal_file.html", {"file_id": file_id, "case": case}, status=403)
        privacy.record_view(session, actor=actor, case=case, how=privacy.FILE if reason is None else privacy.REVEAL,
                            client=client, file_id=file_id, reason=reason)
    return stored_file(session, settings=rt.settings, actor=actor, file_id=file_id)
