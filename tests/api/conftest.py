"""API fixtures: the real app on a real database, driven through HTTP with FastAPI's test client."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.bootstrap import DEMO_PASSWORD
from engine.context import AppContext
from tests.conftest import fast_hasher


@pytest.fixture
def catalogue(ctx: AppContext) -> AppContext:
    """The context with the catalogue deployed and the demo accounts created (as `make run` does).

    The deployment happens once per session in a template database (tests/conftest.py); a test
    that asks for this fixture gets its own copy of that template from `db_url`, so `ctx` is built on it.
    """
    return ctx


@pytest.fixture
def client(catalogue: AppContext) -> Iterator[TestClient]:
    with TestClient(create_app(catalogue), raise_server_exceptions=False) as test_client:
        yield test_client


def logins(client: TestClient | httpx.Client) -> Callable[[str], dict[str, str]]:
    """Return a function that logs a demo user in through `client` (once) and gives the Authorization header."""
    tokens: dict[str, dict[str, str]] = {}

    def headers(username: str) -> dict[str, str]:
        if username not in tokens:
            response = client.post("/api/auth/token", data={"username": username, "password": DEMO_PASSWORD})
            assert response.status_code == 200, response.text
            tokens[username] = {"Authorization": f"Bearer {response.json()['access_token']}"}
        return tokens[username]

    return headers


@pytest.fixture
def login(client: TestClient) -> Callable[[str], dict[str, str]]:
    """Return a function that logs a demo user in and gives the Authorization header."""
    return logins(client)


@pytest.fixture(autouse=True)
def fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hash passwords with the cheapest argon2id parameters, so each test's demo accounts cost milliseconds.

    The same parameters seeded the template's accounts and verify logins, so no login triggers a rehash.
    """
    from api import bootstrap
    from engine.directory import accounts as accounts

    fast = fast_hasher()
    monkeypatch.setattr(bootstrap, "PasswordHasher", lambda: fast)
    monkeypatch.setattr(accounts, "_hasher", fast)
    monkeypatch.setattr(accounts, "_DUMMY_HASH", fast.hash("not a real password"))
