"""The analysts' studio: processes and versions, the BPMN modeler, lint, deploy, compare."""

from __future__ import annotations

from pathlib import Path as FsPath
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field
from starlette.datastructures import UploadFile

from engine.bpmn.conventions import NOTIFY_MARKERS
from engine.catalogue import drafts, lifecycle, stewards
from engine.catalogue import package as package
from engine.catalogue import registry as registry
from engine.catalogue import versions as versions
from engine.directory import audit as audit
from engine.errors import NotAllowed, PackageInvalid, Problem, ProcessNotFound, UnsafeXml
from engine.lint.text import localize
from web.deps import CsrfForm, CsrfHeader, ModelerPageActor, SessionDep
from web.errors import error_page
from web.routing import TransactionalRoute
from web.session import language
from web.templates import Pages, pick

routes = APIRouter(route_class=TransactionalRoute, include_in_schema=False)
pages = Pages(FsPath(__file__).resolve().parent / "templates")
KEY = Path(pattern=r"^[A-Za-z_][A-Za-z0-9_.-]{0,119}$")
VERSION = Path(ge=1, le=1_000_000)
KeyArg = Annotated[str, KEY]


class EditedDiagram(BaseModel):
    """The modeler's current XML, and the version whose other files complete the package."""

    xml: str = Field(max_length=package.MAX_FILE_BYTES)
    dari: int | None = Field(default=None, ge=1, le=1_000_000)


def _missing(request: Request, key: str, version: int | None = None) -> Response:
    what = f"{key} v{version}" if version else key
    return error_page(request, 404, "Proses tidak ditemukan", "Process not found", what)


def _problems(problems: list[Problem], lang: str) -> list[dict[str, Any]]:
    problems = localize(problems, [])  # problems found before lint (reading the upload) too
    severity = {"error": pick(lang, "galat", "error"), "warning": pick(lang, "peringatan", "warning")}
    return [{"file": p.file, "element_id": p.element_id, "element_name": p.element_name, "message": p.text(lang),
             "severity": p.severity, "severity_label": severity.get(p.severity, p.severity)} for p in problems]


@routes.get("/studio")
def studio_list(request: Request, session: SessionDep, actor: ModelerPageActor,
                diterapkan: Annotated[str | None, Query(max_length=120)] = None,
                versi: Annotated[int | None, Query(ge=1)] = None,
                baru: Annotated[int, Query(ge=0, le=1)] = 1,
                dipensiunkan: Annotated[str | None, Query(max_length=120)] = None,
                diaktifkan: Annotated[str | None, Query(max_length=120)] = None) -> Response:
    """List every process with its versions and running cases."""
    processes = versions.overview(session)
    retired = lifecycle.retirements(session)
    flash = _lifecycle_flash(language(request), {p.key for p in processes}, retired, dipensiunkan, diaktifkan)
    # Only a version that exists is announced: the query string alone could claim anything.
    if any(p.key == diterapkan and any(v.version == versi for v in p.versions) for p in processes):
        lang = language(request)
        flash = (pick(lang, f"{diterapkan}: versi {versi} diterapkan.", f"{diterapkan}: version {versi} deployed.")
                 if baru else
                 pick(lang, f"{diterapkan}: isinya sama dengan versi {versi}; tidak ada versi baru.",
                      f"{diterapkan}: same content as version {versi}; no new version was created."))
    open_drafts = drafts.list_drafts(session, actor)
    # A version deployed beside an open draft (an uploaded folder) is said aloud: the draft is now behind it.
    behind = next((d for d in open_drafts if flash and d.key == diterapkan and versi
                   and (d.base_version or 0) < versi), None)
    if flash and behind is not None:
        flash += " " + pick(language(request),
                            f"Draf {behind.key} (revisi {behind.revision}, {behind.updated_by}) dimulai sebelum versi "
                            "ini; bandingkan sebelum menerbitkannya.",
                            f"The draft of {behind.key} (revision {behind.revision}, {behind.updated_by}) was started "
                            "before this version; compare before publishing it.")
    return pages.render(request, "studio/index.html", {"processes": processes, "flash": flash,
                                                       "drafts": open_drafts, "retired": retired})


def _lifecycle_flash(lang: str, keys: set[str], retired: dict[str, Any], gone: str | None,
                     back: str | None) -> str | None:
    """Confirm a retirement or a restore, only when the list agrees (the query string alone claims nothing)."""
    if gone and gone in retired:
        return pick(lang, f"{gone} dipensiunkan: tidak tampil di katalog; perkara yang berjalan tetap diselesaikan.",
                    f"{gone} retired: out of the catalogue; running cases still finish.")
    if back and back in keys and back not in retired:
        return pick(lang, f"{back} aktif kembali dan menerima permohonan.",
                    f"{back} restored: it takes applications again.")
    return None


@routes.get("/studio/baru")
def studio_new(request: Request, actor: ModelerPageActor) -> Response:
    """Show the form that uploads a new process package."""
    return pages.render(request, "studio/new.html", {"problems": []})


@routes.post("/studio/baru")
def studio_upload(request: Request, session: SessionDep, actor: ModelerPageActor, form: CsrfForm) -> Response:
    """Deploy an uploaded package (a zip, or the package's files) as a new process or version."""
    uploads = [f for f in form.getlist("files") if isinstance(f, UploadFile) and f.filename]
    try:
        with session.begin_nested():  # a refusal is returned (and committed): it must leave nothing
            uploaded = _read_uploads(uploads)
            stewards.require_package(session, actor, _service_or_empty(uploaded))
            result = registry.deploy(session, package=uploaded, actor=actor.username)
            stewards.adopt(session, actor, str(uploaded.service().get("agency", "")))
    except NotAllowed as exc:
        return pages.render(request, "studio/new.html", {"problems": [], "refused": exc.text(language(request))},
                            status=403)
    except PackageInvalid as exc:
        return pages.render(request, "studio/new.html", {"problems": _problems(exc.problems, language(request))},
                            status=422)
    except UnsafeXml as exc:
        problems = localize([Problem(exc.filename, None, exc.message.removeprefix(f"{exc.filename}: "))], [])
        return pages.render(request, "studio/new.html", {"problems": _problems(problems, language(request))},
                            status=422)
    _audit(session, actor.username, result)
    return RedirectResponse(_deployed_url(result), status_code=303)


def _service_or_empty(uploaded: package.Package) -> dict[str, Any]:
    try:
        return uploaded.service()
    except PackageInvalid:
        return {}  # deploy's lint names the problem in service.toml


def _read_uploads(uploads: list[UploadFile]) -> package.Package:
    if not uploads:
        raise PackageInvalid([Problem("<upload>", None, "choose a .zip or the package's files", "error",
                                      "pilih berkas .zip atau berkas-berkas paketnya")])
    contents: dict[str, bytes] = {}
    for upload in uploads:
        # The form is parsed already: the files sit in spooled temporary files, read synchronously.
        data = upload.file.read(package.MAX_PACKAGE_BYTES + 1)
        if len(data) > package.MAX_PACKAGE_BYTES:
            raise PackageInvalid([Problem(upload.filename or "<upload>", None, "the upload is too large")])
        contents[upload.filename or "upload"] = data
    if len(contents) == 1 and next(iter(contents)).endswith(".zip"):
        name, data = next(iter(contents.items()))
        return package.from_zip(data, source=name)
    return package.from_files(contents)


@routes.get("/studio/{key}/versi/{version}")
def studio_version(request: Request, session: SessionDep, actor: ModelerPageActor, key: KeyArg,
                   version: Annotated[int, VERSION]) -> Response:
    """Show one version read-only: its diagram, service name, deploy date, hash and files."""
    try:
        found = versions.get_version(session, key=key, version=version)
        files = versions.version_files(session, version_id=found.id)
        xml = files[versions.main_bpmn_name(files, key)].decode("utf-8", "replace")
    except ProcessNotFound:
        return _missing(request, key, version)
    latest = versions.get_version(session, key=key).version
    sizes = {name: len(content) for name, content in files.items()}
    return pages.render(request, "studio/version.html",
                        {"v": found, "files": sorted(files), "xml": xml, "latest": latest, "sizes": sizes})


@routes.get("/studio/{key}/ubah")
def studio_edit(request: Request, session: SessionDep, actor: ModelerPageActor, key: KeyArg,
                dari: Annotated[int | None, Query(ge=1, le=1_000_000)] = None) -> Response:
    """Open a version (the newest by default) in the modeler."""
    try:
        found = versions.get_version(session, key=key, version=dari)
        files = versions.version_files(session, version_id=found.id)
        xml = files[versions.main_bpmn_name(files, key)].decode("utf-8", "replace")
    except ProcessNotFound:
        return _missing(request, key, dari)
    choices = versions.choices(files)
    data = {"page": "modeler", "key": key, "version": found.version, "xml": xml,
            "forms": choices.forms, "ui_forms": choices.ui_forms, "decisions": choices.decisions,
            "notify": list(NOTIFY_MARKERS),
            "lint_url": f"/studio/{key}/periksa", "deploy_url": f"/studio/{key}/terapkan"}
    return pages.render(request, "studio/modeler.html", {"v": found, "data": data})


def _edited(session: SessionDep, key: str, body: EditedDiagram) -> package.Package:
    found = versions.get_version(session, key=key, version=body.dari)
    files = versions.version_files(session, version_id=found.id)
    return versions.with_main_bpmn(files, key=key, xml=body.xml.encode("utf-8"))


@routes.post("/studio/{key}/periksa")
def studio_lint(request: Request, session: SessionDep, actor: ModelerPageActor, csrf: CsrfHeader, key: KeyArg,
                body: EditedDiagram) -> JSONResponse:
    """Lint the edited diagram with the rest of its package; every problem names its element."""
    try:
        problems = registry.lint(session, package=_edited(session, key, body))
    except PackageInvalid as exc:
        problems = exc.problems
    except ProcessNotFound as exc:
        return JSONResponse({"detail": exc.message, "problems": []}, status_code=404)
    ok = not any(p.severity == "error" for p in problems)
    return JSONResponse({"ok": ok, "problems": _problems(problems, language(request))})


@routes.post("/studio/{key}/terapkan")
def studio_deploy(request: Request, session: SessionDep, actor: ModelerPageActor, csrf: CsrfHeader, key: KeyArg,
                  body: EditedDiagram) -> JSONResponse:
    """Deploy the edited diagram as a new version; lint errors block it and are returned."""
    try:
        with session.begin_nested():  # a refusal is returned (and committed): it must leave nothing
            edited = _edited(session, key, body)
            stewards.require_package(session, actor, _service_or_empty(edited))
            result = registry.deploy(session, package=edited, actor=actor.username)
    except NotAllowed as exc:
        return JSONResponse({"detail": exc.text(language(request)), "problems": []}, status_code=403)
    except PackageInvalid as exc:
        detail = pick(language(request), "Galat lint menghalangi penerapan; perbaiki lalu terapkan lagi.",
                      "Lint errors block the deployment; fix them and deploy again.")
        return JSONResponse({"detail": detail, "problems": _problems(exc.problems, language(request))},
                            status_code=422)
    except ProcessNotFound as exc:
        return JSONResponse({"detail": exc.message, "problems": []}, status_code=404)
    _audit(session, actor.username, result)
    return JSONResponse({"version": result.version, "created": result.created, "redirect": _deployed_url(result)})


def _audit(session: SessionDep, actor: str, result: registry.DeployResult) -> None:
    if result.created:
        audit.record(session, actor=actor, action="process.deployed", subject=result.key,
                     detail={"version": result.version, "new_roles": result.new_roles, "via": "studio"})


def _deployed_url(result: registry.DeployResult) -> str:
    return f"/studio?diterapkan={result.key}&versi={result.version}&baru={int(result.created)}"


@routes.get("/studio/{key}/banding")
def studio_compare(request: Request, session: SessionDep, actor: ModelerPageActor, key: KeyArg,
                   a: Annotated[int | None, Query(ge=1, le=1_000_000)] = None,
                   b: Annotated[int | None, Query(ge=1, le=1_000_000)] = None) -> Response:
    """Compare two versions: elements and files added, removed or changed, and both diagrams."""
    try:
        latest = versions.get_version(session, key=key)
        after = b or latest.version
        result = versions.compare(session, key=key, before=a or max(after - 1, 1), after=after)
    except ProcessNotFound:
        return _missing(request, key, b or a)
    diff = result.diff
    return pages.render(request, "studio/compare.html", {
        "key": key, "a": result.before, "b": result.after, "latest": latest.version, "service": latest.service,
        "diff": diff, "xml_a": result.bpmn_before.decode("utf-8", "replace"),
        "xml_b": result.bpmn_after.decode("utf-8", "replace"),
        "marks_a": {"removed": diff.ids("removed"), "changed": diff.ids("changed")},
        "marks_b": {"added": diff.ids("added"), "changed": diff.ids("changed")}})
