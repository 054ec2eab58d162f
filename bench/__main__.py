"""Run every benchmark and write bench/REPORT.md and bench/results/<date>.json: `python -m bench`.

Starts its own throwaway PostgreSQL cluster (tests/pg_cluster.sh) and SQLite files, and removes
them at the end. Sections: engine steps (SQLite and PostgreSQL), the cost of running package code
in worker processes (engine.isolation, SQLite), requests and server CPU per PBG case over HTTP
(bench/pbg_requests.py, SQLite), whole PBG cases over HTTP under load at 1, 8 and 32 clients
on SQLite and PostgreSQL with the engine's and stock SpiffWorkflow's CPU per case beside them
(bench/http_load.py; `--sections http` runs just that), queries at scale with growth (a tenth of
the cases first, then all of them, on both databases).
Default sizes fit in 20 minutes on a 2-core machine; larger ones by flags, e.g.
`python -m bench --cases 5000000 --open-tasks 500000`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from bench import cluster, encryption_bench, engine_bench, isolation_bench, lint_bench, pbg_requests, report
from bench import http_load as http_bench
from bench import queries as query_bench
from bench import seed as seeding

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
INDEXES_0008 = {"ix_case_record_filed_by_applicant": "case_record (filed_by_id, applicant_id)",
                "ix_case_event_actor_case": "case_event (actor, case_id)"}
SLOW_WITHOUT_0008 = ("inbox_page", "case_search_officer")


def _args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sections", default="engine,isolation,encryption,requests,http,queries,lint",
                        help="any of engine, isolation, encryption, requests, http, queries, lint")
    parser.add_argument("--cases", type=int, default=1_000_000, help="cases to seed (a tenth first, for growth)")
    parser.add_argument("--open-tasks", type=int, default=100_000)
    parser.add_argument("--query-samples", type=int, default=100)
    parser.add_argument("--engine-lengths", default="5,50,200,1000")
    parser.add_argument("--engine-steps", type=int, default=10)
    parser.add_argument("--engine-repeats", type=int, default=3)
    parser.add_argument("--isolation-cases", type=int, default=20, help="PBG cases per mode and repeat")
    parser.add_argument("--requests-cases", type=int, default=10, help="PBG cases per way, requests per case")
    parser.add_argument("--http-cases", type=int, default=50, help="whole PBG cases per set-up and client count")
    parser.add_argument("--http-clients", default="1,8,32", help="concurrent clients, one point each")
    parser.add_argument("--http-cost-cases", type=int, default=20,
                        help="PBG cases for the engine's and stock SpiffWorkflow's CPU per case")
    parser.add_argument("--pg-port", type=int, default=55452)
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--report", type=Path, default=ROOT / "bench" / "REPORT.md")
    parser.add_argument("--noise", default="", help="a note on the machine's load, printed in the report")
    return parser.parse_args(argv)


def machine() -> dict[str, Any]:
    """Describe the machine and the versions that shape the figures."""
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() else "?"
    memory = (os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")) / 2**30
    versions = {name: _version(name) for name in ("SpiffWorkflow", "SQLAlchemy", "psycopg", "fastapi", "uvicorn")}
    import sqlite3

    versions["SQLite"] = sqlite3.sqlite_version
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                            check=False).stdout.strip() or "?"
    dirty = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True,
                           check=False).stdout.strip()
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gb": memory, "os": platform.platform(),
            "python": platform.python_version(), "versions": versions,
            "load_at_start": " / ".join(f"{x:.2f}" for x in os.getloadavg()), "yardstick_ms": [yardstick_ms()],
            "commit": commit + (" with uncommitted changes" if dirty else "")}


def yardstick_ms(repeats: int = 5) -> float:
    """Time a fixed pure-Python workload (best of `repeats`, CPU ms): the same on every run, so a machine slower
    than usual (another guest on the host) shows here, apart from any change to the code the figures measure."""
    best = float("inf")
    for _ in range(repeats):
        started = time.process_time()
        table = {n: str(n) for n in range(200_000)}
        sum(len(text) for text in table.values() if text.endswith("7"))
        best = min(best, time.process_time() - started)
    return round(best * 1000, 1)


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "?"


def _context(url: str) -> Any:
    from engine.context import build_context
    from engine.settings import Settings

    return build_context(Settings(database_url=url, secret_key="bench-" + "k" * 40))  # type: ignore[arg-type]


def queries_on(url: str, args: argparse.Namespace) -> dict[str, Any]:
    """Seed a tenth, measure, seed the rest, measure, then measure the slow queries without 0008's indexes."""
    cluster.reset(url)
    ctx = _context(url)
    try:
        catalogue = seeding.prepare(ctx)
        out: dict[str, Any] = {"services": len(catalogue.services), "samples": args.query_samples}
        small_cases, small_tasks = args.cases // 10, args.open_tasks // 10
        for size, cases, tasks in (("small", small_cases, small_tasks),
                                   ("large", args.cases - small_cases, args.open_tasks - small_tasks)):
            seeded = seeding.seed(ctx, catalogue, cases=cases, open_tasks=tasks)
            out[size] = {"seed": seeded.__dict__ | {"us_per_case": seeded.us_per_case},
                         "counts": seeding.counts(ctx),
                         "latency": query_bench.run(ctx, catalogue, samples=args.query_samples)}
            print(f"  {size}: {out[size]['counts']} seeded in {seeded.seconds:.0f} s", flush=True)
        with ctx.engine.begin() as conn:
            for name in INDEXES_0008:
                conn.exec_driver_sql(f"DROP INDEX {name}")
        slow = query_bench.run(ctx, catalogue, samples=max(10, args.query_samples // 10))
        out["without_0008"] = {name: slow[name] for name in SLOW_WITHOUT_0008}
        return out
    finally:
        ctx.engine.dispose()


def main(argv: list[str] | None = None) -> int:
    """Run the selected sections, write the JSON and the report; return 0."""
    args = _args(argv)
    began = time.perf_counter()
    sections = set(args.sections.split(","))
    run: dict[str, Any] = {"date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M"), "machine": machine(),
                           "command": "make bench" if os.environ.get("MPP_BENCH_VIA_MAKE") else
                           "python -m bench " + " ".join(sys.argv[1:] if argv is None else argv),
                           "noise": args.noise, "timings_s": {}}
    print(f"load average at start: {run['machine']['load_at_start']}", flush=True)
    with tempfile.TemporaryDirectory(prefix="mpp-bench-") as tmp, cluster.postgres(args.pg_port) as pg_url:
        found = {"sqlite": f"sqlite:///{tmp}/bench.db", "postgresql": pg_url}
        urls = {db: url for db, url in found.items() if url and db in args.databases.split(",")}
        if pg_url is None:
            run["noise"] = (run["noise"] + " PostgreSQL could not be started: its figures are missing.").strip()
        if "lint" in sections:
            mark = time.perf_counter()
            run["lint"] = lint_bench.run()
            run["timings_s"]["lint"] = round(time.perf_counter() - mark)
        if "engine" in sections:
            mark = time.perf_counter()
            run["engine"] = engine_bench.run(urls, lengths=[int(x) for x in args.engine_lengths.split(",")],
                                             steps=args.engine_steps, repeats=args.engine_repeats,
                                             names=list(engine_bench.scenarios()), reset=cluster.reset,
                                             pause_autovacuum=True)  # the cluster is this run's own
            run["timings_s"]["engine"] = round(time.perf_counter() - mark)
        if "isolation" in sections:
            mark = time.perf_counter()
            print("\nisolation: PBG cases with and without worker processes ...", flush=True)
            run["isolation"] = isolation_bench.run(cases=args.isolation_cases, repeats=3)
            run["timings_s"]["isolation"] = round(time.perf_counter() - mark)
        if "encryption" in sections:
            mark = time.perf_counter()
            print("\nencryption at rest: PBG cases with sealing on and off ...", flush=True)
            run["encryption"] = encryption_bench.run(cases=10, repeats=5, pg_url=pg_url)
            run["timings_s"]["encryption"] = round(time.perf_counter() - mark)
        if "requests" in sections:
            mark = time.perf_counter()
            print("\nrequests per PBG case over HTTP ...", flush=True)
            try:
                run["requests"] = pbg_requests.run(cases=args.requests_cases, workdir=Path(tmp) / "requests")
            except Exception as exc:  # report what stopped it rather than lose the other sections
                run["requests"] = {"error": f"{type(exc).__name__}: {exc}"[:2000]}
            run["timings_s"]["requests"] = round(time.perf_counter() - mark)
        if "http" in sections:
            mark = time.perf_counter()
            print("\nwhole PBG cases over HTTP under load ...", flush=True)
            try:
                run["http"] = http_bench.run(urls, cases=args.http_cases, workdir=Path(tmp) / "http",
                                             clients=tuple(int(n) for n in args.http_clients.split(",")),
                                             cost_cases=args.http_cost_cases)
            except Exception as exc:  # report what stopped it rather than lose the other sections
                run["http"] = {"error": f"{type(exc).__name__}: {exc}"[:2000]}
            run["timings_s"]["http"] = round(time.perf_counter() - mark)
        if "queries" in sections:
            run["queries"] = {}
            for db, url in urls.items():
                mark = time.perf_counter()
                print(f"\nqueries on {db} ...", flush=True)
                run["queries"][db] = queries_on(url, args)
                for name, q in run["queries"][db]["large"]["latency"].items():
                    print(f"  {name:<22} " + "  ".join(f"{p} {q.get(p + '_ms')}" for p in ("p50", "p95", "p99"))
                          + (" TIMED OUT" if q.get("timed_out") else ""), flush=True)
                run["timings_s"][f"queries_{db}"] = round(time.perf_counter() - mark)
    run["total_s"] = round(time.perf_counter() - began)
    run["machine"]["load_at_end"] = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    run["machine"]["yardstick_ms"].append(yardstick_ms())
    start_load = float(run["machine"]["load_at_start"].split(" / ")[0])
    if start_load > 0.5 * (os.cpu_count() or 1):
        run["noise"] = (f"the machine was busy with other work (load average {start_load:.1f} at the start, "
                        f"{run['machine']['load_at_end']} at the end, on {os.cpu_count()} cores): the figures are "
                        "noisy and slower than on an idle machine. " + run["noise"]).strip()
    run["targets"] = report.verdicts(run)
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    (RESULTS / f"{stamp}.json").write_text(json.dumps(run, indent=1, default=str))
    args.report.write_text(report.render(run))
    print(f"\nwrote {args.report} and {RESULTS / f'{stamp}.json'} in {run['total_s'] / 60:.1f} min")
    for verdict in run["targets"]:
        print(f"  {'met   ' if verdict['met'] else 'MISSED'} {verdict['what']}: {verdict['measured']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
