"""Step cost: the engine's in-process CPU and SQL statements per whole PBG case, beside stock SpiffWorkflow.

A whole PBG case is the application and eight completed tasks, each its own committed
transaction through the engine's functions (`start_case`, `complete_task`), as the CLI and the
API call them. For the same case it measures:
- stock SpiffWorkflow in memory: a `BpmnWorkflow` on the same compiled spec and script engine,
  each user task's data set, `task.run()` and `do_engine_steps()` (nothing stored);
- the engine: CPU of the nine transactions, commit included, with no statement counter installed (its
  hooks cost CPU of their own);
- both CPU figures are this process's (`time.process_time`) plus its script worker processes' (the
  sandbox, engine.isolation, runs a script that is not provably cheap in one; both sides share the script
  engine), read from /proc to the nanosecond; the workers' share is reported apart. The HTTP figures
  (bench/http_load.py) count the API processes' children the same way;
- SQL statements per step, counted in a few cases of their own: every statement sent to the database
  inside those transactions, SQLAlchemy's (its `before_cursor_execute` event) and the driver-level
  write path's (engine/cases/hotsql.py) alike; an `executemany` counts once, with its rows counted apart;
- round trips per step: the statements, less those PostgreSQL received together in one pipeline
  (`hotsql.Batch`: a step's read-model, timer, queue and history writes); on SQLite, in process, the
  same as the statements. BEGIN and COMMIT are not counted: on PostgreSQL a transaction begins at its
  first write, and a step whose one write goes last sends neither (engine.db).

    .venv/bin/python -m bench.step_cost [--cases 30] [--pg-url postgresql+psycopg://...]

`run(url, cases)` returns the figures as a dict (`make bench` calls it); `url=None` is a fresh
SQLite file.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pydantic import SecretStr
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import event, select

from bench import procs
from engine.cases import hotsql as hotsql
from engine.cases.service import start_case
from engine.cases.tasks import complete_task
from engine.context import AppContext, build_context
from engine.db import transaction
from engine.models import OpenTask
from engine.settings import Settings

STEPS_PER_CASE = 9  # apply + eight completed tasks


def _path() -> list[tuple[str, str, dict[str, Any]]]:
    """The approved PBG path: (element, cast member, form data) per task, in order."""
    from tests.factories import APPROVED, DRAWINGS, PAID, SIGNED, SKRD, SPPST

    return [("Task_kelengkapan", "front", {"kelengkapan": "lengkap"}), ("Task_gambar_teknis", "consultant", DRAWINGS),
            ("Task_tpa", "tpa", APPROVED), ("Task_sppst", "teknis", SPPST), ("Task_skrd", "back", SKRD),
            ("Task_pembayaran", "applicant", PAID), ("Task_verifikasi", "kasir", {"pembayaran_valid": True}),
            ("Task_tanda_tangan", "kepala", SIGNED)]


class Counter:
    """Statements sent to the database while `active`: SQLAlchemy's and hotsql's driver cursors."""

    def __init__(self) -> None:
        self.active = False
        self.statements = 0
        self.saved_trips = 0  # statements sent in a pipeline beyond its first
        self.many_rows = 0

    def on_execute(self, *_args: Any, **_kwargs: Any) -> None:
        if self.active:
            self.statements += 1


class _CountingCursor:
    def __init__(self, cursor: Any, counter: Counter) -> None:
        self._cursor, self._counter = cursor, counter

    # Keyword arguments pass through: hotsql asks psycopg for server-side prepared statements (`prepare=True`).
    def execute(self, *args: Any, **kwargs: Any) -> Any:
        self._counter.on_execute()
        return self._cursor.execute(*args, **kwargs)

    def executemany(self, sql: str, rows: list[Any], **kwargs: Any) -> Any:
        self._counter.on_execute()
        if self._counter.active:
            self._counter.many_rows += len(rows)
        return self._cursor.executemany(sql, rows, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cursor, name)


@contextmanager
def counting(ctx: AppContext) -> Iterator[Counter]:
    """Count every statement the engine sends while the counter is active."""
    counter = Counter()
    real = hotsql._cursor

    @contextmanager
    def cursor(session: Any, *args: Any) -> Iterator[tuple[Any, str]]:
        with real(session, *args) as (found, dialect):
            yield _CountingCursor(found, counter), dialect

    real_run = hotsql.Batch.run

    def run(batch: hotsql.Batch) -> None:
        sent = counter.statements
        real_run(batch)
        if batch._postgres and counter.statements > sent:
            counter.saved_trips += counter.statements - sent - 1

    event.listen(ctx.engine, "before_cursor_execute", counter.on_execute)
    hotsql._cursor = cursor  # type: ignore[assignment]
    hotsql.Batch.run = run  # type: ignore[method-assign]
    try:
        yield counter
    finally:
        hotsql._cursor = real  # type: ignore[assignment]
        hotsql.Batch.run = real_run  # type: ignore[method-assign]
        event.remove(ctx.engine, "before_cursor_execute", counter.on_execute)


def _script_workers() -> list[int]:
    """Return the ids of this process's script worker processes (engine.isolation), from /proc."""
    found = []
    for pid in procs.children(os.getpid()):
        with contextlib.suppress(OSError):  # ended while we looked
            if b"engine.isolation" in Path(f"/proc/{pid}/cmdline").read_bytes():
                found.append(pid)
    return found


def _workers_cpu(pids: list[int]) -> float:
    """Return the CPU seconds the script workers `pids` have used, every thread, to the nanosecond (schedstat)."""
    total = 0
    for pid in pids:
        for task in Path(f"/proc/{pid}/task").glob("*/schedstat"):
            with contextlib.suppress(OSError, IndexError, ValueError):
                total += int(task.read_text().split()[0])
    return total / 1e9


class CpuClock:
    """CPU time spent on a unit of work: this process's and that of the script workers it hands scripts to.

    A script that is not provably cheap runs in a worker process (engine.isolation), as it does behind the
    API; its CPU is the engine's (and stock SpiffWorkflow's, which runs the same script engine), and the
    HTTP figures count the API processes' children too. The workers are looked up outside the window.
    """

    def __init__(self, pids: list[int] | None = None) -> None:
        self.pids = _script_workers() if pids is None else pids
        self.spent = 0.0  # this process and the workers
        self.workers = 0.0  # of which the workers
        self._mark = (0.0, 0.0)

    def start(self) -> None:
        workers = _workers_cpu(self.pids)  # read before our own clock: the /proc reads are not the work's
        self._mark = (time.process_time(), workers)

    def stop(self) -> None:
        own = time.process_time()
        workers = _workers_cpu(self.pids) - self._mark[1]
        self.spent += (own - self._mark[0]) + workers
        self.workers += workers


def _engine_case(ctx: AppContext, cast: Any, counter: Counter, pids: list[int] | None = None) -> tuple[CpuClock, int]:
    """Drive one PBG case through the engine; return its CPU and statements (reads between steps excluded)."""
    from tests.factories import pbg_application

    clock = CpuClock(pids)
    counter.statements, counter.saved_trips, counter.many_rows = 0, 0, 0
    clock.start()
    counter.active = True
    with transaction(ctx.sessions) as session:
        case_id = start_case(session, rt=ctx.rt, process_key="pbg", data=pbg_application(), channel="tatap_muka",
                             actor=cast.applicant, applicant_id=cast.applicant.user_id).id
    counter.active = False
    clock.stop()
    for element, who, data in _path():
        with ctx.sessions() as session:  # the caller knows its task id: not part of the step
            task_id = session.scalar(select(OpenTask.id).where(OpenTask.case_id == case_id,
                                                               OpenTask.element_id == element))
        assert task_id is not None, f"no open {element}"
        clock.start()
        counter.active = True
        with transaction(ctx.sessions) as session:
            complete_task(session, rt=ctx.rt, task_id=task_id, actor=getattr(cast, who), data=data)
        counter.active = False
        clock.stop()
    return clock, counter.statements


def _stock_case(ctx: AppContext, pids: list[int] | None = None) -> CpuClock:
    """Run the same PBG case on a stock BpmnWorkflow in memory; return its CPU."""
    from tests.factories import pbg_application

    with ctx.sessions() as session:
        found = ctx.rt.specs.latest(session, "pbg")
    assert found is not None
    compiled = found[1]
    clock = CpuClock(pids)
    clock.start()
    wf = BpmnWorkflow(compiled.spec, compiled.subprocess_specs, script_engine=ctx.rt.runner.script_engine)
    wf.get_tasks(state=TaskState.READY)[0].data.update({**pbg_application(), "channel": "tatap_muka"})
    wf.do_engine_steps()
    for element, _who, data in _path():
        task = next(t for t in wf.get_tasks(state=TaskState.READY, manual=True) if t.task_spec.name == element)
        task.data.update(data)
        task.run()
        wf.do_engine_steps()
    assert wf.is_completed()
    clock.stop()
    return clock


COUNTED_CASES = 5  # a case's statements are the same every time: a few cases count them


def _measure(ctx: AppContext, cases: int) -> dict[str, Any]:
    from tests.documents import pbg_cast

    cast = pbg_cast(ctx, prefix=f"sc{uuid.uuid4().hex[:6]}")
    # The CPU is measured with no counter installed: its hooks (an event listener on every SQLAlchemy statement,
    # a wrapper on every driver cursor) cost CPU of their own, which is not the engine's. The statements are
    # counted in cases of their own after.
    _engine_case(ctx, cast, Counter())  # warm: spec cache, script workers
    _stock_case(ctx)
    pids = _script_workers()  # started by the warm-up case
    engine, stock = [], []
    statements, trips, many_rows = [], [], []
    for _ in range(cases):
        engine.append(_engine_case(ctx, cast, Counter(), pids)[0])
        stock.append(_stock_case(ctx, pids))
    with counting(ctx) as counter:
        for _ in range(min(cases, COUNTED_CASES)):
            _clock, count = _engine_case(ctx, cast, counter)
            statements.append(count)
            trips.append(count - counter.saved_trips)
            many_rows.append(counter.many_rows)
    engine_ms, stock_ms = (statistics.median(c.spent for c in engine) * 1000,
                           statistics.median(c.spent for c in stock) * 1000)
    per_case = statistics.median(statements)
    return {"dialect": ctx.engine.dialect.name, "cases": cases, "stock_spiff_cpu_ms": round(stock_ms, 2),
            "engine_cpu_ms": round(engine_ms, 2), "ratio": round(engine_ms / stock_ms, 2),
            "stock_script_workers_cpu_ms": round(statistics.median(c.workers for c in stock) * 1000, 2),
            "engine_script_workers_cpu_ms": round(statistics.median(c.workers for c in engine) * 1000, 2),
            "statements_per_case": per_case, "statements_per_step": round(per_case / STEPS_PER_CASE, 2),
            "round_trips_per_step": round(statistics.median(trips) / STEPS_PER_CASE, 2),
            "executemany_rows_per_case": statistics.median(many_rows),
            "load_average": os.getloadavg()}


def run(url: str | None, cases: int) -> dict[str, Any]:
    """Measure `cases` whole PBG cases on `url` (None: a fresh SQLite file); return the medians per case."""
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(database_url=url or f"sqlite:///{Path(tmp) / 'step_cost.db'}",
                            secret_key=SecretStr("bench-" + "k" * 40), files_dir=Path(tmp) / "files")
        ctx = build_context(settings)
        try:
            return _measure(ctx, cases)
        finally:
            ctx.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--cases", type=int, default=30)
    parser.add_argument("--pg-url", default=None, help="also measure on this PostgreSQL database")
    args = parser.parse_args()
    results = [run(None, args.cases)]
    if args.pg_url:
        results.append(run(args.pg_url, args.cases))
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
