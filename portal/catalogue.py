"""The catalogue, a service's standard, applying (for oneself or for a walk-in applicant), my cases."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from engine.cases import access as access
from engine.cases import service as cases
from engine.cases import tasks as tasks
from engine.cases.assignment import APPLICANT_ROLE
from engine.cases.service import CHANNELS
from engine.catalogue import lifecycle as lifecycle
from engine.catalogue import service as catalogue
from engine.directory.actors import Actor
from engine.documents import filestore as filestore
from engine.errors import NotAllowed, NotFound
from forms.validation import FormInvalid
from web.deps import CsrfForm, OptionalPageActor, PageActor, RuntimeDep, SessionDep
from web.grants import grant
from web.jsonform import build_fields, errors_by_field, read_form
from web.routing import TransactionalRoute
from web.session import language
from web.taskflow import store_uploads
from web.templates import Pages

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


def _may_apply(actor: Actor) -> None:
    if actor.platform_role != "applicant" and not access.may_file_for_others(actor):
        raise NotAllowed("only applicants and front-office officers can file applications")


def _apply_page(request: Request, session: SessionDep, rt: RuntimeDep, actor: Actor, key: str, *,
                values: dict[str, Any], errors: dict[str, str], status: int = 200, extra: dict[str, Any] | None = None,
                ) -> Response:
    lang = language(request)
    form = cases.start_form(session, rt=rt, process_key=key)
    choices = cases.provider_choices(session, rt=rt, process_key=key)
    fields = build_fields(form.schema, form.ui_schema, lang=lang, values=values, errors=errors, skip=SKIP)
    for f in fields:  # a provider firm is chosen from the registered ones, not typed
        if f.name in choices:
            f.kind, f.options = "select", choices[f.name]
    channels = [c for c in CHANNELS if c in form.service.get("channels", CHANNELS)]
    file_names = {filestore.ref(r.id): r.filename for r in _own_files(session, values, actor)}
    context = {"service": catalogue.get_service(session, rt=rt, key=key), "fields": fields, "errors": errors,
               "channels": channels, "values": values, "files": file_names,
               "on_behalf": actor.platform_role != "applicant", **(extra or {})}
    return pages.render(request, "apply.html", context, status=status)


def _own_files(session: SessionDep, values: dict[str, Any], actor: Actor) -> list[Any]:
    ids = filestore.refs_in(values)
    return [r for i in sorted(ids) if (r := session.get(filestore.StoredFile, i)) is not None
            and r.uploaded_by == actor.user_id]


@routes.get("/layanan/{key}/ajukan")
def apply_page(request: Request, key: str, session: SessionDep, rt: RuntimeDep, actor: PageActor) -> Response:
    """Show the application form of a service."""
    _may_apply(actor)
    lifecycle.refuse_retired(session, key)
    return _apply_page(request, session, rt, actor, key, values={"channel": "daring"}, errors={})


@routes.post("/layanan/{key}/ajukan")
def apply(request: Request, key: str, session: SessionDep, rt: RuntimeDep, actor: PageActor,
          form: CsrfForm) -> Response:
    """Check and file an application; show the tracking number and PIN, or the form with its errors."""
    _may_apply(actor)
    lifecycle.refuse_retired(session, key)  # before any upload is stored
    lang = language(request)
    start = cases.start_form(session, rt=rt, process_key=key)
    data, uploads = read_form(start.schema, start.ui_schema, form, skip=SKIP)
    errors: dict[str, str] = {}
    errors.update(store_uploads(session, rt=rt, actor=actor, data=data, uploads=uploads, lang=lang))
    channel = str(form.get("channel") or "")
    applicant = str(form.get("applicant_username") or "").strip() or None
    values = {**data, "channel": channel, "applicant_username": applicant or ""}
    if channel not in start.service.get("channels", CHANNELS):
        errors["channel"] = "Pilih kanal layanan." if lang == "id" else "Choose a service channel."
    if not errors:
        try:
            with session.begin_nested():
                applicant_id = cases.applicant_for(session, actor=actor, applicant_username=applicant)
                started = cases.start_case(session, rt=rt, process_key=key, data=data, channel=channel, actor=actor,
                                           applicant_id=applicant_id)
                filestore.link_case_files(session, case_id=started.id, data=data, actor=actor)
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


@routes.get("/permohonan-saya")
def my_cases(request: Request, session: SessionDep, actor: PageActor) -> Response:
    """List the applications the user filed or that were filed for them."""
    rows, total = cases.list_cases(session, actor=actor, limit=100, offset=0)
    mine = [t for t in tasks.list_tasks(session, actor=actor, limit=100)[0] if t.role == APPLICANT_ROLE]
    return pages.render(request, "my_cases.html", {"cases": rows, "total": total, "tasks": mine})
