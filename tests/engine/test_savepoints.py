"""Savepoints and what waits for the commit: after-commit callbacks and appended rows follow the outermost
transaction, and rolling a savepoint back drops only what was added inside it (engine/db.py)."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import db
from engine.context import AppContext
from engine.db import transaction
from engine.models import AuditEntry


def _entry(subject: str) -> AuditEntry:
    return AuditEntry(actor="test", action="savepoint.test", subject=subject)


def _subjects(ctx: AppContext) -> set[str]:
    with ctx.sessions() as session:
        return set(session.scalars(select(AuditEntry.subject).where(AuditEntry.action == "savepoint.test")))


def test_a_released_savepoint_waits_for_the_outermost_commit(ctx: AppContext) -> None:
    ran: list[str] = []
    with transaction(ctx.sessions) as session:
        with session.begin_nested():
            db.on_commit(session, lambda: ran.append("inside"))
            db.append(session, _entry("inside"))
        assert ran == []  # released, not committed: the transaction around it may still roll back
        db.on_commit(session, lambda: ran.append("after"))
    assert ran == ["inside", "after"]
    assert _subjects(ctx) == {"inside"}


class Refused(Exception):
    """What the work in these tests raises on purpose."""


def _savepoint_then_fail(ctx: AppContext, ran: list[str]) -> None:
    with transaction(ctx.sessions) as session:
        with session.begin_nested():
            db.on_commit(session, lambda: ran.append("inside"))
            db.append(session, _entry("lost"))
        raise Refused("the request fails after the savepoint")


def _refused_in_savepoint(session: Session, ran: list[str]) -> None:
    with session.begin_nested():
        db.on_commit(session, lambda: ran.append("inside"))
        db.append(session, _entry("inside"))
        raise Refused("a refused bill")


def test_a_released_savepoint_of_a_transaction_that_rolls_back_runs_nothing(ctx: AppContext) -> None:
    ran: list[str] = []
    with pytest.raises(Refused):
        _savepoint_then_fail(ctx, ran)
    assert ran == []
    assert _subjects(ctx) == set()


def test_a_savepoint_rolled_back_drops_only_what_it_added(ctx: AppContext) -> None:
    ran: list[str] = []
    with transaction(ctx.sessions) as session:
        db.on_commit(session, lambda: ran.append("before"))
        db.append(session, _entry("before"))
        with pytest.raises(Refused):
            _refused_in_savepoint(session, ran)
        with session.begin_nested():  # a later savepoint counts from what is left
            db.on_commit(session, lambda: ran.append("later"))
    assert ran == ["before", "later"]
    assert _subjects(ctx) == {"before"}
