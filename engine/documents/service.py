"""Issued documents: the signed product of a case, its public verification, and revocation.

When a case completes at an end event its service's `[document]` table names, the step queues a
`document` job (`queue_issue`) in the same transaction; the worker then renders the PDF, stores it
in the file store, signs its SHA-256 and writes the `issued_document` row (`issue_for_case`): the
render in a read-only transaction of its own (`draft_for_case`), the rest in the job's. Why a job
rather than inside the step: rendering (in a bounded child process, see `engine.documents.pdf`)
costs 0.1-0.2 s that the officer finishing the case should not wait for, and a broken template must
not undo the decision it prints: the job retries with back-off and a failure shows as a failed job,
while the case stays completed. Exactly once per case: the job is unique per (kind, case),
`issued_document.case_id` is unique, and a re-run finds the row and stops.
A service with a `number_format` gets its number drawn in the step's transaction, not the job's
(engine/documents/numbering.py): the number is fixed at the signature and a failing render
retries with it.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from engine.cases import access as access
from engine.cases import hotsql as hotsql
from engine.cases import tracking as tracking
from engine.cases.tracking import ALPHABET
from engine.catalogue.labels import labels_for_version
from engine.directory.actors import Actor
from engine.directory.audit import record as audit
from engine.documents import filestore as filestore
from engine.documents import numbering as numbering
from engine.documents import pdf as pdf
from engine.documents.signing import Signer, signer_for
from engine.documents.spec import DocumentSpec, spec_of
from engine.errors import InvalidInput, NotFound
from engine.models import Agency, Bundle, Case, CaseEvent, IssuedDocument, ProcessFile, ProcessVersion
from engine.privacy import cipher as cipher
from forms.labels import Labels

if TYPE_CHECKING:
    from engine.runtime import Runtime
    from engine.settings import Settings

JOB_KIND = "document"
JOB_TASK = "issue"  # with the job table's unique (kind, case_id, task_id): one issue job per case
CODE_LENGTH = 16  # 80 random bits
DocumentStatus = Literal["authentic", "revoked", "tampered"]
CheckStatus = Literal["authentic", "tampered", "revoked", "unknown"]


class DocumentNotFound(NotFound):
    """No issued document has this id (or verification code)."""


@dataclass(frozen=True)
class DocumentSummary:
    """One issued document of a case, for tracking pages and the case API."""

    id: int
    case_id: int
    title_id: str
    title_en: str
    number: str
    issued_at: datetime
    revoked_at: datetime | None
    verify_code: str
    verify_path: str


@dataclass(frozen=True)
class PublicDocument:
    """What the public verification page shows: facts and status (authentic, revoked, tampered)."""

    code: str
    status: DocumentStatus
    title_id: str
    title_en: str
    number: str
    holder: str
    service_id: str
    service_en: str
    agency_id: str
    agency_en: str
    issued_at: datetime
    revoked_at: datetime | None
    revoke_reason: str | None
    facts: list[dict[str, str]]
    sha256: str
    key_id: str


@dataclass(frozen=True)
class UploadCheck:
    """The result of checking an uploaded PDF against a verification code."""

    status: CheckStatus
    sha256: str
    expected_sha256: str | None


def new_code() -> str:
    """Return an unguessable verification code (16 characters, 80 random bits)."""
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(code: str) -> str:
    """Normalise a typed code: case, look-alike letters, and anything but letters and digits dropped."""
    return re.sub(r"[^0-9A-Z]", "", code.upper()).translate(str.maketrans("OIL", "011"))


def verify_path(code: str) -> str:
    """Return the public verification page's path for a code."""
    return f"/verifikasi/{code}"


def queue_issue(session: Session, *, case_id: int, service: dict[str, Any], end_event: str | None,
                now: datetime, batch: hotsql.Batch, data: dict[str, Any] | None = None) -> bool:
    """Queue the issue job when a case ended at an end event that yields its service's product.

    A service with a `number_format` gets the document's number here, in the step's transaction,
    unless the case data already holds one in `number_field`. The job goes with the step's `batch`;
    a case that has one already (the job table's unique kind, case and task) keeps it, none is added.
    """
    spec = spec_of(service)
    if spec is None or end_event not in spec.end_events:
        return False
    if spec.number_format and not _typed_number(spec, data or {}):
        numbering.draw(session, case_id=case_id, fmt=spec.number_format, ctx=_number_context(service, now))
    batch.add("job_insert_once", [{"kind": JOB_KIND, "case_id": case_id, "task_id": JOB_TASK, "due_at": now,
                                   "created_at": now}])
    return True


def _typed_number(spec: DocumentSpec, data: dict[str, Any]) -> str:
    return _text(data.get(spec.number_field)).strip() if spec.number_field else ""


def _number_context(service: dict[str, Any], now: datetime) -> numbering.NumberContext:
    return numbering.NumberContext(process_key=str(service.get("key", "")), agency=str(service.get("agency", "")),
                                   at=now)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "Ya" if value else "Tidak"
    return "" if value is None else str(value)[:255]


def render_input(session: Session, *, settings: Settings, case: Case, spec: DocumentSpec, service: dict[str, Any],
                 code: str, key_id: str, now: datetime, number: str = "", watermark: str = "",
                 labels: Labels | None = None) -> pdf.RenderInput:
    """Gather what a case's document prints: the number (typed, drawn or by default), holder, facts, data.

    `labels`: the version's (engine.runtime.Runtime.labels), else read here.
    """
    data = dict(case.data or {})
    number = number or _typed_number(spec, data) or numbering.number_of(session, case_id=case.id) or ""
    if spec.number_field and not _typed_number(spec, data) and number:
        data[spec.number_field] = number  # the platform's number fills the field the form left empty
    labels = labels if labels is not None else labels_for_version(session, version_id=case.process_version_id)
    shown = {key: labels.both(key, value) for key, value in data.items()}
    agency = session.scalar(select(Agency).where(Agency.code == service.get("agency")))
    names = service.get("name") or {}
    if not number:
        number = f"{case.process_key.upper()}/{now.year}/{case.id:06d}"
    return pdf.RenderInput(
        title_id=spec.title_id, title_en=spec.title_en, number=number,
        holder=_text(data.get(spec.holder_field)) if spec.holder_field else "",
        agency_id=agency.name_id if agency else str(service.get("agency", "")),
        agency_en=agency.name_en if agency else str(service.get("agency", "")),
        service_id=str(names.get("id", case.process_key)), service_en=str(names.get("en", case.process_key)),
        issued_at=now, verify_url=settings.public_url.rstrip("/") + verify_path(code), code=code, key_id=key_id,
        template=spec.template, facts=[(f.label_id, f.label_en, _fact(shown, data, f.field, 0)) for f in spec.facts],
        data=data, labels=shown, watermark=watermark)


def _fact(shown: dict[str, tuple[str, str]], data: dict[str, Any], name: str, index: int) -> str:
    """Return a fact's value as its label in one language (index 0 Indonesian, 1 English), at most 255 characters."""
    return shown[name][index][:255] if name in shown else _text(data.get(name))


def template_files(session: Session, *, version_id: int) -> dict[str, bytes]:
    """Return a process version's document templates (its .html files) by package path."""
    return dict(session.execute(select(ProcessFile.name, ProcessFile.content).where(
        ProcessFile.version_id == version_id, ProcessFile.name.like("%.html"))).all())


def _unused_code(session: Session) -> str:
    for _ in range(10):
        code = new_code()
        if session.scalar(select(IssuedDocument.id).where(IssuedDocument.verify_code == code)) is None:
            return code
    raise RuntimeError("could not draw a free verification code")  # 80 random bits: practically unreachable


def _sealed_fact(sensitive: frozenset[str], field: str, fact: dict[str, str]) -> dict[str, Any]:
    """Seal a printed fact's values at rest when its field is sensitive (the column opens them on read)."""
    return cipher.seal_fields(fact, ("value", "value_en")) if field in sensitive else dict(fact)


@dataclass(frozen=True)
class Draft:
    """A case's document rendered before the transaction that records it, and the case version it was read at."""

    case_id: int
    case_version: int
    key_id: str
    code: str
    now: datetime
    item: pdf.RenderInput
    data: bytes


def draft_for_case(session: Session, *, rt: Runtime, case_id: int, signer: Signer | None = None) -> Draft | None:
    """Render a completed case's document without writing anything; None when there is none to issue.

    The worker renders here, in a read-only transaction, then records the draft in a short one
    (`issue_for_case(..., draft=)`): on SQLite a transaction that waited tens of milliseconds for the
    renderer would hold the write lock, or lose it to any commit meanwhile, all that time.
    """
    if session.scalar(select(IssuedDocument.id).where(IssuedDocument.case_id == case_id)) is not None:
        return None
    subject = _subject(session, case_id)
    if subject is None:
        return None
    return _render(session, rt=rt, subject=subject, signer=signer or signer_for(rt.settings))


def issue_for_case(session: Session, *, rt: Runtime, case_id: int, signer: Signer | None = None,
                   draft: Draft | None = None) -> IssuedDocument | None:
    """Render, store and sign the product of a completed case; return it (the existing one if issued).

    A `draft` (`draft_for_case`) is recorded as it is when the case has not changed since it was rendered.
    """
    existing = session.scalar(select(IssuedDocument).where(IssuedDocument.case_id == case_id))
    if existing is not None:
        return existing
    subject = _subject(session, case_id)
    if subject is None:
        return None
    case, service, spec = subject
    signer = signer or signer_for(rt.settings)
    if draft is None or (draft.case_id, draft.case_version, draft.key_id) != (case.id, case.version, signer.key_id):
        draft = _render(session, rt=rt, subject=subject, signer=signer)
    item, data, now = draft.item, draft.data, draft.now
    sensitive = rt.sealer(rt.specs.get(session, case.process_version_id)).sensitive
    digest = hashlib.sha256(data).digest()
    stored = filestore.store(session, settings=rt.settings, data=data, content_type="application/pdf",
                             filename=f"{case.process_key}-{case.tracking_number}.pdf", uploaded_by=None,
                             case_id=case.id)
    row = IssuedDocument(
        case_id=case.id, process_key=case.process_key, title_id=spec.title_id, title_en=spec.title_en,
        number=item.number, file_id=stored.id, sha256=digest.hex(),
        holder=cipher.seal_fields({"holder": item.holder}, ("holder",))["holder"]
        if spec.holder_field in sensitive and item.holder else item.holder,
        signature=signer.sign(digest), key_id=signer.key_id, verify_code=draft.code, issued_at=now,
        facts={"service": {"id": item.service_id, "en": item.service_en},
               "agency": {"id": item.agency_id, "en": item.agency_en},
               "items": [_sealed_fact(sensitive, f.field, {"label_id": a, "label_en": b, "value": v,
                                                           "value_en": _fact(item.labels, item.data, f.field, 1)})
                         for (a, b, v), f in zip(item.facts, spec.facts, strict=True)]})
    session.add(row)
    session.add(CaseEvent(case_id=case.id, at=now, actor="system", action="document_issued",
                          label=f"{spec.title_id} {item.number}"[:255]))
    session.flush()
    return row


def _subject(session: Session, case_id: int) -> tuple[Case, dict[str, Any], DocumentSpec] | None:
    """Return a completed case with its service and document spec; None when it issues no document."""
    case = session.get(Case, case_id)
    if case is None or case.status != "completed":
        return None
    service = session.scalar(select(ProcessVersion.service).where(ProcessVersion.id == case.process_version_id))
    spec = spec_of(service or {})
    if spec is None or service is None:
        return None
    return case, service, spec


def _render(session: Session, *, rt: Runtime, subject: tuple[Case, dict[str, Any], DocumentSpec],
            signer: Signer) -> Draft:
    case, service, spec = subject
    now, code = rt.clock(), _unused_code(session)
    item = render_input(session, settings=rt.settings, case=case, spec=spec, service=service, code=code,
                        key_id=signer.key_id, now=now, labels=rt.labels(session, case.process_version_id))
    data = pdf.render_document(item, template_files(session, version_id=case.process_version_id))
    return Draft(case.id, case.version, signer.key_id, code, now, item, data)


def list_for_case(session: Session, *, case_id: int) -> list[DocumentSummary]:
    """List the documents issued for a case, oldest first."""
    rows = session.scalars(select(IssuedDocument).where(IssuedDocument.case_id == case_id)
                           .order_by(IssuedDocument.id))
    return [DocumentSummary(r.id, r.case_id, r.title_id, r.title_en, r.number, r.issued_at, r.revoked_at,
                            r.verify_code, verify_path(r.verify_code)) for r in rows]


def _tracked_cases(tracking_number: str) -> Any:
    """SQL: ids of the cases a tracking number names (a case's own, or every case of a bundle's)."""
    number = tracking.normalise(tracking_number)
    in_bundle = select(Bundle.id).where(Bundle.tracking_number == number)
    return select(Case.id).where(or_(Case.tracking_number == number, Case.bundle_id.in_(in_bundle)))


def list_for_tracking(session: Session, *, tracking_number: str) -> list[DocumentSummary]:
    """List the documents of the case (or every case of the integrated application) a tracking number names."""
    ids = list(session.scalars(_tracked_cases(tracking_number)))
    return [doc for case_id in sorted(ids) for doc in list_for_case(session, case_id=case_id)]


def tracked_document(session: Session, *, tracking_number: str, document_id: int) -> IssuedDocument | None:
    """Return a document only when it belongs to the case(s) the tracking number names."""
    return session.scalar(select(IssuedDocument).where(IssuedDocument.id == document_id,
                                                       IssuedDocument.case_id.in_(_tracked_cases(tracking_number))))


def get_document(session: Session, *, document_id: int) -> IssuedDocument:
    """Return an issued document or raise DocumentNotFound."""
    row = session.get(IssuedDocument, document_id)
    if row is None:
        raise DocumentNotFound(f"document {document_id} not found")
    return row


def may_download(session: Session, *, actor: Actor, document_id: int) -> bool:
    """Tell whether the actor may download a document: whoever may read its case."""
    case_id = session.scalar(select(IssuedDocument.case_id).where(IssuedDocument.id == document_id))
    return case_id is not None and access.may_view_case(session, actor, case_id)


def document_pdf(session: Session, *, settings: Settings, document_id: int) -> tuple[IssuedDocument, bytes]:
    """Return an issued document with its PDF bytes (checked against the stored hash)."""
    row = get_document(session, document_id=document_id)
    _file, data = filestore.open_file(session, settings=settings, file_id=row.file_id)
    return row, data


def _by_code(session: Session, code: str) -> IssuedDocument | None:
    normal = normalise_code(code)
    if len(normal) != CODE_LENGTH or any(c not in ALPHABET for c in normal):
        return None
    return session.scalar(select(IssuedDocument).where(IssuedDocument.verify_code == normal))


def _genuine(row: IssuedDocument, signer: Signer) -> bool:
    try:
        digest = bytes.fromhex(row.sha256)
    except ValueError:
        return False
    return signer.verify(digest, row.signature, row.key_id)


def public_view(session: Session, *, code: str, signer: Signer) -> PublicDocument | None:
    """Return what the public may see of a document by its verification code; None for an unknown code."""
    row = _by_code(session, code)
    if row is None:
        return None
    status: DocumentStatus = "authentic" if _genuine(row, signer) else "tampered"
    if row.revoked_at is not None:
        status = "revoked"
    facts = row.facts or {}
    service, agency = facts.get("service", {}), facts.get("agency", {})
    return PublicDocument(
        code=row.verify_code, status=status, title_id=row.title_id, title_en=row.title_en, number=row.number,
        holder=row.holder, service_id=service.get("id", ""), service_en=service.get("en", ""),
        agency_id=agency.get("id", ""), agency_en=agency.get("en", ""), issued_at=row.issued_at,
        revoked_at=row.revoked_at, revoke_reason=row.revoke_reason,
        facts=[dict(item) for item in facts.get("items", [])], sha256=row.sha256, key_id=row.key_id)


def check_upload(session: Session, *, code: str, data: bytes, signer: Signer) -> UploadCheck:
    """Check an uploaded PDF against the document a code names: authentic, tampered, revoked or unknown."""
    digest = hashlib.sha256(data).hexdigest()
    row = _by_code(session, code)
    if row is None:
        return UploadCheck("unknown", digest, None)
    if digest != row.sha256 or not _genuine(row, signer):
        return UploadCheck("tampered", digest, row.sha256)
    return UploadCheck("revoked" if row.revoked_at is not None else "authentic", digest, row.sha256)


def revoke(session: Session, *, document_id: int, actor: Actor, reason: str, now: datetime) -> IssuedDocument:
    """Revoke an issued document with a reason, in the audit log and the case's history."""
    reason = reason.strip()
    if not reason:
        raise InvalidInput("give the reason for revoking the document")
    row = get_document(session, document_id=document_id)
    if row.revoked_at is not None:
        raise InvalidInput(f"document {document_id} was already revoked")
    row.revoked_at, row.revoke_reason, row.revoked_by = now, reason[:2000], actor.username
    audit(session, actor=actor.username, action="document.revoke", subject=f"document:{row.id}",
          detail={"case_id": row.case_id, "number": row.number, "reason": row.revoke_reason})
    session.add(CaseEvent(case_id=row.case_id, at=now, actor=actor.username, action="document_revoked",
                          label=row.revoke_reason[:255]))
    session.flush()
    return row
