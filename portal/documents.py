"""The applicant's downloads from the tracking page: the issued document, and the files they uploaded."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from engine.cases import tracking as tracking
from engine.documents import filestore as filestore
from engine.documents import service as documents
from web.deps import ContextDep, OptionalPageActor, PageActor, RowId, SessionDep
from web.downloads import content_disposition, stored_file
from web.errors import error_page
from web.grants import tracking_granted
from web.routing import TransactionalRoute

routes = APIRouter(route_class=TransactionalRoute, include_in_schema=False)


@routes.get("/lacak/{number}/dokumen/{document_id}")
def download(request: Request, number: str, document_id: RowId, session: SessionDep, ctx: ContextDep,
             actor: OptionalPageActor) -> Response:
    """Serve a case's signed PDF to whoever proved its PIN (or may read the case when logged in)."""
    normal = tracking.normalise(number)
    allowed = tracking_granted(request, normal) or (
        actor is not None and documents.may_download(session, actor=actor, document_id=document_id))
    if not allowed:
        return RedirectResponse(f"/lacak?nomor={normal}", status_code=303)
    row = documents.tracked_document(session, tracking_number=normal, document_id=document_id)
    if row is None:  # not this case's document: the same page whether it exists or not
        return error_page(request, 404, "Dokumen tidak ditemukan", "Document not found")
    _row, data = documents.document_pdf(session, settings=ctx.settings, document_id=row.id)
    return Response(data, media_type="application/pdf", headers={
        "Content-Disposition": content_disposition(f"{row.process_key}-{normal}.pdf"),
        "Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"})


@routes.get("/permohonan-saya/berkas/{file_id}")
def own_file(file_id: RowId, session: SessionDep, ctx: ContextDep, actor: PageActor) -> Response:
    """Send a stored file to a logged-in user who may read it (its uploader, or whoever may read its case)."""
    return stored_file(session, settings=ctx.settings, actor=actor, file_id=file_id)
