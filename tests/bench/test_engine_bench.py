"""bench/engine_bench.py: the pause of autovacuum (off inside the block on PostgreSQL, back after it, even on a
raise), the background cases a measurement starts on, and the report's verdict on a flat per-step cost."""

from __future__ import annotations

import time
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from bench import engine_bench, report


def _autovacuum(url: str, expected: str) -> str:
    """Return the setting a new session sees, once it is `expected` or after 10 s (a reload reaches it soon after)."""
    engine = create_engine(url)
    try:
        deadline = time.monotonic() + 10
        while True:
            with engine.connect() as conn:
                value = str(conn.scalar(text("SHOW autovacuum")))
            if value == expected or time.monotonic() > deadline:
                return value
            time.sleep(0.05)
    finally:
        engine.dispose()


def test_autovacuum_is_off_inside_the_block_and_back_after_it(db_url: str) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("autovacuum is PostgreSQL's")
    seen = []

    def measure() -> None:
        seen.append(_autovacuum(db_url, "off"))
        raise LookupError("the measurement failed")

    def run_paused() -> None:
        with engine_bench.autovacuum_paused(db_url):
            measure()

    assert _autovacuum(db_url, "on") == "on"
    with pytest.raises(LookupError, match="the measurement failed"):
        run_paused()
    assert seen == ["off"]
    assert _autovacuum(db_url, "on") == "on"


def test_the_background_cases_are_started_and_analysed_on_postgresql_only(db_url: str,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """The step is measured on tables that hold other cases, with statistics where the platform has them."""
    monkeypatch.setattr(engine_bench, "BACKGROUND_CASES", 3)
    scenario = engine_bench.scenarios()["pbg"]
    ctx, actor = engine_bench._setup(db_url, scenario)
    postgres = ctx.engine.dialect.name == "postgresql"
    stats = ("SELECT count(*) FROM pg_stats WHERE tablename = 'case_state'" if postgres
             else "SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'")
    try:
        with ctx.engine.connect() as conn:
            assert conn.scalar(text(stats)) == 0
        engine_bench._background(ctx, actor, scenario)
        with ctx.engine.connect() as conn:
            assert conn.scalar(text("SELECT count(*) FROM case_record WHERE status = 'running'")) == 3
            assert conn.scalar(text("SELECT count(DISTINCT case_id) FROM case_state")) == 3
            analysed = conn.scalar(text(stats))
        assert (analysed > 0) if postgres else (analysed == 0)
    finally:
        ctx.engine.dispose()


def _engine_run(per_length: dict[str, dict[str, float | None]]) -> dict[str, Any]:
    results = {length: {"memory_ms": 1.0, "naive_ms": 2.0, "persisted_vs_memory": 0.5} | row
               for length, row in per_length.items()}
    return {"engine": {"scenarios": {"pbg": {"databases": {"postgresql": {"results": results}}}}}}


def test_the_report_judges_a_step_that_grows_with_the_history_as_not_flat() -> None:
    flat = "engine pbg on postgresql: flat per-step cost, ours after 1,000 steps ≤ 1.5× ours after 5"
    grown = {v["what"]: v for v in report.verdicts(_engine_run({
        "5": {"persisted_ms": 2.39}, "50": {"persisted_ms": 2.98}, "1000": {"persisted_ms": 8.42}}))}
    assert not grown[flat]["met"]
    assert grown[flat]["measured"] == "3.52× (2.39 ms → 8.42 ms)"
    level = {v["what"]: v for v in report.verdicts(_engine_run({
        "5": {"persisted_ms": 2.72}, "1000": {"persisted_ms": 2.71}}))}
    assert level[flat]["met"]
    failed = {v["what"]: v for v in report.verdicts(_engine_run({
        "5": {"persisted_ms": 2.7}, "1000": {"persisted_ms": None}}))}
    assert not failed[flat]["met"]
    assert failed[flat]["measured"] == "persisted step failed"
