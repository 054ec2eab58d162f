"""Who may change a service: admins every one, analysts the services of their own agencies.

An analyst belongs to an agency by holding its analyst role, `<agency>.analis` (a role no lane
routes to, so it brings no tasks). A service belongs to the agency its service.toml names; a
package that moves a service to another agency needs both. An agency that does not exist yet is
free: the analyst who first deploys a service for it is given its analyst role.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.cases.assignment import agency_of
from engine.directory import service as directory
from engine.directory.actors import Actor
from engine.errors import NotAllowed
from engine.models import Agency, ProcessVersion, Role, User

ANALYST = "analis"


def analyst_role(agency: str) -> str:
    """Return the analyst role of an agency."""
    return f"{agency}.{ANALYST}"


def analyst_agencies(actor: Actor) -> frozenset[str]:
    """Return the agencies whose services the actor edits as an analyst."""
    return frozenset(agency_of(role) for role, _org in actor.memberships if role == analyst_role(agency_of(role)))


def agency_exists(session: Session, agency: str) -> bool:
    """Tell whether the directory holds the agency."""
    return session.scalar(select(Agency.id).where(Agency.code == agency)) is not None


def owner_of(session: Session, key: str) -> str | None:
    """Return the agency that owns a process key (its newest version's), or None for a new key."""
    service = session.scalar(select(ProcessVersion.service).where(ProcessVersion.key == key)
                             .order_by(ProcessVersion.version.desc()).limit(1))
    return str(service.get("agency", "")) if isinstance(service, dict) else None


def may_edit(session: Session, actor: Actor, agency: str) -> bool:
    """Tell whether the actor may change services of the agency (or declare it, when it is new)."""
    if actor.platform_role in ("admin", "system"):
        return True
    if actor.platform_role != "analyst":
        return False
    return agency in analyst_agencies(actor) or not agency_exists(session, agency)


def require_edit(session: Session, actor: Actor, *, key: str, agency: str) -> None:
    """Refuse (NotAllowed) unless the actor may change the service `key` and give it to `agency`."""
    for wanted in {agency, owner_of(session, key) or agency}:
        if not may_edit(session, actor, wanted):
            raise NotAllowed(f"only analysts of '{wanted}' (role {analyst_role(wanted)}) or an admin may change "
                             f"the service '{key}'",
                             message_id=f"hanya analis '{wanted}' (peran {analyst_role(wanted)}) atau admin yang "
                             f"boleh mengubah layanan '{key}'")


def require_package(session: Session, actor: Actor, service: dict[str, object]) -> None:
    """Refuse (NotAllowed) a package the actor may not deploy: its service.toml names key and agency."""
    key, agency = str(service.get("key", "")), str(service.get("agency", ""))
    if key and agency:  # a package without them is refused by lint, with the field to fix
        require_edit(session, actor, key=key, agency=agency)


def adopt(session: Session, actor: Actor, agency: str) -> bool:
    """After a deployment: give an analyst who declared a new agency its analyst role. Return whether granted."""
    if actor.platform_role != "analyst" or actor.user_id is None or agency in analyst_agencies(actor):
        return False
    ensure_analyst_role(session, agency)
    user = session.get(User, actor.user_id)
    if user is None:
        return False
    directory.grant(session, user=user, role_key=analyst_role(agency))
    return True


def ensure_analyst_role(session: Session, agency: str) -> None:
    """Create the agency's analyst role when it does not exist."""
    if session.scalar(select(Role.id).where(Role.key == analyst_role(agency))) is None:
        directory.ensure_roles(session, [analyst_role(agency)], {analyst_role(agency): "Analis proses"})
