"""Issued documents: public verification, the case's documents, the signed PDF, revocation."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import Path, UploadFile
from fastapi.responses import Response
from pydantic import Field

from api.deps import AdminActor, CurrentActor, RuntimeDep, SessionDep
from api.errors import NOT_FOUND, TOO_LARGE, ApiError
from api.routing import router
from api.schemas import Model, Text
from engine.cases import access as access
from engine.documents import service as documents
from engine.documents.signing import signer_for
from web.downloads import content_disposition

routes = router(tags=["documents"])
DocumentId = Annotated[int, Path(ge=1, le=2**31 - 1)]
CaseId = Annotated[int, Path(ge=1, le=2**31 - 1)]
Code = Annotated[str, Path(min_length=1, max_length=40)]


class DocumentRead(Model):
    id: int
    case_id: int
    title: Text
    number: str
    issued_at: datetime
    revoked_at: datetime | None
    verify_code: str
    verify_url: str
    pdf_url: str


class FactRead(Model):
    label: Text
    value: str


class VerificationRead(Model):
    code: str
    status: Literal["authentic", "revoked", "tampered"] = Field(
        description="authentic: signed by the platform and not revoked; revoked: withdrawn (see reason); "
                    "tampered: the record's signature does not verify")
    title: Text
    number: str
    holder: str
    service: Text
    agency: Text
    issued_at: datetime
    revoked_at: datetime | None
    revoke_reason: str | None
    facts: list[FactRead]
    sha256: str = Field(description="SHA-256 of the signed PDF, hex")
    key_id: str


class UploadCheckRead(Model):
    status: Literal["authentic", "tampered", "revoked", "unknown"]
    sha256: str
    expected_sha256: str | None


class DocumentRevoke(Model):
    reason: str = Field(min_length=3, max_length=2000)


def _read(summary: documents.DocumentSummary, base: str) -> DocumentRead:
    return DocumentRead(id=summary.id, case_id=summary.case_id, title=Text(id=summary.title_id, en=summary.title_en),
                        number=summary.number, issued_at=summary.issued_at, revoked_at=summary.revoked_at,
                        verify_code=summary.verify_code, verify_url=base.rstrip("/") + summary.verify_path,
                        pdf_url=f"/api/documents/{summary.id}/pdf")


@routes.get("/api/documents/verify/{code}", response_model=VerificationRead)
def verify(code: Code, session: SessionDep, rt: RuntimeDep) -> VerificationRead:
    """Verify a document by the code printed under its QR code (public): its facts and status."""
    view = documents.public_view(session, code=code, signer=signer_for(rt.settings))
    if view is None:
        raise ApiError(NOT_FOUND, "no document has this verification code")
    return VerificationRead(
        code=view.code, status=view.status,
        title=Text(id=view.title_id, en=view.title_en), number=view.number, holder=view.holder,
        service=Text(id=view.service_id, en=view.service_en), agency=Text(id=view.agency_id, en=view.agency_en),
        issued_at=view.issued_at, revoked_at=view.revoked_at, revoke_reason=view.revoke_reason,
        facts=[FactRead(label=Text(id=f.get("label_id", ""), en=f.get("label_en", "")), value=f.get("value", ""))
               for f in view.facts], sha256=view.sha256, key_id=view.key_id)


@routes.post("/api/documents/verify/{code}/check", response_model=UploadCheckRead)
def check(code: Code, file: UploadFile, session: SessionDep, rt: RuntimeDep) -> UploadCheckRead:
    """Check a PDF file against the document a code names (public): authentic, tampered, revoked or unknown."""
    limit = rt.settings.max_file_bytes
    data = file.file.read(limit + 1)  # parsed already: a spooled temporary file
    if len(data) > limit:
        raise ApiError(TOO_LARGE, f"the file is larger than {limit // 1024 // 1024} MiB")
    result = documents.check_upload(session, code=code, data=data, signer=signer_for(rt.settings))
    return UploadCheckRead(status=result.status, sha256=result.sha256,
                           expected_sha256=result.expected_sha256)


@routes.get("/api/cases/{case_id}/documents", response_model=list[DocumentRead])
def case_documents(case_id: CaseId, actor: CurrentActor, session: SessionDep, rt: RuntimeDep) -> list[DocumentRead]:
    """List the documents issued for a case the caller may read."""
    if not access.may_view_case(session, actor, case_id):
        raise ApiError(NOT_FOUND, f"case {case_id} not found")
    return [_read(s, rt.settings.public_url) for s in documents.list_for_case(session, case_id=case_id)]


@routes.get("/api/documents/{document_id}/pdf", response_class=Response,
            responses={200: {"content": {"application/pdf": {}}, "description": "the signed PDF"}})
def download(document_id: DocumentId, actor: CurrentActor, session: SessionDep, rt: RuntimeDep) -> Response:
    """Download an issued document's PDF (its case's applicant and the staff who may read the case)."""
    # Same answer for "does not exist" and "not yours": ids are not enumerable.
    if not documents.may_download(session, actor=actor, document_id=document_id):
        raise ApiError(NOT_FOUND, f"document {document_id} not found")
    row, data = documents.document_pdf(session, settings=rt.settings, document_id=document_id)
    return pdf_response(data, f"{row.process_key}-{row.id}.pdf")


@routes.post("/api/documents/{document_id}/revoke", response_model=DocumentRead)
def revoke(document_id: DocumentId, body: DocumentRevoke, actor: AdminActor, session: SessionDep,
           rt: RuntimeDep) -> DocumentRead:
    """Revoke an issued document (admin) with a reason; the verification page then says revoked."""
    row = documents.revoke(session, document_id=document_id, actor=actor, reason=body.reason, now=rt.clock())
    summary = next(s for s in documents.list_for_case(session, case_id=row.case_id) if s.id == row.id)
    return _read(summary, rt.settings.public_url)


def pdf_response(data: bytes, filename: str) -> Response:
    """Return PDF bytes as a download that is never cached by shared caches."""
    return Response(data, media_type="application/pdf", headers={
        "Content-Disposition": content_disposition(filename), "Cache-Control": "private, no-store",
        "X-Content-Type-Options": "nosniff"})
