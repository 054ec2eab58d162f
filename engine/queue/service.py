"""Tickets and counters: take a numbered ticket, call it to a counter, serve, finish, no-show, transfer.

Numbers are drawn per day (WIB) and prefix: `max(seq) + 1`, inserted inside a savepoint; a kiosk
that lost the race to another gets an integrity error on (day, prefix, seq) and draws again, as
document numbers do (engine/documents/numbering.py).

Calling is two conditional updates: the ticket from `waiting` to `called` (so a ticket one counter
called cannot be called by another: the second update finds it no longer waiting and moves on to
the next), and the counter's `current_ticket_id` from empty to the ticket (so two officers at one
counter cannot call two tickets). Both run in a savepoint, all or nothing. Call order: priority
tickets (disability, 60+, pregnancy) and bookings whose slot has begun first, by their time; then
everyone else first-come (docs/queue.md).
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine.cases import access as access
from engine.cases import tracking as tracking
from engine.cases.assignment import agency_of
from engine.cases.priority import PRIORITY
from engine.directory.actors import Actor
from engine.models import Case, QueueCounter, QueueTicket
from engine.queue import setup as setup
from engine.queue.errors import (
    CounterBusy,
    CounterNotFound,
    NoTicketAtCounter,
    NotYourCounter,
    QueueInputInvalid,
    TicketTaken,
)

WIB = ZoneInfo("Asia/Jakarta")
MAX_TRIES = 20
ACTIVE = ("called", "serving")


def today(now: datetime) -> date:
    """Return the queue day (the date in WIB) of a moment."""
    return now.astimezone(WIB).date()


def _last(session: Session, day: date, prefix: str) -> int:
    return session.scalar(select(func.max(QueueTicket.seq)).where(QueueTicket.day == day,
                                                                  QueueTicket.prefix == prefix)) or 0


def take_ticket(session: Session, *, agency: str, service_key: str | None, priority: str | None, now: datetime,
                booking_id: int | None = None, slot_at: datetime | None = None) -> QueueTicket:
    """Draw the next number of an agency's queue today and return the new waiting ticket."""
    choice = setup.agency_choice(session, agency)
    if service_key is not None:
        setup.service_of(session, agency, service_key)
    if priority is not None and priority not in PRIORITY:
        raise QueueInputInvalid("Pilih alasan layanan prioritas dari daftar.",
                                f"Choose the reason for priority service from: {', '.join(PRIORITY)}.")
    day = today(now)
    for _ in range(MAX_TRIES):
        seq = _last(session, day, choice.prefix) + 1
        ticket = QueueTicket(token=secrets.token_urlsafe(16), day=day, prefix=choice.prefix, seq=seq,
                             number=f"{choice.prefix}-{seq:03d}", agency=agency, service_key=service_key,
                             priority=priority, status="waiting", taken_at=now, calls=0, booking_id=booking_id,
                             slot_at=slot_at)
        try:
            with session.begin_nested():
                session.add(ticket)
        except IntegrityError:
            continue  # another kiosk took this number first: look again
        return ticket
    raise RuntimeError(f"could not draw a queue number for {agency}")  # 20 lost races in a row


def may_work_at(actor: Actor, agency: str) -> bool:
    """Tell whether the actor is an officer holding a role of the agency."""
    return actor.platform_role == "officer" and any(agency_of(role) == agency for role, _org in actor.memberships)


def counters_for(session: Session, actor: Actor) -> list[QueueCounter]:
    """Return the active counters the actor may work at."""
    return [c for c in setup.counters(session, active_only=True) if may_work_at(actor, c.agency)]


def counter_for(session: Session, actor: Actor, counter_id: int) -> QueueCounter:
    """Return an active counter the actor may work at; refuse any other."""
    row = session.get(QueueCounter, counter_id)
    if row is None or not row.active:
        raise CounterNotFound()
    if not may_work_at(actor, row.agency):
        raise NotYourCounter()
    return row


def serves(counter: QueueCounter, ticket: QueueTicket) -> bool:
    """Tell whether a counter serves a ticket: same agency, and the ticket's service among the counter's."""
    return ticket.agency == counter.agency and (
        not counter.services or ticket.service_key is None or ticket.service_key in counter.services)


def order_key(ticket: QueueTicket, now: datetime) -> tuple[int, datetime, int]:
    """Sort key of the call order: priority and due bookings first by their time, then first-come."""
    due = ticket.slot_at is not None and ticket.slot_at <= now
    first = ticket.priority is not None or due
    at = ticket.slot_at if due and ticket.slot_at is not None else ticket.taken_at
    return (0 if first else 1, at, ticket.id)


def waiting(session: Session, *, agency: str, now: datetime) -> list[QueueTicket]:
    """Return an agency's waiting tickets of today in call order."""
    rows = session.scalars(select(QueueTicket).where(QueueTicket.day == today(now), QueueTicket.agency == agency,
                                                     QueueTicket.status == "waiting"))
    return sorted(rows, key=lambda t: order_key(t, now))


def current(session: Session, counter: QueueCounter) -> QueueTicket | None:
    """Return the ticket at a counter now, if any."""
    return session.get(QueueTicket, counter.current_ticket_id) if counter.current_ticket_id is not None else None


def _claim(session: Session, counter: QueueCounter, ticket: QueueTicket, actor: Actor, now: datetime) -> bool:
    """Move a waiting ticket to the counter; False when someone else moved it first."""
    with session.begin_nested():
        taken = cast(CursorResult[Any], session.execute(
            update(QueueTicket).where(QueueTicket.id == ticket.id, QueueTicket.status == "waiting")
            .values(status="called", counter_id=counter.id, called_at=now, calls=QueueTicket.calls + 1,
                    served_by=actor.user_id).execution_options(synchronize_session=False))).rowcount
        if taken != 1:
            return False
        held = cast(CursorResult[Any], session.execute(
            update(QueueCounter).where(QueueCounter.id == counter.id, QueueCounter.current_ticket_id.is_(None))
            .values(current_ticket_id=ticket.id).execution_options(synchronize_session=False))).rowcount
        if held != 1:
            raise CounterBusy(_number_at(session, counter.id))  # rolls the ticket's update back too
    session.refresh(ticket)
    session.refresh(counter)
    return True


def _number_at(session: Session, counter_id: int) -> str:
    held = session.scalar(select(QueueCounter.current_ticket_id).where(QueueCounter.id == counter_id))
    return session.scalar(select(QueueTicket.number).where(QueueTicket.id == held)) or "?"


def _refuse_busy(session: Session, counter: QueueCounter) -> None:
    session.refresh(counter)
    if counter.current_ticket_id is not None:
        raise CounterBusy(_number_at(session, counter.id))


def call_next(session: Session, *, counter: QueueCounter, actor: Actor, now: datetime) -> QueueTicket | None:
    """Call the next waiting ticket this counter serves to it; None when nobody waits."""
    _refuse_busy(session, counter)
    for ticket in waiting(session, agency=counter.agency, now=now):
        if serves(counter, ticket) and _claim(session, counter, ticket, actor, now):
            return ticket
    return None


def call_ticket(session: Session, *, counter: QueueCounter, ticket: QueueTicket, actor: Actor,
                now: datetime) -> QueueTicket:
    """Call one waiting ticket (out of order) to the counter; refuse one another counter called first."""
    _refuse_busy(session, counter)
    if ticket.day != today(now) or not serves(counter, ticket) or not _claim(session, counter, ticket, actor, now):
        raise TicketTaken(ticket.number)
    return ticket


def _held(session: Session, counter: QueueCounter, states: Sequence[str] = ACTIVE) -> QueueTicket:
    session.refresh(counter)
    ticket = current(session, counter)
    if ticket is None or ticket.status not in states:
        raise NoTicketAtCounter()
    return ticket


def recall(session: Session, *, counter: QueueCounter, now: datetime) -> QueueTicket:
    """Call the counter's ticket again (the display announces it once more)."""
    ticket = _held(session, counter, ("called",))
    ticket.calls += 1
    session.flush()
    return ticket


def serve(session: Session, *, counter: QueueCounter, now: datetime) -> QueueTicket:
    """Mark that the called visitor came to the counter."""
    ticket = _held(session, counter, ("called",))
    ticket.status = "serving"
    session.flush()
    return ticket


def _release(session: Session, counter: QueueCounter, ticket: QueueTicket) -> None:
    counter.current_ticket_id = None
    ticket.counter_id = counter.id
    session.flush()


def finish(session: Session, *, counter: QueueCounter, now: datetime, case_id: int | None = None) -> QueueTicket:
    """Close the counter's ticket as served (with the case it led to, if any) and free the counter."""
    ticket = _held(session, counter)
    ticket.status, ticket.finished_at = "done", now
    if case_id is not None:
        ticket.case_id = case_id
    _release(session, counter, ticket)
    return ticket


def case_for_ticket(session: Session, *, actor: Actor, tracking_number: str) -> int:
    """Return the id of the case with this tracking number if the officer may read it (what a visit led to)."""
    found = session.scalar(select(Case.id).where(Case.tracking_number == tracking.normalise(tracking_number)))
    if found is None or not access.may_view_case(session, actor, found):
        raise QueueInputInvalid(f"Tidak ada permohonan bernomor '{tracking_number}' yang dapat Anda buka.",
                                f"No application numbered '{tracking_number}' that you may open.")
    return found


def no_show(session: Session, *, counter: QueueCounter, now: datetime) -> QueueTicket:
    """Close the counter's called ticket as not turned up and free the counter."""
    ticket = _held(session, counter, ("called",))
    ticket.status, ticket.finished_at = "no_show", now
    _release(session, counter, ticket)
    return ticket


def transfer(session: Session, *, counter: QueueCounter, agency: str, service_key: str | None,
             now: datetime) -> QueueTicket:
    """Send the counter's ticket to another agency's queue (same number, waiting again) and free the counter."""
    ticket = _held(session, counter)
    setup.agency_choice(session, agency)
    if agency == counter.agency:
        raise QueueInputInvalid("Pilih instansi lain untuk mengalihkan tiket.",
                                "Choose another agency to transfer the ticket to.")
    if service_key is not None:
        setup.service_of(session, agency, service_key)
    ticket.transferred_from, ticket.agency, ticket.service_key = counter.agency, agency, service_key
    ticket.status, ticket.called_at, ticket.served_by = "waiting", None, None
    counter.current_ticket_id = None
    ticket.counter_id = None
    session.flush()
    return ticket
