"""The queue over JSON: the display and tickets are public; a counter answers only its agency's officers."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from web.ratelimit import TICKET_PER_CLIENT


def _counter_id(client: TestClient, headers: dict[str, str], code: str) -> int:
    listed = client.get("/api/queue/counters", headers=headers)
    assert listed.status_code == 200, listed.text
    return next(c["id"] for c in listed.json() if c["code"] == code)


def test_a_kiosk_ticket_is_called_at_a_counter_and_shown_on_the_display(
        client: TestClient, login: Callable[[str], dict[str, str]]) -> None:
    taken = client.post("/api/queue/tickets", json={"agency": "dpmptsp", "service_key": "pbg"})
    assert taken.status_code == 201, taken.text
    ticket = taken.json()
    assert (ticket["number"], ticket["status"], ticket["ahead"]) == ("A-001", "waiting", 0)
    elder = client.post("/api/queue/tickets", json={"agency": "dpmptsp", "priority": "lansia"}).json()
    assert client.get(f"/api/queue/tickets/{ticket['token']}").json()["ahead"] == 1  # priority goes first

    officer = login("dpmptsp_front_office")
    counter = _counter_id(client, officer, "A1")
    called = client.post(f"/api/queue/counters/{counter}/call", json={}, headers=officer)
    assert called.status_code == 200, called.text
    assert called.json()["ticket"]["number"] == elder["number"]
    busy = client.post(f"/api/queue/counters/{counter}/call", json={}, headers=officer)
    assert busy.status_code == 409
    assert "A-002" in busy.json()["detail"]

    shown = client.get("/api/queue/display").json()
    assert {"code": "A1", "number": "A-002"}.items() <= next(c for c in shown["counters"] if c["code"] == "A1").items()
    assert [r["number"] for r in shown["recent"]] == ["A-002"]
    assert next(w["count"] for w in shown["waiting"] if w["agency"] == "dpmptsp") == 1

    done = client.post(f"/api/queue/counters/{counter}/done", json={}, headers=officer)
    assert done.json()["status"] == "done"
    other = _counter_id(client, officer, "A2")
    picked = client.post(f"/api/queue/counters/{other}/call", json={"ticket_id": 1}, headers=officer)
    assert picked.json()["ticket"]["number"] == "A-001"
    again = client.post(f"/api/queue/counters/{counter}/call", json={"ticket_id": 1}, headers=officer)
    assert again.status_code == 409  # another counter holds it
    assert client.get(f"/api/queue/tickets/{ticket['token']}").json()["counter_code"] == "A2"


def test_counters_answer_only_their_agencys_officers(client: TestClient,
                                                    login: Callable[[str], dict[str, str]]) -> None:
    mall = login("dpmptsp_front_office")
    counter = _counter_id(client, mall, "A1")
    assert client.post(f"/api/queue/counters/{counter}/call", json={}).status_code == 401
    police = login("polresta_intelkam")
    assert [c["code"] for c in client.get("/api/queue/counters", headers=police).json()] == ["C1"]
    refused = client.post(f"/api/queue/counters/{counter}/call", json={}, headers=police)
    assert refused.status_code == 403
    assert client.get("/api/queue/counters", headers=login("warga")).json() == []


def test_bad_ticket_requests_are_named(client: TestClient) -> None:
    unknown = client.post("/api/queue/tickets", json={"agency": "tidak_ada"})
    assert unknown.status_code == 400
    assert "no queue counter" in unknown.json()["detail"]
    wrong = client.post("/api/queue/tickets", json={"agency": "dpmptsp", "service_key": "skck"})
    assert wrong.status_code == 400
    assert client.post("/api/queue/tickets", json={"agency": "dpmptsp", "priority": "vip"}).status_code == 422
    assert client.get("/api/queue/tickets/tidak-ada-tiket").status_code == 404
    assert client.post("/api/queue/check-in", json={"code": "ZZZZZZ"}).status_code == 404


def test_the_dashboard_gives_queue_figures_to_managers_only(client: TestClient,
                                                            login: Callable[[str], dict[str, str]]) -> None:
    for _ in range(2):
        client.post("/api/queue/tickets", json={"agency": "dpmptsp"})
    client.post("/api/queue/tickets", json={"agency": "polresta"})
    officer = login("dpmptsp_front_office")
    counter = _counter_id(client, officer, "A1")
    client.post(f"/api/queue/counters/{counter}/call", json={}, headers=officer)
    client.post(f"/api/queue/counters/{counter}/no-show", headers=officer)
    got = client.get("/api/dashboard/queue", headers=login("admin"))
    assert got.status_code == 200, got.text
    body = got.json()
    assert [d["tickets"] for d in body["per_day"]] == [3]
    mall = next(a for a in body["agencies"] if a["agency"] == "dpmptsp")
    assert (mall["tickets"], mall["no_shows"], mall["waiting"]["median"]) == (2, 1, 0.0)
    assert body["total"]["tickets"] == 3
    only_police = client.get("/api/dashboard/queue", params={"agency": "polresta"}, headers=login("admin")).json()
    assert [a["agency"] for a in only_police["agencies"]] == ["polresta"]
    assert client.get("/api/dashboard/queue", headers=login("warga")).status_code == 403
    backwards = client.get("/api/dashboard/queue", params={"date_from": "2026-03-02", "date_to": "2026-03-01"},
                           headers=login("admin"))
    assert backwards.status_code == 400


def test_tickets_are_rate_limited_per_client(client: TestClient) -> None:
    for _ in range(TICKET_PER_CLIENT.limit):
        assert client.post("/api/queue/tickets", json={"agency": "polresta"}).status_code == 201
    limited = client.post("/api/queue/tickets", json={"agency": "polresta"})
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) > 0
    shown = client.get("/api/queue/display").json()
    assert next(w["count"] for w in shown["waiting"] if w["agency"] == "polresta") == TICKET_PER_CLIENT.limit
