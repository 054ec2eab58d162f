"""Front-of-house queueing: ticket numbers, call order, two counters at once, visit slots and their capacity.

Runs on the deployed catalogue with the demo hall (api/bootstrap.py seed_demo): booth A (dpmptsp,
counters A1 and A2), B (disdukcapil, B1), C (polresta, C1).
"""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.context import AppContext
from engine.db import transaction
from engine.directory.actors import Actor
from engine.models import QueueCounter, QueueTicket
from engine.queue import bookings as bookings
from engine.queue import figures as figures
from engine.queue import service as queue
from engine.queue import setup as setup
from engine.queue import views as views
from engine.queue.errors import CounterBusy, NotYourCounter, QueueInputInvalid, SlotFull, TicketTaken
from tests.conftest import FakeClock
from tests.factories import make_user


@pytest.fixture
def catalogue(ctx: AppContext) -> AppContext:
    """The context on a copy of the catalogue template (deployed catalogue, demo accounts and hall)."""
    return ctx


def _take(ctx: AppContext, agency: str = "dpmptsp", *, priority: str | None = None,
          service_key: str | None = None) -> str:
    with transaction(ctx.sessions) as session:
        return queue.take_ticket(session, agency=agency, service_key=service_key, priority=priority,
                                 now=ctx.rt.clock()).number


def _counter(ctx: AppContext | Session, code: str) -> int:
    """Return a counter's id (read in the given session, or in a session of its own)."""
    if isinstance(ctx, Session):
        found = ctx.scalar(select(QueueCounter.id).where(QueueCounter.code == code))
    else:
        with ctx.sessions() as session:
            found = session.scalar(select(QueueCounter.id).where(QueueCounter.code == code))
    assert found is not None
    return found


def _call(ctx: AppContext, officer: Actor, code: str) -> str | None:
    with transaction(ctx.sessions) as session:
        counter = queue.counter_for(session, officer, _counter(session, code))
        ticket = queue.call_next(session, counter=counter, actor=officer, now=ctx.rt.clock())
        return ticket.number if ticket is not None else None


def _finish(ctx: AppContext, officer: Actor, code: str) -> str:
    with transaction(ctx.sessions) as session:
        counter = queue.counter_for(session, officer, _counter(session, code))
        return queue.finish(session, counter=counter, now=ctx.rt.clock()).number


def _officer(ctx: AppContext, name: str = "loket_mpp", role: str = "dpmptsp.front_office") -> Actor:
    return make_user(ctx, name, role)


def test_numbers_count_per_booth_prefix_and_restart_each_day(catalogue: AppContext, clock: FakeClock) -> None:
    assert [_take(catalogue), _take(catalogue), _take(catalogue, "disdukcapil"), _take(catalogue)] == [
        "A-001", "A-002", "B-001", "A-003"]
    clock.advance(days=1)
    assert _take(catalogue) == "A-001"
    with pytest.raises(QueueInputInvalid, match="priority"):
        _take(catalogue, priority="vip")
    with pytest.raises(QueueInputInvalid, match="not served"):
        _take(catalogue, service_key="skck")  # a police service is not taken at the licensing booth


def test_priority_and_due_bookings_are_called_first_then_first_come(catalogue: AppContext, clock: FakeClock) -> None:
    officer = _officer(catalogue)
    with transaction(catalogue.sessions) as session:
        now = clock()
        first = queue.take_ticket(session, agency="dpmptsp", service_key=None, priority=None, now=now).number
        later_booking = queue.take_ticket(session, agency="dpmptsp", service_key=None, priority=None, now=now,
                                          slot_at=now + timedelta(hours=2)).number
        second = queue.take_ticket(session, agency="dpmptsp", service_key=None, priority=None, now=now).number
        elder = queue.take_ticket(session, agency="dpmptsp", service_key=None, priority="lansia", now=now).number
        due_booking = queue.take_ticket(session, agency="dpmptsp", service_key=None, priority=None, now=now,
                                        slot_at=now - timedelta(minutes=5)).number
    called = []
    for _ in range(6):
        called.append(_call(catalogue, officer, "A1"))
        if called[-1] is not None:
            _finish(catalogue, officer, "A1")
    # The due booking's slot began before the elder took the ticket; the later booking waits its turn.
    assert called == [due_booking, elder, first, later_booking, second, None]


def test_two_counters_calling_at_once_get_different_tickets(catalogue: AppContext) -> None:
    one, two = _officer(catalogue, "loket_satu"), _officer(catalogue, "loket_dua")
    taken = [_take(catalogue) for _ in range(3)]
    barrier = threading.Barrier(2)
    called: dict[str, str | None] = {}
    failures: list[BaseException] = []

    def call(officer: Actor, code: str) -> None:
        try:
            barrier.wait()
            called[code] = _call(catalogue, officer, code)
        except BaseException as exc:  # noqa: BLE001 - reported by the test below
            failures.append(exc)

    threads = [threading.Thread(target=call, args=a) for a in ((one, "A1"), (two, "A2"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert sorted(n for n in called.values() if n) == taken[:2]
    with catalogue.sessions() as session:
        rows = {t.number: t for t in session.scalars(select(QueueTicket))}
        counters = {c.code: c for c in session.scalars(select(QueueCounter))}
    assert {rows[called["A1"] or ""].counter_id, rows[called["A2"] or ""].counter_id} == {
        counters["A1"].id, counters["A2"].id}
    assert rows[taken[2]].status == "waiting"


def test_a_ticket_at_one_counter_cannot_be_called_by_another(catalogue: AppContext) -> None:
    one, two = _officer(catalogue, "loket_satu"), _officer(catalogue, "loket_dua")
    number = _take(catalogue)
    assert _call(catalogue, one, "A1") == number
    with transaction(catalogue.sessions) as session:
        ticket = session.scalar(select(QueueTicket).where(QueueTicket.number == number))
        assert ticket is not None
        counter = queue.counter_for(session, two, _counter(session, "A2"))
        with pytest.raises(TicketTaken, match=number):
            queue.call_ticket(session, counter=counter, ticket=ticket, actor=two, now=catalogue.rt.clock())
    _take(catalogue)
    with pytest.raises(CounterBusy, match=number):  # A1 must finish its ticket before calling the next
        _call(catalogue, one, "A1")


def test_only_officers_of_the_counters_agency_work_at_it(catalogue: AppContext) -> None:
    police = make_user(catalogue, "petugas_polisi", "polresta.intelkam")
    with catalogue.sessions() as session:
        with pytest.raises(NotYourCounter):
            queue.counter_for(session, police, _counter(session, "A1"))
        assert [c.code for c in queue.counters_for(session, police)] == ["C1"]


def test_no_show_recall_and_transfer_move_the_ticket(catalogue: AppContext) -> None:
    officer = _officer(catalogue)
    number = _take(catalogue)
    _call(catalogue, officer, "A1")
    with transaction(catalogue.sessions) as session:
        counter = queue.counter_for(session, officer, _counter(session, "A1"))
        assert queue.recall(session, counter=counter, now=catalogue.rt.clock()).calls == 2
        moved = queue.transfer(session, counter=counter, agency="disdukcapil", service_key=None,
                               now=catalogue.rt.clock())
        assert (moved.number, moved.agency, moved.status) == (number, "disdukcapil", "waiting")
    capil = _officer(catalogue, "loket_capil", "disdukcapil.petugas")
    assert _call(catalogue, capil, "B1") == number
    with transaction(catalogue.sessions) as session:
        counter = queue.counter_for(session, capil, _counter(session, "B1"))
        assert queue.no_show(session, counter=counter, now=catalogue.rt.clock()).status == "no_show"
        assert counter.current_ticket_id is None


def test_the_ticket_page_counts_who_is_ahead_and_estimates_from_todays_service_time(
        catalogue: AppContext, clock: FakeClock) -> None:
    officer = _officer(catalogue)
    _take(catalogue)
    _call(catalogue, officer, "A1")
    clock.advance(minutes=12)
    _finish(catalogue, officer, "A1")  # today's median service time: 12 minutes
    for _ in range(3):
        _take(catalogue)
    with transaction(catalogue.sessions) as session:
        last = queue.waiting(session, agency="dpmptsp", now=clock())[-1]
        seen = views.ticket_view(session, token=last.token, now=clock())
    assert (seen.number, seen.ahead) == ("A-004", 2)
    assert seen.wait_minutes == 12  # two ahead, 12 minutes each, two open counters
    with catalogue.sessions() as session:
        shown = views.display(session, now=clock())
    assert [w.count for w in shown.waiting if w.agency == "dpmptsp"] == [3]
    assert [r.number for r in shown.recent] == ["A-001"]


def test_dashboard_figures_give_waiting_and_service_times(catalogue: AppContext, clock: FakeClock) -> None:
    officer = _officer(catalogue)
    _take(catalogue)
    _take(catalogue)
    clock.advance(minutes=4)
    _call(catalogue, officer, "A1")
    clock.advance(minutes=10)
    _finish(catalogue, officer, "A1")
    _call(catalogue, officer, "A1")  # waited 14 minutes
    with transaction(catalogue.sessions) as session:
        counter = queue.counter_for(session, officer, _counter(session, "A1"))
        queue.no_show(session, counter=counter, now=clock())
    day = queue.today(clock())
    with catalogue.sessions() as session:
        got = figures.figures(session, date_from=day, date_to=day)
    assert got.per_day == [(day, 2)]
    [mall] = got.agencies
    assert (mall.agency, mall.tickets, mall.served, mall.no_shows) == ("dpmptsp", 2, 1, 1)
    assert (mall.waiting.median, mall.waiting.p90) == (9.0, 14.0)
    assert (mall.service.median, mall.service.p90) == (10.0, 10.0)
    assert figures.spread([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]).p90 == 9


def _holiday_after(catalogue: AppContext, start: date) -> date:
    with catalogue.sessions() as session:
        calendar = catalogue.rt.calendars.refresh(session)
    return next(start + timedelta(days=n) for n in range(1, 31) if calendar.holiday_name(start + timedelta(days=n)))


def _book(catalogue: AppContext, user_id: int, day: date, label: str, channel: str = "tatap_muka",
          service_key: str = "skck", agency: str = "polresta") -> str:
    with transaction(catalogue.sessions) as session:
        calendar = catalogue.rt.calendars.refresh(session)
        return bookings.book(session, calendar, user_id=user_id, agency=agency, service_key=service_key, day=day,
                             time_label=label, channel=channel, now=catalogue.rt.clock()).code


def test_a_full_slot_is_refused_and_a_cancelled_place_is_free_again(catalogue: AppContext, clock: FakeClock) -> None:
    users = [make_user(catalogue, f"warga_{n}") for n in range(3)]
    with transaction(catalogue.sessions) as session:
        setup.save_booth(session, agency="polresta", prefix="C", slot_minutes=30, capacity=2, drive_thru_capacity=1)
    tuesday = queue.today(clock()) + timedelta(days=1)
    first = _book(catalogue, users[0].user_id or 0, tuesday, "09:00")
    _book(catalogue, users[1].user_id or 0, tuesday, "09:00")
    with pytest.raises(SlotFull, match="09:00"):
        _book(catalogue, users[2].user_id or 0, tuesday, "09:00")
    _book(catalogue, users[2].user_id or 0, tuesday, "09:00", channel="drive_thru")  # SKCK has a drive-thru lane
    with transaction(catalogue.sessions) as session:
        [mine] = bookings.mine(session, user_id=users[0].user_id or 0)
        assert mine.code == first
        bookings.cancel(session, user_id=users[0].user_id or 0, booking_id=mine.id, now=clock())
        calendar = catalogue.rt.calendars.refresh(session)
        free = {s.label: s.free for s in bookings.slots(session, calendar, agency="polresta", day=tuesday,
                                                          channel="tatap_muka", now=clock())}
    assert (free["08:00"], free["09:00"]) == (2, 1)
    _book(catalogue, users[2].user_id or 0, tuesday, "09:00")


def test_slots_follow_the_working_calendar(catalogue: AppContext, clock: FakeClock) -> None:
    user = make_user(catalogue, "warga_kalender")
    monday = queue.today(clock())
    holiday = _holiday_after(catalogue, monday)
    with pytest.raises(QueueInputInvalid, match="is a holiday"):
        _book(catalogue, user.user_id or 0, holiday, "09:00")
    with pytest.raises(QueueInputInvalid, match="closed"):
        _book(catalogue, user.user_id or 0, monday + timedelta(days=6), "09:00")  # Sunday
    with pytest.raises(QueueInputInvalid, match="no drive-thru"):
        _book(catalogue, user.user_id or 0, monday + timedelta(days=1), "09:00", channel="drive_thru",
              service_key="akta_kelahiran", agency="disdukcapil")
    with catalogue.sessions() as session:
        calendar = catalogue.rt.calendars.refresh(session)
        friday = [s.label for s in bookings.slots(session, calendar, agency="polresta", day=monday + timedelta(days=4),
                                                  channel="tatap_muka", now=clock())]
    assert friday[:2] == ["08:00", "08:30"]
    assert "11:30" not in friday  # the Friday prayer break
    assert "12:30" not in friday
    assert "13:00" in friday
    assert friday[-1] == "16:00"


def test_a_booking_code_gives_a_ticket_on_its_day_called_from_its_slot(catalogue: AppContext,
                                                                       clock: FakeClock) -> None:
    user = make_user(catalogue, "warga_booking")
    code = _book(catalogue, user.user_id or 0, queue.today(clock()), "10:00")
    clock.advance(days=-1)
    with transaction(catalogue.sessions) as session, pytest.raises(QueueInputInvalid, match="come on that day"):
        bookings.check_in(session, code=code, now=clock())
    clock.advance(days=1, hours=1, minutes=30)  # 09:30 on the booked day
    walk_ins = [_take(catalogue, "polresta"), _take(catalogue, "polresta")]
    with transaction(catalogue.sessions) as session:
        ticket = bookings.check_in(session, code=code.lower(), now=clock())
        again = bookings.check_in(session, code=code, now=clock())
        assert (ticket.number, ticket.booking_id is not None, again.id) == ("C-003", True, ticket.id)
    police = _officer(catalogue, "loket_polisi", "polresta.intelkam")
    assert _call(catalogue, police, "C1") == walk_ins[0]  # the slot (10:00) has not begun: first come first
    _finish(catalogue, police, "C1")
    clock.advance(minutes=30)
    assert _call(catalogue, police, "C1") == "C-003"  # from 10:00 the booking goes before the second walk-in
