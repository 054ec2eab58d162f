"""`GET /api/tasks` pages by cursor: every task of the caller's role once, in order; no other role's; a capped total."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import insert, select

from engine.context import AppContext
from engine.db import transaction
from engine.models import Case, OpenTask, ProcessVersion

Login = Callable[[str], dict[str, str]]
OFFICER, ROLE, OTHER_ROLE = "dpmptsp_back_office", "dpmptsp.back_office", "dpmptsp.front_office"
NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def seed_tasks(ctx: AppContext, count: int, role: str, *, first: int) -> list[str]:
    """Write `count` open tasks of a role on one case, due dates with ties and some undated; return their ids."""
    with transaction(ctx.sessions) as session:
        version = session.scalars(select(ProcessVersion.id)).first()
        assert version is not None
        case_id = session.scalar(insert(Case).returning(Case.id), {
            "tracking_number": f"U{first:08d}", "pin_hash": "x", "process_key": "uji", "process_version_id": version,
            "channel": "daring", "data": {}, "serializer_version": "1", "created_at": NOW})
        rows = [{"id": str(uuid.UUID(int=first + n)), "case_id": case_id, "process_key": "uji", "element_id": "Task_x",
                 "name": "Periksa", "role": role, "agency": "dpmptsp", "created_at": NOW - timedelta(hours=n % 7),
                 "due_at": None if n % 5 == 0 else NOW + timedelta(days=n % 3), "overdue": False}
                for n in range(count)]
        session.execute(insert(OpenTask), rows)
        return [r["id"] for r in rows]


def pages(client: TestClient, headers: dict[str, str], **params: object) -> list[dict[str, object]]:
    """Read every page by its cursor; return the bodies."""
    bodies: list[dict[str, object]] = []
    cursor = None
    while True:
        response = client.get("/api/tasks", params={**params, **({"cursor": cursor} if cursor else {})},
                              headers=headers)
        assert response.status_code == 200, response.text
        bodies.append(response.json())
        cursor = bodies[-1]["next_cursor"]
        if cursor is None:
            return bodies
        assert len(bodies) < 50


def test_the_cursor_walks_every_task_of_the_role_once_in_order(catalogue: AppContext, client: TestClient,
                                                               login: Login) -> None:
    mine = seed_tasks(catalogue, 120, ROLE, first=1000)
    theirs = seed_tasks(catalogue, 30, OTHER_ROLE, first=5000)
    bodies = pages(client, login(OFFICER), limit=50)
    seen = [t["id"] for body in bodies for t in body["items"]]  # type: ignore[attr-defined]
    assert sorted(seen) == sorted(mine)
    assert len(seen) == len(set(seen))
    assert not set(theirs) & set(seen)
    assert [len(b["items"]) for b in bodies] == [50, 50, 20]  # type: ignore[arg-type]
    assert {(b["total"], b["total_capped"]) for b in bodies} == {(120, False)}
    items = [t for body in bodies for t in body["items"]]  # type: ignore[attr-defined]
    keys = [(t["due_at"] is None, t["due_at"] or "", t["created_at"], t["id"]) for t in items]
    assert keys == sorted(keys)
    # Offsets still work, in the same order.
    offset = client.get("/api/tasks", params={"limit": 30, "offset": 40}, headers=login(OFFICER)).json()
    assert [t["id"] for t in offset["items"]] == seen[40:70]


def test_the_total_stops_counting_at_a_thousand(catalogue: AppContext, client: TestClient, login: Login) -> None:
    seed_tasks(catalogue, 1001, ROLE, first=20000)
    body = client.get("/api/tasks", params={"limit": 10}, headers=login(OFFICER)).json()
    assert (body["total"], body["total_capped"], len(body["items"])) == (1001, True, 10)
    assert body["next_cursor"]


def test_a_cursor_not_given_by_the_inbox_is_a_bad_request(catalogue: AppContext, client: TestClient,
                                                          login: Login) -> None:
    response = client.get("/api/tasks", params={"cursor": "bm90IGEgY3Vyc29y"}, headers=login(OFFICER))
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")
