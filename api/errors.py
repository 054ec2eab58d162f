"""Map domain errors to RFC 9457 problem+json responses, in one table."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.logs import HEADER, current_request_id
from engine import errors as e
from engine.lint_text import localize
from forms.validation import FormInvalid
from web import errors as page_errors
from web.errors import error_page, is_page
from web.ratelimit import RateLimited

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


class ApiError(Exception):
    """An error raised by the API layer itself (authentication, authorization, rate limits)."""

    def __init__(self, kind: ProblemType, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.kind, self.detail, self.headers = kind, detail, headers or {}


VALIDATION = ProblemType("validation", 422, "Isian tidak valid", "Invalid input")
FORM_INVALID = ProblemType("form-invalid", 422, "Isian formulir tidak valid", "Form data is invalid")
PACKAGE_INVALID = ProblemType("package-invalid", 422, "Paket proses tidak valid", "Process package is invalid")
UNSAFE_XML = ProblemType("unsafe-xml", 422, "Berkas XML ditolak", "XML file refused")
BAD_REQUEST = ProblemType("bad-request", 400, "Permintaan tidak valid", "Bad request")
UNAUTHENTICATED = ProblemType("unauthenticated", 401, "Perlu masuk", "Authentication required")
FORBIDDEN = ProblemType("forbidden", 403, "Tidak diizinkan", "Forbidden")
NOT_FOUND = ProblemType("not-found", 404, "Tidak ditemukan", "Not found")
METHOD = ProblemType("method-not-allowed", 405, "Metode tidak diizinkan", "Method not allowed")
CONFLICT = ProblemType("conflict", 409, "Terjadi benturan perubahan", "Conflict")
TASK_DONE = ProblemType("task-already-completed", 409, "Tugas sudah diselesaikan", "Task already completed")
TASK_CLAIMED = ProblemType("task-claimed", 409, "Tugas sudah diambil petugas lain", "Task claimed by another officer")
TOO_LARGE = ProblemType("too-large", 413, "Berkas terlalu besar", "Payload too large")
RATE_LIMITED = ProblemType("rate-limited", 429, "Terlalu banyak permintaan", "Too many requests")
INTERNAL = ProblemType("internal", 500, "Kesalahan sistem", "Internal error")

ALL_TYPES = [VALIDATION, FORM_INVALID, PACKAGE_INVALID, UNSAFE_XML, BAD_REQUEST, UNAUTHENTICATED, FORBIDDEN,
             NOT_FOUND, METHOD, CONFLICT, TASK_DONE, TASK_CLAIMED, TOO_LARGE, RATE_LIMITED, INTERNAL]

# Most specific first: the first matching class wins.
DOMAIN_ERRORS: list[tuple[type[Exception], ProblemType]] = [
    (FormInvalid, FORM_INVALID),
    (e.PackageInvalid, PACKAGE_INVALID),
    (e.UnsafeXml, UNSAFE_XML),
    (e.TaskAlreadyCompleted, TASK_DONE),
    (e.TaskClaimedByOther, TASK_CLAIMED),
    (e.CaseConflict, CONFLICT),
    (e.AlreadyExists, CONFLICT),
    (e.TaskNotForYourRole, FORBIDDEN),
    (e.NotAllowed, FORBIDDEN),
    (e.NotFound, NOT_FOUND),
    (e.InvalidInput, BAD_REQUEST),
    # The database refused a value the schemas let through (PostgreSQL: a NUL character in text).
    (DataError, VALIDATION),
]


def problem(kind: ProblemType, detail: str, request: Request | None = None, **extra: Any) -> JSONResponse:
    """Build a problem+json response."""
    body = {"type": kind.uri, "title": kind.title_en, "title_id": kind.title_id, "status": kind.status,
            "detail": detail, **extra}
    if request is not None:
        body["instance"] = request.url.path
    return JSONResponse(body, status_code=kind.status, media_type=PROBLEM)


def _kind_of(exc: Exception) -> ProblemType:
    return next((kind for cls, kind in DOMAIN_ERRORS if isinstance(exc, cls)), INTERNAL)


def _domain(request: Request, exc: Exception) -> JSONResponse:
    kind = _kind_of(exc)
    extra: dict[str, Any] = {}
    if isinstance(exc, FormInvalid):
        extra["errors"] = [{"field": f.path, "code": f.code, "message": f.message_id, "message_en": f.message_en}
                           for f in exc.field_errors]
        detail = "; ".join(f"{f.path}: {f.message_en}" for f in exc.field_errors)
    elif isinstance(exc, e.PackageInvalid):
        extra["problems"] = [{"file": p.file, "element_id": p.element_id, "element_name": p.element_name,
                              "message": p.message, "message_id": p.message_id, "severity": p.severity}
                             for p in localize(exc.problems, [])]
        detail = str(exc)
    elif isinstance(exc, DataError):  # never echo the SQL
        detail = "a value is not accepted (for example a NUL character, or a number out of range)"
    else:
        detail = getattr(exc, "message", str(exc))
    return problem(kind, detail, request, **extra)


def _api_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)  # noqa: S101 - registered for ApiError only
    response = problem(exc.kind, exc.detail, request)
    response.headers.update(exc.headers)
    return response


def _rate_limited(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RateLimited)  # noqa: S101 - registered for RateLimited only
    response = problem(RATE_LIMITED, str(exc), request)
    response.headers["Retry-After"] = str(exc.retry_after)
    return response


def _request_validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)  # noqa: S101
    errors = [{"field": ".".join(str(p) for p in err.get("loc", ())[1:]) or "(body)", "code": err.get("type"),
               "message": err.get("msg"), "message_en": err.get("msg")} for err in exc.errors()]
    detail = "; ".join(f"{x['field']}: {x['message']}" for x in errors)
    return problem(VALIDATION, detail, request, errors=errors)


def _http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)  # noqa: S101
    kind = {401: UNAUTHENTICATED, 403: FORBIDDEN, 404: NOT_FOUND, 405: METHOD, 413: TOO_LARGE,
            429: RATE_LIMITED}.get(exc.status_code, BAD_REQUEST if exc.status_code < 500 else INTERNAL)
    response = problem(kind, str(exc.detail), request)
    response.headers.update(exc.headers or {})
    return response


def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    # The handler runs outside the `except` block: pass the exception for its traceback.
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    response = problem(INTERNAL, "An internal error occurred; it has been logged.", request)
    # This handler answers outside the request-id middleware: give the id (to quote) here.
    rid = current_request_id()
    if rid is not None:
        response.headers[HEADER] = rid
    return response


Handler = Callable[[Request, Exception], Response]


def _for_pages(handler: Handler) -> Handler:
    """Answer page requests with an error page of the same status, API requests with a problem."""

    def handle(request: Request, exc: Exception) -> Response:
        response = handler(request, exc)
        if not is_page(request):
            return response
        kind = next((k for k in ALL_TYPES if k.status == response.status_code), INTERNAL)
        try:
            page = error_page(request, kind.status, kind.title_id, kind.title_en,
                              "" if kind is INTERNAL else _page_detail(exc))
        except Exception:  # the error page itself failed: answer with the problem, never a bare 500
            log.exception("error page failed on %s %s", request.method, request.url.path)
            return response
        for name in ("Retry-After", HEADER):
            if name in response.headers:
                page.headers[name] = response.headers[name]
        return page

    return handle


def _page_detail(exc: Exception) -> str:
    if isinstance(exc, ApiError):
        return exc.detail
    if isinstance(exc, StarletteHTTPException):
        return str(exc.detail)
    if isinstance(exc, e.EngineError | RateLimited):
        return str(exc)
    return ""


def install(app: FastAPI) -> None:
    """Register the handlers: domain errors, API errors, request validation, HTTP errors, the rest."""
    for cls in {cls for cls, _kind in DOMAIN_ERRORS}:
        app.add_exception_handler(cls, _for_pages(_domain))
    app.add_exception_handler(ApiError, _for_pages(_api_error))
    app.add_exception_handler(RateLimited, _for_pages(_rate_limited))
    app.add_exception_handler(RequestValidationError, _for_pages(_request_validation))
    app.add_exception_handler(StarletteHTTPException, _for_pages(_http))
    app.add_exception_handler(Exception, _for_pages(_unexpected))
    page_errors.install(app)


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
