"""Connector bindings over HTTP (admin only): secrets go in and never come out; only http(s) hosts."""

from __future__ import annotations

import json
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import select

from engine.context import AppContext
from engine.db import transaction
from engine.models import AuditEntry, ConnectorBinding
from tests.engine.test_connectors import START, connector_package
from tests.factories import Driver, deploy, make_user
from tests.simulators.partner import Partner

Login = Callable[[str], dict[str, str]]
SECRET = "token-rahasia-9f8e7d"


def test_an_admin_binds_a_system_and_the_secret_is_sent_but_never_shown(
        client: TestClient, login: Login, catalogue: AppContext) -> None:
    admin = login("admin")
    with Partner() as partner:
        body = {"base_url": partner.url + "/", "auth_kind": "header", "auth_header": "X-Api-Key", "secret": SECRET}
        put = client.put("/api/connectors/bpjs_tk", json=body, headers=admin)
        assert put.status_code == 200, put.text
        listed = client.get("/api/connectors", headers=admin)
        assert listed.status_code == 200
        assert SECRET not in put.text + listed.text
        [row] = listed.json()
        assert (row["system"], row["base_url"], row["has_secret"]) == ("bpjs_tk", partner.url, True)
        assert not {"secret", "secret_sealed"} & set(row)
        deploy(catalogue, connector_package("mutasi_api"))
        partner.reply(200, {"data": {"nomor": "MUT-API-1"}})
        case = Driver(catalogue).start("mutasi_api", START, make_user(catalogue, "petugas_api", "dinas.petugas"))
        Driver(catalogue).run_jobs()
        assert partner.received[0].headers["X-Api-Key"] == SECRET
        assert Driver(catalogue).case(case.id).data["hasil"] == {"nomor_mutasi": "MUT-API-1"}
    with catalogue.sessions() as session:
        audit = list(session.scalars(select(AuditEntry).where(AuditEntry.action.like("connector.%"))))
    assert [a.subject for a in audit] == ["bpjs_tk:*@default"]
    assert SECRET not in json.dumps([a.detail for a in audit])


def test_a_put_without_a_secret_keeps_it_and_an_empty_one_removes_it(client: TestClient, login: Login) -> None:
    admin = login("admin")
    url = "/api/connectors/oss"
    client.put(url, json={"base_url": "https://oss.example.id/api", "auth_kind": "bearer", "secret": SECRET},
               headers=admin)
    kept = client.put(url, json={"base_url": "https://oss2.example.id/api", "auth_kind": "bearer"}, headers=admin)
    assert (kept.json()["base_url"], kept.json()["has_secret"]) == ("https://oss2.example.id/api", True)
    removed = client.put(url, json={"base_url": "https://oss2.example.id/api", "secret": ""}, headers=admin)
    assert removed.json()["has_secret"] is False


def test_a_base_url_that_is_not_http_is_refused(client: TestClient, login: Login, catalogue: AppContext) -> None:
    admin = login("admin")
    for url in ("file:///etc/passwd", "gopher://127.0.0.1:25/x", "https://user:pw@host.example"):
        response = client.put("/api/connectors/jahat", json={"base_url": url}, headers=admin)
        assert response.status_code == 400, response.text
        assert "base URL" in response.json()["detail"]
        assert response.headers["content-type"].startswith("application/problem+json")
    with catalogue.sessions() as session:
        assert session.scalars(select(ConnectorBinding)).all() == []


def test_only_admins_manage_bindings_and_delete_removes_one(
        client: TestClient, login: Login, catalogue: AppContext) -> None:
    body = {"base_url": "https://simbg.example.id"}
    assert client.put("/api/connectors/simbg", json=body, headers=login("warga")).status_code == 403
    assert client.get("/api/connectors").status_code == 401
    admin = login("admin")
    assert client.put("/api/connectors/simbg", json=body, headers=admin).status_code == 200
    assert client.delete("/api/connectors/simbg", headers=admin).status_code == 204
    assert client.get("/api/connectors", headers=admin).json() == []
    assert client.delete("/api/connectors/simbg", headers=admin).status_code == 404
    with transaction(catalogue.sessions) as session:
        actions = [a.action for a in session.scalars(select(AuditEntry).where(AuditEntry.subject == "simbg:*@default"))]
    assert actions == ["connector.bind", "connector.unbind"]


def test_bindings_per_agency_and_environment_round_trip_without_their_secrets(
        client: TestClient, login: Login, catalogue: AppContext) -> None:
    admin = login("admin")
    url = "/api/connectors/oss"
    every = client.put(url, json={"base_url": "https://oss.example.id"}, headers=admin)
    assert (every.json()["agency"], every.json()["environment"]) == ("", "default")
    own = client.put(f"{url}?agency=dpmptsp&environment=staging",
                     json={"base_url": "https://oss-dpmptsp.example.id", "auth_kind": "bearer", "secret": SECRET},
                     headers=admin)
    assert own.status_code == 200, own.text
    read = client.get(f"{url}?agency=dpmptsp&environment=staging", headers=admin)
    assert read.status_code == 200
    assert (read.json()["agency"], read.json()["environment"], read.json()["base_url"], read.json()["has_secret"]) \
        == ("dpmptsp", "staging", "https://oss-dpmptsp.example.id", True)
    assert client.get(f"{url}?agency=dpmptsp", headers=admin).status_code == 404  # not in this environment
    assert client.get(url, headers=admin).json()["base_url"] == "https://oss.example.id"
    listed = client.get("/api/connectors", headers=admin)
    assert [(r["agency"], r["environment"]) for r in listed.json()] == [("", "default"), ("dpmptsp", "staging")]
    assert SECRET not in own.text + read.text + listed.text
    assert client.delete(f"{url}?agency=dpmptsp", headers=admin).status_code == 404
    assert client.delete(f"{url}?agency=dpmptsp&environment=staging", headers=admin).status_code == 204
    assert [r["agency"] for r in client.get("/api/connectors", headers=admin).json()] == [""]
    with catalogue.sessions() as session:
        subjects = list(session.scalars(select(AuditEntry.subject).where(AuditEntry.action.like("connector.%"))
                                        .order_by(AuditEntry.id)))
    assert subjects == ["oss:*@default", "oss:dpmptsp@staging", "oss:dpmptsp@staging"]


def test_an_unknown_agency_or_a_malformed_environment_is_refused(client: TestClient, login: Login) -> None:
    admin = login("admin")
    body = {"base_url": "https://oss.example.id"}
    unknown = client.put("/api/connectors/oss?agency=tidak_ada", json=body, headers=admin)
    assert unknown.status_code == 400
    assert "agency" in unknown.json()["detail"]
    assert client.put("/api/connectors/oss?environment=Prod%20Uji", json=body, headers=admin).status_code == 422
    assert client.put("/api/connectors/oss?agency=Bukan-Kode", json=body, headers=admin).status_code == 422
    assert client.get("/api/connectors", headers=admin).json() == []
