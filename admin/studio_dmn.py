"""The DMN editor (dmn-js) on a draft's decision tables: open, save through the shared save API, start a new one."""

from __future__ import annotations

import keyword
import re
from pathlib import Path as FsPath
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from admin.studio_shared import editor_url, problems_json
from engine.catalogue import drafts
from engine.catalogue.blank import NewDecisionTable, decision_table, field_label
from engine.catalogue.versions import choices
from engine.directory.actors import Actor
from engine.errors import DomainError
from engine.models import PackageDraft
from web.deps import CsrfForm, ModelerPageActor, RowId, SessionDep
from web.errors import error_page
from web.routing import TransactionalRoute
from web.session import language
from web.templates import Pages, pick

routes = APIRouter(route_class=TransactionalRoute, include_in_schema=False)
pages = Pages(FsPath(__file__).resolve().parent / "templates")

FileName = Annotated[str, Query(min_length=1, max_length=200)]
# A decision id is an XML id that a business-rule task names; a column reads (or an output sets) a
# case field, which the cells use as a Python name.
DECISION_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,59}$")
FIELD = re.compile(r"^[a-z][a-z0-9_]{0,59}$")
DMN_FILE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_./-]{0,115}\.dmn$")


DEFAULTS = NewDecisionTable("retribusi.dmn", "retribusi", "Tarif retribusi", "luas_bangunan", "retribusi")


def _draft_url(draft: PackageDraft) -> str:
    return f"/studio/draf/{draft.id}"


@routes.get("/studio/draf/{draft_id}/dmn")
def dmn_editor(request: Request, session: SessionDep, actor: ModelerPageActor, draft_id: RowId,
               nama: FileName) -> Response:
    """Open one of a draft's DMN files in the dmn-js modeler, with the lint problems that concern it."""
    draft = drafts.get(session, actor, draft_id)
    if not nama.endswith(".dmn"):
        return error_page(request, 404, "Tabel keputusan tidak ditemukan", "Decision table not found",
                          pick(language(request), f"'{nama}' bukan berkas .dmn", f"'{nama}' is not a .dmn file"))
    xml = drafts.read_file(session, draft, nama).decode("utf-8", "replace")
    problems = problems_json(drafts.lint(session, draft), language(request))
    mine = [p for p in problems if p["file"] == nama]
    others = sum(1 for p in problems if p["file"] != nama and p["severity"] == "error")
    data = {"page": "dmn", "draft_id": draft.id, "key": draft.key, "name": nama, "xml": xml,
            "revision": draft.revision, "problems": mine, "other_errors": others,
            "save_url": f"{_draft_url(draft)}/berkas?nama={quote(nama, safe='/')}"}
    text_url = f"{_draft_url(draft)}/teks?nama={quote(nama, safe='/')}"
    return pages.render(request, "studio/dmn.html",
                        {"draft": draft, "name": nama, "data": data, "mode": "edit", "text_url": text_url})


@routes.get("/studio/draf/{draft_id}/dmn/baru")
def dmn_new_form(request: Request, session: SessionDep, actor: ModelerPageActor, draft_id: RowId) -> Response:
    """Show the form that starts a new decision table in a draft."""
    draft = drafts.get(session, actor, draft_id)
    return _new_page(request, draft, DEFAULTS, {})


@routes.post("/studio/draf/{draft_id}/dmn/baru")
def dmn_create(request: Request, session: SessionDep, actor: ModelerPageActor, form: CsrfForm,
               draft_id: RowId) -> Response:
    """Add a DMN file with one decision table (a fee table to edit) to a draft, then open it in the editor."""
    draft = drafts.get(session, actor, draft_id)
    lang = language(request)
    typed = _typed(form)
    table, errors = _checked(typed, lang)
    errors = {**_clashes(session, draft, table, lang), **errors}
    if errors:
        return _new_page(request, draft, typed, errors, status=422)
    try:
        _save_new(session, actor, draft, table)
    except DomainError as exc:  # a name the draft store refuses, or a full package
        return _new_page(request, draft, typed, {"nama": exc.text(lang)}, status=422)
    return RedirectResponse(editor_url(draft.id, table.name) or _draft_url(draft), status_code=303)


def _field(form: Any, name: str) -> str:
    value = form.get(name)
    return value.strip()[:200] if isinstance(value, str) else ""


def _typed(form: Any) -> NewDecisionTable:
    """Read the form; the draft page's short form sends only the file name, the rest follows from it."""
    name = _field(form, "nama")
    stem = name.rsplit("/", 1)[-1].removesuffix(".dmn")
    output = stem if FIELD.match(stem) and not keyword.iskeyword(stem) else DEFAULTS.output_name
    return NewDecisionTable(name=name, decision_id=_field(form, "id_keputusan") or stem,
                            decision_name=_field(form, "nama_keputusan") or field_label(stem),
                            input_name=_field(form, "masukan") or DEFAULTS.input_name,
                            output_name=_field(form, "keluaran") or output)


def _new_page(request: Request, draft: PackageDraft, typed: NewDecisionTable, errors: dict[str, str], *,
              status: int = 200) -> Response:
    return pages.render(request, "studio/dmn.html",
                        {"draft": draft, "typed": typed, "errors": errors, "mode": "new"}, status=status)


def _save_new(session: Session, actor: Actor, draft: PackageDraft, table: NewDecisionTable) -> None:
    with session.begin_nested():  # a refused save leaves nothing behind
        content = decision_table(table, namespace=draft.key).encode("utf-8")
        drafts.save_file(session, actor, draft, name=table.name, content=content, loaded_revision=None)


def _checked(typed: NewDecisionTable, lang: str) -> tuple[NewDecisionTable, dict[str, str]]:
    """Return the typed table with its file name completed, and the message of each field that is wrong."""
    name = typed.name if typed.name.endswith(".dmn") else f"{typed.name}.dmn"
    errors: dict[str, str] = {}
    if not DMN_FILE.match(name) or ".." in name or "//" in name:
        errors["nama"] = pick(lang, "Nama berkas memakai huruf, angka, _ - . dan /, diakhiri .dmn (mis. tarif.dmn).",
                              "The file name takes letters, digits, _ - . and /, ending in .dmn (e.g. tarif.dmn).")
    if not DECISION_ID.match(typed.decision_id):
        errors["id_keputusan"] = pick(
            lang, "Id keputusan terdiri atas 1–60 huruf, angka dan _, diawali huruf (mis. retribusi).",
            "The decision id takes 1 to 60 letters, digits and _, starting with a letter (e.g. retribusi).")
    if not 1 <= len(typed.decision_name) <= 120:
        errors["nama_keputusan"] = pick(lang, "Isi nama keputusan (paling banyak 120 karakter).",
                                        "Enter the decision's name (at most 120 characters).")
    for field, value in (("masukan", typed.input_name), ("keluaran", typed.output_name)):
        if not FIELD.match(value) or keyword.iskeyword(value):
            errors[field] = pick(lang, "Nama isian terdiri atas huruf kecil, angka dan _, diawali huruf "
                                 "(mis. luas_bangunan); sel tabel membacanya sebagai nama Python.",
                                 "A field name takes lower-case letters, digits and _, starting with a letter "
                                 "(e.g. luas_bangunan); the table's cells read it as a Python name.")
    return NewDecisionTable(name, typed.decision_id, typed.decision_name, typed.input_name, typed.output_name), errors


def _clashes(session: Session, draft: PackageDraft, table: NewDecisionTable, lang: str) -> dict[str, str]:
    files = drafts.files(session, draft)
    errors = {}
    if table.name in files:
        errors["nama"] = pick(lang, f"Draf sudah memiliki berkas '{table.name}'; pilih nama lain atau buka berkas itu.",
                              f"The draft has a file '{table.name}' already; choose another name or open that file.")
    if table.decision_id in choices(files).decisions:
        errors["id_keputusan"] = pick(
            lang, f"Keputusan '{table.decision_id}' sudah ada di draf ini; tugas aturan bisnis harus dapat "
            "memilih satu keputusan tanpa ragu.",
            f"The decision '{table.decision_id}' exists in this draft already; a business-rule task must name "
            "one decision unambiguously.")
    return errors
