"""Staff case search: the counter finds the case of the person in front of it by tracking number, NIK or name."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from admin.inbox import service_names
from engine.cases import search as search
from web.deps import SessionDep, StaffPageActor
from web.routing import TransactionalRoute
from web.templates import Pages

routes = APIRouter(route_class=TransactionalRoute, include_in_schema=False)
pages = Pages(Path(__file__).resolve().parent / "templates")
PAGE = 50


@routes.get("/kasus")
def case_search(request: Request, session: SessionDep, actor: StaffPageActor,
                cari: str = Query("", max_length=120), halaman: int = Query(1, ge=1, le=100_000)) -> Response:
    """Find the cases the staff member may read by tracking number, NIK or applicant name."""
    text = cari.strip()
    hits, total = search.search_cases(session, actor=actor, text=text, limit=PAGE, offset=(halaman - 1) * PAGE)
    return pages.render(request, "search/cases.html", {
        "text": text, "hits": hits, "total": total, "page": halaman, "pages": max(1, -(-total // PAGE)),
        "services": service_names(session), "too_short": bool(text) and search.matches(text) is None})
