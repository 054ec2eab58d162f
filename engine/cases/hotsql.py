"""The write path of a case step as plain driver SQL.

A step writes a handful of rows (the case row, changed task-state rows, the open-task read
model, one history event). Through the ORM each statement costs ~0.1-0.3 ms of Python, more
than SpiffWorkflow's own step; as driver SQL it costs ~0.02 ms. So this one path, and only
this one, skips the ORM: statements are written once with `:name` parameters, translated once
per dialect, and run with `exec_driver_sql` on the session's connection, inside the session's
transaction. Values are adapted here the way the ORM column types would (UTC datetimes, JSON).
"""

from __future__ import annotations

import json
import re
from collections import namedtuple
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy.orm import Session

STATEMENTS = {
    "case_update": (
        "UPDATE case_record SET version = :new_version, wf_meta = :wf_meta, data = :data, status = :status, "
        "stage_id = :stage_id, stage_en = :stage_en, outcome = :outcome, updated_at = :now, "
        "completed_at = :completed_at WHERE id = :case_id AND version = :version"),
    "state_insert": (
        "INSERT INTO case_state (case_id, task_id, owner, seq, payload) VALUES (:case_id, :tid, :owner, :seq, :body)"),
    "state_update": "UPDATE case_state SET payload = :body WHERE case_id = :case_id AND task_id = :tid",
    "state_delete": "DELETE FROM case_state WHERE case_id = :case_id AND task_id = :tid",
    "state_delete_owner": "DELETE FROM case_state WHERE case_id = :case_id AND owner = :owner",
    "task_delete": "DELETE FROM task WHERE id = :tid",
    # Completing an unclaimed task claims it first (POST /api/tasks/{id}/complete): a race loses here.
    "task_claim": (
        "UPDATE task SET assignee_id = :uid, claimed_at = :now WHERE id = :tid AND assignee_id IS NULL"),
    # A task leaving the open-task table keeps its times in task_span, for SLA figures.
    "task_archive": (
        "INSERT INTO task_span (task_id, case_id, process_key, element_id, name, role, agency, bound_org, "
        "assignee_id, created_at, claimed_at, closed_at, due_at, completed, escalated_at) SELECT id, case_id, "
        "process_key, element_id, name, role, agency, bound_org, assignee_id, created_at, claimed_at, :now, due_at, "
        ":done, escalated_at FROM task WHERE id = :tid"),
    "task_insert": (
        "INSERT INTO task (id, case_id, process_key, element_id, name, lane, role, agency, bound_org, assignee_id, "
        "claimed_at, created_at, due_at, overdue) VALUES (:id, :case_id, :process_key, :element_id, :name, :lane, "
        ":role, :agency, :bound_org, :assignee_id, NULL, :created_at, :due_at, :overdue)"),
    "event_insert": (
        "INSERT INTO case_event (case_id, at, actor, action, task_id, element_id, label, diff) "
        "VALUES (:case_id, :at, :actor, :action, :task_id, :element_id, :label, :diff)"),
    "task_context": (
        "SELECT c.id, c.version, c.process_key, c.process_version_id, c.status, c.stage_id, c.stage_en, "
        "c.bundle_id, t.element_id, t.name, t.role, t.bound_org, t.assignee_id, c.applicant_id, c.filed_by_id, "
        "t.escalated_to "
        "FROM task t JOIN case_record c ON c.id = t.case_id WHERE t.id = :tid"),
    "case_head": (
        "SELECT id, version, process_key, process_version_id, status, stage_id, stage_en, bundle_id "
        "FROM case_record WHERE id = :case_id"),
    "case_state": "SELECT task_id, owner, payload, seq FROM case_state WHERE case_id = :case_id ORDER BY seq",
    "case_meta": "SELECT wf_meta, version FROM case_record WHERE id = :case_id",
}

_PARAM = re.compile(r"(?<!:):([a-z_]+)")


@lru_cache
def _translated(dialect: str, name: str) -> str:
    sql = STATEMENTS[name]
    if dialect == "postgresql":  # psycopg's named style
        return _PARAM.sub(r"%(\1)s", sql)
    return sql  # sqlite3 takes :name as it is


def _adapt(value: Any, dialect: str) -> Any:
    if isinstance(value, datetime):
        value = value.astimezone(UTC)
        # Same text the ORM's DateTime type writes on SQLite, so both read back alike.
        return value.replace(tzinfo=None).isoformat(" ", "microseconds") if dialect == "sqlite" else value
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"), default=str)
    return value


def _params(row: Mapping[str, Any], dialect: str) -> dict[str, Any]:
    return {key: _adapt(value, dialect) for key, value in row.items()}


_KEY = "mpp_hotsql"


def _cursor(session: Session) -> tuple[Any, str]:
    # The DBAPI connection under the session's own transaction: same BEGIN, same COMMIT.
    # Looked up once per transaction; `engine.db` forgets it when the transaction ends.
    found: tuple[Any, str] | None = session.info.get(_KEY)
    if found is None:
        conn = session.connection()
        found = (conn.connection.driver_connection, conn.dialect.name)
        session.info[_KEY] = found
    driver, dialect = found
    return driver.cursor(), dialect


def execute(session: Session, name: str, row: Mapping[str, Any]) -> int:
    """Run one statement in the session's transaction; return the affected row count."""
    cursor, dialect = _cursor(session)
    try:
        cursor.execute(_translated(dialect, name), _params(row, dialect))
        return int(cursor.rowcount)
    finally:
        cursor.close()


def execute_many(session: Session, name: str, rows: Sequence[Mapping[str, Any]]) -> None:
    """Run one statement for many rows in the session's transaction."""
    if not rows:
        return
    cursor, dialect = _cursor(session)
    try:
        cursor.executemany(_translated(dialect, name), [_params(r, dialect) for r in rows])
    finally:
        cursor.close()


def fetch_all(session: Session, name: str, row: Mapping[str, Any]) -> list[Any]:
    """Run a query and return all its rows as named tuples."""
    cursor, dialect = _cursor(session)
    try:
        cursor.execute(_translated(dialect, name), _params(row, dialect))
        fields = namedtuple("Row", [d[0] for d in cursor.description])  # type: ignore[misc]  # noqa: PYI024
        return [fields(*values) for values in cursor.fetchall()]
    finally:
        cursor.close()


def fetch_one(session: Session, name: str, row: Mapping[str, Any]) -> Any:
    """Run a query and return its first row, or None."""
    rows = fetch_all(session, name, row)
    return rows[0] if rows else None
