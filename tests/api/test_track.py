"""Public tracking over HTTP: number + PIN, public fields only, same answer for every miss, rate limit."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from httpx import Response

from tests.factories import pbg_application
from tests.processes.test_pbg import DRAWINGS

Login = Callable[[str], dict[str, str]]
PROBLEM = "application/problem+json"
TRACK_KEYS = {"tracking_number", "service", "status", "stage_id", "stage_en", "held_by", "expected_completion",
              "timeline", "parts"}
PART_KEYS = {"service", "status", "stage_id", "stage_en", "held_by", "expected_completion"}
TIMELINE_KEYS = {"at", "event", "label_id", "label_en"}


def start(client: TestClient, login: Login, username: str = "warga") -> dict[str, Any]:
    body = {"process_key": "pbg", "data": pbg_application(), "channel": "daring"}
    response = client.post("/api/cases", json=body, headers=login(username))
    assert response.status_code == 201, response.text
    return dict(response.json())


def complete(client: TestClient, login: Login, username: str, case_id: int, element_id: str,
             data: dict[str, Any]) -> None:
    case = client.get(f"/api/cases/{case_id}", headers=login("admin")).json()
    task_id = next(t["id"] for t in case["open_tasks"] if t["element_id"] == element_id)
    response = client.post(f"/api/tasks/{task_id}/complete", json={"data": data}, headers=login(username))
    assert response.status_code == 200, response.text


def track(client: TestClient, number: str, pin: str) -> Response:
    return client.get(f"/api/track/{number}", params={"pin": pin})


def other_pin(pin: str) -> str:
    return f"{(int(pin) + 1) % 1_000_000:06d}"


def without_instance(response: Response) -> dict[str, Any]:
    body: dict[str, Any] = response.json()
    body.pop("instance", None)
    return body


def test_number_and_pin_give_only_the_public_status(client: TestClient, login: Login) -> None:
    case = start(client, login)
    response = track(client, case["tracking_number"], case["pin"])
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == TRACK_KEYS
    assert body["tracking_number"] == case["tracking_number"]
    assert body["service"] == {"id": "Persetujuan Bangunan Gedung (PBG)", "en": "Building Approval (PBG)"}
    assert body["status"] == "running"
    assert (body["stage_id"], body["stage_en"]) == ("Pemeriksaan berkas di loket", "File check at the counter")
    assert body["held_by"] == ["DPMPTSP Kota Yogyakarta"]
    assert body["expected_completion"] == "2026-04-17"  # 28 working days after 2 March 2026, Lebaran skipped
    assert [set(line) for line in body["timeline"]] == [TIMELINE_KEYS]
    assert all(set(part) == PART_KEYS for part in body["parts"])
    assert body["parts"] == []  # a single-service application has no parts
    assert body["timeline"][0]["event"] == "started"
    assert body["timeline"][0]["label_id"] == "Permohonan diterima"
    assert body["timeline"][0]["label_en"] == "Application received"
    text = response.text
    for private in ("warga", "Budi", "3471012345678901", "budi@example.id", "081234567890", "Malioboro",
                    "dpmptsp_front_office", "pin", case["pin"], "applicant", "applicant_id", "filed_by"):
        assert private not in text, private


def test_timeline_is_plain_language_and_hides_people(client: TestClient, login: Login) -> None:
    case = start(client, login)
    number, pin = case["tracking_number"], case["pin"]
    task = client.get(f"/api/cases/{case['id']}", headers=login("admin")).json()["open_tasks"][0]["id"]
    assert client.post(f"/api/tasks/{task}/claim", headers=login("dpmptsp_front_office")).status_code == 200
    complete(client, login, "dpmptsp_front_office", case["id"], "Task_kelengkapan", {"kelengkapan": "lengkap"})
    complete(client, login, "konsultan_griya_perencana", case["id"], "Task_gambar_teknis", DRAWINGS)
    response = track(client, number.lower(), pin)
    assert response.status_code == 200, response.text
    body = response.json()
    assert [line["event"] for line in body["timeline"]] == ["started", "step_done", "step_done"]
    assert body["timeline"][1]["label_id"] == "Pemeriksaan kelengkapan berkas — selesai"
    assert body["timeline"][1]["label_en"] == "Pemeriksaan kelengkapan berkas — done"
    assert body["held_by"] == ["Dinas Pekerjaan Umum, Perumahan dan Kawasan Permukiman"]
    assert body["stage_en"] == "Consultation with the expert panel"
    for private in ("dpmptsp_front_office", "konsultan_griya_perencana", "konsultan_griya", "CV Griya",
                    "Ir. Sri Wahyuni", "SKA-1-2345", "ars-v1.pdf", "claimed", "kelengkapan\""):
        assert private not in response.text, private


def test_held_by_names_the_provider_agency_not_the_firm_or_person(client: TestClient, login: Login) -> None:
    case = start(client, login)
    complete(client, login, "dpmptsp_front_office", case["id"], "Task_kelengkapan", {"kelengkapan": "lengkap"})
    body = track(client, case["tracking_number"], case["pin"]).json()
    assert body["held_by"] == ["Penyedia Jasa Konsultan Perencana"]


def test_cancelled_case_has_no_expected_date(client: TestClient, login: Login) -> None:
    case = start(client, login)
    cancelled = client.post(f"/api/cases/{case['id']}/cancel", json={"reason": "Permohonan ganda"},
                            headers=login("admin"))
    assert cancelled.status_code == 200, cancelled.text
    body = track(client, case["tracking_number"], case["pin"]).json()
    assert (body["status"], body["expected_completion"], body["held_by"]) == ("cancelled", None, [])
    assert body["timeline"][-1]["event"] == "cancelled"
    assert "Permohonan ganda" not in str(body)


def test_wrong_pin_and_unknown_number_look_the_same(client: TestClient, login: Login) -> None:
    case = start(client, login)
    wrong_pin = track(client, case["tracking_number"], other_pin(case["pin"]))
    unknown = track(client, "MPP-ZZZZ-ZZZZ", case["pin"])
    garbage = track(client, "NOPE-1234", "123456")
    for response in (wrong_pin, unknown, garbage):
        assert response.status_code == 404, response.text
        assert response.headers["content-type"] == PROBLEM
        assert response.json()["type"] == "/api/problems/not-found"
        assert "Persetujuan" not in response.text
    assert without_instance(wrong_pin) == without_instance(unknown) == without_instance(garbage)


def test_pin_of_another_case_does_not_open_this_one(client: TestClient, login: Login) -> None:
    first, second = start(client, login), start(client, login)
    assert track(client, first["tracking_number"], second["pin"]).status_code == (
        200 if first["pin"] == second["pin"] else 404)
    assert track(client, first["tracking_number"], first["pin"]).status_code == 200


def test_number_as_a_person_types_it(client: TestClient, login: Login) -> None:
    case = start(client, login)
    number, pin = case["tracking_number"], case["pin"]
    compact = number.replace("-", "")
    for typed in (number.lower(), compact, compact.lower(), " ".join(number.split("-")), f" {number} ",
                  compact[3:]):
        response = track(client, typed, pin)
        assert response.status_code == 200, (typed, response.text)
        assert response.json()["tracking_number"] == number
    assert track(client, number, f" {pin} ").status_code == 200


def test_missing_or_malformed_pin_is_a_validation_problem(client: TestClient, login: Login) -> None:
    case = start(client, login)
    missing = client.get(f"/api/track/{case['tracking_number']}")
    assert missing.status_code == 422
    assert missing.json()["type"] == "/api/problems/validation"
    assert "pin" in {e["field"] for e in missing.json()["errors"]}
    too_long = track(client, case["tracking_number"], "1" * 13)
    assert too_long.status_code == 422
    assert "Persetujuan" not in missing.text + too_long.text


def test_lookups_are_rate_limited_per_client(client: TestClient, login: Login) -> None:
    case = start(client, login)
    number, pin = case["tracking_number"], case["pin"]
    statuses = [track(client, number, other_pin(pin) if i % 2 else pin).status_code for i in range(20)]
    assert statuses == [200, 404] * 10
    limited = track(client, number, pin)
    assert limited.status_code == 429, limited.text
    assert limited.headers["content-type"] == PROBLEM
    assert limited.json()["type"] == "/api/problems/rate-limited"
    assert 1 <= int(limited.headers["retry-after"]) <= 61
    assert "Persetujuan" not in limited.text
    # The limit is on the public lookup only: logged-in work goes on.
    assert client.get(f"/api/cases/{case['id']}", headers=login("warga")).status_code == 200
