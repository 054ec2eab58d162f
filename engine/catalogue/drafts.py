"""Drafts: a package edited in the studio over days, by several analysts of its agency.

A draft is not a version. Its files change in place, and only publishing turns it into the next
(immutable, content-hashed) version of its key. One service has at most one draft at a time.

Conflicts: every save raises the draft's revision and stamps the file with it. An editor sends
the revision it loaded; when the file changed after that, another analyst saved it in between
and the save is refused with who and when, so nobody's work is overwritten unseen.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from datetime import datetime

from lxml import etree
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from engine.bpmn.xmlsafe import parse_xml
from engine.catalogue import blank, registry, scenarios, stewards
from engine.catalogue import package as packages
from engine.catalogue.versions import get_version, main_bpmn_name, version_files
from engine.directory.actors import Actor
from engine.errors import AlreadyExists, DomainError, InvalidInput, NotFound, PackageInvalid, Problem
from engine.models import DraftFile, PackageDraft, utcnow
from engine.settings import Settings

KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{1,59}$")
AGENCY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{1,39}$")
EDITABLE_SUFFIXES = (".bpmn", ".dmn", ".json", ".toml", ".html", ".md", ".txt", ".css", ".svg")


class DraftConflict(DomainError):
    """Another analyst saved the same file after the editor loaded it."""

    code = "conflict"

    def __init__(self, message: str, *, message_id: str, name: str, by: str, at: datetime, revision: int) -> None:
        super().__init__(message, message_id=message_id)
        self.name = name
        self.by = by
        self.at = at
        self.revision = revision


@dataclass(frozen=True)
class DraftSummary:
    """A draft in the studio's list."""

    id: int
    key: str
    agency: str
    title: str
    base_version: int | None
    revision: int
    updated_by: str
    updated_at: datetime


def _summary(row: PackageDraft) -> DraftSummary:
    return DraftSummary(row.id, row.key, row.agency, row.title, row.base_version, row.revision, row.updated_by,
                        row.updated_at)


def list_drafts(session: Session, actor: Actor) -> list[DraftSummary]:
    """Return the drafts the actor may edit, the most recently changed first."""
    rows = session.scalars(select(PackageDraft).order_by(PackageDraft.updated_at.desc(), PackageDraft.id.desc()))
    return [_summary(row) for row in rows if _may_open(session, actor, row)]


def _may_open(session: Session, actor: Actor, row: PackageDraft) -> bool:
    if actor.platform_role == "admin":
        return True
    if actor.platform_role != "analyst":
        return False
    if row.agency in stewards.analyst_agencies(actor):
        return True
    # A draft for an agency nobody has deployed yet belongs to the analyst who started it.
    return row.created_by == actor.username and not stewards.agency_exists(session, row.agency)


def get(session: Session, actor: Actor, draft_id: int) -> PackageDraft:
    """Return a draft the actor may edit; NotFound otherwise (another agency's drafts are not shown)."""
    row = session.get(PackageDraft, draft_id)
    if row is None or not _may_open(session, actor, row):
        raise NotFound(f"no draft {draft_id}", message_id=f"draf {draft_id} tidak ditemukan")
    return row


def files(session: Session, draft: PackageDraft) -> dict[str, bytes]:
    """Return a draft's files by package path."""
    rows = session.execute(select(DraftFile.name, DraftFile.content).where(DraftFile.draft_id == draft.id))
    return {str(name): bytes(content) for name, content in rows}


def file_revisions(session: Session, draft: PackageDraft) -> dict[str, tuple[int, str, datetime]]:
    """Return, per file, the revision it last changed in, by whom and when."""
    rows = session.execute(select(DraftFile.name, DraftFile.revision, DraftFile.updated_by, DraftFile.updated_at)
                           .where(DraftFile.draft_id == draft.id))
    return {str(name): (int(rev), str(by), at) for name, rev, by, at in rows}


def read_file(session: Session, draft: PackageDraft, name: str) -> bytes:
    """Return one file of a draft; NotFound when it has no such file."""
    found = session.get(DraftFile, (draft.id, name))
    if found is None:
        raise NotFound(f"the draft has no file '{name}'", message_id=f"draf tidak memiliki berkas '{name}'")
    return bytes(found.content)


def package_of(session: Session, draft: PackageDraft) -> packages.Package:
    """Return the draft's files as a package (PackageInvalid when a file breaks the package limits)."""
    return packages.from_files(files(session, draft), source=f"draft:{draft.key}")


def lint(session: Session, draft: PackageDraft) -> list[Problem]:
    """Lint the draft as deployment would."""
    try:
        return registry.lint(session, package=package_of(session, draft))
    except PackageInvalid as exc:
        return exc.problems


def _check_key(session: Session, key: str) -> None:
    if not KEY_PATTERN.match(key):
        raise InvalidInput("the service key takes 2 to 60 lower-case letters, digits and '_', starting with a letter",
                           message_id="kode layanan terdiri atas 2–60 huruf kecil, angka dan '_', diawali huruf")
    if session.scalar(select(PackageDraft.id).where(PackageDraft.key == key)) is not None:
        raise AlreadyExists(f"a draft of '{key}' exists already; open it instead",
                            message_id=f"draf '{key}' sudah ada; buka draf itu")


def _new_row(session: Session, actor: Actor, *, key: str, agency: str, title: str, base: int | None,
             content: dict[str, bytes]) -> PackageDraft:
    now = utcnow()
    row = PackageDraft(key=key, agency=agency, title=title, base_version=base, revision=1,
                       created_by=actor.username, created_at=now, updated_by=actor.username, updated_at=now)
    session.add(row)
    session.flush()
    session.add_all(DraftFile(draft_id=row.id, name=name, content=data, revision=1, updated_by=actor.username,
                              updated_at=now) for name, data in content.items())
    session.flush()
    return row


def create_blank(session: Session, actor: Actor, new: blank.NewService) -> PackageDraft:
    """Start a draft of a new service from the blank template (lanes for the given roles)."""
    _check_key(session, new.key)
    if stewards.owner_of(session, new.key) is not None:
        raise AlreadyExists(f"the service '{new.key}' exists already; edit it or copy it under another key",
                            message_id=f"layanan '{new.key}' sudah ada; ubah layanan itu atau salin dengan kode lain")
    if not AGENCY_PATTERN.match(new.agency):
        raise InvalidInput("the agency code takes 2 to 40 lower-case letters, digits and '_', starting with a letter",
                           message_id="kode instansi terdiri atas 2–40 huruf kecil, angka dan '_', diawali huruf")
    if not new.roles:
        raise InvalidInput("a service needs at least one officer role",
                           message_id="layanan memerlukan sekurang-kurangnya satu peran petugas")
    stewards.require_edit(session, actor, key=new.key, agency=new.agency)
    return _new_row(session, actor, key=new.key, agency=new.agency, title=new.name_id, base=None,
                    content=blank.files_of(new))


def create_from_version(session: Session, actor: Actor, *, key: str, version: int | None = None) -> PackageDraft:
    """Start a draft that changes an existing service, from one of its versions (the newest by default)."""
    existing = session.scalar(select(PackageDraft).where(PackageDraft.key == key))
    if existing is not None:
        raise AlreadyExists(f"a draft of '{key}' exists already; open it instead",
                            message_id=f"draf '{key}' sudah ada; buka draf itu")
    found = get_version(session, key=key, version=version)
    agency = str(found.service.get("agency", ""))
    stewards.require_edit(session, actor, key=key, agency=agency)
    name = found.service.get("name", {})
    title = str(name.get("id", key)) if isinstance(name, dict) else key
    return _new_row(session, actor, key=key, agency=agency, title=title, base=found.version,
                    content=version_files(session, version_id=found.id))


def create_copy(session: Session, actor: Actor, *, source: str, key: str, name_id: str, name_en: str,
                version: int | None = None) -> PackageDraft:
    """Start a draft of a new service as a copy of an existing one under a new key and name."""
    _check_key(session, key)
    if stewards.owner_of(session, key) is not None:
        raise AlreadyExists(f"the service '{key}' exists already", message_id=f"layanan '{key}' sudah ada")
    found = get_version(session, key=source, version=version)
    agency = str(found.service.get("agency", ""))
    stewards.require_edit(session, actor, key=key, agency=agency)
    content = version_files(session, version_id=found.id)
    main = main_bpmn_name(content, source)
    content[main] = _renamed_process(content[main], main, source, key, name_id)
    content["service.toml"] = _renamed_service(content["service.toml"], key, name_id, name_en)
    return _new_row(session, actor, key=key, agency=agency, title=name_id, base=None, content=content)


def _renamed_process(xml: bytes, filename: str, old: str, new: str, name: str) -> bytes:
    root = parse_xml(xml, filename=filename)
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        local = etree.QName(element).localname
        if local == "process" and element.get("id") == old:
            element.set("id", new)
            element.set("name", name)
        elif local == "participant" and element.get("processRef") == old:
            element.set("processRef", new)
            element.set("name", name)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def _renamed_service(raw: bytes, key: str, name_id: str, name_en: str) -> bytes:
    import tomlkit

    doc = tomlkit.parse(raw.decode("utf-8"))
    doc["key"] = key
    name = tomlkit.inline_table()
    name.update({"id": name_id, "en": name_en or name_id})
    doc["name"] = name
    return tomlkit.dumps(doc).encode("utf-8")


def check_name(name: str) -> str:
    """Return a safe package path for a file the studio writes, or raise InvalidInput."""
    try:
        clean = packages.from_files({name: b""}).files
    except PackageInvalid as exc:
        raise InvalidInput(exc.problems[0].message, message_id=exc.problems[0].message_id) from exc
    if not clean:
        raise InvalidInput(f"'{name}' cannot be part of a package",
                           message_id=f"'{name}' tidak dapat menjadi bagian paket")
    path = next(iter(clean))
    if not path.endswith(EDITABLE_SUFFIXES):
        kinds = ", ".join(EDITABLE_SUFFIXES)
        raise InvalidInput(f"'{name}': the studio edits {kinds} files",
                           message_id=f"'{name}': studio mengubah berkas {kinds}")
    return path


def save_file(session: Session, actor: Actor, draft: PackageDraft, *, name: str, content: bytes,
              loaded_revision: int | None) -> int:
    """Write one file of a draft; return the draft's new revision.

    `loaded_revision` is the draft revision the editor loaded (None for a file the editor creates):
    when the file changed after it, DraftConflict names who changed it and when.
    """
    name = check_name(name)
    if len(content) > packages.MAX_FILE_BYTES:
        size = packages.MAX_FILE_BYTES // 1024
        raise InvalidInput(f"'{name}' is larger than {size} KiB", message_id=f"'{name}' lebih besar dari {size} KiB")
    found = session.get(DraftFile, (draft.id, name))
    if found is not None and (loaded_revision is None or found.revision > loaded_revision):
        raise _conflict(found)
    if found is None and len(files(session, draft)) >= packages.MAX_FILES:
        raise InvalidInput(f"a package holds at most {packages.MAX_FILES} files",
                           message_id=f"paket berisi paling banyak {packages.MAX_FILES} berkas")
    revision = _bump(draft, actor)
    if name == "service.toml":
        draft.title = _title_of(content) or draft.title
    if found is None:
        session.add(DraftFile(draft_id=draft.id, name=name, content=content, revision=revision,
                              updated_by=actor.username, updated_at=draft.updated_at))
    else:
        found.content = content
        found.revision = revision
        found.updated_by = actor.username
        found.updated_at = draft.updated_at
    session.flush()
    return revision


def delete_file(session: Session, actor: Actor, draft: PackageDraft, *, name: str, loaded_revision: int) -> int:
    """Remove one file of a draft (a conflict when it changed after `loaded_revision`); return the new revision."""
    found = session.get(DraftFile, (draft.id, name))
    if found is None:
        raise NotFound(f"the draft has no file '{name}'")
    if found.revision > loaded_revision:
        raise _conflict(found)
    session.delete(found)
    revision = _bump(draft, actor)
    session.flush()
    return revision


def _title_of(service_toml: bytes) -> str:
    """Return the Indonesian name a service.toml gives, or "" when it cannot be read."""
    try:
        name = tomllib.loads(service_toml.decode("utf-8")).get("name")
    except (UnicodeDecodeError, tomllib.TOMLDecodeError):
        return ""
    return str(name.get("id", ""))[:255] if isinstance(name, dict) else ""


def _conflict(found: DraftFile) -> DraftConflict:
    at = f"{found.updated_at:%Y-%m-%d %H:%M} UTC"
    return DraftConflict(f"'{found.name}' was saved by {found.updated_by} at {at} after you opened it; reload to "
                         "see their changes (copy yours first)",
                         message_id=f"'{found.name}' disimpan oleh {found.updated_by} pada {at} setelah Anda "
                         "membukanya; muat ulang untuk melihat perubahannya (salin dulu perubahan Anda)",
                         name=found.name, by=found.updated_by, at=found.updated_at, revision=found.revision)


def _bump(draft: PackageDraft, actor: Actor) -> int:
    # Two saves racing past the revision check both raise the revision; the row's UPDATE serialises them.
    draft.revision += 1
    draft.updated_by = actor.username
    draft.updated_at = utcnow()
    return draft.revision


def discard(session: Session, actor: Actor, draft: PackageDraft) -> None:
    """Delete a draft and its files."""
    session.execute(delete(DraftFile).where(DraftFile.draft_id == draft.id))
    session.delete(draft)
    session.flush()


@dataclass(frozen=True)
class Published:
    """A draft turned into a version."""

    result: registry.DeployResult
    stale_base: int | None  # the newest version when it was deployed after the draft was started


def newer_version(session: Session, draft: PackageDraft) -> int | None:
    """Return the newest version of the draft's key when it is newer than the draft's base, else None."""
    owner = stewards.owner_of(session, draft.key)
    if owner is None:
        return None
    latest = get_version(session, key=draft.key).version
    return latest if draft.base_version is None or latest > draft.base_version else None


def publish(session: Session, actor: Actor, draft: PackageDraft, *, overwrite_newer: bool = False,
            settings: Settings | None = None) -> Published:
    """Deploy a draft as the next version of its key and delete the draft.

    When a version was deployed after the draft was started (another analyst, or an upload), the
    draft would silently undo it: that is refused (DraftConflict) unless `overwrite_newer`. The
    draft's scenario tests (tests/*.toml) must pass: a failing one is an error naming its step.
    """
    package = package_of(session, draft)
    agency = str(package.service().get("agency", draft.agency))
    stewards.require_edit(session, actor, key=draft.key, agency=agency)
    newer = newer_version(session, draft)
    if newer is not None and not overwrite_newer:
        base = draft.base_version or "-"
        raise DraftConflict(f"version {newer} of '{draft.key}' was deployed after this draft was started (from "
                            f"version {base}); publishing would undo it",
                            message_id=f"versi {newer} '{draft.key}' diterapkan setelah draf ini dimulai (dari versi "
                            f"{base}); menerbitkan draf akan membatalkannya", name="", by="", at=draft.updated_at,
                            revision=newer)
    if package.service().get("key") not in (None, draft.key):
        raise PackageInvalid([Problem("service.toml", "key", f"the draft is for '{draft.key}'; service.toml names "
                                      f"'{package.service().get('key')}'", "error",
                                      f"draf ini untuk '{draft.key}'; service.toml menyebut "
                                      f"'{package.service().get('key')}'")])
    failed = scenarios.scenario_problems(package, known_roles=registry.known_roles(session), settings=settings)
    if failed:
        raise PackageInvalid(failed)
    result = registry.deploy(session, package=package, actor=actor.username)
    stewards.adopt(session, actor, agency)
    discard(session, actor, draft)
    return Published(result, newer)
