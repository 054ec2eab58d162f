"""Bills of cases: create one with its virtual account, list a case's, expire the overdue, reconcile a day."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.cases.access import may_view_case
from engine.directory.actors import Actor
from engine.errors import CaseNotFound, InvalidInput
from engine.models import Bill, Case, PaymentEvent
from engine.payments.snap import WIB, PaymentChannel, QrRequest, VaRequest
from engine.runtime import Runtime

CHANNELS = ("va", "qris")
EXPIRED_MESSAGE = "tagihan_kedaluwarsa"


def _check(amount: int, items: list[dict[str, Any]], channel: str) -> None:
    if channel != "va":
        raise InvalidInput(f"the payment channel '{channel}' is not available; use 'va'",
                           message_id=f"kanal pembayaran '{channel}' belum tersedia; gunakan 'va'")
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise InvalidInput("a bill's amount is a positive whole number of rupiah",
                           message_id="jumlah tagihan harus bilangan bulat rupiah yang positif")
    if items and sum(int(item.get("amount", 0)) for item in items) != amount:
        raise InvalidInput("the bill's items do not add up to its amount",
                           message_id="rincian tagihan tidak berjumlah sama dengan total tagihan")


def create_bill(session: Session, *, case_id: int, amount: int, items: list[dict[str, Any]], due_at: datetime,
                channel: str, bank: PaymentChannel, now: datetime, prefix: str = "TAG", qris: bool = False) -> Bill:
    """Create a bill for a case and open its virtual account (and a QRIS when asked) at the bank; return it."""
    _check(amount, items, channel)
    case = session.get(Case, case_id)
    if case is None:
        raise CaseNotFound(f"case {case_id} does not exist", message_id=f"permohonan {case_id} tidak ada")
    bill = Bill(case_id=case_id, number=f"tmp-{uuid.uuid4().hex}", amount=amount, items=list(items),
                due_at=due_at, status="open", channel=channel, created_at=now)
    session.add(bill)
    session.flush()
    bill.number = f"{prefix}-{now.astimezone(WIB).year}-{bill.id:06d}"
    name = str((case.data or {}).get("nama_pemohon") or case.tracking_number)
    created = bank.create_va(VaRequest(bill_number=bill.number, customer_no=f"{bill.id:010d}", name=name,
                                       amount=amount, due_at=due_at))
    bill.va_number = created.va_number.strip()
    if qris:
        bill.qris_payload = bank.generate_qris(QrRequest(bill_number=bill.number, amount=amount, due_at=due_at)).content
    session.add(PaymentEvent(bill_id=bill.id, kind="created", at=now,
                             detail=f"va {bill.va_number}" + (" + qris" if bill.qris_payload else "")))
    session.flush()
    return bill


def bills_of_case(session: Session, *, case_id: int, actor: Actor) -> list[Bill]:
    """Return a case's bills, oldest first, to someone who may see the case."""
    if not may_view_case(session, actor, case_id):
        raise CaseNotFound(f"case {case_id} does not exist", message_id=f"permohonan {case_id} tidak ada")
    return list(session.scalars(select(Bill).where(Bill.case_id == case_id).order_by(Bill.id)))


def bills_for_tracking(session: Session, *, tracking_number: str) -> list[Bill]:
    """Return the bills of the case with this tracking number, oldest first (the caller proved the PIN)."""
    return list(session.scalars(select(Bill).join(Case, Case.id == Bill.case_id)
                                .where(Case.tracking_number == tracking_number).order_by(Bill.id)))


def open_qris_of_case(session: Session, *, case_id: int, bill_number: str) -> str | None:
    """Return the QRIS content of a case's open bill, or None (the caller checked the case may be seen)."""
    return session.scalar(select(Bill.qris_payload).where(Bill.case_id == case_id, Bill.number == bill_number,
                                                          Bill.status == "open"))


def deliver_if_waiting(session: Session, *, rt: Runtime, case_id: int, name: str, payload: dict[str, Any]) -> bool:
    """Deliver a payment message to a case when it waits for it; return whether it did.

    A bill's money is never refused because its case moved on (cancelled, or a diagram that does
    not wait): the bill's status is the record, and the message only moves a waiting case on.
    """
    from engine.cases.messages import deliver_message
    from engine.directory.actors import SYSTEM

    loaded = rt.load_case(session, case_id)
    waiting = loaded.row.status == "running" and any(w.name == name for w in loaded.workflow.waits())
    rt.cases.put_back(case_id, loaded)
    if waiting:
        deliver_message(session, rt=rt, case_id=case_id, name=name, payload=payload, actor=SYSTEM)
    return waiting


def expire_due_bills(session: Session, *, rt: Runtime, now: datetime) -> int:
    """Mark open bills past their due time expired and tell each case; return how many."""
    due = list(session.scalars(select(Bill).where(Bill.status == "open", Bill.due_at < now).order_by(Bill.id)))
    for bill in due:
        bill.status = "expired"
        session.add(PaymentEvent(bill_id=bill.id, kind="expired", detail="due date passed", at=now))
        session.flush()
        deliver_if_waiting(session, rt=rt, case_id=bill.case_id, name=EXPIRED_MESSAGE, payload={
            "nomor_tagihan": bill.number, "jumlah": bill.amount, "jatuh_tempo": bill.due_at.isoformat()})
    return len(due)


def close_bills_of_closed_cases(session: Session, *, now: datetime) -> int:
    """Close the open bills of cases that ended (expiry timer, cancellation); return how many.

    A VA left open after its case ended would take money the case can no longer use: its bill turns
    `expired` (case completed, e.g. by PBG's 30-day timer) or `cancelled`, so a late payment is refused.
    """
    rows = session.execute(select(Bill, Case.status).join(Case, Case.id == Bill.case_id).where(
        Bill.status == "open", Case.status.in_(("completed", "cancelled"))).order_by(Bill.id)).all()
    for bill, case_status in rows:
        bill.status = "cancelled" if case_status == "cancelled" else "expired"
        session.add(PaymentEvent(bill_id=bill.id, kind="expired", detail=f"case {case_status}", at=now))
    session.flush()
    return len(rows)


def scan(session: Session, *, rt: Runtime, now: datetime) -> dict[str, int]:
    """Run the periodic bill work (the worker's overdue scan): expire, close, remind; return the counts."""
    from engine.payments.reminders import remind_due_bills

    return {"expired": expire_due_bills(session, rt=rt, now=now),
            "closed": close_bills_of_closed_cases(session, now=now),
            "reminded": remind_due_bills(session, now=now)}


@dataclass
class Reconciliation:
    """One day (Jakarta time) of bills against payments, with what does not match."""

    day: date
    bills_created: int = 0
    bills_created_amount: int = 0
    payments: int = 0
    payments_amount: int = 0
    expected_amount: int = 0
    refused: int = 0
    duplicates: int = 0
    expired: int = 0
    mismatches: list[dict[str, Any]] = field(default_factory=list)
    unmatched: list[dict[str, Any]] = field(default_factory=list)


def reconciliation(session: Session, *, day: date) -> Reconciliation:
    """Report one day's bills created and payments received, and every payment that does not match."""
    start = datetime.combine(day, time(0), WIB)
    end = start + timedelta(days=1)
    report = Reconciliation(day=day)
    created = session.execute(select(func.count(Bill.id), func.coalesce(func.sum(Bill.amount), 0))
                              .where(Bill.created_at >= start, Bill.created_at < end)).one()
    report.bills_created, report.bills_created_amount = int(created[0]), int(created[1])
    paid = list(session.scalars(select(Bill).where(Bill.paid_at >= start, Bill.paid_at < end).order_by(Bill.id)))
    report.payments = len(paid)
    report.payments_amount = sum(b.paid_amount or 0 for b in paid)
    report.expected_amount = sum(b.amount for b in paid)
    report.mismatches = [{"bill": b.number, "amount": b.amount, "paid_amount": b.paid_amount, "reason": "amount"}
                         for b in paid if b.paid_amount != b.amount]
    rows = session.execute(select(PaymentEvent.kind, func.count(PaymentEvent.id))
                           .where(PaymentEvent.at >= start, PaymentEvent.at < end).group_by(PaymentEvent.kind))
    kinds: dict[str, int] = {str(row[0]): int(row[1]) for row in rows}
    report.refused, report.duplicates = kinds.get("refused", 0), kinds.get("duplicate", 0)
    report.expired = kinds.get("expired", 0)
    # Refused without a bill: a bad signature, an unknown VA or QR: nothing to book, but worth a look.
    report.unmatched = [{"at": at, "reason": detail[:200]} for at, detail in session.execute(
        select(PaymentEvent.at, PaymentEvent.detail).where(
            PaymentEvent.kind == "refused", PaymentEvent.bill_id.is_(None), PaymentEvent.at >= start,
            PaymentEvent.at < end).order_by(PaymentEvent.id))]
    refused = session.execute(select(PaymentEvent, Bill.number).join(Bill, Bill.id == PaymentEvent.bill_id)
                              .where(PaymentEvent.kind == "refused", PaymentEvent.at >= start, PaymentEvent.at < end)
                              .order_by(PaymentEvent.id)).all()
    # A refused notification that names a bill may mean money taken at the bank and not booked here.
    report.mismatches += [{"bill": number, "amount": None, "paid_amount": None, "reason": event.detail[:200]}
                          for event, number in refused]
    return report
