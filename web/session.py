"""Browser sessions: a signed, expiring, HttpOnly cookie naming the user, and the CSRF token.

The cookie holds a JWT (audience `mpp-web`, distinct from API bearer tokens, so neither can be
used as the other) with the user id, a random CSRF secret and an expiry. Nothing else about the
user lives in the cookie: the actor is rebuilt from the database on every request, so a
deactivated account or a removed membership takes effect at once.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt
from fastapi import Request, Response

COOKIE = "mpp_session"
CSRF_COOKIE = "mpp_csrf"
LANG_COOKIE = "mpp_lang"
AUDIENCE = "mpp-web"
ALGORITHM = "HS256"


@dataclass(frozen=True)
class WebSession:
    """What the session cookie says: who is logged in (if anyone)."""

    user_id: int | None


def _secret(request: Request) -> str:
    return str(request.app.state.ctx.settings.secret_key.get_secret_value())


def _secure(request: Request) -> bool:
    return bool(request.app.state.ctx.settings.cookie_secure)


def read_session(request: Request) -> WebSession:
    """Return the session the request's cookie proves, or an anonymous one."""
    raw = request.cookies.get(COOKIE)
    if not raw:
        return WebSession(None)
    try:
        payload = jwt.decode(raw, _secret(request), algorithms=[ALGORITHM], audience=AUDIENCE,
                             options={"require": ["exp", "sub", "aud"]})
        return WebSession(int(payload["sub"]))
    except (jwt.PyJWTError, ValueError):
        return WebSession(None)


def start_session(request: Request, response: Response, *, user_id: int) -> None:
    """Log a user in: set the session cookie and rotate the CSRF token."""
    minutes = request.app.state.ctx.settings.web_session_minutes
    now = datetime.now(UTC)
    token = jwt.encode({"sub": str(user_id), "aud": AUDIENCE, "iat": int(now.timestamp()),
                        "exp": int((now + timedelta(minutes=minutes)).timestamp())}, _secret(request),
                       algorithm=ALGORITHM)
    response.set_cookie(COOKIE, token, max_age=minutes * 60, httponly=True, samesite="lax", secure=_secure(request),
                        path="/")
    issue_csrf(request, response, rotate=True)


def end_session(request: Request, response: Response) -> None:
    """Log out: drop the session cookie and rotate the CSRF token."""
    response.delete_cookie(COOKIE, path="/")
    issue_csrf(request, response, rotate=True)


# CSRF: a signed double-submit token. The cookie holds a random value; forms echo it in a hidden
# field (or fetch() in the X-CSRF-Token header); the server checks both are equal and signed by
# it. SameSite=Strict keeps the cookie off cross-site requests as a second line.

def _sign(request: Request, nonce: str) -> str:
    mac = hmac.new(_secret(request).encode(), f"csrf:{nonce}".encode(), hashlib.sha256).hexdigest()[:32]
    return f"{nonce}.{mac}"


def _valid(request: Request, token: str) -> bool:
    nonce, _, _mac = token.partition(".")
    return bool(nonce) and hmac.compare_digest(_sign(request, nonce), token)


def csrf_token(request: Request) -> str:
    """Return the CSRF token for this request's pages (minting one when the browser has none)."""
    current = request.scope.get("mpp.csrf")
    if current:
        return str(current)
    existing = request.cookies.get(CSRF_COOKIE, "")
    token = existing if existing and _valid(request, existing) else _sign(request, secrets.token_urlsafe(18))
    request.scope["mpp.csrf"] = token
    return token


def issue_csrf(request: Request, response: Response, *, rotate: bool = False) -> None:
    """Set the CSRF cookie on a response when the browser lacks it (or always, to rotate it)."""
    if rotate:
        request.scope["mpp.csrf"] = _sign(request, secrets.token_urlsafe(18))
    token = csrf_token(request)
    if rotate or request.cookies.get(CSRF_COOKIE) != token:
        response.set_cookie(CSRF_COOKIE, token, httponly=True, samesite="strict", secure=_secure(request), path="/")


def csrf_ok(request: Request, submitted: str | None) -> bool:
    """Tell whether a submitted token matches the browser's cookie and is ours."""
    cookie = request.cookies.get(CSRF_COOKIE, "")
    return bool(submitted) and bool(cookie) and hmac.compare_digest(cookie, str(submitted)) and _valid(request, cookie)


def language(request: Request) -> str:
    """Return the page language: `?lang=` first, then the cookie, then Bahasa Indonesia."""
    asked = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE) or "id"
    return asked if asked in ("id", "en") else "id"
