"""Correction requests (UU 27/2022 art. 6, 30): a citizen asks for a wrong value of their application to be fixed.

The request is a case of the catalogue's `koreksi_data` service, so it reaches the agency as an inbox task
with its deadline, is answered (corrected or refused with a reason) and is tracked like any application.
Its lane binds the agency that publishes the corrected application's service (`bindAgency`), so that
agency's complaints officer (`<agency>.pengaduan`) reviews it, as complaints are routed. An accepted
correction runs the built-in operation `koreksi_data.terapkan` (`CorrectionAdapter`), which writes the
value into the application through the engine: into its running workflow (the steps after carry it), or,
for a closed application, into its ended workflow's stored data, sealed as the rest; either way into its
read model, its NIK lookups and its history, under the name of the officer who accepted the request.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.bpmn.outbound import OutboundCall
from engine.cases import filing as filing
from engine.cases.service import StartedCase, start_form
from engine.catalogue.labels import labels_for_version
from engine.directory.actors import Actor
from engine.errors import NotFound
from engine.models import Case, CaseEvent, ProcessVersion
from engine.privacy import lookup as lookup
from engine.runtime import LoadedCase, Runtime
from forms.validation import FieldError, FormInvalid, validate

if TYPE_CHECKING:
    from engine.cases.steps import StepRecord

SERVICE = "koreksi_data"
OPERATION = "koreksi_data.terapkan"
ACTION = "corrected"
REVIEW_TASK = "Task_tinjau"  # the request's review (processes/koreksi_data): who completes it accepts the correction


@dataclass(frozen=True)
class Correctable:
    """A field of one of the citizen's applications that a correction request may name."""

    tracking_number: str
    field: str
    title_id: str
    title_en: str


def correctable_fields(session: Session, *, rt: Runtime, applicant_id: int) -> list[Correctable]:
    """Return the start-form fields of every application of the citizen (what they gave, and may correct)."""
    rows = session.execute(select(Case.tracking_number, Case.process_version_id).where(
        Case.applicant_id == applicant_id, Case.process_key != SERVICE, Case.anonymised_at.is_(None))
        .order_by(Case.id))
    found: list[Correctable] = []
    for number, version_id in rows:
        labels = labels_for_version(session, version_id=version_id)
        names = _start_fields(session, version_id)
        found += [Correctable(number, name, labels.title(name, "id"), labels.title(name, "en")) for name in names]
    return found


def _start_fields(session: Session, version_id: int) -> list[str]:
    schema = _start_schema(session, version_id)
    return [name for name in (schema.get("properties") or {}) if name != "channel"]


def _start_schema(session: Session, version_id: int) -> dict[str, Any]:
    import json

    from engine.models import ProcessFile

    service = session.scalar(select(ProcessVersion.service).where(ProcessVersion.id == version_id)) or {}
    raw = session.scalar(select(ProcessFile.content).where(ProcessFile.version_id == version_id,
                                                           ProcessFile.name == service.get("start_form")))
    loaded = json.loads(raw) if raw else {}
    return loaded if isinstance(loaded, dict) else {}


def _refuse(field: str, message_id: str, message_en: str) -> FormInvalid:
    return FormInvalid([FieldError(field, "invalid", message_id, message_en)])


def _typed(schema: dict[str, Any], field: str, text: str) -> Any:
    """Return the typed value for the field (a number for a number field), checked against its schema."""
    prop = dict((schema.get("properties") or {}).get(field) or {})
    value: Any = text.strip()
    kind = prop.get("type")
    try:
        if kind == "integer":
            value = int(value)
        elif kind == "number":
            value = float(value)
    except ValueError:
        raise _refuse("nilai_baru", "Tulis sebuah angka.", "Write a number.") from None
    check = {"type": "object", "properties": {field: prop}, "required": [field]}
    try:
        validate(check, {field: value})
    except FormInvalid as exc:
        raise FormInvalid([FieldError("nilai_baru", e.code, e.message_id, e.message_en)
                           for e in exc.field_errors]) from exc
    return value


def request_correction(session: Session, *, rt: Runtime, actor: Actor, tracking_number: str, field: str,
                       value: str, reason: str, notice_accepted: bool | None) -> StartedCase:
    """File a correction request about one of the actor's applications; refuse another's or an unknown field."""
    case = session.scalar(select(Case).where(Case.tracking_number == tracking_number.strip().upper()))
    if case is None or actor.user_id is None or case.applicant_id != actor.user_id or case.process_key == SERVICE:
        raise NotFound(f"application {tracking_number[:20]} not found",
                       message_id=f"permohonan {tracking_number[:20]} tidak ditemukan")
    if field not in _start_fields(session, case.process_version_id):
        raise _refuse("isian", "Pilih isian dari permohonan ini.", "Choose a field of this application.")
    _typed(_start_schema(session, case.process_version_id), field, value)
    service = start_form(session, rt=rt, process_key=case.process_key).service
    labels = labels_for_version(session, version_id=case.process_version_id)
    name = (service.get("name") or {}).get("id", case.process_key)
    data = {"nomor_permohonan": case.tracking_number, "layanan": name, "isian": field,
            "judul_isian": labels.title(field, "id"), "nilai_baru": value.strip(), "alasan": reason.strip(),
            "instansi_koreksi": str(service.get("agency") or "dpmptsp")}
    return filing.file_application(session, rt=rt, process_key=SERVICE, data=data, channel="daring", actor=actor,
                                   applicant_id=actor.user_id, documents={}, notice_accepted=notice_accepted)


def apply_correction(session: Session, *, rt: Runtime, tracking_number: str, field: str, value: str,
                     request_number: str) -> None:
    """Write a corrected value into an application through the engine, with a history entry naming the request."""
    from engine.cases.steps import StepRecord, record_step

    found = session.execute(select(Case.id, Case.anonymised_at).where(Case.tracking_number == tracking_number)).first()
    if found is None or found.anonymised_at is not None:
        return  # deleted or anonymised by its retention meanwhile: nothing left to correct
    loaded = rt.load_case(session, found.id)
    typed = _typed(_start_schema(session, loaded.row.process_version_id), field, value)
    record = StepRecord(_reviewer(session, request_number), ACTION,
                        label=f"Koreksi data atas permintaan {request_number} / Corrected at request {request_number}")
    before = loaded.workflow.data()
    if loaded.row.status in ("running", "incident") and loaded.workflow.store(field, typed):
        result = rt.runner.advance(loaded.workflow)
        record_step(session, rt, loaded, result=result, before=before, record=record)
    elif loaded.workflow.amend(field, typed):
        _save_amended(session, rt, loaded, before=before, record=record, diff={"set": {field: typed}})
    else:  # a stalled incident: nothing of the workflow carries data any more; its read model still does
        rt.cases.put_back(found.id, loaded)
        _amend_read_model(session, rt, loaded, record=record, field=field, value=typed)


def _reviewer(session: Session, request_number: str) -> str:
    """Name who accepted the correction: the officer who completed the request's review (else the system)."""
    return session.scalar(
        select(CaseEvent.actor).join(Case, Case.id == CaseEvent.case_id)
        .where(Case.tracking_number == request_number, CaseEvent.action == "completed",
               CaseEvent.element_id == REVIEW_TASK)
        .order_by(CaseEvent.id.desc()).limit(1)) or "system"


def _save_amended(session: Session, rt: Runtime, loaded: LoadedCase, *, before: dict[str, Any],
                  record: StepRecord, diff: dict[str, Any]) -> None:
    """Store an amended workflow that took no step: its state (sealed), read model, lookups and history.

    The case keeps its status, stage, outcome and closing time; only its data changes, everywhere it is kept.
    """
    from engine.cases.steps import jsonable

    sealer = rt.sealer(loaded.compiled)
    outcome = loaded.workflow.outcome(loaded.tracker, sealer)
    after = jsonable(outcome.data)
    head = loaded.row
    closing = session.execute(select(Case.outcome, Case.completed_at).where(Case.id == head.id)).one()
    rt.save_state(session, loaded, outcome.changes, {
        "data": after, "status": head.status, "stage_id": head.stage_id, "stage_en": head.stage_en,
        "outcome": closing.outcome, "completed_at": closing.completed_at})
    if lookup.changed(before, after):
        lookup.write_lookups(session, case_id=head.id, data=after)
    session.add(CaseEvent(case_id=head.id, at=rt.clock(), actor=record.actor, action=record.action,
                          label=record.label, diff=sealer.seal_diff(diff)))
    session.flush()


def _amend_read_model(session: Session, rt: Runtime, loaded: LoadedCase, *, record: StepRecord, field: str,
                      value: Any) -> None:
    row = session.get(Case, loaded.row.id)
    if row is None:
        return
    sealer = rt.sealer(loaded.compiled)
    before = dict(row.data)
    row.data = sealer.seal({**before, field: value})
    if lookup.changed(before, {**before, field: value}):
        lookup.write_lookups(session, case_id=row.id, data={**before, field: value})
    session.add(CaseEvent(case_id=row.id, at=rt.clock(), actor=record.actor, action=record.action, label=record.label,
                          diff=sealer.seal_diff({"set": {field: value}})))
    session.flush()


class CorrectionAdapter:
    """The built-in operation `koreksi_data.terapkan`: apply an accepted correction, in the job's transaction."""

    def send_in(self, session: Session, rt: Any, call: OutboundCall) -> None:
        """Apply the correction the request case names."""
        params = call.params
        apply_correction(session, rt=rt, tracking_number=str(params.get("nomor_permohonan") or ""),
                         field=str(params.get("isian") or ""), value=str(params.get("nilai_baru") or ""),
                         request_number=call.tracking_number or "")
