"""PBG paid through the bank: the SKRD opens a bill at the SNAP simulator (real HTTP), the bank's
notification moves the case to signing; without a bank the counter path stays."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from pypdf import PdfReader
from sqlalchemy import select

from api.app import create_app
from api.bootstrap import DEMO_PASSWORD
from engine.context import AppContext
from engine.db import transaction
from engine.directory import accounts as accounts
from engine.directory import service as directory
from engine.directory.actors import Actor, actor_for
from engine.models import Bill, CaseEvent, Job, PaymentEvent
from engine.payments.adapter import OPERATION
from tests.api.conftest import fast_password_hashing  # noqa: F401 (an autouse fixture)
from tests.conftest import FakeClock
from tests.factories import (
    APPROVED,
    DRAWINGS,
    PBG,
    SKRD,
    SPPST,
    Driver,
    add_provider,
    deploy,
    make_user,
    pbg_application,
)
from tests.live import app_over_http
from tests.simulators.snap_bank import SnapBankSimulator, crc16
from tests.web.test_pages import log_in

SECRET = "pbg-bank-shared-secret-0123456789"
NOTIFY_PATH = "/api/payments/snap/v1.0/transfer-va/payment"
RETRIBUTION = 275_644  # 120.5 m2 under the PP 16/2021 formula (retribution.dmn, factories.CLASSIFIED)


@dataclass
class Cast:
    applicant: Actor
    front: Actor
    griya: Actor
    tpa: Actor
    teknis: Actor
    back: Actor


@pytest.fixture
def cast(ctx: AppContext) -> Cast:
    deploy(ctx, PBG)
    add_provider(ctx, "konsultan_griya", "konsultan")
    with transaction(ctx.sessions) as session:
        user = directory.create_user(session, username="warga_bayar", platform_role="applicant",
                                     password_hash=accounts.hash_password(DEMO_PASSWORD))
        applicant = actor_for(session, user)
    return Cast(applicant=applicant, front=make_user(ctx, "fo", "dpmptsp.front_office"),
                griya=make_user(ctx, "griya", "konsultan.perencana", org="konsultan_griya"),
                tpa=make_user(ctx, "tpa", "pupr.tpa"), teknis=make_user(ctx, "teknis", "pupr.teknis"),
                back=make_user(ctx, "bo", "dpmptsp.back_office"))


@pytest.fixture
def platform(ctx: AppContext) -> Iterator[str]:
    """Serve the app over real HTTP (uvicorn in a thread), for the bank to notify."""
    ctx.settings.bank_client_secret = SecretStr(SECRET)
    with app_over_http(ctx) as url:
        yield url


@pytest.fixture
def bank(ctx: AppContext, platform: str, clock: FakeClock) -> Iterator[SnapBankSimulator]:
    with SnapBankSimulator(secret=SECRET, notify_url=platform + NOTIFY_PATH, clock=clock) as simulator:
        ctx.settings.bank_base_url = simulator.url
        yield simulator


def _to_payment(ctx: AppContext, c: Cast, **overrides: object) -> int:
    """File a PBG application and take it through the SKRD; run the queued jobs (the bill's among them)."""
    d = Driver(ctx)
    case_id = d.start("pbg", pbg_application(**overrides), c.applicant, channel="daring").id
    d.complete(case_id, "Task_kelengkapan", c.front, {"kelengkapan": "lengkap"})
    d.complete(case_id, "Task_gambar_teknis", c.griya, DRAWINGS)
    d.complete(case_id, "Task_tpa", c.tpa, APPROVED)
    d.complete(case_id, "Task_sppst", c.teknis, SPPST)
    if d.case(case_id).data["retribusi"] > 0:
        d.complete(case_id, "Task_skrd", c.back, SKRD)
    d.run_jobs()
    return case_id


def _bills(ctx: AppContext, case_id: int) -> list[Bill]:
    with ctx.sessions() as session:
        found = list(session.scalars(select(Bill).where(Bill.case_id == case_id).order_by(Bill.id)))
        session.expunge_all()
        return found


def test_the_skrd_opens_a_bill_and_the_bank_s_payment_moves_the_case_to_signing(
        ctx: AppContext, cast: Cast, bank: SnapBankSimulator) -> None:
    d = Driver(ctx)
    case_id = _to_payment(ctx, cast)
    assert d.open_ids(case_id) == ["Task_pembayaran"]
    [bill] = _bills(ctx, case_id)
    assert (bill.amount, bill.status, bill.number) == (RETRIBUTION, "open", "SKRD-2026-000001")
    assert bill.items == [{"label_id": "Retribusi PBG", "label_en": "PBG retribution", "amount": RETRIBUTION}]
    assert bill.va_number in bank.accounts
    answers = bank.pay(bill.va_number or "")
    assert [(status, answer["responseCode"]) for status, answer in answers] == [(200, "2002500")]
    assert d.open_ids(case_id) == ["Task_tanda_tangan"]  # the cashier's verification is skipped
    paid = d.case(case_id).data["pembayaran_bank"]
    assert (paid["nomor_tagihan"], paid["jumlah"]) == (bill.number, RETRIBUTION)
    assert _bills(ctx, case_id)[0].status == "paid"


def test_a_duplicate_notification_changes_nothing(ctx: AppContext, cast: Cast, bank: SnapBankSimulator) -> None:
    d = Driver(ctx)
    case_id = _to_payment(ctx, cast)
    [bill] = _bills(ctx, case_id)
    answers = bank.pay(bill.va_number or "", mode="duplicate")
    assert [(status, answer["responseCode"]) for status, answer in answers] == [(200, "2002500"), (409, "4092500")]
    assert d.open_ids(case_id) == ["Task_tanda_tangan"]
    version = d.case(case_id).version
    again = bank.pay(bill.va_number or "", mode="retry")  # a second payment of the paid bill, and its retry
    assert [answer["responseCode"] for _status, answer in again] == ["4042514", "4042514"]
    assert d.case(case_id).version == version
    assert d.open_ids(case_id) == ["Task_tanda_tangan"]
    assert _bills(ctx, case_id)[0].paid_amount == RETRIBUTION
    with ctx.sessions() as session:
        kinds = list(session.scalars(select(PaymentEvent.kind).where(PaymentEvent.bill_id == bill.id)))
    assert kinds.count("notified") == 1


def test_without_a_bank_secret_the_case_waits_at_the_counter_payment_with_no_bill(
        ctx: AppContext, cast: Cast) -> None:
    assert ctx.settings.bank_client_secret is None
    d = Driver(ctx)
    case_id = _to_payment(ctx, cast)
    assert d.open_ids(case_id) == ["Task_pembayaran"]
    assert _bills(ctx, case_id) == []
    with ctx.sessions() as session:
        labels = list(session.scalars(select(CaseEvent.label).where(CaseEvent.case_id == case_id)))
        outbound = [(job.status, job.attempts) for job in session.scalars(select(Job).where(
            Job.case_id == case_id, Job.kind == "outbound")) if (job.payload or {}).get("operation") == OPERATION]
    assert "bank belum dikonfigurasi" in labels
    assert outbound == [("done", 1)]  # finished once, not retried


def test_the_applicant_s_task_page_shows_the_bill(ctx: AppContext, cast: Cast, bank: SnapBankSimulator) -> None:
    case_id = _to_payment(ctx, cast)
    [bill] = _bills(ctx, case_id)
    task = Driver(ctx).task(case_id, "Task_pembayaran")
    with TestClient(create_app(ctx), raise_server_exceptions=False) as client:
        log_in(client, "warga_bayar")
        page = client.get(f"/permohonan-saya/tugas/{task.id}")
        assert page.status_code == 200, page.text
        assert "Rp275.644" in page.text
        assert bill.va_number
        assert bill.va_number in page.text
        assert bill.number in page.text
        assert "Sudah membayar dengan cara lain?" in page.text  # the counter form is the alternative, said so
        tracking = client.get(f"/lacak/{Driver(ctx).case(case_id).tracking_number}")
        assert "Rp275.644" in tracking.text


def test_a_zero_retribution_case_has_no_bill(ctx: AppContext, cast: Cast, bank: SnapBankSimulator) -> None:
    case_id = _to_payment(ctx, cast, rumah_mbr=True, luas_bangunan=36)
    assert Driver(ctx).open_ids(case_id) == ["Task_tanda_tangan"]
    assert _bills(ctx, case_id) == []


def _pdf_text(data: bytes) -> str:
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_a_paid_bill_issues_a_receipt_the_applicant_downloads_from_tracking(
        ctx: AppContext, cast: Cast, bank: SnapBankSimulator) -> None:
    case_id = _to_payment(ctx, cast)
    [bill] = _bills(ctx, case_id)
    number = Driver(ctx).case(case_id).tracking_number
    url = f"/lacak/{number}/kuitansi/{bill.number}"
    with TestClient(create_app(ctx), raise_server_exceptions=False) as client:
        log_in(client, "warga_bayar")
        before = client.get(f"/lacak/{number}").text
        assert url not in before  # no receipt before the bank pays
        assert "Pembayaran diterima bank" not in before
        assert client.get(url).status_code == 404
        bank.pay(bill.va_number or "")
        [paid] = _bills(ctx, case_id)
        after = client.get(f"/lacak/{number}").text
        assert url in after
        assert "Pembayaran diterima bank" in after  # the timeline names the payment, not "an agency's answer"
        answer = client.get(url)
        assert answer.status_code == 200
        assert answer.headers["content-type"] == "application/pdf"
        text = _pdf_text(answer.content)
        for fact in ("KWT-2026-000001", bill.number, number, "Rp275.644", paid.bank_reference or "?",
                     "Retribusi PBG", bill.va_number or "?", "02-03-2026"):
            assert fact in text, fact
        assert Driver(ctx).case(case_id).data["pembayaran_bank"]["nomor_kuitansi"] == "KWT-2026-000001"
        api = client.get(f"/api/cases/{case_id}/bills/{bill.number}/receipt",
                         headers={"Authorization": f"Bearer {_token(client, 'warga_bayar')}"})
        assert (api.status_code, api.content[:5]) == (200, b"%PDF-")
    with TestClient(create_app(ctx), raise_server_exceptions=False, follow_redirects=False) as stranger:
        assert stranger.get(url).status_code == 303  # neither the PIN nor a login: to the tracking form
        _applicant(ctx, "tetangga_bayar")
        log_in(stranger, "tetangga_bayar")
        assert stranger.get(url).status_code == 303  # logged in, but not this case's applicant: the PIN form


def _applicant(ctx: AppContext, username: str) -> None:
    with transaction(ctx.sessions) as session:
        directory.create_user(session, username=username, platform_role="applicant",
                              password_hash=accounts.hash_password(DEMO_PASSWORD))


def _token(client: TestClient, username: str) -> str:
    answer = client.post("/api/auth/token", data={"username": username, "password": DEMO_PASSWORD})
    return str(answer.json()["access_token"])


def test_a_bill_with_a_qris_is_paid_by_scanning_it(ctx: AppContext, cast: Cast, bank: SnapBankSimulator) -> None:
    ctx.settings.bank_qris = True
    d = Driver(ctx)
    case_id = _to_payment(ctx, cast)
    [bill] = _bills(ctx, case_id)
    content = bill.qris_payload or ""
    assert content.startswith("000201010212")  # EMVCo MPM, dynamic
    assert f"54{len(str(RETRIBUTION)):02d}{RETRIBUTION}" in content
    assert content[-4:] == crc16(content[:-4])
    assert bill.va_number in bank.accounts  # the VA stays open beside the QRIS
    number = d.case(case_id).tracking_number
    task = d.task(case_id, "Task_pembayaran")
    qr_url = f"/lacak/{number}/tagihan/{bill.number}/qris.svg"
    with TestClient(create_app(ctx), raise_server_exceptions=False) as client:
        log_in(client, "warga_bayar")
        assert qr_url in client.get(f"/permohonan-saya/tugas/{task.id}").text
        image = client.get(qr_url)
        assert (image.status_code, image.headers["content-type"]) == (200, "image/svg+xml")
        assert b"<svg" in image.content
        refused = bank.pay_qris(bill.number, mode="bad-signature")
        assert [(s, a["responseCode"]) for s, a in refused] == [(401, "4015200")]
        assert d.open_ids(case_id) == ["Task_pembayaran"]
        answers = bank.pay_qris("", qr_content=content, mode="duplicate")  # found by the scanned text
        assert [(s, a["responseCode"]) for s, a in answers] == [(200, "2005200"), (409, "4095200")]
        assert d.open_ids(case_id) == ["Task_tanda_tangan"]
        assert client.get(qr_url).status_code == 404  # a paid bill's QR is gone
        receipt = client.get(f"/lacak/{number}/kuitansi/{bill.number}")
        assert "QRIS" in _pdf_text(receipt.content)
    assert [(s, a["responseCode"]) for s, a in bank.pay(bill.va_number or "")] == [(404, "4042514")]
    [paid] = _bills(ctx, case_id)
    assert (paid.status, paid.channel, paid.paid_amount) == ("paid", "qris", RETRIBUTION)
    with ctx.sessions() as session:
        kinds = list(session.scalars(select(PaymentEvent.kind).where(PaymentEvent.bill_id == bill.id)))
    assert kinds.count("notified") == 1


def test_tracking_names_the_bank_s_paid_message() -> None:
    from engine.cases import tracking
    from engine.payments import notifications

    assert tracking.PAID_MESSAGE == notifications.PAID_MESSAGE
