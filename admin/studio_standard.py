"""The service-standard editor (service.toml as a form) and document/notification templates."""

from __future__ import annotations

from fastapi import APIRouter

from web.routing import TransactionalRoute

routes = APIRouter(route_class=TransactionalRoute, include_in_schema=False)
