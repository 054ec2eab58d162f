"""Retire and restore services, and hand out a deployed version as a package zip.

A retired process key leaves the public catalogue and accepts no new applications (alone or in an
integrated application); its running cases finish as usual: their tasks, timers and messages are
untouched, because retirement refuses only the start of a case. Restoring brings the key back.
Retirement belongs to the key, not to a version: deploying a new version keeps a key retired.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from engine.catalogue import package as package
from engine.catalogue import stewards as stewards
from engine.catalogue import versions as versions
from engine.directory import audit as audit
from engine.directory.actors import Actor
from engine.errors import DomainError, ProcessNotFound
from engine.models import RetiredProcess

MAX_REASON = 2000


class ServiceRetired(DomainError):
    """The service was retired: it accepts no new applications (its running cases still finish)."""

    code = "service-retired"

    def __init__(self, key: str) -> None:
        super().__init__(f"This service ({key}) no longer accepts applications; applications already filed "
                         "are still processed to the end.",
                         message_id=f"Layanan ini ({key}) sudah tidak menerima permohonan; permohonan yang sudah "
                         "diajukan tetap diproses sampai selesai.")
        self.key = key


@dataclass(frozen=True)
class Retirement:
    """When, by whom and why a process key was retired."""

    key: str
    retired_at: datetime
    retired_by: str
    reason: str


def _view(row: RetiredProcess) -> Retirement:
    return Retirement(row.key, row.retired_at, row.retired_by, row.reason)


def _authorize(session: Session, actor: Actor, key: str) -> None:
    """Refuse unknown keys (ProcessNotFound) and actors who may not change the service (NotAllowed)."""
    owner = stewards.owner_of(session, key)
    if owner is None:
        raise ProcessNotFound(f"no process '{key}'")
    stewards.require_edit(session, actor, key=key, agency=owner)


def retire(session: Session, *, key: str, actor: Actor, reason: str) -> Retirement:
    """Withdraw a service from the catalogue: no new applications, running cases finish; idempotent."""
    _authorize(session, actor, key)
    found = session.get(RetiredProcess, key)
    if found is not None:
        return _view(found)
    reason = reason.strip()[:MAX_REASON]
    row = RetiredProcess(key=key, retired_by=actor.username, reason=reason)
    session.add(row)
    session.flush()
    audit.record(session, actor=actor.username, action="process.retired", subject=key, detail={"reason": reason})
    return _view(row)


def restore(session: Session, *, key: str, actor: Actor, reason: str = "") -> bool:
    """Bring a retired service back to the catalogue; return whether it was retired."""
    _authorize(session, actor, key)
    found = session.get(RetiredProcess, key)
    if found is None:
        return False
    retired = _view(found)
    session.delete(found)
    session.flush()
    audit.record(session, actor=actor.username, action="process.restored", subject=key,
                 detail={"reason": reason.strip()[:MAX_REASON], "retired_by": retired.retired_by,
                         "retired_at": retired.retired_at.isoformat(), "retired_reason": retired.reason})
    return True


def retirement(session: Session, key: str) -> Retirement | None:
    """Return the retirement of a process key, or None while it is in the catalogue."""
    found = session.get(RetiredProcess, key)
    return _view(found) if found is not None else None


_RETIRED = select(RetiredProcess.key).where(RetiredProcess.key == bindparam("key"))  # built once: every start asks


def is_retired(session: Session, key: str) -> bool:
    """Tell whether a process key is retired."""
    return session.execute(_RETIRED, {"key": key}).first() is not None


def retired_keys(session: Session) -> frozenset[str]:
    """Return every retired process key."""
    return frozenset(session.scalars(select(RetiredProcess.key)))


def retirements(session: Session) -> dict[str, Retirement]:
    """Return the retirement of every retired process key, by key."""
    return {row.key: _view(row) for row in session.scalars(select(RetiredProcess))}


def refuse_retired(session: Session, key: str) -> None:
    """Refuse (ServiceRetired) a new application to a retired service."""
    if is_retired(session, key):
        raise ServiceRetired(key)


def version_zip(session: Session, *, key: str, version: int) -> bytes:
    """Return a deployed version as a zip that `mpp deploy` and `POST /api/processes` read back unchanged."""
    found = versions.get_version(session, key=key, version=version)
    return package.to_zip(versions.version_files(session, version_id=found.id))
