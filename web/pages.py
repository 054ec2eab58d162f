"""Pages every user shares: log in and log out."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from engine.directory.accounts import authenticate, end_sessions
from engine.models import User
from web.deps import ClientAddress, CsrfForm, OptionalPageActor, SessionDep
from web.ratelimit import RateLimited, count_login_attempt, login_succeeded
from web.routing import TransactionalRoute
from web.session import end_session, start_session
from web.templates import pick, shared_pages

routes = APIRouter(route_class=TransactionalRoute, include_in_schema=False)

HOME_OF = {"admin": "/kotak-tugas", "officer": "/kotak-tugas", "analyst": "/studio", "applicant": "/permohonan-saya"}


def safe_next(target: str | None) -> str | None:
    """Return a local path to go back to, refusing anything that could leave the site."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    return target


@routes.get("/masuk")
def login_page(request: Request, actor: OptionalPageActor, next: str | None = None) -> Response:  # noqa: A002
    """Show the login form."""
    return shared_pages.render(request, "login.html", {"next": safe_next(next) or ""})


@routes.post("/masuk")
def login(request: Request, session: SessionDep, form: CsrfForm, client: ClientAddress) -> Response:
    """Check the username and password; start a session and go where the user was heading."""
    username, password = str(form.get("username", "")).strip(), str(form.get("password", ""))
    target = safe_next(str(form.get("next", "")))
    lang = request.cookies.get("mpp_lang", "id")
    try:
        count_login_attempt(session, username=username, client=client)
    except RateLimited as exc:
        message = pick(lang, f"Terlalu banyak percobaan gagal; coba lagi dalam {exc.retry_after} detik.",
                       f"Too many failed attempts; try again in {exc.retry_after} s.")
        refused = shared_pages.render(request, "login.html", {"error": message, "username": username,
                                                              "next": target or ""}, status=429)
        refused.headers["Retry-After"] = str(exc.retry_after)
        return refused
    user = authenticate(session, username=username, password=password) if username and password else None
    if user is None:
        message = pick(lang, "Nama pengguna atau kata sandi salah.", "Wrong username or password.")
        return shared_pages.render(request, "login.html", {"error": message, "username": username,
                                                           "next": target or ""}, status=401)
    login_succeeded(session, username=username, client=client)
    welcome = RedirectResponse(target or _home(user), status_code=303)
    start_session(request, welcome, user_id=user.id, epoch=user.session_epoch)
    return welcome


def _home(user: User) -> str:
    return HOME_OF.get(user.platform_role, "/")


@routes.post("/keluar")
def logout(request: Request, session: SessionDep, form: CsrfForm, actor: OptionalPageActor) -> Response:
    """Log out: end every session and API token of the account, on every device."""
    user = session.get(User, actor.user_id) if actor is not None and actor.user_id is not None else None
    if user is not None:  # loaded already, to build the actor
        end_sessions(session, user=user)
    response = RedirectResponse("/", status_code=303)
    end_session(request, response)
    return response
