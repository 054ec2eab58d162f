"""Which partner systems the deployed packages call, who uses each, and whether an admin bound it.

The newest version of every process key counts (older versions' running cases use the same
system codes in practice); a retired key is listed but does not make an unbound system urgent.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.catalogue import registry as registry
from engine.connectors import bindings as bindings
from engine.connectors.spec import FILE, SpecInvalid, parse
from engine.models import ConnectorBinding, ProcessFile, RetiredProcess


@dataclass(frozen=True)
class SystemUse:
    """One service's use of a system: the process key, its name and the operations it calls."""

    key: str
    name: dict[str, str]
    operations: tuple[str, ...]
    retired: bool


@dataclass(frozen=True)
class SystemEntry:
    """A partner system as admins see it: who uses it and its binding (None when not bound)."""

    system: str
    uses: list[SystemUse] = field(default_factory=list)
    binding: ConnectorBinding | None = None

    @property
    def needs_binding(self) -> bool:
        """Tell whether a service that takes applications calls this system while nobody bound it."""
        return self.binding is None and any(not use.retired for use in self.uses)


def _service_name(service: dict[str, object], key: str) -> dict[str, str]:
    name = service.get("name")
    return {str(k): str(v) for k, v in name.items()} if isinstance(name, dict) else {"id": key, "en": key}


def _uses(session: Session) -> dict[str, list[SystemUse]]:
    latest = {v.id: v for v in registry.latest_versions(session)}
    retired = set(session.scalars(select(RetiredProcess.key)))
    rows = session.execute(select(ProcessFile.version_id, ProcessFile.content)
                           .where(ProcessFile.version_id.in_(list(latest)), ProcessFile.name == FILE))
    out: dict[str, list[SystemUse]] = {}
    for version_id, content in rows:
        try:
            operations = parse(content.decode())
        except (SpecInvalid, UnicodeDecodeError):
            continue  # lint refused such a file at deployment; nothing to list
        version = latest[version_id]
        by_system: dict[str, list[str]] = {}
        for op in operations.values():
            by_system.setdefault(op.system, []).append(op.name)
        for system, names in by_system.items():
            out.setdefault(system, []).append(SystemUse(version.key, _service_name(version.service, version.key),
                                                        tuple(sorted(names)), version.key in retired))
    return out


def list_systems(session: Session, *, environment: str = bindings.DEFAULT_ENVIRONMENT) -> list[SystemEntry]:
    """List every system a deployed package calls or an admin bound, with its users and binding."""
    uses = _uses(session)
    bound = {row.system: row for row in bindings.list_bindings(session) if row.environment == environment}
    return [SystemEntry(system, sorted(uses.get(system, []), key=lambda u: u.key), bound.get(system))
            for system in sorted(set(uses) | set(bound))]
