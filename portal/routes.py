"""The public pages (catalogue, apply, track, verify, survey), gathered for the app to mount."""

from __future__ import annotations

from fastapi import APIRouter

from portal import catalogue, complaints, documents, integrated, mytasks, payments, standard, survey, track, verify
from portal import mydata as mydata
from portal import queue as queue
from portal import visits as visits

routes = APIRouter(include_in_schema=False)
for module in (catalogue, integrated, mytasks, track, survey, verify, documents, payments, complaints, standard,
               queue, visits, mydata):
    routes.include_router(module.routes)
