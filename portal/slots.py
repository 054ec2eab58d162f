"""Upload slots for document requirements on the application forms (one file input per requirement)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session
from starlette.datastructures import FormData, UploadFile

from engine.cases.requirements import DocumentSlot
from engine.directory.actors import Actor
from engine.runtime import Runtime
from web.jsonform import Field
from web.taskflow import store_uploads
from web.templates import pick

PREFIX = "doc__"


def slot_name(slot: DocumentSlot) -> str:
    """Return the form input name of a slot."""
    return PREFIX + slot.code


def slot_fields(slots: list[DocumentSlot], *, lang: str, values: dict[str, Any], errors: dict[str, str],
                ) -> list[Field]:
    """Return one file field per slot, with the files kept from a refused submission."""
    return [Field(slot_name(s), "files", pick(lang, s.text_id, s.text_en),
                  pick(lang, "Boleh dikosongkan." if s.optional else "Wajib diunggah.",
                       "May be left empty." if s.optional else "Required."),
                  not s.optional, value=values.get(slot_name(s)), error=errors.get(slot_name(s), ""))
            for s in slots]


def read_slots(session: Session, *, rt: Runtime, actor: Actor, form: FormData, slots: list[DocumentSlot],
               lang: str) -> tuple[dict[str, list[str]], dict[str, list[str]], dict[str, str]]:
    """Store the slots' uploads; return the files per requirement code, the values per input, the refusals."""
    values: dict[str, list[str]] = {}
    uploads: dict[str, list[UploadFile]] = {}
    for slot in slots:
        name = slot_name(slot)
        values[name] = [str(v) for v in form.getlist(f"{name}__keep") if str(v)]
        uploads[name] = [f for f in form.getlist(name) if isinstance(f, UploadFile) and f.filename]
    errors = store_uploads(session, rt=rt, actor=actor, data=values, uploads=uploads, lang=lang)
    return {slot.code: values[slot_name(slot)] for slot in slots}, values, errors
