"""The incremental state store writes what SpiffWorkflow's own serializer would."""

from __future__ import annotations

from engine.bpmn import state as state
from engine.context import AppContext
from tests.factories import PBG, Driver, add_provider, deploy, make_user, pbg_application


def test_fast_task_encoding_matches_the_serializer_for_every_task(ctx: AppContext) -> None:
    deploy(ctx, PBG)
    add_provider(ctx, "konsultan_griya", "konsultan")
    applicant = make_user(ctx, "warga")
    officer = make_user(ctx, "fo", "dpmptsp.front_office")
    d = Driver(ctx)
    case = d.start("pbg", pbg_application(), applicant)
    griya = make_user(ctx, "griya", "konsultan.perencana", org="konsultan_griya")
    d.complete(case.id, "Task_kelengkapan", officer, {"kelengkapan": "tidak_lengkap", "catatan_kelengkapan": "x"})
    d.complete(case.id, "Task_melengkapi", applicant, {"keterangan_perbaikan": "ok"})
    d.complete(case.id, "Task_kelengkapan", officer, {"kelengkapan": "lengkap"})
    d.complete(case.id, "Task_gambar_teknis", griya, {"gambar_arsitektur": ["file:1"], "gambar_struktur": ["file:2"],
                                                      "gambar_mep": ["file:3"], "nama_penanggung_jawab": "X",
                                                      "nomor_sertifikat_keahlian": "1"})
    with ctx.sessions() as session:
        workflow = ctx.rt.load_case(session, case.id).workflow.raw
    tasks = list(workflow.tasks.values())
    assert len(tasks) > 10
    assert any(t.internal_data for t in tasks), "a waiting timer carries internal data"
    for task in tasks:
        assert state._encode(task) == state.reference_encode(task)
