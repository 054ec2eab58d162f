"""Whole PBG cases over HTTP under load (issue 18): cases/s, latency and server CPU per case.

Three set-ups on this machine, each on a fresh database with PBG deployed and the demo accounts:
SQLite with one `mpp serve` (job worker embedded, as `make run` does), SQLite with
`mpp serve --workers 2` plus one `mpp worker`, and PostgreSQL with `mpp serve --workers 2` (as many
API processes as cores) plus one `mpp worker`. Against each, 1, 8 and 32 concurrent clients (threads
of this process, one kept-alive connection each: bench/http_client.py) drive whole PBG cases with
bench/pbg_requests.py's client code (`drive_case`, way `lean`: apply, then each task completed by the
user holding its role, found from the last answer's `next_tasks` or one `GET /api/tasks?case_id=`).
Every request is timed; the server processes' CPU (every process of the set-up and their children, from
/proc, and on PostgreSQL the database server's when it runs on this machine) is read before and after
each point.
`python -m bench --sections http` runs just this.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench import cluster, pbg_requests, procs
from bench.http_client import LeanClient, Response
from bench.http_table import summarise, window
from engine.settings import Settings
from tests.production import scale

CLIENTS = (1, 8, 32)
IDLE_S = 5.0  # how long the idle server's CPU is read
ID_SEGMENT = re.compile(r"/(?=[0-9a-fA-F-]*\d)[0-9a-fA-F-]+(?=/|$)")


@dataclass(frozen=True)
class Setup:
    """One way of running the platform: its database, API processes and where jobs run."""

    database: str
    api_workers: int
    job_worker: bool  # a separate `mpp worker` process; else the one API process runs jobs in a thread
    threads: int | None = None  # MPP_REQUEST_THREADS of the API processes; None: the platform's default

    @property
    def title(self) -> str:
        """Return the set-up as the commands that run it."""
        serve = "`mpp serve`" + (f" `--workers {self.api_workers}`" if self.api_workers > 1 else "")
        title = f"{self.database}, " + (f"{serve} + `mpp worker`" if self.job_worker else f"{serve}, embedded worker")
        return title + (f", `MPP_REQUEST_THREADS={self.threads}`" if self.threads is not None else "")


SETUPS = (Setup("sqlite", 1, job_worker=False), Setup("sqlite", 2, job_worker=True),
          Setup("postgresql", 2, job_worker=True))
# Two of the set-ups again with many request threads per API process (40, what FastAPI's thread pool allowed):
# what the default of few threads changes under load (bench/http_table.py's `threads`).
MANY_THREADS = 40
COMPARED = (Setup("sqlite", 1, job_worker=False, threads=MANY_THREADS),
            Setup("postgresql", 2, job_worker=True, threads=MANY_THREADS))


@dataclass
class Samples:
    """What the clients saw at one point: latencies per route, statuses, when requests and cases ended."""

    latencies: dict[str, list[float]] = field(default_factory=dict)
    statuses: Counter[int] = field(default_factory=Counter)
    ends: list[tuple[float, float]] = field(default_factory=list)  # (perf_counter at the answer, latency)
    case_ends: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    all_busy_until: float | None = None  # when the first client found no case left
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, route: str, seconds: float, status: int) -> None:
        """Record one answered request."""
        with self.lock:
            self.latencies.setdefault(route, []).append(seconds)
            self.statuses[status] += 1
            self.ends.append((time.perf_counter(), seconds))

    def finished(self, error: Exception | None) -> None:
        """Record one case driven to its end, or the error that stopped it."""
        with self.lock:
            if error is None:
                self.case_ends.append(time.perf_counter())
            else:
                self.failures.append(f"{type(error).__name__}: {error}"[:300])

    def idle(self) -> None:
        """Record that a client found no case left: from now on fewer clients than asked are busy."""
        with self.lock:
            self.all_busy_until = self.all_busy_until or time.perf_counter()


class TimedClient(LeanClient):
    """A client (bench/http_client.py) that times every request it sends into `samples`, by route."""

    def __init__(self, samples: Samples, base_url: str, timeout: float = 60) -> None:
        super().__init__(base_url, timeout=timeout)
        self.samples = samples

    def request(self, method: str, url: str, **kwargs: Any) -> Response:
        """Send the request and record its latency and status."""
        started = time.perf_counter()
        response = super().request(method, url, **kwargs)
        self.samples.add(route_of(method, url), time.perf_counter() - started, response.status_code)
        return response


def route_of(method: str, url: str) -> str:
    """Return `METHOD /path` with ids replaced by `{id}`, e.g. `POST /api/tasks/{id}/complete`."""
    return f"{method.upper()} {ID_SEGMENT.sub('/{id}', urlsplit(url).path)}"


def process_tree_cpu(roots: list[int]) -> float:
    """Return the CPU seconds (user + system) the processes `roots` and all their descendants have used.

    Descendants that have ended count too once their parent has reaped them (its children's time in /proc): the
    PDF render server forks a child per document, which ends with the render.
    """
    parents = procs.parents()
    tree, frontier = set(roots), list(roots)
    while frontier:
        pid = frontier.pop()
        children = [child for child, parent in parents.items() if parent == pid and child not in tree]
        tree.update(children)
        frontier.extend(children)
    total = 0.0
    for pid in tree:
        with contextlib.suppress(OSError, IndexError, ValueError):
            total += pbg_requests.cpu_seconds(pid, reaped=True)
    return total


def drive(base: str, tokens: dict[str, str], *, cases: int, clients: int, server: dict[str, list[int]],
          settle: Callable[[], int]) -> dict[str, Any]:
    """Drive `cases` whole PBG cases with `clients` concurrent clients; return the point's figures.

    `settle` waits until the jobs the cases queued (documents, mail) are done, and returns how many
    were still due when it gave up, so that the server CPU read after it holds their cost.
    """
    samples, numbers = Samples(), itertools.count()

    def client() -> None:
        with TimedClient(samples, base_url=base, timeout=300) as http:
            while next(numbers) < cases:
                try:
                    pbg_requests.drive_case(http, tokens, "lean")
                except Exception as exc:  # noqa: BLE001 - an error is a figure of the point, not the end of it
                    samples.finished(exc)
                else:
                    samples.finished(None)
            samples.idle()

    threads = [threading.Thread(target=client, name=f"client-{n}") for n in range(clients)]
    cpu = {role: process_tree_cpu(pids) for role, pids in server.items()}
    client_cpu, started = time.process_time(), time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ended = time.perf_counter()
    elapsed = ended - started
    unsettled = settle()
    caught_up = time.perf_counter() - ended  # how long the worker still had jobs due after the last case
    spent = {role: process_tree_cpu(pids) - cpu[role] for role, pids in server.items()}
    busy = window(samples.ends, samples.case_ends, started=started, until=samples.all_busy_until or started)
    return summarise(samples.latencies, samples.statuses, cases_done=len(samples.case_ends),
                     failures=samples.failures, clients=clients, elapsed_s=elapsed, busy=busy, server_cpu_s=spent,
                     client_cpu_s=time.process_time() - client_cpu, catch_up_s=caught_up) | {
                         "load": round(os.getloadavg()[0], 2), "jobs_left": unsettled}


def due_jobs(url: str, *, timeout_s: float = 120) -> int:
    """Wait until no job is due or running (the worker has caught up); return how many still are after the wait."""
    from datetime import UTC, datetime

    from sqlalchemy import func, or_, select

    from engine.db import make_engine
    from engine.models import Job

    engine = make_engine(url)
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            with engine.connect() as conn:
                left = conn.scalar(select(func.count()).select_from(Job).where(or_(
                    Job.status == "running", (Job.status == "pending") & (Job.due_at <= datetime.now(UTC)))))
            if not left or time.monotonic() > deadline:
                return int(left or 0)
            time.sleep(0.05)
    finally:
        engine.dispose()


def database_server(url: str) -> list[int]:
    """Return the process id of the PostgreSQL server `url` reaches when it runs on this machine, else nothing.

    Its backends are its children (their CPU is its children's once they end), so its process tree is all the
    work the database did for the set-up; `make bench` runs its own cluster (tests/pg_cluster.sh) beside it.
    """
    if not url.startswith("postgresql"):
        return []
    from sqlalchemy import text

    from engine.db import make_engine

    engine = make_engine(url)
    try:
        with engine.connect() as conn:  # asked while the backend lives: it ends with the connection
            server = procs.parents().get(int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one()))
    finally:
        engine.dispose()
    with contextlib.suppress(OSError):
        if server is not None and b"postgres" in Path(f"/proc/{server}/cmdline").read_bytes():
            return [server]
    return []  # another machine's (or a container's) server: its CPU is not ours to read


def _prepare(url: str) -> None:
    """Empty the database, migrate it, deploy PBG and make the demo accounts."""
    cluster.reset(url)
    pbg_requests.deploy_pbg(url)


@contextlib.contextmanager
def platform(setup: Setup, url: str, workdir: Path) -> Iterator[tuple[str, dict[str, list[int]]]]:
    """Run the set-up's processes on `url`; yield the API's base URL and the server's process ids by role."""
    workdir.mkdir(parents=True, exist_ok=True)
    _prepare(url)
    env = {**os.environ, "MPP_DATABASE_URL": url, "MPP_SECRET_KEY": "bench-" + "k" * 40,
           "MPP_FILES_DIR": str(workdir / "files"), "MPP_OUTBOX_DIR": str(workdir / "outbox"),
           "MPP_SIGNING_KEY_FILE": str(workdir / "signing.key"), "PYTHONUNBUFFERED": "1"}
    env.pop("MPP_REQUEST_THREADS", None)
    if setup.threads is not None:
        env["MPP_REQUEST_THREADS"] = str(setup.threads)
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    procs = scale.Processes(workdir, env)
    try:
        port = scale.free_port()
        base = f"http://127.0.0.1:{port}"
        serve = ["serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(setup.api_workers)]
        started = [procs.start("api", *serve, *(["--no-embedded-worker"] if setup.job_worker else []), base=base)]
        if setup.job_worker:
            started.append(procs.start("worker", "worker"))
        scale.wait_ready(started, what=setup.title, timeout_s=120)
        database = database_server(url)
        yield base, {proc.name: [proc.pid] for proc in started} | ({"database": database} if database else {})
    finally:
        procs.stop_all()


def run_setup(setup: Setup, url: str, *, cases: int, clients: tuple[int, ...], workdir: Path) -> dict[str, Any]:
    """Measure one set-up at each number of clients, on the same server; return its points."""
    out: dict[str, Any] = {"database": setup.database, "api_workers": setup.api_workers,
                           "job_worker": setup.job_worker, "threads": setup.threads, "title": setup.title,
                           "points": []}
    with platform(setup, url, workdir) as (base, server), LeanClient(base, timeout=60) as http:
        tokens = pbg_requests.login(http, pbg_requests.users("lean"))
        pbg_requests.drive_case(http, tokens, "lean")  # warm: caches, connections, script workers; not counted
        due_jobs(url)  # the worker issues the warm-up case's document and sends its mail first
        time.sleep(IDLE_S)  # and starts what it starts on first use (the PDF render server, script workers)
        every = [pid for pids in server.values() for pid in pids]
        idle = process_tree_cpu(every)
        time.sleep(IDLE_S)
        out["idle_cpu_ms_per_s"] = round(1000 * (process_tree_cpu(every) - idle) / IDLE_S, 1)
        for n in clients:
            # At least three cases per client, so that every client stays busy for most of the point.
            point = drive(base, tokens, cases=max(cases, 3 * n), clients=n, server=server,
                          settle=lambda: due_jobs(url))
            out["points"].append(point)
            print(f"  {setup.title}, {n} clients: {point['cases_per_s']} cases/s, {point['requests_per_s']} req/s, "
                  f"complete p95 {point['complete'].get('p95_ms')} ms, errors {point['errors']}, "
                  f"server CPU {point['server_cpu_ms_per_case']} ms/case, load {point['load']}", flush=True)
    if any(p["errors"] or p["failed_cases"] for p in out["points"]):
        out["log_tail"] = scale.tail(workdir / "api.log", 40)
        print(out["log_tail"], flush=True)
    return out


def run(urls: dict[str, str], *, cases: int = 50, clients: tuple[int, ...] = CLIENTS, cost_cases: int = 20,
        workdir: Path | None = None) -> dict[str, Any]:
    """Measure every set-up whose database is in `urls` (which it wipes), and the engine's cost per case."""
    from bench import step_cost

    workdir = Path(workdir or tempfile.mkdtemp(prefix="mpp-bench-http-"))
    out: dict[str, Any] = {"cases": cases, "clients": list(clients), "cores": os.cpu_count(),
                           "default_threads": Settings.model_fields["request_threads"].default,
                           "load_at_start": round(os.getloadavg()[0], 2), "setups": [], "cost": {}}
    runs = [("setups", setup, clients) for setup in SETUPS if setup.database in urls]
    runs += [("compared", setup, clients) for setup in COMPARED if setup.database in urls]
    out["compared"] = []
    for number, (where, setup, points) in enumerate(runs):
        folder = workdir / f"setup-{number}"
        try:
            out[where].append(run_setup(setup, urls[setup.database], cases=cases, clients=points, workdir=folder))
        except Exception as exc:  # report what stopped it rather than lose the other set-ups
            out[where].append({"database": setup.database, "api_workers": setup.api_workers,
                               "job_worker": setup.job_worker, "threads": setup.threads, "title": setup.title,
                               "points": [], "error": f"{type(exc).__name__}: {exc}"[:1000]})
            print(f"  {setup.title} failed: {exc}\n{scale.tail(folder / 'api.log', 40)}", flush=True)
    for database, url in urls.items():
        print(f"  engine and stock SpiffWorkflow CPU per PBG case on {database} ...", flush=True)
        try:
            cluster.reset(url)
            out["cost"][database] = step_cost.run(url, cost_cases)
        except Exception as exc:  # report what stopped it rather than lose the other figures
            out["cost"][database] = {"error": f"{type(exc).__name__}: {exc}"[:2000]}
    out["load_at_end"] = round(os.getloadavg()[0], 2)
    return out
