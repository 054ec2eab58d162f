"""Abuse against a running `mpp serve --workers 2`: limits are shared, kept, and lock no owner out.

Clients are told apart by their source address: Linux routes all of 127.0.0.0/8 to the loopback,
so a connection from 127.0.0.2 is another client than one from 127.0.0.3. Every request opens a
fresh connection, so the kernel hands them to either API process.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.live import Platform, serve

pytestmark = pytest.mark.slow
PASSWORD = "demo12345"  # noqa: S105 - the demo accounts' password
ATTACKER, OWNER, ADMIN = "127.0.0.2", "127.0.0.3", "127.0.0.4"


def call(platform: Platform, method: str, path: str, *, source: str, **kwargs: Any) -> httpx.Response:
    """Send one request on a new connection from `source`."""
    with httpx.Client(transport=httpx.HTTPTransport(local_address=source), timeout=30) as client:
        return client.request(method, f"{platform.base}{path}", **kwargs)


def token(platform: Platform, username: str, source: str, password: str = PASSWORD) -> httpx.Response:
    return call(platform, "POST", "/api/auth/token", source=source, data={"username": username, "password": password})


def bearer(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def processes_holding_connections_from(platform: Platform, source: str) -> set[int]:
    """Return the server processes that hold an open TCP connection from `source` (read from /proc)."""
    port = f":{int(platform.base.rsplit(':', 1)[1]):04X}"
    remote = "".join(f"{int(part):02X}" for part in reversed(source.split(".")))
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[1].endswith(port) and fields[2].startswith(remote + ":") and fields[3] == "01":
            inodes.add(f"socket:[{fields[9]}]")
    children = Path(f"/proc/{platform.process.pid}/task/{platform.process.pid}/children").read_text().split()
    found = set()
    for pid in map(int, children):
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                if os.readlink(fd) in inodes:
                    found.add(pid)
            except OSError:
                continue
    return found


def test_two_processes_share_the_pin_limit_across_restarts_and_forwarded_for(
        catalogue_template_db: Path, tmp_path: Path) -> None:
    guesses = [f"/api/track/MPP-ZZZZ-{i:04d}" for i in range(60)]
    with serve(catalogue_template_db, tmp_path / "first", workers=2) as platform:
        clients = [httpx.Client(transport=httpx.HTTPTransport(local_address=ATTACKER), timeout=30) for _ in guesses]
        try:
            # No proxy is trusted: a new X-Forwarded-For on every guess changes nothing.
            statuses = [client.get(f"{platform.base}{path}", params={"pin": "123456"},
                                   headers={"X-Forwarded-For": f"198.51.100.{i}"}).status_code
                        for i, (client, path) in enumerate(zip(clients, guesses, strict=True))]
            serving = processes_holding_connections_from(platform, ATTACKER)
        finally:
            for client in clients:
                client.close()
        assert len(serving) == 2, "the kernel gave every connection to one process: the test proves nothing"
        assert (statuses.count(404), statuses.count(429)) == (20, 40)
        assert call(platform, "GET", guesses[0], source=OWNER, params={"pin": "1"}).status_code == 404
    # A restart forgets nothing: the window is still full for the attacker.
    with serve(catalogue_template_db, tmp_path / "second", database=tmp_path / "first" / "mpp.db") as platform:
        refused = call(platform, "GET", guesses[0], source=ATTACKER, params={"pin": "123456"})
        assert refused.status_code == 429
        assert 1 <= int(refused.headers["retry-after"]) <= 60


@pytest.fixture(scope="module")
def platform(catalogue_template_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    with serve(catalogue_template_db, tmp_path_factory.mktemp("abuse"), workers=2) as running:
        yield running


def test_a_password_guesser_slows_down_without_locking_the_owner_out(platform: Platform) -> None:
    statuses = [token(platform, "analis", ATTACKER, f"tebakan-{i}").status_code for i in range(12)]
    assert statuses[:5] == [401] * 5
    assert set(statuses[5:]) == {429}
    assert token(platform, "analis", ATTACKER).status_code == 429  # even the right password, from there
    assert token(platform, "analis", OWNER).status_code == 200


def test_a_session_cookie_stops_working_after_logout(platform: Platform) -> None:
    with httpx.Client(base_url=platform.base, transport=httpx.HTTPTransport(local_address=OWNER)) as browser:
        form = re.search(r'name="csrf_token" value="([^"]+)"', browser.get("/masuk").text)
        assert form
        login = browser.post("/masuk", data={"username": "warga", "password": PASSWORD, "csrf_token": form.group(1)})
        assert login.status_code == 303, login.text
        cookie = browser.cookies["mpp_session"]
        home = browser.get("/permohonan-saya", follow_redirects=False)
        assert home.status_code == 200
        out = re.search(r'name="csrf_token" value="([^"]+)"', home.text)
        assert out
        assert browser.post("/keluar", data={"csrf_token": out.group(1)}, follow_redirects=False).status_code == 303
    for _ in range(4):  # on a new connection each time: whichever process answers refuses it
        replay = call(platform, "GET", "/permohonan-saya", source=ATTACKER, headers={"Cookie": f"mpp_session={cookie}"},
                      follow_redirects=False)
        assert replay.status_code == 303
        assert replay.headers["location"].startswith("/masuk")


def test_a_token_stops_working_after_a_password_change(platform: Platform) -> None:
    old = bearer(token(platform, "dpmptsp_front_office", OWNER))
    admin = bearer(token(platform, "admin", ADMIN))
    assert call(platform, "GET", "/api/me", source=OWNER, headers=old).status_code == 200
    users = call(platform, "GET", "/api/users", source=ADMIN, headers=admin, params={"limit": 500}).json()
    uid = next(u["id"] for u in users if u["username"] == "dpmptsp_front_office")
    changed = call(platform, "PATCH", f"/api/users/{uid}", source=ADMIN, headers=admin,
                   json={"password": "sandi-baru-2026"})
    assert changed.status_code == 200, changed.text
    for _ in range(4):
        assert call(platform, "GET", "/api/me", source=OWNER, headers=old).status_code == 401
    new = bearer(token(platform, "dpmptsp_front_office", OWNER, "sandi-baru-2026"))
    assert call(platform, "GET", "/api/me", source=OWNER, headers=new).status_code == 200
    assert call(platform, "GET", "/api/me", source=ADMIN, headers=admin).status_code == 200
