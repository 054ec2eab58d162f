"""The step's database round trips: a pooled connection the server ended is replaced unseen; the
version check and the task-state write are one statement that writes nothing on a lost race; a
transaction begun by a pipelined read is still one transaction."""

from __future__ import annotations

import time

import psycopg
import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from engine.bpmn import state as state
from engine.cases import hotsql as hotsql
from engine.context import AppContext
from engine.db import make_engine, make_sessionmaker
from engine.models import Case, CaseState, OpenTask
from tests import pgserver
from tests.documents import pbg_cast
from tests.factories import Driver, pbg_application, run_and_commit

ODD_BODY = 'a "quoted" {payload} with a back\\slash, a comma, {braces}, NULL and é'


def terminate_idle(url: str) -> int:
    """End every idle server process of the database but this one, as a restart or an idle timeout would."""
    admin = create_engine(url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            ended = conn.execute(text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND state = 'idle'")).all()
            for _ in range(100):  # the processes take a moment to go
                left = conn.scalar(text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                        "AND pid <> pg_backend_pid()"))
                if not left:
                    break
                time.sleep(0.02)
        return len(ended)
    finally:
        admin.dispose()


@pytest.fixture
def pg(ctx: AppContext) -> AppContext:
    if not ctx.settings.database_url.startswith("postgresql"):
        pytest.skip("the server ending a connection is PostgreSQL's")
    return ctx


def test_a_connection_the_server_ended_between_requests_is_replaced_without_an_error(pg: AppContext) -> None:
    cast = pbg_cast(pg)
    d = Driver(pg)
    case = d.start("pbg", pbg_application(), cast.applicant)
    with pg.sessions() as session:
        before = session.scalar(text("SELECT pg_backend_pid()"))
    assert terminate_idle(pg.settings.database_url) >= 1
    # The next step checks out the ended connection: the pool replaces it and the step goes through.
    assert d.complete(case.id, "Task_kelengkapan", cast.front, {"kelengkapan": "lengkap"}) == "running"
    with pg.sessions() as session:
        assert session.scalar(text("SELECT pg_backend_pid()")) != before
        assert session.scalar(select(OpenTask.element_id).where(OpenTask.case_id == case.id)) != "Task_kelengkapan"


def _write_params(head: Case, version: int) -> dict[str, object]:
    return {"new_version": version + 1, "wf_meta": head.wf_meta, "data": "{}", "status": head.status,
            "stage_id": head.stage_id, "stage_en": head.stage_en, "outcome": None, "now": head.updated_at,
            "completed_at": None, "case_id": head.id, "version": version}


def test_the_version_check_and_the_task_state_write_go_together(ctx: AppContext) -> None:
    cast = pbg_cast(ctx)
    case = Driver(ctx).start("pbg", pbg_application(), cast.applicant)
    with ctx.sessions() as session:
        head = session.get_one(Case, case.id)
        rows = {r.task_id: r for r in session.scalars(select(CaseState).where(CaseState.case_id == case.id))}
        kept, changed, gone = sorted(rows)[:3]
        changes = state.Changes(inserts=[("new-task", rows[kept].owner, ODD_BODY, 10_000)],
                                updates=[(changed, ODD_BODY + " changed")], deletes=[gone])

        def stored() -> dict[str, str]:
            found = session.execute(select(CaseState.task_id, CaseState.payload).where(CaseState.case_id == case.id))
            return {row.task_id: row.payload for row in found}

        untouched = stored()
        # A lost race (the version moved on): nothing is written, not even the task-state rows.
        assert hotsql.write_case(session, _write_params(head, head.version - 1), changes) == 0
        assert stored() == untouched
        assert session.scalar(select(Case.version).where(Case.id == case.id)) == head.version
        # The version matches: the case row and every kind of task-state change are written, bodies exactly.
        assert hotsql.write_case(session, _write_params(head, head.version), changes) == 1
        after = stored()
        assert after["new-task"] == ODD_BODY
        assert after[changed] == ODD_BODY + " changed"
        assert gone not in after
        assert after[kept] == untouched[kept]
        assert session.scalar(select(Case.version).where(Case.id == case.id)) == head.version + 1
        session.rollback()


def test_a_transaction_begun_by_a_read_is_one_transaction(ctx: AppContext) -> None:
    cast = pbg_cast(ctx)
    case = Driver(ctx).start("pbg", pbg_application(), cast.applicant)
    with ctx.sessions() as session:
        task_id = session.scalars(select(OpenTask.id).where(OpenTask.case_id == case.id)).one()
    with ctx.sessions() as session, ctx.sessions() as other:
        # On PostgreSQL this first read sends its BEGIN in the same round trip (hotsql.fetch_all).
        assert hotsql.fetch_one(session, "case_head", {"case_id": case.id}).status == "running"
        assert hotsql.execute(session, "task_delete", {"tid": task_id}) == 1
        assert other.scalar(select(OpenTask.id).where(OpenTask.id == task_id)) == task_id  # not committed
        session.rollback()
    with ctx.sessions() as session:
        assert session.scalar(select(OpenTask.id).where(OpenTask.id == task_id)) == task_id  # undone


def _prepared(session: Session) -> list[str]:
    """Return the statements the session's server process holds prepared."""
    return list(session.scalars(text("SELECT statement FROM pg_prepared_statements")))


def _holds_case_head(session: Session) -> bool:
    return any("FROM case_record WHERE id = $1" in statement for statement in _prepared(session))


def test_the_steps_prepared_statements_outlive_a_rollback_an_error_and_a_failed_pipeline(pg: AppContext) -> None:
    cast = pbg_cast(pg)
    d = Driver(pg)
    case = d.start("pbg", pbg_application(), cast.applicant)
    engine = make_engine(pg.settings.database_url)  # its own pool: one connection, used in turn
    sessions = make_sessionmaker(engine)
    head = {"case_id": case.id}
    try:
        with sessions() as session:
            pid = session.scalar(text("SELECT pg_backend_pid()"))
            assert hotsql.fetch_one(session, "case_head", head).status == "running"
            assert _holds_case_head(session)
        # Closing the session rolled back; the server and psycopg still agree on what is prepared.
        with sessions() as session:
            assert session.scalar(text("SELECT pg_backend_pid()")) == pid
            assert _holds_case_head(session)
            assert hotsql.fetch_one(session, "case_head", head).status == "running"
            with pytest.raises(DBAPIError):
                session.execute(text("SELECT 1 / 0"))  # the transaction fails
            session.rollback()
            assert _holds_case_head(session)
            assert hotsql.fetch_one(session, "case_head", head).status == "running"
            orphan = {"case_id": -1, "at": pg.rt.clock(), "actor": "x", "action": "x", "task_id": None,
                      "element_id": None, "label": None, "diff": None}
            batch = hotsql.Batch(session)
            # task_delete has no many-row form: the batch goes through a pipeline, at once (it deletes nothing here)
            batch.add("task_delete", [{"tid": "none"}])
            batch.add("event_insert", [orphan])
            with pytest.raises(IntegrityError) as refused:
                batch.run()  # a failure inside a pipeline: psycopg's own rollback ends it
            assert isinstance(refused.value.orig, psycopg.errors.ForeignKeyViolation)
            session.rollback()
            assert session.scalar(text("SELECT pg_backend_pid()")) == pid
            assert hotsql.fetch_one(session, "case_head", head).status == "running"
            batch.add("event_insert", [orphan])
            with pytest.raises(IntegrityError) as refused:
                run_and_commit(session, batch)  # a failure of the batch as one statement, sent at the commit
            assert isinstance(refused.value.orig, psycopg.errors.ForeignKeyViolation)
            session.rollback()
            assert _holds_case_head(session)
            assert hotsql.fetch_one(session, "case_head", head).status == "running"
    finally:
        engine.dispose()
    # The steps of the case still go through, on the shared pool too.
    assert d.complete(case.id, "Task_kelengkapan", cast.front, {"kelengkapan": "lengkap"}) == "running"


@pytest.mark.parametrize("wrote", [True, False], ids=["in-a-transaction", "reads-only"])
def test_a_connection_the_server_ended_is_dropped_and_the_next_session_connects_afresh(pg: AppContext,
                                                                                      wrote: bool) -> None:
    cast = pbg_cast(pg)
    d = Driver(pg)
    case = d.start("pbg", pbg_application(), cast.applicant)
    engine = make_engine(pg.settings.database_url)
    sessions = make_sessionmaker(engine)
    try:
        with sessions() as session:
            pid = session.scalar(text("SELECT pg_backend_pid()"))
            assert hotsql.fetch_one(session, "case_head", {"case_id": case.id}).status == "running"
            if wrote:  # a write begins the transaction (its reads ran without one, engine.db)
                session.execute(text("UPDATE case_record SET version = version WHERE id = :id"), {"id": case.id})
            pgserver.terminate(pg.settings.database_url, pid)
            if wrote:
                with pytest.raises(DBAPIError) as failed:
                    session.rollback()
                assert failed.value.connection_invalidated  # the pool drops it
            else:
                session.rollback()  # no transaction begun: nothing to undo, nothing sent; the next checkout sees it
        with sessions() as session:  # a new connection; its statements are prepared afresh
            assert session.scalar(text("SELECT pg_backend_pid()")) != pid
            assert hotsql.fetch_one(session, "case_head", {"case_id": case.id}).status == "running"
    finally:
        engine.dispose()
    assert d.complete(case.id, "Task_kelengkapan", cast.front, {"kelengkapan": "lengkap"}) == "running"


def test_requests_one_after_another_reuse_the_connection_returned_last(ctx: AppContext) -> None:
    """The pool hands out the connection returned last, so what it learnt (prepared statements and their
    generic plans on PostgreSQL, SQLite's page and statement caches) serves the next request; taken in turn,
    every pooled connection had to learn each statement (engine/db.py, POOL_LIFO)."""
    def driver_of(session: Session) -> object:
        return session.connection().connection.driver_connection

    first, second = ctx.sessions(), ctx.sessions()  # two requests at once: the pool holds two connections
    older, newer = driver_of(first), driver_of(second)
    assert older is not newer
    first.close()
    second.close()  # returned last
    for _ in range(6):
        with ctx.sessions() as session:
            assert driver_of(session) is newer
            session.execute(select(Case.id).limit(1)).all()
