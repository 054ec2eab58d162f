"""The form builder: a draft's JSON Schema + UI schema forms, with a live preview."""

from __future__ import annotations

from fastapi import APIRouter

from web.routing import TransactionalRoute

routes = APIRouter(route_class=TransactionalRoute, include_in_schema=False)
