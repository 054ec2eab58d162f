"""A service's printable "Standar Pelayanan" (all fourteen components) and its "Maklumat Pelayanan" (the pledge)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import Response

from engine.catalogue import service as catalogue
from engine.catalogue import standard_components as components
from web.deps import OptionalPageActor, RuntimeDep, SessionDep
from web.routing import TransactionalRoute
from web.templates import Pages

routes = APIRouter(route_class=TransactionalRoute, include_in_schema=False)
pages = Pages(Path(__file__).resolve().parent / "templates")


@routes.get("/layanan/{key}/standar-pelayanan")
def standard_page(request: Request, key: str, session: SessionDep, rt: RuntimeDep,
                  actor: OptionalPageActor) -> Response:
    """Show a service's standard as published: the fourteen components of PermenPAN-RB 15/2014, printable on A4."""
    found = catalogue.get_service(session, rt=rt, key=key)
    return pages.render(request, "standard/standard.html", {
        "service": found, "rows": components.fourteen(found.standard), "table": _table(found)})


@routes.get("/layanan/{key}/maklumat-pelayanan")
def pledge_page(request: Request, key: str, session: SessionDep, rt: RuntimeDep, actor: OptionalPageActor) -> Response:
    """Show a service's pledge (maklumat pelayanan): the service guarantee, signed by the agency's head."""
    found = catalogue.get_service(session, rt=rt, key=key)
    return pages.render(request, "standard/pledge.html", {"service": found, "table": _table(found)})


def _table(found: catalogue.Service) -> dict[str, object]:
    table = found.standard.get("standard")
    return table if isinstance(table, dict) else {}
