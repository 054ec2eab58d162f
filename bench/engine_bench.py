"""Engine benchmark: in-memory SpiffWorkflow vs our persisted steps vs a naive full-dump baseline.

For one diagram (a user task in a loop behind a gateway, so a case's history can grow to any
length) it measures, at several history lengths, the cost of one more step:
- in-memory: `task.run()` + `do_engine_steps()` on a live workflow (the engine's own limit);
- persisted: `complete_task` through the engine in its own committed transaction (authorization,
  form validation, hot-cache load, step, incremental write of changed rows, read models, history);
- naive: the in-memory step, then the whole workflow serialized with its spec and written to one
  row, committed (what a straightforward integration does).
Prints a table and writes bench/results/engine.json. Not a test: it reports, it asserts nothing.

    .venv/bin/python bench/engine_bench.py [--lengths 5,200] [--steps 20] [--repeats 5] [--database-url URL]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer  # noqa: E402
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow  # noqa: E402
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG  # noqa: E402
from SpiffWorkflow.util.task import TaskState  # noqa: E402
from sqlalchemy import select, text  # noqa: E402

from api.context import build_context  # noqa: E402
from engine import directory, registry  # noqa: E402
from engine.actors import actor_for  # noqa: E402
from engine.cases import start_case  # noqa: E402
from engine.db import transaction  # noqa: E402
from engine.models import OpenTask  # noqa: E402
from engine.settings import Settings  # noqa: E402
from engine.tasks import complete_task  # noqa: E402
from tests.packages import simple_package  # noqa: E402


@dataclass(frozen=True)
class Scenario:
    """A diagram whose cases can be driven for any number of steps."""

    name: str
    package: Any
    key: str
    start: dict[str, Any]
    answers: dict[str, dict[str, Any]]
    roles: tuple[tuple[str, str | None], ...]

    def data_for(self, element_id: str) -> dict[str, Any]:
        return self.answers[element_id]


def _scenarios() -> dict[str, Scenario]:
    from engine.package import from_path
    from tests.factories import PBG, pbg_application

    drawings = {"gambar_arsitektur": "a", "gambar_struktur": "s", "gambar_mep": "m",
                "nama_penanggung_jawab": "X", "nomor_sertifikat_keahlian": "1"}
    return {
        "loop": Scenario("loop: one user task behind a gateway", simple_package("bench", shape="loop"), "bench",
                         {"harga": 1, "jumlah": 1}, {"Task_periksa": {"catatan": "lanjut"}},
                         (("dinas.petugas", None),)),
        # PBG with expert-panel revision rounds: a boundary timer, DMN-free loop of two roles.
        "pbg": Scenario("pbg: PBG, expert-panel revision rounds", from_path(PBG), "pbg", pbg_application(),
                        {"Task_kelengkapan": {"kelengkapan": "lengkap"}, "Task_gambar_teknis": drawings,
                         "Task_tpa": {"hasil_tpa": "revisi", "catatan_tpa": "perbaiki"},
                         "Task_revisi": {"catatan_revisi": "diperbaiki"}},
                        (("dpmptsp.front_office", None), ("pupr.tpa", None),
                         ("konsultan.perencana", "konsultan_griya"))),
    }


def _setup(url: str, scenario: Scenario) -> Any:
    ctx = build_context(Settings(database_url=url))
    with transaction(ctx.sessions) as session:
        registry.deploy(session, package=scenario.package, actor="bench")
        directory.ensure_agency(session, code="konsultan_griya", kind="private", parent_code="konsultan")
        user = directory.create_user(session, username="bench", platform_role="officer")
        for role, org in scenario.roles:
            directory.grant(session, user=user, role_key=role, organisation_code=org)
    with ctx.sessions() as session:
        actor = actor_for(session, directory.get_user(session, "bench"))
    return ctx, actor


def _new_case(ctx: Any, actor: Any, scenario: Scenario) -> int:
    with transaction(ctx.sessions) as session:
        return start_case(session, rt=ctx.rt, process_key=scenario.key, data=scenario.start,
                          channel="tatap_muka", actor=actor).id


def _open_task(ctx: Any, case_id: int) -> tuple[str, str]:
    with ctx.sessions() as session:
        row = session.execute(select(OpenTask.id, OpenTask.element_id).where(OpenTask.case_id == case_id)
                              .order_by(OpenTask.created_at).limit(1)).one()
        return str(row.id), str(row.element_id)


def _persisted_step(ctx: Any, actor: Any, case_id: int, scenario: Scenario) -> float:
    task_id, element_id = _open_task(ctx, case_id)
    data = scenario.data_for(element_id)
    start = time.perf_counter()
    with transaction(ctx.sessions) as session:
        complete_task(session, rt=ctx.rt, task_id=task_id, actor=actor, data=data)
    return time.perf_counter() - start


def _memory_workflow(ctx: Any, scenario: Scenario) -> Any:
    """A stock SpiffWorkflow BpmnWorkflow on the same spec and sandboxed script engine."""
    with ctx.sessions() as session:
        compiled = ctx.rt.specs.latest(session, scenario.key)[1]
    wf = BpmnWorkflow(compiled.spec, compiled.subprocess_specs, script_engine=ctx.rt.runner.script_engine)
    wf.get_tasks(state=TaskState.READY)[0].data.update({**scenario.start, "channel": "tatap_muka"})
    wf.do_engine_steps()
    return wf


def _run_memory_task(wf: Any, scenario: Scenario) -> None:
    task = wf.get_tasks(state=TaskState.READY, manual=True)[0]
    task.data.update(scenario.data_for(task.task_spec.name))
    task.run()
    wf.do_engine_steps()


def _memory_step(wf: Any, scenario: Scenario) -> float:
    start = time.perf_counter()
    _run_memory_task(wf, scenario)
    return time.perf_counter() - start


def _naive_step(wf: Any, scenario: Scenario, serializer: Any, conn: Any) -> float:
    start = time.perf_counter()
    _run_memory_task(wf, scenario)
    blob = serializer.serialize_json(wf)
    conn.execute(text("UPDATE naive SET state = :s WHERE id = 1"), {"s": blob})
    conn.commit()
    return time.perf_counter() - start


def measure(url: str, scenario: Scenario, lengths: list[int], steps: int, repeats: int) -> dict[str, Any]:
    """Measure per-step cost at each history length; medians over repeats."""
    ctx, actor = _setup(url, scenario)
    serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
    with ctx.engine.connect() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS naive (id INTEGER PRIMARY KEY, state TEXT)"))
        conn.execute(text("INSERT INTO naive (id, state) VALUES (1, '')"))
        conn.commit()
    results: dict[str, Any] = {}
    for length in lengths:
        mem, ours, naive = [], [], []
        for _ in range(repeats):
            wf = _memory_workflow(ctx, scenario)
            for _ in range(length):
                _run_memory_task(wf, scenario)
            mem.append(statistics.median(_memory_step(wf, scenario) for _ in range(steps)))
            wf = _memory_workflow(ctx, scenario)
            for _ in range(length):
                _run_memory_task(wf, scenario)
            with ctx.engine.connect() as conn:
                naive.append(statistics.median(_naive_step(wf, scenario, serializer, conn) for _ in range(steps)))
            case_id = _new_case(ctx, actor, scenario)
            for _ in range(length):
                _persisted_step(ctx, actor, case_id, scenario)
            ours.append(statistics.median(_persisted_step(ctx, actor, case_id, scenario) for _ in range(steps)))
        row = {"memory_ms": statistics.median(mem) * 1000, "persisted_ms": statistics.median(ours) * 1000,
               "naive_ms": statistics.median(naive) * 1000}
        row["memory_steps_per_s"] = 1000 / row["memory_ms"]
        row["persisted_steps_per_s"] = 1000 / row["persisted_ms"]
        row["naive_steps_per_s"] = 1000 / row["naive_ms"]
        row["persisted_vs_memory"] = row["memory_ms"] / row["persisted_ms"]
        row["persisted_vs_naive"] = row["naive_ms"] / row["persisted_ms"]
        results[str(length)] = row
    ctx.engine.dispose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--lengths", default="5,200")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--scenarios", default="loop,pbg")
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file per scenario")
    args = parser.parse_args()
    lengths = [int(x) for x in args.lengths.split(",")]
    scenarios = _scenarios()
    report: dict[str, Any] = {"date": datetime.now(UTC).isoformat(timespec="seconds"),
                              "python": platform.python_version(), "machine": platform.machine(),
                              "cpus": os.cpu_count(), "steps_per_point": args.steps, "repeats": args.repeats,
                              "scenarios": {}}
    for name in args.scenarios.split(","):
        scenario = scenarios[name]
        with tempfile.TemporaryDirectory() as tmp:
            url = args.database_url or f"sqlite:///{tmp}/bench.db"
            results = measure(url, scenario, lengths, args.steps, args.repeats)
        report["scenarios"][name] = {"title": scenario.name, "database": url.split(":", 1)[0], "results": results}
        _print(scenario.name, results)
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "engine.json").write_text(json.dumps(report, indent=2))


def _print(title: str, results: dict[str, Any]) -> None:
    print(f"\n{title}")
    print(f"{'history':>8} {'memory ms':>10} {'ours ms':>9} {'naive ms':>9} {'mem/s':>8} {'ours/s':>8} "
          f"{'naive/s':>8} {'ours/mem':>9} {'ours/naive':>10}")
    for length, row in results.items():
        print(f"{length:>8} {row['memory_ms']:>10.3f} {row['persisted_ms']:>9.3f} {row['naive_ms']:>9.3f} "
              f"{row['memory_steps_per_s']:>8.0f} {row['persisted_steps_per_s']:>8.0f} "
              f"{row['naive_steps_per_s']:>8.0f} {row['persisted_vs_memory']:>9.0%} {row['persisted_vs_naive']:>9.1f}x")


if __name__ == "__main__":
    main()
