"""The SLA clock's writes in a step go with the step's other writes (`hotsql.Batch`), in the same transaction.

A step queues the pause's start or end after its task rows; `sync` without a batch (a bill just issued)
sends them at once. The package is test_sla_clock's: the test clock starts on Monday 2 March 2026, 08:00 WIB.
"""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.cases import hotsql as hotsql
from engine.context import AppContext
from engine.db import transaction
from engine.models import Case, SlaPause
from engine.sla import clock as sla_clock
from tests.conftest import FakeClock
from tests.engine.test_sla_clock import at, clock_package, people
from tests.factories import Driver, deploy

pytestmark = pytest.mark.postgres


def _pauses(session: Session, case_id: int) -> list[tuple[str, str | None, int | None]]:
    rows = session.scalars(select(SlaPause).where(SlaPause.case_id == case_id).order_by(SlaPause.id))
    return [(p.reason, p.element_id, p.paused_s) for p in rows]


def _running_case(ctx: AppContext) -> tuple[int, datetime]:
    """Start a case of the clock package; return it with 09:00 of the test clock's first day."""
    deploy(ctx, clock_package())
    _officer, applicant, _admin = people(ctx)
    case = Driver(ctx).start("jeda", {"harga": 1, "jumlah": 1}, applicant, channel="daring")
    return case.id, at(date(2026, 3, 2), 9)


def test_a_step_s_pause_is_written_when_its_batch_runs(ctx: AppContext, clock: FakeClock) -> None:
    case_id, now = _running_case(ctx)
    with transaction(ctx.sessions) as session:
        batch = hotsql.Batch(session)
        sla_clock.sync(session, calendar=ctx.rt.calendar, case_id=case_id, hold=sla_clock.Hold("applicant", "X"),
                       now=now, current=None, batch=batch)
        assert _pauses(session, case_id) == []  # queued, not sent
        assert session.scalar(select(Case.sla_paused_since).where(Case.id == case_id)) is None
        batch.run()
        assert _pauses(session, case_id) == [("applicant", "X", None)]
        assert session.scalar(select(Case.sla_paused_since).where(Case.id == case_id)) == now

    # Ending it (no service hours passed: the same instant) queues the pause's end and the case's running clock.
    with transaction(ctx.sessions) as session:
        open_pause = session.execute(select(SlaPause.reason, SlaPause.element_id, SlaPause.id)
                                     .where(SlaPause.case_id == case_id)).one()
        batch = hotsql.Batch(session)
        sla_clock.sync(session, calendar=ctx.rt.calendar, case_id=case_id, hold=None, now=now,
                       current=sla_clock.Pause(*open_pause), batch=batch)
        assert _pauses(session, case_id) == [("applicant", "X", None)]
        batch.run()
    with ctx.sessions() as session:
        assert _pauses(session, case_id) == [("applicant", "X", 0)]
        row = session.get(Case, case_id)
        assert row is not None
        assert row.sla_paused_since is None
        assert row.sla_paused_s == 0


def test_without_a_batch_the_pause_is_written_at_once(ctx: AppContext, clock: FakeClock) -> None:
    case_id, now = _running_case(ctx)
    with transaction(ctx.sessions) as session:
        sla_clock.hold_for_payment(session, calendar=ctx.rt.calendar, case_id=case_id, now=now)
        assert _pauses(session, case_id) == [("payment", None, None)]
        assert session.scalar(select(Case.sla_paused_since).where(Case.id == case_id)) == now
