"""Birth certificate: the mall's counter hands the case to the civil registry's SIAK and waits for it."""

from __future__ import annotations

import json

import pytest

from engine.cases.messages import deliver_message
from engine.context import AppContext
from engine.db import transaction
from engine.directory.actors import Actor
from engine.errors import InvalidInput, TaskNotForYourRole
from tests.conftest import ROOT, FakeClock
from tests.factories import Driver, deploy, make_user

AKTA = ROOT / "processes" / "akta_kelahiran"
APPLICATION = {"nama_bayi": "Sekar Ayu", "tanggal_lahir": "2026-02-20", "tempat_lahir": "Yogyakarta",
               "jenis_kelamin": "perempuan", "nik_ayah": "3471010101900001", "nik_ibu": "3471014101920002",
               "nomor_kk": "3471010202020003"}


@pytest.fixture
def people(ctx: AppContext) -> dict[str, Actor]:
    deploy(ctx, AKTA)
    return {"warga": make_user(ctx, "warga"), "petugas": make_user(ctx, "petugas", "disdukcapil.petugas"),
            "siak": make_user(ctx, "siak", "disdukcapil.siak")}


def _answer(ctx: AppContext, case_id: int, actor: Actor, payload: dict[str, str]) -> str:
    with transaction(ctx.sessions) as session:
        return deliver_message(session, rt=ctx.rt, case_id=case_id, name="jawaban_siak", payload=payload,
                               actor=actor)


def _handed_over(ctx: AppContext, d: Driver, people: dict[str, Actor]) -> int:
    case = d.start("akta_kelahiran", APPLICATION, people["warga"])
    d.complete(case.id, "Task_verifikasi", people["petugas"], {"berkas_lengkap": True})
    assert d.open_tasks(case.id) == []
    assert d.case(case.id).data["penyerahan"]["status"] == "queued"
    d.run_jobs()
    return case.id


def test_the_file_goes_to_siak_and_the_certificate_comes_back(ctx: AppContext, people: dict[str, Actor]) -> None:
    d = Driver(ctx)
    case_id = _handed_over(ctx, d, people)
    ticket = d.case(case_id).data["penyerahan"]["ticket"]
    dropped = json.loads((ctx.settings.outbox_dir / "disdukcapil" / f"{ticket}.json").read_text())
    assert dropped["operation"] == "disdukcapil.serahkan"
    assert dropped["params"]["nama_bayi"] == "Sekar Ayu"
    assert dropped["tracking_number"] == d.case(case_id).tracking_number
    assert "sent" in [e.action for e in d.events(case_id)]
    with pytest.raises(TaskNotForYourRole):
        _answer(ctx, case_id, people["petugas"], {"status": "diterbitkan"})
    _answer(ctx, case_id, people["siak"], {"status": "diterbitkan", "nomor_akta": "3471-LU-20022026-0001",
                                           "ticket": ticket})
    assert d.case(case_id).data["jawaban_siak"]["nomor_akta"] == "3471-LU-20022026-0001"
    with pytest.raises(TaskNotForYourRole):
        d.complete(case_id, "Task_serahkan_akta", people["siak"], {"akta_diserahkan": True, "cara_penyerahan": "surel"})
    d.complete(case_id, "Task_serahkan_akta", people["petugas"], {"akta_diserahkan": True, "cara_penyerahan": "surel"})
    row = d.case(case_id)
    assert (row.status, row.outcome) == ("completed", "Akta kelahiran terbit")
    with pytest.raises(InvalidInput):
        _answer(ctx, case_id, people["siak"], {"status": "diterbitkan"})


def test_an_incomplete_file_goes_back_to_the_applicant_first(ctx: AppContext, people: dict[str, Actor]) -> None:
    d = Driver(ctx)
    case = d.start("akta_kelahiran", APPLICATION, people["warga"], channel="daring")
    d.complete(case.id, "Task_verifikasi", people["petugas"],
               {"berkas_lengkap": False, "catatan_verifikasi": "Buku nikah belum dilampirkan"})
    assert [t.element_id for t in d.inbox(people["warga"])] == ["Task_perbaiki"]
    d.complete(case.id, "Task_perbaiki", people["warga"], {"keterangan_perbaikan": "Buku nikah dilampirkan"})
    d.complete(case.id, "Task_verifikasi", people["petugas"], {"berkas_lengkap": True})
    assert "penyerahan" in d.case(case.id).data


def test_siak_can_refuse(ctx: AppContext, people: dict[str, Actor]) -> None:
    d = Driver(ctx)
    case_id = _handed_over(ctx, d, people)
    _answer(ctx, case_id, people["siak"], {"status": "ditolak", "alasan": "NIK ibu tidak ditemukan"})
    row = d.case(case_id)
    assert (row.status, row.outcome) == ("completed", "Ditolak oleh SIAK")


def test_silence_from_siak_prompts_a_follow_up_and_the_wait_goes_on(ctx: AppContext, people: dict[str, Actor],
                                                                     clock: FakeClock) -> None:
    d = Driver(ctx)
    case_id = _handed_over(ctx, d, people)
    for round_no in (1, 2):
        clock.advance(days=6)
        d.run_jobs()
        assert [t.element_id for t in d.open_tasks(case_id)] == ["Task_tindak_lanjut"]
        d.complete(case_id, "Task_tindak_lanjut", people["petugas"],
                   {"catatan_tindak_lanjut": f"Telepon ke-{round_no}"})
    _answer(ctx, case_id, people["siak"], {"status": "diterbitkan", "nomor_akta": "3471-LU-1"})
    assert [t.element_id for t in d.open_tasks(case_id)] == ["Task_serahkan_akta"]
