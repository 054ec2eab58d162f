"""Drafts: new services, a draft's files, the modeler on a draft, lint, publish."""

from __future__ import annotations

from fastapi import APIRouter

from web.routing import TransactionalRoute

routes = APIRouter(route_class=TransactionalRoute, include_in_schema=False)
