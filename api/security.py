"""Bearer tokens: signed (HS256), expiring, bound to a user id."""

from __future__ import annotations

from datetime import datetime, timedelta

import jwt

ALGORITHM = "HS256"
AUDIENCE = "mpp-api"


def create_token(*, user_id: int, secret: str, minutes: int, now: datetime) -> str:
    """Return a signed token for a user that expires after `minutes`."""
    payload = {"sub": str(user_id), "aud": AUDIENCE, "iat": int(now.timestamp()),
               "exp": int((now + timedelta(minutes=minutes)).timestamp())}
    return jwt.encode(payload, secret, algorithm=ALGORITHM)


def read_token(token: str, *, secret: str) -> int | None:
    """Return the user id of a valid, unexpired token, or None."""
    try:
        payload = jwt.decode(token, secret, algorithms=[ALGORITHM], audience=AUDIENCE,
                             options={"require": ["exp", "sub", "aud"]})
        return int(payload["sub"])
    except (jwt.PyJWTError, ValueError):
        return None
