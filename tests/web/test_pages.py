"""Pages through HTTP: sessions, CSRF, authorization per object, errors as pages, the apply form."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from api.bootstrap import DEMO_PASSWORD
from engine.context import AppContext
from tests.factories import deploy, pbg_slot_files
from tests.packages import money_package

pytestmark = pytest.mark.postgres

APPLICATION = {"nama_pemohon": "Budi Santoso", "nik": "3471010101800001", "email": "budi@example.id",
               "telepon": "081234567890", "alamat_bangunan": "Jl. Malioboro 12", "fungsi_bangunan": "hunian",
               "luas_bangunan": "120.5", "jumlah_lantai": "2", "consultant": "konsultan_griya", "channel": "daring",
               "privacy_notice_accepted": "1"}
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def csrf(client: TestClient, path: str = "/masuk") -> str:
    page = client.get(path)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match, f"no CSRF field on {path}"
    return match.group(1)


def log_in(client: TestClient, username: str) -> None:
    response = client.post("/masuk", data={"username": username, "password": DEMO_PASSWORD, "csrf_token": csrf(client)},
                           follow_redirects=False)
    assert response.status_code == 303, response.text


def apply(client: TestClient, **changes: str) -> tuple[int, str]:
    token = csrf(client, "/layanan/pbg/ajukan")
    response = client.post("/layanan/pbg/ajukan", data={**APPLICATION, **changes, "csrf_token": token},
                           files=[("dokumen", ("ktp.pdf", PDF, "application/pdf")), *pbg_slot_files()])
    return response.status_code, response.text


def front_office_task(client: TestClient) -> tuple[TestClient, str, str]:
    """A citizen applies for PBG; return the front office's client, its open task's id and the task form's token."""
    log_in(client, "warga")
    assert apply(client)[0] == 200
    front = TestClient(client.app)
    log_in(front, "dpmptsp_front_office")
    task_id = re.findall(r'href="/tugas/([0-9a-f-]{36})"', front.get("/kotak-tugas").text)[0]
    return front, task_id, csrf(front, f"/tugas/{task_id}")


def test_a_form_without_its_csrf_token_is_refused(client: TestClient) -> None:
    client.get("/masuk")
    response = client.post("/masuk", data={"username": "warga", "password": DEMO_PASSWORD})
    assert response.status_code == 403
    assert "Formulir kedaluwarsa" in response.text
    forged = client.post("/masuk", data={"username": "warga", "password": DEMO_PASSWORD, "csrf_token": "abc.def"})
    assert forged.status_code == 403
    assert "mpp_session" not in forged.cookies


def test_login_sets_a_hardened_session_and_refuses_open_redirects(client: TestClient) -> None:
    wrong = client.post("/masuk", data={"username": "warga", "password": "nope", "csrf_token": csrf(client)})
    assert wrong.status_code == 401
    assert "Nama pengguna atau kata sandi salah" in wrong.text
    response = client.post("/masuk", data={"username": "warga", "password": DEMO_PASSWORD, "next": "//evil.example/x",
                                           "csrf_token": csrf(client)}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/permohonan-saya"
    cookie = next(h for h in response.headers.get_list("set-cookie") if h.startswith("mpp_session="))
    assert "HttpOnly" in cookie
    assert "samesite=lax" in cookie.lower()


def test_staff_pages_send_visitors_to_login_and_refuse_applicants(client: TestClient) -> None:
    response = client.get("/kotak-tugas", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/masuk?next=/kotak-tugas"
    log_in(client, "warga")
    forbidden = client.get("/kotak-tugas")
    assert forbidden.status_code == 403
    assert "Tidak diizinkan" in forbidden.text


def test_apply_keeps_input_and_files_on_error_then_files_once(client: TestClient) -> None:
    log_in(client, "warga")
    status, html = apply(client, nik="12345")
    assert status == 422
    assert 'id="f-nik-error"' in html
    assert 'value="Budi Santoso"' in html
    kept = re.findall(r'name="dokumen__keep" value="(file:\d+)"', html)
    assert len(kept) == 1
    assert client.get("/permohonan-saya").text.count("MPP-") == 0  # nothing was filed

    # The required documents were kept too: sent back ticked, they answer their requirements.
    slots = dict(re.findall(r'name="(doc__\w+__keep)" value="(file:\d+)"', html))
    assert set(slots) == {"doc__ktp__keep", "doc__bukti_tanah__keep"}
    token = csrf(client, "/layanan/pbg/ajukan")
    response = client.post("/layanan/pbg/ajukan",
                           data={**APPLICATION, **slots, "dokumen__keep": kept[0], "csrf_token": token})
    assert response.status_code == 200
    number = re.search(r'id="tracking-number">(MPP-[0-9A-Z-]+)<', response.text)
    assert number
    assert client.get(f"/lacak/{number.group(1)}").status_code == 200  # the applicant's own case
    assert client.get("/permohonan-saya").text.count(f'href="/lacak/{number.group(1)}"') == 1


def test_a_refused_file_type_is_named_beside_its_field(client: TestClient) -> None:
    log_in(client, "warga")
    token = csrf(client, "/layanan/pbg/ajukan")
    response = client.post("/layanan/pbg/ajukan", data={**APPLICATION, "csrf_token": token},
                           files={"dokumen": ("evil.html", b"<script>alert(1)</script>", "application/pdf")})
    assert response.status_code == 422
    assert "evil.html" in response.text
    assert 'id="f-dokumen-error"' in response.text


def test_tracking_needs_the_pin_once_and_hides_other_cases(client: TestClient) -> None:
    log_in(client, "warga")
    status, html = apply(client)
    assert status == 200
    number = re.search(r'id="tracking-number">(MPP-[0-9A-Z-]+)<', html).group(1)  # type: ignore[union-attr]
    pin = re.search(r'id="tracking-pin">(\d{6})<', html).group(1)  # type: ignore[union-attr]
    stranger = TestClient(client.app)
    assert stranger.get(f"/lacak/{number}", follow_redirects=False).status_code == 303
    bad = stranger.post("/lacak", data={"number": number, "pin": "000000" if pin != "000000" else "111111",
                                        "csrf_token": csrf(stranger, "/lacak")})
    assert bad.status_code == 404
    assert "tidak cocok" in bad.text
    good = stranger.post("/lacak", data={"number": number, "pin": pin, "csrf_token": csrf(stranger, "/lacak")},
                         follow_redirects=False)
    assert good.status_code == 303
    page = stranger.get(f"/lacak/{number}")
    assert page.status_code == 200
    assert "Pemeriksaan kelengkapan" in page.text or "Diproses" in page.text


def test_officers_see_only_their_roles_tasks_and_cases(client: TestClient) -> None:
    log_in(client, "warga")
    status, _html = apply(client)
    assert status == 200
    front = TestClient(client.app)
    log_in(front, "dpmptsp_front_office")
    inbox = front.get("/kotak-tugas")
    task_ids = re.findall(r'href="/tugas/([0-9a-f-]{36})"', inbox.text)
    assert len(task_ids) == 1
    tpa = TestClient(client.app)
    log_in(tpa, "pupr_tpa")
    assert re.findall(r'href="/tugas/([0-9a-f-]{36})"', tpa.get("/kotak-tugas").text) == []
    assert tpa.get(f"/tugas/{task_ids[0]}").status_code == 403
    case_id = re.search(r'href="/kasus/(\d+)"', front.get(f"/tugas/{task_ids[0]}").text).group(1)  # type: ignore[union-attr]
    assert front.get(f"/kasus/{case_id}").status_code == 200
    assert tpa.get(f"/kasus/{case_id}").status_code == 404
    assert tpa.get(f"/kasus/{case_id}/diagram.json").status_code == 404
    file_id = re.search(r'href="/berkas/(\d+)"', front.get(f"/kasus/{case_id}").text).group(1)  # type: ignore[union-attr]
    assert front.get(f"/berkas/{file_id}").content.startswith(b"%PDF")
    assert tpa.get(f"/berkas/{file_id}").status_code == 404


def test_a_file_with_any_name_opens_for_the_officer(client: TestClient) -> None:
    log_in(client, "warga")
    token = csrf(client, "/layanan/pbg/ajukan")
    filed = client.post("/layanan/pbg/ajukan", data={**APPLICATION, "csrf_token": token},
                        files=[("dokumen", ("文件 KTP.pdf", PDF, "application/pdf")), *pbg_slot_files()])
    assert filed.status_code == 200
    front = TestClient(client.app)
    log_in(front, "dpmptsp_front_office")
    task_id = re.findall(r'href="/tugas/([0-9a-f-]{36})"', front.get("/kotak-tugas").text)[0]
    case_id = re.search(r'href="/kasus/(\d+)"', front.get(f"/tugas/{task_id}").text).group(1)  # type: ignore[union-attr]
    file_id = re.search(r'href="/berkas/(\d+)"', front.get(f"/kasus/{case_id}").text).group(1)  # type: ignore[union-attr]
    download = front.get(f"/berkas/{file_id}")
    assert download.status_code == 200  # was a 500: the name went into a latin-1 header as it was
    assert download.content.startswith(b"%PDF")
    disposition = download.headers["content-disposition"]
    assert disposition == ('inline; filename="KTP.pdf"; '  # an ASCII fallback for old clients, then the real name
                           "filename*=UTF-8''%E6%96%87%E4%BB%B6%20KTP.pdf")


def test_a_number_too_large_to_hold_is_named_beside_its_field_on_the_forms(
        client: TestClient, catalogue: AppContext) -> None:
    deploy(catalogue, money_package())
    log_in(client, "warga")
    for number in ("9.99e+999999", "1" + "0" * 400):
        token = csrf(client, "/layanan/uang/ajukan")
        refused = client.post("/layanan/uang/ajukan", data={"harga": number, "jumlah": "2", "channel": "daring",
                                                             "privacy_notice_accepted": "1", "csrf_token": token})
        assert refused.status_code == 422, number
        assert 'id="f-harga-error"' in refused.text
        assert "Angka terlalu besar" in refused.text
    assert "MPP-" not in client.get("/permohonan-saya").text  # nothing was filed
    token = csrf(client, "/layanan/uang/ajukan")
    filed = client.post("/layanan/uang/ajukan", data={"harga": "1500.25", "jumlah": "2", "channel": "daring",
                                                      "privacy_notice_accepted": "1", "csrf_token": token})
    assert filed.status_code == 200

    admin = {"Authorization": "Bearer " + client.post(
        "/api/auth/token", data={"username": "admin", "password": DEMO_PASSWORD}).json()["access_token"]}
    user = client.post("/api/users", json={"username": "petugas_uang", "password": DEMO_PASSWORD,
                                           "platform_role": "officer"}, headers=admin).json()
    client.post(f"/api/users/{user['id']}/memberships", json={"role_key": "dinas.petugas"}, headers=admin)
    officer = TestClient(client.app)
    log_in(officer, "petugas_uang")
    task_id = re.findall(r'href="/tugas/([0-9a-f-]{36})"', officer.get("/kotak-tugas").text)[0]
    token = csrf(officer, f"/tugas/{task_id}")
    refused = officer.post(f"/tugas/{task_id}", data={"catatan": "ok", "biaya": "1e999999", "csrf_token": token})
    assert refused.status_code == 422
    assert 'id="f-biaya-error"' in refused.text
    assert "Angka terlalu besar" in refused.text
    assert officer.get(f"/tugas/{task_id}").status_code == 200  # still open


def test_a_task_form_error_is_shown_beside_the_field_and_nothing_moves(client: TestClient) -> None:
    front, task_id, token = front_office_task(client)
    refused = front.post(f"/tugas/{task_id}", data={"kelengkapan": "hampir", "csrf_token": token})
    assert refused.status_code == 422
    assert 'id="f-kelengkapan-error"' in refused.text
    assert front.get(f"/tugas/{task_id}").status_code == 200  # still open
    done = front.post(f"/tugas/{task_id}", data={"kelengkapan": "lengkap", "csrf_token": token},
                      follow_redirects=False)
    assert done.status_code == 303
    assert front.get(f"/tugas/{task_id}").status_code in (404, 409)


def test_unknown_pages_and_bad_ids_get_an_error_page_not_json(client: TestClient) -> None:
    missing = client.get("/layanan/tidak-ada")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("text/html")
    assert "Tidak ditemukan" in missing.text
    english = client.get("/layanan/tidak-ada?lang=en")
    assert "Not found" in english.text
    log_in(client, "dpmptsp_front_office")
    for path in ("/kasus/99999999999999999999", "/berkas/99999999999999999999", "/kasus/0/diagram.json"):
        refused = client.get(path)  # a number no database column holds: a clear 422 page, never a 500
        assert refused.status_code == 422, path
        assert "Invalid input" in refused.text  # the language chosen above (?lang=en) sticks
    api = client.get("/api/cases/999999")
    assert api.headers["content-type"].startswith("application/problem+json")


def test_front_office_files_for_a_walk_in_applicant_and_for_an_account(client: TestClient) -> None:
    log_in(client, "dpmptsp_front_office")
    page = client.get("/layanan/pbg/ajukan")
    assert 'name="applicant_username"' in page.text  # staff see the "on behalf of" field
    status, html = apply(client, channel="tatap_muka")
    assert status == 200  # a walk-in without an account: the PIN is printed for them
    assert re.search(r'id="tracking-pin">\d{6}<', html)
    status, html = apply(client, applicant_username="admin")
    assert status == 422
    assert "not an applicant account" in html
    status, html = apply(client, applicant_username="warga")
    assert status == 200
    number = re.search(r'id="tracking-number">(MPP-[0-9A-Z-]+)<', html).group(1)  # type: ignore[union-attr]
    own = TestClient(client.app)
    log_in(own, "warga")
    assert f'href="/lacak/{number}"' in own.get("/permohonan-saya").text


def test_applicants_cannot_file_for_others_and_analysts_cannot_file(client: TestClient) -> None:
    log_in(client, "warga")
    assert 'name="applicant_username"' not in client.get("/layanan/pbg/ajukan").text
    status, html = apply(client, applicant_username="someone_else")
    assert status == 422
    assert "apply for themselves only" in html
    analyst = TestClient(client.app)
    log_in(analyst, "analis")
    assert analyst.get("/layanan/pbg/ajukan").status_code == 403
