"""The job worker: how a claim's jobs commit, and a document rendered before the transaction that records it."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import sys
import threading
from datetime import timedelta

import pytest
from sqlalchemy import event, select, update

from engine.context import AppContext
from engine.db import transaction
from engine.documents import service as documents
from engine.documents.signing import signer_for
from engine.jobs import service as jobs
from engine.jobs.service import run_due_jobs
from engine.models import Case, Job
from tests.documents import complete_pbg, pbg_cast


def _due_jobs(ctx: AppContext, *jobs: Job) -> list[int]:
    with transaction(ctx.sessions) as session:
        session.add_all(jobs)
        session.flush()
        return [job.id for job in jobs]


def test_a_claims_jobs_commit_together_on_sqlite_and_each_alone_on_postgresql(ctx: AppContext) -> None:
    due = ctx.rt.clock() - timedelta(seconds=1)
    ids = _due_jobs(ctx, *(Job(kind="overdue_scan", status="pending", due_at=due) for _ in range(3)))
    commits: list[object] = []
    count = commits.append  # one bound method, to remove the same listener
    event.listen(ctx.engine, "commit", count)
    try:
        assert run_due_jobs(ctx.sessions, rt=ctx.rt) == 3
    finally:
        event.remove(ctx.engine, "commit", count)
    with ctx.sessions() as session:
        assert set(session.scalars(select(Job.status).where(Job.id.in_(ids)))) == {"done"}
    # SQLite: the claim, then one commit for the three (each commit fails the requests reading meanwhile);
    # PostgreSQL: the claim, then one per job.
    assert len(commits) == (2 if ctx.engine.dialect.name == "sqlite" else 4)


def test_on_sqlite_a_transaction_takes_no_new_job_past_its_time(ctx: AppContext, monkeypatch: pytest.MonkeyPatch,
                                                                  ) -> None:
    if ctx.engine.dialect.name != "sqlite":
        pytest.skip("SQLite only: on PostgreSQL each job has a transaction of its own")
    monkeypatch.setattr(jobs, "BATCH_S", 0.0)  # each transaction is past its time after its first job
    due = ctx.rt.clock() - timedelta(seconds=1)
    _due_jobs(ctx, *(Job(kind="overdue_scan", status="pending", due_at=due) for _ in range(3)))
    commits: list[object] = []
    count = commits.append
    event.listen(ctx.engine, "commit", count)
    try:
        assert run_due_jobs(ctx.sessions, rt=ctx.rt) == 3
    finally:
        event.remove(ctx.engine, "commit", count)
    assert len(commits) == 4  # the claim, then one per job


def test_a_failing_job_is_undone_alone_and_the_others_of_its_claim_are_done(ctx: AppContext) -> None:
    due = ctx.rt.clock() - timedelta(seconds=1)
    # An outside call no adapter and no package describes: the job fails (and backs off), the scans run.
    broken = Job(kind="outbound", status="pending", due_at=due, payload={"operation": "tidak_ada", "ticket": "t-1"})
    scan_before, failing, scan_after = _due_jobs(ctx, Job(kind="overdue_scan", status="pending", due_at=due), broken,
                                                 Job(kind="overdue_scan", status="pending", due_at=due))
    assert run_due_jobs(ctx.sessions, rt=ctx.rt) == 2
    with ctx.sessions() as session:
        rows = {job.id: job for job in session.scalars(select(Job).where(Job.id.in_([scan_before, failing,
                                                                                      scan_after])))}
    assert (rows[scan_before].status, rows[scan_after].status) == ("done", "done")
    assert rows[failing].status == "pending"  # backed off, to be tried again
    assert rows[failing].attempts == 1
    assert "UnknownOperation" in (rows[failing].last_error or "")
    assert rows[failing].due_at is not None
    assert rows[failing].due_at > due


def test_a_document_is_rendered_without_the_write_lock_and_recorded_as_drafted(ctx: AppContext) -> None:
    cast = pbg_cast(ctx)
    case_id = complete_pbg(ctx, cast).id
    holder = None
    if ctx.engine.dialect.name == "sqlite":  # another writer holds the lock all through the render
        holder = sqlite3.connect(str(ctx.engine.url.database), isolation_level=None, timeout=0)
        holder.execute("BEGIN IMMEDIATE")
    try:
        with ctx.sessions() as session:
            draft = documents.draft_for_case(session, rt=ctx.rt, case_id=case_id)
    finally:
        if holder is not None:
            holder.execute("ROLLBACK")
            holder.close()
    assert draft is not None
    with transaction(ctx.sessions) as session:
        row = documents.issue_for_case(session, rt=ctx.rt, case_id=case_id, draft=draft)
        assert row is not None
        assert (row.verify_code, row.sha256, row.issued_at) == (draft.code, hashlib.sha256(draft.data).hexdigest(),
                                                                draft.now)
    with ctx.sessions() as session:
        assert documents.draft_for_case(session, rt=ctx.rt, case_id=case_id) is None  # issued: nothing to draft
        view = documents.public_view(session, code=draft.code, signer=signer_for(ctx.settings))
    assert view is not None
    assert view.status == "authentic"


def test_a_draft_of_a_case_that_changed_since_is_rendered_again(ctx: AppContext) -> None:
    cast = pbg_cast(ctx)
    case_id = complete_pbg(ctx, cast).id
    with ctx.sessions() as session:
        draft = documents.draft_for_case(session, rt=ctx.rt, case_id=case_id)
    assert draft is not None
    with transaction(ctx.sessions) as session:
        session.execute(update(Case).where(Case.id == case_id).values(version=Case.version + 1))
    with transaction(ctx.sessions) as session:
        row = documents.issue_for_case(session, rt=ctx.rt, case_id=case_id, draft=draft)
        assert row is not None
        code, digest = row.verify_code, row.sha256
    assert code != draft.code  # rendered afresh, with a code of its own
    assert digest != hashlib.sha256(draft.data).hexdigest()
    with ctx.sessions() as session:
        view = documents.public_view(session, code=code, signer=signer_for(ctx.settings))
    assert view is not None
    assert view.status == "authentic"


def test_a_claims_documents_render_side_by_side_then_all_its_jobs_are_done(ctx: AppContext) -> None:
    cast = pbg_cast(ctx)
    case_ids = [complete_pbg(ctx, cast).id for _ in range(3)]  # three documents due, with their mail and calls
    due = ctx.rt.clock() - timedelta(seconds=1)
    [scan] = _due_jobs(ctx, Job(kind="overdue_scan", status="pending", due_at=due))
    with ctx.sessions() as session:
        claimed = list(session.scalars(select(Job.id).where(Job.status == "pending", Job.due_at <= ctx.rt.clock())))
    assert run_due_jobs(ctx.sessions, rt=ctx.rt, limit=len(claimed)) == len(claimed)  # one claim: all of them
    with ctx.sessions() as session:
        assert set(session.scalars(select(Job.status).where(Job.id.in_(claimed)))) == {"done"}
        assert scan in claimed
        for case_id in case_ids:
            [issued] = documents.list_for_case(session, case_id=case_id)
            view = documents.public_view(session, code=issued.verify_code, signer=signer_for(ctx.settings))
            assert view is not None
            assert view.status == "authentic"


def test_the_worker_lowers_its_own_threads_priority_and_leaves_the_requests_threads_alone() -> None:
    seen: dict[str, int] = {}

    def worker_thread() -> None:
        me = threading.get_native_id()
        before = os.getpriority(os.PRIO_PROCESS, me)
        jobs.yield_to_requests(10)
        seen["worker"] = os.getpriority(os.PRIO_PROCESS, me) - before
        seen["renderer"] = int(subprocess.run([sys.executable, "-c", "import os; print(os.nice(0))"],  # noqa: S603
                                              capture_output=True, text=True, check=True).stdout) - before

    main = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    thread = threading.Thread(target=worker_thread)
    thread.start()
    thread.join()
    assert seen == {"worker": min(10, 19 - main), "renderer": min(10, 19 - main)}  # what it starts inherits it
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == main


def test_a_worker_given_one_render_renders_one_document_at_a_time(ctx: AppContext,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    cast = pbg_cast(ctx)
    case_ids = [complete_pbg(ctx, cast).id for _ in range(2)]
    drafting, most = [0], [0]
    lock = threading.Lock()
    draft = jobs._draft

    def counted(*args: object, **kwargs: object) -> documents.Draft | None:  # the real render, counted
        with lock:
            drafting[0] += 1
            most[0] = max(most[0], drafting[0])
        try:
            return draft(*args, **kwargs)  # type: ignore[arg-type]
        finally:
            with lock:
                drafting[0] -= 1

    monkeypatch.setattr(jobs, "_draft", counted)
    while run_due_jobs(ctx.sessions, rt=ctx.rt, limit=100, renders=1):
        pass
    assert most == [1]
    with ctx.sessions() as session:
        assert all(len(documents.list_for_case(session, case_id=case_id)) == 1 for case_id in case_ids)
