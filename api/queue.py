"""The queue over JSON: the hall display and tickets (public), and the counters' calls (their agency's officers)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Path

from api.deps import ClientAddress, CurrentActor, RuntimeDep, SessionDep
from api.routing import router
from api.schemas.queue import (
    CallRequest,
    CallResult,
    CheckIn,
    CounterRead,
    DisplayRead,
    DoneRequest,
    TicketAtCounterRead,
    TicketCreate,
    TicketRead,
    TransferRequest,
)
from engine.cases import access as access
from engine.errors import CaseNotFound
from engine.models import QueueCounter, QueueTicket
from engine.queue import bookings as bookings
from engine.queue import service as queue
from engine.queue import views as views
from engine.queue.errors import TicketNotFound
from engine.runtime import Runtime
from web.ratelimit import count_ticket

routes = router(tags=["queue"])
Token = Annotated[str, Path(min_length=8, max_length=32, pattern=r"^[A-Za-z0-9_-]+$", description="a ticket's token")]
CounterId = Annotated[int, Path(ge=1, le=2**31 - 1, description="a counter's id")]


@routes.get("/api/queue/display", response_model=DisplayRead)
def display(session: SessionDep, rt: RuntimeDep) -> DisplayRead:
    """Return what the hall display shows: each active counter's number, the last calls, waiting counts."""
    return DisplayRead.model_validate(views.display(session, now=rt.clock()))


def _ticket(session: SessionDep, rt: Runtime, token: str) -> TicketRead:
    seen = views.ticket_view(session, token=token, now=rt.clock())
    return TicketRead(number=seen.number, token=seen.token, agency=seen.agency, service_key=seen.service_key,
                      priority=seen.priority, status=seen.status, counter_code=seen.counter_code,
                      ahead=seen.ahead, wait_minutes=seen.wait_minutes,
                      booked=seen.booked, taken_at=seen.taken_at)


@routes.post("/api/queue/tickets", response_model=TicketRead, status_code=201)
def take(body: TicketCreate, session: SessionDep, rt: RuntimeDep, client: ClientAddress) -> TicketRead:
    """Take a ticket for an agency's queue (a kiosk); counted per client like the kiosk page."""
    count_ticket(session, client=client)
    ticket = queue.take_ticket(session, agency=body.agency, service_key=body.service_key, priority=body.priority,
                               now=rt.clock())
    return _ticket(session, rt, ticket.token)


@routes.post("/api/queue/check-in", response_model=TicketRead, status_code=201)
def check_in(body: CheckIn, session: SessionDep, rt: RuntimeDep, client: ClientAddress) -> TicketRead:
    """Turn a booking code into today's ticket (called first from the booked slot's start)."""
    count_ticket(session, client=client)
    return _ticket(session, rt, bookings.check_in(session, code=body.code, now=rt.clock()).token)


@routes.get("/api/queue/tickets/{token}", response_model=TicketRead)
def ticket(token: Token, session: SessionDep, rt: RuntimeDep) -> TicketRead:
    """Return a ticket's state, how many are ahead and the estimated wait."""
    return _ticket(session, rt, token)


def _counter(session: SessionDep, rt: Runtime, counter: QueueCounter) -> CounterRead:
    seen = views.desk(session, counter=counter, now=rt.clock())
    return CounterRead(id=counter.id, code=counter.code, name=counter.name, agency=counter.agency,
                       services=list(counter.services),
                       current=TicketAtCounterRead.model_validate(seen.ticket) if seen.ticket else None,
                       upcoming=[TicketAtCounterRead.model_validate(t) for t in seen.upcoming],
                       waiting=seen.waiting_count)


@routes.get("/api/queue/counters", response_model=list[CounterRead])
def counters(session: SessionDep, rt: RuntimeDep, actor: CurrentActor) -> list[CounterRead]:
    """List the active counters the caller may work at (officers of the counter's agency)."""
    return [_counter(session, rt, c) for c in queue.counters_for(session, actor)]


@routes.get("/api/queue/counters/{counter_id}", response_model=CounterRead)
def counter(counter_id: CounterId, session: SessionDep, rt: RuntimeDep, actor: CurrentActor) -> CounterRead:
    """Return one counter: its ticket now and the next ones it would call."""
    return _counter(session, rt, queue.counter_for(session, actor, counter_id))


@routes.post("/api/queue/counters/{counter_id}/call", response_model=CallResult)
def call(counter_id: CounterId, body: CallRequest, session: SessionDep, rt: RuntimeDep,
         actor: CurrentActor) -> CallResult:
    """Call the next ticket (priority and due bookings first), or one waiting ticket by id, to the counter."""
    desk = queue.counter_for(session, actor, counter_id)
    if body.ticket_id is None:
        called = queue.call_next(session, counter=desk, actor=actor, now=rt.clock())
    else:
        chosen = session.get(QueueTicket, body.ticket_id)
        if chosen is None or chosen.agency != desk.agency:
            raise TicketNotFound()
        called = queue.call_ticket(session, counter=desk, ticket=chosen, actor=actor, now=rt.clock())
    return CallResult(ticket=TicketAtCounterRead.model_validate(called) if called else None)


def _act(session: SessionDep, rt: Runtime, actor: CurrentActor, counter_id: int,
         action: Callable[[QueueCounter], QueueTicket]) -> TicketAtCounterRead:
    return TicketAtCounterRead.model_validate(action(queue.counter_for(session, actor, counter_id)))


@routes.post("/api/queue/counters/{counter_id}/recall", response_model=TicketAtCounterRead)
def recall(counter_id: CounterId, session: SessionDep, rt: RuntimeDep, actor: CurrentActor) -> TicketAtCounterRead:
    """Call the counter's ticket again."""
    return _act(session, rt, actor, counter_id, lambda c: queue.recall(session, counter=c, now=rt.clock()))


@routes.post("/api/queue/counters/{counter_id}/serve", response_model=TicketAtCounterRead)
def serve(counter_id: CounterId, session: SessionDep, rt: RuntimeDep, actor: CurrentActor) -> TicketAtCounterRead:
    """Mark that the called visitor came to the counter."""
    return _act(session, rt, actor, counter_id, lambda c: queue.serve(session, counter=c, now=rt.clock()))


@routes.post("/api/queue/counters/{counter_id}/done", response_model=TicketAtCounterRead)
def done(counter_id: CounterId, body: DoneRequest, session: SessionDep, rt: RuntimeDep,
         actor: CurrentActor) -> TicketAtCounterRead:
    """Close the counter's ticket as served, with the case it led to (one the caller may read)."""
    if body.case_id is not None and not access.may_view_case(session, actor, body.case_id):
        raise CaseNotFound(f"case {body.case_id} not found")
    return _act(session, rt, actor, counter_id,
                lambda c: queue.finish(session, counter=c, now=rt.clock(), case_id=body.case_id))


@routes.post("/api/queue/counters/{counter_id}/no-show", response_model=TicketAtCounterRead)
def no_show(counter_id: CounterId, session: SessionDep, rt: RuntimeDep, actor: CurrentActor) -> TicketAtCounterRead:
    """Close the counter's called ticket as not turned up."""
    return _act(session, rt, actor, counter_id, lambda c: queue.no_show(session, counter=c, now=rt.clock()))


@routes.post("/api/queue/counters/{counter_id}/transfer", response_model=TicketAtCounterRead)
def transfer(counter_id: CounterId, body: TransferRequest, session: SessionDep, rt: RuntimeDep,
             actor: CurrentActor) -> TicketAtCounterRead:
    """Send the counter's ticket to another agency's queue (same number, waiting again)."""
    return _act(session, rt, actor, counter_id, lambda c: queue.transfer(
        session, counter=c, agency=body.agency, service_key=body.service_key, now=rt.clock()))
