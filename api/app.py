"""Assemble the ASGI app: health checks and a start page (the API and UIs grow here)."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from html import escape

from fastapi import FastAPI
from fastapi.responses import HTMLResponse

from api import auth, cases, directory, errors, metrics, operations, processes, tasks, track
from api.context import AppContext, get_context
from api.logs import RequestLog
from engine import cases as case_service
from engine import registry


def create_app(ctx: AppContext | None = None, *, embedded_worker: bool = False) -> FastAPI:
    """Build the web app on a context; optionally run one job worker inside it."""
    context = ctx or get_context()
    stop = threading.Event()

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        thread = None
        if embedded_worker:
            from engine.jobs import work_forever

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
    for module in (operations, metrics, auth, processes, cases, tasks, track, directory):
        app.include_router(module.routes)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def home() -> str:
        """Show that the platform is up, with the deployed catalogue."""
        with context.sessions() as session:
            versions = registry.latest_versions(session)
            running, open_tasks = case_service.summary(session)
        items = "".join(
            f"<li><strong>{escape(v.service.get('name', {}).get('id', v.key))}</strong> "
            f"({escape(v.key)}, versi {v.version}) — {escape(str(v.service.get('sla_days', '?')))} hari kerja</li>"
            for v in versions)
        return (
            "<!doctype html><html lang='id'><head><meta charset='utf-8'><title>MPP</title></head><body>"
            "<h1>Mal Pelayanan Publik</h1><p>Platform berjalan. / The platform is running.</p>"
            f"<p>Kasus berjalan: {running} · Tugas terbuka: {open_tasks}</p>"
            f"<h2>Katalog layanan</h2><ul>{items}</ul></body></html>")

    return app
