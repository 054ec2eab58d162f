"""The lean request path answers a route's well-formed requests exactly as FastAPI's handler would, and no others.

The same routes are served two ways: in an app's own route list, where the lean handler answers
first, and included through a router, where FastAPI's handler answers everything. Every request
below must get the same status, body and headers from both.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import fastapi.dependencies.utils
import pytest
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Path, Query, Request
from fastapi.security import OAuth2PasswordBearer
from fastapi.testclient import TestClient
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.context import AppContext
from engine.models import Job
from web.deps import get_session
from web.lean import LeanHandler
from web.routing import TransactionalRoute

AT = datetime(2026, 3, 12, tzinfo=UTC)
bearer = OAuth2PasswordBearer(tokenUrl="/token", auto_error=False)


async def caller(request: Request, token: Annotated[str | None, Depends(bearer)]) -> str:
    """Return the bearer token's user; 401 without one (a dependency that refuses, as the login check does)."""
    if not token:
        raise HTTPException(401, "log in first", headers={"WWW-Authenticate": "Bearer"})
    return f"{token}@{request.url.path}"


async def deny() -> None:
    """A router-level dependency of the included copy: FastAPI adds it to that copy's handler alone."""
    raise HTTPException(403, "not through this router")


class Item(BaseModel):
    name: str = Field(min_length=1, max_length=10)
    count: int = Field(ge=0)


class ItemRead(BaseModel):
    id: int
    name: str
    count: int
    q: int | None = None
    user: str
    flag: bool | None = None
    tag: str | None = None


def _router() -> APIRouter:
    router = APIRouter(route_class=TransactionalRoute)

    @router.post("/items/{item_id}", response_model=ItemRead, status_code=201)
    def put(item_id: Annotated[int, Path(ge=1, le=100)], body: Item, user: Annotated[str, Depends(caller)],
            session: Annotated[Session, Depends(get_session)],
            q: Annotated[int | None, Query(ge=0)] = None, flag: bool | None = None,
            tag: Annotated[str | None, Query(max_length=3)] = None) -> ItemRead:
        session.add(Job(kind=body.name, due_at=AT, status="pending"))
        return ItemRead(id=item_id, name=body.name, count=body.count, q=q, user=user, flag=flag, tag=tag)

    @router.get("/tags", response_model=list[str])
    def tags(user: Annotated[str, Depends(caller)], tag: Annotated[list[str], Query(max_length=3)]) -> Any:
        return [*tag, user]  # a list parameter: read by FastAPI's own function

    @router.get("/items", response_model=list[ItemRead])
    def listing(user: Annotated[str, Depends(caller)], limit: Annotated[int, Query(ge=1, le=5)] = 2) -> Any:
        return [{"id": i + 1, "name": "n", "count": i, "user": user} for i in range(limit)]  # validated as FastAPI does

    @router.get("/broken", response_model=ItemRead)
    def broken(session: Annotated[Session, Depends(get_session)]) -> Any:
        session.add(Job(kind="broken", due_at=AT, status="pending"))
        return {"id": 1}  # fails the response model: FastAPI answers 500, and nothing is written

    return router


ROUTER = _router()
TOKEN = {"Authorization": "Bearer ana"}
JSON = {"Content-Type": "application/json"}
REQUESTS: list[tuple[str, str, dict[str, str], bytes | None]] = [
    ("POST", "/items/7", TOKEN | JSON, b'{"name": "pbg", "count": 2}'),
    ("POST", "/items/7?q=3", TOKEN | {"Content-Type": "application/json; charset=utf-8"}, b'{"name": "a", "count": 0}'),
    ("POST", "/items/0", TOKEN | JSON, b'{"name": "pbg", "count": 2}'),
    ("POST", "/items/abc", TOKEN | JSON, b'{"name": "pbg", "count": 2}'),
    ("POST", "/items/7?q=-1", TOKEN | JSON, b'{"name": "pbg", "count": 2}'),
    ("POST", "/items/7?q=x", TOKEN | JSON, b'{"name": "pbg", "count": 2}'),
    ("POST", "/items/7", TOKEN | JSON, b'{"name": "", "count": -1}'),
    ("POST", "/items/7", TOKEN | JSON, b'{"count": 2}'),
    ("POST", "/items/7", TOKEN | JSON, b'{"name": "pbg", '),
    ("POST", "/items/7", TOKEN | JSON, b"[1, 2]"),
    ("POST", "/items/7", TOKEN | JSON, b""),
    ("POST", "/items/7", TOKEN | JSON, b"\xff\xfe"),
    ("POST", "/items/7", TOKEN | {"Content-Type": "text/plain"}, b'{"name": "pbg", "count": 2}'),
    ("POST", "/items/7", TOKEN | {"Content-Type": "application/merge-patch+json"}, b'{"name": "pbg", "count": 2}'),
    ("POST", "/items/7", TOKEN, b'{"name": "pbg", "count": 2}'),
    ("POST", "/items/7", JSON, b'{"name": "pbg", "count": 2}'),
    ("POST", "/items/7", JSON, b'{"name": ""}'),
    ("POST", "/items/7", JSON, b'{"name": '),
    ("POST", "/items/7?flag=yes&tag=abc", TOKEN | JSON, b'{"name": "pbg", "count": 2}'),
    ("POST", "/items/7?flag=maybe", TOKEN | JSON, b'{"name": "pbg", "count": 2}'),
    ("POST", "/items/7?tag=abcd&q=1", TOKEN | JSON, b'{"name": "pbg", "count": 2}'),
    ("POST", "/items/7?q=1&q=2&q=", TOKEN | JSON, b'{"name": "pbg", "count": 2}'),
    ("GET", "/items?limit=3", TOKEN, None),
    ("GET", "/items?limit=", TOKEN, None),
    ("GET", "/items?limit=2&limit=4", TOKEN, None),
    ("GET", "/tags?tag=a&tag=bc", TOKEN, None),
    ("GET", "/tags?tag=abcd", TOKEN, None),
    ("GET", "/tags", TOKEN, None),
    ("GET", "/items?limit=9", TOKEN, None),
    ("GET", "/items", {}, None),
]


def _apps(ctx: AppContext) -> tuple[FastAPI, FastAPI]:
    lean, stock = FastAPI(), FastAPI()
    lean.state.ctx = stock.state.ctx = ctx
    lean.router.routes.extend(ROUTER.routes)  # the routes' own handlers, as api.app serves the JSON API
    stock.include_router(ROUTER)  # a handler FastAPI builds for the inclusion
    return lean, stock


def _answer(client: TestClient, method: str, url: str, headers: dict[str, str], body: bytes | None) -> tuple[Any, ...]:
    response = client.request(method, url, headers=headers, content=body)
    kept = {name: response.headers.get(name) for name in ("content-type", "www-authenticate", "content-length")}
    return response.status_code, response.content, kept


@pytest.mark.parametrize(("method", "url", "headers", "body"), REQUESTS)
def test_the_lean_path_answers_as_fastapi_does(ctx: AppContext, method: str, url: str, headers: dict[str, str],
                                               body: bytes | None) -> None:
    lean, stock = _apps(ctx)
    with TestClient(lean) as on_lean, TestClient(stock) as on_stock:
        assert _answer(on_lean, method, url, headers, body) == _answer(on_stock, method, url, headers, body)


def test_the_lean_path_skips_fastapis_dependency_solver_for_a_well_formed_request_only(
        ctx: AppContext, monkeypatch: pytest.MonkeyPatch) -> None:
    solved: list[str] = []
    real = fastapi.dependencies.utils.solve_dependencies

    async def counted(**kwargs: Any) -> Any:
        solved.append(kwargs["request"].url.path)
        return await real(**kwargs)

    monkeypatch.setattr("fastapi.routing.solve_dependencies", counted)  # a spy: it calls the real solver
    lean, stock = _apps(ctx)
    with TestClient(lean) as on_lean, TestClient(stock) as on_stock:
        assert on_lean.post("/items/7", headers=TOKEN, json={"name": "pbg", "count": 2}).status_code == 201
        assert on_lean.get("/items?limit=3", headers=TOKEN).status_code == 200
        assert solved == []
        assert on_lean.post("/items/0", headers=TOKEN, json={"name": "pbg", "count": 2}).status_code == 422
        assert on_lean.post("/items/7", headers=TOKEN, content=b"{").status_code == 422
        assert solved == ["/items/0", "/items/7"]  # declined, then answered by FastAPI
        assert on_stock.post("/items/7", headers=TOKEN, json={"name": "pbg", "count": 2}).status_code == 201
        assert solved[-1] == "/items/7"
    with ctx.sessions() as session:
        assert sorted(session.scalars(select(Job.kind))) == ["pbg", "pbg"]  # each valid request wrote once


def test_an_answer_that_fails_the_response_model_writes_nothing_on_either_path(ctx: AppContext) -> None:
    lean, stock = _apps(ctx)
    with TestClient(lean, raise_server_exceptions=False) as on_lean, \
            TestClient(stock, raise_server_exceptions=False) as on_stock:
        assert on_lean.get("/broken").status_code == 500
        assert on_stock.get("/broken").status_code == 500
    with ctx.sessions() as session:
        assert list(session.scalars(select(Job.kind))) == []


def test_a_router_that_adds_a_dependency_is_served_by_fastapis_handler(ctx: AppContext) -> None:
    app = FastAPI()
    app.state.ctx = ctx
    app.include_router(ROUTER, dependencies=[Depends(deny)])
    with TestClient(app) as client:
        refused = client.post("/items/7", headers=TOKEN, json={"name": "pbg", "count": 2})
    assert refused.status_code == 403, refused.text


def test_a_dependency_override_is_honoured() -> None:
    class Provider:
        dependency_overrides: dict[Any, Any] = {}

    router = APIRouter(route_class=TransactionalRoute, dependency_overrides_provider=Provider())
    app = FastAPI()

    @router.get("/who", response_model=dict[str, str])
    def who(user: Annotated[str, Depends(caller)]) -> Any:
        return {"user": user}

    async def nobody() -> str:
        return "nobody"

    app.router.routes.extend(router.routes)
    with TestClient(app) as client:
        assert client.get("/who", headers=TOKEN).json() == {"user": "ana@/who"}
        Provider.dependency_overrides[caller] = nobody
        assert client.get("/who").json() == {"user": "nobody"}


def test_the_apis_busiest_routes_take_the_lean_path(ctx: AppContext) -> None:
    from api.app import create_app

    app = create_app(ctx)
    lean = {(method, route.path) for route in app.router.routes if isinstance(route, TransactionalRoute)
            for method in route.methods or () if LeanHandler.of(route) is not None}
    assert {("POST", "/api/cases"), ("POST", "/api/tasks/{task_id}/complete"), ("GET", "/api/tasks"),
            ("GET", "/api/cases/{case_id}"), ("POST", "/api/tasks/{task_id}/claim")} <= lean
    assert ("POST", "/api/files") not in lean  # a form: FastAPI's handler reads it
