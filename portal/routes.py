"""The public pages (catalogue, apply, track, verify, survey), gathered for the app to mount."""

from __future__ import annotations

from fastapi import APIRouter

from portal import catalogue, documents, integrated, mytasks, payments, survey, track, verify

routes = APIRouter(include_in_schema=False)
for module in (catalogue, integrated, mytasks, track, survey, verify, documents, payments):
    routes.include_router(module.routes)
