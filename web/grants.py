"""Tracking grants: after a correct tracking number and PIN, the browser may see that case.

A signed, expiring, HttpOnly cookie lists the tracking numbers this browser proved it knows the
PIN of, so the applicant is not asked again for each page (timeline, documents, survey) and the
PIN never travels in a URL.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
from fastapi import Request, Response

COOKIE = "mpp_track"
AUDIENCE = "mpp-track"
MINUTES = 120
MAX_CASES = 10


def _secret(request: Request) -> str:
    return str(request.app.state.ctx.settings.secret_key.get_secret_value())


def granted_numbers(request: Request) -> list[str]:
    """Return the tracking numbers this browser holds a valid grant for."""
    raw = request.cookies.get(COOKIE)
    if not raw:
        return []
    try:
        payload = jwt.decode(raw, _secret(request), algorithms=["HS256"], audience=AUDIENCE,
                             options={"require": ["exp", "aud"]})
    except jwt.PyJWTError:
        return []
    numbers = payload.get("tn", [])
    return [str(n) for n in numbers] if isinstance(numbers, list) else []


def tracking_granted(request: Request, tracking_number: str) -> bool:
    """Tell whether this browser proved the PIN of `tracking_number` recently."""
    return tracking_number.upper() in granted_numbers(request)


def grant(request: Request, response: Response, tracking_number: str) -> None:
    """Add a tracking number to the browser's grants (keeping the newest few)."""
    numbers = [n for n in granted_numbers(request) if n != tracking_number.upper()]
    numbers = [*numbers, tracking_number.upper()][-MAX_CASES:]
    exp = datetime.now(UTC) + timedelta(minutes=MINUTES)
    token = jwt.encode({"tn": numbers, "aud": AUDIENCE, "exp": int(exp.timestamp())}, _secret(request),
                       algorithm="HS256")
    response.set_cookie(COOKIE, token, max_age=MINUTES * 60, httponly=True, samesite="lax",
                        secure=bool(request.app.state.ctx.settings.cookie_secure), path="/")
