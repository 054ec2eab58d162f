"""Every attempt of a connector call leaves a row: outcome, HTTP status, duration; summed per operation."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from engine.bpmn.outbound import FileDropAdapter
from engine.connectors import report
from engine.context import AppContext
from engine.db import transaction
from engine.directory.actors import Actor
from engine.metrics import snapshot
from engine.models import ConnectorCall, Job
from tests.conftest import FakeClock
from tests.engine.test_connectors import START, connector_package, officer, partner
from tests.factories import Driver, deploy, make_user
from tests.simulators.partner import Partner

__all__ = ["officer", "partner"]  # fixtures shared with the connector tests


def _calls(ctx: AppContext, case_id: int) -> list[ConnectorCall]:
    with ctx.sessions() as session:
        return report.case_calls(session, case_id)


def test_a_503_then_201_leaves_a_retry_row_then_an_ok_row(
        ctx: AppContext, clock: FakeClock, partner: Partner, officer: Actor) -> None:
    d = Driver(ctx)
    partner.reply(503, {"error": "sibuk", "token": "jangan-disimpan"})
    partner.reply(201, {"data": {"nomor": "MUT-9"}})
    case = d.start("mutasi", START, officer)
    d.run_jobs()
    clock.advance(seconds=30)
    d.run_jobs()
    newest, oldest = _calls(ctx, case.id)
    assert (oldest.attempt, oldest.outcome, oldest.http_status) == (1, "retry", 503)
    assert (newest.attempt, newest.outcome, newest.http_status) == (2, "ok", 201)
    assert {c.operation for c in (newest, oldest)} == {"bpjs_tk.transfer"}
    assert {c.system for c in (newest, oldest)} == {"bpjs_tk"}
    assert oldest.duration_ms >= 0
    assert newest.duration_ms >= 0
    assert "jangan-disimpan" not in oldest.detail  # the partner's body is not kept
    assert newest.at > oldest.at
    with ctx.sessions() as session:
        job_id = session.scalar(select(Job.id).where(Job.case_id == case.id, Job.kind == "outbound"))
    assert {c.job_id for c in (newest, oldest)} == {job_id}


def test_a_refusal_is_one_refused_row_with_its_status(ctx: AppContext, partner: Partner, officer: Actor) -> None:
    d = Driver(ctx)
    partner.reply(422, {"error": "NIK tidak terdaftar"})
    case = d.start("mutasi", START, officer)
    d.run_jobs()
    [row] = _calls(ctx, case.id)
    assert (row.outcome, row.http_status, row.attempt) == ("refused", 422, 1)
    assert "422" in row.detail
    assert len(row.detail) <= report.DETAIL_MAX


def test_a_timeout_is_a_retry_row_without_a_status(
        ctx: AppContext, partner: Partner, officer: Actor) -> None:
    partner.stall(2.0)
    case = Driver(ctx).start("mutasi", START, officer)
    Driver(ctx).run_jobs()
    [row] = _calls(ctx, case.id)
    assert (row.outcome, row.http_status) == ("retry", None)
    assert row.duration_ms >= 400  # the operation's 0.5 s timeout was waited for
    assert "no answer within" in row.detail


def test_a_built_in_adapter_call_is_recorded_ok_and_its_failure_by_exception_class(
        ctx: AppContext, clock: FakeClock, tmp_path: Path) -> None:
    deploy(ctx, connector_package("serah", operation="disdukcapil.serahkan", connectors=None))
    officer = make_user(ctx, "petugas_serah", "dinas.petugas")
    d = Driver(ctx)
    ok_case = d.start("serah", START, officer)
    d.run_jobs()
    [ok] = _calls(ctx, ok_case.id)
    assert (ok.operation, ok.system, ok.outcome, ok.http_status, ok.detail) == (
        "disdukcapil.serahkan", None, "ok", None, "")
    blocker = tmp_path / "bukan-folder"
    blocker.write_text("x")
    ctx.rt.adapters.adapters["disdukcapil.serahkan"] = FileDropAdapter(blocker / "disdukcapil")
    failed_case = d.start("serah", START, officer)
    d.run_jobs()
    [first] = _calls(ctx, failed_case.id)
    assert (first.outcome, first.attempt) == ("retry", 1)  # the job is tried again, as any failed job
    assert first.detail in {"FileExistsError", "NotADirectoryError"}  # the exception's class, not its text
    for _ in range(4):
        clock.advance(minutes=10)
        d.run_jobs()
    calls = _calls(ctx, failed_case.id)
    assert [c.outcome for c in calls] == ["failed", "retry", "retry", "retry", "retry"]
    assert [c.attempt for c in calls] == [5, 4, 3, 2, 1]


def test_the_report_gives_error_rate_retries_and_p95_per_operation_over_24_hours(
        ctx: AppContext, clock: FakeClock) -> None:
    now = clock.now
    rows = ([("a.kirim", "ok", ms) for ms in range(10, 170, 10)]  # 16 ok: 10..160 ms
            + [("a.kirim", "retry", 500), ("a.kirim", "refused", 900), ("a.kirim", "failed", 1000),
               ("a.kirim", "ok", 2000), ("b.cek", "ok", 5)])
    with transaction(ctx.sessions) as session:
        for operation, outcome, ms in rows:
            report.record(session, attempt=report.Attempt(
                case_id=None, job_id=None, operation=operation, system="x", attempt=1, outcome=outcome,
                http_status=None, duration_s=ms / 1000), at=now - timedelta(minutes=5))
        report.record(session, attempt=report.Attempt(  # older than 24 hours: left out
            case_id=None, job_id=None, operation="a.kirim", system="x", attempt=1, outcome="failed",
            http_status=None, duration_s=9.0), at=now - timedelta(hours=25))
    with ctx.sessions() as session:
        a, b = report.operation_report(session, now=now)
    assert (a.operation, a.calls, a.errors, a.retries) == ("a.kirim", 20, 2, 1)
    assert a.error_rate == pytest.approx(0.1)
    assert a.p95_ms == 1000  # nearest rank: the 19th of 20 sorted durations
    assert (b.operation, b.calls, b.errors, b.error_rate, b.p95_ms) == ("b.cek", 1, 0, 0.0, 5)


def test_the_metrics_snapshot_counts_calls_and_buckets_durations(ctx: AppContext, clock: FakeClock) -> None:
    with transaction(ctx.sessions) as session:
        for outcome, ms in (("ok", 40), ("ok", 300), ("retry", 3000)):
            report.record(session, attempt=report.Attempt(
                case_id=None, job_id=None, operation="a.kirim", system="x", attempt=1, outcome=outcome,
                http_status=None, duration_s=ms / 1000), at=clock.now)
    with ctx.sessions() as session:
        snap = snapshot(session, now=clock.now)
    assert snap.connector_calls == {("a.kirim", "ok"): 2, ("a.kirim", "retry"): 1}
    [latency] = snap.connector_seconds
    assert (latency.operation, latency.count, latency.sum_s) == ("a.kirim", 3, pytest.approx(3.34))
    assert latency.buckets == (1, 1, 1, 2, 2, 2, 3, 3, 3)  # cumulative at 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30 s


def test_an_unknown_outcome_is_refused(ctx: AppContext, clock: FakeClock) -> None:
    with transaction(ctx.sessions) as session, pytest.raises(ValueError, match="outcome"):
        report.record(session, attempt=report.Attempt(
            case_id=None, job_id=None, operation="a", system=None, attempt=1, outcome="meh", http_status=None,
            duration_s=0.0), at=clock.now)
