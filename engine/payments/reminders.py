"""Payment reminders: tell the applicant a few days before an open bill falls due, once per bill.

The reminder is the platform's `payment_due` notification (engine/notify), its task part naming
the bill and its due time, so the applicant's e-mail and a partner's webhook read as they do when
the payment task opened. A `reminded` payment_event marks the bill, so a bill is reminded once
whatever the scans' timing.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.documents.pdf import rupiah
from engine.models import Bill, Case, PaymentEvent, ProcessVersion
from engine.notify import service as notify

REMIND_DAYS = 3
EVENT = "payment_due"


def remind_due_bills(session: Session, *, now: datetime, days: int = REMIND_DAYS) -> int:
    """Queue a reminder for each open bill due within `days` that was not reminded yet; return how many."""
    reminded = select(PaymentEvent.bill_id).where(PaymentEvent.kind == "reminded", PaymentEvent.bill_id.is_not(None))
    rows = session.execute(
        select(Bill, Case, ProcessVersion.service).join(Case, Case.id == Bill.case_id)
        .join(ProcessVersion, ProcessVersion.id == Case.process_version_id)
        .where(Bill.status == "open", Bill.due_at > now, Bill.due_at <= now + timedelta(days=days),
               Bill.id.not_in(reminded)).order_by(Bill.id)).all()
    for bill, case, service in rows:
        name = (service or {}).get("name") or {}
        task = {"id": None, "element_id": None, "due_at": bill.due_at.isoformat(),
                "name": f"tagihan {bill.number} sebesar {rupiah(bill.amount)}"
                        + (f" (virtual account {bill.va_number})" if bill.va_number else "")}
        context = {"event": EVENT, "at": now.isoformat(), "task": task, "case": {
            "id": case.id, "tracking_number": case.tracking_number, "process_key": case.process_key,
            "version_id": case.process_version_id,
            "service": {"id": str(name.get("id", case.process_key)), "en": str(name.get("en", case.process_key))},
            "status": case.status, "stage": {"id": case.stage_id, "en": case.stage_en}, "outcome": None}}
        recipient = notify.applicant_recipient(session, applicant_id=case.applicant_id, data=case.data or {})
        queued = notify.queue(session, event=EVENT, context=context, case_id=case.id,
                              agencies={str((service or {}).get("agency", ""))},
                              recipients=[recipient] if recipient else [], now=now)
        session.add(PaymentEvent(bill_id=bill.id, kind="reminded", detail=f"{queued} notification(s)", at=now))
    session.flush()
    return len(rows)
