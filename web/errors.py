"""Errors on pages: the same domain errors as the API, shown as a page with a message.

The mapping itself is the one table of `api/errors.py` (the composition root installs it): a page
request gets this page with the problem type's status and titles; a page that needs a login
redirects to the login page instead.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from web.templates import shared_pages


def is_page(request: Request) -> bool:
    """Tell whether a request is for a page (not the JSON API, health checks or metrics)."""
    path = request.url.path
    return not (path.startswith(("/api", "/static")) or path in ("/healthz", "/readyz", "/metrics"))


def error_page(request: Request, status: int, title_id: str, title_en: str, detail: str = "") -> Response:
    """Render the error page: what went wrong, in the user's language, and a way back."""
    return shared_pages.render(request, "error.html", {"status": status, "title_id": title_id,
                                                       "title_en": title_en, "detail": detail}, status=status)
