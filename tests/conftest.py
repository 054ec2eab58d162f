"""Shared fixtures: a real database per test (SQLite by default, PostgreSQL when configured)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from engine import fastflow
from engine.db import make_engine
from engine.errors import Problem
from engine.schema import upgrade
from engine.settings import Settings
from web.context import AppContext, build_context

ROOT = Path(__file__).resolve().parent.parent
# Every fast task query of the engine is checked against SpiffWorkflow's own tree walk.
fastflow.SELFCHECK["on"] = True
PG_URL = os.environ.get("MPP_TEST_POSTGRES_URL")


class FakeClock:
    """A clock the test moves by hand; starts at a fixed Monday morning in WIB."""

    def __init__(self) -> None:
        self.now = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # Monday 08:00 WIB

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


@pytest.fixture(autouse=True)
def lint_speaks_indonesian(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any test whose lint run produces a problem without its Indonesian text."""
    import engine.lint
    from engine.lint_text import localize

    def checked(problems: list[Problem], roots: Iterable[Any]) -> list[Problem]:
        out = localize(problems, roots)
        missing = [p.message for p in out if not p.message_id]
        assert not missing, f"lint messages without Indonesian (add them to engine/lint_text.py): {missing}"
        return out

    monkeypatch.setattr(engine.lint, "localize", checked)


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


def _reset_postgres(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    upgrade(engine)
    engine.dispose()


@pytest.fixture(params=["sqlite"] + (["postgresql"] if PG_URL else []))
def db_url(request: pytest.FixtureRequest, template_db: Path, tmp_path: Path) -> str:
    if request.param == "postgresql":
        assert PG_URL is not None
        _reset_postgres(PG_URL)
        return PG_URL
    target = tmp_path / "mpp.db"
    shutil.copy(template_db, target)
    return f"sqlite:///{target}"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def ctx(db_url: str, tmp_path: Path, clock: FakeClock) -> Iterator[AppContext]:
    settings = Settings(database_url=db_url, files_dir=tmp_path / "files", processes_dir=ROOT / "processes",
                        outbox_dir=tmp_path / "outbox")
    context = build_context(settings, migrate=False, clock=clock)
    yield context
    context.engine.dispose()
