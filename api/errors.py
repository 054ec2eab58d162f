"""Map errors to RFC 9457 problem+json responses (and, for people, error pages) in one table."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.exc import DataError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.logs import HEADER, current_request_id
from engine.errors import DomainError, PackageInvalid
from engine.lint.text import localize
from forms.validation import FormInvalid
from web.deps import LoginRequired
from web.errors import error_page, is_page
from web.ratelimit import RateLimited
from web.session import language

log = logging.getLogger("mpp.api")
PROBLEM = "application/problem+json"


@dataclass(frozen=True)
class ProblemType:
    """One stable kind of problem: its URI slug, HTTP status and title (Indonesian / English)."""

    slug: str
    status: int
    title_id: str
    title_en: str

    @property
    def uri(self) -> str:
        return f"/api/problems/{self.slug}"


class ApiError(DomainError):
    """An error raised by the API layer itself (authentication, authorization, rate limits)."""

    def __init__(self, kind: ProblemType, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.code = kind.slug
        self.detail, self.headers = detail, headers or {}


VALIDATION = ProblemType("validation", 422, "Isian tidak valid", "Invalid input")
FORM_INVALID = ProblemType("form-invalid", 422, "Isian formulir tidak valid", "Form data is invalid")
PACKAGE_INVALID = ProblemType("package-invalid", 422, "Paket proses tidak valid", "Process package is invalid")
UNSAFE_XML = ProblemType("unsafe-xml", 422, "Berkas XML ditolak", "XML file refused")
BAD_REQUEST = ProblemType("bad-request", 400, "Permintaan tidak valid", "Bad request")
UNAUTHENTICATED = ProblemType("unauthenticated", 401, "Perlu masuk", "Authentication required")
FORBIDDEN = ProblemType("forbidden", 403, "Tidak diizinkan", "Forbidden")
FORM_EXPIRED = ProblemType("form-expired", 403, "Formulir kedaluwarsa", "The form has expired")
NOT_FOUND = ProblemType("not-found", 404, "Tidak ditemukan", "Not found")
METHOD = ProblemType("method-not-allowed", 405, "Metode tidak diizinkan", "Method not allowed")
CONFLICT = ProblemType("conflict", 409, "Terjadi benturan perubahan", "Conflict")
TASK_DONE = ProblemType("task-already-completed", 409, "Tugas sudah diselesaikan", "Task already completed")
TASK_CLAIMED = ProblemType("task-claimed", 409, "Tugas sudah diambil petugas lain", "Task claimed by another officer")
SERVICE_RETIRED = ProblemType("service-retired", 409, "Layanan sudah tidak menerima permohonan",
                              "The service no longer accepts applications")
TOO_LARGE = ProblemType("too-large", 413, "Berkas terlalu besar", "Payload too large")
RATE_LIMITED = ProblemType("rate-limited", 429, "Terlalu banyak permintaan", "Too many requests")
BUSY = ProblemType("busy", 503, "Sistem sedang sibuk", "The platform is busy")
INTERNAL = ProblemType("internal", 500, "Kesalahan sistem", "Internal error")

ALL_TYPES = [VALIDATION, FORM_INVALID, PACKAGE_INVALID, UNSAFE_XML, BAD_REQUEST, UNAUTHENTICATED, FORBIDDEN,
             FORM_EXPIRED, NOT_FOUND, METHOD, CONFLICT, TASK_DONE, TASK_CLAIMED, SERVICE_RETIRED, TOO_LARGE,
             RATE_LIMITED, BUSY, INTERNAL]

# The one table: every error raised on purpose is a DomainError whose `code` is the slug of its
# problem type here. A test checks that each DomainError subclass names a slug of this table.
PROBLEM_TYPES: dict[str, ProblemType] = {kind.slug: kind for kind in ALL_TYPES}
# Errors of the framework and the database, which cannot carry our code.
HTTP_STATUS_TYPES = {401: UNAUTHENTICATED, 403: FORBIDDEN, 404: NOT_FOUND, 405: METHOD, 413: TOO_LARGE,
                     429: RATE_LIMITED}
INTERNAL_DETAIL = "An internal error occurred; it has been logged."


@dataclass
class Answer:
    """What an error becomes: its problem type, the detail, extra members and response headers."""

    kind: ProblemType
    detail: str
    extra: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    page_detail: str = ""


def problem(kind: ProblemType, detail: str, request: Request | None = None, **extra: Any) -> JSONResponse:
    """Build a problem+json response."""
    body = {"type": kind.uri, "title": kind.title_en, "title_id": kind.title_id, "status": kind.status,
            "detail": detail, **extra}
    if request is not None:
        body["instance"] = request.url.path
    return JSONResponse(body, status_code=kind.status, media_type=PROBLEM)


def kind_of(exc: DomainError) -> ProblemType:
    """Return the problem type a domain error names by its code."""
    return PROBLEM_TYPES.get(exc.code, INTERNAL)


def _domain(request: Request, exc: Exception) -> Answer:
    assert isinstance(exc, DomainError)  # noqa: S101 - registered for DomainError only
    kind = kind_of(exc)
    if kind is INTERNAL:  # raised on purpose but not meant to reach a client (a script failure, a bad key)
        log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        return Answer(INTERNAL, INTERNAL_DETAIL)
    answer = Answer(kind, exc.message, page_detail=exc.text(language(request)))
    if isinstance(exc, FormInvalid):
        answer.extra["errors"] = [{"field": f.path, "code": f.code, "message": f.message_id,
                                   "message_en": f.message_en} for f in exc.field_errors]
    elif isinstance(exc, PackageInvalid):
        answer.extra["problems"] = [{"file": p.file, "element_id": p.element_id, "element_name": p.element_name,
                                     "message": p.message, "message_id": p.message_id, "severity": p.severity}
                                    for p in localize(exc.problems, [])]
    elif isinstance(exc, ApiError):
        answer.headers.update(exc.headers)
    elif isinstance(exc, RateLimited):
        answer.headers["Retry-After"] = str(exc.retry_after)
    return answer


def _data_error(request: Request, exc: Exception) -> Answer:
    # The database refused a value the schemas let through (PostgreSQL: a NUL character in text).
    # Never echo the SQL.
    return Answer(VALIDATION, "a value is not accepted (for example a NUL character, or a number out of range)")


def _unavailable(request: Request, exc: Exception) -> Answer:
    # The database could not be reached or stayed locked past the busy timeout: nothing was written
    # (the request's transaction rolled back), so the client may simply try again.
    log.error("database unavailable on %s %s", request.method, request.url.path, exc_info=exc)
    detail = "the platform is busy; nothing was saved, try again in a moment"
    return Answer(BUSY, detail, headers={"Retry-After": "2"},
                  page_detail="Sistem sedang sibuk; tidak ada yang tersimpan, coba lagi sebentar lagi."
                  if language(request) == "id" else detail.capitalize() + ".")


def _request_validation(request: Request, exc: Exception) -> Answer:
    assert isinstance(exc, RequestValidationError)  # noqa: S101
    errors = [{"field": ".".join(str(p) for p in err.get("loc", ())[1:]) or "(body)", "code": err.get("type"),
               "message": err.get("msg"), "message_en": err.get("msg")} for err in exc.errors()]
    detail = "; ".join(f"{x['field']}: {x['message']}" for x in errors)
    return Answer(VALIDATION, detail, extra={"errors": errors})


def _http(request: Request, exc: Exception) -> Answer:
    assert isinstance(exc, StarletteHTTPException)  # noqa: S101
    kind = HTTP_STATUS_TYPES.get(exc.status_code, BAD_REQUEST if exc.status_code < 500 else INTERNAL)
    return Answer(kind, str(exc.detail), headers=dict(exc.headers or {}), page_detail=str(exc.detail))


def _unexpected(request: Request, exc: Exception) -> Answer:
    # The handler runs outside the `except` block: pass the exception for its traceback.
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    answer = Answer(INTERNAL, INTERNAL_DETAIL)
    # This handler answers outside the request-id middleware: give the id (to quote) here.
    rid = current_request_id()
    if rid is not None:
        answer.headers[HEADER] = rid
    return answer


def _respond(read: Callable[[Request, Exception], Answer]) -> Callable[[Request, Exception], Response]:
    """Answer API requests with a problem, page requests with an error page of the same type."""

    def handle(request: Request, exc: Exception) -> Response:
        if isinstance(exc, LoginRequired) and is_page(request):
            return RedirectResponse(f"/masuk?next={exc.next_url}", status_code=303)
        answer = read(request, exc)
        response = problem(answer.kind, answer.detail, request, **answer.extra)
        response.headers.update(answer.headers)
        if not is_page(request):
            return response
        kind = answer.kind
        try:
            page = error_page(request, kind.status, kind.title_id, kind.title_en,
                              "" if kind is INTERNAL else answer.page_detail)
        except Exception:  # the error page itself failed: answer with the problem, never a bare 500
            log.exception("error page failed on %s %s", request.method, request.url.path)
            return response
        page.headers.update(answer.headers)
        return page

    return handle


def install(app: FastAPI) -> None:
    """Register the handlers: domain errors, then what the framework and the database raise."""
    app.add_exception_handler(DomainError, _respond(_domain))
    app.add_exception_handler(DataError, _respond(_data_error))
    app.add_exception_handler(OperationalError, _respond(_unavailable))
    app.add_exception_handler(RequestValidationError, _respond(_request_validation))
    app.add_exception_handler(StarletteHTTPException, _respond(_http))
    app.add_exception_handler(Exception, _respond(_unexpected))


_PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "description": "a stable URI: /api/problems/{slug}"},
        "title": {"type": "string"},
        "title_id": {"type": "string", "description": "the title in Bahasa Indonesia"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {"type": "array", "items": {"type": "object", "properties": {
            "field": {"type": "string"}, "code": {"type": ["string", "null"]},
            "message": {"type": ["string", "null"]}, "message_en": {"type": ["string", "null"]}}}},
        "problems": {"type": "array", "items": {"type": "object"}},
    },
}

PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    kind.status: {"description": kind.title_en, "content": {PROBLEM: {"schema": _PROBLEM_SCHEMA}}}
    for kind in (BAD_REQUEST, UNAUTHENTICATED, FORBIDDEN, NOT_FOUND, CONFLICT, TOO_LARGE, VALIDATION, RATE_LIMITED)
}
