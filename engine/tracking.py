"""Tracking numbers and PINs: short, unguessable, easy to read aloud over a counter."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.models import Agency, Case, CaseEvent, OpenTask, ProcessVersion

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
    """What the public may know of a case: status, stage, who holds it, when, and its timeline."""

    tracking_number: str
    service_id: str
    service_en: str
    status: str
    stage_id: str
    stage_en: str
    held_by: list[str]
    expected_completion: date | None
    timeline: list[TimelineEntry]


def _line(event: CaseEvent) -> TimelineEntry | None:
    label = event.label or ""
    texts = {
        "started": ("Permohonan diterima", "Application received"),
        "timer_fired": ("Batas waktu tahapan tercapai", "A stage's time limit was reached"),
        "cancelled": ("Permohonan dibatalkan", "Application cancelled"),
        "retried": ("Proses dilanjutkan kembali", "Processing resumed"),
    }
    if event.action == "completed" and event.task_id is not None:
        return TimelineEntry(event.at, "step_done", f"{label} — selesai", f"{label} — done")
    if event.action == "completed":
        return TimelineEntry(event.at, "finished", f"Selesai: {label}", f"Finished: {label}")
    if event.action in texts:
        text_id, text_en = texts[event.action]
        return TimelineEntry(event.at, event.action, text_id, text_en)
    return None  # claims, incidents and overdue flags are internal


def public_status(session: Session, *, number: str, pin: str, secret: str) -> PublicStatus | None:
    """Return a case's public status when the number and PIN match; None otherwise, whichever is wrong."""
    case = session.scalar(select(Case).where(Case.tracking_number == normalise(number)))
    stored = case.pin_hash if case is not None else hash_pin("000000", "MPP-0000-0000", secret)
    if not pin_matches(pin, normalise(number), secret, stored) or case is None:
        return None
    service = session.scalar(select(ProcessVersion.service).where(ProcessVersion.id == case.process_version_id))
    names = (service or {}).get("name", {})
    agencies = sorted(set(session.scalars(select(OpenTask.agency).where(OpenTask.case_id == case.id))))
    agency_names = dict(session.execute(select(Agency.code, Agency.name_id).where(Agency.code.in_(agencies))).all())
    events = session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id))
    timeline = [line for line in map(_line, events) if line is not None]
    expected = case.due_at.astimezone(WIB).date() if case.due_at else None
    return PublicStatus(case.tracking_number, names.get("id", case.process_key), names.get("en", case.process_key),
                        case.status, case.stage_id, case.stage_en,
                        [agency_names.get(code, code) for code in agencies],
                        expected if case.status == "running" else None, timeline)
