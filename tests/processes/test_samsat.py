"""Samsat annual vehicle tax and STNK ratification: every channel and path, driven as the real roles."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from engine.context import AppContext
from engine.directory.actors import Actor
from tests.conftest import FakeClock
from tests.factories import ROOT, Driver, deploy, make_user

SAMSAT = ROOT / "processes" / "samsat"
KEY = "samsat_pkb"


@dataclass
class Cast:
    wp: Actor
    tetangga: Actor
    jemput: Actor
    pendaftaran: Actor
    penetap: Actor
    kasir: Actor
    pengesah: Actor
    jasa_raharja: Actor


@pytest.fixture
def cast(ctx: AppContext) -> Cast:
    deploy(ctx, SAMSAT)
    return Cast(
        wp=make_user(ctx, "wajib_pajak"),
        tetangga=make_user(ctx, "tetangga"),
        jemput=make_user(ctx, "jemput", "dpmptsp.jemput_bola"),
        pendaftaran=make_user(ctx, "loket_samsat", "bapenda.pendaftaran"),
        penetap=make_user(ctx, "penetap", "bapenda.penetap"),
        kasir=make_user(ctx, "kasir_samsat", "bapenda.kasir"),
        pengesah=make_user(ctx, "polisi", "polda.pengesah"),
        jasa_raharja=make_user(ctx, "petugas_jr", "jasa_raharja.petugas"),
    )


def application(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "nama_pemilik": "Rina Wulandari",
        "nik": "3471036607920005",
        "nomor_polisi": "AB 4321 KX",
        "nomor_rangka": "MH1JM8111LK123456",
        "jenis_kendaraan": "sepeda_motor",
        "merek_tipe": "Honda Vario 110",
        "tahun_pembuatan": 2020,
        "isi_silinder": 110,
        "tanggal_jatuh_tempo": "2026-03-10",
        "bulan_terlambat": 0,
        "telepon": "085743001122",
        "jemput_bola": False,
    }
    data.update(overrides)
    return data


def open_roles(d: Driver, case_id: int) -> dict[str, str]:
    return {t.element_id: t.role for t in d.open_tasks(case_id)}


MATCH = {"dokumen_sesuai": True}
ASSESSED = {"nomor_skkp": "SKKP/YK/2026/5512", "penetapan_sesuai": True}
VALID = {"pembayaran_valid": True, "nomor_tbpkp": "TBPKP-2026-000871"}
RATIFIED = {"stnk_disahkan": True, "tanggal_pengesahan": "2026-03-02", "masa_berlaku_pajak_baru": "2027-03-10"}
RECEIPT = {"nomor_bukti_swdkllj": "JR-YK-2026-44120", "tanggal_bukti": "2026-03-02", "jumlah_swdkllj": 35_000}


def paid(amount: int, ref: str = "KB-0001") -> dict[str, Any]:
    return {
        "metode_pembayaran": "tunai",
        "nomor_referensi_pembayaran": ref,
        "tanggal_pembayaran": "2026-03-02",
        "jumlah_dibayar": amount,
    }


def test_counter_visit_pays_on_time_and_both_offices_finish_in_parallel(ctx: AppContext, cast: Cast) -> None:
    d = Driver(ctx)
    case = d.start(KEY, application(), cast.wp)
    assert open_roles(d, case.id) == {"Task_periksa_loket": "bapenda.pendaftaran"}
    d.complete_checked(
        case.id, "Task_periksa_loket", cast.pendaftaran, {"nomor_antrean": "B-017", **MATCH}, refused=[cast.penetap]
    )
    data = d.case(case.id).data  # motorcycle up to 125 cc, not overdue
    assert (data["pkb_pokok"], data["opsen_pkb"], data["denda_pkb"], data["swdkllj"], data["pnbp_pengesahan"]) == (
        225_000,
        148_500,  # the city's opsen: 66% of the PKB (UU 1/2022)
        0,
        35_000,
        25_000,
    )
    assert data["total_bayar"] == 433_500
    d.complete_checked(case.id, "Task_penetapan", cast.penetap, ASSESSED, refused=[cast.kasir])
    assert open_roles(d, case.id) == {"Task_pembayaran": "applicant"}
    d.complete_checked(case.id, "Task_pembayaran", cast.wp, paid(433_500), refused=[cast.tetangga])
    d.complete_checked(case.id, "Task_verifikasi_pembayaran", cast.kasir, VALID, refused=[cast.pengesah])
    assert open_roles(d, case.id) == {
        "Task_pengesahan_stnk": "polda.pengesah",
        "Task_bukti_jasa_raharja": "jasa_raharja.petugas",
    }
    assert (
        d.complete_checked(case.id, "Task_bukti_jasa_raharja", cast.jasa_raharja, RECEIPT, refused=[cast.pengesah])
        == "running"
    )
    assert open_roles(d, case.id) == {"Task_pengesahan_stnk": "polda.pengesah"}  # the join waits for the police
    assert (
        d.complete_checked(case.id, "Task_pengesahan_stnk", cast.pengesah, RATIFIED, refused=[cast.jasa_raharja])
        == "completed"
    )
    row = d.case(case.id)
    assert (row.status, row.outcome) == ("completed", "PKB lunas dan STNK disahkan")
    assert row.data["nomor_bukti_swdkllj"] == RECEIPT["nomor_bukti_swdkllj"]  # both branches' data survive the join
    assert row.data["masa_berlaku_pajak_baru"] == "2027-03-10"
    assert d.open_tasks(case.id) == []


def test_drive_thru_checks_at_the_car_window_and_charges_the_late_penalty(ctx: AppContext, cast: Cast) -> None:
    d = Driver(ctx)
    car = application(
        jenis_kendaraan="mobil_penumpang",
        merek_tipe="Toyota Avanza",
        isi_silinder=1496,
        nomor_polisi="AB 1001 YZ",
        bulan_terlambat=3,
    )
    case = d.start(KEY, car, cast.wp, channel="drive_thru")
    assert open_roles(d, case.id) == {"Task_periksa_drive_thru": "bapenda.pendaftaran"}  # no queue ticket
    d.complete_checked(case.id, "Task_periksa_drive_thru", cast.pendaftaran, MATCH, refused=[cast.kasir])
    data = d.case(case.id).data
    assert (data["pkb_pokok"], data["opsen_pkb"]) == (3_850_000, 2_541_000)
    assert (data["denda_pkb"], data["denda_opsen_pkb"]) == (115_500, 76_230)  # 1% x 3 months on each
    assert (data["swdkllj"], data["pnbp_pengesahan"], data["total_bayar"]) == (143_000, 50_000, 6_775_730)
    d.complete(case.id, "Task_penetapan", cast.penetap, ASSESSED)
    d.complete(case.id, "Task_pembayaran", cast.wp, {**paid(6_775_730), "metode_pembayaran": "qris"})
    d.complete(case.id, "Task_verifikasi_pembayaran", cast.kasir, VALID)
    d.complete_checked(case.id, "Task_pengesahan_stnk", cast.pengesah, RATIFIED, refused=[cast.pendaftaran])
    assert open_roles(d, case.id) == {"Task_bukti_jasa_raharja": "jasa_raharja.petugas"}
    d.complete(case.id, "Task_bukti_jasa_raharja", cast.jasa_raharja, {**RECEIPT, "jumlah_swdkllj": 143_000})
    row = d.case(case.id)
    assert (row.status, row.outcome) == ("completed", "PKB lunas dan STNK disahkan")


def test_e_samsat_pays_online_and_ratifies_later_at_a_counter(ctx: AppContext, cast: Cast) -> None:
    d = Driver(ctx)
    case = d.start(KEY, application(bulan_terlambat=1), cast.wp, channel="daring")
    assert open_roles(d, case.id) == {"Task_penetapan": "bapenda.penetap"}  # no document check online
    assert (d.case(case.id).data["denda_pkb"], d.case(case.id).data["denda_opsen_pkb"]) == (2_250, 1_485)
    d.complete_checked(case.id, "Task_penetapan", cast.penetap, ASSESSED, refused=[cast.pendaftaran])
    d.complete(case.id, "Task_pembayaran", cast.wp, {**paid(437_235), "metode_pembayaran": "e_samsat"})
    d.complete_checked(case.id, "Task_verifikasi_pembayaran", cast.kasir, VALID, refused=[cast.wp])
    assert open_roles(d, case.id) == {
        "Task_datang_pengesahan": "applicant",
        "Task_bukti_jasa_raharja": "jasa_raharja.petugas",
    }
    d.complete(case.id, "Task_bukti_jasa_raharja", cast.jasa_raharja, RECEIPT)  # electronic receipt at once
    d.complete_checked(
        case.id,
        "Task_datang_pengesahan",
        cast.wp,
        {"lokasi_pengesahan": "mpp", "tanggal_kedatangan": "2026-03-09", "membawa_dokumen_asli": True},
        refused=[cast.tetangga],
    )
    assert open_roles(d, case.id) == {"Task_pengesahan_stnk": "polda.pengesah"}
    d.complete(case.id, "Task_pengesahan_stnk", cast.pengesah, RATIFIED)
    row = d.case(case.id)
    assert (row.status, row.outcome) == ("completed", "PKB lunas dan STNK disahkan")
    assert row.data["lokasi_pengesahan"] == "mpp"


@pytest.mark.parametrize(
    ("channel", "check"), [("tatap_muka", "Task_periksa_loket"), ("drive_thru", "Task_periksa_drive_thru")]
)
def test_documents_that_do_not_match_end_the_visit(ctx: AppContext, cast: Cast, channel: str, check: str) -> None:
    d = Driver(ctx)
    case = d.start(KEY, application(), cast.wp, channel=channel)
    form = {"dokumen_sesuai": False, "catatan_pemeriksaan": "Nama di KTP berbeda dengan STNK; belum balik nama"}
    if check == "Task_periksa_loket":
        form["nomor_antrean"] = "B-018"
    d.complete_checked(case.id, check, cast.pendaftaran, form, refused=[cast.wp])
    row = d.case(case.id)
    assert (row.status, row.outcome) == ("completed", "Dokumen tidak sesuai")
    assert "pkb_pokok" not in row.data


PKB = [
    ("sepeda_motor", 125, 225_000),
    ("sepeda_motor", 126, 450_000),
    ("sepeda_motor", 250, 450_000),
    ("sepeda_motor", 251, 1_250_000),
    ("mobil_penumpang", 1300, 2_400_000),
    ("mobil_penumpang", 1301, 3_850_000),
    ("mobil_penumpang", 2000, 3_850_000),
    ("mobil_penumpang", 2001, 6_750_000),
    ("mobil_penumpang", 3000, 6_750_000),
    ("mobil_penumpang", 3001, 11_500_000),
    ("mobil_barang", 2500, 1_650_000),
    ("mobil_barang", 2501, 2_900_000),
]
SWDKLLJ = {"sepeda_motor": (35_000, 25_000), "mobil_penumpang": (143_000, 50_000), "mobil_barang": (163_000, 50_000)}


def test_tax_tables_cover_every_vehicle_band(ctx: AppContext, cast: Cast) -> None:
    d = Driver(ctx)
    for jenis, cc, pkb in PKB:
        case = d.start(KEY, application(jenis_kendaraan=jenis, isi_silinder=cc), cast.wp, channel="daring")
        data = d.case(case.id).data
        assert data["pkb_pokok"] == pkb, (jenis, cc)
        assert (data["swdkllj"], data["pnbp_pengesahan"]) == SWDKLLJ[jenis]
        assert data["total_bayar"] == pkb + round(pkb * 0.66) + sum(SWDKLLJ[jenis])


def test_invalid_payment_is_paid_again(ctx: AppContext, cast: Cast) -> None:
    d = Driver(ctx)
    case = d.start(KEY, application(), cast.wp)
    d.complete(case.id, "Task_periksa_loket", cast.pendaftaran, {"nomor_antrean": "B-019", **MATCH})
    d.complete(case.id, "Task_penetapan", cast.penetap, ASSESSED)
    for round_no in (1, 2):
        d.complete(case.id, "Task_pembayaran", cast.wp, paid(433_500, f"KB-{round_no}"))
        d.complete_checked(
            case.id,
            "Task_verifikasi_pembayaran",
            cast.kasir,
            {"pembayaran_valid": False, "catatan_verifikasi": "Transaksi QRIS belum terkonfirmasi"},
            refused=[cast.penetap],
        )
        assert open_roles(d, case.id) == {"Task_pembayaran": "applicant"}
    d.complete(case.id, "Task_pembayaran", cast.wp, paid(433_500, "KB-3"))
    d.complete(case.id, "Task_verifikasi_pembayaran", cast.kasir, VALID)
    assert set(open_roles(d, case.id)) == {"Task_pengesahan_stnk", "Task_bukti_jasa_raharja"}
    assert d.case(case.id).data["nomor_referensi_pembayaran"] == "KB-3"


def test_unpaid_payment_code_expires_after_one_day(ctx: AppContext, cast: Cast, clock: FakeClock) -> None:
    d = Driver(ctx)
    case = d.start(KEY, application(), cast.wp, channel="daring")
    d.complete(case.id, "Task_penetapan", cast.penetap, ASSESSED)
    clock.advance(hours=23)
    d.run_jobs()
    assert open_roles(d, case.id) == {"Task_pembayaran": "applicant"}  # not due yet
    clock.advance(hours=2)
    d.run_jobs()
    row = d.case(case.id)
    assert (row.status, row.outcome) == ("completed", "Kode bayar kedaluwarsa")
    assert d.open_tasks(case.id) == []
    assert [e.element_id for e in d.events(case.id) if e.action == "timer_fired"] == ["Timer_kode_bayar"]


def test_outreach_officer_visits_a_taxpayer_with_a_disability(ctx: AppContext, cast: Cast) -> None:
    d = Driver(ctx)
    case = d.start(KEY, application(jemput_bola=True), cast.wp, channel="terpadu")
    assert open_roles(d, case.id) == {"Task_kunjungan_jemput_bola": "dpmptsp.jemput_bola"}
    d.complete_checked(
        case.id,
        "Task_kunjungan_jemput_bola",
        cast.jemput,
        {
            "tanggal_kunjungan": "2026-03-02",
            "petugas_kunjungan": "Dimas",
            "berkas_diterima": True,
            "kebutuhan_khusus": "tuna_daksa",
        },
        refused=[cast.pendaftaran],
    )
    assert open_roles(d, case.id) == {"Task_periksa_loket": "bapenda.pendaftaran"}


def test_the_late_payment_interest_stops_at_24_months(ctx: AppContext, cast: Cast) -> None:
    # UU 1/2022: 1% a month on the PKB and on the opsen PKB, for at most 24 months.
    d = Driver(ctx)
    case = d.start(KEY, application(bulan_terlambat=30), cast.wp, channel="daring")
    data = d.case(case.id).data
    assert (data["bulan_sanksi"], data["denda_pkb"], data["denda_opsen_pkb"]) == (24, 54_000, 35_640)
    assert data["total_bayar"] == 225_000 + 148_500 + 54_000 + 35_640 + 35_000 + 25_000
