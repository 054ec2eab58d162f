"""The staff pages (studio, inbox, dashboard), gathered for the app to mount."""

from __future__ import annotations

from fastapi import APIRouter

from admin import (
    calendar,
    casesearch,
    complaints,
    dashboard,
    inbox,
    integrations,
    legal_hold,
    privacy,
    queue,
    reconciliation,
    requirements,
    signing,
    skm_report,
    studio,
    studio_dmn,
    studio_drafts,
    studio_forms,
    studio_lifecycle,
    studio_standard,
    studio_trial,
    supervision,
)

routes = APIRouter(include_in_schema=False)
# The draft and lifecycle pages come before studio's /studio/{key}/... routes they would otherwise match.
for module in (inbox, signing, casesearch, supervision, studio_drafts, studio_forms, studio_standard, studio_dmn,
               studio_trial, studio_lifecycle, studio, skm_report, dashboard, integrations, reconciliation,
               requirements, complaints, calendar, privacy, legal_hold, queue):
    routes.include_router(module.routes)
