"""HTTP under load: `mpp serve --workers N` and `mpp worker` on PostgreSQL, driven by concurrent officers.

The processes, accounts, packages and clients are those of the scale harness
(tests/production/scale.py), imported, not copied: 32 asyncio httpx clients, each an officer who
files walk-in cases (`POST /api/cases`), finds their task in the inbox (`GET /api/tasks`) and
completes it (`POST /api/tasks/{id}/complete`); half the cases loop once more, the other half
wait on a two-second timer that the job worker fires. Nothing is killed and no two officers race
for one task, so every non-2xx answer counts as an error. The load generator runs in this
process; the server runs in its own processes.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.queries import percentiles
from tests.production import scale


def run(url: str, *, cases: int = 600, clients: int = 32, api_workers: int = 3, officers: int = 8,
        workdir: Path | None = None) -> dict[str, Any]:
    """Run the load against the PostgreSQL database at `url` (which it wipes); return figures per route."""
    workdir = Path(workdir or tempfile.mkdtemp(prefix="mpp-bench-http-"))
    workdir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "MPP_DATABASE_URL": url, "MPP_WORKER_POLL_S": "0.2", "MPP_SECRET_KEY": "bench-" + "k" * 40,
           "MPP_FILES_DIR": str(workdir / "files"), "MPP_OUTBOX_DIR": str(workdir / "outbox"),
           "PYTHONUNBUFFERED": "1"}
    procs = scale.Processes(workdir, env)
    try:
        scale.reset_schema(url)
        scale.run_cli(env, workdir, "migrate")
        scale.run_cli(env, workdir, "create-admin", scale.ADMIN, "--password", scale.PASSWORD)
        scale.run_cli(env, workdir, "deploy", *map(str, scale._write_packages(workdir / "packages", '"PT2S"')))
        port = scale.free_port()
        server = procs.start("api", "serve", "--host", "127.0.0.1", "--port", str(port), "--workers",
                             str(api_workers), "--no-embedded-worker", base=f"http://127.0.0.1:{port}")
        worker = procs.start("worker", "worker")
        scale.wait_ready([server, worker], what="server and worker", timeout_s=120)
        stats = scale.Stats()
        drive_s = asyncio.run(_drive(server.base or "", stats, cases, clients, officers))
        failed = sum(n for status, n in stats.statuses.items() if int(status.rsplit(" ", 1)[1]) >= 400)
        return {
            "cases": cases, "clients": clients, "api_workers": api_workers, "job_workers": 1, "officers": officers,
            "drive_s": round(drive_s, 2), "requests": stats.requests,
            "requests_per_s": round(stats.requests / drive_s, 1), "cases_per_s": round(cases / drive_s, 1),
            "statuses": dict(sorted(stats.statuses.items())),
            "errors": failed + sum(stats.transport_errors.values()),
            "error_examples": (stats.server_errors + stats.unexpected + stats.transport_log)[:10],
            "routes": {route: percentiles(values) | {"per_s": round(len(values) / drive_s, 1)}
                       for route, values in sorted(stats.latencies.items()) if not route.endswith("/auth/token")},
        }
    finally:
        procs.stop_all()


async def _drive(base: str, stats: scale.Stats, cases: int, clients: int, officers: int) -> float:
    api = scale.Api([base], stats)
    try:
        tokens = await scale._setup_accounts(api, officers)
        # The harness races two officers on every `race_every`-th case, counting from 0: start at 1, never race.
        driver = scale.Driver(api, tokens, cases + 1, clients, race_every=10**9, kill_at=None, stats=stats)
        driver.next_index = 1
        for key in list(stats.latencies):  # account set-up is not part of the load
            del stats.latencies[key]
        stats.requests = 0
        stats.statuses.clear()
        started = time.perf_counter()
        await driver.run()
        return time.perf_counter() - started
    finally:
        await api.close()
