"""Complaints: on a case (from its tracking page) or a service (from its page), and a service's answered ones.

Anyone may complain, logged in or not: without an account the complainant gives an email or phone
number and gets the complaint's own tracking number and PIN. Each filing is counted per client
(web/ratelimit.py) before anything else, and the form carries the CSRF token like every other form.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from engine.cases import access as access
from engine.cases import complaint_views as complaint_views
from engine.cases import complaints as complaints
from engine.cases import service as cases
from engine.cases import tracking as tracking
from engine.catalogue import service as catalogue
from engine.directory.actors import Actor
from engine.errors import CaseNotFound
from engine.runtime import Runtime
from forms.validation import FormInvalid
from web.deps import ClientAddress, CsrfForm, OptionalPageActor, RuntimeDep, SessionDep, optional_page_actor
from web.grants import grant, tracking_granted
from web.jsonform import build_fields, errors_by_field, read_form
from web.ratelimit import RateLimited, count_complaint
from web.routing import TransactionalRoute
from web.session import language
from web.templates import Pages, pick

routes = APIRouter(route_class=TransactionalRoute, include_in_schema=False)
pages = Pages(Path(__file__).resolve().parent / "templates")
PUBLIC = Actor(None, "publik", "public")  # who files a complaint without logging in


def _skip(schema: dict[str, Any]) -> tuple[str, ...]:
    """Return the start form's fields the complainant does not type (filled from what the complaint is about)."""
    return tuple(name for name in schema.get("properties", {}) if name not in complaints.FIELDS)


def _form_page(request: Request, session: Session, rt: Runtime, target: complaints.Target, *, action: str,
               values: dict[str, Any], errors: dict[str, str], status: int = 200) -> Response:
    start = cases.start_form(session, rt=rt, process_key=complaints.COMPLAINT_SERVICE)
    fields = build_fields(start.schema, start.ui_schema, lang=language(request), values=values, errors=errors,
                          skip=_skip(start.schema))
    return pages.render(request, "complaint_form.html", {"target": target, "fields": fields, "errors": errors,
                                                         "action": action}, status=status)


def _file(request: Request, session: Session, rt: Runtime, form: FormData, client: str, *, action: str,
          target_of: Callable[[], complaints.Target]) -> Response:
    """Count the filing, then file the complaint; show its tracking number and PIN, or the form with errors."""
    limited: RateLimited | None = None
    try:  # counted before anything reads the database (on SQLite the first reader holds the write lock)
        count_complaint(session, client=client)
    except RateLimited as exc:
        limited = exc
    actor = optional_page_actor(request, session)
    target = target_of()
    start = cases.start_form(session, rt=rt, process_key=complaints.COMPLAINT_SERVICE)
    data, _uploads = read_form(start.schema, start.ui_schema, form, skip=_skip(start.schema))
    lang = language(request)
    if limited is not None:
        message = pick(lang, f"Terlalu banyak pengaduan dari alamat ini; coba lagi dalam {limited.retry_after} detik.",
                       f"Too many complaints from this address; try again in {limited.retry_after} s.")
        refused = _form_page(request, session, rt, target, action=action, values=data, errors={"(form)": message},
                             status=429)
        refused.headers["Retry-After"] = str(limited.retry_after)
        return refused
    applicant_id = actor.user_id if actor is not None and actor.platform_role == "applicant" else None
    try:
        with session.begin_nested():
            started = complaints.file_complaint(session, rt=rt, target=target, data=data, actor=actor or PUBLIC,
                                                applicant_id=applicant_id)
    except FormInvalid as exc:
        return _form_page(request, session, rt, target, action=action, values=data,
                          errors=errors_by_field(exc.field_errors, lang=lang), status=422)
    response = pages.render(request, "complaint_filed.html", {"started": started, "target": target})
    grant(request, response, started.tracking_number)
    return response


@routes.get("/layanan/{key}/pengaduan")
def service_complaint_form(request: Request, key: str, session: SessionDep, rt: RuntimeDep,
                           actor: OptionalPageActor) -> Response:
    """Show the complaint form about a service."""
    target = complaints.service_target(session, rt=rt, service_key=key)
    return _form_page(request, session, rt, target, action=f"/layanan/{key}/pengaduan", values={}, errors={})


@routes.post("/layanan/{key}/pengaduan")
def service_complaint(request: Request, key: str, session: SessionDep, rt: RuntimeDep, form: CsrfForm,
                      client: ClientAddress) -> Response:
    """File a complaint about a service."""
    return _file(request, session, rt, form, client, action=f"/layanan/{key}/pengaduan",
                 target_of=lambda: complaints.service_target(session, rt=rt, service_key=key))


def _case_id(request: Request, session: Session, actor: Actor | None, number: str) -> int | None:
    """Return the case a browser may complain about: one it proved the PIN of, or the user may read."""
    case_id = tracking.case_id_of(session, number=tracking.normalise(number))
    if case_id is None:
        return None
    if tracking_granted(request, number) or (actor is not None and access.may_view_case(session, actor, case_id)):
        return case_id
    return None


@routes.get("/lacak/{number}/pengaduan")
def case_complaint_form(request: Request, number: str, session: SessionDep, rt: RuntimeDep,
                        actor: OptionalPageActor) -> Response:
    """Show the complaint form about one case (after its tracking number and PIN)."""
    case_id = _case_id(request, session, actor, number)
    if case_id is None:
        return RedirectResponse(f"/lacak?nomor={tracking.normalise(number)}", status_code=303)
    target = complaints.case_target(session, rt=rt, case_id=case_id)
    return _form_page(request, session, rt, target, action=f"/lacak/{target.about_number}/pengaduan",
                      values={}, errors={})


@routes.post("/lacak/{number}/pengaduan")
def case_complaint(request: Request, number: str, session: SessionDep, rt: RuntimeDep, form: CsrfForm,
                   client: ClientAddress) -> Response:
    """File a complaint about one case."""
    def target_of() -> complaints.Target:
        case_id = _case_id(request, session, optional_page_actor(request, session), number)
        if case_id is None:
            raise CaseNotFound(f"no case '{number}' this browser may complain about; open it with its PIN first")
        return complaints.case_target(session, rt=rt, case_id=case_id)

    return _file(request, session, rt, form, client, action=f"/lacak/{tracking.normalise(number)}/pengaduan",
                 target_of=target_of)


@routes.get("/layanan/{key}/pengaduan-ditanggapi")
def answered(request: Request, key: str, session: SessionDep, rt: RuntimeDep, actor: OptionalPageActor) -> Response:
    """List a service's answered complaints: summary, answer and dates, never who complained."""
    service = catalogue.get_service(session, rt=rt, key=key)
    rows = complaint_views.answered_for_service(session, service_key=key)
    return pages.render(request, "complaints_answered.html", {"service": service, "rows": rows})
