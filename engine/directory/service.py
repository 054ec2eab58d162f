"""The directory: agencies (organisations), roles, users and their memberships."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from engine.bpmn.conventions import declared_roles
from engine.cases.assignment import APPLICANT_ROLE, agency_of
from engine.directory.accounts import end_sessions, set_password
from engine.errors import AlreadyExists, InvalidInput, NotFound
from engine.models import Agency, Membership, Role, User

PLATFORM_ROLES = ("admin", "analyst", "officer", "applicant")
AGENCY_KINDS = ("city_office", "provincial_office", "vertical", "state_company", "private")


def ensure_agency(
    session: Session, *, code: str, name_id: str = "", name_en: str = "", kind: str = "city_office",
    parent_code: str | None = None,
) -> tuple[Agency, bool]:
    """Return the agency with this code, creating it when missing; the flag says it was created."""
    agency = session.scalar(select(Agency).where(Agency.code == code))
    if agency is not None:
        return agency, False
    if kind not in AGENCY_KINDS:
        raise InvalidInput(f"unknown agency kind '{kind}'")
    agency = Agency(code=code, kind=kind, name_id=name_id or code, name_en=name_en or name_id or code,
                    parent_code=parent_code)
    session.add(agency)
    session.flush()
    return agency, True


def ensure_roles(session: Session, keys: Iterable[str], names: Mapping[str, str] | None = None) -> list[str]:
    """Create the roles that do not exist yet, named from `names`; return the created keys.

    A role's agency must exist already: the directory never invents an agency for a role key
    (a typo in a lane would otherwise become a made-up office). Existing roles are left alone.
    """
    wanted = sorted({k for k in keys if k != APPLICANT_ROLE})
    if not wanted:
        return []
    existing = set(session.scalars(select(Role.key).where(Role.key.in_(wanted))))
    missing = [key for key in wanted if key not in existing]
    agencies = set(session.scalars(select(Agency.code).where(Agency.code.in_({agency_of(k) for k in missing}))))
    for key in missing:
        if agency_of(key) not in agencies:
            raise NotFound(f"no agency '{agency_of(key)}' for role '{key}'; register the agency first")
        session.add(Role(key=key, agency_code=agency_of(key), name=(names or {}).get(key) or key.split(".", 1)[1]))
    session.flush()
    return missing


def create_user(
    session: Session, *, username: str, platform_role: str = "applicant", display_name: str = "",
    email: str | None = None, password_hash: str | None = None, language: str = "id",
) -> User:
    """Create a user; the username must be new."""
    if platform_role not in PLATFORM_ROLES:
        raise InvalidInput(f"unknown platform role '{platform_role}'")
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise AlreadyExists(f"username '{username}' is taken")
    user = User(username=username, platform_role=platform_role, display_name=display_name or username,
                email=email, password_hash=password_hash, language=language)
    session.add(user)
    session.flush()
    return user


def update_user(
    session: Session, *, user: User, display_name: str | None = None, email: str | None = None,
    platform_role: str | None = None, active: bool | None = None, language: str | None = None,
    password: str | None = None,
) -> None:
    """Change the fields given; a new password or a deactivation ends the account's sessions and tokens."""
    if platform_role is not None and platform_role not in PLATFORM_ROLES:
        raise InvalidInput(f"unknown platform role '{platform_role}'")
    fields = {"display_name": display_name, "email": email, "platform_role": platform_role, "active": active,
              "language": language}
    for name, value in fields.items():
        if value is not None:
            setattr(user, name, value)
    if password is not None:
        set_password(session, user=user, password=password)
    elif active is False:
        end_sessions(session, user=user)
    session.flush()


def get_user(session: Session, username: str) -> User:
    """Return the user with this username or raise NotFound."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"no user '{username}'")
    return user


def grant(session: Session, *, user: User, role_key: str, organisation_code: str | None = None) -> Membership:
    """Give a user a role within an organisation (default: the role's own agency)."""
    if session.scalar(select(Role.id).where(Role.key == role_key)) is None:
        raise NotFound(f"no role '{role_key}'")
    org = organisation_code or agency_of(role_key)
    if not organisation_exists(session, org, agency_of(role_key)):
        raise InvalidInput(f"'{org}' is not an organisation of '{agency_of(role_key)}'")
    found = session.scalar(select(Membership).where(
        Membership.user_id == user.id, Membership.role_key == role_key, Membership.organisation_code == org))
    if found is not None:
        return found
    membership = Membership(user_id=user.id, role_key=role_key, organisation_code=org)
    session.add(membership)
    session.flush()
    return membership


def memberships_of(session: Session, user_id: int) -> set[tuple[str, str]]:
    """Return the (role, organisation) pairs a user holds."""
    rows = session.execute(
        select(Membership.role_key, Membership.organisation_code).where(Membership.user_id == user_id))
    return {(role, org) for role, org in rows}


def organisation_exists(session: Session, code: str, marketplace: str) -> bool:
    """Tell whether `code` is the agency itself or a provider registered under it."""
    agency = session.scalar(select(Agency).where(Agency.code == code))
    return agency is not None and (agency.code == marketplace or agency.parent_code == marketplace)


def providers_of(session: Session, marketplace: str) -> list[tuple[str, str]]:
    """Return the provider firms registered under a marketplace agency: (code, name), by name."""
    rows = session.execute(select(Agency.code, Agency.name_id).where(Agency.parent_code == marketplace)
                           .order_by(Agency.name_id))
    return [(code, name) for code, name in rows]


# Built once: every step that routes a task asks these (SQLAlchemy still caches their compiled SQL).
_ROLE_ID = select(Role.id).where(Role.key == bindparam("key"))


def role_exists(session: Session, key: str) -> bool:
    """Tell whether the directory holds a role."""
    return session.execute(_ROLE_ID, {"key": key}).first() is not None


def list_agencies(session: Session) -> list[Agency]:
    """Return every agency and provider, by code."""
    return list(session.scalars(select(Agency).order_by(Agency.code)))


def list_roles(session: Session) -> list[Role]:
    """Return every role, by key."""
    return list(session.scalars(select(Role).order_by(Role.key)))


def list_users(session: Session, *, limit: int, offset: int) -> list[User]:
    """Return a page of users, by username."""
    return list(session.scalars(select(User).order_by(User.username).limit(limit).offset(offset)))


def get_user_by_id(session: Session, user_id: int) -> User:
    """Return a user by id or raise NotFound."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"no user {user_id}")
    return user


def list_memberships(session: Session, user_id: int) -> list[Membership]:
    """Return the memberships of a user, by role."""
    get_user_by_id(session, user_id)
    return list(session.scalars(select(Membership).where(Membership.user_id == user_id)
                                .order_by(Membership.role_key)))


def apply_agencies(session: Session, entries: Iterable[dict[str, Any]]) -> None:
    """Create the agencies a package's service.toml declares, when they do not exist."""
    for entry in entries:
        names = entry.get("name", {})
        ensure_agency(session, code=str(entry["code"]), kind=str(entry["kind"]),
                      name_id=str(names.get("id", entry["code"])), name_en=str(names.get("en", "")),
                      parent_code=entry.get("parent"))


def apply_declarations(session: Session, service: dict[str, Any]) -> list[str]:
    """Create the agencies and roles a service.toml declares, and nothing else; return the new role keys.

    A role is named in Indonesian, the language officers work in; its English name stays in the
    deployed service.toml.
    """
    apply_agencies(session, service.get("agencies", []))
    roles = declared_roles(service)
    return ensure_roles(session, roles, {key: name_id for key, (name_id, _name_en) in roles.items()})


def create_agency(session: Session, *, code: str, name_id: str, name_en: str, kind: str,
                  parent_code: str | None) -> Agency:
    """Create an agency; its code must be new, and a parent must exist."""
    if session.scalar(select(Agency.id).where(Agency.code == code)) is not None:
        raise AlreadyExists(f"agency '{code}' exists already")
    if parent_code and session.scalar(select(Agency.id).where(Agency.code == parent_code)) is None:
        raise NotFound(f"no agency '{parent_code}'")
    agency, _created = ensure_agency(session, code=code, name_id=name_id, name_en=name_en, kind=kind,
                                     parent_code=parent_code)
    return agency


def create_role(session: Session, *, key: str, name: str = "") -> Role:
    """Create a role `agency.role` of an existing agency; the key must be new."""
    if session.scalar(select(Role.id).where(Role.key == key)) is not None:
        raise AlreadyExists(f"role '{key}' exists already")
    ensure_roles(session, [key], {key: name} if name else None)
    role = session.scalar(select(Role).where(Role.key == key))
    assert role is not None  # noqa: S101 - created just above
    return role


def revoke(session: Session, *, user_id: int, membership_id: int) -> None:
    """Remove one of a user's memberships."""
    membership = session.get(Membership, membership_id)
    if membership is None or membership.user_id != user_id:
        raise NotFound(f"no membership {membership_id} for user {user_id}")
    session.delete(membership)
    session.flush()
