"""The service-standard editor (service.toml as a form) and document/notification templates."""

from __future__ import annotations

import base64
import json
from html import escape
from pathlib import Path as FsPath
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from admin.studio_shared import missing_draft, problems_json
from engine.bpmn.conventions import AGENCY_KINDS, CHANNELS
from engine.catalogue import drafts, previews, standard, standard_checks, standard_components, standard_write
from engine.catalogue import package as packages
from engine.catalogue.drafts import DraftConflict
from engine.catalogue.previews import TemplateInvalid
from engine.catalogue.standard import SERVICE, Standard, StandardUnreadable
from engine.errors import DomainError, InvalidInput, Problem
from engine.models import PackageDraft
from web.deps import CsrfForm, ModelerPageActor, SessionDep
from web.downloads import content_disposition
from web.routing import TransactionalRoute
from web.session import language
from web.templates import Pages, pick

routes = APIRouter(route_class=TransactionalRoute, include_in_schema=False)
pages = Pages(FsPath(__file__).resolve().parent / "templates")
DraftId = Annotated[int, Path(ge=1, le=2**31 - 1)]
MAX_SAMPLE_CHARS = 64 * 1024



# ---------------------------------------------------------------- the service standard


def _lint_view(problems: list[Problem], std: Standard, lang: str) -> dict[str, Any]:
    """Split lint problems: service.toml's by the form field they name, and a count for the other files."""
    template = std.document.template if std.document else ""
    mine = [p for p in problems if p.file == SERVICE or (template and p.file == template
                                                            and p.message.startswith("document template"))]
    by_field: dict[str, list[dict[str, Any]]] = {}
    summary = []
    for problem, shown in zip(mine, problems_json(mine, lang), strict=True):
        shown["field"] = standard_checks.field_of(problem.message, problem.element_id, std)
        summary.append(shown)
        if shown["field"]:
            by_field.setdefault(shown["field"], []).append(shown)
    others = [p for p in problems if p not in mine]
    return {"summary": summary, "by_field": by_field,
            "other_errors": sum(p.severity == "error" for p in others),
            "other_warnings": sum(p.severity != "error" for p in others)}


def _standard_page(request: Request, row: PackageDraft, files: dict[str, bytes], std: Standard, *,
                   revision: int, problems: list[Problem] | None = None,
                   errors: dict[str, tuple[str, str]] | None = None, conflict: DraftConflict | None = None,
                   flash: str = "", status: int = 200) -> Response:
    lang = language(request)
    known = {e for e, _name in standard.end_events(files)}
    ends = standard.end_events(files) + [(e, "") for e in (std.document.end_events if std.document else [])
                                         if e not in known]
    templates = sorted(n for n in files if previews.template_kind(n) == "document")
    return pages.render(request, "studio/standard.html", {
        "d": row, "s": std, "revision": revision, "flash": flash, "conflict": conflict,
        "errors": {k: pick(lang, *v) for k, v in (errors or {}).items()},
        "lint": _lint_view(problems or [], std, lang), "forms": standard.form_choices(files),
        "templates": templates, "ends": ends, "fields": standard.data_fields(files),
        "channels": list(CHANNELS), "kinds": [(k, pick(lang, *standard.KIND_LABELS[k])) for k in AGENCY_KINDS],
        "components": standard_components.COMPONENTS,
    }, status=status)


def _unreadable(request: Request, row: PackageDraft, exc: DomainError) -> Response:
    return pages.render(request, "studio/standard.html", {"d": row, "unreadable": exc.text(language(request))},
                        status=422)


@routes.get("/studio/draf/{draft_id}/standar")
def standard_page(request: Request, session: SessionDep, actor: ModelerPageActor, draft_id: DraftId,
                  tersimpan: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None) -> Response:
    """Show the draft's service standard (service.toml) as a form, with lint problems next to their fields."""
    try:
        row = drafts.get(session, actor, draft_id)
    except DomainError as exc:
        return missing_draft(request, exc)
    files = drafts.files(session, row)
    try:
        std = _read_standard(files)
    except StandardUnreadable as exc:
        return _unreadable(request, row, exc)
    saved = drafts.file_revisions(session, row).get(SERVICE, (0, "", None))[0]
    lang = language(request)
    # Only a save that happened is announced: the query string alone could claim anything.
    flash = pick(lang, f"Standar pelayanan disimpan (revisi {saved}).", f"Service standard saved (revision {saved}).") \
        if tersimpan is not None and tersimpan == saved else ""
    return _standard_page(request, row, files, std, revision=row.revision, problems=drafts.lint(session, row),
                          flash=flash)


def _read_standard(files: dict[str, bytes]) -> Standard:
    """Read the draft's service.toml into the form model; StandardUnreadable when it is missing or broken."""
    if SERVICE not in files:
        raise StandardUnreadable("the draft has no service.toml", message_id="draf ini tidak memiliki service.toml")
    return standard.read(files[SERVICE])


def _posted(form: FormData) -> list[tuple[str, str]]:
    return [(k, v) for k, v in form.multi_items() if isinstance(v, str) and k not in ("csrf_token", "aksi")]


def _number(form: FormData, name: str) -> int | None:
    raw = form.get(name)
    return int(raw) if isinstance(raw, str) and raw.isdecimal() and len(raw) <= 10 else None


@routes.post("/studio/draf/{draft_id}/standar")
def standard_save(request: Request, session: SessionDep, actor: ModelerPageActor, form: CsrfForm,
                  draft_id: DraftId) -> Response:
    """Check and save the service standard; bad values come back with a message on each field."""
    try:
        row = drafts.get(session, actor, draft_id)
    except DomainError as exc:
        return missing_draft(request, exc)
    files = drafts.files(session, row)
    try:
        current = _read_standard(files)
    except StandardUnreadable as exc:
        return _unreadable(request, row, exc)
    loaded = _number(form, "revisi") or row.revision
    action = str(form.get("aksi") or "simpan")
    items = _posted(form)
    edited = standard.edit_rows(items, action)
    if edited is not None:  # an add/remove-row button without JavaScript: show the form again, save nothing
        std = standard.from_form(edited, key=current.key, agency=current.agency)
        std.other_keys = current.other_keys
        return _standard_page(request, row, files, std, revision=loaded)
    std = standard.from_form(items, key=current.key, agency=current.agency)
    std.other_keys = current.other_keys
    standard.drop_empty_rows(std)
    templates = [n for n in files if n.endswith(".html")]
    errors = standard_checks.validate(std, forms=standard.form_choices(files), templates=templates)
    if errors:
        return _standard_page(request, row, files, std, revision=loaded, errors=errors, status=422)
    if action == "timpa":  # the analyst saw the conflict and chose to replace the other save
        loaded = _number(form, "revisi_konflik") or loaded
    try:
        with session.begin_nested():
            revision = drafts.save_file(session, actor, row, name=SERVICE,
                                        content=standard_write.write(files[SERVICE], std), loaded_revision=loaded)
    except DraftConflict as exc:
        return _standard_page(request, row, files, std, revision=loaded, conflict=exc, status=409)
    except InvalidInput as exc:
        return _standard_page(request, row, files, std, revision=loaded, status=422,
                              errors={"": (exc.message_id or exc.message, exc.message)})
    return RedirectResponse(f"/studio/draf/{row.id}/standar?tersimpan={revision}", status_code=303)


# ---------------------------------------------------------------- templates


def _template_name(nama: str | None, dokumen: str | None, notifikasi: str | None) -> str | None:
    if nama:
        return nama
    if dokumen:
        return f"documents/{dokumen.removesuffix('.html')}.html"
    if notifikasi:
        return f"notifications/{notifikasi}.txt"
    return None


@routes.get("/studio/draf/{draft_id}/templat")
def template_page(request: Request, session: SessionDep, actor: ModelerPageActor, draft_id: DraftId,
                  nama: Annotated[str | None, Query(max_length=255)] = None,
                  dokumen: Annotated[str | None, Query(max_length=60, pattern=r"^[a-z0-9_-]+(\.html)?$")] = None,
                  notifikasi: Annotated[str | None, Query(max_length=40, pattern=r"^(id|en)/[a-z_]+$")] = None,
                  ) -> Response:
    """Edit a document or notification template (a new one starts from a starter) and preview it."""
    try:
        row = drafts.get(session, actor, draft_id)
    except DomainError as exc:
        return missing_draft(request, exc)
    files = drafts.files(session, row)
    name = _template_name(nama, dokumen, notifikasi)
    if name is None:
        return _template_page(request, row, files, name=None, content="")
    if previews.template_kind(name) is None:
        return _template_page(request, row, files, name=None, content="", status=422, error=pick(
            language(request), f"'{name}' bukan templat: pakai documents/<nama>.html atau "
            "notifications/<id|en>/<peristiwa>.txt", f"'{name}' is not a template: use documents/<name>.html or "
            "notifications/<id|en>/<event>.txt"))
    exists = name in files
    content = files[name].decode("utf-8", "replace") if exists else previews.starter(name)
    problems = [p for p in problems_json(drafts.lint(session, row), language(request)) if p["file"] == name]
    return _template_page(request, row, files, name=name, content=content, exists=exists, problems=problems)


def _template_page(request: Request, row: PackageDraft, files: dict[str, bytes], *, name: str | None,
                   content: str, exists: bool = True, sample: str | None = None, preview: dict[str, Any] | None = None,
                   error: str = "", error_line: int | None = None, problems: list[dict[str, Any]] | None = None,
                   revision: int | None = None, status: int = 200) -> Response:
    lang = language(request)
    if sample is None:
        sample = json.dumps(previews.sample_data(files), indent=2, ensure_ascii=False)
    listed = sorted(n for n in files if previews.template_kind(n))
    data = {"file": name, "kind": previews.template_kind(name) if name else None,
            "save_url": f"/studio/draf/{row.id}/berkas?nama={name}" if name else None,
            "preview_url": f"/studio/draf/{row.id}/templat/pratinjau",
            "revision": revision if revision is not None else (row.revision if name in files else None)}
    return pages.render(request, "studio/template_editor.html", {
        "d": row, "name": name, "content": content, "exists": exists and name in files, "sample": sample,
        "preview": preview, "error": error, "error_line": error_line, "problems": problems or [],
        "listed": listed, "kind": data["kind"], "data": data,
        "events": [(e, pick(lang, *label)) for e, label in previews.EVENT_LABELS.items()],
    }, status=status)


def _preview_json(preview: previews.Preview) -> dict[str, Any]:
    if preview.kind == "document":
        return {"kind": "document", "page": _srcdoc(preview), "html": preview.html,
                "pdf": base64.b64encode(preview.pdf).decode("ascii")}
    return {"kind": "notification", "subject": preview.subject, "body": preview.body}


def _srcdoc(preview: previews.Preview) -> str:
    """Return the page shown in the preview's sandboxed frame: the platform's header, the HTML, the QR note."""
    return ("<!doctype html><html lang=\"id\"><head><meta charset=\"utf-8\"><title>Pratinjau</title><style>"
            "body{font:11pt/1.4 Helvetica,Arial,sans-serif;color:#000;background:#fff;margin:1.5rem 2rem}"
            "header{text-align:center;border-bottom:1px solid #000;margin-bottom:1rem;padding-bottom:.3rem}"
            "footer{border-top:1px solid #000;margin-top:2rem;padding-top:.5rem;font-size:9pt;color:#333}"
            "table{border-collapse:collapse}td{padding:.15rem .4rem;vertical-align:top}</style></head><body>"
            f"<header><strong>{escape(preview.agency.upper())}</strong><br>"
            f"<small>Mal Pelayanan Publik - {escape(preview.service)}</small></header>"
            f"{preview.html}"
            "<footer>[QR] Kode verifikasi, alamat pemeriksaan, dan id kunci tanda tangan dicetak platform di sini. / "
            "The QR code, verification code and address, and signing key id are printed here by the platform."
            "</footer></body></html>")


def _sample_data(raw: str) -> dict[str, Any]:
    if len(raw) > MAX_SAMPLE_CHARS:
        raise TemplateInvalid(f"the sample data is larger than {MAX_SAMPLE_CHARS // 1024} KiB",
                              message_id=f"data contoh lebih besar dari {MAX_SAMPLE_CHARS // 1024} KiB")
    try:
        value = json.loads(raw or "{}")
    except json.JSONDecodeError as exc:
        raise TemplateInvalid(f"the sample data is not valid JSON (line {exc.lineno}): {exc.msg}",
                              message_id=f"data contoh bukan JSON yang sah (baris {exc.lineno}): {exc.msg}") from exc
    if not isinstance(value, dict):
        raise TemplateInvalid("the sample data must be a JSON object: { \"field\": value, ... }",
                              message_id="data contoh harus berupa objek JSON: { \"isian\": nilai, ... }")
    return value


@routes.post("/studio/draf/{draft_id}/templat/pratinjau")
def template_preview(request: Request, session: SessionDep, actor: ModelerPageActor, form: CsrfForm,
                     draft_id: DraftId) -> Response:
    """Render a template with sample case data in the sandbox: JSON for the editor's script, else the page."""
    try:
        row = drafts.get(session, actor, draft_id)
    except DomainError as exc:
        return missing_draft(request, exc)
    wants_json = "application/json" in request.headers.get("accept", "")
    name, source, sample = (str(form.get(k) or "") for k in ("nama", "isi", "data"))
    revision = _number(form, "revisi")
    files = drafts.files(session, row)
    try:
        if len(source.encode("utf-8")) > packages.MAX_FILE_BYTES:
            raise InvalidInput("the template is too large", message_id="templat terlalu besar")
        preview = previews.preview_template(files, name=name, source=source, data=_sample_data(sample),
                                            lang=language(request))
    except InvalidInput as exc:
        line = exc.line if isinstance(exc, TemplateInvalid) else None
        if wants_json:
            return JSONResponse({"detail": exc.text(language(request)), "line": line}, status_code=422)
        return _template_page(request, row, files, name=name if previews.template_kind(name) else None,
                              content=source, sample=sample, error=exc.text(language(request)), error_line=line,
                              revision=revision, status=422)
    if form.get("format") == "pdf" and preview.pdf:
        return Response(preview.pdf, media_type="application/pdf",
                        headers={"Content-Disposition": content_disposition("pratinjau.pdf")})
    shown = _preview_json(preview)
    if wants_json:
        return JSONResponse(shown)
    return _template_page(request, row, files, name=name, content=source, sample=sample, preview=shown,
                          revision=revision)
