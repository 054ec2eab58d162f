"""Who sees a citizen's data in full (issue 20): the task's officer and the applicant; others masked, revealing
with a reason; every full view recorded once; the data-protection officer's review; the tracking page's list."""
# ruff: noqa: F811 - the API login fixture is imported, then named as a test argument

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from engine.context import AppContext
from engine.directory import service as directory
from engine.models import PersonalDataAccess
from engine.privacy.access import DPO_ROLE
from tests.admin.conftest import Login
from tests.api.conftest import login  # noqa: F401 - the fixture
from tests.factories import api_upload, deploy
from tests.personal_data import KEY, NAME, NIK, NIK_MASKED, make_staff, personal_package

ApiLogin = Callable[[str], dict[str, str]]


@dataclass
class Filed:
    case_id: int
    number: str
    task_id: str
    file_id: int


@pytest.fixture
def filed(catalogue: AppContext, client: TestClient, login: ApiLogin) -> Filed:
    """A case of the test service filed by `warga` with a NIK, a name and a KTP scan, waiting for `petugas_uji`."""
    deploy(catalogue, personal_package())
    make_staff(catalogue, "petugas_uji", "dinas.petugas")
    make_staff(catalogue, "penyelia_uji", "dinas.supervisor")
    ktp = api_upload(client, login("warga"), "ktp.pdf")
    response = client.post("/api/cases", headers=login("warga"), json={
        "process_key": KEY, "data": {"nik": NIK, "nama_pemohon": NAME, "harga": 10, "jumlah": 2},
        "documents": {"ktp": [ktp]}, "privacy_notice_accepted": True})
    assert response.status_code == 201, response.text
    created = response.json()
    tasks = client.get("/api/tasks", headers=login("petugas_uji")).json()["items"]
    return Filed(created["id"], created["tracking_number"], tasks[0]["id"], int(ktp.removeprefix("file:")))


def _records(ctx: AppContext) -> list[PersonalDataAccess]:
    with ctx.sessions() as session:
        return list(session.scalars(select(PersonalDataAccess).order_by(PersonalDataAccess.id)))


def test_the_task_officer_sees_the_nik_in_full_and_the_view_is_recorded_once(
        catalogue: AppContext, client: TestClient, page_login: Login, filed: Filed) -> None:
    page_login("petugas_uji")
    page = client.get(f"/tugas/{filed.task_id}", headers={"User-Agent": "uji-browser/1"})
    assert page.status_code == 200
    assert NIK in page.text
    assert NAME in page.text
    assert "Tampilkan data pribadi" not in page.text
    [record] = _records(catalogue)
    assert (record.case_id, record.username, record.how, record.task_id) == (
        filed.case_id, "petugas_uji", "task", filed.task_id)
    assert (record.role, record.agency, record.reason, record.user_agent) == (
        "dinas.petugas", "dinas", None, "uji-browser/1")
    assert record.ip
    assert record.user_id is not None
    # The case page reads in full for the officer who may work its open task too: a second view, for that task.
    case_page = client.get(f"/kasus/{filed.case_id}")
    assert NIK in case_page.text
    assert "Tampilkan data pribadi" not in case_page.text
    assert [(r.how, r.task_id) for r in _records(catalogue)] == [("task", filed.task_id)] * 2


def test_a_supervisor_sees_masked_values_and_reveals_them_with_a_reason(
        catalogue: AppContext, client: TestClient, page_login: Login, filed: Filed) -> None:
    token = page_login("penyelia_uji")
    page = client.get(f"/kasus/{filed.case_id}")
    assert page.status_code == 200
    assert NIK_MASKED in page.text
    assert NIK not in page.text
    assert NAME not in page.text
    assert "Tampilkan data pribadi" in page.text
    read_only_task = client.get(f"/tugas/{filed.task_id}")
    assert read_only_task.status_code == 200
    assert NIK not in read_only_task.text
    assert _records(catalogue) == []  # masked views are not recorded

    refused = client.post(f"/kasus/{filed.case_id}/data-pribadi", data={"csrf_token": token, "reason": "  "})
    assert refused.status_code == 400
    assert "alasan" in refused.text
    assert NIK not in refused.text
    assert _records(catalogue) == []

    shown = client.post(f"/kasus/{filed.case_id}/data-pribadi",
                        data={"csrf_token": token, "reason": "Pengaduan pemohon tentang data"})
    assert shown.status_code == 200
    assert NIK in shown.text
    assert NAME in shown.text
    [record] = _records(catalogue)
    assert (record.username, record.how, record.reason, record.task_id) == (
        "penyelia_uji", "reveal", "Pengaduan pemohon tentang data", None)
    assert (record.role, record.agency) == ("dinas.supervisor", "dinas")
    assert NIK not in client.get(f"/kasus/{filed.case_id}").text  # for that view only


def test_a_reveal_without_a_reason_speaks_english_to_an_english_reader(
        client: TestClient, page_login: Login, filed: Filed) -> None:
    token = page_login("penyelia_uji")
    client.get("/?lang=en")
    refused = client.post(f"/kasus/{filed.case_id}/data-pribadi", data={"csrf_token": token, "reason": ""})
    assert refused.status_code == 400
    assert "give a reason" in refused.text


def test_an_officer_of_another_agency_still_gets_not_found(
        catalogue: AppContext, client: TestClient, page_login: Login, filed: Filed) -> None:
    token = page_login("pupr_tpa")
    assert client.get(f"/kasus/{filed.case_id}").status_code == 404
    assert client.post(f"/kasus/{filed.case_id}/data-pribadi",
                       data={"csrf_token": token, "reason": "ingin tahu"}).status_code == 404
    assert client.post(f"/berkas/{filed.file_id}", data={"csrf_token": token, "reason": "x"}).status_code == 404
    assert _records(catalogue) == []


def test_the_ktp_scan_goes_to_the_task_officer_and_to_others_only_with_a_reason(
        catalogue: AppContext, client: TestClient, page_login: Login, filed: Filed) -> None:
    page_login("petugas_uji")
    sent = client.get(f"/berkas/{filed.file_id}")
    assert sent.status_code == 200
    assert sent.content.startswith(b"%PDF")
    token = page_login("penyelia_uji")
    asked = client.get(f"/berkas/{filed.file_id}")
    assert asked.status_code == 403
    assert not asked.content.startswith(b"%PDF")
    assert 'name="reason"' in asked.text
    assert client.post(f"/berkas/{filed.file_id}", data={"csrf_token": token, "reason": ""}).status_code == 400
    revealed = client.post(f"/berkas/{filed.file_id}", data={"csrf_token": token, "reason": "Cek keaslian KTP"})
    assert revealed.status_code == 200
    assert revealed.content.startswith(b"%PDF")
    file_view, reveal = _records(catalogue)
    assert (file_view.username, file_view.how, file_view.file_id, file_view.reason) == (
        "petugas_uji", "file", filed.file_id, None)
    assert (reveal.username, reveal.how, reveal.file_id, reveal.reason) == (
        "penyelia_uji", "reveal", filed.file_id, "Cek keaslian KTP")


def test_the_api_masks_for_staff_reveals_with_a_reason_and_shows_the_applicant_everything(
        catalogue: AppContext, client: TestClient, login: ApiLogin, filed: Filed) -> None:
    supervisor = login("penyelia_uji")
    masked = client.get(f"/api/cases/{filed.case_id}", headers=supervisor)
    assert masked.status_code == 200
    assert masked.json()["data"]["nik"] == NIK_MASKED
    assert masked.json()["data"]["harga"] == 10
    history = client.get(f"/api/cases/{filed.case_id}/events", headers=supervisor)
    assert history.status_code == 200
    assert NIK not in history.text
    assert NAME not in history.text
    assert client.get(f"/api/cases/{filed.case_id}?reveal=true", headers=supervisor).status_code == 400
    assert _records(catalogue) == []
    shown = client.get(f"/api/cases/{filed.case_id}", headers=supervisor,
                       params={"reveal": "true", "reason": "Verifikasi permintaan Ombudsman"})
    assert shown.status_code == 200
    assert shown.json()["data"]["nik"] == NIK
    own = client.get(f"/api/cases/{filed.case_id}", headers=login("warga"))
    assert own.json()["data"]["nik"] == NIK
    assert NIK in client.get(
        f"/api/cases/{filed.case_id}/events", headers=login("warga")).text
    task = client.get(f"/api/tasks/{filed.task_id}", headers=login("petugas_uji"))
    assert task.json()["case_data"]["nik"] == NIK
    assert client.get(f"/api/cases/{filed.case_id}", headers=login("petugas_uji")).json()["data"]["nik"] == NIK
    [revealed, worked, read] = _records(catalogue)  # the applicant's own views are not recorded
    assert (revealed.how, revealed.reason, revealed.username) == ("api", "Verifikasi permintaan Ombudsman",
                                                                  "penyelia_uji")
    assert (worked.how, worked.task_id, read.how, read.task_id) == ("task", filed.task_id, "task", filed.task_id)


def _reveal(client: TestClient, page_login: Login, filed: Filed, username: str, reason: str) -> None:
    token = page_login(username)
    assert client.post(f"/kasus/{filed.case_id}/data-pribadi",
                       data={"csrf_token": token, "reason": reason}).status_code == 200


def test_the_data_protection_officer_filters_the_record_and_exports_it(
        catalogue: AppContext, client: TestClient, page_login: Login, filed: Filed) -> None:
    page_login("petugas_uji")
    client.get(f"/tugas/{filed.task_id}")
    for n in range(5):
        _reveal(client, page_login, filed, "penyelia_uji", f"Pemeriksaan ke-{n}")
    page_login("ppdp")
    page = client.get("/admin/akses-data")
    assert page.status_code == 200
    assert "Pemeriksaan ke-4" in page.text
    assert filed.number in page.text
    assert NIK not in page.text
    assert 'id="frequent"' in page.text  # five reveals stand out when no one else reveals
    only_task = client.get("/admin/akses-data", params={"cara": "task"})
    assert only_task.text.count('data-how="task"') == 1
    assert 'data-how="reveal"' not in only_task.text
    by_officer = client.get("/admin/akses-data", params={"petugas": "petugas_uji"})
    assert 'data-how="reveal"' not in by_officer.text
    by_number = client.get("/admin/akses-data", params={"nomor": "MPP-0000-0000"})
    assert 'id="accesses-none"' in by_number.text
    by_agency = client.get("/admin/akses-data", params={"instansi": "dinas", "dari": "2000-01-01"})
    assert by_agency.text.count("data-how=") == 6
    assert client.get("/admin/akses-data", params={"dari": "kemarin"}).status_code == 400
    assert client.get("/admin/akses-data", params={"cara": "semua"}).status_code == 400
    export = client.get("/admin/akses-data.csv", params={"cara": "reveal"})
    assert export.status_code == 200
    assert export.headers["content-type"].startswith("text/csv")
    lines = export.text.strip().splitlines()
    assert len(lines) == 6
    assert filed.number in lines[1]
    assert NIK not in export.text


def test_only_the_data_protection_officer_and_admins_open_the_review(
        catalogue: AppContext, client: TestClient, page_login: Login, filed: Filed) -> None:
    for username in ("petugas_uji", "penyelia_uji"):
        page_login(username)
        assert client.get("/admin/akses-data").status_code == 403
        assert client.get("/admin/akses-data.csv").status_code == 403
    page_login("warga")
    assert client.get("/admin/akses-data").status_code == 403
    page_login("admin")
    assert client.get("/admin/akses-data").status_code == 200
    with catalogue.sessions() as session:
        assert ("pemda.ppdp", "pemda") in directory.memberships_of(session, directory.get_user(session, "ppdp").id)
    assert DPO_ROLE == "pemda.ppdp"


def test_the_tracking_page_lists_the_agencies_that_opened_the_data_without_names(
        catalogue: AppContext, client: TestClient, page_login: Login, filed: Filed) -> None:
    page_login("petugas_uji")
    client.get(f"/tugas/{filed.task_id}")
    _reveal(client, page_login, filed, "penyelia_uji", "Pemeriksaan pengaduan")
    page_login("warga")
    page = client.get(f"/lacak/{filed.number}")
    assert page.status_code == 200
    assert "Siapa yang membuka data Anda" in page.text
    section = page.text.split('id="openings"', 1)[1].split("</section>", 1)[0]  # not the accepted notice below it
    assert section.count("Dinas Uji") == 2
    assert "dibuka dengan alasan" in section
    assert "untuk mengerjakan tugas" in section
    assert "petugas_uji" not in page.text
    assert "penyelia_uji" not in page.text
    assert "Pemeriksaan pengaduan" not in page.text  # the reason is for the officer's review, not the page
