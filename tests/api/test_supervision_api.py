"""Staff case search and supervision over HTTP: who finds which case, who reassigns and releases which task."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from engine.context import AppContext
from engine.models import AuditEntry
from tests.api.test_tasks import (
    FRONT,
    GRIYA,
    assert_problem,
    complete,
    events,
    make_officer,
    start,
    task_of,
)
from tests.factories import api_drawings

Login = Callable[[str], dict[str, str]]
NIK = "3471012345678901"
SUPERVISOR = "dpmptsp_supervisor"


def search(client: TestClient, login: Login, username: str, q: str) -> list[str]:
    response = client.get("/api/cases/search", params={"q": q}, headers=login(username))
    assert response.status_code == 200, response.text
    return [hit["tracking_number"] for hit in response.json()["items"]]


def reassign(client: TestClient, login: Login, username: str, task_id: str, to: str,
             reason: str = "petugas cuti") -> Any:
    return client.post(f"/api/tasks/{task_id}/reassign", json={"to": to, "reason": reason}, headers=login(username))


# ---------------------------------------------------------------- case search


def test_front_office_finds_an_online_case_by_nik_number_and_name(client: TestClient, login: Login) -> None:
    case = start(client, login, nama_pemohon="Siti Aminah", nik="3471099988887777")
    other = start(client, login)
    number = case["tracking_number"]
    # The front office never touched the online case: the counter rule lets it find it.
    assert search(client, login, FRONT, "3471099988887777") == [number]
    assert search(client, login, FRONT, "34710999") == []  # the NIK is sealed: only the whole number finds it
    assert search(client, login, FRONT, number.lower().replace("-", " ")) == [number]
    assert search(client, login, FRONT, "siti amin") == [number]
    assert search(client, login, FRONT, "3471012345678901") == [other["tracking_number"]]
    assert search(client, login, FRONT, "Tidak Ada") == []
    hit = client.get("/api/cases/search", params={"q": number}, headers=login(FRONT)).json()["items"][0]
    # Found by the full NIK and the name, listed masked (forms.personal); the case itself shows them.
    assert (hit["applicant_name"], hit["nik"], hit["process_key"]) == ("S*** A*****", "3471********7777", "pbg")
    assert client.get(f"/api/cases/{case['id']}", headers=login(FRONT)).status_code == 200


def test_search_keeps_to_the_cases_the_officer_may_read(client: TestClient, login: Login) -> None:
    case = start(client, login)
    # The expert panel has no task of this case yet: no hit, and the case itself is not theirs to read.
    assert search(client, login, "pupr_tpa", NIK) == []
    assert client.get(f"/api/cases/{case['id']}", headers=login("pupr_tpa")).status_code == 404
    complete(client, login, FRONT, case["id"], "Task_kelengkapan", {"kelengkapan": "lengkap"})
    complete(client, login, GRIYA, case["id"], "Task_gambar_teknis", api_drawings(client, login(GRIYA)))
    assert search(client, login, "pupr_tpa", NIK) == [case["tracking_number"]]
    assert search(client, login, "admin", NIK) == [case["tracking_number"]]


def test_applicants_and_analysts_may_not_search(client: TestClient, login: Login) -> None:
    start(client, login)
    for username in ("warga", "analis"):
        assert_problem(client.get("/api/cases/search", params={"q": NIK}, headers=login(username)), 403, "forbidden")
    assert_problem(client.get("/api/cases/search", params={"q": NIK}), 401, "unauthenticated")
    assert_problem(client.get("/api/cases/search", params={"q": ""}, headers=login(FRONT)), 422, "validation")


def test_too_short_a_search_finds_nothing(client: TestClient, login: Login) -> None:
    start(client, login)
    for q in ("b", "347", "%", "_"):
        assert search(client, login, FRONT, q) == [], q


# ---------------------------------------------------------------- supervisors read their agency's cases


def test_a_supervisor_reads_the_cases_of_their_agency_only(client: TestClient, login: Login) -> None:
    case = start(client, login)
    assert client.get(f"/api/cases/{case['id']}", headers=login(SUPERVISOR)).status_code == 200
    assert client.get(f"/api/cases/{case['id']}/events", headers=login(SUPERVISOR)).status_code == 200
    assert_problem(client.get(f"/api/cases/{case['id']}", headers=login("pupr_supervisor")), 404, "not-found")
    complete(client, login, FRONT, case["id"], "Task_kelengkapan", {"kelengkapan": "lengkap"})
    # The agency's task is closed now, yet the case stays the agency's (a past task counts).
    assert client.get(f"/api/cases/{case['id']}", headers=login(SUPERVISOR)).status_code == 200
    assert search(client, login, SUPERVISOR, NIK) == [case["tracking_number"]]
    assert search(client, login, "pupr_supervisor", NIK) == []


# ---------------------------------------------------------------- reassign and release


def test_the_supervisor_reassigns_a_claimed_task_with_a_reason(client: TestClient, login: Login,
                                                               catalogue: AppContext) -> None:
    make_officer(client, login, "petugas_b", "dpmptsp.front_office")
    case = start(client, login)
    task_id = task_of(client, login, case["id"], "Task_kelengkapan")
    assert client.post(f"/api/tasks/{task_id}/claim", headers=login(FRONT)).status_code == 200
    moved = reassign(client, login, SUPERVISOR, task_id, "petugas_b", "Petugas A sakit")
    assert moved.status_code == 200, moved.text
    new_holder = moved.json()["assignee_id"]
    assert new_holder is not None
    # The new holder works on it; the old one can no longer.
    assert client.get(f"/api/tasks/{task_id}", headers=login("petugas_b")).status_code == 200
    assert_problem(client.get(f"/api/tasks/{task_id}", headers=login(FRONT)), 409, "task-claimed")
    [event] = [e for e in events(client, login, case["id"]) if e["action"] == "reassigned"]
    assert (event["actor"], event["task_id"]) == (SUPERVISOR, task_id)
    assert event["label"] == f"{FRONT} → petugas_b: Petugas A sakit"
    with catalogue.sessions() as session:
        [entry] = session.scalars(select(AuditEntry).where(AuditEntry.action == "task.reassigned"))
    assert (entry.actor, entry.subject) == (SUPERVISOR, f"task:{task_id}")
    assert entry.detail == {"case_id": case["id"], "task": "Pemeriksaan kelengkapan berkas", "from": FRONT,
                            "to": "petugas_b", "reason": "Petugas A sakit"}


def test_reassigning_is_refused_to_outsiders_and_to_officers_without_the_role(client: TestClient,
                                                                              login: Login) -> None:
    make_officer(client, login, "petugas_b", "dpmptsp.front_office")
    case = start(client, login)
    task_id = task_of(client, login, case["id"], "Task_kelengkapan")
    for username in (FRONT, "pupr_supervisor", "petugas_b", "warga", "analis"):
        assert_problem(reassign(client, login, username, task_id, "petugas_b"), 403, "forbidden")
    body = assert_problem(reassign(client, login, SUPERVISOR, task_id, "pupr_tpa"), 400, "bad-request")
    assert "dpmptsp.front_office" in body["detail"]
    assert_problem(reassign(client, login, SUPERVISOR, task_id, "tidak_ada"), 400, "bad-request")
    assert_problem(reassign(client, login, SUPERVISOR, task_id, "petugas_b", reason="   "), 400, "bad-request")
    assert_problem(reassign(client, login, SUPERVISOR, task_id, "petugas_b", reason=""), 422, "validation")
    assert [e["action"] for e in events(client, login, case["id"])] == ["started", "requirement_files"]
    # An admin may, like the agency's supervisor.
    assert reassign(client, login, "admin", task_id, "petugas_b").status_code == 200


def test_the_supervisor_releases_a_claimed_task_back_to_the_pool(client: TestClient, login: Login) -> None:
    case = start(client, login)
    task_id = task_of(client, login, case["id"], "Task_kelengkapan")
    release = {"reason": "petugas tidak hadir"}
    assert_problem(client.post(f"/api/tasks/{task_id}/release", json=release, headers=login(SUPERVISOR)),
                   400, "bad-request")  # not claimed yet
    assert client.post(f"/api/tasks/{task_id}/claim", headers=login(FRONT)).status_code == 200
    assert_problem(client.post(f"/api/tasks/{task_id}/release", json=release, headers=login("pupr_supervisor")),
                   403, "forbidden")
    released = client.post(f"/api/tasks/{task_id}/release", json=release, headers=login(SUPERVISOR))
    assert released.status_code == 200, released.text
    assert released.json()["assignee_id"] is None
    assert [e["label"] for e in events(client, login, case["id"]) if e["action"] == "released"] == [
        f"{FRONT}: petugas tidak hadir"]


def test_workload_per_officer_for_the_agency_supervisor(client: TestClient, login: Login) -> None:
    case = start(client, login)
    start(client, login)
    task_id = task_of(client, login, case["id"], "Task_kelengkapan")
    assert client.post(f"/api/tasks/{task_id}/claim", headers=login(FRONT)).status_code == 200
    response = client.get("/api/supervision/workload", params={"agency": "dpmptsp"}, headers=login(SUPERVISOR))
    assert response.status_code == 200, response.text
    rows = {row["username"]: row for row in response.json()}
    assert (rows[FRONT]["claimed"], rows[FRONT]["overdue"]) == (1, 0)
    assert rows["dpmptsp_kasir"]["claimed"] == 0  # idle officers are listed too
    assert "pupr_tpa" not in rows
    for username in ("pupr_supervisor", FRONT):
        assert_problem(client.get("/api/supervision/workload", params={"agency": "dpmptsp"},
                                  headers=login(username)), 403, "forbidden")
