"""A scripted partner HTTP server: answers each request with the next scripted reply, records what came.

Start it with `with Partner() as partner:`; `partner.url` is its base URL. Script replies with
`partner.reply(status, json_body)`, `partner.reply_text(status, text)` or `partner.stall(seconds)`
(answer only after the caller's timeout). With the script empty it answers 200 `{}`.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any


@dataclass(frozen=True)
class Received:
    """One request the partner received."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass(frozen=True)
class Reply:
    status: int
    text: str
    delay_s: float = 0.0


@dataclass
class Partner:
    """The server, its script of replies and the requests it received."""

    received: list[Received] = field(default_factory=list)
    script: deque[Reply] = field(default_factory=deque)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """Return the base URL (http://127.0.0.1:<port>)."""
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def reply(self, status: int, body: Any) -> None:
        """Answer the next request with a JSON body."""
        self.script.append(Reply(status, json.dumps(body)))

    def reply_text(self, status: int, text: str) -> None:
        """Answer the next request with a plain text body."""
        self.script.append(Reply(status, text))

    def stall(self, seconds: float, status: int = 200, body: Any = None) -> None:
        """Answer the next request only after `seconds` (past the caller's timeout)."""
        self.script.append(Reply(status, json.dumps(body or {}), seconds))

    def take(self, request: Received) -> Reply:
        """Record a request and return its scripted reply."""
        with self.lock:
            self.received.append(request)
            return self.script.popleft() if self.script else Reply(200, "{}")

    def __enter__(self) -> Partner:
        self.thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.server.shutdown()
        self.server.server_close()


def _handler(partner: Partner) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            body = json.loads(raw) if raw else None
            reply = partner.take(Received(self.command, self.path, dict(self.headers.items()), body))
            if reply.delay_s:
                time.sleep(reply.delay_s)
            data = reply.text.encode()
            try:
                self.send_response(reply.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except OSError:
                pass  # the caller gave up waiting (a timeout test)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class names it so
            return

    return Handler
