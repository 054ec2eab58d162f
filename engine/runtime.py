"""The engine's runtime: spec cache, hot-case cache, script engine, calendar and clock.

`build_runtime(settings)` is the one factory; the CLI, the web app, workers and tests call it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from engine import sandbox, spiff, state
from engine.calendar import WorkingCalendar
from engine.db import on_commit
from engine.errors import CaseConflict, CaseNotFound
from engine.models import Case, CaseState, ProcessFile, ProcessVersion
from engine.package import Package
from engine.settings import Settings

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """Return the current time (UTC)."""
    return datetime.now(UTC)


class SpecCache:
    """Parsed process versions, shared by every case on the same version."""

    def __init__(self) -> None:
        self._items: dict[int, spiff.CompiledProcess] = {}
        self._lock = threading.Lock()

    def get(self, session: Session, version_id: int) -> spiff.CompiledProcess:
        """Return the compiled process of a version, parsing it on first use."""
        compiled = self._items.get(version_id)
        if compiled is not None:
            return compiled
        rows = session.execute(select(ProcessFile.name, ProcessFile.content).where(
            ProcessFile.version_id == version_id)).all()
        compiled = spiff.compile_package(Package(files=dict(rows)), version_id=version_id)
        with self._lock:
            self._items.setdefault(version_id, compiled)
        return self._items[version_id]

    def latest(self, session: Session, key: str) -> tuple[ProcessVersion, spiff.CompiledProcess] | None:
        """Return the newest version of a process key with its compiled form."""
        version = session.scalar(
            select(ProcessVersion).where(ProcessVersion.key == key).order_by(ProcessVersion.version.desc()).limit(1))
        if version is None:
            return None
        return version, self.get(session, version.id)


@dataclass
class _Hot:
    version: int
    workflow: Any
    tracker: state.Tracker


class CaseCache:
    """Recently used workflows, checked against the case's version before reuse.

    An entry is taken out while a request works on it and put back only when that
    request's transaction commits, so a failed or lost update never leaves a wrong
    workflow in the cache, and two threads never share one workflow object.
    """

    def __init__(self, size: int) -> None:
        self._items: OrderedDict[int, _Hot] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def take(self, case_id: int, version: int) -> _Hot | None:
        """Remove and return the cached workflow if it matches the case's version."""
        with self._lock:
            hot = self._items.pop(case_id, None)
        return hot if hot is not None and hot.version == version else None

    def put(self, case_id: int, hot: _Hot) -> None:
        """Keep a workflow whose state is committed at `hot.version`."""
        if self._size <= 0:
            return
        with self._lock:
            self._items[case_id] = hot
            self._items.move_to_end(case_id)
            while len(self._items) > self._size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        """Forget every cached workflow."""
        with self._lock:
            self._items.clear()


@dataclass
class LoadedCase:
    """A case row with its live workflow, ready to be stepped and saved."""

    row: Case
    compiled: spiff.CompiledProcess
    workflow: Any
    tracker: state.Tracker
    open_before: set[str] = field(default_factory=set)
    timers_before: dict[str, spiff.PendingTimer] = field(default_factory=dict)


@dataclass
class Runtime:
    """Everything the engine needs besides a database session."""

    settings: Settings
    runner: spiff.Runner
    calendar: WorkingCalendar
    specs: SpecCache
    cases: CaseCache
    clock: Clock = system_clock

    def load_case(self, session: Session, case_id: int) -> LoadedCase:
        """Load a case's workflow from the hot cache or the database."""
        row = session.get(Case, case_id)
        if row is None:
            raise CaseNotFound(f"case {case_id} not found")
        compiled = self.specs.get(session, row.process_version_id)
        hot = self.cases.take(case_id, row.version)
        if hot is None:
            rows = session.execute(select(CaseState.task_id, CaseState.owner, CaseState.payload).where(
                CaseState.case_id == case_id)).all()
            workflow, tracker = state.load(compiled.spec, compiled.subprocess_specs, [tuple(r) for r in rows],
                                           row.wf_meta, self.runner.script_engine)
        else:
            workflow, tracker = hot.workflow, hot.tracker
        loaded = LoadedCase(row, compiled, workflow, tracker)
        loaded.open_before = {t.task_id for t in self.ready_tasks(loaded)}
        loaded.timers_before = {t.task_id: t for t in spiff.pending_timers(workflow)}
        return loaded

    def ready_tasks(self, loaded: LoadedCase) -> list[spiff.ReadyTask]:
        """List the open user tasks of a loaded case."""
        return spiff.ready_user_tasks(loaded.workflow, loaded.compiled)

    def save_state(self, session: Session, loaded: LoadedCase, values: dict[str, Any]) -> int:
        """Write what changed in the workflow and bump the case version; raise CaseConflict on a lost race."""
        changes = state.diff(loaded.workflow, loaded.tracker)
        row = loaded.row
        new_version = row.version + 1
        result = session.execute(
            update(Case).where(Case.id == row.id, Case.version == row.version)
            .values(version=new_version, wf_meta=changes.meta, updated_at=self.clock(), **values)
            .execution_options(synchronize_session=False))
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise CaseConflict("the case was changed by someone else; reload and try again")
        write_rows(session, row.id, changes)
        hot = _Hot(new_version, loaded.workflow, loaded.tracker)
        on_commit(session, lambda: self.cases.put(row.id, hot))
        session.expire(row)
        return new_version


def write_rows(session: Session, case_id: int, changes: state.Changes) -> None:
    """Apply one step's task-row changes."""
    table = CaseState.__table__
    if changes.deletes:
        session.execute(table.delete().where(table.c.case_id == case_id, table.c.task_id.in_(changes.deletes)))
    if changes.inserts:
        session.execute(table.insert(), [
            {"case_id": case_id, "task_id": tid, "owner": owner, "payload": payload}
            for tid, owner, payload in changes.inserts])
    if changes.updates:
        from sqlalchemy import bindparam

        stmt = table.update().where(table.c.case_id == case_id, table.c.task_id == bindparam("tid")).values(
            payload=bindparam("body"))
        session.execute(stmt, [{"tid": tid, "body": payload} for tid, payload in changes.updates])


def build_runtime(settings: Settings, *, clock: Clock = system_clock) -> Runtime:
    """Build the engine runtime from settings: the one factory everything uses."""
    calendar = WorkingCalendar.default()
    helpers = {
        "add_working_days": calendar.add_working_days,
        "working_days_between": calendar.working_days_between,
    }
    script_engine = sandbox.make_script_engine(
        limits=sandbox.Limits(timeout_s=settings.script_timeout_s), extra=helpers)
    runner = spiff.Runner(script_engine, step_budget=settings.engine_step_budget)
    return Runtime(settings, runner, calendar, SpecCache(), CaseCache(settings.case_cache_size), clock)
