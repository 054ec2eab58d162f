"""The request path's framework (issue 18): no OpenTelemetry hooks, API routes in the app's own list."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from opentelemetry import trace

from api import tasks
from api.app import create_app
from engine.context import AppContext


@pytest.fixture
def provider_asks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count FastAPI's requests for OpenTelemetry's tracer provider (a configured one, that traces nothing)."""
    asks: list[int] = []

    def get_tracer_provider() -> trace.TracerProvider:
        asks.append(1)
        return trace.NoOpTracerProvider()

    monkeypatch.setattr(trace, "get_tracer_provider", get_tracer_provider)
    return asks


def test_a_request_never_asks_opentelemetry_for_its_provider(ctx: AppContext, provider_asks: list[int]) -> None:
    with TestClient(create_app(ctx)) as client:
        assert client.get("/healthz").status_code == 200
    assert provider_asks == []


def test_a_stock_fastapi_app_does_ask(provider_asks: list[int]) -> None:
    """The control: with FastAPI's defaults, each request looks for a provider (so the test above can fail)."""
    app = FastAPI()

    @app.get("/ping")
    def ping() -> str:
        return "pong"

    with TestClient(app) as client:
        assert client.get("/ping").status_code == 200
    assert provider_asks


def test_the_api_routes_are_the_apps_own_in_the_routers_order(ctx: AppContext) -> None:
    app = create_app(ctx)
    own = [route for route in app.router.routes if isinstance(route, APIRoute)]
    assert all(route in own for route in tasks.routes.routes)  # not behind an included router
    paths = [route.path for route in own]
    assert paths.index("/api/tasks/feed") < paths.index("/api/tasks/{task_id}")  # feed's router comes first


def test_a_known_path_with_another_method_is_refused_with_its_methods(ctx: AppContext) -> None:
    with TestClient(create_app(ctx)) as client:
        response = client.put("/healthz", headers={"X-Request-ID": "req-405"})
    assert response.status_code == 405
    assert response.headers["allow"] == "GET"
    assert response.headers["x-request-id"] == "req-405"
    assert response.json()["type"] == "/api/problems/method-not-allowed"
