"""The hot API routes solve a small dependency tree, and the login check reads in the request's own session.

FastAPI solves every node of a route's dependency tree on each request, on the event loop, a
cached node too; the dependencies every API request resolves therefore read the context and the
session from the request (issue 18: a task completion's tree 10 nodes, now 4).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from fastapi.dependencies.models import Dependant
from starlette.requests import Request

from api import deps as api_deps
from api.app import create_app
from api.errors import ApiError
from api.security import create_token
from engine.context import AppContext
from tests.api.routes import api_routes
from web import deps
from web.routing import SESSION

pytestmark = pytest.mark.postgres

# (method, path): the nodes of its tree: the login check, the bearer scheme, the session, the runtime.
HOT = {("POST", "/api/tasks/{task_id}/complete"): 4, ("POST", "/api/tasks/{task_id}/claim"): 4,
       ("GET", "/api/tasks"): 4, ("POST", "/api/files"): 4, ("POST", "/api/cases"): 4}


def _nodes(dependant: Dependant) -> int:
    return sum(1 + _nodes(sub) for sub in dependant.dependencies)


def test_the_hot_routes_solve_four_nodes(ctx: AppContext) -> None:
    routes = {(method, r.path): r for r in api_routes(create_app(ctx).routes) for method in r.methods}
    assert {key: _nodes(routes[key].dependant) for key in HOT} == HOT


def _request(ctx: AppContext, token: str | None) -> Request:
    headers = [(b"authorization", f"Bearer {token}".encode())] if token else []
    return Request({"type": "http", "method": "GET", "path": "/", "headers": headers, "app": create_app(ctx)})


def test_the_login_check_reads_in_the_request_session(ctx: AppContext) -> None:
    secret = ctx.settings.secret_key.get_secret_value()
    token = create_token(user_id=1, epoch=0, secret=secret, minutes=5, now=datetime.now(UTC))
    request = _request(ctx, token)

    async def solve() -> None:
        check = await api_deps.current_actor(request, token)
        session = await deps.get_session(request)
        assert check.session is session is request.scope[SESSION]  # one session: one transaction per request
        optional = await api_deps.optional_actor(request, token)
        assert optional is not None
        assert optional.session is session
        assert await deps.get_runtime(request) is ctx.rt

    try:
        asyncio.run(solve())
    finally:
        request.scope[SESSION].close()


def test_the_login_check_refuses_a_missing_or_bad_token(ctx: AppContext) -> None:
    request = _request(ctx, None)
    assert asyncio.run(api_deps.optional_actor(request, None)) is None
    assert SESSION not in request.scope  # no token: no session opened for it
    for token in (None, "not-a-token"):
        with pytest.raises(ApiError) as refused:
            asyncio.run(api_deps.current_actor(request, token))
        assert refused.value.code == "unauthenticated"
    assert SESSION not in request.scope  # nor for a refused one
