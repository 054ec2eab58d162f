"""Marriage registration at the KUA: every path of the procedure, driven as the real roles."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from engine.context import AppContext
from engine.directory.actors import Actor
from engine.errors import InvalidInput
from forms.validation import FormInvalid
from tests.conftest import FakeClock
from tests.factories import ROOT, Driver, deploy, make_user

NIKAH = ROOT / "processes" / "nikah"
WIB = ZoneInfo("Asia/Jakarta")
# SpiffWorkflow compares an absolute timer date (the wedding time) with the wall clock, not with the
# engine's clock, so the wedding is set in the real future and the fake clock is moved to it.
WEDDING_DAY = (datetime.now(WIB) + timedelta(days=60)).date()


def wedding_time(hhmm: str) -> datetime:
    hour, minute = (int(part) for part in hhmm.split(":"))
    return datetime(WEDDING_DAY.year, WEDDING_DAY.month, WEDDING_DAY.day, hour, minute, tzinfo=WIB).astimezone(UTC)


ROLES = ("dpmptsp.jemput_bola", "kemenag.petugas_kua", "kemenag.penghulu", "kemenag.bendahara", "kemenag.kepala_kua")


@dataclass
class Cast:
    applicant: Actor
    stranger: Actor
    officers: dict[str, Actor]


@pytest.fixture
def cast(ctx: AppContext) -> Cast:
    deploy(ctx, NIKAH)
    officers = {role: make_user(ctx, role.replace(".", "_"), role) for role in ROLES}
    return Cast(make_user(ctx, "catin"), make_user(ctx, "tetangga"), officers)


def registration(**overrides: Any) -> dict[str, Any]:
    data = {
        "nama_calon_suami": "Ahmad Fauzi", "nik_calon_suami": "3471010101950003",
        "tanggal_lahir_calon_suami": "1995-01-01", "nama_calon_istri": "Nur Aini",
        "nik_calon_istri": "3471024202970004", "tanggal_lahir_calon_istri": "1997-02-02",
        "nama_wali": "H. Abdul Karim", "hubungan_wali": "ayah_kandung",
        "tanggal_nikah": WEDDING_DAY.isoformat(), "jam_nikah": "09:00",
        "lokasi_nikah": "kua", "hari_kerja": True, "tidak_mampu": False, "telepon": "081390001122",
        "jemput_bola": False, "nomor_sertifikat_bimbingan_perkawinan": "BIMWIN/3471/2026/0456",
        "nomor_surat_keterangan_sehat": "PKM-MGS/SKS/2026/117", "domisili_calon_istri": "wilayah_kua",
        "dispensasi_pengadilan": False, "dispensasi_camat": False,
    }
    data.update(overrides)
    return data


FILE_OK = {"hasil_pemeriksaan_berkas": "lengkap", "nomor_pendaftaran": "SIMKAH-3471-2026-0123"}
EXAM_OK = {"tanggal_pemeriksaan": "2026-03-02", "hasil_pemeriksaan_nikah": "memenuhi_syarat"}
PAID = {"kode_billing": "820260303111222", "ntpn": "7A8B9C0D1E2F3A4B", "tanggal_pembayaran": "2026-03-03",
        "bank_pembayaran": "Bank BPD DIY"}
AKAD = {"tanggal_akad": WEDDING_DAY.isoformat(), "nomor_akta_nikah": "0123/011/III/2026", "nama_saksi_1": "Slamet",
        "nama_saksi_2": "Budi Raharjo", "mahar": "Seperangkat alat salat dan emas 10 gram"}
SIGNED = {"nomor_perforasi_buku_nikah": "DA 1234567", "kartu_nikah_digital": True, "ditandatangani": True}


def step(d: Driver, c: Cast, case_id: int, element_id: str, data: dict[str, Any]) -> str:
    """Complete a task as its lane's role, after checking that others are refused."""
    role = d.task(case_id, element_id).role
    actor = c.applicant if role == "applicant" else c.officers[role]
    other_officer = next(a for r, a in c.officers.items() if r != role)
    return d.complete_checked(case_id, element_id, actor, data, refused=(c.stranger, other_officer))



def through_examination(d: Driver, c: Cast, case_id: int) -> None:
    step(d, c, case_id, "Task_pemeriksaan_berkas", FILE_OK)
    step(d, c, case_id, "Task_pemeriksaan_nikah", EXAM_OK)


def test_free_wedding_at_the_kua_in_office_hours(ctx: AppContext, cast: Cast, clock: FakeClock) -> None:
    d = Driver(ctx)
    case = d.start("nikah", registration(), cast.applicant, channel="tatap_muka")
    assert [(t.element_id, t.role) for t in d.open_tasks(case.id)] == [
        ("Task_pemeriksaan_berkas", "kemenag.petugas_kua")]
    step(d, cast, case.id, "Task_pemeriksaan_berkas", FILE_OK)
    assert d.task(case.id, "Task_pemeriksaan_nikah").role == "kemenag.penghulu"
    step(d, cast, case.id, "Task_pemeriksaan_nikah", EXAM_OK)
    assert d.case(case.id).data["biaya_nikah"] == 0
    assert d.open_tasks(case.id) == []  # no payment: only the 10-day public notice runs
    clock.advance(days=9)
    d.run_jobs()
    assert d.case(case.id).status == "running"
    clock.advance(days=1)
    d.run_jobs()
    assert d.open_tasks(case.id) == []  # waiting for the wedding day
    clock.now = wedding_time("09:00") - timedelta(minutes=1)
    d.run_jobs()
    assert d.open_tasks(case.id) == []
    clock.now = wedding_time("09:00")
    d.run_jobs()
    assert [(t.element_id, t.role) for t in d.open_tasks(case.id)] == [("Task_akad", "kemenag.penghulu")]
    step(d, cast, case.id, "Task_akad", AKAD)
    sign = d.task(case.id, "Task_tanda_tangan")
    assert sign.role == "kemenag.kepala_kua"
    assert sign.due_at == ctx.rt.calendar.due_at(clock.now, 5)  # within 7 days: 5 working days
    assert step(d, cast, case.id, "Task_tanda_tangan", SIGNED) == "completed"
    row = d.case(case.id)
    assert (row.status, row.outcome) == ("completed", "Buku nikah diterbitkan")
    assert row.data["nomor_akta_nikah"] == AKAD["nomor_akta_nikah"]
    fired = [e.element_id for e in d.events(case.id) if e.action == "timer_fired"]
    assert fired == ["Timer_pengumuman", "Timer_hari_akad"]


FEES = [  # (venue, working day and hours, poor or disaster victim, fee)
    ("kua", True, False, 0),
    ("kua", False, False, 600_000),
    ("kua", False, True, 0),
    ("luar_kua", True, False, 600_000),
    ("luar_kua", False, False, 600_000),
    ("luar_kua", False, True, 0),
]


def test_fee_comes_from_the_decision_table(ctx: AppContext, cast: Cast) -> None:
    d = Driver(ctx)
    for lokasi, hari_kerja, tidak_mampu, fee in FEES:
        extra = {"alamat_tempat_nikah": "Masjid Gedhe Kauman, Yogyakarta"} if lokasi == "luar_kua" else {}
        case = d.start("nikah", registration(lokasi_nikah=lokasi, hari_kerja=hari_kerja, tidak_mampu=tidak_mampu,
                                             **extra), cast.applicant, channel="daring")
        through_examination(d, cast, case.id)
        assert d.case(case.id).data["biaya_nikah"] == fee, (lokasi, hari_kerja, tidak_mampu)
        assert d.open_ids(case.id) == (["Task_pembayaran"] if fee else [])


def test_paid_wedding_outside_the_kua_with_payment_rounds(ctx: AppContext, cast: Cast, clock: FakeClock) -> None:
    d = Driver(ctx)
    case = d.start("nikah", registration(lokasi_nikah="luar_kua", alamat_tempat_nikah="Jl. Gejayan 7, Yogyakarta",
                                         jam_nikah="19:30", hari_kerja=False), cast.applicant, channel="terpadu")
    through_examination(d, cast, case.id)
    assert [(t.element_id, t.role) for t in d.open_tasks(case.id)] == [("Task_pembayaran", "applicant")]
    for attempt in (1, 2):
        step(d, cast, case.id, "Task_pembayaran", {**PAID, "ntpn": f"7A8B9C0D1E2F3A4{attempt}"})
        assert d.task(case.id, "Task_verifikasi_pembayaran").role == "kemenag.bendahara"
        step(d, cast, case.id, "Task_verifikasi_pembayaran",
             {"pembayaran_valid": False, "catatan_verifikasi": f"Setoran belum masuk kas negara ({attempt})"})
        assert d.open_ids(case.id) == ["Task_pembayaran"]
    clock.advance(days=10)
    d.run_jobs()  # the public notice ends before the fee is paid: the join keeps waiting
    assert d.open_ids(case.id) == ["Task_pembayaran"]
    step(d, cast, case.id, "Task_pembayaran", PAID)
    step(d, cast, case.id, "Task_verifikasi_pembayaran", {"pembayaran_valid": True})
    assert d.open_tasks(case.id) == []  # both branches done; waiting for the wedding at 19:30 WIB
    clock.now = wedding_time("19:00")
    d.run_jobs()
    assert d.open_tasks(case.id) == []
    clock.now = wedding_time("19:30")
    d.run_jobs()
    step(d, cast, case.id, "Task_akad", AKAD)
    step(d, cast, case.id, "Task_tanda_tangan", SIGNED)
    row = d.case(case.id)
    assert (row.status, row.outcome) == ("completed", "Buku nikah diterbitkan")
    assert (row.data["biaya_nikah"], row.data["ntpn"]) == (600_000, PAID["ntpn"])


def test_impediment_found_at_the_examination_refuses_the_marriage(ctx: AppContext, cast: Cast) -> None:
    d = Driver(ctx)
    case = d.start("nikah", registration(), cast.applicant)
    step(d, cast, case.id, "Task_pemeriksaan_berkas", FILE_OK)
    with pytest.raises(FormInvalid):  # a refusal states its reason
        d.complete(case.id, "Task_pemeriksaan_nikah", cast.officers["kemenag.penghulu"],
                   {"tanggal_pemeriksaan": "2026-03-02", "hasil_pemeriksaan_nikah": "ditolak"})
    reason = "Calon suami masih terikat perkawinan yang sah"
    step(d, cast, case.id, "Task_pemeriksaan_nikah", {"tanggal_pemeriksaan": "2026-03-02",
                                                      "hasil_pemeriksaan_nikah": "ditolak", "alasan_penolakan": reason})
    row = d.case(case.id)
    assert (row.status, row.outcome) == ("completed", "Kehendak nikah ditolak")
    assert row.data["alasan_penolakan"] == reason
    assert "biaya_nikah" not in row.data


def test_incomplete_file_loops_back_to_the_couple(ctx: AppContext, cast: Cast) -> None:
    d = Driver(ctx)
    case = d.start("nikah", registration(), cast.applicant)
    for round_no in (1, 2):
        step(d, cast, case.id, "Task_pemeriksaan_berkas",
             {"hasil_pemeriksaan_berkas": "tidak_lengkap", "catatan_berkas": f"Formulir N5 belum ada ({round_no})"})
        assert [(t.element_id, t.role) for t in d.open_tasks(case.id)] == [("Task_lengkapi_berkas", "applicant")]
        step(d, cast, case.id, "Task_lengkapi_berkas", {"keterangan_perbaikan": f"Melampirkan N5 ({round_no})"})
    step(d, cast, case.id, "Task_pemeriksaan_berkas", FILE_OK)
    assert d.open_ids(case.id) == ["Task_pemeriksaan_nikah"]
    rounds = [e for e in d.events(case.id) if e.element_id == "Task_lengkapi_berkas" and e.action == "completed"]
    assert len(rounds) == 2


def test_outreach_visit_channels_and_registration_form(ctx: AppContext, cast: Cast) -> None:
    d = Driver(ctx)
    case = d.start("nikah", registration(jemput_bola=True, alamat_kunjungan="Jl. Tamansiswa 80, Mergangsan",
                                         kebutuhan_khusus="Calon istri tunarungu: perlu juru bahasa isyarat"),
                   cast.applicant)
    assert [(t.element_id, t.role) for t in d.open_tasks(case.id)] == [("Task_jemput_bola", "dpmptsp.jemput_bola")]
    step(d, cast, case.id, "Task_jemput_bola", {"tanggal_kunjungan": "2026-03-02", "petugas_kunjungan": "Agus",
                                                "hasil_kunjungan": "Berkas diperiksa di rumah calon pengantin"})
    assert d.open_ids(case.id) == ["Task_pemeriksaan_berkas"]
    with pytest.raises(InvalidInput):
        d.start("nikah", registration(), cast.applicant, channel="drive_thru")
    with pytest.raises(FormInvalid):  # a venue outside the KUA needs its address
        d.start("nikah", registration(lokasi_nikah="luar_kua"), cast.applicant)
    with pytest.raises(FormInvalid):
        d.start("nikah", registration(jam_nikah="25:00"), cast.applicant)


def sent_back_with(d: Driver, c: Cast, case_id: int, reason: str) -> None:
    step(d, c, case_id, "Task_pemeriksaan_berkas", FILE_OK)
    assert [(t.element_id, t.role) for t in d.open_tasks(case_id)] == [("Task_lengkapi_berkas", "applicant")]
    assert reason in d.case(case_id).data["catatan_berkas"]


def test_a_partner_under_19_needs_the_religious_courts_dispensation(ctx: AppContext, cast: Cast) -> None:
    # UU 16/2019: 19 is the minimum age for both partners on the wedding day.
    eighteen = WEDDING_DAY.replace(year=WEDDING_DAY.year - 19) + timedelta(days=1)
    d = Driver(ctx)
    case = d.start("nikah", registration(tanggal_lahir_calon_istri=eighteen.isoformat()), cast.applicant)
    sent_back_with(d, cast, case.id, "Pengadilan Agama")
    assert d.case(case.id).data["usia_calon_istri"] == 18
    with pytest.raises(FormInvalid):  # a dispensation needs its number
        d.complete(case.id, "Task_lengkapi_berkas", cast.applicant,
                   {"keterangan_perbaikan": "Dispensasi", "dispensasi_pengadilan": True})
    step(d, cast, case.id, "Task_lengkapi_berkas", {"keterangan_perbaikan": "Melampirkan penetapan dispensasi",
                                                    "dispensasi_pengadilan": True,
                                                    "nomor_dispensasi_pengadilan": "0123/Pdt.P/2026/PA.Yk"})
    step(d, cast, case.id, "Task_pemeriksaan_berkas", FILE_OK)
    assert d.open_ids(case.id) == ["Task_pemeriksaan_nikah"]


def test_a_partner_of_19_on_the_wedding_day_needs_no_dispensation(ctx: AppContext, cast: Cast) -> None:
    nineteen = WEDDING_DAY.replace(year=WEDDING_DAY.year - 19)
    d = Driver(ctx)
    case = d.start("nikah", registration(tanggal_lahir_calon_suami=nineteen.isoformat()), cast.applicant)
    step(d, cast, case.id, "Task_pemeriksaan_berkas", FILE_OK)
    assert d.open_ids(case.id) == ["Task_pemeriksaan_nikah"]


def test_a_wedding_within_10_working_days_moves_or_needs_the_camats_dispensation(ctx: AppContext, cast: Cast) -> None:
    # PMA 22/2024: the wedding is at least 10 working days after the notice; the clock starts Monday 2 March 2026.
    d = Driver(ctx)
    case = d.start("nikah", registration(tanggal_nikah="2026-03-13"), cast.applicant)  # 9 working days on
    sent_back_with(d, cast, case.id, "10 hari kerja")
    assert d.case(case.id).data["hari_kerja_sebelum_akad"] == 9
    step(d, cast, case.id, "Task_lengkapi_berkas", {"keterangan_perbaikan": "Tanggal akad diundur",
                                                    "tanggal_nikah": WEDDING_DAY.isoformat()})
    step(d, cast, case.id, "Task_pemeriksaan_berkas", FILE_OK)
    assert d.open_ids(case.id) == ["Task_pemeriksaan_nikah"]

    dispensed = d.start("nikah", registration(tanggal_nikah="2026-03-13", dispensasi_camat=True,
                                              nomor_dispensasi_camat="400/112/MG/2026"), cast.applicant)
    step(d, cast, dispensed.id, "Task_pemeriksaan_berkas", FILE_OK)
    assert d.open_ids(dispensed.id) == ["Task_pemeriksaan_nikah"]


def test_the_registration_asks_the_certificates_and_an_out_of_district_recommendation(ctx: AppContext,
                                                                                      cast: Cast) -> None:
    d = Driver(ctx)
    for missing in ("nomor_sertifikat_bimbingan_perkawinan", "nomor_surat_keterangan_sehat"):
        data = registration()
        del data[missing]
        with pytest.raises(FormInvalid):
            d.start("nikah", data, cast.applicant)
    with pytest.raises(FormInvalid):  # the bride lives elsewhere: her KUA's recommendation is needed
        d.start("nikah", registration(domisili_calon_istri="luar_wilayah"), cast.applicant)
    case = d.start("nikah", registration(domisili_calon_istri="luar_wilayah",
                                         nomor_rekomendasi_nikah="B-118/Kua.12.02.3/PW.01/2026"), cast.applicant)
    assert d.open_ids(case.id) == ["Task_pemeriksaan_berkas"]
