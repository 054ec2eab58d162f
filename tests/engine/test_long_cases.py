"""Cases of any length: the engine's task tree stays bounded however many rounds a loop runs (issue 18)."""

from __future__ import annotations

from typing import Any

import pytest
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import func, select

from engine.bpmn import fastflow as fastflow
from engine.bpmn import state as state
from engine.bpmn.instance import iter_tasks
from engine.context import AppContext
from engine.directory.actors import Actor
from engine.models import Case, CaseState
from tests.conftest import FakeClock
from tests.factories import (
    APPROVED,
    DRAWINGS,
    PAID,
    PBG,
    SIGNED,
    SKRD,
    SPPST,
    Driver,
    add_provider,
    deploy,
    make_user,
    pbg_application,
)

ROUNDS = 1_000
Step = tuple[str, Actor, dict[str, Any]]  # a task to complete (its element id), by whom, with what


def _loaded(ctx: AppContext, case_id: int) -> Any:
    """Load a case from its rows alone (no cache); return its workflow."""
    ctx.rt.cases.clear()
    with ctx.sessions() as session:
        return ctx.rt.load_case(session, case_id).workflow.raw


def _cached(ctx: AppContext, case_id: int) -> Any:
    with ctx.sessions() as session:
        version = session.get(Case, case_id).version  # type: ignore[union-attr]
    hot = ctx.rt.cases.take(case_id, version)
    assert hot is not None, "a committed step leaves the case in the hot cache"
    ctx.rt.cases.put(case_id, hot)
    return hot.workflow.raw


def _settled(full: dict[str, Any]) -> dict[str, Any]:
    """Leave out the data of tasks not yet reached (FUTURE and predicted): a task takes its parent's data when it
    becomes READY, and the stored row of one whose parent changed since is not rewritten (an older behaviour of
    engine.bpmn.state, with or without compaction)."""
    unreached = TaskState.FUTURE | TaskState.PREDICTED_MASK
    tasks = {tid: {**row, "delta": None} if row["state"] & unreached else row for tid, row in full["tasks"].items()}
    return {**full, "tasks": tasks}


def _shape(ctx: AppContext, case_id: int) -> tuple[int, int]:
    """Return the task tree's depth and the case's number of stored rows, checking the rows rebuild the cached tree."""
    cached = state.full_dict(_cached(ctx, case_id))
    workflow = _loaded(ctx, case_id)
    assert _settled(state.full_dict(workflow)) == _settled(cached), "the rows rebuild exactly the workflow in memory"
    with ctx.sessions() as session:
        rows = session.scalar(select(func.count()).select_from(CaseState).where(CaseState.case_id == case_id))
    assert rows is not None
    return max(task.depth for task in iter_tasks(workflow)), rows


def test_a_thousand_revision_rounds_run_to_the_end_with_a_bounded_tree(ctx: AppContext, clock: FakeClock) -> None:
    deploy(ctx, PBG)
    add_provider(ctx, "konsultan_griya", "konsultan")
    applicant = make_user(ctx, "warga")
    front, griya = make_user(ctx, "fo", "dpmptsp.front_office"), make_user(
        ctx, "griya", "konsultan.perencana", org="konsultan_griya")
    tpa, teknis, back = make_user(ctx, "tpa", "pupr.tpa"), make_user(ctx, "teknis", "pupr.teknis"), make_user(
        ctx, "bo", "dpmptsp.back_office")
    kasir, kepala = make_user(ctx, "kasir", "dpmptsp.kasir"), make_user(ctx, "kepala", "dpmptsp.kepala")
    kabid = make_user(ctx, "kabid", "pupr.kepala_bidang")
    d = Driver(ctx)
    case = d.start("pbg", pbg_application(), applicant)
    d.complete(case.id, "Task_kelengkapan", front, {"kelengkapan": "lengkap"})
    d.complete(case.id, "Task_gambar_teknis", griya, DRAWINGS)
    shapes: dict[int, tuple[int, int]] = {}
    for round_no in range(1, ROUNDS + 1):
        if round_no == 300:  # the panel is late once: the boundary timer opens a follow-up beside the loop
            clock.advance(days=11)
            d.run_jobs()
            assert sorted(d.open_ids(case.id)) == ["Task_tindak_lanjut_tpa", "Task_tpa"]
        d.complete(case.id, "Task_tpa", tpa, {"hasil_tpa": "revisi", "catatan_tpa": f"Revisi {round_no}"})
        if round_no == 320:  # the follow-up stayed open across 20 rounds (keeping its fork point); now it closes
            d.complete(case.id, "Task_tindak_lanjut_tpa", kabid, {"catatan_tindak_lanjut": "TPA dihubungi"})
        d.complete(case.id, "Task_revisi", griya, {"catatan_revisi": f"Perbaikan {round_no}"})
        if round_no in (10, 100, 310, 500, ROUNDS):
            shapes[round_no] = _shape(ctx, case.id)
    depth_10, rows_10 = shapes[10]
    slack = fastflow.KEEP + fastflow.SLACK + 10
    for depth, rows in shapes.values():  # at round 310 too, with the follow-up open beside the loop
        assert depth <= depth_10 + slack, shapes
        assert rows <= rows_10 + 2 * slack, shapes
    assert d.case(case.id).data["catatan_revisi"] == f"Perbaikan {ROUNDS}"  # the newest round's data carried on
    d.complete(case.id, "Task_tpa", tpa, APPROVED)
    d.complete(case.id, "Task_sppst", teknis, SPPST)
    d.complete(case.id, "Task_skrd", back, SKRD)
    d.complete(case.id, "Task_pembayaran", applicant, PAID)
    d.complete(case.id, "Task_verifikasi", kasir, {"pembayaran_valid": True})
    assert d.complete(case.id, "Task_tanda_tangan", kepala, SIGNED) == "completed"
    row = d.case(case.id)
    assert (row.status, row.outcome) == ("completed", "PBG terbit")
    assert row.data["nomor_pbg"] == SIGNED["nomor_pbg"]
    assert row.data["catatan_revisi"] == f"Perbaikan {ROUNDS}"
    revisions = [e for e in d.events(case.id) if e.action == "completed" and e.element_id == "Task_revisi"]
    assert len(revisions) == ROUNDS  # the whole history is the case's events, not the task tree


def _same(data: dict[str, Any]) -> dict[str, Any]:
    """The case data without what differs between any two cases (the outbound calls' random tickets)."""
    return {k: v for k, v in data.items() if not (isinstance(v, dict) and "ticket" in v)}


def test_the_tightest_compaction_changes_nothing_a_case_does(ctx: AppContext, clock: FakeClock,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    # Two cases take the same steps, one never compacted, one spliced wherever possible (KEEP 1), through loops,
    # a non-interrupting timer's side branch and the payment's boundary events: they must show the same.
    deploy(ctx, PBG)
    add_provider(ctx, "konsultan_griya", "konsultan")
    applicant = make_user(ctx, "warga")
    officer = make_user(ctx, "petugas", "dpmptsp.front_office", "pupr.tpa", "pupr.teknis", "pupr.kepala_bidang",
                        "dpmptsp.back_office", "dpmptsp.kasir", "dpmptsp.kepala")
    griya = make_user(ctx, "griya", "konsultan.perencana", org="konsultan_griya")
    d = Driver(ctx)
    modes = {"none": (10**6, 0), "tightest": (1, 1)}
    cases = {mode: d.start("pbg", pbg_application(), applicant).id for mode in modes}
    rounds: list[Step] = [("Task_tpa", officer, {"hasil_tpa": "revisi", "catatan_tpa": "perbaiki"}),
                          ("Task_revisi", griya, {"catatan_revisi": "diperbaiki"})]
    late: Step = ("", applicant, {})  # not a task: the panel is late, its timer opens a follow-up beside the loop
    steps: list[Step] = [
        ("Task_kelengkapan", officer, {"kelengkapan": "tidak_lengkap", "catatan_kelengkapan": "KTP buram"}),
        ("Task_melengkapi", applicant, {"keterangan_perbaikan": "KTP baru"}),
        ("Task_kelengkapan", officer, {"kelengkapan": "lengkap"}),
        ("Task_gambar_teknis", griya, DRAWINGS), *rounds * 6, late,
        *rounds * 3, ("Task_tindak_lanjut_tpa", officer, {"catatan_tindak_lanjut": "TPA dihubungi"}), *rounds * 6,
        ("Task_tpa", officer, APPROVED), ("Task_sppst", officer, SPPST), ("Task_skrd", officer, SKRD),
        ("Task_pembayaran", applicant, PAID),
        ("Task_verifikasi", officer, {"pembayaran_valid": False, "catatan_verifikasi": "Nominal kurang"}),
        ("Task_pembayaran", applicant, PAID), ("Task_verifikasi", officer, {"pembayaran_valid": True}),
        ("Task_tanda_tangan", officer, SIGNED)]
    for element, actor, data in steps:
        if not element:  # one job run steps both cases: neither compacts in it
            monkeypatch.setattr(fastflow, "KEEP", modes["none"][0])
            clock.advance(days=11)
            d.run_jobs()
        for mode, (keep, slack) in modes.items():
            monkeypatch.setattr(fastflow, "KEEP", keep)
            monkeypatch.setattr(fastflow, "SLACK", slack)
            if element:
                d.complete(cases[mode], element, actor, data)
        seen = {mode: (sorted(d.open_ids(case_id)), _same(d.case(case_id).data), d.case(case_id).status)
                for mode, case_id in cases.items()}
        assert seen["none"] == seen["tightest"], element
        _shape(ctx, cases["tightest"])  # its rows rebuild exactly the workflow in memory
    rows = {mode: d.case(case_id) for mode, case_id in cases.items()}
    assert {(r.status, r.outcome) for r in rows.values()} == {("completed", "PBG terbit")}
    events = {mode: [(e.action, e.element_id) for e in d.events(case_id)] for mode, case_id in cases.items()}
    assert events["none"] == events["tightest"]
    with ctx.sessions() as session:
        stored = {mode: session.scalar(select(func.count()).select_from(CaseState).where(CaseState.case_id == case_id))
                  or 0 for mode, case_id in cases.items()}
    assert stored["tightest"] < stored["none"] / 2, stored  # it did cut: most of the finished tasks are gone
