"""A correction of a closed application reaches every place its data is read, the stored workflow state included."""

from __future__ import annotations

import json

from sqlalchemy import select, text

from engine.catalogue.package import from_files
from engine.context import AppContext
from engine.db import transaction
from engine.directory import service as directory
from engine.directory.actors import Actor
from engine.models import Case, CaseEvent, CaseLookup
from engine.privacy import corrections as corrections
from engine.privacy import rights as rights
from engine.privacy.access import masked_diff
from engine.privacy.cipher import lookup_hash
from tests.conftest import FakeClock
from tests.engine.test_corrections import KORECT
from tests.engine.test_retention import NIK, PHONE, _closed_case, privacy_package
from tests.factories import Driver, deploy, make_user

NEW_NIK = "3471015001900099"
NEW_PHONE = "081299990000"


def _corrected(ctx: AppContext, field: str, value: str) -> tuple[int, str, Actor]:
    """File and accept a correction of a closed application; return its case id, the request and the reviewer."""
    deploy(ctx, privacy_package())
    deploy(ctx, KORECT)
    with transaction(ctx.sessions) as session:
        directory.ensure_roles(session, ["dinas.pengaduan"])
    siti, officer = make_user(ctx, "siti"), make_user(ctx, "petugas", "dinas.petugas")
    desk = make_user(ctx, "pengaduan_dinas", "dinas.pengaduan")
    case_id = _closed_case(ctx, siti, officer)
    assert Driver(ctx).case(case_id).status == "completed"
    return case_id, _accepted(ctx, siti, desk, case_id, field, value), desk


def _people(ctx: AppContext) -> tuple[Actor, Actor, Actor]:
    """The applicant, the service's officer and the MPP's complaints desk (who reviews corrections)."""
    deploy(ctx, KORECT)
    return (make_user(ctx, "siti"), make_user(ctx, "petugas", "dinas.petugas"),
            make_user(ctx, "pengaduan_mpp", "dpmptsp.pengaduan"))


def _filed(ctx: AppContext, siti: Actor, data: dict[str, object]) -> int:
    from engine.cases import filing as filing

    with transaction(ctx.sessions) as session:
        return filing.file_application(session, rt=ctx.rt, process_key="privasi", channel="daring", actor=siti,
                                       applicant_id=siti.user_id, documents={}, notice_accepted=True, data=data).id


def _accepted(ctx: AppContext, siti: Actor, desk: Actor, case_id: int, field: str, value: str) -> str:
    """Ask for a correction of the case as its applicant, accept it as the desk, run it; return the request's number."""
    d = Driver(ctx)
    with transaction(ctx.sessions) as session:
        request = corrections.request_correction(
            session, rt=ctx.rt, actor=siti, tracking_number=d.case(case_id).tracking_number, field=field,
            value=value, reason="Data saya salah", notice_accepted=True)
    d.complete(request.id, "Task_tinjau", desk, {"keputusan": "dikoreksi"})
    d.run_jobs()  # the correction runs as a job
    assert d.case(request.id).status == "completed"
    return request.tracking_number


def _stored_workflow_data(ctx: AppContext, case_id: int) -> dict[str, object]:
    ctx.rt.cases.clear()  # read the stored state, not a workflow kept in memory
    with ctx.sessions() as session:
        return ctx.rt.load_case(session, case_id).workflow.data()


def test_a_corrected_closed_application_keeps_the_value_in_its_stored_workflow(ctx: AppContext) -> None:
    case_id, _request, _desk = _corrected(ctx, "telepon", NEW_PHONE)
    d = Driver(ctx)
    assert d.case(case_id).data["telepon"] == NEW_PHONE
    with ctx.sessions() as session:  # the workflow kept in memory by the step that applied it
        assert ctx.rt.load_case(session, case_id).workflow.data()["telepon"] == NEW_PHONE
    assert _stored_workflow_data(ctx, case_id)["telepon"] == NEW_PHONE
    row = d.case(case_id)
    assert (row.status, row.outcome) == ("completed", "Selesai")  # still closed, as it was


def test_a_corrected_sensitive_value_is_sealed_in_the_workflow_state_and_found_by_its_new_number(
        ctx: AppContext, clock: FakeClock) -> None:
    case_id, request, desk = _corrected(ctx, "nik", NEW_NIK)
    assert _stored_workflow_data(ctx, case_id)["nik"] == NEW_NIK
    with ctx.sessions() as session:
        meta = session.scalar(text("SELECT wf_meta FROM case_record WHERE id = :id"), {"id": case_id})
        stored_diff = session.scalar(text("SELECT diff FROM case_event WHERE case_id = :id AND action = :a"),
                                     {"id": case_id, "a": corrections.ACTION})
        found = set(session.scalars(select(CaseLookup.case_id).where(CaseLookup.hash == lookup_hash(NEW_NIK))))
        old = set(session.scalars(select(CaseLookup.case_id).where(CaseLookup.hash == lookup_hash(NIK))))
        applicant = session.scalar(select(Case.applicant_id).where(Case.id == case_id)) or 0
        export = rights.personal_data(session, user_id=applicant, now=clock())
    assert NEW_NIK not in str(meta)
    assert NIK not in str(meta)
    assert "enc:" in json.loads(str(meta))["data"]["nik"]
    assert NEW_NIK not in str(stored_diff)
    assert case_id in found
    assert case_id not in old
    [event] = [e for e in Driver(ctx).events(case_id) if e.action == corrections.ACTION]
    assert event.actor == desk.username  # who accepted the correction
    assert request in (event.label or "")
    assert event.diff == {"set": {"nik": NEW_NIK}}
    shown = masked_diff(event.diff, {"nik": "sensitive"})
    assert shown is not None
    assert NEW_NIK not in str(shown)
    [applied] = [c for c in export["cases"] if c["service"] == "privasi"]
    assert {f["field"]: f["value"] for f in applied["data"]}["nik"] == NEW_NIK  # the citizen's export


def test_the_phone_correction_leaves_no_trace_of_the_old_value_in_the_case_data(ctx: AppContext) -> None:
    case_id, _request, _desk = _corrected(ctx, "telepon", NEW_PHONE)
    with ctx.sessions() as session:
        case = session.get(Case, case_id)
        assert case is not None
        assert PHONE not in str(case.data)
        assert PHONE not in case.wf_meta
        actor = session.scalar(select(CaseEvent.actor).where(CaseEvent.case_id == case_id,
                                                             CaseEvent.action == corrections.ACTION))
        assert actor == "pengaduan_dinas"


def test_a_withdrawn_application_is_corrected_too(ctx: AppContext) -> None:
    from engine.cases.service import cancel_case

    deploy(ctx, privacy_package())
    siti, officer, desk = _people(ctx)
    case_id = _filed(ctx, siti, {"nama_pemohon": "Siti", "nik": NIK, "telepon": PHONE, "jumlah": 3})
    with transaction(ctx.sessions) as session:
        cancel_case(session, rt=ctx.rt, case_id=case_id, actor=officer, reason="Ditarik pemohon")
    _accepted(ctx, siti, desk, case_id, "jumlah", "5")
    stored = _stored_workflow_data(ctx, case_id)
    assert stored["jumlah"] == 5
    assert stored["nama_pemohon"] == "Siti"
    row = Driver(ctx).case(case_id)
    assert (row.status, row.data["jumlah"], row.data["telepon"]) == ("cancelled", 5, PHONE)


def test_a_correction_reaches_the_failed_step_of_an_incident_and_its_retry_runs_with_it(ctx: AppContext) -> None:
    from engine.cases.service import retry_incident
    from tests.packages import simple_package

    files = dict(privacy_package().files)
    files["process.bpmn"] = simple_package("privasi", script="total = 12 // (jumlah - 3)").files["process.bpmn"]
    deploy(ctx, from_files(files))
    siti, officer, desk = _people(ctx)
    case_id = _filed(ctx, siti, {"nama_pemohon": "Siti", "nik": NIK, "jumlah": 3})
    d = Driver(ctx)
    assert d.case(case_id).status == "incident"  # 12 // 0
    _accepted(ctx, siti, desk, case_id, "jumlah", "4")
    assert d.case(case_id).data["jumlah"] == 4
    assert _stored_workflow_data(ctx, case_id)["jumlah"] == 4
    with transaction(ctx.sessions) as session:
        assert retry_incident(session, rt=ctx.rt, case_id=case_id, actor=officer, migrate=False) == "running"
    assert (d.case(case_id).data["jumlah"], d.case(case_id).data["total"]) == (4, 12)
