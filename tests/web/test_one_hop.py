"""A plain endpoint ends its request in its own thread: its answer serialized as FastAPI would, then committed.

An answer of exactly the response model is dumped as it is; any other answer is validated against
the route's response field first, in the same thread, so an answer that fails that check raises
there and writes nothing. Each test runs on both ways a route is served: included through a router
(FastAPI's handler) and as the app's own route (the lean path first, web/lean.py).
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Annotated, Any

import pytest
from fastapi import APIRouter, Depends, FastAPI, Response
from fastapi.testclient import TestClient
from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.context import AppContext
from engine.models import Job
from web.deps import get_session
from web.routing import TransactionalRoute, in_thread

pytestmark = pytest.mark.postgres

AT = datetime(2026, 3, 12, 2, tzinfo=UTC)
SessionDep = Annotated[Session, Depends(get_session)]
TRACE: ContextVar[str] = ContextVar("test_trace", default="unset")


async def _trace() -> None:
    """An async dependency that sets a context variable on the event loop, as the request id is set."""
    TRACE.set("from-dependency")


class JobRead(BaseModel):
    kind: str = Field(serialization_alias="jenis")
    note: str | None = None
    seen: int


def _stamp(response: Response) -> None:
    response.headers["X-Stamp"] = "stamped"


def _app(ctx: AppContext, own: bool, runs: list[Session], other: sqlite3.Connection | None = None) -> FastAPI:
    router = APIRouter(route_class=TransactionalRoute)

    def write(session: Session, kind: str) -> int:
        runs.append(session)
        seen = session.scalar(select(func.count()).select_from(Job)) or 0
        if other is not None and len(runs) == 1:  # another writer commits after this request's snapshot
            at = AT.replace(tzinfo=None).isoformat(" ")
            other.execute("INSERT INTO job (kind, due_at, status, attempts, created_at) "
                          "VALUES ('theirs', ?, 'pending', 0, ?)", (at, at))
        session.add(Job(kind=kind, due_at=AT, status="pending"))
        return seen

    @router.post("/model", response_model=JobRead, status_code=201, response_model_exclude_none=True)
    def model(session: SessionDep) -> JobRead:
        return JobRead(kind="model", seen=write(session, "model"))

    @router.post("/wrong", response_model=JobRead)
    def wrong(session: SessionDep) -> Any:
        write(session, "wrong")
        return {"kind": "wrong"}  # no `seen`: FastAPI's check of the answer fails

    @router.post("/stamped", response_model=JobRead, dependencies=[Depends(_stamp)])
    def stamped(session: SessionDep) -> JobRead:
        return JobRead(kind="stamped", note="n", seen=write(session, "stamped"))

    @router.post("/traced", response_model=JobRead, dependencies=[Depends(_trace)])
    def traced(session: SessionDep) -> JobRead:
        return JobRead(kind=TRACE.get(), seen=write(session, TRACE.get()))

    @router.post("/raises")
    def raises(session: SessionDep) -> None:
        write(session, "raises")
        raise RuntimeError("after the write")

    app = FastAPI()
    app.state.ctx = ctx
    if own:  # the routes' own handlers, with the lean path, as api.app serves the JSON API
        app.router.routes.extend(router.routes)
    else:
        app.include_router(router)
    return app


@pytest.fixture(params=[False, True], ids=["included", "own-routes"])
def own(request: pytest.FixtureRequest) -> bool:
    """Serve the routes included through a router (FastAPI's handler) or as the app's own (the lean path first)."""
    return bool(request.param)


def _kinds(ctx: AppContext) -> list[str]:
    with ctx.sessions() as session:
        return sorted(session.scalars(select(Job.kind)))


def test_a_model_answer_is_serialized_with_the_routes_options_and_committed(ctx: AppContext, own: bool) -> None:
    runs: list[Session] = []
    with TestClient(_app(ctx, own, runs)) as client:
        response = client.post("/model")
    assert response.status_code == 201
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"jenis": "model", "seen": 0}  # by alias, the None left out as the route asks
    assert _kinds(ctx) == ["model"]


def test_an_answer_that_fails_fastapis_check_writes_nothing(ctx: AppContext, own: bool) -> None:
    runs: list[Session] = []
    with TestClient(_app(ctx, own, runs), raise_server_exceptions=False) as client:
        response = client.post("/wrong")
    assert response.status_code == 500
    assert _kinds(ctx) == []


def test_a_header_a_dependency_sets_reaches_the_client(ctx: AppContext, own: bool) -> None:
    runs: list[Session] = []
    with TestClient(_app(ctx, own, runs)) as client:
        response = client.post("/stamped")
    assert response.status_code == 200
    assert response.headers["x-stamp"] == "stamped"
    assert response.json() == {"jenis": "stamped", "note": "n", "seen": 0}
    assert _kinds(ctx) == ["stamped"]


def test_a_commit_that_fails_in_the_endpoints_thread_runs_the_request_again(
        ctx: AppContext, own: bool, other: sqlite3.Connection) -> None:
    runs: list[Session] = []
    with TestClient(_app(ctx, own, runs, other)) as client:
        response = client.post("/model")
    assert response.status_code == 201, response.text
    assert response.json() == {"jenis": "model", "seen": 1}  # the second run saw the other writer's row
    assert len(runs) == 2
    assert _kinds(ctx) == ["model", "theirs"]


def test_the_endpoints_thread_sees_what_a_dependency_set_in_the_requests_context(ctx: AppContext, own: bool) -> None:
    runs: list[Session] = []
    with TestClient(_app(ctx, own, runs)) as client:
        response = client.post("/traced")
    assert response.status_code == 200, response.text
    assert response.json() == {"jenis": "from-dependency", "note": None, "seen": 0}
    assert _kinds(ctx) == ["from-dependency"]
    assert TRACE.get() == "unset"  # the request's context was a copy


def test_an_endpoint_that_raises_after_writing_writes_nothing(ctx: AppContext, own: bool) -> None:
    runs: list[Session] = []
    with TestClient(_app(ctx, own, runs), raise_server_exceptions=False) as client:
        response = client.post("/raises")
    assert response.status_code == 500
    assert len(runs) == 1
    assert _kinds(ctx) == []


def test_a_cancelled_caller_waits_for_the_thread_then_is_cancelled() -> None:
    """Cancelling a request does not abandon its endpoint halfway: the thread's work ends first (its commit)."""
    started, release = threading.Event(), threading.Event()
    ended: list[str] = []

    def work() -> str:
        started.set()
        release.wait()
        ended.append("committed")
        return "answer"

    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        task = asyncio.create_task(in_thread(work))
        await loop.run_in_executor(None, started.wait)
        task.cancel()
        for _ in range(20):
            await asyncio.sleep(0)
        assert not task.done()  # still waiting for the thread, which is blocked
        assert ended == []
        release.set()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert ended == ["committed"]

    asyncio.run(scenario())


def test_in_thread_returns_the_calls_answer_and_raises_its_error() -> None:
    def fails() -> None:
        raise LookupError("from the thread")

    async def scenario() -> None:
        assert await in_thread(lambda: threading.current_thread().name) != threading.current_thread().name
        with pytest.raises(LookupError, match="from the thread"):
            await in_thread(fails)

    asyncio.run(scenario())



def _at_once(calls: int, threads: int) -> int:
    """Hand `calls` blocking calls to `in_thread` together; return how many ran at once before any was let go.

    The calls are held until `threads` of them run, and then for half a second more in which the others could
    start too, if there were threads for them."""
    seen = threading.Condition()
    running = [0]
    release = threading.Event()

    def work() -> None:
        with seen:
            running[0] += 1
            seen.notify_all()
        release.wait(timeout=60)  # longer than `settle` waits: no call ends before it counted

    def settle() -> int:
        with seen:
            seen.wait_for(lambda: running[0] >= threads, timeout=10)
            seen.wait_for(lambda: running[0] >= calls, timeout=0.5)
            return running[0]

    async def scenario() -> int:
        tasks = [asyncio.create_task(in_thread(work)) for _ in range(calls)]
        await asyncio.sleep(0)  # every task runs up to its hand-over
        try:
            return await asyncio.get_running_loop().run_in_executor(None, settle)
        finally:
            release.set()
            await asyncio.gather(*tasks)

    return asyncio.run(scenario())


@pytest.mark.parametrize("threads", [1, 2, 4])
def test_an_app_runs_as_many_routes_at_once_as_its_request_threads(ctx: AppContext, threads: int) -> None:
    """MPP_REQUEST_THREADS bounds the requests of a process that run their routes at once; the rest wait their turn."""
    from dataclasses import replace

    from api.app import create_app

    create_app(replace(ctx, settings=ctx.settings.model_copy(update={"request_threads": threads})))
    try:
        assert _at_once(6, threads) == threads
    finally:
        create_app(ctx)  # back to the default for the tests that follow
    assert _at_once(6, 2) == ctx.settings.request_threads == 2
