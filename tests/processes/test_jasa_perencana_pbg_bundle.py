"""Integrated application: the design consultant's finished drawings reach a waiting case of another service.

The receiving service is a test fixture (tests/data/penerima_gambar): the kiosk permit it models was
retired from the catalogue, as PP 16/2021 replaced the IMB with the PBG.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from engine.cases.bundles import StartedBundle, start_bundle
from engine.cases.tracking import public_status
from engine.context import AppContext
from engine.db import transaction
from engine.directory.actors import Actor
from engine.errors import InvalidInput, TaskNotForYourRole
from tests.conftest import FakeClock
from tests.factories import ROOT, Driver, add_provider, deploy, make_user

JASA = ROOT / "processes" / "jasa_perencana"
# The retired kiosk permit (PP 16/2021) kept as a test fixture: a case that waits for the drawings.
KIOS = ROOT / "tests" / "data" / "penerima_gambar"


@dataclass
class Cast:
    applicant: Actor
    griya: Actor
    front: Actor
    back: Actor
    kepala: Actor


@pytest.fixture
def cast(ctx: AppContext) -> Cast:
    deploy(ctx, JASA)
    deploy(ctx, KIOS)
    add_provider(ctx, "konsultan_griya", "konsultan")
    add_provider(ctx, "konsultan_mataram", "konsultan")
    return Cast(
        applicant=make_user(ctx, "warga"),
        griya=make_user(ctx, "griya", "konsultan.perencana", org="konsultan_griya"),
        front=make_user(ctx, "fo", "dpmptsp.front_office"),
        back=make_user(ctx, "bo", "dpmptsp.back_office"),
        kepala=make_user(ctx, "kepala", "dpmptsp.kepala"),
    )


def jasa(**overrides: Any) -> dict[str, Any]:
    data = {
        "nama_pemohon": "Sri Lestari", "nik": "3471024506880003", "email": "sri@example.id", "telepon": "081392001122",
        "alamat_bangunan": "Jl. Taman Siswa 21, Mergangsan, Yogyakarta", "fungsi_bangunan": "usaha",
        "luas_bangunan": 24, "jumlah_lantai": 1, "consultant": "konsultan_griya", "jemput_bola": False,
    }
    data.update(overrides)
    return data


KIOS_DATA = {
    "nama_pemohon": "Sri Lestari", "nik": "3471024506880003", "email": "sri@example.id", "telepon": "081392001122",
    "alamat_kios": "Jl. Taman Siswa 21, Mergangsan, Yogyakarta", "luas_kios": 24, "jenis_usaha": "Warung kelontong",
    "konstruksi": "semi_permanen",
}
GAMBAR = {"gambar_arsitektur": "kios-ars.pdf", "gambar_struktur": "kios-str.pdf", "gambar_mep": "kios-mep.pdf",
          "nama_penanggung_jawab": "Ir. Sri Wahyuni", "nomor_sertifikat_keahlian": "SKK-1-2345"}
SESUAI = {"hasil_pemeriksaan_gambar": "sesuai", "garis_sempadan_sesuai": True}
SIGNED = {"nomor_izin": "IMK/3471/2026/0009", "tanggal_izin": "2026-03-12", "tte": True}


def bundle(ctx: AppContext, actor: Actor) -> StartedBundle:
    with transaction(ctx.sessions) as session:
        return start_bundle(session, rt=ctx.rt, services=[("jasa_perencana", jasa()), ("kios", KIOS_DATA)],
                            channel="terpadu", actor=actor, applicant_id=actor.user_id, notice_accepted=True)


def finish_drawings(d: Driver, c: Cast, case_id: int, contract: str) -> None:
    d.complete(case_id, "Task_tanggapan", c.griya, {"tanggapan_konsultan": "bersedia"})
    assert d.case(case_id).data["total_penawaran"] == 3_330_000  # the Rp3 million minimum fee plus 11% VAT
    d.complete(case_id, "Task_penawaran", c.griya,
               {"nomor_penawaran": "PNW/GRY/2026/040", "lingkup_pekerjaan": "arsitektur_struktur_mep",
                "lama_pengerjaan_hari": 5, "biaya_dikonfirmasi": True})
    d.complete(case_id, "Task_tinjau_penawaran", c.applicant, {"keputusan_penawaran": "setuju"})
    d.complete(case_id, "Task_tanda_tangan_loket", c.front,  # integrated channel: signed at the counter
               {"tanggal_tanda_tangan": "2026-03-04", "identitas_diperiksa": True, "kontrak_ditandatangani": True})
    d.complete(case_id, "Task_registrasi_kontrak", c.back,
               {"nomor_kontrak": contract, "tanggal_kontrak": "2026-03-04", "nilai_kontrak": 3_330_000})
    d.complete(case_id, "Task_serahkan_gambar", c.griya, GAMBAR)
    assert d.complete(case_id, "Task_tinjau_gambar", c.applicant, {"keputusan_gambar": "diterima"}) == "completed"


def test_finished_drawings_reach_the_kiosk_permit_which_is_then_issued(ctx: AppContext, cast: Cast) -> None:
    d = Driver(ctx)
    started = bundle(ctx, cast.applicant)
    design, kiosk = started.cases
    assert [t.element_id for t in d.open_tasks(design.id)] == ["Task_tanggapan"]
    assert d.open_tasks(kiosk.id) == []  # waits for the drawings
    assert d.case(kiosk.id).stage_id == "Menunggu"
    finish_drawings(d, cast, design.id, "KTR/DPMPTSP/2026/0201")
    assert d.case(design.id).outcome == "Gambar teknis selesai"
    assert "gambar" not in d.case(kiosk.id).data  # delivered by a job, not inside the consultant's step
    d.run_jobs()
    row = d.case(kiosk.id)
    assert row.data["gambar"] == {"nomor_kontrak": "KTR/DPMPTSP/2026/0201", "consultant": "konsultan_griya"}
    assert any(e.action == "message_received" for e in d.events(kiosk.id))
    check = d.task(kiosk.id, "Task_periksa_gambar")
    assert check.role == "dpmptsp.back_office"
    with pytest.raises(TaskNotForYourRole):
        d.complete(kiosk.id, "Task_periksa_gambar", cast.front, SESUAI)
    d.complete(kiosk.id, "Task_periksa_gambar", cast.back, SESUAI)
    with pytest.raises(TaskNotForYourRole):
        d.complete(kiosk.id, "Task_tanda_tangan", cast.back, SIGNED)
    assert d.complete(kiosk.id, "Task_tanda_tangan", cast.kepala, SIGNED) == "completed"
    row = d.case(kiosk.id)
    assert (row.status, row.outcome) == ("completed", "Izin mendirikan kios terbit")
    secret = ctx.settings.secret_key.get_secret_value()
    with ctx.sessions() as session:
        status = public_status(session, number=started.tracking_number, pin=started.pin, secret=secret)
    assert status is not None
    assert (status.status, [p.status for p in status.parts]) == ("completed", ["completed", "completed"])


def test_drawings_that_break_the_rules_end_the_kiosk_permit(ctx: AppContext, cast: Cast) -> None:
    d = Driver(ctx)
    design, kiosk = bundle(ctx, cast.applicant).cases
    finish_drawings(d, cast, design.id, "KTR/DPMPTSP/2026/0202")
    d.run_jobs()
    d.complete(kiosk.id, "Task_periksa_gambar", cast.back,
               {"hasil_pemeriksaan_gambar": "tidak_sesuai", "garis_sempadan_sesuai": False,
                "catatan_pemeriksaan": "Kios melewati garis sempadan jalan"})
    row = d.case(kiosk.id)
    assert (row.status, row.outcome) == ("completed", "Gambar tidak sesuai ketentuan")


def test_each_application_gets_only_its_own_drawings(ctx: AppContext, cast: Cast) -> None:
    d = Driver(ctx)
    design_a, kiosk_a = bundle(ctx, cast.applicant).cases
    _design_b, kiosk_b = bundle(ctx, cast.applicant).cases
    finish_drawings(d, cast, design_a.id, "KTR/DPMPTSP/2026/0203")
    d.run_jobs()
    assert d.case(kiosk_a.id).data["gambar"]["nomor_kontrak"] == "KTR/DPMPTSP/2026/0203"
    assert "gambar" not in d.case(kiosk_b.id).data
    assert d.open_tasks(kiosk_b.id) == []


def test_no_drawings_within_sixty_days_ends_the_kiosk_permit(ctx: AppContext, cast: Cast, clock: FakeClock) -> None:
    d = Driver(ctx)
    design, kiosk = bundle(ctx, cast.applicant).cases
    d.complete(design.id, "Task_tanggapan", cast.griya,
               {"tanggapan_konsultan": "menolak", "alasan_penolakan": "Lokasi di luar wilayah layanan"})
    assert d.case(design.id).outcome == "Konsultan menolak"  # a plain end: nothing is thrown
    d.run_jobs()
    assert d.case(kiosk.id).status == "running"
    clock.advance(days=59)
    d.run_jobs()
    assert d.case(kiosk.id).status == "running"
    clock.advance(days=2)
    d.run_jobs()
    row = d.case(kiosk.id)
    assert (row.status, row.outcome) == ("completed", "Gambar teknis tidak diterima")
    assert "gambar" not in row.data


def test_the_kiosk_permit_is_only_offered_in_an_integrated_application(ctx: AppContext, cast: Cast) -> None:
    d = Driver(ctx)
    with pytest.raises(InvalidInput):
        d.start("kios", KIOS_DATA, cast.applicant, channel="tatap_muka")
