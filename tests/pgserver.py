"""PostgreSQL server-side helpers for tests that need the server to end a connection."""

from __future__ import annotations

import time

from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool


def terminate(url: str, pid: int) -> None:
    """End one server process, as a restart or an idle timeout would, and wait until it has gone."""
    admin = create_engine(url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            for _ in range(100):  # the process takes a moment to go
                if not conn.scalar(text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}):
                    return
                time.sleep(0.02)
    finally:
        admin.dispose()
