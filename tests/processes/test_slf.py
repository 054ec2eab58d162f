"""SLF (Sertifikat Laik Fungsi): every path of the procedure, driven as the real roles."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from engine.context import AppContext
from engine.directory.actors import Actor
from engine.errors import InvalidInput, TaskNotForYourRole
from tests.factories import ROOT, Driver, deploy, make_user

SLF = ROOT / "processes" / "slf"


@dataclass
class Cast:
    applicant: Actor
    jemput: Actor
    front: Actor
    back: Actor
    pengkaji: Actor
    damkar: Actor
    kabid: Actor
    kepala: Actor


@pytest.fixture
def cast(ctx: AppContext) -> Cast:
    deploy(ctx, SLF)
    return Cast(
        applicant=make_user(ctx, "warga"),
        jemput=make_user(ctx, "jemput", "dpmptsp.jemput_bola"),
        front=make_user(ctx, "fo", "dpmptsp.front_office"),
        back=make_user(ctx, "bo", "dpmptsp.back_office"),
        pengkaji=make_user(ctx, "pengkaji", "pupr.pengkaji_teknis"),
        damkar=make_user(ctx, "damkar", "damkar.pemeriksa"),
        kabid=make_user(ctx, "kabid", "pupr.kepala_bidang"),
        kepala=make_user(ctx, "kepala", "dpmptsp.kepala"),
    )


def application(**overrides: Any) -> dict[str, Any]:
    data = {
        "nama_pemohon": "Siti Rahayu", "nik": "3471015505800002", "email": "siti@example.id",
        "telepon": "081298765432", "nomor_pbg": "PBG-3471-2026-0042",
        "alamat_bangunan": "Jl. Kaliurang Km 5, Yogyakarta", "fungsi_bangunan": "usaha", "luas_bangunan": 480.0,
        "jumlah_lantai": 3, "jemput_bola": False,
    }
    data.update(overrides)
    return data


LENGKAP = {"kelengkapan": "lengkap"}
TEKNIS_LAIK = {"hasil_pemeriksaan_teknis": "laik", "tanggal_pemeriksaan_teknis": "2026-03-05",
               "catatan_pemeriksaan_teknis": "Sesuai PBG"}
KEBAKARAN_LAIK = {"hasil_pemeriksaan_kebakaran": "laik", "tanggal_pemeriksaan_kebakaran": "2026-03-05",
                  "catatan_pemeriksaan_kebakaran": "APAR, hidran dan jalur evakuasi memenuhi"}
REKOMENDASI = {"nomor_rekomendasi": "REK/PUPR/2026/051", "tanggal_rekomendasi": "2026-03-09",
               "masa_berlaku_slf_tahun": 5}
SIGNED = {"nomor_slf": "SLF-3471-2026-0107", "tanggal_slf": "2026-03-10", "tte": True}
HANDOVER = {"tanggal_penyerahan": "2026-03-11", "nama_penerima": "Siti Rahayu", "label_slf_diserahkan": True}



def inspect(d: Driver, c: Cast, case_id: int, teknis: dict[str, Any], kebakaran: dict[str, Any],
            fire_last: bool = True) -> None:
    assert set(d.open_ids(case_id)) == {"Task_pemeriksaan_teknis", "Task_pemeriksaan_kebakaran"}
    steps = [("Task_pemeriksaan_teknis", c.pengkaji, teknis), ("Task_pemeriksaan_kebakaran", c.damkar, kebakaran)]
    for element, actor, data in steps if fire_last else reversed(steps):
        d.complete(case_id, element, actor, data)


def test_counter_application_is_inspected_in_parallel_and_issued(ctx: AppContext, cast: Cast) -> None:
    d = Driver(ctx)
    case = d.start("slf", application(), cast.applicant)
    assert [t.role for t in d.open_tasks(case.id)] == ["dpmptsp.front_office"]
    with pytest.raises(TaskNotForYourRole):
        d.complete(case.id, "Task_kelengkapan_loket", cast.back, LENGKAP)
    d.complete(case.id, "Task_kelengkapan_loket", cast.front, LENGKAP)
    tasks = {t.element_id: t.role for t in d.open_tasks(case.id)}
    assert tasks == {"Task_pemeriksaan_teknis": "pupr.pengkaji_teknis",
                     "Task_pemeriksaan_kebakaran": "damkar.pemeriksa"}
    with pytest.raises(TaskNotForYourRole):
        d.complete(case.id, "Task_pemeriksaan_kebakaran", cast.pengkaji, KEBAKARAN_LAIK)
    with pytest.raises(TaskNotForYourRole):
        d.complete(case.id, "Task_pemeriksaan_teknis", cast.damkar, TEKNIS_LAIK)
    d.complete(case.id, "Task_pemeriksaan_teknis", cast.pengkaji, TEKNIS_LAIK)
    assert set(d.open_ids(case.id)) == {"Task_pemeriksaan_kebakaran"}  # the join waits for the fire check
    d.complete(case.id, "Task_pemeriksaan_kebakaran", cast.damkar, KEBAKARAN_LAIK)
    with pytest.raises(TaskNotForYourRole):
        d.complete(case.id, "Task_rekomendasi", cast.pengkaji, REKOMENDASI)
    d.complete(case.id, "Task_rekomendasi", cast.kabid, REKOMENDASI)
    with pytest.raises(TaskNotForYourRole):
        d.complete(case.id, "Task_tanda_tangan", cast.kabid, SIGNED)
    d.complete(case.id, "Task_tanda_tangan", cast.kepala, SIGNED)
    with pytest.raises(TaskNotForYourRole):
        d.complete(case.id, "Task_penyerahan", cast.applicant, HANDOVER)
    assert d.complete(case.id, "Task_penyerahan", cast.front, HANDOVER) == "completed"
    row = d.case(case.id)
    assert (row.status, row.outcome) == ("completed", "SLF terbit")
    assert row.data["nomor_slf"] == "SLF-3471-2026-0107"
    assert row.data["hasil_pemeriksaan_teknis"] == "laik"
    assert row.data["hasil_pemeriksaan_kebakaran"] == "laik"
    assert row.data["riwayat_pemeriksaan"] == []
    assert row.data["putaran_pemeriksaan"] == 1


def test_incomplete_file_goes_back_to_the_applicant_twice(ctx: AppContext, cast: Cast) -> None:
    d = Driver(ctx)
    case = d.start("slf", application(), cast.applicant, channel="terpadu")
    for round_no in (1, 2):
        d.complete(case.id, "Task_kelengkapan_loket", cast.front,
                   {"kelengkapan": "tidak_lengkap", "catatan_kelengkapan": f"Gambar as built kurang ({round_no})"})
        back = d.task(case.id, "Task_melengkapi")
        assert back.role == "applicant"
        with pytest.raises(TaskNotForYourRole):
            d.complete(case.id, "Task_melengkapi", cast.front, {"keterangan_perbaikan": "x"})
        d.complete(case.id, "Task_melengkapi", cast.applicant, {"keterangan_perbaikan": f"Dilengkapi {round_no}"})
    d.complete(case.id, "Task_kelengkapan_loket", cast.front, LENGKAP)
    assert set(d.open_ids(case.id)) == {"Task_pemeriksaan_teknis", "Task_pemeriksaan_kebakaran"}
    checks = [e for e in d.events(case.id) if e.element_id == "Task_kelengkapan_loket" and e.action == "completed"]
    assert len(checks) == 3


def test_defects_loop_back_to_repair_and_joint_re_inspection(ctx: AppContext, cast: Cast) -> None:
    d = Driver(ctx)
    case = d.start("slf", application(), cast.applicant)
    d.complete(case.id, "Task_kelengkapan_loket", cast.front, LENGKAP)
    # Round 1: the building is fine but the fire protection is not; the fire officer finishes last.
    inspect(d, cast, case.id, TEKNIS_LAIK,
            {**KEBAKARAN_LAIK, "hasil_pemeriksaan_kebakaran": "tidak_laik",
             "catatan_pemeriksaan_kebakaran": "Hidran belum berfungsi"})
    assert set(d.open_ids(case.id)) == {"Task_perbaikan"}
    with pytest.raises(TaskNotForYourRole):
        d.complete(case.id, "Task_perbaikan", cast.damkar, {})
    d.complete(case.id, "Task_perbaikan", cast.applicant,
               {"keterangan_perbaikan_bangunan": "Pompa hidran diganti", "tanggal_siap_diperiksa": "2026-03-12"})
    # Round 2: the other way round, and the PUPR assessor finishes last.
    inspect(d, cast, case.id, {**TEKNIS_LAIK, "hasil_pemeriksaan_teknis": "tidak_laik",
                                "catatan_pemeriksaan_teknis": "Ramp difabel terlalu curam"},
            KEBAKARAN_LAIK, fire_last=False)
    d.complete(case.id, "Task_perbaikan", cast.applicant,
               {"keterangan_perbaikan_bangunan": "Ramp dibongkar dan dibuat 1:12",
                "tanggal_siap_diperiksa": "2026-03-19"})
    # Round 3: both pass; old findings must not come back through the parallel join.
    inspect(d, cast, case.id, {**TEKNIS_LAIK, "catatan_pemeriksaan_teknis": "Ramp sesuai"},
            {**KEBAKARAN_LAIK, "catatan_pemeriksaan_kebakaran": "Hidran berfungsi"})
    assert set(d.open_ids(case.id)) == {"Task_rekomendasi"}
    row = d.case(case.id)
    assert row.data["putaran_pemeriksaan"] == 3
    history = row.data["riwayat_pemeriksaan"]
    assert [(h["putaran"], h["hasil_pemeriksaan_teknis"], h["hasil_pemeriksaan_kebakaran"]) for h in history] == [
        (1, "laik", "tidak_laik"), (2, "tidak_laik", "laik")]
    assert row.data["catatan_pemeriksaan_teknis"] == "Ramp sesuai"
    assert row.data["catatan_pemeriksaan_kebakaran"] == "Hidran berfungsi"
    repairs = [e for e in d.events(case.id) if e.element_id == "Task_perbaikan" and e.action == "completed"]
    assert len(repairs) == 2


def test_online_application_is_checked_by_the_back_office_and_issued_electronically(
        ctx: AppContext, cast: Cast) -> None:
    d = Driver(ctx)
    case = d.start("slf", application(), cast.applicant, channel="daring")
    assert [(t.element_id, t.role) for t in d.open_tasks(case.id)] == [
        ("Task_verifikasi_daring", "dpmptsp.back_office")]
    with pytest.raises(TaskNotForYourRole):
        d.complete(case.id, "Task_verifikasi_daring", cast.front, LENGKAP)
    d.complete(case.id, "Task_verifikasi_daring", cast.back,
               {"kelengkapan": "tidak_lengkap", "catatan_kelengkapan": "Foto bangunan buram"})
    d.complete(case.id, "Task_melengkapi", cast.applicant, {"keterangan_perbaikan": "Foto diunggah ulang"})
    d.complete(case.id, "Task_verifikasi_daring", cast.back, LENGKAP)
    inspect(d, cast, case.id, TEKNIS_LAIK, KEBAKARAN_LAIK)
    d.complete(case.id, "Task_rekomendasi", cast.kabid, REKOMENDASI)
    assert d.complete(case.id, "Task_tanda_tangan", cast.kepala, SIGNED) == "completed"  # no counter hand-over
    row = d.case(case.id)
    assert (row.status, row.outcome) == ("completed", "SLF terbit")
    assert not any(e.element_id in ("Task_penyerahan", "Task_kelengkapan_loket") for e in d.events(case.id))


def test_outreach_visit_comes_first_when_asked(ctx: AppContext, cast: Cast) -> None:
    d = Driver(ctx)
    case = d.start("slf", application(jemput_bola=True, alamat_jemput_bola="Jl. Gondomanan 3"), cast.applicant)
    visit = d.task(case.id, "Task_jemput_bola")
    assert visit.role == "dpmptsp.jemput_bola"
    assert [t.element_id for t in d.inbox(cast.jemput)] == ["Task_jemput_bola"]
    with pytest.raises(TaskNotForYourRole):
        d.complete(case.id, "Task_jemput_bola", cast.front, {})
    d.complete(case.id, "Task_jemput_bola", cast.jemput,
               {"tanggal_kunjungan_jemput_bola": "2026-03-03", "petugas_jemput_bola": "Andi",
                "berkas_diterima_jemput_bola": True})
    assert set(d.open_ids(case.id)) == {"Task_kelengkapan_loket"}


def test_start_form_and_channels_are_enforced(ctx: AppContext, cast: Cast) -> None:
    d = Driver(ctx)
    with pytest.raises(InvalidInput):
        d.start("slf", application(), cast.applicant, channel="drive_thru")
    from forms.validation import FormInvalid

    with pytest.raises(FormInvalid):
        d.start("slf", application(jemput_bola=True), cast.applicant)  # no visit address
