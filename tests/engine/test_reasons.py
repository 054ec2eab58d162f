"""Send-back and refusal reasons (the `x-mpp-role` convention) as the tracking page receives them."""

from __future__ import annotations

from engine.cases import tracking as tracking
from engine.catalogue.package import from_files
from engine.context import AppContext
from tests.documents import pbg_cast
from tests.factories import Driver, deploy, make_user, pbg_application
from tests.packages import simple_package
from tests.processes.test_skck import FINGERPRINTS, SKCK, application


def test_a_refusal_reason_reaches_the_tracking_page_with_its_step(ctx: AppContext) -> None:
    deploy(ctx, SKCK)
    applicant = make_user(ctx, "warga")
    intelkam = make_user(ctx, "intelkam", "polresta.intelkam")
    d = Driver(ctx)
    case = d.start("skck", application(), applicant, channel="drive_thru")
    d.complete(case.id, "Task_sidik_jari", make_user(ctx, "identifikasi", "polresta.identifikasi"), FINGERPRINTS)
    reason = "Tercatat dalam putusan pidana yang belum selesai dijalani"
    d.complete(case.id, "Task_penelitian", intelkam, {"hasil_penelitian": "ada_catatan",
                                                      "alasan_tidak_diterbitkan": reason})
    with ctx.sessions() as session:
        status = tracking.status_by_number(session, number=case.tracking_number)
    assert status is not None
    assert status.status == "completed"
    [found] = status.reasons
    assert (found.kind, found.field, found.text_id) == ("refusal_reason", "alasan_tidak_diterbitkan", reason)
    assert (found.step_id, found.step_en) == ("Penelitian catatan kepolisian", "Police record check")  # stageEn


def test_a_send_back_reason_shows_while_the_applicant_has_the_task(ctx: AppContext) -> None:
    cast = pbg_cast(ctx)
    d = Driver(ctx)
    case = d.start("pbg", pbg_application(), cast.applicant)
    d.complete(case.id, "Task_kelengkapan", cast.front, {"kelengkapan": "tidak_lengkap",
                                                         "catatan_kelengkapan": "KTP buram."})
    with ctx.sessions() as session:
        status = tracking.status_by_number(session, number=case.tracking_number)
    assert status is not None
    assert [(r.kind, r.text_id, r.step_id, r.step_en) for r in status.reasons] == [
        ("send_back_reason", "KTP buram.", "Pemeriksaan kelengkapan berkas", "File check at the counter")]
    d.complete(case.id, "Task_melengkapi", cast.applicant, {"keterangan_perbaikan": "KTP dipindai ulang."})
    with ctx.sessions() as session:
        answered = tracking.status_by_number(session, number=case.tracking_number)
    assert answered is not None
    assert answered.reasons == []  # answered: history, not news


def test_a_task_s_english_name_comes_from_its_name_en_property(ctx: AppContext) -> None:
    plain = simple_package("nama")
    files = {name: plain.files[name] for name in plain.files}
    files["process.bpmn"] = files["process.bpmn"].replace(
        b'<spiffworkflow:property name="formJsonSchemaFilename" value="periksa.schema.json"/>',
        b'<spiffworkflow:property name="formJsonSchemaFilename" value="periksa.schema.json"/>'
        b'<spiffworkflow:property name="nameEn" value="Check the file"/>')
    deploy(ctx, from_files(files))
    officer = make_user(ctx, "petugas1", "dinas.petugas")
    d = Driver(ctx)
    case = d.start("nama", {"harga": 1000, "jumlah": 3}, officer)
    d.complete(case.id, "Task_periksa", officer, {"catatan": "ok"})
    with ctx.sessions() as session:
        status = tracking.status_by_number(session, number=case.tracking_number)
    assert status is not None
    done = [line for line in status.timeline if line.event == "step_done"]
    assert [(line.label_id, line.label_en) for line in done] == [("Periksa — selesai", "Check the file — done")]
