"""Public tracking: tracking number and PIN once, then the case's plain-language timeline."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from engine.cases import access as access
from engine.cases import casefiles as casefiles
from engine.cases import complaint_views as complaint_views
from engine.cases import tracking as tracking
from engine.documents import service as documents
from engine.models import Case
from engine.payments import bills as bills
from engine.privacy import access_review as access_review
from engine.privacy import notice as notice
from engine.runtime import Runtime
from web.deps import ClientAddress, ContextDep, CsrfForm, OptionalPageActor, SessionDep, optional_page_actor
from web.grants import grant, tracking_granted
from web.ratelimit import RateLimited, count_pin_guess, pin_matched
from web.routing import TransactionalRoute
from web.session import language
from web.templates import Pages, pick

routes = APIRouter(route_class=TransactionalRoute, include_in_schema=False)
pages = Pages(Path(__file__).resolve().parent / "templates")


@routes.get("/lacak")
def track_form(request: Request, actor: OptionalPageActor) -> Response:
    """Ask for the tracking number and PIN."""
    return pages.render(request, "track_form.html", {"number": request.query_params.get("nomor", "")})


@routes.post("/lacak")
def track_check(request: Request, session: SessionDep, ctx: ContextDep, form: CsrfForm,
                client: ClientAddress) -> Response:
    """Check the number and PIN (the same answer whichever is wrong) and open the case's page."""
    number = str(form.get("number") or "").strip().upper()
    pin = str(form.get("pin") or "").strip()
    lang = language(request)
    limited: RateLimited | None = None
    try:  # counted before anything reads the database (on SQLite the first reader holds the write lock)
        count_pin_guess(session, client=client, tracking_number=number)
    except RateLimited as exc:
        limited = exc
    optional_page_actor(request, session)  # the page's navigation shows who is logged in
    if limited is not None:
        message = pick(lang, f"Terlalu banyak percobaan; coba lagi dalam {limited.retry_after} detik.",
                       f"Too many attempts; try again in {limited.retry_after} s.")
        refused = pages.render(request, "track_form.html", {"number": number, "error": message}, status=429)
        refused.headers["Retry-After"] = str(limited.retry_after)
        return refused
    found = (tracking.public_status(session, number=number, pin=pin, secret=ctx.settings.secret_key.get_secret_value(),
                                      rt=ctx.rt)
             if number and pin else None)
    if found is None:
        message = pick(lang, "Nomor lacak atau PIN tidak cocok. Periksa kembali bukti permohonan Anda.",
                       "The tracking number or PIN does not match. Check your application receipt.")
        return pages.render(request, "track_form.html", {"number": number, "error": message}, status=404)
    pin_matched(session, tracking_number=number)
    response = RedirectResponse(f"/lacak/{found.tracking_number}", status_code=303)
    grant(request, response, found.tracking_number)
    return response


def _owns(session: SessionDep, actor: OptionalPageActor, number: str) -> bool:
    """Tell whether the logged-in user may read this case anyway (its applicant, or its staff)."""
    if actor is None:
        return False
    case_id = tracking.case_id_of(session, number=number)
    return case_id is not None and access.may_view_case(session, actor, case_id)


@routes.get("/lacak/{number}")
def track_page(request: Request, number: str, session: SessionDep, ctx: ContextDep,
               actor: OptionalPageActor) -> Response:
    """Show status, current stage, who holds it, expected date and the timeline."""
    if not (tracking_granted(request, number) or _owns(session, actor, number)):
        return RedirectResponse(f"/lacak?nomor={tracking.normalise(number)}", status_code=303)
    found = tracking.status_by_number(session, number=number, rt=ctx.rt)
    if found is None:
        return RedirectResponse("/lacak", status_code=303)
    issued = documents.list_for_tracking(session, tracking_number=found.tracking_number)
    case_bills = bills.bills_for_tracking(session, tracking_number=found.tracking_number)
    return pages.render(request, "track.html", {"s": found, "documents": issued, "number": found.tracking_number,
                                                "bills": case_bills, **_own_files(session, ctx.rt, actor, number),
                                                "openings": access_review.openings(session,
                                                                                   tracking_number=found.tracking_number),
                                                "accepted_notices": notice.accepted_by_number(
                                                    session, tracking_number=found.tracking_number),
                                                **_complaints(session, found.tracking_number)})


def _complaints(session: SessionDep, number: str) -> dict[str, Any]:
    """Return the complaint this case is (its answer), or the complaints filed on it (docs/complaints.md)."""
    return {"complaint": complaint_views.complaint_of(session, tracking_number=number),
            "complaints_on": complaint_views.complaints_on(session, tracking_number=number)}


def _own_files(session: SessionDep, rt: Runtime, actor: OptionalPageActor, number: str) -> dict[str, Any]:
    """Return the files the logged-in user uploaded to this case, with field labels (none for a PIN-only visitor)."""
    case_id = tracking.case_id_of(session, number=number) if actor is not None else None
    case = session.get(Case, case_id) if case_id is not None else None
    if actor is None or case is None or not access.may_view_case(session, actor, case.id):
        return {"own_files": []}
    files = [f for f in casefiles.case_files(session, case=case) if f.uploaded_by == actor.user_id]
    return {"own_files": files, "file_labels": rt.labels(session, case.process_version_id)}
