"""Which partner systems the deployed packages call, who uses each, and whether an admin bound it.

The newest version of every process key counts (older versions' running cases use the same
system codes in practice); a retired key is listed but does not make an unbound system urgent.
A use is covered in an environment by its agency's binding or the all-agencies one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.catalogue import registry as registry
from engine.connectors import bindings as bindings
from engine.connectors.spec import FILE, SpecInvalid, parse
from engine.models import Agency, ConnectorBinding, ProcessFile, RetiredProcess

_DEFAULT_ENVIRONMENT = bindings.DEFAULT_ENVIRONMENT  # the field `bindings` hides the module in SystemEntry


@dataclass(frozen=True)
class SystemUse:
    """One service's use of a system: the process key, its name, its agency and the operations it calls."""

    key: str
    name: dict[str, str]
    operations: tuple[str, ...]
    retired: bool
    agency: str = ""


@dataclass(frozen=True)
class SystemEntry:
    """A partner system as admins see it: who uses it and its bindings, in every environment."""

    system: str
    uses: list[SystemUse] = field(default_factory=list)
    bindings: list[ConnectorBinding] = field(default_factory=list)
    environment: str = _DEFAULT_ENVIRONMENT

    @property
    def here(self) -> list[ConnectorBinding]:
        """Return the bindings of the platform's environment, the all-agencies one first."""
        return [row for row in self.bindings if row.environment == self.environment]

    @property
    def binding(self) -> ConnectorBinding | None:
        """Return the all-agencies binding of the platform's environment, or None."""
        return next((row for row in self.here if not row.agency), None)

    @property
    def unbound_agencies(self) -> list[str]:
        """List the agencies whose services take applications and call this system with no binding here."""
        bound = {row.agency for row in self.here}
        if "" in bound:  # an every-agency binding covers them all
            return []
        return sorted({use.agency for use in self.uses if not use.retired and use.agency not in bound})

    @property
    def needs_binding(self) -> bool:
        """Tell whether a service that takes applications calls this system while nobody bound it for its agency."""
        return bool(self.unbound_agencies)

    @property
    def is_bound(self) -> bool:
        """Tell whether the system has any binding in the platform's environment."""
        return bool(self.here)


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
            agency = version.service.get("agency")
            out.setdefault(system, []).append(SystemUse(version.key, _service_name(version.service, version.key),
                                                        tuple(sorted(names)), version.key in retired,
                                                        agency if isinstance(agency, str) else ""))
    return out


def list_systems(session: Session, *, environment: str = bindings.DEFAULT_ENVIRONMENT) -> list[SystemEntry]:
    """List every system a deployed package calls or an admin bound, with its users and bindings."""
    uses = _uses(session)
    bound: dict[str, list[ConnectorBinding]] = {}
    for row in bindings.list_bindings(session):
        bound.setdefault(row.system, []).append(row)
    return [SystemEntry(system, sorted(uses.get(system, []), key=lambda u: u.key), bound.get(system, []), environment)
            for system in sorted(set(uses) | set(bound))]


def agencies(session: Session) -> list[tuple[str, str, str]]:
    """List the agencies a binding may name: code, Indonesian name, English name."""
    return [(code, name_id, name_en) for code, name_id, name_en in
            session.execute(select(Agency.code, Agency.name_id, Agency.name_en).order_by(Agency.code))]
