"""Booking a visit slot from the portal: choose the service, day and slot; see and cancel one's bookings.

Only logged-in applicants book (their bookings are their own). Slots come from the working calendar
and the agency's booth settings (engine/queue/bookings.py); a full slot is refused with a message.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from engine.directory.actors import Actor
from engine.errors import NotAllowed
from engine.queue import bookings as bookings
from engine.queue import service as queue
from engine.queue import setup as setup
from engine.queue.errors import BookingNotFound, QueueInputInvalid, SlotFull
from engine.runtime import Runtime
from web.deps import CsrfForm, PageActor, RowId, RuntimeDep, SessionDep
from web.routing import TransactionalRoute
from web.session import language
from web.templates import Pages, pick

routes = APIRouter(route_class=TransactionalRoute, include_in_schema=False)
pages = Pages(Path(__file__).resolve().parent / "templates")
PAGE = "/kunjungan"
ServiceQuery = Annotated[str, Query(max_length=120, pattern=r"^([a-z][a-z0-9_]*)?$")]
DayQuery = Annotated[str, Query(max_length=10)]
ChannelQuery = Annotated[str, Query(pattern=r"^(tatap_muka|drive_thru)?$")]
DONE = {"dipesan": ("Kunjungan dipesan. Tunjukkan kode booking di kiosk antrean pada hari itu.",
                    "Visit booked. Show the booking code at the queue kiosk on the day."),
        "batal": ("Booking dibatalkan.", "The booking was cancelled.")}


def _applicant(actor: Actor) -> int:
    if actor.platform_role != "applicant" or actor.user_id is None:
        raise NotAllowed("only applicants book visits", message_id="hanya pemohon yang dapat memesan kunjungan")
    return actor.user_id


def _services(session: Session) -> list[tuple[str, setup.ServiceChoice]]:
    return [(a.code, s) for a in setup.hall(session) for s in a.services]


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        raise QueueInputInvalid(f"Tanggal '{text}' tidak sah (TTTT-BB-HH).",
                                f"'{text}' is not a date (YYYY-MM-DD).") from None


def _page(request: Request, session: Session, rt: Runtime, user_id: int, *, service_key: str = "", day: str = "",
          channel: str = "", error: str = "", done: str = "", status: int = 200) -> Response:
    lang = language(request)
    choices = _services(session)
    chosen = next(((agency, s) for agency, s in choices if s.key == service_key), None)
    slots: list[bookings.Slot] = []
    if chosen is not None and day and not error:
        try:
            slots = bookings.slots(session, rt.calendars.refresh(session), agency=chosen[0], day=_day(day) or date.min,
                                   channel=channel or "tatap_muka", now=rt.clock())
        except QueueInputInvalid as exc:
            error, status = exc.text(lang), 422
    context: dict[str, Any] = {
        "choices": choices, "chosen": chosen[1] if chosen else None, "service_key": service_key, "day": day,
        "channel": channel or "tatap_muka", "slots": slots, "error": error,
        "flash": pick(lang, *DONE[done]) if done in DONE else "", "today": queue.today(rt.clock()).isoformat(),
        "names": setup.agency_names(session), "mine": bookings.mine(session, user_id=user_id), "now": rt.clock(),
        "service_names": {s.key: (s.name_id, s.name_en) for _a, s in choices}}
    return pages.render(request, "queue/visits.html", context, status=status)


@routes.get(PAGE)
def visits(request: Request, session: SessionDep, rt: RuntimeDep, actor: PageActor, layanan: ServiceQuery = "",
           tanggal: DayQuery = "", kanal: ChannelQuery = "", selesai: str = "") -> Response:
    """Show one's bookings and the form to book a visit slot (slots shown once a service and day are chosen)."""
    user_id = _applicant(actor)
    return _page(request, session, rt, user_id, service_key=layanan, day=tanggal, channel=kanal, done=selesai[:10])


@routes.post(PAGE)
def book(request: Request, session: SessionDep, rt: RuntimeDep, actor: PageActor, form: CsrfForm) -> Response:
    """Book a place in the chosen slot; show the form again with the reason when it cannot be booked."""
    user_id = _applicant(actor)
    values = {k: str(form.get(k) or "")[:120] for k in ("layanan", "tanggal", "kanal", "slot")}
    agency = next((a for a, s in _services(session) if s.key == values["layanan"]), None)
    try:
        if agency is None:
            raise QueueInputInvalid("Pilih layanan dari daftar.", "Choose a service from the list.")
        with session.begin_nested():
            bookings.book(session, rt.calendars.refresh(session), user_id=user_id, agency=agency,
                          service_key=values["layanan"], day=_day(values["tanggal"]) or date.min,
                          time_label=values["slot"], channel=values["kanal"] or "tatap_muka", now=rt.clock())
    except (QueueInputInvalid, SlotFull) as exc:
        return _page(request, session, rt, user_id, service_key=values["layanan"], day=values["tanggal"],
                     channel=values["kanal"], error=exc.text(language(request)),
                     status=409 if isinstance(exc, SlotFull) else 422)
    return RedirectResponse(f"{PAGE}?selesai=dipesan", status_code=303)


@routes.post(PAGE + "/{booking_id}/batal")
def cancel(request: Request, booking_id: RowId, session: SessionDep, rt: RuntimeDep, actor: PageActor,
           form: CsrfForm) -> Response:
    """Cancel one of one's own bookings before its slot."""
    user_id = _applicant(actor)
    try:
        with session.begin_nested():
            bookings.cancel(session, user_id=user_id, booking_id=booking_id, now=rt.clock())
    except (QueueInputInvalid, BookingNotFound) as exc:
        return _page(request, session, rt, user_id, error=exc.text(language(request)), status=422)
    return RedirectResponse(f"{PAGE}?selesai=batal", status_code=303)
