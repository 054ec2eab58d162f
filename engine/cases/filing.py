"""Filing one application: the start form and the required documents checked together, all or nothing.

The JSON API, the portal's apply form and the front office (the same form, filing for a walk-in
applicant) all file through `file_application`, so a service's required requirement documents
(service.toml `requirements = [{ ..., document = "<code>" }]`, engine/cases/requirements.py) are
enforced the same way everywhere. Integrated applications check theirs in engine/cases/bundles.py.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from engine.cases import requirements as requirements
from engine.cases.priority import Needs
from engine.cases.service import StartedCase, start_case, start_form
from engine.directory.actors import Actor
from engine.documents import filestore as filestore
from engine.privacy import notice as notice
from engine.runtime import Runtime
from forms.validation import FieldError, FormInvalid


def document_errors(slots: list[requirements.DocumentSlot], documents: dict[str, list[str]]) -> list[FieldError]:
    """Return what is wrong with the documents given per requirement code: unknown codes, non-files, missing ones."""
    codes = {slot.code for slot in slots}
    errors = [FieldError(f"{requirements.SLOT_PREFIX}{code}", "unknown",
                         f"Layanan ini tidak meminta dokumen '{code}'.", f"This service asks for no document '{code}'.")
              for code in sorted(set(documents) - codes)]
    errors += [FieldError(f"{requirements.SLOT_PREFIX}{code}", "not-a-file",
                          "Isi dengan referensi berkas yang sudah diunggah (file:<id>).",
                          "Give references of uploaded files (file:<id>).")
               for code, refs in documents.items() if code in codes
               and any(filestore.parse_ref(r) is None for r in refs)]
    return errors + requirements.missing(slots, documents)


def file_application(
    session: Session, *, rt: Runtime, process_key: str, data: dict[str, Any], channel: str, actor: Actor,
    applicant_id: int | None, documents: dict[str, list[str]], needs: Needs | None = None,
    notice_accepted: bool | None = None,
) -> StartedCase:
    """Start a case with its requirement documents; refuse a missing one (with the form's errors), writing nothing.

    `notice_accepted` says the applicant accepted the service's privacy notice (recorded with the case);
    without it the filing is refused while `privacy_notice_required` is on (engine/privacy/notice.py).
    `documents` maps a requirement code to `file:<id>` references of files the actor uploaded. The
    refusal is a FormInvalid naming every wrong field and document (paths `doc__<code>`), in both
    languages; the case, its history and the file links are written in a savepoint it rolls back.
    """
    service = start_form(session, rt=rt, process_key=process_key).service
    slots = requirements.document_slots(service)
    wrong = document_errors(slots, documents)
    wrong += notice.acceptance_errors(notice_accepted, required=rt.settings.privacy_notice_required)
    try:
        with session.begin_nested():
            started = start_case(session, rt=rt, process_key=process_key, data=data, channel=channel, actor=actor,
                                 applicant_id=applicant_id, needs=needs)
            if wrong:
                raise FormInvalid(wrong)
            filestore.link_case_files(session, case_id=started.id, data=data, actor=actor)
            requirements.record_files(session, rt=rt, case_id=started.id, actor=actor, slots=slots, files=documents)
            if notice_accepted:
                notice.record_acceptance(session, case_id=started.id, process_key=process_key, service=service,
                                         actor=actor.username, channel=channel, now=rt.clock())
    except FormInvalid as exc:
        if not wrong:
            raise
        raise FormInvalid([*exc.field_errors, *(e for e in wrong if e not in exc.field_errors)]) from exc
    return started
