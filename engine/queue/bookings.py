"""Visit slots booked from the portal: slots on working days within service hours, a capacity per slot.

A slot is `slot_minutes` long and starts at the opening of a service-hours interval of the working
calendar (engine/sla/calendar.py), then every `slot_minutes` while it fits before the interval's
end: no slot on a holiday, a weekend or across the Friday prayer break. Each slot has
`capacity` places at the counters and `drive_thru_capacity` at the drive-thru lane (the latter
only for services with the drive-thru channel). A booking takes the first free place 1..capacity;
(agency, starts_at, channel, place) is unique, so two applicants racing for the last place cannot
both get it. At the kiosk the booking code gives a ticket that is called first from the slot's start.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine.models import QueueBooking, QueueTicket
from engine.queue import service as queue
from engine.queue import setup as setup
from engine.queue.errors import BookingNotFound, QueueInputInvalid, SlotFull
from engine.sla.calendar import WorkingCalendar

WIB = ZoneInfo("Asia/Jakarta")
CHANNELS = ("tatap_muka", "drive_thru")
MAX_DAYS_AHEAD = 30
CODE_LETTERS = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L
CODE_LENGTH = 6
MAX_TRIES = 20


@dataclass(frozen=True)
class Slot:
    """One visit slot: its start, its label (HH:MM in WIB) and the places still free."""

    starts_at: datetime
    label: str
    free: int


def _capacity(session: Session, agency: str, channel: str) -> int:
    row = setup.booth(session, agency)
    return row.drive_thru_capacity if channel == "drive_thru" else row.capacity


def check_day(calendar: WorkingCalendar, *, day: date, now: datetime) -> None:
    """Refuse a day that cannot be booked: past, too far ahead, a holiday or a day the offices are closed."""
    first = queue.today(now)
    if day < first or day > first + timedelta(days=MAX_DAYS_AHEAD):
        raise QueueInputInvalid(f"Pilih tanggal antara hari ini dan {MAX_DAYS_AHEAD} hari ke depan.",
                                f"Choose a date from today to {MAX_DAYS_AHEAD} days ahead.")
    holiday = calendar.holiday_name(day)
    if holiday is not None:
        raise QueueInputInvalid(f"{day.isoformat()} adalah hari libur ({holiday}); pilih hari kerja.",
                                f"{day.isoformat()} is a holiday ({holiday}); choose a working day.")
    if not calendar.is_working_day(day):
        raise QueueInputInvalid(f"Kantor tutup pada {day.isoformat()}; pilih hari kerja.",
                                f"Offices are closed on {day.isoformat()}; choose a working day.")


def slots(session: Session, calendar: WorkingCalendar, *, agency: str, day: date, channel: str,
          now: datetime) -> list[Slot]:
    """Return a day's visit slots of an agency and channel that have not begun, with their free places."""
    check_day(calendar, day=day, now=now)
    step = timedelta(minutes=setup.booth(session, agency).slot_minutes)
    starts: list[datetime] = []
    for opens, closes in calendar.hours_on(day):
        at, end = datetime.combine(day, opens, WIB), datetime.combine(day, closes, WIB)
        while at + step <= end:
            starts.append(at)
            at += step
    if not starts:
        return []
    taken = dict(session.execute(select(QueueBooking.starts_at, func.count()).where(
        QueueBooking.agency == agency, QueueBooking.channel == channel, QueueBooking.place.is_not(None),
        QueueBooking.starts_at.in_(starts)).group_by(QueueBooking.starts_at)).all())
    capacity = _capacity(session, agency, channel)
    return [Slot(s, s.strftime("%H:%M"), max(0, capacity - int(taken.get(s, 0)))) for s in starts if s > now]


def _new_code() -> str:
    return "".join(secrets.choice(CODE_LETTERS) for _ in range(CODE_LENGTH))


def _check_channel(service: setup.ServiceChoice, channel: str) -> None:
    if channel not in CHANNELS:
        raise QueueInputInvalid("Pilih loket atau drive-thru.", "Choose the counter or the drive-thru lane.")
    if channel == "drive_thru" and not service.drive_thru:
        raise QueueInputInvalid("Layanan ini tidak melayani drive-thru.", "This service has no drive-thru lane.")


def book(session: Session, calendar: WorkingCalendar, *, user_id: int, agency: str, service_key: str, day: date,
         time_label: str, channel: str, now: datetime) -> QueueBooking:
    """Book a place in a visit slot; refuse a closed day, an unknown slot or a full one."""
    service = setup.service_of(session, agency, service_key)
    _check_channel(service, channel)
    slot = next((s for s in slots(session, calendar, agency=agency, day=day, channel=channel, now=now)
                 if s.label == time_label), None)
    if slot is None:
        raise QueueInputInvalid(f"Tidak ada slot pukul {time_label or '?'} pada {day.isoformat()}; pilih dari daftar.",
                                f"There is no {time_label or '?'} slot on {day.isoformat()}; choose one from the list.")
    capacity = _capacity(session, agency, channel)
    for _ in range(MAX_TRIES):
        used = set(session.scalars(select(QueueBooking.place).where(
            QueueBooking.agency == agency, QueueBooking.starts_at == slot.starts_at, QueueBooking.channel == channel,
            QueueBooking.place.is_not(None))))
        place = next((p for p in range(1, capacity + 1) if p not in used), None)
        if place is None:
            raise SlotFull(slot.label)
        row = QueueBooking(code=_new_code(), user_id=user_id, agency=agency, service_key=service_key,
                           starts_at=slot.starts_at, channel=channel, place=place, status="booked", created_at=now)
        try:
            with session.begin_nested():
                session.add(row)
        except IntegrityError:
            continue  # someone took this place (or the code) first: look again
        return row
    raise RuntimeError("could not book a place")  # 20 lost races in a row


def mine(session: Session, *, user_id: int) -> list[QueueBooking]:
    """Return a user's bookings, the latest slot first."""
    return list(session.scalars(select(QueueBooking).where(QueueBooking.user_id == user_id)
                                .order_by(QueueBooking.starts_at.desc(), QueueBooking.id.desc())))


def cancel(session: Session, *, user_id: int, booking_id: int, now: datetime) -> QueueBooking:
    """Cancel one's own booking before its slot begins; its place is free again."""
    row = session.get(QueueBooking, booking_id)
    if row is None or row.user_id != user_id:
        raise BookingNotFound()
    if row.status != "booked" or row.starts_at <= now:
        raise QueueInputInvalid("Booking ini tidak dapat dibatalkan lagi.", "This booking can no longer be cancelled.")
    row.status, row.place = "cancelled", None
    session.flush()
    return row


def check_in(session: Session, *, code: str, now: datetime) -> QueueTicket:
    """Turn a booking code into today's ticket at the kiosk (once), called first from the slot's start."""
    row = session.scalar(select(QueueBooking).where(QueueBooking.code == code.strip().upper()[:CODE_LENGTH * 2]))
    if row is None or row.status == "cancelled":
        raise BookingNotFound()
    slot_day = row.starts_at.astimezone(WIB).date()
    if slot_day != queue.today(now):
        raise QueueInputInvalid(f"Booking ini untuk tanggal {slot_day.isoformat()}; datang pada hari itu.",
                                f"This booking is for {slot_day.isoformat()}; come on that day.")
    if row.status == "checked_in":
        found = session.scalar(select(QueueTicket).where(QueueTicket.booking_id == row.id))
        if found is not None:
            return found  # a second scan of the same code shows the same ticket
    ticket = queue.take_ticket(session, agency=row.agency, service_key=row.service_key, priority=None, now=now,
                               booking_id=row.id, slot_at=row.starts_at)
    row.status = "checked_in"
    session.flush()
    return ticket
