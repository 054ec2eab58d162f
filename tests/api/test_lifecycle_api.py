"""Retire, restore and download a service over HTTP: who may, what the public sees, what a zip holds."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import select

from engine.catalogue import stewards as stewards
from engine.catalogue.package import from_zip
from engine.context import AppContext
from engine.models import AuditEntry
from tests.factories import make_analyst
from tests.packages import simple_package

Login = Callable[[str], dict[str, str]]
PROBLEM = "application/problem+json"
START = {"harga": 2, "jumlah": 3}




def keys(client: TestClient, headers: dict[str, str] | None = None) -> set[str]:
    response = client.get("/api/processes", headers=headers or {})
    assert response.status_code == 200, response.text
    return {p["key"] for p in response.json()}


def deploy_uji(client: TestClient, login: Login) -> None:
    files = [("files", (name, content, "application/octet-stream"))
             for name, content in simple_package("uji").files.items()]
    assert client.post("/api/processes", files=files, headers=login("admin")).status_code == 201


def test_retired_service_leaves_the_public_catalogue_and_refuses_applications(
        client: TestClient, login: Login, catalogue: AppContext) -> None:
    deploy_uji(client, login)
    admin, warga = login("admin"), login("warga")
    response = client.delete("/api/processes/uji", params={"reason": "layanan uji coba"}, headers=admin)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["key"], body["retired"]["retired_by"], body["retired"]["reason"]) == (
        "uji", "admin", "layanan uji coba")

    assert "uji" not in keys(client) | keys(client, warga)
    assert "pbg" in keys(client, warga)
    listed = {p["key"]: p for p in client.get("/api/processes", headers=admin).json()}
    assert listed["uji"]["retired"]["reason"] == "layanan uji coba"
    assert listed["pbg"]["retired"] is None
    assert client.get("/api/processes/uji").status_code == 404
    assert client.get("/api/processes/uji", headers=warga).status_code == 404
    detail = client.get("/api/processes/uji", headers=admin).json()
    assert detail["retired"]["retired_by"] == "admin"

    refused = client.post("/api/cases", json={"process_key": "uji", "data": START, "channel": "daring"},
                          headers=warga)
    assert refused.status_code == 409
    assert refused.headers["content-type"] == PROBLEM
    assert refused.json()["type"] == "/api/problems/service-retired"
    assert "no longer accepts applications" in refused.json()["detail"]
    bundle = client.post("/api/bundles", json={"services": [{"process_key": "pbg", "data": {}},
                                                            {"process_key": "uji", "data": START}]}, headers=warga)
    assert (bundle.status_code, bundle.json()["type"]) == (409, "/api/problems/service-retired")

    restored = client.post("/api/processes/uji/restore", params={"reason": "dibuka lagi"}, headers=admin)
    assert restored.status_code == 200, restored.text
    assert restored.json() == {"key": "uji", "retired": None}
    assert "uji" in keys(client)
    started = client.post("/api/cases", json={"process_key": "uji", "data": START, "channel": "daring",
                                              "privacy_notice_accepted": True},
                          headers=warga)
    assert started.status_code == 201, started.text
    with catalogue.sessions() as session:
        actions = list(session.scalars(select(AuditEntry.action).where(AuditEntry.subject == "uji")
                                       .order_by(AuditEntry.id)))
    assert actions == ["process.deployed", "process.retired", "process.restored"]


def test_a_version_zip_deploys_back_as_the_same_version(client: TestClient, login: Login) -> None:
    response = client.get("/api/processes/pbg/versions/1/zip", headers=login("analis"))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    assert response.headers["content-disposition"] == 'attachment; filename="pbg-v1.zip"'
    package = from_zip(response.content)
    assert {"service.toml", "process.bpmn"} <= set(package.files)
    detail = client.get("/api/processes/pbg", headers=login("admin")).json()
    assert package.content_hash == detail["versions"][0]["content_hash"]
    again = client.post("/api/processes", files=[("files", ("pbg-v1.zip", response.content, "application/zip"))],
                        headers=login("admin"))
    assert again.status_code == 201, again.text
    assert (again.json()["version"], again.json()["created"]) == (1, False)


def test_zips_are_for_analysts_and_admins_only(client: TestClient, login: Login) -> None:
    path = "/api/processes/pbg/versions/1/zip"
    assert client.get(path).status_code == 401
    for username in ("warga", "dpmptsp_front_office"):
        response = client.get(path, headers=login(username))
        assert (response.status_code, response.headers["content-type"]) == (403, PROBLEM)
    assert client.get("/api/processes/pbg/versions/9/zip", headers=login("admin")).status_code == 404
    assert client.get("/api/processes/tidak_ada/versions/1/zip", headers=login("admin")).status_code == 404


def test_only_analysts_of_the_owning_agency_or_admins_retire(client: TestClient, login: Login,
                                                             catalogue: AppContext) -> None:
    make_analyst(catalogue, "analis_dlh", "dlh")
    make_analyst(catalogue, "analis_dpmptsp", "dpmptsp")
    outsider = login("analis_dlh")
    for headers in (outsider, login("warga"), login("dpmptsp_front_office")):
        response = client.delete("/api/processes/pbg", headers=headers)
        assert (response.status_code, response.headers["content-type"]) == (403, PROBLEM)
    assert client.delete("/api/processes/pbg").status_code == 401
    assert "pbg" in keys(client)
    assert client.delete("/api/processes/tidak_ada", headers=login("admin")).status_code == 404

    assert client.delete("/api/processes/pbg", headers=login("analis_dpmptsp")).status_code == 200
    assert "pbg" not in keys(client)
    assert client.post("/api/processes/pbg/restore", headers=outsider).status_code == 403
    assert client.post("/api/processes/pbg/restore", headers=login("analis_dpmptsp")).status_code == 200
    assert "pbg" in keys(client)
