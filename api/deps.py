"""Dependencies shared by the endpoints, as `Annotated` aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from fastapi.security import OAuth2PasswordBearer

from api.errors import FORBIDDEN, UNAUTHENTICATED, ApiError
from api.security import read_token
from engine.directory.actors import Actor, actor_for
from engine.models import User
from web.deps import ClientAddress, ContextDep, RuntimeDep, SessionDep, get_context, get_runtime, get_session

oauth2 = OAuth2PasswordBearer(tokenUrl="/api/auth/token", auto_error=False)


__all__ = ["ClientAddress", "ContextDep", "RuntimeDep", "SessionDep", "get_context", "get_session", "get_runtime"]


def optional_actor(session: SessionDep, ctx: ContextDep, token: Annotated[str | None, Depends(oauth2)]) -> Actor | None:
    """Return the caller's actor when a valid token is given, else None."""
    if not token:
        return None
    claims = read_token(token, secret=ctx.settings.secret_key.get_secret_value())
    user = session.get(User, claims.user_id) if claims is not None else None
    # A token from an earlier epoch was ended by a logout, a password change or a deactivation.
    if claims is None or user is None or not user.active or user.session_epoch != claims.epoch:
        raise ApiError(UNAUTHENTICATED, "the token is invalid or expired", {"WWW-Authenticate": "Bearer"})
    return actor_for(session, user)


def current_actor(actor: Annotated[Actor | None, Depends(optional_actor)]) -> Actor:
    """Return the caller's actor; 401 without a valid token."""
    if actor is None:
        raise ApiError(UNAUTHENTICATED, "log in first: send a bearer token", {"WWW-Authenticate": "Bearer"})
    return actor


CurrentActor = Annotated[Actor, Depends(current_actor)]
OptionalActor = Annotated[Actor | None, Depends(optional_actor)]


def _require(*roles: str) -> object:
    def check(actor: CurrentActor) -> Actor:
        if actor.platform_role not in roles:
            raise ApiError(FORBIDDEN, f"this needs one of the platform roles: {', '.join(roles)}")
        return actor

    return Depends(check)


AdminActor = Annotated[Actor, _require("admin")]
ModelerActor = Annotated[Actor, _require("admin", "analyst")]
StaffActor = Annotated[Actor, _require("admin", "analyst", "officer")]
