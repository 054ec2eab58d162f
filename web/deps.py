"""Dependencies shared by the JSON API and the pages, as `Annotated` aliases."""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Path, Request
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from engine.context import AppContext
from engine.directory.actors import Actor, logged_in_actor
from engine.errors import DomainError
from engine.runtime import Runtime
from web.routing import SESSION
from web.session import csrf_ok, read_session

# A database row id in a URL: bounded so that no database is handed a number it cannot store.
RowId = Annotated[int, Path(ge=1, le=2**31 - 1)]


class LoginRequired(DomainError):
    """A page needs a logged-in user; the error handler redirects to the login page."""

    code = "unauthenticated"

    def __init__(self, next_url: str) -> None:
        super().__init__("login required", message_id="perlu masuk")
        self.next_url = next_url


class PageForbidden(DomainError):
    """The logged-in user may not open this page."""

    code = "forbidden"

    def __init__(self, message_id: str, message_en: str) -> None:
        super().__init__(message_en, message_id=message_id)


class CsrfFailed(DomainError):
    """A form came without the page's CSRF token (or with a foreign one)."""

    code = "form-expired"

    def __init__(self) -> None:
        super().__init__("Reload the page and submit again.", message_id="Muat ulang halaman lalu kirim lagi.")


# Dependencies that only compute are `async def`: FastAPI runs each plain `def` dependency in the
# thread pool, one hop per dependency per request. Those that read the database stay `def`.
async def get_context(request: Request) -> AppContext:
    """Return the application context the app was built with."""
    ctx: AppContext = request.app.state.ctx
    return ctx


ContextDep = Annotated[AppContext, Depends(get_context)]


# The two below, which every API request resolves, read the context from the request rather than
# depend on `get_context`: FastAPI solves every node of a route's dependency tree on each request,
# a cached one too, so each node left out is CPU saved on the event loop (api/deps.py does the same).
def request_session(request: Request) -> Session:
    """Return the request's session, opened on first use (no I/O before its first statement)."""
    session: Session | None = request.scope.get(SESSION)
    if session is None:
        ctx: AppContext = request.app.state.ctx
        session = ctx.sessions()
        request.scope[SESSION] = session
    return session


async def get_session(request: Request) -> Session:
    """Open the request's session (no I/O before its first statement); the transactional route commits and closes it."""
    return request_session(request)


SessionDep = Annotated[Session, Depends(get_session)]


async def get_runtime(request: Request) -> Runtime:
    """Return the engine runtime."""
    ctx: AppContext = request.app.state.ctx
    return ctx.rt


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def optional_page_actor(request: Request, session: SessionDep) -> Actor | None:
    """Return the actor of the session cookie's user, or None for a visitor (or an ended session)."""
    cookie = read_session(request)
    actor = logged_in_actor(session, user_id=cookie.user_id, epoch=cookie.epoch) if cookie.user_id is not None else None
    if actor is None:
        return None
    request.scope["mpp.actor"] = actor
    return actor


OptionalPageActor = Annotated[Actor | None, Depends(optional_page_actor)]


@lru_cache(maxsize=8)
def _networks(proxies: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(p, strict=False) for p in proxies)


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    # A dual-stack socket shows IPv4 peers as ::ffff:a.b.c.d.
    return address.ipv4_mapped if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped else address


async def client_address(request: Request) -> str:
    """Return the client's address: the socket peer, or behind a trusted proxy the right-most untrusted hop.

    X-Forwarded-For is believed only when the peer is one of `trusted_proxies`: anyone else could
    write any address there. Proxies append the address they saw, so reading from the right and
    skipping our own proxies gives the first address no proxy of ours vouches for.
    """
    peer = request.client.host if request.client else ""
    proxies = _networks(tuple(request.app.state.ctx.settings.trusted_proxies))

    def trusted(text: str) -> bool:
        address = _address(text)
        return address is not None and any(address in net for net in proxies)

    if not proxies or not trusted(peer):
        address = _address(peer)
        return str(address) if address is not None else peer or "unknown"
    hops = [hop.strip() for value in request.headers.getlist("x-forwarded-for") for hop in value.split(",")]
    hops = [hop for hop in hops if hop]
    for hop in reversed(hops):
        if not trusted(hop):
            address = _address(hop)
            return str(address) if address is not None else hop[:64]
    return hops[0][:64] if hops else peer


ClientAddress = Annotated[str, Depends(client_address)]


async def page_actor(request: Request, actor: OptionalPageActor) -> Actor:
    """Return the logged-in actor; send a visitor to the login page and back here after."""
    if actor is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(quote(target, safe="/?=&"))
    return actor


PageActor = Annotated[Actor, Depends(page_actor)]


def _require(*roles: str) -> Any:
    async def check(actor: PageActor) -> Actor:
        if actor.platform_role not in roles:
            raise PageForbidden("Halaman ini tidak tersedia untuk akun Anda.",
                                "This page is not available to your account.")
        return actor

    return Depends(check)


StaffPageActor = Annotated[Actor, _require("admin", "analyst", "officer")]
ModelerPageActor = Annotated[Actor, _require("admin", "analyst")]
AdminPageActor = Annotated[Actor, _require("admin")]


async def csrf_form(request: Request) -> FormData:
    """Parse the POSTed form and check its CSRF token (field `csrf_token` or header X-CSRF-Token)."""
    form = await request.form()
    submitted = form.get("csrf_token") or request.headers.get("x-csrf-token")
    if not csrf_ok(request, submitted if isinstance(submitted, str) else None):
        raise CsrfFailed()
    return form


async def csrf_header(request: Request) -> None:
    """Check the X-CSRF-Token header of a fetch() call against the cookie."""
    if not csrf_ok(request, request.headers.get("x-csrf-token")):
        raise CsrfFailed()


CsrfForm = Annotated[FormData, Depends(csrf_form)]
CsrfHeader = Annotated[None, Depends(csrf_header)]
