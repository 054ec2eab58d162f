"""`mpp serve` as a real process (or several) on a database copied from the catalogue template.

Tests that must see what a deployed platform does (several API processes sharing a limit, a
server that must stay responsive while a case runs a resource bomb, a restart) start it here:

    with serve(catalogue_template_db, tmp_path, workers=2) as base:
        httpx.get(f"{base}/healthz")

The database is the session's catalogue template (demo accounts hashed cheaply), copied.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[1]
SECRET = "live-test-secret-" + "x" * 32


def free_port() -> int:
    """Return a TCP port nobody listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_up(base: str, process: subprocess.Popen[bytes], timeout_s: float = 60) -> None:
    """Wait until the server answers /readyz; fail the test when it exits or never comes up."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"mpp serve exited early with status {process.returncode}")
        try:
            if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    pytest.fail("mpp serve did not come up")


class Platform:
    """A running `mpp serve`: its base URL, database URL and the directory it keeps files in."""

    def __init__(self, base: str, database_url: str, folder: Path, process: subprocess.Popen[bytes]) -> None:
        self.base, self.database_url, self.folder, self.process = base, database_url, folder, process

    def __str__(self) -> str:
        return self.base


def platform_env(folder: Path, database_url: str, **extra: str) -> dict[str, str]:
    """Return the environment `mpp serve` runs with in these tests."""
    env = {**os.environ, "MPP_DATABASE_URL": database_url, "MPP_SECRET_KEY": SECRET,
           "MPP_FILES_DIR": str(folder / "files"), "MPP_OUTBOX_DIR": str(folder / "outbox"),
           "MPP_SIGNING_KEY_FILE": str(folder / "signing.key"), "MPP_WORKER_POLL_S": "0.2", **extra}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    return env


@contextmanager
def serve(template_db: Path, folder: Path, *, workers: int = 1, embedded_worker: bool = False,
          database: Path | None = None, env: dict[str, str] | None = None) -> Iterator[Platform]:
    """Run `mpp serve` on a copy of `template_db` (or on `database`, kept as it is) until the block ends."""
    folder.mkdir(parents=True, exist_ok=True)
    if database is None:
        database = folder / "mpp.db"
        shutil.copy(template_db, database)
    database_url = f"sqlite:///{database}"
    port = free_port()
    args = [sys.executable, "-m", "api.cli", "serve", "--port", str(port), "--workers", str(workers)]
    if not embedded_worker:
        args.append("--no-embedded-worker")
    log = (folder / "serve.log").open("ab")
    process = subprocess.Popen(args, cwd=ROOT, env=platform_env(folder, database_url, **(env or {})),  # noqa: S603
                               stdout=log, stderr=log, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base, process)
        yield Platform(base, database_url, folder, process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
            process.wait()
        log.close()


@contextmanager
def app_over_http(ctx: object) -> Iterator[str]:
    """Serve the app on a context over real HTTP (uvicorn in a thread), for outside systems to call; yield its URL."""
    import threading

    import uvicorn

    from api.app import create_app
    from api.feed import hub_of
    from engine.context import AppContext

    assert isinstance(ctx, AppContext)  # noqa: S101 - typed loosely to keep this module's imports light
    port = free_port()
    app = create_app(ctx)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        # uvicorn waits for open responses before it stops, and a task feed never ends by itself: end
        # them first, as the exit signals do for `mpp serve` (no signal reaches a server in a thread).
        hub_of(app).shut_down()
        server.should_exit = True
        thread.join(timeout=10)
