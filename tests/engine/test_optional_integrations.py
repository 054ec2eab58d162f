"""Optional national systems over real HTTP: SIMBG for PBG, OSS for halal; the main flow never waits for them.

`simbg.daftar` (processes/pbg) and `oss.cek_nib` (processes/halal) are `optional = true`: a city without the
integration skips the call and the case goes on as before; a bound system is called over HTTP (the
SIMBG-like and OSS-like simulators in tests/simulators/) while the officers keep working. The answer is
caught by a non-interrupting event sub-process; the tests marked `ENGINE_GAP` wait for the engine to
deliver a message to a message-started event sub-process (today it answers "not waiting for the message").
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from engine.context import AppContext
from engine.directory.actors import Actor
from engine.models import Incident
from tests.conftest import FakeClock
from tests.engine.test_lapor_connector import bind, calls, outbound_job, with_connectors
from tests.factories import DRAWINGS, PBG, ROOT, Driver, add_provider, deploy, make_user, pbg_application
from tests.simulators.oss import Oss
from tests.simulators.simbg import Simbg

HALAL = ROOT / "processes" / "halal"
BUSINESS = {"nama_usaha": "Bakpia Pathok Bu Sri", "nib": "9120301234567", "skala_usaha": "mikro",
            "nama_pemilik": "Sri Wahyuni", "nik_pemilik": "3471035003800005",
            "alamat_usaha": "Jl. KS Tubun 12, Ngampilan, Yogyakarta", "telepon": "081804445566",
            "jenis_produk": "makanan_ringan", "nama_produk": ["Bakpia kacang hijau"],
            "proses_produksi": "Adonan tepung, isian kacang hijau, dipanggang dengan oven gas",
            "jalur": "self_declare", "pendamping_halal": "pph_ugm", "jemput_bola": False}


@pytest.fixture
def oss() -> Iterator[Oss]:
    with Oss() as server:
        yield server


@pytest.fixture
def simbg() -> Iterator[Simbg]:
    with Simbg() as server:
        yield server


def incidents(ctx: AppContext, case_id: int) -> int:
    with ctx.sessions() as session:
        return session.query(Incident).filter_by(case_id=case_id).count()


def _halal(ctx: AppContext, nib: str = "9120301234567") -> tuple[Driver, int]:
    deploy(ctx, HALAL)
    d = Driver(ctx)
    case = d.start("halal", {**BUSINESS, "nib": nib}, make_user(ctx, "umkm"), channel="tatap_muka")
    return d, case.id


def test_without_oss_the_lookup_is_skipped_and_the_halal_case_goes_on(ctx: AppContext, oss: Oss) -> None:
    d, case_id = _halal(ctx)
    d.run_jobs()
    row = d.case(case_id)
    assert row.status == "running"
    assert d.open_ids(case_id) == ["Task_input_sihalal"]
    assert calls(ctx, case_id) == ["skipped"]
    assert outbound_job(ctx, case_id).status == "done"
    assert any("oss belum terhubung" in (e.label or "") for e in d.events(case_id) if e.action == "note")
    assert incidents(ctx, case_id) == 0
    assert oss.received == []


def test_a_bound_oss_is_asked_for_the_nib(ctx: AppContext, oss: Oss) -> None:
    bind(ctx, "oss", oss.url)
    d, case_id = _halal(ctx)
    d.run_jobs()
    [sent] = oss.received
    assert (sent.method, sent.path, sent.body) == ("GET", "/nib/9120301234567", None)
    assert sent.headers["Idempotency-Key"] == d.case(case_id).data["cek_nib_oss"]["ticket"]
    assert calls(ctx, case_id) == ["ok"]


def test_oss_answer_lands_in_the_case_for_the_officer(ctx: AppContext, oss: Oss) -> None:
    bind(ctx, "oss", oss.url)
    d, case_id = _halal(ctx, nib="9120307654321")
    d.run_jobs()
    row = d.case(case_id)
    assert (row.status, incidents(ctx, case_id)) == ("running", 0)
    assert d.open_ids(case_id) == ["Task_input_sihalal"]
    found = row.data["oss"]
    assert (found["nama_usaha"], found["skala_usaha"], found["status"]) == ("Gudeg Yu Narni", "kecil", "aktif")
    assert [k["kode"] for k in found["kbli"]] == ["56101", "10792"]
    assert row.data["skala_usaha"] == "mikro"  # the form said mikro; OSS says kecil: the officer sees both


def test_an_nib_oss_does_not_know_is_noted_not_an_incident(ctx: AppContext, oss: Oss) -> None:
    bind(ctx, "oss", oss.url)
    d, case_id = _halal(ctx, nib="9120309999999")
    d.run_jobs()
    row = d.case(case_id)
    assert (row.status, incidents(ctx, case_id)) == ("running", 0)
    assert row.data["oss"]["galat"]["status"] == 404
    assert calls(ctx, case_id) == ["refused"]


def _pbg_complete(ctx: AppContext) -> tuple[Driver, int, Actor]:
    """File a PBG and find it complete: the SIMBG hand-over is queued; return the consultant too."""
    add_provider(ctx, "konsultan_griya", "konsultan")
    d = Driver(ctx)
    case = d.start("pbg", pbg_application(), make_user(ctx, "warga"), channel="daring")
    d.complete(case.id, "Task_kelengkapan", make_user(ctx, "fo", "dpmptsp.front_office"), {"kelengkapan": "lengkap"})
    return d, case.id, make_user(ctx, "griya", "konsultan.perencana", org="konsultan_griya")


def test_without_simbg_the_hand_over_is_skipped_and_the_pbg_goes_on(ctx: AppContext, simbg: Simbg) -> None:
    deploy(ctx, PBG)
    d, case_id, griya = _pbg_complete(ctx)
    d.run_jobs()
    assert calls(ctx, case_id) == ["skipped"]
    assert d.open_ids(case_id) == ["Task_gambar_teknis"]
    d.complete(case_id, "Task_gambar_teknis", griya, DRAWINGS)
    assert d.open_ids(case_id) == ["Task_tpa"]
    assert (d.case(case_id).status, incidents(ctx, case_id)) == ("running", 0)
    assert simbg.received == []


def test_a_bound_simbg_receives_the_complete_file(ctx: AppContext, simbg: Simbg) -> None:
    deploy(ctx, PBG)
    bind(ctx, "simbg", simbg.url)
    d, case_id, _griya = _pbg_complete(ctx)
    d.run_jobs()
    [sent] = simbg.received
    assert (sent.method, sent.path) == ("POST", "/pbg/registrasi")
    assert sent.body == {"nik": "3471012345678901", "nama_pemohon": "Budi Santoso",
                         "alamat_bangunan": "Jl. Malioboro 10, Yogyakarta", "fungsi_bangunan": "hunian",
                         "luas_bangunan": 120.5, "jumlah_lantai": 2, "rumah_mbr": False,
                         "sumber": "MPP Kota Yogyakarta"}
    assert simbg.files["SIMBG-3471-2026-000001"]["status"] == "terdaftar"
    assert calls(ctx, case_id) == ["ok"]


def test_a_slow_simbg_is_retried_while_the_consultant_works(
        ctx: AppContext, clock: FakeClock, simbg: Simbg) -> None:
    deploy(ctx, with_connectors("pbg", timeout_s=0.3))
    bind(ctx, "simbg", simbg.url)
    simbg.stall(1.0)
    simbg.fail(times=1)
    d, case_id, griya = _pbg_complete(ctx)
    d.run_jobs()
    assert "no answer within 0.3 s" in (outbound_job(ctx, case_id).last_error or "")
    d.complete(case_id, "Task_gambar_teknis", griya, DRAWINGS)  # the PBG does not wait for SIMBG
    assert d.open_ids(case_id) == ["Task_tpa"]
    clock.advance(seconds=30)
    d.run_jobs()
    assert outbound_job(ctx, case_id).status == "pending"
    assert "503" in (outbound_job(ctx, case_id).last_error or "")
    clock.advance(seconds=60)
    d.run_jobs()
    assert calls(ctx, case_id) == ["retry", "retry", "ok"]
    assert len(simbg.received) == 3
    assert {r.headers["Idempotency-Key"] for r in simbg.received} == {d.case(case_id).data["kirim_simbg"]["ticket"]}
    assert len(simbg.files) == 1  # one registration for the three tries


def test_simbg_number_lands_in_the_case_and_stays(ctx: AppContext, simbg: Simbg) -> None:
    deploy(ctx, PBG)
    bind(ctx, "simbg", simbg.url)
    d, case_id, griya = _pbg_complete(ctx)
    d.run_jobs()
    assert (d.case(case_id).status, incidents(ctx, case_id)) == ("running", 0)
    d.complete(case_id, "Task_gambar_teknis", griya, DRAWINGS)
    row = d.case(case_id)
    assert row.data["simbg"] == {"nomor_registrasi": "SIMBG-3471-2026-000001", "status": "terdaftar"}


def test_a_simbg_answer_that_fails_the_mapping_is_noted_for_the_officers(ctx: AppContext, simbg: Simbg) -> None:
    deploy(ctx, PBG)
    bind(ctx, "simbg", simbg.url)
    simbg.malformed('{"data": {"nomor": "X-1"}}')
    d, case_id, _griya = _pbg_complete(ctx)
    d.run_jobs()
    row = d.case(case_id)
    assert (row.status, incidents(ctx, case_id)) == ("running", 0)
    assert "'/data/nomor_registrasi'" in row.data["simbg"]["galat"]["message"]
    assert calls(ctx, case_id) == ["refused"]


def test_after_one_answer_the_next_cases_of_the_version_still_finish(ctx: AppContext, oss: Oss) -> None:
    # A stored answer changes only this case's data: the (cached, shared) process spec stays as it was, so
    # a later case of the version runs to its end.
    bind(ctx, "oss", oss.url)
    d, first = _halal(ctx)
    d.run_jobs()
    assert d.case(first).data["oss"]["status"] == "aktif"
    oss.fail()  # no answer for the next case while its officers work
    second = d.start("halal", BUSINESS, make_user(ctx, "umkm2"), channel="daring").id
    officers = {role: make_user(ctx, role.replace(".", "_"), role)
                for role in ("bpjph.verifikator", "komite_fatwa.anggota", "bpjph.kepala")}
    pph = make_user(ctx, "pph", "pendamping_halal.pendamping", org="pph_ugm")
    reviewer = make_user(ctx, "penelaah", "pendamping_halal.penelaah", org="pph_ugm")
    steps: list[tuple[str, Actor, dict[str, Any]]] = [
        ("Task_verifikasi_lapangan", pph, {"tanggal_kunjungan": "2026-03-03", "nama_pendamping": "Fatimah Azzahra",
                                           "nomor_registrasi_pendamping": "PPH-3471-00821",
                                           "hasil_verifikasi_lapangan": "memenuhi"}),
        ("Task_tinjau_pendamping", reviewer,
         {"nama_penyelia": "Dr. Nurul Hidayah", "hasil_tinjauan_pendamping": "sesuai"}),
        ("Task_verifikasi_dokumen", officers["bpjph.verifikator"], {"hasil_verifikasi_dokumen": "sesuai"}),
        ("Task_sidang_fatwa", officers["komite_fatwa.anggota"],
         {"tanggal_sidang": "2026-03-06", "ketetapan_fatwa": "halal", "nomor_ketetapan": "KF-2026-0311"}),
        ("Task_penerbitan", officers["bpjph.kepala"],
         {"nomor_sertifikat_halal": "ID34110012345670326", "tanggal_terbit": "2026-03-09", "ditandatangani": True}),
    ]
    d.run_jobs()
    for element, actor, data in steps:
        d.complete(second, element, actor, data)
    assert (d.case(second).status, d.case(second).outcome) == ("completed", "Sertifikat halal terbit")
