"""Bearer tokens: signed (HS256), expiring, bound to a user id and the account's session epoch."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt

ALGORITHM = "HS256"
AUDIENCE = "mpp-api"


@dataclass(frozen=True)
class TokenClaims:
    """What a valid token says: whose it is, and the session epoch it was issued in."""

    user_id: int
    epoch: int


def create_token(*, user_id: int, epoch: int, secret: str, minutes: int, now: datetime) -> str:
    """Return a signed token for a user, in their current session epoch, that expires after `minutes`."""
    payload = {"sub": str(user_id), "ep": epoch, "aud": AUDIENCE, "iat": int(now.timestamp()),
               "exp": int((now + timedelta(minutes=minutes)).timestamp())}
    return jwt.encode(payload, secret, algorithm=ALGORITHM)


def read_token(token: str, *, secret: str) -> TokenClaims | None:
    """Return the claims of a valid, unexpired token, or None (the epoch is for the caller to compare)."""
    try:
        payload = jwt.decode(token, secret, algorithms=[ALGORITHM], audience=AUDIENCE,
                             options={"require": ["exp", "sub", "aud", "ep"]})
        return TokenClaims(int(payload["sub"]), int(payload["ep"]))
    except (jwt.PyJWTError, ValueError, TypeError):
        return None
