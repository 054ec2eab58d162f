"""At scale on PostgreSQL: 4 API processes, 2 workers, 32 concurrent officers, one crash of each kind.

The scenario lives in tests/production/scale.py (`run_scale`, reusable by bench/); this test
runs it and checks the outcome in the database and in what the clients saw. It checks no
timings: those are printed (run pytest with -s) and belong in benchmarks.

MPP_SCALE_CASES changes the number of cases. The default, 500, was measured on the 2-core
development machine: the whole test takes ~35 s when the machine is otherwise idle (~20 s of it
driving the cases, ~25 cases/s) and 55-70 s while another test suite runs beside it.
"""

from __future__ import annotations

import json
import math
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.production.scale import CONFLICT_TYPES, dump_logs, run_scale, summary

PG_URL = os.environ.get("MPP_TEST_POSTGRES_URL")
CASES = int(os.environ.get("MPP_SCALE_CASES", "500"))
CLIENTS = 32
RACE_EVERY = 4

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not PG_URL, reason="needs PostgreSQL: set MPP_TEST_POSTGRES_URL (`make test` starts a "
                                          "throwaway cluster; or tests/pg_cluster.sh start DIR PORT)"),
]


def test_cases_complete_exactly_once_across_processes_and_crashes(tmp_path: Path) -> None:
    assert PG_URL is not None
    report: dict[str, Any] = {}
    try:
        report = run_scale(PG_URL, cases=CASES, clients=CLIENTS, kill=True, workdir=tmp_path,
                           race_every=RACE_EVERY)
        sys.stdout.write("\n" + summary(report) + "\nlatency: " + json.dumps(report["latency"]) + "\n")
        db, seen, races, kills = report["db"], report["clients_saw"], report["races"], report["kills"]

        # The crashes happened, and everyone else carried on.
        assert kills["api"] == 1
        assert kills["worker"] == 1
        assert report["survivors_alive"], "a process that was not killed died"

        # No answer was a server error; nothing unexpected was refused.
        assert seen["n_server_errors"] == 0, seen["server_errors"]
        assert not [s for s in seen["statuses"] if int(s.rsplit(" ", 1)[1]) >= 500]
        assert seen["unexpected"] == []

        # Every race of two officers on one task: exactly one success and one conflict.
        assert races["clean"] + races["disturbed_by_kill"] == math.ceil(CASES / RACE_EVERY)
        assert races["clean"] > 0
        assert races["bad"] == []
        assert races["200"] == races["clean"]
        assert races["409"] == races["clean"]
        assert set(races["409_types"]) <= set(CONFLICT_TYPES)

        # Every case was created once, known to its client (none lost with the killed process), and finished.
        assert db["cases_in_db"] == CASES
        assert db["unknown_to_clients"] == []
        assert db["known_but_missing"] == []
        assert db["case_status"] == {"completed": CASES}
        assert report["unsettled_after_wait"] == {"cases": 0, "timer_jobs": 0}

        # Each history: started, one completion per user task, the timer once where there is one, completed.
        assert db["history_mismatches"] == 0, db["history_mismatch_examples"]
        assert db["task_completed_twice"] == 0
        assert db["timer_fired_per_wait_case"] == {1: CASES // 2}
        assert report["history_sample_problems"] == []  # the same, read through the API as the admin

        # Nothing left open: no task rows, no job pending, running or failed, no incident.
        assert db["open_tasks"] == 0
        assert db["jobs_not_settled"] == 0, db["jobs"]
        assert db["jobs"].get("timer:done") == CASES // 2
        assert db["jobs_with_errors"] == []
        assert db["incidents"] == 0
        assert report["worker_log_failures"] == 0
        # The jobs the killed worker held were taken over after their lease, and ran once.
        assert db["timer_jobs_retaken"] >= kills.get("worker_jobs_orphaned", 0)
    except BaseException:
        sys.stdout.write("\n" + json.dumps(report, indent=1, default=str) + "\n" + dump_logs(tmp_path) + "\n")
        raise
