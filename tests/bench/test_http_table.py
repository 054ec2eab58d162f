"""The HTTP load section's arithmetic and rendering (bench/http_table.py), and how bench/http_load.py reads CPU."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import pytest

from bench import http_load, http_table, pbg_requests


def _point(clients: int, cases_per_s: float, p95_ms: float, *, errors: int = 0,
           cpu: dict[str, float] | None = None) -> dict[str, Any]:
    latencies = {http_table.COMPLETE: [p95_ms / 1000] * 20, "GET /api/tasks": [0.01] * 20}
    busy = http_table.Busy(seconds=10 / cases_per_s, requests=40, cases=10, latency_s=(p95_ms / 1000 + 0.01) * 20)
    point = http_table.summarise(latencies, {200: 40 - errors, 409: errors}, cases_done=10, failures=[],
                                 clients=clients, elapsed_s=12 / cases_per_s, busy=busy,
                                 server_cpu_s=cpu or {"api": 1.5}, client_cpu_s=0.2)
    return point | {"load": 1.0}


def test_a_point_counts_rates_over_the_busy_window_errors_cpu_and_littles_law() -> None:
    latencies = {http_table.COMPLETE: [0.010, 0.020, 0.030, 0.040], "POST /api/cases": [0.100, 0.100]}
    # Answered at t = 1..6 s; the first client ran out of cases at 5 s: the window holds the first five.
    ends = list(zip([101.0, 102.0, 103.0, 104.0, 105.0, 106.0], [0.1, 0.1, 0.01, 0.02, 0.03, 0.04], strict=True))
    busy = http_table.window(ends, [102.5, 105.0, 106.0], started=100.0, until=105.0)
    assert busy == http_table.Busy(seconds=5.0, requests=5, cases=2, latency_s=pytest.approx(0.26))
    point = http_table.summarise(latencies, {200: 5, 422: 1}, cases_done=3, failures=["RuntimeError: x"],
                                 clients=4, elapsed_s=6.0, busy=busy, server_cpu_s={"api": 0.3, "worker": 0.15},
                                 client_cpu_s=0.06, catch_up_s=4.0)
    assert point["requests"] == 6
    assert point["requests_per_s"] == 1.0  # 5 requests in the 5 s window
    assert point["cases_per_s"] == 0.4
    # To the last document: 3 cases over the 6 s of requests and the 4 s the worker still ran after them.
    assert (point["issued_per_s"], point["catch_up_s"]) == (0.3, 4.0)
    assert point["requests_per_case"] == 2.0
    assert point["complete"]["p50_ms"] == 30.0
    assert point["complete"]["p99_ms"] == 40.0
    assert point["mean_ms"] == pytest.approx(52.0, abs=0.01)  # 0.26 s over 5 requests
    assert point["little_mean_ms"] == 4000.0  # 4 clients / 1 request per second
    assert (point["errors"], point["failed_cases"]) == (1, 1)
    assert point["server_cpu_ms_per_case"] == 150.0
    assert point["cpu_ms_per_case"] == {"api": 100.0, "worker": 50.0}
    assert point["client_cpu_ms_per_case"] == 20.0


def _run() -> dict[str, Any]:
    setups = [{"database": "sqlite", "title": "sqlite, one", "job_worker": False,
               "points": [_point(1, 4, 20), _point(32, 60, 90)], "idle_cpu_ms_per_s": 3.5},
              {"database": "postgresql", "title": "postgresql, two", "job_worker": True,
               "points": [_point(32, 5, 900, errors=2, cpu={"api": 1.5, "worker": 1.0})]},
              {"database": "postgresql", "title": "postgresql, three", "job_worker": True, "points": [],
               "error": "ScaleError: boom"}]
    cost = {"sqlite": {"engine_cpu_ms": 50.0, "stock_spiff_cpu_ms": 10.0},
            "postgresql": {"engine_cpu_ms": 75.0, "stock_spiff_cpu_ms": 30.0}}
    return {"cases": 10, "clients": [1, 32], "cores": 2, "load_at_start": 1.0, "load_at_end": 2.0,
            "setups": setups, "cost": cost}


def test_verdicts_take_the_most_clients_and_the_cpu_ratios_per_database() -> None:
    found = {v["what"]: v for v in http_table.verdicts(_run())}
    assert found["sqlite, one, 32 clients: PBG cases/s over HTTP ≥ 50 (aim)"]["met"]
    assert found["sqlite, one, 32 clients: complete-task p95 ≤ 100 ms"]["met"]
    assert not found["postgresql, two, 32 clients: PBG cases/s over HTTP ≥ 50 (aim)"]["met"]
    assert not found["postgresql, two, 32 clients: complete-task p95 ≤ 100 ms"]["met"]
    assert not found["postgresql, two: no errors under load"]["met"]
    assert not found["postgresql, three: whole PBG cases over HTTP"]["met"]
    # sqlite: 150 ms at 1 client over HTTP / 50 ms engine = 3.0 (met); engine / stock = 5.0 (missed)
    assert found["sqlite: server CPU per PBG case over HTTP ≤ 3× the engine's in-process CPU"]["met"]
    assert not found["sqlite: engine's in-process CPU per PBG case ≤ 3× stock SpiffWorkflow"]["met"]
    # With its own job worker, the API processes' CPU alone: 150 ms / 75 ms (the worker's 100 ms issues documents)
    assert found["postgresql: server CPU per PBG case over HTTP ≤ 3× the engine's in-process CPU"]["measured"] == (
        "2.0× (150 ms / 75.0 ms)")
    assert found["postgresql: engine's in-process CPU per PBG case ≤ 3× stock SpiffWorkflow"]["measured"].startswith(
        "2.5×")


def test_the_cpu_table_shows_the_script_workers_share_where_it_was_measured() -> None:
    run = _run()
    run["cost"]["sqlite"] |= {"engine_script_workers_cpu_ms": 1.3, "stock_script_workers_cpu_ms": 0.85}
    rows = [line for line in http_table.render(run).splitlines() if line.startswith(("| sqlite | ", "| postgresql | "))]
    assert rows[0].startswith("| sqlite | 150 ms | 50.0 ms (workers 1.3 ms) | 10.0 ms (workers 0.8 ms) | 3.0× | 5.0× |")
    assert "workers" not in rows[1]  # a run that did not measure them says nothing of them


def test_a_ratio_just_over_three_is_missed_though_it_shows_as_three() -> None:
    run = _run()
    run["cost"]["sqlite"] = {"engine_cpu_ms": 14.68, "stock_spiff_cpu_ms": 4.89}  # 3.002
    found = {v["what"]: v for v in http_table.verdicts(run)}
    verdict = found["sqlite: engine's in-process CPU per PBG case ≤ 3× stock SpiffWorkflow"]
    assert verdict["measured"].startswith("3.0×")
    assert not verdict["met"]
    run["cost"]["sqlite"] = {"engine_cpu_ms": 14.67, "stock_spiff_cpu_ms": 4.89}  # 2.9998
    assert {v["what"]: v for v in http_table.verdicts(run)}[verdict["what"]]["met"]


def test_the_section_shows_each_point_littles_law_and_the_cpu_ratios() -> None:
    text = http_table.render(_run())
    assert text.startswith("## 3. Whole PBG cases over HTTP under load")
    row = next(line for line in text.splitlines() if line.startswith("| sqlite, one | 32 |"))
    assert "**60**" in row
    assert "**90.0 ms**" in row
    assert "| 240 |" in row  # 40 requests in 10 cases / 60 cases per second
    # Little's law: 32 clients / 240 requests per second = 133 ms; 240/s × 50 ms = 12 requests in flight
    assert "| 50.0 ms / 133 ms (12.0 of 32 in flight) |" in row
    assert "sqlite, one 3.5 ms/s." in text
    assert "**failed**: `ScaleError: boom`" in text
    assert "| 250 ms (API 150 ms + worker 100 ms) |" in text
    assert "| sqlite | 150 ms | 50.0 ms | 10.0 ms | 3.0× | 5.0× |" in text


def test_the_threads_table_sets_each_compared_setup_beside_its_default_at_the_same_clients() -> None:
    run = _run() | {"default_threads": 2}
    for setup in run["setups"]:
        setup["api_workers"] = 1 if setup["database"] == "sqlite" else 2
    run["compared"] = [{"database": "sqlite", "api_workers": 1, "job_worker": False, "threads": 40,
                        "title": "sqlite, one, `MPP_REQUEST_THREADS=40`",
                        "points": [_point(1, 3, 30), _point(32, 20, 700)]},
                       {"database": "postgresql", "api_workers": 2, "job_worker": True, "threads": 40,
                        "title": "postgresql, two, 40", "points": [], "error": "ScaleError: gone"}]
    text = http_table.render(run)
    rows = [line for line in text.splitlines() if line.startswith("| sqlite, one | ") and line.count("|") == 7]
    assert rows == ["| sqlite, one | 1 | 2 | **4** | 20.0 ms / **20.0 ms** | 150 ms |",
                    "| sqlite, one | 1 | 40 | **3** | 30.0 ms / **30.0 ms** | 150 ms |",
                    "| sqlite, one | 32 | 2 | **60** | 90.0 ms / **90.0 ms** | 150 ms |",
                    "| sqlite, one | 32 | 40 | **20** | 700 ms / **700 ms** | 150 ms |"]
    assert "postgresql, two, 40" not in text  # a compared set-up that failed has no rows
    assert http_table.threads(_run()) == []  # nothing compared: no table


def test_routes_are_named_without_their_ids() -> None:
    assert http_load.route_of("post", "/api/tasks/3f2a-19/complete") == "POST /api/tasks/{id}/complete"
    assert http_load.route_of("GET", "http://127.0.0.1:8000/api/cases/42") == "GET /api/cases/{id}"
    assert http_load.route_of("GET", "/api/tasks") == "GET /api/tasks"
    assert http_load.route_of("POST", "/api/files") == "POST /api/files"


def test_the_throughput_aim_is_judged_on_the_lower_rate_the_rate_to_the_last_document_included() -> None:
    run = _run()
    top = run["setups"][0]["points"][1]  # 60 cases/s while every client was busy
    top |= {"issued_per_s": 30.0, "catch_up_s": 5.0}  # but the worker issued the last document much later
    found = {v["what"]: v for v in http_table.verdicts(run)}
    verdict = found["sqlite, one, 32 clients: PBG cases/s over HTTP ≥ 50 (aim)"]
    assert not verdict["met"]
    assert verdict["measured"] == "60 cases/s (30 to the last document)"
    row = next(line for line in http_table.render(run).splitlines() if line.startswith("| sqlite, one | 32 |"))
    assert "| **60** | 30 (5 s) |" in row


def test_server_cpu_counts_children_that_ended_once_reaped() -> None:
    before = http_load.process_tree_cpu([os.getpid()]) - pbg_requests.cpu_seconds(os.getpid())
    burn = "import time\nstart = time.process_time()\nwhile time.process_time() - start < 0.2:\n    pass\n"
    subprocess.run([sys.executable, "-c", burn], check=True)  # noqa: S603 - ends, and is reaped by the wait
    after = http_load.process_tree_cpu([os.getpid()]) - pbg_requests.cpu_seconds(os.getpid())
    assert after - before >= 0.2


def test_server_cpu_counts_the_descendants_of_the_server_processes() -> None:
    burn = ("import time\nstart = time.process_time()\nwhile time.process_time() - start < 0.2:\n    pass\n"
            "print('burnt', flush=True)\ntime.sleep(30)\n")
    child = subprocess.Popen([sys.executable, "-c", burn], stdout=subprocess.PIPE, text=True)  # noqa: S603
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "burnt"
        own = pbg_requests.cpu_seconds(os.getpid())
        assert http_load.process_tree_cpu([os.getpid()]) - own >= 0.2
        assert http_load.process_tree_cpu([child.pid]) >= 0.2
    finally:
        child.kill()
        child.wait()


def test_the_report_lists_issue_18s_targets_and_a_failed_section_as_missed() -> None:
    from bench import report

    latency = {"inbox_page": {"p95_ms": 12.0}, "case_search_officer": {"p95_ms": 80.0}, "tracking": {"p95_ms": 2.0}}
    queries = {"sqlite": {"large": {"latency": latency, "counts": {"cases": 1_000_000}}}}
    found = {v["what"]: v for v in report.verdicts({"http": _run(), "queries": queries})}
    assert found["sqlite: officer's inbox page (50 rows + total) p95 ≤ 20 ms at 1,000,000 cases"]["met"]
    assert not found["sqlite: staff case search, officer, first page + total p95 ≤ 50 ms at 1,000,000 cases"]["met"]
    assert "sqlite, one, 32 clients: complete-task p95 ≤ 100 ms" in found
    failed = report.verdicts({"http": {"error": "ScaleError: no server"}})
    assert [v["met"] for v in failed] == [False]


def test_a_missed_throughput_is_explained_by_the_cpu_ceiling_of_the_machine() -> None:
    slow = {"title": "sqlite, one", "database": "sqlite", "points": [_point(1, 4.0, 20.0), _point(32, 5.0, 900.0)]}
    fast = {"title": "postgresql, two", "database": "postgresql", "points": [_point(32, 60.0, 50.0)]}
    notes = http_table.findings({"setups": [slow, fast, {"title": "gone", "error": "x"}]}, cores=2)
    assert len(notes) == 1  # the set-up that met the aim, and the one that did not run, need no explanation
    # 1.5 s of server CPU and 0.2 s of client CPU over 10 cases: 170 ms a case, 2,000 ms/s of CPU on 2 cores
    assert "sqlite, one: 5 PBG cases/s at 32 clients" in notes[0]
    assert "about 11.8 cases/s" in notes[0]
    # Over the whole point (10 cases in 2.4 s, the worker done with the last case): 4.17 cases/s, 35 % of 11.8
    assert "4.17 to the last document issued (the job worker still ran 0 s after the last case)" in notes[0]
    assert "the run reached 35 % of that over the whole point" in notes[0]
    assert "at most 40 ms of CPU per case" in notes[0]
    assert "SQLite's write lock" in notes[0]
    assert "database server" not in notes[0]
    slow_pg = {**slow, "title": "postgresql, one", "database": "postgresql"}
    slow_pg["points"] = [_point(32, 5.0, 900.0, cpu={"api": 1.0, "worker": 0.5})]
    (pg_note,) = http_table.findings({"setups": [slow_pg]}, cores=2)
    assert "150 ms of server CPU (50.0 ms of it the job worker's" in pg_note
    assert "the database server's own CPU" in pg_note
    assert "SQLite" not in pg_note
    # With the database server's CPU measured, the ceiling counts it and the waits are round trips.
    slow_pg["points"] = [_point(32, 5.0, 900.0, cpu={"api": 1.0, "worker": 0.5, "database": 0.5})]
    (counted,) = http_table.findings({"setups": [slow_pg]}, cores=2)
    assert ("200 ms of server CPU (50.0 ms of it the job worker's: the document rendered and recorded, the mail, "
            "the outside calls; 50.0 ms the database server's)") in counted
    assert "about 9.1 cases/s" in counted  # 2,000 ms/s over 200 + 20 ms a case
    assert "waiting: round trips to the database" in counted
    assert "not counted" not in counted
    row = http_table._cpu(slow_pg["points"][0])
    assert row == "200 ms (API 100 ms + worker 50.0 ms + database 50.0 ms)"
    assert http_table._cpu(_point(1, 5.0, 10.0)) == "150 ms"  # one API process: nothing to split


def test_the_database_server_is_found_where_it_runs_on_this_machine(tmp_path: Any) -> None:
    url = os.environ.get("MPP_TEST_POSTGRES_URL")
    assert http_load.database_server(f"sqlite:///{tmp_path}/a.db") == []  # in process: the API's own CPU
    if not url:
        pytest.skip("needs the test PostgreSQL cluster")
    (server,) = http_load.database_server(url)
    with open(f"/proc/{server}/cmdline", "rb") as cmdline:
        assert b"postgres" in cmdline.read()
    # A backend that ends hands its CPU to the server process: the server's tree is what the database did.
    before = http_load.process_tree_cpu([server])
    from sqlalchemy import text

    from engine.db import make_engine

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT count(*) FROM generate_series(1, 3000000)")).scalar_one()
    finally:
        engine.dispose()
    assert http_load.process_tree_cpu([server]) - before >= 0.05


def test_the_report_header_shows_the_cpu_yardstick_at_start_and_end_and_old_runs_without_it() -> None:
    from bench import report
    from bench.__main__ import yardstick_ms

    machine = {"cpu": "x", "cores": 2, "memory_gb": 1.0, "load_at_start": "0.1", "load_at_end": "0.2", "os": "l",
               "python": "3.11", "versions": {}, "commit": "abc"}
    run = {"command": "make bench", "date": "today", "total_s": 60, "machine": machine | {"yardstick_ms": [41.5, 60]}}
    assert "| 41.5 ms; 60 ms |" in report._header(run)
    assert "yardstick" not in report._header(run | {"machine": machine})  # a run from before it was measured
    assert yardstick_ms(repeats=1) > 0
