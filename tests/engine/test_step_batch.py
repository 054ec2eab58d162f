"""A step's last writes (hotsql.Batch): one statement on PostgreSQL, one statement per kind in order on SQLite.

Both leave the same rows, in the same order; a failing write leaves none of them, and a connection the
server ended during the batch is dropped and replaced.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import psycopg
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError, OperationalError

from engine.bpmn.state import Changes
from engine.cases import hotsql as hotsql
from engine.cases import steps as steps
from engine.context import AppContext
from engine.db import make_engine, make_sessionmaker, transaction
from engine.errors import CaseConflict
from engine.models import Case, CaseEvent, CaseLookup, Job, Notification, OpenTask, SlaPause, TaskSpan
from engine.privacy.cipher import lookup_hash
from tests import pgserver
from tests.documents import pbg_cast
from tests.factories import Driver, pbg_application, run_and_commit

TASK_COLUMNS = ("id", "case_id", "process_key", "element_id", "name", "lane", "role", "agency", "bound_org",
                "assignee_id", "created_at", "due_at", "overdue")
ODD = 'a "quoted" value, a back\\slash, {braces}, NULL, é and \u263a'


def _started(ctx: AppContext) -> tuple[int, dict[str, Any], Any]:
    """Start a PBG case; return its id, its one open task's row (as task_insert's parameters) and its cast."""
    cast = pbg_cast(ctx)
    case = Driver(ctx).start("pbg", pbg_application(), cast.applicant)
    with ctx.sessions() as session:
        task = session.scalars(select(OpenTask).where(OpenTask.case_id == case.id)).one()
        return case.id, {name: getattr(task, name) for name in TASK_COLUMNS}, cast


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def test_every_kind_of_batched_write_leaves_the_rows_it_means(ctx: AppContext) -> None:
    case_id, task, _cast = _started(ctx)
    now = ctx.rt.clock()
    later, moved = now + timedelta(hours=1), now + timedelta(days=3)
    with transaction(ctx.sessions) as session:
        session.add_all([Job(kind="timer", case_id=case_id, task_id=tid, due_at=now, status="pending", attempts=0,
                             created_at=now) for tid in ("t-gone", "t-moved")])
    new_task = {**task, "id": "new-task", "element_id": "Task_next", "name": ODD, "due_at": moved, "created_at": later}
    with transaction(ctx.sessions) as session:
        events_before = int(session.scalar(select(func.count()).select_from(CaseEvent)
                                           .where(CaseEvent.case_id == case_id)) or 0)
        batch = hotsql.Batch(session)
        batch.close_tasks([{"tid": task["id"], "now": later, "done": True}])
        batch.add("task_insert", [new_task])
        batch.add("timer_delete", [{"case_id": case_id, "tid": "t-gone"}])
        batch.add("timer_move", [{"case_id": case_id, "tid": "t-moved", "due_at": moved}])
        batch.add("job_insert", [{"kind": "timer", "case_id": case_id, "task_id": "t-new", "due_at": later,
                                  "created_at": now}])
        batch.add("job_insert_payload", [{"kind": "outbound", "case_id": case_id, "task_id": "ticket-1", "due_at": now,
                                          "created_at": now, "topic": None, "payload": {"params": {"odd": ODD}}}])
        batch.add("event_insert", [steps._event(case_id, later, "t", "first", diff={"set": {"odd": ODD}}),
                                   steps._event(case_id, later, "system", "second", label=ODD)])
        batch.add("notification_insert", [{"uid": "u-1", "event_id": "e-1", "event": "step", "channel": "email",
                                           "case_id": case_id, "subscription_id": None, "recipient": "a@b.example",
                                           "language": "id", "context": {"odd": ODD}, "created_at": now}])
        batch.add("event_insert", [steps._event(case_id, later, "t", "third")])  # a kind again, after others
        batch.run()
    with ctx.sessions() as session:
        assert session.get(OpenTask, task["id"]) is None
        span = session.scalars(select(TaskSpan).where(TaskSpan.task_id == task["id"])).one()
        assert (span.closed_at, span.completed, span.created_at) == (later, True, task["created_at"])
        opened = session.get(OpenTask, "new-task")
        assert opened is not None
        assert (opened.name, opened.due_at, opened.created_at, opened.prioritized) == (ODD, moved, later, False)
        jobs = {job.task_id: job for job in session.scalars(select(Job).where(Job.case_id == case_id))}
        assert "t-gone" not in jobs
        assert (jobs["t-moved"].due_at, jobs["t-moved"].status) == (moved, "pending")
        assert (jobs["t-new"].kind, jobs["t-new"].due_at) == ("timer", later)
        payload = session.scalar(text("SELECT payload FROM job WHERE task_id = 'ticket-1'"))
        assert _json(payload) == {"params": {"odd": ODD}}
        events = list(session.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id)))
        assert len(events) == events_before + 3
        assert [(e.action, e.label, e.at) for e in events[-3:]] == [("first", None, later), ("second", ODD, later),
                                                                    ("third", None, later)]
        assert events[-3].diff == {"set": {"odd": ODD}}
        assert events[-2].diff is None
        sent = session.scalars(select(Notification).where(Notification.uid == "u-1")).one()
        assert (sent.context, sent.recipient, sent.status, sent.created_at) == ({"odd": ODD}, "a@b.example",
                                                                                "pending", now)
        # The feed's triggers saw the task leave, then the new one come, in the order the writes were queued.
        fed = session.execute(text("SELECT task_id FROM task_feed WHERE case_id = :c ORDER BY seq"), {"c": case_id})
        assert [row[0] for row in fed.all()[-2:]] == [task["id"], "new-task"]


def test_a_failing_batch_writes_nothing_and_the_session_goes_on(ctx: AppContext) -> None:
    case_id, task, cast = _started(ctx)
    with ctx.sessions() as session:
        version = session.get(Case, case_id).version  # type: ignore[union-attr]
        events = session.scalar(select(func.count()).select_from(CaseEvent).where(CaseEvent.case_id == case_id))
        batch = hotsql.Batch(session)
        batch.add("event_insert", [steps._event(case_id, ctx.rt.clock(), "t", "note")])
        batch.close_tasks([{"tid": task["id"], "now": ctx.rt.clock(), "done": True}])
        batch.add("event_insert", [steps._event(-1, ctx.rt.clock(), "t", "orphan")])  # no such case
        with pytest.raises(Exception) as failed:  # noqa: PT011 - the driver's own IntegrityError, one per database
            run_and_commit(session, batch)
        assert "foreign key" in str(failed.value).lower()
        session.rollback()
        assert session.scalar(select(func.count()).select_from(CaseEvent)
                              .where(CaseEvent.case_id == case_id)) == events
        assert session.get(OpenTask, task["id"]) is not None
        assert session.get(Case, case_id).version == version  # type: ignore[union-attr]
    assert Driver(ctx).complete(case_id, "Task_kelengkapan", cast.front, {"kelengkapan": "lengkap"}) == "running"


def test_a_connection_the_server_ended_before_the_batch_is_dropped(ctx: AppContext) -> None:
    if not ctx.settings.database_url.startswith("postgresql"):
        pytest.skip("the server ending a connection is PostgreSQL's")
    case_id, _task, _cast = _started(ctx)
    engine = make_engine(ctx.settings.database_url)  # its own pool: one connection, used in turn
    sessions = make_sessionmaker(engine)
    try:
        with sessions() as session:
            pid = session.scalar(text("SELECT pg_backend_pid()"))
            assert hotsql.fetch_one(session, "case_head", {"case_id": case_id}).status == "running"
            pgserver.terminate(ctx.settings.database_url, pid)
            batch = hotsql.Batch(session)
            batch.add("event_insert", [steps._event(case_id, ctx.rt.clock(), "t", "lost")])
            with pytest.raises(OperationalError) as lost:  # the driver's error, wrapped as SQLAlchemy wraps it
                run_and_commit(session, batch)
            assert isinstance(lost.value.orig, psycopg.OperationalError)
            with pytest.raises(DBAPIError) as failed:
                session.rollback()
            assert failed.value.connection_invalidated  # the pool drops it
        with sessions() as session:  # a new connection; the batch's statement is prepared afresh
            assert session.scalar(text("SELECT pg_backend_pid()")) != pid
            batch = hotsql.Batch(session)
            batch.add("event_insert", [steps._event(case_id, ctx.rt.clock(), "t", "kept")])
            batch.run()
            session.commit()
            actions = list(session.scalars(select(CaseEvent.action).where(CaseEvent.case_id == case_id)))
            assert "kept" in actions
            assert "lost" not in actions
    finally:
        engine.dispose()


def _pause(session: Any, case_id: int, reason: str) -> SlaPause:
    return session.scalars(select(SlaPause).where(SlaPause.case_id == case_id, SlaPause.reason == reason)).one()


def test_the_sla_clock_s_writes_start_switch_and_end_a_pause_in_one_batch(ctx: AppContext) -> None:
    case_id, _task, _cast = _started(ctx)
    now = ctx.rt.clock()
    later, last, due = now + timedelta(hours=2), now + timedelta(hours=3), now + timedelta(days=9)
    with transaction(ctx.sessions) as session:  # a pause starts on a running clock
        batch = hotsql.Batch(session)
        batch.add("event_insert", [steps._event(case_id, now, "t", "paused")])
        batch.add("pause_insert", [{"case_id": case_id, "reason": "applicant", "element_id": ODD, "now": now}])
        batch.add("case_paused", [{"case_id": case_id, "now": now}])
        batch.run()
    with ctx.sessions() as session:
        first = _pause(session, case_id, "applicant")
        assert (first.element_id, first.started_at, first.ended_at) == (ODD, now, None)
        case = session.get(Case, case_id)
        assert case is not None
        assert (case.sla_paused_since, case.sla_paused_s) == (now, 0)
    with transaction(ctx.sessions) as session:  # it ends and another starts: the clock stays stopped
        batch = hotsql.Batch(session)
        batch.add("pause_end", [{"pause_id": first.id, "now": later, "seconds": 600}])
        batch.add("case_pause_ended", [{"case_id": case_id, "total": 600, "due": due}])
        batch.add("pause_insert", [{"case_id": case_id, "reason": "payment", "element_id": None, "now": later}])
        batch.run()
    with transaction(ctx.sessions) as session:  # that one ends: the clock runs again, with no due date
        second = _pause(session, case_id, "payment")
        batch = hotsql.Batch(session)
        batch.add("pause_end", [{"pause_id": second.id, "now": last, "seconds": 300}])
        batch.add("case_pause_ended_runs", [{"case_id": case_id, "total": 900, "due": None}])
        batch.add("event_insert", [steps._event(case_id, last, "t", "runs")])
        batch.run()
    with ctx.sessions() as session:
        first, second = _pause(session, case_id, "applicant"), _pause(session, case_id, "payment")
        assert (first.ended_at, first.paused_s) == (later, 600)
        assert (second.element_id, second.started_at, second.ended_at, second.paused_s) == (None, later, last, 300)
        case = session.get(Case, case_id)
        assert case is not None
        assert (case.sla_paused_since, case.sla_paused_s, case.due_at) == (None, 900, None)
        actions = list(session.scalars(select(CaseEvent.action).where(CaseEvent.case_id == case_id)
                                       .order_by(CaseEvent.id)))
        assert actions[-2:] == ["paused", "runs"]


def test_a_job_queued_once_is_not_queued_twice(ctx: AppContext) -> None:
    case_id, _task, _cast = _started(ctx)
    now = ctx.rt.clock()
    row = {"kind": "document", "case_id": case_id, "task_id": "issue", "due_at": now, "created_at": now}
    with transaction(ctx.sessions) as session:
        batch = hotsql.Batch(session)
        batch.add("job_insert_once", [row, {**row, "due_at": now + timedelta(days=1)}])
        batch.run()
    with transaction(ctx.sessions) as session:  # a later step's: the job stays as the first queued it
        batch = hotsql.Batch(session)
        batch.add("job_insert_once", [{**row, "due_at": now + timedelta(days=2)}])
        batch.add("event_insert", [steps._event(case_id, now, "t", "after")])
        batch.run()
    with ctx.sessions() as session:
        jobs = list(session.scalars(select(Job).where(Job.kind == "document", Job.case_id == case_id)))
        assert [(job.task_id, job.due_at, job.status) for job in jobs] == [("issue", now, "pending")]
        assert "after" in session.scalars(select(CaseEvent.action).where(CaseEvent.case_id == case_id)).all()


def test_a_new_case_s_lookups_are_the_hashes_of_its_nik_fields(ctx: AppContext) -> None:
    data = pbg_application()
    case_id, _task, _cast = _started(ctx)
    with ctx.sessions() as session:
        stored = {(row.field, row.hash) for row in session.scalars(select(CaseLookup)
                                                                   .where(CaseLookup.case_id == case_id))}
    assert stored == {("nik", lookup_hash(data["nik"]))}
    assert all(len(digest) == 64 for _field, digest in stored)  # hex SHA-256, never the NIK


def _case_row(case_id: int, version: int, now: Any) -> dict[str, Any]:
    """write_case's parameters for a case at `version` (the version it is believed to be at)."""
    return {"case_id": case_id, "version": version, "new_version": version + 1, "wf_meta": "{}", "data": {"odd": ODD},
            "status": "running", "stage_id": "Uji", "stage_en": "Test", "outcome": None, "now": now,
            "completed_at": None}


def test_a_batch_led_by_a_case_write_writes_all_of_it_or_none_of_it(ctx: AppContext) -> None:
    case_id, task, _cast = _started(ctx)
    now = ctx.rt.clock()
    changes = Changes(inserts=[("t-led", "", '{"odd": 1}', 9999)])
    with ctx.sessions() as session:
        version = session.get(Case, case_id).version  # type: ignore[union-attr]
    seen: list[int] = []

    def check(updated: int) -> None:
        seen.append(updated)
        if updated != 1:
            raise CaseConflict("lost")

    def step(session: Any, believed: int, action: str) -> None:
        batch = hotsql.Batch(session)
        batch.lead(_case_row(case_id, believed, now), changes, check)
        batch.close_tasks([{"tid": task["id"], "now": now, "done": True}])
        batch.add("event_insert", [steps._event(case_id, now, "t", action)])
        run_and_commit(session, batch)

    with ctx.sessions() as session:  # a step whose case moved on: on PostgreSQL its statement writes nothing
        with pytest.raises(CaseConflict):  # on SQLite at once (it writes the case first), else when it is sent
            step(session, version - 1, "lost")
        assert seen == [0]
        assert session.get(OpenTask, task["id"]) is not None
        assert "lost" not in session.scalars(select(CaseEvent.action).where(CaseEvent.case_id == case_id)).all()
        assert session.scalar(text("SELECT count(*) FROM case_state WHERE task_id = 't-led'")) == 0
        session.rollback()
    with transaction(ctx.sessions) as session:  # the same at the right version: all of it
        step(session, version, "kept")
    assert seen == [0, 1]
    with ctx.sessions() as session:
        case = session.get(Case, case_id)
        assert case is not None
        assert (case.version, case.stage_id, case.data) == (version + 1, "Uji", {"odd": ODD})
        assert session.get(OpenTask, task["id"]) is None
        assert "kept" in session.scalars(select(CaseEvent.action).where(CaseEvent.case_id == case_id)).all()
        assert session.scalar(text("SELECT payload FROM case_state WHERE task_id = 't-led'")) == '{"odd": 1}'


BODY = ODD + " \\u0000 \\n"  # a task row's text: quotes, backslashes, braces, non-ASCII, JSON escapes kept as text


@pytest.mark.parametrize("kinds", ["", "o", "g", "a", "u", "ogau"])
@pytest.mark.parametrize("led", [False, True], ids=["write_case", "led_batch"])
def test_a_case_write_applies_exactly_the_task_state_changes_it_is_given(ctx: AppContext, kinds: str,
                                                                        led: bool) -> None:
    """PostgreSQL's statement holds only the parts a step has rows for; each kind alone and all together apply."""
    sql = hotsql._case_write(kinds)
    parts = [f"{part} AS (" in sql for part in ("gone_owners", "gone", "added", "changed")]
    assert parts == [kind in kinds for kind in "ogau"]
    case_id, task, _cast = _started(ctx)
    now = ctx.rt.clock()
    with ctx.sessions() as session:
        version = session.get(Case, case_id).version  # type: ignore[union-attr]
    seed = Changes(inserts=[("t-keep", "", '{"v":0}', 9000), ("t-gone", "", '{"v":0}', 9001),
                            ("t-sub", "sub-x", '{"v":0}', 9002), ("t-sub2", "sub-x", '{"v":0}', 9003)])
    with transaction(ctx.sessions) as session:
        assert hotsql.write_case(session, _case_row(case_id, version, now), seed) == 1
    changes = Changes(deleted_owners=["sub-x"] if "o" in kinds else [], deletes=["t-gone"] if "g" in kinds else [],
                      inserts=[("t-new", "", BODY, 9004)] if "a" in kinds else [],
                      updates=[("t-keep", BODY)] if "u" in kinds else [])
    seen: list[int] = []

    def check(updated: int) -> None:  # as the runtime's: a lost race fails the step
        seen.append(updated)
        if updated != 1:
            raise CaseConflict("lost")

    def write(session: Any, believed: int) -> None:
        if not led:
            check(hotsql.write_case(session, _case_row(case_id, believed, now), changes))
            return
        batch = hotsql.Batch(session)
        batch.lead(_case_row(case_id, believed, now), changes, check)
        batch.close_tasks([{"tid": task["id"], "now": now, "done": True}])
        batch.run()

    def stored() -> dict[str, str]:
        with ctx.sessions() as session:
            rows = session.execute(text("SELECT task_id, payload FROM case_state WHERE case_id = :c AND seq >= 9000"),
                                   {"c": case_id})
            return {row[0]: row[1] for row in rows}

    before = stored()
    with pytest.raises(CaseConflict), transaction(ctx.sessions) as session:  # the case moved on: nothing written
        write(session, version)
    assert seen == [0]
    assert stored() == before
    with transaction(ctx.sessions) as session:
        write(session, version + 1)
    assert seen == [0, 1]
    expected = {"t-keep": BODY if "u" in kinds else '{"v":0}', "t-gone": '{"v":0}', "t-sub": '{"v":0}',
                "t-sub2": '{"v":0}'}
    for gone in (["t-gone"] if "g" in kinds else []) + (["t-sub", "t-sub2"] if "o" in kinds else []):
        del expected[gone]
    if "a" in kinds:
        expected["t-new"] = BODY
    assert stored() == expected
    with ctx.sessions() as session:
        assert session.get(Case, case_id).version == version + 2  # type: ignore[union-attr]
        assert (session.get(OpenTask, task["id"]) is None) == led
