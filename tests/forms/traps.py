"""Real things that notice being reached: a local HTTP server and a file with a secret in it.

A form schema may name them in a `$ref`; the tests then check that the server saw no connection
and that the secret never comes back in an answer.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

# What the trap serves: a schema that would accept anything and carries the secret, so a fetch
# would show up as a changed result as well as on the counters.
SECRET = "RAHASIA-7f3a9c"
SERVED_SCHEMA = {"description": SECRET, "const": SECRET}


@dataclass
class Trap:
    """A local HTTP server in a thread, counting every connection and request it gets."""

    url: str
    connections: list[tuple[str, int]] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    @property
    def reached(self) -> bool:
        return bool(self.connections or self.requests)


class _Server(ThreadingHTTPServer):
    trap: Trap

    def verify_request(self, request: Any, client_address: Any) -> bool:
        self.trap.connections.append(client_address)
        return True


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
        self.server.trap.requests.append(self.path)
        body = json.dumps(SERVED_SCHEMA).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/schema+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the signature of http.server
        return


@contextmanager
def http_trap() -> Iterator[Trap]:
    """Run a counting HTTP server on 127.0.0.1 for the duration of the block."""
    server = _Server(("127.0.0.1", 0), _Handler)
    host, port = server.server_address[:2]
    server.trap = Trap(f"http://{host!s}:{port}")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.trap
    finally:
        server.shutdown()
        server.server_close()


def secret_file(folder: Path) -> Path:
    """Write a JSON file holding the secret (valid JSON Schema, so a read would succeed)."""
    path = folder / "rahasia.json"
    path.write_text(json.dumps(SERVED_SCHEMA), encoding="utf-8")
    return path


def fetch(url: str) -> None:
    """Make one plain HTTP request, to prove a trap counts what reaches it."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as conn:
        conn.sendall(b"GET /probe HTTP/1.0\r\nHost: x\r\n\r\n")
        conn.recv(1024)


def finishes_within(seconds: float, work: Callable[[], Any]) -> tuple[bool, Any]:
    """Run work in a daemon thread; return whether it finished in time and what it returned or raised.

    A stuck regular expression cannot be interrupted, so a thread is the only way a test can report
    "still running" instead of hanging itself; the daemon thread dies with the test process.
    """
    outcome: list[Any] = []

    def run() -> None:
        try:
            outcome.append(work())
        except Exception as exc:  # noqa: BLE001 - handed back to the test to assert on
            outcome.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    return (not thread.is_alive(), outcome[0] if outcome else None)
