"""Errors on pages: the same domain errors as the API, shown as a page with a message."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response

from web.deps import CsrfFailed, LoginRequired, PageForbidden
from web.templates import shared_pages


def is_page(request: Request) -> bool:
    """Tell whether a request is for a page (not the JSON API, health checks or metrics)."""
    path = request.url.path
    return not (path.startswith(("/api", "/static")) or path in ("/healthz", "/readyz", "/metrics"))


def error_page(request: Request, status: int, title_id: str, title_en: str, detail: str = "") -> Response:
    """Render the error page: what went wrong, in the user's language, and a way back."""
    return shared_pages.render(request, "error.html", {"status": status, "title_id": title_id,
                                                       "title_en": title_en, "detail": detail}, status=status)


def _login(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LoginRequired)  # noqa: S101 - registered for LoginRequired only
    return RedirectResponse(f"/masuk?next={exc.next_url}", status_code=303)


def _forbidden(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PageForbidden)  # noqa: S101
    return error_page(request, 403, "Tidak diizinkan", "Forbidden",
                      exc.message_en if request.cookies.get("mpp_lang") == "en" else exc.message_id)


def _csrf(request: Request, exc: Exception) -> Response:
    return error_page(request, 403, "Formulir kedaluwarsa", "The form has expired",
                      "Muat ulang halaman lalu kirim lagi. / Reload the page and submit again.")


def install(app: FastAPI) -> None:
    """Register the page-only handlers (login redirect, forbidden page, CSRF failure)."""
    app.add_exception_handler(LoginRequired, _login)
    app.add_exception_handler(PageForbidden, _forbidden)
    app.add_exception_handler(CsrfFailed, _csrf)
