"""The `pembayaran.buat_tagihan` service operation: a diagram's request to bill its case at the bank.

It runs inside the outbound job's transaction (it writes the bill row), so it is an in-process
adapter (`send_in`), not a plain `send(call)`. A zero amount bills nothing; a platform without a
bank secret records that on the case and goes on (the applicant pays at the counter instead).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.bpmn.outbound import OutboundCall
from engine.models import Bill, CaseEvent
from engine.sla import clock as sla_clock

OPERATION = "pembayaran.buat_tagihan"
DUE_DAYS = 30
NOT_CONFIGURED = "bank belum dikonfigurasi"


def _amount(value: Any) -> int:
    if isinstance(value, bool):
        return 0
    try:
        return int(round(float(value)))
    except (TypeError, ValueError):
        return 0


class CreateBillAdapter:
    """Create a case's bill and its virtual account at the configured bank (SNAP)."""

    def send_in(self, session: Session, rt: Any, call: OutboundCall) -> None:
        """Bill the case once for `jumlah` rupiah; raise BankUnavailable to have the job retried."""
        from engine.payments.bills import create_bill
        from engine.payments.snap import bank_from_settings

        amount = _amount(call.params.get("jumlah"))
        if call.case_id is None or amount <= 0:
            return
        if session.scalar(select(Bill.id).where(Bill.case_id == call.case_id, Bill.status.in_(("open", "paid")))):
            return  # a retried job, or a case billed already: one bill per case
        if rt.settings.bank_client_secret is None:
            session.add(CaseEvent(case_id=call.case_id, at=rt.clock(), actor="system", action="note",
                                  label=NOT_CONFIGURED, diff=None))
            return
        label = str(call.params.get("rincian") or "Retribusi")
        items = [{"label_id": label, "label_en": str(call.params.get("rincian_en") or label), "amount": amount}]
        now = rt.clock()
        with session.begin_nested():  # a refused VA leaves no half-made bill behind
            create_bill(session, case_id=call.case_id, amount=amount, items=items, channel="va",
                        due_at=now + timedelta(days=DUE_DAYS), bank=bank_from_settings(rt.settings, rt.clock),
                        now=now, prefix=str(call.params.get("awalan") or "SKRD"), qris=rt.settings.bank_qris)
        # The applicant's turn: the SLA clock stands still until the bill is paid (engine/sla/clock.py).
        sla_clock.hold_for_payment(session, calendar=rt.calendar, case_id=call.case_id, now=now)
