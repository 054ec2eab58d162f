"""bench/engine_bench.py's pause of autovacuum: off inside the block on PostgreSQL, back after it, even on a raise."""

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
