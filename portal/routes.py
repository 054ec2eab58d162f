"""The public pages (catalogue, apply, track, verify, survey), gathered for the app to mount."""

from __future__ import annotations

from fastapi import APIRouter

from portal import catalogue, complaints, documents, integrated, mytasks, payments, standard, survey, track, verify

routes = APIRouter(include_in_schema=False)
for module in (catalogue, integrated, mytasks, track, survey, verify, documents, payments, complaints, standard):
    routes.include_router(module.routes)
