"""Browser sessions: logout ends them everywhere, and the CSRF token belongs to one session."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
import pytest
from fastapi.testclient import TestClient

from api.bootstrap import DEMO_PASSWORD
from engine.context import AppContext
from web.session import AUDIENCE, COOKIE, CSRF_COOKIE

pytestmark = pytest.mark.postgres
ROOT = Path(__file__).resolve().parents[2]
HOME = "/permohonan-saya"  # warga's own page: 200 with a live session, a redirect to the login without


def csrf(client: TestClient, path: str = "/masuk") -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text)
    assert match, f"no CSRF field on {path}"
    return match.group(1)


def browser(client: TestClient, username: str | None = None) -> TestClient:
    """Return a fresh browser on the same app, logged in as `username` when given."""
    other = TestClient(client.app, raise_server_exceptions=False)
    if username is not None:
        response = other.post("/masuk", data={"username": username, "password": DEMO_PASSWORD,
                                              "csrf_token": csrf(other)}, follow_redirects=False)
        assert response.status_code == 303, response.text
    return other


def logged_in(client: TestClient) -> bool:
    response = client.get(HOME, follow_redirects=False)
    assert response.status_code in (200, 303), response.text
    return response.status_code == 200


def with_cookies(client: TestClient, cookies: dict[str, str]) -> TestClient:
    return TestClient(client.app, cookies=cookies, raise_server_exceptions=False)


def test_a_session_cookie_stops_working_after_logout(client: TestClient) -> None:
    warga = browser(client, "warga")
    stolen = warga.cookies[COOKIE]
    assert logged_in(with_cookies(client, {COOKIE: stolen}))
    out = warga.post("/keluar", data={"csrf_token": csrf(warga, HOME)}, follow_redirects=False)
    assert out.status_code == 303
    assert not logged_in(warga)
    assert not logged_in(with_cookies(client, {COOKIE: stolen}))


def test_logout_ends_every_session_and_token_of_the_account_only(client: TestClient) -> None:
    laptop, phone, analis = browser(client, "warga"), browser(client, "warga"), browser(client, "analis")
    token = client.post("/api/auth/token", data={"username": "warga", "password": DEMO_PASSWORD}).json()
    bearer = {"Authorization": f"Bearer {token['access_token']}"}
    assert client.get("/api/me", headers=bearer).status_code == 200
    assert laptop.post("/keluar", data={"csrf_token": csrf(laptop, HOME)}, follow_redirects=False).status_code == 303
    assert not logged_in(phone)
    assert client.get("/api/me", headers=bearer).status_code == 401
    assert analis.get("/studio", follow_redirects=False).status_code == 200
    assert logged_in(browser(client, "warga"))  # logging in again starts a new epoch's session


def test_a_password_change_ends_the_browser_sessions(client: TestClient) -> None:
    warga = browser(client, "warga")
    admin = client.post("/api/auth/token", data={"username": "admin", "password": DEMO_PASSWORD}).json()
    headers = {"Authorization": f"Bearer {admin['access_token']}"}
    users = client.get("/api/users", params={"limit": 500}, headers=headers).json()
    uid = next(u["id"] for u in users if u["username"] == "warga")
    assert client.patch(f"/api/users/{uid}", json={"password": "sandi-baru-2026"}, headers=headers).status_code == 200
    assert not logged_in(warga)


def test_a_csrf_pair_from_another_session_is_refused(client: TestClient) -> None:
    warga, analis = browser(client, "warga"), browser(client, "analis")
    foreign_token = csrf(analis, "/studio")
    foreign_cookie = analis.cookies[CSRF_COOKIE]
    assert foreign_cookie == foreign_token
    victim = with_cookies(client, {COOKIE: warga.cookies[COOKIE], CSRF_COOKIE: foreign_cookie})
    refused = victim.post("/keluar", data={"csrf_token": foreign_token}, follow_redirects=False)
    assert refused.status_code == 403
    assert "Formulir kedaluwarsa" in refused.text
    assert logged_in(warga)  # the forged logout did nothing
    # A visitor's pair is not this session's either.
    visitor = browser(client)
    anonymous = csrf(visitor)
    victim = with_cookies(client, {COOKIE: warga.cookies[COOKIE], CSRF_COOKIE: visitor.cookies[CSRF_COOKIE]})
    assert victim.post("/keluar", data={"csrf_token": anonymous}, follow_redirects=False).status_code == 403
    # The session's own pair works.
    assert warga.post("/keluar", data={"csrf_token": csrf(warga, HOME)}, follow_redirects=False).status_code == 303


def test_login_rotates_the_csrf_token_and_binds_it_to_the_new_session(client: TestClient) -> None:
    visitor = browser(client)
    before = csrf(visitor)
    response = visitor.post("/masuk", data={"username": "warga", "password": DEMO_PASSWORD, "csrf_token": before},
                            follow_redirects=False)
    assert response.status_code == 303
    after = visitor.cookies[CSRF_COOKIE]
    assert after != before
    assert csrf(visitor, HOME) == after
    stale = visitor.post("/keluar", data={"csrf_token": before}, follow_redirects=False)
    assert stale.status_code == 403


def test_the_studio_fetch_header_is_checked_against_the_session(client: TestClient) -> None:
    analis, admin = browser(client, "analis"), browser(client, "admin")
    xml = (ROOT / "processes" / "pbg" / "process.bpmn").read_text(encoding="utf-8")
    own = re.search(r'<meta name="csrf-token" content="([^"]+)"', analis.get("/studio/pbg/ubah").text)
    foreign = re.search(r'<meta name="csrf-token" content="([^"]+)"', admin.get("/studio/pbg/ubah").text)
    assert own
    assert foreign
    forged = with_cookies(client, {COOKIE: analis.cookies[COOKIE], CSRF_COOKIE: foreign.group(1)})
    refused = forged.post("/studio/pbg/periksa", json={"xml": xml}, headers={"X-CSRF-Token": foreign.group(1)})
    assert refused.status_code == 403
    linted = analis.post("/studio/pbg/periksa", json={"xml": xml}, headers={"X-CSRF-Token": own.group(1)})
    assert linted.status_code == 200, linted.text
    assert linted.json()["ok"] is True


def test_a_session_cookie_without_an_epoch_is_refused(client: TestClient, catalogue: AppContext) -> None:
    warga = browser(client, "warga")
    claims = jwt.decode(warga.cookies[COOKIE], options={"verify_signature": False})
    secret = catalogue.settings.secret_key.get_secret_value()
    now = datetime.now(UTC)
    old_style = jwt.encode({"sub": claims["sub"], "aud": AUDIENCE, "iat": int(now.timestamp()),
                            "exp": int((now + timedelta(hours=1)).timestamp())}, secret, algorithm="HS256")
    assert not logged_in(with_cookies(client, {COOKIE: old_style}))
    ahead = jwt.encode({**claims, "ep": claims["ep"] + 1}, secret, algorithm="HS256")
    assert not logged_in(with_cookies(client, {COOKIE: ahead}))
    assert logged_in(with_cookies(client, {COOKIE: jwt.encode(claims, secret, algorithm="HS256")}))
