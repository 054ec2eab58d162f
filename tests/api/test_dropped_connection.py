"""A database connection the server ended between requests costs the user nothing (PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from engine.context import AppContext
from tests.engine.test_db_connections import terminate_idle

Login = Callable[[str], dict[str, str]]


def test_requests_after_the_server_ended_the_pooled_connections_succeed(
        catalogue: AppContext, client: TestClient, login: Login) -> None:
    if not catalogue.settings.database_url.startswith("postgresql"):
        pytest.skip("the server ending a connection is PostgreSQL's")
    headers = login("dpmptsp_front_office")
    assert client.get("/api/tasks", headers=headers).status_code == 200
    assert terminate_idle(catalogue.settings.database_url) >= 1
    for _ in range(3):  # each request checks a connection out of the pool: every ended one is replaced
        response = client.get("/api/tasks", headers=headers)
        assert response.status_code == 200, response.text
