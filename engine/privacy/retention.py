"""Retention: closed cases kept as long as their service declares, then anonymised or deleted; legal holds.

Each service declares in service.toml how long its closed cases are kept and on what legal basis:

    [retention]
    years = 5
    after = "closed"
    action = "anonymise"     # or "delete", or "keep" (permanent: no years)
    basis = { id = "...", en = "..." }

The policy of a process key is its latest deployed version's, so a corrected schedule applies to
older cases too. Anonymising removes every classified value (`x-mpp-personal`, forms.labels) from
the case's data, workflow state and history, the complaint and notification rows that name the
person, deletes the uploaded files and unlinks the applicant's account, and keeps what the reports
count (docs/privacy.md, "Retention and legal hold").
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, exists, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from engine.catalogue.labels import labels_for_version
from engine.db import transaction
from engine.documents import filestore as filestore
from engine.errors import InvalidInput, NotFound
from engine.models import (
    AuditEntry,
    Bundle,
    Case,
    CaseEvent,
    CaseLookup,
    CaseState,
    Complaint,
    IssuedDocument,
    Job,
    LegalHold,
    Notification,
    ProcessVersion,
    StoredFile,
    SurveyResponse,
)
from engine.settings import Settings

ACTIONS = ("anonymise", "delete", "keep")
AFTER = ("closed",)
CLOSED = ("completed", "cancelled")
MAX_YEARS = 100
BATCH = 100
Message = tuple[str, str]
"""A problem in English and in Bahasa Indonesia, in that order."""


@dataclass(frozen=True)
class Policy:
    """A service's retention: keep closed cases `years`, then `action` them, on the legal `basis`."""

    years: int | None
    action: str
    basis_id: str
    basis_en: str


def policy_of(service: dict[str, Any]) -> Policy | None:
    """Return a service's retention policy, or None when it declares none (or an invalid one)."""
    table = service.get("retention")
    if not isinstance(table, dict) or retention_errors(service):
        return None
    basis = table["basis"]
    years = table.get("years")
    return Policy(years if isinstance(years, int) else None, str(table["action"]), basis["id"], basis["en"])


def retention_errors(service: dict[str, Any]) -> list[Message]:
    """Return what is wrong with service.toml's [retention] table (nothing when it is absent)."""
    table = service.get("retention")
    if table is None:
        return []
    if not isinstance(table, dict):
        return [("[retention] must be a table", "[retention] harus berupa tabel")]
    errors: list[Message] = []
    action, years = table.get("action", "anonymise"), table.get("years")
    if action not in ACTIONS:
        errors.append((f"retention.action must be one of {', '.join(ACTIONS)}",
                       f"retention.action harus salah satu dari {', '.join(ACTIONS)}"))
    if action != "keep" and not (isinstance(years, int) and not isinstance(years, bool) and 1 <= years <= MAX_YEARS):
        errors.append((f"retention.years must be a whole number of years from 1 to {MAX_YEARS}",
                       f"retention.years harus bilangan bulat tahun dari 1 sampai {MAX_YEARS}"))
    if table.get("after", "closed") not in AFTER:
        errors.append(("retention.after must be \"closed\" (counted from the day the case closed)",
                       "retention.after harus \"closed\" (dihitung sejak permohonan selesai)"))
    basis = table.get("basis")
    if not (isinstance(basis, dict) and all(isinstance(basis.get(k), str) and basis[k].strip() for k in ("id", "en"))):
        errors.append(("retention.basis must give the legal basis in both languages: { id = \"...\", en = \"...\" }",
                       "retention.basis harus menyebut dasar hukum dalam dua bahasa: { id = \"...\", en = \"...\" }"))
    unknown = sorted(set(table) - {"years", "after", "action", "basis"})
    errors += [(f"unknown key 'retention.{k}'", f"kunci 'retention.{k}' tidak dikenal") for k in unknown]
    return errors


MISSING: Message = (
    "no [retention] table: closed cases are kept forever; declare how long, e.g. [retention] years = 5, "
    "after = \"closed\", action = \"anonymise\", basis = { id = \"...\", en = \"...\" } (docs/privacy.md)",
    "tidak ada tabel [retention]: permohonan selesai disimpan selamanya; nyatakan berapa lama, mis. [retention] "
    "years = 5, after = \"closed\", action = \"anonymise\", basis = { id = \"...\", en = \"...\" } (docs/privacy.md)")


# ---------------------------------------------------------------- legal hold


def active_hold(session: Session, *, case_id: int) -> LegalHold | None:
    """Return the case's hold that is not lifted, if any."""
    return session.scalar(select(LegalHold).where(LegalHold.case_id == case_id, LegalHold.lifted_at.is_(None))
                          .order_by(LegalHold.id.desc()).limit(1))


def holds_of(session: Session, *, case_id: int) -> list[LegalHold]:
    """Return every hold placed on a case, newest first."""
    return list(session.scalars(select(LegalHold).where(LegalHold.case_id == case_id).order_by(LegalHold.id.desc())))


def _reason(reason: str) -> str:
    text = reason.strip()
    if not 5 <= len(text) <= 2000:
        raise InvalidInput("a reason is required (5 to 2000 characters)",
                           message_id="alasan wajib diisi (5 sampai 2000 karakter)")
    return text


def place_hold(session: Session, *, case_id: int, actor: str, reason: str, now: datetime) -> LegalHold:
    """Place a legal hold on a case (once: a held case keeps its hold) and audit it."""
    if session.get(Case, case_id) is None:
        raise NotFound(f"case {case_id} not found")
    text = _reason(reason)
    held = active_hold(session, case_id=case_id)
    if held is not None:
        return held
    hold = LegalHold(case_id=case_id, reason=text, placed_by=actor, placed_at=now)
    session.add(hold)
    session.add(AuditEntry(at=now, actor=actor, action="legal_hold.place", subject=f"case:{case_id}",
                           detail={"reason": text}))
    session.flush()
    return hold


def lift_hold(session: Session, *, case_id: int, actor: str, reason: str, now: datetime) -> None:
    """Lift a case's legal hold and audit it; the retention job may then anonymise the case."""
    held = active_hold(session, case_id=case_id)
    if held is None:
        raise NotFound(f"case {case_id} has no legal hold", message_id=f"permohonan {case_id} tidak ditahan")
    held.lifted_by, held.lifted_at, held.lift_reason = actor, now, _reason(reason)
    session.add(AuditEntry(at=now, actor=actor, action="legal_hold.lift", subject=f"case:{case_id}",
                           detail={"reason": held.lift_reason}))
    session.flush()


# ---------------------------------------------------------------- which cases are due


def policies(session: Session) -> dict[str, Policy]:
    """Return the retention policy of each process key, from its latest deployed version."""
    latest = (select(ProcessVersion.key, func.max(ProcessVersion.version).label("v"))
              .group_by(ProcessVersion.key).subquery())
    rows = session.execute(select(ProcessVersion.key, ProcessVersion.service).join(
        latest, and_(ProcessVersion.key == latest.c.key, ProcessVersion.version == latest.c.v)))
    found = {key: policy_of(service or {}) for key, service in rows}
    return {key: p for key, p in found.items() if p is not None}


def years_before(now: datetime, years: int) -> datetime:
    """Return the same moment `years` calendar years earlier (29 February becomes 28 February)."""
    try:
        return now.replace(year=now.year - years)
    except ValueError:
        return (now - timedelta(days=1)).replace(year=now.year - years)


_held = exists().where(LegalHold.case_id == Case.id, LegalHold.lifted_at.is_(None))


def _expired(key: str, policy: Policy, now: datetime) -> ColumnElement[bool]:
    closed_at = func.coalesce(Case.completed_at, Case.updated_at)
    return and_(Case.process_key == key, Case.status.in_(CLOSED), Case.anonymised_at.is_(None),
                closed_at < years_before(now, policy.years or MAX_YEARS))


def due_cases(session: Session, *, now: datetime, limit: int) -> list[tuple[int, str, str]]:
    """Return up to `limit` (case id, process key, action) of closed cases past their retention and not held."""
    due = [(key, p) for key, p in sorted(policies(session).items()) if p.action != "keep" and p.years]
    found: list[tuple[int, str, str]] = []
    for key, policy in due:
        ids = session.scalars(select(Case.id).where(_expired(key, policy, now), ~_held)
                              .order_by(Case.id).limit(limit - len(found)))
        found += [(case_id, key, policy.action) for case_id in ids]
        if len(found) >= limit:
            break
    return found


def held_count(session: Session, *, now: datetime) -> int:
    """Count the closed cases past their retention that a legal hold keeps."""
    due = [(key, p) for key, p in policies(session).items() if p.action != "keep" and p.years]
    return sum(session.scalar(select(func.count()).select_from(Case).where(_expired(key, p, now), _held)) or 0
               for key, p in due)


# ---------------------------------------------------------------- anonymising and deleting


def strip(value: Any, names: frozenset[str]) -> Any:
    """Return `value` without any object key in `names`, at any depth."""
    if isinstance(value, dict):
        return {k: strip(v, names) for k, v in value.items() if k not in names}
    if isinstance(value, list):
        return [strip(v, names) for v in value]
    return value


def _strip_json(text: str, names: frozenset[str]) -> str:
    return json.dumps(strip(json.loads(text), names), separators=(",", ":"))


def _uploads(session: Session, case_id: int) -> list[StoredFile]:
    issued = select(IssuedDocument.file_id).where(IssuedDocument.case_id == case_id)
    return list(session.scalars(select(StoredFile).where(StoredFile.case_id == case_id,
                                                         StoredFile.id.not_in(issued))))


def anonymise_case(session: Session, *, case_id: int, now: datetime) -> list[str]:
    """Remove a closed case's personal data, keeping what reports count; return the hashes of deleted files."""
    case = session.get(Case, case_id)
    if case is None or case.anonymised_at is not None:
        return []
    names = frozenset(labels_for_version(session, version_id=case.process_version_id).personal_fields())
    case.data = strip(case.data, names)
    case.wf_meta = _strip_json(case.wf_meta, names)
    case.applicant_id, case.outreach_address, case.outreach_contact, case.anonymised_at = None, None, None, now
    case.version += 1  # a workflow a process keeps in memory at the old version is read again, stripped
    for state in session.scalars(select(CaseState).where(CaseState.case_id == case_id)):
        state.payload = _strip_json(state.payload, names)
    for event in session.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id, CaseEvent.diff.is_not(None))):
        event.diff = strip(event.diff, names)
    session.execute(delete(CaseLookup).where(CaseLookup.case_id == case_id))  # keyed hashes of NIK-like fields
    session.execute(update(Complaint).where(Complaint.case_id == case_id).values(complainant_name=None))
    session.execute(update(Notification).where(Notification.case_id == case_id).values(recipient="", context={}))
    session.execute(update(SurveyResponse).where(SurveyResponse.case_id == case_id).values(comment=None))
    files = _uploads(session, case_id)
    for upload in files:
        session.delete(upload)
    if case.bundle_id is not None and not session.scalar(select(func.count()).select_from(Case).where(
            Case.bundle_id == case.bundle_id, Case.anonymised_at.is_(None))):
        session.execute(update(Bundle).where(Bundle.id == case.bundle_id).values(applicant_id=None))
    session.flush()
    return [upload.sha256 for upload in files]


def delete_case(session: Session, *, case_id: int) -> list[str]:
    """Delete a case with everything of it (its issued document too); return the hashes of deleted files."""
    files = list(session.scalars(select(StoredFile).where(StoredFile.case_id == case_id)))
    session.execute(delete(Case).where(Case.id == case_id))  # the database cascades to its rows
    session.execute(delete(StoredFile).where(StoredFile.id.in_([f.id for f in files])))
    session.flush()
    return [f.sha256 for f in files]


def remove_blobs(session: Session, *, settings: Settings, hashes: Iterable[str]) -> int:
    """Delete stored bytes no file row uses any more (the store is content-addressed); return how many."""
    removed = 0
    for digest in sorted(set(hashes)):
        if session.scalar(select(func.count()).select_from(StoredFile).where(StoredFile.sha256 == digest)):
            continue  # the same bytes were uploaded for another case
        path = filestore.blob_path(settings.files_dir, digest)
        if path.exists():
            path.unlink()
            removed += 1
    return removed


@dataclass
class RunReport:
    """What a retention run did (or would do, in a dry run): counts only, never personal data."""

    dry_run: bool
    anonymised: int = 0
    deleted: int = 0
    files: int = 0
    held: int = 0
    batches: int = 0
    by_service: Counter[str] = field(default_factory=Counter)

    def detail(self) -> dict[str, Any]:
        """Return the counts as the audit entry's detail."""
        return {"dry_run": self.dry_run, "anonymised": self.anonymised, "deleted": self.deleted,
                "files": self.files, "held": self.held, "batches": self.batches,
                "by_service": dict(sorted(self.by_service.items()))}


def run_batch(session: Session, *, settings: Settings, now: datetime, report: RunReport, limit: int = BATCH) -> int:
    """Anonymise or delete one batch of due cases in the caller's transaction; return how many were due."""
    due = due_cases(session, now=now, limit=limit)
    hashes: list[str] = []
    for case_id, key, action in due:
        report.by_service[key] += 1
        if report.dry_run:
            report.deleted += action == "delete"
            report.anonymised += action != "delete"
            report.files += len(_uploads(session, case_id))
            continue
        found = delete_case(session, case_id=case_id) if action == "delete" else \
            anonymise_case(session, case_id=case_id, now=now)
        report.deleted += action == "delete"
        report.anonymised += action != "delete"
        report.files += len(found)
        hashes += found
    if due:
        report.batches += 1
    # The bytes go last, after the rows are flushed: should the commit still fail, the next run
    # finds the case again, and a file due for deletion is at worst unreadable a little early.
    if not report.dry_run:
        remove_blobs(session, settings=settings, hashes=hashes)
    return len(due)


def audit(session: Session, *, report: RunReport, now: datetime, actor: str = "system") -> None:
    """Record a run's counts in the audit log."""
    session.add(AuditEntry(at=now, actor=actor, action="retention.run", subject="retention", detail=report.detail()))
    session.flush()


def run_retention(factory: sessionmaker[Session], *, settings: Settings, now: datetime, dry_run: bool = False,
                  batch: int = BATCH, actor: str = "system") -> RunReport:
    """Anonymise or delete every due case, one batch per transaction, then audit the run; safe to run again."""
    report = RunReport(dry_run=dry_run)
    with factory() as session:
        report.held = held_count(session, now=now)
    if dry_run:  # nothing changes, so one read answers for every batch
        with factory() as session:
            run_batch(session, settings=settings, now=now, report=report, limit=10_000_000)
            session.rollback()
    else:
        while True:
            with transaction(factory) as session:
                if run_batch(session, settings=settings, now=now, report=report, limit=batch) < batch:
                    break
    with transaction(factory) as session:
        audit(session, report=report, now=now, actor=actor)
    return report


# ---------------------------------------------------------------- the worker's daily job

JOB_KIND = "retention"
EVERY = timedelta(days=1)


def run_scheduled(session: Session, *, settings: Settings, now: datetime) -> RunReport:
    """Run one batch as a worker job, audit it when it did anything, and schedule the next batch (or tomorrow)."""
    report = RunReport(dry_run=False)
    full = run_batch(session, settings=settings, now=now, report=report) >= BATCH
    if report.anonymised or report.deleted:
        audit(session, report=report, now=now)
    session.add(Job(kind=JOB_KIND, due_at=now if full else now + EVERY, status="pending"))
    session.flush()
    return report


def ensure_scheduled(session: Session, *, now: datetime) -> None:
    """Keep one retention job scheduled (the first one runs an hour after a worker starts)."""
    if session.scalar(select(Job.id).where(Job.kind == JOB_KIND, Job.status.in_(("pending", "running")))) is None:
        session.add(Job(kind=JOB_KIND, due_at=now + timedelta(hours=1), status="pending"))
        session.flush()
