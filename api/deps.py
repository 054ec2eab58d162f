"""Dependencies shared by the endpoints, as `Annotated` aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session

from api.errors import FORBIDDEN, UNAUTHENTICATED, ApiError
from api.security import TokenClaims, read_token
from engine.context import AppContext
from engine.directory.actors import Actor, logged_in_actor
from web.deps import (
    ClientAddress,
    ContextDep,
    RuntimeDep,
    SessionDep,
    get_context,
    get_runtime,
    get_session,
    request_session,
)
from web.routing import Deferred

oauth2 = OAuth2PasswordBearer(tokenUrl="/api/auth/token", auto_error=False)


__all__ = ["ClientAddress", "ContextDep", "RuntimeDep", "SessionDep", "get_context", "get_session", "get_runtime"]


def actor_of_token(session: Session, ctx: AppContext, token: str | None) -> Actor | None:
    """Return the actor of a valid token, None without one; 401 for a bad, expired or ended token (a database read)."""
    if not token:
        return None
    claims = _claims(ctx, token)
    return _LoggedIn(session, claims).resolve()


def _claims(ctx: AppContext, token: str) -> TokenClaims:
    claims = read_token(token, secret=ctx.settings.secret_key.get_secret_value())
    if claims is None:  # a bad or expired token
        raise ApiError(UNAUTHENTICATED, "the token is invalid or expired", {"WWW-Authenticate": "Bearer"})
    return claims


class _LoggedIn(Deferred):
    """The caller's actor, read in the route's own thread: whether the account is active and the token's
    session epoch still its own (a logout, password change or deactivation ends it), with its memberships.
    """

    def __init__(self, session: Session, claims: TokenClaims, roles: tuple[str, ...] = ()) -> None:
        self.session, self.claims, self.roles = session, claims, roles
        self._actor: list[Actor] = []  # read once per request, shared with the role checks' copies

    def needing(self, roles: tuple[str, ...]) -> _LoggedIn:
        """Return the same check that also requires one of the platform roles."""
        copy = _LoggedIn(self.session, self.claims, roles)
        copy._actor = self._actor
        return copy

    def resolve(self) -> Actor:
        """Return the actor; 401 when the token's session ended, 403 without a required platform role."""
        if not self._actor:
            actor = logged_in_actor(self.session, user_id=self.claims.user_id, epoch=self.claims.epoch)
            if actor is None:
                raise ApiError(UNAUTHENTICATED, "the token is invalid or expired", {"WWW-Authenticate": "Bearer"})
            self._actor.append(actor)
        return _with_role(self._actor[0], self.roles)


def _with_role(actor: Actor, roles: tuple[str, ...]) -> Actor:
    if roles and actor.platform_role not in roles:
        raise ApiError(FORBIDDEN, f"this needs one of the platform roles: {', '.join(roles)}")
    return actor


# The dependencies are `async def`: FastAPI runs a plain `def` dependency in the thread pool, a hop
# each. The token's signature and expiry are checked here, on the event loop (no database: remembered
# per process, api/security.py); the account is read from the database in the route's own thread,
# before the route runs (`_LoggedIn`, resolved by the transactional route).
# Each takes the request and the token only (the session and the context read from the request): FastAPI
# solves every node of the tree on each request, so a route's tree is these two nodes, not six.
async def optional_actor(request: Request, token: Annotated[str | None, Depends(oauth2)]) -> _LoggedIn | None:
    """Return the caller's login check when a token is given (401 for a bad or expired one), else None."""
    return _logged_in(request, token) if token else None


async def current_actor(request: Request, token: Annotated[str | None, Depends(oauth2)]) -> _LoggedIn:
    """Return the caller's login check; 401 without a token."""
    if not token:
        raise ApiError(UNAUTHENTICATED, "log in first: send a bearer token", {"WWW-Authenticate": "Bearer"})
    return _logged_in(request, token)


def _logged_in(request: Request, token: str) -> _LoggedIn:
    ctx: AppContext = request.app.state.ctx
    claims = _claims(ctx, token)  # a refused token opens no session
    return _LoggedIn(request_session(request), claims)


CurrentActor = Annotated[Actor, Depends(current_actor)]
OptionalActor = Annotated[Actor | None, Depends(optional_actor)]


def _require(*roles: str) -> object:
    async def check(actor: Annotated[_LoggedIn, Depends(current_actor)]) -> _LoggedIn:
        return actor.needing(roles)

    return Depends(check)


AdminActor = Annotated[Actor, _require("admin")]
ModelerActor = Annotated[Actor, _require("admin", "analyst")]
StaffActor = Annotated[Actor, _require("admin", "analyst", "officer")]
