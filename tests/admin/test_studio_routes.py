"""The studio's routes over HTTP: who may open them, lint and deploy of an edited diagram, compare."""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import func, select

from engine.context import AppContext
from engine.models import AuditEntry, ProcessVersion
from tests.conftest import ROOT
from tests.factories import Driver, pbg_application
from tests.packages import simple_package

PBG = (ROOT / "processes" / "pbg" / "process.bpmn").read_text(encoding="utf-8")
Login = Callable[[str], str]




def versions_of(ctx: AppContext, key: str) -> list[int]:
    with ctx.sessions() as session:
        return list(session.scalars(select(ProcessVersion.version).where(ProcessVersion.key == key)
                                    .order_by(ProcessVersion.version)))


def post_xml(http: TestClient, path: str, xml: str, token: str | None, **extra: object) -> Response:
    headers = {"X-CSRF-Token": token} if token else {}
    return http.post(path, json={"xml": xml, **extra}, headers=headers)


def test_visitor_is_sent_to_the_login_page(client: TestClient) -> None:  # noqa: F811
    response = client.get("/studio", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/masuk?next=/studio")


@pytest.mark.parametrize("username", ["warga", "dpmptsp_front_office"])
def test_applicants_and_officers_may_not_open_the_studio(client: TestClient, page_login: Login,  # noqa: F811
                                                         username: str) -> None:
    token = page_login(username)
    assert client.get("/studio").status_code == 403
    assert client.get("/studio/pbg/ubah").status_code == 403
    assert post_xml(client, "/studio/pbg/terapkan", PBG, token).status_code == 403


def test_list_shows_versions_and_running_cases(client: TestClient, catalogue: AppContext,  # noqa: F811
                                               page_login: Login) -> None:
    from engine.directory.actors import SYSTEM

    Driver(catalogue).start("pbg", pbg_application(), SYSTEM)
    page_login("analis")
    page = client.get("/studio").text
    row = re.search(r'<tr data-process="pbg">.*?</tr>', page, re.S)
    assert row is not None
    assert 'href="/studio/pbg/versi/1"' in row.group(0)
    assert 'data-running="1"' in row.group(0)
    assert 'href="/studio/pbg/ubah"' in row.group(0)


def test_version_page_shows_hash_files_and_diagram(client: TestClient, catalogue: AppContext,  # noqa: F811
                                                   page_login: Login) -> None:
    page_login("admin")
    page = client.get("/studio/pbg/versi/1").text
    with catalogue.sessions() as session:
        digest = session.scalar(select(ProcessVersion.content_hash).where(ProcessVersion.key == "pbg"))
    assert digest is not None
    assert digest in page
    assert "forms/kelengkapan.schema.json" in page
    assert "Persetujuan Bangunan Gedung" in page
    xml = json.loads(re.search(r'<script type="application/json" id="bpmn-xml">(.*?)</script>', page, re.S)[1])
    assert 'id="Task_kelengkapan"' in xml


def test_unknown_process_or_version_is_a_404_page(client: TestClient, page_login: Login) -> None:  # noqa: F811
    page_login("analis")
    assert client.get("/studio/tidak_ada/ubah").status_code == 404
    assert client.get("/studio/pbg/versi/99").status_code == 404
    assert client.get("/studio/pbg/banding?a=1&b=7").status_code == 404
    assert client.get("/studio/pb%20g/ubah").status_code == 422


def test_modeler_page_carries_the_package_choices(client: TestClient, page_login: Login) -> None:  # noqa: F811
    page_login("analis")
    page = client.get("/studio/pbg/ubah").text
    data = json.loads(re.search(r'<script type="application/json" id="studio-data">(.*?)</script>', page, re.S)[1])
    assert data["version"] == 1
    assert "kelengkapan.schema.json" in data["forms"]
    assert "kelengkapan.uischema.json" in data["ui_forms"]
    assert "kelengkapan.uischema.json" not in data["forms"]
    assert data["decisions"] == ["retribusi_pbg"]
    assert 'id="Task_kelengkapan"' in data["xml"]


def test_lint_needs_the_csrf_header(client: TestClient, page_login: Login) -> None:  # noqa: F811
    page_login("analis")
    assert post_xml(client, "/studio/pbg/periksa", PBG, None).status_code == 403
    assert post_xml(client, "/studio/pbg/periksa", PBG, "forged.token").status_code == 403


def test_lint_of_the_catalogue_diagram_is_clean(client: TestClient, page_login: Login) -> None:  # noqa: F811
    token = page_login("analis")
    response = post_xml(client, "/studio/pbg/periksa", PBG, token)
    assert response.status_code == 200
    assert response.json() == {"ok": True, "problems": []}


def test_lint_names_the_lane_that_lost_its_role(client: TestClient, page_login: Login) -> None:  # noqa: F811
    token = page_login("analis")
    broken = PBG.replace('name="Tim Profesi Ahli [pupr.tpa]"', 'name="Tim Profesi Ahli"')
    body = post_xml(client, "/studio/pbg/periksa", broken, token).json()
    assert body["ok"] is False
    assert {(p["element_id"], p["severity"]) for p in body["problems"]} == {("Lane_tpa", "error")}


@pytest.mark.parametrize("xml", ["<bpmn:definitions", "<!DOCTYPE x [<!ENTITY a 'b'>]><x>&a;</x>", ""])
def test_lint_of_unreadable_xml_is_a_problem_not_a_failure(client: TestClient, page_login: Login,  # noqa: F811
                                                            xml: str) -> None:
    token = page_login("analis")
    response = post_xml(client, "/studio/pbg/periksa", xml, token)
    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is False
    assert body["problems"][0]["file"] == "process.bpmn"


def test_deploy_with_lint_errors_creates_no_version(client: TestClient, catalogue: AppContext,  # noqa: F811
                                                    page_login: Login) -> None:
    token = page_login("analis")
    broken = PBG.replace('value="kelengkapan.schema.json"', 'value="tidak_ada.schema.json"')
    response = post_xml(client, "/studio/pbg/terapkan", broken, token)
    assert response.status_code == 422
    assert "Task_kelengkapan" in {p["element_id"] for p in response.json()["problems"]}
    assert versions_of(catalogue, "pbg") == [1]


def test_deploy_identical_content_keeps_the_version(client: TestClient, catalogue: AppContext,  # noqa: F811
                                                   page_login: Login) -> None:
    token = page_login("analis")
    body = post_xml(client, "/studio/pbg/terapkan", PBG, token).json()
    assert body["created"] is False
    assert body["version"] == 1
    assert versions_of(catalogue, "pbg") == [1]
    assert "tidak ada versi baru" in client.get(body["redirect"]).text


def test_deploy_edit_then_compare(client: TestClient, catalogue: AppContext, page_login: Login) -> None:  # noqa: F811
    token = page_login("analis")
    edited = PBG.replace('name="Pemeriksaan kelengkapan berkas"', 'name="Periksa kelengkapan berkas"')
    response = post_xml(client, "/studio/pbg/terapkan", edited, token, dari=1)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["version"], body["created"]) == (2, True)
    assert versions_of(catalogue, "pbg") == [1, 2]
    with catalogue.sessions() as session:
        assert session.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "process.deployed", AuditEntry.actor == "analis")) == 1
    listing = client.get(body["redirect"]).text
    assert "versi 2 diterapkan" in listing
    assert 'href="/studio/pbg/versi/2"' in listing
    page = client.get("/studio/pbg/banding?a=1&b=2").text
    row = re.search(r'<tr class="diff-changed" data-element="Task_kelengkapan">.*?</tr>', page, re.S)
    assert row is not None
    assert "Pemeriksaan kelengkapan berkas" in row.group(0)
    assert "Periksa kelengkapan berkas" in row.group(0)
    assert 'data-file="process.bpmn"' in page
    assert "+    &lt;bpmn:userTask id=&#34;Task_kelengkapan&#34; name=&#34;Periksa kelengkapan berkas&#34;&gt;" in page


def test_deploy_message_only_for_a_version_that_exists(client: TestClient, page_login: Login) -> None:  # noqa: F811
    page_login("analis")
    assert "diterapkan." not in client.get("/studio?diterapkan=pbg&versi=9&baru=1").text
    assert "pbg: versi 1 diterapkan." in client.get("/studio?diterapkan=pbg&versi=1&baru=1").text


def test_compare_of_a_version_with_itself_says_identical(client: TestClient, page_login: Login) -> None:  # noqa: F811
    page_login("analis")
    page = client.get("/studio/pbg/banding?a=1&b=1").text
    assert "Kedua versi sama persis" in page


def _zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in files.items():
            archive.writestr(f"paket/{name}", content)
    return buffer.getvalue()


def test_upload_a_new_process_package(client: TestClient, catalogue: AppContext, page_login: Login) -> None:  # noqa: F811
    token = page_login("analis")
    data = _zip(simple_package("uji_studio").files)
    response = client.post("/studio/baru", data={"csrf_token": token},
                           files={"files": ("paket.zip", data, "application/zip")}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/studio?diterapkan=uji_studio&versi=1&baru=1"
    assert versions_of(catalogue, "uji_studio") == [1]


def test_upload_of_a_broken_package_lists_its_problems(client: TestClient, page_login: Login) -> None:  # noqa: F811
    token = page_login("analis")
    files = dict(simple_package("uji_rusak").files)
    del files["service.toml"]
    response = client.post("/studio/baru", data={"csrf_token": token},
                           files={"files": ("paket.zip", _zip(files), "application/zip")})
    assert response.status_code == 422
    assert "service.toml tidak ada" in response.text  # the page's language: Indonesian by default
    bad_zip = client.post("/studio/baru", data={"csrf_token": token},
                          files={"files": ("paket.zip", b"not a zip", "application/zip")})
    assert bad_zip.status_code == 422
    assert "bukan berkas zip yang sah" in bad_zip.text
    client.cookies.set("mpp_lang", "en")
    english = client.post("/studio/baru", data={"csrf_token": token},
                          files={"files": ("paket.zip", b"not a zip", "application/zip")})
    assert "not a valid zip file" in english.text


def test_upload_without_csrf_token_is_refused(client: TestClient, page_login: Login) -> None:  # noqa: F811
    page_login("analis")
    response = client.post("/studio/baru", files={"files": ("paket.zip", b"x", "application/zip")})
    assert response.status_code == 403


def test_pages_switch_to_english(client: TestClient, page_login: Login) -> None:  # noqa: F811
    page_login("analis")
    modeler = client.get("/studio/pbg/ubah?lang=en").text
    assert "Check (lint)" in modeler
    assert "Deploy as a new version" in modeler
    assert "Running cases" in client.get("/studio").text  # the language cookie holds
