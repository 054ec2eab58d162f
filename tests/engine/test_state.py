"""The incremental state store writes what SpiffWorkflow's own serializer would."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

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


def test_fast_task_encoding_matches_the_serializer_for_unusual_values(ctx: AppContext) -> None:
    """The row text written by hand (ids, state, flags) and by the encoder (data) equals the serializer's."""
    deploy(ctx, PBG)
    add_provider(ctx, "konsultan_griya", "konsultan")
    applicant = make_user(ctx, "warga")
    case = Driver(ctx).start("pbg", pbg_application(), applicant)
    with ctx.sessions() as session:
        workflow = ctx.rt.load_case(session, case.id).workflow.raw
    task = next(t for t in workflow.tasks.values() if t.parent is not None and t.parent.data)
    dropped = next(iter(task.parent.data))
    task.data = {k: v for k, v in task.parent.data.items() if k != dropped}
    task.data.update({"catatan": 'kutip " dan \\ garis miring, é ü 漢', "jumlah": Decimal("12.50"),
                      "tanggal": date(2026, 12, 4), "daftar": [1, 2.5, None, True]})
    task.internal_data = {"batas": date(2026, 12, 31), "nilai": Decimal("1.5"), "teks": "ñ"}
    for changed, triggered in ((1796414348.5, True), (1796414348, False), (float("inf"), None)):
        task.last_state_change, task.triggered = changed, triggered
        encoded = state._encode(task)
        assert encoded == state.reference_encode(task)
        assert f'"deletions":["{dropped}"]' in encoded
    root = workflow.tasks[workflow.task_tree.id]
    assert state._encode(root) == state.reference_encode(root)
