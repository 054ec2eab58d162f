"""Payments over HTTP: the simulator bank pays a VA by POSTing its signed notification to a running platform."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta

import httpx
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import select

from api.bootstrap import DEMO_PASSWORD
from engine.context import AppContext
from engine.db import transaction
from engine.directory import accounts as accounts
from engine.directory import service as directory
from engine.directory.actors import Actor, actor_for
from engine.models import Bill, User
from engine.payments.bills import create_bill
from engine.payments.snap import bank_from_settings
from tests.conftest import FakeClock
from tests.engine.test_payments import SECRET, waiting_package
from tests.factories import Driver, deploy
from tests.live import app_over_http
from tests.simulators.snap_bank import SnapBankSimulator

NOTIFY_PATH = "/api/payments/snap/v1.0/transfer-va/payment"


@pytest.fixture
def platform(catalogue: AppContext) -> Iterator[str]:
    """Serve the app over real HTTP (uvicorn in a thread), for the bank to call."""
    catalogue.settings.bank_client_secret = SecretStr(SECRET)
    with app_over_http(catalogue) as url:
        yield url


@pytest.fixture
def bank(catalogue: AppContext, platform: str, clock: FakeClock) -> Iterator[SnapBankSimulator]:
    with SnapBankSimulator(secret=SECRET, notify_url=platform + NOTIFY_PATH, clock=clock) as simulator:
        catalogue.settings.bank_base_url = simulator.url
        yield simulator


def _actor(ctx: AppContext, username: str, platform_role: str = "applicant") -> Actor:
    with transaction(ctx.sessions) as session:
        user = session.scalar(select(User).where(User.username == username))
        if user is None:
            user = directory.create_user(session, username=username, platform_role=platform_role,
                                         password_hash=accounts.hash_password(DEMO_PASSWORD))
        return actor_for(session, user)


def _billed_case(ctx: AppContext, applicant: Actor) -> tuple[int, Bill]:
    deploy(ctx, waiting_package("bayar", "tagihan_lunas"))
    case_id = Driver(ctx).start("bayar", {"harga": 2, "jumlah": 3}, applicant, channel="daring").id
    with transaction(ctx.sessions) as session:
        bill = create_bill(session, case_id=case_id, amount=1_800_000, items=[], channel="va",
                           due_at=ctx.rt.clock() + timedelta(days=30), now=ctx.rt.clock(), prefix="SKRD",
                           bank=bank_from_settings(ctx.settings, ctx.rt.clock))
        session.expunge(bill)
    return case_id, bill


def test_the_bank_pays_through_the_notification_endpoint_once(
        catalogue: AppContext, bank: SnapBankSimulator, client: TestClient,
        login: Callable[[str], dict[str, str]]) -> None:
    case_id, bill = _billed_case(catalogue, _actor(catalogue, "warga"))
    url = f"/api/cases/{case_id}/bills"
    assert [b["status"] for b in client.get(url, headers=login("warga")).json()] == ["open"]
    refused = bank.pay(bill.va_number or "", mode="bad-signature")
    assert [(s, a["responseCode"]) for s, a in refused] == [(401, "4012500")]
    assert client.get(url, headers=login("warga")).json()[0]["status"] == "open"
    answers = bank.pay(bill.va_number or "", mode="duplicate")
    assert [(s, a["responseCode"]) for s, a in answers] == [(200, "2002500"), (409, "4092500")]
    assert answers[0][1]["virtualAccountData"]["paymentFlagStatus"] == "00"
    retried = bank.pay(bill.va_number or "", mode="retry")
    assert [a["responseCode"] for _s, a in retried] == ["4042514", "4042514"]  # a new payment of a paid bill
    seen = client.get(url, headers=login("warga")).json()
    assert [(b["number"], b["status"], b["paid_amount"], b["va_number"]) for b in seen] == [
        (bill.number, "paid", 1_800_000, bill.va_number)]
    assert Driver(catalogue).open_ids(case_id) == ["Task_periksa"]
    assert httpx.post(bank.notify_url, content=b"not json", timeout=10).status_code == 422  # problem+json


def test_a_case_s_bills_are_shown_only_to_those_who_may_see_the_case(
        catalogue: AppContext, bank: SnapBankSimulator, client: TestClient,
        login: Callable[[str], dict[str, str]]) -> None:
    case_id, _bill = _billed_case(catalogue, _actor(catalogue, "warga"))
    _actor(catalogue, "tetangga")
    url = f"/api/cases/{case_id}/bills"
    assert client.get(url).status_code == 401
    assert client.get(url, headers=login("tetangga")).status_code == 404
    assert client.get("/api/cases/999999/bills", headers=login("warga")).status_code == 404
    assert len(client.get(url, headers=login("admin")).json()) == 1


def test_the_reconciliation_report_is_for_admins(catalogue: AppContext, bank: SnapBankSimulator, client: TestClient,
                                                 login: Callable[[str], dict[str, str]]) -> None:
    _case_id, bill = _billed_case(catalogue, _actor(catalogue, "warga"))
    bank.pay(bill.va_number or "")
    assert client.get("/api/payments/reconciliation?day=2026-03-02", headers=login("warga")).status_code == 403
    report = client.get("/api/payments/reconciliation?day=2026-03-02", headers=login("admin")).json()
    assert (report["bills_created"], report["payments"], report["payments_amount"]) == (1, 1, 1_800_000)
    assert report["mismatches"] == []
    assert client.get("/api/payments/reconciliation?day=kemarin", headers=login("admin")).status_code == 422
