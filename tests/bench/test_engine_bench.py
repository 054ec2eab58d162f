"""bench/engine_bench.py: the pause of autovacuum (off inside the block on PostgreSQL, back after it, even on a
raise), and the background cases a measurement starts on."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import create_engine, text

from bench import engine_bench


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
