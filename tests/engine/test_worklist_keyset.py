"""The officers' web inbox table (engine/cases/worklist.py) read as keyset walks, against the plain reference query.

The default order (priority cases first, then by due date) walks lanes and merges them; the reference
is the single query that reads and sorts every task of the scope joined to its case. Same rows, same
order, same total, for every filter, page and scope; the queue counters and the step filter's choices
match their plain GROUP BY too; and a task carries its case's priority service from every writer.
"""

from __future__ import annotations

import random
import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import and_, case, func, insert, select, update
from sqlalchemy.orm import Session

from engine.cases import assignment as routing
from engine.cases import tasks as tasks
from engine.cases import worklist as worklist
from engine.cases.bundles import start_bundle
from engine.cases.priority import Needs
from engine.cases.service import start_case
from engine.context import AppContext
from engine.db import transaction
from engine.directory.actors import Actor
from engine.models import Case, OpenTask
from tests.engine.test_inbox_keyset import FOREIGN, NOW, SUPERVISOR, TECH, VERIFIER, World, seed
from tests.factories import Driver, deploy, make_user
from tests.packages import simple_package

FILTERS = [worklist.Filters(), worklist.Filters(priority=True), worklist.Filters(overdue=True),
           worklist.Filters(channel="tatap_muka"), worklist.Filters(outreach=True),
           worklist.Filters(process_key="lain"), worklist.Filters(role=VERIFIER),
           worklist.Filters(overdue=True, priority=True, channel="daring"), worklist.Filters(element_id="Task_y")]


def _world(ctx: AppContext) -> World:
    """The inbox keyset test's tasks (ties, bound, claimed, escalated, applicant tasks), with case attributes."""
    world = seed(ctx, tasks_n=500, cases_n=40)
    rnd = random.Random(5)
    with transaction(ctx.sessions) as session:
        for case_id in range(1, 41):
            reason = rnd.choice([None, None, "lansia", "hamil"])
            session.execute(update(Case).where(Case.id == case_id).values(
                priority=reason, channel=rnd.choice(["daring", "tatap_muka"]),
                outreach_for=rnd.choice([None, None, "sakit"])))
            session.execute(update(OpenTask).where(OpenTask.case_id == case_id).values(prioritized=reason is not None))
        # A second step, so the step filter has choices to tell apart.
        session.execute(update(OpenTask).where(OpenTask.id.in_(world.task_ids[::7])).values(
            element_id="Task_y", name="Setujui"))
    return world


def _actor(world: World, name: str, *roles: tuple[str, str]) -> Actor:
    return Actor(user_id=world.users[name], username=name, platform_role="officer", memberships=frozenset(roles))


def _actors(world: World) -> list[Actor]:
    return [_actor(world, "verif", (VERIFIER, "dinas"), (VERIFIER, "firma_a")),
            _actor(world, "boss", (SUPERVISOR, "dinas"), (TECH, "teknis")),
            _actor(world, "tech", (TECH, "firma_b"), (FOREIGN, "lain")),
            _actor(world, "loket", (VERIFIER, "dinas")),
            Actor(user_id=world.users["warga"], username="warga", platform_role="applicant",
                  memberships=frozenset({(routing.APPLICANT_ROLE, "")}))]


def _reference(session: Session, where: Any, filters: worklist.Filters) -> list[str]:
    """The table's order as one query reads it: every matching task of the scope joined to its case, sorted."""
    stmt = select(OpenTask.id).join(Case, Case.id == OpenTask.case_id).where(where)
    if filters.process_key:
        stmt = stmt.where(OpenTask.process_key == filters.process_key)
    if filters.element_id:
        stmt = stmt.where(OpenTask.element_id == filters.element_id)
    if filters.channel:
        stmt = stmt.where(Case.channel == filters.channel)
    if filters.role:
        stmt = stmt.where(OpenTask.role == filters.role)
    if filters.overdue:
        stmt = stmt.where(OpenTask.due_at.is_not(None), OpenTask.due_at < NOW)
    if filters.priority:
        stmt = stmt.where(Case.priority.is_not(None))
    if filters.outreach:
        stmt = stmt.where(Case.outreach_for.is_not(None))
    return list(session.scalars(stmt.order_by(Case.priority.is_(None), OpenTask.due_at.is_(None), OpenTask.due_at,
                                              OpenTask.created_at, OpenTask.id)))


def _scopes(world: World) -> list[worklist.Scope]:
    return ([worklist.officer_scope(a) for a in _actors(world)]
            + [worklist.agency_scope(frozenset(a)) for a in ({"dinas"}, {"dinas", "teknis"}, {"lain"})])


def test_every_page_of_the_default_order_matches_the_reference_query(ctx: AppContext) -> None:
    world = _world(ctx)
    with ctx.sessions() as session:
        for scope in _scopes(world):
            for filters in FILTERS:
                expected = _reference(session, scope.where(), filters)
                pages: list[str] = []
                for offset in range(0, len(expected) + 7, 7):
                    table = worklist.list_rows(session, scope=scope, filters=filters, now=NOW, limit=7, offset=offset)
                    assert (table.total, table.capped) == (len(expected), False)
                    pages += [row.task.id for row in table.rows]
                assert pages == expected, (scope.lanes, filters)
        shown = worklist.list_rows(session, scope=_scopes(world)[0], filters=worklist.Filters(), now=NOW).rows
        assert shown
        assert all(bool(row.priority) == row.task.prioritized for row in shown)
        assert shown[0].priority is not None  # priority cases first


@pytest.mark.parametrize("sort", ["nomor", "menunggu", "batas"])
def test_other_sorts_and_a_search_read_the_same_scope(ctx: AppContext, sort: str) -> None:
    world = _world(ctx)
    with ctx.sessions() as session:
        for scope in _scopes(world):
            keyed = worklist.list_rows(session, scope=scope, filters=worklist.Filters(), now=NOW, limit=1000)
            other = worklist.list_rows(session, scope=scope, filters=worklist.Filters(sort=sort, descending=True),
                                       now=NOW, limit=1000)
            assert sorted(r.task.id for r in keyed.rows) == sorted(r.task.id for r in other.rows)
            assert (keyed.total, keyed.capped) == (other.total, other.capped)


def test_a_page_past_the_first_thousand_rows_is_refused(ctx: AppContext) -> None:
    world = _world(ctx)
    scope = worklist.officer_scope(_actors(world)[0])
    with ctx.sessions() as session:
        assert worklist.list_rows(session, scope=scope, filters=worklist.Filters(), now=NOW, limit=50,
                                  offset=950).rows == []
        with pytest.raises(worklist.PageTooFar):
            worklist.list_rows(session, scope=scope, filters=worklist.Filters(), now=NOW, limit=50, offset=1000)


def _queues_reference(session: Session, actor: Actor) -> dict[tuple[str, str], tuple[int, int]]:
    from engine.cases.access import visible_tasks

    late = case((and_(OpenTask.due_at.is_not(None), OpenTask.due_at < NOW), 1), else_=0)
    return {(role, agency): (int(total), int(overdue or 0)) for role, agency, total, overdue in session.execute(
        select(OpenTask.role, OpenTask.agency, func.count(), func.sum(late)).where(visible_tasks(actor))
        .group_by(OpenTask.role, OpenTask.agency))}


def test_queue_counts_match_a_plain_count_and_stop_past_the_cap(ctx: AppContext) -> None:
    world = _world(ctx)
    with ctx.sessions() as session:
        for actor in _actors(world):
            queues = tasks.queue_counts(session, actor=actor, now=NOW)
            counted = {(q.role, q.agency): (q.total, q.overdue) for q in queues if q.total}
            assert counted == _queues_reference(session, actor), actor.username
            assert not any(q.capped or q.overdue_capped for q in queues)
            held = {role for role, _ in actor.memberships} - {routing.APPLICANT_ROLE}
            assert held <= {q.role for q in queues}  # every role held is a queue, even an empty one
    boss = _actors(world)[1]
    with transaction(ctx.sessions) as session:
        session.execute(insert(OpenTask), [
            {"id": str(uuid.UUID(int=10**9 + n)), "case_id": 1, "process_key": "uji", "element_id": "Task_x",
             "name": "Periksa", "role": TECH, "agency": "teknis", "created_at": NOW,
             "due_at": NOW - timedelta(days=1) if n % 2 else None, "overdue": False} for n in range(2100)])
    with ctx.sessions() as session:
        tech = next(q for q in tasks.queue_counts(session, actor=boss, now=NOW) if q.role == TECH)
        assert (tech.total, tech.capped, tech.overdue, tech.overdue_capped) == (1001, True, 1001, True)
        table = worklist.list_rows(session, scope=worklist.officer_scope(boss), filters=worklist.Filters(), now=NOW)
        assert (table.total, table.capped, len(table.rows)) == (1001, True, 50)


def test_the_step_choices_are_the_steps_with_open_tasks_in_scope(ctx: AppContext) -> None:
    world = _world(ctx)
    with ctx.sessions() as session:
        for scope in _scopes(world):
            expected = sorted({tuple(r) for r in session.execute(
                select(OpenTask.process_key, OpenTask.element_id, OpenTask.name).where(scope.where()))},
                key=lambda s: (s[0], s[2], s[1]))
            found = [(s.process_key, s.element_id, s.name) for s in worklist.steps(session, scope=scope)]
            assert found == expected
            assert len({s[1] for s in found}) == (2 if found else 0)


def _prioritized(ctx: AppContext, case_id: int) -> list[bool]:
    with ctx.sessions() as session:
        return list(session.scalars(select(OpenTask.prioritized).where(OpenTask.case_id == case_id)))


def test_a_task_carries_its_case_priority_from_every_writer(ctx: AppContext) -> None:
    deploy(ctx, simple_package("uji", shape="loop"))
    deploy(ctx, simple_package("lain", shape="loop"))
    officer = make_user(ctx, "petugas", "dinas.petugas")
    warga = make_user(ctx, "warga")
    start = {"harga": 1, "jumlah": 1}
    with transaction(ctx.sessions) as session:
        first = start_case(session, rt=ctx.rt, process_key="uji", data=start, channel="tatap_muka", actor=officer,
                           needs=Needs("lansia"))
        plain = start_case(session, rt=ctx.rt, process_key="uji", data=start, channel="tatap_muka", actor=officer)
        bundle = start_bundle(session, rt=ctx.rt, services=[("uji", start), ("lain", start)], channel="daring",
                              actor=warga, applicant_id=warga.user_id, notice_accepted=True, needs=Needs("hamil"))
    assert _prioritized(ctx, first.id) == [True]
    assert _prioritized(ctx, plain.id) == [False]
    assert [_prioritized(ctx, c.id) for c in bundle.cases] == [[True], [True]]
    # A task a later step opens carries it too.
    Driver(ctx).complete(first.id, "Task_periksa", officer, {"catatan": "lagi"})
    Driver(ctx).complete(plain.id, "Task_periksa", officer, {"catatan": "lagi"})
    assert _prioritized(ctx, first.id) == [True]
    assert _prioritized(ctx, plain.id) == [False]
    with ctx.sessions() as session:
        rows = worklist.list_rows(session, scope=worklist.officer_scope(officer), filters=worklist.Filters(),
                                  now=NOW + timedelta(days=400)).rows
    flags = [r.priority is not None for r in rows]
    assert flags == [True, True, True, False]  # priority cases first
    assert {(r.task.case_id, r.priority) for r in rows[:3]} == {
        (first.id, "lansia"), *((c.id, "hamil") for c in bundle.cases)}
    assert rows[-1].task.case_id == plain.id


def test_the_migration_fills_existing_task_rows_from_their_case(ctx: AppContext) -> None:
    from alembic import command

    from engine.schema import alembic_config

    world = _world(ctx)
    with ctx.sessions() as session:
        expected = {t: p is not None for t, p in session.execute(
            select(OpenTask.id, Case.priority).join(Case, Case.id == OpenTask.case_id))}
    assert set(expected.values()) == {True, False}
    config = alembic_config(ctx.engine.url.render_as_string(hide_password=False))
    with ctx.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0026")
    with ctx.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    with ctx.sessions() as session:
        assert {row[0]: row[1] for row in session.execute(select(OpenTask.id, OpenTask.prioritized))} == expected
    assert len(expected) == len(world.task_ids)
