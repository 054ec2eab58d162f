"""The data-protection officer's page: who opened citizens' personal data, when, how and why (docs/privacy.md)."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from engine.directory.actors import Actor
from engine.errors import InvalidInput
from engine.privacy import access as privacy
from engine.privacy import access_review as review
from web.deps import PageForbidden, SessionDep, StaffPageActor
from web.downloads import content_disposition
from web.routing import TransactionalRoute
from web.templates import Pages

routes = APIRouter(route_class=TransactionalRoute, include_in_schema=False)
pages = Pages(Path(__file__).resolve().parent / "templates")
PAGE = 100
EXPORT_MAX = 50_000
FILTER_PARAMS = ("nomor", "petugas", "instansi", "dari", "sampai", "cara", "alasan")
HOW_NAMES = {privacy.TASK: ("untuk tugas", "for a task"), privacy.REVEAL: ("dibuka dengan alasan", "revealed"),
             privacy.FILE: ("berkas", "file"), privacy.API: ("API dengan alasan", "API, revealed")}


def dpo_actor(actor: StaffPageActor) -> Actor:
    """Let in only the data-protection officer and admins."""
    if not privacy.is_dpo(actor):
        raise PageForbidden("Halaman ini hanya untuk Pejabat Pelindungan Data Pribadi.",
                            "This page is only for the data-protection officer.")
    return actor


DpoActor = Annotated[Actor, Depends(dpo_actor)]


def _day(value: str, name_id: str, name_en: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{name_en}: '{value[:20]}' is not a date (YYYY-MM-DD)",
                           message_id=f"{name_id}: '{value[:20]}' bukan tanggal (YYYY-MM-DD)") from None


def read_filters(request: Request) -> review.Filters:
    """Read the review's filters from the query string; a malformed one is a 400 naming it."""
    q = {name: (request.query_params.get(name) or "").strip()[:120] for name in FILTER_PARAMS}
    start, end = _day(q["dari"], "Dari", "From"), _day(q["sampai"], "Sampai", "To")
    if start and end and end < start:
        raise InvalidInput("the end date is before the start date", message_id="tanggal akhir sebelum tanggal awal")
    if q["cara"] and q["cara"] not in privacy.HOWS:
        raise InvalidInput(f"How: '{q['cara'][:20]}' is not one of {', '.join(privacy.HOWS)}",
                           message_id=f"Cara: '{q['cara'][:20]}' bukan salah satu dari {', '.join(privacy.HOWS)}")
    return review.Filters(tracking_number=q["nomor"] or None, username=q["petugas"] or None,
                          agency=q["instansi"] or None, start=start, end=end, how=q["cara"] or None,
                          reveals_only=q["alasan"] == "1")


def _query(request: Request, **changes: str | None) -> str:
    params = {k: v for k, v in request.query_params.items() if k in FILTER_PARAMS and v}
    params.update({k: v for k, v in changes.items() if v})
    return urlencode(params)


@routes.get("/admin/akses-data")
def access_page(request: Request, session: SessionDep, actor: DpoActor,
                halaman: int = Query(1, ge=1, le=100_000)) -> Response:
    """List who opened citizens' personal data, with filters, the reveals and their reasons, frequent revealers."""
    filters = read_filters(request)
    rows, total = review.list_accesses(session, filters=filters, limit=PAGE, offset=(halaman - 1) * PAGE)
    reveals, reveal_total = review.list_accesses(session, filters=_reveals(filters), limit=20)
    return pages.render(request, "privacy/access.html", {
        "rows": rows, "total": total, "filters": filters, "page": halaman, "pages": max(1, -(-total // PAGE)),
        "reveals": reveals, "reveal_total": reveal_total, "HOW_NAMES": HOW_NAMES,
        "frequent": review.frequent_revealers(session, filters=filters), "query": _query(request),
        "page_query": lambda n: _query(request, halaman=str(n) if n > 1 else None),
        "frequent_min": review.FREQUENT_MIN, "frequent_factor": review.FREQUENT_FACTOR})


def _reveals(filters: review.Filters) -> review.Filters:
    return review.Filters(filters.tracking_number, filters.username, filters.agency, filters.start, filters.end,
                          filters.how, reveals_only=True)


@routes.get("/admin/akses-data.csv")
def access_export(request: Request, session: SessionDep, actor: DpoActor) -> Response:
    """Download the filtered access record as CSV (no citizen's data: cases by tracking number)."""
    rows, _total = review.list_accesses(session, filters=read_filters(request), limit=EXPORT_MAX)
    out = io.StringIO()
    out.write("\ufeff")  # so spreadsheet programs read the file as UTF-8
    csv.writer(out, lineterminator="\r\n").writerows(_csv_rows(rows))
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": content_disposition("akses-data-pribadi.csv"), "Cache-Control": "no-store"})


def _csv_rows(rows: list[review.AccessRow]) -> list[list[Any]]:
    head = ["at_utc", "tracking_number", "username", "how", "task_id", "file_id", "reason", "role", "agency", "ip",
            "user_agent"]
    return [head] + [[r.at.isoformat(), r.tracking_number, r.username, r.how, r.task_id or "", r.file_id or "",
                      _cell(r.reason), r.role or "", r.agency or "", r.ip or "", _cell(r.user_agent)] for r in rows]


def _cell(text: str | None) -> str:
    """Return free text for a spreadsheet cell: a leading = + - @ would make it a formula."""
    value = text or ""
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value
