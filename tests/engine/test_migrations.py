"""The Alembic migrations build exactly the tables the models describe, on both databases."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from engine.context import AppContext
from engine.db import Base

pytestmark = pytest.mark.postgres


def test_the_migrations_build_exactly_the_models(ctx: AppContext) -> None:
    with ctx.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []


def test_the_history_is_one_line(ctx: AppContext) -> None:
    from alembic.script import ScriptDirectory

    from engine.schema import alembic_config

    script = ScriptDirectory.from_config(alembic_config(str(ctx.engine.url)))
    assert len(script.get_heads()) == 1
    with ctx.engine.connect() as connection:
        assert MigrationContext.configure(connection).get_current_heads() == tuple(script.get_heads())
