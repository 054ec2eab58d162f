"""The applicant's own tasks: complete the file, pay the retribution, answer a request."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from engine.cases import tasks as tasks
from engine.directory.actors import Actor
from engine.payments import bills as bills
from web.deps import CsrfForm, PageActor, RuntimeDep, SessionDep
from web.routing import TransactionalRoute
from web.session import language
from web.taskflow import checked_task_id, submit_task, task_extras, task_form
from web.templates import Pages

routes = APIRouter(route_class=TransactionalRoute, include_in_schema=False)
pages = Pages(Path(__file__).resolve().parent / "templates")


def _page(request: Request, session: SessionDep, rt: RuntimeDep, actor: Actor, task_id: str, *,
          values: dict[str, Any] | None = None, errors: dict[str, str] | None = None, status: int = 200) -> Response:
    detail = tasks.get_task(session, rt=rt, task_id=task_id, actor=actor)
    fields, title = task_form(detail, lang=language(request), values=values, errors=errors)
    case_bills = bills.bills_of_case(session, case_id=detail.case.id, actor=actor)
    return pages.render(request, "my_task.html", {"detail": detail, "fields": fields, "errors": errors or {},
                                                  "title": title, "bills": case_bills,
                                                  **task_extras(session, rt=rt, detail=detail,
                                                                               lang=language(request))},
                        status=status)


@routes.get("/permohonan-saya/tugas/{task_id}")
def my_task(request: Request, task_id: str, session: SessionDep, rt: RuntimeDep, actor: PageActor) -> Response:
    """Show a task the platform handed back to the applicant, with its form."""
    return _page(request, session, rt, actor, checked_task_id(task_id))


@routes.post("/permohonan-saya/tugas/{task_id}")
def submit(request: Request, task_id: str, session: SessionDep, rt: RuntimeDep, actor: PageActor,
           form: CsrfForm) -> Response:
    """Send the applicant's answer; show the form again with the errors when it is refused."""
    detail = tasks.get_task(session, rt=rt, task_id=checked_task_id(task_id), actor=actor)
    result = submit_task(session, rt=rt, actor=actor, detail=detail, form=form, lang=language(request))
    if result.completed is None:
        return _page(request, session, rt, actor, task_id, values=result.data, errors=result.errors, status=422)
    return RedirectResponse(f"/lacak/{detail.case.tracking_number}", status_code=303)
