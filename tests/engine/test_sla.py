"""SLA figures against a seeded, hand-computed data set; escalation of overdue tasks to supervisors.

The clock starts Monday 2 March 2026, 01:00 UTC (08:00 WIB); that week has no holiday. Service
`sla_uji` (owner dinas) has an SLA of 3 working days: Task_terima (dinas.loket, 1 day) then
Task_verifikasi (teknis.verifikator, 2 days). Due times are 16:00 WIB = 09:00 UTC:
a case started Monday is due Thursday 09:00 UTC; Task_terima opened Monday is due Tuesday 09:00,
Task_verifikasi opened Monday is due Wednesday 09:00.

    Mon 01:00  cases A, B, C start (Task_terima opens for each)
    Mon 03:00  A.terima done (2 h)                    -> A.verifikasi opens
    Mon 05:00  B.terima done (4 h); A.verifikasi claimed (waited 2 h)
    Mon 11:00  A.verifikasi done (8 h)                -> A completed, on time
    Fri 03:00  overdue scan: C.terima and B.verifikasi escalated; the teknis supervisor
               completes B.verifikasi (opened Mon 05:00: 94 h, never claimed) -> B completed late
    Fri 03:00  case D starts (outside the period 2-5 March)
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from engine.cases.tasks import claim_task
from engine.context import AppContext
from engine.db import transaction
from engine.directory.actors import Actor
from engine.errors import NotAllowed, TaskNotForYourRole
from engine.models import OpenTask, TaskSpan
from engine.sla import service as sla
from engine.sla.escalation import supervisor_role
from tests.conftest import FakeClock
from tests.engine.sla_package import sla_package
from tests.factories import Driver, deploy, make_user

PERIOD = sla.Filters(date_from=date(2026, 3, 2), date_to=date(2026, 3, 5))


class Cast:
    def __init__(self, ctx: AppContext) -> None:
        deploy(ctx, sla_package())
        with transaction(ctx.sessions) as session:
            from engine.directory.service import ensure_roles

            ensure_roles(session, [supervisor_role("dinas"), supervisor_role("teknis")])
        self.applicant = make_user(ctx, "pemohon")
        self.loket = make_user(ctx, "loket", "dinas.loket")
        self.verifikator = make_user(ctx, "verifikator", "teknis.verifikator")
        self.dinas_boss = make_user(ctx, "kepala_dinas", supervisor_role("dinas"))
        self.teknis_boss = make_user(ctx, "kepala_teknis", supervisor_role("teknis"))
        self.admin = make_user(ctx, "admin", platform_role="admin")


def seed(ctx: AppContext, clock: FakeClock) -> tuple[Driver, Cast, dict[str, int]]:
    """Run the timeline of the module docstring; return the case ids by letter."""
    d, cast = Driver(ctx), Cast(ctx)
    ids = {x: d.start("sla_uji", {"perihal": x}, cast.applicant).id for x in "ABC"}
    clock.advance(hours=2)
    d.complete(ids["A"], "Task_terima", cast.loket, {})
    clock.advance(hours=2)
    d.complete(ids["B"], "Task_terima", cast.loket, {})
    with transaction(ctx.sessions) as session:
        claim_task(session, rt=ctx.rt, task_id=d.task(ids["A"], "Task_verifikasi").id, actor=cast.verifikator)
    clock.advance(hours=6)
    assert d.complete(ids["A"], "Task_verifikasi", cast.verifikator, {}) == "completed"
    clock.advance(days=3, hours=16)  # Friday 03:00 UTC
    d.run_jobs()
    assert d.complete(ids["B"], "Task_verifikasi", cast.teknis_boss, {}) == "completed"
    ids["D"] = d.start("sla_uji", {"perihal": "D"}, cast.applicant).id
    return d, cast, ids


def board(ctx: AppContext, actor: Actor, filters: sla.Filters = PERIOD) -> sla.Dashboard:
    with ctx.sessions() as session:
        return sla.build_dashboard(session, actor=actor, filters=filters, now=ctx.rt.clock())


def test_figures_match_the_hand_computed_data_set(ctx: AppContext, clock: FakeClock) -> None:
    _d, cast, _ids = seed(ctx, clock)
    result = board(ctx, cast.admin)
    [service] = result.services
    # A, B, C started in the period (D did not); C is open and past its Thursday due time;
    # A finished Monday (on time), B on Friday (late): compliance 1 of 2.
    assert (service.volume, service.open, service.overdue) == (3, 1, 1)
    assert (service.completed, service.measured, service.on_time, service.compliance) == (2, 2, 1, 50.0)
    steps = {s.element_id: s for s in result.steps}
    terima, verifikasi = steps["Task_terima"], steps["Task_verifikasi"]
    # Task_terima durations [2, 4]: median 3, p90 = 2 + (4 - 2) * 0.9 = 3.8.
    assert (terima.completed, terima.duration_median_h, terima.duration_p90_h) == (2, 3.0, 3.8)
    # Waits [2, 4] plus C's open, unclaimed task: Mon 01:00 -> Fri 03:00 = 98 h.
    # Median 4; p90 at rank (3 - 1) * 0.9 = 1.8: 4 + (98 - 4) * 0.8 = 79.2.
    assert (terima.open, terima.overdue, terima.wait_median_h, terima.wait_p90_h) == (1, 1, 4.0, 79.2)
    # Task_verifikasi durations [8, 94]: median 51, p90 = 8 + 86 * 0.9 = 85.4.
    assert (verifikasi.completed, verifikasi.duration_median_h, verifikasi.duration_p90_h) == (2, 51.0, 85.4)
    # Waits: A was claimed after 2 h, B never (94 h): median 48, p90 = 2 + 92 * 0.9 = 84.8.
    assert (verifikasi.open, verifikasi.wait_median_h, verifikasi.wait_p90_h) == (0, 48.0, 84.8)
    assert result.heat("sla_uji") == {"Task_terima": 4.0, "Task_verifikasi": 48.0}
    agencies = {a.agency: a for a in result.agencies}
    # dinas: both completed desks were done Monday, before Tuesday 09:00; C's desk is open, overdue, escalated.
    dinas = agencies["dinas"]
    assert (dinas.open_tasks, dinas.overdue_tasks, dinas.escalated_tasks) == (1, 1, 1)
    assert (dinas.completed_tasks, dinas.on_time_tasks, dinas.compliance) == (2, 2, 100.0)
    teknis = agencies["teknis"]  # A's check on time (Mon), B's late (Fri, due Wed)
    assert (teknis.open_tasks, teknis.completed_tasks, teknis.on_time_tasks, teknis.compliance) == (0, 2, 1, 50.0)


def test_without_a_period_every_case_counts(ctx: AppContext, clock: FakeClock) -> None:
    _d, cast, _ids = seed(ctx, clock)
    [service] = board(ctx, cast.admin, sla.Filters()).services
    assert (service.volume, service.open, service.overdue) == (4, 2, 1)  # D is open, not yet due
    later = sla.Filters(date_from=date(2026, 3, 6), date_to=date(2026, 3, 6))
    result = board(ctx, cast.admin, later)
    assert result.services[0].volume == 1
    assert [(s.element_id, s.open, s.completed) for s in result.steps] == [("Task_terima", 1, 0)]


def test_escalation_fires_once_and_the_supervisor_takes_the_task(ctx: AppContext, clock: FakeClock) -> None:
    d = Driver(ctx)
    cast = Cast(ctx)
    case = d.start("sla_uji", {"perihal": "x"}, cast.applicant)
    assert d.inbox(cast.dinas_boss) == []
    clock.advance(days=1, hours=7)  # Tuesday 08:00 UTC: due at 09:00, not yet late
    d.run_jobs()
    assert d.inbox(cast.dinas_boss) == []
    clock.advance(hours=2)
    d.run_jobs()
    d.run_jobs()
    escalated = [e for e in d.events(case.id) if e.action == "escalated"]
    assert [(e.element_id, e.label) for e in escalated] == [("Task_terima", "dinas.supervisor")]
    [task] = d.inbox(cast.dinas_boss)
    assert (task.element_id, task.escalated_to) == ("Task_terima", "dinas.supervisor")
    assert task.escalated_at == clock.now
    assert [t.id for t in d.inbox(cast.loket)] == [task.id]  # the desk keeps it too
    assert d.inbox(cast.teknis_boss) == []  # another agency's supervisor does not see it
    with pytest.raises(TaskNotForYourRole):
        d.complete(case.id, "Task_terima", cast.teknis_boss, {})
    with transaction(ctx.sessions) as session:
        claim_task(session, rt=ctx.rt, task_id=task.id, actor=cast.dinas_boss)
    assert d.inbox(cast.loket) == []  # claimed by the supervisor
    d.complete(case.id, "Task_terima", cast.dinas_boss, {})
    with ctx.sessions() as session:
        span = session.scalar(select(TaskSpan).where(TaskSpan.task_id == task.id))
        assert span is not None
        assert span.completed
        assert span.escalated_at == task.escalated_at
        verifikasi = session.scalar(select(OpenTask).where(OpenTask.case_id == case.id))
        assert verifikasi is not None
        assert verifikasi.escalated_to is None


def test_a_supervisor_sees_only_their_agency(ctx: AppContext, clock: FakeClock) -> None:
    _d, cast, _ids = seed(ctx, clock)
    result = board(ctx, cast.teknis_boss)
    assert result.scope == frozenset({"teknis"})
    assert [s.process_key for s in result.services] == ["sla_uji"]  # teknis takes part in it
    assert [s.element_id for s in result.steps] == ["Task_verifikasi"]
    assert [a.agency for a in result.agencies] == ["teknis"]
    with pytest.raises(NotAllowed):
        board(ctx, cast.teknis_boss, sla.Filters(agency="dinas"))
    with pytest.raises(NotAllowed):
        board(ctx, cast.loket)  # an officer without the supervisor role
    assert [a.agency for a in board(ctx, cast.admin, sla.Filters(agency="dinas")).agencies] == ["dinas"]


def test_csv_export_neutralises_formulas(ctx: AppContext, clock: FakeClock) -> None:
    _d, cast, _ids = seed(ctx, clock)
    rows = sla.export_rows(board(ctx, cast.admin))
    assert rows[0][:3] == ["section", "process_key", "element_id"]
    assert ["step", "sla_uji", "Task_verifikasi"] == rows[-1][:3]
    assert rows[-1][12:14] == ["51.0", "85.4"]
    for dangerous in ("=HYPERLINK(1)", "+1", "-2", "@SUM(A1)", "\tx"):
        assert sla.safe_cell(dangerous) == "'" + dangerous
    assert sla.safe_cell("Terima berkas") == "Terima berkas"
    assert sla.safe_cell(None) == ""


def test_percentile_interpolates_between_ranks() -> None:
    assert sla.percentile([], 0.9) is None
    assert sla.percentile([5.0], 0.9) == 5.0
    assert sla.percentile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.5
    assert sla.percentile([10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0, 100.0], 0.9) == 91.0
