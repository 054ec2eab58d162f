"""A case's inbox page (`GET /api/tasks?case_id=`) keeps in Python the tasks `access.visible_tasks` lets through."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from engine.cases import assignment as routing
from engine.cases import inbox as inbox
from engine.cases import tasks as tasks
from engine.context import AppContext
from engine.db import transaction
from engine.directory.actors import Actor
from engine.models import Case, OpenTask
from tests.engine.test_inbox_keyset import NOW, SUPERVISOR, TECH, VERIFIER, World, actors, seed

CASES = 12
FILTERS: list[dict[str, Any]] = [
    {}, {"process_key": "uji"}, {"role": VERIFIER}, {"role": routing.APPLICANT_ROLE}, {"overdue": True, "now": NOW},
    {"overdue": False, "now": NOW}, {"claimed": True}, {"claimed": False},
]


def _world(ctx: AppContext) -> tuple[World, dict[str, Actor]]:
    """Seed tasks over a few cases; some applicant tasks claimed by the case's own applicant or filer."""
    world = seed(ctx, tasks_n=240, cases_n=CASES, seed=11)
    with transaction(ctx.sessions) as session:
        owners = {c.id: c.applicant_id or c.filed_by_id for c in session.scalars(select(Case))}
        mine = session.scalars(select(OpenTask).where(OpenTask.role == routing.APPLICANT_ROLE)
                               .order_by(OpenTask.id)).all()
        for task in mine[::3]:
            session.execute(update(OpenTask).where(OpenTask.id == task.id)
                            .values(assignee_id=owners[task.case_id], claimed_at=NOW))
    cast = actors(world)
    # A provider firm's officer: the technical role only in the firm the task is bound to.
    cast["firm"] = Actor(world.users["tech"], "tech", "officer", frozenset({(TECH, "firma_a")}))
    return world, cast


def _reference(session: Session, actor: Actor, filters: dict[str, Any]) -> list[str]:
    """The ids the page gave before: `visible_tasks` as SQL, in the inbox's order."""
    return list(session.scalars(tasks.inbox_query(actor, **filters).with_only_columns(OpenTask.id)))


def _pages(session: Session, actor: Actor, filters: dict[str, Any], size: int) -> tuple[list[str], list[int]]:
    """Walk one case's pages by cursor; return the ids in order and each page's total."""
    ids: list[str] = []
    totals: list[int] = []
    cursor = None
    for _ in range(100):
        page = inbox.inbox_page(session, actor=actor, filters=inbox.Filters(**filters), limit=size, cursor=cursor)
        assert not page.capped
        ids += [t.id for t in page.rows]
        totals.append(page.total)
        if page.next_cursor is None:
            return ids, totals
        cursor = page.next_cursor
    raise AssertionError("the cursor never reached the end")


@pytest.mark.parametrize("filters", FILTERS, ids=lambda f: ",".join(f) or "none")
def test_a_case_page_is_the_visible_tasks_query_for_every_actor(ctx: AppContext, filters: dict[str, Any]) -> None:
    _world_, cast = _world(ctx)
    with ctx.sessions() as session:
        shown = 0
        for case_id in range(1, CASES + 1):
            for name, actor in cast.items():
                expected = _reference(session, actor, {**filters, "case_id": case_id})
                whole = inbox.inbox_page(session, actor=actor, filters=inbox.Filters(**filters, case_id=case_id))
                assert [t.id for t in whole.rows] == expected, (name, case_id)
                assert (whole.total, whole.next_cursor) == (len(expected), None), (name, case_id)
                ids, totals = _pages(session, actor, {**filters, "case_id": case_id}, 2)
                assert ids == expected, (name, case_id)
                # Each page counts the case's tasks after its cursor, as before.
                assert totals == [len(expected) - 2 * k for k in range(len(totals))], (name, case_id)
                shown += len(expected)
        assert shown > 0


def test_the_actors_see_different_tasks_of_the_same_cases(ctx: AppContext) -> None:
    _world_, cast = _world(ctx)
    with ctx.sessions() as session:
        seen: dict[str, set[tuple[str, str | None, str | None, bool]]] = {}
        for name, actor in cast.items():
            rows = [t for case_id in range(1, CASES + 1)
                    for t in inbox.inbox_page(session, actor=actor, filters=inbox.Filters(case_id=case_id)).rows]
            seen[name] = {(t.role, t.bound_org, t.escalated_to, t.assignee_id is not None) for t in rows}
        # The comparison above is not between empty lists: each kind of actor has its own share.
        assert {role for role, *_ in seen["verif"]} == {VERIFIER}
        assert {(role, esc) for role, _org, esc, _c in seen["boss"] if role == VERIFIER} == {(VERIFIER, SUPERVISOR)}
        assert {org for role, org, *_ in seen["firm"]} == {None, "firma_a"}
        assert {role for role, *_ in seen["warga"]} == {routing.APPLICANT_ROLE}
        assert (routing.APPLICANT_ROLE, None, None, True) in seen["warga"]  # claimed by the applicant
        assert {role for role, *_ in seen["loket"]} == {routing.APPLICANT_ROLE}  # walk-ins the counter filed
        assert seen["system"] == set()
