"""What the queue pages show: a ticket's place and estimated wait, a counter's queue, the hall display."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.models import QueueCounter, QueueTicket
from engine.queue import service as queue
from engine.queue import setup as setup
from engine.queue.errors import TicketNotFound

DEFAULT_SERVICE_S = 10 * 60  # assumed service time until a counter of the agency finished a ticket today
RECENT = 6


@dataclass(frozen=True)
class TicketView:
    """A ticket as its holder sees it: number, queue, state, counter, how many are ahead and the wait."""

    number: str
    token: str
    agency: str
    agency_id: str
    agency_en: str
    service_key: str | None
    priority: str | None
    status: str
    counter_code: str | None
    counter_name: str | None
    ahead: int
    wait_minutes: int
    booked: bool
    taken_at: datetime


@dataclass(frozen=True)
class Called:
    """A number called to a counter."""

    number: str
    counter_code: str
    counter_name: str
    agency: str
    calls: int
    called_at: datetime | None


@dataclass(frozen=True)
class CounterNow:
    """A counter on the hall display: its code, name and agency, and the number at it (if any)."""

    code: str
    name: str
    agency: str
    number: str | None
    calls: int


@dataclass(frozen=True)
class Waiting:
    """How many wait for an agency's counters."""

    agency: str
    name_id: str
    name_en: str
    prefix: str
    count: int


@dataclass(frozen=True)
class Display:
    """The hall display: each counter's number now, the last numbers called, and waiting counts."""

    counters: list[CounterNow]
    recent: list[Called]
    waiting: list[Waiting]


def median_service_s(session: Session, *, agency: str, now: datetime) -> float:
    """Return today's median service time (called to done) at an agency's counters, or the default."""
    rows = session.execute(select(QueueTicket.called_at, QueueTicket.finished_at).where(
        QueueTicket.day == queue.today(now), QueueTicket.agency == agency, QueueTicket.status == "done",
        QueueTicket.called_at.is_not(None), QueueTicket.finished_at.is_not(None)))
    spans = [(end - start).total_seconds() for start, end in rows if start is not None and end is not None]
    return statistics.median(spans) if spans else DEFAULT_SERVICE_S


def estimate_minutes(session: Session, *, agency: str, ahead: int, now: datetime) -> int:
    """Return the estimated wait in minutes for someone with `ahead` tickets before them."""
    open_counters = max(1, len(setup.counters(session, agency=agency, active_only=True)))
    return math.ceil(ahead * median_service_s(session, agency=agency, now=now) / open_counters / 60)


def ticket_view(session: Session, *, token: str, now: datetime) -> TicketView:
    """Return the ticket behind a ticket page's address, with its place in the queue."""
    ticket = session.scalar(select(QueueTicket).where(QueueTicket.token == token))
    if ticket is None:
        raise TicketNotFound()
    ahead = 0
    if ticket.status == "waiting":
        line = queue.waiting(session, agency=ticket.agency, now=now)
        ahead = next((i for i, t in enumerate(line) if t.id == ticket.id), 0)
    counter = session.get(QueueCounter, ticket.counter_id) if ticket.counter_id is not None else None
    name_id, name_en = setup.agency_names(session).get(ticket.agency, (ticket.agency, ticket.agency))
    return TicketView(ticket.number, ticket.token, ticket.agency, name_id, name_en, ticket.service_key,
                      ticket.priority, ticket.status, counter.code if counter else None,
                      counter.name if counter else None, ahead,
                      estimate_minutes(session, agency=ticket.agency, ahead=ahead, now=now) if ahead else 0,
                      ticket.booking_id is not None, ticket.taken_at)


def display(session: Session, *, now: datetime) -> Display:
    """Return what the hall display shows now."""
    counters = setup.counters(session, active_only=True)
    held = {t.id: t for t in session.scalars(select(QueueTicket).where(
        QueueTicket.id.in_([c.current_ticket_id for c in counters if c.current_ticket_id is not None])))}
    at_counters = [CounterNow(c.code, c.name, c.agency, held[c.current_ticket_id].number
                              if c.current_ticket_id in held else None,
                              held[c.current_ticket_id].calls if c.current_ticket_id in held else 0)
                   for c in counters]
    by_id = {c.id: c for c in setup.counters(session)}
    recent_rows = session.scalars(select(QueueTicket).where(
        QueueTicket.day == queue.today(now), QueueTicket.called_at.is_not(None), QueueTicket.counter_id.is_not(None))
        .order_by(QueueTicket.called_at.desc(), QueueTicket.id.desc()).limit(RECENT))
    recent = [Called(t.number, by_id[t.counter_id].code, by_id[t.counter_id].name, t.agency, t.calls, t.called_at)
              for t in recent_rows if t.counter_id in by_id]
    counts = dict(session.execute(select(QueueTicket.agency, func.count()).where(
        QueueTicket.day == queue.today(now), QueueTicket.status == "waiting").group_by(QueueTicket.agency)).all())
    names = setup.agency_names(session)
    prefixes = {c.agency: setup.booth(session, c.agency).prefix for c in counters}  # no catalogue read per poll
    waiting = [Waiting(code, *names.get(code, (code, code)), prefix, int(counts.get(code, 0)))
               for code, prefix in sorted(prefixes.items(), key=lambda item: (item[1], item[0]))]
    return Display(at_counters, recent, waiting)


@dataclass(frozen=True)
class CounterDesk:
    """A counter's page: the ticket at it and the tickets it would call next."""

    counter: QueueCounter
    ticket: QueueTicket | None
    upcoming: list[QueueTicket]
    waiting_count: int


def desk(session: Session, *, counter: QueueCounter, now: datetime, show: int = 8) -> CounterDesk:
    """Return what an officer at a counter sees."""
    line = [t for t in queue.waiting(session, agency=counter.agency, now=now) if queue.serves(counter, t)]
    return CounterDesk(counter, queue.current(session, counter), line[:show], len(line))
