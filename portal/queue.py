"""The hall's public pages: the ticket kiosk, a ticket's page and the hall display (no login).

The kiosk takes a numbered ticket for an agency's booth (a service, or a general enquiry; priority
service for disability, 60+ and pregnancy) or turns a booking code into the day's ticket. Each
ticket taken is counted per client (web/ratelimit.py) before anything else is read. The display
polls /api/queue/display (api/queue.py) every few seconds; see docs/queue.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Request
from fastapi import Path as PathParam
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from engine.queue import bookings as bookings
from engine.queue import service as queue
from engine.queue import setup as setup
from engine.queue import views as views
from engine.queue.errors import BookingNotFound, QueueInputInvalid
from web.deps import ClientAddress, CsrfForm, OptionalPageActor, RuntimeDep, SessionDep
from web.ratelimit import RateLimited, count_ticket
from web.routing import TransactionalRoute
from web.session import language
from web.templates import Pages, pick

routes = APIRouter(route_class=TransactionalRoute, include_in_schema=False)
pages = Pages(Path(__file__).resolve().parent / "templates")
KIOSK = "/antrean"
AgencyPath = Annotated[str, PathParam(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_]*$")]
TokenPath = Annotated[str, PathParam(min_length=8, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")]


def _text(form: FormData, name: str, limit: int = 120) -> str:
    value = form.get(name)
    return value.strip()[:limit] if isinstance(value, str) else ""


def _kiosk(request: Request, session: Session, *, error: str = "", code: str = "", status: int = 200) -> Response:
    return pages.render(request, "queue/kiosk.html", {"hall": setup.hall(session), "error": error, "code": code},
                        status=status)


def _limited(request: Request, exc: RateLimited) -> str:
    return pick(language(request), f"Terlalu banyak tiket dari perangkat ini; coba lagi dalam {exc.retry_after} detik.",
                f"Too many tickets from this device; try again in {exc.retry_after} s.")


@routes.get(KIOSK)
def kiosk(request: Request, session: SessionDep, actor: OptionalPageActor) -> Response:
    """Show the ticket kiosk: the agencies of the hall, and the booking-code check-in."""
    return _kiosk(request, session)


@routes.get(KIOSK + "/instansi/{agency}")
def kiosk_agency(request: Request, agency: AgencyPath, session: SessionDep, actor: OptionalPageActor) -> Response:
    """Show an agency's services to take a ticket for, with the priority-service choice."""
    return pages.render(request, "queue/kiosk_agency.html", {"agency": setup.agency_choice(session, agency),
                                                            "error": ""})


def _over_limit(request: Request, session: Session, client: str) -> Response | None:
    """Count a kiosk ticket for the device; return the kiosk page with a 429 when it is over its limit."""
    try:  # counted before anything reads the database (on SQLite the first reader holds the write lock)
        count_ticket(session, client=client)
    except RateLimited as exc:
        refused = _kiosk(request, session, error=_limited(request, exc), status=429)
        refused.headers["Retry-After"] = str(exc.retry_after)
        return refused
    return None


@routes.post(KIOSK + "/ambil")
def take(request: Request, session: SessionDep, rt: RuntimeDep, form: CsrfForm, client: ClientAddress) -> Response:
    """Take a ticket for an agency's queue and show its page."""
    refused = _over_limit(request, session, client)
    if refused is not None:
        return refused
    agency = _text(form, "instansi", 64)
    try:
        with session.begin_nested():
            ticket = queue.take_ticket(session, agency=agency, service_key=_text(form, "layanan") or None,
                                       priority=_text(form, "prioritas", 16) or None, now=rt.clock())
    except QueueInputInvalid as exc:
        return _kiosk(request, session, error=exc.text(language(request)), status=422)
    return RedirectResponse(f"{KIOSK}/tiket/{ticket.token}", status_code=303)


@routes.post(KIOSK + "/booking")
def check_in(request: Request, session: SessionDep, rt: RuntimeDep, form: CsrfForm, client: ClientAddress) -> Response:
    """Turn a booking code into today's ticket and show its page."""
    refused = _over_limit(request, session, client)
    if refused is not None:
        return refused
    code = _text(form, "kode", 12)
    try:
        with session.begin_nested():
            ticket = bookings.check_in(session, code=code, now=rt.clock())
    except (BookingNotFound, QueueInputInvalid) as exc:
        return _kiosk(request, session, error=exc.text(language(request)), code=code, status=422)
    return RedirectResponse(f"{KIOSK}/tiket/{ticket.token}", status_code=303)


@routes.get(KIOSK + "/tiket/{token}")
def ticket_page(request: Request, token: TokenPath, session: SessionDep, rt: RuntimeDep,
                actor: OptionalPageActor) -> Response:
    """Show a ticket: its number, the booth, how many are ahead and the estimated wait."""
    seen = views.ticket_view(session, token=token, now=rt.clock())
    names = {s.key: (s.name_id, s.name_en) for s in setup.services_of(session, seen.agency)}
    prefix = setup.booth(session, seen.agency).prefix
    counters = setup.counters(session, agency=seen.agency, active_only=True)
    return pages.render(request, "queue/ticket.html", {"ticket": seen, "service": names.get(seen.service_key or ""),
                                                       "prefix": prefix, "counters": counters})


@routes.get(KIOSK + "/layar")
def display_page(request: Request, session: SessionDep, rt: RuntimeDep, actor: OptionalPageActor) -> Response:
    """Show the hall display: numbers called per counter, the last calls, waiting counts (refreshes itself)."""
    return pages.render(request, "queue/display.html", {"shown": views.display(session, now=rt.clock()),
                                                        "names": setup.agency_names(session)})
