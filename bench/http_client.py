"""A lean HTTP/1.1 client for the load generator: one kept-alive connection, the standard library's http.client.

The load generator runs on the same two cores as the server it measures, so the CPU it spends is taken from the
server, and a request's time as the client measures it includes the client's own work. httpx spent 0.5-0.7 ms of
CPU per request here, http.client 0.18-0.19 ms (2,000 POSTs of a 1.5 KB JSON body answered with 1.5 KB of JSON by
a local uvicorn app, each way twice); over whole PBG cases at 32 clients the load generator's CPU per case went
from 29.7 / 30.0 ms to 7.7 / 9.7 ms (bench/http_load.py on PostgreSQL, two interleaved runs each). It speaks
only what bench/pbg_requests.py sends: JSON and form bodies, query parameters, headers and a multipart upload.
"""

from __future__ import annotations

import http.client
import json as jsonlib
import uuid
from typing import Any, Protocol
from urllib.parse import urlencode, urlsplit

# A kept-alive connection the server closed while it was idle fails at the next request before an answer;
# the request is sent again once on a new connection.
_STALE = (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError)


class Http(Protocol):
    """What bench/pbg_requests.py sends with: this module's client, or an httpx.Client."""

    def request(self, method: str, url: str, **kwargs: Any) -> Any:
        """Send a request; return its answer (`status_code`, `json()`, `text`)."""

    def post(self, url: str, **kwargs: Any) -> Any:
        """Send a POST request; return its answer."""


class Response:
    """What the load generator reads of an answer: its status, body and headers."""

    def __init__(self, status_code: int, content: bytes, headers: dict[str, str]) -> None:
        self.status_code, self.content, self.headers = status_code, content, headers

    @property
    def text(self) -> str:
        """Return the body as text (UTF-8, as the API answers)."""
        return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        """Return the body parsed as JSON."""
        return jsonlib.loads(self.content)


class LeanClient:
    """Send requests to one server over one kept-alive HTTP/1.1 connection (not thread-safe: one per thread)."""

    def __init__(self, base_url: str, timeout: float = 60) -> None:
        parts = urlsplit(base_url)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"the load generator speaks plain http to a host: {base_url!r}")
        self._host, self._port, self._timeout = parts.hostname, parts.port or 80, timeout
        self._conn: http.client.HTTPConnection | None = None

    def __enter__(self) -> LeanClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def post(self, url: str, **kwargs: Any) -> Response:
        """Send a POST request (see `request`)."""
        return self.request("POST", url, **kwargs)

    def request(self, method: str, url: str, *, headers: dict[str, str] | None = None, json: Any = None,
                params: dict[str, Any] | None = None, data: dict[str, str] | None = None,
                files: dict[str, tuple[str, bytes, str]] | None = None) -> Response:
        """Send one request and read its whole answer.

        `json`: a JSON body; `data`: a form body; `files`: a multipart body of files (name -> (filename,
        bytes, content type)); `params`: the query string.
        """
        sent = dict(headers or {})
        body: bytes | None = None
        if json is not None:
            body, sent["Content-Type"] = jsonlib.dumps(json).encode(), "application/json"
        elif files is not None:
            body, sent["Content-Type"] = _multipart(files)
        elif data is not None:
            body, sent["Content-Type"] = urlencode(data).encode(), "application/x-www-form-urlencoded"
        if params:
            url = f"{url}{'&' if '?' in url else '?'}{urlencode(params)}"
        reused = self._conn is not None
        try:
            return self._send(method, url, body, sent)
        except _STALE:
            if not reused:
                raise
            return self._send(method, url, body, sent)  # once, on a new connection

    def _send(self, method: str, url: str, body: bytes | None, headers: dict[str, str]) -> Response:
        """Send on the kept connection (opened if there is none); a connection that fails or will close is dropped."""
        if self._conn is None:
            self._conn = http.client.HTTPConnection(self._host, self._port, timeout=self._timeout)
        try:
            self._conn.request(method, url, body=body, headers=headers)
            answer = self._conn.getresponse()
            content = answer.read()
        except _STALE:
            self.close()
            raise
        if answer.will_close:
            self.close()
        return Response(answer.status, content, {k.lower(): v for k, v in answer.getheaders()})


def _multipart(files: dict[str, tuple[str, bytes, str]]) -> tuple[bytes, str]:
    """Encode files as a multipart/form-data body; return it and its content type."""
    boundary = uuid.uuid4().hex
    parts = []
    for field, (filename, content, kind) in files.items():
        head = (f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; filename="{filename}"\r\n'
                f"Content-Type: {kind}\r\n\r\n")
        parts.append(head.encode() + content + b"\r\n")
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"
