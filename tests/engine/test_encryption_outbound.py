"""A birth certificate case: the parents' NIKs and the child's data stay sealed through the partner call,
the returned answer, the history and the issued document's facts."""

from __future__ import annotations

import base64

from pydantic import SecretStr
from sqlalchemy import select

from engine.context import AppContext, build_context
from engine.models import IssuedDocument, Job
from engine.privacy import keys as keys
from engine.privacy import rotate as rotate
from tests.api.test_encryption_at_rest import raw_database
from tests.conftest import FakeClock
from tests.factories import Driver
from tests.processes.test_akta_kelahiran import APPLICATION, _answer, people

__all__ = ["people"]  # the fixture, used by name below

# Values no other row of the database holds (agency names say "Yogyakarta").
CHILD = {**APPLICATION, "nama_bayi": "Kirana Qwertyani", "tempat_lahir": "Desa Zxcvbn"}
KEY = base64.b64encode(b"n" * 32).decode()
SECRETS = (CHILD["nik_ayah"], CHILD["nik_ibu"], CHILD["nomor_kk"], CHILD["nama_bayi"], CHILD["tempat_lahir"])


def test_parents_niks_are_sealed_in_the_job_history_and_document(ctx: AppContext, people: dict) -> None:
    d = Driver(ctx)
    case_id = d.start("akta_kelahiran", CHILD, people["warga"]).id
    d.complete(case_id, "Task_verifikasi", people["petugas"], {"berkas_lengkap": True})
    d.run_jobs()
    ticket = d.case(case_id).data["penyerahan"]["ticket"]
    _answer(ctx, case_id, people["siak"], {"status": "diterbitkan", "nomor_akta": "3471-LU-20022026-0001",
                                           "ticket": ticket})
    d.complete(case_id, "Task_serahkan_akta", people["petugas"], {"akta_diserahkan": True, "cara_penyerahan": "surel"})
    d.run_jobs()
    raw = raw_database(ctx)
    assert b"3471-LU-20022026-0001" in raw, "the scan reads the stored rows"
    assert [s for s in SECRETS if s.encode() in raw] == []
    with ctx.sessions() as session:
        job = session.scalars(select(Job).where(Job.case_id == case_id, Job.kind == "outbound")).first()
        document = session.scalars(select(IssuedDocument).where(IssuedDocument.case_id == case_id)).first()
    assert job is not None
    assert job.payload is not None
    assert job.payload["params"]["nik_ayah"] == CHILD["nik_ayah"], "opened as it is read"
    case = d.case(case_id)
    assert (case.data["nik_ibu"], case.data["nama_bayi"]) == (CHILD["nik_ibu"], CHILD["nama_bayi"])
    assert document is not None
    assert document.holder == CHILD["nama_bayi"], "the child's name: sealed at rest, opened on read"
    assert CHILD["tempat_lahir"] in [item["value"] for item in document.facts["items"]]
    dropped = (ctx.settings.outbox_dir / "disdukcapil" / f"{ticket}.json").read_text()
    assert CHILD["nik_ayah"] in dropped, "the partner system receives the plain values it needs"


def test_rotation_moves_the_copies_too(ctx: AppContext, people: dict, clock: FakeClock) -> None:
    test_parents_niks_are_sealed_in_the_job_history_and_document(ctx, people)
    new = build_context(ctx.settings.model_copy(update={"data_keys": SecretStr(f"k1:{KEY},k0")}), migrate=False,
                        clock=clock)
    try:
        rotate.rotate(new.sessions, files_dir=new.settings.files_dir)
        assert set(rotate.status(new.sessions, files_dir=new.settings.files_dir).values) == {"k1"}
    finally:
        new.engine.dispose()
    only = build_context(ctx.settings.model_copy(update={"data_keys": SecretStr(f"k1:{KEY}")}), migrate=False,
                         clock=clock)
    try:
        with only.sessions() as session:
            jobs = list(session.scalars(select(Job).where(Job.payload.is_not(None))))
            document = session.scalars(select(IssuedDocument)).one()
        assert CHILD["nik_ayah"] in [(j.payload or {}).get("params", {}).get("nik_ayah") for j in jobs]
        assert document.holder == CHILD["nama_bayi"]
        assert CHILD["tempat_lahir"] in [item["value"] for item in document.facts["items"]]
    finally:
        only.engine.dispose()
        keys.install(keys.keyring_from(ctx.settings))
