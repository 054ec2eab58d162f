"""A timer written as a bare date fires at that day's closing time on the working calendar.

16:00 WIB Monday to Thursday, 16:30 on a Friday, the Ramadan closing time in a Ramadan range.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from engine.bpmn import timers
from engine.context import AppContext
from engine.db import transaction
from engine.models import Job
from engine.sla import calendar_store
from engine.sla.hours import RAMADAN_WEEK
from tests.conftest import FakeClock
from tests.engine.test_sla_clock import WIB, at, wib
from tests.factories import Driver, deploy, make_user
from tests.packages import simple_package

pytestmark = pytest.mark.postgres


def _timer_due(ctx: AppContext, case_id: int) -> datetime:
    with ctx.sessions() as session:
        return wib(session.scalar(select(Job.due_at).where(Job.kind == "timer", Job.case_id == case_id)))


def _wait_on(ctx: AppContext, expression: str) -> tuple[Driver, int]:
    deploy(ctx, simple_package("tanggal", shape="wait", timer=expression, timer_kind="timeDate"))
    officer = make_user(ctx, "petugas", "dinas.petugas")
    d = Driver(ctx)
    case = d.start("tanggal", {"harga": 1, "jumlah": 1}, officer)
    d.complete(case.id, "Task_periksa", officer, {"catatan": "ok"})
    return d, case.id


@pytest.mark.parametrize("expression", ['"2026-11-13"', "add_working_days(today(), 1)"])
def test_a_bare_date_on_a_friday_fires_at_the_friday_closing_time(ctx: AppContext, clock: FakeClock,
                                                                   expression: str) -> None:
    clock.now = at(date(2026, 11, 12), 9)  # Thursday 12 November 2026
    d, case_id = _wait_on(ctx, expression)
    # SpiffWorkflow holds timers on the wall clock; re-anchoring on the test clock may cost microseconds.
    assert abs(_timer_due(ctx, case_id) - datetime(2026, 11, 13, 16, 30, tzinfo=WIB)) < timedelta(seconds=5)
    clock.now = at(date(2026, 11, 13), 16, 5)  # after 16:00, before the Friday close: still waiting
    d.run_jobs()
    assert d.case(case_id).status == "running"


def test_a_bare_date_in_ramadan_fires_at_the_ramadan_closing_time(ctx: AppContext, clock: FakeClock) -> None:
    with transaction(ctx.sessions) as session:
        calendar_store.add_range(session, name="Ramadan 1448 H", starts=date(2027, 2, 8), ends=date(2027, 3, 9),
                                 week=RAMADAN_WEEK, actor="admin", cache=ctx.rt.calendars)
    clock.now = at(date(2027, 2, 15), 9)  # Monday 15 February 2027
    _d, case_id = _wait_on(ctx, '"2027-02-17"')  # a Wednesday in Ramadan: 15:00
    assert abs(_timer_due(ctx, case_id) - datetime(2027, 2, 17, 15, 0, tzinfo=WIB)) < timedelta(seconds=5)


def test_a_bare_date_on_an_ordinary_weekday_fires_at_16_00_and_a_date_time_as_written(
        ctx: AppContext, clock: FakeClock) -> None:
    clock.now = at(date(2026, 11, 9), 9)  # Monday
    _d, case_id = _wait_on(ctx, '"2026-11-11"')
    assert abs(_timer_due(ctx, case_id) - datetime(2026, 11, 11, 16, 0, tzinfo=WIB)) < timedelta(seconds=5)
    # Without a calendar (lint's checks) a date closes at 16:00; a date-time keeps its own time.
    assert timers.as_instant("2026-11-13") == datetime(2026, 11, 13, 16, 0, tzinfo=WIB)
    assert timers.as_instant("2026-11-13T09:15:00") == datetime(2026, 11, 13, 9, 15, tzinfo=WIB)
