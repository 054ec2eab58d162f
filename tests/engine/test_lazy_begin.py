"""PostgreSQL: a transaction begins at its first write, and a step's one write, sent last, is a transaction of
its own (engine.db). Observed on the wire: libpq's trace of the session's connection."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from engine.cases import hotsql as hotsql
from engine.cases import steps as steps
from engine.cases.tasks import complete_task
from engine.context import AppContext
from engine.db import ends_at_once, make_engine, make_sessionmaker, plain_read, transaction
from engine.models import Case, CaseEvent, OpenTask
from tests.documents import pbg_cast
from tests.factories import Driver, pbg_application


@dataclass
class Wire:
    """What the client sent and how many times the server said it was ready (one per round trip)."""

    sent: list[str] = field(default_factory=list)
    round_trips: int = 0

    def commands(self, word: str) -> int:
        return sum(f'"{word}"' in line for line in self.sent)

    def first(self, needle: str) -> int:
        return next(i for i, line in enumerate(self.sent) if needle in line)


@contextmanager
def traced(session: Session) -> Iterator[Wire]:
    """Trace the session's connection (libpq's PQtrace) until the block ends; the Wire fills in then."""
    driver: Any = session.connection().connection.driver_connection
    wire = Wire()
    with tempfile.NamedTemporaryFile("w+", suffix=".trace") as log:
        driver.pgconn.trace(log.fileno())
        try:
            yield wire
        finally:
            driver.pgconn.untrace()
            lines = Path(log.name).read_text(errors="replace").splitlines()
    wire.sent = [line for line in lines if "\tF\t" in line]
    wire.round_trips = sum("\tB\t" in line and "ReadyForQuery" in line for line in lines)


@pytest.fixture
def pg(ctx: AppContext) -> AppContext:
    if not ctx.settings.database_url.startswith("postgresql"):
        pytest.skip("a transaction begun at its first write is PostgreSQL's (SQLite begins DEFERRED)")
    return ctx


@pytest.fixture
def own(pg: AppContext) -> Iterator[sessionmaker[Session]]:
    """Sessions on a pool of their own, so that a traced session's connection is the one it uses throughout."""
    engine = make_engine(pg.settings.database_url)
    try:
        yield make_sessionmaker(engine)
    finally:
        engine.dispose()


def _case(pg: AppContext) -> tuple[int, str, Any]:
    cast = pbg_cast(pg)
    case = Driver(pg).start("pbg", pbg_application(), cast.applicant)
    with pg.sessions() as session:
        task_id = session.scalars(select(OpenTask.id).where(OpenTask.case_id == case.id)).one()
    return case.id, task_id, cast


def _version(pg: AppContext, case_id: int) -> int:
    with pg.sessions() as session:  # another connection: sees only what is committed
        return int(session.scalar(select(Case.version).where(Case.id == case_id)) or 0)


def test_a_transaction_that_only_reads_sends_no_begin_and_no_commit(pg: AppContext, own: Any) -> None:
    case_id, _task, _cast = _case(pg)
    for _ in range(2):  # the second time, the driver's statement is prepared already (its first run prepares it)
        with own() as session, traced(session) as wire:
            assert hotsql.fetch_one(session, "case_head", {"case_id": case_id}).status == "running"
            assert session.scalar(select(func.count()).select_from(OpenTask).where(OpenTask.case_id == case_id)) == 1
            session.commit()
        assert wire.commands("BEGIN") == wire.commands("COMMIT") == 0
    assert wire.round_trips == 2  # the two reads, nothing else


def test_only_a_transaction_with_nothing_begun_nor_held_ends_on_the_event_loop(pg: AppContext, own: Any) -> None:
    case_id, _task, _cast = _case(pg)
    with own() as session:
        assert hotsql.fetch_one(session, "case_head", {"case_id": case_id}).status == "running"
        assert ends_at_once(session)  # reads only: its commit sends nothing
        batch = hotsql.Batch(session)
        batch.add("event_insert", [steps._event(case_id, pg.rt.clock(), "t", "note")])
        batch.run()
        assert not ends_at_once(session)  # a write is held: the commit sends it
        session.commit()
    with own() as session:
        session.execute(text("UPDATE case_record SET version = version WHERE id = :id"), {"id": case_id})
        assert not ends_at_once(session)  # begun: the commit sends COMMIT
        session.rollback()
    with own() as session:
        session.begin()
        assert ends_at_once(session)
        assert session.get_bind().pool.checkedout() == 0  # asking took no connection (it could wait on the loop)


def test_a_step_whose_one_write_goes_last_is_a_transaction_of_that_statement(pg: AppContext, own: Any) -> None:
    case_id, task_id, cast = _case(pg)
    version = _version(pg, case_id)
    with own() as session, traced(session) as wire:
        complete_task(session, rt=pg.rt, task_id=task_id, actor=cast.front, data={"kelengkapan": "lengkap"})
        assert _version(pg, case_id) == version  # held: nothing sent yet
        session.commit()
    assert _version(pg, case_id) == version + 1  # sent at the commit, and committed by itself
    assert wire.commands("BEGIN") == wire.commands("COMMIT") == 0
    writes = [line for line in wire.sent if "WITH head" in line]
    assert len(writes) == 1
    assert wire.sent.index(writes[0]) > wire.first("FROM task t JOIN case_record")  # after the step's read
    with pg.sessions() as session:
        assert session.get(OpenTask, task_id) is None  # the whole statement went: the task left the inbox


def test_a_statement_after_the_step_sends_its_write_first_inside_one_transaction(pg: AppContext, own: Any) -> None:
    case_id, task_id, cast = _case(pg)
    with own() as session, traced(session) as wire:
        complete_task(session, rt=pg.rt, task_id=task_id, actor=cast.front, data={"kelengkapan": "lengkap"})
        # The read sees the step: the write went before it, in the transaction it began.
        assert session.get(OpenTask, task_id) is None
        assert session.scalar(select(func.count()).select_from(OpenTask).where(OpenTask.case_id == case_id)) == 1
        session.commit()
    assert wire.commands("BEGIN") == wire.commands("COMMIT") == 1
    assert wire.first('"BEGIN"') < wire.first("WITH head") < wire.first('"COMMIT"')
    assert wire.first("FROM task t JOIN case_record") < wire.first('"BEGIN"')  # the step's read came before


def _orphan_batch(session: Session, pg: AppContext) -> hotsql.Batch:
    batch = hotsql.Batch(session)
    batch.add("event_insert", [steps._event(-1, pg.rt.clock(), "t", "orphan")])  # no such case: refused
    return batch


def test_a_held_write_that_fails_at_a_later_statement_fails_the_commit_too(pg: AppContext, own: Any) -> None:
    case_id, _task, _cast = _case(pg)
    with own() as session:
        _orphan_batch(session, pg).run()  # held
        with pytest.raises(IntegrityError):  # the next statement sends it; its failure is that statement's
            session.execute(select(Case.id).where(Case.id == case_id))
        # Whoever catches that and goes on cannot commit the transaction without the write.
        with pytest.raises(IntegrityError):
            session.commit()
        session.rollback()
    with pg.sessions() as session:
        assert session.scalar(select(func.count()).select_from(CaseEvent).where(CaseEvent.action == "orphan")) == 0


def test_a_write_held_inside_a_savepoint_goes_with_it(pg: AppContext, own: Any) -> None:
    case_id, _task, _cast = _case(pg)

    def note(session: Session, action: str) -> None:
        batch = hotsql.Batch(session)
        batch.add("event_insert", [steps._event(case_id, pg.rt.clock(), "t", action)])
        batch.run()

    def refused(session: Session) -> None:
        with session.begin_nested():
            note(session, "undone")
            raise RuntimeError("refused")  # the savepoint rolls back, with the write it held

    with transaction(own) as session:
        session.execute(text("UPDATE case_record SET version = version WHERE id = :id"), {"id": case_id})
        with pytest.raises(RuntimeError):
            refused(session)
        with session.begin_nested():
            note(session, "kept")  # released: sent inside the savepoint
        with pytest.raises(IntegrityError), session.begin_nested():
            _orphan_batch(session, pg).run()  # sent at the release, refused: the savepoint rolls back alone
        note(session, "after")
    with pg.sessions() as session:
        actions = set(session.scalars(select(CaseEvent.action).where(CaseEvent.case_id == case_id)))
    assert {"kept", "after"} <= actions
    assert "undone" not in actions


def test_only_plain_reads_run_before_the_transaction_begins() -> None:
    assert plain_read("SELECT id FROM task WHERE case_id = $1")
    assert plain_read("  select count(*) from case_record")
    for statement in ("SELECT id FROM job WHERE status = 'pending' FOR UPDATE SKIP LOCKED",
                      "SELECT * FROM task FOR SHARE", "SELECT nextval('case_record_id_seq')",
                      "SELECT pg_advisory_xact_lock(1)", "SELECT * INTO copy FROM task",
                      "UPDATE task SET overdue = true", "INSERT INTO case_event (case_id) VALUES (1)",
                      "WITH head AS (UPDATE case_record SET version = 2) SELECT 1", "SAVEPOINT sa_1",
                      "SET TIME ZONE 'UTC'"):
        assert not plain_read(statement), statement
