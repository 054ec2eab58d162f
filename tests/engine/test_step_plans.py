"""PostgreSQL: a step's task close and timer delete find their rows by index at a city's number of open tasks.

A prepared statement settles on a generic plan, which takes a JSON array of rows for 100 rows; joined to the
array alone, closing a task and deleting its timer were planned as a hash join over a sequential scan of the
whole `task` and `job` tables once there were some thousands of them (engine/cases/hotsql.py, `_keys`).
"""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import Connection, text

from engine.cases import hotsql as hotsql
from engine.context import AppContext
from tests.documents import pbg_cast
from tests.factories import Driver, pbg_application

OPEN_TASKS = 10_000
ROWS = {"task_close": [{"tid": "no-such-task", "now": "2026-01-05T02:00:00+00:00", "done": True, "uid": None,
                        "claimed": None}],
        "timer_delete": [{"case_id": 1, "tid": "no-such-task"}],
        "timer_move": [{"case_id": 1, "tid": "no-such-task", "due_at": "2026-01-06T02:00:00+00:00"}]}


def _generic_plan(conn: Connection, kind: str) -> str:
    """Return EXPLAIN of the generic plan PostgreSQL keeps for the batch statement of one part of `kind`."""
    sql = re.sub(r"%\(r0\)s", "$1", hotsql._combined((kind,)))  # noqa: SLF001 - the statement the step sends
    conn.execute(text("SET LOCAL plan_cache_mode = force_generic_plan"))
    conn.exec_driver_sql(f"PREPARE plan_{kind} (text) AS {sql}")
    literal = json.dumps(ROWS[kind]).replace("'", "''")  # EXPLAIN EXECUTE takes no bound parameters
    rows = conn.exec_driver_sql(f"EXPLAIN EXECUTE plan_{kind} ('{literal}')")
    return "\n".join(row[0] for row in rows)


def test_the_step_s_task_close_and_timer_writes_use_the_indexes_at_ten_thousand_open_tasks(ctx: AppContext) -> None:
    if ctx.engine.dialect.name != "postgresql":
        pytest.skip("the generic plans are PostgreSQL's")
    cast = pbg_cast(ctx)
    case = Driver(ctx).start("pbg", pbg_application(), cast.applicant)
    with ctx.engine.connect() as conn:
        # Open tasks and pending timers of a busy city: copies of the case's task under new ids, a timer each.
        conn.execute(text(
            "INSERT INTO task (id, case_id, process_key, element_id, name, lane, role, agency, bound_org, "
            "assignee_id, claimed_at, created_at, due_at, overdue, prioritized) SELECT gen_random_uuid()::text, "
            "t.case_id, t.process_key, t.element_id, t.name, t.lane, t.role, t.agency, t.bound_org, NULL, NULL, "
            "t.created_at, t.due_at, t.overdue, t.prioritized FROM task t, generate_series(1, :n) "
            "WHERE t.case_id = :case_id"), {"n": OPEN_TASKS, "case_id": case.id})
        conn.execute(text(
            "INSERT INTO job (kind, case_id, task_id, due_at, status, attempts, created_at) SELECT 'timer', "
            ":case_id, gen_random_uuid()::text, now(), 'pending', 0, now() FROM generate_series(1, :n)"),
            {"n": OPEN_TASKS, "case_id": case.id})
        conn.commit()
        conn.execute(text("ANALYZE task"))
        conn.execute(text("ANALYZE job"))
        conn.commit()
        plans = {kind: _generic_plan(conn, kind) for kind in ROWS}
        conn.rollback()
    assert "Seq Scan on task" not in plans["task_close"], plans["task_close"]
    assert "pk_task" in plans["task_close"], plans["task_close"]
    for kind in ("timer_delete", "timer_move"):
        assert "Seq Scan on job" not in plans[kind], plans[kind]
        assert re.search(r"(ix_job_case_id|uq_job_kind) on job", plans[kind]), plans[kind]
