"""Supervisors' pages: their agency's queue, each officer's workload, reassigning and releasing tasks."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from admin.inbox import table_context
from engine.cases import assign as assign
from engine.cases import service as cases
from engine.cases import worklist as worklist
from engine.directory import service as directory
from engine.directory.actors import Actor
from engine.errors import CaseConflict, InvalidInput
from engine.sla.escalation import supervised_agencies
from web.deps import CsrfForm, PageForbidden, RuntimeDep, SessionDep, StaffPageActor
from web.routing import TransactionalRoute
from web.session import language
from web.taskflow import checked_task_id
from web.templates import Pages

routes = APIRouter(route_class=TransactionalRoute, include_in_schema=False)
pages = Pages(Path(__file__).resolve().parent / "templates")


def _agencies(session: SessionDep, actor: Actor) -> list[str]:
    if actor.platform_role == "admin":
        return sorted({role.agency_code for role in directory.list_roles(session)})
    agencies = sorted(supervised_agencies(actor)) if actor.platform_role == "officer" else []
    if not agencies:
        raise PageForbidden("Halaman ini hanya untuk penyelia instansi dan admin.",
                            "This page is for agency supervisors and admins only.")
    return agencies


@routes.get("/pengawasan")
def overview(request: Request, session: SessionDep, rt: RuntimeDep, actor: StaffPageActor,
             instansi: str = Query("", max_length=64), halaman: int = Query(1, ge=1, le=100_000)) -> Response:
    """Show a supervisor their agency's open tasks (filterable like the inbox) and each officer's workload."""
    agencies = _agencies(session, actor)
    chosen = frozenset([instansi]) if instansi in agencies else frozenset(agencies)
    now = rt.clock()
    return pages.render(request, "supervision/overview.html", {
        "agencies": agencies, "agency": instansi if instansi in agencies else "",
        "workload": assign.workload(session, agencies=chosen, now=now),
        **table_context(request, session, scope=worklist.agency_scope(chosen), now=now, page=halaman),
        "moved": request.query_params.get("dialihkan"), "released": request.query_params.get("dilepas")})


def _task_view(request: Request, session: SessionDep, actor: Actor, task_id: str, *, error: str = "",
               values: dict[str, str] | None = None, status: int = 200) -> Response:
    task = assign.supervised_task(session, task_id=task_id, actor=actor)
    case = cases.get_case(session, task.case_id)
    return pages.render(request, "supervision/task.html", {
        "task": task, "case": case, "officers": assign.eligible_officers(session, task=task),
        "holder": directory.get_user_by_id(session, task.assignee_id) if task.assignee_id else None,
        "error": error, "values": values or {}}, status=status)


@routes.get("/pengawasan/tugas/{task_id}")
def task_page(request: Request, task_id: str, session: SessionDep, actor: StaffPageActor) -> Response:
    """Show a task of the supervisor's agency with the forms to reassign or release it."""
    return _task_view(request, session, actor, checked_task_id(task_id))


def _act(request: Request, session: SessionDep, actor: Actor, task_id: str, form: Any, action: Any,
         done: str) -> Response:
    values = {k: str(form.get(k) or "") for k in ("ke", "alasan")}
    try:
        # A refused change writes nothing: the savepoint undoes it, the page says why.
        with session.begin_nested():
            task = action(values)
    except (InvalidInput, CaseConflict) as exc:
        return _task_view(request, session, actor, task_id, error=exc.text(language(request)), values=values,
                          status=409 if isinstance(exc, CaseConflict) else 422)
    return RedirectResponse(f"/pengawasan?{urlencode({done: task.name})}", status_code=303)


@routes.post("/pengawasan/tugas/{task_id}/alihkan")
def reassign(request: Request, task_id: str, session: SessionDep, rt: RuntimeDep, actor: StaffPageActor,
             form: CsrfForm) -> Response:
    """Give a task to another officer who holds its role, with a reason."""
    tid = checked_task_id(task_id)
    return _act(request, session, actor, tid, form, lambda v: assign.reassign_task(
        session, rt=rt, task_id=tid, actor=actor, to=v["ke"], reason=v["alasan"]), "dialihkan")


@routes.post("/pengawasan/tugas/{task_id}/lepaskan")
def release(request: Request, task_id: str, session: SessionDep, rt: RuntimeDep, actor: StaffPageActor,
            form: CsrfForm) -> Response:
    """Put a claimed task back in its role's pool, with a reason."""
    tid = checked_task_id(task_id)
    return _act(request, session, actor, tid, form, lambda v: assign.release_task(
        session, rt=rt, task_id=tid, actor=actor, reason=v["alasan"]), "dilepas")
