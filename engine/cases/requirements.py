"""Document requirements: one upload slot per `requirements` item that declares `document`, and the checklist.

A service.toml requirement such as `{ id = "Fotokopi KTP", en = "ID card copy", document = "ktp" }` asks
for an upload (required unless `optional = true`). The code (`ktp`) names the kind of document, so two
services of one integrated application that ask for the same code share one upload. A required slot is
enforced when the application is filed (engine/cases/filing.py, engine/cases/bundles.py): the API, the
portal and the front office refuse an application without it, naming the requirement. Which file answers
which requirement is written in the case's history (`requirement_files`); the officer's verdict per
requirement (matches or not, with a note) is a `checklist` event, the latest one per requirement wins.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.cases import access as access
from engine.cases import hotsql as hotsql
from engine.directory.actors import Actor
from engine.documents import filestore as filestore
from engine.errors import InvalidInput, NotAllowed
from engine.models import Case, CaseEvent, ProcessVersion, StoredFile
from engine.runtime import Runtime
from forms.validation import FieldError

FILES_ACTION = "requirement_files"
FILES_LABEL = "Dokumen persyaratan"  # the label of that history event
CHECK_ACTION = "checklist"
SLOT_PREFIX = "doc__"  # the error path (and the form input) of a requirement's documents: doc__<code>
MAX_NOTE = 500


@dataclass(frozen=True)
class DocumentSlot:
    """A requirement that asks for an upload: its code, texts and whether it may be left empty."""

    code: str
    text_id: str
    text_en: str
    optional: bool


def document_slots(service: dict[str, Any]) -> list[DocumentSlot]:
    """Return the upload slots a service standard declares, in its order (one per code)."""
    slots: dict[str, DocumentSlot] = {}
    for item in service.get("requirements") or []:
        code = item.get("document") if isinstance(item, dict) else None
        if isinstance(code, str) and code and code not in slots:
            slots[code] = DocumentSlot(code, str(item.get("id", code)), str(item.get("en", code)),
                                       item.get("optional") is True)
    return list(slots.values())


def missing(slots: list[DocumentSlot], files: dict[str, list[str]], *, prefix: str = "") -> list[FieldError]:
    """Return an error naming each required slot that has no file (the path is `<prefix>doc__<code>`)."""
    return [FieldError(f"{prefix}{SLOT_PREFIX}{slot.code}", "required",
                       f"Dokumen persyaratan wajib diunggah: {slot.text_id}.",
                       f"Required document missing: {slot.text_en}.")
            for slot in slots if not slot.optional and not files.get(slot.code)]


def record_files(session: Session, *, rt: Runtime, case_id: int, actor: Actor, slots: list[DocumentSlot],
                 files: dict[str, list[str]]) -> None:
    """Link the slot files to the case and write which file answers which requirement in its history."""
    answered = {slot.code: list(files.get(slot.code) or []) for slot in slots if files.get(slot.code)}
    if not answered:
        return
    filestore.link_case_files(session, case_id=case_id, data=answered, actor=actor)
    # Every filing with documents writes it: driver SQL (engine/cases/hotsql.py), no object to flush.
    hotsql.execute(session, "event_insert", {
        "case_id": case_id, "at": rt.clock(), "actor": actor.username, "action": FILES_ACTION, "task_id": None,
        "element_id": None, "label": FILES_LABEL, "diff": {"files": answered}})


@dataclass(frozen=True)
class ChecklistRow:
    """One requirement as the officer checks it: its files and the latest verdict."""

    code: str
    text_id: str
    text_en: str
    optional: bool
    files: list[tuple[int, str]]  # (file id, file name)
    verdict: bool | None  # True matches, False does not, None not checked yet
    note: str
    checked_by: str
    checked_at: datetime | None


def _service(session: Session, case: Case) -> dict[str, Any]:
    service = session.scalar(select(ProcessVersion.service).where(ProcessVersion.id == case.process_version_id))
    return service or {}


def checklist(session: Session, *, case: Case) -> list[ChecklistRow]:
    """Return the case's document requirements with the files that answer them and the latest verdicts."""
    events = list(session.scalars(select(CaseEvent).where(
        CaseEvent.case_id == case.id, CaseEvent.action.in_((FILES_ACTION, CHECK_ACTION))).order_by(CaseEvent.id)))
    files: dict[str, list[str]] = {}
    verdicts: dict[str, tuple[bool | None, str, str, datetime]] = {}
    for event in events:
        diff = event.diff or {}
        if event.action == FILES_ACTION:
            files.update({k: v for k, v in (diff.get("files") or {}).items() if isinstance(v, list)})
        else:
            for code, item in (diff.get("items") or {}).items():
                verdicts[code] = (item.get("ok"), str(item.get("note") or ""), event.actor, event.at)
    ids = {i for refs in files.values() for r in refs if (i := filestore.parse_ref(r)) is not None}
    names = dict(session.execute(select(StoredFile.id, StoredFile.filename).where(StoredFile.id.in_(ids))).all())
    rows = []
    for slot in document_slots(_service(session, case)):
        found = [(i, names[i]) for r in files.get(slot.code, []) if (i := filestore.parse_ref(r)) in names]
        ok, note, by, at = verdicts.get(slot.code, (None, "", "", None))
        rows.append(ChecklistRow(slot.code, slot.text_id, slot.text_en, slot.optional, found, ok, note, by, at))
    return rows


def record_checklist(session: Session, *, rt: Runtime, case: Case, actor: Actor,
                     verdicts: dict[str, tuple[bool | None, str]]) -> int:
    """Record the officer's verdict and note per requirement in the case's history; return how many."""
    if actor.platform_role == "applicant" or not access.may_view_case(session, actor, case.id):
        raise NotAllowed("only the case's officers check its requirements")
    codes = {slot.code for slot in document_slots(_service(session, case))}
    unknown = sorted(set(verdicts) - codes)
    if unknown:
        raise InvalidInput(f"unknown requirement(s): {', '.join(unknown)}")
    items = {code: {"ok": ok, "note": note.strip()[:MAX_NOTE]} for code, (ok, note) in verdicts.items()
             if ok is not None or note.strip()}
    if not items:
        raise InvalidInput("tick at least one requirement",
                           message_id="Tandai sekurang-kurangnya satu persyaratan.")
    session.add(CaseEvent(case_id=case.id, at=rt.clock(), actor=actor.username, action=CHECK_ACTION,
                          label="Pemeriksaan persyaratan", diff={"items": items}))
    session.flush()
    return len(items)
