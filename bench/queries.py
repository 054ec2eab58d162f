"""Query latencies on a seeded database, through the engine's own functions (no copies of their SQL).

Each sample opens a session, calls the function the API and pages call, reads the result and
closes the session, the way a request does. Measured:
- inbox page: `engine.cases.inbox.inbox_page` (first page of 50, with the total counted up to 1,000),
  what `GET /api/tasks` calls, for officers of the roles with the most open tasks;
- inbox counts per role: `engine.cases.tasks.inbox_query` (the inbox's own access condition) counted
  per role, for a supervisor holding every role of the busiest agency;
- case history: `engine.cases.service.history` of a random case;
- tracking: `engine.cases.tracking.public_status` with the right PIN (keyed PIN hash check included);
- staff case search: `engine.cases.service.list_cases` as an officer (first page and total), as an officer
  by tracking number, and as an admin filtering by service and status;
- the officers' web inbox (`/kotak-tugas`, admin/inbox.py): what the page reads, its table's first page
  in the default order with the total (`engine.cases.worklist.list_rows`), its queue counters
  (`engine.cases.tasks.queue_counts`) and its step filter's choices (`worklist.steps`), for officers of
  the busiest roles and for the supervisor (every role of the busiest agency); and what the supervision
  page (`/pengawasan`) reads of the agency's queue (table and steps; the officers' workload is not in it).
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import event, func, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from bench.seed import Catalogue, pin, tracking_number
from engine.cases import inbox as inbox
from engine.cases import service as cases
from engine.cases import tasks as tasks
from engine.cases import tracking as tracking
from engine.cases import worklist as worklist
from engine.cases.assignment import agency_of
from engine.context import AppContext
from engine.db import transaction
from engine.directory import service as directory
from engine.directory.actors import Actor, actor_for
from engine.models import Case, OpenTask, Role, User

TARGETS_MS = {"inbox_page": 20.0, "tracking": 10.0, "case_search_officer": 50.0, "web_inbox_officer": 20.0,
              "web_inbox_supervisor": 20.0, "web_supervision": 20.0}
SUPERVISOR = "bench_kepala"
NOW = datetime(2026, 11, 27, tzinfo=UTC)


def percentiles(seconds: list[float]) -> dict[str, float]:
    """Return n, p50, p95, p99 and max in milliseconds (nearest rank)."""
    ordered = sorted(seconds)
    if not ordered:
        return {"n": 0}

    def at(q: float) -> float:
        return round(1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))], 3)

    return {"n": len(ordered), "p50_ms": at(0.50), "p95_ms": at(0.95), "p99_ms": at(0.99), "max_ms": at(1.0)}


@dataclass
class Actors:
    """Who the queries run as."""

    officers: list[Actor]  # one per busiest role
    supervisor: Actor
    admin: Actor


def _actors(ctx: AppContext) -> Actors:
    with transaction(ctx.sessions) as session:
        busiest = [role for role, _n in session.execute(
            select(OpenTask.role, func.count()).where(OpenTask.bound_org.is_(None)).group_by(OpenTask.role)
            .order_by(func.count().desc()).limit(5))]
        agency = busiest[0].split(".", 1)[0]
        boss = session.scalar(select(User).where(User.username == SUPERVISOR))
        if boss is None:
            boss = directory.create_user(session, username=SUPERVISOR, platform_role="officer")
            for key in session.scalars(select(Role.key).where(Role.agency_code == agency)):
                directory.grant(session, user=boss, role_key=key, organisation_code=agency)
        officers = []
        for role in busiest:
            user = session.scalar(select(User).where(User.username == role.replace(".", "_")))
            if user is not None:
                officers.append(actor_for(session, user))
        admin = session.scalar(select(User).where(User.username == "admin"))
        assert admin is not None
        assert officers
        return Actors(officers, actor_for(session, boss), actor_for(session, admin))


def inbox_counts(session: Session, actor: Actor) -> dict[str, int]:
    """Count the actor's open tasks per role, over the inbox's own query."""
    inbox = tasks.inbox_query(actor).order_by(None).subquery()
    return {role: int(n) for role, n in session.execute(
        select(inbox.c.role, func.count()).group_by(inbox.c.role))}


@dataclass
class Pool:
    """The officers one query picks from; one whose sample timed out is taken out and named."""

    officers: list[Actor]
    last: Actor | None = None
    excluded: list[str] = field(default_factory=list)

    def pick(self, rnd: random.Random) -> Actor:
        self.last = rnd.choice(self.officers)
        return self.last

    def drop_last(self) -> bool:
        """Take the officer of the sample that timed out out of the pool; tell whether any are left."""
        if self.last is None or len(self.officers) < 2:
            return False
        self.officers.remove(self.last)
        self.excluded.append(self.last.username)
        self.last = None
        return True


def _samplers(ctx: AppContext, actors: Actors, rnd: random.Random, max_id: int, keys: list[str],
              pools: dict[str, Pool]) -> dict[str, Callable[[Session], int]]:
    """Return one function per query: it runs one sample and returns how many rows it read."""
    secret = ctx.settings.secret_key.get_secret_value()
    pools.update(inbox_page=Pool(list(actors.officers)), case_search_officer=Pool(list(actors.officers)),
                 web_inbox_officer=Pool(list(actors.officers)))

    def inbox_page(session: Session) -> int:
        page = inbox.inbox_page(session, actor=pools["inbox_page"].pick(rnd), filters=inbox.Filters(now=NOW), limit=50)
        return len(page.rows) if page.total >= len(page.rows) else -1

    def counts(session: Session) -> int:
        return sum(inbox_counts(session, actors.supervisor).values())

    def history(session: Session) -> int:
        return len(cases.history(session, rnd.randint(1, max_id)))

    def track(session: Session) -> int:
        case_id = rnd.randint(1, max_id)
        found = tracking.public_status(session, number=tracking_number(case_id), pin=pin(case_id), secret=secret,
                                         rt=ctx.rt)
        return len(found.timeline) if found is not None else 0

    def search_officer(session: Session) -> int:
        rows, _total = cases.list_cases(session, actor=pools["case_search_officer"].pick(rnd), limit=50)
        return len(rows)

    def search_number(session: Session) -> int:
        number = tracking_number(rnd.randint(1, max_id))
        return len(cases.list_cases(session, actor=actors.admin, tracking_number=number)[0])

    def search_admin(session: Session) -> int:
        rows, _total = cases.list_cases(session, actor=actors.admin, process_key=rnd.choice(keys), status="running",
                                        limit=50)
        return len(rows)

    def web_inbox(session: Session, actor: Actor) -> int:
        scope = worklist.officer_scope(actor)  # what /kotak-tugas reads (admin/inbox.py)
        table = worklist.list_rows(session, scope=scope, filters=worklist.Filters(), now=NOW, limit=50)
        queues = tasks.queue_counts(session, actor=actor, now=NOW)
        return len(table.rows) if queues and worklist.steps(session, scope=scope) else -1

    def web_officer(session: Session) -> int:
        return web_inbox(session, pools["web_inbox_officer"].pick(rnd))

    def web_supervisor(session: Session) -> int:
        return web_inbox(session, actors.supervisor)

    agencies = frozenset(agency_of(role) for role, _org in actors.supervisor.memberships)

    def web_supervision(session: Session) -> int:
        scope = worklist.agency_scope(agencies)  # what /pengawasan reads of the agency's queue (admin/supervision.py)
        table = worklist.list_rows(session, scope=scope, filters=worklist.Filters(), now=NOW, limit=50)
        return len(table.rows) if worklist.steps(session, scope=scope) else -1

    return {"inbox_page": inbox_page, "inbox_counts": counts, "case_history": history, "tracking": track,
            "case_search_officer": search_officer, "case_search_number": search_number,
            "case_search_admin": search_admin, "web_inbox_officer": web_officer,
            "web_inbox_supervisor": web_supervisor, "web_supervision": web_supervision}


TIMEOUT_S = 10.0


def _server_cpu(session: Session) -> float:
    """Return the CPU seconds the session's PostgreSQL backend has used (0 on SQLite, which runs in this process).

    With the wall time, each query's CPU (this process's and its backend's, `cpu_p50_ms`) is reported: on a
    machine other work shares, the wall time includes waiting for a core, the CPU time does not. Read from
    /proc/<backend pid>/schedstat (nanoseconds), so the cluster must run on this machine, as the bench's does.
    """
    if session.get_bind().dialect.name != "postgresql":
        return 0.0
    pid = session.connection().connection.driver_connection.info.backend_pid
    try:
        return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0]) / 1e9
    except (OSError, ValueError, IndexError):
        return 0.0


def _guard(ctx: AppContext, seconds: float) -> dict[str, float]:
    """Stop any statement running longer than `seconds` (a bad plan must not stall the whole benchmark)."""
    deadline = {"at": float("inf")}

    @event.listens_for(ctx.engine, "connect")
    def _limit(dbapi_conn: Any, _record: Any) -> None:
        if ctx.engine.dialect.name == "postgresql":
            with dbapi_conn.cursor() as cur:
                cur.execute(f"SET statement_timeout = {int(seconds * 1000)}")
            dbapi_conn.commit()
        else:  # SQLite: interrupt the statement from its progress callback
            dbapi_conn.set_progress_handler(lambda: int(time.perf_counter() > deadline["at"]), 10_000)

    ctx.engine.dispose()  # pooled connections were opened without the limit
    return deadline


def run(ctx: AppContext, catalogue: Catalogue, *, samples: int = 200, seed: int = 11,
        only: Collection[str] | None = None) -> dict[str, Any]:
    """Time every query (or those named in `only`) `samples` times after a short warm-up; return percentiles, rows read.

    A sample slower than TIMEOUT_S is stopped; the query is then reported as timed out with the
    samples taken so far, and not sampled further.
    """
    actors = _actors(ctx)
    deadline = _guard(ctx, TIMEOUT_S)
    with ctx.sessions() as session:
        max_id = int(session.scalar(select(func.max(Case.id))) or 0)
    rnd = random.Random(seed)
    keys = [s.key for s in catalogue.services]
    warm = max(3, samples // 20)
    out: dict[str, Any] = {}
    pools: dict[str, Pool] = {}
    for name, sample in _samplers(ctx, actors, rnd, max_id, keys, pools).items():
        if only is not None and name not in only:
            continue
        seconds, cpu, rows, timed_out = [], [], [], False
        per_officer: dict[str, list[float]] = {}
        for n in range(samples + warm):
            session = ctx.sessions()
            try:
                start, cpu_start = time.perf_counter(), time.process_time()
                deadline["at"] = start + TIMEOUT_S
                server = _server_cpu(session)
                read = sample(session)
                elapsed = time.perf_counter() - start
                used = time.process_time() - cpu_start + _server_cpu(session) - server
            except DBAPIError:
                if name in pools and pools[name].drop_last():
                    continue  # go on with the other officers; the report names the one left out
                timed_out = True
                break
            finally:
                session.close()
            if n >= warm:  # warm-up samples fill caches and are not counted
                seconds.append(elapsed)
                cpu.append(used)
                rows.append(read)
                officer = pools[name].last if name in pools else None
                if officer is not None:
                    per_officer.setdefault(officer.username, []).append(elapsed)
        spent = percentiles(cpu)
        out[name] = percentiles(seconds) | {"cpu_p50_ms": spent.get("p50_ms"), "cpu_p95_ms": spent.get("p95_ms"),
                                            "rows_min": min(rows, default=0), "rows_max": max(rows, default=0),
                                            "target_p95_ms": TARGETS_MS.get(name), "timed_out": timed_out,
                                            "timed_out_for": pools[name].excluded if name in pools else [],
                                            "per_officer_p50_ms": {u: round(1000 * statistics.median(v), 2)
                                                                   for u, v in sorted(per_officer.items())}}
        if timed_out:  # what matters is that some samples never finish: report it in the percentiles
            out[name].update(p95_ms=None, p99_ms=None, max_ms=None)
    deadline["at"] = float("inf")
    return out


def main(argv: list[str] | None = None) -> int:
    """Time the queries against a database `python -m bench` (or `seed.seed`) already seeded: no reset, no seeding.

    `python -m bench.queries URL [--samples N] [--only web_inbox_officer,tracking]`: the figures of the
    queries section at the database's present size, to compare a change without seeding again (minutes).
    """
    import argparse

    from bench.__main__ import _context
    from bench.seed import describe

    parser = argparse.ArgumentParser(prog="python -m bench.queries", description=(main.__doc__ or "").splitlines()[0])
    parser.add_argument("url", help="the seeded database, e.g. postgresql+psycopg://postgres@127.0.0.1:55452/mpp_test")
    parser.add_argument("--samples", type=int, default=100)
    parser.add_argument("--only", default="", help="comma-separated query names (default: all)")
    args = parser.parse_args(argv)
    ctx = _context(args.url)
    try:
        out = run(ctx, describe(ctx), samples=args.samples, only=set(args.only.split(",")) if args.only else None)
    finally:
        ctx.engine.dispose()
    for name, q in out.items():
        shown = ("p50", "p95", "p99", "max", "cpu_p50", "cpu_p95")
        print(f"{name:<22} " + "  ".join(f"{p} {q.get(p + '_ms')}" for p in shown)
              + (" TIMED OUT" if q.get("timed_out") else ""), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
