"""Design-consultant marketplace: every path of engaging a firm for the drawings, driven as the real roles."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from engine.context import AppContext
from engine.directory.actors import Actor
from engine.errors import InvalidInput, TaskNotForYourRole
from forms.validation import FormInvalid
from tests.conftest import FakeClock
from tests.factories import ROOT, Driver, add_provider, deploy, make_user

JASA = ROOT / "processes" / "jasa_perencana"


@dataclass
class Cast:
    applicant: Actor
    griya: Actor
    mataram: Actor
    jemput: Actor
    front: Actor
    back: Actor


@pytest.fixture
def cast(ctx: AppContext) -> Cast:
    deploy(ctx, JASA)
    add_provider(ctx, "konsultan_griya", "konsultan")
    add_provider(ctx, "konsultan_mataram", "konsultan")
    return Cast(
        applicant=make_user(ctx, "warga"),
        griya=make_user(ctx, "griya", "konsultan.perencana", org="konsultan_griya"),
        mataram=make_user(ctx, "mataram", "konsultan.perencana", org="konsultan_mataram"),
        jemput=make_user(ctx, "jemput", "dpmptsp.jemput_bola"),
        front=make_user(ctx, "fo", "dpmptsp.front_office"),
        back=make_user(ctx, "bo", "dpmptsp.back_office"),
    )


def application(**overrides: Any) -> dict[str, Any]:
    data = {
        "nama_pemohon": "Budi Santoso", "nik": "3471012345678901", "email": "budi@example.id",
        "telepon": "081234567890", "alamat_bangunan": "Jl. Malioboro 10, Yogyakarta", "fungsi_bangunan": "hunian",
        "luas_bangunan": 120.5, "jumlah_lantai": 2, "consultant": "konsultan_griya",
        "uraian_kebutuhan": "Rumah tinggal 2 lantai, 3 kamar tidur", "jemput_bola": False,
    }
    data.update(overrides)
    return data


BERSEDIA = {"tanggapan_konsultan": "bersedia", "nama_tenaga_ahli": "Ir. Sri Wahyuni, IAI"}
PENAWARAN = {"nomor_penawaran": "PNW/GRY/2026/031", "lingkup_pekerjaan": "arsitektur_struktur_mep",
             "lama_pengerjaan_hari": 14, "biaya_dikonfirmasi": True}
SETUJU = {"keputusan_penawaran": "setuju"}
LOKET = {"tanggal_tanda_tangan": "2026-03-05", "identitas_diperiksa": True, "kontrak_ditandatangani": True}
KONTRAK = {"nomor_kontrak": "KTR/DPMPTSP/2026/0117", "tanggal_kontrak": "2026-03-05", "nilai_kontrak": 8_694_075}
GAMBAR = {"gambar_arsitektur": "ars-v1.pdf", "gambar_struktur": "str-v1.pdf", "gambar_mep": "mep-v1.pdf",
          "nama_penanggung_jawab": "Ir. Sri Wahyuni", "nomor_sertifikat_keahlian": "SKK-1-2345"}
DITERIMA = {"keputusan_gambar": "diterima"}



def to_contract(d: Driver, c: Cast, case_id: int) -> None:
    d.complete(case_id, "Task_tanggapan", c.griya, BERSEDIA)
    d.complete(case_id, "Task_penawaran", c.griya, PENAWARAN)
    d.complete(case_id, "Task_tinjau_penawaran", c.applicant, SETUJU)


def test_counter_engagement_from_request_to_accepted_drawings(ctx: AppContext, cast: Cast) -> None:
    d = Driver(ctx)
    case = d.start("jasa_perencana", application(), cast.applicant)
    task = d.task(case.id, "Task_tanggapan")
    assert (task.role, task.bound_org) == ("konsultan.perencana", "konsultan_griya")
    assert [t.id for t in d.inbox(cast.griya)] == [task.id]
    assert d.inbox(cast.mataram) == []
    with pytest.raises(TaskNotForYourRole):
        d.complete(case.id, "Task_tanggapan", cast.mataram, BERSEDIA)  # a competing firm
    with pytest.raises(TaskNotForYourRole):
        d.complete(case.id, "Task_tanggapan", cast.front, BERSEDIA)
    d.complete(case.id, "Task_tanggapan", cast.griya, BERSEDIA)
    row = d.case(case.id)
    # hunian 120.5 m2 x Rp65,000 = Rp7,832,500; VAT 11% = Rp861,575
    assert (row.data["tarif_jasa_per_m2"], row.data["biaya_jasa"]) == (65000, 7_832_500)
    assert (row.data["ppn_jasa"], row.data["total_penawaran"]) == (861_575, 8_694_075)
    with pytest.raises(TaskNotForYourRole):
        d.complete(case.id, "Task_penawaran", cast.mataram, PENAWARAN)
    d.complete(case.id, "Task_penawaran", cast.griya, PENAWARAN)
    assert d.task(case.id, "Task_tinjau_penawaran").role == "applicant"
    with pytest.raises(TaskNotForYourRole):
        d.complete(case.id, "Task_tinjau_penawaran", cast.griya, SETUJU)
    d.complete(case.id, "Task_tinjau_penawaran", cast.applicant, SETUJU)
    assert d.open_ids(case.id) == ["Task_tanda_tangan_loket"]
    with pytest.raises(TaskNotForYourRole):
        d.complete(case.id, "Task_tanda_tangan_loket", cast.back, LOKET)
    d.complete(case.id, "Task_tanda_tangan_loket", cast.front, LOKET)
    with pytest.raises(TaskNotForYourRole):
        d.complete(case.id, "Task_registrasi_kontrak", cast.front, KONTRAK)
    d.complete(case.id, "Task_registrasi_kontrak", cast.back, KONTRAK)
    assert d.task(case.id, "Task_serahkan_gambar").bound_org == "konsultan_griya"
    with pytest.raises(TaskNotForYourRole):
        d.complete(case.id, "Task_serahkan_gambar", cast.mataram, GAMBAR)
    d.complete(case.id, "Task_serahkan_gambar", cast.griya, GAMBAR)
    with pytest.raises(TaskNotForYourRole):
        d.complete(case.id, "Task_tinjau_gambar", cast.griya, DITERIMA)
    assert d.complete(case.id, "Task_tinjau_gambar", cast.applicant, DITERIMA) == "completed"
    row = d.case(case.id)
    assert (row.status, row.outcome) == ("completed", "Gambar teknis selesai")
    assert row.data["nomor_kontrak"] == "KTR/DPMPTSP/2026/0117"
    assert row.data["putaran_revisi"] == 0
    assert d.open_tasks(case.id) == []


def test_the_firm_declines(ctx: AppContext, cast: Cast) -> None:
    d = Driver(ctx)
    case = d.start("jasa_perencana", application(), cast.applicant)
    with pytest.raises(FormInvalid):
        d.complete(case.id, "Task_tanggapan", cast.griya, {"tanggapan_konsultan": "menolak"})  # no reason given
    d.complete(case.id, "Task_tanggapan", cast.griya,
               {"tanggapan_konsultan": "menolak", "alasan_penolakan": "Kapasitas tim penuh sampai Mei"})
    row = d.case(case.id)
    assert (row.status, row.outcome) == ("completed", "Konsultan menolak")
    assert "total_penawaran" not in row.data


def test_no_answer_from_the_firm_within_three_days_ends_the_request(
        ctx: AppContext, cast: Cast, clock: FakeClock) -> None:
    d = Driver(ctx)
    case = d.start("jasa_perencana", application(), cast.applicant)
    clock.advance(days=2)
    d.run_jobs()
    assert d.open_ids(case.id) == ["Task_tanggapan"]  # not due yet
    clock.advance(days=1, hours=1)
    d.run_jobs()
    row = d.case(case.id)
    assert (row.status, row.outcome) == ("completed", "Tidak ada tanggapan konsultan")
    assert d.open_tasks(case.id) == []
    assert any(e.action == "timer_fired" for e in d.events(case.id))


def test_the_applicant_rejects_the_quote(ctx: AppContext, cast: Cast) -> None:
    d = Driver(ctx)
    case = d.start("jasa_perencana", application(), cast.applicant)
    d.complete(case.id, "Task_tanggapan", cast.griya, BERSEDIA)
    d.complete(case.id, "Task_penawaran", cast.griya, PENAWARAN)
    d.complete(case.id, "Task_tinjau_penawaran", cast.applicant,
               {"keputusan_penawaran": "tolak", "alasan_tolak_penawaran": "Di atas anggaran"})
    row = d.case(case.id)
    assert (row.status, row.outcome) == ("completed", "Penawaran ditolak pemohon")


def test_an_unanswered_quote_expires_after_fourteen_days(ctx: AppContext, cast: Cast, clock: FakeClock) -> None:
    d = Driver(ctx)
    case = d.start("jasa_perencana", application(), cast.applicant)
    d.complete(case.id, "Task_tanggapan", cast.griya, BERSEDIA)
    d.complete(case.id, "Task_penawaran", cast.griya, PENAWARAN)
    clock.advance(days=13)
    d.run_jobs()
    assert d.open_ids(case.id) == ["Task_tinjau_penawaran"]
    clock.advance(days=2)
    d.run_jobs()
    row = d.case(case.id)
    assert (row.status, row.outcome) == ("completed", "Penawaran kedaluwarsa")
    assert d.open_tasks(case.id) == []


def test_revision_rounds_loop_back_to_the_firm(ctx: AppContext, cast: Cast) -> None:
    d = Driver(ctx)
    case = d.start("jasa_perencana", application(), cast.applicant)
    to_contract(d, cast, case.id)
    d.complete(case.id, "Task_tanda_tangan_loket", cast.front, LOKET)
    d.complete(case.id, "Task_registrasi_kontrak", cast.back, KONTRAK)
    d.complete(case.id, "Task_serahkan_gambar", cast.griya, GAMBAR)
    for round_no in (1, 2):
        with pytest.raises(FormInvalid):
            d.complete(case.id, "Task_tinjau_gambar", cast.applicant, {"keputusan_gambar": "revisi"})
        d.complete(case.id, "Task_tinjau_gambar", cast.applicant,
                   {"keputusan_gambar": "revisi", "catatan_revisi": f"Perbaikan ke-{round_no}"})
        revision = d.task(case.id, "Task_revisi_gambar")
        assert (revision.role, revision.bound_org) == ("konsultan.perencana", "konsultan_griya")
        with pytest.raises(TaskNotForYourRole):
            d.complete(case.id, "Task_revisi_gambar", cast.applicant, {"keterangan_revisi": "x"})
        d.complete(case.id, "Task_revisi_gambar", cast.griya,
                   {"keterangan_revisi": f"Revisi {round_no}", "gambar_arsitektur": f"ars-v{round_no + 1}.pdf"})
    assert d.complete(case.id, "Task_tinjau_gambar", cast.applicant, DITERIMA) == "completed"
    row = d.case(case.id)
    assert (row.status, row.outcome) == ("completed", "Gambar teknis selesai")
    assert row.data["putaran_revisi"] == 2
    assert row.data["riwayat_revisi"] == ["Perbaikan ke-1", "Perbaikan ke-2"]
    assert (row.data["gambar_arsitektur"], row.data["gambar_struktur"]) == ("ars-v3.pdf", "str-v1.pdf")


def test_online_contract_is_signed_electronically_without_the_counter(ctx: AppContext, cast: Cast) -> None:
    d = Driver(ctx)
    case = d.start("jasa_perencana", application(), cast.applicant, channel="daring")
    to_contract(d, cast, case.id)
    assert d.open_ids(case.id) == ["Task_registrasi_kontrak"]
    d.complete(case.id, "Task_registrasi_kontrak", cast.back, KONTRAK)
    d.complete(case.id, "Task_serahkan_gambar", cast.griya, GAMBAR)
    d.complete(case.id, "Task_tinjau_gambar", cast.applicant, DITERIMA)
    assert d.case(case.id).outcome == "Gambar teknis selesai"
    assert not any(e.element_id in ("Task_tanda_tangan_loket", "Task_jemput_bola") for e in d.events(case.id))


@pytest.mark.parametrize("channel", ["tatap_muka", "daring"])
def test_outreach_officer_brings_the_contract_to_the_applicant(ctx: AppContext, cast: Cast, channel: str) -> None:
    d = Driver(ctx)
    case = d.start("jasa_perencana", application(jemput_bola=True, alamat_jemput_bola="Jl. Gondomanan 3"),
                   cast.applicant, channel=channel)
    to_contract(d, cast, case.id)
    visit = d.task(case.id, "Task_jemput_bola")
    assert visit.role == "dpmptsp.jemput_bola"
    assert [t.element_id for t in d.inbox(cast.jemput)] == ["Task_jemput_bola"]
    visit_data = {"tanggal_kunjungan_jemput_bola": "2026-03-04", "petugas_jemput_bola": "Andi",
                  "kontrak_ditandatangani": True}
    with pytest.raises(TaskNotForYourRole):
        d.complete(case.id, "Task_jemput_bola", cast.front, visit_data)
    d.complete(case.id, "Task_jemput_bola", cast.jemput, visit_data)
    assert d.open_ids(case.id) == ["Task_registrasi_kontrak"]


@pytest.mark.parametrize(("fungsi", "luas", "tarif", "biaya", "total"), [
    ("usaha", 24, 100_000, 3_000_000, 3_330_000),  # 2.4 million is below the Rp3 million minimum
    ("keagamaan", 100, 45_000, 4_500_000, 4_995_000),  # 100 m2 is in the middle class
    ("khusus", 600, 120_000, 72_000_000, 79_920_000),
])
def test_fee_follows_the_rate_table(ctx: AppContext, cast: Cast, fungsi: str, luas: float, tarif: int, biaya: int,
                                    total: int) -> None:
    d = Driver(ctx)
    case = d.start("jasa_perencana", application(fungsi_bangunan=fungsi, luas_bangunan=luas), cast.applicant)
    d.complete(case.id, "Task_tanggapan", cast.griya, BERSEDIA)
    data = d.case(case.id).data
    assert (data["tarif_jasa_per_m2"], data["biaya_jasa"], data["total_penawaran"]) == (tarif, biaya, total)


def test_start_form_channels_and_provider_are_enforced(ctx: AppContext, cast: Cast) -> None:
    d = Driver(ctx)
    with pytest.raises(InvalidInput):
        d.start("jasa_perencana", application(), cast.applicant, channel="drive_thru")
    with pytest.raises(FormInvalid):
        d.start("jasa_perencana", application(jemput_bola=True), cast.applicant)  # no visit address
    with pytest.raises(FormInvalid):
        d.start("jasa_perencana", application(consultant="konsultan_fiktif"), cast.applicant)
