"""Read deployed versions for the studio: overviews, a version's files, an edited copy, comparisons."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.bpmn.conventions import DMN_NAMESPACES
from engine.bpmn.xmlsafe import parse_xml
from engine.catalogue import package as packages
from engine.catalogue.versions_diff import VersionDiff, diff_versions
from engine.errors import ProcessNotFound, UnsafeXml
from engine.models import Case, ProcessFile, ProcessVersion


@dataclass(frozen=True)
class VersionSummary:
    """One deployed version with the number of its cases still running."""

    version: int
    content_hash: str
    deployed_at: datetime
    deployed_by: str
    running: int


@dataclass(frozen=True)
class ProcessSummary:
    """A process key with its newest service standard and every version, newest first."""

    key: str
    service: dict[str, Any]
    versions: list[VersionSummary]

    @property
    def latest(self) -> VersionSummary:
        """Return the newest version."""
        return self.versions[0]

    @property
    def running(self) -> int:
        """Return the running cases over all versions."""
        return sum(v.running for v in self.versions)


@dataclass(frozen=True)
class PackageChoices:
    """What a modeller may pick in a package: form files (relative to forms/) and DMN decisions."""

    forms: list[str]
    ui_forms: list[str]
    decisions: list[str]


def overview(session: Session) -> list[ProcessSummary]:
    """Return every process key with all its versions and their running-case counts."""
    rows_running = session.execute(select(Case.process_version_id, func.count()).where(Case.status == "running")
                                   .group_by(Case.process_version_id))
    running = {int(version_id): int(count) for version_id, count in rows_running}
    rows = session.scalars(select(ProcessVersion).order_by(ProcessVersion.key, ProcessVersion.version.desc()))
    grouped: dict[str, list[ProcessVersion]] = {}
    for row in rows:
        grouped.setdefault(row.key, []).append(row)
    return [ProcessSummary(key, versions[0].service, [
        VersionSummary(v.version, v.content_hash, v.deployed_at, v.deployed_by, running.get(v.id, 0))
        for v in versions]) for key, versions in grouped.items()]


def get_version(session: Session, *, key: str, version: int | None = None) -> ProcessVersion:
    """Return one version of a process (the newest when `version` is None); ProcessNotFound if absent."""
    stmt = select(ProcessVersion).where(ProcessVersion.key == key)
    stmt = stmt.where(ProcessVersion.version == version) if version is not None else stmt.order_by(
        ProcessVersion.version.desc()).limit(1)
    found = session.scalar(stmt)
    if found is None:
        raise ProcessNotFound(f"no version {version} of process '{key}'" if version else f"no process '{key}'")
    return found


def version_files(session: Session, *, version_id: int) -> dict[str, bytes]:
    """Return the files of a deployed version, by package path."""
    rows = session.execute(select(ProcessFile.name, ProcessFile.content).where(ProcessFile.version_id == version_id))
    return {str(name): bytes(content) for name, content in rows}


def main_bpmn_name(files: dict[str, bytes], key: str) -> str:
    """Return the package path of the BPMN file that holds the process `key`."""
    names = sorted(name for name in files if name.endswith(".bpmn"))
    if not names:
        raise ProcessNotFound(f"process '{key}' has no BPMN file")
    marker = f'id="{key}"'.encode()
    return next((name for name in names if marker in files[name]), names[0])


def with_main_bpmn(files: dict[str, bytes], *, key: str, xml: bytes) -> packages.Package:
    """Return the package of `files` with its main BPMN file replaced by `xml` (size limits checked)."""
    edited = dict(files)
    edited[main_bpmn_name(files, key)] = xml
    return packages.from_files(edited, source=f"studio:{key}")


def choices(files: dict[str, bytes]) -> PackageChoices:
    """List the form files and DMN decision ids a user or business-rule task may name."""
    forms = sorted(name.removeprefix("forms/") for name in files
                   if name.startswith("forms/") and name.endswith(".json"))
    decisions: list[str] = []
    for name in sorted(files):
        if name.endswith(".dmn"):
            try:
                root = parse_xml(files[name], filename=name)
            except UnsafeXml:
                continue
            for ns in DMN_NAMESPACES:
                decisions += [str(d.get("id")) for d in root.iter(f"{{{ns}}}decision") if d.get("id")]
    return PackageChoices(forms=[f for f in forms if not f.endswith(".uischema.json")],
                          ui_forms=[f for f in forms if f.endswith(".uischema.json")], decisions=decisions)


@dataclass(frozen=True)
class Comparison:
    """Two versions side by side: what changed, and each one's main BPMN for the diagrams."""

    before: int
    after: int
    diff: VersionDiff
    bpmn_before: bytes
    bpmn_after: bytes


def compare(session: Session, *, key: str, before: int, after: int) -> Comparison:
    """Compare two deployed versions of a process."""
    old = version_files(session, version_id=get_version(session, key=key, version=before).id)
    new = version_files(session, version_id=get_version(session, key=key, version=after).id)
    return Comparison(before, after, diff_versions(old, new),
                      old[main_bpmn_name(old, key)], new[main_bpmn_name(new, key)])
