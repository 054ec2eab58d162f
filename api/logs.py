"""Structured logs: one JSON object per line, each request's lines tied together by a request id.

`setup_logging` is called by `mpp serve` and `mpp worker`, never at import: tests and library use
keep Python's default logging unless they install the formatter themselves.
"""

from __future__ import annotations

import json
import logging
import logging.config
import re
import time
import uuid
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from forms.personal import mask_numbers

HEADER = "X-Request-ID"
_HEADER_KEY = HEADER.lower().encode("latin-1")  # ASGI header names are lower-case bytes
SANE_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
REQUEST_FIELDS = ("method", "path", "status", "duration_ms")

request_id: ContextVar[str | None] = ContextVar("mpp_request_id", default=None)
# json.dumps(doc, ensure_ascii=False, default=str), without building an encoder for every line.
_encode = json.JSONEncoder(ensure_ascii=False, default=str).encode
access_log = logging.getLogger("mpp.access")


class JsonFormatter(logging.Formatter):
    """Format a record as one JSON object on one line, any NIK-long number in it masked (forms.personal).

    The platform logs ids, never personal data; the masking is the net under that rule, for a value
    that reaches a message through an exception's text.
    """

    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": mask_numbers(record.getMessage()),
        }
        # Formatting happens in the logging call's own thread and context, so the contextvar is the
        # request's; a record may also carry the id itself (the access line does).
        rid = getattr(record, "request_id", None) or request_id.get()
        if rid:
            doc["request_id"] = rid
        for name in REQUEST_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                doc[name] = value
        if record.exc_info:
            doc["exc_info"] = mask_numbers(self.formatException(record.exc_info))
        elif record.exc_text:
            doc["exc_info"] = mask_numbers(record.exc_text)
        if record.stack_info:
            doc["stack_info"] = self.formatStack(record.stack_info)
        return _encode(doc)


def logging_config(level: str = "INFO") -> dict[str, Any]:
    """Return a `logging.config.dictConfig` document: JSON lines on stderr, uvicorn's loggers included."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "api.logs.JsonFormatter"}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json",
                                "stream": "ext://sys.stderr"}},
        "root": {"level": level, "handlers": ["stderr"]},
        "loggers": {
            # uvicorn's own lines go through the root handler; its access log is ours (mpp.access).
            "uvicorn": {"handlers": [], "propagate": True},
            "uvicorn.error": {"handlers": [], "propagate": True},
            "uvicorn.access": {"handlers": [], "propagate": False},
            # SpiffWorkflow logs every task state change at INFO: several lines per request.
            "spiff": {"level": "WARNING"},
            # httpx logs each request's full URL at INFO: a partner's path may carry a NIK (/peserta/{nik}).
            "httpx": {"level": "WARNING"},
            "httpcore": {"level": "WARNING"},
        },
    }


def setup_logging(level: str = "INFO") -> None:
    """Send every log record to stderr as a JSON line."""
    logging.config.dictConfig(logging_config(level))
    # What a record gathers that no line of ours shows: the caller's file and line (a walk up the
    # stack), the thread's name and the process's. Off, as the logging HOWTO's "Optimization" says.
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False


def current_request_id() -> str | None:
    """Return the id of the request being served, if any."""
    return request_id.get()


def _incoming_id(scope: Scope) -> str | None:
    for key, raw in scope["headers"]:
        if key == _HEADER_KEY:  # the first one, as Starlette's Headers.get reads it
            value: str = raw.decode("latin-1")
            return value if SANE_ID.fullmatch(value) else None
    return None


# Told how each HTTP request ended: its scope (the matched route in it), its status and its duration in seconds.
Observer = Callable[[Scope, int, float], None]


class RequestLog:
    """Give each request an id, echo it in `X-Request-ID`, write one access line, tell the observers (pure ASGI).

    The id is the caller's `X-Request-ID` when it is a sane token, else a new one. It is set in a
    contextvar, not reset afterwards: each request runs in its own task with its own copy of the
    context, and the unexpected-error handler, which runs after this middleware has let the error
    through, still needs it. The observers (the HTTP metrics, api/metrics.py) are told each request's
    status and duration here rather than by a middleware of their own: one layer less on every request.
    """

    def __init__(self, app: ASGIApp, observers: Sequence[Observer] = ()) -> None:
        self.app = app
        self.observers = tuple(observers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = _incoming_id(scope) or uuid.uuid4().hex
        request_id.set(rid)
        started = time.perf_counter()
        status = 500  # what the client gets when the app raises before answering

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), (_HEADER_KEY, rid.encode("latin-1"))]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            for observe in self.observers:
                observe(scope, status, seconds)
            # The path without its query string: tracking PINs travel in the query.
            path, method = scope["path"], scope["method"]
            access_log.info("%s %s %s", method, path, status, extra={
                "request_id": rid, "method": method, "path": path, "status": status,
                "duration_ms": round(seconds * 1000, 2)})
