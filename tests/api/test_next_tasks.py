"""The lean request path (issue 18): complete claims an unclaimed task; start and complete answer `next_tasks`."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from api.bootstrap import DEMO_PASSWORD
from bench import pbg_requests
from engine.context import AppContext
from engine.models import OpenTask, TaskSpan
from tests.api.test_tasks import (
    FRONT,
    GRIYA,
    Login,
    assert_problem,
    inbox,
    make_officer,
    post_complete,
    start,
)
from tests.factories import api_drawings, pbg_application, pbg_documents

LENGKAP = {"kelengkapan": "lengkap"}


def events(client: TestClient, login: Login, case_id: int) -> list[tuple[str, str, str | None]]:
    response = client.get(f"/api/cases/{case_id}/events", headers=login("admin"))
    assert response.status_code == 200, response.text
    return [(e["action"], e["actor"], e["element_id"]) for e in response.json()]


def case_task(client: TestClient, login: Login, username: str, case_id: int) -> dict[str, Any]:
    """Return the one open task of the case in the user's inbox, found with the case filter."""
    page = inbox(client, login, username, case_id=case_id)
    assert page["total"] == 1, page
    return dict(page["items"][0])


def test_complete_without_claim_claims_and_completes(client: TestClient, login: Login, catalogue: AppContext) -> None:
    case = start(client, login)
    assert case["next_tasks"] == []  # the applicant applied; the counter's check is the front office's
    task = case_task(client, login, FRONT, case["id"])
    assert task["assignee_id"] is None
    done = post_complete(client, login, FRONT, task["id"], LENGKAP)
    assert done.status_code == 200, done.text
    assert done.json()["case_status"] == "running"
    # Claimed, then completed, by the same officer in the one request.
    assert events(client, login, case["id"])[-2:] == [("claimed", FRONT, "Task_kelengkapan"),
                                                      ("completed", FRONT, "Task_kelengkapan")]
    front_id = client.get("/api/me", headers=login(FRONT)).json()["id"]
    with catalogue.sessions() as session:
        span = session.scalars(select(TaskSpan).where(TaskSpan.task_id == task["id"])).one()
    assert (span.assignee_id, span.completed) == (front_id, True)
    assert span.claimed_at is not None
    assert span.created_at <= span.claimed_at <= span.closed_at


def test_complete_of_a_task_claimed_by_another_is_409_and_changes_nothing(
        client: TestClient, login: Login, catalogue: AppContext) -> None:
    make_officer(client, login, "fo_kedua", "dpmptsp.front_office")
    case = start(client, login)
    task = case_task(client, login, FRONT, case["id"])
    assert client.post(f"/api/tasks/{task['id']}/claim", headers=login(FRONT)).status_code == 200
    history = events(client, login, case["id"])
    data = client.get(f"/api/cases/{case['id']}", headers=login("admin")).json()["data"]
    assert_problem(post_complete(client, login, "fo_kedua", task["id"], LENGKAP), 409, "task-claimed")
    assert events(client, login, case["id"]) == history
    after = client.get(f"/api/cases/{case['id']}", headers=login("admin")).json()
    assert after["data"] == data
    assert [(t["id"], t["element_id"]) for t in after["open_tasks"]] == [(task["id"], "Task_kelengkapan")]
    front_id = client.get("/api/me", headers=login(FRONT)).json()["id"]
    with catalogue.sessions() as session:
        still = session.get(OpenTask, task["id"])
    assert still is not None
    assert still.assignee_id == front_id
    # A role the caller lacks stays what it was: not theirs.
    assert_problem(post_complete(client, login, "pupr_tpa", task["id"], LENGKAP), 403, "forbidden")


def test_a_refused_form_leaves_the_task_unclaimed(client: TestClient, login: Login) -> None:
    case = start(client, login)
    task = case_task(client, login, FRONT, case["id"])
    history = events(client, login, case["id"])
    refused = post_complete(client, login, FRONT, task["id"], {"kelengkapan": "barangkali"})
    assert refused.status_code == 422, refused.text
    assert events(client, login, case["id"]) == history
    assert case_task(client, login, FRONT, case["id"])["assignee_id"] is None


def test_next_tasks_are_exactly_the_callers_tasks_of_this_case(client: TestClient, login: Login) -> None:
    # One officer at the counter who is also the chosen firm's planner: the case stays in their hands.
    admin = login("admin")
    made = client.post("/api/users", json={"username": "fo_perencana", "password": DEMO_PASSWORD,
                                           "platform_role": "officer"}, headers=admin)
    assert made.status_code == 201, made.text
    for role, org in (("dpmptsp.front_office", None), ("konsultan.perencana", "konsultan_griya")):
        granted = client.post(f"/api/users/{made.json()['id']}/memberships",
                              json={"role_key": role, "organisation_code": org}, headers=admin)
        assert granted.status_code == 201, granted.text
    first, other = start(client, login), start(client, login)
    task = case_task(client, login, "fo_perencana", first["id"])
    done = post_complete(client, login, "fo_perencana", task["id"], LENGKAP)
    assert done.status_code == 200, done.text
    nxt = done.json()["next_tasks"]
    # The other case's counter check is in this officer's inbox too, but not in this case's answer.
    assert {t["case_id"] for t in inbox(client, login, "fo_perencana")["items"]} == {first["id"], other["id"]}
    assert [(t["case_id"], t["element_id"], t["role"]) for t in nxt] == [
        (first["id"], "Task_gambar_teknis", "konsultan.perencana")]
    assert nxt[0]["form"] == f"/api/tasks/{nxt[0]['id']}"
    detail = client.get(nxt[0]["form"], headers=login("fo_perencana")).json()["task"]
    assert detail["element_id"] == "Task_gambar_teknis"
    # Read by driver SQL for the answer, by the ORM for the form: the same instant, written the same way.
    assert nxt[0]["due_at"] is not None
    assert (nxt[0]["name"], nxt[0]["due_at"]) == (detail["name"], detail["due_at"])
    # The same step for a plain front-office officer answers nothing: the drawings are the firm's.
    plain = case_task(client, login, FRONT, other["id"])
    answer = post_complete(client, login, FRONT, plain["id"], LENGKAP).json()
    assert answer["next_tasks"] == []
    assert [s["role"] for s in answer["next_steps"]] == ["konsultan.perencana"]
    # The caller continues from the answer alone: complete the task it named.
    drawn = post_complete(client, login, "fo_perencana", nxt[0]["id"], api_drawings(client, login("fo_perencana")))
    assert drawn.status_code == 200, drawn.text
    assert drawn.json()["next_tasks"] == []  # the expert panel's next


def test_a_walk_in_filing_answers_the_counters_first_task(client: TestClient, login: Login) -> None:
    body = {"process_key": "pbg", "data": pbg_application(), "channel": "tatap_muka",
            "privacy_notice_accepted": True, "documents": pbg_documents(client, login(FRONT))}
    filed = client.post("/api/cases", json=body, headers=login(FRONT))
    assert filed.status_code == 201, filed.text
    nxt = filed.json()["next_tasks"]
    assert [(t["case_id"], t["element_id"]) for t in nxt] == [(filed.json()["id"], "Task_kelengkapan")]
    assert post_complete(client, login, FRONT, nxt[0]["id"], LENGKAP).status_code == 200


def test_the_case_filter_lists_only_that_cases_tasks(client: TestClient, login: Login) -> None:
    first, other = start(client, login), start(client, login)
    assert inbox(client, login, FRONT)["total"] == 2
    assert [t["case_id"] for t in inbox(client, login, FRONT, case_id=other["id"])["items"]] == [other["id"]]
    assert inbox(client, login, GRIYA, case_id=first["id"])["total"] == 0  # not the firm's turn yet
    assert client.get("/api/tasks", params={"case_id": 0}, headers=login(FRONT)).status_code == 422


def test_a_whole_pbg_case_takes_17_requests_as_staffed_and_9_at_one_desk(client: TestClient) -> None:
    pbg_requests.make_desk(client, pbg_requests.login(client, ["admin"])["admin"])
    lean = pbg_requests.drive_case(client, pbg_requests.login(client, pbg_requests.users("lean")), "lean")
    # Apply, then per task one inbox read by its (other) user and one complete: no claims, no inbox scans.
    assert dict(lean.requests) == {"apply": 1, "find": 8, "complete": 8}
    assert (lean.total, lean.uploads) == (17, 5)
    desk = pbg_requests.drive_case(client, pbg_requests.login(client, [pbg_requests.DESK]), "one_desk")
    assert dict(desk.requests) == {"apply": 1, "complete": 8}
    before = pbg_requests.drive_case(client, pbg_requests.login(client, pbg_requests.users("before")), "before")
    assert before.total == 25


def test_each_case_of_a_walk_in_bundle_answers_what_its_inbox_holds(client: TestClient, login: Login) -> None:
    from tests.api.test_integrations import AKTA

    documents = pbg_documents(client, login(FRONT))
    created = client.post("/api/bundles", headers=login(FRONT), json={
        "channel": "terpadu", "privacy_notice_accepted": True,
        "services": [{"process_key": "pbg", "data": pbg_application(), "documents": documents},
                     {"process_key": "akta_kelahiran", "data": AKTA}]})
    assert created.status_code == 201, created.text
    parts = created.json()["cases"]
    for part in parts:  # the answer is the counter's inbox, filtered to that case
        listed = [t["id"] for t in inbox(client, login, FRONT, case_id=part["id"])["items"]]
        assert [t["id"] for t in part["next_tasks"]] == listed
        assert {t["case_id"] for t in part["next_tasks"]} <= {part["id"]}
    assert [t["element_id"] for t in parts[0]["next_tasks"]] == ["Task_kelengkapan"]
