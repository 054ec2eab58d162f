"""Passport application: every path of the procedure, driven as the real roles."""

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

PASPOR = ROOT / "processes" / "paspor"
ROLES = ("dpmptsp.jemput_bola", "imigrasi.verifikator", "imigrasi.biometrik", "imigrasi.wawancara",
         "imigrasi.kepala_seksi", "imigrasi.pencetakan", "imigrasi.penyerahan")


@dataclass
class Cast:
    applicant: Actor
    stranger: Actor
    officers: dict[str, Actor]


@pytest.fixture
def cast(ctx: AppContext) -> Cast:
    deploy(ctx, PASPOR)
    officers = {role: make_user(ctx, role.replace(".", "_"), role) for role in ROLES}
    return Cast(make_user(ctx, "warga"), make_user(ctx, "tetangga"), officers)


def application(**overrides: Any) -> dict[str, Any]:
    data = {
        "nama_lengkap": "Bagus Wicaksono", "nik": "3471011203880001", "tempat_lahir": "Sleman",
        "tanggal_lahir": "1988-03-12", "jenis_kelamin": "laki_laki",
        "status_perkawinan": "kawin", "alamat": "Jl. Kusumanegara 45, Yogyakarta",
        "telepon": "081328765432", "email": "bagus@example.id", "jenis_permohonan": "baru", "jenis_paspor": "biasa",
        "layanan_percepatan": False, "tujuan_perjalanan": "ibadah", "tanggal_kedatangan": "2026-03-02",
        "jemput_bola": False,
    }
    data.update(overrides)
    return data


COMPLETE = {"hasil_verifikasi": "lengkap"}
BIOMETRICS = {"foto_diambil": True, "sidik_jari_diambil": True, "nomor_permohonan_simkim": "SIMKIM-2026-031245"}
APPROVED = {"hasil_wawancara": "disetujui", "catatan_wawancara": "Perjalanan umrah bersama keluarga"}
PAID = {"kode_billing": "820260302654321", "ntpn": "0F1E2D3C4B5A6978", "tanggal_pembayaran": "2026-03-02"}
ADJUDICATED = {"pembayaran_terverifikasi": True, "keputusan_adjudikasi": "disetujui"}
PRINTED = {"nomor_paspor": "X1234567", "tanggal_terbit": "2026-03-05", "lolos_pemeriksaan_mutu": True}


def step(d: Driver, c: Cast, case_id: int, element_id: str, data: dict[str, Any]) -> str:
    """Complete a task as its lane's role, after checking that others are refused."""
    role = d.task(case_id, element_id).role
    actor = c.applicant if role == "applicant" else c.officers[role]
    other_officer = next(a for r, a in c.officers.items() if r != role)
    return d.complete_checked(case_id, element_id, actor, data, refused=(c.stranger, other_officer))



def through_interview(d: Driver, c: Cast, case_id: int) -> None:
    step(d, c, case_id, "Task_verifikasi_berkas", COMPLETE)
    step(d, c, case_id, "Task_biometrik", BIOMETRICS)
    step(d, c, case_id, "Task_wawancara", APPROVED)


def through_printing(d: Driver, c: Cast, case_id: int, printed: dict[str, Any] = PRINTED) -> None:
    through_interview(d, c, case_id)
    step(d, c, case_id, "Task_pembayaran", PAID)
    step(d, c, case_id, "Task_adjudikasi", ADJUDICATED)
    step(d, c, case_id, "Task_pencetakan", printed)


def test_happy_path_hands_over_the_passport_at_the_counter(ctx: AppContext, cast: Cast) -> None:
    d = Driver(ctx)
    case = d.start("paspor", application(), cast.applicant, channel="tatap_muka")
    assert [(t.element_id, t.role) for t in d.open_tasks(case.id)] == [
        ("Task_verifikasi_berkas", "imigrasi.verifikator")]
    step(d, cast, case.id, "Task_verifikasi_berkas", COMPLETE)
    assert d.task(case.id, "Task_biometrik").role == "imigrasi.biometrik"
    step(d, cast, case.id, "Task_biometrik", BIOMETRICS)
    assert d.task(case.id, "Task_wawancara").role == "imigrasi.wawancara"
    step(d, cast, case.id, "Task_wawancara", APPROVED)
    data = d.case(case.id).data
    assert (data["biaya_paspor"], data["biaya_percepatan"], data["biaya_pnbp"]) == (350_000, 0, 350_000)
    assert d.task(case.id, "Task_pembayaran").role == "applicant"
    step(d, cast, case.id, "Task_pembayaran", PAID)
    assert d.task(case.id, "Task_adjudikasi").role == "imigrasi.kepala_seksi"
    step(d, cast, case.id, "Task_adjudikasi", ADJUDICATED)
    assert d.task(case.id, "Task_pencetakan").role == "imigrasi.pencetakan"
    step(d, cast, case.id, "Task_pencetakan", PRINTED)
    issued = d.case(case.id).data
    assert (issued["masa_berlaku_tahun"], issued["tanggal_habis_berlaku"]) == (10, "2036-03-05")  # an adult: 10 years
    assert [(t.element_id, t.role) for t in d.open_tasks(case.id)] == [("Task_pengambilan", "imigrasi.penyerahan")]
    assert step(d, cast, case.id, "Task_pengambilan", {"tanggal_pengambilan": "2026-03-09", "diambil_oleh": "pemohon",
                                                       "nama_penerima": "Bagus Wicaksono"}) == "completed"
    row = d.case(case.id)
    assert (row.status, row.outcome) == ("completed", "Paspor diserahkan")
    assert row.data["nomor_paspor"] == "X1234567"


FEES = [  # (passport type, express service, passport PNBP, express PNBP, total)
    ("biasa", False, 350_000, 0, 350_000),
    ("biasa", True, 350_000, 1_000_000, 1_350_000),
    ("elektronik", False, 650_000, 0, 650_000),
    ("elektronik", True, 650_000, 1_000_000, 1_650_000),
]


def test_pnbp_comes_from_the_decision_table(ctx: AppContext, cast: Cast) -> None:
    d = Driver(ctx)
    for jenis, percepatan, paspor, tambahan, total in FEES:
        case = d.start("paspor", application(jenis_paspor=jenis, layanan_percepatan=percepatan), cast.applicant,
                       channel="terpadu")
        through_interview(d, cast, case.id)
        data = d.case(case.id).data
        assert (data["biaya_paspor"], data["biaya_percepatan"], data["biaya_pnbp"]) == (paspor, tambahan, total)
        assert d.open_ids(case.id) == ["Task_pembayaran"]


def test_incomplete_documents_loop_back_to_the_applicant(ctx: AppContext, cast: Cast) -> None:
    d = Driver(ctx)
    case = d.start("paspor", application(), cast.applicant)
    with pytest.raises(FormInvalid):  # what is missing must be said
        d.complete(case.id, "Task_verifikasi_berkas", cast.officers["imigrasi.verifikator"],
                   {"hasil_verifikasi": "tidak_lengkap"})
    for round_no in (1, 2):
        step(d, cast, case.id, "Task_verifikasi_berkas",
             {"hasil_verifikasi": "tidak_lengkap",
              "catatan_verifikasi": f"Akta kelahiran belum dilegalisasi ({round_no})"})
        assert [(t.element_id, t.role) for t in d.open_tasks(case.id)] == [("Task_lengkapi_berkas", "applicant")]
        step(d, cast, case.id, "Task_lengkapi_berkas", {"keterangan_perbaikan": f"Perbaikan ke-{round_no}",
                                                         "dokumen_tambahan": [f"akta-v{round_no + 1}.pdf"]})
        assert d.open_ids(case.id) == ["Task_verifikasi_berkas"]
    step(d, cast, case.id, "Task_verifikasi_berkas", COMPLETE)
    assert d.open_ids(case.id) == ["Task_biometrik"]
    assert d.case(case.id).data["dokumen_tambahan"] == ["akta-v3.pdf"]


def test_interview_or_adjudication_can_refuse(ctx: AppContext, cast: Cast) -> None:
    d = Driver(ctx)
    case = d.start("paspor", application(tujuan_perjalanan="bekerja"), cast.applicant)
    step(d, cast, case.id, "Task_verifikasi_berkas", COMPLETE)
    step(d, cast, case.id, "Task_biometrik", BIOMETRICS)
    with pytest.raises(FormInvalid):  # a refusal states its reason
        d.complete(case.id, "Task_wawancara", cast.officers["imigrasi.wawancara"], {"hasil_wawancara": "ditolak"})
    reason = "Indikasi calon pekerja migran nonprosedural"
    assert step(d, cast, case.id, "Task_wawancara",
                {"hasil_wawancara": "ditolak", "alasan_penolakan": reason}) == "completed"
    row = d.case(case.id)
    assert (row.status, row.outcome) == ("completed", "Permohonan ditolak")
    assert row.data["alasan_penolakan"] == reason
    assert "biaya_pnbp" not in row.data

    case = d.start("paspor", application(), cast.applicant)
    through_interview(d, cast, case.id)
    step(d, cast, case.id, "Task_pembayaran", PAID)
    step(d, cast, case.id, "Task_adjudikasi", {"pembayaran_terverifikasi": True, "keputusan_adjudikasi": "ditolak",
                                               "alasan_penolakan_adjudikasi": "Nama tercantum dalam daftar cegah"})
    row = d.case(case.id)
    assert (row.status, row.outcome) == ("completed", "Paspor tidak diterbitkan")


def test_online_applicant_receives_the_passport_by_post(ctx: AppContext, cast: Cast) -> None:
    d = Driver(ctx)
    case = d.start("paspor", application(alamat_pengiriman="Jl. Kusumanegara 45, Yogyakarta"), cast.applicant,
                   channel="daring")
    # A passport issued on 29 February is valid until 28 February ten years on.
    through_printing(d, cast, case.id, {**PRINTED, "tanggal_terbit": "2028-02-29"})
    assert d.case(case.id).data["tanggal_habis_berlaku"] == "2038-02-28"
    assert [(t.element_id, t.role) for t in d.open_tasks(case.id)] == [("Task_pengiriman_pos", "imigrasi.penyerahan")]
    step(d, cast, case.id, "Task_pengiriman_pos", {"nomor_resi": "P2603050012345", "tanggal_kirim": "2026-03-05",
                                                   "alamat_tujuan": "Jl. Kusumanegara 45, Yogyakarta"})
    row = d.case(case.id)
    assert (row.status, row.outcome) == ("completed", "Paspor dikirim kepada pemohon")


def test_passport_not_collected_in_30_days_is_cancelled(ctx: AppContext, cast: Cast, clock: FakeClock) -> None:
    d = Driver(ctx)
    case = d.start("paspor", application(), cast.applicant, channel="terpadu")
    through_printing(d, cast, case.id)
    clock.advance(days=29)
    d.run_jobs()
    assert d.open_ids(case.id) == ["Task_pengambilan"]
    clock.advance(days=2)
    d.run_jobs()
    row = d.case(case.id)
    assert (row.status, row.outcome) == ("completed", "Paspor dibatalkan karena tidak diambil")
    assert d.open_tasks(case.id) == []
    assert [e.element_id for e in d.events(case.id) if e.action == "timer_fired"] == ["Timer_pengambilan"]


def test_outreach_visit_channels_and_start_form(ctx: AppContext, cast: Cast) -> None:
    d = Driver(ctx)
    case = d.start("paspor", application(jemput_bola=True, alamat_kunjungan="Panti Wreda Budi Dharma, Umbulharjo",
                                         kebutuhan_khusus="Lansia, pengguna kursi roda"), cast.applicant)
    # The visit is made by an immigration officer with a mobile biometric kit; the generic DPMPTSP
    # outreach officer (the first other role `step` tries) is refused.
    assert [(t.element_id, t.role) for t in d.open_tasks(case.id)] == [("Task_jemput_bola", "imigrasi.biometrik")]
    step(d, cast, case.id, "Task_jemput_bola", {"tanggal_kunjungan": "2026-03-03", "petugas_kunjungan": "Rina",
                                                "hasil_kunjungan": "Dokumen diperiksa awal, pemohon diantar ke loket"})
    assert d.open_ids(case.id) == ["Task_verifikasi_berkas"]
    with pytest.raises(InvalidInput):  # photo, fingerprints and interview need the applicant inside the office
        d.start("paspor", application(), cast.applicant, channel="drive_thru")
    with pytest.raises(FormInvalid):  # a replacement names the old passport
        d.start("paspor", application(jenis_permohonan="penggantian_habis_berlaku"), cast.applicant)
    case = d.start("paspor", application(jenis_permohonan="penggantian_habis_berlaku", nomor_paspor_lama="B7654321"),
                   cast.applicant)
    assert d.case(case.id).due_at.date().isoformat() == "2026-03-06"  # 4 working days from Monday 2 March


@pytest.mark.parametrize(("born", "status", "years", "until"), [
    ("2012-06-01", "belum_kawin", 5, "2031-03-05"),   # a child: 5 years
    ("2009-03-06", "belum_kawin", 5, "2031-03-05"),   # 17 the day after issue: still a child
    ("2009-03-05", "belum_kawin", 10, "2036-03-05"),  # 17 on the day of issue: an adult
    ("2009-12-01", "kawin", 10, "2036-03-05"),        # married under 17: 10 years
    ("1988-03-12", "belum_kawin", 10, "2036-03-05"),  # an unmarried adult: 10 years
])
def test_validity_follows_age_and_marital_status(ctx: AppContext, cast: Cast, born: str, status: str, years: int,
                                                 until: str) -> None:
    # Permenkumham 18/2022: the 10-year passport is for citizens aged 17 or over or married; others get 5 years.
    d = Driver(ctx)
    case = d.start("paspor", application(tanggal_lahir=born, status_perkawinan=status), cast.applicant,
                   channel="tatap_muka")
    through_printing(d, cast, case.id)
    data = d.case(case.id).data
    assert (data["masa_berlaku_tahun"], data["tanggal_habis_berlaku"]) == (years, until)
