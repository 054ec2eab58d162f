"""Drafts over HTTP: a new service from nothing, saves with conflicts, publish, who may see what."""
# ruff: noqa: F811 - the fixtures are imported, then named as test arguments

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select

from engine.catalogue import package as packages
from engine.context import AppContext
from engine.models import AuditEntry, DraftFile, Membership, PackageDraft, ProcessVersion, User
from tests.factories import make_analyst
from tests.packages import fill_standard

Login = Callable[[str], str]
NEW_SERVICE = {"kunci": "izin_uji_coba", "nama_id": "Izin Uji Coba", "nama_en": "Trial Permit", "mulai": "kosong",
               "instansi_mode": "baru", "instansi_kode": "dinas_uji", "instansi_jenis": "city_office",
               "instansi_nama_id": "Dinas Uji", "instansi_nama_en": "Test Office",
               "peran_kode": ["loket", "kepala"], "peran_nama_id": ["Petugas loket", "Kepala dinas"],
               "peran_nama_en": ["Counter officer", "Head of office"]}




def start(http: TestClient, token: str, *, standard: bool = True, **changes: object) -> str:
    """Post the new-service form; return the draft page's URL.

    With `standard`, then write the service standard's components over the blank's placeholders
    (lint refuses placeholders), as the analyst does before trying or publishing the service.
    """
    response = http.post("/studio/draf/baru", data={**NEW_SERVICE, **changes, "csrf_token": token},
                         follow_redirects=False)
    assert response.status_code == 303, response.text
    url = str(response.headers["location"])
    if standard:
        current = http.get(f"{url}/berkas", params={"nama": "service.toml"})
        saved = save(http, token, draft_id(url), "service.toml", fill_standard(current.text),
                     int(current.headers["X-Draft-Revision"]))
        assert saved.status_code == 200, saved.text
    return url


def draft_id(url: str) -> int:
    match = re.fullmatch(r"/studio/draf/(\d+)", url)
    assert match is not None, url
    return int(match.group(1))


def save(http: TestClient, token: str, draft: int, name: str, content: str, revision: int | None) -> Response:
    return http.put(f"/studio/draf/{draft}/berkas", params={"nama": name},
                    json={"content": content, "revisi": revision}, headers={"X-CSRF-Token": token})


def test_an_analyst_starts_a_new_service_of_a_new_agency_and_publishes_it(
        client: TestClient, catalogue: AppContext, page_login: Login) -> None:
    token = page_login("analis")
    url = start(client, token)
    page = client.get(url)
    assert page.status_code == 200
    for name in ("process.bpmn", "service.toml", "forms/permohonan.schema.json", "forms/periksa.uischema.json"):
        assert f'data-file="{name}"' in page.text
    assert "Tidak ada masalah ditemukan" in page.text  # the blank template lints clean
    bpmn = client.get(f"{url}/berkas", params={"nama": "process.bpmn"})
    assert "[dinas_uji.loket]" in bpmn.text
    assert "[dinas_uji.kepala]" in bpmn.text
    assert bpmn.headers["content-security-policy"] == "sandbox"

    published = client.post(f"{url}/terbitkan", data={"csrf_token": token}, follow_redirects=False)
    assert published.status_code == 303, published.text
    assert published.headers["location"] == "/studio?diterapkan=izin_uji_coba&versi=1&baru=1"
    with catalogue.sessions() as session:
        version = session.scalar(select(ProcessVersion).where(ProcessVersion.key == "izin_uji_coba"))
        assert version is not None
        assert version.deployed_by == "analis"
        assert session.scalar(select(PackageDraft).where(PackageDraft.key == "izin_uji_coba")) is None
        assert session.scalars(select(DraftFile)).all() == []
        # The analyst who declared the agency now holds its analyst role.
        user = session.scalar(select(User).where(User.username == "analis"))
        assert user is not None
        assert session.scalar(select(Membership).where(Membership.user_id == user.id,
                                                       Membership.role_key == "dinas_uji.analis")) is not None
        actions = [a.action for a in session.scalars(select(AuditEntry).where(AuditEntry.subject == "izin_uji_coba"))]
    assert actions == ["draft.created", "process.deployed"]


def test_a_save_on_an_old_revision_is_a_conflict_naming_who_saved(
        client: TestClient, catalogue: AppContext, page_login: Login) -> None:
    make_analyst(catalogue, "analis_dua", "dpmptsp")
    token = page_login("analis")
    draft = draft_id(start(client, token, instansi_mode="ada", instansi="dpmptsp", peran=["front_office"],
                           peran_kode=[], peran_nama_id=[], peran_nama_en=[]))
    with catalogue.sessions() as session:
        row = session.get(PackageDraft, draft)
        assert row is not None
        loaded = row.revision
    first = save(client, token, draft, "documents/catatan.md", "versi pertama", None)
    assert first.status_code == 200, first.text

    token_two = page_login("analis_dua")  # a second analyst of the same agency edits the same draft
    mine = save(client, token_two, draft, "forms/periksa.uischema.json", '{"ui:order": []}', loaded)
    assert mine.status_code == 200
    body = mine.json()
    assert body["revisi"] == loaded + 2

    token = page_login("analis")
    stale = save(client, token, draft, "forms/periksa.uischema.json", "{}", loaded)
    assert stale.status_code == 409
    detail = stale.json()["detail"]
    assert "analis_dua" in detail
    assert "muat ulang" in detail
    assert stale.json()["conflict"]["by"] == "analis_dua"
    with catalogue.sessions() as session:
        kept = session.get(DraftFile, (draft, "forms/periksa.uischema.json"))
        assert kept is not None
        assert kept.content == b'{"ui:order": []}'  # the other analyst's work is not overwritten
    # A file saved on the revision it was loaded at (another file changed meanwhile) is fine.
    fresh = save(client, token, draft, "documents/catatan.md", "versi kedua", first.json()["revisi"])
    assert fresh.status_code == 200


def test_drafts_are_only_for_the_agency_s_analysts(client: TestClient, catalogue: AppContext,
                                                    page_login: Login) -> None:
    make_analyst(catalogue, "analis_polisi", "polresta")
    token = page_login("analis")
    url = start(client, token, instansi_mode="ada", instansi="dpmptsp", peran=["front_office"], peran_kode=[],
                peran_nama_id=[], peran_nama_en=[])
    draft = draft_id(url)

    other = page_login("analis_polisi")
    assert client.get(url).status_code == 404
    assert client.get(f"{url}/berkas", params={"nama": "service.toml"}).status_code == 404
    assert save(client, other, draft, "service.toml", "key = 'x'", 99).status_code == 404
    assert client.post(f"{url}/terbitkan", data={"csrf_token": other}, follow_redirects=False).status_code == 404
    assert client.get("/studio").status_code == 200
    # An analyst cannot start a draft for an agency that exists and is not theirs.
    refused = client.post("/studio/draf/baru", data={**NEW_SERVICE, "kunci": "punya_orang", "instansi_mode": "ada",
                                                     "instansi": "dpmptsp", "peran": "front_office",
                                                     "csrf_token": other})
    assert refused.status_code == 422
    assert "hanya analis &#39;dpmptsp&#39;" in refused.text

    officer_token = page_login("dpmptsp_front_office")
    assert client.get(url, follow_redirects=False).status_code == 403
    assert save(client, officer_token, draft, "service.toml", "", 1).status_code == 403

    token = page_login("analis")
    without_csrf = client.put(f"{url}/berkas", params={"nama": "x.md"}, json={"content": "x", "revisi": None})
    assert without_csrf.status_code == 403
    assert client.post(f"{url}/hapus", data={}, follow_redirects=False).status_code == 403


def test_a_copy_of_a_service_is_a_new_key_with_the_same_steps(client: TestClient, catalogue: AppContext,
                                                               page_login: Login) -> None:
    token = page_login("analis")
    url = start(client, token, mulai="salin", sumber="skck", kunci="skck_kedua", nama_id="SKCK kedua",
                nama_en="Second SKCK")
    bpmn = client.get(f"{url}/berkas", params={"nama": "process.bpmn"}).text
    assert 'id="skck_kedua"' in bpmn
    assert 'id="skck"' not in bpmn
    assert "Task_penelitian" in bpmn
    service = client.get(f"{url}/berkas", params={"nama": "service.toml"}).text
    assert 'key = "skck_kedua"' in service
    assert "# Service standard of the SKCK" in service  # comments survive the rename
    assert "Tidak ada masalah ditemukan" in client.get(url).text


def test_publishing_over_a_newer_version_needs_a_confirmation(client: TestClient, catalogue: AppContext,
                                                             page_login: Login) -> None:
    token = page_login("analis")
    opened = client.post("/studio/skck/draf", data={"csrf_token": token}, follow_redirects=False)
    assert opened.status_code == 303
    url = opened.headers["location"]
    again = client.post("/studio/skck/draf", data={"csrf_token": token}, follow_redirects=False)
    assert again.headers["location"] == url  # one draft per service
    # Meanwhile someone deploys a new version from a folder (the upload that used to undo studio edits).
    with catalogue.sessions() as session:
        files = {row.name: row.content for row in session.scalars(
            select(DraftFile).where(DraftFile.draft_id == draft_id(url)))}
    files["service.toml"] = files["service.toml"].replace(b"sla_days = 1", b"sla_days = 2")
    upload = client.post("/studio/baru", files={"files": ("skck.zip", packages.to_zip(files), "application/zip")},
                         data={"csrf_token": token}, follow_redirects=False)
    assert upload.status_code == 303, upload.text
    announced = client.get(upload.headers["location"])
    assert "dimulai sebelum versi ini; bandingkan sebelum menerbitkannya" in announced.text
    page = client.get(url)
    assert 'id="newer-version"' in page.text
    save(client, token, draft_id(url), "documents/catatan.md", "catatan", None)
    refused = client.post(f"{url}/terbitkan", data={"csrf_token": token}, follow_redirects=False)
    assert refused.status_code == 409
    assert "diterapkan setelah draf ini dimulai" in refused.text
    published = client.post(f"{url}/terbitkan", data={"csrf_token": token, "timpa": "1"}, follow_redirects=False)
    assert published.status_code == 303
    assert "versi=3" in published.headers["location"]


def test_a_draft_downloads_as_a_zip_deploy_reads_back(client: TestClient, catalogue: AppContext,
                                                      page_login: Login) -> None:
    token = page_login("analis")
    url = start(client, token, standard=False)  # revision 1: the blank as created
    response = client.get(f"{url}/unduh.zip")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/zip"
    assert "izin_uji_coba-draf-r1.zip" in response.headers["content-disposition"]
    package = packages.from_zip(response.content)
    with catalogue.sessions() as session:
        stored = {row.name: row.content for row in session.scalars(
            select(DraftFile).where(DraftFile.draft_id == draft_id(url)))}
    assert package.files == stored


@pytest.mark.parametrize(("changes", "message"), [
    ({"kunci": "Bukan Kode"}, "kode layanan"),
    ({"instansi_kode": "dpmptsp"}, "sudah ada"),
    ({"nama_id": ""}, "wajib diisi"),
    ({"peran_kode": ["Salah!"]}, "kode peran"),
    ({"peran_kode": [], "peran_nama_id": [], "peran_nama_en": []}, "peran petugas"),
])
def test_bad_input_on_the_new_service_form_keeps_what_was_typed(
        client: TestClient, catalogue: AppContext, page_login: Login, changes: dict[str, object],
        message: str) -> None:
    token = page_login("analis")
    response = client.post("/studio/draf/baru", data={**NEW_SERVICE, **changes, "csrf_token": token})
    assert response.status_code == 422
    assert message in response.text
    assert 'value="Trial Permit"' in response.text  # nothing typed is lost
    with catalogue.sessions() as session:
        assert session.scalars(select(PackageDraft)).all() == []


def test_an_upload_for_another_agency_s_service_is_refused(client: TestClient, catalogue: AppContext,
                                                           page_login: Login) -> None:
    make_analyst(catalogue, "analis_polisi", "polresta")
    token = page_login("analis_polisi")
    with catalogue.sessions() as session:
        version = session.scalar(select(ProcessVersion).where(ProcessVersion.key == "pbg"))
        assert version is not None
        from engine.catalogue.versions import version_files

        files = version_files(session, version_id=version.id)
    response = client.post("/studio/baru", files={"files": ("pbg.zip", packages.to_zip(files), "application/zip")},
                           data={"csrf_token": token})
    assert response.status_code == 403
    assert "hanya analis &#39;dpmptsp&#39;" in response.text
