"""Officers' inbox: queues per role, claim and release, the task page with its form, the case page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from engine.cases import access as access
from engine.cases import service as cases
from engine.cases import tasks as tasks
from engine.catalogue import service as catalogue
from engine.connectors import report as calls
from engine.directory.actors import Actor
from engine.documents import filestore as filestore
from engine.errors import CaseNotFound
from engine.models import Case
from web.deps import CsrfForm, RowId, RuntimeDep, SessionDep, StaffPageActor
from web.downloads import content_disposition
from web.routing import TransactionalRoute
from web.session import language
from web.taskflow import checked_task_id, submit_task, task_form
from web.templates import Pages

routes = APIRouter(route_class=TransactionalRoute, include_in_schema=False)
pages = Pages(Path(__file__).resolve().parent / "templates")
PAGE = 50
CALL_OUTCOMES = {"ok": ("berhasil", "ok"), "retry": ("diulang", "retried"), "refused": ("ditolak", "refused"),
                 "failed": ("gagal", "failed")}


@routes.get("/kotak-tugas")
def inbox(request: Request, session: SessionDep, rt: RuntimeDep, actor: StaffPageActor,
          peran: str | None = Query(None, max_length=130), halaman: int = Query(1, ge=1, le=100_000)) -> Response:
    """Show the officer's queues (per role, with counts, overdue first) and the tasks of one queue."""
    now = rt.clock()
    queues = tasks.queue_counts(session, actor=actor, now=now)
    rows, total = tasks.list_tasks(session, actor=actor, role=peran or None, now=now, limit=PAGE,
                                   offset=(halaman - 1) * PAGE)
    return pages.render(request, "inbox/inbox.html", {
        "queues": queues, "tasks": rows, "total": total, "role": peran or "", "page": halaman,
        "pages": max(1, -(-total // PAGE)), "now": now, "done": request.query_params.get("selesai")})


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
               values: dict[str, Any] | None = None, errors: dict[str, str] | None = None,
               status: int = 200) -> Response:
    detail = tasks.get_task(session, rt=rt, task_id=task_id, actor=actor)
    fields, title = task_form(detail, lang=language(request), values=values, errors=errors)
    return pages.render(request, "inbox/task.html", {
        "detail": detail, "fields": fields, "errors": errors or {}, "title": title,
        "claimed_by_me": detail.task.assignee_id == actor.user_id, "now": rt.clock(),
        **_case_context(session, rt, detail.case)}, status=status)


def _case_context(session: SessionDep, rt: RuntimeDep, case: Case) -> dict[str, Any]:
    files = filestore.case_files(session, case_id=case.id)
    return {"history": cases.history(session, case.id), "files": files, "case": case,
            "labels": catalogue.field_labels(session, rt=rt, version_id=case.process_version_id),
            "file_names": {filestore.ref(f.id): f.filename for f in files},
            "calls": calls.case_calls(session, case.id), "CALL_OUTCOMES": CALL_OUTCOMES}


@routes.get("/tugas/{task_id}")
def task_page(request: Request, task_id: str, session: SessionDep, rt: RuntimeDep, actor: StaffPageActor) -> Response:
    """Show a task: its form, the case data, documents, history and diagram."""
    return _task_page(request, session, rt, actor, checked_task_id(task_id))


@routes.post("/tugas/{task_id}")
def complete(request: Request, task_id: str, session: SessionDep, rt: RuntimeDep, actor: StaffPageActor,
             form: CsrfForm) -> Response:
    """Complete a task with its form; on a refused input, show the form again with the errors."""
    detail = tasks.get_task(session, rt=rt, task_id=checked_task_id(task_id), actor=actor)
    result = submit_task(session, rt=rt, actor=actor, detail=detail, form=form, lang=language(request))
    if result.completed is None:
        return _task_page(request, session, rt, actor, task_id, values=result.data, errors=result.errors, status=422)
    return RedirectResponse(f"/kotak-tugas?selesai={detail.case.tracking_number}", status_code=303)


@routes.get("/kasus/{case_id}")
def case_page(request: Request, case_id: RowId, session: SessionDep, rt: RuntimeDep, actor: StaffPageActor) -> Response:
    """Show a case to staff who may read it: data, open tasks, documents, history and diagram."""
    _may_view(session, actor, case_id)
    case = cases.get_case(session, case_id)
    return pages.render(request, "inbox/case.html", {
        "open_tasks": cases.open_tasks(session, case_id), "now": rt.clock(), **_case_context(session, rt, case)})


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
def download(file_id: RowId, session: SessionDep, rt: RuntimeDep, actor: StaffPageActor) -> Response:
    """Send a stored document to staff who may read its case."""
    if not filestore.may_read_file(session, actor=actor, file_id=file_id):
        raise filestore.FileNotFound(f"file {file_id} not found")
    row, content = filestore.open_file(session, settings=rt.settings, file_id=file_id)
    return Response(content, media_type=row.content_type, headers={
        "Content-Disposition": content_disposition(row.filename, inline=True), "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-store"})
