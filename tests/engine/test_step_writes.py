"""A step's batched writes: the rows and the history they leave are what the step means, on both databases."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.bpmn import state as state
from engine.cases import hotsql as hotsql
from engine.cases import steps as steps
from engine.cases.tasks import claim_task, complete_task
from engine.context import AppContext
from engine.db import run_in_transaction, transaction
from engine.directory import service as directory
from engine.errors import TaskAlreadyCompleted, TaskClaimedByOther
from engine.models import Case, CaseEvent, CaseState, OpenTask, TaskSpan
from tests.conftest import FakeClock
from tests.documents import complete_pbg, drive_to_bill, pbg_cast
from tests.factories import PAID, SIGNED, Driver, make_user, pbg_application, run_and_commit


def _stored_state(ctx: AppContext, case_id: int) -> dict[str, object]:
    """Load a case from its rows alone (no hot cache) and return its whole serialized state."""
    ctx.rt.cases.clear()
    with ctx.sessions() as session:
        return state.full_dict(ctx.rt.load_case(session, case_id).workflow.raw)


def test_stored_rows_rebuild_the_workflow_the_steps_left(ctx: AppContext) -> None:
    cast = pbg_cast(ctx)
    d = Driver(ctx)
    case = drive_to_bill(d, cast)
    # The hot workflow the batched steps left behind, and the one rebuilt from their rows, are the same.
    hot = ctx.rt.cases.take(case.id, d.case(case.id).version)
    assert hot is not None
    assert _stored_state(ctx, case.id) == state.full_dict(hot.workflow.raw)
    with ctx.sessions() as session:
        seqs = list(session.scalars(select(CaseState.seq).where(CaseState.case_id == case.id)))
    assert len(seqs) == len(set(seqs)), "each stored task keeps its own creation number"


def test_history_keeps_its_order_and_content(ctx: AppContext) -> None:
    cast = pbg_cast(ctx)
    d = Driver(ctx)
    case = drive_to_bill(d, cast)
    task = d.task(case.id, "Task_pembayaran")
    with transaction(ctx.sessions) as session:  # claimed and completed in one step
        complete_task(session, rt=ctx.rt, task_id=task.id, actor=cast.applicant, data=PAID, claim=True)
    with ctx.sessions() as session:  # the payment restarts the SLA clock: the case write goes apart from the batch
        span = session.scalars(select(TaskSpan).where(TaskSpan.task_id == task.id)).one()
        assert (span.assignee_id, span.completed) == (cast.applicant.user_id, True)
        assert span.claimed_at == span.closed_at
    d.complete(case.id, "Task_verifikasi", cast.kasir, {"pembayaran_valid": True})
    assert d.complete(case.id, "Task_tanda_tangan", cast.kepala, SIGNED) == "completed"
    events = d.events(case.id)
    assert [e.id for e in events] == sorted(e.id for e in events)
    actions = [(e.actor, e.action, e.element_id) for e in events]
    assert actions[0] == (cast.applicant.username, "started", None)
    paid = actions.index((cast.applicant.username, "claimed", "Task_pembayaran"))
    assert actions[paid + 1] == (cast.applicant.username, "completed", "Task_pembayaran")
    assert actions[-2:] == [(cast.kepala.username, "completed", "Task_tanda_tangan"), ("system", "completed", None)]
    done = next(e for e in events if e.action == "completed" and e.element_id == "Task_pembayaran")
    assert done.task_id == task.id
    assert done.diff is not None
    assert done.diff["set"]["nomor_ssrd"] == PAID["nomor_ssrd"]


def test_closed_tasks_move_to_their_spans(ctx: AppContext) -> None:
    cast = pbg_cast(ctx)
    case = complete_pbg(ctx, cast)
    with ctx.sessions() as session:
        assert session.scalars(select(OpenTask.id).where(OpenTask.case_id == case.id)).all() == []
        spans = session.scalars(select(TaskSpan).where(TaskSpan.case_id == case.id)).all()
        completed = {e.task_id for e in session.scalars(select(CaseEvent).where(
            CaseEvent.case_id == case.id, CaseEvent.action == "completed", CaseEvent.task_id.is_not(None)))}
    assert {s.task_id for s in spans} == completed
    assert len(spans) == 8
    assert all(s.completed and s.closed_at is not None for s in spans)
    assert {s.element_id for s in spans} >= {"Task_kelengkapan", "Task_tanda_tangan"}


def test_the_context_read_with_the_task_equals_the_one_read_alone(ctx: AppContext) -> None:
    cast = pbg_cast(ctx)
    d = Driver(ctx)
    case = drive_to_bill(d, cast)  # the applicant's payment task is open: the SLA clock stands still
    task = d.task(case.id, "Task_pembayaran")
    with transaction(ctx.sessions) as session:
        row = hotsql.fetch_one(session, "task_context", {"tid": task.id})
        loaded = ctx.rt.load_case(session, case.id)
        with_task = steps._read_context(session, loaded, row)
        alone = steps._read_context(session, loaded, None)
    assert with_task == alone
    assert with_task.pause is not None
    assert with_task.pause[1] == "Task_pembayaran"
    assert with_task.case.tracking_number == case.tracking_number
    assert with_task.case.account is not None
    assert not with_task.case.webhooks


def test_a_failing_write_in_a_batch_fails_the_batch(ctx: AppContext) -> None:
    cast = pbg_cast(ctx)
    case = Driver(ctx).start("pbg", pbg_application(), cast.applicant)
    with ctx.sessions() as session:
        task = session.scalars(select(OpenTask).where(OpenTask.case_id == case.id)).one()
        row = {name: getattr(task, name) for name in ("id", "case_id", "process_key", "element_id", "name", "lane",
                                                      "role", "agency", "bound_org", "assignee_id", "created_at",
                                                      "due_at", "overdue")}
        batch = hotsql.Batch(session)
        batch.add("event_insert", [steps._event(case.id, ctx.rt.clock(), "t", "note")])
        batch.add("task_insert", [row])  # the task is open already: its id is taken
        with pytest.raises(Exception) as failed:  # noqa: PT011 - the driver's own IntegrityError, one per database
            run_and_commit(session, batch)
        assert "unique" in str(failed.value).lower() or "duplicate" in str(failed.value).lower()
        session.rollback()


def test_a_bound_task_routes_only_to_a_provider_registered_under_its_agency(ctx: AppContext) -> None:
    with transaction(ctx.sessions) as session:
        directory.ensure_agency(session, code="pupr", name_id="Dinas PUPR", kind="city_office")
        directory.ensure_agency(session, code="dinkes", name_id="Dinas Kesehatan", kind="city_office")
        directory.ensure_agency(session, code="cv_rancang", name_id="CV Rancang", kind="private", parent_code="pupr")
    for _ in range(2):  # read from the database, then from what the first commit kept
        with transaction(ctx.sessions) as session:
            assert steps.is_provider(session, ctx.rt, "cv_rancang", "pupr")
            assert not steps.is_provider(session, ctx.rt, "cv_rancang", "dinkes")  # another agency's provider
            assert not steps.is_provider(session, ctx.rt, "pupr", "pupr")  # the agency itself is no provider firm
            assert not steps.is_provider(session, ctx.rt, "cv_tidak_ada", "pupr")  # not registered at all
    assert ctx.rt.agency_parents == {"cv_rancang": "pupr", "pupr": None}  # what is not registered is asked again


def test_a_provider_read_in_a_transaction_that_rolls_back_is_not_remembered(ctx: AppContext) -> None:
    with transaction(ctx.sessions) as session:
        directory.ensure_agency(session, code="pupr", name_id="Dinas PUPR", kind="city_office")
    with ctx.sessions() as session:  # the firm is added, read, and undone: only a committed read is kept
        directory.ensure_agency(session, code="cv_sementara", name_id="CV Sementara", kind="private",
                                parent_code="pupr")
        assert steps.is_provider(session, ctx.rt, "cv_sementara", "pupr")
        session.rollback()
    assert "cv_sementara" not in ctx.rt.agency_parents
    with transaction(ctx.sessions) as session:
        assert not steps.is_provider(session, ctx.rt, "cv_sementara", "pupr")


def test_the_new_case_insert_names_every_column_the_database_cannot_fill_itself() -> None:
    # hotsql's case_insert lists its columns by hand: a column whose default lives only in Python (the ORM's)
    # would be NULL or refused in a new case's row, so it must be named there.
    named = set(re.search(r"\((.*?)\) VALUES", hotsql.STATEMENTS["case_insert"]).group(1).split(", "))  # type: ignore[union-attr]
    python_only = {c.name for c in Case.__table__.columns
                   if c.default is not None and c.server_default is None and not c.primary_key}
    assert python_only <= named, f"add {sorted(python_only - named)} to hotsql's case_insert"
    assert named <= {c.name for c in Case.__table__.columns}


def test_the_step_answers_driver_reads_match_the_orms(ctx: AppContext) -> None:
    cast = pbg_cast(ctx)
    d = Driver(ctx)
    case = drive_to_bill(d, cast)
    with ctx.sessions() as session:
        orm = [(t.id, t.element_id, t.role, t.due_at) for t in session.scalars(
            select(OpenTask).where(OpenTask.case_id == case.id).order_by(OpenTask.created_at, OpenTask.id))]
        rows = hotsql.fetch_all(session, "open_steps", {"case_id": case.id})
    assert orm, "the case waits on an open task"
    assert [(r.id, r.element_id, r.role, hotsql.read_time(r.due_at)) for r in rows] == orm
    assert any(due is not None and due.utcoffset() is not None for *_, due in orm)  # aware, as the ORM reads it


def test_read_time_reads_each_drivers_timestamp_as_aware_utc() -> None:
    from datetime import UTC, datetime, timedelta, timezone

    at = datetime(2026, 12, 5, 6, 30, 15, 250000, tzinfo=UTC)
    assert hotsql.read_time("2026-12-05 06:30:15.250000") == at  # SQLite: the text the ORM wrote
    assert hotsql.read_time(at.astimezone(timezone(timedelta(hours=7)))) == at  # PostgreSQL: aware, any zone
    assert hotsql.read_time(at.astimezone(timezone(timedelta(hours=7)))).tzinfo is UTC  # type: ignore[union-attr]
    assert hotsql.read_time(None) is None
    with pytest.raises(TypeError):
        hotsql.read_time(12)


def test_a_cases_inbox_rows_read_by_driver_sql_equal_the_orms(ctx: AppContext) -> None:
    from engine.cases import inbox

    cast = pbg_cast(ctx)
    d = Driver(ctx)
    case = drive_to_bill(d, cast)
    columns = [c.key for c in OpenTask.__table__.columns]
    with ctx.sessions() as session:
        read = [(tuple(getattr(t, c) for c in columns), applicant, filer)
                for t, applicant, filer in inbox._case_tasks(session, case.id)]
        loaded = session.execute(select(OpenTask, Case.applicant_id, Case.filed_by_id)
                                 .join(Case, Case.id == OpenTask.case_id).where(OpenTask.case_id == case.id)).all()
        orm = [(tuple(getattr(t, c) for c in columns), applicant, filer) for t, applicant, filer in loaded]
    assert read, "the case waits on an open task"
    assert sorted(read, key=repr) == sorted(orm, key=repr)  # every column, typed alike (aware times, bools)


@dataclass
class _Race:
    """A PBG case at its counter check (unclaimed), the counter officer, and a second one of the same role."""

    d: Driver
    case: Any
    task: Any
    front: Any
    second: Any


def _race(ctx: AppContext, second: str) -> _Race:
    cast = pbg_cast(ctx)
    d = Driver(ctx)
    case = d.start("pbg", pbg_application(), cast.applicant)
    return _Race(d, case, d.task(case.id, "Task_kelengkapan"), cast.front,
                 make_user(ctx, second, "dpmptsp.front_office"))


def _meanwhile(ctx: AppContext, monkeypatch: pytest.MonkeyPatch, act: Callable[[Session], object]) -> list[str]:
    """Run `act` once in a transaction of its own, committed while the next completion's step runs.

    That is after the completion read the task (still unclaimed) and before it writes. Returns what happened.
    """
    happened: list[str] = []
    real = ctx.rt.runner.complete

    def step_with_something_meanwhile(*args: object, **kwargs: object) -> object:
        if not happened:
            happened.append("done meanwhile")  # first: a completion `act` makes steps through here too
            with transaction(ctx.sessions) as other:
                act(other)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(ctx.rt.runner, "complete", step_with_something_meanwhile)
    return happened


def _complete_as(ctx: AppContext, race: _Race, actor: Any) -> None:
    run_in_transaction(ctx.sessions, lambda session: complete_task(
        session, rt=ctx.rt, task_id=race.task.id, actor=actor, data={"kelengkapan": "lengkap"}, claim=True))


def test_a_claim_that_gets_in_while_a_completion_steps_wins_and_the_completion_writes_nothing(
        ctx: AppContext, monkeypatch: pytest.MonkeyPatch) -> None:
    race = _race(ctx, "fo_kedua_race")
    d, case = race.d, race.case
    version, history = d.case(case.id).version, [(e.actor, e.action) for e in d.events(case.id)]
    happened = _meanwhile(ctx, monkeypatch, lambda other: claim_task(other, rt=ctx.rt, task_id=race.task.id,
                                                                      actor=race.second))
    with pytest.raises(TaskClaimedByOther):
        _complete_as(ctx, race, race.front)
    assert happened == ["done meanwhile"]
    ctx.rt.cases.clear()
    with ctx.sessions() as session:
        still = session.get(OpenTask, race.task.id)
        assert still is not None
        assert still.assignee_id == race.second.user_id
        assert session.scalars(select(TaskSpan).where(TaskSpan.case_id == case.id)).all() == []
    assert d.case(case.id).version == version
    assert [(e.actor, e.action) for e in d.events(case.id)] == [*history, ("fo_kedua_race", "claimed")]
    # The officer who holds it now completes it as usual.
    assert d.complete(case.id, "Task_kelengkapan", race.second, {"kelengkapan": "lengkap"}) == "running"


def test_a_completion_that_claims_records_the_claim_in_the_span_and_history_of_the_one_step(
        ctx: AppContext, clock: FakeClock) -> None:
    cast = pbg_cast(ctx)
    d = Driver(ctx)
    first, other = (d.start("pbg", pbg_application(), cast.applicant) for _ in range(2))
    task = d.task(first.id, "Task_kelengkapan")
    clock.advance(minutes=5)
    with transaction(ctx.sessions) as session:
        complete_task(session, rt=ctx.rt, task_id=task.id, actor=cast.front, data={"kelengkapan": "lengkap"},
                      claim=True)
    # Claimed beforehand, at another time: the completion keeps that claim and adds none.
    claimed_first = d.task(other.id, "Task_kelengkapan")
    with transaction(ctx.sessions) as session:
        claim_task(session, rt=ctx.rt, task_id=claimed_first.id, actor=cast.front)
    claimed_at = clock()
    clock.advance(minutes=7)
    with transaction(ctx.sessions) as session:
        complete_task(session, rt=ctx.rt, task_id=claimed_first.id, actor=cast.front,
                      data={"kelengkapan": "lengkap"}, claim=True)
    with ctx.sessions() as session:
        spans = {s.task_id: s for s in session.scalars(select(TaskSpan).where(
            TaskSpan.task_id.in_((task.id, claimed_first.id))))}
        events = {tid: [(e.actor, e.action, e.element_id) for e in session.scalars(
            select(CaseEvent).where(CaseEvent.task_id == tid).order_by(CaseEvent.id))]
            for tid in (task.id, claimed_first.id)}
    done = spans[task.id]
    assert (done.assignee_id, done.completed) == (cast.front.user_id, True)
    assert done.claimed_at == done.closed_at == clock() - timedelta(minutes=7)
    assert events[task.id] == [(cast.front.username, "claimed", "Task_kelengkapan"),
                               (cast.front.username, "completed", "Task_kelengkapan")]
    before = spans[claimed_first.id]
    assert (before.assignee_id, before.claimed_at, before.closed_at) == (cast.front.user_id, claimed_at, clock())
    assert events[claimed_first.id] == events[task.id]


def test_a_completion_that_gets_in_while_another_completion_steps_wins_and_the_other_is_told_it_is_done(
        ctx: AppContext, monkeypatch: pytest.MonkeyPatch) -> None:
    race = _race(ctx, "fo_kedua_done")
    happened = _meanwhile(ctx, monkeypatch, lambda other: complete_task(
        other, rt=ctx.rt, task_id=race.task.id, actor=race.second, data={"kelengkapan": "lengkap"}, claim=True))
    with pytest.raises(TaskAlreadyCompleted):
        _complete_as(ctx, race, race.front)
    assert happened == ["done meanwhile"]
    ctx.rt.cases.clear()
    with ctx.sessions() as session:
        span = session.scalars(select(TaskSpan).where(TaskSpan.task_id == race.task.id)).one()
    assert span.assignee_id == race.second.user_id
    done = [(e.actor, e.action) for e in race.d.events(race.case.id) if e.task_id == race.task.id]
    assert done == [("fo_kedua_done", "claimed"), ("fo_kedua_done", "completed")]


@pytest.mark.parametrize("meanwhile", ["claim", "completion"])
def test_postgresql_a_claim_still_open_when_the_completion_writes_is_waited_for_and_wins(
        ctx: AppContext, meanwhile: str) -> None:
    """The completion's write waits for the other's row lock, then finds the task taken (or gone): writes nothing."""
    import threading

    from sqlalchemy import text

    if not ctx.settings.database_url.startswith("postgresql"):
        pytest.skip("row locks and READ COMMITTED's second look are PostgreSQL's (SQLite has one writer)")
    race = _race(ctx, "fo_kedua_lock")
    d, case, task, second = race.d, race.case, race.task, race.second
    version = d.case(case.id).version
    outcome: list[BaseException | str] = []

    def complete() -> None:
        try:
            _complete_as(ctx, race, race.front)
            outcome.append("completed")
        except BaseException as exc:  # noqa: BLE001 - handed to the test's thread
            outcome.append(exc)

    with ctx.engine.connect() as claimer:
        if meanwhile == "claim":
            claimer.execute(text("UPDATE task SET assignee_id = :uid, claimed_at = now() WHERE id = :tid "
                                 "AND assignee_id IS NULL"), {"uid": second.user_id, "tid": task.id})
        else:  # what another completion's statement does to the task row (the rest of it is not needed here)
            claimer.execute(text("DELETE FROM task WHERE id = :tid"), {"tid": task.id})
        worker = threading.Thread(target=complete)
        worker.start()
        with ctx.engine.connect() as probe:  # until the completion waits for the claim's lock (or has ended)
            while worker.is_alive() and not probe.execute(text(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")).scalar():
                probe.rollback()
                worker.join(0.01)
        claimer.commit()
    worker.join(30)
    assert len(outcome) == 1, outcome
    assert isinstance(outcome[0], TaskClaimedByOther if meanwhile == "claim" else TaskAlreadyCompleted), outcome
    ctx.rt.cases.clear()
    with ctx.sessions() as session:
        still = session.get(OpenTask, task.id)
    if meanwhile == "claim":
        assert still is not None
        assert still.assignee_id == second.user_id
    else:
        assert still is None
    assert d.case(case.id).version == version
    assert "completed" not in [e.action for e in d.events(case.id)]
