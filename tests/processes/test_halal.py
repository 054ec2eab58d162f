"""Halal certification, self-declare and regular (LPH) routes: every path of the procedure, driven as the real roles."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from typing import Any

import pytest

from engine.context import AppContext
from engine.directory.actors import Actor
from engine.errors import InvalidInput, TaskNotForYourRole
from forms.validation import FormInvalid
from tests.factories import ROOT, Driver, deploy, make_user

HALAL = ROOT / "processes" / "halal"
PENDAMPING = "pendamping_halal.pendamping"
PENELAAH = "pendamping_halal.penelaah"  # the assistance body checks its assistant's work
AUDITOR = "lph.auditor"
ROLES = ("dpmptsp.jemput_bola", "dpmptsp.front_office", "bpjph.verifikator", "komite_fatwa.anggota", "bpjph.kepala",
         "mui.komisi_fatwa")
FIRMS = {PENDAMPING: ("pph_ugm", "pph_muhammadiyah"), PENELAAH: ("pph_ugm", "pph_muhammadiyah"),
         AUDITOR: ("lph_lppom", "lph_sucofindo")}


@dataclass
class Cast:
    applicant: Actor
    stranger: Actor
    officers: dict[str, Actor]
    firms: dict[str, dict[str, Actor]]  # per bound role, one officer per firm (assistance body or LPH)


@pytest.fixture
def cast(ctx: AppContext) -> Cast:
    deploy(ctx, HALAL)  # also registers the marketplace and its two assistance bodies
    officers = {role: make_user(ctx, role.replace(".", "_"), role) for role in ROLES}
    firms = {role: {org: make_user(ctx, f"{role.split('.')[1]}_{org}", role, org=org) for org in orgs}
             for role, orgs in FIRMS.items()}
    return Cast(make_user(ctx, "umkm"), make_user(ctx, "tetangga"), officers, firms)


def application(**overrides: Any) -> dict[str, Any]:
    data = {
        "nama_usaha": "Bakpia Mbok Sri", "nib": "9120301234567", "skala_usaha": "mikro", "nama_pemilik": "Sri Wahyuni",
        "nik_pemilik": "3471035003800005", "alamat_usaha": "Jl. KS Tubun 12, Ngampilan, Yogyakarta",
        "telepon": "081804445566", "jenis_produk": "makanan_ringan", "nama_produk": ["Bakpia kacang hijau",
                                                                                     "Bakpia keju"],
        "proses_produksi": "Adonan tepung, isian kacang hijau, dipanggang dengan oven gas",
        "jalur": "self_declare", "pendamping_halal": "pph_ugm", "jemput_bola": False,
    }
    data.update(overrides)
    return data


ENTERED = {"nomor_registrasi_sihalal": "SH2026-1-004512", "nib_terverifikasi": True}
SITE_OK = {"tanggal_kunjungan": "2026-03-03", "nama_pendamping": "Fatimah Azzahra",
           "nomor_registrasi_pendamping": "PPH-3471-00821", "hasil_verifikasi_lapangan": "memenuhi"}
REVIEWED = {"nama_penyelia": "Dr. Nurul Hidayah", "hasil_tinjauan_pendamping": "sesuai"}
DOCS_OK = {"hasil_verifikasi_dokumen": "sesuai"}
HALAL_RULING = {"tanggal_sidang": "2026-03-06", "ketetapan_fatwa": "halal", "nomor_ketetapan": "KF-2026-0311"}
ISSUED = {"nomor_sertifikat_halal": "ID34110012345670326", "tanggal_terbit": "2026-03-09", "ditandatangani": True}


def step(d: Driver, c: Cast, case_id: int, element_id: str, data: dict[str, Any]) -> str:
    """Complete a task as its lane's role (and chosen firm), after checking that others are refused."""
    task = d.task(case_id, element_id)
    outsiders = [c.stranger]
    if task.role == "applicant":
        actor = c.applicant
    elif task.role in c.firms:
        actor = c.firms[task.role][task.bound_org]
        outsiders += [a for org, a in c.firms[task.role].items() if org != task.bound_org]  # same role, other firm
    else:
        actor = c.officers[task.role]
    outsiders.append(next(a for r, a in c.officers.items() if r != task.role))
    for outsider in outsiders:
        with pytest.raises(TaskNotForYourRole):
            d.complete(case_id, element_id, outsider, data)
    return d.complete(case_id, element_id, actor, data)



def test_counter_application_is_certified_halal(ctx: AppContext, cast: Cast) -> None:
    d = Driver(ctx)
    case = d.start("halal", application(), cast.applicant, channel="tatap_muka")
    # At the MPP counter the front office enters the application in SIHALAL for the business.
    assert [(t.element_id, t.role) for t in d.open_tasks(case.id)] == [("Task_input_sihalal", "dpmptsp.front_office")]
    step(d, cast, case.id, "Task_input_sihalal", ENTERED)
    site = d.task(case.id, "Task_verifikasi_lapangan")
    assert (site.role, site.bound_org) == (PENDAMPING, "pph_ugm")
    assert [t.id for t in d.inbox(cast.firms[PENDAMPING]["pph_ugm"])] == [site.id]
    assert d.inbox(cast.firms[PENDAMPING]["pph_muhammadiyah"]) == []
    step(d, cast, case.id, "Task_verifikasi_lapangan", SITE_OK)
    review = d.task(case.id, "Task_tinjau_pendamping")
    assert (review.role, review.bound_org) == (PENELAAH, "pph_ugm")
    step(d, cast, case.id, "Task_tinjau_pendamping", REVIEWED)
    assert d.task(case.id, "Task_verifikasi_dokumen").role == "bpjph.verifikator"
    step(d, cast, case.id, "Task_verifikasi_dokumen", DOCS_OK)
    assert d.task(case.id, "Task_sidang_fatwa").role == "komite_fatwa.anggota"
    step(d, cast, case.id, "Task_sidang_fatwa", HALAL_RULING)
    assert d.task(case.id, "Task_penerbitan").role == "bpjph.kepala"
    assert step(d, cast, case.id, "Task_penerbitan", ISSUED) == "completed"
    row = d.case(case.id)
    assert (row.status, row.outcome) == ("completed", "Sertifikat halal terbit")
    assert row.data["nomor_sertifikat_halal"] == ISSUED["nomor_sertifikat_halal"]
    assert row.data["nomor_registrasi_sihalal"] == ENTERED["nomor_registrasi_sihalal"]


def test_online_application_skips_the_counter_and_goes_to_the_chosen_body(ctx: AppContext, cast: Cast) -> None:
    d = Driver(ctx)
    case = d.start("halal", application(pendamping_halal="pph_muhammadiyah", nomor_registrasi_sihalal="SH2026-1-9"),
                   cast.applicant, channel="daring")
    site = d.task(case.id, "Task_verifikasi_lapangan")
    assert d.open_ids(case.id) == ["Task_verifikasi_lapangan"]
    assert site.bound_org == "pph_muhammadiyah"
    assert d.inbox(cast.firms[PENDAMPING]["pph_ugm"]) == []
    step(d, cast, case.id, "Task_verifikasi_lapangan", SITE_OK)
    assert d.open_ids(case.id) == ["Task_tinjau_pendamping"]
    with pytest.raises(FormInvalid) as raised:  # only a registered assistance body can be chosen
        d.start("halal", application(pendamping_halal="pph_fiktif"), cast.applicant, channel="daring")
    assert "pendamping_halal" in raised.value.errors


def test_business_outside_the_self_declare_criteria_is_stopped(ctx: AppContext, cast: Cast) -> None:
    d = Driver(ctx)
    case = d.start("halal", application(), cast.applicant, channel="terpadu")
    step(d, cast, case.id, "Task_input_sihalal", ENTERED)
    with pytest.raises(FormInvalid):  # the reason is required
        d.complete(case.id, "Task_verifikasi_lapangan", cast.firms[PENDAMPING]["pph_ugm"],
                   {**SITE_OK, "hasil_verifikasi_lapangan": "tidak_memenuhi"})
    step(d, cast, case.id, "Task_verifikasi_lapangan",
         {**SITE_OK, "hasil_verifikasi_lapangan": "tidak_memenuhi",
          "alasan_tidak_memenuhi": "Menggunakan gelatin tanpa sertifikat halal: harus jalur reguler"})
    row = d.case(case.id)
    assert (row.status, row.outcome) == ("completed", "Tidak memenuhi kriteria self-declare")


def test_documents_sent_back_for_fixing_loop_until_in_order(ctx: AppContext, cast: Cast) -> None:
    d = Driver(ctx)
    case = d.start("halal", application(), cast.applicant, channel="daring")
    step(d, cast, case.id, "Task_verifikasi_lapangan", SITE_OK)
    step(d, cast, case.id, "Task_tinjau_pendamping", REVIEWED)
    for round_no in (1, 2):
        step(d, cast, case.id, "Task_verifikasi_dokumen",
             {"hasil_verifikasi_dokumen": "perbaikan", "catatan_perbaikan": f"Foto produk buram ({round_no})"})
        assert [(t.element_id, t.role) for t in d.open_tasks(case.id)] == [("Task_perbaikan", "applicant")]
        step(d, cast, case.id, "Task_perbaikan", {"keterangan_perbaikan": f"Foto diganti ({round_no})",
                                                  "dokumen_perbaikan": [f"foto-v{round_no + 1}.jpg"]})
        assert d.open_ids(case.id) == ["Task_verifikasi_dokumen"]
    step(d, cast, case.id, "Task_verifikasi_dokumen", DOCS_OK)
    assert d.open_ids(case.id) == ["Task_sidang_fatwa"]
    assert d.case(case.id).data["dokumen_perbaikan"] == ["foto-v3.jpg"]


def test_fatwa_committee_can_rule_the_product_not_halal(ctx: AppContext, cast: Cast) -> None:
    d = Driver(ctx)
    case = d.start("halal", application(), cast.applicant, channel="daring")
    step(d, cast, case.id, "Task_verifikasi_lapangan", SITE_OK)
    step(d, cast, case.id, "Task_tinjau_pendamping", REVIEWED)
    step(d, cast, case.id, "Task_verifikasi_dokumen", DOCS_OK)
    with pytest.raises(FormInvalid):
        d.complete(case.id, "Task_sidang_fatwa", cast.officers["komite_fatwa.anggota"],
                   {**HALAL_RULING, "ketetapan_fatwa": "tidak_halal"})
    step(d, cast, case.id, "Task_sidang_fatwa", {**HALAL_RULING, "ketetapan_fatwa": "tidak_halal",
                                                 "alasan_tidak_halal": "Olesan mengandung rum"})
    row = d.case(case.id)
    assert (row.status, row.outcome) == ("completed", "Produk tidak ditetapkan halal")


def test_outreach_visit_channels_form_and_free_of_charge(ctx: AppContext, cast: Cast) -> None:
    d = Driver(ctx)
    case = d.start("halal", application(jemput_bola=True, alamat_kunjungan="Jl. KS Tubun 12, Ngampilan",
                                        kebutuhan_khusus="Pemilik tunanetra"), cast.applicant)
    assert [(t.element_id, t.role) for t in d.open_tasks(case.id)] == [("Task_jemput_bola", "dpmptsp.jemput_bola")]
    step(d, cast, case.id, "Task_jemput_bola", {"tanggal_kunjungan": "2026-03-02", "petugas_kunjungan": "Wulan",
                                                "hasil_kunjungan": "Akun SIHALAL dibuat, berkas dibacakan"})
    assert d.open_ids(case.id) == ["Task_input_sihalal"]
    with pytest.raises(InvalidInput):
        d.start("halal", application(), cast.applicant, channel="drive_thru")
    with pytest.raises(FormInvalid):  # self-declare is for micro and small businesses only
        d.start("halal", application(skala_usaha="menengah"), cast.applicant)
    with pytest.raises(FormInvalid):
        d.start("halal", application(nib="12345"), cast.applicant)
    service = tomllib.loads((HALAL / "service.toml").read_text())
    assert service["fee"]["id"].startswith("Rp0")
    case = d.start("halal", application(), cast.applicant)
    # 12 working days from Monday 2 March, skipping the Idul Fitri holidays and leave of 18-24 March
    assert d.case(case.id).due_at.date().isoformat() == "2026-03-25"


def test_the_assistance_body_sends_its_assistants_work_back(ctx: AppContext, cast: Cast) -> None:
    d = Driver(ctx)
    case = d.start("halal", application(), cast.applicant, channel="daring")
    step(d, cast, case.id, "Task_verifikasi_lapangan", SITE_OK)
    with pytest.raises(FormInvalid):  # sending back needs a note for the assistant
        d.complete(case.id, "Task_tinjau_pendamping", cast.firms[PENELAAH]["pph_ugm"],
                   {**REVIEWED, "hasil_tinjauan_pendamping": "perlu_perbaikan"})
    step(d, cast, case.id, "Task_tinjau_pendamping",
         {**REVIEWED, "hasil_tinjauan_pendamping": "perlu_perbaikan",
          "catatan_tinjauan": "Foto dapur produksi dan daftar bahan belum dilampirkan"})
    site = d.task(case.id, "Task_verifikasi_lapangan")
    assert (site.role, site.bound_org) == (PENDAMPING, "pph_ugm")
    step(d, cast, case.id, "Task_verifikasi_lapangan", SITE_OK)
    step(d, cast, case.id, "Task_tinjau_pendamping", REVIEWED)
    assert d.open_ids(case.id) == ["Task_verifikasi_dokumen"]


def regular(**overrides: Any) -> dict[str, Any]:
    data = application(jalur="reguler", skala_usaha="menengah", lph="lph_sucofindo")
    del data["pendamping_halal"]
    data.update(overrides)
    return data


AUDITED = {"tanggal_audit": "2026-03-09", "nama_auditor_halal": "Ir. Siti Khotimah",
           "nomor_laporan_audit": "SCI/LHP/2026/0312", "ringkasan_audit": "Bahan dan fasilitas memenuhi kriteria"}


def test_the_regular_route_goes_through_the_chosen_lph_and_the_mui_fatwa(ctx: AppContext, cast: Cast) -> None:
    d = Driver(ctx)
    case = d.start("halal", regular(), cast.applicant, channel="daring")
    assert d.open_ids(case.id) == ["Task_verifikasi_dokumen"]  # no assistant on this route
    step(d, cast, case.id, "Task_verifikasi_dokumen", DOCS_OK)
    audit = d.task(case.id, "Task_audit_lph")
    assert (audit.role, audit.bound_org) == (AUDITOR, "lph_sucofindo")
    step(d, cast, case.id, "Task_audit_lph", AUDITED)
    assert d.task(case.id, "Task_sidang_fatwa_mui").role == "mui.komisi_fatwa"
    step(d, cast, case.id, "Task_sidang_fatwa_mui", {**HALAL_RULING, "nomor_ketetapan": "MUI-KF/2026/0441"})
    assert step(d, cast, case.id, "Task_penerbitan", ISSUED) == "completed"
    row = d.case(case.id)
    assert (row.status, row.outcome) == ("completed", "Sertifikat halal terbit")
    assert [e.element_id for e in d.events(case.id) if e.element_id == "Task_tinjau_pendamping"] == []


def test_the_mui_can_rule_a_regular_product_not_halal(ctx: AppContext, cast: Cast) -> None:
    d = Driver(ctx)
    case = d.start("halal", regular(lph="lph_lppom"), cast.applicant, channel="daring")
    step(d, cast, case.id, "Task_verifikasi_dokumen", DOCS_OK)
    step(d, cast, case.id, "Task_audit_lph", AUDITED)
    step(d, cast, case.id, "Task_sidang_fatwa_mui", {**HALAL_RULING, "ketetapan_fatwa": "tidak_halal",
                                                     "alasan_tidak_halal": "Perisa mengandung etanol dari khamr"})
    row = d.case(case.id)
    assert (row.status, row.outcome) == ("completed", "Produk tidak difatwakan halal oleh MUI")


def test_each_route_asks_for_its_own_body(ctx: AppContext, cast: Cast) -> None:
    d = Driver(ctx)
    with pytest.raises(FormInvalid):  # the regular route needs an LPH
        d.start("halal", {k: v for k, v in regular().items() if k != "lph"}, cast.applicant, channel="daring")
    with pytest.raises(FormInvalid):  # the self-declare route needs an assistance body
        d.start("halal", {k: v for k, v in application().items() if k != "pendamping_halal"}, cast.applicant,
                channel="daring")
    with pytest.raises(FormInvalid):  # a medium business cannot self-declare
        d.start("halal", application(skala_usaha="menengah"), cast.applicant, channel="daring")
