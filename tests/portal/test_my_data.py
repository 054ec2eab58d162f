"""The "Data pribadi saya" page over HTTP: only for the logged-in holder, their data only, corrections checked."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from sqlalchemy import select

from engine.context import AppContext
from engine.directory.actors import actor_for
from engine.models import Case, User
from tests.engine.test_retention import NAME, NIK, _closed_case, privacy_package
from tests.factories import deploy, make_user
from tests.web.test_pages import csrf, log_in


def _cases(ctx: AppContext) -> tuple[str, str]:
    """File one closed case for the demo applicant `warga` and one for another citizen; return their numbers."""
    deploy(ctx, privacy_package())
    officer = make_user(ctx, "petugas_privasi", "dinas.petugas")
    with ctx.sessions() as session:
        warga = actor_for(session, session.scalars(select(User).where(User.username == "warga")).one())
    mine = _closed_case(ctx, warga, officer)
    theirs = _closed_case(ctx, make_user(ctx, "tetangga"), officer,
                          data={"nama_pemohon": "Bambang Tetangga", "nik": "3471015001900999"})
    with ctx.sessions() as session:
        numbers = [session.get(Case, c).tracking_number for c in (mine, theirs)]  # type: ignore[union-attr]
    return numbers[0], numbers[1]


def test_the_page_and_downloads_need_a_login_and_hold_only_the_holders_data(
        client: TestClient, catalogue: AppContext) -> None:
    mine, theirs = _cases(catalogue)
    for path in ("/data-saya", "/data-saya/unduh.json", "/data-saya/unduh.pdf"):
        assert client.get(path, follow_redirects=False).status_code in (303, 401)
    log_in(client, "warga")
    page = client.get("/data-saya")
    assert page.status_code == 200
    assert mine in page.text
    assert NAME in page.text
    assert theirs not in page.text
    exported = client.get("/data-saya/unduh.json")
    assert exported.headers["content-type"].startswith("application/json")
    assert "no-store" in exported.headers["cache-control"]
    data = json.loads(exported.text)
    assert [c["tracking_number"] for c in data["cases"]] == [mine]
    assert NIK in exported.text
    assert "Bambang Tetangga" not in exported.text
    assert "3471015001900999" not in exported.text
    pdf = client.get("/data-saya/unduh.pdf?lang=en")
    assert pdf.content.startswith(b"%PDF")


def test_a_correction_request_names_what_is_wrong_and_never_reaches_anothers_case(
        client: TestClient, catalogue: AppContext) -> None:
    mine, theirs = _cases(catalogue)
    log_in(client, "warga")
    base = {"nilai_baru": "081299990000", "alasan": "Nomor telepon saya sudah berganti."}
    empty = client.post("/data-saya/koreksi", data={"csrf_token": csrf(client, "/data-saya"), **base,
                                                    "privacy_notice_accepted": "1"})
    assert empty.status_code == 422
    assert "Pilih isian yang keliru." in empty.text
    other = client.post("/data-saya/koreksi", data={"csrf_token": csrf(client, "/data-saya"), **base,
                                                    "isian": f"{theirs}|telepon", "privacy_notice_accepted": "1"})
    assert other.status_code == 422
    assert "tidak ditemukan" in other.text
    wrong = client.post("/data-saya/koreksi", data={"csrf_token": csrf(client, "/data-saya"), **base,
                                                    "nilai_baru": "tiga", "isian": f"{mine}|jumlah",
                                                    "privacy_notice_accepted": "1"})
    assert wrong.status_code == 422
    assert 'id="f-nilai_baru-error"' in wrong.text
    filed = client.post("/data-saya/koreksi", data={"csrf_token": csrf(client, "/data-saya"), **base,
                                                    "isian": f"{mine}|telepon", "privacy_notice_accepted": "1"},
                        follow_redirects=False)
    assert filed.status_code == 303
    assert filed.headers["location"].startswith("/data-saya?koreksi=MPP-")
    with catalogue.sessions() as session:
        request = session.scalars(select(Case).where(Case.process_key == "koreksi_data")).one()
        assert request.data["nomor_permohonan"] == mine
        assert request.data["instansi_koreksi"] == "dinas"
