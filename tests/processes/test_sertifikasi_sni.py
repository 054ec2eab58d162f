"""SNI product certification (SPPT-SNI): every path of the LSPro procedure, driven as the real roles."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from engine.context import AppContext
from engine.directory.actors import Actor
from engine.errors import InvalidInput, TaskNotForYourRole
from forms.validation import FormInvalid
from tests.conftest import FakeClock
from tests.factories import ROOT, Driver, deploy, make_user

SNI = ROOT / "processes" / "sertifikasi_sni"


@dataclass
class Cast:
    applicant: Actor
    jemput: Actor
    front: Actor
    auditor: Actor  # LSPro B4T
    auditor_sucofindo: Actor
    komite: Actor  # LSPro B4T
    komite_sucofindo: Actor
    lab: Actor


@pytest.fixture
def cast(ctx: AppContext) -> Cast:
    deploy(ctx, SNI)  # declares the marketplace `lspro`, its two firms and the testing laboratory
    return Cast(
        applicant=make_user(ctx, "pelaku_usaha"),
        jemput=make_user(ctx, "jemput", "dpmptsp.jemput_bola"),
        front=make_user(ctx, "fo", "dpmptsp.front_office"),
        auditor=make_user(ctx, "auditor_b4t", "lspro.auditor", org="lspro_b4t"),
        auditor_sucofindo=make_user(ctx, "auditor_sucofindo", "lspro.auditor", org="lspro_sucofindo"),
        komite=make_user(ctx, "komite_b4t", "lspro.komite", org="lspro_b4t"),
        komite_sucofindo=make_user(ctx, "komite_sucofindo", "lspro.komite", org="lspro_sucofindo"),
        lab=make_user(ctx, "penguji", "lab_uji.penguji"),
    )


def application(**overrides: Any) -> dict[str, Any]:
    data = {
        "nama_perusahaan": "CV Sinar Elektrik Mataram", "nib": "9120301234567", "nama_penanggung_jawab": "Dewi Lestari",
        "email": "dewi@sinarelektrik.id", "telepon": "081328765432", "nama_produk": "Setrika listrik",
        "merek": "SINARMAS", "nomor_sni": "SNI IEC 60335-2-3:2016", "kategori_produk": "elektronika",
        "jumlah_tipe": 3, "alamat_pabrik": "Jl. Wonosari Km 8, Banguntapan, Bantul", "lspro": "lspro_b4t",
        "jemput_bola": False,
    }
    data.update(overrides)
    return data


LOKET = {"berkas_diterima": True, "jumlah_dokumen": 7}
LENGKAP = {"hasil_kaji_dokumen": "lengkap", "nomor_registrasi_lspro": "B4T/SPPT/2026/0311"}
BAYAR = {"nomor_bukti_bayar": "TRF-7781201", "tanggal_pembayaran": "2026-03-06", "jumlah_dibayar": 35_000_000}
AUDIT_SESUAI = {"tanggal_audit": "2026-03-10", "nama_auditor": "Rudi Hartono", "hasil_audit": "sesuai",
                "jumlah_ketidaksesuaian": 0}
CONTOH = {"tanggal_pengambilan_contoh": "2026-03-10", "jumlah_contoh": 6, "kode_contoh": "B4T-C-0311",
          "lokasi_pengambilan": "pabrik"}
UJI_LULUS = {"nomor_lhu": "LHU/LAB/2026/1204", "tanggal_lhu": "2026-03-20", "hasil_uji": "lulus"}
SERTIFIKASI = {"keputusan_sertifikasi": "sertifikasi", "nomor_berita_acara_komite": "BA-KOM/2026/044"}
TERBIT = {"nomor_sppt_sni": "SPPT-SNI/B4T/0457/2026", "tanggal_terbit": "2026-03-26", "berlaku_sampai": "2030-03-25"}



def to_payment(d: Driver, c: Cast, case_id: int) -> None:
    d.complete(case_id, "Task_terima_berkas", c.front, LOKET)
    d.complete(case_id, "Task_kaji_dokumen", c.auditor, LENGKAP)


def evaluate(d: Driver, c: Cast, case_id: int, audit: dict[str, Any], uji: dict[str, Any],
             lab_first: bool = True) -> None:
    assert set(d.open_ids(case_id)) == {"Task_audit_pabrik", "Task_pengambilan_contoh"}
    lab_steps = [("Task_pengambilan_contoh", c.lab, CONTOH), ("Task_pengujian", c.lab, uji)]
    audit_step = [("Task_audit_pabrik", c.auditor, audit)]
    for element, actor, data in (lab_steps + audit_step if lab_first else audit_step + lab_steps):
        d.complete(case_id, element, actor, data)


def test_counter_application_is_audited_tested_and_certified(ctx: AppContext, cast: Cast) -> None:
    d = Driver(ctx)
    case = d.start("sertifikasi_sni", application(), cast.applicant)
    assert [t.role for t in d.open_tasks(case.id)] == ["dpmptsp.front_office"]
    with pytest.raises(TaskNotForYourRole):
        d.complete(case.id, "Task_terima_berkas", cast.auditor, LOKET)
    d.complete(case.id, "Task_terima_berkas", cast.front, LOKET)
    review = d.task(case.id, "Task_kaji_dokumen")
    assert (review.role, review.bound_org) == ("lspro.auditor", "lspro_b4t")
    assert [t.id for t in d.inbox(cast.auditor)] == [review.id]
    assert d.inbox(cast.auditor_sucofindo) == []
    with pytest.raises(TaskNotForYourRole):
        d.complete(case.id, "Task_kaji_dokumen", cast.auditor_sucofindo, LENGKAP)  # the competing LSPro
    d.complete(case.id, "Task_kaji_dokumen", cast.auditor, LENGKAP)
    assert d.case(case.id).data["biaya_sertifikasi"] == 35_000_000  # elektronika, 3 types
    assert d.task(case.id, "Task_pembayaran").role == "applicant"
    with pytest.raises(TaskNotForYourRole):
        d.complete(case.id, "Task_pembayaran", cast.auditor, BAYAR)
    d.complete(case.id, "Task_pembayaran", cast.applicant, BAYAR)
    tasks = {t.element_id: (t.role, t.bound_org) for t in d.open_tasks(case.id)}
    assert tasks == {"Task_audit_pabrik": ("lspro.auditor", "lspro_b4t"),
                     "Task_pengambilan_contoh": ("lab_uji.penguji", None)}
    with pytest.raises(TaskNotForYourRole):
        d.complete(case.id, "Task_audit_pabrik", cast.lab, AUDIT_SESUAI)
    with pytest.raises(TaskNotForYourRole):
        d.complete(case.id, "Task_pengambilan_contoh", cast.auditor, CONTOH)
    d.complete(case.id, "Task_audit_pabrik", cast.auditor, AUDIT_SESUAI)
    assert set(d.open_ids(case.id)) == {"Task_pengambilan_contoh"}  # the join waits for the laboratory
    d.complete(case.id, "Task_pengambilan_contoh", cast.lab, CONTOH)
    with pytest.raises(TaskNotForYourRole):
        d.complete(case.id, "Task_pengujian", cast.auditor, UJI_LULUS)
    d.complete(case.id, "Task_pengujian", cast.lab, UJI_LULUS)
    decision = d.task(case.id, "Task_keputusan")
    assert (decision.role, decision.bound_org) == ("lspro.komite", "lspro_b4t")
    with pytest.raises(TaskNotForYourRole):
        d.complete(case.id, "Task_keputusan", cast.auditor, SERTIFIKASI)  # the auditor does not decide
    with pytest.raises(TaskNotForYourRole):
        d.complete(case.id, "Task_keputusan", cast.komite_sucofindo, SERTIFIKASI)
    d.complete(case.id, "Task_keputusan", cast.komite, SERTIFIKASI)
    with pytest.raises(TaskNotForYourRole):
        d.complete(case.id, "Task_terbitkan", cast.applicant, TERBIT)
    assert d.complete(case.id, "Task_terbitkan", cast.komite, TERBIT) == "completed"
    row = d.case(case.id)
    assert (row.status, row.outcome) == ("completed", "SPPT-SNI terbit")
    assert row.data["nomor_sppt_sni"] == "SPPT-SNI/B4T/0457/2026"
    assert (row.data["hasil_audit"], row.data["hasil_uji"]) == ("sesuai", "lulus")
    assert d.open_tasks(case.id) == []


def test_incomplete_documents_go_back_to_the_applicant_twice(ctx: AppContext, cast: Cast) -> None:
    d = Driver(ctx)
    case = d.start("sertifikasi_sni", application(), cast.applicant)
    d.complete(case.id, "Task_terima_berkas", cast.front, LOKET)
    for round_no in (1, 2):
        with pytest.raises(FormInvalid):
            d.complete(case.id, "Task_kaji_dokumen", cast.auditor, {"hasil_kaji_dokumen": "tidak_lengkap"})
        d.complete(case.id, "Task_kaji_dokumen", cast.auditor,
                   {"hasil_kaji_dokumen": "tidak_lengkap", "catatan_kaji_dokumen": f"Denah pabrik kurang ({round_no})"})
        back = d.task(case.id, "Task_lengkapi_dokumen")
        assert back.role == "applicant"
        with pytest.raises(TaskNotForYourRole):
            d.complete(case.id, "Task_lengkapi_dokumen", cast.auditor, {"keterangan_perbaikan": "x"})
        d.complete(case.id, "Task_lengkapi_dokumen", cast.applicant,
                   {"keterangan_perbaikan": f"Denah diunggah ({round_no})", "dokumen_tambahan": ["denah.pdf"]})
        assert set(d.open_ids(case.id)) == {"Task_kaji_dokumen"}
    d.complete(case.id, "Task_kaji_dokumen", cast.auditor, LENGKAP)
    assert set(d.open_ids(case.id)) == {"Task_pembayaran"}
    reviews = [e for e in d.events(case.id) if e.element_id == "Task_kaji_dokumen" and e.action == "completed"]
    assert len(reviews) == 3


def test_unpaid_fee_expires_the_application(ctx: AppContext, cast: Cast, clock: FakeClock) -> None:
    d = Driver(ctx)
    case = d.start("sertifikasi_sni", application(), cast.applicant)
    to_payment(d, cast, case.id)
    clock.advance(days=29)
    d.run_jobs()
    assert set(d.open_ids(case.id)) == {"Task_pembayaran"}  # not due yet
    clock.advance(days=2)
    d.run_jobs()
    row = d.case(case.id)
    assert (row.status, row.outcome) == ("completed", "Permohonan kedaluwarsa")
    assert d.open_tasks(case.id) == []
    assert any(e.action == "timer_fired" for e in d.events(case.id))


@pytest.mark.parametrize(("audit", "uji", "lab_first"), [
    ({**AUDIT_SESUAI, "hasil_audit": "tidak_sesuai", "jumlah_ketidaksesuaian": 2,
      "catatan_audit": "Pengendalian produk tidak sesuai tidak diterapkan"}, UJI_LULUS, True),
    (AUDIT_SESUAI, {**UJI_LULUS, "hasil_uji": "tidak_lulus", "catatan_uji": "Arus bocor melebihi batas"}, False),
])
def test_a_failed_audit_or_test_ends_without_certificate(ctx: AppContext, cast: Cast, audit: dict[str, Any],
                                                         uji: dict[str, Any], lab_first: bool) -> None:
    d = Driver(ctx)
    case = d.start("sertifikasi_sni", application(), cast.applicant)
    to_payment(d, cast, case.id)
    d.complete(case.id, "Task_pembayaran", cast.applicant, BAYAR)
    evaluate(d, cast, case.id, audit, uji, lab_first=lab_first)
    row = d.case(case.id)
    assert (row.status, row.outcome) == ("completed", "Tidak memenuhi persyaratan SNI")
    assert not any(e.element_id == "Task_keputusan" for e in d.events(case.id))


def test_the_committee_refuses(ctx: AppContext, cast: Cast) -> None:
    d = Driver(ctx)
    case = d.start("sertifikasi_sni", application(), cast.applicant)
    to_payment(d, cast, case.id)
    d.complete(case.id, "Task_pembayaran", cast.applicant, BAYAR)
    evaluate(d, cast, case.id, AUDIT_SESUAI, UJI_LULUS, lab_first=False)
    with pytest.raises(FormInvalid):
        d.complete(case.id, "Task_keputusan", cast.komite, {**SERTIFIKASI, "keputusan_sertifikasi": "tolak"})
    d.complete(case.id, "Task_keputusan", cast.komite,
               {**SERTIFIKASI, "keputusan_sertifikasi": "tolak", "alasan_keputusan": "Merek belum terdaftar"})
    row = d.case(case.id)
    assert (row.status, row.outcome) == ("completed", "Sertifikasi ditolak")


def test_online_application_goes_straight_to_the_chosen_lspro(ctx: AppContext, cast: Cast) -> None:
    d = Driver(ctx)
    case = d.start("sertifikasi_sni", application(lspro="lspro_sucofindo"), cast.applicant, channel="daring")
    review = d.task(case.id, "Task_kaji_dokumen")  # no counter step
    assert review.bound_org == "lspro_sucofindo"
    assert d.inbox(cast.auditor) == []
    with pytest.raises(TaskNotForYourRole):
        d.complete(case.id, "Task_kaji_dokumen", cast.auditor, LENGKAP)
    d.complete(case.id, "Task_kaji_dokumen", cast.auditor_sucofindo, LENGKAP)
    d.complete(case.id, "Task_pembayaran", cast.applicant, BAYAR)
    assert d.task(case.id, "Task_audit_pabrik").bound_org == "lspro_sucofindo"
    assert not any(e.element_id in ("Task_terima_berkas", "Task_jemput_bola") for e in d.events(case.id))


@pytest.mark.parametrize("channel", ["tatap_muka", "daring"])
def test_outreach_officer_collects_the_file(ctx: AppContext, cast: Cast, channel: str) -> None:
    d = Driver(ctx)
    case = d.start("sertifikasi_sni", application(jemput_bola=True, alamat_jemput_bola="Jl. Parangtritis 12"),
                   cast.applicant, channel=channel)
    visit = d.task(case.id, "Task_jemput_bola")
    assert visit.role == "dpmptsp.jemput_bola"
    assert [t.element_id for t in d.inbox(cast.jemput)] == ["Task_jemput_bola"]
    data = {"tanggal_kunjungan_jemput_bola": "2026-03-03", "petugas_jemput_bola": "Andi",
            "berkas_diterima_jemput_bola": True}
    with pytest.raises(TaskNotForYourRole):
        d.complete(case.id, "Task_jemput_bola", cast.front, data)
    d.complete(case.id, "Task_jemput_bola", cast.jemput, data)
    assert set(d.open_ids(case.id)) == {"Task_kaji_dokumen"}


@pytest.mark.parametrize(("kategori", "tipe", "biaya"), [
    ("tekstil", 1, 12_000_000),
    ("mainan_anak", 2, 22_000_000),
    ("pangan_olahan", 5, 28_000_000),
    ("otomotif", 6, 65_000_000),
])
def test_fee_follows_category_and_number_of_types(ctx: AppContext, cast: Cast, kategori: str, tipe: int,
                                                  biaya: int) -> None:
    d = Driver(ctx)
    case = d.start("sertifikasi_sni", application(kategori_produk=kategori, jumlah_tipe=tipe), cast.applicant,
                   channel="daring")
    d.complete(case.id, "Task_kaji_dokumen", cast.auditor, LENGKAP)
    assert d.case(case.id).data["biaya_sertifikasi"] == biaya


def test_start_form_channels_and_provider_are_enforced(ctx: AppContext, cast: Cast) -> None:
    d = Driver(ctx)
    with pytest.raises(InvalidInput):
        d.start("sertifikasi_sni", application(), cast.applicant, channel="drive_thru")
    with pytest.raises(FormInvalid):
        d.start("sertifikasi_sni", application(nib="12345"), cast.applicant)
    with pytest.raises(FormInvalid):
        d.start("sertifikasi_sni", application(jemput_bola=True), cast.applicant)  # no visit address
    with pytest.raises(FormInvalid):
        d.start("sertifikasi_sni", application(lspro="lspro_abal_abal"), cast.applicant)
