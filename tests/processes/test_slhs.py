"""SLHS, a PB-UMKU of the health sector: OSS answers for the NIB over real HTTP, the Health Office inspects, the
business fixes its kitchen (its time stops the SLA clock), and the certificate is issued."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest

from engine.context import AppContext
from engine.directory.actors import Actor
from engine.documents import service as documents
from engine.documents.signing import signer_for
from tests.conftest import FakeClock
from tests.engine.test_lapor_connector import bind
from tests.factories import ROOT, Driver, deploy, make_user
from tests.simulators.oss import Oss

APPLICATION = {"nama_pemohon": "Narni Wulandari", "nik": "3471014406700002", "telepon": "081392001234",
               "nib": "9120307654321", "nama_usaha": "Gudeg Yu Narni", "kbli": "56101",
               "jenis_usaha_pangan": "restoran",
               "alamat_usaha": "Jl. Wijilan 21, Panembahan, Kraton, Yogyakarta", "jumlah_penjamah_pangan": 8,
               "penjamah_bersertifikat": 8}
INSPECTION = {"tanggal_inspeksi": "2026-03-04", "nama_sanitarian": "Yuliana Dewi, S.KM", "hasil_uji_sampel": "memenuhi"}


@dataclass
class Cast:
    applicant: Actor
    front: Actor
    sanitarian: Actor
    section_head: Actor
    head: Actor


@pytest.fixture
def cast(ctx: AppContext) -> Iterator[Cast]:
    deploy(ctx, ROOT / "processes" / "slhs")
    with Oss() as oss:
        bind(ctx, "oss", oss.url)
        yield Cast(make_user(ctx, "warga"), make_user(ctx, "fo", "dpmptsp.front_office"),
                   make_user(ctx, "sanitarian", "dinkes.sanitarian"),
                   make_user(ctx, "kasi", "dinkes.kepala_seksi_kesling"), make_user(ctx, "kepala", "dpmptsp.kepala"))


def test_the_slhs_is_issued_after_the_kitchen_is_fixed_and_the_fix_does_not_count(
        ctx: AppContext, clock: FakeClock, cast: Cast) -> None:
    d = Driver(ctx)
    case_id = d.start("slhs", APPLICATION, cast.applicant, channel="daring").id
    d.run_jobs()
    oss = d.case(case_id).data["oss"]
    assert (oss["status"], [k["kode"] for k in oss["kbli"]]) == ("aktif", ["56101", "10792"])
    due = d.case(case_id).due_at
    assert due is not None
    d.complete(case_id, "Task_kelengkapan", cast.front, {"hasil_kelengkapan": "lengkap"})
    d.complete(case_id, "Task_inspeksi", cast.sanitarian,
               {**INSPECTION, "skor_ikl": 68, "hasil_inspeksi": "perbaikan",
                "catatan_perbaikan": "Pasang kasa anti-serangga pada ventilasi dapur."})
    assert [t.role for t in d.open_tasks(case_id)] == ["applicant"]
    clock.advance(days=7)  # a calendar week (5 working days) to fix the kitchen: the SLA clock stands still
    d.complete(case_id, "Task_perbaikan_sarana", cast.applicant, {"keterangan_perbaikan_sarana": "Kasa terpasang"})
    row = d.case(case_id)
    assert row.sla_paused_s == 39 * 3600  # five working days of service hours (Friday's are 7)
    assert row.due_at is not None
    assert ctx.rt.calendar.working_time_between(due, row.due_at) == timedelta(seconds=row.sla_paused_s)
    d.complete(case_id, "Task_inspeksi", cast.sanitarian, {**INSPECTION, "skor_ikl": 86, "hasil_inspeksi": "laik"})
    d.complete(case_id, "Task_rekomendasi", cast.section_head,
               {"nomor_rekomendasi": "440/0311/Kesling/2026", "rekomendasi_setuju": True})
    d.complete(case_id, "Task_tanda_tangan", cast.head, {"berlaku_sampai": "2029-03-11", "ditandatangani": True})
    d.run_jobs()
    with ctx.sessions() as session:
        [doc] = documents.list_for_case(session, case_id=case_id)
        view = documents.public_view(session, code=doc.verify_code, signer=signer_for(ctx.settings))
    assert view is not None
    assert view.number == "SLHS/3471/0001/III/2026"
    assert {f["label_id"]: f["value"] for f in view.facts}["Jenis tempat pengelolaan pangan"] == "Restoran"


def test_a_laik_conclusion_needs_safe_samples(ctx: AppContext, cast: Cast) -> None:
    from forms.validation import FormInvalid

    d = Driver(ctx)
    case_id = d.start("slhs", APPLICATION, cast.applicant).id
    d.complete(case_id, "Task_kelengkapan", cast.front, {"hasil_kelengkapan": "lengkap"})
    with pytest.raises(FormInvalid):
        d.complete(case_id, "Task_inspeksi", cast.sanitarian,
                   {**INSPECTION, "skor_ikl": 90, "hasil_uji_sampel": "tidak_memenuhi", "hasil_inspeksi": "laik"})
