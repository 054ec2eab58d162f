"""A bank's payment notification (SNAP transfer-va/payment): verify it, then pay the bill once.

Every notification leaves one `payment_event` row, whatever the outcome; only an accepted one
changes a bill. The answer is SNAP's `responseCode` (HTTP status, service code 25, case code).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from engine.models import Bill, CaseEvent, PaymentEvent
from engine.payments.bills import deliver_if_waiting
from engine.payments.receipts import receipt_number
from engine.payments.snap import WIB, minify, signature_ok
from engine.runtime import Runtime

PAID_MESSAGE = "tagihan_lunas"
WINDOW = timedelta(minutes=5)
# SNAP response codes used here: HTTP status + service 25 (VA payment) + case (docs/payments.md).
SUCCESS = ("2002500", "Successful")
BAD_FIELD = ("4002501", "Invalid Field Format")
MISSING_FIELD = ("4002502", "Invalid Mandatory Field")
UNAUTHORIZED = ("4012500", "Unauthorized. Signature")
UNKNOWN_BILL = ("4042512", "Invalid Bill/Virtual Account")
WRONG_AMOUNT = ("4042513", "Invalid Amount")
PAID_BILL = ("4042514", "Paid Bill")
EXPIRED_BILL = ("4042519", "Invalid Bill/Virtual Account. Expired")
CONFLICT = ("4092500", "Conflict. Duplicate X-EXTERNAL-ID")
SERVICES = {"va": "25", "qris": "52"}  # SNAP service codes: VA payment notification, QR MPM notify


@dataclass(frozen=True)
class Outcome:
    """What the platform answers the bank, and what it did."""

    code: str
    message: str
    kind: str
    bill_number: str | None = None
    request: dict[str, Any] | None = None

    @property
    def http_status(self) -> int:
        """Return the HTTP status SNAP puts in front of the response code."""
        return int(self.code[:3])


def _record(session: Session, service: str, kind: str, answer: tuple[str, str], *, bill: Bill | None,
            external_id: str | None, now: datetime, detail: str, request: dict[str, Any] | None = None) -> Outcome:
    code = answer[0][:3] + service + answer[0][5:]  # the tables above are VA's (25); QRIS notify is 52
    session.add(PaymentEvent(bill_id=bill.id if bill else None, kind=kind, external_id=(external_id or None),
                             detail=f"{code} {detail}"[:2000], at=now))
    session.flush()
    return Outcome(code, answer[1], kind, bill.number if bill else None, request)


def _stamp_ok(stamp: str, now: datetime) -> bool:
    try:
        sent = datetime.fromisoformat(stamp)
    except ValueError:
        return False
    return sent.tzinfo is not None and abs(sent - now) <= WINDOW


def _rupiah(amount: Any) -> int | None:
    """Return a SNAP amount ({"value": "150000.00", "currency": "IDR"}) as whole rupiah, or None."""
    try:
        value = Decimal(str(amount["value"]))
    except (TypeError, KeyError, InvalidOperation):
        return None
    if amount.get("currency") != "IDR" or not value.is_finite() or value != value.to_integral_value():
        return None
    return int(value)


def _replayed(session: Session, external_id: str, now: datetime) -> bool:
    day = now.astimezone(WIB).replace(hour=0, minute=0, second=0, microsecond=0)
    seen = session.scalar(select(func.count(PaymentEvent.id)).where(
        PaymentEvent.external_id == external_id, PaymentEvent.kind.in_(("notified", "duplicate")),
        PaymentEvent.at >= day))
    return bool(seen)


def apply_notification(session: Session, *, rt: Runtime, headers: Mapping[str, str], body: bytes, path: str,
                       secret: str | None, now: datetime, channel: str = "va") -> Outcome:
    """Verify a bank's payment notification (a VA's, or a QRIS's) and pay its bill once; return the answer."""
    service = SERVICES[channel]
    head = {k.lower(): v for k, v in headers.items()}
    external_id = head.get("x-external-id", "")[:64]
    try:
        parsed = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return _record(session, service, "refused", BAD_FIELD, bill=None, external_id=external_id, now=now,
                       detail="not JSON")
    token = head.get("authorization", "").removeprefix("Bearer ").strip()
    stamp = head.get("x-timestamp", "")
    if not secret or not signature_ok(secret, head.get("x-signature", ""), "POST", path, token, minify(parsed), stamp):
        return _record(session, service, "refused", UNAUTHORIZED, bill=None, external_id=None, now=now,
                       detail="bad signature")
    if not _stamp_ok(stamp, now):
        return _record(session, service, "refused", UNAUTHORIZED, bill=None, external_id=None, now=now,
                       detail=f"X-TIMESTAMP {stamp[:40]!r} outside the window")
    if not external_id or not isinstance(parsed, dict):
        return _record(session, service, "refused", MISSING_FIELD, bill=None, external_id=None, now=now,
                       detail="X-EXTERNAL-ID or body missing")
    if _replayed(session, external_id, now):
        return _record(session, service, "duplicate", CONFLICT, bill=None, external_id=external_id, now=now,
                       detail="X-EXTERNAL-ID seen today")
    return _pay(session, rt=rt, request=parsed, external_id=external_id, now=now, channel=channel)


def _fields(request: dict[str, Any], channel: str) -> tuple[str, str, int | None]:
    """Return what names the bill, the bank's payment id, and the amount, per channel."""
    if channel == "qris":  # SNAP qr-mpm-notify: the bill number went out as partnerReferenceNo
        paid = str(request.get("latestTransactionStatus", "")) == "00"
        return (str(request.get("originalPartnerReferenceNo", "")).strip(),
                str(request.get("originalReferenceNo", ""))[:128], _rupiah(request.get("amount")) if paid else None)
    return (str(request.get("virtualAccountNo", "")).strip(), str(request.get("paymentRequestId", ""))[:128],
            _rupiah(request.get("paidAmount")))


def _pay(session: Session, *, rt: Runtime, request: dict[str, Any], external_id: str, now: datetime,
         channel: str) -> Outcome:
    service = SERVICES[channel]
    key, reference, amount = _fields(request, channel)
    if not key or not reference or amount is None:
        return _record(session, service, "refused", MISSING_FIELD, bill=None, external_id=external_id, now=now,
                       detail=f"bill key, payment id or a paid IDR amount missing or malformed ({channel})")
    found = select(Bill).where(Bill.number == key, Bill.qris_payload.is_not(None)) if channel == "qris" \
        else select(Bill).where(Bill.va_number == key)
    bill = session.scalar(found)
    if bill is None:
        return _record(session, service, "refused", UNKNOWN_BILL, bill=None, external_id=external_id, now=now,
                       detail=f"no bill for {channel} {key[:40]}")
    if bill.bank_reference == reference:  # the bank retried a payment already booked: answer as before
        return _record(session, service, "duplicate", SUCCESS, bill=bill, external_id=external_id, now=now,
                       detail=f"paymentRequestId {reference} already booked", request=request)
    refusal = _refusal(bill, amount)
    if refusal is None and session.scalar(select(Bill.id).where(Bill.bank_reference == reference)) is not None:
        refusal = CONFLICT, f"paymentRequestId {reference} paid another bill"
    if refusal is not None:
        return _record(session, service, "refused", refusal[0], bill=bill, external_id=external_id, now=now,
                       detail=refusal[1])
    # Only an open bill turns paid, in one statement: of two notifications at once, one wins.
    won = session.execute(update(Bill).where(Bill.id == bill.id, Bill.status == "open").values(
        status="paid", paid_at=now, paid_amount=amount, bank_reference=reference, channel=channel))
    if not getattr(won, "rowcount", 0):
        return _record(session, service, "refused", PAID_BILL, bill=bill, external_id=external_id, now=now,
                       detail="paid meanwhile")
    session.refresh(bill)
    outcome = _record(session, service, "notified", SUCCESS, bill=bill, external_id=external_id, now=now,
                      detail=f"paid {amount} ref {reference}", request=request)
    receipt = receipt_number(bill)  # the receipt is the paid bill itself (engine/payments/receipts.py)
    session.add(CaseEvent(case_id=bill.case_id, at=now, actor="system", action="note",
                          label=f"Tagihan {bill.number} lunas; bukti pembayaran {receipt} terbit", diff=None))
    deliver_if_waiting(session, rt=rt, case_id=bill.case_id, name=PAID_MESSAGE, payload={
        "nomor_tagihan": bill.number, "jumlah": amount, "dibayar_pada": now.isoformat(), "nomor_kuitansi": receipt})
    return outcome


def _refusal(bill: Bill, amount: int) -> tuple[tuple[str, str], str] | None:
    if bill.status == "paid":
        return PAID_BILL, "bill already paid by another payment"
    if bill.status != "open":
        return EXPIRED_BILL, f"bill is {bill.status}"
    if amount != bill.amount:
        return WRONG_AMOUNT, f"paid {amount}, bill is {bill.amount}"
    return None


def response_body(outcome: Outcome) -> dict[str, Any]:
    """Return SNAP's response to a payment notification."""
    body: dict[str, Any] = {"responseCode": outcome.code, "responseMessage": outcome.message}
    if outcome.request is not None and "virtualAccountNo" in outcome.request:
        request = outcome.request
        body["virtualAccountData"] = {
            key: request.get(key) for key in ("partnerServiceId", "customerNo", "virtualAccountNo",
                                              "virtualAccountName", "paymentRequestId", "paidAmount", "trxId")
            if key in request} | {"paymentFlagStatus": "00" if outcome.code == SUCCESS[0] else "01"}
    return body
