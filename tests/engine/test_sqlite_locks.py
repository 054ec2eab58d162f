"""SQLite locking (issue 18): reads take no lock, writes take it only to write, a stale writer runs again."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from engine import db as db
from engine.context import AppContext
from engine.models import Job

AT = datetime(2026, 3, 12, 2, tzinfo=UTC)


@pytest.fixture
def path(ctx: AppContext) -> str:
    """The test database's file; these tests are about SQLite's one write lock."""
    url = ctx.settings.database_url
    if not url.startswith("sqlite"):
        pytest.skip("the write lock is SQLite's")
    return url.removeprefix("sqlite:///")


@pytest.fixture
def other(path: str) -> Iterator[sqlite3.Connection]:
    """Another connection to the same file, as another process would hold."""
    conn = sqlite3.connect(path, isolation_level=None, timeout=5)
    yield conn
    if conn.in_transaction:
        conn.execute("ROLLBACK")
    conn.close()


def _add_job(conn: sqlite3.Connection, kind: str) -> None:
    at = AT.replace(tzinfo=None).isoformat(" ")
    conn.execute("INSERT INTO job (kind, due_at, status, attempts, created_at) VALUES (?, ?, 'pending', 0, ?)",
                 (kind, at, at))


def _kinds(ctx: AppContext) -> list[str]:
    with ctx.sessions() as session:
        return sorted(session.scalars(select(Job.kind)))


def _lock_is_free(other_path: str) -> bool:
    probe = sqlite3.connect(other_path, isolation_level=None, timeout=0)
    try:
        probe.execute("BEGIN IMMEDIATE")
        probe.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError:
        return False
    finally:
        probe.close()


def test_a_read_completes_while_another_connection_holds_the_write_lock(
        ctx: AppContext, other: sqlite3.Connection) -> None:
    other.execute("BEGIN IMMEDIATE")
    _add_job(other, "uncommitted")
    with ctx.sessions() as session:  # under BEGIN IMMEDIATE this waited for the busy timeout, then failed
        assert session.scalar(select(func.count()).select_from(Job)) == 0
        session.commit()


def test_a_read_then_write_transaction_takes_the_lock_only_at_its_first_write(ctx: AppContext, path: str) -> None:
    with db.transaction(ctx.sessions, lock_first=False) as session:
        session.scalar(select(func.count()).select_from(Job))
        assert _lock_is_free(path)
        session.add(Job(kind="ours", due_at=AT, status="pending"))
        session.flush()
        assert not _lock_is_free(path)
    assert _kinds(ctx) == ["ours"]


def test_a_plain_transaction_block_takes_the_lock_at_begin_and_waits_for_it(ctx: AppContext, path: str) -> None:
    with db.transaction(ctx.sessions) as session:  # cannot be run again: it must not lose a race
        session.scalar(select(func.count()).select_from(Job))
        assert not _lock_is_free(path)


def test_a_write_whose_snapshot_went_stale_runs_again_and_succeeds(
        ctx: AppContext, other: sqlite3.Connection) -> None:
    attempts: list[int] = []

    def work(session: Session) -> None:
        attempts.append(session.scalar(select(func.count()).select_from(Job)) or 0)
        if len(attempts) == 1:
            _add_job(other, "theirs")  # another writer commits after this transaction's snapshot
        session.add(Job(kind="ours", due_at=AT, status="pending"))

    db.run_in_transaction(ctx.sessions, work)
    assert attempts == [0, 1]  # the second run saw the other writer's row
    assert _kinds(ctx) == ["ours", "theirs"]


def test_a_unit_that_keeps_losing_takes_the_lock_first_on_its_last_attempt(
        ctx: AppContext, path: str, other: sqlite3.Connection) -> None:
    free_at_start: list[bool] = []

    def work(session: Session) -> None:
        session.scalar(select(func.count()).select_from(Job))
        free_at_start.append(_lock_is_free(path))
        if free_at_start[-1]:
            _add_job(other, f"theirs-{len(free_at_start)}")
        session.add(Job(kind="ours", due_at=AT, status="pending"))

    db.run_in_transaction(ctx.sessions, work)
    assert free_at_start == [True] * (db.ATTEMPTS - 1) + [False]
    assert _kinds(ctx) == ["ours"] + [f"theirs-{n}" for n in range(1, db.ATTEMPTS)]


def test_a_write_that_finds_the_lock_taken_is_not_retried_forever(ctx: AppContext, other: sqlite3.Connection) -> None:
    engine = db.make_engine(ctx.settings.database_url, sqlite_busy_timeout_s=0.1)
    other.execute("BEGIN IMMEDIATE")
    _add_job(other, "held")
    calls: list[int] = []

    def work(session: Session) -> None:
        calls.append(1)
        session.add(Job(kind="ours", due_at=AT, status="pending"))

    try:
        with pytest.raises(OperationalError):
            db.run_in_transaction(db.make_sessionmaker(engine), work)
    finally:
        engine.dispose()
    assert len(calls) == db.ATTEMPTS


def test_appended_rows_of_a_read_only_transaction_survive_a_concurrent_commit(
        ctx: AppContext, other: sqlite3.Connection) -> None:
    with db.transaction(ctx.sessions, lock_first=False) as session:
        session.scalar(select(func.count()).select_from(Job))
        _add_job(other, "theirs")  # its snapshot is stale now: a plain insert here would fail at once
        db.append(session, Job(kind="view", due_at=AT, status="done"))
    assert _kinds(ctx) == ["theirs", "view"]


def _write_and_append(session: Session, *, fail: bool) -> None:
    session.add(Job(kind="write", due_at=AT, status="pending"))
    db.append(session, Job(kind="view", due_at=AT, status="done"))
    if fail:
        raise RuntimeError("undo")


def test_appended_rows_commit_or_roll_back_with_the_transactions_writes(ctx: AppContext) -> None:
    with pytest.raises(RuntimeError):
        db.run_in_transaction(ctx.sessions, lambda session: _write_and_append(session, fail=True))
    assert _kinds(ctx) == []
    db.run_in_transaction(ctx.sessions, lambda session: _write_and_append(session, fail=False))
    assert _kinds(ctx) == ["view", "write"]
