"""A civil-registry (Dukcapil) simulator answering the platform's NIK-check contract over HTTP.

`POST /nik/verifikasi` with `{"nik": "...", "nama": "..."}` answers `{"cocok": true|false}`: true
when the NIK is registered and the name matches (case and spacing ignored). Everything in it is
fictional. `registry.slow(seconds)` delays every answer (a timeout), `registry.fail(True)` answers
500; `registry.received` keeps what came (path, headers, body). Run it alone with
`python -m tests.simulators.dukcapil --port 8601`; bind it as the system `dukcapil`.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

# Fictional residents: NIKs whose region and birth date parts are made up.
RESIDENTS = {
    "3471010101900001": "Budi Santoso",
    "3471014502920002": "Siti Rahayu",
    "3404011203850003": "Agus Prasetyo",
}
TOKEN_HEADER = "Authorization"


def _same(a: str, b: str) -> bool:
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


@dataclass
class Registry:
    """The server, its residents, its failure switches and the requests it received."""

    port: int = 0
    residents: dict[str, str] = field(default_factory=lambda: dict(RESIDENTS))
    received: list[dict[str, Any]] = field(default_factory=list)
    delay_s: float = 0.0
    failing: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), _handler(self))
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """Return the base URL (http://127.0.0.1:<port>)."""
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def slow(self, seconds: float) -> None:
        """Answer every request only after `seconds` (0 to answer at once again)."""
        self.delay_s = seconds

    def fail(self, failing: bool = True) -> None:
        """Answer every request with a 500 while `failing`."""
        self.failing = failing

    def answer(self, path: str, headers: dict[str, str], body: Any) -> tuple[int, dict[str, Any]]:
        """Record a request and return the status and JSON the contract gives for it."""
        with self.lock:
            self.received.append({"path": path, "headers": headers, "body": body})
        if self.failing:
            return 500, {"error": "internal"}
        if path != "/nik/verifikasi":
            return 404, {"error": "not found"}
        if not isinstance(body, dict) or not isinstance(body.get("nik"), str) or not isinstance(body.get("nama"), str):
            return 400, {"error": "nik and nama are required"}
        name = self.residents.get(body["nik"])
        return 200, {"cocok": name is not None and _same(name, body["nama"])}

    def __enter__(self) -> Registry:
        self.thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.server.shutdown()
        self.server.server_close()


def _handler(registry: Registry) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the base class names it so
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = None
            status, answer = registry.answer(self.path, dict(self.headers.items()), body)
            if registry.delay_s:
                time.sleep(registry.delay_s)
            data = json.dumps(answer).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except OSError:
                pass  # the caller gave up waiting (a timeout test)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class names it so
            return

    return Handler


def main() -> None:
    """Serve the simulator on a port until interrupted."""
    parser = argparse.ArgumentParser(description="Dukcapil NIK-check simulator (fictional residents)")
    parser.add_argument("--port", type=int, default=8601)
    port = parser.parse_args().port
    with Registry(port=port) as registry:
        print(f"Dukcapil simulator on {registry.url}; residents: {', '.join(registry.residents)}")  # noqa: T201
        try:
            registry.thread.join()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
