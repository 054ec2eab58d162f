"""PDAM and SNI certification billed at the bank like PBG: the fee opens a bill at the SNAP simulator (real
HTTP), the bank's paid notification moves the case past payment; without a bank the counter path stays."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pydantic import SecretStr
from sqlalchemy import select

from engine.context import AppContext
from engine.models import Bill
from tests.conftest import FakeClock
from tests.factories import Driver, deploy, make_user
from tests.live import app_over_http
from tests.processes import test_pdam as pdam
from tests.processes import test_sertifikasi_sni as sni
from tests.simulators.snap_bank import SnapBankSimulator

SECRET = "paid-services-shared-secret-0123456789"
NOTIFY_PATH = "/api/payments/snap/v1.0/transfer-va/payment"


@pytest.fixture
def bank(ctx: AppContext, clock: FakeClock) -> Iterator[SnapBankSimulator]:
    ctx.settings.bank_client_secret = SecretStr(SECRET)
    with app_over_http(ctx) as url, SnapBankSimulator(secret=SECRET, notify_url=url + NOTIFY_PATH,
                                                      clock=clock) as simulator:
        ctx.settings.bank_base_url = simulator.url
        yield simulator


def _pdam_cast(ctx: AppContext) -> pdam.Cast:
    deploy(ctx, pdam.PDAM)
    return pdam.Cast(*(make_user(ctx, name, *roles) for name, roles in (
        ("pemohon", ()), ("tetangga", ()), ("jemput", ("dpmptsp.jemput_bola",)), ("cs_pdam", ("pdam.pelayanan",)),
        ("surveyor_pdam", ("pdam.surveyor",)), ("kasir_pdam", ("pdam.kasir",)), ("teknisi_pdam", ("pdam.teknisi",)))))


def _sni_cast(ctx: AppContext) -> sni.Cast:
    deploy(ctx, sni.SNI)
    return sni.Cast(applicant=make_user(ctx, "pelaku_usaha"), jemput=make_user(ctx, "jemput", "dpmptsp.jemput_bola"),
                    front=make_user(ctx, "fo", "dpmptsp.front_office"),
                    auditor=make_user(ctx, "auditor_b4t", "lspro.auditor", org="lspro_b4t"),
                    auditor_sucofindo=make_user(ctx, "auditor_sucofindo", "lspro.auditor", org="lspro_sucofindo"),
                    komite=make_user(ctx, "komite_b4t", "lspro.komite", org="lspro_b4t"),
                    komite_sucofindo=make_user(ctx, "komite_sucofindo", "lspro.komite", org="lspro_sucofindo"),
                    lab=make_user(ctx, "penguji", "lab_uji.penguji"))


def _bills(ctx: AppContext, case_id: int) -> list[Bill]:
    with ctx.sessions() as session:
        found = list(session.scalars(select(Bill).where(Bill.case_id == case_id).order_by(Bill.id)))
        session.expunge_all()
        return found


def _pdam_to_payment(ctx: AppContext, cast: pdam.Cast) -> int:
    d = Driver(ctx)
    case_id = d.start(pdam.KEY, pdam.application(), cast.pemohon).id
    d.complete(case_id, "Task_periksa_berkas", cast.pelayanan, pdam.COMPLETE)
    d.complete(case_id, "Task_survei", cast.surveyor, {**pdam.FEASIBLE, "panjang_pipa_m": 12})
    d.run_jobs()
    return case_id


def _sni_to_payment(ctx: AppContext, cast: sni.Cast) -> int:
    d = Driver(ctx)
    case_id = d.start("sertifikasi_sni", sni.application(), cast.applicant).id
    sni.to_payment(d, cast, case_id)
    d.run_jobs()
    return case_id


def test_pdam_fee_is_billed_and_the_bank_s_payment_skips_the_cashier(
        ctx: AppContext, bank: SnapBankSimulator) -> None:
    d = Driver(ctx)
    case_id = _pdam_to_payment(ctx, _pdam_cast(ctx))
    assert d.open_ids(case_id) == ["Task_pembayaran"]
    [bill] = _bills(ctx, case_id)
    assert (bill.number, bill.amount, bill.status) == ("PDAM-2026-000001", 1_870_000, "open")  # 2 m beyond 10 m
    assert bill.items == [{"label_id": "Biaya sambungan baru air minum", "label_en": "New water connection fee",
                           "amount": 1_870_000}]
    assert [(s, a["responseCode"]) for s, a in bank.pay(bill.va_number or "", mode="duplicate")] == [
        (200, "2002500"), (409, "4092500")]
    assert d.open_ids(case_id) == ["Task_pemasangan"]  # past the cashier's verification
    assert d.case(case_id).data["pembayaran_bank"]["nomor_tagihan"] == bill.number
    assert _bills(ctx, case_id)[0].status == "paid"


def test_sni_fee_is_billed_and_the_bank_s_payment_starts_the_evaluation(
        ctx: AppContext, bank: SnapBankSimulator) -> None:
    d = Driver(ctx)
    case_id = _sni_to_payment(ctx, _sni_cast(ctx))
    assert d.open_ids(case_id) == ["Task_pembayaran"]
    [bill] = _bills(ctx, case_id)
    assert (bill.number, bill.amount) == ("SNI-2026-000001", 35_000_000)
    assert [a["responseCode"] for _s, a in bank.pay(bill.va_number or "", amount=34_000_000)] == ["4042513"]
    assert d.open_ids(case_id) == ["Task_pembayaran"]  # a short payment moves nothing
    assert [a["responseCode"] for _s, a in bank.pay(bill.va_number or "")] == ["2002500"]
    assert set(d.open_ids(case_id)) == {"Task_audit_pabrik", "Task_pengambilan_contoh"}


@pytest.mark.parametrize("service", ["pdam", "sni"])
def test_without_a_bank_the_service_waits_for_the_counter_payment_with_no_bill(ctx: AppContext, service: str) -> None:
    assert ctx.settings.bank_client_secret is None
    case_id = _pdam_to_payment(ctx, _pdam_cast(ctx)) if service == "pdam" else _sni_to_payment(ctx, _sni_cast(ctx))
    assert Driver(ctx).open_ids(case_id) == ["Task_pembayaran"]
    assert _bills(ctx, case_id) == []
