"""Public tracking over HTTP: number + PIN, public fields only, same answer for every miss, rate limits."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from httpx import Response

from api.app import create_app
from engine.context import AppContext
from tests.factories import api_drawings, pbg_application, pbg_documents

Login = Callable[[str], dict[str, str]]
PROBLEM = "application/problem+json"
TRACK_KEYS = {"tracking_number", "service", "status", "stage_id", "stage_en", "held_by", "expected_completion",
              "timeline", "parts"}
PART_KEYS = {"service", "status", "stage_id", "stage_en", "held_by", "expected_completion"}
TIMELINE_KEYS = {"at", "event", "label_id", "label_en"}


def start(client: TestClient, login: Login, username: str = "warga") -> dict[str, Any]:
    body = {"process_key": "pbg", "data": pbg_application(), "channel": "daring",
            "documents": pbg_documents(client, login(username)), "privacy_notice_accepted": True}
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
    complete(client, login, "konsultan_griya_perencana", case["id"], "Task_gambar_teknis",
             api_drawings(client, login("konsultan_griya_perencana")))
    response = track(client, number.lower(), pin)
    assert response.status_code == 200, response.text
    body = response.json()
    assert [line["event"] for line in body["timeline"]] == ["started", "step_done", "step_done"]
    assert body["timeline"][1]["label_id"] == "Pemeriksaan kelengkapan berkas — selesai"
    assert body["timeline"][1]["label_en"] == "File check at the counter — done"  # the step's stageEn
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


def client_at(client: TestClient, address: str) -> TestClient:
    """Return a client of the same app that connects from another address."""
    return TestClient(client.app, client=(address, 50000), raise_server_exceptions=False)


def assert_limited(response: Response, longest_s: int) -> None:
    assert response.status_code == 429, response.text
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["type"] == "/api/problems/rate-limited"
    assert 1 <= int(response.headers["retry-after"]) <= longest_s
    assert "Persetujuan" not in response.text


def test_lookups_are_rate_limited_per_client(client: TestClient, login: Login) -> None:
    case = start(client, login)
    number, pin = case["tracking_number"], case["pin"]
    # Twenty guesses on twenty numbers: the client's limit, not a number's.
    statuses = [track(client, f"MPP-ZZZZ-{i:04d}", "123456").status_code for i in range(19)]
    statuses.append(track(client, number, pin).status_code)
    assert statuses == [404] * 19 + [200]
    assert_limited(track(client, number, pin), 60)
    # Another client is answered, and logged-in work goes on.
    assert track(client_at(client, "198.51.100.20"), number, pin).status_code == 200
    assert client.get(f"/api/cases/{case['id']}", headers=login("warga")).status_code == 200


def test_wrong_pins_are_limited_per_tracking_number_whatever_the_client(client: TestClient, login: Login) -> None:
    case = start(client, login)
    number, pin = case["tracking_number"], case["pin"]
    # Right PINs do not count against the number: its applicant may look as often as the client limit allows.
    assert [track(client_at(client, f"198.51.100.{i}"), number, pin).status_code for i in range(12)] == [200] * 12
    wrong = [track(client_at(client, f"203.0.113.{i}"), number, other_pin(pin)).status_code for i in range(10)]
    assert wrong == [404] * 10
    assert_limited(track(client_at(client, "192.0.2.1"), number, other_pin(pin)), 15 * 60)
    assert_limited(track(client_at(client, "192.0.2.2"), number, pin), 15 * 60)
    # Another number is not affected.
    other = start(client, login)
    assert track(client_at(client, "192.0.2.3"), other["tracking_number"], other["pin"]).status_code == 200


def test_a_rotating_forwarded_for_does_not_help_without_a_trusted_proxy(client: TestClient) -> None:
    statuses = [client.get(f"/api/track/MPP-ZZZZ-{i:04d}", params={"pin": "123456"},
                           headers={"X-Forwarded-For": f"192.0.2.{i}"}).status_code for i in range(21)]
    assert statuses == [404] * 20 + [429]


def test_behind_a_trusted_proxy_the_right_most_untrusted_address_is_the_client(catalogue: AppContext) -> None:
    settings = catalogue.settings.model_copy(update={"trusted_proxies": ["10.0.0.0/8"]})
    app = create_app(dataclasses.replace(catalogue, settings=settings))
    proxy = TestClient(app, client=("10.0.0.2", 50000), raise_server_exceptions=False)

    def guess(i: int, forwarded: str) -> int:
        return proxy.get(f"/api/track/MPP-ZZZZ-{i:04d}", params={"pin": "1"},
                         headers={"X-Forwarded-For": forwarded}).status_code

    # What the client wrote on the left is ignored; our own proxies (10.x) on the right are skipped.
    assert [guess(i, f"192.0.2.{i}, 198.51.100.7, 10.0.0.9") for i in range(21)] == [404] * 20 + [429]
    # The proxy vouches for another client: it has its own count.
    assert guess(21, "198.51.100.8") == 404
    # A peer that is not a trusted proxy is the client, whatever its header says.
    direct = TestClient(app, client=("198.51.100.9", 50000), raise_server_exceptions=False)
    statuses = [direct.get(f"/api/track/MPP-ZZZZ-{i:04d}", params={"pin": "1"},
                           headers={"X-Forwarded-For": "198.51.100.8"}).status_code for i in range(21)]
    assert statuses == [404] * 20 + [429]
