"""Assemble the ASGI app: the JSON API, the staff and public pages, static files, middlewares."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.telemetry import TelemetryConfig

from admin import routes as admin_routes
from api import (
    auth,
    cases,
    complaints,
    connectors,
    dashboard,
    directory,
    documents,
    errors,
    feed,
    files,
    metrics,
    notifications,
    operations,
    payments,
    processes,
    queue,
    skm,
    tasks,
    track,
)
from api.logs import RequestLog
from engine import isolation
from engine.context import AppContext, get_context
from portal import routes as portal_routes
from web import pages as web_pages
from web.routing import TransactionalRoute, use_threads
from web.static_files import OWN, mount_static

# Swagger UI from the npm package swagger-ui-dist (web/static_files.py), never from a CDN: /api/docs works offline.
SWAGGER_JS = "/static/vendor/swagger-ui/swagger-ui-bundle.js"
SWAGGER_CSS = "/static/vendor/swagger-ui/swagger-ui.css"
# FastAPI's own OpenTelemetry hooks, off: the platform exports Prometheus metrics (api/metrics.py) and JSON
# logs (api/logs.py); with the hooks on, each request asked OpenTelemetry for its three providers (~40 us).
NO_TELEMETRY: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False, "operation_spans": False,
                                 "auto_configure": False}


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

            # Beside this process's requests it renders one document at a time (engine.jobs.service.work_forever).
            thread = threading.Thread(target=work_forever, args=(context.sessions,),
                                      kwargs={"rt": context.rt, "stop": stop, "renders": 1},
                                      daemon=True, name="mpp-worker")
            thread.start()
        yield
        stop.set()
        if thread is not None:
            thread.join(timeout=5)

    app = FastAPI(title="MPP — Mal Pelayanan Publik", version="0.1.0", lifespan=lifespan,
                  openapi_url="/api/openapi.json", docs_url=None, redoc_url=None, telemetry=NO_TELEMETRY,
                  description="JSON API of the public-service mall platform. Errors are RFC 9457 "
                              "problem+json documents whose `type` is one of /api/problems/{slug}.")
    app.state.ctx = context
    use_threads(context.settings.request_threads)
    errors.install(app)
    # A pure ASGI middleware (not BaseHTTPMiddleware): it only watches the response go by, so the
    # transactional route still commits before it leaves. It also tells the HTTP metrics how each request ended.
    app.add_middleware(RequestLog, observers=[metrics.observe_request])
    # A request is matched against the routes in this order, one pattern after another: the routers a
    # case's requests use come first. feed before tasks: /api/tasks/feed must not be read as
    # /api/tasks/{task_id}; no other two routers share a pattern.
    for module in (feed, tasks, cases, files, auth, operations, metrics, processes, track, directory, notifications,
                   documents, dashboard, skm, payments, connectors, complaints, queue):
        _add_routes(app, module.routes)
    # The pages: api.app is the composition root; the JSON routes never import the page packages.
    mount_static(app)
    for pages in (web_pages.routes, admin_routes.routes, portal_routes.routes):
        app.include_router(pages)
    _add_docs_and_icon(app)
    return app


def _add_routes(app: FastAPI, router: APIRouter) -> None:
    """Put an API router's routes in the app's own route list, in order, instead of including the router.

    FastAPI keeps an included router whole and, on each request, asks every included router in turn
    whether one of its routes matches, then asks the chosen one again to hand the request over; a
    route in the app's own list is matched once. The routes are the router's own objects, complete
    when the router made them (its tags, problem responses and transactional route class), and the
    app adds nothing to them (no prefix, dependencies or responses of its own): the OpenAPI document
    is the same. A router with more than plain API routes is included as usual. The app's
    `dependency_overrides` do not reach these routes (nothing uses them).
    """
    if router.prefix or router.dependencies or not all(type(route) is TransactionalRoute for route in router.routes):
        app.include_router(router)
        return
    app.router.routes.extend(router.routes)


def _add_docs_and_icon(app: FastAPI) -> None:
    @app.get("/api/docs", include_in_schema=False)
    def api_docs() -> HTMLResponse:
        """Browse the OpenAPI document with Swagger UI served by the platform itself."""
        # validatorUrl off: Swagger UI would otherwise send the document to validator.swagger.io.
        page = get_swagger_ui_html(openapi_url="/api/openapi.json", title=f"{app.title} — API",
                                   swagger_js_url=SWAGGER_JS, swagger_css_url=SWAGGER_CSS,
                                   swagger_favicon_url="/favicon.ico", oauth2_redirect_url=None,
                                   swagger_ui_parameters={"validatorUrl": None})
        return HTMLResponse(bytes(page.body).decode().replace("<html>", '<html lang="en">', 1))

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> FileResponse:
        """Answer the browsers' default icon request."""
        return FileResponse(OWN / "favicon.ico", media_type="image/x-icon",
                            headers={"Cache-Control": "public, max-age=86400"})
