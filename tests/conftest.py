"""Shared fixtures: a real database per test (SQLite by default, PostgreSQL when configured)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.pool import NullPool

from api import bootstrap
from engine.bpmn import fastflow as fastflow
from engine.context import AppContext, build_context
from engine.db import make_engine, make_sessionmaker, transaction
from engine.errors import Problem
from engine.schema import upgrade
from engine.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
# Every fast task query of the engine is checked against SpiffWorkflow's own tree walk.
fastflow.SELFCHECK["on"] = True
PG_URL = os.environ.get("MPP_TEST_POSTGRES_URL")
# The log scan: every log of the run is read for the tests' NIKs at the end (tests/logscan.py).
pytest_plugins = ("tests.logscan",)


# Markers, given by where a test lives and what it uses (registered in pyproject.toml):
# unit (no database), db, pg (the PostgreSQL run), browser, slow (over ~5 s; `make test-fast` leaves them out).
DATABASE_FIXTURES = {"db_url", "ctx", "catalogue", "live_server"}
DATABASE_PATHS = ("tests/test_cli.py", "tests/production/")
SLOW_PATHS = ("tests/production/", "tests/api/test_schemathesis.py", "tests/engine/test_sweep.py",
              "tests/test_backup.py", "tests/bench/", "tests/test_cli.py",
              "tests/test_cli_scenarios.py")
SLOW_TESTS = {"test_mpp_serve_with_workers_logs_json_and_sums_metrics_over_its_processes",
              "test_a_thousand_revision_rounds_run_to_the_end_with_a_bounded_tree"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test unit or db, pg, browser and slow from its path and fixtures.

    The slow and browser tests are moved to the front (in their order), so that with several workers
    (`make test`: pytest-xdist, `--dist loadfile`, a module's tests on one worker in order, since some
    share a module-scoped server) the long ones start first and the short ones fill the gaps.
    """
    for item in items:
        path = Path(item.path).relative_to(ROOT).as_posix()
        names = set(getattr(item, "fixturenames", ()))
        callspec = getattr(item, "callspec", None)
        on_postgres = callspec is not None and callspec.params.get("db_url") == "postgresql"
        only_postgres = item.get_closest_marker("postgres") is not None and "db_url" not in names
        if path.startswith("tests/browser/"):
            item.add_marker(pytest.mark.browser)
        if on_postgres or only_postgres:
            item.add_marker(pytest.mark.pg)
        if path.startswith(SLOW_PATHS) or getattr(item, "originalname", item.name) in SLOW_TESTS:
            item.add_marker(pytest.mark.slow)
        uses_database = bool(names & DATABASE_FIXTURES) or path.startswith(DATABASE_PATHS)
        item.add_marker(pytest.mark.db if uses_database else pytest.mark.unit)
    items.sort(key=lambda item: 0 if item.get_closest_marker("slow") or item.get_closest_marker("browser") else 1)


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
    import engine.lint.service
    from engine.lint.text import localize

    def checked(problems: list[Problem], roots: Iterable[Any]) -> list[Problem]:
        out = localize(problems, roots)
        missing = [p.message for p in out if not p.message_id]
        assert not missing, f"lint messages without Indonesian (add them to engine/lint/text.py): {missing}"
        return out

    monkeypatch.setattr(engine.lint.service, "localize", checked)


def fast_hasher() -> PasswordHasher:
    """Return argon2id with its cheapest parameters: tests seed and log in many accounts."""
    return PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


def _deploy_catalogue(url: str) -> None:
    """Deploy processes/ and seed the demo accounts (hashed with `fast_hasher`), as `make run` does."""
    engine = make_engine(url)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(bootstrap, "PasswordHasher", fast_hasher)
        with transaction(make_sessionmaker(engine)) as session:
            bootstrap.deploy_folder(session, ROOT / "processes")
            bootstrap.seed_demo(session)
    engine.dispose()


# Templates: each test copies a database made once per session, migrated and, for the tests that
# use the `catalogue` fixture, with the catalogue deployed; the copy is the test's own, with real commits.
@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def catalogue_template_db(template_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "catalogue.db"
    shutil.copy(template_db, path)
    _deploy_catalogue(f"sqlite:///{path}")
    return path


class PostgresTemplates:
    """Databases of one test session in the cluster of MPP_TEST_POSTGRES_URL, copied with CREATE DATABASE.

    A copy costs ~0.2 s (re-migrating a schema ~0.3 s; deploying the catalogue several seconds); a
    template must have no open connection while it is copied, so every engine on one is disposed.
    """

    def __init__(self, url: str) -> None:
        self.url = make_url(url)
        # The URL's own database is only ever a place to connect to for CREATE and DROP DATABASE.
        self.admin = create_engine(self.url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
        self.prefix = f"mpp_t{os.getpid()}"
        self.made: dict[str, str] = {}
        self.count = 0

    def url_of(self, name: str) -> str:
        return self.url.set(database=name).render_as_string(hide_password=False)

    def create(self, name: str, template: str | None = None) -> str:
        with self.admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            copy = f' TEMPLATE "{template}"' if template else ""
            conn.execute(text(f'CREATE DATABASE "{name}"{copy}'))
        return self.url_of(name)

    def drop(self, name: str) -> None:
        with self.admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def template(self, kind: str) -> str:
        """Return the name of the session's template database of `kind` (empty or catalogue), made on first use."""
        if kind not in self.made:
            name = f"{self.prefix}_{kind}"
            if kind == "empty":
                engine = make_engine(self.create(name))
                upgrade(engine)
                engine.dispose()
            else:
                _deploy_catalogue(self.create(name, self.template("empty")))
            self.made[kind] = name
        return self.made[kind]

    def copy(self, kind: str) -> tuple[str, str]:
        """Create a test's own database from a template; return its name and URL."""
        self.count += 1
        name = f"{self.prefix}_{self.count}"
        return name, self.create(name, self.template(kind))

    def close(self) -> None:
        for name in self.made.values():
            self.drop(name)
        self.admin.dispose()


@pytest.fixture(scope="session")
def postgres_templates() -> Iterator[PostgresTemplates]:
    assert PG_URL is not None
    templates = PostgresTemplates(PG_URL)
    yield templates
    templates.close()


@pytest.fixture(params=["sqlite"] + (["postgresql"] if PG_URL else []))
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Give the test its own database, migrated; with the catalogue deployed when it uses `catalogue`."""
    kind = "catalogue" if "catalogue" in request.fixturenames else "empty"
    if request.param == "postgresql":
        templates: PostgresTemplates = request.getfixturevalue("postgres_templates")
        name, url = templates.copy(kind)
        yield url
        templates.drop(name)
        return
    template: Path = request.getfixturevalue("catalogue_template_db" if kind == "catalogue" else "template_db")
    target = tmp_path / "mpp.db"
    shutil.copy(template, target)
    yield f"sqlite:///{target}"


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
