"""The studio's lifecycle pages over HTTP: retire and restore forms, zip downloads, and what applicants then see."""

from __future__ import annotations

import re
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import select

from engine.catalogue import lifecycle as lifecycle
from engine.catalogue import stewards as stewards
from engine.catalogue.package import from_zip
from engine.context import AppContext
from engine.db import transaction
from engine.directory.actors import actor_for
from engine.models import AuditEntry, ProcessVersion, User
from tests.factories import make_analyst

Login = Callable[[str], str]






def retired(ctx: AppContext, key: str) -> bool:
    with ctx.sessions() as session:
        return lifecycle.is_retired(session, key)


def row_of(page: str, key: str) -> str:
    found = re.search(rf'<tr data-process="{key}".*?</tr>', page, re.S)
    assert found is not None, f"no row for {key}"
    return found.group(0)


def test_retire_and_restore_through_the_studio_forms(client: TestClient, catalogue: AppContext,  # noqa: F811
                                                     page_login: Login) -> None:
    token = page_login("admin")
    row = row_of(client.get("/studio").text, "reklame")
    assert 'action="/studio/reklame/pensiunkan"' in row
    assert 'name="alasan"' in row
    assert "Perkara yang sedang berjalan tetap diselesaikan" in row
    response = client.post("/studio/reklame/pensiunkan", data={"csrf_token": token, "alasan": "digabung ke PBG",
                                                            "yakin": "1"}, follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (303, "/studio?dipensiunkan=reklame#proses-reklame")
    assert retired(catalogue, "reklame")
    listed = client.get(response.headers["location"]).text
    assert "reklame" in listed  # staff still see it
    assert "reklame dipensiunkan: tidak tampil di katalog" in listed
    # The confirmation follows the state, not the query string.
    assert "dipensiunkan: tidak tampil" not in client.get("/studio?dipensiunkan=pbg").text

    token = page_login("warga")
    assert "/layanan/reklame" not in client.get("/").text
    assert "/layanan/pbg" in client.get("/").text
    service = client.get("/layanan/reklame")
    assert "Layanan ini sudah tidak menerima permohonan." in service.text
    assert 'href="/layanan/reklame/ajukan"' not in service.text
    apply = client.get("/layanan/reklame/ajukan")
    assert apply.status_code == 409
    assert "sudah tidak menerima permohonan" in apply.text
    assert client.post("/layanan/reklame/ajukan", data={"csrf_token": token, "channel": "daring"}).status_code == 409

    token = page_login("admin")
    response = client.post("/studio/reklame/aktifkan", data={"csrf_token": token, "alasan": "batal digabung"},
                           follow_redirects=False)
    assert response.status_code == 303
    assert not retired(catalogue, "reklame")
    assert "reklame aktif kembali" in client.get(response.headers["location"]).text
    page_login("warga")
    assert "/layanan/reklame" in client.get("/").text
    assert client.get("/layanan/reklame/ajukan").status_code == 200
    with catalogue.sessions() as session:
        entries = list(session.execute(select(AuditEntry.action, AuditEntry.detail)
                                       .where(AuditEntry.subject == "reklame").order_by(AuditEntry.id)))
    assert [action for action, _ in entries] == ["process.retired", "process.restored"]
    assert entries[0][1] == {"reason": "digabung ke PBG"}


# Remove this marker with the one-line change to admin/studio.py's studio_list it names.
def test_the_list_marks_a_retired_service_and_offers_restore(client: TestClient, catalogue: AppContext,  # noqa: F811
                                                             page_login: Login) -> None:
    token = page_login("admin")
    assert "Dipensiunkan" not in row_of(client.get("/studio").text, "reklame")
    client.post("/studio/reklame/pensiunkan", data={"csrf_token": token, "alasan": "uji"})
    row = row_of(client.get("/studio").text, "reklame")
    assert 'class="badge bad">Dipensiunkan' in row
    assert 'action="/studio/reklame/aktifkan"' in row
    assert 'action="/studio/reklame/pensiunkan"' not in row


def test_forms_without_the_csrf_token_are_refused(client: TestClient, catalogue: AppContext,  # noqa: F811
                                                  page_login: Login) -> None:
    page_login("admin")
    assert client.post("/studio/reklame/pensiunkan", data={"alasan": "x"}).status_code == 403
    assert client.post("/studio/reklame/pensiunkan", data={"alasan": "x", "csrf_token": "palsu"}).status_code == 403
    assert not retired(catalogue, "reklame")
    with transaction(catalogue.sessions) as session:
        admin = session.scalar(select(User).where(User.username == "admin"))
        assert admin is not None
        lifecycle.retire(session, key="reklame", actor=actor_for(session, admin), reason="x")
    assert client.post("/studio/reklame/aktifkan", data={}).status_code == 403
    assert retired(catalogue, "reklame")


def test_download_links_give_the_version_as_a_zip(client: TestClient, catalogue: AppContext,  # noqa: F811
                                                  page_login: Login) -> None:
    page_login("analis")
    assert 'href="/studio/pbg/versi/1/unduh.zip"' in row_of(client.get("/studio").text, "pbg")
    assert 'href="/studio/pbg/versi/1/unduh.zip"' in client.get("/studio/pbg/versi/1").text
    response = client.get("/studio/pbg/versi/1/unduh.zip")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/zip"
    assert response.headers["content-disposition"] == 'attachment; filename="pbg-v1.zip"'
    with catalogue.sessions() as session:
        digest = session.scalar(select(ProcessVersion.content_hash).where(ProcessVersion.key == "pbg"))
    assert from_zip(response.content).content_hash == digest
    assert client.get("/studio/pbg/versi/7/unduh.zip").status_code == 404


def test_others_may_not_retire_restore_or_download(client: TestClient, catalogue: AppContext,  # noqa: F811
                                                   page_login: Login) -> None:
    response = client.post("/studio/reklame/pensiunkan", data={"alasan": "x"}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/masuk")
    for username in ("warga", "dpmptsp_front_office"):
        token = page_login(username)
        assert client.post("/studio/reklame/pensiunkan", data={"csrf_token": token, "alasan": "x"}).status_code == 403
        assert client.get("/studio/reklame/versi/1/unduh.zip").status_code == 403

    make_analyst(catalogue, "analis_dlh", "dlh")  # analyst of another agency
    token = page_login("analis_dlh")
    refused = client.post("/studio/reklame/pensiunkan", data={"csrf_token": token, "alasan": "x"})
    assert refused.status_code == 403
    assert "peran dpmptsp.analis" in refused.text
    assert client.post("/studio/tidak_ada/pensiunkan", data={"csrf_token": token, "alasan": "x"}).status_code == 404
    assert not retired(catalogue, "reklame")

    make_analyst(catalogue, "analis_dpmptsp", "dpmptsp")
    token = page_login("analis_dpmptsp")
    assert client.post("/studio/reklame/pensiunkan", data={"csrf_token": token, "alasan": "x"}).status_code == 200
    assert retired(catalogue, "reklame")
    token = page_login("analis_dlh")
    assert client.post("/studio/reklame/aktifkan", data={"csrf_token": token}).status_code == 403
    assert retired(catalogue, "reklame")
