"""Lifecycle of a service in the studio: retire, restore, download a version as a zip."""

from __future__ import annotations

from fastapi import APIRouter

from web.routing import TransactionalRoute

routes = APIRouter(route_class=TransactionalRoute, include_in_schema=False)
