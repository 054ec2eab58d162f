"""The lean request path (issue 18): the login check in one statement, remembered tokens, per-version caches."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import anyio.to_thread
import jwt
import pytest
from fastapi.testclient import TestClient

from api.bootstrap import DEMO_PASSWORD
from api.security import ALGORITHM, AUDIENCE, read_token
from engine.catalogue.labels import labels_for_version, step_names
from engine.context import AppContext
from engine.db import transaction
from engine.directory import accounts as accounts
from engine.directory import service as directory
from engine.directory.actors import logged_in_actor
from engine.models import Case, User
from tests.api.test_auth import Login, assert_unauthenticated, bearer, user_id
from tests.api.test_tasks import FRONT, complete, start, task_of
from web import routing as routing


def test_the_login_check_reads_the_account_and_its_memberships_as_they_are_now(catalogue: AppContext) -> None:
    with transaction(catalogue.sessions) as session:
        user = directory.create_user(session, username="petugas_baru", platform_role="officer")
        uid = user.id
    with catalogue.sessions() as session:
        fresh = logged_in_actor(session, user_id=uid, epoch=0)
        assert fresh is not None
        assert (fresh.username, fresh.platform_role, fresh.memberships) == ("petugas_baru", "officer", frozenset())
        assert logged_in_actor(session, user_id=uid, epoch=1) is None  # a token of another epoch
        assert logged_in_actor(session, user_id=987_654, epoch=0) is None
    with transaction(catalogue.sessions) as session:
        user = directory.get_user(session, "petugas_baru")
        directory.grant(session, user=user, role_key="dpmptsp.front_office")
        directory.grant(session, user=user, role_key="dpmptsp.kasir")
    with catalogue.sessions() as session:
        granted = logged_in_actor(session, user_id=uid, epoch=0)
        assert granted is not None
        assert {role for role, _ in granted.memberships} == {"dpmptsp.front_office", "dpmptsp.kasir"}
    with transaction(catalogue.sessions) as session:
        directory.update_user(session, user=directory.get_user(session, "petugas_baru"), active=False)
    with catalogue.sessions() as session:
        ended = session.get(User, uid)
        assert ended is not None
        assert logged_in_actor(session, user_id=uid, epoch=ended.session_epoch) is None  # inactive, any epoch


def test_a_logout_ends_a_remembered_token_on_the_next_request(client: TestClient, catalogue: AppContext,
                                                              login: Login) -> None:
    token = client.post("/api/auth/token", data={"username": "warga", "password": DEMO_PASSWORD}).json()["access_token"]
    assert client.get("/api/me", headers=bearer(token)).status_code == 200  # its signature is now remembered
    with transaction(catalogue.sessions) as session:
        accounts.end_sessions(session, user=directory.get_user(session, "warga"))
    assert_unauthenticated(client.get("/api/me", headers=bearer(token)))


def test_a_remembered_token_stops_working_when_it_expires(client: TestClient, catalogue: AppContext,
                                                         login: Login) -> None:
    uid = user_id(client, login, "warga")
    secret = catalogue.settings.secret_key.get_secret_value()
    expires = int(time.time()) + 2
    token = jwt.encode({"sub": str(uid), "ep": 0, "aud": AUDIENCE, "iat": int(time.time()), "exp": expires},
                       secret, algorithm=ALGORITHM)
    assert client.get("/api/me", headers=bearer(token)).status_code == 200
    while time.time() < expires + 0.05:
        time.sleep(0.1)
    assert_unauthenticated(client.get("/api/me", headers=bearer(token)))


def test_a_token_is_remembered_only_under_the_secret_that_signed_it() -> None:
    now = int(datetime.now(UTC).timestamp())
    token = jwt.encode({"sub": "7", "ep": 3, "aud": AUDIENCE, "iat": now, "exp": now + 600}, "s" * 40,
                       algorithm=ALGORITHM)
    claims = read_token(token, secret="s" * 40)
    assert claims is not None
    assert (claims.user_id, claims.epoch) == (7, 3)
    assert read_token(token, secret="t" * 40) is None
    assert read_token(token + "x", secret="s" * 40) is None


def test_the_per_version_caches_answer_as_the_stored_files_do(client: TestClient, catalogue: AppContext,
                                                               login: Login) -> None:
    case = start(client, login)
    complete(client, login, FRONT, case["id"], "Task_kelengkapan", {"kelengkapan": "lengkap"})
    rt = catalogue.rt
    with catalogue.sessions() as session:
        found = session.get(Case, case["id"])
        assert found is not None
        version_id = found.process_version_id
        fields = labels_for_version(session, version_id=version_id).personal_fields()
        assert fields  # PBG's application classifies the applicant's NIK and more
        cached = rt.classified(session, version_id)
        assert cached == fields
        cached.clear()  # a caller changing its answer changes nobody else's
        assert rt.classified(session, version_id) == fields
        assert rt.step_names(session, version_id) == step_names(session, version_id=version_id)


def test_an_api_request_takes_one_thread_hop_for_its_login_route_answer_and_commit(
        client: TestClient, login: Login, monkeypatch: pytest.MonkeyPatch) -> None:
    case = start(client, login)
    task_id = task_of(client, login, case["id"], "Task_kelengkapan")
    front, officer = login(FRONT), login("dpmptsp_kasir")
    hops: list[Callable[..., Any]] = []
    run_sync = anyio.to_thread.run_sync

    async def counted(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        hops.append(func)
        return await run_sync(func, *args, **kwargs)

    monkeypatch.setattr(anyio.to_thread, "run_sync", counted)
    in_thread = routing.in_thread  # a plain endpoint's own hop (web/routing.py), not FastAPI's thread pool

    async def counted_in_thread(call: Callable[[], Any]) -> Any:
        hops.append(call)
        return await in_thread(call)

    monkeypatch.setattr(routing, "in_thread", counted_in_thread)
    for method, url, headers, status, expected in (
            ("GET", "/api/me", front, 200, 1),
            ("GET", f"/api/tasks?case_id={case['id']}", front, 200, 1),
            ("POST", f"/api/tasks/{task_id}/complete", front, 200, 1),  # a write: it commits in that hop too
            # The platform role is read in the route's hop and refused there; the error answer takes its own.
            ("GET", "/api/users", officer, 403, 2)):
        hops.clear()
        body = {"data": {"kelengkapan": "lengkap"}} if method == "POST" else None
        response = client.request(method, url, headers=headers, json=body)
        assert response.status_code == status, response.text
        assert len(hops) == expected, (url, hops)
