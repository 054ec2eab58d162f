"""PKKPR with a fiktif-positif deadline: decided in time by the head of DPMPTSP, or issued by law when nobody decides.

The NIB is looked up in the OSS-like simulator over real HTTP; the deadline is 20 working days from the complete
file (Monday 2 March 2026: the close of Tuesday 7 April, after Nyepi, Eid al-Fitr and its collective leave).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pypdf
import pytest
from sqlalchemy import select

from engine.context import AppContext
from engine.directory.actors import Actor
from engine.documents import service as documents
from engine.documents.signing import signer_for
from engine.models import Job
from tests.conftest import FakeClock
from tests.engine.test_lapor_connector import bind
from tests.factories import ROOT, Driver, deploy, make_user
from tests.simulators.oss import Oss

WIB = ZoneInfo("Asia/Jakarta")
DEADLINE = datetime(2026, 4, 7, 16, 0, tzinfo=WIB)
APPLICATION = {"nama_pemohon": "Rina Kusumawati", "nik": "3471045203870004", "email": "rina@example.id",
               "telepon": "081227001122", "nib": "9120307654321", "nama_usaha": "Gudeg Yu Narni", "kbli": "56101",
               "rencana_kegiatan": "Rumah makan dengan dapur produksi gudeg, 40 kursi",
               "alamat_lokasi": "Jl. Wijilan 21, Panembahan, Kraton, Yogyakarta", "luas_tanah": 240,
               "status_tanah": "tanah_kasultanan"}
REVIEW = {"zona_peruntukan": "Zona perdagangan dan jasa (K-1)", "hasil_kajian": "sesuai"}


@dataclass
class Cast:
    applicant: Actor
    front: Actor
    analyst: Actor
    head: Actor


@pytest.fixture
def oss() -> Iterator[Oss]:
    with Oss() as server:
        yield server


@pytest.fixture
def cast(ctx: AppContext, oss: Oss) -> Cast:
    deploy(ctx, ROOT / "processes" / "pkkpr")
    bind(ctx, "oss", oss.url)
    return Cast(make_user(ctx, "warga"), make_user(ctx, "fo", "dpmptsp.front_office"),
                make_user(ctx, "analis", "dptr.analis_tata_ruang"), make_user(ctx, "kepala", "dpmptsp.kepala"))


def _reviewed(d: Driver, cast: Cast) -> int:
    case_id = d.start("pkkpr", APPLICATION, cast.applicant, channel="daring").id
    d.run_jobs()  # the NIB lookup goes to OSS
    assert d.case(case_id).data["oss"]["status"] == "aktif"
    d.complete(case_id, "Task_kelengkapan", cast.front, {"nib_sesuai_oss": True, "kelengkapan": "lengkap"})
    d.complete(case_id, "Task_kajian", cast.analyst, REVIEW)
    return case_id


def _issued(ctx: AppContext, case_id: int) -> tuple[str, documents.PublicDocument | None]:
    with ctx.sessions() as session:
        [doc] = documents.list_for_case(session, case_id=case_id)
        _row, data = documents.document_pdf(session, settings=ctx.settings, document_id=doc.id)
        view = documents.public_view(session, code=doc.verify_code, signer=signer_for(ctx.settings))
    text = "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages)
    return text, view


def test_the_deadline_passing_issues_the_pkkpr_by_law_and_the_history_says_why(
        ctx: AppContext, clock: FakeClock, cast: Cast) -> None:
    d = Driver(ctx)
    case_id = _reviewed(d, cast)
    assert [t.element_id for t in d.open_tasks(case_id)] == ["Task_keputusan"]
    with ctx.sessions() as session:
        due = session.scalar(select(Job.due_at).where(Job.kind == "timer", Job.case_id == case_id,
                                                      Job.status == "pending"))
    # The close of the 20th working day (the step re-anchors SpiffWorkflow's wall-clock timer: within a second).
    assert due is not None
    assert abs(due - DEADLINE) < timedelta(seconds=1)

    clock.now = datetime(2026, 4, 7, 15, 59, tzinfo=WIB).astimezone(UTC)  # a minute before: still waiting
    d.run_jobs()
    assert d.case(case_id).status == "running"

    clock.now = DEADLINE.astimezone(UTC)
    d.run_jobs()  # the timer fires; the issue job runs in the next poll
    d.run_jobs()
    row = d.case(case_id)
    assert (row.status, row.outcome) == ("completed", "PKKPR terbit demi hukum (fiktif positif)")
    assert d.open_tasks(case_id) == []
    fired = [e for e in d.events(case_id) if e.action == "timer_fired"]
    assert [e.element_id for e in fired] == ["Timer_batas_keputusan"]
    assert fired[0].diff is not None
    assert fired[0].diff["set"]["terbit_fiktif_positif"] is True
    assert "dianggap dikabulkan secara hukum" in fired[0].diff["set"]["alasan_fiktif_positif"]
    text, view = _issued(ctx, case_id)
    assert "DITERBITKAN DEMI HUKUM (FIKTIF POSITIF)" in text
    assert "Issued by operation of law (fiktif positif)" in text
    assert view is not None
    assert view.number == "PKKPR/3471/2026/0001"
    basis = next(f for f in view.facts if f["label_id"] == "Dasar penerbitan")
    assert str(basis["value"]).startswith("Demi hukum (fiktif positif)")


def test_a_decision_in_time_issues_it_by_the_head_and_the_deadline_is_gone(
        ctx: AppContext, clock: FakeClock, cast: Cast) -> None:
    d = Driver(ctx)
    case_id = _reviewed(d, cast)
    clock.now = datetime(2026, 4, 7, 10, 0, tzinfo=WIB).astimezone(UTC)  # the last day, in time
    assert d.complete(case_id, "Task_keputusan", cast.head, {"keputusan": "setuju"}) == "completed"
    d.run_jobs()
    with ctx.sessions() as session:
        pending = session.scalars(select(Job.id).where(Job.kind == "timer", Job.case_id == case_id,
                                                       Job.status == "pending")).all()
    assert pending == []
    assert "terbit_fiktif_positif" not in d.case(case_id).data
    text, view = _issued(ctx, case_id)
    assert "DEMI HUKUM" not in text
    assert "dinyatakan sesuai" in text
    assert view is not None
    basis = next(f for f in view.facts if f["label_id"] == "Dasar penerbitan")
    assert basis["value"] == "Keputusan Kepala DPMPTSP Kota Yogyakarta"


def test_a_refusal_in_time_issues_nothing(ctx: AppContext, cast: Cast) -> None:
    d = Driver(ctx)
    case_id = _reviewed(d, cast)
    reason = "Lokasi berada di subzona perumahan R-2; rumah makan skala ini tidak diizinkan menurut RDTR."
    d.complete(case_id, "Task_keputusan", cast.head, {"keputusan": "tolak", "alasan_penolakan": reason})
    d.run_jobs()
    row = d.case(case_id)
    assert (row.status, row.outcome, row.data["alasan_penolakan"]) == ("completed", "PKKPR ditolak", reason)
    with ctx.sessions() as session:
        assert documents.list_for_case(session, case_id=case_id) == []
