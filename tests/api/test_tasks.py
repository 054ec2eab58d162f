"""Tasks over HTTP: inboxes, one task with its form, claiming, completing, bindings, a whole PBG case."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from httpx import Response

from api.bootstrap import DEMO_PASSWORD
from engine.context import AppContext
from tests.conftest import FakeClock
from tests.factories import Driver, api_drawings, deploy, pbg_application, pbg_documents
from tests.packages import money_package
from tests.processes.test_pbg import APPROVED, DRAWINGS, PAID, SIGNED, SKRD, SPPST

Login = Callable[[str], dict[str, str]]
PROBLEM = "application/problem+json"
FRONT = "dpmptsp_front_office"
GRIYA = "konsultan_griya_perencana"
MATARAM = "konsultan_mataram_perencana"


def start(client: TestClient, login: Login, username: str = "warga", **data: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"process_key": "pbg", "data": pbg_application(**data), "channel": "daring",
                            "documents": pbg_documents(client, login(username)), "privacy_notice_accepted": True}
    response = client.post("/api/cases", json=body, headers=login(username))
    assert response.status_code == 201, response.text
    return dict(response.json())


def inbox(client: TestClient, login: Login, username: str, **params: Any) -> dict[str, Any]:
    response = client.get("/api/tasks", params=params, headers=login(username))
    assert response.status_code == 200, response.text
    return dict(response.json())


def inbox_elements(client: TestClient, login: Login, username: str, **params: Any) -> list[tuple[int, str]]:
    return [(t["case_id"], t["element_id"]) for t in inbox(client, login, username, **params)["items"]]


def task_of(client: TestClient, login: Login, case_id: int, element_id: str) -> str:
    case = client.get(f"/api/cases/{case_id}", headers=login("admin")).json()
    ids = [t["id"] for t in case["open_tasks"] if t["element_id"] == element_id]
    assert ids, f"no open {element_id}: {[t['element_id'] for t in case['open_tasks']]}"
    return str(ids[0])


def open_elements(client: TestClient, login: Login, case_id: int) -> list[str]:
    case = client.get(f"/api/cases/{case_id}", headers=login("admin")).json()
    return [t["element_id"] for t in case["open_tasks"]]


def post_complete(client: TestClient, login: Login, username: str, task_id: str, data: dict[str, Any]) -> Response:
    return client.post(f"/api/tasks/{task_id}/complete", json={"data": data}, headers=login(username))


def complete(client: TestClient, login: Login, username: str, case_id: int, element_id: str,
             data: dict[str, Any]) -> dict[str, Any]:
    response = post_complete(client, login, username, task_of(client, login, case_id, element_id), data)
    assert response.status_code == 200, response.text
    return dict(response.json())


def make_officer(client: TestClient, login: Login, username: str, *roles: str) -> None:
    admin = login("admin")
    created = client.post("/api/users", json={"username": username, "password": DEMO_PASSWORD,
                                              "platform_role": "officer"}, headers=admin)
    assert created.status_code == 201, created.text
    for role in roles:
        granted = client.post(f"/api/users/{created.json()['id']}/memberships", json={"role_key": role},
                              headers=admin)
        assert granted.status_code == 201, granted.text


def make_applicant(client: TestClient, login: Login, username: str) -> None:
    created = client.post("/api/users", json={"username": username, "password": DEMO_PASSWORD},
                          headers=login("admin"))
    assert created.status_code == 201, created.text


def assert_problem(response: Response, status: int, slug: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["type"] == f"/api/problems/{slug}"
    return body


def events(client: TestClient, login: Login, case_id: int) -> list[dict[str, Any]]:
    return list(client.get(f"/api/cases/{case_id}/events", headers=login("admin")).json())


# ---------------------------------------------------------------- inbox


def test_inbox_is_per_role(client: TestClient, login: Login) -> None:
    case = start(client, login)
    front = inbox(client, login, FRONT)
    assert front["total"] == 1
    [task] = front["items"]
    assert (task["case_id"], task["element_id"], task["role"], task["agency"]) == (
        case["id"], "Task_kelengkapan", "dpmptsp.front_office", "dpmptsp")
    assert task["name"] == "Pemeriksaan kelengkapan berkas"
    assert task["assignee_id"] is None
    assert task["due_at"].startswith("2026-03-04")  # two working days from Monday 2 March
    for username in ("pupr_tpa", "dpmptsp_kasir", "dpmptsp_kepala", GRIYA, "warga", "analis", "admin"):
        assert inbox(client, login, username)["total"] == 0, username
    assert_problem(client.get("/api/tasks"), 401, "unauthenticated")


def test_inbox_filters_sorting_and_pagination(client: TestClient, login: Login, clock: FakeClock) -> None:
    make_officer(client, login, "petugas_ganda", "dpmptsp.front_office", "pupr.tpa")
    case_a = start(client, login)
    complete(client, login, FRONT, case_a["id"], "Task_kelengkapan", {"kelengkapan": "lengkap"})
    complete(client, login, GRIYA, case_a["id"], "Task_gambar_teknis",
             api_drawings(client, login(GRIYA)))  # Task_tpa: 10 working days
    clock.advance(days=1)
    case_b = start(client, login)  # Task_kelengkapan: 2 working days, created later but due earlier
    a_tpa, b_check = (case_a["id"], "Task_tpa"), (case_b["id"], "Task_kelengkapan")
    user = "petugas_ganda"
    assert inbox_elements(client, login, user) == [b_check, a_tpa]
    page = inbox(client, login, user, limit=1, offset=1)
    assert (page["total"], page["limit"], page["offset"]) == (2, 1, 1)
    assert [(t["case_id"], t["element_id"]) for t in page["items"]] == [a_tpa]
    assert inbox(client, login, user, limit=1)["items"][0]["element_id"] == "Task_kelengkapan"
    assert inbox_elements(client, login, user, role="pupr.tpa") == [a_tpa]
    assert inbox_elements(client, login, user, role="dpmptsp.front_office") == [b_check]
    assert inbox_elements(client, login, user, process_key="pbg") == [b_check, a_tpa]
    assert inbox(client, login, user, process_key="lain")["total"] == 0
    assert inbox_elements(client, login, user, overdue=False) == [b_check, a_tpa]
    assert inbox(client, login, user, overdue=True)["total"] == 0
    clock.advance(days=4)  # Saturday 7 March: the check (due 5 March) is late, the panel (16 March) is not
    assert inbox_elements(client, login, user, overdue=True) == [b_check]
    assert inbox_elements(client, login, user, overdue=False) == [a_tpa]
    claimed = client.post(f"/api/tasks/{task_of(client, login, case_b['id'], 'Task_kelengkapan')}/claim",
                          headers=login(user))
    assert claimed.status_code == 200, claimed.text
    assert inbox_elements(client, login, user, claimed=True) == [b_check]
    assert inbox_elements(client, login, user, claimed=False) == [a_tpa]
    assert inbox_elements(client, login, user, claimed=True, overdue=False) == []


def test_overdue_flag_once_the_worker_has_scanned(client: TestClient, login: Login, clock: FakeClock,
                                                  catalogue: AppContext) -> None:
    case = start(client, login)
    clock.advance(days=5)  # the two-working-day check was due on 4 March
    Driver(catalogue).run_jobs()
    [task] = inbox(client, login, FRONT, overdue=True)["items"]
    assert (task["case_id"], task["overdue"]) == (case["id"], True)
    detail = client.get(f"/api/tasks/{task['id']}", headers=login(FRONT)).json()
    assert detail["task"]["overdue"] is True
    # Overdue flags are internal: the public timeline does not show them.
    tracked = client.get(f"/api/track/{case['tracking_number']}", params={"pin": case["pin"]}).json()
    assert [line["event"] for line in tracked["timeline"]] == ["started"]


def test_inbox_refuses_bad_parameters(client: TestClient, login: Login) -> None:
    for params in ({"limit": 0}, {"limit": 500}, {"offset": -5}, {"overdue": "perhaps"}, {"claimed": "x"}):
        response = client.get("/api/tasks", params=params, headers=login(FRONT))
        body = assert_problem(response, 422, "validation")
        assert next(iter(params)) in {e["field"] for e in body["errors"]}


# ---------------------------------------------------------------- one task


def test_task_detail_has_form_and_case_data(client: TestClient, login: Login) -> None:
    case = start(client, login)
    task_id = task_of(client, login, case["id"], "Task_kelengkapan")
    response = client.get(f"/api/tasks/{task_id}", headers=login(FRONT))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["task"]["id"] == task_id
    assert body["task"]["case_id"] == case["id"]
    assert body["tracking_number"] == case["tracking_number"]
    assert body["form_schema"]["title"] == "Pemeriksaan kelengkapan berkas"
    assert body["form_schema"]["properties"]["kelengkapan"]["enum"] == ["lengkap", "tidak_lengkap"]
    assert isinstance(body["ui_schema"], dict)
    assert body["ui_schema"]
    assert body["case_data"]["nik"] == "3471012345678901"
    assert body["case_data"]["consultant"] == "konsultan_griya"


def test_task_of_a_role_you_do_not_hold_is_403_and_unknown_is_404(client: TestClient, login: Login) -> None:
    case = start(client, login)
    task_id = task_of(client, login, case["id"], "Task_kelengkapan")
    for username in ("pupr_tpa", "warga", "analis", GRIYA):
        response = client.get(f"/api/tasks/{task_id}", headers=login(username))
        body = assert_problem(response, 403, "forbidden")
        assert "nik" not in body
        assert "3471012345678901" not in response.text
    assert_problem(client.get(f"/api/tasks/{uuid.uuid4()}", headers=login(FRONT)), 404, "not-found")
    assert_problem(client.get("/api/tasks/not-a-task-id", headers=login(FRONT)), 422, "validation")
    assert_problem(client.get(f"/api/tasks/{task_id}"), 401, "unauthenticated")


# ---------------------------------------------------------------- claim / unclaim


def test_claim_and_unclaim(client: TestClient, login: Login) -> None:
    make_officer(client, login, "fo_kedua", "dpmptsp.front_office")
    case = start(client, login)
    task_id = task_of(client, login, case["id"], "Task_kelengkapan")
    assert inbox(client, login, "fo_kedua")["total"] == 1
    claimed = client.post(f"/api/tasks/{task_id}/claim", headers=login(FRONT))
    assert claimed.status_code == 200, claimed.text
    front_id = client.get("/api/me", headers=login(FRONT)).json()["id"]
    assert claimed.json()["assignee_id"] == front_id
    assert claimed.json()["claimed_at"] is not None
    again = client.post(f"/api/tasks/{task_id}/claim", headers=login(FRONT))
    assert again.status_code == 200
    assert again.json()["assignee_id"] == front_id
    # The claimed task leaves the other officer's inbox, and is theirs no more.
    assert inbox(client, login, "fo_kedua")["total"] == 0
    assert [t["id"] for t in inbox(client, login, FRONT)["items"]] == [task_id]
    assert_problem(client.post(f"/api/tasks/{task_id}/claim", headers=login("fo_kedua")), 409, "task-claimed")
    assert_problem(client.get(f"/api/tasks/{task_id}", headers=login("fo_kedua")), 409, "task-claimed")
    assert_problem(post_complete(client, login, "fo_kedua", task_id, {"kelengkapan": "lengkap"}),
                   409, "task-claimed")
    for username in ("fo_kedua", "pupr_tpa", "warga"):
        assert_problem(client.post(f"/api/tasks/{task_id}/unclaim", headers=login(username)), 403, "forbidden")
    assert client.get(f"/api/tasks/{task_id}", headers=login(FRONT)).json()["task"]["assignee_id"] == front_id
    released = client.post(f"/api/tasks/{task_id}/unclaim", headers=login(FRONT))
    assert released.status_code == 200, released.text
    assert (released.json()["assignee_id"], released.json()["claimed_at"]) == (None, None)
    assert inbox(client, login, "fo_kedua")["total"] == 1
    actions = [(e["action"], e["actor"]) for e in events(client, login, case["id"])]
    assert ("claimed", FRONT) in actions
    assert ("unclaimed", FRONT) in actions
    # Now the second officer may take it and finish it.
    assert client.post(f"/api/tasks/{task_id}/claim", headers=login("fo_kedua")).status_code == 200
    assert post_complete(client, login, "fo_kedua", task_id, {"kelengkapan": "lengkap"}).status_code == 200


def test_claim_by_someone_without_the_role_is_403(client: TestClient, login: Login) -> None:
    case = start(client, login)
    task_id = task_of(client, login, case["id"], "Task_kelengkapan")
    for username in ("pupr_tpa", "warga", "analis"):
        assert_problem(client.post(f"/api/tasks/{task_id}/claim", headers=login(username)), 403, "forbidden")
    assert inbox(client, login, FRONT)["items"][0]["assignee_id"] is None
    assert_problem(client.post(f"/api/tasks/{uuid.uuid4()}/claim", headers=login(FRONT)), 404, "not-found")
    assert_problem(client.post(f"/api/tasks/{uuid.uuid4()}/unclaim", headers=login(FRONT)), 404, "not-found")


def test_revoked_officer_cannot_keep_a_claimed_task(client: TestClient, login: Login) -> None:
    make_officer(client, login, "fo_kedua", "dpmptsp.front_office")
    case = start(client, login)
    task_id = task_of(client, login, case["id"], "Task_kelengkapan")
    assert client.post(f"/api/tasks/{task_id}/claim", headers=login("fo_kedua")).status_code == 200
    admin = login("admin")
    uid = client.get("/api/me", headers=login("fo_kedua")).json()["id"]
    [membership] = client.get(f"/api/users/{uid}/memberships", headers=admin).json()
    assert client.delete(f"/api/users/{uid}/memberships/{membership['id']}", headers=admin).status_code == 204
    assert_problem(post_complete(client, login, "fo_kedua", task_id, {"kelengkapan": "lengkap"}), 403, "forbidden")
    # Whatever the inbox lists, its owner can open: a task they may no longer work on is not listed.
    for item in inbox(client, login, "fo_kedua")["items"]:
        opened = client.get(f"/api/tasks/{item['id']}", headers=login("fo_kedua"))
        assert opened.status_code == 200, (item["element_id"], opened.text)
    # An admin releases the task, and a colleague with the role takes it over.
    assert client.post(f"/api/tasks/{task_id}/unclaim", headers=admin).status_code == 200
    assert post_complete(client, login, FRONT, task_id, {"kelengkapan": "lengkap"}).status_code == 200


# ---------------------------------------------------------------- complete


def test_invalid_completion_lists_field_errors_and_leaves_the_task_open(client: TestClient, login: Login) -> None:
    case = start(client, login)
    task_id = task_of(client, login, case["id"], "Task_kelengkapan")
    bad = post_complete(client, login, FRONT, task_id, {"kelengkapan": "tidak_lengkap"})  # note required then
    body = assert_problem(bad, 422, "form-invalid")
    assert [e["field"] for e in body["errors"]] == ["catatan_kelengkapan"]
    wrong = post_complete(client, login, FRONT, task_id, {"kelengkapan": "mungkin", "lain": 1})
    fields = {e["field"] for e in assert_problem(wrong, 422, "form-invalid")["errors"]}
    assert "kelengkapan" in fields
    not_an_object = client.post(f"/api/tasks/{task_id}/complete", json={"data": ["lengkap"]}, headers=login(FRONT))
    assert_problem(not_an_object, 422, "validation")
    assert open_elements(client, login, case["id"]) == ["Task_kelengkapan"]
    assert task_of(client, login, case["id"], "Task_kelengkapan") == task_id
    assert [e["action"] for e in events(client, login, case["id"])] == ["started", "requirement_files"]
    case_data = client.get(f"/api/cases/{case['id']}", headers=login("admin")).json()["data"]
    assert "kelengkapan" not in case_data
    assert post_complete(client, login, FRONT, task_id, {"kelengkapan": "lengkap"}).status_code == 200


# Numbers no double holds, written as JSON (Python reads 1e999999 as infinity, and NaN and Infinity too).
TOO_LARGE = ["1" + "0" * 400, "9" * 5000, "1e999999", "-9.99e+999999", "Infinity"]


def test_a_number_too_large_to_hold_is_named_beside_its_field_and_nothing_moves(
        client: TestClient, login: Login, catalogue: AppContext) -> None:
    deploy(catalogue, money_package())
    make_officer(client, login, "petugas_uang", "dinas.petugas")
    case = client.post("/api/cases", json={"process_key": "uang", "data": {"harga": 1500.25, "jumlah": 2},
                                           "privacy_notice_accepted": True},
                       headers=login("warga")).json()
    task_id = task_of(client, login, case["id"], "Task_periksa")
    headers = {**login("petugas_uang"), "Content-Type": "application/json"}
    expected = dict.fromkeys(TOO_LARGE, ("Angka terlalu besar.", "Number too large."))
    expected["NaN"] = ("Bukan angka yang sah.", "Not a valid number.")
    for number, (message_id, message_en) in expected.items():
        body = '{"data": {"catatan": "ok", "biaya": ' + number + "}}"
        refused = client.post(f"/api/tasks/{task_id}/complete", content=body, headers=headers)
        problem = assert_problem(refused, 422, "form-invalid")
        assert [(e["field"], e["code"], e["message"], e["message_en"]) for e in problem["errors"]] == [
            ("biaya", "tooLarge" if number != "NaN" else "notANumber", message_id, message_en)], number
    assert open_elements(client, login, case["id"]) == ["Task_periksa"]
    assert [e["action"] for e in events(client, login, case["id"])] == ["started"]
    done = post_complete(client, login, "petugas_uang", task_id, {"catatan": "ok", "biaya": 1e300})
    assert (done.status_code, done.json()["case_status"]) == (200, "completed")


def test_completion_by_the_wrong_role_is_403(client: TestClient, login: Login) -> None:
    case = start(client, login)
    task_id = task_of(client, login, case["id"], "Task_kelengkapan")
    for username in ("pupr_tpa", "dpmptsp_kepala", "warga", GRIYA):
        response = post_complete(client, login, username, task_id, {"kelengkapan": "lengkap"})
        assert_problem(response, 403, "forbidden")
    assert open_elements(client, login, case["id"]) == ["Task_kelengkapan"]
    assert [e["action"] for e in events(client, login, case["id"])] == ["started", "requirement_files"]


def test_analyst_and_admin_without_roles_complete_nothing(client: TestClient, login: Login) -> None:
    case = start(client, login)
    task_id = task_of(client, login, case["id"], "Task_kelengkapan")
    assert inbox(client, login, "analis")["total"] == 0
    assert_problem(post_complete(client, login, "analis", task_id, {"kelengkapan": "lengkap"}), 403, "forbidden")
    assert_problem(client.post(f"/api/tasks/{task_id}/claim", headers=login("analis")), 403, "forbidden")
    assert open_elements(client, login, case["id"]) == ["Task_kelengkapan"]


def test_double_completion_is_409(client: TestClient, login: Login) -> None:
    case = start(client, login)
    task_id = task_of(client, login, case["id"], "Task_kelengkapan")
    first = post_complete(client, login, FRONT, task_id, {"kelengkapan": "lengkap"})
    assert first.status_code == 200, first.text
    assert first.json() == {"task_id": task_id, "case_id": case["id"], "case_status": "running",
                            "next_steps": first.json()["next_steps"],  # their content: tests/api/test_next_steps.py
                            "next_tasks": []}  # the drawings are the firm's: tests/api/test_next_tasks.py
    second = post_complete(client, login, FRONT, task_id, {"kelengkapan": "lengkap"})
    assert_problem(second, 409, "task-already-completed")
    assert_problem(client.post(f"/api/tasks/{task_id}/claim", headers=login(FRONT)), 409, "task-already-completed")
    assert_problem(client.get(f"/api/tasks/{task_id}", headers=login(FRONT)), 409, "task-already-completed")
    completed = [e for e in events(client, login, case["id"]) if e["action"] == "completed"]
    assert len(completed) == 1
    assert open_elements(client, login, case["id"]) == ["Task_gambar_teknis"]


# ---------------------------------------------------------------- bindings and applicant tasks


def test_consultant_task_is_bound_to_the_chosen_firm(client: TestClient, login: Login) -> None:
    case = start(client, login, consultant="konsultan_griya")
    complete(client, login, FRONT, case["id"], "Task_kelengkapan", {"kelengkapan": "lengkap"})
    task_id = task_of(client, login, case["id"], "Task_gambar_teknis")
    assert inbox(client, login, MATARAM)["total"] == 0
    [task] = inbox(client, login, GRIYA)["items"]
    assert (task["id"], task["bound_org"], task["role"]) == (task_id, "konsultan_griya", "konsultan.perencana")
    assert_problem(client.get(f"/api/tasks/{task_id}", headers=login(MATARAM)), 403, "forbidden")
    assert_problem(client.post(f"/api/tasks/{task_id}/claim", headers=login(MATARAM)), 403, "forbidden")
    assert_problem(post_complete(client, login, MATARAM, task_id, DRAWINGS), 403, "forbidden")
    assert open_elements(client, login, case["id"]) == ["Task_gambar_teknis"]
    assert client.get(f"/api/tasks/{task_id}", headers=login(GRIYA)).status_code == 200
    assert post_complete(client, login, GRIYA, task_id, api_drawings(client, login(GRIYA))).status_code == 200
    assert open_elements(client, login, case["id"]) == ["Task_tpa"]


def test_the_other_firm_gets_the_cases_that_chose_it(client: TestClient, login: Login) -> None:
    case = start(client, login, consultant="konsultan_mataram")
    complete(client, login, FRONT, case["id"], "Task_kelengkapan", {"kelengkapan": "lengkap"})
    assert inbox(client, login, GRIYA)["total"] == 0
    assert inbox_elements(client, login, MATARAM) == [(case["id"], "Task_gambar_teknis")]
    complete(client, login, MATARAM, case["id"], "Task_gambar_teknis", api_drawings(client, login(MATARAM)))


def test_applicant_task_goes_to_that_applicant_only(client: TestClient, login: Login) -> None:
    make_applicant(client, login, "warga_lain")
    case = start(client, login)
    complete(client, login, FRONT, case["id"], "Task_kelengkapan",
             {"kelengkapan": "tidak_lengkap", "catatan_kelengkapan": "Sertifikat tanah belum dilampirkan"})
    task_id = task_of(client, login, case["id"], "Task_melengkapi")
    assert inbox_elements(client, login, "warga") == [(case["id"], "Task_melengkapi")]
    assert inbox(client, login, "warga_lain")["total"] == 0
    assert inbox(client, login, FRONT)["total"] == 0
    assert_problem(client.get(f"/api/tasks/{task_id}", headers=login("warga_lain")), 403, "forbidden")
    assert_problem(post_complete(client, login, "warga_lain", task_id, {"keterangan_perbaikan": "x"}),
                   403, "forbidden")
    assert_problem(post_complete(client, login, FRONT, task_id, {"keterangan_perbaikan": "x"}), 403, "forbidden")
    detail = client.get(f"/api/tasks/{task_id}", headers=login("warga"))
    assert detail.status_code == 200, detail.text
    assert detail.json()["case_data"]["catatan_kelengkapan"] == "Sertifikat tanah belum dilampirkan"
    assert post_complete(client, login, "warga", task_id,
                         {"keterangan_perbaikan": "Sertifikat dilampirkan"}).status_code == 200
    assert inbox_elements(client, login, FRONT) == [(case["id"], "Task_kelengkapan")]


def test_walk_in_applicant_task_goes_to_the_filing_officer(client: TestClient, login: Login) -> None:
    make_officer(client, login, "fo_kedua", "dpmptsp.front_office")
    case = start(client, login, FRONT)
    complete(client, login, FRONT, case["id"], "Task_kelengkapan",
             {"kelengkapan": "tidak_lengkap", "catatan_kelengkapan": "KTP belum ada"})
    assert inbox_elements(client, login, FRONT) == [(case["id"], "Task_melengkapi")]
    assert inbox(client, login, "fo_kedua")["total"] == 0
    assert inbox(client, login, "warga")["total"] == 0


# ---------------------------------------------------------------- a whole case


def test_a_whole_pbg_case_through_http(client: TestClient, login: Login) -> None:
    case = start(client, login)
    steps = [
        (FRONT, "Task_kelengkapan", {"kelengkapan": "lengkap"}),
        (GRIYA, "Task_gambar_teknis", api_drawings(client, login(GRIYA))),
        ("pupr_tpa", "Task_tpa", APPROVED),
        ("pupr_teknis", "Task_sppst", SPPST),
        ("dpmptsp_back_office", "Task_skrd", SKRD),
        ("warga", "Task_pembayaran", PAID),
        ("dpmptsp_kasir", "Task_verifikasi", {"pembayaran_valid": True}),
        ("dpmptsp_kepala", "Task_tanda_tangan", SIGNED),
    ]
    result: dict[str, Any] = {}
    for username, element_id, data in steps:
        items = inbox(client, login, username)["items"]
        assert [(t["case_id"], t["element_id"]) for t in items] == [(case["id"], element_id)], username
        result = complete(client, login, username, case["id"], element_id, data)
        assert result["case_id"] == case["id"]
    assert result["case_status"] == "completed"
    read = client.get(f"/api/cases/{case['id']}", headers=login("warga")).json()
    assert (read["status"], read["outcome"]) == ("completed", "PBG terbit")
    assert read["completed_at"] is not None
    assert read["open_tasks"] == []
    assert read["data"]["nomor_pbg"] == SIGNED["nomor_pbg"]
    assert read["data"]["retribusi"] == 275_644
    history = client.get(f"/api/cases/{case['id']}/events", headers=login("warga")).json()
    done = [(e["actor"], e["element_id"]) for e in history if e["action"] == "completed" and e["task_id"]]
    assert done == [(username, element_id) for username, element_id, _data in steps]
    tracked = client.get(f"/api/track/{case['tracking_number']}", params={"pin": case["pin"]}).json()
    assert (tracked["status"], tracked["held_by"]) == ("completed", [])
    for username, *_rest in steps:
        assert inbox(client, login, username)["total"] == 0
