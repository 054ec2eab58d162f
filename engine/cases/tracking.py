"""Tracking numbers and PINs: short, unguessable, easy to read aloud over a counter."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.models import Agency, Bundle, Case, CaseEvent, OpenTask, ProcessVersion

WIB = ZoneInfo("Asia/Jakarta")

# Crockford's base32 without I, L, O, U: no letter can be mistaken for a digit when read aloud.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_tracking_number() -> str:
    """Return a tracking number like `MPP-7K3Q-9XWD` (40 random bits)."""
    chars = "".join(secrets.choice(ALPHABET) for _ in range(8))
    return f"MPP-{chars[:4]}-{chars[4:]}"


def normalise(number: str) -> str:
    """Normalise what a person typed: case, spaces, and look-alike letters."""
    cleaned = number.strip().upper().replace(" ", "").replace("-", "")
    cleaned = cleaned.translate(str.maketrans("OIL", "011"))
    if cleaned.startswith("MPP"):
        cleaned = cleaned[3:]
    return f"MPP-{cleaned[:4]}-{cleaned[4:]}" if len(cleaned) == 8 else number.strip().upper()


def new_pin() -> str:
    """Return a 6-digit PIN for public tracking."""
    return f"{secrets.randbelow(10**6):06d}"


def hash_pin(pin: str, tracking_number: str, secret: str) -> str:
    """Keyed hash of a PIN, bound to its tracking number."""
    message = f"{tracking_number}:{pin.strip()}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def pin_matches(pin: str, tracking_number: str, secret: str, stored: str) -> bool:
    """Check a PIN in constant time."""
    return hmac.compare_digest(hash_pin(pin, tracking_number, secret), stored)


@dataclass(frozen=True)
class TimelineEntry:
    """One plain-language line of a case's public timeline."""

    at: datetime
    event: str
    label_id: str
    label_en: str


@dataclass(frozen=True)
class PublicStatus:
    """What the public may know of a case: status, stage, who holds it, when, and its timeline.

    For an integrated application, `parts` holds the status of each service and the top level
    combines them.
    """

    tracking_number: str
    service_id: str
    service_en: str
    status: str
    stage_id: str
    stage_en: str
    held_by: list[str]
    expected_completion: date | None
    timeline: list[TimelineEntry]
    parts: list[PublicStatus] = field(default_factory=list)


def _line(event: CaseEvent) -> TimelineEntry | None:
    label = event.label or ""
    texts = {
        "started": ("Permohonan diterima", "Application received"),
        "timer_fired": ("Batas waktu tahapan tercapai", "A stage's time limit was reached"),
        "cancelled": ("Permohonan dibatalkan", "Application cancelled"),
        "retried": ("Proses dilanjutkan kembali", "Processing resumed"),
        "sent": ("Berkas diteruskan ke instansi terkait", "The file was passed to the agency concerned"),
        "message_received": ("Jawaban instansi terkait diterima", "The agency's answer arrived"),
        "error_received": ("Sistem instansi terkait tidak dapat memproses; petugas menindaklanjuti",
                           "The agency's system could not process it; an officer follows up"),
    }
    if event.action == "completed" and event.task_id is not None:
        return TimelineEntry(event.at, "step_done", f"{label} — selesai", f"{label} — done")
    if event.action == "completed":
        return TimelineEntry(event.at, "finished", f"Selesai: {label}", f"Finished: {label}")
    if event.action in texts:
        text_id, text_en = texts[event.action]
        return TimelineEntry(event.at, event.action, text_id, text_en)
    return None  # claims, incidents and overdue flags are internal


def _case_status(session: Session, case: Case) -> PublicStatus:
    service = session.scalar(select(ProcessVersion.service).where(ProcessVersion.id == case.process_version_id))
    names = (service or {}).get("name", {})
    agencies = sorted(set(session.scalars(select(OpenTask.agency).where(OpenTask.case_id == case.id))))
    agency_names = dict(session.execute(select(Agency.code, Agency.name_id).where(Agency.code.in_(agencies))).all())
    events = session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id))
    timeline = [line for line in map(_line, events) if line is not None]
    expected = case.due_at.astimezone(WIB).date() if case.due_at and case.status == "running" else None
    return PublicStatus(case.tracking_number, names.get("id", case.process_key), names.get("en", case.process_key),
                        case.status, case.stage_id, case.stage_en,
                        [agency_names.get(code, code) for code in agencies], expected, timeline)


def _bundle_status(session: Session, bundle: Bundle) -> PublicStatus:
    members = session.scalars(select(Case).where(Case.bundle_id == bundle.id).order_by(Case.id))
    parts = [_case_status(session, case) for case in members]
    statuses = {part.status for part in parts}
    status = "running" if "running" in statuses or "incident" in statuses else (
        "completed" if statuses <= {"completed"} else "closed")
    done = sum(1 for part in parts if part.status != "running")
    timeline = sorted((TimelineEntry(t.at, t.event, f"{p.service_id}: {t.label_id}", f"{p.service_en}: {t.label_en}")
                       for p in parts for t in p.timeline), key=lambda t: t.at)
    dates = [p.expected_completion for p in parts if p.expected_completion]
    return PublicStatus(bundle.tracking_number, "Layanan terpadu: " + ", ".join(p.service_id for p in parts),
                        "Integrated application: " + ", ".join(p.service_en for p in parts), status,
                        f"{done} dari {len(parts)} layanan selesai", f"{done} of {len(parts)} services done",
                        sorted({a for p in parts for a in p.held_by}), max(dates) if dates else None, timeline, parts)


def case_id_of(session: Session, *, number: str) -> int | None:
    """Return the id of the case with this tracking number (not bundles), or None."""
    return session.scalar(select(Case.id).where(Case.tracking_number == normalise(number)))


def status_by_number(session: Session, *, number: str) -> PublicStatus | None:
    """Return the public status of a case or bundle whose PIN the caller has already proved."""
    normal = normalise(number)
    case = session.scalar(select(Case).where(Case.tracking_number == normal))
    if case is not None:
        return _case_status(session, case)
    bundle = session.scalar(select(Bundle).where(Bundle.tracking_number == normal))
    return _bundle_status(session, bundle) if bundle is not None else None


def public_status(session: Session, *, number: str, pin: str, secret: str) -> PublicStatus | None:
    """Return the public status when the number and PIN match; None otherwise, whichever is wrong."""
    normal = normalise(number)
    case = session.scalar(select(Case).where(Case.tracking_number == normal))
    bundle = None if case is not None else session.scalar(select(Bundle).where(Bundle.tracking_number == normal))
    found = case or bundle
    stored = found.pin_hash if found is not None else hash_pin("000000", "MPP-0000-0000", secret)
    if not pin_matches(pin, normal, secret, stored) or found is None:
        return None
    return _case_status(session, case) if case is not None else _bundle_status(session, found)  # type: ignore[arg-type]
