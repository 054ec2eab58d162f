"""Authentication over HTTP: the token endpoint, bearer tokens, /api/me and the login rate limit."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from httpx import Response

from api.bootstrap import DEMO_PASSWORD
from api.security import create_token
from engine.context import AppContext

Login = Callable[[str], dict[str, str]]
PROBLEM = "application/problem+json"


def token_response(client: TestClient, username: str, password: str = DEMO_PASSWORD) -> Response:
    return client.post("/api/auth/token", data={"username": username, "password": password})


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def user_id(client: TestClient, login: Login, username: str) -> int:
    users = client.get("/api/users", params={"limit": 500}, headers=login("admin")).json()
    return next(u["id"] for u in users if u["username"] == username)


def assert_unauthenticated(response: Response) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == PROBLEM
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["type"] == "/api/problems/unauthenticated"


def test_token_has_the_oauth2_shape_and_works(client: TestClient, catalogue: AppContext) -> None:
    response = token_response(client, "warga")
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in"}
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == catalogue.settings.token_minutes * 60
    assert body["expires_in"] > 0
    me = client.get("/api/me", headers=bearer(body["access_token"]))
    assert me.status_code == 200, me.text
    assert me.json()["username"] == "warga"


def test_token_needs_form_fields(client: TestClient) -> None:
    response = client.post("/api/auth/token", json={"username": "warga", "password": DEMO_PASSWORD})
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["type"] == "/api/problems/validation"


def test_wrong_password_and_unknown_user_look_the_same(client: TestClient) -> None:
    wrong = token_response(client, "warga", "not-the-password")
    unknown = token_response(client, "nobody_here", "not-the-password")
    assert_unauthenticated(wrong)
    assert_unauthenticated(unknown)
    assert wrong.json() == unknown.json()
    assert "access_token" not in wrong.text


def test_inactive_user_is_refused_and_their_tokens_stop_working(client: TestClient, login: Login) -> None:
    old_headers = login("warga")
    assert client.get("/api/me", headers=old_headers).status_code == 200
    uid = user_id(client, login, "warga")
    patched = client.patch(f"/api/users/{uid}", json={"active": False}, headers=login("admin"))
    assert patched.status_code == 200, patched.text
    assert patched.json()["active"] is False
    refused = token_response(client, "warga")
    assert_unauthenticated(refused)
    assert refused.json() == token_response(client, "nobody_here").json()
    assert_unauthenticated(client.get("/api/me", headers=old_headers))
    reactivated = client.patch(f"/api/users/{uid}", json={"active": True}, headers=login("admin"))
    assert reactivated.status_code == 200
    assert token_response(client, "warga").status_code == 200
    # Deactivation ended the old token for good: reactivating the account does not revive it.
    assert_unauthenticated(client.get("/api/me", headers=old_headers))


def test_a_password_change_ends_the_accounts_tokens_and_no_one_elses(client: TestClient, login: Login) -> None:
    warga, analis = login("warga"), login("analis")
    uid = user_id(client, login, "warga")
    changed = client.patch(f"/api/users/{uid}", json={"password": "sandi-baru-2026"}, headers=login("admin"))
    assert changed.status_code == 200, changed.text
    assert_unauthenticated(client.get("/api/me", headers=warga))
    assert client.get("/api/me", headers=analis).status_code == 200
    assert client.get("/api/me", headers=login("admin")).status_code == 200
    fresh = token_response(client, "warga", "sandi-baru-2026")
    assert client.get("/api/me", headers=bearer(fresh.json()["access_token"])).status_code == 200


def test_a_change_of_name_keeps_the_accounts_tokens(client: TestClient, login: Login) -> None:
    warga = login("warga")
    uid = user_id(client, login, "warga")
    renamed = client.patch(f"/api/users/{uid}", json={"display_name": "Budi S."}, headers=login("admin"))
    assert renamed.status_code == 200
    assert client.get("/api/me", headers=warga).json()["display_name"] == "Budi S."


def test_a_token_of_another_epoch_is_refused(client: TestClient, catalogue: AppContext, login: Login) -> None:
    uid = user_id(client, login, "warga")
    secret = catalogue.settings.secret_key.get_secret_value()
    current = create_token(user_id=uid, epoch=0, secret=secret, minutes=5, now=datetime.now(UTC))
    assert client.get("/api/me", headers=bearer(current)).status_code == 200
    ahead = create_token(user_id=uid, epoch=1, secret=secret, minutes=5, now=datetime.now(UTC))
    assert_unauthenticated(client.get("/api/me", headers=bearer(ahead)))


def test_tampered_and_garbage_tokens_are_refused(client: TestClient, catalogue: AppContext) -> None:
    good = token_response(client, "warga").json()["access_token"]
    header, payload, signature = good.split(".")
    flipped = signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB")
    forged_payload = payload[:-1] + ("A" if payload[-1] != "A" else "B")
    wrong_secret = create_token(user_id=1, epoch=0, secret="x" * 40, minutes=60, now=datetime.now(UTC))
    for token in (f"{header}.{payload}.{flipped}", f"{header}.{forged_payload}.{signature}", "garbage",
                  "a.b.c", wrong_secret, ""):
        response = client.get("/api/me", headers=bearer(token))
        assert_unauthenticated(response)
    assert client.get("/api/me", headers=bearer(good)).status_code == 200


def test_expired_token_is_refused(client: TestClient, catalogue: AppContext, login: Login) -> None:
    uid = user_id(client, login, "warga")
    secret = catalogue.settings.secret_key.get_secret_value()
    expired = create_token(user_id=uid, epoch=0, secret=secret, minutes=1, now=datetime.now(UTC) - timedelta(days=2))
    assert_unauthenticated(client.get("/api/me", headers=bearer(expired)))
    fresh = create_token(user_id=uid, epoch=0, secret=secret, minutes=1, now=datetime.now(UTC))
    assert client.get("/api/me", headers=bearer(fresh)).status_code == 200


def test_token_of_a_deleted_or_unknown_user_is_refused(client: TestClient, catalogue: AppContext) -> None:
    secret = catalogue.settings.secret_key.get_secret_value()
    ghost = create_token(user_id=987_654, epoch=0, secret=secret, minutes=5, now=datetime.now(UTC))
    assert_unauthenticated(client.get("/api/me", headers=bearer(ghost)))


def test_me_needs_a_token(client: TestClient) -> None:
    assert_unauthenticated(client.get("/api/me"))


def test_me_shows_account_and_memberships(client: TestClient, login: Login) -> None:
    officer = client.get("/api/me", headers=login("dpmptsp_front_office"))
    assert officer.status_code == 200, officer.text
    body = officer.json()
    assert body["username"] == "dpmptsp_front_office"
    assert body["platform_role"] == "officer"
    assert body["memberships"] == [{"role": "dpmptsp.front_office", "organisation": "dpmptsp"}]
    assert "password" not in officer.text
    assert "hash" not in officer.text
    firm = client.get("/api/me", headers=login("konsultan_griya_perencana")).json()
    assert firm["memberships"] == [{"role": "konsultan.perencana", "organisation": "konsultan_griya"}]
    applicant = client.get("/api/me", headers=login("warga")).json()
    assert (applicant["platform_role"], applicant["memberships"]) == ("applicant", [])


def test_me_reflects_a_new_membership_at_once(client: TestClient, login: Login) -> None:
    headers = login("pupr_tpa")
    uid = user_id(client, login, "pupr_tpa")
    granted = client.post(f"/api/users/{uid}/memberships", json={"role_key": "pupr.teknis"}, headers=login("admin"))
    assert granted.status_code == 201, granted.text
    roles = {m["role"] for m in client.get("/api/me", headers=headers).json()["memberships"]}
    assert roles == {"pupr.tpa", "pupr.teknis"}


def test_failed_logins_back_off_the_username_at_that_client_only(client: TestClient) -> None:
    for _ in range(5):
        assert token_response(client, "warga", "wrong-password").status_code == 401
    limited = token_response(client, "warga")
    assert limited.status_code == 429, limited.text
    assert limited.headers["content-type"] == PROBLEM
    assert limited.json()["type"] == "/api/problems/rate-limited"
    assert 1 <= int(limited.headers["retry-after"]) <= 2
    assert "access_token" not in limited.text
    # Another account at this client is not slowed down by attempts on this one.
    assert token_response(client, "analis").status_code == 200
