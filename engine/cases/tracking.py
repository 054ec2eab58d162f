"""Tracking numbers and PINs: short, unguessable, easy to read aloud over a counter."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.cases import next_tasks as upcoming
from engine.cases.assignment import APPLICANT_ROLE
from engine.catalogue.labels import labels_for_version, step_names
from engine.models import Agency, Bundle, Case, CaseEvent, OpenTask, ProcessVersion, utcnow
from engine.sla import calendar_store as calendar_store
from engine.sla import clock as sla_clock
from engine.sla.calendar import WorkingCalendar
from engine.sla.clock import ClockStatus

if TYPE_CHECKING:
    from engine.cases.next_tasks import NextTask
    from engine.directory.actors import Actor
    from engine.runtime import Runtime
    from forms.labels import Labels

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
class Reason:
    """Why a case came back to the applicant or was refused, and the step that said so.

    A package marks the field with `"x-mpp-role": "send_back_reason"` or `"refusal_reason"` in its
    form's schema (docs/bpmn-conventions.md).
    """

    kind: str  # send_back_reason | refusal_reason
    field: str
    text_id: str
    text_en: str
    step_id: str
    step_en: str
    at: datetime | None


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
    reasons: list[Reason] = field(default_factory=list)
    clock: ClockStatus | None = None  # the SLA clock of a running case: paused or not, days used and left


# The bank's paid message (engine.payments.notifications.PAID_MESSAGE; a test keeps them equal).
PAID_MESSAGE = "tagihan_lunas"


def _line(event: CaseEvent, names: dict[str, tuple[str, str]]) -> TimelineEntry | None:
    label = event.label or ""
    label_en = names.get(event.element_id or "", (label, label))[1] if event.task_id is not None else label
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
        return TimelineEntry(event.at, "step_done", f"{label} — selesai", f"{label_en} — done")
    if event.action == "completed":
        return TimelineEntry(event.at, "finished", f"Selesai: {label}", f"Finished: {label}")
    if event.action == "message_received" and label == PAID_MESSAGE:
        return TimelineEntry(event.at, event.action, "Pembayaran diterima bank", "Payment received by the bank")
    if event.action in texts:
        text_id, text_en = texts[event.action]
        return TimelineEntry(event.at, event.action, text_id, text_en)
    return None  # claims, incidents and overdue flags are internal


# What a deployed package's files say, by (process key, content hash): a version's files never change
# and a package deployed again with the same content is the same version (engine/catalogue/registry.py),
# so every lookup of a case of it needs no BPMN parse and no form read. Bounded: a few hundred packages.
_PACKAGE_FACTS: dict[tuple[str, str], tuple[dict[str, tuple[str, str]], dict[str, str]]] = {}
_PACKAGE_FACTS_MAX = 512


def _package_facts(session: Session, version: ProcessVersion) -> tuple[dict[str, tuple[str, str]], dict[str, str]]:
    """Return a version's step names (`step_names`) and reason fields (`Labels.reason_fields`), read once."""
    key = (version.key, version.content_hash)
    found = _PACKAGE_FACTS.get(key)
    if found is None:
        found = (step_names(session, version_id=version.id),
                 labels_for_version(session, version_id=version.id).reason_fields())
        if len(_PACKAGE_FACTS) >= _PACKAGE_FACTS_MAX:
            _PACKAGE_FACTS.clear()
        _PACKAGE_FACTS[key] = found
    return dict(found[0]), dict(found[1])


def _case_status(session: Session, case: Case, rt: Runtime | None = None) -> PublicStatus:
    version = session.get(ProcessVersion, case.process_version_id)
    names = ((version.service if version is not None else None) or {}).get("name", {})
    steps, marked = _package_facts(session, version) if version is not None else ({}, {})
    held = sorted({(row[0], row[1]) for row in session.execute(
        select(OpenTask.agency, Agency.name_id).outerjoin(Agency, Agency.code == OpenTask.agency)
        .where(OpenTask.case_id == case.id))})
    events = session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id))
    timeline = [line for line in (_line(event, steps) for event in events) if line is not None]
    expected = case.due_at.astimezone(WIB).date() if case.due_at and case.status == "running" else None
    clock = None
    if case.status == "running":
        calendar = rt.calendars.refresh(session) if rt is not None else (
            calendar_store.load(session) or WorkingCalendar.default())
        clock = sla_clock.status(session, calendar=calendar, case=case, now=utcnow())
    return PublicStatus(case.tracking_number, names.get("id", case.process_key), names.get("en", case.process_key),
                        case.status, case.stage_id, case.stage_en,
                        [name if name is not None else code for code, name in held], expected, timeline,
                        reasons=case_reasons(session, case, names=steps, marked=marked, rt=rt), clock=clock)


def case_reasons(session: Session, case: Case, *, names: dict[str, tuple[str, str]] | None = None,
                 marked: dict[str, str] | None = None, rt: Runtime | None = None) -> list[Reason]:
    """Return the case's refusal reasons, and its send-back reasons while the applicant has a task open.

    Each names the step whose completion last wrote it. `marked`: the version's reason fields, when known.
    Given the runtime, the version's labels come from its per-version cache, not from the package's files.
    """
    def read_labels() -> Labels:
        if rt is not None:
            return rt.labels(session, case.process_version_id)
        return labels_for_version(session, version_id=case.process_version_id)

    labels = read_labels() if marked is None else None
    marked = labels.reason_fields() if labels is not None else marked or {}
    data = case.data or {}
    present = {key: role for key, role in marked.items() if data.get(key) not in (None, "", [])}
    if any(role == "send_back_reason" for role in present.values()) and session.scalar(select(OpenTask.id).where(
            OpenTask.case_id == case.id, OpenTask.role == APPLICANT_ROLE).limit(1)) is None:
        # A send-back reason explains the applicant's open task; once answered it is history, not news.
        present = {key: role for key, role in present.items() if role != "send_back_reason"}
    if not present:
        return []
    labels = labels if labels is not None else read_labels()
    if names is None:
        names = (rt.step_names(session, case.process_version_id) if rt is not None
                 else step_names(session, version_id=case.process_version_id))
    events = session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.action == "completed",
                                                     CaseEvent.task_id.is_not(None)).order_by(CaseEvent.id.desc()))
    writers: dict[str, CaseEvent] = {}
    for event in events:
        changed = ((event.diff or {}).get("set") or {}) if isinstance(event.diff, dict) else {}
        for key in present:
            if key in changed and key not in writers:
                writers[key] = event
        if len(writers) == len(present):
            break
    reasons = []
    for key, role in present.items():
        writer = writers.get(key)
        step_id = (writer.label or "") if writer is not None else ""
        step_en = names.get(writer.element_id or "", (step_id, step_id))[1] if writer is not None else ""
        text_id, text_en = labels.both(key, data[key])
        reasons.append(Reason(role, key, text_id, text_en, step_id, step_en, writer.at if writer is not None else None))
    return sorted(reasons, key=lambda r: r.at.timestamp() if r.at is not None else float("inf"))


def _bundle_status(session: Session, bundle: Bundle, rt: Runtime | None = None) -> PublicStatus:
    members = session.scalars(select(Case).where(Case.bundle_id == bundle.id).order_by(Case.id))
    parts = [_case_status(session, case, rt) for case in members]
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
                        sorted({a for p in parts for a in p.held_by}), max(dates) if dates else None, timeline, parts,
                        [r for p in parts for r in p.reasons])


def case_id_of(session: Session, *, number: str) -> int | None:
    """Return the id of the case with this tracking number (not bundles), or None."""
    return session.scalar(select(Case.id).where(Case.tracking_number == normalise(number)))


def _case_by_number(session: Session, normal: str) -> Case | None:
    """Return the case with this (normalised) number, its process version read along (`_case_status` reads it)."""
    found = session.execute(select(Case, ProcessVersion).outerjoin(ProcessVersion, ProcessVersion.id ==
                                                                  Case.process_version_id)
                            .where(Case.tracking_number == normal)).first()
    return found[0] if found is not None else None


def status_by_number(session: Session, *, number: str, rt: Runtime | None = None) -> PublicStatus | None:
    """Return the public status of a case or bundle whose PIN the caller has already proved.

    Given the runtime, the working calendar comes from its cache instead of three reads.
    """
    normal = normalise(number)
    case = _case_by_number(session, normal)
    if case is not None:
        return _case_status(session, case, rt)
    bundle = session.scalar(select(Bundle).where(Bundle.tracking_number == normal))
    return _bundle_status(session, bundle, rt) if bundle is not None else None


def public_status(session: Session, *, number: str, pin: str, secret: str,
                  rt: Runtime | None = None) -> PublicStatus | None:
    """Return the public status when the number and PIN match; None otherwise, whichever is wrong.

    The PIN check is one keyed SHA-256 (HMAC) of number and PIN, a few microseconds; given the runtime, the
    working calendar comes from its cache instead of three reads.
    """
    normal = normalise(number)
    case = _case_by_number(session, normal)
    bundle = None if case is not None else session.scalar(select(Bundle).where(Bundle.tracking_number == normal))
    found = case or bundle
    stored = found.pin_hash if found is not None else hash_pin("000000", "MPP-0000-0000", secret)
    if not pin_matches(pin, normal, secret, stored) or found is None:
        return None
    return _case_status(session, case, rt) if case is not None else _bundle_status(session, found, rt)  # type: ignore[arg-type]


@dataclass(frozen=True)
class NextStep:
    """An open step of a case, for the officer who just handed the case on."""

    name_id: str
    name_en: str
    role: str
    role_name: str
    agency_code: str
    agency_id: str
    agency_en: str


@dataclass(frozen=True)
class WhereNext:
    """Where a case stands after a task was completed: its status and its open steps."""

    tracking_number: str
    status: str
    steps: list[NextStep]


def where_next(session: Session, *, task_id: str, username: str, rt: Runtime | None = None) -> WhereNext | None:
    """Return where a case went after this person completed this task; None when they did not complete it.

    Given the runtime, the step names come from its per-version cache instead of the version's BPMN.
    """
    case_id = session.scalar(select(CaseEvent.case_id).where(
        CaseEvent.task_id == task_id, CaseEvent.action == "completed", CaseEvent.actor == username).limit(1))
    case = session.get(Case, case_id) if case_id is not None else None
    if case is None:
        return None
    return WhereNext(case.tracking_number, case.status, next_steps(session, case_id=case.id, rt=rt))


def next_steps(session: Session, *, case_id: int, rt: Runtime | None = None) -> list[NextStep]:
    """Return a case's open steps, oldest first: each task's name, role and agency, named for people."""
    return steps_of_rows(session, upcoming.open_rows(session, case_id), rt=rt)


def after_step(session: Session, *, case_id: int, actor: Actor,
               rt: Runtime) -> tuple[list[NextStep], list[NextTask]]:
    """Return what a completion answers: the case's open steps, and those of its tasks the actor may work on now.

    One read of the case's open tasks for both (`next_tasks.open_rows`).
    """
    rows = upcoming.open_rows(session, case_id)
    return steps_of_rows(session, rows, rt=rt), upcoming.of_rows(rows, case_id=case_id, actor=actor)


def steps_of_rows(session: Session, rows: list[Any], *, rt: Runtime | None) -> list[NextStep]:
    """Return the case's open rows (`next_tasks.open_rows`) as steps named for people."""
    if not rows:
        return []
    version_id = rows[0].process_version_id
    names = rt.step_names(session, version_id) if rt is not None else step_names(session, version_id=version_id)
    return [NextStep(r.name, names.get(r.element_id, (r.name, r.name))[1], r.role, r.role_name or r.role, r.agency,
                     r.name_id if r.name_id is not None else r.agency, r.name_en if r.name_en is not None else r.agency)
            for r in rows]
