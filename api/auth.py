"""Authentication: exchange a username and password for an expiring bearer token."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends
from fastapi.security import OAuth2PasswordRequestForm

from api.deps import ClientAddress, ContextDep, CurrentActor, SessionDep
from api.errors import UNAUTHENTICATED, ApiError
from api.routing import router
from api.schemas import MembershipPair, MeRead, TokenRead
from api.security import create_token
from engine.directory.accounts import authenticate
from engine.models import User
from web.ratelimit import count_login_attempt, login_succeeded

routes = router(tags=["auth"])


@routes.post("/api/auth/token", response_model=TokenRead)
def token(form: Annotated[OAuth2PasswordRequestForm, Depends()], session: SessionDep, ctx: ContextDep,
          client: ClientAddress) -> TokenRead:
    """Log in with username and password (OAuth2 password form); return a bearer token.

    Failed logins slow down the username at this client (429 with Retry-After), never at others.
    """
    # Counted before the password is checked, as a failure until it succeeds: a flood of parallel
    # guesses cannot slip in before the first one is recorded.
    count_login_attempt(session, username=form.username, client=client)
    user = authenticate(session, username=form.username, password=form.password)
    if user is None:
        raise ApiError(UNAUTHENTICATED, "wrong username or password", {"WWW-Authenticate": "Bearer"})
    login_succeeded(session, username=form.username, client=client)
    minutes = ctx.settings.token_minutes
    # Tokens expire on the wall clock, whatever clock the engine runs on.
    access = create_token(user_id=user.id, epoch=user.session_epoch, secret=ctx.settings.secret_key.get_secret_value(),
                          minutes=minutes, now=datetime.now(UTC))
    return TokenRead(access_token=access, expires_in=minutes * 60)


@routes.get("/api/me", response_model=MeRead)
def me(actor: CurrentActor, session: SessionDep) -> MeRead:
    """Return the caller's account and the roles they hold."""
    user = session.get(User, actor.user_id)
    assert user is not None  # noqa: S101 - the actor was built from this row
    pairs = [MembershipPair(role=r, organisation=o) for r, o in sorted(actor.memberships)]
    return MeRead(id=user.id, username=user.username, display_name=user.display_name,
                  platform_role=user.platform_role, language=user.language, memberships=pairs)
