"""Correction requests: routed to the agency that holds the application, answered, applied through the engine."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from engine.context import AppContext
from engine.db import transaction
from engine.directory import service as directory
from engine.errors import NotFound
from engine.models import Case, CaseEvent
from engine.privacy import corrections as corrections
from engine.privacy import rights as rights
from forms.validation import FormInvalid
from tests.conftest import FakeClock
from tests.engine.test_retention import PHONE, _closed_case, privacy_package
from tests.factories import Driver, deploy, make_user

KORECT = Path(__file__).resolve().parents[2] / "processes" / "koreksi_data"
NEW_PHONE = "081299990000"


def _request(ctx: AppContext, actor: object, number: str, field: str, value: str) -> str:
    with transaction(ctx.sessions) as session:
        return corrections.request_correction(session, rt=ctx.rt, actor=actor, tracking_number=number,  # type: ignore[arg-type]
                                              field=field, value=value, reason="Nomor telepon saya sudah berganti",
                                              notice_accepted=True).tracking_number


def test_a_correction_goes_to_the_agency_and_an_accepted_one_changes_the_application(
        ctx: AppContext, clock: FakeClock) -> None:
    deploy(ctx, privacy_package())
    deploy(ctx, KORECT)
    with transaction(ctx.sessions) as session:
        directory.ensure_roles(session, ["dinas.pengaduan"])
    siti, bambang = make_user(ctx, "siti"), make_user(ctx, "bambang")
    officer = make_user(ctx, "petugas", "dinas.petugas")
    dinas_desk, mall_desk = make_user(ctx, "pengaduan_dinas", "dinas.pengaduan"), make_user(
        ctx, "pengaduan_mpp", "dpmptsp.pengaduan")
    case_id = _closed_case(ctx, siti, officer)
    with ctx.sessions() as session:
        number = session.get(Case, case_id).tracking_number  # type: ignore[union-attr]
        fields = corrections.correctable_fields(session, rt=ctx.rt, applicant_id=siti.user_id or 0)
        assert {f.field for f in fields} == {"nama_pemohon", "nik", "telepon", "berkas_ktp", "jumlah"}
        assert corrections.correctable_fields(session, rt=ctx.rt, applicant_id=bambang.user_id or 0) == []
    with pytest.raises(NotFound):
        _request(ctx, bambang, number, "telepon", NEW_PHONE)  # not their application
    with pytest.raises(FormInvalid) as unknown:
        _request(ctx, siti, number, "nik_pasangan", "3471015001900000")  # an officer's field, not one they gave
    assert unknown.value.field_errors[0].path == "isian"
    with pytest.raises(FormInvalid) as wrong:
        _request(ctx, siti, number, "jumlah", "tiga")
    assert wrong.value.field_errors[0].path == "nilai_baru"

    request = _request(ctx, siti, number, "telepon", NEW_PHONE)
    d = Driver(ctx)
    with ctx.sessions() as session:
        request_id = session.scalar(select(Case.id).where(Case.tracking_number == request))
    assert request_id is not None
    [task] = d.open_tasks(request_id)
    assert task.role == "dinas.pengaduan"  # the agency of the application's service, as complaints are routed
    assert [t.case_id for t in d.inbox(mall_desk)] == []
    d.complete(request_id, "Task_tinjau", dinas_desk, {"keputusan": "dikoreksi"})
    d.run_jobs()  # the correction operation runs as a job, in its own transaction
    assert d.case(request_id).status == "completed"
    corrected = d.case(case_id)
    assert corrected.data["telepon"] == NEW_PHONE
    assert PHONE not in str(corrected.data)
    [event] = [e for e in d.events(case_id) if e.action == corrections.ACTION]
    assert request in (event.label or "")
    assert event.diff == {"set": {"telepon": NEW_PHONE}}
    with ctx.sessions() as session:
        export = rights.personal_data(session, user_id=siti.user_id or 0, now=clock())
    [applied] = [c for c in export["cases"] if c["tracking_number"] == number]
    assert "corrected" in [e["action"] for e in applied["history"]]


def test_a_refused_correction_tells_the_applicant_why_and_changes_nothing(ctx: AppContext) -> None:
    deploy(ctx, privacy_package())
    deploy(ctx, KORECT)
    siti, officer = make_user(ctx, "siti"), make_user(ctx, "petugas", "dinas.petugas")
    desk = make_user(ctx, "pengaduan_mpp", "dpmptsp.pengaduan")
    case_id = _closed_case(ctx, siti, officer)
    number = Driver(ctx).case(case_id).tracking_number
    request = _request(ctx, siti, number, "telepon", NEW_PHONE)
    d = Driver(ctx)
    with ctx.sessions() as session:
        request_id = session.scalar(select(Case.id).where(Case.tracking_number == request)) or 0
        from engine.cases import tracking as tracking

    [task] = d.open_tasks(request_id)
    assert task.role == "dpmptsp.pengaduan"  # the agency has no complaints desk: the mall's officer takes it
    reason = "Nomor telepon pada permohonan sudah sesuai berkas yang Anda unggah."
    d.complete(request_id, "Task_tinjau", desk, {"keputusan": "ditolak", "alasan_penolakan": reason})
    assert d.case(request_id).status == "completed"
    assert d.case(case_id).data["telepon"] == PHONE
    with ctx.sessions() as session:
        found = tracking.status_by_number(session, number=request)
        assert found is not None
        assert [r.text_id for r in found.reasons] == [reason]
        assert session.scalar(select(CaseEvent.id).where(CaseEvent.case_id == case_id,
                                                         CaseEvent.action == corrections.ACTION)) is None


def test_a_running_application_carries_the_correction_into_its_next_steps(ctx: AppContext) -> None:
    from engine.cases import filing as filing

    deploy(ctx, privacy_package())
    deploy(ctx, KORECT)
    siti, officer = make_user(ctx, "siti"), make_user(ctx, "petugas", "dinas.petugas")
    desk = make_user(ctx, "pengaduan_mpp", "dpmptsp.pengaduan")
    with transaction(ctx.sessions) as session:
        running = filing.file_application(session, rt=ctx.rt, process_key="privasi", channel="daring", actor=siti,
                                          applicant_id=siti.user_id, documents={}, notice_accepted=True,
                                          data={"nama_pemohon": "Siti", "nik": "3471015001900001", "jumlah": 3})
    request = _request(ctx, siti, running.tracking_number, "jumlah", "4")
    d = Driver(ctx)
    with ctx.sessions() as session:
        request_id = session.scalar(select(Case.id).where(Case.tracking_number == request)) or 0
    d.complete(request_id, "Task_tinjau", desk, {"keputusan": "dikoreksi"})
    d.run_jobs()
    assert d.case(running.id).data["jumlah"] == 4  # typed as the form's integer
    [event] = [e for e in d.events(running.id) if e.action == corrections.ACTION]
    assert event.diff == {"set": {"jumlah": 4}}
    assert d.complete(running.id, "Task_periksa", officer, {"catatan": "lengkap"}) == "completed"
    assert d.case(running.id).data["jumlah"] == 4  # the step after the correction kept it
