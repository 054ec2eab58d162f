"""Bearer tokens: signed (HS256), expiring, bound to a user id and the account's session epoch."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

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
        claims, expires = _verified(token, secret)
    except (jwt.PyJWTError, ValueError, TypeError):
        return None
    # Compared on every read, not only when first verified: a remembered token stops working when it expires.
    return claims if time.time() < expires else None


# A client sends the same token with every request; its signature is checked once per process.
# A token that verified under a secret verifies again under it, so remembering the result (keyed by
# the secret too) changes no answer. Only tokens that verified are kept (a refused one raises, and
# lru_cache keeps no exception): tokens this platform signed, so garbage cannot fill the cache. Whether
# the account may still use the token (its session epoch, whether it is active) is not decided here:
# the caller reads that from the database on every request.
@lru_cache(maxsize=4096)
def _verified(token: str, secret: str) -> tuple[TokenClaims, float]:
    payload = jwt.decode(token, secret, algorithms=[ALGORITHM], audience=AUDIENCE,
                         options={"require": ["exp", "sub", "aud", "ep"]})
    return TokenClaims(int(payload["sub"]), int(payload["ep"])), float(payload["exp"])
