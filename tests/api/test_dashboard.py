"""Dashboard and survey over HTTP: who may see the figures, escalated tasks in inboxes, survey answers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from engine.context import AppContext
from tests.api.test_cases import assert_problem
from tests.api.test_tasks import FRONT, start, task_of
from tests.conftest import FakeClock
from tests.engine.sla_package import sla_package
from tests.factories import Driver, deploy, make_user

Login = Callable[[str], dict[str, str]]
SCORES = {f"u{n}": 4 for n in range(1, 10)}


def sla(client: TestClient, login: Login, username: str, **params: Any) -> Any:
    return client.get("/api/dashboard/sla", params=params, headers=login(username))


def test_only_admins_and_supervisors_see_the_dashboard(client: TestClient, login: Login) -> None:
    start(client, login)
    assert_problem(client.get("/api/dashboard/sla"), 401, "unauthenticated")
    for username in (FRONT, "warga", "analis", "pupr_tpa"):
        assert_problem(sla(client, login, username), 403, "forbidden")
        assert_problem(client.get("/api/dashboard/skm", headers=login(username)), 403, "forbidden")
    everything = sla(client, login, "admin").json()
    assert everything["agencies_in_scope"] is None
    pbg = next(s for s in everything["services"] if s["process_key"] == "pbg")
    assert (pbg["volume"], pbg["open"], pbg["agency"], pbg["sla_days"]) == (1, 1, "dpmptsp", 28)
    assert len(everything["services"]) >= 16


def test_a_supervisor_sees_only_their_agency(client: TestClient, login: Login) -> None:
    case = start(client, login)
    response = sla(client, login, "pupr_supervisor")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["agencies_in_scope"] == ["pupr"]
    keys = {s["process_key"] for s in body["services"]}
    assert "pbg" in keys
    assert "skck" not in keys
    assert body["steps"] == []  # the case waits at the DPMPTSP front office, not at pupr
    assert body["agencies"] == []
    own = sla(client, login, "dpmptsp_supervisor", process_key="pbg").json()
    assert [(s["element_id"], s["open"]) for s in own["steps"]] == [("Task_kelengkapan", 1)]
    assert [a["agency"] for a in own["agencies"]] == ["dpmptsp"]
    assert_problem(sla(client, login, "pupr_supervisor", agency="dpmptsp"), 403, "forbidden")
    assert_problem(client.get("/api/dashboard/skm", params={"agency": "dpmptsp"}, headers=login("pupr_supervisor")),
                   403, "forbidden")
    assert case["id"]


def test_bad_filters_are_clear_4xx(client: TestClient, login: Login) -> None:
    assert_problem(sla(client, login, "admin", date_from="2026-03-05", date_to="2026-03-01"), 400, "bad-request")
    assert_problem(sla(client, login, "admin", date_from="kemarin"), 422, "validation")
    assert_problem(sla(client, login, "admin", agency="Robert'); DROP TABLE"), 422, "validation")
    assert sla(client, login, "admin", process_key="tidak_ada").json()["services"] == []


def test_an_overdue_task_shows_as_escalated_in_the_supervisors_inbox(
    client: TestClient, login: Login, catalogue: AppContext, clock: FakeClock,
) -> None:
    case = start(client, login)
    task_id = task_of(client, login, case["id"], "Task_kelengkapan")
    supervisor = client.get("/api/tasks", headers=login("dpmptsp_supervisor")).json()
    assert supervisor["total"] == 0
    clock.advance(days=14)
    Driver(catalogue).run_jobs()
    items = client.get("/api/tasks", headers=login("dpmptsp_supervisor")).json()["items"]
    assert [(t["id"], t["escalated_to"]) for t in items] == [(task_id, "dpmptsp.supervisor")]
    assert client.get("/api/tasks", headers=login("pupr_supervisor")).json()["total"] == 0
    claimed = client.post(f"/api/tasks/{task_id}/claim", headers=login("dpmptsp_supervisor"))
    assert claimed.status_code == 200, claimed.text
    figures = sla(client, login, "dpmptsp_supervisor", process_key="pbg").json()
    assert [(a["open_tasks"], a["overdue_tasks"], a["escalated_tasks"]) for a in figures["agencies"]] == [(1, 1, 1)]


def test_the_applicant_rates_a_finished_service_once(client: TestClient, login: Login, catalogue: AppContext) -> None:
    deploy(catalogue, sla_package())
    d = Driver(catalogue)
    case = d.start("sla_uji", {}, make_user(catalogue, "pemohon"))
    url = f"/api/track/{case.tracking_number}/survey"
    early = client.post(url, json={"pin": case.pin, "answers": SCORES})
    assert_problem(early, 400, "bad-request")
    d.complete(case.id, "Task_terima", make_user(catalogue, "loket", "dinas.loket"), {})
    d.complete(case.id, "Task_verifikasi", make_user(catalogue, "verifikator", "teknis.verifikator"), {})
    wrong = "111111" if case.pin != "111111" else "222222"
    assert_problem(client.post(url, json={"pin": wrong, "answers": SCORES}), 404, "not-found")
    assert_problem(client.get(url, params={"pin": wrong}), 404, "not-found")
    assert client.get(url, params={"pin": case.pin}).json()["open"] is True
    bad = client.post(url, json={"pin": case.pin, "answers": {**SCORES, "u5": 7}})
    assert [e["field"] for e in assert_problem(bad, 422, "form-invalid")["errors"]] == ["u5"]
    done = client.post(url, json={"pin": case.pin, "answers": SCORES, "comment": "=cmd|' /C calc'!A0"})
    assert done.status_code == 201, done.text
    assert done.json() == {"tracking_number": case.tracking_number, "rated": 1}
    assert_problem(client.post(url, json={"pin": case.pin, "answers": SCORES}), 409, "conflict")
    assert client.get(url, params={"pin": case.pin}).json() == {
        "tracking_number": case.tracking_number, "open": False, "pending": 0, "answered": 1, "unfinished": 0}
    skm = client.get("/api/dashboard/skm", params={"process_key": "sla_uji"}, headers=login("admin")).json()
    assert [(r["respondents"], r["index"], r["grade"]) for r in skm] == [(1, "100.00", "A")]
    assert [u["nrr"] for u in skm[0]["unsur"]] == ["4.00"] * 9
