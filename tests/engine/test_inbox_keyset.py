"""The inbox's keyset pages against the plain reference query: same rows, same order, every task once, capped total."""

from __future__ import annotations

import base64
import json
import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from engine.cases import assignment as routing
from engine.cases import inbox as inbox
from engine.cases import tasks as tasks
from engine.context import AppContext
from engine.db import transaction
from engine.directory.actors import Actor
from engine.errors import InvalidInput
from engine.models import Case, OpenTask, ProcessVersion, User

NOW = datetime(2026, 3, 10, 1, 0, tzinfo=UTC)
VERIFIER, SUPERVISOR, TECH, FOREIGN = "dinas.verifikator", "dinas.supervisor", "teknis.petugas", "lain.petugas"
ROLES = (VERIFIER, SUPERVISOR, TECH, FOREIGN, routing.APPLICANT_ROLE)


@dataclass(frozen=True)
class World:
    """Users by name and the ids of the seeded tasks."""

    users: dict[str, int]
    task_ids: list[str]


def _users(session: Session) -> dict[str, int]:
    names = ["verif", "boss", "tech", "other", "loket", "warga"]
    session.execute(insert(User), [{"username": n, "display_name": n, "platform_role": "officer" if n != "warga"
                                    else "applicant", "language": "id", "active": True, "created_at": NOW}
                                   for n in names])
    return {u.username: u.id for u in session.scalars(select(User))}


def _cases(session: Session, users: dict[str, int], count: int) -> None:
    session.add(ProcessVersion(id=1, key="uji", version=1, content_hash="0" * 64, service={}, roles=list(ROLES)))
    session.flush()
    # Cases of the applicant, walk-ins filed by the counter officer, and others' cases.
    owners = [(users["warga"], None), (None, users["loket"]), (None, users["other"]), (users["other"], None)]
    session.execute(insert(Case), [
        {"id": n, "tracking_number": f"T{n:08d}", "pin_hash": "x", "process_key": "uji", "process_version_id": 1,
         "channel": "daring", "applicant_id": owners[n % 4][0], "filed_by_id": owners[n % 4][1], "data": {},
         "serializer_version": "1", "created_at": NOW} for n in range(1, count + 1)])


def seed(ctx: AppContext, *, tasks_n: int = 400, cases_n: int = 40, seed: int = 3,
         roles: tuple[str, ...] = ROLES) -> World:
    """Write tasks with many ties (due dates and creation times from a few values), bound, claimed and escalated."""
    rnd = random.Random(seed)
    dues = [None, NOW - timedelta(days=2), NOW - timedelta(hours=1), NOW + timedelta(days=1), NOW + timedelta(days=3)]
    created = [NOW - timedelta(days=d) for d in (1, 2, 3, 5)]
    with transaction(ctx.sessions) as session:
        users = _users(session)
        _cases(session, users, cases_n)
        claimers = [None, None, None, users["verif"], users["boss"], users["other"], users["tech"]]
        rows = []
        for _ in range(tasks_n):
            role = rnd.choice(roles)
            rows.append({
                "id": str(uuid.UUID(int=rnd.getrandbits(128))), "case_id": rnd.randint(1, cases_n),
                "process_key": rnd.choice(["uji", "lain"]), "element_id": "Task_x", "name": "Periksa", "lane": None,
                "role": role, "agency": routing.agency_of(role),
                "bound_org": rnd.choice([None, None, "firma_a", "firma_b"]) if role != routing.APPLICANT_ROLE else None,
                "assignee_id": rnd.choice(claimers) if role != routing.APPLICANT_ROLE else None,
                "created_at": rnd.choice(created), "due_at": rnd.choice(dues),
                "overdue": False, "escalated_to": SUPERVISOR if role == VERIFIER and rnd.random() < 0.2 else None})
        session.execute(insert(OpenTask), rows)
        return World(users, [r["id"] for r in rows])


def actors(world: World) -> dict[str, Actor]:
    """Officers with a mix of memberships and bound organisations, the counter officer, an applicant, the system."""
    u = world.users
    return {
        "verif": Actor(u["verif"], "verif", "officer", frozenset({(VERIFIER, "dinas"), (VERIFIER, "firma_a")})),
        "boss": Actor(u["boss"], "boss", "officer", frozenset({(SUPERVISOR, "dinas"), (TECH, "teknis")})),
        "tech": Actor(u["tech"], "tech", "officer", frozenset({(TECH, "firma_b")})),
        # Counter staff file for walk-ins (their own cases are checked per task); others own few cases.
        "loket": Actor(u["loket"], "loket", "officer", frozenset({("dinas.front_office", "dinas")})),
        "other": Actor(u["other"], "other", "officer", frozenset({(TECH, "teknis")})),
        "warga": Actor(u["warga"], "warga", "applicant"),
        "system": Actor(None, "system", "system"),
    }


FILTERS: list[dict[str, Any]] = [
    {}, {"process_key": "uji"}, {"role": VERIFIER}, {"role": routing.APPLICANT_ROLE}, {"role": FOREIGN},
    {"overdue": True, "now": NOW}, {"overdue": False, "now": NOW}, {"claimed": True}, {"claimed": False},
    {"case_id": 4}, {"process_key": "lain", "overdue": False, "claimed": False, "now": NOW},
]


def reference(session: Session, actor: Actor, filters: dict[str, Any]) -> list[str]:
    return list(session.scalars(tasks.inbox_query(actor, **filters).with_only_columns(OpenTask.id)))


def walk(session: Session, actor: Actor, filters: dict[str, Any], size: int) -> list[str]:
    """Read every page by its cursor; return the ids in the order read."""
    seen, cursor = [], None
    for _ in range(1000):
        page = inbox.inbox_page(session, actor=actor, filters=inbox.Filters(**filters), limit=size, cursor=cursor)
        seen += [t.id for t in page.rows]
        if page.next_cursor is None:
            return seen
        assert len(page.rows) == size
        cursor = page.next_cursor
    raise AssertionError("the cursor never reached the end")


@pytest.mark.parametrize("filters", FILTERS, ids=lambda f: ",".join(f) or "none")
def test_pages_are_the_reference_query_in_order_and_walk_every_task_once(ctx: AppContext,
                                                                          filters: dict[str, Any]) -> None:
    world = seed(ctx)
    with ctx.sessions() as session:
        for name, actor in actors(world).items():
            expected = reference(session, actor, filters)
            page = inbox.inbox_page(session, actor=actor, filters=inbox.Filters(**filters), limit=50)
            assert [t.id for t in page.rows] == expected[:50], name
            assert (page.total, page.capped) == (len(expected), False), name
            assert walk(session, actor, filters, 7) == expected, name


def test_the_reference_covers_every_kind_of_lane(ctx: AppContext) -> None:
    world = seed(ctx)
    cast = actors(world)
    with ctx.sessions() as session:
        def rows(name: str) -> list[OpenTask]:
            return list(session.scalars(tasks.inbox_query(cast[name])))

        # The seed gives each lane work, so the comparison above is not between empty lists.
        assert {t.role for t in rows("boss")} >= {SUPERVISOR, TECH, VERIFIER}  # escalated verifier tasks
        assert {t.bound_org for t in rows("verif")} == {None, "firma_a"}
        assert {t.role for t in rows("loket")} == {routing.APPLICANT_ROLE}  # walk-ins the counter filed
        assert {t.role for t in rows("warga")} == {routing.APPLICANT_ROLE}
        assert {t.role for t in rows("other")} == {routing.APPLICANT_ROLE, TECH}  # an officer's own cases
        assert len({t.due_at for t in rows("verif")}) == 5  # dated and undated, with ties


def test_offset_skips_rows_in_the_same_order(ctx: AppContext) -> None:
    world = seed(ctx)
    actor = actors(world)["boss"]
    with ctx.sessions() as session:
        expected = reference(session, actor, {})
        assert len(expected) > 30
        page = inbox.inbox_page(session, actor=actor, filters=inbox.Filters(), limit=10, offset=20)
        assert [t.id for t in page.rows] == expected[20:30]
        rest = inbox.inbox_page(session, actor=actor, filters=inbox.Filters(), limit=500, cursor=page.next_cursor)
        assert [t.id for t in rest.rows] == expected[30:]
        assert rest.next_cursor is None


def test_a_task_of_a_role_not_held_never_appears(ctx: AppContext) -> None:
    world = seed(ctx)
    cast = actors(world)
    with ctx.sessions() as session:
        everything = {t.id: t for t in session.scalars(select(OpenTask))}
        cases = {c.id: c for c in session.scalars(select(Case))}
        for name, actor in cast.items():
            shown = walk(session, actor, {}, 50)
            for task_id in shown:
                task, case = everything[task_id], cases[everything[task_id].case_id]
                applicant = case.applicant_id if case.applicant_id is not None else case.filed_by_id
                assert routing.may_work_on(task_role=task.role, task_bound_org=task.bound_org,
                                           task_assignee=task.assignee_id, user_id=actor.user_id or -1,
                                           memberships=set(actor.memberships), applicant_id=applicant,
                                           task_escalated_to=task.escalated_to), (name, task_id)
            assert not {t.id for t in everything.values() if t.role == FOREIGN} & set(shown)
        assert walk(session, cast["system"], {}, 50) == []


def test_the_total_is_counted_up_to_the_cap(ctx: AppContext) -> None:
    world = seed(ctx, tasks_n=inbox.CAP * 6, cases_n=60, seed=5, roles=(VERIFIER, SUPERVISOR, TECH))
    cast = actors(world)
    with ctx.sessions() as session:
        boss = reference(session, cast["boss"], {})
        assert len(boss) > inbox.CAP
        page = inbox.inbox_page(session, actor=cast["boss"], filters=inbox.Filters(), limit=50)
        assert (page.total, page.capped) == (inbox.CAP + 1, True)
        assert [t.id for t in page.rows] == boss[:50]
        # Under the cap the total is exact, though the actor's lanes overlap (a supervisor holding the role too).
        late = reference(session, cast["boss"], {"overdue": True, "now": NOW, "process_key": "uji"})
        assert len(late) < inbox.CAP
        page = inbox.inbox_page(session, actor=cast["boss"], limit=50,
                                filters=inbox.Filters(overdue=True, now=NOW, process_key="uji"))
        assert (page.total, page.capped) == (len(late), False)


def test_overlapping_lanes_give_each_task_once(ctx: AppContext) -> None:
    world = seed(ctx)
    u = world.users
    # The verifier role held in two organisations plus its supervisor: unbound tasks match three lanes.
    actor = Actor(u["boss"], "boss", "officer",
                  frozenset({(VERIFIER, "dinas"), (VERIFIER, "firma_b"), (SUPERVISOR, "dinas")}))
    with ctx.sessions() as session:
        expected = reference(session, actor, {})
        shown = walk(session, actor, {}, 5)
        assert shown == expected
        assert len(set(shown)) == len(shown)
        assert inbox.inbox_page(session, actor=actor, filters=inbox.Filters()).total == len(expected)


def _cursor(raw: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(raw).encode()).decode().rstrip("=")


@pytest.mark.parametrize("cursor", [
    "nonsense", "é", "W10", _cursor(["x", "y", 1]), _cursor([1, 2, 3]), _cursor({}),
    _cursor([None, "2026-03-01T00:00:00", "a"]),  # no time zone
    _cursor([None, "0001-01-01T00:00:00+05:00", "a"]),  # before year 1 in UTC
    _cursor([[1], "2026-03-01T00:00:00+00:00", "a"]), base64.urlsafe_b64encode(b"\xff\xfe").decode(),
])
def test_a_cursor_the_inbox_did_not_give_is_refused(ctx: AppContext, cursor: str) -> None:
    world = seed(ctx, tasks_n=5)
    with ctx.sessions() as session, pytest.raises(InvalidInput):
        inbox.inbox_page(session, actor=actors(world)["verif"], filters=inbox.Filters(), cursor=cursor)


def test_tasks_closed_between_pages_shift_nothing(ctx: AppContext) -> None:
    world = seed(ctx)
    actor = actors(world)["verif"]
    with ctx.sessions() as session:
        expected = reference(session, actor, {})
        first = inbox.inbox_page(session, actor=actor, filters=inbox.Filters(), limit=10)
    # Two tasks of the first page and one of the next are completed (they leave the task table).
    gone = {expected[0], expected[5], expected[12]}
    with transaction(ctx.sessions) as session:
        session.execute(delete(OpenTask).where(OpenTask.id.in_(gone)))
    with ctx.sessions() as session:
        second = inbox.inbox_page(session, actor=actor, filters=inbox.Filters(), limit=10, cursor=first.next_cursor)
    assert [t.id for t in second.rows] == [i for i in expected[10:21] if i not in gone]
