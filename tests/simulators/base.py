"""What every partner simulator shares: a local HTTP server, a request log and scripted faults.

A simulator subclasses `Simulator` and answers in `answer(request)`; the base class runs a
ThreadingHTTPServer on 127.0.0.1 (a free port unless one is given) in a daemon thread, parses
JSON bodies, records every request in `received`, and plays the faults a test scripts before the
simulator's own answer: `stall(seconds)` answers the next request only after a delay (past the
caller's timeout), `fail(times, status)` answers the next `times` requests with a 5xx (every
request until `recover()` without `times`), `malformed(text)` answers the next one 200 with a body
that is not what the contract promises. Use it as a context manager (`with Simbg() as simbg:`);
`url` is the base URL to bind.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self

UNAVAILABLE = {"error": "layanan sedang gangguan / service unavailable"}


@dataclass(frozen=True)
class Received:
    """One request the simulator received (`r.body` or, as the first simulators kept it, `r["body"]`)."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any

    def __getitem__(self, key: str) -> Any:
        return getattr(self, key)


@dataclass(frozen=True)
class Answer:
    """What the simulator sends back: status, body text, and how long it waits first."""

    status: int
    text: str
    delay_s: float = 0.0

    @classmethod
    def json(cls, status: int, body: Any, delay_s: float = 0.0) -> Answer:
        """Answer with a JSON body."""
        return cls(status, json.dumps(body), delay_s)


class Simulator:
    """The server, its request log and its script of faults; subclasses answer the contract."""

    name = "partner"

    def __init__(self, port: int = 0) -> None:
        self.received: list[Received] = []
        self.faults: deque[Answer] = deque()
        self.delay_s = 0.0
        self.failing: int | None = None  # a status every request gets until recover()
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", port), _handler(self))
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """Return the base URL (http://127.0.0.1:<port>)."""
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def answer(self, request: Received) -> Answer:
        """Answer a request by the contract (subclasses override; the base answers 200 {})."""
        return Answer.json(200, {})

    def stall(self, seconds: float) -> None:
        """Answer the next request by the contract, but only after `seconds` (a timeout for the caller)."""
        self.faults.append(Answer(0, "", seconds))

    def fail(self, times: int | None = None, status: int = 503) -> None:
        """Answer the next `times` requests with a 5xx (or any `status`); without `times`, every one until recover()."""
        if times is None:
            self.failing = status
        for _ in range(times or 0):
            self.faults.append(Answer.json(status, UNAVAILABLE))

    def recover(self) -> None:
        """Stop failing every request (scripted faults still play)."""
        self.failing = None

    def malformed(self, text: str = '{"data": {}}', status: int = 200) -> None:
        """Answer the next request with a body the contract does not promise (a mapping failure)."""
        self.faults.append(Answer(status, text))

    def slow(self, seconds: float) -> None:
        """Delay every answer by `seconds` (0 to answer at once again)."""
        self.delay_s = seconds

    def take(self, request: Received) -> Answer:
        """Record a request and return what to send: the next scripted fault, else the contract's answer."""
        with self.lock:
            self.received.append(request)
            fault = self.faults.popleft() if self.faults else None
        if fault is None and self.failing is not None:
            answer = Answer.json(self.failing, UNAVAILABLE)
        elif fault is None:
            answer = self.answer(request)
        elif fault.status == 0:  # a stall: the contract's answer, late
            late = self.answer(request)
            answer = Answer(late.status, late.text, fault.delay_s)
        else:
            answer = fault
        return Answer(answer.status, answer.text, answer.delay_s + self.delay_s)

    def __enter__(self) -> Self:
        self.thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.server.shutdown()
        self.server.server_close()


def _handler(simulator: Simulator) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = raw.decode(errors="replace")
            answer = simulator.take(Received(self.command, self.path, dict(self.headers.items()), body))
            if answer.delay_s:
                time.sleep(answer.delay_s)
            data = answer.text.encode()
            try:
                self.send_response(answer.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except OSError:
                pass  # the caller gave up waiting (a timeout test)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class names it so
            return

    return Handler


def serve_from_command_line(factory: type[Simulator], default_port: int, about: str) -> None:
    """Run a simulator on `--port` until interrupted (`python -m tests.simulators.<name> --port N`)."""
    parser = argparse.ArgumentParser(description=about)
    parser.add_argument("--port", type=int, default=default_port)
    port = parser.parse_args().port
    with factory(port=port) as simulator:
        print(f"{about} on {simulator.url}; bind the system '{simulator.name}' to it")  # noqa: T201
        try:
            simulator.thread.join()
        except KeyboardInterrupt:
            pass
