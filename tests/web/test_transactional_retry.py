"""A request whose SQLite snapshot went stale runs again whole: fresh session, same form, uploads rewound, one write."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Form, UploadFile
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.context import AppContext
from engine.models import Job
from tests.factories import PDF
from web.deps import get_session
from web.routing import TransactionalRoute

AT = datetime(2026, 3, 12, 2, tzinfo=UTC)


def _app(ctx: AppContext, other: sqlite3.Connection, runs: list[Session]) -> FastAPI:
    """An app with one transactional route that loses the race on its first run only."""
    router = APIRouter(route_class=TransactionalRoute)

    @router.post("/upload")
    def upload(file: UploadFile, note: Annotated[str, Form()],
               session: Annotated[Session, Depends(get_session)]) -> dict[str, int]:
        """Read, let another writer commit on the first run, then write what was uploaded."""
        runs.append(session)
        seen = session.scalar(select(func.count()).select_from(Job)) or 0
        if len(runs) == 1:
            at = AT.replace(tzinfo=None).isoformat(" ")
            other.execute("INSERT INTO job (kind, due_at, status, attempts, created_at) "
                          "VALUES ('theirs', ?, 'pending', 0, ?)", (at, at))
        data = file.file.read()
        session.add(Job(kind=f"{note}-{len(data)}", due_at=AT, status="pending"))
        return {"size": len(data), "seen": seen}

    app = FastAPI()
    app.state.ctx = ctx
    app.include_router(router)
    return app


def test_a_request_whose_snapshot_went_stale_runs_again_and_writes_once(
        ctx: AppContext, other: sqlite3.Connection) -> None:
    runs: list[Session] = []
    with TestClient(_app(ctx, other, runs)) as client:
        response = client.post("/upload", data={"note": "ours"}, files={"file": ("a.pdf", PDF, "application/pdf")})
    assert response.status_code == 200, response.text
    # The second run read the other writer's row, and the upload again from its first byte.
    assert response.json() == {"size": len(PDF), "seen": 1}
    assert len(runs) == 2
    assert runs[0] is not runs[1], "each run has its own session"
    with ctx.sessions() as session:
        assert sorted(session.scalars(select(Job.kind))) == [f"ours-{len(PDF)}", "theirs"]
