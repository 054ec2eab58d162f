"""A first walk through the API: apply, work the first task, track."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from tests.factories import pbg_application, pbg_documents


def test_apply_work_and_track(client: TestClient, login: Callable[[str], dict[str, str]]) -> None:
    created = client.post("/api/cases", json={"process_key": "pbg", "data": pbg_application(), "channel": "daring",
                                              "documents": pbg_documents(client, login("warga")),
                                              "privacy_notice_accepted": True},
                          headers=login("warga"))
    assert created.status_code == 201, created.text
    case = created.json()
    inbox = client.get("/api/tasks", headers=login("dpmptsp_front_office")).json()
    assert [t["element_id"] for t in inbox["items"]] == ["Task_kelengkapan"]
    task_id = inbox["items"][0]["id"]
    bad = client.post(f"/api/tasks/{task_id}/complete", json={"data": {"kelengkapan": "mungkin"}},
                      headers=login("dpmptsp_front_office"))
    assert bad.status_code == 422
    assert bad.headers["content-type"] == "application/problem+json"
    assert bad.json()["errors"][0]["field"] == "kelengkapan"
    done = client.post(f"/api/tasks/{task_id}/complete", json={"data": {"kelengkapan": "lengkap"}},
                       headers=login("dpmptsp_front_office"))
    assert done.status_code == 200, done.text
    tracked = client.get(f"/api/track/{case['tracking_number']}", params={"pin": case["pin"]})
    assert tracked.status_code == 200, tracked.text
    assert tracked.json()["held_by"] == ["Penyedia Jasa Konsultan Perencana"]
