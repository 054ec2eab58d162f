"""Priority service and jemput bola: case attributes set when filing, the priority queue, the outreach filter."""
# ruff: noqa: F811 - the fixtures are imported, then named as test arguments

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from tests.admin.conftest import page_login  # noqa: F401 - fixture
from tests.api.test_tasks import FRONT, make_applicant
from tests.factories import pbg_application, pbg_documents

Login = Callable[[str], dict[str, str]]
PageLogin = Callable[[str], str]
AKTA = {"nama_bayi": "Sekar Ayu", "tanggal_lahir": "2026-02-20", "tempat_lahir": "Yogyakarta",
        "jenis_kelamin": "perempuan", "nik_ayah": "3471010101900001", "nik_ibu": "3471014101920002",
        "nomor_kk": "3471010202020003"}
VISIT = {"reason": "disabilitas", "address": "Jl. Kaliurang 5, Sleman", "contact": "0812 3456 7890"}


def file_pbg(client: TestClient, login: Login, username: str = "warga", **extra: Any) -> Any:
    body = {"process_key": "pbg", "data": pbg_application(nama_pemohon=extra.pop("name", "Budi Santoso")),
            "channel": "daring", "documents": pbg_documents(client, login(username)), "privacy_notice_accepted": True,
            **extra}
    return client.post("/api/cases", json=body, headers=login(username))


def rows(html: str) -> list[str]:
    return re.findall(r'data-tracking="([^"]+)"', html)


def test_priority_and_jemput_bola_are_kept_on_the_case(client: TestClient, login: Login) -> None:
    created = client.post("/api/cases", headers=login("warga"), json={
        "process_key": "akta_kelahiran", "channel": "tatap_muka", "data": AKTA, "priority": "lansia",
        "outreach": {**VISIT, "reason": "sakit"}, "privacy_notice_accepted": True})
    assert created.status_code == 201, created.text
    case = client.get(f"/api/cases/{created.json()['id']}", headers=login("warga")).json()
    assert case["priority"] == "lansia"
    assert case["outreach"] == {"reason": "sakit", "address": "Jl. Kaliurang 5, Sleman", "contact": "0812 3456 7890"}
    plain = file_pbg(client, login)
    assert client.get(f"/api/cases/{plain.json()['id']}", headers=login("warga")).json()["priority"] is None


def test_jemput_bola_is_refused_where_the_service_does_not_offer_it(client: TestClient, login: Login) -> None:
    refused = file_pbg(client, login, outreach=VISIT)  # a PBG site visit is a technical inspection, not outreach
    assert refused.status_code == 422, refused.text
    problem = refused.json()
    assert "does not offer jemput bola" in problem["detail"]
    assert client.get("/api/cases", headers=login("warga")).json()["total"] == 0  # nothing was filed
    wrong_group = client.post("/api/cases", headers=login("warga"), json={
        "process_key": "skck", "channel": "tatap_muka", "data": {}, "outreach": {**VISIT, "reason": "sakit"},
        "privacy_notice_accepted": True})
    assert wrong_group.status_code == 422
    assert "only to: disabilitas, lansia" in wrong_group.json()["detail"]
    unknown = file_pbg(client, login, priority="vip")
    assert unknown.status_code == 422, unknown.text


def test_an_applicant_cannot_set_someone_elses_priority(client: TestClient, login: Login) -> None:
    make_applicant(client, login, "tetangga")
    other = file_pbg(client, login, applicant_username="tetangga", priority="disabilitas")
    assert other.status_code == 403, other.text
    # The front office files for a walk-in applicant, priority included.
    walk_in = file_pbg(client, login, FRONT, applicant_username="tetangga", priority="hamil")
    assert walk_in.status_code == 201, walk_in.text
    case = client.get(f"/api/cases/{walk_in.json()['id']}", headers=login("tetangga")).json()
    assert case["priority"] == "hamil"


def test_the_inbox_puts_priority_cases_first_and_filters_them(client: TestClient, login: Login,
                                                              page_login: PageLogin) -> None:
    first = file_pbg(client, login, name="Agus Salim").json()["tracking_number"]
    second = file_pbg(client, login, name="Bambang Priyo", priority="disabilitas").json()["tracking_number"]
    page_login(FRONT)
    html = client.get("/kotak-tugas").text
    assert rows(html) == [second, first]  # filed later, served first
    assert 'data-priority="disabilitas"' in html
    assert "Prioritas: Penyandang disabilitas" in html  # a word, not only a colour
    assert rows(client.get("/kotak-tugas", params={"prioritas": "1"}).text) == [second]
    assert rows(client.get("/kotak-tugas", params={"urut": "pemohon"}).text) == [first, second]  # a chosen sort
    english = client.get("/kotak-tugas", params={"lang": "en"}).text
    assert "Priority: Person with a disability" in english
    found = client.get("/kasus", params={"cari": "Bambang", "lang": "id"}).text
    assert "Prioritas: Penyandang disabilitas" in found
    page_login("dpmptsp_supervisor")  # the supervisors' queue is the same priority queue
    supervised = client.get("/pengawasan", params={"prioritas": "1"}).text
    assert rows(supervised) == [second]
    assert 'data-priority="disabilitas"' in supervised


def test_the_front_office_sees_jemput_bola_requests(client: TestClient, login: Login,
                                                    page_login: PageLogin) -> None:
    asked = client.post("/api/cases", headers=login("warga"), json={
        "process_key": "akta_kelahiran", "channel": "tatap_muka", "data": AKTA, "outreach": VISIT,
        "privacy_notice_accepted": True})
    assert asked.status_code == 201, asked.text
    client.post("/api/cases", headers=login("warga"), json={"process_key": "akta_kelahiran", "channel": "daring",
                                                          "data": AKTA, "privacy_notice_accepted": True})
    page_login("disdukcapil_petugas")
    listed = client.get("/kotak-tugas", params={"jemput": "1"}).text
    assert rows(listed) == [asked.json()["tracking_number"]]
    case = client.get(f"/kasus/{asked.json()['id']}").text
    assert "Jl. Kaliurang 5, Sleman" in case
    assert 'href="tel:081234567890"' in case
    # An officer of another agency neither lists it nor opens it.
    page_login(FRONT)
    assert rows(client.get("/kotak-tugas", params={"jemput": "1"}).text) == []
    assert client.get(f"/kasus/{asked.json()['id']}").status_code == 404

