"""PDAM Tirtamarta new water connection: every path of the procedure, driven as the real roles."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from engine.context import AppContext
from engine.directory.actors import Actor
from tests.conftest import FakeClock
from tests.factories import ROOT, Driver, deploy, make_user

PDAM = ROOT / "processes" / "pdam"
KEY = "pdam_sambungan"


@dataclass
class Cast:
    pemohon: Actor
    tetangga: Actor
    jemput: Actor
    pelayanan: Actor
    surveyor: Actor
    kasir: Actor
    teknisi: Actor


@pytest.fixture
def cast(ctx: AppContext) -> Cast:
    deploy(ctx, PDAM)
    return Cast(
        pemohon=make_user(ctx, "pemohon"),
        tetangga=make_user(ctx, "tetangga"),
        jemput=make_user(ctx, "jemput", "dpmptsp.jemput_bola"),
        pelayanan=make_user(ctx, "cs_pdam", "pdam.pelayanan"),
        surveyor=make_user(ctx, "surveyor_pdam", "pdam.surveyor"),
        kasir=make_user(ctx, "kasir_pdam", "pdam.kasir"),
        teknisi=make_user(ctx, "teknisi_pdam", "pdam.teknisi"),
    )


def application(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "nama_pemohon": "Joko Prasetyo",
        "nik": "3471021203850003",
        "nomor_kk": "3471020101100004",
        "telepon": "081328004455",
        "email": "joko@example.id",
        "alamat_pemasangan": "Jl. Kusumanegara 21, RT 04/RW 02",
        "kelurahan": "Muja Muju",
        "kemantren": "umbulharjo",
        "kelompok_pelanggan": "rumah_tangga",
        "diameter_pipa": "1/2",
        "jumlah_penghuni": 4,
        "status_bangunan": "milik_sendiri",
        "jemput_bola": False,
    }
    data.update(overrides)
    return data


COMPLETE = {"kelengkapan": "lengkap", "nomor_pendaftaran": "SB-2026-0101", "jadwal_survei": "2026-03-04"}
FEASIBLE = {"tanggal_survei": "2026-03-04", "hasil_survei": "layak", "diameter_pipa": "1/2", "panjang_pipa_m": 8}
PAID = {
    "kanal_pembayaran": "kasir_pdam",
    "nomor_referensi_pembayaran": "KW-PDAM-7781",
    "tanggal_pembayaran": "2026-03-05",
    "jumlah_dibayar": 1_750_000,
}
VALID = {"pembayaran_valid": True, "nomor_kuitansi": "KUI/2026/0311"}
INSTALLED = {
    "tanggal_pemasangan": "2026-03-11",
    "nomor_seri_meter": "LX-15-220391",
    "merek_meter": "Linflow",
    "angka_awal_meter": 0,
}
REGISTERED = {"nomor_pelanggan": "0712345", "golongan_tarif": "R2", "tanggal_registrasi": "2026-03-12"}


def _to_payment(d: Driver, c: Cast, case_id: int, survey: dict[str, Any] = FEASIBLE) -> None:
    d.complete(case_id, "Task_periksa_berkas", c.pelayanan, COMPLETE)
    d.complete(case_id, "Task_survei", c.surveyor, survey)


def test_connection_is_surveyed_paid_installed_and_registered(ctx: AppContext, cast: Cast) -> None:
    d = Driver(ctx)
    case = d.start(KEY, application(), cast.pemohon)
    assert [(t.element_id, t.role) for t in d.open_tasks(case.id)] == [("Task_periksa_berkas", "pdam.pelayanan")]
    d.complete_checked(case.id, "Task_periksa_berkas", cast.pelayanan, COMPLETE, refused=[cast.surveyor])
    assert d.task(case.id, "Task_survei").role == "pdam.surveyor"
    d.complete_checked(case.id, "Task_survei", cast.surveyor, FEASIBLE, refused=[cast.pelayanan])
    row = d.case(case.id)
    assert (row.data["biaya_sambungan"], row.data["biaya_pipa_tambahan"], row.data["total_biaya"]) == (
        1_750_000,
        0,
        1_750_000,
    )
    assert d.task(case.id, "Task_pembayaran").role == "applicant"
    d.complete_checked(case.id, "Task_pembayaran", cast.pemohon, PAID, refused=[cast.tetangga])
    d.complete_checked(case.id, "Task_verifikasi_pembayaran", cast.kasir, VALID, refused=[cast.teknisi])
    installation = d.task(case.id, "Task_pemasangan")
    assert installation.role == "pdam.teknisi"
    assert installation.due_at is not None
    assert installation.due_at.date().isoformat() == "2026-03-06"  # 4 working days
    d.complete_checked(case.id, "Task_pemasangan", cast.teknisi, INSTALLED, refused=[cast.kasir])
    assert (
        d.complete_checked(case.id, "Task_registrasi_meter", cast.pelayanan, REGISTERED, refused=[cast.teknisi])
        == "completed"
    )
    row = d.case(case.id)
    assert (row.status, row.outcome) == ("completed", "Sambungan baru terpasang")
    assert row.data["nomor_pelanggan"] == "0712345"
    assert d.open_tasks(case.id) == []


FEES = [
    ("rumah_tangga", "1/2", 1_750_000),
    ("rumah_tangga", "3/4", 2_750_000),
    ("rumah_tangga", "1", 3_900_000),
    ("niaga", "1/2", 2_250_000),
    ("niaga", "3/4", 3_500_000),
    ("niaga", "1", 5_000_000),
    ("sosial", "1/2", 1_250_000),
    ("sosial", "3/4", 2_000_000),
    ("sosial", "1", 3_000_000),
]


def test_fee_table_covers_every_customer_group_and_diameter(ctx: AppContext, cast: Cast) -> None:
    d = Driver(ctx)
    for group, diameter, fee in FEES:
        case = d.start(KEY, application(kelompok_pelanggan=group), cast.pemohon)
        _to_payment(d, cast, case.id, {**FEASIBLE, "diameter_pipa": diameter})  # the surveyor sets the size
        data = d.case(case.id).data
        assert (data["biaya_sambungan"], data["total_biaya"]) == (fee, fee), (group, diameter)


def test_service_pipe_beyond_ten_metres_is_charged_per_metre(ctx: AppContext, cast: Cast) -> None:
    d = Driver(ctx)
    case = d.start(KEY, application(kelompok_pelanggan="niaga", diameter_pipa="1/2"), cast.pemohon)
    _to_payment(d, cast, case.id, {**FEASIBLE, "diameter_pipa": "3/4", "panjang_pipa_m": 14})
    data = d.case(case.id).data
    assert data["diameter_pipa"] == "3/4"  # the surveyor's size replaces the requested one
    assert (data["biaya_sambungan"], data["panjang_pipa_tambahan_m"], data["biaya_pipa_tambahan"]) == (
        3_500_000,
        4,
        240_000,
    )
    assert data["total_biaya"] == 3_740_000


def test_online_applicant_accepts_the_agreement_and_completes_the_file_twice(ctx: AppContext, cast: Cast) -> None:
    d = Driver(ctx)
    case = d.start(KEY, application(), cast.pemohon, channel="daring")
    assert d.task(case.id, "Task_perjanjian_daring").role == "applicant"
    d.complete_checked(
        case.id,
        "Task_perjanjian_daring",
        cast.pemohon,
        {"setuju_perjanjian": True, "nama_penandatangan": "Joko Prasetyo", "tanggal_persetujuan": "2026-03-02"},
        refused=[cast.pelayanan],
    )
    for round_no in (1, 2):
        d.complete_checked(
            case.id,
            "Task_periksa_berkas",
            cast.pelayanan,
            {"kelengkapan": "tidak_lengkap", "catatan_kelengkapan": f"Scan KK buram ({round_no})"},
            refused=[cast.kasir],
        )
        assert [t.element_id for t in d.inbox(cast.pemohon)] == ["Task_lengkapi_berkas"]
        d.complete_checked(
            case.id,
            "Task_lengkapi_berkas",
            cast.pemohon,
            {"keterangan_perbaikan": f"KK diunggah ulang ({round_no})", "dokumen": [f"kk-v{round_no + 1}.pdf"]},
            refused=[cast.tetangga],
        )
    d.complete_checked(case.id, "Task_periksa_berkas", cast.pelayanan, COMPLETE, refused=[cast.teknisi])
    assert d.open_ids(case.id) == ["Task_survei"]
    row = d.case(case.id)
    assert row.data["dokumen"] == ["kk-v3.pdf"]
    assert row.data["setuju_perjanjian"] is True


def test_counter_application_skips_the_online_agreement(ctx: AppContext, cast: Cast) -> None:
    d = Driver(ctx)
    for channel in ("tatap_muka", "terpadu"):
        case = d.start(KEY, application(), cast.pemohon, channel=channel)
        assert d.open_ids(case.id) == ["Task_periksa_berkas"]


def test_site_that_cannot_be_connected_ends_with_a_reason(ctx: AppContext, cast: Cast) -> None:
    d = Driver(ctx)
    case = d.start(KEY, application(), cast.pemohon)
    d.complete(case.id, "Task_periksa_berkas", cast.pelayanan, COMPLETE)
    d.complete_checked(
        case.id,
        "Task_survei",
        cast.surveyor,
        {
            "tanggal_survei": "2026-03-04",
            "hasil_survei": "tidak_layak",
            "alasan_tidak_layak": "jaringan_belum_tersedia",
            "catatan_survei": "Pipa distribusi terdekat 300 m",
        },
        refused=[cast.teknisi],
    )
    row = d.case(case.id)
    assert (row.status, row.outcome) == ("completed", "Tidak dapat disambung")
    assert row.data["alasan_tidak_layak"] == "jaringan_belum_tersedia"
    assert "biaya_sambungan" not in row.data


def test_invalid_payment_is_paid_again(ctx: AppContext, cast: Cast) -> None:
    d = Driver(ctx)
    case = d.start(KEY, application(), cast.pemohon)
    _to_payment(d, cast, case.id)
    for round_no in (1, 2):
        d.complete_checked(
            case.id,
            "Task_pembayaran",
            cast.pemohon,
            {**PAID, "nomor_referensi_pembayaran": f"TRF-{round_no}"},
            refused=[cast.kasir],
        )
        d.complete_checked(
            case.id,
            "Task_verifikasi_pembayaran",
            cast.kasir,
            {"pembayaran_valid": False, "catatan_verifikasi": "Dana belum masuk rekening PDAM"},
            refused=[cast.pemohon],
        )
        assert d.open_ids(case.id) == ["Task_pembayaran"]
    d.complete(case.id, "Task_pembayaran", cast.pemohon, {**PAID, "nomor_referensi_pembayaran": "TRF-3"})
    d.complete_checked(case.id, "Task_verifikasi_pembayaran", cast.kasir, VALID, refused=[cast.surveyor])
    assert d.open_ids(case.id) == ["Task_pemasangan"]
    assert d.case(case.id).data["nomor_referensi_pembayaran"] == "TRF-3"


def test_unpaid_fee_expires_after_thirty_days(ctx: AppContext, cast: Cast, clock: FakeClock) -> None:
    d = Driver(ctx)
    case = d.start(KEY, application(), cast.pemohon)
    _to_payment(d, cast, case.id)
    clock.advance(days=29)
    d.run_jobs()
    assert d.open_ids(case.id) == ["Task_pembayaran"]  # not due yet
    clock.advance(days=2)
    d.run_jobs()
    row = d.case(case.id)
    assert (row.status, row.outcome) == ("completed", "Permohonan kedaluwarsa")
    assert d.open_tasks(case.id) == []
    assert [e.element_id for e in d.events(case.id) if e.action == "timer_fired"] == ["Timer_pembayaran_kedaluwarsa"]


def test_outreach_officer_collects_the_file_at_home(ctx: AppContext, cast: Cast) -> None:
    d = Driver(ctx)
    case = d.start(KEY, application(jemput_bola=True), cast.pemohon)
    assert [(t.element_id, t.role) for t in d.open_tasks(case.id)] == [
        ("Task_kunjungan_jemput_bola", "dpmptsp.jemput_bola")
    ]
    d.complete_checked(
        case.id,
        "Task_kunjungan_jemput_bola",
        cast.jemput,
        {
            "tanggal_kunjungan": "2026-03-03",
            "petugas_kunjungan": "Wulan",
            "berkas_diterima": True,
            "kebutuhan_khusus": "tuna_netra",
        },
        refused=[cast.pelayanan],
    )
    assert d.open_ids(case.id) == ["Task_periksa_berkas"]
    assert d.case(case.id).data["berkas_diterima"] is True
