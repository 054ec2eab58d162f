"""Izin reklame (billboard permit): every path of the procedure, driven as the real roles."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from engine.context import AppContext
from engine.directory.actors import Actor
from engine.errors import InvalidInput, TaskNotForYourRole
from tests.factories import ROOT, Driver, deploy, make_user

REKLAME = ROOT / "processes" / "reklame"


@dataclass
class Cast:
    applicant: Actor
    jemput: Actor
    front: Actor
    back: Actor
    tim: Actor
    kasi: Actor
    kabid: Actor
    kepala: Actor


@pytest.fixture
def cast(ctx: AppContext) -> Cast:
    deploy(ctx, REKLAME)
    return Cast(
        applicant=make_user(ctx, "warga"),
        jemput=make_user(ctx, "jemput", "dpmptsp.jemput_bola"),
        front=make_user(ctx, "fo", "dpmptsp.front_office"),
        back=make_user(ctx, "bo", "dpmptsp.back_office"),
        tim=make_user(ctx, "tim", "dishub.tim_teknis"),
        kasi=make_user(ctx, "kasi", "dpmptsp.kepala_seksi"),
        kabid=make_user(ctx, "kabid", "dpmptsp.kepala_bidang"),
        kepala=make_user(ctx, "kepala", "dpmptsp.kepala"),
    )


def application(**overrides: Any) -> dict[str, Any]:
    data = {
        "nama_pemohon": "Bambang Wijaya", "nik": "3471020202750003", "email": "bambang@example.id",
        "telepon": "0274512345", "nama_penyelenggara": "CV Jogja Media Luar Ruang", "jenis_reklame": "billboard",
        "naskah_reklame": "Promo Bakpia Pathuk", "lokasi_reklame": "Jl. Laksda Adisucipto, Demangan",
        "panjang_m": 4, "lebar_m": 6, "jumlah_sisi": 2, "jemput_bola": False,
    }
    data.update(overrides)
    return data


LENGKAP = {"nomor_antrean": "B-017", "kelengkapan": "lengkap", "nomor_tanda_terima": "TT/REK/2026/0311"}
SESUAI = {"hasil_verifikasi_berkas": "sesuai", "pajak_dikonfirmasi": True}
SURVEI = {"tanggal_survei": "2026-03-03", "titik_koordinat": "-7.7829, 110.3931",
          "kondisi_lokasi": "Tidak menghalangi rambu dan APILL"}
DIREKOMENDASIKAN = {"hasil_kajian": "direkomendasikan", "nomor_rekomendasi_teknis": "REK/DISHUB/2026/044"}
DRAF = {"nomor_draf": "DRAF/REK/2026/044", "masa_berlaku_mulai": "2026-03-09", "masa_berlaku_selesai": "2027-03-08"}
SIGNED = {"nomor_izin_reklame": "503/REK/2026/0044", "tanggal_izin": "2026-03-06", "tte": True}



def to_technical_team(d: Driver, c: Cast, case_id: int) -> None:
    d.complete(case_id, "Task_loket", c.front, LENGKAP)
    d.complete(case_id, "Task_verifikasi_berkas", c.back, SESUAI)


def test_counter_application_is_surveyed_initialled_and_signed(ctx: AppContext, cast: Cast) -> None:
    d = Driver(ctx)
    case = d.start("reklame", application(), cast.applicant)
    assert [(t.element_id, t.role) for t in d.open_tasks(case.id)] == [("Task_loket", "dpmptsp.front_office")]
    with pytest.raises(TaskNotForYourRole):
        d.complete(case.id, "Task_loket", cast.applicant, LENGKAP)
    d.complete(case.id, "Task_loket", cast.front, LENGKAP)
    row = d.case(case.id)
    assert row.data["luas_reklame"] == 48  # 4 m x 6 m x 2 faces
    assert row.data["tarif_pajak_per_m2"] == 200_000  # billboard, 24 m2 or more
    assert row.data["pajak_reklame"] == 9_600_000
    with pytest.raises(TaskNotForYourRole):
        d.complete(case.id, "Task_verifikasi_berkas", cast.front, SESUAI)
    d.complete(case.id, "Task_verifikasi_berkas", cast.back, SESUAI)
    assert [t.role for t in d.open_tasks(case.id)] == ["dishub.tim_teknis"]
    with pytest.raises(TaskNotForYourRole):
        d.complete(case.id, "Task_survei", cast.back, SURVEI)
    d.complete(case.id, "Task_survei", cast.tim, SURVEI)
    d.complete(case.id, "Task_kajian", cast.tim, DIREKOMENDASIKAN)
    with pytest.raises(TaskNotForYourRole):
        d.complete(case.id, "Task_draf", cast.tim, DRAF)
    d.complete(case.id, "Task_draf", cast.back, DRAF)
    with pytest.raises(TaskNotForYourRole):
        d.complete(case.id, "Task_paraf_kepala_seksi", cast.kabid, {"paraf_kepala_seksi": "setuju"})
    d.complete(case.id, "Task_paraf_kepala_seksi", cast.kasi, {"paraf_kepala_seksi": "setuju"})
    with pytest.raises(TaskNotForYourRole):
        d.complete(case.id, "Task_paraf_kepala_bidang", cast.kasi, {"paraf_kepala_bidang": "setuju"})
    d.complete(case.id, "Task_paraf_kepala_bidang", cast.kabid, {"paraf_kepala_bidang": "setuju"})
    with pytest.raises(TaskNotForYourRole):
        d.complete(case.id, "Task_tanda_tangan", cast.kabid, SIGNED)
    assert d.complete(case.id, "Task_tanda_tangan", cast.kepala, SIGNED) == "completed"
    row = d.case(case.id)
    assert (row.status, row.outcome) == ("completed", "Izin reklame terbit")
    assert row.data["pajak_reklame"] == 9_600_000
    assert row.data["nomor_izin_reklame"] == "503/REK/2026/0044"


TAX_CASES = [  # (type, width m, height m, faces, rate per m2, tax)
    ("billboard", 2, 1.5, 1, 100_000, 300_000),      # 3 m2: small
    ("neon_box", 1.5, 1, 2, 125_000, 375_000),       # 3 m2: small
    ("neon_box", 2, 2, 1, 175_000, 700_000),         # exactly 4 m2: medium
    ("spanduk", 5, 1, 1, 10_000, 50_000),            # 5 m2: medium
    ("spanduk", 6, 2, 2, 12_500, 300_000),           # exactly 24 m2: large
    ("videotron", 3, 4, 1, 500_000, 6_000_000),      # 12 m2: medium
    ("videotron", 8, 4, 1, 600_000, 19_200_000),     # 32 m2: large
]


def test_billboard_tax_by_type_and_area(ctx: AppContext, cast: Cast) -> None:
    d = Driver(ctx)
    for jenis, panjang, lebar, sisi, tarif, pajak in TAX_CASES:
        case = d.start("reklame", application(jenis_reklame=jenis, panjang_m=panjang, lebar_m=lebar,
                                              jumlah_sisi=sisi), cast.applicant, channel="daring")
        row = d.case(case.id)
        assert (row.data["tarif_pajak_per_m2"], row.data["pajak_reklame"]) == (tarif, pajak), jenis
        assert d.open_ids(case.id) == ["Task_verifikasi_berkas"]


def test_incomplete_counter_file_goes_back_to_the_applicant_twice(ctx: AppContext, cast: Cast) -> None:
    d = Driver(ctx)
    case = d.start("reklame", application(), cast.applicant, channel="terpadu")
    for round_no in (1, 2):
        d.complete(case.id, "Task_loket", cast.front,
                   {"nomor_antrean": f"B-0{round_no}", "kelengkapan": "tidak_lengkap",
                    "catatan_kelengkapan": "Izin pemilik lahan belum ada"})
        assert d.task(case.id, "Task_melengkapi").role == "applicant"
        with pytest.raises(TaskNotForYourRole):
            d.complete(case.id, "Task_melengkapi", cast.front, {"keterangan_perbaikan": "x"})
        d.complete(case.id, "Task_melengkapi", cast.applicant, {"keterangan_perbaikan": f"Dilengkapi {round_no}"})
    assert "pajak_reklame" not in d.case(case.id).data  # computed only once the file is complete
    d.complete(case.id, "Task_loket", cast.front, LENGKAP)
    assert d.open_ids(case.id) == ["Task_verifikasi_berkas"]


def test_online_application_skips_the_counter_and_back_office_asks_corrections_twice(
        ctx: AppContext, cast: Cast) -> None:
    d = Driver(ctx)
    case = d.start("reklame", application(), cast.applicant, channel="daring")
    assert d.open_ids(case.id) == ["Task_verifikasi_berkas"]
    for round_no in (1, 2):
        d.complete(case.id, "Task_verifikasi_berkas", cast.back,
                   {"hasil_verifikasi_berkas": "perlu_perbaikan", "catatan_verifikasi": f"Desain buram {round_no}"})
        assert d.task(case.id, "Task_perbaikan_berkas").role == "applicant"
        with pytest.raises(TaskNotForYourRole):
            d.complete(case.id, "Task_perbaikan_berkas", cast.back, {"keterangan_perbaikan": "x"})
        d.complete(case.id, "Task_perbaikan_berkas", cast.applicant,
                   {"keterangan_perbaikan": f"Desain diunggah ulang {round_no}"})
    d.complete(case.id, "Task_verifikasi_berkas", cast.back, SESUAI)
    assert d.open_ids(case.id) == ["Task_survei"]
    assert not any(e.element_id == "Task_loket" for e in d.events(case.id))


def test_technical_team_asks_for_adjustments_then_surveys_again(ctx: AppContext, cast: Cast) -> None:
    d = Driver(ctx)
    case = d.start("reklame", application(), cast.applicant)
    to_technical_team(d, cast, case.id)
    for round_no in (1, 2):
        d.complete(case.id, "Task_survei", cast.tim, SURVEI)
        d.complete(case.id, "Task_kajian", cast.tim,
                   {"hasil_kajian": "penyesuaian", "catatan_kajian": f"Geser titik {round_no} m dari APILL"})
        assert d.task(case.id, "Task_penyesuaian").role == "applicant"
        with pytest.raises(TaskNotForYourRole):
            d.complete(case.id, "Task_penyesuaian", cast.tim, {"keterangan_penyesuaian": "x"})
        d.complete(case.id, "Task_penyesuaian", cast.applicant,
                   {"keterangan_penyesuaian": f"Titik digeser ({round_no})"})
        assert d.open_ids(case.id) == ["Task_survei"]
    d.complete(case.id, "Task_survei", cast.tim, SURVEI)
    d.complete(case.id, "Task_kajian", cast.tim, DIREKOMENDASIKAN)
    assert d.open_ids(case.id) == ["Task_draf"]
    surveys = [e for e in d.events(case.id) if e.element_id == "Task_survei" and e.action == "completed"]
    assert len(surveys) == 3


def test_prohibited_location_is_refused(ctx: AppContext, cast: Cast) -> None:
    d = Driver(ctx)
    case = d.start("reklame", application(lokasi_reklame="Jl. Malioboro (kawasan cagar budaya)"), cast.applicant)
    to_technical_team(d, cast, case.id)
    d.complete(case.id, "Task_survei", cast.tim, SURVEI)
    assert d.complete(case.id, "Task_kajian", cast.tim,
                      {"hasil_kajian": "ditolak", "catatan_kajian": "Kawasan bebas reklame"}) == "completed"
    row = d.case(case.id)
    assert (row.status, row.outcome) == ("completed", "Permohonan ditolak")
    assert d.open_tasks(case.id) == []


def test_section_and_division_heads_return_the_draft_for_correction(ctx: AppContext, cast: Cast) -> None:
    d = Driver(ctx)
    case = d.start("reklame", application(), cast.applicant)
    to_technical_team(d, cast, case.id)
    d.complete(case.id, "Task_survei", cast.tim, SURVEI)
    d.complete(case.id, "Task_kajian", cast.tim, DIREKOMENDASIKAN)
    kasi_no = {"paraf_kepala_seksi": "koreksi", "catatan_paraf_kepala_seksi": "Masa berlaku salah"}
    kabid_no = {"paraf_kepala_bidang": "koreksi", "catatan_paraf_kepala_bidang": "Naskah tidak sesuai"}
    kasi_ok, kabid_ok = {"paraf_kepala_seksi": "setuju"}, {"paraf_kepala_bidang": "setuju"}
    for who, data in [("kasi", kasi_no), ("kasi", kasi_ok), ("kabid", kabid_no), ("kasi", kasi_no),
                      ("kasi", kasi_ok), ("kabid", kabid_no), ("kasi", kasi_ok), ("kabid", kabid_ok)]:
        if d.open_ids(case.id) == ["Task_draf"]:
            d.complete(case.id, "Task_draf", cast.back, DRAF)
        element = "Task_paraf_kepala_seksi" if who == "kasi" else "Task_paraf_kepala_bidang"
        d.complete(case.id, element, getattr(cast, who), data)
    assert d.open_ids(case.id) == ["Task_tanda_tangan"]
    drafts = [e for e in d.events(case.id) if e.element_id == "Task_draf" and e.action == "completed"]
    assert len(drafts) == 5  # the first draft and four corrections
    assert d.complete(case.id, "Task_tanda_tangan", cast.kepala, SIGNED) == "completed"
    assert d.case(case.id).outcome == "Izin reklame terbit"


def test_outreach_visit_comes_first_when_asked(ctx: AppContext, cast: Cast) -> None:
    d = Driver(ctx)
    case = d.start("reklame", application(jemput_bola=True, alamat_jemput_bola="Jl. Tamansiswa 12"),
                   cast.applicant)
    assert [(t.element_id, t.role) for t in d.open_tasks(case.id)] == [("Task_jemput_bola", "dpmptsp.jemput_bola")]
    with pytest.raises(TaskNotForYourRole):
        d.complete(case.id, "Task_jemput_bola", cast.front, {})
    d.complete(case.id, "Task_jemput_bola", cast.jemput,
               {"tanggal_kunjungan_jemput_bola": "2026-03-03", "petugas_jemput_bola": "Rina",
                "berkas_diterima_jemput_bola": True})
    assert d.open_ids(case.id) == ["Task_loket"]


def test_drive_thru_is_not_offered(ctx: AppContext, cast: Cast) -> None:
    with pytest.raises(InvalidInput):
        Driver(ctx).start("reklame", application(), cast.applicant, channel="drive_thru")
