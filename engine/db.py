"""Database engine and sessions: SQLite (WAL) by default, PostgreSQL via MPP_DATABASE_URL.

On SQLite a transaction begins DEFERRED: it reads a snapshot without any lock and takes the one
write lock at its first write (with autoflush off, usually the flush at commit), so reads never
wait for writers and a write holds the lock only while it writes. A writer whose snapshot went
stale, or that finds the lock taken, gets "database is locked" at once (SQLite cannot wait there);
the unit of work is then run again from the start (`is_retryable`, `run_in_transaction`, and
web.routing for requests), its last attempt taking the lock at BEGIN so it cannot lose again.
On PostgreSQL a transaction begins at its first write, its reads running before it (`_lazy_begin`).
See docs/architecture.md, "SQLite locking".
"""

from __future__ import annotations

import random
import select
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, DateTime, Dialect, Engine, MetaData, TypeDecorator, create_engine, event
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

T = TypeVar("T")

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


AFTER_COMMIT = "mpp_after_commit"


def on_commit(session: Session, callback: Callable[[], None]) -> None:
    """Run `callback` once the session's current transaction commits (never on rollback)."""
    session.info.setdefault(AFTER_COMMIT, []).append(callback)


APPEND = "mpp_append"


def append(session: Session, row: Base) -> None:
    """Add a row that depends on nothing the transaction read (a log entry); it is written at commit.

    A transaction that wrote nothing else (a page view that records who saw personal data) would
    otherwise need the write lock on its read snapshot, which fails whenever another writer
    committed meanwhile. Its appended rows are written instead, at commit, in a short write
    transaction begun after the reads end; a transaction that wrote anyway commits them with its
    own writes.
    """
    session.info.setdefault(APPEND, []).append(row)


@event.listens_for(Session, "before_commit")
def _write_appended(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint is released: its rows wait for the outermost commit
    rows = session.info.pop(APPEND, None)
    if not rows:
        return
    if session.get_bind().dialect.name == "sqlite" and not _wrote(session):
        conn = session.connection()
        # Read-only so far: end the snapshot (nothing is lost) and wait for the write lock afresh.
        conn.exec_driver_sql("COMMIT")
        conn.exec_driver_sql("BEGIN IMMEDIATE")
        conn.info[_CHANGES_AT_BEGIN] = _total_changes(conn)
    session.add_all(rows)


def _wrote(session: Session) -> bool:
    """Tell whether the session's SQLite transaction has written or has ORM changes still to write."""
    if session.new or session.dirty or session.deleted:
        return True
    conn = session.connection()
    return _total_changes(conn) != conn.info.get(_CHANGES_AT_BEGIN)


def ends_at_once(session: Session) -> bool:
    """Tell whether ending the session's transaction cannot wait: none begun, or one with nothing to write.

    Such a transaction may end on an event loop (no thread hop): on SQLite its COMMIT only drops a read
    snapshot; on PostgreSQL nothing began it (its reads ran alone, below) and its commit sends nothing.
    """
    transaction = session.get_transaction()
    if transaction is None:
        return True
    if not transaction.is_active or session.info.get(APPEND):
        return False
    if session.get_bind().dialect.name == "sqlite":
        return not _wrote(session)
    held = session.info.get(_DEFERRED)
    if (held is not None and _DEFERRED in held) or session.new or session.dirty or session.deleted:
        return False
    driver = session.info.get(_DRIVER)  # None: no statement ran, no connection taken
    return driver is None or bool(driver.autocommit)


def _total_changes(conn: Connection) -> int:
    """Return how many rows the SQLite connection has changed since it opened."""
    return int(conn.connection.driver_connection.total_changes)  # type: ignore[union-attr]


# Savepoints (`session.begin_nested()`): how many after-commit callbacks and appended rows each
# found when it began, so that rolling one back drops only what was added inside it.
_SAVEPOINTS = "mpp_savepoints"
_DEFERRED = "mpp_deferred_write"  # the session's deferred write (`defer_write`), kept on its connection's info
_DRIVER = "mpp_driver"  # the DBAPI connection of the session's transaction, once it has one
TRANSACTION_SCOPED = ("mpp_hotsql", "mpp_hotsql_wrote", _SAVEPOINTS, _DEFERRED, _DRIVER)  # hotsql's _KEY and WROTE


@event.listens_for(Session, "after_begin")
def _connection_taken(session: Session, _transaction: Any, connection: Connection) -> None:
    session.info[_DRIVER] = connection.connection.driver_connection


@event.listens_for(Session, "after_transaction_create")
def _savepoint_begins(session: Session, transaction: Any) -> None:
    if transaction.nested:
        marks = (len(session.info.get(AFTER_COMMIT, [])), len(session.info.get(APPEND, [])))
        session.info.setdefault(_SAVEPOINTS, []).append(marks)


@event.listens_for(Session, "after_commit")
def _run_after_commit(session: Session) -> None:
    # SQLAlchemy reports a released savepoint as a commit too, while the transaction around it may
    # still roll back: the callbacks (the workflow cache, the task feed) wait for the outermost commit.
    if session.in_nested_transaction():
        _pop_savepoint(session)
        return
    _forget_transaction(session)
    for callback in session.info.pop(AFTER_COMMIT, []):
        callback()


@event.listens_for(Session, "after_soft_rollback")
def _drop_after_commit(session: Session, previous_transaction: Any) -> None:
    if previous_transaction.nested:  # a savepoint rolled back: only what it added goes
        callbacks, appended = _pop_savepoint(session)
        del session.info.get(AFTER_COMMIT, [])[callbacks:]
        del session.info.get(APPEND, [])[appended:]
        return
    _forget_transaction(session)
    session.info.pop(_SAVEPOINTS, None)
    session.info.pop(AFTER_COMMIT, None)
    session.info.pop(APPEND, None)


def _pop_savepoint(session: Session) -> tuple[int, int]:
    marks = session.info.get(_SAVEPOINTS)
    return marks.pop() if marks else (0, 0)


@event.listens_for(Session, "after_transaction_end")
def _transaction_end(session: Session, transaction: Any) -> None:
    if transaction.parent is None:
        _forget_transaction(session)


def _forget_transaction(session: Session) -> None:
    for key in TRANSACTION_SCOPED:
        session.info.pop(key, None)


# PostgreSQL: a transaction begins at its first write.
#
# A transaction's reads run before it begins, each its own statement-long transaction (the driver's
# autocommit). At PostgreSQL's READ COMMITTED every statement of a transaction takes a fresh snapshot
# anyway, so a read sees what it would have seen inside it; only writes, and reads that lock rows
# (FOR UPDATE), need the transaction, and the first of them begins it (`before_statement`). A
# transaction that only reads then costs no BEGIN and no COMMIT, two round trips fewer; a case step,
# which reads, then writes once, sends its write as late as it can (`defer_write`): at the commit,
# when nothing was written before it and nothing follows, it goes alone, a transaction of one statement
# (atomic, as every statement is), with no BEGIN and no COMMIT either.

_LOCKS_OR_WRITES = (" FOR UPDATE", " FOR NO KEY UPDATE", " FOR SHARE", " FOR KEY SHARE", " INTO ", "NEXTVAL(",
                    "SETVAL(", "PG_ADVISORY", "SET_CONFIG(", "PG_NOTIFY(", "TXID_CURRENT", "PG_CURRENT_XACT_ID")
_PLAIN_READS: dict[str, bool] = {}


def plain_read(statement: str) -> bool:
    """Tell whether a statement only reads, taking no lock and changing nothing (when in doubt: no)."""
    found = _PLAIN_READS.get(statement)
    if found is None:
        upper = statement.upper()
        found = upper.lstrip().startswith("SELECT") and not any(mark in upper for mark in _LOCKS_OR_WRITES)
        if len(_PLAIN_READS) >= 4096:  # statements are few and fixed; a bound against unforeseen ones
            _PLAIN_READS.clear()
        _PLAIN_READS[statement] = found
    return found


_FAILED = "mpp_deferred_failed"  # a held write that failed when a later statement sent it: the commit fails too


def before_statement(info: dict[str, Any], driver: Any, write: bool) -> None:
    """Before a statement on a PostgreSQL connection: send the deferred write, and begin for a write."""
    send = info.pop(_DEFERRED, None)
    if send is not None:
        try:
            send(False)
        except BaseException as exc:
            # It fails the statement that sent it. Whoever catches that (a savepoint's caller that goes on
            # without it) must not commit the transaction without the write: its commit raises this again.
            info[_FAILED] = exc
            raise
    if write and driver.autocommit:
        driver.autocommit = False  # idle, so allowed; the driver sends BEGIN with the next statement


def defer_write(session: Session, info: dict[str, Any], send: Callable[[bool], None]) -> None:
    """Hold a PostgreSQL write until the transaction's next statement, or its commit.

    `info` is the session's connection's `info`; `send(last)` runs the write, beginning the transaction
    first unless `last` (the commit comes next, with nothing else to write): a write sent last while
    nothing was written before it is a transaction of its own. A write held when the transaction rolls
    back is dropped.
    """
    before_statement(info, None, write=False)  # one held at a time: an earlier one goes first
    info[_DEFERRED] = send
    session.info[_DEFERRED] = info


@event.listens_for(Session, "before_commit")
def _send_deferred(session: Session) -> None:
    # Registered after `_write_appended`: the appended rows are in `session.new` by now. A savepoint's release
    # sends the write held inside it (its SAVEPOINT sent any earlier one), so a failure rolls the savepoint back.
    info = session.info.get(_DEFERRED)
    if info is None:
        return
    nested = session.in_nested_transaction()
    failed = None if nested else info.pop(_FAILED, None)
    if failed is not None:
        raise failed
    send = info.pop(_DEFERRED, None)
    if send is not None:
        send(not nested and not (session.new or session.dirty or session.deleted))


def _lazy_begin(engine: Engine) -> None:
    """Make the PostgreSQL engine's transactions begin at their first write (see above)."""

    from psycopg.pq import TransactionStatus

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        driver: Any = conn.connection.driver_connection
        if not driver.autocommit and driver.pgconn.transaction_status == TransactionStatus.IDLE:
            driver.autocommit = True

    @event.listens_for(engine, "before_cursor_execute")
    def _statement(conn: Connection, cursor: Any, statement: str, *_args: Any) -> None:
        before_statement(conn.info, cursor.connection, not plain_read(statement))

    @event.listens_for(engine, "rollback")
    def _rollback_event(conn: Connection) -> None:
        conn.info.pop(_DEFERRED, None)
        conn.info.pop(_FAILED, None)

    @event.listens_for(engine, "rollback_savepoint")
    def _rollback_savepoint(conn: Connection, _name: str, _context: Any) -> None:
        # A write held now was made inside the savepoint (its SAVEPOINT statement sent any earlier one).
        conn.info.pop(_DEFERRED, None)

    @event.listens_for(engine, "checkin")
    def _checkin(_dbapi_conn: Any, record: Any) -> None:
        record.info.pop(_DEFERRED, None)
        record.info.pop(_FAILED, None)


def make_engine(url: str, *, sqlite_synchronous: str = "NORMAL", sqlite_busy_timeout_s: float = 30.0,
                sqlite_begin: str = "DEFERRED") -> Engine:
    """Create a SQLAlchemy engine; SQLite gets WAL, a busy timeout, foreign keys and deferred BEGIN.

    `sqlite_begin="IMMEDIATE"` makes every transaction take the write lock at BEGIN, as before
    issue 18 (bench/sqlite_locks.py compares the two).
    """
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        on_disk = bool(path) and path != ":memory:"
        if on_disk:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": sqlite_busy_timeout_s, "check_same_thread": False},
                               **({"pool_use_lifo": True} if on_disk else {}))  # see POOL_LIFO below

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            # Let SQLAlchemy's BEGIN below start transactions, not the driver.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute(f"PRAGMA synchronous={sqlite_synchronous}")
            cur.execute("PRAGMA foreign_keys=ON")
            # A statement that fires a trigger keeps a statement journal; past 64 KiB (16 pages: a task row's
            # delete touches its 14 indexes and the feed) SQLite spills it to a temporary file, created and
            # unlinked at every such statement (~60 us of system CPU each). In memory it never spills.
            cur.execute("PRAGMA temp_store=MEMORY")
            cur.execute(f"PRAGMA busy_timeout={int(sqlite_busy_timeout_s * 1000)}")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin(conn: Any) -> None:
            immediate = sqlite_begin == "IMMEDIATE" or _WRITE_LOCK_FIRST.get()
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
            conn.info[_CHANGES_AT_BEGIN] = _total_changes(conn)

        return engine
    # Server-side prepared statements: the step's at their first run (engine/cases/hotsql.py asks, and psycopg's
    # executemany), any other once it has run PREPARE_AFTER times on the connection. A page's reads were parsed,
    # analysed and planned at every request: on the supervisor's web inbox at 1,000,000 cases that was 8.7 ms
    # of its 11.6 ms on the server (the statement log's parse and bind against execute), its p50 16.0-16.7 ms
    # against 10.0-10.7 ms prepared (bench.queries, two interleaved runs each); the database's CPU per PBG case
    # over HTTP 26.7 -> 22.8 ms (three interleaved runs each).
    engine = create_engine(url, pool_size=10, max_overflow=20, pool_use_lifo=True,
                           connect_args={"prepare_threshold": PREPARE_AFTER})
    engine.dialect.do_rollback = _rollback  # type: ignore[method-assign,assignment]
    _lazy_begin(engine)
    # `plan_cache_mode` stays `auto`: PostgreSQL applies it to every parameterised statement (psycopg's
    # unnamed ones too), and a forced generic plan misjudged the inbox, search and step-filter queries'
    # row counts, up to a second of JIT compiling for a 0.1 ms statement. Under `auto` a prepared statement
    # is planned for its values at its first five runs, then keeps one generic plan only if that is estimated
    # no costlier than those were; else it is planned at each run as before, still parsed and analysed once.
    # The case write's forms settle on generic plans too (`pg_prepared_statements` after the engine bench's
    # warm-up: 15-295 generic plans each on the connection that ran them most).

    @event.listens_for(engine, "checkout")
    def _alive(dbapi_conn: Any, _record: Any, _proxy: Any) -> None:
        # In place of pool_pre_ping, which costs a round trip before every transaction.
        if dbapi_conn.closed or dbapi_conn.broken:
            raise DisconnectionError("connection closed")
        if _quiet(dbapi_conn):
            return
        try:
            engine.dialect.do_ping(dbapi_conn)
        except Exception as exc:
            raise DisconnectionError("the server ended the connection") from exc

    return engine


PREPARE_AFTER = 5  # psycopg prepares a statement after this many runs on a connection (its default)
# POOL_LIFO: both pools hand out the connection returned last (`pool_use_lifo`), not the one idle longest.
# What a connection has learnt is its own: PostgreSQL's prepared statements and their generic plans (a
# statement is planned for its values at its first five runs on a connection), the backend's catalogue
# caches, SQLite's page and statement caches. Taken in turn, every pooled connection had to learn each
# statement, and below the pool's size of concurrent requests they all stayed half-taught: one PBG step on
# PostgreSQL after the benchmark's warm-up, two connections in turn, spent 3.1-3.6 ms of server time
# (planning at bind 1.6-1.8 ms, statements parsed again), against 1.3-1.7 ms on one connection (statement
# log, two interleaved runs each). Connections beyond what the load needs now stay idle.


def _rollback(dbapi_conn: Any) -> None:
    """Roll a psycopg connection's transaction back, keeping its prepared statements.

    psycopg's own `rollback()` forgets every prepared statement and sends DEALLOCATE ALL (a round
    trip), so each read that ends in a rollback (`with sessions() as session: ...`) would cost the next
    step on that connection a round trip and a parse and plan of each of its statements again.
    PostgreSQL keeps prepared statements across a rollback (they belong to the session, not to the
    transaction), so only the server is told: ROLLBACK through libpq, which psycopg's bookkeeping does
    not see. An open pipeline (a failure inside one) goes through psycopg's rollback, which ends it.
    """
    from psycopg import OperationalError
    from psycopg.pq import ExecStatus, TransactionStatus

    pgconn = dbapi_conn.pgconn
    if pgconn.pipeline_status or dbapi_conn.closed:
        dbapi_conn.rollback()
        return
    if pgconn.transaction_status == TransactionStatus.IDLE:
        return
    result = pgconn.exec_(b"ROLLBACK")
    if result.status != ExecStatus.COMMAND_OK:  # a dead connection: the pool sees it broken and drops it
        raise OperationalError((result.error_message or b"ROLLBACK failed").decode(errors="replace"))


def _quiet(dbapi_conn: Any) -> bool:
    """Tell whether an idle PostgreSQL connection has nothing to read: it is alive, no round trip needed.

    An idle connection receives nothing unless the server ended it (a restart, pg_terminate_backend,
    an idle timeout: it sends the reason, then closes) or a notification came. A connection with
    something to read is pinged; if the ping fails, the pool drops it and connects afresh.
    """
    poll = select.poll()
    poll.register(dbapi_conn.fileno(), select.POLLIN)
    return not poll.poll(0)


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """Return the session factory used by requests, the CLI and workers."""
    return sessionmaker(engine, expire_on_commit=False, autoflush=False)


@contextmanager
def transaction(factory: sessionmaker[Session], *, lock_first: bool = True) -> Iterator[Session]:
    """Open a session, commit when the block succeeds, roll back when it raises.

    A block cannot be run again, so by default it takes SQLite's write lock at BEGIN and waits for
    it rather than fail; a unit of work that can be re-run goes through `run_in_transaction`.
    """
    session = factory()
    try:
        with write_lock_first(lock_first):
            yield session
            session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


_CHANGES_AT_BEGIN = "mpp_changes_at_begin"
_WRITE_LOCK_FIRST: ContextVar[bool] = ContextVar("mpp_write_lock_first", default=False)
# A unit of work runs at most this often: deferred, then taking the write lock at BEGIN. A third,
# deferred run did not lose less often under load (bench/sqlite_locks.py) and costs a third run's CPU.
ATTEMPTS = 2
_SQLITE_BUSY = 5  # with its extended codes: BUSY_SNAPSHOT (517), BUSY_RECOVERY, BUSY_TIMEOUT
_PG_RETRY = ("40001", "40P01")  # serialization failure, deadlock detected


@contextmanager
def write_lock_first(on: bool = True) -> Iterator[None]:
    """Within the block (and threads it starts work in), SQLite transactions take the write lock at BEGIN."""
    token = _WRITE_LOCK_FIRST.set(on)
    try:
        yield
    finally:
        _WRITE_LOCK_FIRST.reset(token)


def is_retryable(exc: BaseException) -> bool:
    """Tell whether an error means "run the unit of work again": SQLite busy, PostgreSQL serialization or deadlock."""
    error = exc.orig if isinstance(exc, DBAPIError) else exc
    code = getattr(error, "sqlite_errorcode", None)
    if isinstance(code, int):
        return code & 0xFF == _SQLITE_BUSY
    return getattr(error, "sqlstate", None) in _PG_RETRY


def retry_delay(failures: int) -> float:
    """Return a jittered wait in seconds before the next attempt, after `failures` failed ones."""
    return random.uniform(0.0, 0.004 * 2 ** failures)  # noqa: S311 - spreads retries; no secret


def run_in_transaction(factory: sessionmaker[Session], work: Callable[[Session], T]) -> T:
    """Run `work` in a transaction and commit; run it afresh (at most ATTEMPTS times) when the database asks."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            with transaction(factory, lock_first=attempt == ATTEMPTS) as session:
                return work(session)
        except Exception as exc:
            if attempt == ATTEMPTS or not is_retryable(exc):
                raise
        time.sleep(retry_delay(attempt))
    raise AssertionError("unreachable")  # pragma: no cover


class UtcDateTime(TypeDecorator[datetime]):
    """Store aware datetimes as UTC; read them back aware on SQLite and PostgreSQL alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
