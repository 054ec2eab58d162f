"""Dependencies shared by the endpoints, as `Annotated` aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session

from api.context import AppContext
from api.errors import FORBIDDEN, UNAUTHENTICATED, ApiError
from api.routing import SESSION
from api.security import read_token
from engine.actors import Actor, actor_for
from engine.models import User
from engine.runtime import Runtime

oauth2 = OAuth2PasswordBearer(tokenUrl="/api/auth/token", auto_error=False)


def get_context(request: Request) -> AppContext:
    """Return the application context the app was built with."""
    ctx: AppContext = request.app.state.ctx
    return ctx


ContextDep = Annotated[AppContext, Depends(get_context)]


def get_session(request: Request, ctx: ContextDep) -> Session:
    """Open the request's session; the transactional route commits and closes it."""
    session = request.scope.get(SESSION)
    if session is None:
        session = ctx.sessions()
        request.scope[SESSION] = session
    return session


SessionDep = Annotated[Session, Depends(get_session)]


def get_runtime(ctx: ContextDep) -> Runtime:
    """Return the engine runtime."""
    return ctx.rt


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def optional_actor(session: SessionDep, ctx: ContextDep, token: Annotated[str | None, Depends(oauth2)]) -> Actor | None:
    """Return the caller's actor when a valid token is given, else None."""
    if not token:
        return None
    user_id = read_token(token, secret=ctx.settings.secret_key.get_secret_value())
    user = session.get(User, user_id) if user_id is not None else None
    if user is None or not user.active:
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
