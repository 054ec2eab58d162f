"""Correction requests (UU 27/2022 art. 6, 30): a citizen asks for a wrong value of their application to be fixed.

The request is a case of the catalogue's `koreksi_data` service, so it reaches the agency as an inbox task
with its deadline, is answered (corrected or refused with a reason) and is tracked like any application.
Its lane binds the agency that publishes the corrected application's service (`bindAgency`), so that
agency's complaints officer (`<agency>.pengaduan`) reviews it, as complaints are routed. An accepted
correction runs the built-in operation `koreksi_data.terapkan` (`CorrectionAdapter`), which writes the
value into the application through the engine: into its running workflow and history, or, for a closed
application, into its data and history.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.bpmn.outbound import OutboundCall
from engine.cases import filing as filing
from engine.cases.service import StartedCase, start_form
from engine.catalogue.labels import labels_for_version
from engine.directory.actors import Actor
from engine.errors import NotFound
from engine.models import Case, CaseEvent, ProcessVersion
from engine.runtime import Runtime
from forms.validation import FieldError, FormInvalid, validate

SERVICE = "koreksi_data"
OPERATION = "koreksi_data.terapkan"
ACTION = "corrected"


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

    case_id = session.scalar(select(Case.id).where(Case.tracking_number == tracking_number))
    if case_id is None:
        return  # the application was deleted by its retention meanwhile: nothing left to correct
    loaded = rt.load_case(session, case_id)
    typed = _typed(_start_schema(session, loaded.row.process_version_id), field, value)
    label = f"Koreksi data atas permintaan {request_number} / Corrected at request {request_number}"
    before = loaded.workflow.data()
    if loaded.row.status in ("running", "incident") and loaded.workflow.store(field, typed):
        result = rt.runner.advance(loaded.workflow)
        record_step(session, rt, loaded, result=result, before=before, record=StepRecord("system", ACTION, label=label))
        return
    rt.cases.put_back(case_id, loaded)
    row = session.get(Case, case_id)
    if row is None:
        return
    sealer = rt.sealer(loaded.compiled)
    row.data = sealer.seal({**row.data, field: typed})
    session.add(CaseEvent(case_id=case_id, at=rt.clock(), actor="system", action=ACTION, label=label,
                          diff=sealer.seal_diff({"set": {field: typed}})))
    session.flush()


class CorrectionAdapter:
    """The built-in operation `koreksi_data.terapkan`: apply an accepted correction, in the job's transaction."""

    def send_in(self, session: Session, rt: Any, call: OutboundCall) -> None:
        """Apply the correction the request case names."""
        params = call.params
        apply_correction(session, rt=rt, tracking_number=str(params.get("nomor_permohonan") or ""),
                         field=str(params.get("isian") or ""), value=str(params.get("nilai_baru") or ""),
                         request_number=call.tracking_number or "")
