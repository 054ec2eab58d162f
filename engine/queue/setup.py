"""The hall's set-up: each agency's booth (ticket prefix, visit slots) and its counters, and what the kiosk offers.

An agency without a `queue_booth` row gets the defaults: the first letter of its code as prefix,
30-minute slots with 4 places at the counters and 2 at the drive-thru lane. Administrators change
them on /admin/antrean (docs/queue.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.catalogue import lifecycle as lifecycle
from engine.catalogue import service as catalogue
from engine.errors import AlreadyExists
from engine.models import Agency, QueueBooth, QueueCounter
from engine.queue.errors import CounterNotFound, QueueInputInvalid

DEFAULT_SLOT_MINUTES, DEFAULT_CAPACITY, DEFAULT_DRIVE_THRU = 30, 4, 2
PREFIX = re.compile(r"^[A-Z]{1,3}$")
CODE = re.compile(r"^[A-Za-z0-9-]{1,16}$")
MAX_NAME = 120


@dataclass(frozen=True)
class ServiceChoice:
    """A service the kiosk and the booking page offer: its key, names and whether it has a drive-thru lane."""

    key: str
    name_id: str
    name_en: str
    drive_thru: bool


@dataclass(frozen=True)
class AgencyChoice:
    """An agency with a booth in the hall (at least one active counter) and its services."""

    code: str
    name_id: str
    name_en: str
    prefix: str
    services: list[ServiceChoice]


def booth(session: Session, agency: str) -> QueueBooth:
    """Return an agency's booth settings (a transient row with the defaults when none was saved)."""
    row = session.get(QueueBooth, agency)
    if row is not None:
        return row
    return QueueBooth(agency=agency, prefix=(agency[:1] or "X").upper(), slot_minutes=DEFAULT_SLOT_MINUTES,
                      capacity=DEFAULT_CAPACITY, drive_thru_capacity=DEFAULT_DRIVE_THRU)


def save_booth(session: Session, *, agency: str, prefix: str, slot_minutes: int, capacity: int,
               drive_thru_capacity: int) -> QueueBooth:
    """Save an agency's booth settings; refuse a bad prefix or slot figure."""
    _agency_names(session, agency)
    prefix = prefix.strip().upper()
    if not PREFIX.fullmatch(prefix):
        raise QueueInputInvalid("Awalan nomor harus 1-3 huruf (A-Z).", "The ticket prefix must be 1-3 letters (A-Z).")
    if slot_minutes not in (10, 15, 20, 30, 45, 60, 90, 120):
        raise QueueInputInvalid("Panjang slot harus salah satu dari 10, 15, 20, 30, 45, 60, 90 atau 120 menit.",
                                "The slot length must be one of 10, 15, 20, 30, 45, 60, 90 or 120 minutes.")
    if not (0 <= capacity <= 100 and 0 <= drive_thru_capacity <= 100):
        raise QueueInputInvalid("Kapasitas per slot harus 0-100.", "The places per slot must be 0-100.")
    row = session.get(QueueBooth, agency) or QueueBooth(agency=agency)
    row.prefix, row.slot_minutes, row.capacity, row.drive_thru_capacity = (prefix, slot_minutes, capacity,
                                                                          drive_thru_capacity)
    session.add(row)
    session.flush()
    return row


def _agency_names(session: Session, agency: str) -> tuple[str, str]:
    row = session.scalar(select(Agency).where(Agency.code == agency))
    if row is None:
        raise QueueInputInvalid(f"Instansi '{agency}' tidak dikenal.", f"Unknown agency '{agency}'.")
    return row.name_id, row.name_en


def agency_names(session: Session) -> dict[str, tuple[str, str]]:
    """Return every agency's names (Indonesian, English) by code."""
    return {a.code: (a.name_id, a.name_en) for a in session.scalars(select(Agency))}


def published(session: Session) -> dict[str, list[ServiceChoice]]:
    """Return the services each agency publishes (latest versions, not retired; one catalogue read), by name."""
    retired = lifecycle.retired_keys(session)
    found: dict[str, list[ServiceChoice]] = {}
    for s in catalogue.list_services(session):
        if s.key not in retired:
            name = s.standard.get("name", {})
            drive_thru = "drive_thru" in s.standard.get("channels", ())
            found.setdefault(s.agency, []).append(
                ServiceChoice(s.key, str(name.get("id", s.key)), str(name.get("en", s.key)), drive_thru))
    return found


def services_of(session: Session, agency: str) -> list[ServiceChoice]:
    """Return the services an agency publishes (latest versions, not retired), by name."""
    return published(session).get(agency, [])


def service_of(session: Session, agency: str, key: str) -> ServiceChoice:
    """Return one of an agency's services; refuse a key the agency does not publish."""
    found = next((s for s in services_of(session, agency) if s.key == key), None)
    if found is None:
        raise QueueInputInvalid(f"Layanan '{key}' tidak dilayani di loket instansi ini.",
                                f"Service '{key}' is not served at this agency's counters.")
    return found


def counters(session: Session, *, agency: str | None = None, active_only: bool = False) -> list[QueueCounter]:
    """Return the counters (of one agency), by code."""
    stmt = select(QueueCounter).order_by(QueueCounter.code)
    if agency is not None:
        stmt = stmt.where(QueueCounter.agency == agency)
    if active_only:
        stmt = stmt.where(QueueCounter.active.is_(True))
    return list(session.scalars(stmt))


def hall(session: Session) -> list[AgencyChoice]:
    """Return the agencies with an active counter, with their services, by prefix: what the kiosk offers."""
    codes = sorted({c.agency for c in counters(session, active_only=True)})
    names, offered = agency_names(session), published(session)
    choices = [AgencyChoice(code, *names.get(code, (code, code)), booth(session, code).prefix,
                            offered.get(code, [])) for code in codes]
    return sorted(choices, key=lambda a: (a.prefix, a.name_id))


def agency_choice(session: Session, agency: str) -> AgencyChoice:
    """Return one agency of the hall; refuse one without an active counter."""
    found = next((a for a in hall(session) if a.code == agency), None)
    if found is None:
        raise QueueInputInvalid("Instansi ini tidak membuka loket antrean.", "This agency has no queue counter open.")
    return found


def add_counter(session: Session, *, code: str, name: str, agency: str, services: list[str]) -> QueueCounter:
    """Add a counter to an agency's booth; refuse a taken code or a service the agency does not publish."""
    code, name = code.strip().upper(), name.strip()
    if not CODE.fullmatch(code):
        raise QueueInputInvalid("Kode loket harus 1-16 huruf, angka atau '-'.",
                                "The counter code must be 1-16 letters, digits or '-'.")
    if not name or len(name) > MAX_NAME:
        raise QueueInputInvalid(f"Isi nama loket (paling banyak {MAX_NAME} karakter).",
                                f"Give the counter a name (at most {MAX_NAME} characters).")
    _agency_names(session, agency)
    for key in services:
        service_of(session, agency, key)
    if session.scalar(select(QueueCounter.id).where(QueueCounter.code == code)) is not None:
        raise AlreadyExists(f"counter code {code} is taken", message_id=f"kode loket {code} sudah dipakai")
    row = QueueCounter(code=code, name=name, agency=agency, services=sorted(set(services)), active=True)
    session.add(row)
    session.flush()
    return row


def set_active(session: Session, *, counter_id: int, active: bool) -> QueueCounter:
    """Open or close a counter (a closed one keeps its history and is not offered to officers)."""
    row = session.get(QueueCounter, counter_id)
    if row is None:
        raise CounterNotFound()
    row.active = active
    session.flush()
    return row


# The demo hall `make run` shows: a booth per agency that is deployed, with its prefix and counters.
DEMO_HALL: tuple[tuple[str, str, tuple[tuple[str, str], ...]], ...] = (
    ("dpmptsp", "A", (("A1", "Loket 1 Perizinan"), ("A2", "Loket 2 Perizinan"))),
    ("disdukcapil", "B", (("B1", "Loket 3 Kependudukan"),)),
    ("polresta", "C", (("C1", "Loket 4 SKCK"),)),
    ("bapenda", "D", (("D1", "Loket 5 Samsat"),)),
    ("imigrasi", "E", (("E1", "Loket 6 Paspor"),)),
)


def seed_demo_hall(session: Session) -> None:
    """Set up the demo hall's booths and counters for the agencies that exist (idempotent)."""
    known = set(agency_names(session))
    for agency, prefix, desks in DEMO_HALL:
        if agency not in known:
            continue
        if session.get(QueueBooth, agency) is None:
            session.add(QueueBooth(agency=agency, prefix=prefix, slot_minutes=DEFAULT_SLOT_MINUTES,
                                   capacity=DEFAULT_CAPACITY, drive_thru_capacity=DEFAULT_DRIVE_THRU))
        for code, name in desks:
            if session.scalar(select(QueueCounter.id).where(QueueCounter.code == code)) is None:
                session.add(QueueCounter(code=code, name=name, agency=agency, services=[], active=True))
    session.flush()
