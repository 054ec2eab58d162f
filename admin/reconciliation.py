"""The finance page: one day of bills against bank payments (rekonsiliasi), with a CSV download. Admins only."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from engine.errors import InvalidInput
from engine.payments import bills as bills
from engine.payments.snap import WIB
from web.deps import AdminPageActor, RuntimeDep, SessionDep
from web.downloads import content_disposition
from web.routing import TransactionalRoute
from web.templates import Pages

routes = APIRouter(route_class=TransactionalRoute, include_in_schema=False)
pages = Pages(Path(__file__).resolve().parent / "templates")
DayQuery = Query("", max_length=10)


def _day(value: str, rt: RuntimeDep) -> date:
    if not value.strip():
        return rt.clock().astimezone(WIB).date()
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput(f"Tanggal / date: '{value[:10]}' bukan tanggal (YYYY-MM-DD) / "
                           "is not a date (YYYY-MM-DD)") from None


def _rows(report: bills.Reconciliation) -> list[list[Any]]:
    """Return the report as CSV rows: the figures, then each mismatch and unmatched notification."""
    rows: list[list[Any]] = [
        ["bagian/section", "tagihan/bill", "jumlah/amount", "dibayar/paid", "keterangan/note"],
        ["tagihan dibuat/bills created", report.bills_created, report.bills_created_amount, "", ""],
        ["pembayaran/payments", report.payments, report.expected_amount, report.payments_amount, ""],
        ["kedaluwarsa/expired", report.expired, "", "", ""],
        ["ditolak/refused", report.refused, "", "", ""],
        ["duplikat/duplicates", report.duplicates, "", "", ""]]
    rows += [["selisih/mismatch", m["bill"], m["amount"] or "", m["paid_amount"] or "", m["reason"]]
             for m in report.mismatches]
    rows += [["tanpa tagihan/unmatched", "", "", "", f"{u['at'].isoformat()} {u['reason']}"] for u in report.unmatched]
    # A cell that starts like a formula is read as text by spreadsheet programs.
    return [[f"'{c}" if isinstance(c, str) and c and c[0] in "=+-@" else c for c in row] for row in rows]


@routes.get("/admin/rekonsiliasi")
def page(request: Request, session: SessionDep, rt: RuntimeDep, actor: AdminPageActor,
         tanggal: str = DayQuery) -> Response:
    """Show one day's bills created, paid and expired, the amounts, and what does not match."""
    day = _day(tanggal, rt)
    report = bills.reconciliation(session, day=day)
    return pages.render(request, "payments/reconciliation.html", {"r": report, "day": day.isoformat()})


@routes.get("/admin/rekonsiliasi/ekspor.csv")
def export(session: SessionDep, rt: RuntimeDep, actor: AdminPageActor, tanggal: str = DayQuery) -> Response:
    """Download one day's reconciliation as CSV."""
    day = _day(tanggal, rt)
    out = io.StringIO()
    out.write("\ufeff")  # so spreadsheet programs read the file as UTF-8
    csv.writer(out, lineterminator="\r\n").writerows(_rows(bills.reconciliation(session, day=day)))
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": content_disposition(f"rekonsiliasi-{day.isoformat()}.csv"),
        "Cache-Control": "no-store"})
