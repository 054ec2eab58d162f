"""SQLite lock benchmark (issue 18): readers and writers on one file, BEGIN IMMEDIATE against deferred.

Starts the same workload twice on a fresh SQLite file, through the engine's own functions, in
separate processes (as several `mpp serve` workers would be): writers complete tasks of a small
test service, readers read an inbox page and one task with its case (recording the personal-data
view, as the task page does; with `--no-views` the inbox page only, a pure read). In mode
`immediate` every transaction takes the write lock at BEGIN, as before issue 18; in mode
`deferred` (today's) reads take no lock, a writer takes it at its first write and a unit of work
that lost the race runs again (engine.db.run_in_transaction). Ops/s counts from the processes'
start, imports included: compare it between modes, not with other benchmarks.

Per mode and role it reports operations, latency (mean, p95), the CPU time per operation, and the
time spent waiting: at BEGIN (the lock wait of `immediate`; in `deferred` only the last attempts
and the short access-record writes wait there), in attempts that lost a race and ran again, and in
their backoff. The load average is printed beside.

    .venv/bin/python -m bench.sqlite_locks [--writers 2] [--readers 4] [--ops 40] [--attempts 2] [--no-views] [--json]
        [--write]   (also writes its section of bench/REPORT.md)
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import statistics
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pydantic import SecretStr
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from bench.report import write_section
from engine import db as db
from engine.context import AppContext, build_context
from engine.runtime import build_runtime
from engine.settings import Settings

MODES = ("immediate", "deferred")


@dataclass
class Tally:
    """What one process measured."""

    role: str
    ops: int = 0
    latencies: list[float] = field(default_factory=list)
    cpu_s: float = 0.0
    begin_wait_s: float = 0.0
    lost_attempts: int = 0
    lost_s: float = 0.0


def _settings(folder: Path) -> Settings:
    return Settings(database_url=f"sqlite:///{folder / 'locks.db'}", secret_key=SecretStr("bench-" + "k" * 40),
                    files_dir=folder / "files", outbox_dir=folder / "outbox")


def _prepare(folder: Path, cases: int) -> list[str]:
    """Deploy the test service, make the officer and the applicant, start the cases; return their task ids."""
    from tests.factories import Driver, deploy, make_user
    from tests.packages import simple_package

    ctx = build_context(_settings(folder))
    deploy(ctx, simple_package())
    make_user(ctx, "petugas", "dinas.petugas")
    applicant = make_user(ctx, "pemohon")
    driver = Driver(ctx)
    ids = [driver.task(driver.start("uji", {"harga": 10, "jumlah": n + 1}, applicant).id, "Task_periksa").id
           for n in range(cases)]
    ctx.engine.dispose()
    return ids


def _timed_begin(ctx: AppContext, tally: Tally) -> None:
    started: dict[int, float] = {}

    @event.listens_for(ctx.engine, "before_cursor_execute")
    def _before(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        if statement.startswith("BEGIN"):
            started[id(cursor)] = time.perf_counter()

    @event.listens_for(ctx.engine, "after_cursor_execute")
    def _after(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        if statement.startswith("BEGIN"):
            tally.begin_wait_s += time.perf_counter() - started.pop(id(cursor))


def _officer(ctx: AppContext) -> Any:
    from engine.directory.actors import actor_for
    from engine.models import User

    with ctx.sessions() as session:
        user = session.scalar(select(User).where(User.username == "petugas"))
        assert user is not None  # noqa: S101 - made by _prepare
        return actor_for(session, user)


def _unit(ctx: AppContext, tally: Tally, work: Any) -> None:
    """Run one unit of work as a request would: run again when the database asks, the lost attempts timed."""
    starts: list[float] = []

    def counted(session: Session) -> None:
        if starts:  # the attempt before lost a race: its time, rollback and backoff were wasted
            tally.lost_attempts += 1
            tally.lost_s += time.perf_counter() - starts[-1]
        starts.append(time.perf_counter())
        work(session)

    db.run_in_transaction(ctx.sessions, counted)


def _worker(folder: Path, mode: str, role: str, task_ids: list[str], stop: Any, out: Any, attempts: int,
            views: bool) -> None:
    db.ATTEMPTS = attempts
    settings = _settings(folder)
    engine = db.make_engine(settings.database_url, sqlite_begin=mode.upper())
    ctx = AppContext(settings, engine, db.make_sessionmaker(engine), build_runtime(settings))
    tally = Tally(role)
    _timed_begin(ctx, tally)
    officer = _officer(ctx)
    from engine.cases import tasks as tasks
    from engine.privacy import access as privacy

    def write(task_id: str) -> Any:
        return lambda s: tasks.complete_task(s, rt=ctx.rt, task_id=task_id, actor=officer, data={"catatan": "ok"})

    def read(session: Session) -> None:
        page, _total = tasks.list_tasks(session, actor=officer, limit=50)
        if page and views:
            detail = tasks.get_task(session, rt=ctx.rt, task_id=page[-1].id, actor=officer)
            privacy.record_view(session, actor=officer, case=detail.case, how=privacy.TASK,
                                client=privacy.Client("127.0.0.1", "bench"), task=detail.task)

    tally.begin_wait_s, cpu0 = 0.0, time.process_time()  # from here on: the workload, not the set-up
    todo = iter(task_ids)
    while True:
        task_id = next(todo, None) if role == "writer" else None
        if (role == "writer" and task_id is None) or (role == "reader" and stop.is_set()):
            break
        start = time.perf_counter()
        _unit(ctx, tally, write(task_id) if task_id is not None else read)
        tally.latencies.append(time.perf_counter() - start)
        tally.ops += 1
    tally.cpu_s = time.process_time() - cpu0
    ctx.engine.dispose()
    out.put(asdict(tally))


def run_mode(mode: str, *, writers: int, readers: int, ops: int, attempts: int, views: bool) -> dict[str, Any]:
    """Run the workload once in `mode`; return the measurements per role."""
    with tempfile.TemporaryDirectory(prefix="mpp-locks-") as tmp:
        folder = Path(tmp)
        task_ids = _prepare(folder, writers * ops)
        spawn = mp.get_context("spawn")
        stop, out = spawn.Event(), spawn.Queue()
        procs = [spawn.Process(target=_worker, args=(folder, mode, "writer", task_ids[n::writers], stop, out,
                                                           attempts, views))
                 for n in range(writers)]
        procs += [spawn.Process(target=_worker, args=(folder, mode, "reader", [], stop, out, attempts, views))
                  for _ in range(readers)]
        wall = time.perf_counter()
        for proc in procs:
            proc.start()
        results = [out.get() for _ in range(writers)]  # the writers finish first; then the readers stop
        wall = time.perf_counter() - wall
        stop.set()
        results += [out.get() for _ in range(readers)]
        for proc in procs:
            proc.join()
    return {"mode": mode, "wall_s": wall, "roles": {role: _summary([r for r in results if r["role"] == role])
                                                     for role in ("writer", "reader")}}


def _summary(tallies: list[dict[str, Any]]) -> dict[str, float]:
    latencies = sorted(x for t in tallies for x in t["latencies"])
    busy = sum(latencies) or 1.0
    ops = sum(t["ops"] for t in tallies) or 1
    return {"ops": sum(t["ops"] for t in tallies), "mean_ms": 1000 * statistics.fmean(latencies or [0.0]),
            "p95_ms": 1000 * (latencies[int(0.95 * (len(latencies) - 1))] if latencies else 0.0),
            "cpu_ms_per_op": 1000 * sum(t["cpu_s"] for t in tallies) / ops,
            "begin_wait_share": sum(t["begin_wait_s"] for t in tallies) / busy,
            "lost_attempts": sum(t["lost_attempts"] for t in tallies),
            "lost_share": sum(t["lost_s"] for t in tallies) / busy}


MARK_START, MARK_END = "<!-- sqlite-locks:start -->", "<!-- sqlite-locks:end -->"
REPORT = Path(__file__).resolve().parent / "REPORT.md"


def render(report: dict[str, Any], command: str) -> str:
    """Return the report's section: both modes side by side, per role."""
    before, after = report["load_before"], report["load_after"]
    lines = [MARK_START, "## SQLite: reads without the write lock", "",
             f"`{command}`: {report['writers']} writer processes completing {report['ops']} tasks each and "
             f"{report['readers']} reader processes (an inbox page, then a task with its case, recording the "
             "personal-data view) on one SQLite file, through the engine's own functions. *immediate*: every "
             "transaction takes the write lock at BEGIN (before issue 18); *deferred*: reads take no lock and a "
             "unit of work that lost the race runs again, at most "
             f"{report['attempts']} times. Load average {before[0]:.2f} at the start, {after[0]:.2f} at the end, "
             f"on {report['cpus']} cores.", "",
             "| mode | role | ops/s | mean | p95 | CPU per op | waiting at BEGIN | attempts lost | in lost attempts |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for run in report["runs"]:
        for role, s in run["roles"].items():
            lines.append(f"| {run['mode']} | {role} | {s['ops'] / run['wall_s']:.1f} | {s['mean_ms']:.1f} ms | "
                         f"{s['p95_ms']:.1f} ms | {s['cpu_ms_per_op']:.1f} ms | {s['begin_wait_share']:.0%} | "
                         f"{s['lost_attempts']} | {s['lost_share']:.0%} |")
    lines += ["", "Waiting at BEGIN and time in lost attempts are shares of the role's total request time.",
              MARK_END]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    """Run both modes and print a table (or JSON)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writers", type=int, default=2)
    parser.add_argument("--readers", type=int, default=4)
    parser.add_argument("--ops", type=int, default=40, help="tasks each writer completes")
    parser.add_argument("--attempts", type=int, default=db.ATTEMPTS, help="runs of a unit of work, the last locking")
    parser.add_argument("--no-views", action="store_true", help="readers read the inbox only, recording no view")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--write", action="store_true", help="update bench/REPORT.md's SQLite-locking section")
    args = parser.parse_args(argv)
    load_before = os.getloadavg()
    runs = [run_mode(mode, writers=args.writers, readers=args.readers, ops=args.ops, attempts=args.attempts,
                     views=not args.no_views)
            for mode in MODES]
    report = {"writers": args.writers, "readers": args.readers, "ops": args.ops, "attempts": args.attempts,
              "runs": runs, "load_before": load_before, "load_after": os.getloadavg(), "cpus": os.cpu_count()}
    if args.write:
        command = (f"python -m bench.sqlite_locks --writers {args.writers} --readers {args.readers} --ops {args.ops}"
                   + (" --no-views" if args.no_views else "") + " --write")
        write_section(REPORT, render(report, command), start=MARK_START, end=MARK_END)
    if args.json:
        print(json.dumps(report, indent=2))  # noqa: T201 - the benchmark's output
        return
    print(f"{args.writers} writers x {args.ops} completions, {args.readers} readers, {args.attempts} attempts; "  # noqa: T201
          f"load {load_before[0]:.2f} -> {report['load_after'][0]:.2f} on {os.cpu_count()} CPUs")
    print(f"{'mode':<10}{'role':<8}{'ops':>6}{'ops/s':>7}{'mean ms':>9}{'p95 ms':>9}{'CPU ms':>8}"  # noqa: T201
          f"{'BEGIN wait':>11}{'lost':>6}{'lost time':>10}")
    for run in runs:
        for role, s in run["roles"].items():
            print(f"{run['mode']:<10}{role:<8}{s['ops']:>6}{s['ops'] / run['wall_s']:>7.1f}"  # noqa: T201
                  f"{s['mean_ms']:>9.1f}{s['p95_ms']:>9.1f}{s['cpu_ms_per_op']:>8.1f}{s['begin_wait_share']:>10.0%}"
                  f" {s['lost_attempts']:>5}{s['lost_share']:>10.0%}")


if __name__ == "__main__":
    main()
