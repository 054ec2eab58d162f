"""Paying a PBG retribution in a real browser: the bill (amount, VA, QRIS) on the applicant's task page,
the bank simulator's payment over real HTTP, the case moving on and the receipt on the tracking page."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Page, expect
from pydantic import SecretStr
from sqlalchemy import select

from engine.directory.actors import Actor, actor_for
from engine.models import Bill, User
from tests.browser.conftest import LiveServer, pbg_case_to
from tests.factories import Driver
from tests.simulators.snap_bank import SnapBankSimulator

SECRET = "browser-bank-shared-secret-0123456789"
NOTIFY_PATH = "/api/payments/snap/v1.0/transfer-va/payment"


@pytest.fixture(scope="module")
def bank(live_server: LiveServer) -> Iterator[SnapBankSimulator]:
    """The SNAP bank simulator, configured on the live server (VA and QRIS), notifying it over HTTP."""
    settings = live_server.ctx.settings
    with SnapBankSimulator(secret=SECRET, notify_url=live_server.url + NOTIFY_PATH) as simulator:
        settings.bank_base_url, settings.bank_client_secret = simulator.url, SecretStr(SECRET)
        settings.bank_qris = True
        yield simulator
        settings.bank_client_secret = None


def _applicant(live_server: LiveServer) -> Actor:
    with live_server.ctx.sessions() as session:
        return actor_for(session, session.scalars(select(User).where(User.username == "warga")).one())


def _to_payment(live_server: LiveServer) -> int:
    """File a PBG case as the demo applicant `warga` and take it through the SKRD (the bill's job run)."""
    return pbg_case_to(live_server, "Task_pembayaran")


def test_the_applicant_sees_the_bill_pays_at_the_bank_and_downloads_the_receipt(
        page: Page, live_server: LiveServer, bank: SnapBankSimulator, login: Callable[[Page, str], None],
        axe_check: Callable[..., None], shot: Callable[[Page, str], object]) -> None:
    case_id = _to_payment(live_server)
    d = Driver(live_server.ctx)
    with live_server.ctx.sessions() as session:
        bill = session.scalars(select(Bill).where(Bill.case_id == case_id)).one()
        session.expunge(bill)
    assert bill.va_number
    task = d.task(case_id, "Task_pembayaran")
    login(page, "warga")
    page.goto(f"{live_server.url}/permohonan-saya/tugas/{task.id}")
    bill_box = page.locator("main")
    expect(bill_box).to_contain_text("Rp275.644")
    expect(bill_box).to_contain_text(bill.va_number)
    expect(bill_box).to_contain_text(bill.number)
    expect(page.get_by_role("heading", name="Sudah membayar dengan cara lain?")).to_be_visible()
    qris = page.locator("img[src*='qris.svg']")
    expect(qris).to_be_visible()
    assert qris.get_attribute("alt")  # the QR code says what it is
    axe_check(page)
    shot(page, "payment-bill-1280")
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shot(page, "payment-bill-390")

    answers = bank.pay(bill.va_number)
    assert [answer["responseCode"] for _status, answer in answers] == ["2002500"]
    assert d.open_ids(case_id) == ["Task_tanda_tangan"]

    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/lacak/{d.case(case_id).tracking_number}")
    expect(page.locator("main")).to_contain_text("Pembayaran diterima bank")
    receipt = page.get_by_role("link", name="Bukti pembayaran")
    expect(receipt.first).to_be_visible()
    href = receipt.first.get_attribute("href")
    assert href
    answer = page.request.get(live_server.url + href)
    assert answer.status == 200
    assert answer.headers["content-type"].startswith("application/pdf")
    assert answer.body().startswith(b"%PDF")
    axe_check(page)
    shot(page, "payment-receipt-tracking")
