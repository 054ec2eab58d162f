"""Bills paid through a SNAP virtual account: the bank is the simulator over real HTTP, the database is real."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from pydantic import SecretStr
from sqlalchemy import select

from engine.catalogue.package import Package, from_files
from engine.context import AppContext
from engine.db import transaction
from engine.errors import InvalidInput
from engine.models import Bill, PaymentEvent
from engine.payments.bills import create_bill, expire_due_bills, reconciliation
from engine.payments.notifications import Outcome, apply_notification
from engine.payments.snap import BankUnavailable, bank_from_settings, sign
from tests.conftest import FakeClock
from tests.factories import Driver, deploy, make_user
from tests.packages import message_package
from tests.simulators.snap_bank import SnapBankSimulator

SECRET = "simulator-shared-secret-0123456789"
NOTIFY_PATH = "/api/payments/snap/v1.0/transfer-va/payment"
ITEMS = [{"label_id": "Retribusi PBG", "label_en": "PBG retribution", "amount": 1_750_000},
         {"label_id": "Biaya layanan", "label_en": "Service fee", "amount": 50_000}]


def waiting_package(key: str, message: str) -> Package:
    """Build a package whose case waits for `message` (into `pembayaran`), then has an officer's task."""
    files = dict(message_package(key, role="waiter").files)
    files["process.bpmn"] = (files["process.bpmn"].replace(b'name="izin_lokasi_terbit"', f'name="{message}"'.encode())
                             .replace(b">izin_lokasi<", b">pembayaran<"))
    return from_files(files)


@pytest.fixture
def bank(ctx: AppContext, clock: FakeClock) -> Iterator[SnapBankSimulator]:
    ctx.settings.bank_client_secret = SecretStr(SECRET)
    with SnapBankSimulator(secret=SECRET, notify_url="http://127.0.0.1:1" + NOTIFY_PATH, clock=clock) as simulator:
        ctx.settings.bank_base_url = simulator.url
        yield simulator


def _case(ctx: AppContext, message: str = "tagihan_lunas") -> int:
    key = "bayar" if message == "tagihan_lunas" else "kedaluwarsa"
    deploy(ctx, waiting_package(key, message))
    officer = make_user(ctx, f"petugas_{key}", "dinas.petugas")
    return Driver(ctx).start(key, {"harga": 2, "jumlah": 3}, officer).id


def _bill(ctx: AppContext, case_id: int, amount: int = 1_800_000, days: int = 30) -> Bill:
    with transaction(ctx.sessions) as session:
        bill = create_bill(session, case_id=case_id, amount=amount, items=ITEMS if amount == 1_800_000 else [],
                           due_at=ctx.rt.clock() + timedelta(days=days), channel="va",
                           bank=bank_from_settings(ctx.settings, ctx.rt.clock), now=ctx.rt.clock(), prefix="SKRD")
        session.expunge(bill)
        return bill


def _notify(ctx: AppContext, headers: dict[str, str], body: bytes) -> Outcome:
    with transaction(ctx.sessions) as session:
        return apply_notification(session, rt=ctx.rt, headers=headers, body=body, path=NOTIFY_PATH,
                                  secret=SECRET, now=ctx.rt.clock())


def _stored(ctx: AppContext, number: str) -> tuple[Bill, list[str]]:
    with ctx.sessions() as session:
        bill = session.scalars(select(Bill).where(Bill.number == number)).one()
        kinds = list(session.scalars(select(PaymentEvent.kind).where(PaymentEvent.bill_id == bill.id)
                                     .order_by(PaymentEvent.id)))
        session.expunge(bill)
        return bill, kinds


def test_a_bill_gets_its_virtual_account_from_the_bank(ctx: AppContext, bank: SnapBankSimulator) -> None:
    bill = _bill(ctx, _case(ctx))
    assert bill.number == "SKRD-2026-000001"
    assert bill.va_number == "888990000000001"
    assert (bill.status, bill.amount) == ("open", 1_800_000)
    account = bank.accounts["888990000000001"]
    assert account["trxId"] == "SKRD-2026-000001"
    assert account["totalAmount"] == {"value": "1800000.00", "currency": "IDR"}
    seen = bank_from_settings(ctx.settings, ctx.rt.clock).inquiry_va(bill.va_number or "", bill.number)
    assert seen["paymentFlagStatus"] == "01"


def test_paying_the_virtual_account_pays_the_bill_and_moves_the_case_on(ctx: AppContext,
                                                                       bank: SnapBankSimulator) -> None:
    case_id = _case(ctx)
    d = Driver(ctx)
    assert d.open_ids(case_id) == []
    bill = _bill(ctx, case_id)
    _path, headers, body = bank.notification(bill.va_number or "")
    outcome = _notify(ctx, headers, body)
    assert (outcome.code, outcome.kind) == ("2002500", "notified")
    paid, kinds = _stored(ctx, bill.number)
    assert (paid.status, paid.paid_amount, paid.bank_reference) == ("paid", 1_800_000,
                                                                   json.loads(body)["paymentRequestId"])
    assert kinds == ["created", "notified"]
    assert d.open_ids(case_id) == ["Task_periksa"]
    assert d.case(case_id).data["pembayaran"] == {"nomor_tagihan": bill.number, "jumlah": 1_800_000,
                                                  "dibayar_pada": ctx.rt.clock().isoformat(),
                                                  "nomor_kuitansi": "KWT-2026-000001"}


def test_a_duplicate_notification_pays_nothing_twice(ctx: AppContext, bank: SnapBankSimulator) -> None:
    bill = _bill(ctx, _case(ctx))
    _path, headers, body = bank.notification(bill.va_number or "")
    assert _notify(ctx, headers, body).code == "2002500"
    replayed = _notify(ctx, headers, body)  # the same X-EXTERNAL-ID: a replay
    assert (replayed.code, replayed.kind) == ("4092500", "duplicate")
    request_id = json.loads(body)["paymentRequestId"]
    _path, headers, body = bank.notification(bill.va_number or "", request_id=request_id)
    retried = _notify(ctx, headers, body)  # the bank's retry of a booked payment: answered as before
    assert (retried.code, retried.kind) == ("2002500", "duplicate")
    _path, headers, body = bank.notification(bill.va_number or "")
    other = _notify(ctx, headers, body)  # a second, different payment of the same bill
    assert (other.code, other.kind) == ("4042514", "refused")
    paid, kinds = _stored(ctx, bill.number)
    assert (paid.status, paid.paid_amount, paid.bank_reference) == ("paid", 1_800_000, request_id)
    assert kinds.count("notified") == 1
    assert Driver(ctx).open_ids(paid.case_id) == ["Task_periksa"]


@pytest.mark.parametrize("mode", ["bad-signature", "stale"])
def test_a_badly_signed_or_stale_notification_is_refused_and_changes_nothing(
        ctx: AppContext, bank: SnapBankSimulator, mode: str) -> None:
    bill = _bill(ctx, _case(ctx))
    _path, headers, body = bank.notification(bill.va_number or "", mode=mode)
    outcome = _notify(ctx, headers, body)
    assert (outcome.code, outcome.kind) == ("4012500", "refused")
    unpaid, kinds = _stored(ctx, bill.number)
    assert (unpaid.status, unpaid.paid_at, unpaid.bank_reference) == ("open", None, None)
    assert kinds == ["created"]  # the refusal is logged without a bill: an unsigned body names nothing
    with ctx.sessions() as session:
        assert session.scalar(select(PaymentEvent.detail).where(PaymentEvent.kind == "refused")).startswith("4012500")
    assert Driver(ctx).open_ids(unpaid.case_id) == []


def test_a_body_changed_after_signing_is_refused(ctx: AppContext, bank: SnapBankSimulator) -> None:
    bill = _bill(ctx, _case(ctx))
    _path, headers, body = bank.notification(bill.va_number or "", amount=1_000)
    forged = body.replace(b'"1000.00"', b'"1800000.00"')
    assert _notify(ctx, headers, forged).code == "4012500"
    assert _stored(ctx, bill.number)[0].status == "open"


def test_a_wrong_amount_is_refused(ctx: AppContext, bank: SnapBankSimulator) -> None:
    bill = _bill(ctx, _case(ctx))
    _path, headers, body = bank.notification(bill.va_number or "", amount=1_799_999)
    outcome = _notify(ctx, headers, body)
    assert (outcome.code, outcome.kind) == ("4042513", "refused")
    unpaid, kinds = _stored(ctx, bill.number)
    assert (unpaid.status, kinds) == ("open", ["created", "refused"])


def test_a_notification_for_an_unknown_account_or_without_a_secret_is_refused(
        ctx: AppContext, bank: SnapBankSimulator) -> None:
    body = json.dumps({"virtualAccountNo": "88899999", "paymentRequestId": "x",
                       "paidAmount": {"value": "1.00", "currency": "IDR"}}, separators=(",", ":"))
    stamp = ctx.rt.clock().isoformat()
    headers = {"X-TIMESTAMP": stamp, "X-EXTERNAL-ID": "e1", "Authorization": "Bearer t",
               "X-SIGNATURE": sign(SECRET, "POST", NOTIFY_PATH, "t", body, stamp)}
    assert _notify(ctx, headers, body.encode()).code == "4042512"
    with transaction(ctx.sessions) as session:
        unset = apply_notification(session, rt=ctx.rt, headers=headers, body=body.encode(), path=NOTIFY_PATH,
                                   secret=None, now=ctx.rt.clock())
    assert unset.code == "4012500"


def test_an_unpaid_bill_expires_and_the_case_hears_it(ctx: AppContext, bank: SnapBankSimulator,
                                                     clock: FakeClock) -> None:
    case_id = _case(ctx, "tagihan_kedaluwarsa")
    bill = _bill(ctx, case_id, amount=250_000, days=30)
    with transaction(ctx.sessions) as session:
        assert expire_due_bills(session, rt=ctx.rt, now=clock()) == 0
    clock.advance(days=30, minutes=1)
    with transaction(ctx.sessions) as session:
        assert expire_due_bills(session, rt=ctx.rt, now=clock()) == 1
    expired, kinds = _stored(ctx, bill.number)
    assert (expired.status, kinds) == ("expired", ["created", "expired"])
    assert Driver(ctx).case(case_id).data["pembayaran"]["nomor_tagihan"] == bill.number
    assert Driver(ctx).open_ids(case_id) == ["Task_periksa"]
    _path, headers, body = bank.notification(bill.va_number or "")
    assert _notify(ctx, headers, body).code == "4042519"  # paying late pays nothing
    with transaction(ctx.sessions) as session:
        assert expire_due_bills(session, rt=ctx.rt, now=clock()) == 0


def test_reconciliation_sums_a_day_of_bills_and_payments(ctx: AppContext, bank: SnapBankSimulator) -> None:
    case_id = _case(ctx)
    first, second = _bill(ctx, case_id), _bill(ctx, case_id, amount=300_000)
    _path, headers, body = bank.notification(first.va_number or "")
    _notify(ctx, headers, body)
    _path, headers, body = bank.notification(second.va_number or "", amount=299_000)
    _notify(ctx, headers, body)
    with ctx.sessions() as session:
        report = reconciliation(session, day=date(2026, 3, 2))
        empty = reconciliation(session, day=date(2026, 3, 3))
    assert (report.bills_created, report.bills_created_amount) == (2, 2_100_000)
    assert (report.payments, report.payments_amount, report.expected_amount) == (1, 1_800_000, 1_800_000)
    assert report.refused == 1
    assert [(m["bill"], m["reason"][:7]) for m in report.mismatches] == [(second.number, "4042513")]
    assert (empty.bills_created, empty.payments, empty.mismatches) == (0, 0, [])


def test_a_bill_is_refused_when_it_does_not_add_up_or_the_bank_is_away(ctx: AppContext,
                                                                     bank: SnapBankSimulator) -> None:
    case_id = _case(ctx)
    with pytest.raises(InvalidInput):
        _bad_items(ctx, case_id)
    ctx.settings.bank_base_url = "http://127.0.0.1:1"
    with pytest.raises(BankUnavailable):
        _bill(ctx, case_id)
    with ctx.sessions() as session:
        assert session.scalars(select(Bill)).all() == []
    ctx.settings.bank_client_secret = None
    with pytest.raises(BankUnavailable):
        bank_from_settings(ctx.settings)


def _bad_items(ctx: AppContext, case_id: int) -> None:
    with transaction(ctx.sessions) as session:
        create_bill(session, case_id=case_id, amount=100, items=ITEMS, due_at=ctx.rt.clock(), channel="va",
                    bank=bank_from_settings(ctx.settings), now=ctx.rt.clock())
