"""What the staff and applicant task pages share: storing uploads and completing a task from a form."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session
from starlette.datastructures import FormData, UploadFile

from engine.cases import tasks as tasks
from engine.directory.actors import Actor
from engine.documents import filestore as filestore
from engine.errors import TaskNotFound
from engine.runtime import Runtime
from forms.validation import FormInvalid
from web.jsonform import Field, build_fields, errors_by_field, read_form


@dataclass
class Submitted:
    """The outcome of a posted task form: the case moved on, or the errors to show."""

    data: dict[str, Any]
    errors: dict[str, str] = field(default_factory=dict)
    completed: tasks.Completed | None = None


def store_uploads(session: Session, *, rt: Runtime, actor: Actor, data: dict[str, Any],
                  uploads: dict[str, list[UploadFile]], lang: str) -> dict[str, str]:
    """Store each uploaded file, add its reference to its field's list; return refusals per field."""
    errors: dict[str, str] = {}
    for name, files in uploads.items():
        for upload in files:
            try:
                # The form is parsed already: the bytes sit in a spooled temporary file, read here
                # synchronously (routes that call this are plain `def`, in the thread pool).
                row = filestore.store(session, settings=rt.settings, data=upload.file.read(),
                                      filename=upload.filename or "berkas", content_type=upload.content_type,
                                      uploaded_by=actor.user_id)
            except filestore.FileRejected as exc:
                errors[name] = f"{upload.filename}: {exc.message_en if lang == 'en' else exc.message_id}"
                continue
            data.setdefault(name, []).append(filestore.ref(row.id))
    return errors


def submit_task(session: Session, *, rt: Runtime, actor: Actor, detail: tasks.TaskDetail, form: FormData,
                lang: str) -> Submitted:
    """Read a task form, store its files and complete the task; on refusal write nothing but the files.

    The completion runs in a savepoint that a refusal rolls back; the files stay in the request's
    transaction, which the transactional route commits because the page returns (not raises) the
    refusal. Nothing commits here.
    """
    data, uploads = read_form(detail.schema or {}, detail.ui_schema, form)
    errors = store_uploads(session, rt=rt, actor=actor, data=data, uploads=uploads, lang=lang)
    if errors:
        return Submitted(data, errors)
    try:
        with session.begin_nested():
            done = tasks.complete_task(session, rt=rt, task_id=detail.task.id, actor=actor, data=data)
            filestore.link_case_files(session, case_id=done.case_id, data=data, actor=actor)
    except FormInvalid as exc:
        return Submitted(data, errors_by_field(exc.field_errors, lang=lang))
    except filestore.FileRejected as exc:
        return Submitted(data, {"(form)": exc.text(lang)})
    return Submitted(data, completed=done)


def checked_task_id(value: str) -> str:
    """Return a task id from a URL, refusing anything that is not one (as an unknown task)."""
    if not re.fullmatch(r"[0-9a-f-]{36}", value):
        raise TaskNotFound(f"task {value[:40]} not found")
    return value


def task_form(detail: tasks.TaskDetail, *, lang: str, values: dict[str, Any] | None,
              errors: dict[str, str] | None) -> tuple[list[Field], str]:
    """Return a task form's fields (prefilled from the case on first show) and its title."""
    schema = detail.schema or {"type": "object", "properties": {}}
    shown = values if values is not None else initial_values(detail)
    return build_fields(schema, detail.ui_schema, lang=lang, values=shown, errors=errors), str(
        schema.get("title") or detail.task.name)


def initial_values(detail: tasks.TaskDetail) -> dict[str, Any]:
    """Prefill a task form with what the case already holds for its fields (a revision edits them)."""
    props = (detail.schema or {}).get("properties") or {}
    return {name: detail.case.data[name] for name in props if name in detail.case.data}
