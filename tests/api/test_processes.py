"""Processes over HTTP: the catalogue, deploying and linting packages, versions and their BPMN."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable

from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select

from engine.catalogue.package import from_path
from engine.context import AppContext
from engine.models import AuditEntry
from tests.factories import PBG, pbg_application, pbg_documents
from tests.packages import simple_package

Login = Callable[[str], dict[str, str]]
PROBLEM = "application/problem+json"
BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
  <!ENTITY lol "lol">
  <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="x">&lol4;</bpmn:definitions>
"""


def pbg_files() -> dict[str, bytes]:
    return dict(from_path(PBG).files)


def zipped(files: dict[str, bytes], top: str = "pbg") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in sorted(files.items()):
            archive.writestr(f"{top}/{name}" if top else name, content)
    return buffer.getvalue()


def renamed_pbg() -> dict[str, bytes]:
    files = pbg_files()
    old = b'name="Pemeriksaan kelengkapan berkas"'
    assert old in files["process.bpmn"]
    files["process.bpmn"] = files["process.bpmn"].replace(old, b'name="Pemeriksaan kelengkapan dokumen"')
    return files


def upload(client: TestClient, path: str, data: bytes, headers: dict[str, str] | None = None,
           name: str = "package.zip") -> Response:
    return client.post(path, files=[("files", (name, data, "application/zip"))], headers=headers or {})


def catalogue_entry(items: list[dict[str, object]], key: str = "pbg") -> dict[str, object]:
    return next(p for p in items if p["key"] == key)


def versions(client: TestClient, key: str = "pbg") -> list[int]:
    response = client.get(f"/api/processes/{key}")
    assert response.status_code == 200, response.text
    return [v["version"] for v in response.json()["versions"]]


def audit_actions(ctx: AppContext, action: str) -> list[AuditEntry]:
    with ctx.sessions() as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def assert_problem(response: Response, status: int, slug: str) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["type"] == f"/api/problems/{slug}"
    assert body["status"] == status
    return body


# ---------------------------------------------------------------- catalogue


def test_anonymous_catalogue_lists_services_without_counts(client: TestClient) -> None:
    response = client.get("/api/processes")
    assert response.status_code == 200, response.text
    items = response.json()
    keys = [p["key"] for p in items]
    assert "pbg" in keys
    assert keys == sorted(keys)
    pbg = catalogue_entry(items)
    assert pbg["version"] == 1
    assert pbg["agency"] == "dpmptsp"
    assert pbg["name"] == {"id": "Persetujuan Bangunan Gedung (PBG)", "en": "Building Approval (PBG)"}
    assert pbg["sla_days"] == 28
    assert pbg["channels"] == ["tatap_muka", "drive_thru", "terpadu", "daring"]
    assert len(pbg["requirements"]) == 7
    assert all(p["running_cases"] is None for p in items)


def test_staff_see_running_case_counts_and_applicants_do_not(client: TestClient, login: Login) -> None:
    for _ in range(2):
        started = client.post("/api/cases", json={"process_key": "pbg", "data": pbg_application(),
                                                  "documents": pbg_documents(client, login("warga")),
                                                  "privacy_notice_accepted": True},
                              headers=login("warga"))
        assert started.status_code == 201, started.text
    for staff in ("admin", "analis", "pupr_tpa"):
        items = client.get("/api/processes", headers=login(staff)).json()
        assert catalogue_entry(items)["running_cases"] == 2, staff
        assert all(p["running_cases"] == 0 for p in items if p["key"] != "pbg"), staff
    assert catalogue_entry(client.get("/api/processes", headers=login("warga")).json())["running_cases"] is None
    assert catalogue_entry(client.get("/api/processes").json())["running_cases"] is None


def test_process_detail_lists_versions_and_hides_the_deployer_from_the_public(client: TestClient,
                                                                               login: Login) -> None:
    public = client.get("/api/processes/pbg")
    assert public.status_code == 200, public.text
    body = public.json()
    assert body["key"] == "pbg"
    assert body["latest"]["version"] == 1
    [version] = body["versions"]
    assert version["version"] == 1
    assert len(version["content_hash"]) == 64
    assert version["deployed_by"] == ""
    assert "process.bpmn" in version["files"]
    assert "forms/kelengkapan.schema.json" in version["files"]
    assert "dpmptsp.front_office" in version["roles"]
    staff = client.get("/api/processes/pbg", headers=login("analis")).json()
    assert staff["versions"][0]["deployed_by"] == "bootstrap"


def test_unknown_process_is_404(client: TestClient) -> None:
    assert_problem(client.get("/api/processes/no_such_service"), 404, "not-found")


# ---------------------------------------------------------------- deploy


def test_analyst_deploys_a_changed_package_as_version_2(client: TestClient, login: Login,
                                                         catalogue: AppContext) -> None:
    response = upload(client, "/api/processes", zipped(renamed_pbg()), login("analis"))
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["key"], body["version"], body["created"]) == ("pbg", 2, True)
    assert body["new_roles"] == []
    assert versions(client) == [2, 1]
    catalogue_row = catalogue_entry(client.get("/api/processes").json())
    assert catalogue_row["version"] == 2
    staff = client.get("/api/processes/pbg", headers=login("admin")).json()
    assert staff["versions"][0]["deployed_by"] == "analis"
    [entry] = audit_actions(catalogue, "process.deployed")
    assert (entry.actor, entry.subject) == ("analis", "pbg")
    # New applications start on the newest version.
    case = client.post("/api/cases", json={"process_key": "pbg", "data": pbg_application(),
                                           "documents": pbg_documents(client, login("warga")),
                                           "privacy_notice_accepted": True}, headers=login("warga"))
    assert case.status_code == 201, case.text
    read = client.get(f"/api/cases/{case.json()['id']}", headers=login("warga")).json()
    assert read["process_version"] == 2
    assert read["open_tasks"][0]["name"] == "Pemeriksaan kelengkapan dokumen"


def test_identical_redeploy_creates_nothing(client: TestClient, login: Login, catalogue: AppContext) -> None:
    first = upload(client, "/api/processes", zipped(renamed_pbg()), login("analis"))
    assert first.json()["version"] == 2
    again = upload(client, "/api/processes", zipped(renamed_pbg(), top="other_folder"), login("admin"))
    assert again.status_code in (200, 201), again.text
    assert again.json()["version"] == 2
    assert again.json()["created"] is False
    assert again.json()["new_roles"] == []
    assert versions(client) == [2, 1]
    assert len(audit_actions(catalogue, "process.deployed")) == 1
    # The bootstrap's own content is version 1, and re-sending it does not make a version 3.
    original = upload(client, "/api/processes", zipped(pbg_files()), login("analis"))
    assert (original.json()["version"], original.json()["created"]) == (1, False)
    assert versions(client) == [2, 1]


def test_a_brand_new_package_reports_its_new_roles_and_agency(client: TestClient, login: Login) -> None:
    files = dict(simple_package("uji_layanan").files)
    response = upload(client, "/api/processes", zipped(files, top=""), login("analis"))
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["key"], body["version"], body["created"]) == ("uji_layanan", 1, True)
    assert body["new_roles"] == ["dinas.petugas"]
    keys = [p["key"] for p in client.get("/api/processes").json()]
    assert {"pbg", "uji_layanan"} <= set(keys)
    agencies = {a["code"] for a in client.get("/api/agencies", headers=login("admin")).json()}
    assert "dinas" in agencies
    roles = {r["key"] for r in client.get("/api/roles", headers=login("admin")).json()}
    assert "dinas.petugas" in roles


def test_deploy_needs_an_analyst_or_admin(client: TestClient, login: Login, catalogue: AppContext) -> None:
    data = zipped(renamed_pbg())
    assert_problem(upload(client, "/api/processes", data, login("dpmptsp_front_office")), 403, "forbidden")
    assert_problem(upload(client, "/api/processes", data, login("warga")), 403, "forbidden")
    anonymous = upload(client, "/api/processes", data)
    assert_problem(anonymous, 401, "unauthenticated")
    assert anonymous.headers["www-authenticate"] == "Bearer"
    assert versions(client) == [1]
    assert audit_actions(catalogue, "process.deployed") == []


def test_deploy_of_a_broken_package_is_refused_with_its_problems(client: TestClient, login: Login) -> None:
    files = pbg_files()
    del files["forms/kelengkapan.schema.json"]
    response = upload(client, "/api/processes", zipped(files), login("analis"))
    body = assert_problem(response, 422, "package-invalid")
    assert ("process.bpmn", "Task_kelengkapan") in {(p["file"], p["element_id"]) for p in body["problems"]}
    assert versions(client) == [1]


def test_deploy_as_separate_files(client: TestClient, login: Login) -> None:
    files = simple_package("uji_berkas").files
    response = client.post("/api/processes", headers=login("analis"),
                           files=[("files", (name, content, "application/octet-stream"))
                                  for name, content in sorted(files.items())])
    assert response.status_code == 201, response.text
    assert (response.json()["key"], response.json()["version"]) == ("uji_berkas", 1)
    detail = client.get("/api/processes/uji_berkas").json()
    assert sorted(detail["versions"][0]["files"]) == sorted(files)


def test_oversized_upload_is_413(client: TestClient, login: Login) -> None:
    big = b"0" * (20 * 1024 * 1024 + 1)
    response = upload(client, "/api/processes", big, login("analis"))
    assert_problem(response, 413, "too-large")
    assert versions(client) == [1]


# ---------------------------------------------------------------- lint


def test_lint_of_a_clean_package_is_ok(client: TestClient, login: Login) -> None:
    response = upload(client, "/api/processes/lint", zipped(pbg_files()), login("analis"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["ok"] is True
    assert [p for p in body["problems"] if p["severity"] == "error"] == []


def test_lint_reports_every_problem_with_file_and_element(client: TestClient, login: Login) -> None:
    files = pbg_files()
    del files["forms/kelengkapan.schema.json"]
    files["process.bpmn"] = files["process.bpmn"].replace(b"[pupr.tpa]", b"[Bukan Peran]")
    response = upload(client, "/api/processes/lint", zipped(files), login("analis"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["ok"] is False
    where = {(p["file"], p["element_id"], p["severity"]) for p in body["problems"]}
    assert ("process.bpmn", "Task_kelengkapan", "error") in where
    assert ("process.bpmn", "Lane_tpa", "error") in where
    assert all(p["message"] for p in body["problems"])
    # Linting deploys nothing.
    assert versions(client) == [1]


def test_lint_of_a_non_package_upload_reports_instead_of_failing(client: TestClient, login: Login) -> None:
    response = upload(client, "/api/processes/lint", b"this is not a zip at all", login("admin"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["ok"] is False
    assert body["problems"][0]["file"] == "package.zip"


def test_lint_needs_an_analyst_or_admin(client: TestClient, login: Login) -> None:
    data = zipped(pbg_files())
    assert_problem(upload(client, "/api/processes/lint", data, login("warga")), 403, "forbidden")
    assert_problem(upload(client, "/api/processes/lint", data, login("pupr_tpa")), 403, "forbidden")
    assert_problem(upload(client, "/api/processes/lint", data), 401, "unauthenticated")


def test_lint_without_files_is_a_validation_problem(client: TestClient, login: Login) -> None:
    response = client.post("/api/processes/lint", headers=login("analis"))
    assert_problem(response, 422, "validation")


# ---------------------------------------------------------------- hostile uploads


def test_doctype_entity_bomb_is_refused_not_a_500(client: TestClient, login: Login) -> None:
    files = pbg_files()
    files["process.bpmn"] = BILLION_LAUGHS
    response = upload(client, "/api/processes", zipped(files), login("analis"))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["type"] in ("/api/problems/package-invalid", "/api/problems/unsafe-xml")
    assert "lollol" not in response.text
    assert "DOCTYPE" in response.text
    assert versions(client) == [1]
    linted = upload(client, "/api/processes/lint", zipped(files), login("analis"))
    assert linted.status_code in (200, 422), linted.text
    assert "DOCTYPE" in linted.text
    if linted.status_code == 200:
        assert linted.json()["ok"] is False


def test_garbage_upload_is_422(client: TestClient, login: Login) -> None:
    not_a_zip = upload(client, "/api/processes", b"PK\x03\x04 garbage, not really a zip", login("analis"))
    body = assert_problem(not_a_zip, 422, "package-invalid")
    assert body["problems"][0]["message"] == "not a valid zip file"
    odd_file = upload(client, "/api/processes", b"\x00\x01\x02", login("analis"), name="payload.exe")
    body = assert_problem(odd_file, 422, "package-invalid")
    assert body["problems"][0]["file"] == "payload.exe"
    assert versions(client) == [1]


def test_zip_entry_escaping_the_package_is_never_stored(client: TestClient, login: Login) -> None:
    files = renamed_pbg()
    files["../../etc/evil.txt"] = b"x"
    response = upload(client, "/api/processes", zipped(files, top=""), login("analis"))
    # Either refused outright, or the entry is dropped (dot-segments are skipped like hidden files).
    assert response.status_code in (201, 422), response.text
    detail = client.get("/api/processes/pbg").json()
    for version in detail["versions"]:
        assert not any(".." in name or "evil" in name for name in version["files"])


# ---------------------------------------------------------------- BPMN of a version


def test_bpmn_of_a_version_for_staff(client: TestClient, login: Login) -> None:
    response = client.get("/api/processes/pbg/versions/1/bpmn", headers=login("analis"))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/xml")
    assert 'id="pbg"' in response.text
    assert "Task_kelengkapan" in response.text
    officer = client.get("/api/processes/pbg/versions/1/bpmn", headers=login("pupr_tpa"))
    assert officer.status_code == 200


def test_bpmn_of_a_version_is_not_public(client: TestClient, login: Login) -> None:
    anonymous = client.get("/api/processes/pbg/versions/1/bpmn")
    assert_problem(anonymous, 401, "unauthenticated")
    assert "Task_kelengkapan" not in anonymous.text
    applicant = client.get("/api/processes/pbg/versions/1/bpmn", headers=login("warga"))
    assert_problem(applicant, 403, "forbidden")
    assert "Task_kelengkapan" not in applicant.text


def test_bpmn_of_an_unknown_version_or_process_is_404(client: TestClient, login: Login) -> None:
    assert_problem(client.get("/api/processes/pbg/versions/2/bpmn", headers=login("analis")), 404, "not-found")
    assert_problem(client.get("/api/processes/nope/versions/1/bpmn", headers=login("analis")), 404, "not-found")
    assert_problem(client.get("/api/processes/pbg/versions/0/bpmn", headers=login("analis")), 422, "validation")


def test_bpmn_of_each_version_is_its_own(client: TestClient, login: Login) -> None:
    assert upload(client, "/api/processes", zipped(renamed_pbg()), login("analis")).status_code == 201
    v1 = client.get("/api/processes/pbg/versions/1/bpmn", headers=login("analis")).text
    v2 = client.get("/api/processes/pbg/versions/2/bpmn", headers=login("analis")).text
    assert "Pemeriksaan kelengkapan berkas" in v1
    assert "Pemeriksaan kelengkapan dokumen" in v2
