"""Backup and restore: a restored database has the backed-up cases with their history, and only them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import delete, select, text

from engine import backup
from engine.backup import BackupFailed, backup_database, libpq_url, restore_database
from engine.context import AppContext, build_context
from engine.db import make_engine, transaction
from engine.models import Case
from tests.conftest import ROOT, FakeClock
from tests.factories import PBG, Driver, add_provider, deploy, make_user, pbg_application
from tests.processes.test_pbg import DRAWINGS


def _history(d: Driver, case_id: int) -> list[tuple[str, str | None, str]]:
    return [(e.action, e.element_id, e.actor) for e in d.events(case_id)]


def _tracking_numbers(ctx: AppContext) -> list[str]:
    with ctx.sessions() as session:
        return list(session.scalars(select(Case.tracking_number).order_by(Case.id)))


def _empty(url: str) -> None:
    """Lose every table, as a new disk or a botched manual change would."""
    if url.startswith("sqlite"):
        path = Path(url.split("///", 1)[1])
        for lost in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            lost.unlink(missing_ok=True)
        return
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()


@pytest.mark.postgres
@pytest.mark.parametrize("damage", ["delete_the_case", "drop_everything"])
def test_restore_brings_back_the_backed_up_case_with_its_history_and_not_later_ones(
        ctx: AppContext, tmp_path: Path, clock: FakeClock, damage: str) -> None:
    deploy(ctx, PBG)
    add_provider(ctx, "konsultan_griya", "konsultan")
    applicant, front = make_user(ctx, "warga"), make_user(ctx, "fo", "dpmptsp.front_office")
    griya = make_user(ctx, "griya", "konsultan.perencana", org="konsultan_griya")
    d = Driver(ctx)
    first = d.start("pbg", pbg_application(), applicant)
    d.complete(first.id, "Task_kelengkapan", front, {"kelengkapan": "lengkap"})
    history = _history(d, first.id)
    assert len(history) >= 2

    target = tmp_path / "backups" / "mpp.backup"
    backup_database(ctx.settings.database_url, target)
    assert target.is_file()
    assert not target.with_name("mpp.backup.partial").exists()

    second = d.start("pbg", pbg_application(nama_pemohon="Later"), applicant)
    if damage == "delete_the_case":
        with transaction(ctx.sessions) as session:
            session.execute(delete(Case).where(Case.id == first.id))
    else:
        ctx.engine.dispose()
        _empty(ctx.settings.database_url)
    ctx.engine.dispose()  # the platform is stopped during a restore
    restore_database(ctx.settings.database_url, target)

    # A new process (the restarted platform): nothing of the old one's memory.
    restored = build_context(ctx.settings, migrate=False, clock=clock)
    try:
        assert _tracking_numbers(restored) == [first.tracking_number]
        assert second.tracking_number not in _tracking_numbers(restored)
        d = Driver(restored)
        assert _history(d, first.id) == history
        # The case's state came back too: it runs on from where the backup left it.
        assert d.open_ids(first.id) == ["Task_gambar_teknis"]
        d.complete(first.id, "Task_gambar_teknis", griya, DRAWINGS)
        assert "Task_gambar_teknis" not in d.open_ids(first.id)
    finally:
        restored.engine.dispose()


@pytest.mark.postgres
def test_a_backup_taken_during_a_write_holds_what_was_committed_and_nothing_else(ctx: AppContext,
                                                                                 tmp_path: Path) -> None:
    make_user(ctx, "warga")
    with ctx.sessions() as busy:  # the platform, in the middle of a write transaction
        make_user(ctx, "committed")
        busy.execute(text("INSERT INTO user_account (username, display_name, platform_role, language, active, "
                          "created_at) VALUES ('uncommitted', '', 'applicant', 'id', true, CURRENT_TIMESTAMP)"))
        backup_database(ctx.settings.database_url, tmp_path / "live.backup")
        busy.rollback()
    ctx.engine.dispose()
    _empty(ctx.settings.database_url)
    restore_database(ctx.settings.database_url, tmp_path / "live.backup")
    with ctx.sessions() as session:
        names = set(session.scalars(text("SELECT username FROM user_account")))
    assert names == {"warga", "committed"}


def test_restore_refuses_a_file_that_is_not_a_backup(ctx: AppContext, tmp_path: Path) -> None:
    if not ctx.settings.database_url.startswith("sqlite"):
        pytest.skip("pg_restore judges PostgreSQL archives itself")
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all" * 100)
    with pytest.raises(BackupFailed, match="not a SQLite database"):
        restore_database(ctx.settings.database_url, junk)
    with pytest.raises(BackupFailed, match="no backup file"):
        restore_database(ctx.settings.database_url, tmp_path / "missing.db")
    other = tmp_path / "other.db"
    engine = make_engine(f"sqlite:///{other}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
    engine.dispose()
    with pytest.raises(BackupFailed, match="not a backup of this platform"):
        restore_database(ctx.settings.database_url, other)


@pytest.mark.postgres
def test_postgres_restore_refuses_while_others_are_connected(ctx: AppContext, tmp_path: Path) -> None:
    if not ctx.settings.database_url.startswith("postgresql"):
        pytest.skip("SQLite cannot tell whether another process has the file open")
    backup_database(ctx.settings.database_url, tmp_path / "db.backup")
    with ctx.engine.connect() as conn:
        conn.execute(text("SELECT 1"))
        with pytest.raises(BackupFailed, match="other session"):
            restore_database(ctx.settings.database_url, tmp_path / "db.backup")
        restore_database(ctx.settings.database_url, tmp_path / "db.backup", force=True)


def test_postgres_urls_become_libpq_urls_with_the_password_kept_off_the_command_line() -> None:
    assert libpq_url("postgresql+psycopg://mpp:p%40ss@db.local:5433/mpp?sslmode=require") == (
        "postgresql://mpp@db.local:5433/mpp?sslmode=require", "p@ss")
    assert libpq_url("postgresql://postgres@127.0.0.1/mpp_test") == ("postgresql://postgres@127.0.0.1/mpp_test", None)


def test_missing_postgres_tools_fail_with_a_clear_message(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(backup.shutil, "which", lambda _name: None)
    with pytest.raises(BackupFailed, match="pg_dump not found: install the PostgreSQL client tools"):
        backup_database("postgresql+psycopg://mpp@127.0.0.1:1/mpp", tmp_path / "x.backup")
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "x.backup").write_bytes(b"PGDMP")
    with pytest.raises(BackupFailed, match="pg_restore not found"):
        restore_database("postgresql+psycopg://mpp@127.0.0.1:1/mpp", tmp_path / "x.backup", force=True)


# --- through the command line ---------------------------------------------------------------------

def _mpp(db: Path, *args: str, answer: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MPP_DATABASE_URL": f"sqlite:///{db}"}
    return subprocess.run([sys.executable, "-m", "api.cli", *args], cwd=ROOT, env=env, input=answer,
                          capture_output=True, text=True, timeout=120, check=False)


def _cases(db: Path) -> str:
    listing = _mpp(db, "cases")
    assert listing.returncode == 0, listing.stderr
    return listing.stdout


def test_mpp_backup_and_restore_round_trip(tmp_path: Path) -> None:
    db = tmp_path / "var" / "mpp.db"
    assert _mpp(db, "bootstrap").returncode == 0
    first = _mpp(db, "start", "pbg", "--data", "@" + str(_application(tmp_path)))
    assert first.returncode == 0, first.stderr
    first_number = first.stdout.split("tracking ")[1].split()[0]
    saved = _mpp(db, "backup", str(tmp_path / "backups" / "mpp-1.db"))
    assert saved.returncode == 0, saved.stderr
    assert "backed up to" in saved.stdout
    second = _mpp(db, "start", "pbg", "--data", "@" + str(_application(tmp_path)))
    second_number = second.stdout.split("tracking ")[1].split()[0]
    assert "2 of 2" in _cases(db)

    refused = _mpp(db, "restore", str(tmp_path / "backups" / "mpp-1.db"), answer="n\n")
    assert refused.returncode == 1
    assert "2 of 2" in _cases(db)
    missing = _mpp(db, "restore", "--yes", str(tmp_path / "backups" / "nothing.db"))
    assert missing.returncode == 1
    assert "error: no backup file" in missing.stderr

    restored = _mpp(db, "restore", "--yes", str(tmp_path / "backups" / "mpp-1.db"))
    assert restored.returncode == 0, restored.stderr
    listing = _cases(db)
    assert first_number in listing
    assert second_number not in listing
    assert "1 of 1" in listing
    inbox = _mpp(db, "tasks", "--user", "dpmptsp_front_office")
    assert "1 open task(s)" in inbox.stdout


def _application(tmp_path: Path) -> Path:
    path = tmp_path / "application.json"
    path.write_text(json.dumps(pbg_application()))
    return path
