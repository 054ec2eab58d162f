"""The administrators' Integrasi page: bind each partner system's base URL and credential in the browser.

The same engine functions as PUT/DELETE /api/connectors do the work (and the auditing), so both
paths behave alike. A binding belongs to an agency (`instansi`, empty: every agency) and an
environment (`lingkungan`, by default the platform's own, MPP_ENVIRONMENT). A stored secret is
never put back into a page: the form says only whether one is kept, and an empty secret field
keeps it.
"""

from __future__ import annotations

import re
from pathlib import Path as FilePath
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from engine.connectors import bindings as bindings
from engine.connectors import catalogue as catalogue
from engine.connectors.spec import SYSTEM
from engine.errors import DomainError, InvalidInput
from engine.models import ConnectorBinding
from web.deps import AdminPageActor, ContextDep, CsrfForm, SessionDep
from web.errors import error_page
from web.routing import TransactionalRoute
from web.session import language
from web.templates import Pages, pick

routes = APIRouter(route_class=TransactionalRoute, include_in_schema=False)
pages = Pages(FilePath(__file__).resolve().parent / "templates")
SystemArg = Annotated[str, Path(pattern=SYSTEM.pattern)]
FlashArg = Annotated[str | None, Query(pattern=SYSTEM.pattern)]
AgencyQuery = Annotated[str, Query(pattern=r"^([a-z][a-z0-9_]{0,63})?$")]
EnvironmentQuery = Annotated[str | None, Query(pattern=bindings.ENVIRONMENT.pattern)]
HEADER_NAME = re.compile(r"^[A-Za-z0-9-]{1,120}$")
MAX_URL, MAX_SECRET = 2000, 4000
AUTH_LABELS = {"none": ("Tanpa autentikasi", "No credential"),
               "bearer": ("Token bearer (Authorization: Bearer …)", "Bearer token (Authorization: Bearer …)"),
               "header": ("Header khusus (mis. X-Api-Key)", "Custom header (e.g. X-Api-Key)")}


def _text(form: FormData, name: str, limit: int) -> str:
    value = form.get(name)
    return value.strip()[:limit] if isinstance(value, str) else ""


def _typed(form: FormData, system: str, environment: str) -> dict[str, str]:
    """Return what the admin typed, to show back on an error (never the secret)."""
    return {"sistem": system, "base_url": _text(form, "base_url", MAX_URL),
            "auth_kind": _text(form, "auth_kind", 16) or "none", "auth_header": _text(form, "auth_header", 120),
            "instansi": _text(form, "instansi", 64), "lingkungan": _text(form, "lingkungan", 32) or environment}


def _change(form: FormData, typed: dict[str, str]) -> bindings.BindingChange:
    secret = form.get("secret")
    if form.get("hapus_rahasia"):
        kept: str | None = ""  # an empty secret removes the stored one
    else:
        kept = secret[:MAX_SECRET] if isinstance(secret, str) and secret else None
    return bindings.BindingChange(typed["base_url"], typed["auth_kind"], typed["auth_header"] or None, kept)


def _say(exc: DomainError, lang: str) -> str:
    """Return the engine's "Indonesian / English" message in the page's language."""
    text = exc.text(lang)
    if " / " not in text:
        return text
    id_text, en_text = text.split(" / ", 1)
    return en_text if lang == "en" else id_text


def _field_of(session: SessionDep, typed: dict[str, str]) -> str:
    """Name the field an engine refusal is about, checked in the engine's own order."""
    if not SYSTEM.match(typed["sistem"]):
        return "sistem"
    if typed["auth_kind"] not in bindings.AUTH_KINDS:
        return "auth_kind"
    if typed["auth_kind"] == "header" and not typed["auth_header"]:
        return "auth_header"
    if not bindings.ENVIRONMENT.match(typed["lingkungan"]):
        return "lingkungan"
    try:
        bindings.check_scope(session, bindings.Scope(typed["instansi"], typed["lingkungan"]))
    except InvalidInput:
        return "instansi"
    return "base_url"


def _where(system: str, scope: bindings.Scope, environment: str) -> str:
    """Return the query naming a binding's agency and environment (left out when they are the defaults)."""
    query = {k: v for k, v in (("instansi", scope.agency), ("lingkungan", scope.environment))
             if v and not (k == "lingkungan" and v == environment)}
    return urlencode(query)


def _page(request: Request, session: SessionDep, ctx: ContextDep, *, flash: str = "", editing: str | None = None,
          typed: dict[str, str] | None = None, errors: dict[str, str] | None = None,
          chosen: ConnectorBinding | None = None, status: int = 200) -> Response:
    lang = language(request)
    environment = ctx.settings.environment
    return pages.render(request, "integrations/index.html", {
        "systems": catalogue.list_systems(session, environment=environment), "flash": flash, "editing": editing,
        "typed": typed or {}, "errors": errors or {}, "chosen": chosen, "environment": environment,
        "agencies": [(code, pick(lang, name_id, name_en)) for code, name_id, name_en in catalogue.agencies(session)],
        "auth_kinds": [(k, pick(lang, *AUTH_LABELS[k])) for k in bindings.AUTH_KINDS],
        "where": lambda row: _where(row.system, bindings.Scope(row.agency, row.environment), environment),
    }, status=status)


@routes.get("/admin/integrasi")
def integrations_page(request: Request, session: SessionDep, actor: AdminPageActor, ctx: ContextDep,
                      tersambung: FlashArg = None, dihapus: FlashArg = None, sistem: FlashArg = None,
                      instansi: AgencyQuery = "", lingkungan: EnvironmentQuery = None) -> Response:
    """Show the partner systems the packages call, who uses each, and their bindings (never a secret)."""
    lang = language(request)
    scope = bindings.Scope(instansi, lingkungan or ctx.settings.environment)
    flash = ""
    # Only what happened is announced: the query string alone could claim anything.
    if tersambung and bindings.exact(session, system=tersambung, scope=scope) is not None:
        flash = pick(lang, f"Sistem {tersambung} tersambung.", f"System {tersambung} is bound.")
    elif dihapus and bindings.exact(session, system=dihapus, scope=scope) is None:
        flash = pick(lang, f"Ikatan sistem {dihapus} dihapus.", f"The binding of {dihapus} was removed.")
    # "Ubah" links choose a binding to edit: its values fill the system's form.
    chosen = bindings.exact(session, system=sistem, scope=scope) if sistem else None
    return _page(request, session, ctx, flash=flash, chosen=chosen)


def _bind(request: Request, session: SessionDep, actor: AdminPageActor, ctx: ContextDep, form: FormData,
          system: str, editing: str) -> Response:
    typed = _typed(form, system, ctx.settings.environment)
    lang = language(request)
    if typed["auth_kind"] == "header" and typed["auth_header"] and not HEADER_NAME.match(typed["auth_header"]):
        problem = {"auth_header": pick(lang, "Nama header hanya huruf, angka, dan tanda minus.",
                                       "A header name holds only letters, digits and hyphens.")}
        return _page(request, session, ctx, editing=editing, typed=typed, errors=problem, status=422)
    scope = bindings.Scope(typed["instansi"], typed["lingkungan"])
    try:
        bindings.set_binding(session, system=system, change=_change(form, typed), actor=actor.username,
                             key=ctx.settings.secret_key.get_secret_value(), agency=scope.agency,
                             environment=scope.environment)
    except InvalidInput as exc:
        return _page(request, session, ctx, editing=editing, typed=typed,
                     errors={_field_of(session, typed): _say(exc, lang)}, status=422)
    where = _where(system, scope, ctx.settings.environment)
    return RedirectResponse(f"/admin/integrasi?tersambung={system}{'&' + where if where else ''}#sistem-{system}",
                            status_code=303)


@routes.post("/admin/integrasi")
def integrations_bind_new(request: Request, session: SessionDep, actor: AdminPageActor, ctx: ContextDep,
                          form: CsrfForm) -> Response:
    """Bind a system no deployed package uses yet, by its code."""
    return _bind(request, session, actor, ctx, form, _text(form, "sistem", 64), editing="baru")


@routes.post("/admin/integrasi/{system}")
def integrations_bind(request: Request, session: SessionDep, actor: AdminPageActor, ctx: ContextDep,
                      form: CsrfForm, system: SystemArg) -> Response:
    """Bind a partner system for an agency and environment; an empty secret keeps the stored one."""
    return _bind(request, session, actor, ctx, form, system, editing=f"ikat-{system}")


@routes.get("/admin/integrasi/{system}/hapus")
def integrations_unbind_confirm(request: Request, session: SessionDep, actor: AdminPageActor, ctx: ContextDep,
                                system: SystemArg, instansi: AgencyQuery = "",
                                lingkungan: EnvironmentQuery = None) -> Response:
    """Ask before removing a binding: calls it served use another binding, or wait and then fail."""
    scope = bindings.Scope(instansi, lingkungan or ctx.settings.environment)
    row = bindings.exact(session, system=system, scope=scope)
    if row is None:
        return _not_bound(request, system)
    return pages.render(request, "integrations/unbind.html",
                        {"row": row, "where": _where(system, scope, ctx.settings.environment)})


@routes.post("/admin/integrasi/{system}/hapus")
def integrations_unbind(request: Request, session: SessionDep, actor: AdminPageActor, ctx: ContextDep,
                        form: CsrfForm, system: SystemArg, instansi: AgencyQuery = "",
                        lingkungan: EnvironmentQuery = None) -> Response:
    """Remove a partner system's binding for an agency and environment (audited)."""
    scope = bindings.Scope(instansi, lingkungan or ctx.settings.environment)
    try:
        bindings.delete_binding(session, system=system, actor=actor.username, agency=scope.agency,
                                environment=scope.environment)
    except bindings.BindingNotFound:
        return _not_bound(request, system)
    where = _where(system, scope, ctx.settings.environment)
    return RedirectResponse(f"/admin/integrasi?dihapus={system}{'&' + where if where else ''}", status_code=303)


def _not_bound(request: Request, system: str) -> Response:
    detail = pick(language(request), f"Sistem '{system}' belum diikat untuk instansi dan lingkungan ini.",
                  f"The system '{system}' is not bound for this agency and environment.")
    return error_page(request, 404, "Sistem belum terhubung", "System not bound", detail)
