"""Login throttling over HTTP: it slows a password guesser down without locking the owner out.

Failed logins of one username at one client back off (5 free, then a doubling wait); one client
is capped across usernames; a success clears the username's failures at that client. In
production, partner systems and scripts log in with one account again and again, and a load
test's clients share officer accounts: successful logins never count.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from api.app import create_app
from engine.context import AppContext
from engine.db import transaction
from engine.directory.service import create_user
from tests.conftest import fast_hasher
from web.ratelimit import LOGIN_PER_CLIENT

pytestmark = pytest.mark.postgres

PASSWORD = "benar-sekali-2026"
OWNER, ATTACKER = "198.51.100.10", "203.0.113.66"


@pytest.fixture
def app_ctx(ctx: AppContext, monkeypatch: pytest.MonkeyPatch) -> AppContext:
    from engine.directory import accounts as accounts

    fast = fast_hasher()
    monkeypatch.setattr(accounts, "_hasher", fast)
    monkeypatch.setattr(accounts, "_DUMMY_HASH", fast.hash("not a real password"))
    with transaction(ctx.sessions) as session:
        create_user(session, username="sistem_mitra", platform_role="officer", password_hash=fast.hash(PASSWORD))
    return ctx


@pytest.fixture
def client(app_ctx: AppContext) -> Iterator[TestClient]:
    with TestClient(create_app(app_ctx), client=(OWNER, 50000), raise_server_exceptions=False) as test_client:
        yield test_client


def at(client: TestClient, address: str) -> TestClient:
    return TestClient(client.app, client=(address, 50000), raise_server_exceptions=False)


def _login(client: TestClient, password: str = PASSWORD, username: str = "sistem_mitra") -> int:
    return client.post("/api/auth/token", data={"username": username, "password": password}).status_code


def test_successful_logins_are_not_rate_limited(client: TestClient) -> None:
    assert [_login(client) for _ in range(LOGIN_PER_CLIENT.limit + 10)] == [200] * (LOGIN_PER_CLIENT.limit + 10)


def test_after_five_failures_the_username_waits_at_that_client(client: TestClient) -> None:
    assert [_login(client, "salah-sandi") for _ in range(5)] == [401] * 5
    refused = client.post("/api/auth/token", data={"username": "sistem_mitra", "password": PASSWORD})
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["retry-after"]) <= 2
    assert "access_token" not in refused.text


def test_a_failure_storm_from_one_client_does_not_lock_the_owner_out(client: TestClient) -> None:
    attacker = at(client, ATTACKER)
    statuses = [_login(attacker, f"tebakan-{i}") for i in range(40)]
    assert statuses[:5] == [401] * 5
    assert set(statuses[5:]) == {429}
    assert _login(client) == 200
    assert _login(attacker) == 429  # the attacker's own wait is not lifted by the owner's success


def test_a_success_clears_the_failures_at_that_client(client: TestClient) -> None:
    assert [_login(client, "salah-sandi") for _ in range(4)] == [401] * 4
    assert _login(client) == 200
    assert [_login(client, "salah-sandi") for _ in range(5)] == [401] * 5
    assert _login(client, "salah-sandi") == 429


def test_one_client_is_capped_across_usernames(client: TestClient) -> None:
    attacker = at(client, ATTACKER)
    sprayed = [_login(attacker, "sandi-umum-1", f"pengguna_{i}") for i in range(LOGIN_PER_CLIENT.limit)]
    assert sprayed == [401] * LOGIN_PER_CLIENT.limit
    assert _login(attacker, PASSWORD) == 429
    assert _login(client) == 200


def test_the_login_page_throttles_the_same_way(client: TestClient) -> None:
    def post(password: str) -> Response:
        token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/masuk").text)
        assert token
        return client.post("/masuk", data={"username": "sistem_mitra", "password": password,
                                           "csrf_token": token.group(1)}, follow_redirects=False)

    assert [post("salah-sandi").status_code for _ in range(5)] == [401] * 5
    refused = post(PASSWORD)
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["retry-after"]) <= 2
    assert "Terlalu banyak percobaan gagal" in refused.text
    assert "mpp_session" not in refused.cookies
    assert _login(at(client, "192.0.2.50")) == 200
