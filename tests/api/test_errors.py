"""Errors over HTTP: every error is an RFC 9457 problem+json with a stable, documented `type`."""

from __future__ import annotations

import json
import logging
import sqlite3
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from api.app import create_app
from api.bootstrap import DEMO_PASSWORD
from engine.catalogue import registry as registry
from engine.context import AppContext, build_context
from tests.factories import pbg_application, pbg_documents

Login = Callable[[str], dict[str, str]]
PROBLEM = "application/problem+json"
# The documented problem types (docs and clients rely on these slugs and statuses).
TYPES = {
    "validation": 422, "form-invalid": 422, "package-invalid": 422, "unsafe-xml": 422, "bad-request": 400,
    "unauthenticated": 401, "forbidden": 403, "not-found": 404, "method-not-allowed": 405, "conflict": 409,
    "task-already-completed": 409, "task-claimed": 409, "too-large": 413, "rate-limited": 429, "busy": 503,
    "internal": 500,
}

TITLES = {
    "validation": "Invalid input", "form-invalid": "Form data is invalid",
    "package-invalid": "Process package is invalid", "unsafe-xml": "XML file refused", "bad-request": "Bad request",
    "unauthenticated": "Authentication required",
    "forbidden": "Forbidden", "not-found": "Not found", "method-not-allowed": "Method not allowed",
    "conflict": "Conflict", "task-already-completed": "Task already completed",
    "task-claimed": "Task claimed by another officer", "too-large": "Payload too large",
    "rate-limited": "Too many requests", "busy": "The platform is busy", "internal": "Internal error",
}


def assert_problem(response: Response, status: int, slug: str) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert {"type", "title", "status", "detail"} <= set(body), body
    assert body["type"] == f"/api/problems/{slug}"
    assert body["status"] == status
    assert isinstance(body["title"], str)
    assert body["title"]
    assert isinstance(body["detail"], str)
    assert body["detail"]
    assert body["title"] == TITLES[slug]
    assert "Traceback" not in response.text
    return dict(body)




def test_unknown_route_is_a_404_problem(client: TestClient, login: Login) -> None:
    for path in ("/api/nothing-here", "/api/cases/1/nothing"):
        body = assert_problem(client.get(path), 404, "not-found")
        assert body["instance"] == path
    page = client.get("/no/such/page")  # outside /api: the same error as a page for people
    assert (page.status_code, page.headers["content-type"]) == (404, "text/html; charset=utf-8")
    assert "Tidak ditemukan" in page.text
    assert_problem(client.get("/api/nothing-here", headers=login("admin")), 404, "not-found")


def test_wrong_method_is_a_405_problem(client: TestClient, login: Login) -> None:
    response = client.delete("/api/processes")
    assert_problem(response, 405, "method-not-allowed")
    assert "GET" in response.headers["allow"]
    assert_problem(client.put("/api/auth/token"), 405, "method-not-allowed")
    assert_problem(client.get("/api/auth/token"), 405, "method-not-allowed")
    assert_problem(client.patch("/api/cases", headers=login("admin")), 405, "method-not-allowed")


def test_malformed_json_is_a_validation_problem(client: TestClient, login: Login) -> None:
    headers = {**login("warga"), "Content-Type": "application/json"}
    before = client.get("/api/cases", headers=login("admin")).json()["total"]
    for raw in (b'{"process_key": "pbg", "data": ', b"not json at all", b"{'process_key': 'pbg'}", b""):
        body = assert_problem(client.post("/api/cases", content=raw, headers=headers), 422, "validation")
        assert body["errors"]
    # Bytes that are not even UTF-8 fail before JSON parsing: a client error all the same, never a 500.
    not_utf8 = client.post("/api/cases", content=b"\xff\xfe\x00", headers=headers)
    assert not_utf8.status_code in (400, 422), not_utf8.text
    assert not_utf8.headers["content-type"] == PROBLEM
    assert_problem(client.post("/api/cases", content=b"[1, 2]", headers=headers), 422, "validation")
    assert_problem(client.post("/api/cases", json={"data": {}}, headers=login("warga")), 422, "validation")
    assert client.get("/api/cases", headers=login("admin")).json()["total"] == before


def test_validation_problem_lists_fields(client: TestClient, login: Login) -> None:
    response = client.post("/api/cases", json={"process_key": "", "channel": "burung", "data": "x"},
                           headers=login("warga"))
    body = assert_problem(response, 422, "validation")
    errors = body["errors"]
    assert isinstance(errors, list)
    assert {e["field"] for e in errors} == {"process_key", "channel", "data"}
    for error in errors:
        assert set(error) == {"field", "code", "message", "message_en"}


def test_each_problem_type_is_described(client: TestClient) -> None:
    for slug, status in TYPES.items():
        response = client.get(f"/api/problems/{slug}")
        assert response.status_code == 200, (slug, response.text)
        body = response.json()
        assert body["type"] == f"/api/problems/{slug}"
        assert body["status"] == status
        assert body["title"] == TITLES[slug]
        assert body["title_id"]
    assert_problem(client.get("/api/problems/no-such-problem"), 404, "not-found")


def test_problem_types_in_responses_are_all_documented(client: TestClient, login: Login) -> None:
    created = client.post("/api/cases", json={"process_key": "pbg", "data": pbg_application(),
                                              "documents": pbg_documents(client, login("warga")),
                                              "privacy_notice_accepted": True},
                          headers=login("warga")).json()
    task = client.get(f"/api/cases/{created['id']}", headers=login("admin")).json()["open_tasks"][0]["id"]
    responses = [
        client.get("/api/me"),
        client.get("/api/users", headers=login("warga")),
        client.get("/api/cases/424242", headers=login("admin")),
        client.post("/api/cases", json={"process_key": "pbg", "data": {}, "privacy_notice_accepted": True},
                    headers=login("warga")),
        client.post("/api/users", json={"username": "warga", "password": "long-enough"}, headers=login("admin")),
        client.post(f"/api/tasks/{task}/complete", json={"data": {}}, headers=login("dpmptsp_front_office")),
        client.post(f"/api/tasks/{uuid.uuid4()}/complete", json={"data": {}}, headers=login("dpmptsp_front_office")),
        client.get("/api/track/MPP-0000-0000", params={"pin": "000000"}),
        client.delete("/api/me"),
    ]
    for response in responses:
        assert response.status_code >= 400
        assert response.headers["content-type"] == PROBLEM
        body = response.json()
        slug = body["type"].removeprefix("/api/problems/")
        assert TYPES[slug] == response.status_code == body["status"]
        assert client.get(body["type"]).status_code == 200


def test_no_response_leaks_a_traceback(client: TestClient, login: Login) -> None:
    admin = login("admin")
    responses = [
        client.get("/api/cases/9007199254740993", headers=admin),
        client.get("/api/cases/-1", headers=admin),
        client.get("/api/tasks/" + "f" * 36, headers=admin),
        client.get("/api/tasks", params={"limit": "lots"}, headers=admin),
        client.get("/api/processes/%00", headers=admin),
        client.get("/api/processes/" + "a" * 500),
        client.get("/api/processes/pbg/versions/99999999999/bpmn", headers=admin),
        client.get("/api/track/" + "9" * 40, params={"pin": "1"}),
        client.post("/api/auth/token", data={"username": "x" * 5000, "password": "y"}),
        client.post("/api/auth/token", data={"username": "admin"}),
        client.post("/api/cases", json={"process_key": "pbg", "data": {"nik": {"$gt": ""}}}, headers=admin),
        client.post("/api/cases", content=json.dumps({"process_key": "pbg", "data": pbg_application(
            luas_bangunan=float("inf"), jumlah_lantai=float("nan"))}).encode(),
                    headers={**admin, "Content-Type": "application/json"}),
        client.post("/api/processes", files=[("files", ("a.zip", b"", "application/zip"))], headers=admin),
        client.post("/api/processes", files=[("files", ("x/../../a.bpmn", b"<a/>", "text/xml"))], headers=admin),
        client.post("/api/processes", content=b"no multipart",
                    headers={**admin, "Content-Type": "multipart/form-data"}),
        client.patch("/api/users/1", content=b"{", headers={**admin, "Content-Type": "application/json"}),
        client.get("/api/me", headers={"Authorization": "Bearer " + "x" * 10000}),
        client.get("/api/me", headers={"Authorization": "Basic YWRtaW46ZGVtbzEyMzQ1"}),
    ]
    for response in responses:
        assert "Traceback" not in response.text, response.text
        assert 'File "' not in response.text, response.text
        assert response.status_code < 500, (response.request.url, response.text)
        assert response.headers["content-type"] == PROBLEM, (response.request.url, response.text)


def test_problem_details_never_echo_secrets(client: TestClient) -> None:
    response = client.post("/api/auth/token", data={"username": "admin", "password": "my-secret-guess"})
    assert_problem(response, 401, "unauthenticated")
    assert "my-secret-guess" not in response.text


def test_ids_beyond_the_database_integer_range_are_not_a_500(client: TestClient, login: Login) -> None:
    admin = login("admin")
    huge = 2**40  # accepted by the path validators (<= 2**53), beyond a 32-bit integer column
    responses = [
        client.get(f"/api/cases/{huge}", headers=admin),
        client.get(f"/api/cases/{huge}/events", headers=admin),
        client.post(f"/api/cases/{huge}/cancel", json={"reason": "tidak ada"}, headers=admin),
        client.get(f"/api/users/{huge}", headers=admin),
        client.patch(f"/api/users/{huge}", json={"display_name": "X"}, headers=admin),
        client.get(f"/api/users/{huge}/memberships", headers=admin),
        client.delete(f"/api/users/1/memberships/{huge}", headers=admin),
    ]
    for response in responses:
        assert response.status_code in (404, 422), (response.request.method, response.request.url, response.text)
        assert response.headers["content-type"] == PROBLEM


def test_nul_characters_are_a_client_error_not_a_500(client: TestClient, login: Login) -> None:
    admin = login("admin")
    json_headers = {**admin, "Content-Type": "application/json"}
    responses = [
        client.get("/api/track/MPP-%00AB-CDEF", params={"pin": "123456"}),
        client.get("/api/cases", params={"tracking_number": "MPP-\x00"}, headers=admin),
        client.get("/api/cases", params={"process_key": "pb\x00g"}, headers=admin),
        client.get("/api/tasks", params={"process_key": "pb\x00g"}, headers=admin),
        client.get("/api/tasks", params={"role": "pupr.\x00tpa"}, headers=admin),
        client.post("/api/auth/token", data={"username": "ad\x00min", "password": "whatever1"}),
        client.post("/api/cases", content=json.dumps({"process_key": "pb\x00g", "data": {}}), headers=json_headers),
        client.post("/api/users", content=json.dumps({"username": "nul_user", "password": "long-enough",
                                                      "display_name": "a\x00b"}), headers=json_headers),
        client.post("/api/agencies", content=json.dumps({"code": "nul_agency", "name_id": "Na\x00ma"}),
                    headers=json_headers),
        client.patch("/api/users/1", content=json.dumps({"email": "a\x00b@example.id"}), headers=json_headers),
    ]
    failures = [(r.request.method, str(r.request.url), r.status_code) for r in responses if r.status_code >= 500]
    assert failures == []
    for response in responses:
        if response.status_code >= 400:
            assert response.headers["content-type"] == PROBLEM


def test_unexpected_error_is_a_bare_500_problem_and_is_logged_with_its_traceback(
        client: TestClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    def explode(session: object) -> list[object]:
        raise RuntimeError("kaboom: secret connection string postgres://u:p@db")

    monkeypatch.setattr(registry, "latest_versions", explode)
    with caplog.at_level(logging.ERROR, logger="mpp.api"):
        response = client.get("/api/processes")
    body = assert_problem(response, 500, "internal")
    assert body["instance"] == "/api/processes"
    assert "kaboom" not in response.text
    assert "postgres://" not in response.text
    records = [r for r in caplog.records if r.name == "mpp.api" and r.levelno >= logging.ERROR]
    assert records, "the unexpected error was not logged"
    logged = records[-1]
    assert logged.exc_info is not None
    assert logged.exc_info[0] is RuntimeError, "the log record lost the exception and its traceback"


def test_a_database_locked_past_its_busy_timeout_answers_busy_and_saves_nothing(
        catalogue: AppContext, tmp_path: Path) -> None:
    """A request that cannot get SQLite's write lock in time is told to retry (503), never a 500."""
    url = catalogue.settings.database_url
    if not url.startswith("sqlite"):
        pytest.skip("the write lock is SQLite's")
    settings = catalogue.settings.model_copy(update={"sqlite_busy_timeout_s": 0.2})
    ctx = build_context(settings, migrate=False)
    holder = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
    try:
        with TestClient(create_app(ctx), raise_server_exceptions=False) as client:
            holder.execute("BEGIN IMMEDIATE")  # another process writing, for longer than the timeout
            response = client.post("/api/auth/token", data={"username": "warga", "password": DEMO_PASSWORD})
            body = assert_problem(response, 503, "busy")
            assert response.headers["Retry-After"] == "2"
            assert "nothing was saved" in str(body["detail"])
            assert "sqlite" not in response.text.lower()
            holder.execute("ROLLBACK")
            again = client.post("/api/auth/token", data={"username": "warga", "password": DEMO_PASSWORD})
            assert again.status_code == 200, again.text
    finally:
        holder.close()
        ctx.engine.dispose()
