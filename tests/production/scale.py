"""Scale harness: many cases through several API and worker processes on PostgreSQL, with crashes.

`run_scale(url, cases, clients, kill)` does the whole run and returns a report (counts, timings):

1. resets the database at `url` (DROP SCHEMA public CASCADE: it destroys everything there),
   runs `mpp migrate`, `mpp create-admin`, deploys two small packages with `mpp deploy`
   (a two-task loop, and a task followed by a two-second timer), and creates officers through
   the admin API;
2. starts 4 API processes (`mpp serve --no-embedded-worker`, one port each) and 2 `mpp worker`
   processes, with MPP_WORKER_POLL_S=0.2 and MPP_JOB_LEASE_S=5;
3. drives the cases with concurrent clients (asyncio + httpx), each acting as an officer who
   files a walk-in case and completes its tasks through the inbox; every `race_every`-th case
   has its first task completed by two officers at once, on two API processes;
4. when `kill` is set, kills -9 one API process and one worker part-way through; clients fall
   over to the other API processes and, when a request may have reached the killed process,
   re-read the task or case to learn whether it committed before doing anything again;
5. waits for the workers to fire every timer (the killed worker's jobs come back after the
   lease) and reads the outcome from the database.

The report holds facts, not verdicts: tests/production/test_scale.py asserts on them, and
bench/ may reuse the timings. Command line:

    python -m tests.production.scale --url postgresql+psycopg://... --cases 500 --clients 32
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import contextlib
import ctypes
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine, func, select, text

from engine.db import make_engine
from engine.models import Case, CaseEvent, Incident, Job, OpenTask
from tests.packages import simple_package

ROOT = Path(__file__).resolve().parents[2]
MPP = [sys.executable, "-m", "api.cli"]
PASSWORD = "skala-rahasia-2026"
ADMIN = "admin_skala"
ROLE = "dinas.petugas"  # the lane role of tests.packages.simple_package
FRONT_OFFICE = "dinas.front_office"  # lets an officer file walk-in cases
LOOP, WAIT = "skala_ulang", "skala_tunggu"
# The case histories a finished case must have, as (action, who) pairs: "user" is an officer.
# Completing over the API claims an unclaimed task first, in the same transaction (docs/api.md).
EXPECTED_HISTORY = {
    LOOP: [("started", "user"), ("claimed", "task"), ("completed", "task"), ("claimed", "task"), ("completed", "task"),
           ("completed", "system")],
    WAIT: [("started", "user"), ("claimed", "task"), ("completed", "task"), ("timer_fired", "system"),
           ("completed", "system")],
}
CONFLICT_TYPES = ("/api/problems/task-already-completed", "/api/problems/conflict")
RECHECK_DELAY_S = 1.0  # after a request died with its process: let the database finish that backend


class Ambiguous(Exception):
    """A request may have reached the server before the connection broke: its effect is unknown."""


class ScaleError(Exception):
    """The run could not go on (a process did not start, a case lost its task, ...)."""


class PortTaken(ScaleError):
    """An API process could not bind its port: something else took it after we chose it."""

    def __init__(self, proc: Proc) -> None:
        super().__init__(f"{proc.name}: port taken")
        self.proc = proc


# --------------------------------------------------------------------------- processes


def free_port() -> int:
    """Return a TCP port free on the loopback interface now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Ask Linux to kill the child when the harness dies, so no server outlives a crashed run."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


@dataclass
class Proc:
    """One subprocess with its role, log file and, for API processes, its base URL."""

    name: str
    popen: subprocess.Popen[bytes]
    log: Path
    base: str | None = None
    killed: bool = False

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None


@dataclass
class Processes:
    """The API and worker processes of a run; `stop_all` ends every one of them (and only them)."""

    workdir: Path
    env: dict[str, str]
    procs: list[Proc] = field(default_factory=list)

    def start(self, name: str, *args: str, base: str | None = None) -> Proc:
        log = self.workdir / f"{name}.log"
        with log.open("wb") as out:
            popen = subprocess.Popen([*MPP, *args], cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL,
                                     preexec_fn=_die_with_parent if sys.platform == "linux" else None)
        proc = Proc(name, popen, log, base)
        self.procs.append(proc)
        return proc

    def kill(self, proc: Proc) -> None:
        """kill -9 one process, as a crash would."""
        os.kill(proc.pid, signal.SIGKILL)
        proc.killed = True
        proc.popen.wait(timeout=10)

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.alive():
                with contextlib.suppress(ProcessLookupError):
                    proc.popen.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 10
        for proc in self.procs:
            try:
                proc.popen.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.popen.kill()
                proc.popen.wait(timeout=10)


def run_cli(env: dict[str, str], workdir: Path, *args: str) -> str:
    """Run one `mpp` command to completion; raise with its output when it fails."""
    result = subprocess.run([*MPP, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
                            check=False)
    (workdir / "cli.log").open("a").write(f"$ mpp {' '.join(args)}\n{result.stdout}{result.stderr}\n")
    if result.returncode != 0:
        raise ScaleError(f"mpp {' '.join(args)} failed ({result.returncode}):\n{result.stdout}{result.stderr}")
    return result.stdout


def wait_ready(procs: list[Proc], *, what: str, timeout_s: float = 60) -> None:
    """Wait until every API process answers /readyz and every worker has said it runs."""
    deadline = time.monotonic() + timeout_s
    pending = list(procs)
    while pending:
        for proc in list(pending):
            if not proc.alive():
                if proc.base is not None and "address already in use" in proc.log.read_text(errors="replace"):
                    raise PortTaken(proc)
                raise ScaleError(f"{proc.name} exited with {proc.popen.returncode} while starting:\n"
                                 f"{tail(proc.log)}")
            if proc.base is not None:
                with contextlib.suppress(httpx.HTTPError):
                    if httpx.get(f"{proc.base}/readyz", timeout=2).status_code == 200:
                        pending.remove(proc)
            elif "worker running" in proc.log.read_text(errors="replace"):
                pending.remove(proc)
        if pending and time.monotonic() > deadline:
            raise ScaleError(f"{what} not ready after {timeout_s} s: {[p.name for p in pending]}")
        time.sleep(0.1)


def tail(path: Path, lines: int = 60) -> str:
    """Return the last lines of a log file."""
    if not path.exists():
        return "(no log)"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def dump_logs(workdir: Path, lines: int = 60) -> str:
    """Return the tail of every log of a run, for a failure report."""
    return "\n".join(f"----- {log.name} -----\n{tail(log, lines)}" for log in sorted(Path(workdir).glob("*.log")))


# --------------------------------------------------------------------------- database


def reset_schema(url: str) -> None:
    """Drop everything in the database's public schema."""
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    finally:
        engine.dispose()


def jobs_held_by(engine: Engine, pid: int) -> int:
    """Count the jobs a worker process holds (status running, locked by it)."""
    with engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(Job).where(
            Job.status == "running", Job.locked_by.like(f"%:{pid}"))) or 0)


def job_holders(engine: Engine) -> set[int]:
    """Return the process ids of the workers holding running jobs now."""
    with engine.connect() as conn:
        names = conn.scalars(select(Job.locked_by).where(Job.status == "running", Job.locked_by.is_not(None)))
        return {int(name.rsplit(":", 1)[1]) for name in names if name and name.rsplit(":", 1)[1].isdigit()}


def unsettled(engine: Engine) -> tuple[int, int]:
    """Return how many cases are not completed and how many timer jobs are not done."""
    with engine.connect() as conn:
        cases = conn.scalar(select(func.count()).select_from(Case).where(Case.status != "completed")) or 0
        timers = conn.scalar(select(func.count()).select_from(Job).where(
            Job.kind == "timer", Job.status.in_(("pending", "running")))) or 0
    return int(cases), int(timers)


def check_database(engine: Engine, known: dict[int, str]) -> dict[str, Any]:
    """Read the outcome of the run from the database: statuses, histories, open tasks, jobs."""
    out: dict[str, Any] = {}
    with engine.connect() as conn:
        cases = {row.id: row for row in conn.execute(select(Case.id, Case.process_key, Case.status))}
        out["cases_in_db"] = len(cases)
        out["case_status"] = dict(Counter(row.status for row in cases.values()))
        out["cases_by_process"] = dict(Counter(row.process_key for row in cases.values()))
        out["unknown_to_clients"] = sorted(set(cases) - set(known))[:20]  # created but lost by every client
        out["known_but_missing"] = sorted(set(known) - set(cases))[:20]
        histories: dict[int, list[Any]] = defaultdict(list)
        for event in conn.execute(select(CaseEvent.case_id, CaseEvent.action, CaseEvent.actor, CaseEvent.task_id)
                                  .order_by(CaseEvent.case_id, CaseEvent.id)):
            histories[event.case_id].append(event)
        bad: list[str] = []
        completed_twice = 0
        action_counts: Counter[str] = Counter()
        for case_id, row in cases.items():
            events = histories.get(case_id, [])
            action_counts.update(e.action for e in events)
            shape = [(e.action, "system" if e.actor == "system" else ("task" if e.task_id else "user"))
                     for e in events]
            if shape != EXPECTED_HISTORY.get(row.process_key):
                bad.append(f"case {case_id} ({row.process_key}): {shape}")
            task_ids = [e.task_id for e in events if e.action == "completed" and e.task_id]
            completed_twice += len(task_ids) - len(set(task_ids))
        out["history_mismatches"] = len(bad)
        out["history_mismatch_examples"] = bad[:10]
        out["task_completed_twice"] = completed_twice
        out["events"] = dict(action_counts)
        out["timer_fired_per_wait_case"] = dict(Counter(
            sum(1 for e in histories.get(cid, []) if e.action == "timer_fired")
            for cid, row in cases.items() if row.process_key == WAIT))
        out["open_tasks"] = int(conn.scalar(select(func.count()).select_from(OpenTask)) or 0)
        out["jobs"] = {f"{kind}:{status}": n for kind, status, n in conn.execute(
            select(Job.kind, Job.status, func.count()).group_by(Job.kind, Job.status))}
        out["jobs_not_settled"] = int(conn.scalar(select(func.count()).select_from(Job).where(
            Job.kind.not_in(("overdue_scan", "retention")),  # the worker's standing scans stay pending
            Job.status.in_(("pending", "running", "failed")))) or 0)
        out["jobs_with_errors"] = [f"job {j.id} {j.kind}: {j.last_error}" for j in conn.execute(
            select(Job.id, Job.kind, Job.last_error).where(Job.last_error.is_not(None)).limit(10))]
        out["timer_jobs_retaken"] = int(conn.scalar(select(func.count()).select_from(Job).where(
            Job.kind == "timer", Job.attempts > 1)) or 0)
        out["incidents"] = int(conn.scalar(select(func.count()).select_from(Incident)) or 0)
    return out


# --------------------------------------------------------------------------- clients


@dataclass
class Stats:
    """What the clients saw."""

    statuses: Counter[str] = field(default_factory=Counter)  # "POST /api/tasks/{id}/complete 200": n
    server_errors: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    transport_errors: Counter[str] = field(default_factory=Counter)
    transport_log: list[str] = field(default_factory=list)
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    races: int = 0
    race_200: int = 0
    race_409: int = 0
    race_409_types: Counter[str] = field(default_factory=Counter)
    races_bad: list[str] = field(default_factory=list)
    races_disturbed: int = 0  # a racer's connection broke (the killed process): not a clean race
    ambiguous: Counter[str] = field(default_factory=Counter)  # outcome of re-reads after a broken request
    failovers: int = 0
    requests: int = 0


class Api:
    """An HTTP client spread over several API processes that survives one of them dying."""

    def __init__(self, bases: list[str], stats: Stats) -> None:
        self.bases = bases
        self.stats = stats
        self.down_until: dict[str, float] = {}
        self.in_flight: Counter[str] = Counter()  # requests sent to each process and not answered yet
        self.turn = 0
        self.http = httpx.AsyncClient(timeout=httpx.Timeout(60.0),
                                      limits=httpx.Limits(max_connections=256, max_keepalive_connections=128))

    def _order(self, first: int | None) -> list[str]:
        now = time.monotonic()
        up = [b for b in self.bases if self.down_until.get(b, 0) <= now] or list(self.bases)
        if first is None:
            self.turn += 1
            first = self.turn
        start = first % len(up)
        return up[start:] + up[:start]

    async def call(self, method: str, route: str, path: str, *, token: str | None = None, idempotent: bool,
                   first: int | None = None, **kwargs: Any) -> httpx.Response:
        """Send a request to one API process, falling over to the next when it is unreachable.

        A connection that could not be opened was never sent: the next process gets it. A
        connection that broke afterwards may have been processed: idempotent requests are
        sent again, others raise Ambiguous for the caller to find out.
        """
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        for attempt in range(12):
            order = self._order(first)
            base = order[attempt % len(order)]
            started = time.perf_counter()
            self.in_flight[base] += 1
            try:
                response = await self.http.request(method, base + path, headers=headers, **kwargs)
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                self.stats.transport_errors[type(exc).__name__] += 1
                self.stats.transport_log.append(f"{method} {path} on {base}: {type(exc).__name__} {exc}")
                self.down_until[base] = time.monotonic() + 5
                self.stats.failovers += 1
                continue
            except httpx.TransportError as exc:
                self.stats.transport_errors[type(exc).__name__] += 1
                self.stats.transport_log.append(f"{method} {path} on {base}: {type(exc).__name__} {exc}")
                self.down_until[base] = time.monotonic() + 5
                if idempotent:
                    self.stats.failovers += 1
                    continue
                raise Ambiguous(f"{method} {path} on {base}: {type(exc).__name__}") from exc
            finally:
                self.in_flight[base] -= 1
            self.stats.requests += 1
            self.stats.latencies[f"{method} {route}"].append(time.perf_counter() - started)
            self.stats.statuses[f"{method} {route} {response.status_code}"] += 1
            if response.status_code >= 500:
                self.stats.server_errors.append(f"{method} {path} on {base}: {response.status_code} "
                                                f"{response.text[:300]}")
            return response
        raise ScaleError(f"{method} {path}: no API process answered")

    async def close(self) -> None:
        await self.http.aclose()


def _problem_type(response: httpx.Response) -> str:
    with contextlib.suppress(ValueError, AttributeError):
        return str(response.json().get("type"))
    return "?"


@dataclass
class Driver:
    """Runs `cases` cases with `clients` concurrent clients acting as officers."""

    api: Api
    tokens: list[str]  # one per officer
    cases: int
    clients: int
    race_every: int
    kill_at: int | None
    stats: Stats
    known: dict[int, str] = field(default_factory=dict)  # case id -> process key, as the clients learned them
    done: int = 0
    next_index: int = 0
    kill_now: asyncio.Event = field(default_factory=asyncio.Event)

    async def run(self) -> None:
        await asyncio.gather(*(self.client(n) for n in range(self.clients)))

    async def client(self, number: int) -> None:
        officer = self.tokens[number % len(self.tokens)]
        partner = self.tokens[(number + 1) % len(self.tokens)]
        while self.next_index < self.cases:
            index = self.next_index
            self.next_index += 1
            await self.drive_case(index, officer, partner, number)
            self.done += 1
            if self.kill_at is not None and self.done >= self.kill_at:
                self.kill_now.set()

    async def drive_case(self, index: int, officer: str, partner: str, number: int) -> None:
        key = WAIT if index % 2 else LOOP
        case_id = await self.create_case(index, key, officer)
        answers = ["lagi", "selesai"] if key == LOOP else ["selesai"]
        previous: str | None = None
        for step, answer in enumerate(answers):
            task_id = await self.find_task(case_id, key, officer, previous)
            if step == 0 and index % self.race_every == 0:
                await self.race(task_id, officer, partner, answer, number)
            else:
                await self.complete(task_id, officer, answer)
            previous = task_id

    async def create_case(self, index: int, key: str, officer: str) -> int:
        # `harga` carries the case's index: it finds the case again if the answer is lost.
        body = {"process_key": key, "channel": "tatap_muka", "data": {"harga": index, "jumlah": 1},
                "privacy_notice_accepted": True}
        while True:
            try:
                response = await self.api.call("POST", "/api/cases", "/api/cases", token=officer, idempotent=False,
                                               json=body)
            except Ambiguous:
                found = await self.find_lost_case(index, key, officer)
                self.stats.ambiguous["create:committed" if found else "create:not_committed"] += 1
                if found is None:
                    continue
                self.known[found] = key
                return found
            if response.status_code != 201:
                raise ScaleError(f"creating case {index}: {response.status_code} {response.text[:300]}")
            case_id = int(response.json()["id"])
            self.known[case_id] = key
            return case_id

    async def find_lost_case(self, index: int, key: str, officer: str) -> int | None:
        """Look for a case this client filed but never heard back about: running, unknown, with our index."""
        await asyncio.sleep(RECHECK_DELAY_S)
        page = await self.api.call("GET", "/api/cases", "/api/cases", token=officer, idempotent=True,
                                   params={"process_key": key, "status": "running", "limit": 200})
        page.raise_for_status()
        for item in page.json()["items"]:
            if item["id"] in self.known:
                continue
            case = await self.api.call("GET", "/api/cases/{id}", f"/api/cases/{item['id']}", token=officer,
                                       idempotent=True)
            if case.status_code == 200 and case.json()["data"].get("harga") == index:
                return int(item["id"])
        return None

    async def find_task(self, case_id: int, key: str, officer: str, previous: str | None) -> str:
        """Find the case's open task in the officer's inbox (or, past its first page, on the case)."""
        inbox = await self.api.call("GET", "/api/tasks", "/api/tasks", token=officer, idempotent=True,
                                    params={"process_key": key, "limit": 200})
        if inbox.status_code != 200:
            raise ScaleError(f"inbox: {inbox.status_code} {inbox.text[:300]}")
        mine = [t["id"] for t in inbox.json()["items"] if t["case_id"] == case_id and t["id"] != previous]
        seen = ""
        if not mine:
            case = await self.api.call("GET", "/api/cases/{id}", f"/api/cases/{case_id}", token=officer,
                                       idempotent=True)
            if case.status_code != 200:
                raise ScaleError(f"case {case_id}: {case.status_code} {case.text[:300]}")
            mine = [t["id"] for t in case.json().get("open_tasks", []) if t["id"] != previous]
            seen = f" (the case: {case.text[:1500]})"
        if len(mine) != 1:
            raise ScaleError(f"case {case_id}: expected one open task after {previous}, found {mine}{seen}")
        return str(mine[0])

    async def task_is_done(self, task_id: str, officer: str) -> bool:
        """Re-read a task whose completion may or may not have committed."""
        await asyncio.sleep(RECHECK_DELAY_S)
        response = await self.api.call("GET", "/api/tasks/{id}", f"/api/tasks/{task_id}", token=officer,
                                       idempotent=True)
        if response.status_code == 200:
            return False
        if response.status_code == 409 and _problem_type(response) == CONFLICT_TYPES[0]:
            return True
        raise ScaleError(f"re-reading task {task_id}: {response.status_code} {response.text[:300]}")

    async def complete(self, task_id: str, officer: str, answer: str) -> None:
        path = f"/api/tasks/{task_id}/complete"
        while True:
            try:
                response = await self.api.call("POST", "/api/tasks/{id}/complete", path, token=officer,
                                               idempotent=False, json={"data": {"catatan": answer}})
            except Ambiguous:
                done = await self.task_is_done(task_id, officer)
                self.stats.ambiguous["complete:committed" if done else "complete:not_committed"] += 1
                if done:
                    return
                continue
            if response.status_code == 200:
                return
            self.stats.unexpected.append(f"complete {task_id}: {response.status_code} {response.text[:300]}")
            raise ScaleError(self.stats.unexpected[-1])

    async def race(self, task_id: str, officer: str, partner: str, answer: str, number: int) -> None:
        """Two officers complete the same task at the same moment, through two API processes."""
        path = f"/api/tasks/{task_id}/complete"
        body = {"data": {"catatan": answer}}
        outcomes = await asyncio.gather(
            self.api.call("POST", "/api/tasks/{id}/complete", path, token=officer, idempotent=False,
                          first=number, json=body),
            self.api.call("POST", "/api/tasks/{id}/complete", path, token=partner, idempotent=False,
                          first=number + 1, json=body),
            return_exceptions=True)
        for outcome in outcomes:
            if isinstance(outcome, BaseException) and not isinstance(outcome, Ambiguous):
                raise outcome
        responses = [o for o in outcomes if isinstance(o, httpx.Response)]
        codes = sorted(r.status_code for r in responses)
        if len(responses) < 2:
            # A racer's process died under it: not a clean race. Still never two successes.
            self.stats.races_disturbed += 1
            if codes == [409] or not codes:
                if not await self.task_is_done(task_id, officer):
                    if codes == [409]:
                        self.stats.races_bad.append(f"{task_id}: 409 while the task is still open")
                    await self.complete(task_id, officer, answer)
            return
        self.stats.races += 1
        self.stats.race_200 += codes.count(200)
        self.stats.race_409 += codes.count(409)
        if codes != [200, 409]:
            self.stats.races_bad.append(f"{task_id}: {[(r.status_code, r.text[:200]) for r in responses]}")
            if 200 not in codes and not await self.task_is_done(task_id, officer):
                await self.complete(task_id, officer, answer)
            return
        loser = next(r for r in responses if r.status_code == 409)
        kind = _problem_type(loser)
        self.stats.race_409_types[kind] += 1
        if kind not in CONFLICT_TYPES:
            self.stats.races_bad.append(f"{task_id}: 409 of type {kind}")


# --------------------------------------------------------------------------- the run


def _write_packages(folder: Path, timer: str) -> list[Path]:
    paths = []
    for key, pkg in ((LOOP, simple_package(LOOP, shape="loop")),
                     (WAIT, simple_package(WAIT, shape="wait", timer=timer))):
        target = folder / key
        for name, content in pkg.files.items():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            (target / name).write_bytes(content)
        paths.append(target)
    return paths


async def _setup_accounts(api: Api, officers: int) -> list[str]:
    """As the admin: create the front-office role and the officers; return the officers' tokens."""

    async def token(username: str) -> str:
        response = await api.call("POST", "/api/auth/token", "/api/auth/token", idempotent=True,
                                  data={"username": username, "password": PASSWORD})
        if response.status_code != 200:
            raise ScaleError(f"login {username}: {response.status_code} {response.text[:300]}")
        return str(response.json()["access_token"])

    admin = await token(ADMIN)

    async def admin_post(route: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = await api.call("POST", route, path, token=admin, idempotent=False, json=body)
        if response.status_code != 201:
            raise ScaleError(f"POST {path}: {response.status_code} {response.text[:300]}")
        result: dict[str, Any] = response.json()
        return result

    await admin_post("/api/roles", "/api/roles", {"key": FRONT_OFFICE, "name": "Front office"})
    tokens = []
    for n in range(officers):
        username = f"petugas_skala_{n}"
        user = await admin_post("/api/users", "/api/users",
                                {"username": username, "password": PASSWORD, "platform_role": "officer"})
        for role in (ROLE, FRONT_OFFICE):
            await admin_post("/api/users/{id}/memberships", f"/api/users/{user['id']}/memberships",
                             {"role_key": role})
        tokens.append(await token(username))
    return tokens


async def _sample_histories(api: Api, known: dict[int, str], sample: int) -> list[str]:
    """Read a few case histories through the API as the admin and compare them with the expected ones."""
    response = await api.call("POST", "/api/auth/token", "/api/auth/token", idempotent=True,
                              data={"username": ADMIN, "password": PASSWORD})
    admin = str(response.json()["access_token"])
    problems = []
    for case_id in random.sample(sorted(known), min(sample, len(known))):
        events = await api.call("GET", "/api/cases/{id}/events", f"/api/cases/{case_id}/events", token=admin,
                                idempotent=True)
        actions = [e["action"] for e in events.json()]
        if actions != [a for a, _who in EXPECTED_HISTORY[known[case_id]]]:
            problems.append(f"case {case_id}: {actions}")
    return problems


def _percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    if not ordered:
        return {}

    def at(q: float) -> float:
        return round(1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)

    return {"n": len(ordered), "p50_ms": at(0.5), "p95_ms": at(0.95), "p99_ms": at(0.99), "max_ms": at(1.0)}


def summary(report: dict[str, Any]) -> str:
    """Return the headline of a report in a few lines: counts, crashes, timings, throughput."""
    db, seen, races, kills = (report.get(k, {}) for k in ("db", "clients_saw", "races", "kills"))
    return "\n".join([
        f"cases {report['cases']} with {report['clients']} clients on {report['api_processes']} API processes "
        f"and {report['workers']} workers: {db.get('case_status')}, events {db.get('events')}",
        f"races {races.get('clean')} clean (200: {races.get('200')}, 409: {races.get('409')} "
        f"{races.get('409_types')}), {races.get('disturbed_by_kill')} disturbed by the kill",
        f"kills {kills}; ambiguous requests re-read: {seen.get('ambiguous')}; "
        f"transport errors {seen.get('transport_errors')}; timer jobs retaken {db.get('timer_jobs_retaken')}",
        f"requests {seen.get('requests')}, server errors {seen.get('n_server_errors')}; "
        f"timings {report['timings_s']}; throughput {report.get('throughput')}",
    ])


def run_scale(url: str, cases: int = 500, clients: int = 32, kill: bool = True, *, workdir: Path | None = None,
              api_processes: int = 4, workers: int = 2, officers: int = 8, race_every: int = 4,
              kill_fraction: float = 0.4, timer: str = '"PT2S"', settle_timeout_s: float = 30.0) -> dict[str, Any]:
    """Run the scale scenario against the PostgreSQL database at `url` (which it wipes); return a report."""
    workdir = Path(workdir) if workdir is not None else Path(tempfile.mkdtemp(prefix="mpp-scale-"))
    workdir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "MPP_DATABASE_URL": url, "MPP_WORKER_POLL_S": "0.2", "MPP_JOB_LEASE_S": "5",
           "MPP_SECRET_KEY": "skala-" + "k" * 40, "MPP_FILES_DIR": str(workdir / "files"),
           "MPP_OUTBOX_DIR": str(workdir / "outbox"), "PYTHONUNBUFFERED": "1"}
    report: dict[str, Any] = {"cases": cases, "clients": clients, "api_processes": api_processes,
                              "workers": workers, "officers": officers, "race_every": race_every,
                              "workdir": str(workdir), "timings_s": {}}
    timings = report["timings_s"]
    began = time.perf_counter()
    procs = Processes(workdir, env)
    engine = make_engine(url)
    try:
        reset_schema(url)
        run_cli(env, workdir, "migrate")
        run_cli(env, workdir, "create-admin", ADMIN, "--password", PASSWORD)
        run_cli(env, workdir, "deploy", *map(str, _write_packages(workdir / "packages", timer)))
        timings["setup"] = round(time.perf_counter() - began, 2)

        mark = time.perf_counter()

        def start_api(n: int, attempt: int = 0) -> Proc:
            port = free_port()
            return procs.start(f"api{n}" + (f"-retry{attempt}" if attempt else ""), "serve", "--host", "127.0.0.1",
                               "--port", str(port), "--no-embedded-worker", base=f"http://127.0.0.1:{port}")

        servers = [start_api(n) for n in range(api_processes)]
        job_workers = [procs.start(f"worker{n}", "worker") for n in range(workers)]
        for attempt in range(1, 4):
            try:
                wait_ready(servers + job_workers, what="processes")
                break
            except PortTaken as exc:  # chosen free, taken before the server bound it: try another
                if attempt == 3:
                    raise
                n = servers.index(exc.proc)
                servers[n] = start_api(n, attempt)
        timings["start_processes"] = round(time.perf_counter() - mark, 2)

        stats = Stats()
        kill_at = max(1, int(cases * kill_fraction)) if kill else None
        kills: dict[str, Any] = {"api": 0, "worker": 0}
        report["kills"] = kills

        async def scenario() -> Driver:
            api = Api([s.base for s in servers if s.base], stats)
            try:
                mark = time.perf_counter()
                tokens = await _setup_accounts(api, officers)
                timings["accounts"] = round(time.perf_counter() - mark, 2)
                driver = Driver(api, tokens, cases, clients, race_every, kill_at, stats)

                async def killer() -> None:
                    await driver.kill_now.wait()
                    victim = servers[1 % len(servers)]
                    # Crash them while they hold work: the API process with requests in flight, the
                    # worker with claimed jobs (best effort, for a few seconds at most).
                    deadline = time.monotonic() + 3
                    while api.in_flight[victim.base or ""] < 3 and time.monotonic() < deadline:
                        await asyncio.sleep(0.002)
                    kills["api_requests_in_flight"] = api.in_flight[victim.base or ""]
                    procs.kill(victim)
                    kills.update(api=1, at_case=driver.done, at_s=round(time.perf_counter() - mark_drive, 2))
                    worker, deadline, holders = job_workers[0], time.monotonic() + 5, set()
                    while time.monotonic() < deadline:
                        holders = await asyncio.to_thread(job_holders, engine)
                        busy = [w for w in job_workers if w.pid in holders]
                        if busy:
                            worker = busy[0]
                            break
                        await asyncio.sleep(0.02)
                    procs.kill(worker)
                    kills.update(worker_name=worker.name, worker_busy_when_chosen=worker.pid in holders)
                    kills["worker"] = 1
                    await asyncio.sleep(0.5)  # the database rolls back the dead worker's open transaction
                    # Jobs it had claimed stay `running` under its name until their lease expires.
                    kills["worker_jobs_orphaned"] = await asyncio.to_thread(jobs_held_by, engine, worker.pid)

                mark_drive = time.perf_counter()
                killing = asyncio.ensure_future(killer()) if kill_at is not None else None
                await driver.run()
                timings["drive"] = round(time.perf_counter() - mark_drive, 2)
                if killing is not None:
                    if not killing.done():  # only when fewer cases than the kill point were run
                        killing.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await killing

                # The workers finish the cases waiting on their timer; the dead worker's jobs come
                # back once their lease (MPP_JOB_LEASE_S=5) has expired.
                mark = time.perf_counter()
                left = await asyncio.to_thread(unsettled, engine)
                while left != (0, 0) and time.perf_counter() - mark < settle_timeout_s:
                    await asyncio.sleep(0.25)
                    left = await asyncio.to_thread(unsettled, engine)
                timings["settle"] = round(time.perf_counter() - mark, 2)
                report["unsettled_after_wait"] = {"cases": left[0], "timer_jobs": left[1]}
                report["history_sample_problems"] = await _sample_histories(api, driver.known, 10)
                return driver
            finally:
                await api.close()

        # A fresh loop in its own thread: the test process may already run one (Playwright's sync API).
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            driver = pool.submit(asyncio.run, scenario()).result()

        mark = time.perf_counter()
        report["db"] = check_database(engine, driver.known)
        timings["verify"] = round(time.perf_counter() - mark, 2)
        report["survivors_alive"] = all(p.alive() for p in procs.procs if not p.killed)
        report["worker_log_failures"] = sum(p.log.read_text(errors="replace").count("failed")
                                            for p in job_workers)
        report["clients_saw"] = {
            "requests": stats.requests, "statuses": dict(sorted(stats.statuses.items())),
            "server_errors": stats.server_errors[:20], "n_server_errors": len(stats.server_errors),
            "unexpected": stats.unexpected[:20], "transport_errors": dict(stats.transport_errors),
            "transport_log": stats.transport_log[:40],
            "failovers": stats.failovers, "ambiguous": dict(stats.ambiguous),
        }
        report["races"] = {"clean": stats.races, "200": stats.race_200, "409": stats.race_409,
                           "409_types": dict(stats.race_409_types), "bad": stats.races_bad[:20],
                           "disturbed_by_kill": stats.races_disturbed}
        report["latency"] = {route: _percentiles(values) for route, values in sorted(stats.latencies.items())}
        drive = timings.get("drive") or 0
        report["throughput"] = {"cases_per_s": round(cases / drive, 1) if drive else None,
                                "requests_per_s": round(stats.requests / drive, 1) if drive else None}
    finally:
        procs.stop_all()
        report["pids"] = {p.name: p.pid for p in procs.procs}
        engine.dispose()
        timings["total"] = round(time.perf_counter() - began, 2)
    return report


def main(argv: list[str] | None = None) -> int:
    """Command line: run the scenario and print the report as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--url", default=os.environ.get("MPP_TEST_POSTGRES_URL"),
                        help="PostgreSQL URL (its public schema is wiped); default $MPP_TEST_POSTGRES_URL")
    parser.add_argument("--cases", type=int, default=500)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--no-kill", action="store_true", help="do not kill an API process and a worker")
    parser.add_argument("--workdir", type=Path, help="where logs go (default: a new temporary folder)")
    args = parser.parse_args(argv)
    if not args.url:
        parser.error("give --url or set MPP_TEST_POSTGRES_URL")
    report = run_scale(args.url, args.cases, args.clients, not args.no_kill, workdir=args.workdir)
    sys.stdout.write(json.dumps(report, indent=2, default=str) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
