"""Processes: the catalogue, deploying and linting packages, versions and their BPMN."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import File, Path, Query, UploadFile
from fastapi.responses import Response
from pydantic import Field

from api.deps import ModelerActor, OptionalActor, RuntimeDep, SessionDep, StaffActor
from api.errors import BAD_REQUEST, TOO_LARGE, ApiError
from api.routing import router
from api.schemas import (
    DeployRead,
    LintRead,
    Model,
    ProblemItem,
    ProcessDetailRead,
    ProcessLifecycleRead,
    ProcessRead,
    ProcessVersionRead,
    RetirementRead,
    Text,
)
from engine.cases import service as cases
from engine.catalogue import lifecycle as lifecycle
from engine.catalogue import package as package
from engine.catalogue import registry as registry
from engine.catalogue import stewards
from engine.directory import audit as audit
from engine.directory.actors import Actor
from engine.errors import PackageInvalid, ProcessNotFound
from engine.models import ProcessVersion
from engine.privacy import notice as notice
from web.downloads import content_disposition

routes = router(tags=["processes"])
KEY = Path(pattern=r"^[A-Za-z_][A-Za-z0-9_.-]{0,119}$")
VERSION = Path(ge=1, le=1_000_000)
REASON = Query(max_length=lifecycle.MAX_REASON, description="why (kept in the audit log)")
UPLOAD_LIMIT = package.MAX_PACKAGE_BYTES


def _text(value: Any) -> Text | None:
    return Text(id=str(value.get("id", "")), en=str(value.get("en", ""))) if isinstance(value, dict) else None


def _retired(found: lifecycle.Retirement | None) -> RetirementRead | None:
    return RetirementRead(retired_at=found.retired_at, retired_by=found.retired_by,
                          reason=found.reason) if found is not None else None


def _is_staff(actor: Actor | None) -> bool:
    return actor is not None and actor.is_staff


def _process(version: ProcessVersion, running: int | None, retired: RetirementRead | None = None) -> ProcessRead:
    service = version.service
    requirements = [t for t in map(_text, service.get("requirements", [])) if t is not None]
    return ProcessRead(key=version.key, version=version.version, agency=str(service.get("agency", "")),
                       name=_text(service.get("name")) or Text(id=version.key, en=version.key),
                       description=_text(service.get("description")), product=_text(service.get("product")),
                       fee=_text(service.get("fee")), sla_days=service.get("sla_days"),
                       channels=list(service.get("channels", [])), requirements=requirements,
                       deployed_at=version.deployed_at, running_cases=running, retired=retired)


@routes.get("/api/processes", response_model=list[ProcessRead])
def list_processes(session: SessionDep, actor: OptionalActor) -> list[ProcessRead]:
    """List the service catalogue (newest version of each process).

    Staff also see running-case counts and retired services (with `retired` set); the public and
    applicants see only the services that accept applications.
    """
    retired = lifecycle.retirements(session)
    if not _is_staff(actor):
        return [_process(v, None) for v in registry.latest_versions(session) if v.key not in retired]
    counts = registry.running_counts(session)
    return [_process(v, counts.get(v.key, 0), _retired(retired.get(v.key))) for v in registry.latest_versions(session)]


def _read_package(files: list[UploadFile]) -> package.Package:
    if not files:
        raise ApiError(BAD_REQUEST, "send a zip file or the package's files in the 'files' field")
    contents: dict[str, bytes] = {}
    total = 0
    for upload in files:
        data = upload.file.read(UPLOAD_LIMIT + 1)  # parsed already: a spooled temporary file
        total += len(data)
        if total > UPLOAD_LIMIT:
            raise ApiError(TOO_LARGE, f"the package is larger than {UPLOAD_LIMIT // 1024 // 1024} MiB")
        contents[upload.filename or "upload"] = data
    if len(contents) == 1 and next(iter(contents)).endswith(".zip"):
        name, data = next(iter(contents.items()))
        return package.from_zip(data, source=name)
    return package.from_files(contents)


@routes.post("/api/processes/lint", response_model=LintRead)
def lint(actor: ModelerActor, session: SessionDep, files: Annotated[list[UploadFile], File()]) -> LintRead:
    """Lint a package without deploying it: every problem, with file, element and both languages."""
    try:
        problems = registry.lint(session, package=_read_package(files))
    except PackageInvalid as exc:
        problems = exc.problems
    items = [ProblemItem(file=p.file, element_id=p.element_id, element_name=p.element_name, message=p.message,
                         message_id=p.message_id, severity=p.severity) for p in problems]
    return LintRead(ok=not any(p.severity == "error" for p in problems), problems=items)


@routes.post("/api/processes", response_model=DeployRead, status_code=201)
def deploy(actor: ModelerActor, session: SessionDep, files: Annotated[list[UploadFile], File()]) -> DeployRead:
    """Deploy a package (a zip, or its files) as the next version; identical content creates none."""
    pkg = _read_package(files)
    try:
        service = pkg.service()
    except PackageInvalid:
        service = {}  # deploy's lint names the problem in service.toml
    stewards.require_package(session, actor, service)
    result = registry.deploy(session, package=pkg, actor=actor.username)
    stewards.adopt(session, actor, str(service.get("agency", "")))
    if result.created:
        audit.record(session, actor=actor.username, action="process.deployed", subject=result.key,
                     detail={"version": result.version, "new_roles": result.new_roles})
    return DeployRead(key=result.key, version=result.version, created=result.created, new_roles=result.new_roles,
                      warnings=result.warnings)


@routes.get("/api/processes/{key}", response_model=ProcessDetailRead)
def process_versions(session: SessionDep, actor: OptionalActor, key: Annotated[str, KEY]) -> ProcessDetailRead:
    """Return a process's newest service standard and all its versions, newest first.

    A retired service is shown to staff only (with when, by whom and why it was retired).
    """
    staff = _is_staff(actor)
    retired = _retired(lifecycle.retirement(session, key))
    if retired is not None and not staff:
        raise ProcessNotFound(f"no process '{key}'")
    versions = registry.list_versions(session, key)
    names = registry.file_names(session, [v.id for v in versions])
    return ProcessDetailRead(key=key, latest=_process(versions[0], None, retired), retired=retired, versions=[
        ProcessVersionRead(version=v.version, content_hash=v.content_hash, deployed_at=v.deployed_at,
                           deployed_by=v.deployed_by if staff else "", roles=v.roles, files=names[v.id])
        for v in versions])


class PrivacyNoticeRead(Model):
    text_hash: str = Field(description="names this wording; the case records the one its applicant accepted")
    text_id: str
    text_en: str


@routes.get("/api/processes/{key}/privacy-notice", response_model=PrivacyNoticeRead)
def privacy_notice(session: SessionDep, rt: RuntimeDep, key: Annotated[str, KEY]) -> PrivacyNoticeRead:
    """Return the privacy notice an applicant accepts when applying for the service (UU 27/2022), in both languages."""
    found = notice.notice_for(cases.start_form(session, rt=rt, process_key=key).service)
    return PrivacyNoticeRead(text_hash=found.text_hash, text_id=found.text_id, text_en=found.text_en)


@routes.delete("/api/processes/{key}", response_model=ProcessLifecycleRead)
def retire(actor: ModelerActor, session: SessionDep, key: Annotated[str, KEY],
           reason: Annotated[str, REASON] = "") -> ProcessLifecycleRead:
    """Retire a service: it leaves the catalogue and accepts no new applications; running cases finish."""
    found = lifecycle.retire(session, key=key, actor=actor, reason=reason)
    return ProcessLifecycleRead(key=key, retired=_retired(found))


@routes.post("/api/processes/{key}/restore", response_model=ProcessLifecycleRead)
def restore(actor: ModelerActor, session: SessionDep, key: Annotated[str, KEY],
            reason: Annotated[str, REASON] = "") -> ProcessLifecycleRead:
    """Bring a retired service back to the catalogue: it accepts applications again."""
    lifecycle.restore(session, key=key, actor=actor, reason=reason)
    return ProcessLifecycleRead(key=key, retired=None)


@routes.get("/api/processes/{key}/versions/{version}/bpmn", response_class=Response,
            responses={200: {"content": {"application/xml": {}}}})
def process_bpmn(session: SessionDep, actor: StaffActor, key: Annotated[str, KEY],
                 version: Annotated[int, VERSION]) -> Response:
    """Return the BPMN XML of a version (the file with its main process)."""
    return Response(registry.main_bpmn(session, key=key, version=version), media_type="application/xml")


@routes.get("/api/processes/{key}/versions/{version}/zip", response_class=Response,
            responses={200: {"content": {"application/zip": {}}}})
def process_zip(session: SessionDep, actor: ModelerActor, key: Annotated[str, KEY],
                version: Annotated[int, VERSION]) -> Response:
    """Download a version as a package zip, in the format `mpp deploy` and `POST /api/processes` take."""
    return Response(lifecycle.version_zip(session, key=key, version=version), media_type="application/zip",
                    headers={"Content-Disposition": content_disposition(f"{key}-v{version}.zip")})
