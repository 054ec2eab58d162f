"""bench/step_cost.py at its smallest size, so that its statement counter cannot rot outside `make bench`.

Its counter wraps engine/cases/hotsql.py's cursor; when that cursor became a context manager the
counter broke with a TypeError and only `make bench` found out (issue 18). This runs the
measurement on one case (after its warm-up case) and checks what it counted; no timings.
"""

from __future__ import annotations

from sqlalchemy import func, select

from bench import step_cost
from engine.cases import hotsql
from engine.context import AppContext
from engine.db import make_engine, transaction
from engine.models import Case, OpenTask

CASES = 1


def test_one_measured_case_counts_statements_and_round_trips_per_step(db_url: str) -> None:
    result = step_cost.run(db_url, CASES)
    postgres = db_url.startswith("postgresql")
    assert result["dialect"] == ("postgresql" if postgres else "sqlite")
    assert result["cases"] == CASES
    assert result["statements_per_case"] > step_cost.STEPS_PER_CASE  # more than one statement per step
    assert result["statements_per_step"] == round(result["statements_per_case"] / step_cost.STEPS_PER_CASE, 2)
    # Round trips: the statements less those PostgreSQL received in one pipeline; in SQLite's process, each its own.
    assert 0 < result["round_trips_per_step"] <= result["statements_per_step"]
    if not postgres:
        assert result["round_trips_per_step"] == result["statements_per_step"]
        # SQLite runs a step's batched writes with hotsql's `executemany`: their rows are counted there.
        assert result["executemany_rows_per_case"] > 0
    assert result["engine_cpu_ms"] > 0
    assert result["stock_spiff_cpu_ms"] > 0
    # PBG's one script is not provably cheap: it runs in a script worker process, for the engine and for stock
    # SpiffWorkflow (the same script engine), and that CPU is counted in each figure and reported apart.
    assert 0 < result["engine_script_workers_cpu_ms"] < result["engine_cpu_ms"]
    assert 0 < result["stock_script_workers_cpu_ms"] < result["stock_spiff_cpu_ms"]

    # Every case it drove (a warm-up case, the measured one, any it counts apart) ran to the end: none left open.
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            statuses = conn.execute(select(Case.status, func.count()).where(Case.process_key == "pbg")
                                    .group_by(Case.status)).all()
            open_tasks = conn.scalar(select(func.count()).select_from(OpenTask))
    finally:
        engine.dispose()
    assert set(dict(statuses)) == {"completed"}
    assert dict(statuses)["completed"] >= CASES + 1
    assert open_tasks == 0


def test_the_counter_counts_each_statement_on_hotsqls_cursor_once_and_only_while_active(ctx: AppContext) -> None:
    real = hotsql._cursor
    with step_cost.counting(ctx) as counter, transaction(ctx.sessions) as session:
        assert hotsql.fetch_all(session, "tracking_taken", {"number": "none"}) == []  # inactive: not counted
        counter.active = True
        assert hotsql.fetch_all(session, "tracking_taken", {"number": "none"}) == []
        assert hotsql.execute(session, "timer_delete", {"case_id": 0, "tid": "none"}) == 0
        counter.active = False
        assert hotsql.fetch_all(session, "tracking_taken", {"number": "none"}) == []
    assert counter.statements == 2
    assert hotsql._cursor is real  # put back as it was
