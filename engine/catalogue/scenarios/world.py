"""The throw-away world a scenario runs in: its own SQLite database, clock, directory and files.

Nothing a scenario does reaches the real platform: the database is a fresh copy of a migrated
template with only the package deployed (and the directory roles it needs), files and signed
documents go to a temporary folder with a key made for the run, no SMTP host is set, and the job
runner (`runner`) runs only timers and document issuing, so no e-mail, webhook or outside call
leaves. Copies are cheap: the template is migrated once per process, the package deployed once
per content (and kept for the next run of the same content).
"""

from __future__ import annotations

import atexit
import re
import shutil
import tempfile
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from engine.cases.assignment import APPLICANT_ROLE, agency_of
from engine.catalogue import registry as registry
from engine.catalogue.package import Package
from engine.catalogue.scenarios.checks import Labels
from engine.db import make_engine, make_sessionmaker, transaction
from engine.directory import service as directory
from engine.directory.actors import Actor, actor_for
from engine.errors import DomainError, PackageInvalid, Problem
from engine.models import Role
from engine.runtime import Runtime, SpecCache, build_runtime
from engine.schema import upgrade
from engine.settings import Settings

APPLICANT = "uji.pemohon"
DEPLOYED_BY = "uji-skenario"
KEPT_TEMPLATES = 8
_CODE = re.compile(r"^[a-z][a-z0-9_]{1,39}$")


class SimClock:
    """The simulated clock a scenario moves by hand; the engine reads it as its `Clock`."""

    def __init__(self, start: datetime) -> None:
        self.now = start.astimezone(UTC)

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Template:
    """A migrated database with one package deployed, copied for each scenario of that package."""

    path: Path | None
    key: str
    problems: list[Problem]
    specs: SpecCache = field(default_factory=SpecCache)


class _Store:
    """The process's templates: one migrated database, and the last few deployed packages."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.folder: Path | None = None
        self.empty: Path | None = None
        self.packages: OrderedDict[tuple[str, tuple[str, ...]], Template] = OrderedDict()
        self.count = 0

    def root(self) -> Path:
        if self.folder is None:
            self.folder = Path(tempfile.mkdtemp(prefix="mpp-scenarios-"))
            atexit.register(shutil.rmtree, self.folder, True)
        return self.folder

    def empty_db(self) -> Path:
        if self.empty is None:
            path = self.root() / "empty.db"
            engine = make_engine(f"sqlite:///{path}", sqlite_synchronous="OFF")
            upgrade(engine)
            engine.dispose()
            self.empty = path
        return self.empty

    def next_path(self, stem: str) -> Path:
        self.count += 1
        return self.root() / f"{stem}-{self.count}.db"


_store = _Store()


def _engine(path: Path) -> Engine:
    return make_engine(f"sqlite:///{path}", sqlite_synchronous="OFF", sqlite_busy_timeout_s=5.0)


def _used_roles(package: Package, known: set[str]) -> list[str]:
    """Return the known directory roles the package's diagrams name (the others are not needed)."""
    texts = [package.files[name] for name in package.bpmn_files]
    return sorted(r for r in known if r != APPLICANT_ROLE and "." in r and any(r.encode() in t for t in texts))


def _seed_roles(session: Session, package: Package, roles: list[str]) -> None:
    """Create the directory roles the package leans on without declaring them, as the real directory has."""
    try:
        with session.begin_nested():
            directory.apply_agencies(session, package.service().get("agencies", []))
    except (DomainError, KeyError, TypeError, AttributeError):
        pass  # lint reports a malformed declaration, and deploy below refuses the package for it
    for role in roles:
        directory.ensure_agency(session, code=agency_of(role))
    directory.ensure_roles(session, roles)


def template_for(package: Package, known_roles: set[str] | None) -> Template:
    """Return the package's deployed template, deploying it on first use (problems when it does not deploy)."""
    roles = _used_roles(package, known_roles or set())
    key = (package.content_hash, tuple(roles))
    with _store.lock:
        found = _store.packages.get(key)
        if found is not None:
            _store.packages.move_to_end(key)
            return found
        path = _store.next_path("package")
        shutil.copy(_store.empty_db(), path)
    engine = _engine(path)
    try:
        with transaction(make_sessionmaker(engine)) as session:
            _seed_roles(session, package, roles)
            result = registry.deploy(session, package=package, actor=DEPLOYED_BY, scenarios=False)
        template = Template(path, result.key, [])
    except PackageInvalid as exc:
        template = Template(None, "", [p for p in exc.problems if p.severity == "error"] or exc.problems)
    except DomainError as exc:
        template = Template(None, "", [Problem("service.toml", None, exc.message, "error", exc.message_id)])
    finally:
        engine.dispose()
    if template.path is None:
        path.unlink(missing_ok=True)
    with _store.lock:
        raced = _store.packages.get(key)
        if raced is not None:  # another thread deployed the same content meanwhile: keep one
            if template.path is not None:
                template.path.unlink(missing_ok=True)
            return raced
        _store.packages[key] = template
        while len(_store.packages) > KEPT_TEMPLATES:
            _key, old = _store.packages.popitem(last=False)
            if old.path is not None:
                old.path.unlink(missing_ok=True)
    return template


@dataclass
class World:
    """One scenario's database, runtime and clock, and the throw-away users acting in it."""

    folder: Path
    engine: Engine
    sessions: sessionmaker[Session]
    rt: Runtime
    clock: SimClock
    key: str
    actors: dict[tuple[str, str | None], Actor] = field(default_factory=dict)
    applicant: Actor | None = None
    labels: Labels = field(default_factory=Labels)

    def close(self) -> None:
        """Drop the database and every file the scenario made."""
        self.engine.dispose()
        shutil.rmtree(self.folder, ignore_errors=True)


def open_world(template: Template, settings: Settings, start: datetime) -> World:
    """Copy the template into a fresh folder and build a runtime on it with a simulated clock."""
    assert template.path is not None  # noqa: S101 - callers check that the package deployed
    folder = Path(tempfile.mkdtemp(prefix="uji-", dir=_store.root()))
    path = folder / "uji.db"
    shutil.copy(template.path, path)
    local = settings.model_copy(update={
        "database_url": f"sqlite:///{path}", "files_dir": folder / "files", "outbox_dir": folder / "outbox",
        "signing_key_file": folder / "signing.key", "smtp_host": None, "case_cache_size": 64,
        "sqlite_synchronous": "OFF"})
    clock = SimClock(start)
    rt = build_runtime(local, clock=clock)
    rt.specs = template.specs  # same template, same version ids: parsed once for every scenario
    engine = _engine(path)
    return World(folder, engine, make_sessionmaker(engine), rt, clock, template.key)


def applicant(world: World) -> Actor:
    """Return the throw-away applicant account (made on first use)."""
    if world.applicant is None:
        with transaction(world.sessions) as session:
            user = directory.create_user(session, username=APPLICANT, platform_role="applicant")
            world.applicant = actor_for(session, user)
    return world.applicant


def officer(world: World, role: str, org: str | None) -> Actor:
    """Return a throw-away officer holding `role` (in `org` when the task is bound to one)."""
    found = world.actors.get((role, org))
    if found is not None:
        return found
    username = f"uji.{role}" + (f".{org}" if org else "")
    with transaction(world.sessions) as session:
        if session.scalar(select(Role.id).where(Role.key == role)) is None:
            directory.ensure_agency(session, code=agency_of(role))
            directory.ensure_roles(session, [role])
        user = directory.create_user(session, username=username[:120], platform_role="officer")
        directory.grant(session, user=user, role_key=role, organisation_code=org)
        actor = actor_for(session, user)
    world.actors[(role, org)] = actor
    return actor


def user_actor(world: World, user_id: int) -> Actor:
    """Return the actor of a user a task was assigned to by name."""
    with world.sessions() as session:
        return actor_for(session, directory.get_user_by_id(session, user_id))


def ensure_bindings(world: World, data: dict[str, object]) -> None:
    """Register the provider firms and users that the data binds lanes to, as the real directory would hold them."""
    with transaction(world.sessions) as session:
        found = world.rt.specs.latest(session, world.key)
        if found is None:
            return
        for meta in found[1].tasks.values():
            if not meta.role:
                continue
            firm = data.get(meta.bind_organisation or "")
            if isinstance(firm, str) and _CODE.match(firm):
                directory.ensure_agency(session, code=firm, kind="private", parent_code=agency_of(meta.role))
            person = data.get(meta.bind_user or "")
            if isinstance(person, str) and 0 < len(person) <= 120 and not _exists(session, person):
                user = directory.create_user(session, username=person, platform_role="officer")
                directory.grant(session, user=user, role_key=meta.role)


def _exists(session: Session, username: str) -> bool:
    try:
        directory.get_user(session, username)
    except DomainError:
        return False
    return True
