"""Throwaway databases for the benchmarks: a PostgreSQL cluster of their own, resets, SQLite files."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import text

from engine.db import make_engine

ROOT = Path(__file__).resolve().parent.parent
PG_SCRIPT = ROOT / "tests" / "pg_cluster.sh"


@contextlib.contextmanager
def postgres(port: int) -> Iterator[str | None]:
    """Start a throwaway PostgreSQL cluster on `port` (tests/pg_cluster.sh); yield its URL, or None."""
    folder = Path(tempfile.mkdtemp(prefix="mpp-bench-pg-"))
    folder.chmod(0o755)
    started = subprocess.run([str(PG_SCRIPT), "start", str(folder / "cluster"), str(port)], capture_output=True,
                             text=True, check=False)
    try:
        yield started.stdout.strip() if started.returncode == 0 else None
    finally:
        subprocess.run([str(PG_SCRIPT), "stop", str(folder / "cluster")], capture_output=True, check=False)
        shutil.rmtree(folder, ignore_errors=True)


def reset(url: str) -> None:
    """Empty a database: drop PostgreSQL's public schema, or delete a SQLite file and its journals."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        for suffix in ("", "-wal", "-shm"):
            Path(path + suffix).unlink(missing_ok=True)
        return
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    finally:
        engine.dispose()
