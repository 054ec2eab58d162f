"""Public verification of issued documents: the page the QR code opens, and a check of a PDF copy."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import UploadFile

from engine.documents import service as documents
from engine.documents.signing import signer_for
from web.deps import ContextDep, CsrfForm, OptionalPageActor, SessionDep
from web.routing import TransactionalRoute
from web.session import language
from web.templates import Pages, pick

routes = APIRouter(route_class=TransactionalRoute, include_in_schema=False)
pages = Pages(Path(__file__).resolve().parent / "templates")


@routes.get("/verifikasi")
def verify_form(request: Request, actor: OptionalPageActor) -> Response:
    """Ask for the verification code printed under a document's QR code."""
    code = str(request.query_params.get("kode") or "").strip()
    if code:
        return RedirectResponse(f"/verifikasi/{documents.normalise_code(code)[:40]}", status_code=303)
    return pages.render(request, "verify/form.html", {})


def _page(request: Request, session: SessionDep, ctx: ContextDep, code: str, *,
          check: documents.UploadCheck | None = None, error: str = "", status: int = 200) -> Response:
    view = documents.public_view(session, code=code[:40], signer=signer_for(ctx.settings))
    if view is None:
        return pages.render(request, "verify/unknown.html", {"code": code[:40]}, status=404)
    return pages.render(request, "verify/document.html", {"d": view, "check": check, "error": error}, status=status)


@routes.get("/verifikasi/{code}")
def verify_page(request: Request, code: str, session: SessionDep, ctx: ContextDep, actor: OptionalPageActor,
                ) -> Response:
    """Show a document's facts and whether it is authentic, revoked or tampered with."""
    return _page(request, session, ctx, code)


@routes.post("/verifikasi/{code}")
def verify_upload(request: Request, code: str, session: SessionDep, ctx: ContextDep, form: CsrfForm,
                  actor: OptionalPageActor) -> Response:
    """Check an uploaded PDF against the signed original: authentic, or tampered with."""
    lang = language(request)
    upload = form.get("berkas")
    if not isinstance(upload, UploadFile) or not upload.filename:
        error = pick(lang, "Pilih berkas PDF dokumen yang ingin diperiksa.", "Choose the PDF file you want to check.")
        return _page(request, session, ctx, code, error=error, status=422)
    limit = ctx.settings.max_file_bytes
    data = upload.file.read(limit + 1)  # parsed already: a spooled temporary file
    if len(data) > limit:
        error = pick(lang, f"Berkas lebih besar dari {limit // 1024 // 1024} MiB.",
                     f"The file is larger than {limit // 1024 // 1024} MiB.")
        return _page(request, session, ctx, code, error=error, status=413)
    check = documents.check_upload(session, code=code[:40], data=data, signer=signer_for(ctx.settings))
    return _page(request, session, ctx, code, check=check)
