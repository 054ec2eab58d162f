"""The open-task table's escalation and claimant indexes hold only the tasks that have one (migration 0028).

Every query that reads them asks for one value, so both databases still answer them from these partial
indexes; the inbox reads the same rows before and after the migration, and it goes back and forth.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, select, text
from sqlalchemy.engine import Connection

from engine.cases import tasks as tasks
from engine.context import AppContext
from engine.models import OpenTask, TaskFeed
from tests.engine.test_inbox_keyset import SUPERVISOR, World, actors, seed

PARTIAL = {"ix_task_escalated_order": "escalated_to", "ix_task_escalated_case": "escalated_to",
           "ix_task_assignee": "assignee_id"}


def _where(connection: Connection) -> dict[str, str | None]:
    """Return each of the three indexes' condition (None: every row), as the database itself reports it."""
    if connection.dialect.name == "sqlite":
        rows = connection.execute(text("SELECT name, sql FROM sqlite_master WHERE tbl_name = 'task'"))
    else:
        rows = connection.execute(text("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'task'"))
    found = {name: sql for name, sql in rows if name in PARTIAL}
    assert set(found) == set(PARTIAL)
    return {name: sql.split(" WHERE ", 1)[1] if " WHERE " in sql else None for name, sql in found.items()}


def _plan(connection: Connection, stmt: Any) -> str:
    """Return the plan of a statement as text; PostgreSQL is kept off sequential scans, to show what it can use."""
    compiled = stmt.compile(connection, compile_kwargs={"literal_binds": True})
    if connection.dialect.name == "sqlite":
        return " ".join(row[3] for row in connection.execute(text(f"EXPLAIN QUERY PLAN {compiled}")))
    connection.execute(text("SET LOCAL enable_seqscan = off"))
    return " ".join(row[0] for row in connection.execute(text(f"EXPLAIN {compiled}")))


def _inbox(ctx: AppContext, world: World) -> dict[str, list[str]]:
    """Return every officer's whole inbox, in its order."""
    with ctx.sessions() as session:
        return {name: [t.id for t in session.scalars(tasks.inbox_query(actor))]
                for name, actor in actors(world).items() if actor.user_id is not None}


def _feed_rows(connection: Connection) -> int:
    return int(connection.execute(select(func.count()).select_from(TaskFeed)).scalar_one())


def test_the_escalation_and_claimant_indexes_leave_out_the_tasks_without_one(ctx: AppContext) -> None:
    with ctx.engine.connect() as connection:
        where = _where(connection)
    assert all(where[name] is not None and column in where[name] and "NOT NULL" in where[name].upper()
               for name, column in PARTIAL.items())


def test_a_query_for_one_supervisor_or_claimant_still_reads_its_index(ctx: AppContext) -> None:
    world = seed(ctx)
    queries = {"ix_task_escalated_order": select(OpenTask.id).where(OpenTask.escalated_to == SUPERVISOR)
               .order_by(OpenTask.due_at, OpenTask.created_at, OpenTask.id),
               "ix_task_escalated_case": select(OpenTask.case_id).where(OpenTask.escalated_to == SUPERVISOR),
               "ix_task_assignee": select(OpenTask.id).where(OpenTask.assignee_id == world.users["boss"])}
    for name, stmt in queries.items():
        with ctx.engine.begin() as connection:
            plan = _plan(connection, stmt)
        # An escalated lane may take either partial escalation index (0027's priority one too): both skip the rest.
        expected = "ix_task_assignee" if name == "ix_task_assignee" else "ix_task_escalated_"
        assert expected in plan, (name, plan)


def test_the_migration_goes_back_and_forth_and_the_inbox_reads_the_same_tasks(ctx: AppContext) -> None:
    from alembic import command

    from engine.schema import alembic_config

    world = seed(ctx)
    before = _inbox(ctx, world)
    assert any(before.values())
    config = alembic_config(ctx.engine.url.render_as_string(hide_password=False))
    with ctx.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0027")
    with ctx.engine.connect() as connection:
        assert set(_where(connection).values()) == {None}
    assert _inbox(ctx, world) == before
    with ctx.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    with ctx.engine.connect() as connection:
        assert None not in _where(connection).values()
    assert _inbox(ctx, world) == before
    # The task feed's triggers (0026) survive both ways: the migration recreates indexes, never the table.
    with ctx.engine.begin() as connection:
        written = _feed_rows(connection)
        connection.execute(delete(OpenTask).where(OpenTask.id == world.task_ids[0]))
        assert _feed_rows(connection) == written + 1


def test_sqlite_keeps_statement_journals_in_memory(ctx: AppContext) -> None:
    with ctx.engine.connect() as connection:
        if connection.dialect.name != "sqlite":
            return
        # 2 = MEMORY: a trigger-firing statement's journal never spills to a temporary file (engine.db).
        assert connection.exec_driver_sql("PRAGMA temp_store").scalar() == 2
