"""Jobs: timers and scans that come due. Claimed with row locks, run once, retried after a lease.

A worker claims due jobs in one short transaction (FOR UPDATE SKIP LOCKED on PostgreSQL; SQLite
serialises writers anyway), then runs each job in its own transaction that also marks it done,
so a job's effect and its completion commit together: exactly once. A worker that dies leaves
its jobs `running` until the lease expires, when any worker may claim them again.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from functools import partial

from sqlalchemy import and_, insert, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from engine.bpmn.outbound import OutboundCall
from engine.cases.steps import StepRecord, record_step
from engine.connectors import report as calls
from engine.connectors import service as connectors
from engine.db import run_in_transaction, transaction
from engine.directory.actors import SYSTEM
from engine.documents import isolate as isolate
from engine.documents import service as documents
from engine.models import Case, CaseEvent, Incident, Job, OpenTask
from engine.notify import service as notify
from engine.notify.delivery import deliver
from engine.payments import bills as bills
from engine.privacy import retention as retention
from engine.runtime import Runtime
from engine.sla import clock as sla_clock
from engine.sla.escalation import escalate_overdue

log = logging.getLogger("mpp.jobs")
MAX_ATTEMPTS = 5


def worker_name() -> str:
    """Return an id for this worker process."""
    return f"{socket.gethostname()}:{os.getpid()}"


def claim_due(session: Session, *, now: datetime, worker: str, lease_s: int,
              limit: int = 20) -> list[tuple[int, str]]:
    """Claim up to `limit` due jobs (pending, or running with an expired lease) for this worker: (id, kind) each."""
    due = or_(and_(Job.status == "pending", Job.due_at <= now),
              and_(Job.status == "running", Job.locked_until < now))
    stmt = select(Job.id, Job.kind).where(due).order_by(Job.due_at).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    claimed = [(job_id, kind) for job_id, kind in session.execute(stmt)]
    if claimed:
        session.execute(update(Job).where(Job.id.in_([job_id for job_id, _kind in claimed])).values(
            status="running", locked_by=worker, locked_until=now + timedelta(seconds=lease_s),
            attempts=Job.attempts + 1))
    return claimed


DIED = ("its worker stopped {n} times while running it (the lease ran out each time); "
        "parked for an operator instead of being run again")


def park_dead_jobs(session: Session, *, rt: Runtime, now: datetime) -> int:
    """Park jobs whose worker died while running them MAX_ATTEMPTS times; their cases become incidents.

    A job that kills its process (say the kernel's out-of-memory killer) is never marked failed by
    that process, so without this it would be claimed again after every lease, forever.
    """
    dead = list(session.execute(select(Job.id, Job.kind, Job.case_id, Job.task_id, Job.attempts).where(
        Job.status == "running", Job.locked_until < now, Job.attempts >= MAX_ATTEMPTS)))
    for job in dead:
        message = DIED.format(n=job.attempts)
        session.execute(update(Job).where(Job.id == job.id).values(status="failed", locked_until=None,
                                                                   last_error=message))
        log.error("job %s (%s) parked: %s", job.id, job.kind, message)
        if job.kind != "timer" or job.case_id is None or job.task_id is None:
            continue
        loaded = rt.load_case(session, job.case_id)
        timer = loaded.timers_before.get(job.task_id)
        rt.cases.put_back(job.case_id, loaded)
        element = timer.element_id if timer else ""
        text = f"timer {element}: {message}"
        session.add(Incident(case_id=job.case_id, element_id=element, message=text, created_at=now))
        session.add(CaseEvent(case_id=job.case_id, at=now, actor="system", action="incident", element_id=element,
                              label=text))
        session.execute(update(Case).where(Case.id == job.case_id).values(status="incident"))
    session.flush()
    return len(dead)


def run_job(session: Session, *, rt: Runtime, job_id: int, worker: str,
            draft: documents.Draft | None = None) -> None:
    """Run one claimed job and mark it done, in the caller's transaction (a document job records `draft`)."""
    job = session.get(Job, job_id, with_for_update=session.get_bind().dialect.name == "postgresql")
    if job is None or job.status != "running" or job.locked_by != worker:
        return  # another worker took it over after our lease expired
    if job.kind == "timer" and job.case_id is not None and job.task_id is not None:
        fire_timer(session, rt=rt, case_id=job.case_id, task_id=job.task_id)
    elif job.kind == "overdue_scan":
        flag_overdue(session, now=rt.clock())
        escalate_overdue(session, now=rt.clock())
        scan_bills(session, rt=rt)
    elif job.kind == retention.JOB_KIND:
        retention.run_scheduled(session, settings=rt.settings, now=rt.clock())
    elif job.kind == documents.JOB_KIND and job.case_id is not None:
        documents.issue_for_case(session, rt=rt, case_id=job.case_id, draft=draft)
    elif job.kind == "outbound" and job.payload is not None and not send_outbound(session, rt=rt, job=job):
        return  # rescheduled or given up: the connector has set the job's status
    elif job.kind in notify.JOB_KINDS and not deliver(session, rt=rt, job=job):
        return  # retried later or given up: deliver() has set the job's status
    elif job.kind == "message" and job.payload is not None and pass_message(session, rt=rt, job=job) == 0:
        # Nobody waits for it yet: keep it until a case of the bundle starts waiting (see steps).
        job.status, job.locked_until = "parked", None
        session.flush()
        return
    job.status, job.locked_until = "done", None
    session.flush()


def fire_timer(session: Session, *, rt: Runtime, case_id: int, task_id: str) -> bool:
    """Fire a case's timer and advance the case; False when the timer is no longer waiting."""
    loaded = rt.load_case(session, case_id)
    if not loaded.workflow.fire_timer(task_id):
        return False
    before = loaded.workflow.data()
    timer = loaded.timers_before.get(task_id)
    result = rt.runner.advance(loaded.workflow)
    record_step(session, rt, loaded, result=result, before=before,
                record=StepRecord(SYSTEM.username, "timer_fired", task_id=task_id,
                                  element_id=timer.element_id if timer else None))
    return True


def send_outbound(session: Session, *, rt: Runtime, job: Job) -> bool:
    """Hand a queued service call to its adapter, or to the package's connector description; False when the
    call is to be tried again or was given up (the job's status is set then). Each attempt is recorded."""
    payload = job.payload or {}
    tracking_number = session.scalar(select(Case.tracking_number).where(Case.id == job.case_id))
    call = OutboundCall(operation=str(payload.get("operation")), params=dict(payload.get("params") or {}),
                        ticket=str(payload.get("ticket")), case_id=job.case_id, tracking_number=tracking_number)
    if not rt.adapters.has(call.operation):
        return connectors.send_call(session, rt=rt, job=job, call=call)
    started = time.perf_counter()
    try:
        rt.adapters.send(call, session=session, rt=rt)
    except Exception as exc:  # noqa: BLE001 - handled as run_due_jobs would, but the attempt's row is kept
        log.exception("outbound job %s: the adapter of %s failed", job.id, call.operation)
        _note_adapter(session, rt=rt, job=job, call=call, started=started,
                      outcome="failed" if job.attempts >= MAX_ATTEMPTS else "retry", detail=type(exc).__name__)
        _back_off(job, error=f"{type(exc).__name__}: {exc}", now=rt.clock())
        session.flush()
        return False
    _note_adapter(session, rt=rt, job=job, call=call, started=started, outcome="ok", detail="")
    if job.case_id is not None:
        session.add(CaseEvent(case_id=job.case_id, at=rt.clock(), actor="system", action="sent",
                              label=call.operation, diff={"set": {"ticket": call.ticket}}))
    return True


def _note_adapter(session: Session, *, rt: Runtime, job: Job, call: OutboundCall, started: float, outcome: str,
                  detail: str) -> None:
    attempt = calls.Attempt(case_id=job.case_id, job_id=job.id, operation=call.operation, system=None,
                            attempt=job.attempts, outcome=outcome, http_status=None,
                            duration_s=time.perf_counter() - started, detail=detail)
    calls.record(session, attempt=attempt, at=rt.clock())


def pass_message(session: Session, *, rt: Runtime, job: Job) -> int:
    """Deliver a message a case threw to the other cases of its bundle that wait for it; return how many."""
    from engine.cases.messages import deliver_message

    payload = job.payload or {}
    name, body = str(payload.get("name")), dict(payload.get("payload") or {})
    peers = session.scalars(select(Case.id).where(Case.bundle_id == payload.get("bundle_id"), Case.id != job.case_id,
                                                  Case.status == "running").order_by(Case.id))
    delivered = 0
    for case_id in list(peers):
        loaded = rt.load_case(session, case_id)
        waiting = any(w.name == name for w in loaded.workflow.waits())
        rt.cases.put_back(case_id, loaded)
        if waiting:
            deliver_message(session, rt=rt, case_id=case_id, name=name, payload=body, actor=SYSTEM)
            delivered += 1
    return delivered


def scan_bills(session: Session, *, rt: Runtime) -> None:
    """Expire overdue bills, close those of ended cases, remind those soon due (in a savepoint of its own)."""
    try:
        with session.begin_nested():  # a failing bill must not undo the task flags of the same scan
            bills.scan(session, rt=rt, now=rt.clock())
    except Exception:  # noqa: BLE001 - logged; the next scan tries again
        log.exception("the bill scan failed")


def flag_overdue(session: Session, *, now: datetime) -> int:
    """Flag open tasks past their due time and record it in each case's history; return how many.

    An officer's task of a case whose SLA clock stands still is not late: its due date moves on when
    the pause ends (engine/sla/clock.py).
    """
    late = list(session.execute(select(OpenTask.id, OpenTask.case_id, OpenTask.element_id, OpenTask.name).where(
        OpenTask.overdue.is_(False), OpenTask.due_at.is_not(None), OpenTask.due_at < now,
        sla_clock.task_clock_runs())))
    if not late:
        return 0
    session.execute(update(OpenTask).where(OpenTask.id.in_([r.id for r in late])).values(overdue=True))
    session.execute(insert(CaseEvent), [
        {"case_id": r.case_id, "at": now, "actor": "system", "action": "overdue", "task_id": r.id,
         "element_id": r.element_id, "label": r.name, "diff": None} for r in late])
    notify.on_overdue(session, task_ids=[r.id for r in late], now=now)
    return len(late)


def _fail(factory: sessionmaker[Session], job_id: int, error: str, now: datetime) -> None:
    with transaction(factory) as session:
        job = session.get(Job, job_id)
        if job is None:
            return
        _back_off(job, error=error, now=now)


def _back_off(job: Job, *, error: str, now: datetime) -> None:
    job.last_error = error[:2000]
    if job.attempts >= MAX_ATTEMPTS:
        job.status = "failed"
    else:  # back off: 1, 2, 4, 8 minutes
        job.status, job.due_at = "pending", now + timedelta(minutes=2 ** (job.attempts - 1))
    job.locked_until = None


# Jobs whose work stays in the database (and the content-addressed file store) until they commit, so
# they may run again when PostgreSQL asks (engine.db.run_in_transaction). The others call out (e-mail,
# connectors) or delete files before they commit: they run once, in a transaction of their own.
RERUNNABLE = frozenset({"timer", "overdue_scan", "message", documents.JOB_KIND})


def run_due_jobs(factory: sessionmaker[Session], *, rt: Runtime, worker: str | None = None,
                 limit: int = 20, renders: int = isolate.SERVERS) -> int:
    """Claim and run the jobs due now; return how many ran successfully (`renders`: documents at once)."""
    worker = worker or worker_name()
    now = rt.clock()

    def claim(session: Session) -> list[tuple[int, str]]:
        park_dead_jobs(session, rt=rt, now=now)
        return claim_due(session, now=now, worker=worker, lease_s=rt.settings.job_lease_s, limit=limit)

    claimed = run_in_transaction(factory, claim)
    failed: list[tuple[int, str]] = []
    with factory() as probe:  # no connection taken: the dialect only
        sqlite = probe.get_bind().dialect.name == "sqlite"
    together = _run_together if sqlite else _run_each
    documents_due = [job_id for job_id, kind in claimed if kind == documents.JOB_KIND]
    drafts: dict[int, documents.Draft | None] = {}
    if documents_due:
        # Rendered side by side (a render server each) before the jobs run, not while they run: on SQLite the
        # jobs' transaction holds the write lock, and this process's other threads would only slow it down.
        with ThreadPoolExecutor(max_workers=max(1, min(renders, isolate.SERVERS, len(documents_due))),
                                thread_name_prefix="mpp-render") as pool:
            pending = {job_id: pool.submit(_draft, factory, rt=rt, job_id=job_id, worker=worker)
                       for job_id in documents_due}
            for job_id, future in pending.items():
                try:
                    drafts[job_id] = future.result()
                except Exception as exc:  # noqa: BLE001 - a job failure must not stop the worker
                    failed.append(_failure(job_id, exc))
    unrendered = {job_id for job_id, _ in failed}
    runnable = [(job_id, kind) for job_id, kind in claimed if job_id not in unrendered]
    done = together(factory, rt=rt, jobs=runnable, worker=worker, drafts=drafts, failed=failed)
    for job_id, error in failed:
        _fail(factory, job_id, error, rt.clock())
    return done


def _failure(job_id: int, exc: Exception) -> tuple[int, str]:
    log.error("job %s failed", job_id, exc_info=exc)
    return job_id, f"{type(exc).__name__}: {exc}"


def _run_each(factory: sessionmaker[Session], *, rt: Runtime, jobs: list[tuple[int, str]], worker: str,
              drafts: dict[int, documents.Draft | None], failed: list[tuple[int, str]]) -> int:
    """Run each job in a transaction of its own (PostgreSQL: row locks keep the jobs and requests apart)."""
    done = 0
    for job_id, kind in jobs:
        run = partial(run_job, rt=rt, job_id=job_id, worker=worker, draft=drafts.get(job_id))
        try:
            if kind in RERUNNABLE:
                run_in_transaction(factory, run)
            else:
                with transaction(factory) as session:
                    run(session)
            done += 1
        except Exception as exc:  # noqa: BLE001 - a job failure must not stop the worker
            failed.append(_failure(job_id, exc))
    return done


# SQLite: the jobs of a claim share a transaction (and the write lock) until it has run this long; the rest
# go in the next. So the lock is held at most this long plus the last job (a slow outside call included).
BATCH_S = 0.05


def _run_together(factory: sessionmaker[Session], *, rt: Runtime, jobs: list[tuple[int, str]], worker: str,
                  drafts: dict[int, documents.Draft | None], failed: list[tuple[int, str]]) -> int:
    """SQLite: run the claimed jobs in one transaction that takes the write lock at BEGIN, each in a savepoint.

    A request's transaction reads without a lock and takes it at its first write, which fails if any other
    transaction committed since its first read (a stale snapshot) or holds the lock then; the request then
    runs again from the start. With one commit per job, a worker catching up committed every few
    milliseconds and 7-10 % of task completions over HTTP ran twice (issue 18); one commit per claim fails
    at most the request in progress, whose second attempt waits for the lock (a third as many re-runs,
    bench/REPORT.md's set-up with its own worker). Each job's effect and its completion still go together
    (its savepoint), a failing job is undone alone, a transaction takes no new job after `BATCH_S`, and
    nothing can fail the commit for want of the lock, so a job that sent an e-mail or called out does not
    run again, as when it had a transaction of its own.
    """
    done, left = 0, list(jobs)
    while left:
        with transaction(factory) as session:
            ends = time.monotonic() + BATCH_S
            while left:
                job_id, _kind = left.pop(0)
                try:
                    with session.begin_nested():
                        run_job(session, rt=rt, job_id=job_id, worker=worker, draft=drafts.get(job_id))
                    done += 1
                except Exception as exc:  # noqa: BLE001 - a job failure must not stop the others
                    failed.append(_failure(job_id, exc))
                if time.monotonic() >= ends:
                    break
    return done


def _draft(factory: sessionmaker[Session], *, rt: Runtime, job_id: int, worker: str) -> documents.Draft | None:
    """Render a document job's PDF in a read-only transaction, before the job's own (see below)."""
    # The render waits tens of milliseconds on the renderer. Inside the job's transaction, on SQLite, any
    # request committing meanwhile made the job lose its write (stale snapshot), and its second attempt,
    # which takes the write lock at BEGIN, then held it through a whole render: every request wanting to
    # write in that time failed at once and ran again (issue 18). The job's transaction now only records.
    with factory() as session:  # nothing written: closing rolls the read back
        job = session.get(Job, job_id)
        if job is None or job.status != "running" or job.locked_by != worker or job.case_id is None:
            return None
        return documents.draft_for_case(session, rt=rt, case_id=job.case_id)


def ensure_overdue_scan(session: Session, *, now: datetime, every_s: int = 300) -> None:
    """Keep one pending overdue scan scheduled."""
    exists = session.scalar(select(Job.id).where(Job.kind == "overdue_scan", Job.status.in_(("pending", "running"))))
    if exists is None:
        session.add(Job(kind="overdue_scan", due_at=now + timedelta(seconds=every_s), status="pending"))
        session.flush()


def _ensure_scheduled(session: Session, *, now: datetime) -> None:
    ensure_overdue_scan(session, now=now)
    retention.ensure_scheduled(session, now=now)


def yield_to_requests(nice: int) -> None:
    """Lower the calling thread's priority by `nice` (Linux keeps one per thread; the threads and processes it
    starts, such as the document renderers, inherit it); so a worker in the API process leaves its requests alone."""
    if nice <= 0 or not hasattr(os, "setpriority"):
        return
    thread = threading.get_native_id()
    try:
        os.setpriority(os.PRIO_PROCESS, thread, min(19, os.getpriority(os.PRIO_PROCESS, thread) + nice))
    except OSError as exc:  # a sandbox that refuses it: the worker runs, only at the requests' priority
        log.warning("worker: could not lower its priority: %s", exc)


def work_forever(factory: sessionmaker[Session], *, rt: Runtime, stop: object | None = None,
                 renders: int = isolate.SERVERS) -> None:
    """Poll for due jobs until `stop` (a threading.Event) is set, rendering up to `renders` documents at once.

    The worker `mpp serve` embeds renders one at a time: in the one process of `make run` a second render took
    CPU from its requests (one-process SQLite at 32 clients, three interleaved runs each: 11.2-11.5 PBG cases/s,
    complete p95 237-278 ms with one; 9.7-11.9 cases/s, 239-302 ms with two; the documents caught up 1-2 s sooner).
    """
    worker = worker_name()
    yield_to_requests(rt.settings.worker_nice)
    log.info("worker %s started", worker)
    while not (stop is not None and stop.is_set()):  # type: ignore[attr-defined]
        try:
            run_in_transaction(factory, lambda session: _ensure_scheduled(session, now=rt.clock()))
            ran = run_due_jobs(factory, rt=rt, worker=worker, renders=renders)
        except Exception:  # noqa: BLE001 - keep polling through a database hiccup
            log.exception("worker loop failed")
            ran = 0
        if ran == 0:
            time.sleep(rt.settings.worker_poll_s)
