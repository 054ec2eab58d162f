"""The SKM semester report (PermenPAN-RB 14/2017): a printable page and its CSV, per service and MPP-wide.

For administrators (every service) and agency supervisors (their agency's services); anyone else gets
the 403 page, as on the dashboard.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from engine.sla import service as sla
from engine.sla import survey as survey
from engine.sla import survey_report as report
from web.deps import PageActor, RuntimeDep, SessionDep
from web.downloads import content_disposition
from web.routing import TransactionalRoute
from web.templates import Pages

routes = APIRouter(route_class=TransactionalRoute, include_in_schema=False)
pages = Pages(Path(__file__).resolve().parent / "templates")
SEMESTERS_BACK = 6
Populations = Annotated[list[str], Query(max_length=200)]


def _today(rt: RuntimeDep) -> date:
    return rt.clock().astimezone(sla.WIB).date()


def _build(session: SessionDep, rt: RuntimeDep, actor: PageActor, semester: str, dari: str, sampai: str,
           populasi: list[str]) -> report.SkmReport:
    period = report.parse_period(semester_code=semester.strip(), date_from=dari.strip(), date_to=sampai.strip(),
                                 today=_today(rt))
    return report.build_report(session, actor=actor, period=period, populations=report.parse_populations(populasi))


def _semesters(today: date) -> list[report.Period]:
    """Return the current semester and the ones before it, newest first, for the picker."""
    current = report.semester_of(today)
    year, half = current.start.year, 1 if current.start.month == 1 else 2
    result = []
    for _ in range(SEMESTERS_BACK):
        result.append(report.semester(year, half))
        year, half = (year, 1) if half == 2 else (year - 1, 2)
    return result


@routes.get("/dasbor/skm")
def skm_report(
    request: Request, session: SessionDep, rt: RuntimeDep, actor: PageActor,
    semester: str = Query("", max_length=7), dari: str = Query("", max_length=10),
    sampai: str = Query("", max_length=10), populasi: Populations = [],  # noqa: B006 (FastAPI reads it)
) -> Response:
    """Show the SKM report of a semester (or a date range): sample, profile, NRR, index, grade, weakest elements."""
    result = _build(session, rt, actor, semester, dari, sampai, populasi)
    query = urlencode([("semester", result.period.semester or ""), ("dari", "" if result.period.semester else
                       result.period.start.isoformat()), ("sampai", "" if result.period.semester else
                       result.period.end.isoformat()), *[("populasi", p) for p in populasi]])
    return pages.render(request, "dashboard/skm_report.html", {
        "report": result, "unsur": survey.UNSUR, "channels": survey.CHANNELS, "semesters": _semesters(_today(rt)),
        "query": query, "populasi": populasi, "generated": rt.clock()})


@routes.get("/dasbor/skm.csv")
def skm_report_csv(
    session: SessionDep, rt: RuntimeDep, actor: PageActor, semester: str = Query("", max_length=7),
    dari: str = Query("", max_length=10), sampai: str = Query("", max_length=10),
    populasi: Populations = [],  # noqa: B006
) -> Response:
    """Download the same report as CSV, one figure per row."""
    result = _build(session, rt, actor, semester, dari, sampai, populasi)
    out = io.StringIO()
    out.write("\ufeff")  # so spreadsheet programs read the file as UTF-8
    csv.writer(out, lineterminator="\r\n").writerows(report.export_rows(result))
    name = result.period.semester or f"{result.period.start.isoformat()}_{result.period.end.isoformat()}"
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": content_disposition(f"laporan-skm-{name}.csv"), "Cache-Control": "no-store"})
