"""The citizen's "Data pribadi saya / My personal data" page: what is held about them, as JSON or PDF (UU 27/2022)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from engine.cases import service as cases
from engine.directory.actors import Actor
from engine.errors import NotFound
from engine.privacy import corrections as corrections
from engine.privacy import rights as rights
from forms.validation import FormInvalid
from portal import notice_form as notice_form
from portal.needs import Label
from web.deps import CsrfForm, PageActor, RuntimeDep, SessionDep
from web.downloads import content_disposition
from web.jsonform import errors_by_field
from web.routing import TransactionalRoute
from web.session import language
from web.templates import Pages, pick

routes = APIRouter(route_class=TransactionalRoute, include_in_schema=False)
pages = Pages(Path(__file__).resolve().parent / "templates")
HEADERS = {"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"}
FIELD_LABELS = {"isian": ("Isian yang keliru", "Wrong field"), "nilai_baru": ("Nilai yang benar", "Correct value"),
                "alasan": ("Alasan perbaikan", "Why it should change")}


def _user_id(actor: Actor) -> int:
    if actor.user_id is None:  # a page actor is a logged-in account; a system actor has no data here
        raise NotFound("no personal data for this account", message_id="tidak ada data pribadi untuk akun ini")
    return actor.user_id


def _page(request: Request, session: SessionDep, rt: RuntimeDep, actor: Actor, *, values: dict[str, Any],
          errors: dict[str, str], status: int = 200) -> Response:
    user_id = _user_id(actor)
    export = rights.personal_data(session, user_id=user_id, now=rt.clock())
    fields = corrections.correctable_fields(session, rt=rt, applicant_id=user_id)
    requests = [c for c in export["cases"] if c["service"] == corrections.SERVICE]
    lang = language(request)
    labels = [Label(name, f"f-{name}", pick(lang, *texts)) for name, texts in FIELD_LABELS.items()]
    return pages.render(request, "my_data.html", {
        "export": export, "correctable": fields, "requests": requests, "values": values, "errors": errors,
        "labels": [*labels, notice_form.label(lang)], "on_behalf": False,
        "created": request.query_params.get("koreksi", "")[:16],
        **notice_form.context([cases.start_form(session, rt=rt, process_key=corrections.SERVICE).service])},
        status=status)


@routes.get("/data-saya")
def my_data(request: Request, session: SessionDep, rt: RuntimeDep, actor: PageActor) -> Response:
    """Show everything held about the logged-in user, with downloads and the correction request form."""
    return _page(request, session, rt, actor, values={}, errors={})


@routes.post("/data-saya/koreksi")
def request_correction(request: Request, session: SessionDep, rt: RuntimeDep, actor: PageActor,
                       form: CsrfForm) -> Response:
    """File a correction request about one of the user's applications; it goes to the agency as a task."""
    lang = language(request)
    values: dict[str, Any] = {name: str(form.get(name) or "").strip()[:2000] for name in FIELD_LABELS}
    number, _sep, field = values["isian"].partition("|")
    accepted = values[notice_form.FIELD] = notice_form.read(form)
    errors = notice_form.errors(rt, accepted, lang=lang)
    if not field:
        errors["isian"] = pick(lang, "Pilih isian yang keliru.", "Choose the wrong field.")
    if not errors:
        try:
            started = corrections.request_correction(session, rt=rt, actor=actor, tracking_number=number, field=field,
                                                     value=values["nilai_baru"], reason=values["alasan"],
                                                     notice_accepted=accepted)
        except FormInvalid as exc:
            errors = errors_by_field(exc.field_errors, lang=lang)
        except NotFound as exc:
            errors = {"isian": exc.text(lang)}
    if errors:
        return _page(request, session, rt, actor, values=values, errors=errors, status=422)
    return RedirectResponse(f"/data-saya?koreksi={started.tracking_number}#koreksi", status_code=303)


@routes.get("/data-saya/unduh.json")
def download_json(session: SessionDep, rt: RuntimeDep, actor: PageActor) -> Response:
    """Download everything held about the logged-in user as JSON."""
    export = rights.personal_data(session, user_id=_user_id(actor), now=rt.clock())
    return Response(rights.as_json(export), media_type="application/json", headers={
        **HEADERS, "Content-Disposition": content_disposition(f"data-pribadi-{actor.username}.json")})


@routes.get("/data-saya/unduh.pdf")
def download_pdf(request: Request, session: SessionDep, rt: RuntimeDep, actor: PageActor) -> Response:
    """Download everything held about the logged-in user as a readable PDF in the page's language."""
    export = rights.personal_data(session, user_id=_user_id(actor), now=rt.clock())
    return Response(rights.as_pdf(export, lang=language(request)), media_type="application/pdf", headers={
        **HEADERS, "Content-Disposition": content_disposition(f"data-pribadi-{actor.username}.pdf")})
