"""SKCK (police record certificate): every path of the procedure, driven as the real roles."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import pytest

from engine.context import AppContext
from engine.directory.actors import Actor
from engine.errors import InvalidInput
from forms.validation import FormInvalid
from tests.conftest import FakeClock
from tests.factories import ROOT, Driver, deploy, make_user

SKCK = ROOT / "processes" / "skck"
ROLES = ("dpmptsp.jemput_bola", "polresta.identifikasi", "polresta.intelkam", "polresta.bendahara",
         "polresta.kasat_intelkam")


@dataclass
class Cast:
    applicant: Actor
    stranger: Actor  # another citizen: may not act on this applicant's case
    officers: dict[str, Actor]


@pytest.fixture
def cast(ctx: AppContext) -> Cast:
    deploy(ctx, SKCK)
    officers = {role: make_user(ctx, role.split(".")[1], role) for role in ROLES}
    return Cast(make_user(ctx, "warga"), make_user(ctx, "tetangga"), officers)


def application(**overrides: Any) -> dict[str, Any]:
    data = {
        "nama_lengkap": "Siti Rahmawati", "nik": "3471024505990002", "tempat_lahir": "Yogyakarta",
        "tanggal_lahir": "1999-05-05", "jenis_kelamin": "perempuan", "pekerjaan": "Karyawan swasta",
        "alamat": "Jl. Kaliurang Km 5, Yogyakarta", "telepon": "081227654321", "keperluan": "melamar_pekerjaan",
        "sidik_jari_terdaftar": False, "jemput_bola": False,
    }
    data.update(overrides)
    return data


FINGERPRINTS = {"nomor_kartu_ak23": "AK23-3471-0099812", "rumus_sidik_jari": "17 U 00 9",
                "tanggal_perekaman": "2026-03-02", "lokasi_perekaman": "loket_mpp"}
CLEAN = {"hasil_penelitian": "tidak_ada_catatan"}
PAID = {"kode_billing": "820260302123456", "ntpn": "A1B2C3D4E5F6G7H8", "tanggal_pembayaran": "2026-03-02",
        "tempat_pembayaran": "loket_mpp"}
SIGNED = {"nomor_skck": "SKCK/YAN.2.3/1234/III/2026/INTELKAM", "nomor_seri_blanko": "BL-0099123",
          "ditandatangani": True}


def step(d: Driver, c: Cast, case_id: int, element_id: str, data: dict[str, Any]) -> str:
    """Complete a task as its lane's role, after checking that others are refused."""
    role = d.task(case_id, element_id).role
    actor = c.applicant if role == "applicant" else c.officers[role]
    other_officer = next(a for r, a in c.officers.items() if r != role)
    return d.complete_checked(case_id, element_id, actor, data, refused=(c.stranger, other_officer))


def six_months_after(day: date) -> date:
    month = day.month + 6
    year, month = day.year + (month - 1) // 12, (month - 1) % 12 + 1
    last = (date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)).day
    return date(year, month, min(day.day, last))



def test_face_to_face_happy_path_issues_the_skck(ctx: AppContext, cast: Cast) -> None:
    d = Driver(ctx)
    case = d.start("skck", application(sidik_jari_terdaftar=True), cast.applicant, channel="tatap_muka")
    # At the counter the fingerprints are taken even when they are on record.
    assert [(t.element_id, t.role) for t in d.open_tasks(case.id)] == [("Task_sidik_jari", "polresta.identifikasi")]
    step(d, cast, case.id, "Task_sidik_jari", FINGERPRINTS)
    step(d, cast, case.id, "Task_penelitian", CLEAN)
    assert d.case(case.id).data["biaya_pnbp"] == 30_000
    assert d.task(case.id, "Task_pembayaran").role == "applicant"
    step(d, cast, case.id, "Task_pembayaran", PAID)
    step(d, cast, case.id, "Task_verifikasi_pembayaran", {"pembayaran_valid": True})
    assert step(d, cast, case.id, "Task_penerbitan", SIGNED) == "completed"
    row = d.case(case.id)
    assert (row.status, row.outcome) == ("completed", "SKCK terbit")
    # today() in scripts is the engine clock's date in WIB: Monday 2 March 2026; valid 6 months.
    assert (row.data["tanggal_terbit"], row.data["berlaku_sampai"]) == ("2026-03-02", "2026-09-02")
    assert row.data["nomor_skck"] == SIGNED["nomor_skck"]
    assert d.open_tasks(case.id) == []


def test_validity_runs_six_months_from_the_day_of_issue(ctx: AppContext, cast: Cast, clock: FakeClock) -> None:
    d = Driver(ctx)
    for issued, valid_until in (("2026-08-31", "2027-02-28"),  # no 31 February: the last day of the month
                                ("2026-12-15", "2027-06-15")):  # across the year end
        case = d.start("skck", application(sidik_jari_terdaftar=True), cast.applicant, channel="daring")
        step(d, cast, case.id, "Task_penelitian", CLEAN)
        step(d, cast, case.id, "Task_pembayaran", PAID)
        step(d, cast, case.id, "Task_verifikasi_pembayaran", {"pembayaran_valid": True})
        clock.now = datetime.fromisoformat(f"{issued}T10:00:00+07:00")  # printed that day (no job runs)
        step(d, cast, case.id, "Task_penerbitan", SIGNED)
        data = d.case(case.id).data
        assert (data["tanggal_terbit"], data["berlaku_sampai"]) == (issued, valid_until)
        assert date.fromisoformat(valid_until) == six_months_after(date.fromisoformat(issued))


FINGERPRINT_RULE = [  # (channel, fingerprints on record, first task)
    ("daring", True, "Task_penelitian"),
    ("drive_thru", True, "Task_penelitian"),
    ("daring", False, "Task_sidik_jari"),
    ("drive_thru", False, "Task_sidik_jari"),
    ("tatap_muka", False, "Task_sidik_jari"),
    ("terpadu", True, "Task_sidik_jari"),
]


def test_fingerprinting_depends_on_channel_and_record(ctx: AppContext, cast: Cast) -> None:
    d = Driver(ctx)
    for channel, on_record, first_task in FINGERPRINT_RULE:
        case = d.start("skck", application(sidik_jari_terdaftar=on_record), cast.applicant, channel=channel)
        assert d.open_ids(case.id) == [first_task], (channel, on_record)
        assert d.case(case.id).data["channel"] == channel
    # Service standard: 1 working day for the case and for each step (Monday 2 March -> Tuesday 3 March).
    assert d.case(case.id).due_at.date().isoformat() == "2026-03-03"
    assert d.task(case.id, "Task_sidik_jari").due_at.date().isoformat() == "2026-03-03"
    with pytest.raises(FormInvalid):
        d.start("skck", application(nik="12345"), cast.applicant)
    with pytest.raises(InvalidInput):
        d.start("skck", application(), cast.applicant, channel="pos")


def test_police_record_found_ends_without_a_certificate(ctx: AppContext, cast: Cast) -> None:
    d = Driver(ctx)
    case = d.start("skck", application(), cast.applicant, channel="drive_thru")
    step(d, cast, case.id, "Task_sidik_jari", FINGERPRINTS)
    with pytest.raises(FormInvalid):  # the reason is required when a record is found
        d.complete(case.id, "Task_penelitian", cast.officers["polresta.intelkam"], {"hasil_penelitian": "ada_catatan"})
    reason = "Tercatat dalam putusan pidana yang belum selesai dijalani"
    assert step(d, cast, case.id, "Task_penelitian",
                {"hasil_penelitian": "ada_catatan", "alasan_tidak_diterbitkan": reason}) == "completed"
    row = d.case(case.id)
    assert (row.status, row.outcome) == ("completed", "SKCK tidak dapat diterbitkan")
    assert row.data["alasan_tidak_diterbitkan"] == reason
    assert "biaya_pnbp" not in row.data


def test_invalid_payment_goes_back_to_the_applicant_each_time(ctx: AppContext, cast: Cast) -> None:
    d = Driver(ctx)
    case = d.start("skck", application(sidik_jari_terdaftar=True), cast.applicant, channel="daring")
    step(d, cast, case.id, "Task_penelitian", CLEAN)
    for attempt in (1, 2):
        step(d, cast, case.id, "Task_pembayaran", {**PAID, "ntpn": f"A1B2C3D4E5F6G7H{attempt}"})
        step(d, cast, case.id, "Task_verifikasi_pembayaran",
             {"pembayaran_valid": False, "catatan_verifikasi": f"NTPN tidak ditemukan (percobaan {attempt})"})
        assert d.open_ids(case.id) == ["Task_pembayaran"]
    step(d, cast, case.id, "Task_pembayaran", PAID)
    step(d, cast, case.id, "Task_verifikasi_pembayaran", {"pembayaran_valid": True})
    assert d.open_ids(case.id) == ["Task_penerbitan"]
    assert d.case(case.id).data["ntpn"] == PAID["ntpn"]
    rounds = [e for e in d.events(case.id) if e.element_id == "Task_verifikasi_pembayaran" and e.action == "completed"]
    assert len(rounds) == 3


def test_unpaid_fee_expires_after_three_days(ctx: AppContext, cast: Cast, clock: FakeClock) -> None:
    d = Driver(ctx)
    case = d.start("skck", application(sidik_jari_terdaftar=True), cast.applicant, channel="daring")
    step(d, cast, case.id, "Task_penelitian", CLEAN)
    clock.advance(days=2)
    d.run_jobs()
    assert d.open_ids(case.id) == ["Task_pembayaran"]
    clock.advance(days=1, hours=1)
    d.run_jobs()
    row = d.case(case.id)
    assert (row.status, row.outcome) == ("completed", "Permohonan kedaluwarsa")
    assert d.open_tasks(case.id) == []
    assert [e.element_id for e in d.events(case.id) if e.action == "timer_fired"] == ["Timer_pembayaran"]


def test_outreach_visit_comes_before_fingerprinting(ctx: AppContext, cast: Cast) -> None:
    d = Driver(ctx)
    with pytest.raises(FormInvalid):  # the visit address is required for jemput bola
        d.start("skck", application(jemput_bola=True), cast.applicant)
    case = d.start("skck", application(jemput_bola=True, alamat_kunjungan="Jl. Parangtritis 21, Mantrijeron",
                                       kebutuhan_khusus="Pengguna kursi roda"), cast.applicant)
    # The visit is made by the police identification unit, which takes fingerprints; the generic DPMPTSP
    # outreach officer (the first other role `step` tries) is refused.
    assert [(t.element_id, t.role) for t in d.open_tasks(case.id)] == [("Task_jemput_bola", "polresta.identifikasi")]
    step(d, cast, case.id, "Task_jemput_bola", {"tanggal_kunjungan": "2026-03-03", "petugas_kunjungan": "Dwi Lestari",
                                                "hasil_kunjungan": "Berkas diperiksa, sidik jari dijadwalkan di rumah"})
    assert d.open_ids(case.id) == ["Task_sidik_jari"]
    step(d, cast, case.id, "Task_sidik_jari", {**FINGERPRINTS, "lokasi_perekaman": "kunjungan"})
    assert d.open_ids(case.id) == ["Task_penelitian"]

