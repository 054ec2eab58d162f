"""Drafts: new services, a draft's files, the modeler on a draft, lint, publish."""

from __future__ import annotations

import re
from pathlib import Path as FsPath
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field
from starlette.datastructures import FormData, UploadFile

from admin.studio_shared import KINDS, editor_url, error_json, kind_of, missing_draft, problems_json
from engine.bpmn.conventions import NOTIFY_MARKERS
from engine.catalogue import blank, drafts, stewards, versions
from engine.catalogue import package as packages
from engine.directory import audit
from engine.directory import service as directory
from engine.directory.actors import Actor
from engine.errors import AlreadyExists, DomainError, InvalidInput, PackageInvalid, Problem
from engine.models import PackageDraft
from web.deps import CsrfForm, CsrfHeader, ModelerPageActor, RuntimeDep, SessionDep
from web.downloads import content_disposition
from web.errors import error_page
from web.routing import TransactionalRoute
from web.session import language
from web.templates import Pages, pick

routes = APIRouter(route_class=TransactionalRoute, include_in_schema=False)
pages = Pages(FsPath(__file__).resolve().parent / "templates")
DraftId = Annotated[int, Path(ge=1, le=2**31 - 1)]
FileName = Annotated[str, Query(min_length=1, max_length=255)]
NEW_ROLE_ROWS = 4
ROLE_KEY = re.compile(r"^[a-z][a-z0-9_]{1,59}$")


class SavedFile(BaseModel):
    """A file's new content, and the draft revision the editor loaded it at (None: a new file)."""

    content: str = Field(max_length=packages.MAX_FILE_BYTES)
    revisi: int | None = Field(default=None, ge=1, le=2**31 - 1)


class EditedDiagram(BaseModel):
    """The modeler's current XML, checked with the rest of the draft."""

    xml: str = Field(max_length=packages.MAX_FILE_BYTES)



# ---------------------------------------------------------------------------- new service


def _agency_choices(session: SessionDep, actor: Actor) -> list[dict[str, Any]]:
    allowed = None if actor.platform_role == "admin" else stewards.analyst_agencies(actor)
    roles_by_agency: dict[str, list[dict[str, str]]] = {}
    for role in directory.list_roles(session):
        suffix = role.key.split(".", 1)[1]
        if suffix not in (stewards.ANALYST, "supervisor"):
            roles_by_agency.setdefault(role.agency_code, []).append({"key": suffix, "name": role.name})
    return [{"code": a.code, "name_id": a.name_id, "name_en": a.name_en, "kind": a.kind,
             "roles": roles_by_agency.get(a.code, [])}
            for a in directory.list_agencies(session)
            if (allowed is None or a.code in allowed) and not a.parent_code]


def _copy_choices(session: SessionDep, actor: Actor) -> list[dict[str, str]]:
    return [{"key": p.key, "name": str(p.service.get("name", {}).get("id", p.key))}
            for p in versions.overview(session)
            if stewards.may_edit(session, actor, str(p.service.get("agency", "")))]


def _new_page(request: Request, session: SessionDep, actor: Actor, *, values: dict[str, Any] | None = None,
              error: str = "", status: int = 200) -> Response:
    return pages.render(request, "studio/draft_new.html", {
        "agencies": _agency_choices(session, actor), "services": _copy_choices(session, actor),
        "kinds": directory.AGENCY_KINDS, "values": values or {}, "error": error, "rows": range(NEW_ROLE_ROWS)},
        status=status)


@routes.get("/studio/draf/baru")
def draft_new(request: Request, session: SessionDep, actor: ModelerPageActor) -> Response:
    """Show the "new service" form: agency (or a new one with its roles), key, names, blank or copy."""
    return _new_page(request, session, actor)


def _text(form: FormData, name: str, limit: int = 255) -> str:
    value = form.get(name)
    return value.strip()[:limit] if isinstance(value, str) else ""


def _new_roles(form: FormData) -> list[blank.RoleDecl]:
    keys, names_id, names_en = (form.getlist(f"peran_{part}") for part in ("kode", "nama_id", "nama_en"))
    roles = []
    for key, name_id, name_en in zip(keys, names_id, names_en, strict=False):
        key, name_id, name_en = (str(v).strip()[:120] for v in (key, name_id, name_en))
        if not key and not name_id:
            continue
        if not ROLE_KEY.match(key) or key in (stewards.ANALYST, "supervisor"):
            raise InvalidInput(f"role code '{key}': 2 to 60 lower-case letters, digits and '_'",
                                      message_id=f"kode peran '{key}': 2–60 huruf kecil, angka dan '_'")
        roles.append(blank.RoleDecl(key, name_id or key, name_en or name_id or key))
    return roles


def _new_service(session: SessionDep, form: FormData) -> blank.NewService:
    key, name_id, name_en = _text(form, "kunci", 60), _text(form, "nama_id"), _text(form, "nama_en")
    if not name_id:
        raise InvalidInput("the service needs a name in Indonesian",
                                  message_id="nama layanan (bahasa Indonesia) wajib diisi")
    roles = _new_roles(form)
    if _text(form, "instansi_mode") == "baru":
        code = _text(form, "instansi_kode", 40)
        if stewards.agency_exists(session, code):
            raise AlreadyExists(f"the agency '{code}' exists already; choose it from the list",
                                       message_id=f"instansi '{code}' sudah ada; pilih dari daftar")
        kind = _text(form, "instansi_jenis", 32)
        return blank.NewService(key=key, agency=code, name_id=name_id, name_en=name_en, roles=roles,
                                agency_name_id=_text(form, "instansi_nama_id"),
                                agency_name_en=_text(form, "instansi_nama_en"),
                                agency_kind=kind if kind in directory.AGENCY_KINDS else "city_office")
    code = _text(form, "instansi", 40)
    agency = next((a for a in directory.list_agencies(session) if a.code == code), None)
    if agency is None:
        raise InvalidInput("choose the agency", message_id="pilih instansinya")
    known = {r.key.split(".", 1)[1]: r.name for r in directory.list_roles(session) if r.agency_code == code}
    chosen = [blank.RoleDecl(k, known[k], known[k]) for k in form.getlist("peran") if isinstance(k, str) and k in known]
    return blank.NewService(key=key, agency=code, name_id=name_id, name_en=name_en, roles=chosen + roles,
                            agency_name_id=agency.name_id, agency_name_en=agency.name_en, agency_kind=agency.kind)


@routes.post("/studio/draf/baru")
def draft_create(request: Request, session: SessionDep, actor: ModelerPageActor, form: CsrfForm) -> Response:
    """Start a draft: a new service from the blank template, or a copy of an existing one."""
    values: dict[str, Any] = {k: v for k, v in form.multi_items() if isinstance(v, str) and k != "csrf_token"}
    values["roles"] = [list(row) for row in zip(*(form.getlist(f"peran_{part}") for part in ("kode", "nama_id",
                                                                                           "nama_en")), strict=False)]
    try:
        with session.begin_nested():  # a refusal must leave nothing behind
            if _text(form, "mulai") == "salin":
                row = drafts.create_copy(session, actor, source=_text(form, "sumber", 120),
                                         key=_text(form, "kunci", 60), name_id=_text(form, "nama_id"),
                                         name_en=_text(form, "nama_en"))
            else:
                row = drafts.create_blank(session, actor, _new_service(session, form))
    except DomainError as exc:
        return _new_page(request, session, actor, values=values, error=exc.text(language(request)),
                         status=404 if exc.code == "not-found" else 422)
    audit.record(session, actor=actor.username, action="draft.created", subject=row.key,
                 detail={"draft": row.id, "agency": row.agency, "from": _text(form, "sumber", 120) or None})
    return RedirectResponse(f"/studio/draf/{row.id}", status_code=303)


@routes.post("/studio/{key}/draf")
def draft_from_version(request: Request, session: SessionDep, actor: ModelerPageActor, form: CsrfForm,
                       key: Annotated[str, Path(pattern=r"^[A-Za-z_][A-Za-z0-9_.-]{0,119}$")]) -> Response:
    """Open the draft of an existing service (started from its newest version when there is none)."""
    existing = next((d for d in drafts.list_drafts(session, actor) if d.key == key), None)
    if existing is not None:
        return RedirectResponse(f"/studio/draf/{existing.id}", status_code=303)
    try:
        with session.begin_nested():
            row = drafts.create_from_version(session, actor, key=key)
    except DomainError as exc:
        status = {"not-found": 404, "forbidden": 403}.get(exc.code, 409)
        return error_page(request, status, "Draf tidak dapat dibuat", "The draft cannot be started",
                          exc.text(language(request)))
    audit.record(session, actor=actor.username, action="draft.created", subject=key,
                 detail={"draft": row.id, "agency": row.agency, "base_version": row.base_version})
    return RedirectResponse(f"/studio/draf/{row.id}", status_code=303)


# ---------------------------------------------------------------------------- a draft and its files


def _listing(session: SessionDep, row: PackageDraft, problems: list[Problem], lang: str) -> list[dict[str, Any]]:
    revisions = drafts.file_revisions(session, row)
    by_file: dict[str, list[dict[str, Any]]] = {}
    for problem in problems_json(problems, lang):
        by_file.setdefault(problem["file"], []).append(problem)
    groups = []
    for kind, title_id, title_en in KINDS:
        names = sorted(name for name in revisions if kind_of(name) == kind)
        if not names:
            continue
        groups.append({"kind": kind, "title": pick(lang, title_id, title_en), "files": [
            {"name": name, "editor": editor_url(row.id, name), "by": revisions[name][1], "at": revisions[name][2],
             "errors": sum(p["severity"] == "error" for p in by_file.get(name, [])),
             "warnings": sum(p["severity"] != "error" for p in by_file.get(name, []))} for name in names]})
    return groups


@routes.get("/studio/draf/{draft_id}")
def draft_page(request: Request, session: SessionDep, actor: ModelerPageActor, draft_id: DraftId) -> Response:
    """Show a draft: its files by kind with their lint results, and what can be done with it."""
    try:
        row = drafts.get(session, actor, draft_id)
    except DomainError as exc:
        return missing_draft(request, exc)
    lang = language(request)
    problems = drafts.lint(session, row)
    return pages.render(request, "studio/draft.html", {
        "d": row, "groups": _listing(session, row, problems, lang), "problems": problems_json(problems, lang),
        "errors": sum(p.severity == "error" for p in problems), "newer": drafts.newer_version(session, row),
        "flash": request.query_params.get("pesan", "")[:200]})


@routes.get("/studio/draf/{draft_id}/berkas")
def draft_file(request: Request, session: SessionDep, actor: ModelerPageActor, draft_id: DraftId,
               nama: FileName) -> Response:
    """Return one file of a draft as it is stored; the header X-Draft-Revision is the draft's revision."""
    try:
        row = drafts.get(session, actor, draft_id)
        content = drafts.read_file(session, row, nama)
    except DomainError as exc:
        return error_json(request, exc)
    kind = "application/xml" if nama.endswith((".bpmn", ".dmn")) else "text/plain; charset=utf-8"
    if nama.endswith(".json"):
        kind = "application/json"
    # Never rendered by the browser as a page of ours: a draft's HTML template is someone's text.
    return Response(content, media_type=kind, headers={"X-Draft-Revision": str(row.revision),
                                                       "Content-Security-Policy": "sandbox",
                                                       "X-Content-Type-Options": "nosniff"})


@routes.put("/studio/draf/{draft_id}/berkas")
def draft_save(request: Request, session: SessionDep, actor: ModelerPageActor, csrf: CsrfHeader,
               draft_id: DraftId, nama: FileName, body: SavedFile) -> JSONResponse:
    """Save one file of a draft, refused when another analyst saved it after it was loaded; lint the draft."""
    try:
        row = drafts.get(session, actor, draft_id)
        revision = drafts.save_file(session, actor, row, name=nama, content=body.content.encode("utf-8"),
                                    loaded_revision=body.revisi)
    except DomainError as exc:
        return error_json(request, exc)
    problems = drafts.lint(session, row)
    return JSONResponse({"revisi": revision, "ok": not any(p.severity == "error" for p in problems),
                         "problems": problems_json(problems, language(request))})


@routes.delete("/studio/draf/{draft_id}/berkas")
def draft_delete_file(request: Request, session: SessionDep, actor: ModelerPageActor, csrf: CsrfHeader,
                      draft_id: DraftId, nama: FileName,
                      revisi: Annotated[int, Query(ge=1, le=2**31 - 1)]) -> JSONResponse:
    """Remove one file of a draft (a conflict when someone changed it after `revisi`)."""
    try:
        row = drafts.get(session, actor, draft_id)
        revision = drafts.delete_file(session, actor, row, name=nama, loaded_revision=revisi)
    except DomainError as exc:
        return error_json(request, exc)
    return JSONResponse({"revisi": revision})


@routes.post("/studio/draf/{draft_id}/hapus-berkas")
def draft_delete_file_form(request: Request, session: SessionDep, actor: ModelerPageActor, form: CsrfForm,
                           draft_id: DraftId) -> Response:
    """Remove one file of a draft from the draft page (a form: works without JavaScript)."""
    try:
        row = drafts.get(session, actor, draft_id)
        drafts.delete_file(session, actor, row, name=_text(form, "nama"), loaded_revision=_revision(form))
    except DomainError as exc:
        return error_page(request, STATUS_OF.get(exc.code, 422), "Berkas tidak dihapus", "The file was not removed",
                          exc.text(language(request)))
    return RedirectResponse(f"/studio/draf/{draft_id}", status_code=303)


STATUS_OF = {"not-found": 404, "forbidden": 403, "conflict": 409}


def _revision(form: FormData) -> int:
    raw = _text(form, "revisi", 12)
    return int(raw) if raw.isdigit() else 0


@routes.post("/studio/draf/{draft_id}/unggah")
def draft_upload(request: Request, session: SessionDep, actor: ModelerPageActor, form: CsrfForm,
                 draft_id: DraftId) -> Response:
    """Add or replace files of a draft with uploaded ones (the analyst chose to overwrite them)."""
    try:
        row = drafts.get(session, actor, draft_id)
        uploads = [f for f in form.getlist("files") if isinstance(f, UploadFile) and f.filename]
        if not uploads:
            raise InvalidInput("choose one or more files", message_id="pilih satu berkas atau lebih")
        folder = _text(form, "folder", 60).strip("/")
        with session.begin_nested():
            for upload in uploads:
                name = f"{folder}/{upload.filename}" if folder else str(upload.filename)
                data = upload.file.read(packages.MAX_FILE_BYTES + 1)
                current = drafts.file_revisions(session, row).get(drafts.check_name(name))
                drafts.save_file(session, actor, row, name=name, content=data,
                                 loaded_revision=row.revision if current else None)
    except DomainError as exc:
        return error_page(request, STATUS_OF.get(exc.code, 422), "Berkas tidak diunggah", "The files were not uploaded",
                          exc.text(language(request)))
    return RedirectResponse(f"/studio/draf/{draft_id}", status_code=303)


@routes.get("/studio/draf/{draft_id}/teks")
def draft_text(request: Request, session: SessionDep, actor: ModelerPageActor, draft_id: DraftId,
               nama: FileName) -> Response:
    """Edit any text file of a draft in a plain editor (new when it does not exist yet)."""
    try:
        row = drafts.get(session, actor, draft_id)
        name = drafts.check_name(nama)
        exists = name in drafts.file_revisions(session, row)
        content = drafts.read_file(session, row, name).decode("utf-8", "replace") if exists else ""
    except DomainError as exc:
        return missing_draft(request, exc)
    return pages.render(request, "studio/draft_text.html", {
        "d": row, "name": name, "content": content,
        "data": {"save_url": f"/studio/draf/{row.id}/berkas?nama={name}", "revision": row.revision if exists else None,
                 "file": name, "back": f"/studio/draf/{row.id}"}})


@routes.get("/studio/draf/{draft_id}/unduh.zip")
def draft_zip(request: Request, session: SessionDep, actor: ModelerPageActor, draft_id: DraftId) -> Response:
    """Download a draft as a zip in the format `mpp deploy` and the upload take."""
    try:
        row = drafts.get(session, actor, draft_id)
    except DomainError as exc:
        return missing_draft(request, exc)
    return Response(packages.to_zip(drafts.files(session, row)), media_type="application/zip",
                    headers={"Content-Disposition": content_disposition(f"{row.key}-draf-r{row.revision}.zip")})


# ---------------------------------------------------------------------------- the modeler on a draft


@routes.get("/studio/draf/{draft_id}/diagram")
def draft_modeler(request: Request, session: SessionDep, actor: ModelerPageActor, draft_id: DraftId,
                  nama: Annotated[str | None, Query(max_length=255)] = None) -> Response:
    """Open a draft's diagram in the modeler; saving writes it back to the draft."""
    try:
        row = drafts.get(session, actor, draft_id)
        content = drafts.files(session, row)
        name = nama or versions.main_bpmn_name(content, row.key)
        xml = drafts.read_file(session, row, name).decode("utf-8", "replace")
    except DomainError as exc:
        return missing_draft(request, exc)
    choices = versions.choices(content)
    data = {"page": "modeler", "key": row.key, "version": None, "xml": xml, "file": name,
            "forms": choices.forms, "ui_forms": choices.ui_forms, "decisions": choices.decisions,
            "notify": list(NOTIFY_MARKERS), "revision": row.revision,
            "lint_url": f"/studio/draf/{row.id}/periksa?nama={name}",
            "save_url": f"/studio/draf/{row.id}/berkas?nama={name}", "back": f"/studio/draf/{row.id}"}
    return pages.render(request, "studio/modeler.html", {"d": row, "data": data, "v": None})


@routes.post("/studio/draf/{draft_id}/periksa")
def draft_lint_diagram(request: Request, session: SessionDep, actor: ModelerPageActor, csrf: CsrfHeader,
                       draft_id: DraftId, nama: FileName, body: EditedDiagram) -> JSONResponse:
    """Lint the diagram being edited with the rest of the draft, without saving it."""
    try:
        row = drafts.get(session, actor, draft_id)
        content = drafts.files(session, row)
        content[drafts.check_name(nama)] = body.xml.encode("utf-8")
        problems = registry_lint(session, content, row.key)
    except DomainError as exc:
        return error_json(request, exc)
    return JSONResponse({"ok": not any(p.severity == "error" for p in problems),
                         "problems": problems_json(problems, language(request))})


def registry_lint(session: SessionDep, content: dict[str, bytes], key: str) -> list[Problem]:
    """Lint files as deployment would, a package that breaks the limits included."""
    from engine.catalogue import registry

    try:
        return registry.lint(session, package=packages.from_files(content, source=f"draft:{key}"))
    except PackageInvalid as exc:
        return exc.problems


# ---------------------------------------------------------------------------- publish, discard


@routes.post("/studio/draf/{draft_id}/terbitkan")
def draft_publish(request: Request, session: SessionDep, rt: RuntimeDep, actor: ModelerPageActor, form: CsrfForm,
                  draft_id: DraftId) -> Response:
    """Publish a draft as the next version of its service; lint errors (and failing scenarios) block it."""
    lang = language(request)
    try:
        row = drafts.get(session, actor, draft_id)
    except DomainError as exc:
        return missing_draft(request, exc)
    key = row.key
    try:
        with session.begin_nested():
            published = drafts.publish(session, actor, row, overwrite_newer=_text(form, "timpa") == "1",
                                       settings=rt.settings)
    except PackageInvalid as exc:
        problems = problems_json(exc.problems, lang)
        return pages.render(request, "studio/draft.html", {
            "d": row, "groups": _listing(session, row, exc.problems, lang), "problems": problems,
            "errors": sum(p["severity"] == "error" for p in problems), "newer": drafts.newer_version(session, row),
            "flash": "", "refused": pick(lang, "Draf belum dapat diterbitkan: perbaiki galat di bawah.",
                                         "The draft cannot be published yet: fix the errors below.")}, status=422)
    except DomainError as exc:
        return error_page(request, STATUS_OF.get(exc.code, 422), "Draf tidak diterbitkan",
                          "The draft was not published", exc.text(lang))
    result = published.result
    audit.record(session, actor=actor.username, action="process.deployed", subject=key,
                 detail={"version": result.version, "new_roles": result.new_roles, "via": "studio-draft",
                         "overwrote": published.stale_base})
    return RedirectResponse(f"/studio?diterapkan={key}&versi={result.version}&baru={int(result.created)}",
                            status_code=303)


@routes.post("/studio/draf/{draft_id}/hapus")
def draft_discard(request: Request, session: SessionDep, actor: ModelerPageActor, form: CsrfForm,
                  draft_id: DraftId) -> Response:
    """Delete a draft and its files (versions are not touched)."""
    try:
        row = drafts.get(session, actor, draft_id)
    except DomainError as exc:
        return missing_draft(request, exc)
    key = row.key
    drafts.discard(session, actor, row)
    audit.record(session, actor=actor.username, action="draft.discarded", subject=key, detail={"draft": draft_id})
    return RedirectResponse("/studio", status_code=303)
