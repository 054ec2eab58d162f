"""Page fixtures: the API's test client and catalogue, reused (pages and API share one app)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import pytest

from engine.context import AppContext
from tests.api.conftest import catalogue, client, fast_password_hashing  # noqa: F401


@pytest.fixture
def other(ctx: AppContext) -> Iterator[sqlite3.Connection]:
    """Another connection to the test's SQLite file, as another process would hold."""
    url = ctx.settings.database_url
    if not url.startswith("sqlite"):
        pytest.skip("a stale snapshot is SQLite's")
    conn = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None, check_same_thread=False)
    yield conn
    conn.close()
