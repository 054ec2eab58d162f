"""The login limit counts failed logins only (docs/api.md: "Ten failed logins per minute for one
username are refused with 429").

In production, partner systems and scripts log in with one account again and again, and a load
test's clients share officer accounts: successful logins must not lock an account out.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from engine.context import build_context
from engine.db import transaction
from engine.directory.service import create_user
from engine.settings import Settings
from web.ratelimit import login_limiter

PASSWORD = "benar-sekali-2026"


@pytest.fixture
def client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    from argon2 import PasswordHasher

    from engine.directory import accounts as accounts

    fast = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    monkeypatch.setattr(accounts, "_hasher", fast)
    monkeypatch.setattr(accounts, "_DUMMY_HASH", fast.hash("not a real password"))
    ctx = build_context(Settings(database_url=f"sqlite:///{tmp_path / 'login.db'}", secret_key="k" * 40,
                                 files_dir=tmp_path / "files", outbox_dir=tmp_path / "outbox"))
    with transaction(ctx.sessions) as session:
        create_user(session, username="sistem_mitra", platform_role="officer", password_hash=fast.hash(PASSWORD))
    login_limiter.reset()
    with TestClient(create_app(ctx), raise_server_exceptions=False) as test_client:
        yield test_client
    login_limiter.reset()
    ctx.engine.dispose()


def _login(client: TestClient, password: str = PASSWORD) -> int:
    return client.post("/api/auth/token", data={"username": "sistem_mitra", "password": password}).status_code


def test_successful_logins_are_not_rate_limited(client: TestClient) -> None:
    assert [_login(client) for _ in range(15)] == [200] * 15


def test_failed_logins_are_still_limited_after_successful_ones(client: TestClient) -> None:
    assert _login(client) == 200
    assert [_login(client, "salah-sandi") for _ in range(10)] == [401] * 10
    assert _login(client) == 429
