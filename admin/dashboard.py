"""The SLA dashboard: charts and figures per service, agency and step, the SKM, a heat map, CSV export.

Managers are administrators (every agency) and agency supervisors, the holders of
`<agency>.supervisor` in the agency itself (their agency only); anyone else gets a 403 page.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from admin import charts
from engine.cases import complaint_views as complaint_views
from engine.catalogue import registry as registry
from engine.connectors import report as calls
from engine.errors import InvalidInput
from engine.queue import figures as queue_figures
from engine.sla import service as sla
from engine.sla import survey as survey
from engine.sla import trend as trend
from web.deps import PageActor, RuntimeDep, SessionDep
from web.downloads import content_disposition
from web.routing import TransactionalRoute
from web.templates import Pages

routes = APIRouter(route_class=TransactionalRoute, include_in_schema=False)
pages = Pages(Path(__file__).resolve().parent / "templates")
DEFAULT_DAYS = 30


@dataclass(frozen=True)
class FilterInput:
    """The filters as typed in the form, kept to show them back."""

    dari: str
    sampai: str
    layanan: str
    instansi: str


def _day(value: str, field_id: str, field_en: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{field_id} / {field_en}: '{value[:20]}' bukan tanggal (YYYY-MM-DD) / "
                           "is not a date (YYYY-MM-DD)") from None


def parse_filters(raw: FilterInput, today: date) -> sla.Filters:
    """Turn the form's fields into filters; without any, the last 30 days."""
    if not any((raw.dari, raw.sampai, raw.layanan, raw.instansi)):
        return sla.Filters(date_from=today - timedelta(days=DEFAULT_DAYS - 1), date_to=today)
    start, end = _day(raw.dari, "Dari", "From"), _day(raw.sampai, "Sampai", "To")
    if start and end and end < start:
        raise InvalidInput("Tanggal akhir sebelum tanggal awal / the end date is before the start date")
    return sla.Filters(date_from=start, date_to=end, process_key=raw.layanan or None, agency=raw.instansi or None)


def _inputs(dari: str, sampai: str, layanan: str, instansi: str) -> FilterInput:
    return FilterInput(dari.strip(), sampai.strip(), layanan.strip(), instansi.strip())


def _query(filters: sla.Filters) -> str:
    parts = {"dari": filters.date_from.isoformat() if filters.date_from else "",
             "sampai": filters.date_to.isoformat() if filters.date_to else "",
             "layanan": filters.process_key or "", "instansi": filters.agency or ""}
    return urlencode(parts)


def drill_links(filters: sla.Filters) -> Callable[..., str]:
    """Return a maker of links to the staff case list behind a figure: the board's period plus the given filters.

    The parameters are those of /kasus (admin/casesearch.py); None or "" leaves one out.
    """
    period = {"dari": filters.date_from.isoformat() if filters.date_from else "",
              "sampai": filters.date_to.isoformat() if filters.date_to else ""}

    def link(**params: str | None) -> str:
        return "/kasus?" + urlencode({k: v for k, v in {**period, **params}.items() if v})

    return link


def _trend_links(filters: sla.Filters, points: list[trend.TrendPoint], drill: Callable[..., str]) -> list[str]:
    """Link each day (or week) of the trend to the cases started in it, within the board's period."""
    links = []
    for p in points:
        end = p.start + timedelta(days=p.days - 1)
        if filters.date_to and end > filters.date_to:
            end = filters.date_to
        start = max(p.start, filters.date_from) if filters.date_from else p.start
        links.append(drill(layanan=filters.process_key, dari=start.isoformat(), sampai=end.isoformat()))
    return links


def _heatmap(session: SessionDep, board: sla.Dashboard) -> dict[str, Any] | None:
    key = board.filters.process_key
    if key is None or not any(s.process_key == key for s in board.services):
        return None
    version = registry.list_versions(session, key)[0].version
    xml = registry.main_bpmn(session, key=key, version=version).decode("utf-8")
    steps = [s for s in board.steps if s.process_key == key]
    heat = board.heat(key)
    scale = charts.heat_scale(heat)
    drill = drill_links(board.filters)
    return {"xml": xml, "heat": heat, "levels": scale.levels, "scale": scale.scale, "bands": scale.bands,
            "names": {s.element_id: s.name for s in steps},
            "links": {s.element_id: drill(layanan=key, instansi=board.filters.agency, langkah=s.element_id)
                      for s in steps}}


def _charts(session: SessionDep, board: sla.Dashboard, today: date) -> dict[str, Any]:
    points = trend.trend(session, filters=board.filters, keys=[s.process_key for s in board.services], today=today)
    rows = charts.agency_rows(board)
    return {"points": points, "weekly": bool(points) and points[0].days == 7,
            "point_links": _trend_links(board.filters, points, drill_links(board.filters)),
            "volume": charts.volume_chart(points), "compliance": charts.compliance_chart(points),
            "dates": charts.axis_labels(points), "agencies": rows,
            "agency_tasks": charts.agency_chart(rows, "tasks"),
            "agency_compliance": charts.agency_chart(rows, "compliance", maximum=100.0),
            "agency_median": charts.agency_chart(rows, "median_h")}


@dataclass(frozen=True)
class AgencyComplaints:
    """Complaint figures of one agency (all its services), as the dashboard shows them."""

    agency: str
    filed: int
    answered: int
    on_time: int
    open: int
    open_overdue: int


def complaint_rows(rows: list[complaint_views.ServiceFigures]) -> list[AgencyComplaints]:
    """Add up the per-service complaint figures per agency."""
    sums: dict[str, list[int]] = {}
    for r in rows:
        c = sums.setdefault(r.agency, [0, 0, 0, 0, 0])
        for i, value in enumerate((r.filed, r.answered, r.on_time, r.open, r.open_overdue)):
            c[i] += value
    return [AgencyComplaints(agency, *c) for agency, c in sorted(sums.items())]


def _today(rt: RuntimeDep) -> date:
    return rt.clock().astimezone(sla.WIB).date()


def queue_rows(session: SessionDep, board: sla.Dashboard, today: date) -> queue_figures.QueueFigures:
    """Return the hall's queue figures for the board's period, agency filter and scope."""
    start = board.filters.date_from or today - timedelta(days=DEFAULT_DAYS - 1)
    return queue_figures.figures(session, date_from=start, date_to=board.filters.date_to or today,
                                 agencies=None if board.scope is None else set(board.scope),
                                 agency=board.filters.agency)


@routes.get("/dasbor")
def dashboard(
    request: Request, session: SessionDep, rt: RuntimeDep, actor: PageActor,
    dari: str = Query("", max_length=10), sampai: str = Query("", max_length=10),
    layanan: str = Query("", max_length=120), instansi: str = Query("", max_length=64),
) -> Response:
    """Show the SLA figures, the SKM and (for one service) the heat map of waiting time on its diagram."""
    raw = _inputs(dari, sampai, layanan, instansi)
    filters = parse_filters(raw, _today(rt))
    board = sla.build_dashboard(session, actor=actor, filters=filters, now=rt.clock())
    services, agencies = sla.filter_options(session, actor=actor)
    skm = survey.skm_dashboard(session, actor=actor, filters=filters)
    complaints = complaint_rows(complaint_views.figures(session, actor=actor, now=rt.clock()))
    return pages.render(request, "dashboard/index.html", {
        "board": board, "skm": skm, "unsur": survey.UNSUR, "complaints": complaints, "service_options": services,
        "queue": queue_rows(session, board, _today(rt)),
        "agency_options": agencies, "filters": filters, "query": _query(filters),
        "heatmap": _heatmap(session, board), "charts": _charts(session, board, _today(rt)),
        "connector_calls": calls.operation_report(session, now=rt.clock()) if actor.platform_role == "admin" else None,
        "service_links": {s.process_key: "/dasbor?" + _query(replace(filters, process_key=s.process_key))
                          for s in board.services}, "drill": drill_links(filters)})


@routes.get("/dasbor/ekspor.csv")
def export(
    session: SessionDep, rt: RuntimeDep, actor: PageActor,
    dari: str = Query("", max_length=10), sampai: str = Query("", max_length=10),
    layanan: str = Query("", max_length=120), instansi: str = Query("", max_length=64),
) -> Response:
    """Download the dashboard's figures for the same filters as CSV (formulas neutralised)."""
    filters = parse_filters(_inputs(dari, sampai, layanan, instansi), _today(rt))
    board = sla.build_dashboard(session, actor=actor, filters=filters, now=rt.clock())
    return Response(_csv(board), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": content_disposition(f"dasbor-sla-{_today(rt).isoformat()}.csv"),
        "Cache-Control": "no-store"})


def _csv(board: sla.Dashboard) -> str:
    out = io.StringIO()
    out.write("\ufeff")  # so spreadsheet programs read the file as UTF-8
    csv.writer(out, lineterminator="\r\n").writerows(sla.export_rows(board))
    return out.getvalue()
