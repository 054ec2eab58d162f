"""The files of a case with where each came from: the step, the form field or requirement, the uploader.

A file reaches a case through form data (`file:<id>` in a field, engine/documents/filestore.py)
or as a requirement document; the case's history records both (a step's data change, a
`requirement_files` event), so the first event that mentions a file names its step. Callers
check that the reader may see the case; reading a file's bytes goes through `may_read_file`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.cases import requirements as requirements
from engine.documents import filestore as filestore
from engine.models import Case, CaseEvent, ProcessVersion, StoredFile, User

APPLICATION = "started"  # the action of the event that files the application


@dataclass(frozen=True)
class CaseFile:
    """One file of a case as a page lists it."""

    id: int
    filename: str
    content_type: str
    size: int
    created_at: datetime
    uploaded_by: int | None
    uploader: str  # display name (or username); "" when the uploader is unknown
    element_id: str | None  # the BPMN task whose form brought it in; None for the application
    field: str  # the form field, or the requirement code
    requirement: tuple[str, str] | None  # the requirement it answers (Indonesian, English), if any

    @property
    def inline(self) -> bool:
        """Tell whether a browser shows the file itself (PDF, images) rather than downloading it."""
        return self.content_type in filestore.SIGNATURES


def _origins(session: Session, case_id: int) -> dict[int, tuple[str | None, str, bool]]:
    """Return file id → (element id, field or code, is a requirement) from the first event naming it."""
    found: dict[int, tuple[str | None, str, bool]] = {}
    events = session.execute(select(CaseEvent.element_id, CaseEvent.action, CaseEvent.diff).where(
        CaseEvent.case_id == case_id, CaseEvent.diff.is_not(None)).order_by(CaseEvent.id)).all()
    for element_id, action, diff in events:
        if not isinstance(diff, dict):
            continue
        is_requirement = action == requirements.FILES_ACTION
        fields = diff.get("files") if is_requirement else diff.get("set")
        for name, value in (fields or {}).items() if isinstance(fields, dict) else ():
            for file_id in filestore.refs_in(value):
                found.setdefault(file_id, (None if action == APPLICATION else element_id, str(name),
                                           is_requirement))
    return found


def file_origin(session: Session, *, case_id: int, file_id: int) -> tuple[str, bool] | None:
    """Return the form field (or requirement code) that brought a file to its case, and whether it is a requirement."""
    found = _origins(session, case_id).get(file_id)
    return (found[1], found[2]) if found is not None else None


def case_files(session: Session, *, case: Case) -> list[CaseFile]:
    """Return a case's files, oldest first, each with its step, field or requirement and uploader."""
    rows = filestore.case_files(session, case_id=case.id)
    if not rows:
        return []
    origins = _origins(session, case.id)
    uploader_ids = {r.uploaded_by for r in rows if r.uploaded_by is not None}
    names = {uid: display or username for uid, username, display in session.execute(
        select(User.id, User.username, User.display_name).where(User.id.in_(uploader_ids))).all()}
    service = session.scalar(select(ProcessVersion.service).where(ProcessVersion.id == case.process_version_id))
    slots = {s.code: (s.text_id, s.text_en) for s in requirements.document_slots(service or {})}
    return [_one(row, origins.get(row.id), names, slots) for row in rows]


def _one(row: StoredFile, origin: tuple[str | None, str, bool] | None, names: dict[int, str],
         slots: dict[str, tuple[str, str]]) -> CaseFile:
    element_id, field, is_requirement = origin or (None, "", False)
    return CaseFile(row.id, row.filename, row.content_type, row.size, row.created_at, row.uploaded_by,
                    names.get(row.uploaded_by, "") if row.uploaded_by is not None else "", element_id, field,
                    slots.get(field) if is_requirement else None)
