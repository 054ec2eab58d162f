"""Trade-sector risk-based licence: OSS answers for the NIB over real HTTP, and the KBLI's risk level picks the path."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from engine.context import AppContext
from engine.directory.actors import Actor
from engine.documents import service as documents
from tests.engine.test_lapor_connector import bind
from tests.factories import ROOT, Driver, deploy, make_user
from tests.simulators.oss import Oss

# The OSS simulator's bakery (tests/simulators/oss.py), applying for a trade activity it declares itself.
APPLICATION: dict[str, Any] = {
    "nama_pemohon": "Sri Wahyuni", "nik": "3471035003800005", "telepon": "081804445566", "nib": "9120301234567",
    "nama_usaha": "Bakpia Pathok Bu Sri", "kbli": "47241",
    "judul_kbli": "Perdagangan Eceran Roti, Kue Kering, serta Kue Basah dan Sejenisnya", "skala_usaha": "mikro",
    "alamat_usaha": "Jl. KS Tubun 12, Ngampilan, Yogyakarta", "pernyataan_pemenuhan_standar": True}


@dataclass
class Cast:
    applicant: Actor
    front: Actor
    verifier: Actor
    team: Actor
    head: Actor


@pytest.fixture
def cast(ctx: AppContext) -> Iterator[Cast]:
    deploy(ctx, ROOT / "processes" / "pb_perdagangan")
    with Oss() as oss:
        bind(ctx, "oss", oss.url)
        yield Cast(make_user(ctx, "warga"), make_user(ctx, "fo", "dpmptsp.front_office"),
                   make_user(ctx, "verifikator", "disdag.verifikator"), make_user(ctx, "tim", "disdag.tim_teknis"),
                   make_user(ctx, "kepala", "dpmptsp.kepala"))


def _filed(d: Driver, cast: Cast, **changes: Any) -> int:
    case_id = d.start("pb_perdagangan", {**APPLICATION, **changes}, cast.applicant, channel="daring").id
    d.run_jobs()  # the NIB lookup goes to OSS; its answer lands in the case field `oss`
    return case_id


def test_oss_answers_for_the_nib_and_a_low_risk_kbli_needs_only_the_nib(ctx: AppContext, cast: Cast) -> None:
    d = Driver(ctx)
    case_id = _filed(d, cast, tingkat_risiko="rendah")
    found = d.case(case_id).data["oss"]
    assert (found["nama_usaha"], found["status"]) == ("Bakpia Pathok Bu Sri", "aktif")
    assert d.complete(case_id, "Task_verifikasi_nib", cast.front, {"hasil_verifikasi_nib": "sesuai"}) == "completed"
    d.run_jobs()
    row = d.case(case_id)
    assert row.outcome == "Risiko rendah: NIB sudah merupakan perizinan berusaha"
    assert row.data["penjelasan_hasil"].startswith("Kegiatan usaha KBLI 47241 berisiko rendah: NIB")
    with ctx.sessions() as session:
        assert documents.list_for_case(session, case_id=case_id) == []


@pytest.mark.parametrize(("risk", "step", "product"), [
    ("menengah_rendah", "Task_verifikasi_pernyataan", "Sertifikat Standar"),
    ("menengah_tinggi", "Task_verifikasi_pernyataan", "Sertifikat Standar Terverifikasi"),
    ("tinggi", "Task_kajian_teknis", "Izin"),
])
def test_the_risk_level_picks_the_office_step_and_the_product(ctx: AppContext, cast: Cast, risk: str, step: str,
                                                              product: str) -> None:
    d = Driver(ctx)
    case_id = _filed(d, cast, tingkat_risiko=risk)
    d.complete(case_id, "Task_verifikasi_nib", cast.front, {"hasil_verifikasi_nib": "sesuai"})
    assert d.open_ids(case_id) == [step]
    if step == "Task_kajian_teknis":
        d.complete(case_id, step, cast.team, {"tanggal_peninjauan": "2026-03-04", "rekomendasi": "setuju"})
    else:
        d.complete(case_id, step, cast.verifier, {"hasil_verifikasi": "memenuhi"})
    assert d.complete(case_id, "Task_tanda_tangan", cast.head, {"ditandatangani": True}) == "completed"
    d.run_jobs()
    with ctx.sessions() as session:
        [doc] = documents.list_for_case(session, case_id=case_id)
    assert doc.title_id == "Perizinan Berusaha Sektor Perdagangan"
    assert doc.number == "503/0001/PB-DAG/2026"
    assert d.case(case_id).data["jenis_perizinan"] == product


def test_a_medium_risk_application_without_the_self_declaration_is_refused_at_filing(ctx: AppContext,
                                                                                      cast: Cast) -> None:
    from forms.validation import FormInvalid

    with pytest.raises(FormInvalid):
        Driver(ctx).start("pb_perdagangan", {**APPLICATION, "tingkat_risiko": "menengah_tinggi",
                                             "pernyataan_pemenuhan_standar": False}, cast.applicant)


def test_an_inactive_nib_in_oss_is_refused_with_the_reason(ctx: AppContext, cast: Cast) -> None:
    d = Driver(ctx)
    case_id = _filed(d, cast, nib="9120300000001", tingkat_risiko="rendah")
    assert d.case(case_id).data["oss"]["status"] == "tidak_aktif"
    reason = "NIB tidak aktif di OSS; aktifkan kembali NIB di oss.go.id lalu ajukan ulang."
    d.complete(case_id, "Task_verifikasi_nib", cast.front,
               {"hasil_verifikasi_nib": "tidak_sesuai", "alasan_penolakan": reason})
    row = d.case(case_id)
    assert (row.status, row.outcome) == ("completed", "Ditolak: NIB atau KBLI tidak sesuai OSS")
    assert row.data["alasan_penolakan"] == reason
