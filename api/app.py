"""Assemble the ASGI app: the JSON API, the staff and public pages, static files, middlewares."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from admin import routes as admin_routes
from api import (
    auth,
    cases,
    connectors,
    dashboard,
    directory,
    documents,
    errors,
    metrics,
    notifications,
    operations,
    payments,
    processes,
    tasks,
    track,
)
from api.logs import RequestLog
from engine import isolation
from engine.context import AppContext, get_context
from portal import routes as portal_routes
from web import pages as web_pages
from web.static_files import mount_static


def create_app(ctx: AppContext | None = None, *, embedded_worker: bool = False) -> FastAPI:
    """Build the web app on a context; optionally run one job worker inside it."""
    context = ctx or get_context()
    stop = threading.Event()

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        thread = None
        if isolation.enabled():  # start the workers that run package code now, not on the first script
            threading.Thread(target=isolation.pool().warm, daemon=True, name="isolation-warm").start()
        if embedded_worker:
            from engine.jobs.service import work_forever

            thread = threading.Thread(target=work_forever, args=(context.sessions,),
                                      kwargs={"rt": context.rt, "stop": stop}, daemon=True, name="mpp-worker")
            thread.start()
        yield
        stop.set()
        if thread is not None:
            thread.join(timeout=5)

    app = FastAPI(title="MPP — Mal Pelayanan Publik", version="0.1.0", lifespan=lifespan,
                  openapi_url="/api/openapi.json", docs_url="/api/docs", redoc_url=None,
                  description="JSON API of the public-service mall platform. Errors are RFC 9457 "
                              "problem+json documents whose `type` is one of /api/problems/{slug}.")
    app.state.ctx = context
    errors.install(app)
    # Pure ASGI middlewares (not BaseHTTPMiddleware): they only watch the response go by, so the
    # transactional route still commits before it leaves. The last added is the outermost.
    app.add_middleware(metrics.HttpMetrics)
    app.add_middleware(RequestLog)
    for module in (operations, metrics, auth, processes, cases, tasks, track, directory, notifications, documents,
                   dashboard, payments, connectors):
        app.include_router(module.routes)
    # The pages: api.app is the composition root; the JSON routes never import the page packages.
    mount_static(app)
    for pages in (web_pages.routes, admin_routes.routes, portal_routes.routes):
        app.include_router(pages)

    return app
