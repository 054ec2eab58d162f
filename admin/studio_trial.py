"""Scenario tests in the studio: a trial run on a throw-away copy (Uji coba), recorded and replayed."""

from __future__ import annotations

from fastapi import APIRouter

from web.routing import TransactionalRoute

routes = APIRouter(route_class=TransactionalRoute, include_in_schema=False)
