"""Queue shapes: the hall display, a ticket, a counter and what it does (docs/queue.md)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import Field

from api.schemas.common import Model

TICKET_STATES = "waiting | called | serving | done | no_show | cancelled"
Priority = Literal["disabilitas", "lansia", "hamil"]


class CounterNowRead(Model):
    """A counter on the display and the number at it."""

    code: str
    name: str
    agency: str
    number: str | None = Field(description="the ticket at the counter now; null when it is free")
    calls: int = Field(description="how often that ticket was called: a change means call it out again")


class CalledRead(Model):
    """A number called lately."""

    number: str
    counter_code: str
    counter_name: str
    agency: str
    calls: int
    called_at: datetime | None


class WaitingRead(Model):
    """How many wait for an agency's counters."""

    agency: str
    name_id: str
    name_en: str
    prefix: str
    count: int


class DisplayRead(Model):
    """The hall display: each active counter's number, the last calls and the waiting counts."""

    counters: list[CounterNowRead]
    recent: list[CalledRead]
    waiting: list[WaitingRead]


class TicketCreate(Model):
    """A ticket to take at a kiosk: the agency's queue, the service (none: a general enquiry), priority."""

    agency: str = Field(min_length=1, max_length=64)
    service_key: str | None = Field(default=None, max_length=120)
    priority: Priority | None = Field(default=None, description="priority service: disability, 60+, pregnancy")


class CheckIn(Model):
    """A booking code shown at the kiosk on the booked day."""

    code: str = Field(min_length=1, max_length=12)


class TicketRead(Model):
    """A ticket as its holder sees it; `token` addresses it (/api/queue/tickets/{token})."""

    number: str
    token: str
    agency: str
    service_key: str | None
    priority: str | None
    status: str = Field(description=TICKET_STATES)
    counter_code: str | None
    ahead: int = Field(description="waiting tickets called before this one")
    wait_minutes: int = Field(description="estimate from today's median service time and the open counters")
    booked: bool
    taken_at: datetime


class TicketAtCounterRead(Model):
    """A ticket as a counter officer sees it."""

    id: int
    number: str
    agency: str
    service_key: str | None
    priority: str | None
    status: str = Field(description=TICKET_STATES)
    calls: int
    taken_at: datetime
    called_at: datetime | None
    slot_at: datetime | None
    booking_id: int | None


class CounterRead(Model):
    """A counter the officer may work at, with its ticket now and the next ones it would call."""

    id: int
    code: str
    name: str
    agency: str
    services: list[str]
    current: TicketAtCounterRead | None
    upcoming: list[TicketAtCounterRead]
    waiting: int


class CallRequest(Model):
    """Call the next ticket, or one waiting ticket by id (out of order)."""

    ticket_id: int | None = Field(default=None, ge=1, le=2**31 - 1)


class CallResult(Model):
    """The ticket called; null when nobody waits for this counter."""

    ticket: TicketAtCounterRead | None


class DoneRequest(Model):
    """Close the counter's ticket as served; optionally with the case it led to."""

    case_id: int | None = Field(default=None, ge=1, le=2**31 - 1)


class TransferRequest(Model):
    """Send the counter's ticket to another agency's queue."""

    agency: str = Field(min_length=1, max_length=64)
    service_key: str | None = Field(default=None, max_length=120)


class SpreadRead(Model):
    """Median and 90th percentile in minutes; null without any ticket."""

    median: float | None
    p90: float | None


class AgencyQueueRead(Model):
    """One agency's queue over the period (agency "" is the total)."""

    agency: str
    tickets: int = Field(description="tickets taken: the visitors")
    served: int
    no_shows: int
    waiting: SpreadRead = Field(description="from taking the ticket to its first call")
    service: SpreadRead = Field(description="from the call to done")


class VisitorsPerDay(Model):
    """Tickets taken on one day (WIB)."""

    day: date
    tickets: int


class QueueFiguresRead(Model):
    """The hall queue over a period: visitors per day, figures per agency and in total."""

    date_from: date
    date_to: date
    per_day: list[VisitorsPerDay]
    agencies: list[AgencyQueueRead]
    total: AgencyQueueRead
