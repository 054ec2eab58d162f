"""The complaint figures page: complaints per service and the share answered on time (admins, agency supervisors)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import Response

from engine.cases import complaint_views as complaint_views
from engine.catalogue import service as catalogue
from web.deps import RuntimeDep, SessionDep, StaffPageActor
from web.routing import TransactionalRoute
from web.templates import Pages

routes = APIRouter(route_class=TransactionalRoute, include_in_schema=False)
pages = Pages(Path(__file__).resolve().parent / "templates")


@routes.get("/admin/pengaduan")
def page(request: Request, session: SessionDep, rt: RuntimeDep, actor: StaffPageActor) -> Response:
    """Show complaints per service: filed, answered, on time, open and past the deadline."""
    rows = complaint_views.figures(session, actor=actor, now=rt.clock())
    names = {s.key: s.standard.get("name") or {} for s in catalogue.list_services(session)}
    return pages.render(request, "complaints/figures.html", {"rows": rows, "names": names})
