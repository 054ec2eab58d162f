"""Dependencies shared by the endpoints, as `Annotated` aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from fastapi.security import OAuth2PasswordBearer

from api.errors import FORBIDDEN, UNAUTHENTICATED, ApiError
from api.security import read_token
from engine.directory.actors import Actor, logged_in_actor
from web.deps import ClientAddress, ContextDep, RuntimeDep, SessionDep, get_context, get_runtime, get_session

oauth2 = OAuth2PasswordBearer(tokenUrl="/api/auth/token", auto_error=False)


__all__ = ["ClientAddress", "ContextDep", "RuntimeDep", "SessionDep", "get_context", "get_session", "get_runtime"]


# The dependencies that only compute are `async def`: FastAPI runs a plain `def` dependency in the
# thread pool, a hop each. This one reads the database (blocking), so it stays a `def`: one hop.
def optional_actor(session: SessionDep, ctx: ContextDep, token: Annotated[str | None, Depends(oauth2)]) -> Actor | None:
    """Return the caller's actor when a valid token is given, else None."""
    if not token:
        return None
    claims = read_token(token, secret=ctx.settings.secret_key.get_secret_value())
    actor = logged_in_actor(session, user_id=claims.user_id, epoch=claims.epoch) if claims is not None else None
    if actor is None:  # a bad or expired token, or one a logout, password change or deactivation ended
        raise ApiError(UNAUTHENTICATED, "the token is invalid or expired", {"WWW-Authenticate": "Bearer"})
    return actor


async def current_actor(actor: Annotated[Actor | None, Depends(optional_actor)]) -> Actor:
    """Return the caller's actor; 401 without a valid token."""
    if actor is None:
        raise ApiError(UNAUTHENTICATED, "log in first: send a bearer token", {"WWW-Authenticate": "Bearer"})
    return actor


CurrentActor = Annotated[Actor, Depends(current_actor)]
OptionalActor = Annotated[Actor | None, Depends(optional_actor)]


def _require(*roles: str) -> object:
    async def check(actor: CurrentActor) -> Actor:
        if actor.platform_role not in roles:
            raise ApiError(FORBIDDEN, f"this needs one of the platform roles: {', '.join(roles)}")
        return actor

    return Depends(check)


AdminActor = Annotated[Actor, _require("admin")]
ModelerActor = Annotated[Actor, _require("admin", "analyst")]
StaffActor = Annotated[Actor, _require("admin", "analyst", "officer")]
