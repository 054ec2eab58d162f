"""Whole PBG cases over HTTP, several clients at once, on the default set-up: no answer may be a server error.

The default set-up is one `mpp serve` with its embedded job worker on SQLite (`make run`). Issue 18:
a hotsql change left a write's last statement unfinished on a kept cursor, which held SQLite's
write lock past COMMIT; under `make bench`'s HTTP load other writers waited out the busy timeout
and got 503, and no test saw it (fixed in 1464d6e). This drives a few cases with
bench/http_load.py's own set-up and clients (the lean way, as `make bench` does) and checks what
the clients saw, the database and the server's log; no timings.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from bench import http_load, pbg_requests
from engine.db import make_engine
from engine.models import Case, IssuedDocument, Job, OpenTask
from tests.production import scale

CLIENTS, CASES = 4, 12  # three cases per client; at 631a1d2 every run of this size got 503s
# A writer waits 5 s for SQLite's lock, not the default 30 s: a lock held past COMMIT fails the run in
# seconds instead of minutes, and no write of these cases holds it for anything near that.
BUSY_TIMEOUT_S = "5"


def _log_records(log: Path) -> list[dict[str, Any]]:
    """Return the server log's JSON records (one per line)."""
    return [json.loads(line) for line in log.read_text(errors="replace").splitlines() if line.startswith("{")]


def _exception(record: dict[str, Any]) -> str:
    """Return the exception line of a log record's traceback, e.g. `sqlite3.OperationalError: database is locked`."""
    return ([line for line in str(record.get("exc_info", "")).splitlines() if "Error" in line] or [""])[-1].strip()


def _database(url: str) -> dict[str, Any]:
    """Return what the cases left in the database: case statuses, open tasks, documents and jobs by status."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return {
                "cases": dict(conn.execute(select(Case.status, func.count()).where(Case.process_key == "pbg")
                                           .group_by(Case.status)).all()),
                "open_tasks": conn.scalar(select(func.count()).select_from(OpenTask)),
                "documents": conn.scalar(select(func.count(func.distinct(IssuedDocument.case_id)))),
                "jobs": dict(conn.execute(select(Job.status, func.count()).group_by(Job.status)).all()),
            }
    finally:
        engine.dispose()


def test_concurrent_whole_cases_on_the_embedded_worker_set_up_get_no_server_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MPP_SQLITE_BUSY_TIMEOUT_S", BUSY_TIMEOUT_S)  # the server's environment is this one's
    setup = http_load.SETUPS[0]
    assert (setup.database, setup.api_workers, setup.job_worker) == ("sqlite", 1, False)
    url, workdir = f"sqlite:///{tmp_path / 'mpp.db'}", tmp_path / "platform"
    with http_load.platform(setup, url, workdir) as (base, server), httpx.Client(base_url=base, timeout=60) as http:
        tokens = pbg_requests.login(http, pbg_requests.users("lean"))
        point = http_load.drive(base, tokens, cases=CASES, clients=CLIENTS, server=server,
                                settle=lambda: http_load.due_jobs(url, timeout_s=60))
    records = _log_records(workdir / "api.log")
    server_errors = [r["message"] for r in records if r.get("logger") == "mpp.access" and int(r["status"]) >= 500]
    logged_errors = [f"{r['logger']}: {r['message']}: {_exception(r)}" for r in records
                     if r.get("level") in ("ERROR", "CRITICAL")]
    seen = f"server errors {server_errors[:5]}, logged errors {logged_errors[:5]}\n{scale.dump_logs(workdir, 20)}"

    # What the clients saw: every case driven to its signed approval, every answer a success.
    assert point["failed_cases"] == 0, f"{point['failure_examples']}\n{seen}"
    assert point["errors"] == 0, seen
    assert point["cases"] == CASES
    assert point["jobs_left"] == 0, seen

    # What the database holds: every case completed with its document issued, nothing open, no job failed.
    found = _database(url)
    assert found["cases"] == {"completed": CASES}
    assert found["open_tasks"] == 0
    assert found["documents"] == CASES
    assert set(found["jobs"]) <= {"done", "pending", "parked"}, found["jobs"]

    # What the server logged: every request answered below 500, and no error of its own (the job worker's too).
    assert len([r for r in records if r.get("logger") == "mpp.access"]) >= point["requests"]  # read as JSON lines
    assert server_errors == []
    assert logged_errors == []
