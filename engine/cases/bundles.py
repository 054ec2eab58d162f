"""Integrated one-stop applications: several services in one application, one tracking number."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from engine.cases import priority as priority
from engine.cases import requirements as requirements
from engine.cases import tracking as tracking
from engine.cases.service import CHANNELS, StartedCase, start_case, start_form, unique_tracking_number
from engine.catalogue import lifecycle as lifecycle
from engine.directory.actors import Actor
from engine.documents import filestore as filestore
from engine.errors import InvalidInput
from engine.models import Bundle, StoredFile
from engine.privacy import notice as notice
from engine.runtime import Runtime
from forms.numbers import check_numbers
from forms.validation import FieldError, FormInvalid, validate

MAX_SERVICES = 10
INTEGRATED = "terpadu"


@dataclass(frozen=True)
class StartedBundle:
    """A new integrated application: its tracking number and PIN, and the case of each service."""

    id: int
    tracking_number: str
    pin: str
    cases: list[StartedCase]


def start_bundle(
    session: Session, *, rt: Runtime, services: list[tuple[str, dict[str, Any]]], channel: str, actor: Actor,
    applicant_id: int | None, documents: list[dict[str, list[str]]] | None = None,
    notice_accepted: bool | None = None, needs: priority.Needs | None = None,
) -> StartedBundle:
    """Start one case per service under one tracking number; all start or none does.

    Every form and every required document is checked before the first case starts, so the refusal
    names all that is wrong (paths `services.<i>.data.<field>` and `services.<i>.doc__<code>`).
    `documents` gives, per service, the files answering its document requirements. A file two
    services share is copied (same bytes, a row per case), so each case's officers may read it.
    `needs` is one priority-service and jemput bola request for the whole application: priority goes
    onto every case, the visit onto each case whose service offers it (engine/cases/priority.py).
    """
    if not 2 <= len(services) <= MAX_SERVICES:
        raise InvalidInput(f"an integrated application bundles 2 to {MAX_SERVICES} services")
    keys = [key for key, _ in services]
    if len(set(keys)) != len(keys):
        raise InvalidInput("each service may appear once in an integrated application")
    for key in keys:  # a retired service is named before any form is checked
        lifecycle.refuse_retired(session, key)
    slot_files = documents if documents is not None else [{} for _ in services]
    if len(slot_files) != len(services):
        raise InvalidInput("give the documents of each service, in the order of the services")
    needs = needs or priority.Needs()
    refused = notice.acceptance_errors(notice_accepted, required=rt.settings.privacy_notice_required)
    refused += priority.check_bundle([start_form(session, rt=rt, process_key=key).service for key in keys], needs)
    _check_all(session, rt=rt, services=services, channel=channel, documents=slot_files, also=refused, needs=needs)
    number, pin = unique_tracking_number(session), tracking.new_pin()
    pin_hash = tracking.hash_pin(pin, number, rt.settings.secret_key.get_secret_value())
    bundle = Bundle(tracking_number=number, pin_hash=pin_hash, applicant_id=applicant_id, filed_by_id=actor.user_id,
                    channel=channel, created_at=rt.clock())
    session.add(bundle)
    session.flush()
    started, used = [], set[int]()
    for index, (key, data) in enumerate(services):
        own_data, own_files = _own_copies(session, used, (data, slot_files[index]))
        try:
            case = start_case(session, rt=rt, process_key=key, data=own_data, channel=channel, actor=actor,
                              applicant_id=applicant_id, bundle_id=bundle.id, needs=priority.for_service(
                                  start_form(session, rt=rt, process_key=key).service, needs))
        except FormInvalid as exc:  # name the service whose form is at fault
            raise FormInvalid([FieldError(f"services.{index}.data.{e.path}", e.code, e.message_id, e.message_en)
                               for e in exc.field_errors]) from exc
        filestore.link_case_files(session, case_id=case.id, data=own_data, actor=actor)
        slots = requirements.document_slots(start_form(session, rt=rt, process_key=key).service)
        requirements.record_files(session, rt=rt, case_id=case.id, actor=actor, slots=slots, files=own_files)
        if notice_accepted:  # each service's own notice: its purpose and retention differ
            notice.record_acceptance(session, case_id=case.id, process_key=key, service=start_form(
                session, rt=rt, process_key=key).service, actor=actor.username, channel=channel, now=rt.clock())
        started.append(case)
    return StartedBundle(bundle.id, number, pin, started)


def _check_all(session: Session, *, rt: Runtime, services: list[tuple[str, dict[str, Any]]], channel: str,
               documents: list[dict[str, list[str]]], also: list[FieldError], needs: priority.Needs) -> None:
    """Raise one FormInvalid naming every field and document of every service that is wrong (and `also`)."""
    if channel not in CHANNELS:
        raise InvalidInput(f"unknown channel '{channel}'; use one of {', '.join(CHANNELS)}")
    errors: list[FieldError] = list(also)
    for index, (key, data) in enumerate(services):
        form = start_form(session, rt=rt, process_key=key)
        if channel not in form.service.get("channels", CHANNELS):
            raise InvalidInput(f"service '{key}' is not offered through channel '{channel}'")
        try:
            check_numbers(data)
            own = priority.with_form_fields(form.schema, data, priority.for_service(form.service, needs))
            validate(form.schema, {**own, "channel": channel})
        except FormInvalid as exc:
            errors += [FieldError(f"services.{index}.data.{e.path}", e.code, e.message_id, e.message_en)
                       for e in exc.field_errors]
        errors += requirements.missing(requirements.document_slots(form.service), documents[index],
                                       prefix=f"services.{index}.")
    if errors:
        raise FormInvalid(errors)


def _own_copies(session: Session, used: set[int], parts: tuple[dict[str, Any], dict[str, list[str]]],
                ) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """Return the parts with each file an earlier case already took replaced by a copy of its own."""
    copies: dict[int, str] = {}
    for file_id in sorted(filestore.refs_in(list(parts)) & used):
        row = session.get(StoredFile, file_id)
        if row is None:
            continue  # linking refuses it, naming the file
        twin = StoredFile(sha256=row.sha256, filename=row.filename, content_type=row.content_type, size=row.size,
                          uploaded_by=row.uploaded_by, created_at=row.created_at)
        session.add(twin)
        session.flush()
        copies[file_id] = filestore.ref(twin.id)
    used |= filestore.refs_in(list(parts))
    data, files = parts
    return _swap(data, copies), {code: [copies.get(filestore.parse_ref(r) or -1, r) for r in refs]
                                 for code, refs in files.items()}


def _swap(value: Any, copies: dict[int, str]) -> Any:
    if isinstance(value, dict):
        return {k: _swap(v, copies) for k, v in value.items()}
    if isinstance(value, list):
        return [_swap(v, copies) for v in value]
    file_id = filestore.parse_ref(value)
    return copies.get(file_id, value) if file_id is not None else value
