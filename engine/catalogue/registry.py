"""Process registry: lint, deploy and list versioned process packages."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.bpmn import compile as spiff
from engine.catalogue.package import Package
from engine.directory import service as directory
from engine.errors import PackageInvalid, Problem, ProcessNotFound
from engine.lint.roles import role_problems
from engine.lint.service import lint_package
from engine.models import ProcessFile, ProcessVersion


@dataclass(frozen=True)
class DeployResult:
    """The outcome of a deployment: which version, whether it is new, which roles appeared."""

    key: str
    version: int
    created: bool
    new_roles: list[str]
    warnings: list[str]


_checked: OrderedDict[str, tuple[list[Problem], spiff.CompiledProcess | None]] = OrderedDict()
_checked_lock = threading.Lock()


def check(package: Package, known_roles: set[str] | None = None) -> tuple[list[Problem], spiff.CompiledProcess | None]:
    """Lint and compile a package, remembering the result by content hash.

    Both are pure functions of the package's content, and the same catalogue is deployed again
    at every start of a fresh platform (and every test); the result of a failed lint is not kept.
    `known_roles` (the directory's roles) only ever removes role errors, so the result of a
    package that declares every role it uses holds for any directory and is kept by content
    alone; a package that leans on the directory is checked afresh each time.
    """
    key = package.content_hash
    with _checked_lock:
        if key in _checked:
            _checked.move_to_end(key)
            return _checked[key]
    problems = lint_package(package, known_roles=known_roles)
    if any(p.severity == "error" for p in problems):
        return problems, None
    result = (problems, spiff.compile_package(package))
    if known_roles and _needs_directory(package):
        return result
    with _checked_lock:
        _checked[key] = result
        while len(_checked) > 64:
            _checked.popitem(last=False)
    return result


def _needs_directory(package: Package) -> bool:
    """Tell whether a package uses a role (or agency) it does not declare itself."""
    documents = [(name, package.xml(name)) for name in package.bpmn_files]
    return any(p.severity == "error" for p in role_problems(package.service(), documents, None))


def known_roles(session: Session) -> set[str]:
    """Return the keys of the roles the directory holds (a package may use them undeclared)."""
    return {role.key for role in directory.list_roles(session)}


def lint(session: Session, *, package: Package) -> list[Problem]:
    """Lint a package as deployment would: roles the directory holds count as known."""
    return lint_package(package, known_roles=known_roles(session))


def deploy(session: Session, *, package: Package, actor: str = "system", scenarios: bool = True) -> DeployResult:
    """Lint a package and store it as the next version of its key; identical content adds nothing.

    Deployment creates the agencies and roles service.toml declares, and no other: a lane may
    use a role the package does not declare only when the directory holds it already. A package
    whose service.toml says `scenarios_required = true` is refused unless its scenario tests pass
    (`scenarios=False` is the scenario runner's own deployment into its throw-away database).
    """
    problems, compiled = check(package, known_roles=known_roles(session))
    if compiled is None:
        raise PackageInvalid(problems)
    warnings = [str(p) for p in problems]
    key = compiled.key
    digest = package.content_hash
    same = session.scalar(select(ProcessVersion).where(ProcessVersion.key == key,
                                                        ProcessVersion.content_hash == digest))
    if same is not None:
        return DeployResult(key, same.version, False, [], warnings)
    service = package.service()
    if scenarios and service.get("scenarios_required") is True:
        from engine.catalogue.scenarios import scenario_problems

        failed = scenario_problems(package, known_roles=known_roles(session), require=True)
        if failed:
            raise PackageInvalid(failed)
    new_roles = directory.apply_declarations(session, service)
    # Every lane's role, not only those with user tasks: a lane may hold just a message event.
    roles = sorted({m.role for m in compiled.tasks.values() if m.role} | set(compiled.lane_roles.values()))
    latest = session.scalar(select(func.max(ProcessVersion.version)).where(ProcessVersion.key == key)) or 0
    version = ProcessVersion(key=key, version=latest + 1, content_hash=digest, service=service,
                             roles=roles, deployed_by=actor)
    session.add(version)
    session.flush()
    session.add_all(ProcessFile(version_id=version.id, name=name, content=content)
                    for name, content in package.files.items())
    session.flush()
    return DeployResult(key, version.version, True, new_roles, warnings)


def list_versions(session: Session, key: str) -> list[ProcessVersion]:
    """Return every version of a process key, newest first; ProcessNotFound if none."""
    versions = list(session.scalars(
        select(ProcessVersion).where(ProcessVersion.key == key).order_by(ProcessVersion.version.desc())))
    if not versions:
        raise ProcessNotFound(f"no process '{key}'")
    return versions


def latest_versions(session: Session) -> list[ProcessVersion]:
    """Return the newest version of every process key."""
    newest = (select(ProcessVersion.key, func.max(ProcessVersion.version).label("v"))
              .group_by(ProcessVersion.key).subquery())
    stmt = (select(ProcessVersion)
            .join(newest, (ProcessVersion.key == newest.c.key) & (ProcessVersion.version == newest.c.v))
            .order_by(ProcessVersion.key))
    return list(session.scalars(stmt))


def running_counts(session: Session) -> dict[str, int]:
    """Return how many running cases each process key has."""
    from engine.models import Case

    rows = session.execute(select(Case.process_key, func.count()).where(Case.status == "running")
                           .group_by(Case.process_key))
    return {str(key): int(count) for key, count in rows.all()}


def file_names(session: Session, version_ids: list[int]) -> dict[int, list[str]]:
    """Return the file names of each version."""
    names: dict[int, list[str]] = {vid: [] for vid in version_ids}
    rows = session.execute(select(ProcessFile.version_id, ProcessFile.name)
                           .where(ProcessFile.version_id.in_(version_ids)).order_by(ProcessFile.name))
    for vid, name in rows:
        names[vid].append(name)
    return names


def main_bpmn(session: Session, *, key: str, version: int) -> bytes:
    """Return the BPMN file of a version that holds its main process."""
    rows = session.execute(select(ProcessFile.name, ProcessFile.content).join(ProcessVersion).where(
        ProcessVersion.key == key, ProcessVersion.version == version, ProcessFile.name.like("%.bpmn")))
    files = list(rows)
    if not files:
        raise ProcessNotFound(f"no version {version} of process '{key}'")
    marker = f'id="{key}"'.encode()
    for _name, content in files:
        if marker in content:
            return bytes(content)
    return bytes(files[0][1])
