"""The load generator's HTTP client (bench/http_client.py) against a real HTTP/1.1 server on this machine.

bench/http_load.py's clients send with it what bench/pbg_requests.py sends (tests/bench/test_http_load.py drives
whole cases through the platform with it); here each kind of body, the query string, kept-alive connections and a
connection the server closed while idle, answered by a standard-library server that echoes what it received.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Iterator
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from bench.http_client import LeanClient


class _Echo(BaseHTTPRequestHandler):
    """Answer every request with what it received, as JSON, and the number of the connection it came on."""

    protocol_version = "HTTP/1.1"  # keeps connections alive
    connections = itertools.count(1)

    def setup(self) -> None:
        super().setup()
        self.connection_number = next(self.connections)

    def log_message(self, *_args: Any) -> None:  # quiet
        pass

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._echo()

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        self._echo()

    def _echo(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        parts = urlsplit(self.path)
        seen: dict[str, Any] = {"method": self.command, "path": parts.path, "query": parse_qs(parts.query),
                                "type": self.headers.get("Content-Type"), "auth": self.headers.get("Authorization"),
                                "connection": self.connection_number, "body": body.decode("latin-1")}
        if (self.headers.get("Content-Type") or "").startswith("multipart/form-data"):
            message = BytesParser(policy=HTTP).parsebytes(
                f"Content-Type: {self.headers['Content-Type']}\r\n\r\n".encode() + body)
            seen["files"] = [[part.get_param("name", header="content-disposition"), part.get_filename(),
                              part.get_content_type(), part.get_payload(decode=True).decode()]
                             for part in message.iter_parts()]
        answer = json.dumps(seen).encode()
        status = 201 if parts.path == "/created" else 200
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)
        if parts.path == "/drop":  # an idle timeout: closed after the answer, no `Connection: close` said
            self.close_connection = True


@pytest.fixture
def base() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_json_form_and_query_bodies_are_sent_as_the_api_reads_them_on_one_kept_alive_connection(base: str) -> None:
    with LeanClient(base) as http:
        sent = http.request("POST", "/api/tasks/7/complete", json={"data": {"setuju": True, "nama": "Sri"}},
                            headers={"Authorization": "Bearer t0k"})
        form = http.post("/api/auth/token", data={"username": "sri", "password": "rahasia 1&2"})
        query = http.request("GET", "/api/tasks?x=1", params={"case_id": 42, "limit": 200})
        created = http.post("/created", json={})
    first = sent.json()
    assert (sent.status_code, first["method"], first["path"], first["auth"]) == (
        200, "POST", "/api/tasks/7/complete", "Bearer t0k")
    assert (first["type"], json.loads(first["body"])) == ("application/json", {"data": {"setuju": True, "nama": "Sri"}})
    assert form.json()["type"] == "application/x-www-form-urlencoded"
    assert parse_qs(form.json()["body"]) == {"username": ["sri"], "password": ["rahasia 1&2"]}
    assert query.json()["query"] == {"x": ["1"], "case_id": ["42"], "limit": ["200"]}
    assert created.status_code == 201
    assert created.headers["content-type"] == "application/json"
    assert {r.json()["connection"] for r in (sent, form, query, created)} == {first["connection"]}  # kept alive


def test_a_file_is_uploaded_as_a_multipart_form(base: str) -> None:
    with LeanClient(base) as http:
        answer = http.post("/api/files", files={"file": ("ktp.pdf", b"%PDF-1.4 isi", "application/pdf")},
                           headers={"Authorization": "Bearer t0k"})
    assert answer.json()["type"].startswith("multipart/form-data; boundary=")
    assert answer.json()["files"] == [["file", "ktp.pdf", "application/pdf", "%PDF-1.4 isi"]]
    assert answer.text.startswith("{")


def test_a_connection_the_server_closed_while_idle_is_replaced_and_the_request_sent_again(base: str) -> None:
    with LeanClient(base) as http:
        before = http.request("GET", "/drop").json()["connection"]
        after = http.post("/api/tasks/7/complete", json={"n": 1}).json()
    assert after["connection"] == before + 1
    assert (after["method"], json.loads(after["body"])) == ("POST", {"n": 1})


def test_a_server_that_is_not_there_fails_at_once_and_only_plain_http_is_spoken() -> None:
    with ThreadingHTTPServer(("127.0.0.1", 0), _Echo) as gone:
        port = gone.server_address[1]  # bound, then closed: nothing listens there
    with LeanClient(f"http://127.0.0.1:{port}") as http, pytest.raises(ConnectionRefusedError):
        http.request("GET", "/")
    with pytest.raises(ValueError, match="plain http"):
        LeanClient("https://mpp.example.go.id")
