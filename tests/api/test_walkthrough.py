"""docs/api.md's walk-through, run as written: its shell blocks against a live server."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from api.app import create_app
from engine.context import AppContext

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def server(catalogue: AppContext) -> Iterator[str]:
    port = _free_port()
    config = uvicorn.Config(create_app(catalogue), host="127.0.0.1", port=port, log_level="warning")
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not running.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert running.started, "the server did not start"
    yield f"http://127.0.0.1:{port}"
    running.should_exit = True
    thread.join(timeout=10)


def test_the_documented_walkthrough_runs_as_written(server: str) -> None:
    text = (ROOT / "docs" / "api.md").read_text()
    walkthrough = text[text.index("## Walk-through"):]
    blocks = re.findall(r"```sh\n(.*?)```", walkthrough, flags=re.S)
    assert len(blocks) >= 5
    script = "set -euo pipefail\n" + "\n".join(blocks)
    result = subprocess.run(["bash", "-c", script], cwd=ROOT, env={**os.environ, "BASE": server},
                            capture_output=True, text=True, timeout=180, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.split("\n")
    assert lines[0] == "1"  # the catalogue's PBG is version 1 and the same zip adds none
    assert "Building Approval" in lines[1]
    assert lines[2].startswith("tracking number MPP-")
    assert lines[3:7] == ["running"] * 4
    assert lines[7] == "tanggal_pbg"
    assert lines[8:11] == ["completed", "completed", "Permohonan diterima"]
