"""SIP (Surat Izin Praktik) for health workers: every path of the procedure, driven as the real roles."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest

from engine.context import AppContext
from engine.directory.actors import Actor
from engine.errors import TaskNotForYourRole
from tests.factories import ROOT, Driver, deploy, make_user

SIP = ROOT / "processes" / "sip"


@dataclass
class Cast:
    applicant: Actor
    jemput: Actor
    front: Actor
    back: Actor
    verifikator: Actor
    kasi: Actor
    kepala: Actor


@pytest.fixture
def cast(ctx: AppContext) -> Cast:
    deploy(ctx, SIP)
    return Cast(
        applicant=make_user(ctx, "bidan_ani"),
        jemput=make_user(ctx, "jemput", "dpmptsp.jemput_bola"),
        front=make_user(ctx, "fo", "dpmptsp.front_office"),
        back=make_user(ctx, "bo", "dpmptsp.back_office"),
        verifikator=make_user(ctx, "verifikator", "dinkes.verifikator"),
        kasi=make_user(ctx, "kasi_sdk", "dinkes.kepala_seksi"),
        kepala=make_user(ctx, "kepala", "dpmptsp.kepala"),
    )


def application(**overrides: Any) -> dict[str, Any]:
    data = {
        "nama_pemohon": "Ani Lestari, A.Md.Keb.", "nik": "3471046006900004", "email": "ani@example.id",
        "telepon": "085712345678", "profesi": "bidan", "nomor_str": "3471-0123-4567",
        "nomor_surat_keterangan_sehat": "SKS/2026/88",
        "jenis_tempat_praktik": "mandiri", "nama_tempat_praktik": "Praktik Mandiri Bidan Ani",
        "alamat_tempat_praktik": "Jl. Parangtritis 45, Mantrijeron", "sip_ke": 1, "jemput_bola": False,
    }
    data.update(overrides)
    return data


LENGKAP = {"kelengkapan": "lengkap"}
MEMENUHI_KUNJUNGAN = {"hasil_verifikasi": "memenuhi", "perlu_kunjungan": True}
MEMENUHI = {"hasil_verifikasi": "memenuhi", "perlu_kunjungan": False}
SESUAI = {"tanggal_kunjungan": "2026-03-04", "hasil_kunjungan": "sesuai"}
NOMOR = {"nomor_sip": "503/SIPB/0112/2026", "sip_berlaku_sampai": "2031-03-06"}
SIGNED = {"tanggal_tanda_tangan": "2026-03-10", "tte": True}
AKHIR = {"dokumen_sesuai": True}
HANDOVER = {"tanggal_penyerahan": "2026-03-11", "nama_penerima": "Ani Lestari"}



def to_number(d: Driver, c: Cast, case_id: int) -> None:
    d.complete(case_id, "Task_admin", c.back, LENGKAP)
    d.complete(case_id, "Task_verifikasi", c.verifikator, MEMENUHI)


def test_independent_practice_is_visited_and_the_sip_handed_over(ctx: AppContext, cast: Cast) -> None:
    d = Driver(ctx)
    case = d.start("sip", application(), cast.applicant)
    assert [(t.element_id, t.role) for t in d.open_tasks(case.id)] == [("Task_admin", "dpmptsp.back_office")]
    due = d.task(case.id, "Task_admin").due_at
    assert due is not None
    assert due.date().isoformat() == "2026-03-03"  # 1 working day
    with pytest.raises(TaskNotForYourRole):
        d.complete(case.id, "Task_admin", cast.front, LENGKAP)
    d.complete(case.id, "Task_admin", cast.back, LENGKAP)
    with pytest.raises(TaskNotForYourRole):
        d.complete(case.id, "Task_verifikasi", cast.kasi, MEMENUHI_KUNJUNGAN)
    d.complete(case.id, "Task_verifikasi", cast.verifikator, MEMENUHI_KUNJUNGAN)
    visit = d.task(case.id, "Task_kunjungan")
    assert visit.role == "dinkes.verifikator"
    with pytest.raises(TaskNotForYourRole):
        d.complete(case.id, "Task_kunjungan", cast.back, SESUAI)
    d.complete(case.id, "Task_kunjungan", cast.verifikator, SESUAI)
    with pytest.raises(TaskNotForYourRole):
        d.complete(case.id, "Task_nomor", cast.verifikator, NOMOR)
    d.complete(case.id, "Task_nomor", cast.kasi, NOMOR)
    with pytest.raises(TaskNotForYourRole):
        d.complete(case.id, "Task_tanda_tangan", cast.kasi, SIGNED)
    d.complete(case.id, "Task_tanda_tangan", cast.kepala, SIGNED)
    with pytest.raises(TaskNotForYourRole):
        d.complete(case.id, "Task_pemeriksaan_akhir", cast.kepala, AKHIR)
    d.complete(case.id, "Task_pemeriksaan_akhir", cast.back, AKHIR)
    with pytest.raises(TaskNotForYourRole):
        d.complete(case.id, "Task_penyerahan", cast.back, HANDOVER)
    assert d.complete(case.id, "Task_penyerahan", cast.front, HANDOVER) == "completed"
    row = d.case(case.id)
    assert (row.status, row.outcome) == ("completed", "SIP terbit")
    assert row.data["nomor_sip"] == "503/SIPB/0112/2026"


def test_facility_practice_without_visit_online_is_issued_electronically(ctx: AppContext, cast: Cast) -> None:
    d = Driver(ctx)
    case = d.start("sip", application(profesi="apoteker", jenis_tempat_praktik="fasyankes",
                                      nama_tempat_praktik="Apotek Sehat Kotagede"), cast.applicant, channel="daring")
    to_number(d, cast, case.id)
    assert d.open_ids(case.id) == ["Task_nomor"]  # no site visit
    d.complete(case.id, "Task_nomor", cast.kasi, NOMOR)
    d.complete(case.id, "Task_tanda_tangan", cast.kepala, SIGNED)
    assert d.complete(case.id, "Task_pemeriksaan_akhir", cast.back, AKHIR) == "completed"  # no hand-over
    row = d.case(case.id)
    assert (row.status, row.outcome) == ("completed", "SIP terbit")
    assert not any(e.element_id in ("Task_kunjungan", "Task_penyerahan") for e in d.events(case.id))


@pytest.mark.parametrize("channel", ["drive_thru", "terpadu"])
def test_drive_thru_and_integrated_applicants_collect_the_sip(ctx: AppContext, cast: Cast, channel: str) -> None:
    d = Driver(ctx)
    case = d.start("sip", application(profesi="dokter", jenis_tempat_praktik="fasyankes"), cast.applicant,
                   channel=channel)
    to_number(d, cast, case.id)
    d.complete(case.id, "Task_nomor", cast.kasi, NOMOR)
    d.complete(case.id, "Task_tanda_tangan", cast.kepala, SIGNED)
    d.complete(case.id, "Task_pemeriksaan_akhir", cast.back, AKHIR)
    assert [(t.element_id, t.role) for t in d.open_tasks(case.id)] == [("Task_penyerahan", "dpmptsp.front_office")]
    assert d.complete(case.id, "Task_penyerahan", cast.front, HANDOVER) == "completed"
    assert d.case(case.id).outcome == "SIP terbit"


def test_incomplete_file_goes_back_to_the_applicant_twice(ctx: AppContext, cast: Cast) -> None:
    d = Driver(ctx)
    case = d.start("sip", application(profesi="perawat"), cast.applicant)
    for round_no in (1, 2):
        d.complete(case.id, "Task_admin", cast.back,
                   {"kelengkapan": "tidak_lengkap", "catatan_kelengkapan": f"STR belum dilegalisir ({round_no})"})
        assert d.task(case.id, "Task_melengkapi").role == "applicant"
        with pytest.raises(TaskNotForYourRole):
            d.complete(case.id, "Task_melengkapi", cast.back, {"keterangan_perbaikan": "x"})
        d.complete(case.id, "Task_melengkapi", cast.applicant, {"keterangan_perbaikan": f"Dilengkapi {round_no}"})
    d.complete(case.id, "Task_admin", cast.back, LENGKAP)
    assert d.open_ids(case.id) == ["Task_verifikasi"]


def test_health_office_refuses_at_verification(ctx: AppContext, cast: Cast) -> None:
    d = Driver(ctx)
    case = d.start("sip", application(sip_ke=3), cast.applicant)
    d.complete(case.id, "Task_admin", cast.back, LENGKAP)
    assert d.complete(case.id, "Task_verifikasi", cast.verifikator,
                      {"hasil_verifikasi": "ditolak",
                       "catatan_verifikasi": "STR dinonaktifkan oleh Konsil"}) == "completed"
    row = d.case(case.id)
    assert (row.status, row.outcome) == ("completed", "Permohonan ditolak")
    assert d.open_tasks(case.id) == []


def test_site_visit_can_refuse_the_practice(ctx: AppContext, cast: Cast) -> None:
    d = Driver(ctx)
    case = d.start("sip", application(), cast.applicant)
    d.complete(case.id, "Task_admin", cast.back, LENGKAP)
    d.complete(case.id, "Task_verifikasi", cast.verifikator, MEMENUHI_KUNJUNGAN)
    d.complete(case.id, "Task_kunjungan", cast.verifikator,
               {"tanggal_kunjungan": "2026-03-04", "hasil_kunjungan": "tidak_sesuai",
                "catatan_kunjungan": "Tidak ada tempat pengelolaan limbah medis"})
    row = d.case(case.id)
    assert (row.status, row.outcome) == ("completed", "Permohonan ditolak")


def test_outreach_visit_comes_first_when_asked(ctx: AppContext, cast: Cast) -> None:
    d = Driver(ctx)
    case = d.start("sip", application(jemput_bola=True, alamat_jemput_bola="Jl. Parangtritis 45"), cast.applicant)
    assert [(t.element_id, t.role) for t in d.open_tasks(case.id)] == [("Task_jemput_bola", "dpmptsp.jemput_bola")]
    with pytest.raises(TaskNotForYourRole):
        d.complete(case.id, "Task_jemput_bola", cast.back, {})
    d.complete(case.id, "Task_jemput_bola", cast.jemput,
               {"tanggal_kunjungan_jemput_bola": "2026-03-03", "petugas_jemput_bola": "Dewi",
                "berkas_diterima_jemput_bola": True})
    assert d.open_ids(case.id) == ["Task_admin"]


def test_the_application_asks_no_recommendation_and_no_str_expiry() -> None:
    # UU 17/2023: a SIP needs an STR and a practice location (Art. 264(1)); the STR is valid for life (Art. 260(4)).
    fields = json.loads((SIP / "forms" / "permohonan.schema.json").read_text())["properties"]
    assert "nomor_str" in fields
    assert not [name for name in fields if "rekomendasi" in name or name.startswith("str_")]
