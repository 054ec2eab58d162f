"""Staff case search: the counter finds the case of the person in front of it by tracking number, NIK or name.

The same list is the dashboard's drill-down: `/kasus?layanan=pbg&status=berjalan&terlambat=1&dari=...`
lists the cases behind a figure, within what the staff member may read.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from admin.inbox import service_names
from engine.cases import listing as listing
from engine.cases import search as search
from engine.errors import InvalidInput
from web.deps import RuntimeDep, SessionDep, StaffPageActor
from web.routing import TransactionalRoute
from web.templates import Pages

routes = APIRouter(route_class=TransactionalRoute, include_in_schema=False)
pages = Pages(Path(__file__).resolve().parent / "templates")
PAGE = 50
FILTER_PARAMS = ("layanan", "instansi", "langkah", "tugas", "status", "terlambat", "dari", "sampai")


def _day(value: str, name_id: str, name_en: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{name_id} / {name_en}: '{value[:20]}' bukan tanggal (YYYY-MM-DD) / "
                           "is not a date (YYYY-MM-DD)") from None


def _choice(value: str, allowed: tuple[str, ...], name_id: str, name_en: str) -> str | None:
    if value and value not in allowed:
        raise InvalidInput(f"{name_id} / {name_en}: '{value[:20]}' bukan salah satu dari / is not one of: "
                           + ", ".join(allowed))
    return value or None


def read_filters(request: Request) -> search.CaseFilters:
    """Read the drill-down filters from the query string; a malformed one is a 400 naming it."""
    q = {name: (request.query_params.get(name) or "").strip()[:120] for name in FILTER_PARAMS}
    start, end = _day(q["dari"], "Dari", "From"), _day(q["sampai"], "Sampai", "To")
    if start and end and end < start:
        raise InvalidInput("Tanggal akhir sebelum tanggal awal / the end date is before the start date")
    return search.CaseFilters(
        process_key=q["layanan"] or None, agency=q["instansi"] or None, element_id=q["langkah"] or None,
        task=_choice(q["tugas"], search.TASK_STATES, "Tugas", "Tasks"),
        status=_choice(q["status"], tuple(search.STATUSES), "Status", "Status"),
        overdue=_choice(q["terlambat"], ("1",), "Terlambat", "Overdue") == "1", date_from=start, date_to=end)


def page_count(total: int, *, page: int, full: bool) -> tuple[int, bool]:
    """Return how many pages the list has as far as known, and whether there are more than the total counted."""
    if total <= listing.TOTAL_CAP:
        return max(1, -(-total // PAGE)), False
    # Beyond the cap the count is a floor: offer the next page while this one is full.
    return max(-(-total // PAGE), page + 1 if full else page), True


@routes.get("/kasus")
def case_search(request: Request, session: SessionDep, rt: RuntimeDep, actor: StaffPageActor,
                cari: str = Query("", max_length=120), halaman: int = Query(1, ge=1, le=100_000)) -> Response:
    """Find the cases the staff member may read by tracking number, NIK or applicant name, or list them by filters."""
    text = cari.strip()
    filters = read_filters(request)
    hits, total = search.search_cases(session, actor=actor, text=text, filters=filters, now=rt.clock(),
                                      limit=PAGE, offset=(halaman - 1) * PAGE)
    kept = {k: v for k, v in request.query_params.items() if k in (*FILTER_PARAMS, "cari") and v}
    count, more = page_count(total, page=halaman, full=len(hits) == PAGE)
    return pages.render(request, "search/cases.html", {
        "text": text, "hits": hits, "page": halaman, "pages": count, "pages_label": f"{count}+" if more else count,
        "total_label": f"{listing.TOTAL_CAP:,}+".replace(",", ".") if more else total,
        "services": service_names(session), "too_short": bool(text) and search.matches(text) is None,
        "filters": filters, "listed": filters.given() or bool(text), "query": urlencode(kept),
        "filter_query": urlencode({k: v for k, v in kept.items() if k != "cari"})})
