"""Cases through the engine: durable state, conflicts, versions, restarts, incidents."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from engine.bpmn import state as state
from engine.bpmn.compile import RunResult
from engine.cases.steps import StepRecord, record_step
from engine.cases.tasks import complete_task
from engine.context import AppContext, build_context
from engine.db import transaction
from engine.errors import CaseConflict, InvalidInput, ProcessNotFound
from engine.models import Case, CaseState, Incident
from forms.validation import FormInvalid
from tests.conftest import FakeClock
from tests.factories import PBG, Driver, add_provider, deploy, make_user, pbg_application
from tests.packages import simple_package


def _fresh_state(ctx: AppContext, case_id: int) -> dict[str, object]:
    """Load a case from its rows alone (no cache) and serialize it in full."""
    ctx.rt.cases.clear()
    with ctx.sessions() as session:
        loaded = ctx.rt.load_case(session, case_id)
        return state.full_dict(loaded.workflow.raw)


def _cached_state(ctx: AppContext, case_id: int) -> dict[str, object]:
    with ctx.sessions() as session:
        version = session.get(Case, case_id).version  # type: ignore[union-attr]
    hot = ctx.rt.cases.take(case_id, version)
    assert hot is not None, "a committed step leaves the case in the hot cache"
    ctx.rt.cases.put(case_id, hot)
    return state.full_dict(hot.workflow.raw)


def test_rows_written_step_by_step_rebuild_the_exact_workflow(ctx: AppContext, clock: FakeClock) -> None:
    deploy(ctx, PBG)
    add_provider(ctx, "konsultan_griya", "konsultan")
    applicant = make_user(ctx, "warga")
    officer = make_user(ctx, "all", "dpmptsp.front_office", "pupr.tpa", "pupr.teknis", "pupr.kepala_bidang")
    griya = make_user(ctx, "griya", "konsultan.perencana", org="konsultan_griya")
    d = Driver(ctx)
    case = d.start("pbg", pbg_application(), applicant)
    steps = [
        ("Task_kelengkapan", officer, {"kelengkapan": "tidak_lengkap", "catatan_kelengkapan": "KTP buram"}),
        ("Task_melengkapi", applicant, {"keterangan_perbaikan": "KTP baru"}),
        ("Task_kelengkapan", officer, {"kelengkapan": "lengkap"}),
        ("Task_gambar_teknis", griya, {"gambar_arsitektur": ["file:1"], "gambar_struktur": ["file:2"],
                                       "gambar_mep": ["file:3"], "nama_penanggung_jawab": "X",
                                       "nomor_sertifikat_keahlian": "1"}),
        ("Task_tpa", officer, {"hasil_tpa": "revisi", "catatan_tpa": "kurang detail"}),
        ("Task_revisi", griya, {"catatan_revisi": "diperbaiki"}),
    ]
    for element, actor, data in steps:
        cached = _cached_state(ctx, case.id)
        assert _fresh_state(ctx, case.id) == cached
        d.complete(case.id, element, actor, data)
    clock.advance(days=11)  # the TPA escalation timer fires: a boundary event with a parallel branch
    d.run_jobs()
    assert {t.element_id for t in d.open_tasks(case.id)} == {"Task_tpa", "Task_tindak_lanjut_tpa"}
    cached = _cached_state(ctx, case.id)
    assert _fresh_state(ctx, case.id) == cached


def test_a_step_writes_only_the_rows_that_changed(ctx: AppContext) -> None:
    deploy(ctx, simple_package("ulang", shape="loop"))
    officer = make_user(ctx, "petugas", "dinas.petugas")
    d = Driver(ctx)
    case = d.start("ulang", {"harga": 1, "jumlah": 1}, officer)
    written: list[int] = []
    for i in range(30):
        with ctx.sessions() as session:
            before = {r.task_id: r.payload for r in session.query(CaseState).filter_by(case_id=case.id)}
        d.complete(case.id, "Task_periksa", officer, {"catatan": f"putaran {i}"})
        with ctx.sessions() as session:
            after = {r.task_id: r.payload for r in session.query(CaseState).filter_by(case_id=case.id)}
        written.append(sum(1 for k, v in after.items() if before.get(k) != v))
    # Now and then a compaction splice (engine/bpmn/fastflow.py) re-links two finished tasks: two rows more.
    steady = min(written[5:])
    assert all(steady <= n <= steady + 2 for n in written[5:]), f"rows written per step must not grow: {written}"
    assert written[-1] < 10


def test_two_officers_completing_one_task_at_once_give_one_success_and_one_conflict(ctx: AppContext) -> None:
    deploy(ctx, simple_package())
    first = make_user(ctx, "petugas1", "dinas.petugas")
    second = make_user(ctx, "petugas2", "dinas.petugas")
    d = Driver(ctx)
    case = d.start("uji", {"harga": 1000, "jumlah": 3}, first)
    task_id = d.task(case.id, "Task_periksa").id
    barrier = threading.Barrier(2)
    outcomes: dict[str, object] = {}

    def attempt(actor_name: str, actor: object) -> None:
        barrier.wait()
        try:
            with transaction(ctx.sessions) as session:
                complete_task(session, rt=ctx.rt, task_id=task_id, actor=actor,  # type: ignore[arg-type]
                              data={"catatan": actor_name})
            outcomes[actor_name] = "ok"
        except CaseConflict as exc:
            outcomes[actor_name] = exc

    threads = [threading.Thread(target=attempt, args=(n, a)) for n, a in (("a", first), ("b", second))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(str(type(v).__name__) for v in outcomes.values()).count("str") == 1
    assert sum(isinstance(v, CaseConflict) for v in outcomes.values()) == 1
    completions = [e for e in d.events(case.id) if e.action == "completed" and e.task_id == task_id]
    assert len(completions) == 1
    assert d.case(case.id).status == "completed"


def test_a_stale_workflow_cannot_overwrite_a_newer_version(ctx: AppContext) -> None:
    deploy(ctx, simple_package("ulang", shape="loop"))
    officer = make_user(ctx, "petugas", "dinas.petugas")
    d = Driver(ctx)
    case = d.start("ulang", {"harga": 1, "jumlah": 1}, officer)
    ctx.rt.cases.clear()
    with ctx.sessions() as session:
        stale = ctx.rt.load_case(session, case.id)
    d.complete(case.id, "Task_periksa", officer, {"catatan": "pertama"})
    ctx.rt.runner.complete(stale.workflow, next(iter(stale.open_before)), {"catatan": "basi"})
    with pytest.raises(CaseConflict), transaction(ctx.sessions) as session:
        record_step(session, ctx.rt, stale, result=RunResult(), record=StepRecord("stale", "completed"), before={})
    assert d.case(case.id).data["catatan"] == "pertama"


def test_versions_run_side_by_side(ctx: AppContext) -> None:
    assert deploy(ctx, simple_package(task_name="Periksa berkas")).version == 1
    officer = make_user(ctx, "petugas", "dinas.petugas")
    d = Driver(ctx)
    old = d.start("uji", {"harga": 10, "jumlah": 2}, officer)
    again = deploy(ctx, simple_package(task_name="Periksa berkas"))
    assert (again.version, again.created) == (1, False)
    assert deploy(ctx, simple_package(task_name="Verifikasi berkas")).version == 2
    new = d.start("uji", {"harga": 10, "jumlah": 2}, officer)
    assert d.task(old.id, "Task_periksa").name == "Periksa berkas"
    assert d.task(new.id, "Task_periksa").name == "Verifikasi berkas"
    ctx.rt.cases.clear()
    assert d.complete(old.id, "Task_periksa", officer, {"catatan": "ok"}) == "completed"
    assert d.case(old.id).data["total"] == 20


def test_a_due_timer_fires_after_a_restart(ctx: AppContext, clock: FakeClock) -> None:
    deploy(ctx, PBG)
    add_provider(ctx, "konsultan_griya", "konsultan")
    applicant = make_user(ctx, "warga")
    officer = make_user(ctx, "fo", "dpmptsp.front_office")
    griya = make_user(ctx, "griya", "konsultan.perencana", org="konsultan_griya")
    d = Driver(ctx)
    case = d.start("pbg", pbg_application(), applicant)
    d.complete(case.id, "Task_kelengkapan", officer, {"kelengkapan": "lengkap"})
    d.complete(case.id, "Task_gambar_teknis", griya, {
        "gambar_arsitektur": ["file:1"], "gambar_struktur": ["file:2"], "gambar_mep": ["file:3"],
        "nama_penanggung_jawab": "X", "nomor_sertifikat_keahlian": "1"})
    ctx.engine.dispose()
    clock.advance(days=12)
    restarted = build_context(ctx.settings, migrate=False, clock=clock)  # a new process: empty caches
    try:
        Driver(restarted).run_jobs()
        assert {t.element_id for t in Driver(restarted).open_tasks(case.id)} == {"Task_tpa", "Task_tindak_lanjut_tpa"}
    finally:
        restarted.engine.dispose()


def test_a_failing_script_becomes_an_incident_and_is_retried_after_a_fix(ctx: AppContext) -> None:
    deploy(ctx, simple_package(script="total = harga / (jumlah - jumlah)"))
    officer = make_user(ctx, "petugas", "dinas.petugas")
    d = Driver(ctx)
    case = d.start("uji", {"harga": 10, "jumlah": 2}, officer)
    row = d.case(case.id)
    assert row.status == "incident"
    with ctx.sessions() as session:
        incident = session.query(Incident).filter_by(case_id=case.id).one()
    assert incident.element_id == "Script_hitung"
    assert "ZeroDivisionError" in incident.message
    deploy(ctx, simple_package(script="total = harga * jumlah"))
    from engine.cases.service import retry_incident
    from engine.directory.actors import SYSTEM

    with transaction(ctx.sessions) as session:
        assert retry_incident(session, rt=ctx.rt, case_id=case.id, actor=SYSTEM) == "running"
    assert d.case(case.id).data["total"] == 20
    assert d.complete(case.id, "Task_periksa", officer, {"catatan": "ok"}) == "completed"


def test_an_escape_in_a_diagram_is_refused_at_deploy(ctx: AppContext) -> None:
    from engine.catalogue.package import from_files
    from engine.errors import PackageInvalid

    good = simple_package()
    evil = dict(good.files)
    evil["process.bpmn"] = good.files["process.bpmn"].replace(
        b"total = harga * jumlah", b"total = [c for c in (lambda: 0).__class__.__mro__]")
    with pytest.raises(PackageInvalid) as info:
        deploy(ctx, from_files(evil, source="evil"))
    assert [p.element_id for p in info.value.problems] == ["Script_hitung"]
    with ctx.sessions() as session:
        assert session.query(Case).count() == 0


def test_a_sandbox_limit_hit_at_run_time_is_an_incident_not_a_crash(ctx: AppContext) -> None:
    deploy(ctx, simple_package("besar", script="total = 'x' * (harga * jumlah)"))
    officer = make_user(ctx, "petugas", "dinas.petugas")
    d = Driver(ctx)
    case = d.start("besar", {"harga": 10**6, "jumlah": 10**4}, officer)
    assert d.case(case.id).status == "incident"
    with ctx.sessions() as session:
        incident = session.query(Incident).filter_by(case_id=case.id).one()
    assert incident.element_id == "Script_hitung"
    ctx.rt.cases.clear()
    with ctx.sessions() as session:  # the case stays loadable
        assert ctx.rt.load_case(session, case.id).row.status == "incident"
    small = d.start("besar", {"harga": 2, "jumlah": 3}, officer)
    assert d.case(small.id).data["total"] == "xxxxxx"


def test_an_endless_script_cycle_is_stopped_by_the_step_budget(ctx: AppContext) -> None:
    ctx.rt.runner.step_budget = 300
    deploy(ctx, simple_package("putar", shape="endless"))
    officer = make_user(ctx, "petugas", "dinas.petugas")
    d = Driver(ctx)
    case = d.start("putar", {"harga": 1, "jumlah": 1}, officer)
    d.complete(case.id, "Task_periksa", officer, {"catatan": "lanjut"})
    assert d.case(case.id).status == "incident"
    with ctx.sessions() as session:
        assert "stopped after" in session.query(Incident).filter_by(case_id=case.id).one().message


def test_bad_start_data_saves_nothing(ctx: AppContext) -> None:
    deploy(ctx, simple_package())
    officer = make_user(ctx, "petugas", "dinas.petugas")
    d = Driver(ctx)
    with pytest.raises(FormInvalid) as info:
        d.start("uji", {"harga": -5}, officer)
    assert set(info.value.errors) == {"harga", "jumlah"}
    with pytest.raises(InvalidInput):
        d.start("uji", {"harga": 1, "jumlah": 1}, officer, channel="drive_thru")
    with pytest.raises(ProcessNotFound):
        d.start("tidak_ada", {}, officer)
    with ctx.sessions() as session:
        assert session.query(Case).count() == 0


def test_an_unknown_consultant_is_refused_and_nothing_is_saved(ctx: AppContext) -> None:
    deploy(ctx, PBG)
    applicant = make_user(ctx, "warga")
    d = Driver(ctx)
    with pytest.raises(FormInvalid) as info:
        d.start("pbg", pbg_application(consultant="konsultan_fiktif"), applicant)
    assert "consultant" in info.value.errors
    with ctx.sessions() as session:
        assert session.query(Case).count() == 0


def test_invalid_task_data_reports_every_field_and_saves_nothing(ctx: AppContext) -> None:
    deploy(ctx, simple_package())
    officer = make_user(ctx, "petugas", "dinas.petugas")
    d = Driver(ctx)
    case = d.start("uji", {"harga": 1, "jumlah": 1}, officer)
    with pytest.raises(FormInvalid) as info:
        d.complete(case.id, "Task_periksa", officer, {"catatan": "x" * 500})
    assert info.value.field_errors[0].path == "catatan"
    assert "200" in info.value.field_errors[0].message_id
    assert d.case(case.id).version == 1


def test_camunda_candidate_groups_name_the_role_when_there_are_no_lanes(ctx: AppContext) -> None:
    import re

    from engine.catalogue.package import from_files

    base = simple_package("kandidat")
    bpmn = base.files["process.bpmn"].decode()
    bpmn = re.sub(r"<bpmn:laneSet.*?</bpmn:laneSet>", "", bpmn, flags=re.S)
    camunda = 'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" '
    bpmn = bpmn.replace("xmlns:spiffworkflow=", camunda + "xmlns:spiffworkflow=")
    task = '<bpmn:userTask id="Task_periksa"'
    bpmn = bpmn.replace(task, task + ' camunda:candidateGroups="dinas.petugas"')
    result = deploy(ctx, from_files({**base.files, "process.bpmn": bpmn.encode()}))
    assert result.new_roles == ["dinas.petugas"]
    officer = make_user(ctx, "petugas", "dinas.petugas")
    other = make_user(ctx, "lain", platform_role="officer")
    d = Driver(ctx)
    case = d.start("kandidat", {"harga": 2, "jumlah": 2}, officer)
    assert d.task(case.id, "Task_periksa").role == "dinas.petugas"
    assert [t.element_id for t in d.inbox(officer)] == ["Task_periksa"]
    assert d.inbox(other) == []


@pytest.mark.parametrize(("kind", "expression", "days_before", "days_after"), [
    ("timeDuration", '"P3D"', 2, 2),
    ("timeDate", '"2030-01-10T09:00:00+07:00"', 1400, 15),  # after the real clock too
])
def test_an_intermediate_timer_waits_then_fires(ctx: AppContext, clock: FakeClock, kind: str, expression: str,
                                               days_before: int, days_after: int) -> None:
    deploy(ctx, simple_package("tunggu", shape="wait", timer=expression, timer_kind=kind))
    officer = make_user(ctx, "petugas", "dinas.petugas")
    d = Driver(ctx)
    case = d.start("tunggu", {"harga": 1, "jumlah": 1}, officer)
    d.complete(case.id, "Task_periksa", officer, {"catatan": "ok"})
    assert (d.case(case.id).status, d.case(case.id).stage_id) == ("running", "Menunggu")
    clock.advance(days=days_before)
    d.run_jobs()
    assert d.case(case.id).status == "running"
    clock.advance(days=days_after)
    d.run_jobs()
    assert d.case(case.id).status == "completed"
    assert [e.element_id for e in d.events(case.id) if e.action == "timer_fired"] == ["Timer_tunggu"]


def test_a_zipped_package_deploys_like_its_folder(ctx: AppContext, tmp_path: Path) -> None:
    import shutil

    from engine.catalogue.package import from_path

    archive = shutil.make_archive(str(tmp_path / "pbg"), "zip", root_dir=PBG.parent, base_dir="pbg")
    zipped = from_path(archive)
    assert zipped.files == from_path(PBG).files
    assert deploy(ctx, zipped).version == 1
    assert deploy(ctx, PBG).created is False


def test_a_claimed_task_leaves_the_other_officers_inboxes(ctx: AppContext) -> None:
    from engine.cases.tasks import claim_task, unclaim_task
    from engine.errors import TaskClaimedByOther, TaskNotForYourRole

    deploy(ctx, simple_package())
    first = make_user(ctx, "petugas1", "dinas.petugas")
    second = make_user(ctx, "petugas2", "dinas.petugas")
    d = Driver(ctx)
    case = d.start("uji", {"harga": 1, "jumlah": 1}, first)
    task_id = d.task(case.id, "Task_periksa").id
    with transaction(ctx.sessions) as session:
        claim_task(session, rt=ctx.rt, task_id=task_id, actor=first)
    assert [t.id for t in d.inbox(first)] == [task_id]
    assert d.inbox(second) == []
    with pytest.raises(TaskClaimedByOther), transaction(ctx.sessions) as session:
        claim_task(session, rt=ctx.rt, task_id=task_id, actor=second)
    with pytest.raises(TaskClaimedByOther):
        d.complete(case.id, "Task_periksa", second, {"catatan": "bukan saya"})
    with pytest.raises(TaskNotForYourRole), transaction(ctx.sessions) as session:
        unclaim_task(session, rt=ctx.rt, task_id=task_id, actor=second)
    with transaction(ctx.sessions) as session:
        unclaim_task(session, rt=ctx.rt, task_id=task_id, actor=first)
    assert [t.id for t in d.inbox(second)] == [task_id]
    assert d.complete(case.id, "Task_periksa", second, {"catatan": "ok"}) == "completed"
    actions = [(e.action, e.actor) for e in d.events(case.id)]
    assert ("claimed", "petugas1") in actions
    assert ("unclaimed", "petugas1") in actions


def test_cancelling_a_case_closes_its_tasks_and_timers(ctx: AppContext, clock: FakeClock) -> None:
    from engine.cases.service import cancel_case
    from engine.models import Job

    deploy(ctx, PBG)
    add_provider(ctx, "konsultan_griya", "konsultan")
    applicant = make_user(ctx, "warga")
    admin = make_user(ctx, "admin", platform_role="admin")
    d = Driver(ctx)
    case = d.start("pbg", pbg_application(), applicant)
    with transaction(ctx.sessions) as session:
        cancel_case(session, rt=ctx.rt, case_id=case.id, actor=admin, reason="Permohonan ditarik pemohon")
    row = d.case(case.id)
    assert row.status == "cancelled"
    assert d.open_tasks(case.id) == []
    assert d.events(case.id)[-1].action == "cancelled"
    with ctx.sessions() as session:
        # Only the notice that the case was received may still be on its way.
        assert session.query(Job).filter(Job.case_id == case.id, Job.status == "pending",
                                         Job.kind.not_in(("email", "webhook"))).count() == 0
    with pytest.raises(InvalidInput), transaction(ctx.sessions) as session:
        cancel_case(session, rt=ctx.rt, case_id=case.id, actor=admin, reason="lagi")


def test_scripts_read_today_from_the_engine_clock(ctx: AppContext, clock: FakeClock) -> None:
    deploy(ctx, simple_package("hari", script="hari_ini = str(today())"))
    officer = make_user(ctx, "petugas", "dinas.petugas")
    d = Driver(ctx)
    clock.advance(days=10)
    case = d.start("hari", {"harga": 1, "jumlah": 1}, officer)
    assert d.case(case.id).data["hari_ini"] == "2026-03-12"


def test_a_marketplace_itself_is_not_a_provider_to_choose(ctx: AppContext) -> None:
    deploy(ctx, PBG)
    applicant = make_user(ctx, "warga")
    with pytest.raises(FormInvalid) as info:
        Driver(ctx).start("pbg", pbg_application(consultant="konsultan"), applicant)
    assert "consultant" in info.value.errors
