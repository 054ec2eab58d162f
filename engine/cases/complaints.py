"""Complaints on a case or a service: filed as a case of the complaint service, routed to the agency concerned.

A complaint is a case of the catalogue's complaint service (`pengaduan`, processes/pengaduan): it has its
own tracking number and PIN, and its officers' lane binds its agency (`bindAgency`), so the review goes to
the complaints role of the agency that publishes the service complained about (`<agency>.pengaduan`), or
to the mall's complaints officer (`dpmptsp.pengaduan`) when that agency has none. The `complaint` row links
the complaint case to the service and case it is about and holds its response deadline. Reading them
back for the public pages and the figures: engine/cases/complaint_views.py. docs/complaints.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from engine.cases import service as cases
from engine.cases.service import StartedCase
from engine.directory import service as directory
from engine.directory.actors import Actor
from engine.errors import ProcessNotFound
from engine.models import Case, Complaint, OpenTask
from engine.runtime import Runtime
from forms.validation import FieldError, FormInvalid, validate

COMPLAINT_SERVICE = "pengaduan"
COMPLAINTS_ROLE = "pengaduan"  # the role key each agency's complaints officer holds: `<agency>.pengaduan`
MALL_AGENCY = "dpmptsp"  # the mall's own complaints officer takes what no agency's officer can
MAX_RESPONSE_DAYS = 60
CONFIDENTIAL_NAME = "Pelapor (identitas dirahasiakan)"
# What the complainant types; the rest of the complaint case's start data comes from what it is about.
FIELDS = ("nama_pelapor", "email", "telepon", "judul", "isi_pengaduan", "rahasia")


@dataclass(frozen=True)
class Target:
    """What a complaint is about and where it goes: the service, its agency and role, the response time."""

    service_key: str
    service_id: str
    service_en: str
    agency: str
    role: str
    response_days: int
    about_case_id: int | None = None
    about_number: str | None = None


def response_days(service: dict[str, Any], fallback: int) -> int:
    """Return a service's `[standard] complaints.response_days`, or `fallback` when absent or unusable."""
    standard = service.get("standard")
    complaints = standard.get("complaints") if isinstance(standard, dict) else None
    days = complaints.get("response_days") if isinstance(complaints, dict) else None
    if isinstance(days, int) and not isinstance(days, bool) and 0 < days <= MAX_RESPONSE_DAYS:
        return days
    return fallback


def complaints_role(session: Session, agency: str) -> str:
    """Return the role that answers complaints about an agency's services: its own, else the mall's."""
    own = f"{agency}.{COMPLAINTS_ROLE}"
    return own if directory.role_exists(session, own) else f"{MALL_AGENCY}.{COMPLAINTS_ROLE}"


def service_target(session: Session, *, rt: Runtime, service_key: str) -> Target:
    """Return where a complaint about a service goes; raise ProcessNotFound for an unknown service."""
    if service_key == COMPLAINT_SERVICE:
        raise ProcessNotFound("a complaint cannot be about the complaint service itself")
    found = rt.specs.latest(session, service_key)
    own = rt.specs.latest(session, COMPLAINT_SERVICE)
    if found is None or own is None:
        raise ProcessNotFound(f"no service '{service_key}'")
    service = found[1].service
    raw_name = service.get("name")
    name: dict[str, Any] = raw_name if isinstance(raw_name, dict) else {}
    agency = str(service.get("agency") or MALL_AGENCY)
    fallback = int(own[1].service.get("sla_days", 3) or 3)
    return Target(service_key=service_key, service_id=str(name.get("id") or service_key),
                  service_en=str(name.get("en") or name.get("id") or service_key), agency=agency,
                  role=complaints_role(session, agency), response_days=response_days(service, fallback))


def case_target(session: Session, *, rt: Runtime, case_id: int) -> Target:
    """Return where a complaint about one case goes: its service's target, with the case named."""
    case = cases.get_case(session, case_id)
    target = service_target(session, rt=rt, service_key=case.process_key)
    return Target(**{**target.__dict__, "about_case_id": case.id, "about_number": case.tracking_number})


def file_complaint(session: Session, *, rt: Runtime, target: Target, data: dict[str, Any], actor: Actor,
                   applicant_id: int | None) -> StartedCase:
    """Start a complaint case about `target`, routed to its agency, due in its response days."""
    typed = {k: v for k, v in data.items() if k in FIELDS}
    confidential = typed.get("rahasia") is True
    real_name = str(typed.get("nama_pelapor") or "").strip()
    if confidential and real_name:  # the agency's officers read the case data: the name stays out of it
        typed["nama_pelapor"] = CONFIDENTIAL_NAME
    start = {**typed, "layanan": target.service_id, "instansi_pengaduan": target.agency}
    if target.about_number:
        start["nomor_pelacakan"] = target.about_number
    if applicant_id is None and not (typed.get("email") or typed.get("telepon")):
        _refuse_without_contact(session, rt=rt, start=start)
    started = cases.start_case(session, rt=rt, process_key=COMPLAINT_SERVICE, data=start, channel="daring",
                               actor=actor, applicant_id=applicant_id)
    row = session.get(Case, started.id)
    assert row is not None  # noqa: S101 - just started in this transaction
    due = rt.calendar.due_at(row.created_at, target.response_days)
    session.add(Complaint(case_id=started.id, about_case_id=target.about_case_id, service_key=target.service_key,
                          agency=target.agency, confidential=confidential,
                          complainant_name=real_name if confidential else None,
                          response_days=target.response_days, due_at=due, created_at=row.created_at))
    # The response deadline is the service's, not the review step's default (slaDays).
    row.due_at = due
    session.execute(update(OpenTask).where(OpenTask.case_id == started.id).values(due_at=due))
    session.flush()
    return started


def _refuse_without_contact(session: Session, *, rt: Runtime, start: dict[str, Any]) -> None:
    """Refuse a complaint without an account or a contact, naming every other bad field with it."""
    missing = FieldError("email", "contact",
                         "Isi email atau nomor telepon agar tanggapan dapat disampaikan kepada Anda.",
                         "Give an email address or a phone number so the response can reach you.")
    form = cases.start_form(session, rt=rt, process_key=COMPLAINT_SERVICE)
    try:
        validate(form.schema, {**start, "channel": "daring"})
    except FormInvalid as exc:
        raise FormInvalid([missing, *(e for e in exc.field_errors if e.path != "email")]) from exc
    raise FormInvalid([missing])
