"""The reconciliation page over HTTP: a day's bills against the bank's payments, for admins, with its CSV."""
# ruff: noqa: F811 - the fixtures are imported, then named as test arguments

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from engine.context import AppContext
from engine.db import transaction
from engine.payments.bills import create_bill
from engine.payments.snap import bank_from_settings
from tests.admin.conftest import Login
from tests.api.test_payments_api import _actor, _billed_case, bank, platform  # noqa: F401 - fixtures
from tests.simulators.snap_bank import SnapBankSimulator

DAY = "2026-03-02"


def _second_bill(ctx: AppContext, case_id: int) -> str:
    with transaction(ctx.sessions) as session:
        bill = create_bill(session, case_id=case_id, amount=250_000, items=[], channel="va", prefix="SKRD",
                           due_at=ctx.rt.clock() + timedelta(days=30), now=ctx.rt.clock(),
                           bank=bank_from_settings(ctx.settings, ctx.rt.clock))
        return bill.va_number or ""


def _a_day_of_payments(ctx: AppContext, bank: SnapBankSimulator) -> tuple[str, str]:
    case_id, bill = _billed_case(ctx, _actor(ctx, "warga"))
    other_va = _second_bill(ctx, case_id)
    assert bank.pay(bill.va_number or "")[0][1]["responseCode"] == "2002500"
    assert bank.pay(other_va, amount=200_000)[0][1]["responseCode"] == "4042513"  # short: refused
    assert bank.pay(other_va, mode="bad-signature")[0][1]["responseCode"] == "4012500"  # names no bill
    return bill.number, f"SKRD-2026-{2:06d}"


def test_the_admin_sees_a_day_of_bills_against_payments_and_downloads_it(
        catalogue: AppContext, bank: SnapBankSimulator, client: TestClient, page_login: Login) -> None:
    paid, short = _a_day_of_payments(catalogue, bank)
    page_login("admin")
    assert 'href="/admin/rekonsiliasi"' in client.get("/dasbor").text
    page = client.get(f"/admin/rekonsiliasi?tanggal={DAY}")
    assert page.status_code == 200
    text = page.text
    assert '<tr id="row-created"><th scope="row">Tagihan dibuat</th><td>2</td><td>Rp2.050.000</td>' in text
    assert "<td>1</td><td>Rp1.800.000</td><td>Rp1.800.000</td>" in text
    assert '<tr id="row-refused"><th scope="row">Notifikasi ditolak</th><td>2</td>' in text
    assert f"<td>{short}</td>" in text
    assert f"<td>{paid}</td>" not in text  # the paid bill matched
    assert "4042513 paid 200000, bill is 250000" in text
    assert "4012500 bad signature" in text  # unmatched: a notification that names no bill
    empty = client.get("/admin/rekonsiliasi?tanggal=2026-03-03").text
    assert '<tr id="row-created"><th scope="row">Tagihan dibuat</th><td>0</td>' in empty
    assert 'id="no-mismatches"' in empty
    download = client.get(f"/admin/rekonsiliasi/ekspor.csv?tanggal={DAY}")
    assert download.headers["content-type"].startswith("text/csv")
    lines = download.content.decode("utf-8-sig").splitlines()
    assert "tagihan dibuat/bills created,2,2050000,," in lines
    assert "pembayaran/payments,1,1800000,1800000," in lines
    assert any(line.startswith(f"selisih/mismatch,{short},") for line in lines)
    assert any(line.startswith("tanpa tagihan/unmatched,") and "4012500" in line for line in lines)
    wrong = client.get("/admin/rekonsiliasi?tanggal=kemarin")
    assert wrong.status_code == 400
    assert "bukan tanggal (YYYY-MM-DD)" in wrong.text


def test_only_admins_open_the_reconciliation(catalogue: AppContext, client: TestClient, page_login: Login) -> None:
    assert client.get("/admin/rekonsiliasi", follow_redirects=False).status_code in (303, 401)
    _actor(catalogue, "warga")
    page_login("warga")
    assert client.get("/admin/rekonsiliasi").status_code == 403
    assert client.get(f"/admin/rekonsiliasi/ekspor.csv?tanggal={DAY}").status_code == 403
    assert 'href="/admin/rekonsiliasi"' not in client.get("/dasbor").text
