"""The catalogue, a service's standard, applying (for oneself or for a walk-in applicant), my cases."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import anyio.to_thread
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from starlette.datastructures import FormData

from engine.cases import access as access
from engine.cases import filing as filing
from engine.cases import priority as priority
from engine.cases import requirements as requirements
from engine.cases import service as cases
from engine.cases import tasks as tasks
from engine.cases.assignment import APPLICANT_ROLE
from engine.cases.service import CHANNELS
from engine.catalogue import lifecycle as lifecycle
from engine.catalogue import service as catalogue
from engine.connectors import http as http
from engine.connectors import identity as identity
from engine.directory.actors import Actor
from engine.documents import filestore as filestore
from engine.errors import NotAllowed, NotFound
from forms.validation import FormInvalid
from portal import needs as needs_form
from portal import notice_form as notice_form
from portal.slots import read_slots, slot_fields, slot_name
from web.deps import (
    ClientAddress,
    ContextDep,
    CsrfForm,
    LoginRequired,
    OptionalPageActor,
    PageActor,
    RuntimeDep,
    SessionDep,
    optional_page_actor,
)
from web.grants import grant
from web.jsonform import build_fields, errors_by_field, read_form
from web.ratelimit import RateLimited, count_nik_check
from web.routing import TransactionalRoute, in_thread
from web.session import language, read_session
from web.taskflow import other_errors, store_uploads
from web.templates import Pages, pick

routes = APIRouter(route_class=TransactionalRoute, include_in_schema=False)
pages = Pages(Path(__file__).resolve().parent / "templates")
SKIP = ("channel",)  # chosen apart from the form, with each channel explained


@routes.get("/")
def home(request: Request, session: SessionDep, actor: OptionalPageActor) -> Response:
    """Show the service catalogue, grouped by the agency that runs each service."""
    groups: dict[tuple[str, str, str], list[catalogue.Service]] = {}
    retired = lifecycle.retired_keys(session)
    for service in (s for s in catalogue.list_services(session) if s.key not in retired):
        groups.setdefault((service.agency, service.agency_id, service.agency_en), []).append(service)
    return pages.render(request, "catalogue.html", {"groups": groups})


@routes.get("/layanan/{key}")
def service(request: Request, key: str, session: SessionDep, rt: RuntimeDep, actor: OptionalPageActor) -> Response:
    """Show one service's standard: requirements, steps, time, fee, product, channels."""
    return pages.render(request, "service.html", {"service": catalogue.get_service(session, rt=rt, key=key),
                                                  "retired": lifecycle.is_retired(session, key)})


def may_apply(actor: Actor) -> None:
    """Refuse anyone but applicants and front-office officers (who file for walk-in applicants)."""
    if actor.platform_role != "applicant" and not access.may_file_for_others(actor):
        raise NotAllowed("only applicants and front-office officers can file applications")


def _apply_page(request: Request, session: SessionDep, rt: RuntimeDep, actor: Actor, key: str, *,
                values: dict[str, Any], errors: dict[str, str], status: int = 200, extra: dict[str, Any] | None = None,
                ) -> Response:
    lang = language(request)
    form = cases.start_form(session, rt=rt, process_key=key)
    choices = cases.provider_choices(session, rt=rt, process_key=key)
    skip = (*SKIP, *needs_form.skipped(form.service))
    fields = build_fields(form.schema, form.ui_schema, lang=lang, values=values, errors=errors, skip=skip)
    for f in fields:  # a provider firm is chosen from the registered ones, not typed
        if f.name in choices:
            f.kind, f.options = "select", choices[f.name]
    channels = [c for c in CHANNELS if c in form.service.get("channels", CHANNELS)]
    file_names = {filestore.ref(r.id): r.filename for r in own_files(session, values, actor)}
    documents = slot_fields(requirements.document_slots(form.service), lang=lang, values=values, errors=errors)
    context = {"service": catalogue.get_service(session, rt=rt, key=key), "fields": fields, "errors": errors,
               "documents": documents,
               "channels": channels, "values": values, "files": file_names,
               "outreach_groups": priority.outreach_groups(form.service),
               "need_labels": [*needs_form.labels(lang), notice_form.label(lang)],
               **notice_form.context([form.service]),
               "on_behalf": actor.platform_role != "applicant", "nik_name_field": identity.name_field(form.schema),
               **(extra or {})}
    return pages.render(request, "apply.html", context, status=status)


def own_files(session: SessionDep, values: dict[str, Any], actor: Actor) -> list[Any]:
    """Return the stored files the values reference that this actor uploaded (their names are shown back)."""
    ids = filestore.refs_in(values)
    return [r for i in sorted(ids) if (r := session.get(filestore.StoredFile, i)) is not None
            and r.uploaded_by == actor.user_id]


@routes.get("/layanan/{key}/ajukan")
def apply_page(request: Request, key: str, session: SessionDep, rt: RuntimeDep, actor: PageActor) -> Response:
    """Show the application form of a service."""
    may_apply(actor)
    lifecycle.refuse_retired(session, key)
    return _apply_page(request, session, rt, actor, key, values={"channel": "daring"}, errors={})


@routes.post("/layanan/{key}/ajukan")
def apply(request: Request, key: str, session: SessionDep, rt: RuntimeDep, actor: PageActor,
          form: CsrfForm) -> Response:
    """Check and file an application; show the tracking number and PIN, or the form with its errors."""
    may_apply(actor)
    lifecycle.refuse_retired(session, key)  # before any upload is stored
    lang = language(request)
    start = cases.start_form(session, rt=rt, process_key=key)
    data, uploads = read_form(start.schema, start.ui_schema, form, skip=(*SKIP, *needs_form.skipped(start.service)))
    needs, need_values = needs_form.read_needs(form)
    data = priority.with_form_fields(start.schema, data, needs)
    errors: dict[str, str] = errors_by_field(priority.check(start.service, needs), lang=lang)
    errors.update(store_uploads(session, rt=rt, actor=actor, data=data, uploads=uploads, lang=lang))
    slots = requirements.document_slots(start.service)
    slot_files, slot_values, slot_errors = read_slots(session, rt=rt, actor=actor, form=form, slots=slots, lang=lang)
    errors.update(slot_errors)
    channel = str(form.get("channel") or "")
    applicant = str(form.get("applicant_username") or "").strip() or None
    accepted = notice_form.read(form)
    values = {**data, **slot_values, **need_values, "channel": channel, "applicant_username": applicant or "",
              notice_form.FIELD: accepted}
    errors.update(notice_form.errors(rt, accepted, lang=lang))
    if channel not in start.service.get("channels", CHANNELS):
        errors["channel"] = "Pilih kanal layanan." if lang == "id" else "Choose a service channel."
    if errors:  # a refused file or channel is reported with every other error of the same submit
        errors = {**other_errors(start.schema, {**data, "channel": channel}, lang=lang, skip=set(errors)), **errors}
    if not errors:
        try:  # a missing required document is named together with the form's own errors
            applicant_id = cases.applicant_for(session, actor=actor, applicant_username=applicant)
            started = filing.file_application(session, rt=rt, process_key=key, data=data, channel=channel,
                                              actor=actor, applicant_id=applicant_id, documents=slot_files,
                                              needs=needs, notice_accepted=accepted)
        except FormInvalid as exc:
            errors = errors_by_field(exc.field_errors, lang=lang)
        except (NotFound, NotAllowed) as exc:
            errors = {"applicant_username": str(exc)}
        except filestore.FileRejected as exc:
            errors = {"(form)": exc.text(lang)}
    if errors:
        # Nothing was filed (the savepoint rolled back); the files that did upload stay in the
        # request's transaction, which commits because this refusal is returned, not raised.
        return _apply_page(request, session, rt, actor, key, values=values, errors=errors, status=422)
    response = pages.render(request, "applied.html", {"started": started, "service": start.service})
    grant(request, response, started.tracking_number)
    return response


@routes.post("/layanan/{key}/periksa-nik")
async def check_nik(request: Request, key: str, session: SessionDep, rt: RuntimeDep, ctx: ContextDep, form: CsrfForm,
                    client: ClientAddress) -> Response:
    """Check the typed NIK and name with the civil registry: JSON for fetch, else the apply page with the result.

    The registry may take seconds (up to `identity.TIMEOUT_S`): it is asked outside the request threads
    (`MPP_REQUEST_THREADS`, a few per process), so a slow registry holds none of them.
    """
    wants_json = "application/json" in request.headers.get("accept", "")
    first = await in_thread(functools.partial(_nik_before_registry, request, key, session, rt, ctx, form, client,
                                              wants_json=wants_json))
    if isinstance(first, Response):
        return first
    found = await anyio.to_thread.run_sync(identity.ask, first)
    answer = _NikAnswer(found.outcome.value, found.text(language(request)), 200)
    return await in_thread(functools.partial(_nik_reply, request, session, rt, key=key, form=form, json=wants_json,
                                             answer=answer))


def _nik_before_registry(request: Request, key: str, session: SessionDep, rt: RuntimeDep, ctx: ContextDep,
                         form: FormData, client: str, *, wants_json: bool) -> Response | http.Request:
    """Do what a NIK check does before the registry: the answer when it ends there, else the registry's request."""
    if read_session(request).user_id is None:  # before counting: visitors are not served at all
        return _nik_login_required(key, wants_json)
    lang = language(request)
    name = next((str(form.get(n) or "") for n in identity.NAME_FIELDS if form.get(n)), "")
    refused: identity.IdentityInputInvalid | None = None
    try:
        nik, name = identity.check_input(nik=str(form.get("nik") or ""), name=name)
    except identity.IdentityInputInvalid as exc:
        refused, nik = exc, ""
    try:  # counted before the request's session reads (SQLite's first reader holds the write lock)
        count_nik_check(session, client=client, nik=nik or None, secret=ctx.settings.secret_key.get_secret_value())
    except RateLimited as exc:
        text = pick(lang, f"Terlalu banyak pemeriksaan NIK; coba lagi dalam {exc.retry_after} detik.",
                    f"Too many NIK checks; try again in {exc.retry_after} s.")
        answer = _NikAnswer("limited", text, 429, {"Retry-After": str(exc.retry_after)})
        return _nik_reply(request, session, rt, key=key, form=form, json=wants_json, answer=answer)
    # Read what the check needs in a short session of its own, closed before the registry is asked:
    # the call may take seconds, and SQLite's write lock (taken by any transaction) must not wait on it.
    with ctx.sessions() as reading:
        actor = optional_page_actor(request, reading)
        if actor is None:
            return _nik_login_required(key, wants_json)
        may_apply(actor)
        if identity.name_field(cases.start_form(reading, rt=rt, process_key=key).schema) is None:
            raise NotFound(f"service '{key}' has no NIK to check")
        prepared = None if refused else identity.prepare(reading, settings=ctx.settings, nik=nik, name=name)
    if refused is not None or prepared is None:
        answer = _NikAnswer("invalid", refused.text(lang) if refused else "", 422)
    elif isinstance(prepared, identity.Verdict):  # no registry bound: nothing to wait for
        answer = _NikAnswer(prepared.outcome.value, prepared.text(lang), 200)
    else:
        return prepared
    return _nik_reply(request, session, rt, key=key, form=form, json=wants_json, answer=answer)


@dataclass(frozen=True)
class _NikAnswer:
    verdict: str  # match, mismatch, unavailable; or invalid / limited before any call
    message: str
    status: int
    headers: dict[str, str] = field(default_factory=dict)


def _nik_login_required(key: str, wants_json: bool) -> Response:
    if wants_json:
        return JSONResponse({"verdict": "login", "message": "Masuk dahulu. / Log in first."}, status_code=401)
    raise LoginRequired(quote(f"/layanan/{key}/ajukan", safe="/"))


def _nik_reply(request: Request, session: SessionDep, rt: RuntimeDep, *, key: str, form: FormData, json: bool,
               answer: _NikAnswer) -> Response:
    """Answer fetch with the verdict alone; answer a plain post with the apply page, everything typed kept."""
    if json:
        return JSONResponse({"verdict": answer.verdict, "message": answer.message}, status_code=answer.status,
                            headers=answer.headers)
    actor = optional_page_actor(request, session)
    if actor is None:
        return _nik_login_required(key, json)
    start = cases.start_form(session, rt=rt, process_key=key)
    data, _uploads = read_form(start.schema, start.ui_schema, form,  # a check stores no files
                               skip=(*SKIP, *needs_form.skipped(start.service)))
    kept = {slot_name(s): [str(v) for v in form.getlist(f"{slot_name(s)}__keep")]
            for s in requirements.document_slots(start.service)}  # files a refusal kept stay ticked
    values = {**data, **kept, **needs_form.read_needs(form)[1], "channel": str(form.get("channel") or ""),
              "applicant_username": str(form.get("applicant_username") or ""),
              notice_form.FIELD: notice_form.read(form)}
    page = _apply_page(request, session, rt, actor, key, values=values, errors={}, status=answer.status,
                       extra={"nik_check": answer})
    page.headers.update(answer.headers)
    return page


@routes.get("/permohonan-saya")
def my_cases(request: Request, session: SessionDep, actor: PageActor) -> Response:
    """List the applications the user filed or that were filed for them."""
    rows, total = cases.list_cases(session, actor=actor, limit=100, offset=0)
    mine = [t for t in tasks.list_tasks(session, actor=actor, limit=100)[0] if t.role == APPLICANT_ROLE]
    return pages.render(request, "my_cases.html", {"cases": rows, "total": total, "tasks": mine})
