"""The form builder: a draft's JSON Schema + UI schema forms, with a live preview.

The builder itself runs in the page (web/static/studio-forms.js): it edits the two JSON files in
place, keeping every keyword it does not manage, and saves them through the draft's file API
(`PUT /studio/draf/{id}/berkas`), which lints the draft. These routes open it, create a new form,
and render the preview with the form layer the portal and the inbox use (web.jsonform and the
`field` macro of web/templates/_form.html), so what the analyst sees is what applicants will get.
"""

from __future__ import annotations

import json
import re
from pathlib import Path as FsPath
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from admin.studio_shared import STATUS, problems_json
from engine.catalogue import drafts
from engine.errors import AlreadyExists, DomainError, InvalidInput, NotFound, PackageInvalid
from forms.validation import MAX_SCHEMA_BYTES, FormSchemaUnsafe, SchemaProblem
from web.deps import CsrfForm, CsrfHeader, ModelerPageActor, SessionDep
from web.errors import error_page
from web.jsonform import Field as FormField
from web.jsonform import build_fields
from web.routing import TransactionalRoute
from web.session import language
from web.templates import Pages, pick

routes = APIRouter(route_class=TransactionalRoute, include_in_schema=False)
pages = Pages(FsPath(__file__).resolve().parent / "templates")
DraftId = Annotated[int, Path(ge=1, le=2**31 - 1)]
FormName = Annotated[str, Query(min_length=1, max_length=255)]
NEW_NAME = re.compile(r"^[a-z][a-z0-9_]{1,59}$")
SCHEMA_SUFFIX, UI_SUFFIX = ".schema.json", ".uischema.json"
LIST_KINDS = ("multi", "lines", "files")  # the macro iterates their value


class PreviewedForm(BaseModel):
    """The form as the builder holds it, and the language to show it in."""

    model_config = ConfigDict(populate_by_name=True)

    form_schema: dict[str, Any] = Field(alias="schema")
    uischema: dict[str, Any] = Field(default_factory=dict)
    lang: Literal["id", "en"] = "id"


def _form_names(name: str) -> tuple[str, str]:
    """Return a form's schema and UI schema paths; InvalidInput unless it names forms/<name>.schema.json."""
    path = drafts.check_name(name)
    if not (path.startswith("forms/") and path.endswith(SCHEMA_SUFFIX)):
        raise InvalidInput(f"'{name}': the form builder opens forms/<name>{SCHEMA_SUFFIX} files",
                           message_id=f"'{name}': penyusun formulir membuka berkas forms/<nama>{SCHEMA_SUFFIX}")
    return path, path.removesuffix(SCHEMA_SUFFIX) + UI_SUFFIX


def _json_object(raw: bytes | None) -> tuple[dict[str, Any] | None, str]:
    """Return a form file's JSON object (None when it is not one) and why it is not."""
    if raw is None:
        return {}, ""
    try:
        value = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        return None, str(exc)
    return (value, "") if isinstance(value, dict) else (None, "not a JSON object")


def _is_start_form(session: SessionDep, row: Any, schema_name: str) -> bool:
    try:
        return drafts.package_of(session, row).service().get("start_form") == schema_name
    except PackageInvalid:  # an unreadable service.toml is the draft page's concern
        return False


@routes.get("/studio/draf/{draft_id}/formulir")
def form_builder(request: Request, session: SessionDep, actor: ModelerPageActor, draft_id: DraftId,
                 nama: FormName) -> Response:
    """Open a form of a draft in the form builder, with the draft's lint problems of that form."""
    lang = language(request)
    try:
        row = drafts.get(session, actor, draft_id)
        schema_name, ui_name = _form_names(nama)
        content = drafts.files(session, row)
        if schema_name not in content:
            raise NotFound(f"the draft has no file '{schema_name}'",
                           message_id=f"draf tidak memiliki berkas '{schema_name}'")
    except DomainError as exc:
        return error_page(request, STATUS.get(exc.code, 422), "Formulir tidak dapat dibuka",
                          "The form cannot be opened", exc.text(lang))
    schema, schema_error = _json_object(content[schema_name])
    ui, ui_error = _json_object(content.get(ui_name))
    problems = [p for p in problems_json(drafts.lint(session, row), lang) if p["file"] in (schema_name, ui_name)]
    base = f"/studio/draf/{row.id}"
    data = {"schema_name": schema_name, "ui_name": ui_name, "schema": schema, "uischema": ui,
            "ui_exists": ui_name in content, "revision": row.revision, "problems": problems,
            "save_url": f"{base}/berkas", "preview_url": f"{base}/formulir/pratinjau", "back": base}
    return pages.render(request, "studio/form_builder.html", {
        "d": row, "schema_name": schema_name, "ui_name": ui_name, "data": data,
        "broken": [(schema_name, schema_error)] * bool(schema_error) + [(ui_name, ui_error)] * bool(ui_error),
        "start_form": _is_start_form(session, row, schema_name),
        "title": str(schema.get("title") or "") if schema else ""})


def _new_form(title: str) -> tuple[bytes, bytes]:
    """Return a minimal form (JSON Schema, UI schema) with a title and no field yet."""
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": title, "type": "object",
              "properties": {}, "required": []}
    ui = {"ui:title_en": title, "ui:order": []}
    return ((json.dumps(schema, indent=2, ensure_ascii=False) + "\n").encode(),
            (json.dumps(ui, indent=2, ensure_ascii=False) + "\n").encode())


@routes.post("/studio/draf/{draft_id}/formulir/baru")
def form_new(request: Request, session: SessionDep, actor: ModelerPageActor, form: CsrfForm,
             draft_id: DraftId) -> Response:
    """Create forms/<nama>.schema.json and its UI schema in a draft, then open them in the builder."""
    raw = form.get("nama") or form.get("name")
    name = raw.strip() if isinstance(raw, str) else ""
    try:
        row = drafts.get(session, actor, draft_id)
        if not NEW_NAME.match(name):
            raise InvalidInput("a form's name takes 2 to 60 lower-case letters, digits and '_', starting with a letter",
                               message_id="nama formulir terdiri atas 2–60 huruf kecil, angka dan '_', diawali huruf")
        schema_name, ui_name = f"forms/{name}{SCHEMA_SUFFIX}", f"forms/{name}{UI_SUFFIX}"
        existing = drafts.file_revisions(session, row)
        if schema_name in existing or ui_name in existing:
            raise AlreadyExists(f"the draft has a form '{name}' already; open it instead",
                                message_id=f"draf sudah memiliki formulir '{name}'; buka formulir itu")
        schema, ui = _new_form(name.replace("_", " ").capitalize())
        with session.begin_nested():
            drafts.save_file(session, actor, row, name=schema_name, content=schema, loaded_revision=None)
            drafts.save_file(session, actor, row, name=ui_name, content=ui, loaded_revision=None)
    except DomainError as exc:
        return error_page(request, STATUS.get(exc.code, 422), "Formulir tidak dibuat", "The form was not created",
                          exc.text(language(request)))
    return RedirectResponse(f"/studio/draf/{row.id}/formulir?nama={quote(schema_name)}", status_code=303)


def _schema_problems_json(problems: list[SchemaProblem], lang: str) -> list[dict[str, str]]:
    return [{"field": re.split(r"[.\[]", p.field, maxsplit=1)[0], "pointer": p.pointer,
             "message": f"{p.where(lang)}: {p.message_id if lang == 'id' else p.message_en}"} for p in problems]


def _unusable(lang: str, problems: list[dict[str, str]]) -> JSONResponse:
    detail = pick(lang, "Pratinjau tidak dapat ditampilkan: formulir ini akan ditolak saat dipakai.",
                  "The preview cannot be shown: this form would be refused when used.")
    return JSONResponse({"detail": detail, "problems": problems}, status_code=422)


def _list_default_problems(fields: list[FormField], schema: dict[str, Any], lang: str) -> list[dict[str, str]]:
    """Name the list fields whose default is not a list of plain values (the form layer ignores such a default)."""
    found = schema.get("properties")
    props: dict[str, Any] = found if isinstance(found, dict) else {}
    defaults = {f.name: props[f.name].get("default") for f in fields if isinstance(props.get(f.name), dict)}
    return [{"field": f.name, "pointer": f"/properties/{f.name}/default",
             "message": pick(lang, f"isian '{f.name}': nilai bawaan (default) harus berupa daftar teks atau angka.",
                             f"field '{f.name}': the default must be a list of texts or numbers.")}
            for f in fields if f.kind in LIST_KINDS and defaults.get(f.name) is not None
            and (not isinstance(defaults[f.name], list) or any(isinstance(v, dict | list) for v in defaults[f.name]))]


@routes.post("/studio/draf/{draft_id}/formulir/pratinjau")
def form_preview(request: Request, session: SessionDep, actor: ModelerPageActor, csrf: CsrfHeader,
                 draft_id: DraftId, body: PreviewedForm) -> Response:
    """Render a form as the portal and the inbox would (an HTML fragment); 422 names what makes it unusable."""
    lang = language(request)
    try:
        drafts.get(session, actor, draft_id)
    except DomainError as exc:
        return JSONResponse({"detail": exc.text(lang)}, status_code=STATUS.get(exc.code, 422))
    if len(json.dumps(body.form_schema)) > MAX_SCHEMA_BYTES:
        return _unusable(lang, [{"field": "", "pointer": "", "message": pick(
            lang, f"formulir lebih besar dari {MAX_SCHEMA_BYTES // 1024} KiB; bagi menjadi beberapa langkah.",
            f"the form is larger than {MAX_SCHEMA_BYTES // 1024} KiB; split it into several steps.")}])
    try:
        fields = build_fields(body.form_schema, body.uischema, lang=body.lang, values={})
    except FormSchemaUnsafe as exc:
        return _unusable(lang, _schema_problems_json(exc.problems, lang))
    if wrong := _list_default_problems(fields, body.form_schema, lang):
        return _unusable(lang, wrong)
    title = str(body.form_schema.get("title") or "")
    title_en = body.uischema.get("ui:title_en")
    shown = pick(body.lang, title, title_en if isinstance(title_en, str) and title_en else title)
    return pages.render(request, "studio/_form_preview.html", {
        "fields": fields, "form_title": shown, "preview_lang": body.lang,
        "t": lambda id_text, en_text: pick(body.lang, id_text, en_text)})
