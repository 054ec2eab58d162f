"""Engine benchmark: in-memory SpiffWorkflow vs our persisted steps vs a naive full-dump baseline.

For each diagram (PBG with expert-panel revision rounds, and a generated long diagram: a chain of
user tasks in a loop, so a case's history can grow to any length) it measures, at several history
lengths, the cost of one more step:
- in-memory: `task.run()` + `do_engine_steps()` on a stock `BpmnWorkflow` (the engine's own limit);
- persisted: `complete_task` through the engine in its own committed transaction (authorization,
  form validation, hot-cache load, step, incremental write of changed rows, read models, history),
  on SQLite and on PostgreSQL;
- naive: the in-memory step, then the whole workflow serialized with its spec and written to one
  row, committed (what a straightforward integration does), on the same database.
One case per mode is driven through every history length in turn; at each length `steps` steps
are timed (in-memory and naive alternate on one workflow), medians over `repeats` runs.

Stock SpiffWorkflow's task iterators stop at depth 1000, and every completed step adds at least
one level to the task tree, so no sequential diagram reaches 1000 completed steps in stock
SpiffWorkflow: it reports no READY task (or the workflow complete) well before. The benchmark
records the step at which stock SpiffWorkflow stopped, then measures the in-memory figures with
the iterators' depth limit raised (the same code otherwise), and says so in the report.

Our engine bounds its task tree (engine/bpmn/fastflow.py, compaction): at each length the
persisted mode also reports the depth of the case's task tree and its number of stored rows, loaded
fresh from the database, which stay flat however long the case runs (a PBG revision round is two
steps: 2,500 steps are 1,250 rounds).

    .venv/bin/python -m bench.engine_bench [--lengths 5,50,200,1000,2500] [--steps 20] [--repeats 3]
        [--database-url postgresql+psycopg://... --reset]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.util.task import BpmnTaskIterator
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.util.task import TaskIterator, TaskState
from sqlalchemy import create_engine, func, select, text

from bench import cluster
from engine.bpmn.instance import iter_tasks
from engine.cases.service import start_case
from engine.cases.tasks import complete_task
from engine.catalogue import registry as registry
from engine.catalogue.package import Package, from_files
from engine.context import AppContext, build_context
from engine.db import transaction
from engine.directory import service as directory
from engine.directory.actors import actor_for
from engine.models import CaseState, OpenTask
from engine.settings import Settings

LENGTHS = (5, 50, 200, 1000, 2500)


@dataclass(frozen=True)
class Scenario:
    """A diagram whose cases can be driven for any number of steps."""

    name: str
    package: Package
    key: str
    start: dict[str, Any]
    answers: dict[str, dict[str, Any]]
    roles: tuple[tuple[str, str | None], ...]

    def data_for(self, element_id: str) -> dict[str, Any]:
        return self.answers[element_id]


LONG_TASKS = 10
_LONG_BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="Defs_long" targetNamespace="http://mpp.bench">
  <bpmn:process id="{key}" isExecutable="true">
    <bpmn:laneSet id="LaneSet_1"><bpmn:lane id="Lane_petugas" name="Petugas [dinas.petugas]">{refs}</bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="StartEvent_1"><bpmn:outgoing>Flow_start</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="Flow_start" sourceRef="StartEvent_1" targetRef="Task_1"/>
    {tasks}
    <bpmn:exclusiveGateway id="Gateway_lagi" default="Flow_lagi">
      <bpmn:incoming>Flow_{n}</bpmn:incoming><bpmn:outgoing>Flow_selesai</bpmn:outgoing>
      <bpmn:outgoing>Flow_lagi</bpmn:outgoing></bpmn:exclusiveGateway>
    <bpmn:sequenceFlow id="Flow_selesai" sourceRef="Gateway_lagi" targetRef="EndEvent_1">
      <bpmn:conditionExpression>catatan == "selesai"</bpmn:conditionExpression></bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="Flow_lagi" sourceRef="Gateway_lagi" targetRef="Task_1"/>
    <bpmn:endEvent id="EndEvent_1" name="Selesai"><bpmn:incoming>Flow_selesai</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""
_LONG_TASK = """<bpmn:userTask id="Task_{i}" name="Langkah {i}">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="formJsonSchemaFilename" value="periksa.schema.json"/>
        <spiffworkflow:property name="slaDays" value="2"/>
      </spiffworkflow:properties></bpmn:extensionElements>
      {incoming}<bpmn:outgoing>Flow_{i}</bpmn:outgoing></bpmn:userTask>
    <bpmn:sequenceFlow id="Flow_{i}" sourceRef="Task_{i}" targetRef="{target}"/>"""


def long_package(key: str = "bench_panjang", tasks: int = LONG_TASKS) -> Package:
    """Build a generated long diagram: a chain of `tasks` user tasks, looped until `catatan == "selesai"`."""
    from tests.packages import AGENCY, FORM, SERVICE, START_FORM

    parts = []
    for i in range(1, tasks + 1):
        incoming = ("<bpmn:incoming>Flow_start</bpmn:incoming><bpmn:incoming>Flow_lagi</bpmn:incoming>" if i == 1
                    else f"<bpmn:incoming>Flow_{i - 1}</bpmn:incoming>")
        target = "Gateway_lagi" if i == tasks else f"Task_{i + 1}"
        parts.append(_LONG_TASK.format(i=i, incoming=incoming, target=target))
    nodes = ["StartEvent_1", *(f"Task_{i}" for i in range(1, tasks + 1)), "Gateway_lagi", "EndEvent_1"]
    refs = "".join(f"<bpmn:flowNodeRef>{n}</bpmn:flowNodeRef>" for n in nodes)
    bpmn = _LONG_BPMN.format(key=key, refs=refs, tasks="\n    ".join(parts), n=tasks)
    return from_files({"service.toml": (SERVICE.format(key=key) + AGENCY).encode(), "process.bpmn": bpmn.encode(),
                       "forms/periksa.schema.json": json.dumps(FORM).encode(),
                       "forms/start.schema.json": json.dumps(START_FORM).encode()})


def scenarios() -> dict[str, Scenario]:
    """Return the benchmark's diagrams by name."""
    from engine.catalogue.package import from_path
    from tests.factories import DRAWINGS, PBG, pbg_application

    drawings = DRAWINGS  # the drawings are file references (`file:<id>`), as the form asks
    lanjut = {"catatan": "lanjut"}
    return {
        "pbg": Scenario("PBG (building approval), expert-panel revision rounds", from_path(PBG), "pbg",
                        pbg_application(),
                        {"Task_kelengkapan": {"kelengkapan": "lengkap"}, "Task_gambar_teknis": drawings,
                         "Task_tpa": {"hasil_tpa": "revisi", "catatan_tpa": "perbaiki"},
                         "Task_revisi": {"catatan_revisi": "diperbaiki"}},
                        (("dpmptsp.front_office", None), ("pupr.tpa", None),
                         ("konsultan.perencana", "konsultan_griya"))),
        "long": Scenario(f"generated long diagram: {LONG_TASKS} user tasks in a loop", long_package(),
                         "bench_panjang", {"harga": 1, "jumlah": 1},
                         {f"Task_{i}": lanjut for i in range(1, LONG_TASKS + 1)}, (("dinas.petugas", None),)),
    }


def _setup(url: str, scenario: Scenario) -> tuple[AppContext, Any]:
    ctx = build_context(Settings(database_url=url, secret_key="bench-" + "k" * 40))  # type: ignore[arg-type]
    with transaction(ctx.sessions) as session:
        registry.deploy(session, package=scenario.package, actor="bench")
        directory.ensure_agency(session, code="konsultan_griya", kind="private", parent_code="konsultan")
        user = directory.create_user(session, username="bench", platform_role="officer")
        for role, org in scenario.roles:
            directory.grant(session, user=user, role_key=role, organisation_code=org)
    with ctx.sessions() as session:
        actor = actor_for(session, directory.get_user(session, "bench"))
    return ctx, actor


def _new_case(ctx: AppContext, actor: Any, scenario: Scenario) -> int:
    with transaction(ctx.sessions) as session:
        return start_case(session, rt=ctx.rt, process_key=scenario.key, data=scenario.start,
                          channel="tatap_muka", actor=actor).id


def _persisted_step(ctx: AppContext, actor: Any, case_id: int, scenario: Scenario) -> float:
    with ctx.sessions() as session:
        row = session.execute(select(OpenTask.id, OpenTask.element_id).where(OpenTask.case_id == case_id)
                              .order_by(OpenTask.created_at).limit(1)).one()
    data = scenario.data_for(row.element_id)
    start = time.perf_counter()
    with transaction(ctx.sessions) as session:
        complete_task(session, rt=ctx.rt, task_id=str(row.id), actor=actor, data=data)
    return time.perf_counter() - start


def _memory_workflow(ctx: AppContext, scenario: Scenario) -> Any:
    """A stock SpiffWorkflow BpmnWorkflow on the same spec and sandboxed script engine."""
    with ctx.sessions() as session:
        found = ctx.rt.specs.latest(session, scenario.key)
        assert found is not None
        compiled = found[1]
    wf = BpmnWorkflow(compiled.spec, compiled.subprocess_specs, script_engine=ctx.rt.runner.script_engine)
    wf.get_tasks(state=TaskState.READY)[0].data.update({**scenario.start, "channel": "tatap_muka"})
    wf.do_engine_steps()
    return wf


class StockStopped(Exception):
    """Stock SpiffWorkflow found no READY user task although the case is still running."""


def _run_memory_task(wf: Any, scenario: Scenario) -> None:
    ready = wf.get_tasks(state=TaskState.READY, manual=True)
    if not ready:
        raise StockStopped("no READY user task found" + (" (workflow reports completed)" if wf.is_completed() else ""))
    task = ready[0]
    task.data.update(scenario.data_for(task.task_spec.name))
    task.run()
    wf.do_engine_steps()


@contextlib.contextmanager
def deep_iterators(limit: int = 1_000_000) -> Iterator[None]:
    """Raise the depth limit of SpiffWorkflow's task iterators (stock: 1000) and Python's recursion limit."""
    recursion = sys.getrecursionlimit()
    sys.setrecursionlimit(20_000)  # Join.is_descendant_of recurses once per level of the task tree
    saved = {cls: cls.__init__.__defaults__ for cls in (TaskIterator, BpmnTaskIterator)}
    for cls, defaults in saved.items():
        assert defaults is not None
        assert defaults[1] == 1000
        cls.__init__.__defaults__ = (defaults[0], limit, *defaults[2:])
    try:
        yield
    finally:
        sys.setrecursionlimit(recursion)
        for cls, defaults in saved.items():
            cls.__init__.__defaults__ = defaults


def stock_limit(ctx: AppContext, scenario: Scenario, most: int) -> dict[str, Any]:
    """Drive stock SpiffWorkflow until it stops finding the next task; return where and why."""
    wf = _memory_workflow(ctx, scenario)
    for done in range(most):
        try:
            _run_memory_task(wf, scenario)
        except (StockStopped, RecursionError) as exc:
            return {"reached": done, "stopped": f"{type(exc).__name__}: {exc}"}
    return {"reached": most, "stopped": None}


def _timed(fn: Any, *args: Any) -> float:
    start = time.perf_counter()
    fn(*args)
    return time.perf_counter() - start


@dataclass
class Series:
    """Per-step seconds of one mode at each history length, and where it stopped if it failed."""

    seconds: dict[int, float]
    failed: dict[str, Any] | None = None
    shape: dict[int, tuple[int, int]] | None = None  # persisted: (task tree depth, stored rows) at each length


def _memory_and_naive(ctx: AppContext, scenario: Scenario, lengths: list[int], steps: int) -> tuple[Series, Series]:
    """Drive one stock workflow through every length; time alternate in-memory and naive steps at each."""
    serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
    mem_out, naive_out = Series({}), Series({})
    with deep_iterators(), ctx.engine.connect() as conn:
        wf = _memory_workflow(ctx, scenario)
        done = 0

        def naive() -> None:
            _run_memory_task(wf, scenario)
            conn.execute(text("UPDATE bench_naive SET state = :s WHERE id = 1"),
                         {"s": serializer.serialize_json(wf)})
            conn.commit()

        try:
            for length in lengths:
                while done < length:
                    _run_memory_task(wf, scenario)
                    done += 1
                mem, nai = [], []
                for _ in range(steps):
                    mem.append(_timed(_run_memory_task, wf, scenario))
                    nai.append(_timed(naive))
                    done += 2
                mem_out.seconds[length], naive_out.seconds[length] = statistics.median(mem), statistics.median(nai)
        except Exception as exc:  # a failure is a result: report where it happened
            conn.rollback()
            mem_out.failed = naive_out.failed = {"at_step": done, "error": f"{type(exc).__name__}: {exc}"[:300]}
    return mem_out, naive_out


def _shape(ctx: AppContext, case_id: int) -> tuple[int, int]:
    """Load a case from its rows alone (no cache); return its task tree's depth and its number of stored rows."""
    ctx.rt.cases.clear()
    with ctx.sessions() as session:
        workflow = ctx.rt.load_case(session, case_id).workflow.raw
        rows = session.scalar(select(func.count()).select_from(CaseState).where(CaseState.case_id == case_id))
    return max(task.depth for task in iter_tasks(workflow)), int(rows or 0)


def _persisted(ctx: AppContext, actor: Any, scenario: Scenario, lengths: list[int], steps: int) -> Series:
    case_id = _new_case(ctx, actor, scenario)
    out, done = Series({}, shape={}), 0
    try:
        for length in lengths:
            while done < length:
                _persisted_step(ctx, actor, case_id, scenario)
                done += 1
            timings = []
            for _ in range(steps):
                timings.append(_persisted_step(ctx, actor, case_id, scenario))
                done += 1
            out.seconds[length] = statistics.median(timings)
            out.shape[length] = _shape(ctx, case_id)  # type: ignore[index]
    except Exception as exc:  # a failure is a result: report where it happened
        out.failed = {"at_step": done, "error": f"{type(exc).__name__}: {exc}"[:300]}
    return out


WARM_UP_CASES = 3
BACKGROUND_CASES = 300


def _background(ctx: AppContext, actor: Any, scenario: Scenario) -> None:
    """Start BACKGROUND_CASES cases, unmeasured, then give PostgreSQL's planner statistics (ANALYZE; not on SQLite).

    A server's tables hold other cases, and its planner has statistics of them (autovacuum analyses them as they
    grow). Without this the benchmark started on empty tables and, with autovacuum paused, never analysed
    them: the step's prepared statements settled on plans made for the first steps' few rows and kept them to
    the end, however the tables grew. One of them found the case's workflow-state rows by the case alone, a
    bitmap scan that visits every row version the case ever left behind: 1,200 buffers a step after 1,000
    steps, against 97 with the plan the same statement gets from statistics (auto_explain, one PBG case). SQLite
    plans without statistics (the platform does not ANALYZE it), so it gets only the cases.
    """
    for _ in range(BACKGROUND_CASES):
        _new_case(ctx, actor, scenario)
    with ctx.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("ANALYZE"))
            conn.commit()


def _warm_up(ctx: AppContext, actor: Any, scenario: Scenario, length: int, steps: int) -> None:
    """Run every mode at the shortest length, unmeasured, so that the figures are a running server's.

    The first steps on a fresh connection pay what a server pays once per connection, not per step: on
    PostgreSQL the step's statements are prepared, planned, and each settles on a generic plan after five
    runs (engine/db.py). The step's write has a few forms (which parts a step has), some run once or twice
    a case: the first case's steps measured 2.2-9 ms, the second's 2.3-3 ms, the third's 1.7 ms.
    """
    _memory_and_naive(ctx, scenario, [length], steps)
    for _ in range(WARM_UP_CASES):
        _persisted(ctx, actor, scenario, [length], steps)


def _settle(ctx: AppContext) -> None:
    """Write out what the naive mode left behind (megabytes a step at the longer histories) before our steps."""
    with ctx.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("CHECKPOINT"))
        else:
            conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        conn.commit()


@contextlib.contextmanager
def autovacuum_paused(url: str) -> Iterator[None]:
    """Turn a throwaway PostgreSQL cluster's autovacuum off for the block (nothing on SQLite).

    The benchmark starts on empty tables that grow tenfold within a minute, and autovacuum vacuumed or
    analysed them while steps were timed, on the same two cores: the PostgreSQL step at 5 steps measured
    2.2-2.5 ms when it did and 1.8 ms when it did not, within the same run of the same code. A server's
    tables are large, and their autovacuum runs seldom next to the steps it serves; so the figures are
    taken without it. Only for the benchmark's own cluster (`bench/cluster.py`; `python -m bench` asks for it):
    ALTER SYSTEM changes the whole cluster.
    """
    if not url.startswith("postgresql"):
        yield
        return
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text("ALTER SYSTEM SET autovacuum = off"))
            conn.execute(text("SELECT pg_reload_conf()"))
        yield
    finally:
        with engine.connect() as conn:
            conn.execute(text("ALTER SYSTEM RESET autovacuum"))
            conn.execute(text("SELECT pg_reload_conf()"))
        engine.dispose()


def measure(url: str, scenario: Scenario, lengths: list[int], steps: int, repeats: int) -> dict[str, Any]:
    """Measure per-step cost at each history length on one database; medians over repeats."""
    ctx, actor = _setup(url, scenario)
    with ctx.engine.connect() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS bench_naive (id INTEGER PRIMARY KEY, state TEXT)"))
        conn.execute(text("DELETE FROM bench_naive"))
        conn.execute(text("INSERT INTO bench_naive (id, state) VALUES (1, '')"))
        conn.commit()
    runs: dict[str, list[Series]] = {"memory": [], "naive": [], "persisted": []}
    _background(ctx, actor, scenario)
    _warm_up(ctx, actor, scenario, lengths[0], steps)
    for _ in range(repeats):
        mem, nai = _memory_and_naive(ctx, scenario, lengths, steps)
        runs["memory"].append(mem)
        runs["naive"].append(nai)
        _settle(ctx)
        runs["persisted"].append(_persisted(ctx, actor, scenario, lengths, steps))
    limit = stock_limit(ctx, scenario, max(lengths) + 2 * steps)
    ctx.engine.dispose()
    results: dict[str, Any] = {}
    for length in lengths:
        row: dict[str, Any] = {}
        for mode, series in runs.items():
            values = [s.seconds[length] for s in series if length in s.seconds]
            row[f"{mode}_ms"] = statistics.median(values) * 1000 if values else None
            row[f"{mode}_steps_per_s"] = 1000 / row[f"{mode}_ms"] if values else None
        if row["memory_ms"] and row["persisted_ms"]:
            row["persisted_vs_memory"] = row["memory_ms"] / row["persisted_ms"]
        if row["naive_ms"] and row["persisted_ms"]:
            row["persisted_vs_naive"] = row["naive_ms"] / row["persisted_ms"]
        row["memory_beyond_stock_depth"] = length + 2 * steps > limit["reached"]
        shapes = [s.shape[length] for s in runs["persisted"] if s.shape and length in s.shape]
        row["persisted_depth"], row["persisted_rows"] = (max(d for d, _ in shapes), max(r for _, r in shapes)) \
            if shapes else (None, None)
        results[str(length)] = row
    failures = {mode: s[0].failed for mode, s in runs.items() if s and s[0].failed}
    return {"results": results, "stock": limit, "failures": failures}


def run(urls: dict[str, str], *, lengths: list[int], steps: int, repeats: int, names: list[str],
        reset: Any = None, pause_autovacuum: bool = False) -> dict[str, Any]:
    """Run every scenario on every database (name -> URL); `reset(url)` empties a database first.

    `pause_autovacuum` only for a PostgreSQL cluster of the benchmark's own (`autovacuum_paused`).
    """
    every = scenarios()
    report: dict[str, Any] = {"steps_per_point": steps, "repeats": repeats, "background_cases": BACKGROUND_CASES,
                              "lengths": lengths, "scenarios": {}}
    for name in names:
        scenario = every[name]
        report["scenarios"][name] = {"title": scenario.name, "databases": {}}
        for db, url in urls.items():
            if reset is not None:
                reset(url)
            with autovacuum_paused(url) if pause_autovacuum else contextlib.nullcontext():
                measured = measure(url, scenario, lengths, steps, repeats)
            report["scenarios"][name]["databases"][db] = measured
            report["scenarios"][name]["stock"] = measured["stock"]
            print_table(f"{scenario.name} on {db}", measured)
    return report


def print_table(title: str, measured: dict[str, Any]) -> None:
    """Print one scenario's figures on one database."""
    stock = measured["stock"]
    print(f"\n{title} (stock SpiffWorkflow " + (f"stopped after {stock['reached']} steps)" if stock["stopped"]
                                                else f"ran all {stock['reached']} steps tried)"))
    print(f"{'history':>8} {'memory ms':>10} {'ours ms':>9} {'naive ms':>9} {'ours/mem':>9} {'ours/naive':>10}"
          f" {'depth':>6} {'rows':>5}")
    def cell(value: float | None, fmt: str, width: int) -> str:
        return format(value, fmt).rjust(width) if value is not None else "failed".rjust(width)

    for length, row in measured["results"].items():
        print(f"{length:>8} {cell(row['memory_ms'], '.3f', 10)} {cell(row['persisted_ms'], '.3f', 9)} "
              f"{cell(row['naive_ms'], '.3f', 9)} {cell(row.get('persisted_vs_memory'), '.0%', 9)} "
              f"{cell(row.get('persisted_vs_naive'), '.1f', 10)} {cell(row.get('persisted_depth'), 'd', 6)} "
              f"{cell(row.get('persisted_rows'), 'd', 5)}")
    for mode, failure in measured["failures"].items():
        print(f"  {mode} failed at step {failure['at_step']}: {failure['error']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--lengths", default=",".join(map(str, LENGTHS)))
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--scenarios", default="pbg,long")
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    parser.add_argument("--reset", action="store_true",
                        help="empty the --database-url database first (a second run on it fails otherwise)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{tmp}/bench.db"
        fresh = (cluster.reset if args.reset else None) if args.database_url \
            else (lambda u: Path(u.removeprefix("sqlite:///")).unlink(missing_ok=True))
        report = run({url.split(":", 1)[0]: url}, lengths=[int(x) for x in args.lengths.split(",")],
                     steps=args.steps, repeats=args.repeats, names=args.scenarios.split(","), reset=fresh)
    print(json.dumps(report, indent=1)[:2000])


if __name__ == "__main__":
    main()
