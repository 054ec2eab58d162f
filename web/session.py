"""Browser sessions: a signed, expiring, HttpOnly cookie naming the user, and the CSRF token.

The cookie holds a JWT (audience `mpp-web`, distinct from API bearer tokens, so neither can be
used as the other) with the user id, the account's session epoch, a random session id and an
expiry. Nothing else about the user lives in the cookie: the actor is rebuilt from the database on
every request, and a cookie whose epoch is not the account's current one is refused, so logout, a
password change or deactivation ends every session of the account at once.
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
SCOPE_KEY = "mpp.session"
ANONYMOUS = "anonymous"


@dataclass(frozen=True)
class WebSession:
    """What the session cookie says: who is logged in (if anyone), in which epoch, under which session id."""

    user_id: int | None
    epoch: int = 0
    sid: str = ANONYMOUS


def _secret(request: Request) -> str:
    return str(request.app.state.ctx.settings.secret_key.get_secret_value())


def _secure(request: Request) -> bool:
    return bool(request.app.state.ctx.settings.cookie_secure)


def read_session(request: Request) -> WebSession:
    """Return the session the request's cookie proves (its epoch still to be checked), or an anonymous one."""
    known = request.scope.get(SCOPE_KEY)
    if isinstance(known, WebSession):
        return known
    found = WebSession(None)
    raw = request.cookies.get(COOKIE)
    if raw:
        try:
            payload = jwt.decode(raw, _secret(request), algorithms=[ALGORITHM], audience=AUDIENCE,
                                 options={"require": ["exp", "sub", "aud", "ep", "sid"]})
            found = WebSession(int(payload["sub"]), int(payload["ep"]), str(payload["sid"]))
        except (jwt.PyJWTError, ValueError, TypeError):
            pass
    request.scope[SCOPE_KEY] = found
    return found


def start_session(request: Request, response: Response, *, user_id: int, epoch: int) -> None:
    """Log a user in: set the session cookie, under a new session id, and a CSRF token bound to it."""
    minutes = request.app.state.ctx.settings.web_session_minutes
    now = datetime.now(UTC)
    started = WebSession(user_id, epoch, secrets.token_urlsafe(18))
    token = jwt.encode({"sub": str(user_id), "ep": epoch, "sid": started.sid, "aud": AUDIENCE,
                        "iat": int(now.timestamp()), "exp": int((now + timedelta(minutes=minutes)).timestamp())},
                       _secret(request), algorithm=ALGORITHM)
    response.set_cookie(COOKIE, token, max_age=minutes * 60, httponly=True, samesite="lax", secure=_secure(request),
                        path="/")
    request.scope[SCOPE_KEY] = started
    issue_csrf(request, response, rotate=True)


def end_session(request: Request, response: Response) -> None:
    """Log out this browser: drop the session cookie and give it an anonymous CSRF token."""
    response.delete_cookie(COOKIE, path="/")
    request.scope[SCOPE_KEY] = WebSession(None)
    issue_csrf(request, response, rotate=True)


# CSRF: a signed double-submit token bound to the session. The cookie holds a random nonce and an
# HMAC over the session id and the nonce (a visitor's "session id" is `anonymous`); forms echo it in
# a hidden field (or fetch() in the X-CSRF-Token header); the server checks both are equal and that
# the HMAC is over this request's session. A cookie/field pair minted for another session is refused,
# and login gives the browser a new one. SameSite=Strict keeps the cookie off cross-site requests.

def _sign(request: Request, nonce: str) -> str:
    message = f"csrf:{read_session(request).sid}:{nonce}".encode()
    mac = hmac.new(_secret(request).encode(), message, hashlib.sha256).hexdigest()[:32]
    return f"{nonce}.{mac}"


def _valid(request: Request, token: str) -> bool:
    nonce, _, _mac = token.partition(".")
    return bool(nonce) and hmac.compare_digest(_sign(request, nonce).encode(), token.encode())


def csrf_token(request: Request) -> str:
    """Return the CSRF token for this request's pages (minting one when the browser has none for its session)."""
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
    """Tell whether a submitted token matches the browser's cookie and was made by us for this session."""
    cookie = request.cookies.get(CSRF_COOKIE, "")
    return (bool(submitted) and bool(cookie) and hmac.compare_digest(cookie.encode(), str(submitted).encode())
            and _valid(request, cookie))


def language(request: Request) -> str:
    """Return the page language: `?lang=` first, then the cookie, then Bahasa Indonesia."""
    asked = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE) or "id"
    return asked if asked in ("id", "en") else "id"
