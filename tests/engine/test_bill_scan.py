"""The worker's periodic bill scan: reminders before the due date, expiry after it, bills of ended cases closed.

The scan runs inside the worker's overdue scan (engine/jobs/service.py); the bank is the SNAP simulator.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pydantic import SecretStr
from sqlalchemy import select

from engine.cases.service import cancel_case
from engine.context import AppContext
from engine.db import transaction
from engine.directory.actors import SYSTEM
from engine.models import Case, Notification, PaymentEvent
from engine.notify.templates import render
from tests.conftest import FakeClock
from tests.engine.test_payments import NOTIFY_PATH, SECRET, _bill, _case, _notify, _stored
from tests.factories import Driver, make_user
from tests.simulators.snap_bank import SnapBankSimulator


@pytest.fixture
def bank(ctx: AppContext, clock: FakeClock) -> Iterator[SnapBankSimulator]:
    ctx.settings.bank_client_secret = SecretStr(SECRET)
    with SnapBankSimulator(secret=SECRET, notify_url="http://127.0.0.1:1" + NOTIFY_PATH, clock=clock) as simulator:
        ctx.settings.bank_base_url = simulator.url
        yield simulator


def _with_email(ctx: AppContext, case_id: int) -> None:
    with transaction(ctx.sessions) as session:
        row = session.get(Case, case_id)
        assert row is not None
        row.data = {**row.data, "email": "warga@example.id"}


def _reminders(ctx: AppContext, case_id: int) -> list[tuple[str, str]]:
    with ctx.sessions() as session:
        notes = list(session.scalars(select(Notification).where(Notification.case_id == case_id,
                                                                Notification.event == "payment_due")))
        return [render(session, note=note, public_url="https://mpp.example", classified=ctx.rt.classified)
                for note in notes]


def test_the_applicant_is_reminded_once_three_days_before_the_due_date(
        ctx: AppContext, bank: SnapBankSimulator, clock: FakeClock) -> None:
    case_id = _case(ctx)
    _with_email(ctx, case_id)
    bill = _bill(ctx, case_id, days=10)
    Driver(ctx).run_jobs()
    assert _reminders(ctx, case_id) == []  # ten days ahead: too early
    clock.advance(days=7, minutes=1)
    Driver(ctx).run_jobs()
    [(subject, body)] = _reminders(ctx, case_id)
    assert "menunggu pembayaran" in body
    assert bill.number in body
    assert "Rp1.800.000" in body
    assert "12 Maret 2026" in body  # the bill's due date, in the applicant's language
    assert subject.startswith("Tagihan pembayaran permohonan")
    clock.advance(days=1)
    Driver(ctx).run_jobs()
    assert len(_reminders(ctx, case_id)) == 1  # once per bill
    assert _stored(ctx, bill.number)[1] == ["created", "reminded"]


def test_the_worker_expires_an_overdue_bill_and_a_late_payment_is_refused_and_recorded(
        ctx: AppContext, bank: SnapBankSimulator, clock: FakeClock) -> None:
    case_id = _case(ctx, "tagihan_kedaluwarsa")
    bill = _bill(ctx, case_id, amount=250_000, days=30)
    clock.advance(days=30, minutes=1)
    Driver(ctx).run_jobs()
    expired, kinds = _stored(ctx, bill.number)
    assert expired.status == "expired"
    assert "expired" in kinds
    assert Driver(ctx).open_ids(case_id) == ["Task_periksa"]  # the case heard it
    _path, headers, body = bank.notification(bill.va_number or "")
    late = _notify(ctx, headers, body)
    assert (late.code, late.kind, late.bill_number) == ("4042519", "refused", bill.number)
    with ctx.sessions() as session:
        detail = session.scalar(select(PaymentEvent.detail).where(PaymentEvent.bill_id == bill.id,
                                                                  PaymentEvent.kind == "refused"))
    assert str(detail).startswith("4042519")  # not paid, but not lost: on the record
    assert _stored(ctx, bill.number)[0].paid_at is None


def test_the_bill_of_a_cancelled_case_is_closed_and_refuses_payment(
        ctx: AppContext, bank: SnapBankSimulator) -> None:
    case_id = _case(ctx)
    bill = _bill(ctx, case_id)
    other = _bill(ctx, _case_again(ctx))
    with transaction(ctx.sessions) as session:
        cancel_case(session, rt=ctx.rt, case_id=case_id, actor=SYSTEM, reason="ditarik pemohon")
    Driver(ctx).run_jobs()
    closed, kinds = _stored(ctx, bill.number)
    assert (closed.status, kinds) == ("cancelled", ["created", "expired"])
    assert _stored(ctx, other.number)[0].status == "open"  # a running case's bill stays payable
    _path, headers, body = bank.notification(bill.va_number or "")
    assert _notify(ctx, headers, body).code == "4042519"
    assert _stored(ctx, bill.number)[0].status == "cancelled"


def _case_again(ctx: AppContext) -> int:
    officer = make_user(ctx, "petugas_lain", "dinas.petugas")
    return Driver(ctx).start("bayar", {"harga": 2, "jumlah": 3}, officer).id
