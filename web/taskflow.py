"""What the staff and applicant task pages share: storing uploads and completing a task from a form."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session
from starlette.datastructures import FormData, UploadFile

from engine.cases import tasks as tasks
from engine.cases import tracking as tracking
from engine.cases.assignment import APPLICANT_ROLE
from engine.directory.actors import Actor
from engine.documents import filestore as filestore
from engine.errors import TaskNotFound
from engine.models import Case
from engine.runtime import Runtime
from forms.numbers import check_numbers
from forms.validation import FormInvalid, validate
from web.jsonform import Field, build_fields, errors_by_field, read_form
from web.templates import pick


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
    if errors:  # a refused file is reported with every other error of the same submit
        return Submitted(data, {**other_errors(detail.schema, data, lang=lang, skip=set(errors)), **errors})
    try:
        with session.begin_nested():
            done = tasks.complete_task(session, rt=rt, task_id=detail.task.id, actor=actor, data=data)
            filestore.link_case_files(session, case_id=done.case_id, data=data, actor=actor)
    except FormInvalid as exc:
        return Submitted(data, errors_by_field(exc.field_errors, lang=lang))
    except filestore.FileRejected as exc:
        return Submitted(data, {"(form)": exc.text(lang)})
    return Submitted(data, completed=done)


def other_errors(schema: dict[str, Any] | None, data: dict[str, Any], *, lang: str, skip: set[str]) -> dict[str, str]:
    """Return the form's validation errors outside the fields in `skip` (those whose files were refused)."""
    try:
        check_numbers(data)
        validate(schema, data)
    except FormInvalid as exc:
        return {k: v for k, v in errors_by_field(exc.field_errors, lang=lang).items() if k not in skip}
    return {}


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
    title = str(schema.get("title") or detail.task.name)
    title_en = (detail.ui_schema or {}).get("ui:title_en")
    return build_fields(schema, detail.ui_schema, lang=lang, values=shown, errors=errors), (
        pick(lang, title, title_en) if isinstance(title_en, str) and schema.get("title") else title)


def initial_values(detail: tasks.TaskDetail) -> dict[str, Any]:
    """Prefill a task form with what the case already holds for its fields (a revision edits them)."""
    props = (detail.schema or {}).get("properties") or {}
    return {name: detail.case.data[name] for name in props if name in detail.case.data}


def task_extras(session: Session, *, rt: Runtime, detail: tasks.TaskDetail, lang: str) -> dict[str, Any]:
    """Return what a task page shows beside its form: the task's name in the page language and the reasons.

    The reasons are the send-back and refusal reasons the case holds (the package marks the fields,
    docs/bpmn-conventions.md), each naming the step that wrote it. The version's step names and reason
    fields come from the runtime, read once per version (a deployed version's files never change).
    """
    version_id = detail.case.process_version_id
    names = rt.step_names(session, version_id)
    name_id, name_en = names.get(detail.task.element_id, (detail.task.name, detail.task.name))
    return {"task_name": pick(lang, detail.task.name, name_en or name_id),
            "reasons": tracking.case_reasons(session, detail.case, names=names, rt=rt)}


def completion_message(session: Session, *, task_id: str, actor: Actor, lang: str) -> str:
    """Tell the officer who completed a task where its case went: the next open steps, or that it ended."""
    found = tracking.where_next(session, task_id=task_id, username=actor.username)
    if found is None:
        return ""
    if not found.steps:
        finished = found.status == "completed"
        return pick(lang, f"Tugas selesai untuk {found.tracking_number}. "
                          + ("Kasus selesai." if finished else "Kasus tidak memiliki langkah terbuka lagi."),
                    f"Task completed for {found.tracking_number}. "
                    + ("The case is finished." if finished else "The case has no open step any more."))
    parts = []
    for step in found.steps:
        if step.role == APPLICANT_ROLE:
            who_id, who_en = "pemohon", "the applicant"
        else:
            who_id, who_en = f"{step.role_name}, {step.agency_id}", f"{step.role_name}, {step.agency_en}"
        parts.append(pick(lang, f"“{step.name_id}” ({who_id})", f"“{step.name_en}” ({who_en})"))
    return pick(lang, f"Tugas selesai untuk {found.tracking_number}. Kasus diteruskan ke: ",
                f"Task completed for {found.tracking_number}. The case went on to: ") + "; ".join(parts) + "."


def case_view(session: Session, *, rt: Runtime, case: Case) -> dict[str, Any]:
    """Return what a case's data and history views need to show labels, not codes (in either language).

    The version's forms and step names are the runtime's, read once per version: a page no longer reads and
    parses the package's BPMN and form files at every view.
    """
    return {"field_labels": rt.labels(session, case.process_version_id),
            "step_names": rt.step_names(session, case.process_version_id)}
