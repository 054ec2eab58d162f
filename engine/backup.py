"""Back up and restore the whole database: SQLite with its online backup API, PostgreSQL with pg_dump.

A backup is consistent while the platform runs (SQLite copies pages under its own locks; pg_dump
reads one snapshot). A restore replaces everything in the database: stop the API and the workers
first, since they keep cases in memory that the restored data no longer matches.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import URL, make_url

from engine.db import make_engine
from engine.errors import DomainError
from engine.schema import upgrade


class BackupFailed(DomainError):
    """A backup or restore could not be made; the message says why and what to do."""


def backup_database(url: str, target: Path) -> None:
    """Write a consistent copy of the database at `url` to `target` (replaced only when complete)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    try:
        if _is_sqlite(url):
            _sqlite_backup(_sqlite_path(url), partial)
        else:
            _run("pg_dump", "--format=custom", f"--file={partial}", url=url)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    partial.replace(target)


def restore_database(url: str, source: Path, *, force: bool = False) -> None:
    """Replace the database at `url` with the backup `source`, then migrate it to the newest schema.

    On PostgreSQL, refuse while other sessions are connected to the database unless `force`.
    """
    if not source.is_file():
        raise BackupFailed(f"no backup file at {source}")
    if _is_sqlite(url):
        _sqlite_restore(source, _sqlite_path(url))
    else:
        if not force:
            _refuse_if_in_use(url)
        _run("pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction", str(source), url=url)
    engine = make_engine(url)
    try:
        upgrade(engine)
    finally:
        engine.dispose()


def _is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        raise BackupFailed(f"cannot back up or restore this SQLite database: {database or 'in memory'}")
    return Path(database)


def _sqlite_backup(path: Path, target: Path) -> None:
    if not path.is_file():
        raise BackupFailed(f"no database at {path}")
    target.unlink(missing_ok=True)
    source, copy = sqlite3.connect(path, timeout=30), sqlite3.connect(target)
    try:
        source.backup(copy)
        # One self-contained file: no -wal beside it to forget when copying the backup away.
        copy.execute("PRAGMA journal_mode=DELETE")
    except sqlite3.Error as exc:
        raise BackupFailed(f"SQLite backup of {path} failed: {exc}") from exc
    finally:
        copy.close()
        source.close()


def _sqlite_restore(source: Path, path: Path) -> None:
    _check_sqlite_backup(source)
    path.parent.mkdir(parents=True, exist_ok=True)
    # The backup API writes into the live file under SQLite's locks and takes care of its -wal;
    # copying the file over it would leave an old -wal behind to be replayed onto the new data.
    backup, live = _read_only(source), sqlite3.connect(path, timeout=30)
    try:
        backup.backup(live)
    except sqlite3.Error as exc:
        raise BackupFailed(f"restoring {source} into {path} failed: {exc}") from exc
    finally:
        live.close()
        backup.close()


def _read_only(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)


def _check_sqlite_backup(source: Path) -> None:
    """Refuse a file that is not an intact SQLite database of this platform."""
    try:
        conn = _read_only(source)
        try:
            check = conn.execute("PRAGMA quick_check").fetchone()
            ours = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'")
            has_schema = ours.fetchone() is not None
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise BackupFailed(f"{source} is not a SQLite database: {exc}") from exc
    if check is None or check[0] != "ok":
        raise BackupFailed(f"{source} is damaged: {check[0] if check else 'no answer'}")
    if not has_schema:
        raise BackupFailed(f"{source} is not a backup of this platform (no alembic_version table)")


def libpq_url(url: str) -> tuple[str, str | None]:
    """Split a SQLAlchemy PostgreSQL URL into a libpq URL without the password, and the password.

    The password goes to the tools in PGPASSWORD, never on a command line others can read in `ps`.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        raise BackupFailed(f"not a PostgreSQL URL: {parsed.render_as_string(hide_password=True)}")
    plain = URL.create("postgresql", username=parsed.username, host=parsed.host, port=parsed.port,
                       database=parsed.database, query=parsed.query)
    return plain.render_as_string(hide_password=False), parsed.password


def _run(tool: str, *args: str, url: str) -> None:
    executable = shutil.which(tool)
    if executable is None:
        raise BackupFailed(f"{tool} not found: install the PostgreSQL client tools, of the server's major "
                           f"version or newer (Debian: apt-get install postgresql-client)")
    dsn, password = libpq_url(url)
    env = {**os.environ, **({"PGPASSWORD": password} if password else {})}
    done = subprocess.run([executable, *args, f"--dbname={dsn}"], env=env, capture_output=True,  # noqa: S603
                          text=True, check=False)
    if done.returncode != 0:
        raise BackupFailed(f"{tool} failed (exit {done.returncode}): {done.stderr.strip()}")


def _refuse_if_in_use(url: str) -> None:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            others = conn.scalar(text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                      "AND backend_type = 'client backend' AND pid <> pg_backend_pid()"))
    finally:
        engine.dispose()
    if others:
        raise BackupFailed(f"{others} other session(s) are connected to the database: stop the API and the "
                           f"workers first (or force the restore)")
