"""Integrated applications and partner-system messages, through HTTP."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from tests.factories import pbg_application, pbg_documents

AKTA = {"nama_bayi": "Sekar Ayu", "tanggal_lahir": "2026-02-20", "tempat_lahir": "Yogyakarta",
        "jenis_kelamin": "perempuan", "nik_ayah": "3471010101900001", "nik_ibu": "3471014101920002",
        "nomor_kk": "3471010202020003"}


def test_an_integrated_application_has_one_number_and_a_combined_status(
    client: TestClient, login: Callable[[str], dict[str, str]],
) -> None:
    documents = pbg_documents(client, login("warga"))
    created = client.post("/api/bundles", headers=login("warga"), json={
        "channel": "terpadu", "services": [{"process_key": "pbg", "data": pbg_application(), "documents": documents},
                                           {"process_key": "akta_kelahiran", "data": AKTA}],
        "privacy_notice_accepted": True})
    assert created.status_code == 201, created.text
    bundle = created.json()
    assert len(bundle["cases"]) == 2
    tracked = client.get(f"/api/track/{bundle['tracking_number']}", params={"pin": bundle["pin"]}).json()
    assert tracked["status"] == "running"
    assert [p["service"]["en"] for p in tracked["parts"]] == ["Building Approval (PBG)", "Birth Certificate"]
    assert tracked["stage_en"] == "0 of 2 services done"
    documents = pbg_documents(client, login("warga"))
    bad = client.post("/api/bundles", headers=login("warga"), json={
        "services": [{"process_key": "pbg", "data": pbg_application(), "documents": documents},
                     {"process_key": "akta_kelahiran", "data": {**AKTA, "nik_ibu": "12"}}],
        "privacy_notice_accepted": True})
    assert bad.status_code == 422
    assert [e["field"] for e in bad.json()["errors"]] == ["services.1.data.nik_ibu"]
    single = client.post("/api/bundles", headers=login("warga"), json={
        "services": [{"process_key": "pbg", "data": pbg_application()}], "privacy_notice_accepted": True})
    assert single.status_code == 422


def test_the_civil_registry_answers_a_waiting_case(client: TestClient, login: Callable[[str], dict[str, str]]) -> None:
    case = client.post("/api/cases", headers=login("warga"),
                       json={"process_key": "akta_kelahiran", "channel": "daring", "data": AKTA,
                             "privacy_notice_accepted": True}).json()
    officer = login("disdukcapil_petugas")
    task = client.get("/api/tasks", headers=officer).json()["items"][0]
    client.post(f"/api/tasks/{task['id']}/complete", headers=officer, json={"data": {"berkas_lengkap": True}})
    answer = {"name": "jawaban_siak", "payload": {"status": "diterbitkan", "nomor_akta": "3471-LU-1"}}
    outsider = client.post(f"/api/cases/{case['id']}/messages", headers=login("pupr_tpa"), json=answer)
    assert outsider.status_code == 404
    wrong_role = client.post(f"/api/cases/{case['id']}/messages", headers=officer, json=answer)
    assert wrong_role.status_code == 403
    applicant = client.post(f"/api/cases/{case['id']}/messages", headers=login("warga"), json=answer)
    assert applicant.status_code == 403
    siak = {**login("disdukcapil_siak"), "Content-Type": "application/json"}
    huge = client.post(f"/api/cases/{case['id']}/messages", headers=siak,
                       content='{"name": "jawaban_siak", "payload": {"status": "diterbitkan", "biaya": 1e400}}')
    assert huge.status_code == 422, huge.text  # named by field, nothing delivered
    assert [e["field"] for e in huge.json()["errors"]] == ["biaya"]
    delivered = client.post(f"/api/cases/{case['id']}/messages", headers=login("disdukcapil_siak"), json=answer)
    assert delivered.status_code == 200, delivered.text
    again = client.post(f"/api/cases/{case['id']}/messages", headers=login("disdukcapil_siak"), json=answer)
    assert again.status_code == 400
    inbox = client.get("/api/tasks", headers=officer).json()["items"]
    assert [t["element_id"] for t in inbox] == ["Task_serahkan_akta"]
