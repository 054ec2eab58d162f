"""Cases over HTTP: applying, filing for walk-ins, who may read what, listing, cancelling, history."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from httpx import Response

from api.bootstrap import DEMO_PASSWORD
from engine.catalogue.package import from_files
from engine.context import AppContext
from engine.models import Incident
from tests.factories import api_drawings, api_upload, deploy, pbg_application, pbg_documents
from tests.packages import money_package, simple_package
from tests.processes.test_pbg import APPROVED

Login = Callable[[str], dict[str, str]]
PROBLEM = "application/problem+json"
TRACKING = re.compile(r"^MPP-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$")


def apply(client: TestClient, login: Login, username: str = "warga", **body: Any) -> Response:
    payload = {"process_key": "pbg", "data": pbg_application(), "channel": "daring",
               "documents": pbg_documents(client, login(username)), "privacy_notice_accepted": True, **body}
    return client.post("/api/cases", json=payload, headers=login(username))


def started(client: TestClient, login: Login, username: str = "warga", **body: Any) -> dict[str, Any]:
    response = apply(client, login, username, **body)
    assert response.status_code == 201, response.text
    return response.json()


def total_cases(client: TestClient, login: Login) -> int:
    response = client.get("/api/cases", headers=login("admin"))
    assert response.status_code == 200, response.text
    return int(response.json()["total"])


def make_applicant(client: TestClient, login: Login, username: str = "warga_lain") -> int:
    response = client.post("/api/users", json={"username": username, "password": DEMO_PASSWORD,
                                               "platform_role": "applicant", "display_name": "Siti Aminah"},
                           headers=login("admin"))
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def me(client: TestClient, login: Login, username: str) -> int:
    return int(client.get("/api/me", headers=login(username)).json()["id"])


def open_task(client: TestClient, login: Login, case_id: int, element_id: str) -> str:
    case = client.get(f"/api/cases/{case_id}", headers=login("admin")).json()
    ids = [t["id"] for t in case["open_tasks"] if t["element_id"] == element_id]
    assert ids, f"no open {element_id}: {[t['element_id'] for t in case['open_tasks']]}"
    return str(ids[0])


def complete(client: TestClient, login: Login, username: str, case_id: int, element_id: str,
             data: dict[str, Any]) -> None:
    task_id = open_task(client, login, case_id, element_id)
    response = client.post(f"/api/tasks/{task_id}/complete", json={"data": data}, headers=login(username))
    assert response.status_code == 200, response.text


def to_tpa(client: TestClient, login: Login, case_id: int) -> None:
    complete(client, login, "dpmptsp_front_office", case_id, "Task_kelengkapan", {"kelengkapan": "lengkap"})
    complete(client, login, "konsultan_griya_perencana", case_id, "Task_gambar_teknis",
             api_drawings(client, login("konsultan_griya_perencana")))


def assert_problem(response: Response, status: int, slug: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["type"] == f"/api/problems/{slug}"
    return body


def without_instance(response: Response) -> dict[str, Any]:
    body: dict[str, Any] = response.json()
    body.pop("instance", None)
    body.pop("detail", None)  # names the id asked for
    return body


# ---------------------------------------------------------------- applying


def test_applicant_applies_and_gets_a_tracking_number_and_pin(client: TestClient, login: Login) -> None:
    response = apply(client, login)
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == {"id", "tracking_number", "pin", "status", "stage", "next_tasks"}
    assert body["next_tasks"] == []  # the first task is the front office's (tests/api/test_next_tasks.py)
    assert TRACKING.match(body["tracking_number"]), body["tracking_number"]
    assert re.fullmatch(r"\d{6}", body["pin"])
    assert body["status"] == "running"
    assert body["stage"] == "Pemeriksaan berkas di loket"
    case = client.get(f"/api/cases/{body['id']}", headers=login("warga"))
    assert case.status_code == 200, case.text
    read = case.json()
    assert read["tracking_number"] == body["tracking_number"]
    assert read["applicant_id"] == me(client, login, "warga")
    assert read["filed_by_id"] == me(client, login, "warga")
    assert read["channel"] == "daring"
    assert read["data"]["nik"] == "3471012345678901"
    assert [t["element_id"] for t in read["open_tasks"]] == ["Task_kelengkapan"]
    assert "pin" not in read
    assert "pin_hash" not in case.text


def test_an_application_without_its_required_documents_is_refused_naming_them(client: TestClient,
                                                                              login: Login) -> None:
    warga = login("warga")
    documents = pbg_documents(client, warga)
    # The ID card alone: the land proof is named, in both languages, with the form's own errors; nothing is filed.
    response = client.post("/api/cases", headers={**warga, "Accept-Language": "id"}, json={
        "process_key": "pbg", "data": pbg_application(nik="123"), "documents": {"ktp": documents["ktp"]},
        "privacy_notice_accepted": True})
    body = assert_problem(response, 422, "form-invalid")
    errors = {e["field"]: (e["message"], e["message_en"]) for e in body["errors"]}
    assert set(errors) == {"nik", "doc__bukti_tanah"}
    assert errors["doc__bukti_tanah"] == (
        "Dokumen persyaratan wajib diunggah: Bukti kepemilikan tanah (sertifikat) atau perjanjian pemanfaatan tanah.",
        "Required document missing: Proof of land ownership (land certificate) or land-use agreement.")
    assert total_cases(client, login) == 0
    # A name instead of an uploaded file, an unknown requirement, someone else's file: each refused, nothing filed.
    for wrong, field in (({**documents, "ktp": ["ktp.pdf"]}, "documents.ktp.0"),
                         ({**documents, "paspor": documents["ktp"]}, "doc__paspor")):
        refused = client.post("/api/cases", headers=warga,
                              json={"process_key": "pbg", "data": pbg_application(), "documents": wrong,
                                    "privacy_notice_accepted": True})
        assert refused.status_code == 422, refused.text
        assert field in {e["field"] for e in refused.json()["errors"]}
    theirs = {"ktp": [api_upload(client, login("dpmptsp_front_office"))], "bukti_tanah": documents["bukti_tanah"]}
    stolen = client.post("/api/cases", headers=warga,
                         json={"process_key": "pbg", "data": pbg_application(), "documents": theirs,
                               "privacy_notice_accepted": True})
    assert stolen.status_code == 400, stolen.text
    assert total_cases(client, login) == 0
    # With both, the case is filed and the officers see which file answers which requirement.
    created = client.post("/api/cases", headers=warga,
                          json={"process_key": "pbg", "data": pbg_application(), "documents": documents,
                                "privacy_notice_accepted": True})
    assert created.status_code == 201, created.text
    events = client.get(f"/api/cases/{created.json()['id']}/events", headers=login("admin")).json()
    assert [e["action"] for e in events] == ["started", "requirement_files"]


def test_invalid_application_lists_each_bad_field_and_saves_nothing(client: TestClient, login: Login) -> None:
    before = total_cases(client, login)
    data = pbg_application(nik="123", email="not-an-email", jumlah_lantai=0)
    del data["nama_pemohon"]
    response = client.post("/api/cases", json={"process_key": "pbg", "data": data, "privacy_notice_accepted": True},
                           headers=login("warga"))
    body = assert_problem(response, 422, "form-invalid")
    fields = {e["field"] for e in body["errors"]}
    assert {"nik", "email", "jumlah_lantai", "nama_pemohon"} <= fields
    for error in body["errors"]:
        assert error["message"]
        assert error["message_en"]
    assert total_cases(client, login) == before
    assert client.get("/api/tasks", headers=login("dpmptsp_front_office")).json()["total"] == 0


def test_a_number_too_large_to_hold_is_named_beside_its_field_and_saves_nothing(
        client: TestClient, login: Login, catalogue: AppContext) -> None:
    deploy(catalogue, money_package())
    before = total_cases(client, login)
    headers = {**login("warga"), "Content-Type": "application/json"}
    for number in ("1" + "0" * 400, "9" * 5000, "9.99e+999999", "-1e999999", "NaN"):
        body = ('{"process_key": "uang", "privacy_notice_accepted": true, '
                '"data": {"harga": ' + number + ', "jumlah": 2}}')
        problem = assert_problem(client.post("/api/cases", content=body, headers=headers), 422, "form-invalid")
        assert [e["field"] for e in problem["errors"]] == ["harga"], number
        assert problem["errors"][0]["message"] in ("Angka terlalu besar.", "Bukan angka yang sah.")
    assert total_cases(client, login) == before
    ok = client.post("/api/cases", json={"process_key": "uang", "data": {"harga": 1500.25, "jumlah": 2},
                                         "privacy_notice_accepted": True},
                     headers=login("warga"))
    assert ok.status_code == 201, ok.text


def test_a_script_making_a_number_no_json_holds_is_an_incident_on_the_script(
        client: TestClient, login: Login, catalogue: AppContext) -> None:
    form = {"type": "object", "properties": {"nominal": {"type": "string", "maxLength": 40}}, "required": ["nominal"]}
    files = dict(simple_package("nominal", script="total = Decimal(nominal)").files)
    deploy(catalogue, from_files({**files, "forms/start.schema.json": json.dumps(form).encode()}))
    for typed in ("Infinity", "-Infinity", "NaN", "sNaN"):
        response = client.post("/api/cases", json={"process_key": "nominal", "data": {"nominal": typed},
                                                   "privacy_notice_accepted": True},
                               headers=login("warga"))
        assert response.status_code == 201, response.text
        assert response.json()["status"] == "incident", typed
        with catalogue.sessions() as session:
            incident = session.query(Incident).filter_by(case_id=response.json()["id"]).one()
        assert (incident.element_id, "not a finite number" in incident.message) == ("Script_hitung", True), typed
    response = client.post("/api/cases", json={"process_key": "nominal", "data": {"nominal": "1500.25"},
                                               "privacy_notice_accepted": True},
                           headers=login("warga"))
    case = client.get(f"/api/cases/{response.json()['id']}", headers=login("warga")).json()
    assert (case["status"], case["data"]["total"]) == ("running", 1500.25)


def test_unknown_process_is_404(client: TestClient, login: Login) -> None:
    before = total_cases(client, login)
    assert_problem(apply(client, login, process_key="no_such_service"), 404, "not-found")
    assert total_cases(client, login) == before


def test_unknown_consultant_is_refused_at_once(client: TestClient, login: Login) -> None:
    before = total_cases(client, login)
    response = apply(client, login, data=pbg_application(consultant="konsultan_fiktif"))
    body = assert_problem(response, 422, "form-invalid")
    assert total_cases(client, login) == before
    assert [e["field"] for e in body["errors"]] == ["consultant"]  # once, however many tasks it binds


def test_unknown_channel_is_a_validation_problem(client: TestClient, login: Login) -> None:
    body = assert_problem(apply(client, login, channel="merpati_pos"), 422, "validation")
    assert "channel" in {e["field"] for e in body["errors"]}


def test_applying_needs_a_login(client: TestClient, login: Login) -> None:
    response = client.post("/api/cases", json={"process_key": "pbg", "data": pbg_application()})
    assert_problem(response, 401, "unauthenticated")
    assert total_cases(client, login) == 0


# ---------------------------------------------------------------- filing for others


def test_front_office_files_for_a_walk_in(client: TestClient, login: Login) -> None:
    body = started(client, login, "dpmptsp_front_office", channel="tatap_muka")
    read = client.get(f"/api/cases/{body['id']}", headers=login("dpmptsp_front_office")).json()
    assert read["applicant_id"] is None
    assert read["filed_by_id"] == me(client, login, "dpmptsp_front_office")
    assert read["channel"] == "tatap_muka"
    assert TRACKING.match(body["tracking_number"])
    # No applicant account: the applicant cannot see it.
    assert_problem(client.get(f"/api/cases/{body['id']}", headers=login("warga")), 404, "not-found")


def test_front_office_files_for_an_applicant_account(client: TestClient, login: Login) -> None:
    body = started(client, login, "dpmptsp_front_office", channel="tatap_muka", applicant_username="warga")
    read = client.get(f"/api/cases/{body['id']}", headers=login("warga"))
    assert read.status_code == 200, read.text
    assert read.json()["applicant_id"] == me(client, login, "warga")
    assert read.json()["filed_by_id"] == me(client, login, "dpmptsp_front_office")
    listed = client.get("/api/cases", headers=login("warga")).json()
    assert [c["id"] for c in listed["items"]] == [body["id"]]


def test_front_office_cannot_file_for_a_staff_or_unknown_account(client: TestClient, login: Login) -> None:
    assert_problem(apply(client, login, "dpmptsp_front_office", applicant_username="analis"), 403, "forbidden")
    assert_problem(apply(client, login, "dpmptsp_front_office", applicant_username="tidak_ada"), 404, "not-found")
    assert total_cases(client, login) == 0


def test_analyst_and_other_officers_cannot_file(client: TestClient, login: Login) -> None:
    for username in ("analis", "pupr_tpa", "dpmptsp_kasir"):
        assert_problem(apply(client, login, username), 403, "forbidden")
    assert total_cases(client, login) == 0


def test_applicant_cannot_apply_in_someone_elses_name(client: TestClient, login: Login) -> None:
    make_applicant(client, login)
    assert_problem(apply(client, login, applicant_username="warga_lain"), 403, "forbidden")
    assert total_cases(client, login) == 0
    # Naming oneself is allowed.
    assert apply(client, login, applicant_username="warga").status_code == 201


# ---------------------------------------------------------------- who may read a case


def test_another_applicant_cannot_read_the_case_or_its_events(client: TestClient, login: Login) -> None:
    make_applicant(client, login)
    case = started(client, login)
    other = login("warga_lain")
    mine = client.get(f"/api/cases/{case['id']}", headers=other)
    missing = client.get("/api/cases/999999", headers=other)
    assert_problem(mine, 404, "not-found")
    assert_problem(missing, 404, "not-found")
    assert without_instance(mine) == without_instance(missing)
    assert case["tracking_number"] not in mine.text
    events = client.get(f"/api/cases/{case['id']}/events", headers=other)
    assert_problem(events, 404, "not-found")
    assert without_instance(events) == without_instance(client.get("/api/cases/999999/events", headers=other))
    listed = client.get("/api/cases", headers=other).json()
    assert (listed["total"], listed["items"]) == (0, [])
    by_number = client.get("/api/cases", params={"tracking_number": case["tracking_number"]}, headers=other)
    assert by_number.json()["total"] == 0


def test_analyst_reads_no_cases(client: TestClient, login: Login) -> None:
    case = started(client, login)
    assert_problem(client.get(f"/api/cases/{case['id']}", headers=login("analis")), 404, "not-found")
    assert_problem(client.get(f"/api/cases/{case['id']}/events", headers=login("analis")), 404, "not-found")
    assert client.get("/api/cases", headers=login("analis")).json()["total"] == 0


def test_anonymous_reads_no_cases(client: TestClient, login: Login) -> None:
    case = started(client, login)
    assert_problem(client.get(f"/api/cases/{case['id']}"), 401, "unauthenticated")
    assert_problem(client.get("/api/cases"), 401, "unauthenticated")


def test_officer_reads_a_case_while_holding_a_task_and_after_acting(client: TestClient, login: Login) -> None:
    case_a = started(client, login)
    case_b = started(client, login)
    tpa = login("pupr_tpa")
    for case in (case_a, case_b):
        assert_problem(client.get(f"/api/cases/{case['id']}", headers=tpa), 404, "not-found")
    assert client.get("/api/cases", headers=tpa).json()["total"] == 0
    # The front office holds both first tasks.
    assert client.get(f"/api/cases/{case_a['id']}", headers=login("dpmptsp_front_office")).status_code == 200
    to_tpa(client, login, case_a["id"])
    assert client.get(f"/api/cases/{case_a['id']}", headers=tpa).status_code == 200
    assert client.get(f"/api/cases/{case_a['id']}/events", headers=tpa).status_code == 200
    assert_problem(client.get(f"/api/cases/{case_b['id']}", headers=tpa), 404, "not-found")
    assert [c["id"] for c in client.get("/api/cases", headers=tpa).json()["items"]] == [case_a["id"]]
    # Having acted on it, the officer still reads it after the task is done.
    complete(client, login, "pupr_tpa", case_a["id"], "Task_tpa", APPROVED)
    assert client.get(f"/api/cases/{case_a['id']}", headers=tpa).status_code == 200
    assert client.get(f"/api/cases/{case_a['id']}", headers=login("dpmptsp_front_office")).status_code == 200


def test_consultant_reads_only_the_cases_of_its_firm(client: TestClient, login: Login) -> None:
    griya = started(client, login, data=pbg_application(consultant="konsultan_griya"))
    complete(client, login, "dpmptsp_front_office", griya["id"], "Task_kelengkapan", {"kelengkapan": "lengkap"})
    assert client.get(f"/api/cases/{griya['id']}", headers=login("konsultan_griya_perencana")).status_code == 200
    assert_problem(client.get(f"/api/cases/{griya['id']}", headers=login("konsultan_mataram_perencana")),
                   404, "not-found")


def test_malformed_case_ids_are_validation_problems(client: TestClient, login: Login) -> None:
    assert_problem(client.get("/api/cases/abc", headers=login("admin")), 422, "validation")
    assert_problem(client.get("/api/cases/0", headers=login("admin")), 422, "validation")


# ---------------------------------------------------------------- listing


def test_list_filters_and_pagination(client: TestClient, login: Login) -> None:
    ids = [started(client, login)["id"] for _ in range(3)]
    walk_in = started(client, login, "dpmptsp_front_office", channel="tatap_muka")
    admin = login("admin")
    everything = client.get("/api/cases", headers=admin).json()
    assert everything["total"] == 4
    assert [c["id"] for c in everything["items"]] == [walk_in["id"], *reversed(ids)]
    assert set(everything["items"][0]) == {"id", "tracking_number", "process_key", "status", "stage_id",
                                           "stage_en", "channel", "created_at", "due_at", "priority"}
    page = client.get("/api/cases", params={"limit": 2, "offset": 1}, headers=admin).json()
    assert (page["total"], page["limit"], page["offset"]) == (4, 2, 1)
    assert [c["id"] for c in page["items"]] == [ids[2], ids[1]]
    beyond = client.get("/api/cases", params={"limit": 2, "offset": 10}, headers=admin).json()
    assert (beyond["total"], beyond["items"]) == (4, [])
    assert client.get("/api/cases", params={"process_key": "pbg"}, headers=admin).json()["total"] == 4
    assert client.get("/api/cases", params={"process_key": "lain"}, headers=admin).json()["total"] == 0
    cancelled = client.post(f"/api/cases/{ids[0]}/cancel", json={"reason": "Permohonan ganda"}, headers=admin)
    assert cancelled.status_code == 200, cancelled.text
    running = client.get("/api/cases", params={"status": "running"}, headers=admin).json()
    assert running["total"] == 3
    assert ids[0] not in [c["id"] for c in running["items"]]
    only = client.get("/api/cases", params={"status": "cancelled"}, headers=admin).json()
    assert [c["id"] for c in only["items"]] == [ids[0]]
    number = walk_in["tracking_number"]
    typed = " " + number.lower() + " "
    found = client.get("/api/cases", params={"tracking_number": typed}, headers=admin).json()
    assert [c["id"] for c in found["items"]] == [walk_in["id"]]
    mine = client.get("/api/cases", headers=login("warga")).json()
    assert mine["total"] == 3


def test_list_refuses_bad_parameters(client: TestClient, login: Login) -> None:
    admin = login("admin")
    for params in ({"limit": 0}, {"limit": 201}, {"offset": -1}, {"status": "lost"}):
        body = assert_problem(client.get("/api/cases", params=params, headers=admin), 422, "validation")
        assert next(iter(params)) in {e["field"] for e in body["errors"]}


# ---------------------------------------------------------------- cancel


def test_admin_cancels_a_case_and_its_tasks_are_gone(client: TestClient, login: Login) -> None:
    case = started(client, login)
    task_id = open_task(client, login, case["id"], "Task_kelengkapan")
    response = client.post(f"/api/cases/{case['id']}/cancel", json={"reason": "Pemohon menarik permohonan"},
                           headers=login("admin"))
    assert response.status_code == 200, response.text
    assert response.json() == {"id": case["id"], "status": "cancelled"}
    read = client.get(f"/api/cases/{case['id']}", headers=login("admin")).json()
    assert read["status"] == "cancelled"
    assert read["open_tasks"] == []
    assert client.get("/api/tasks", headers=login("dpmptsp_front_office")).json()["total"] == 0
    done = client.post(f"/api/tasks/{task_id}/complete", json={"data": {"kelengkapan": "lengkap"}},
                       headers=login("dpmptsp_front_office"))
    assert done.status_code in (404, 409), done.text
    events = client.get(f"/api/cases/{case['id']}/events", headers=login("admin")).json()
    assert (events[-1]["action"], events[-1]["actor"], events[-1]["label"]) == (
        "cancelled", "admin", "Pemohon menarik permohonan")
    again = client.post(f"/api/cases/{case['id']}/cancel", json={"reason": "lagi lagi"}, headers=login("admin"))
    assert_problem(again, 400, "bad-request")


def test_only_an_admin_cancels(client: TestClient, login: Login) -> None:
    case = started(client, login)
    for username in ("warga", "dpmptsp_front_office", "analis"):
        response = client.post(f"/api/cases/{case['id']}/cancel", json={"reason": "Saya batalkan"},
                               headers=login(username))
        assert_problem(response, 403, "forbidden")
    assert_problem(client.post(f"/api/cases/{case['id']}/cancel", json={"reason": "Saya batalkan"}),
                   401, "unauthenticated")
    read = client.get(f"/api/cases/{case['id']}", headers=login("warga")).json()
    assert read["status"] == "running"
    assert len(read["open_tasks"]) == 1


def test_cancel_needs_a_reason_and_an_existing_case(client: TestClient, login: Login) -> None:
    case = started(client, login)
    body = assert_problem(client.post(f"/api/cases/{case['id']}/cancel", json={"reason": "x"},
                                      headers=login("admin")), 422, "validation")
    assert "reason" in {e["field"] for e in body["errors"]}
    assert_problem(client.post("/api/cases/999999/cancel", json={"reason": "tidak ada"}, headers=login("admin")),
                   404, "not-found")
    assert client.get(f"/api/cases/{case['id']}", headers=login("admin")).json()["status"] == "running"


def test_cancel_accepts_the_longest_reason_the_api_allows(client: TestClient, login: Login) -> None:
    case = started(client, login)
    reason = "Pemohon menarik permohonan karena lokasi bangunan berubah. " * 10
    reason = reason[:255]  # the history keeps labels of up to 255 characters
    assert len(reason) == 255
    response = client.post(f"/api/cases/{case['id']}/cancel", json={"reason": reason}, headers=login("admin"))
    assert response.status_code == 200, response.text
    read = client.get(f"/api/cases/{case['id']}", headers=login("admin")).json()
    assert read["status"] == "cancelled"
    too_long = client.post(f"/api/cases/{started(client, login)['id']}/cancel", json={"reason": reason + "x"},
                           headers=login("admin"))
    assert_problem(too_long, 422, "validation")


def test_retry_is_for_admins_and_cases_with_an_incident(client: TestClient, login: Login) -> None:
    case = started(client, login)
    for username in ("warga", "dpmptsp_front_office", "analis"):
        assert_problem(client.post(f"/api/cases/{case['id']}/retry", headers=login(username)), 403, "forbidden")
    assert_problem(client.post(f"/api/cases/{case['id']}/retry", headers=login("admin")), 400, "bad-request")
    assert_problem(client.post("/api/cases/999999/retry", headers=login("admin")), 404, "not-found")
    assert client.get(f"/api/cases/{case['id']}", headers=login("admin")).json()["status"] == "running"


# ---------------------------------------------------------------- history


def test_events_show_actor_action_and_data_diff(client: TestClient, login: Login) -> None:
    case = started(client, login)
    complete(client, login, "dpmptsp_front_office", case["id"], "Task_kelengkapan", {"kelengkapan": "lengkap"})
    response = client.get(f"/api/cases/{case['id']}/events", headers=login("warga"))
    assert response.status_code == 200, response.text
    events = response.json()
    assert (events[0]["actor"], events[0]["action"]) == ("warga", "started")
    assert events[0]["task_id"] is None
    done = next(e for e in events if e["action"] == "completed" and e["element_id"] == "Task_kelengkapan")
    assert done["actor"] == "dpmptsp_front_office"
    assert done["label"] == "Pemeriksaan kelengkapan berkas"
    assert done["task_id"]
    assert done["diff"]["set"]["kelengkapan"] == "lengkap"
    assert [e["id"] for e in events] == sorted(e["id"] for e in events)
    assert set(events[0]) == {"id", "at", "actor", "action", "task_id", "element_id", "label", "diff"}
