"""Fewer statements per web inbox page and tracking lookup, and the index of the case search by service and status.

The page's statements are built once per scope and kept (engine/cases/worklist.py): what they read must
still follow the data and the clock. The queue counters skip the exclusions of lanes limited to other
roles (`inbox.lane_roles`): that must describe the lanes. A tracking lookup reads a version's step names
and reason fields once per package content, and the working calendar from the runtime when given it.
Migration 0029 swaps the case index for one ending in `id`, both ways.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from alembic import command
from sqlalchemy import insert, inspect, select
from sqlalchemy.orm import Session

from engine.cases import inbox as inbox
from engine.cases import tracking as tracking
from engine.cases import worklist as worklist
from engine.context import AppContext
from engine.models import Case, OpenTask
from tests.documents import pbg_cast
from tests.engine.test_inbox_keyset import NOW
from tests.engine.test_worklist_keyset import FILTERS, _actors, _reference, _scopes, _world
from tests.factories import Driver, pbg_application

pytestmark = pytest.mark.postgres


def _ids(session: Session, scope: worklist.Scope, filters: worklist.Filters, now: object) -> list[str]:
    table = worklist.list_rows(session, scope=scope, filters=filters, now=now, limit=1000)  # type: ignore[arg-type]
    return [row.task.id for row in table.rows]


def test_each_lane_limited_to_a_role_holds_only_that_role_s_tasks(ctx: AppContext) -> None:
    world = _world(ctx)
    with ctx.sessions() as session:
        for actor in _actors(world):
            for role_filter in (None, *sorted({r for r, _ in actor.memberships})):
                lanes, roles = inbox.lanes(actor, role_filter), inbox.lane_roles(actor, role_filter)
                assert len(lanes) == len(roles), (actor.username, role_filter)
                for lane, role in zip(lanes, roles, strict=True):
                    if role is not None:
                        found = set(session.scalars(select(OpenTask.role).where(lane).distinct()))
                        assert found <= {role}, (actor.username, role)


def test_a_kept_scope_reads_the_tasks_of_now_and_the_overdue_ones_of_each_clock(ctx: AppContext) -> None:
    world = _world(ctx)
    actor = _actors(world)[1]
    scope = worklist.officer_scope(actor)
    assert worklist.officer_scope(actor) is scope  # kept, with its statements
    with ctx.sessions() as session:
        for filters in FILTERS:
            assert _ids(session, scope, filters, NOW) == _reference(session, scope.where(), filters)
        before = _ids(session, scope, worklist.Filters(), NOW)
        steps_before = worklist.steps(session, scope=scope)
    role = next(iter(sorted(r for r, _ in actor.memberships)))
    new_id = str(uuid.UUID(int=7 * 10**9))
    with ctx.engine.begin() as conn:
        prioritized = conn.scalar(select(Case.priority).where(Case.id == 1)) is not None  # as every writer copies it
        conn.execute(insert(OpenTask), [{
            "id": new_id, "case_id": 1, "process_key": "uji", "element_id": "Task_baru", "name": "Langkah baru",
            "role": role, "agency": role.split(".", 1)[0], "created_at": NOW, "due_at": NOW - timedelta(days=400),
            "overdue": False, "prioritized": prioritized}])
    with ctx.sessions() as session:
        after = _ids(session, scope, worklist.Filters(), NOW)
        assert new_id in after
        assert new_id not in before
        assert ("uji", "Task_baru", "Langkah baru") in {(s.process_key, s.element_id, s.name)
                                                       for s in worklist.steps(session, scope=scope)}
        assert len(worklist.steps(session, scope=scope)) == len(steps_before) + 1
        # The overdue filter reads the clock it is given, not the one of the page that built a statement.
        late = worklist.Filters(overdue=True)
        for now in (NOW, NOW - timedelta(days=399), NOW + timedelta(days=30)):
            expected = _reference_at(session, scope, now)
            assert _ids(session, scope, late, now) == expected
        assert _reference_at(session, scope, NOW) != _reference_at(session, scope, NOW - timedelta(days=399))


def _reference_at(session: Session, scope: worklist.Scope, now: object) -> list[str]:
    from tests.engine import test_worklist_keyset as reference

    saved = reference.NOW
    reference.NOW = now  # type: ignore[assignment]
    try:
        return _reference(session, scope.where(), worklist.Filters(overdue=True))
    finally:
        reference.NOW = saved


def test_every_scope_s_steps_match_their_plain_query_after_the_statements_are_kept(ctx: AppContext) -> None:
    world = _world(ctx)
    with ctx.sessions() as session:
        for scope in _scopes(world):
            for _ in range(2):  # built, then kept
                expected = sorted({tuple(r) for r in session.execute(
                    select(OpenTask.process_key, OpenTask.element_id, OpenTask.name).where(scope.where()))},
                    key=lambda s: (s[0], s[2], s[1]))
                assert [(s.process_key, s.element_id, s.name) for s in worklist.steps(session, scope=scope)] == expected


def test_a_lookup_with_the_runtime_answers_as_one_without_it(ctx: AppContext) -> None:
    cast = pbg_cast(ctx)
    d = Driver(ctx)
    case = d.start("pbg", pbg_application(), cast.applicant)
    d.complete(case.id, "Task_kelengkapan", cast.front, {"kelengkapan": "tidak_lengkap",
                                                         "catatan_kelengkapan": "KTP buram."})
    secret = ctx.settings.secret_key.get_secret_value()
    with ctx.sessions() as session:
        plain = tracking.public_status(session, number=case.tracking_number, pin=case.pin, secret=secret)  # type: ignore[attr-defined]
        cached = tracking.public_status(session, number=case.tracking_number, pin=case.pin, secret=secret,  # type: ignore[attr-defined]
                                        rt=ctx.rt)
        again = tracking.status_by_number(session, number=case.tracking_number, rt=ctx.rt)
        wrong = tracking.public_status(session, number=case.tracking_number, pin="000000" if case.pin != "000000"  # type: ignore[attr-defined]
                                       else "111111", secret=secret, rt=ctx.rt)
    assert plain is not None
    assert plain.clock is not None
    assert plain == cached == again
    assert [r.text_id for r in plain.reasons] == ["KTP buram."]
    assert wrong is None


def _indexes(ctx: AppContext) -> dict[str, list[str]]:
    return {ix["name"]: list(ix["column_names"]) for ix in inspect(ctx.engine).get_indexes("case_record")
            if ix["name"]}


def test_migration_0029_swaps_the_case_index_both_ways(ctx: AppContext) -> None:
    from engine.schema import alembic_config

    assert _indexes(ctx)["ix_case_record_status_process_id"] == ["status", "process_key", "id"]
    assert "ix_case_record_status_process" not in _indexes(ctx)
    config = alembic_config(ctx.engine.url.render_as_string(hide_password=False))
    with ctx.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0028")
    assert _indexes(ctx)["ix_case_record_status_process"] == ["status", "process_key"]
    assert "ix_case_record_status_process_id" not in _indexes(ctx)
    with ctx.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    assert _indexes(ctx)["ix_case_record_status_process_id"] == ["status", "process_key", "id"]
    assert "ix_case_record_status_process" not in _indexes(ctx)


def test_the_kept_queue_counter_statement_reads_the_clock_it_is_given(ctx: AppContext) -> None:
    from sqlalchemy import and_, case, func

    from engine.cases import tasks as tasks
    from engine.cases.access import visible_tasks

    world = _world(ctx)
    actor = _actors(world)[1]
    seen = set()
    with ctx.sessions() as session:
        for now in (NOW, NOW - timedelta(days=20), NOW + timedelta(days=20)):
            late = case((and_(OpenTask.due_at.is_not(None), OpenTask.due_at < now), 1), else_=0)
            plain = select(OpenTask.role, func.count(), func.sum(late)).where(visible_tasks(actor))
            expected = {role: (int(total), int(overdue or 0))
                        for role, total, overdue in session.execute(plain.group_by(OpenTask.role))}
            queues = tasks.queue_counts(session, actor=actor, now=now)
            counted = {q.role: (q.total, q.overdue) for q in queues if q.total}
            assert counted == expected
            seen.add(tuple(sorted(counted.items())))
    assert len(seen) > 1  # the clocks tell different overdue counts apart
