"""BPJS Kesehatan membership data change: every path of the counter procedure, driven as the real roles."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from engine.context import AppContext
from engine.directory.actors import Actor
from engine.errors import InvalidInput
from forms.validation import FormInvalid
from tests.conftest import FakeClock
from tests.factories import ROOT, Driver, deploy, make_user

BPJS = ROOT / "processes" / "bpjs"
KEY = "bpjs_perubahan"


@dataclass
class Cast:
    peserta: Actor
    tetangga: Actor
    jemput: Actor
    petugas: Actor
    keuangan: Actor
    kepala: Actor


@pytest.fixture
def cast(ctx: AppContext) -> Cast:
    deploy(ctx, BPJS)
    return Cast(
        peserta=make_user(ctx, "peserta"),
        tetangga=make_user(ctx, "tetangga"),
        jemput=make_user(ctx, "jemput", "dpmptsp.jemput_bola"),
        petugas=make_user(ctx, "petugas_bpjs", "bpjs_kesehatan.petugas"),
        keuangan=make_user(ctx, "keuangan_bpjs", "bpjs_kesehatan.keuangan"),
        kepala=make_user(ctx, "kepala_bpjs", "bpjs_kesehatan.kepala_kantor"),
    )


def application(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "nama_peserta": "Sri Lestari",
        "nik": "3471015507800002",
        "nomor_kartu": "0001234567890",
        "segmen_peserta": "pbpu",
        "jenis_perubahan": "fktp",
        "fktp_baru": "Puskesmas Gondokusuman I",
        "telepon": "081227001122",
        "email": "sri@example.id",
        "jemput_bola": False,
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


VALID = {"hasil_pemeriksaan": "valid", "nik_terverifikasi": True}
HANDED_OVER = {"nomor_bukti_perubahan": "BPJS/YK/2026/0311", "tanggal_serah": "2026-03-02", "diterima_oleh": "Sri"}
NO_ARREARS = {"ada_tunggakan": False}
ARREARS = {"ada_tunggakan": True, "jumlah_tunggakan": 300_000, "bulan_tunggakan": 3}
PAID = {
    "kanal_pembayaran": "Mobile JKN",
    "nomor_referensi_pembayaran": "VA-8888-01",
    "tanggal_pembayaran": "2026-03-03",
    "jumlah_dibayar": 300_000,
}


def test_fktp_change_takes_effect_after_the_counter_check(ctx: AppContext, cast: Cast) -> None:
    d = Driver(ctx)
    case = d.start(KEY, application(), cast.peserta)
    task = d.task(case.id, "Task_periksa_data")
    assert task.role == "bpjs_kesehatan.petugas"
    assert task.due_at is not None
    assert task.due_at.date().isoformat() == "2026-03-03"  # 1 working day
    case_due = d.case(case.id).due_at
    assert case_due is not None
    assert case_due.date().isoformat() == "2026-03-03"  # service SLA: 1 working day
    d.complete_checked(case.id, "Task_periksa_data", cast.petugas, VALID, refused=[cast.keuangan])
    assert d.open_ids(case.id) == ["Task_serah_bukti"]  # no arrears check, no head-of-office approval
    assert (
        d.complete_checked(case.id, "Task_serah_bukti", cast.petugas, HANDED_OVER, refused=[cast.peserta])
        == "completed"
    )
    row = d.case(case.id)
    assert (row.status, row.outcome) == ("completed", "Perubahan data berlaku")
    assert row.data["fktp_baru"] == "Puskesmas Gondokusuman I"
    done = {e.element_id for e in d.events(case.id) if e.action == "completed" and e.element_id}
    assert done == {"Task_periksa_data", "Task_serah_bukti"}


def test_invalid_data_goes_back_to_the_member_until_it_matches(ctx: AppContext, cast: Cast) -> None:
    d = Driver(ctx)
    case = d.start(
        KEY,
        application(jenis_perubahan="alamat", fktp_baru=None, alamat_baru="Jl. Kaliurang 5"),
        cast.peserta,
        channel="daring",
    )
    for round_no in (1, 2):
        d.complete_checked(
            case.id,
            "Task_periksa_data",
            cast.petugas,
            {"hasil_pemeriksaan": "tidak_valid", "catatan_pemeriksaan": f"KK belum diperbarui ({round_no})"},
            refused=[cast.kepala],
        )
        back = d.task(case.id, "Task_perbaiki_data")
        assert back.role == "applicant"
        assert [t.element_id for t in d.inbox(cast.peserta)] == ["Task_perbaiki_data"]
        assert d.inbox(cast.tetangga) == []
        d.complete_checked(
            case.id,
            "Task_perbaiki_data",
            cast.peserta,
            {"keterangan_perbaikan": f"KK baru diunggah ({round_no})", "alamat_baru": f"Jl. Kaliurang {round_no}0"},
            refused=[cast.tetangga],
        )
    d.complete_checked(case.id, "Task_periksa_data", cast.petugas, VALID, refused=[cast.jemput])
    row = d.case(case.id)  # online: the proof is sent electronically, no hand-over at the counter
    assert (row.status, row.outcome) == ("completed", "Perubahan data berlaku")
    assert row.data["alamat_baru"] == "Jl. Kaliurang 20"
    rounds = [e for e in d.events(case.id) if e.element_id == "Task_perbaiki_data" and e.action == "completed"]
    assert len(rounds) == 2


def test_class_change_without_arrears_needs_the_head_of_office(ctx: AppContext, cast: Cast) -> None:
    d = Driver(ctx)
    case = d.start(KEY, application(jenis_perubahan="kelas", kelas_baru=2), cast.peserta, channel="terpadu")
    d.complete_checked(case.id, "Task_periksa_data", cast.petugas, VALID, refused=[cast.peserta])
    assert d.task(case.id, "Task_cek_tunggakan").role == "bpjs_kesehatan.keuangan"
    d.complete_checked(case.id, "Task_cek_tunggakan", cast.keuangan, NO_ARREARS, refused=[cast.petugas])
    assert d.task(case.id, "Task_persetujuan_kelas").role == "bpjs_kesehatan.kepala_kantor"
    d.complete_checked(
        case.id,
        "Task_persetujuan_kelas",
        cast.kepala,
        {"keputusan_kepala": "disetujui", "tanggal_berlaku": "2026-04-01"},
        refused=[cast.keuangan],
    )
    d.complete_checked(case.id, "Task_serah_bukti", cast.petugas, HANDED_OVER, refused=[cast.kepala])
    row = d.case(case.id)
    assert (row.status, row.outcome) == ("completed", "Perubahan data berlaku")
    assert (row.data["kelas_baru"], row.data["tanggal_berlaku"]) == (2, "2026-04-01")


def test_arrears_must_be_paid_and_rechecked_before_approval(ctx: AppContext, cast: Cast) -> None:
    d = Driver(ctx)
    case = d.start(KEY, application(jenis_perubahan="kelas", kelas_baru=1), cast.peserta)
    d.complete_checked(case.id, "Task_periksa_data", cast.petugas, VALID, refused=[cast.keuangan])
    for round_no in (1, 2):  # the first payment covered only part of the arrears
        d.complete_checked(case.id, "Task_cek_tunggakan", cast.keuangan, ARREARS, refused=[cast.kepala])
        assert d.task(case.id, "Task_pelunasan").role == "applicant"
        d.complete_checked(
            case.id,
            "Task_pelunasan",
            cast.peserta,
            {**PAID, "nomor_referensi_pembayaran": f"VA-{round_no}"},
            refused=[cast.keuangan],
        )
    d.complete_checked(case.id, "Task_cek_tunggakan", cast.keuangan, NO_ARREARS, refused=[cast.peserta])
    d.complete_checked(
        case.id,
        "Task_persetujuan_kelas",
        cast.kepala,
        {"keputusan_kepala": "ditolak", "alasan_penolakan": "Belum 1 tahun di kelas III"},
        refused=[cast.petugas],
    )
    row = d.case(case.id)
    assert (row.status, row.outcome) == ("completed", "Perubahan kelas ditolak")
    assert row.data["nomor_referensi_pembayaran"] == "VA-2"
    assert d.open_tasks(case.id) == []


def test_unpaid_arrears_expire_after_fourteen_days(ctx: AppContext, cast: Cast, clock: FakeClock) -> None:
    d = Driver(ctx)
    case = d.start(KEY, application(jenis_perubahan="kelas", kelas_baru=3), cast.peserta)
    d.complete_checked(case.id, "Task_periksa_data", cast.petugas, VALID, refused=[cast.tetangga])
    d.complete_checked(case.id, "Task_cek_tunggakan", cast.keuangan, ARREARS, refused=[cast.jemput])
    clock.advance(days=13)
    d.run_jobs()
    assert d.open_ids(case.id) == ["Task_pelunasan"]  # not due yet
    clock.advance(days=2)
    d.run_jobs()
    row = d.case(case.id)
    assert (row.status, row.outcome) == ("completed", "Permohonan kedaluwarsa")
    assert d.open_tasks(case.id) == []
    assert [e.element_id for e in d.events(case.id) if e.action == "timer_fired"] == ["Timer_pelunasan_kedaluwarsa"]


def test_outreach_officer_visits_a_member_with_a_disability(ctx: AppContext, cast: Cast) -> None:
    d = Driver(ctx)
    case = d.start(
        KEY,
        application(
            jenis_perubahan="anggota_keluarga",
            fktp_baru=None,
            perubahan_anggota="tambah",
            nama_anggota="Bima",
            nik_anggota="3471010101260001",
            hubungan_keluarga="anak",
            jemput_bola=True,
        ),
        cast.peserta,
    )
    visit = d.task(case.id, "Task_kunjungan_jemput_bola")
    assert visit.role == "dpmptsp.jemput_bola"
    assert d.open_ids(case.id) == ["Task_kunjungan_jemput_bola"]
    d.complete_checked(
        case.id,
        "Task_kunjungan_jemput_bola",
        cast.jemput,
        {
            "tanggal_kunjungan": "2026-03-03",
            "petugas_kunjungan": "Ari",
            "berkas_diterima": True,
            "kebutuhan_khusus": "tuna_daksa",
        },
        refused=[cast.petugas],
    )
    d.complete_checked(case.id, "Task_periksa_data", cast.petugas, VALID, refused=[cast.jemput])
    d.complete_checked(case.id, "Task_serah_bukti", cast.petugas, HANDED_OVER, refused=[cast.keuangan])
    row = d.case(case.id)
    assert (row.status, row.outcome) == ("completed", "Perubahan data berlaku")
    assert row.data["nama_anggota"] == "Bima"


def test_application_form_and_channels_are_enforced(ctx: AppContext, cast: Cast) -> None:
    d = Driver(ctx)
    with pytest.raises(FormInvalid) as missing:
        d.start(KEY, application(jenis_perubahan="kelas"), cast.peserta)  # no kelas_baru
    assert "kelas_baru" in missing.value.errors
    with pytest.raises(InvalidInput):
        d.start(KEY, application(), cast.peserta, channel="drive_thru")
    case = d.start(KEY, application(), cast.peserta)
    with pytest.raises(FormInvalid):
        d.complete(case.id, "Task_periksa_data", cast.petugas, {"hasil_pemeriksaan": "tidak_valid"})  # no note
