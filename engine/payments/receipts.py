"""Receipts (bukti pembayaran): what a paid bill proves, as a PDF the applicant downloads.

A receipt is issued the moment the bank's notification pays the bill: its facts are the paid bill's
own (number, amount, items, paid at, the bank's reference) and the case's tracking number, so it
needs no row of its own and reads the same every time it is downloaded. Its number is
`KWT-<year paid>-<bill id:06d>`. The layout is the platform's (no package template), printed with
fpdf2's core fonts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fpdf import FPDF
from fpdf.enums import ResourceAccessPolicy
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.cases.access import may_view_case
from engine.directory.actors import Actor
from engine.documents.pdf import latin1, rupiah
from engine.errors import NotFound
from engine.models import Bill, Case, ProcessVersion
from engine.payments.snap import WIB

PREFIX = "KWT"


class ReceiptNotFound(NotFound):
    """No paid bill of this case has this number."""


@dataclass(frozen=True)
class Receipt:
    """The facts a receipt prints."""

    number: str
    bill_number: str
    amount: int
    items: list[dict[str, Any]]
    paid_at: datetime
    bank_reference: str
    channel: str
    va_number: str | None
    tracking_number: str
    service_id: str
    service_en: str
    holder: str


def receipt_number(bill: Bill) -> str:
    """Return the receipt number of a paid bill."""
    paid = bill.paid_at or bill.created_at
    return f"{PREFIX}-{paid.astimezone(WIB).year}-{bill.id:06d}"


def _receipt(bill: Bill, case: Case, service: dict[str, Any]) -> Receipt:
    name = service.get("name") or {}
    return Receipt(number=receipt_number(bill), bill_number=bill.number, amount=bill.paid_amount or bill.amount,
                   items=list(bill.items or []), paid_at=bill.paid_at or bill.created_at,
                   bank_reference=bill.bank_reference or "", channel=bill.channel, va_number=bill.va_number,
                   tracking_number=case.tracking_number, service_id=str(name.get("id", case.process_key)),
                   service_en=str(name.get("en", case.process_key)),
                   holder=str((case.data or {}).get("nama_pemohon") or ""))


def _find(session: Session, *conditions: Any) -> Receipt | None:
    row = session.execute(select(Bill, Case, ProcessVersion.service).join(Case, Case.id == Bill.case_id)
                          .join(ProcessVersion, ProcessVersion.id == Case.process_version_id)
                          .where(Bill.status == "paid", *conditions)).first()
    return None if row is None else _receipt(row[0], row[1], row[2] or {})


def receipt_for_tracking(session: Session, *, tracking_number: str, bill_number: str) -> Receipt | None:
    """Return the receipt of a paid bill of the case with this tracking number (the caller proved the PIN)."""
    return _find(session, Case.tracking_number == tracking_number, Bill.number == bill_number)


def receipt_for_case(session: Session, *, case_id: int, bill_number: str, actor: Actor) -> Receipt:
    """Return the receipt of a case's paid bill to someone who may see the case."""
    found = _find(session, Case.id == case_id, Bill.number == bill_number) \
        if may_view_case(session, actor, case_id) else None
    if found is None:
        raise ReceiptNotFound(f"no paid bill {bill_number[:40]} in case {case_id}",
                              message_id=f"tidak ada tagihan lunas {bill_number[:40]} pada permohonan {case_id}")
    return found


def _row(pdf: FPDF, label: str, value: str) -> None:
    pdf.set_font("helvetica", "", 10)
    pdf.cell(70, 7, latin1(label))
    pdf.set_font("helvetica", "B", 10)
    pdf.multi_cell(0, 7, latin1(value), new_x="LMARGIN", new_y="NEXT")


def receipt_pdf(receipt: Receipt) -> bytes:
    """Render a receipt to PDF bytes (the same bytes for the same receipt)."""
    pdf = FPDF(format="A4")
    pdf.resource_access_policy = ResourceAccessPolicy.NONE
    pdf.set_creation_date(receipt.paid_at)
    pdf.set_title(latin1(f"Bukti pembayaran {receipt.number}"))
    pdf.set_creator("MPP")
    pdf.set_producer("MPP")
    pdf.set_margins(20, 18, 20)
    pdf.add_page()
    pdf.set_font("helvetica", "B", 13)
    pdf.multi_cell(0, 7, "BUKTI PEMBAYARAN / PAYMENT RECEIPT", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", "", 9)
    pdf.multi_cell(0, 5, latin1(f"Mal Pelayanan Publik - {receipt.service_id} / {receipt.service_en}"), align="C",
                   new_x="LMARGIN", new_y="NEXT")
    pdf.line(pdf.l_margin, pdf.get_y() + 1, pdf.w - pdf.r_margin, pdf.get_y() + 1)
    pdf.ln(4)
    paid = receipt.paid_at.astimezone(WIB)
    channel = f"Virtual account {receipt.va_number}" if receipt.va_number and receipt.channel == "va" \
        else receipt.channel.upper()
    for label, value in (("Nomor kuitansi / Receipt no.", receipt.number),
                         ("Nomor tagihan / Bill no.", receipt.bill_number),
                         ("Nomor lacak / Tracking no.", receipt.tracking_number),
                         ("Pemohon / Applicant", receipt.holder or "-"),
                         ("Dibayar pada / Paid at", paid.strftime("%d-%m-%Y %H:%M WIB")),
                         ("Kanal / Channel", channel),
                         ("Referensi bank / Bank reference", receipt.bank_reference)):
        _row(pdf, label, value)
    pdf.ln(2)
    for item in receipt.items:
        _row(pdf, f"  {item.get('label_id', '')}", rupiah(item.get("amount", 0)))
    _row(pdf, "Jumlah dibayar / Amount paid", rupiah(receipt.amount))
    pdf.ln(4)
    pdf.set_font("helvetica", "", 8)
    pdf.multi_cell(0, 4, "Bukti ini diterbitkan otomatis setelah bank mengonfirmasi pembayaran. / "
                         "This receipt was issued automatically once the bank confirmed the payment.",
                   new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
