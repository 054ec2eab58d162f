"""Persetujuan lingkungan (UKL-UPL): every path, the consultant marketplace and the escalation timer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from engine.context import AppContext
from engine.directory.actors import Actor
from engine.errors import TaskNotForYourRole
from forms.validation import FormInvalid
from tests.conftest import FakeClock
from tests.factories import ROOT, Driver, deploy, make_user

LINGKUNGAN = ROOT / "processes" / "lingkungan"


@dataclass
class Cast:
    applicant: Actor
    jemput: Actor
    front: Actor
    hijau: Actor
    lestari: Actor
    penilai: Actor
    kabid: Actor
    kepala: Actor


@pytest.fixture
def cast(ctx: AppContext) -> Cast:
    deploy(ctx, LINGKUNGAN)  # service.toml creates the marketplace and its two firms
    return Cast(
        applicant=make_user(ctx, "pengusaha"),
        jemput=make_user(ctx, "jemput", "dpmptsp.jemput_bola"),
        front=make_user(ctx, "fo", "dpmptsp.front_office"),
        hijau=make_user(ctx, "hijau", "konsultan_lingkungan.penyusun", org="lingkungan_hijau"),
        lestari=make_user(ctx, "lestari", "konsultan_lingkungan.penyusun", org="lingkungan_lestari"),
        penilai=make_user(ctx, "penilai", "dlh.penilai"),
        kabid=make_user(ctx, "kabid_dlh", "dlh.kepala_bidang"),
        kepala=make_user(ctx, "kepala_dlh", "dlh.kepala"),
    )


def application(**overrides: Any) -> dict[str, Any]:
    data = {
        "nama_pemohon": "Hendra Kusuma", "nik": "3471031212800005", "email": "hendra@example.id",
        "telepon": "081122334455", "nama_usaha": "Hotel Griya Prawirotaman", "nib": "9120001234567",
        "deskripsi_kegiatan": "Hotel 40 kamar dengan restoran dan IPAL komunal",
        "lokasi_kegiatan": "Jl. Prawirotaman 21, Mergangsan", "luas_lahan_m2": 1800,
        "konsultan_lingkungan": "lingkungan_hijau", "jemput_bola": False,
    }
    data.update(overrides)
    return data


REGISTERED = {"kelengkapan": "lengkap", "nomor_registrasi": "REG/DLH/2026/021"}
DRAFT = {"dokumen_ukl_upl": "ukl-upl-v1.pdf", "ringkasan_dampak": "Limbah cair diolah di IPAL",
         "nama_penyusun": "Dr. Sekar Ayu", "nomor_sertifikat_kompetensi": "KTPLH-0456"}
LAYAK = {"hasil_penilaian": "layak", "nomor_berita_acara_penilaian": "BA/DLH/2026/033"}
SIGNED = {"nomor_persetujuan_lingkungan": "660/PL/2026/021", "tanggal_persetujuan": "2026-03-20", "tte": True}



def to_assessment(d: Driver, c: Cast, case_id: int) -> None:
    d.complete(case_id, "Task_registrasi", c.front, REGISTERED)
    d.complete(case_id, "Task_penyusunan", c.hijau, DRAFT)


def test_chosen_consultant_drafts_and_the_approval_is_signed(ctx: AppContext, cast: Cast) -> None:
    d = Driver(ctx)
    case = d.start("lingkungan", application(), cast.applicant)
    assert [(t.element_id, t.role) for t in d.open_tasks(case.id)] == [("Task_registrasi", "dpmptsp.front_office")]
    with pytest.raises(TaskNotForYourRole):
        d.complete(case.id, "Task_registrasi", cast.penilai, REGISTERED)
    d.complete(case.id, "Task_registrasi", cast.front, REGISTERED)
    task = d.task(case.id, "Task_penyusunan")
    assert (task.role, task.bound_org) == ("konsultan_lingkungan.penyusun", "lingkungan_hijau")
    assert [t.id for t in d.inbox(cast.hijau)] == [task.id]
    assert d.inbox(cast.lestari) == []
    with pytest.raises(TaskNotForYourRole):
        d.complete(case.id, "Task_penyusunan", cast.lestari, DRAFT)  # the firm the applicant did not choose
    with pytest.raises(TaskNotForYourRole):
        d.complete(case.id, "Task_penyusunan", cast.applicant, DRAFT)
    d.complete(case.id, "Task_penyusunan", cast.hijau, DRAFT)
    with pytest.raises(TaskNotForYourRole):
        d.complete(case.id, "Task_penilaian", cast.hijau, LAYAK)
    d.complete(case.id, "Task_penilaian", cast.penilai, LAYAK)
    with pytest.raises(TaskNotForYourRole):
        d.complete(case.id, "Task_persetujuan", cast.kabid, SIGNED)
    assert d.complete(case.id, "Task_persetujuan", cast.kepala, SIGNED) == "completed"
    row = d.case(case.id)
    assert (row.status, row.outcome) == ("completed", "Persetujuan lingkungan terbit")
    assert row.data["nomor_persetujuan_lingkungan"] == "660/PL/2026/021"


def test_the_other_firm_works_when_chosen(ctx: AppContext, cast: Cast) -> None:
    d = Driver(ctx)
    case = d.start("lingkungan", application(konsultan_lingkungan="lingkungan_lestari"), cast.applicant,
                   channel="daring")
    task = d.task(case.id, "Task_penyusunan")  # online: no counter registration
    assert task.bound_org == "lingkungan_lestari"
    with pytest.raises(TaskNotForYourRole):
        d.complete(case.id, "Task_penyusunan", cast.hijau, DRAFT)
    d.complete(case.id, "Task_penyusunan", cast.lestari, DRAFT)
    assert set(d.open_ids(case.id)) == {"Task_penilaian"}
    assert not any(e.element_id == "Task_registrasi" for e in d.events(case.id))


def test_unknown_consultant_is_refused_at_the_start(ctx: AppContext, cast: Cast) -> None:
    with pytest.raises(FormInvalid):
        Driver(ctx).start("lingkungan", application(konsultan_lingkungan="konsultan_fiktif"), cast.applicant)


def test_incomplete_registration_goes_back_to_the_applicant_twice(ctx: AppContext, cast: Cast) -> None:
    d = Driver(ctx)
    case = d.start("lingkungan", application(), cast.applicant, channel="terpadu")
    for round_no in (1, 2):
        d.complete(case.id, "Task_registrasi", cast.front,
                   {"kelengkapan": "tidak_lengkap", "catatan_kelengkapan": f"KKPR belum ada ({round_no})"})
        assert d.task(case.id, "Task_melengkapi").role == "applicant"
        with pytest.raises(TaskNotForYourRole):
            d.complete(case.id, "Task_melengkapi", cast.hijau, {"keterangan_perbaikan": "x"})
        d.complete(case.id, "Task_melengkapi", cast.applicant, {"keterangan_perbaikan": f"KKPR dilampirkan {round_no}"})
    d.complete(case.id, "Task_registrasi", cast.front, REGISTERED)
    assert set(d.open_ids(case.id)) == {"Task_penyusunan"}


def test_assessor_asks_the_consultant_for_revisions_twice(ctx: AppContext, cast: Cast, clock: FakeClock) -> None:
    d = Driver(ctx)
    case = d.start("lingkungan", application(), cast.applicant)
    to_assessment(d, cast, case.id)
    for round_no in (1, 2):
        clock.advance(days=10)
        d.run_jobs()
        d.complete(case.id, "Task_penilaian", cast.penilai,
                   {"hasil_penilaian": "revisi", "catatan_penilaian": f"Neraca air belum lengkap ({round_no})"})
        revision = d.task(case.id, "Task_revisi")
        assert revision.bound_org == "lingkungan_hijau"
        with pytest.raises(TaskNotForYourRole):
            d.complete(case.id, "Task_revisi", cast.lestari, {"dokumen_ukl_upl": "x", "catatan_revisi": "x"})
        d.complete(case.id, "Task_revisi", cast.hijau,
                   {"dokumen_ukl_upl": f"ukl-upl-v{round_no + 1}.pdf", "catatan_revisi": f"Diperbaiki {round_no}"})
    d.run_jobs()
    # Each assessment round starts its own 15-day timer: 20 days in total, but none ran 15 days.
    assert set(d.open_ids(case.id)) == {"Task_penilaian"}
    assert not any(e.action == "timer_fired" for e in d.events(case.id))
    d.complete(case.id, "Task_penilaian", cast.penilai, LAYAK)
    assert d.case(case.id).data["dokumen_ukl_upl"] == "ukl-upl-v3.pdf"
    assert d.complete(case.id, "Task_persetujuan", cast.kepala, SIGNED) == "completed"
    assert d.case(case.id).outcome == "Persetujuan lingkungan terbit"


def test_unacceptable_document_is_refused(ctx: AppContext, cast: Cast) -> None:
    d = Driver(ctx)
    case = d.start("lingkungan", application(), cast.applicant)
    to_assessment(d, cast, case.id)
    assert d.complete(case.id, "Task_penilaian", cast.penilai,
                      {"hasil_penilaian": "tidak_layak",
                       "catatan_penilaian": "Lokasi di sempadan sungai, wajib AMDAL"}) == "completed"
    row = d.case(case.id)
    assert (row.status, row.outcome) == ("completed", "Permohonan ditolak")
    assert d.open_tasks(case.id) == []


def test_late_assessment_escalates_to_the_head_of_division(ctx: AppContext, cast: Cast, clock: FakeClock) -> None:
    d = Driver(ctx)
    case = d.start("lingkungan", application(), cast.applicant)
    to_assessment(d, cast, case.id)
    clock.advance(days=14)
    d.run_jobs()
    assert set(d.open_ids(case.id)) == {"Task_penilaian"}  # not due yet
    clock.advance(days=2)
    d.run_jobs()
    open_now = {t.element_id: t for t in d.open_tasks(case.id)}
    assert set(open_now) == {"Task_penilaian", "Task_eskalasi"}  # non-interrupting: the assessment stays open
    assert open_now["Task_eskalasi"].role == "dlh.kepala_bidang"
    assert open_now["Task_penilaian"].overdue  # 10 working days passed
    with pytest.raises(TaskNotForYourRole):
        d.complete(case.id, "Task_eskalasi", cast.penilai, {"catatan_tindak_lanjut": "x"})
    d.complete(case.id, "Task_eskalasi", cast.kabid, {"catatan_tindak_lanjut": "Penilai diminta selesai minggu ini"})
    d.complete(case.id, "Task_penilaian", cast.penilai, LAYAK)
    d.run_jobs()
    assert len([e for e in d.events(case.id) if e.action == "timer_fired"]) == 1
    assert d.complete(case.id, "Task_persetujuan", cast.kepala, SIGNED) == "completed"
    row = d.case(case.id)
    assert (row.status, row.outcome) == ("completed", "Persetujuan lingkungan terbit")


def test_signed_approval_withdraws_an_escalation_still_open(ctx: AppContext, cast: Cast, clock: FakeClock) -> None:
    d = Driver(ctx)
    case = d.start("lingkungan", application(), cast.applicant)
    to_assessment(d, cast, case.id)
    clock.advance(days=16)
    d.run_jobs()
    d.complete(case.id, "Task_penilaian", cast.penilai, LAYAK)
    assert set(d.open_ids(case.id)) == {"Task_eskalasi", "Task_persetujuan"}
    # The approval ends in a terminate end event: the case does not wait for the follow-up note, and
    # its outcome stays the approval (a plain end event would let the late escalation end the case).
    assert d.complete(case.id, "Task_persetujuan", cast.kepala, SIGNED) == "completed"
    row = d.case(case.id)
    assert (row.status, row.outcome) == ("completed", "Persetujuan lingkungan terbit")
    assert d.open_tasks(case.id) == []
    assert d.inbox(cast.kabid) == []


def test_outreach_visit_comes_first_when_asked(ctx: AppContext, cast: Cast) -> None:
    d = Driver(ctx)
    case = d.start("lingkungan", application(jemput_bola=True, alamat_jemput_bola="Jl. Prawirotaman 21"),
                   cast.applicant)
    assert [(t.element_id, t.role) for t in d.open_tasks(case.id)] == [("Task_jemput_bola", "dpmptsp.jemput_bola")]
    with pytest.raises(TaskNotForYourRole):
        d.complete(case.id, "Task_jemput_bola", cast.front, {})
    d.complete(case.id, "Task_jemput_bola", cast.jemput,
               {"tanggal_kunjungan_jemput_bola": "2026-03-03", "petugas_jemput_bola": "Yusuf",
                "berkas_diterima_jemput_bola": True})
    assert set(d.open_ids(case.id)) == {"Task_registrasi"}
