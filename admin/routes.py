"""The staff pages (studio, inbox, dashboard), gathered for the app to mount."""

from __future__ import annotations

from fastapi import APIRouter

from admin import dashboard, inbox, studio

routes = APIRouter(include_in_schema=False)
for module in (inbox, studio, dashboard):
    routes.include_router(module.routes)
