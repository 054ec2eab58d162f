"""The integrated application (layanan terpadu): several services, one form, one tracking number."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from engine.cases import bundles as bundles
from engine.cases import priority as priority
from engine.cases import requirements as requirements
from engine.cases import service as cases
from engine.catalogue import lifecycle as lifecycle
from engine.catalogue import service as catalogue
from engine.directory.actors import Actor
from engine.documents import filestore as filestore
from engine.errors import InvalidInput, NotAllowed, NotFound
from forms.validation import FormInvalid
from portal import needs as needs_form
from portal import notice_form as notice_form
from portal.catalogue import may_apply, own_files
from portal.integrated_form import Layout, errors_by_input, layout, own_fields, read_own, read_shared, shared_fields
from portal.slots import read_slots, slot_fields
from web.deps import CsrfForm, PageActor, RuntimeDep, SessionDep
from web.grants import grant
from web.jsonform import errors_by_field
from web.routing import TransactionalRoute
from web.session import language
from web.taskflow import store_uploads
from web.templates import Pages, pick

routes = APIRouter(route_class=TransactionalRoute, include_in_schema=False)
pages = Pages(Path(__file__).resolve().parent / "templates")
PATH = "/terpadu"


def _offered(session: SessionDep) -> list[catalogue.Service]:
    retired = lifecycle.retired_keys(session)
    return [s for s in catalogue.list_services(session)
            if s.key not in retired and bundles.INTEGRATED in (s.standard.get("channels") or [])]


def _chosen(session: SessionDep, keys: list[str]) -> list[str]:
    offered = {s.key for s in _offered(session)}
    return list(dict.fromkeys(k for k in keys if k in offered))


def _layout(session: SessionDep, rt: RuntimeDep, keys: list[str]) -> Layout:
    return layout([cases.start_form(session, rt=rt, process_key=key) for key in keys])


def _form_page(request: Request, session: SessionDep, rt: RuntimeDep, actor: Actor, lay: Layout, *,
               values: dict[str, Any], errors: dict[str, str], status: int = 200) -> Response:
    lang = language(request)
    sections = []
    for index, part in enumerate(lay.parts):
        fields = own_fields(lay, index, lang=lang, values=values, errors=errors)
        for name, options in cases.provider_choices(session, rt=rt, process_key=part.key).items():
            for f in fields:  # a provider firm is chosen from the registered ones, not typed
                if f.name == lay.name_of(index, name):
                    f.kind, f.options = "select", options
        sections.append((part, fields, slot_fields(part.slots, lang=lang, values=values, errors=errors)))
    context = {"lay": lay, "sections": sections, "errors": errors, "values": values,
               "shared": shared_fields(lay, lang=lang, values=values, errors=errors),
               "shared_documents": slot_fields(lay.shared_slots, lang=lang, values=values, errors=errors),
               "files": {filestore.ref(r.id): r.filename for r in own_files(session, values, actor)},
               "on_behalf": actor.platform_role != "applicant",
               **_needs_context(lay, lang),
               **notice_form.context([part.form.service for part in lay.parts])}
    return pages.render(request, "integrated_apply.html", context, status=status)


def _needs_context(lay: Layout, lang: str) -> dict[str, Any]:
    """Return the priority and jemput bola section's context: the groups and the services that offer a visit."""
    services = [part.form.service for part in lay.parts]
    offers = [(pick(lang, part.name_id, part.name_en), part.form.service.get("outreach"), groups)
              for part in lay.parts if (groups := priority.outreach_groups(part.form.service))]
    return {"outreach_groups": priority.bundle_groups(services), "outreach_offers": offers,
            "need_labels": needs_form.labels(lang)}


@routes.get(PATH)
def integrated_page(request: Request, session: SessionDep, rt: RuntimeDep, actor: PageActor) -> Response:
    """Choose two or more services; with them chosen, show their one application form."""
    may_apply(actor)
    asked = request.query_params.getlist("layanan")
    keys = _chosen(session, asked)
    if len(keys) < 2:
        error = "" if not asked else pick(language(request), "Pilih sekurang-kurangnya dua layanan.",
                                          "Choose at least two services.")
        return pages.render(request, "integrated_choose.html", {"services": _offered(session), "chosen": keys,
                                                                "error": error}, status=422 if error else 200)
    return _form_page(request, session, rt, actor, _layout(session, rt, keys), values={}, errors={})


def _read(session: SessionDep, rt: RuntimeDep, actor: Actor, lay: Layout, form: FormData, lang: str,
          ) -> tuple[list[dict[str, Any]], list[dict[str, list[str]]], dict[str, Any], dict[str, str]]:
    """Read the merged form into each service's data and documents; store every upload once."""
    shared, uploads = read_shared(lay, form)
    errors = store_uploads(session, rt=rt, actor=actor, data=shared, uploads=uploads, lang=lang)
    values: dict[str, Any] = dict(shared)
    datas = []
    for index, part in enumerate(lay.parts):
        own, own_uploads = read_own(lay, index, form)
        refused = store_uploads(session, rt=rt, actor=actor, data=own, uploads=own_uploads, lang=lang)
        errors.update({lay.name_of(index, k): v for k, v in refused.items()})
        values.update({lay.name_of(index, k): v for k, v in own.items()})
        names = set(part.form.schema.get("properties") or {})
        datas.append({**{k: v for k, v in shared.items() if k in names}, **own})
    slots = [*lay.shared_slots, *(s for p in lay.parts for s in p.slots)]
    files, slot_values, slot_errors = read_slots(session, rt=rt, actor=actor, form=form, slots=slots, lang=lang)
    errors.update(slot_errors)
    values.update(slot_values)
    documents = [{s.code: files.get(s.code, []) for s in requirements.document_slots(p.form.service)}
                 for p in lay.parts]
    return datas, documents, values, errors


@routes.post(PATH)
def integrated_apply(request: Request, session: SessionDep, rt: RuntimeDep, actor: PageActor,
                     form: CsrfForm) -> Response:
    """File one application for every chosen service (all or none); show its one tracking number and PIN."""
    may_apply(actor)
    keys = _chosen(session, [str(k) for k in form.getlist("layanan")])
    if len(keys) < 2:
        raise InvalidInput("choose at least two services offered through the integrated channel",
                           message_id="Pilih sekurang-kurangnya dua layanan yang tersedia melalui layanan terpadu.")
    lang = language(request)
    lay = _layout(session, rt, keys)
    datas, documents, values, errors = _read(session, rt, actor, lay, form, lang)
    applicant = str(form.get("applicant_username") or "").strip() or None
    values["applicant_username"] = applicant or ""
    accepted = values[notice_form.FIELD] = notice_form.read(form)
    errors.update(notice_form.errors(rt, accepted, lang=lang))
    needs, need_values = needs_form.read_needs(form)
    values.update(need_values)
    errors.update(errors_by_field(priority.check_bundle([p.form.service for p in lay.parts], needs), lang=lang))
    if not errors:
        try:
            with session.begin_nested():  # every case starts, or none (a refusal rolls the savepoint back)
                applicant_id = cases.applicant_for(session, actor=actor, applicant_username=applicant)
                started = bundles.start_bundle(session, rt=rt, services=list(zip(keys, datas, strict=True)),
                                               channel=bundles.INTEGRATED, actor=actor, applicant_id=applicant_id,
                                               documents=documents, notice_accepted=accepted, needs=needs)
        except FormInvalid as exc:
            errors = errors_by_input(lay, exc.field_errors, lang=lang)
        except (NotFound, NotAllowed) as exc:
            errors = {"applicant_username": str(exc)}
        except filestore.FileRejected as exc:
            errors = {"(form)": exc.text(lang)}
    if errors:
        return _form_page(request, session, rt, actor, lay, values=values, errors=errors, status=422)
    response = pages.render(request, "integrated_applied.html", {"started": started, "lay": lay})
    grant(request, response, started.tracking_number)
    return response
