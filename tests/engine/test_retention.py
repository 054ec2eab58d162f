"""Retention: an expired closed case is anonymised (or deleted), a held one and a recent one are not; reports stay."""

from __future__ import annotations

import json
import uuid
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select

from engine.catalogue.package import Package, from_files
from engine.context import AppContext
from engine.db import transaction
from engine.directory.actors import Actor
from engine.documents import filestore as filestore
from engine.errors import InvalidInput
from engine.models import (
    AuditEntry,
    Case,
    CaseEvent,
    CaseLookup,
    CaseState,
    Job,
    Notification,
    SlaPause,
    StoredFile,
    SurveyResponse,
    TaskSpan,
)
from engine.privacy import retention as retention
from engine.sla import survey as survey
from engine.sla.service import Filters, build_dashboard
from tests import packages as packages
from tests.conftest import FakeClock
from tests.factories import Driver, deploy, make_user
from tests.packages import simple_package

NIK = "3471015001900001"
PARTNER_NIK = "3471015001900077"
NAME = "Siti Rahmawati Retensi"
PHONE = "081234567890"
PDF = b"%PDF-1.4\n% a test upload\n"

START = {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object", "properties": {
    "nama_pemohon": {"type": "string", "title": "Nama pemohon", "maxLength": 200, "x-mpp-personal": "personal"},
    "nik": {"type": "string", "title": "NIK", "pattern": "^[0-9]{16}$", "x-mpp-personal": "sensitive"},
    "telepon": {"type": "string", "title": "Telepon", "maxLength": 16, "x-mpp-personal": "personal"},
    "berkas_ktp": {"type": "string", "title": "KTP", "maxLength": 40, "x-mpp-personal": "sensitive"},
    "jumlah": {"type": "integer", "title": "Jumlah", "minimum": 1}},
    "required": ["nama_pemohon", "nik", "jumlah"]}
CHECK = {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object", "properties": {
    "catatan": {"type": "string", "title": "Catatan", "maxLength": 200},
    "nik_pasangan": {"type": "string", "title": "NIK pasangan", "maxLength": 16, "x-mpp-personal": "sensitive"}}}
RETENTION = """
[retention]
years = 5
after = "closed"
action = "{action}"
basis = {{ id = "UU 43/2009 tentang Kearsipan", en = "Law 43/2009 on Archives" }}
"""


def privacy_package(key: str = "privasi", *, action: str = "anonymise") -> Package:
    """A one-task service whose forms classify a name, a NIK, a phone, an upload and a partner's NIK."""
    files = dict(simple_package(key, script="total = jumlah * 2").files)
    files["service.toml"] = files["service.toml"].decode().replace(packages.RETENTION, RETENTION.format(
        action=action)).encode()
    files["forms/start.schema.json"] = json.dumps(START).encode()
    files["forms/periksa.schema.json"] = json.dumps(CHECK).encode()
    return from_files(files)


def _closed_case(ctx: AppContext, applicant: Actor, officer: Actor, key: str = "privasi",
                 data: dict[str, Any] | None = None) -> int:
    from engine.cases import filing as filing

    with transaction(ctx.sessions) as session:
        upload = filestore.store(session, settings=ctx.settings, data=PDF + uuid.uuid4().bytes,
                                 filename="ktp.pdf", content_type="application/pdf", uploaded_by=applicant.user_id)
        data = {"nama_pemohon": NAME, "nik": NIK, "telepon": PHONE, **(data or {}), "jumlah": 3,
                "berkas_ktp": filestore.ref(upload.id)}
        case_id = filing.file_application(session, rt=ctx.rt, process_key=key, data=data, channel="daring",
                                          actor=applicant, applicant_id=applicant.user_id, documents={},
                                          notice_accepted=True).id
        session.add(Notification(uid=f"n-{case_id}", event_id=f"e-{case_id}", event="started", channel="email",
                                 case_id=case_id, recipient="siti@example.test", context={"nama": NAME},
                                 status="sent"))
    Driver(ctx).complete(case_id, "Task_periksa", officer, {"catatan": "lengkap", "nik_pasangan": PARTNER_NIK})
    return case_id


def _rows_text(ctx: AppContext, case_id: int) -> str:
    """Everything the database holds for a case, as one text (values as read back)."""
    with ctx.sessions() as session:
        case = session.get(Case, case_id)
        assert case is not None
        parts: list[Any] = [case.data, case.wf_meta, case.outreach_address, case.outreach_contact]
        parts += list(session.scalars(select(CaseState.payload).where(CaseState.case_id == case_id)))
        parts += list(session.scalars(select(CaseEvent.diff).where(CaseEvent.case_id == case_id)))
        parts += [(n.recipient, n.context) for n in session.scalars(
            select(Notification).where(Notification.case_id == case_id))]
        return json.dumps(parts, default=str)


def _figures(ctx: AppContext, admin: Actor) -> tuple[Any, ...]:
    with ctx.sessions() as session:
        board = build_dashboard(session, actor=admin, filters=Filters(date_from=date(2020, 1, 1)), now=ctx.rt.clock())
        skm = survey.skm_dashboard(session, actor=admin, filters=Filters(date_from=date(2020, 1, 1)))
        spans = session.scalar(select(TaskSpan.id).order_by(TaskSpan.id.desc()).limit(1))
        return board.services, board.agencies, board.steps, skm, spans


def test_an_expired_case_is_anonymised_a_held_and_a_recent_one_are_not(ctx: AppContext, clock: FakeClock) -> None:
    deploy(ctx, privacy_package())
    applicant, officer = make_user(ctx, "siti"), make_user(ctx, "petugas", "dinas.petugas")
    admin = make_user(ctx, "admin", platform_role="admin")
    expired, held = _closed_case(ctx, applicant, officer), _closed_case(ctx, applicant, officer)
    with transaction(ctx.sessions) as session:
        survey.submit_survey(session, tracking_number=session.get(Case, expired).tracking_number,  # type: ignore[union-attr]
                             answers={f"u{i}": 3 for i in range(1, 10)}, comment=f"Terima kasih, saya {NAME}",
                             language="id", now=clock())
        retention.place_hold(session, case_id=held, actor="admin", reason="Sengketa di PTUN", now=clock())
    clock.advance(days=5 * 366 + 2)
    recent = _closed_case(ctx, applicant, officer)
    with ctx.sessions() as session:
        files = {c: [f.sha256 for f in session.scalars(select(StoredFile).where(StoredFile.case_id == c))]
                 for c in (expired, held, recent)}
    assert all(len(found) == 1 for found in files.values())
    before = _figures(ctx, admin)

    dry = retention.run_retention(ctx.sessions, settings=ctx.settings, now=clock(), dry_run=True)
    assert (dry.anonymised, dry.files, dry.held) == (1, 1, 1)
    assert NAME in _rows_text(ctx, expired)  # a dry run changes nothing
    done = retention.run_retention(ctx.sessions, settings=ctx.settings, now=clock())
    assert (done.anonymised, done.deleted, done.files, done.held, dict(done.by_service)) == (1, 0, 1, 1,
                                                                                           {"privasi": 1})

    text = _rows_text(ctx, expired)
    for value in (NAME, NIK, PARTNER_NIK, PHONE, "siti@example.test", '"nik"', '"nama_pemohon"', "berkas_ktp"):
        assert value not in text
    with ctx.sessions() as session:
        case = session.get(Case, expired)
        assert case is not None
        assert (case.applicant_id, case.status, case.process_key, case.data.get("jumlah")) == (None, "completed",
                                                                                            "privasi", 3)
        assert case.anonymised_at is not None
        assert session.scalar(select(StoredFile).where(StoredFile.case_id == expired)) is None
        assert session.scalar(select(CaseLookup.hash).where(CaseLookup.case_id == expired)) is None
        assert session.scalar(select(CaseLookup.hash).where(CaseLookup.case_id == held)) is not None
        [response] = session.scalars(select(SurveyResponse).where(SurveyResponse.case_id == expired))
        assert (response.u1, response.comment) == (3, None)
        [entry] = [e for e in session.scalars(select(AuditEntry).where(AuditEntry.action == "retention.run"))
                   if e.detail and not e.detail["dry_run"]]
        assert entry.detail == {"dry_run": False, "anonymised": 1, "deleted": 0, "files": 1, "held": 1, "batches": 1,
                                "by_service": {"privasi": 1}}
        assert NAME not in json.dumps(entry.detail)
    assert not filestore.blob_path(ctx.settings.files_dir, files[expired][0]).exists()
    with ctx.sessions() as session:  # the workflow this process kept in memory after the last step is not reused
        workflow = json.dumps(ctx.rt.load_case(session, expired).workflow.data(), default=str)
    assert NIK not in workflow
    assert NAME not in workflow
    assert '"jumlah": 3' in workflow
    for kept in (held, recent):
        assert NAME in _rows_text(ctx, kept)
        assert NIK in _rows_text(ctx, kept)
        assert filestore.blob_path(ctx.settings.files_dir, files[kept][0]).exists()
    assert _figures(ctx, admin) == before  # the dashboard, the SKM and the task spans are the same

    again = retention.run_retention(ctx.sessions, settings=ctx.settings, now=clock())
    assert (again.anonymised, again.held) == (0, 1)  # idempotent


def test_lifting_a_hold_lets_the_job_anonymise_and_the_worker_runs_it_in_batches(
        ctx: AppContext, clock: FakeClock) -> None:
    deploy(ctx, privacy_package())
    applicant, officer = make_user(ctx, "siti"), make_user(ctx, "petugas", "dinas.petugas")
    cases = [_closed_case(ctx, applicant, officer) for _ in range(3)]
    with transaction(ctx.sessions) as session:
        with pytest.raises(InvalidInput):
            retention.place_hold(session, case_id=cases[0], actor="admin", reason=" ", now=clock())
        retention.place_hold(session, case_id=cases[0], actor="admin", reason="Pemeriksaan Inspektorat", now=clock())
    clock.advance(days=6 * 366)
    with transaction(ctx.sessions) as session:
        report = retention.RunReport(dry_run=False)
        assert retention.run_batch(session, settings=ctx.settings, now=clock(), report=report, limit=1) == 1
    with transaction(ctx.sessions) as session:
        retention.lift_hold(session, case_id=cases[0], actor="admin", reason="Pemeriksaan selesai", now=clock())
        assert [h.lifted_by for h in retention.holds_of(session, case_id=cases[0])] == ["admin"]
        retention.run_scheduled(session, settings=ctx.settings, now=clock())
        assert session.scalar(select(Job.due_at).where(Job.kind == retention.JOB_KIND)) is not None
    with ctx.sessions() as session:
        assert all(session.get(Case, c).anonymised_at is not None for c in cases)  # type: ignore[union-attr]
        actions = list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
        assert actions == ["legal_hold.place", "legal_hold.lift", "retention.run"]


def test_delete_removes_the_case_where_the_basis_says_so(ctx: AppContext, clock: FakeClock) -> None:
    deploy(ctx, privacy_package("hapus", action="delete"))
    applicant, officer = make_user(ctx, "siti"), make_user(ctx, "petugas", "dinas.petugas")
    case_id = _closed_case(ctx, applicant, officer, key="hapus")
    clock.advance(days=6 * 366)
    done = retention.run_retention(ctx.sessions, settings=ctx.settings, now=clock())
    assert (done.deleted, done.files) == (1, 1)
    with ctx.sessions() as session:
        assert session.get(Case, case_id) is None
        assert session.scalar(select(SlaPause.id).where(SlaPause.case_id == case_id)) is None
        assert session.scalar(select(StoredFile.id)) is None


@pytest.mark.parametrize(("table", "wrong"), [
    ({"years": 0, "action": "anonymise", "basis": {"id": "x", "en": "x"}}, "retention.years"),
    ({"years": 5, "action": "shred", "basis": {"id": "x", "en": "x"}}, "retention.action"),
    ({"years": 5, "after": "filed", "basis": {"id": "x", "en": "x"}}, "retention.after"),
    ({"years": 5, "basis": {"id": "x"}}, "retention.basis"),
    ({"years": 5, "basis": {"id": "x", "en": "x"}, "month": 2}, "retention.month"),
])
def test_invalid_retention_is_named(table: dict[str, Any], wrong: str) -> None:
    errors = retention.retention_errors({"retention": table})
    assert len(errors) == 1
    assert wrong in errors[0][0]
    assert wrong in errors[0][1]
    assert retention.policy_of({"retention": table}) is None


def test_keep_needs_no_years_and_29_february_moves_back_a_day() -> None:
    assert retention.retention_errors({"retention": {"action": "keep", "basis": {"id": "x", "en": "y"}}}) == []
    from datetime import UTC, datetime

    assert retention.years_before(datetime(2028, 2, 29, tzinfo=UTC), 5) == datetime(2023, 2, 28, tzinfo=UTC)
