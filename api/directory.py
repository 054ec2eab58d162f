"""The directory (admin only): agencies, roles, users and their memberships, every change audited."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

from api.deps import AdminActor, SessionDep
from api.routing import router
from api.schemas import (
    AgencyCreate,
    AgencyRead,
    MembershipCreate,
    MembershipRead,
    RoleCreate,
    RoleRead,
    UserCreate,
    UserRead,
    UserUpdate,
)
from engine.directory import audit as audit
from engine.directory import service as directory
from engine.directory.accounts import hash_password

routes = router(tags=["directory"])
UserId = Annotated[int, Path(ge=1, le=2**31 - 1)]
Page = Annotated[int, Query(ge=1, le=500)]


@routes.get("/api/agencies", response_model=list[AgencyRead])
def list_agencies(actor: AdminActor, session: SessionDep) -> list[AgencyRead]:
    """List every agency and provider."""
    return [AgencyRead.model_validate(a) for a in directory.list_agencies(session)]


@routes.post("/api/agencies", response_model=AgencyRead, status_code=201)
def create_agency(body: AgencyCreate, actor: AdminActor, session: SessionDep) -> AgencyRead:
    """Register an agency, or a private provider under a marketplace agency."""
    agency = directory.create_agency(session, code=body.code, name_id=body.name_id, name_en=body.name_en,
                                     kind=body.kind, parent_code=body.parent_code)
    audit.record(session, actor=actor.username, action="agency.created", subject=body.code)
    return AgencyRead.model_validate(agency)


@routes.get("/api/roles", response_model=list[RoleRead])
def list_roles(actor: AdminActor, session: SessionDep) -> list[RoleRead]:
    """List every role (`agency.role`)."""
    return [RoleRead.model_validate(r) for r in directory.list_roles(session)]


@routes.post("/api/roles", response_model=RoleRead, status_code=201)
def create_role(body: RoleCreate, actor: AdminActor, session: SessionDep) -> RoleRead:
    """Create a role of a registered agency (deployment creates the roles a package declares)."""
    role = directory.create_role(session, key=body.key, name=body.name)
    audit.record(session, actor=actor.username, action="role.created", subject=body.key)
    return RoleRead.model_validate(role)


@routes.get("/api/users", response_model=list[UserRead])
def list_users(actor: AdminActor, session: SessionDep, limit: Page = 100,
               offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0) -> list[UserRead]:
    """List users, by username."""
    return [UserRead.model_validate(u) for u in directory.list_users(session, limit=limit, offset=offset)]


@routes.post("/api/users", response_model=UserRead, status_code=201)
def create_user(body: UserCreate, actor: AdminActor, session: SessionDep) -> UserRead:
    """Create an account with a password (argon2id-hashed)."""
    user = directory.create_user(session, username=body.username, platform_role=body.platform_role,
                                 display_name=body.display_name, email=body.email, language=body.language,
                                 password_hash=hash_password(body.password))
    audit.record(session, actor=actor.username, action="user.created", subject=body.username,
                 detail={"platform_role": body.platform_role})
    return UserRead.model_validate(user)


@routes.get("/api/users/{user_id}", response_model=UserRead)
def read_user(user_id: UserId, actor: AdminActor, session: SessionDep) -> UserRead:
    """Return one user."""
    return UserRead.model_validate(directory.get_user_by_id(session, user_id))


@routes.patch("/api/users/{user_id}", response_model=UserRead)
def update_user(user_id: UserId, body: UserUpdate, actor: AdminActor, session: SessionDep) -> UserRead:
    """Change a user's name, e-mail, platform role, active flag or password.

    A new password or a deactivation ends every session and token of the account.
    """
    user = directory.get_user_by_id(session, user_id)
    changes = body.model_dump(exclude_none=True)
    directory.update_user(session, user=user, **changes)
    if "password" in changes:
        changes["password"] = "changed"  # noqa: S105 - an audit note, not a password
    audit.record(session, actor=actor.username, action="user.updated", subject=user.username, detail=changes)
    return UserRead.model_validate(user)


@routes.get("/api/users/{user_id}/memberships", response_model=list[MembershipRead])
def list_memberships(user_id: UserId, actor: AdminActor, session: SessionDep) -> list[MembershipRead]:
    """List the roles a user holds and in which organisation."""
    return [MembershipRead.model_validate(m) for m in directory.list_memberships(session, user_id)]


@routes.post("/api/users/{user_id}/memberships", response_model=MembershipRead, status_code=201)
def grant(user_id: UserId, body: MembershipCreate, actor: AdminActor, session: SessionDep) -> MembershipRead:
    """Give a user a role, in the role's agency or in a provider of its marketplace."""
    user = directory.get_user_by_id(session, user_id)
    membership = directory.grant(session, user=user, role_key=body.role_key, organisation_code=body.organisation_code)
    audit.record(session, actor=actor.username, action="membership.granted", subject=user.username,
                 detail={"role": membership.role_key, "organisation": membership.organisation_code})
    return MembershipRead.model_validate(membership)


@routes.delete("/api/users/{user_id}/memberships/{membership_id}", status_code=204)
def revoke(user_id: UserId, membership_id: Annotated[int, Path(ge=1, le=2**31 - 1)], actor: AdminActor,
           session: SessionDep) -> None:
    """Take a role away from a user."""
    user = directory.get_user_by_id(session, user_id)
    directory.revoke(session, user_id=user_id, membership_id=membership_id)
    audit.record(session, actor=actor.username, action="membership.revoked", subject=user.username,
                 detail={"membership_id": membership_id})
