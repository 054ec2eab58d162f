"""Payments: the bank's payment notification (SNAP), a case's bills, the daily reconciliation report."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import Body, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict

from api.deps import AdminActor, ContextDep, CurrentActor, RuntimeDep, SessionDep
from api.errors import PROBLEM_RESPONSES
from api.routing import router
from engine.payments import bills as bills
from engine.payments import notifications as notifications
from engine.payments import receipts as receipts

routes = router(tags=["payments"])
CaseId = Annotated[int, Path(ge=1, le=2**31 - 1)]
NOTIFY_PATH = "/api/payments/snap/v1.0/transfer-va/payment"
QR_NOTIFY_PATH = "/api/payments/snap/v1.0/qr/qr-mpm-notify"


class BillItem(BaseModel):
    """One line of a bill."""

    label_id: str = ""
    label_en: str = ""
    amount: int = 0


class BillRead(BaseModel):
    """A bill as its applicant and the case's officers see it."""

    model_config = ConfigDict(from_attributes=True)

    number: str
    amount: int
    items: list[BillItem]
    due_at: datetime
    status: str
    channel: str
    va_number: str | None
    qris_payload: str | None
    paid_at: datetime | None
    paid_amount: int | None
    created_at: datetime


class ReconciliationRead(BaseModel):
    """One day's bills against payments (Jakarta time)."""

    day: date
    bills_created: int
    bills_created_amount: int
    payments: int
    payments_amount: int
    expected_amount: int
    refused: int
    duplicates: int
    expired: int
    mismatches: list[dict[str, Any]]
    unmatched: list[dict[str, Any]]


# The bank reads SNAP's own answer shape, also for refusals (not problem+json): documented as such.
_SNAP_ANSWER = {"type": "object", "required": ["responseCode", "responseMessage"],
                "properties": {"responseCode": {"type": "string"}, "responseMessage": {"type": "string"}}}
SNAP_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"description": text, "content": {"application/json": {"schema": _SNAP_ANSWER}}}
    for status, text in ((200, "paid, or a retry of a payment already recorded"), (400, "not a SNAP notification"),
                         (401, "bad signature or timestamp"), (404, "unknown VA, wrong amount, bill closed"),
                         (409, "a replayed X-EXTERNAL-ID"))}
# A body that is not JSON at all is refused by the platform before SNAP's checks: problem+json.
SNAP_RESPONSES[400]["content"] |= PROBLEM_RESPONSES[400]["content"]


@routes.post(NOTIFY_PATH, response_model=None, include_in_schema=True, responses=SNAP_RESPONSES)
def snap_payment(request: Request, body: Annotated[dict[str, Any], Body()], session: SessionDep, rt: RuntimeDep,
                 ctx: ContextDep) -> JSONResponse:
    """Receive a bank's signed payment notification for a virtual account (SNAP transfer-va/payment)."""
    secret = ctx.settings.bank_client_secret
    # The signature covers the minified JSON, which the engine rebuilds from the parsed body; a plain
    # `def` route cannot await the raw bytes (tests/api/test_edges.py), and needs not.
    outcome = notifications.apply_notification(
        session, rt=rt, headers=dict(request.headers), body=json.dumps(body).encode(), path=request.url.path,
        secret=secret.get_secret_value() if secret is not None else None, now=rt.clock())
    # Returned, not raised: a refusal's payment_event is kept (the route commits what returns).
    return JSONResponse(notifications.response_body(outcome), status_code=outcome.http_status)


@routes.post(QR_NOTIFY_PATH, response_model=None, include_in_schema=True, responses=SNAP_RESPONSES)
def snap_qr_payment(request: Request, body: Annotated[dict[str, Any], Body()], session: SessionDep,
                    rt: RuntimeDep, ctx: ContextDep) -> JSONResponse:
    """Receive a bank's signed payment notification for a bill's QRIS (SNAP qr-mpm-notify)."""
    secret = ctx.settings.bank_client_secret
    outcome = notifications.apply_notification(
        session, rt=rt, headers=dict(request.headers), body=json.dumps(body).encode(), path=request.url.path,
        secret=secret.get_secret_value() if secret is not None else None, now=rt.clock(), channel="qris")
    return JSONResponse(notifications.response_body(outcome), status_code=outcome.http_status)


@routes.get("/api/cases/{case_id}/bills", response_model=list[BillRead])
def case_bills(case_id: CaseId, actor: CurrentActor, session: SessionDep) -> list[BillRead]:
    """List a case's bills: amount, VA number, due date and status."""
    return [BillRead.model_validate(b) for b in bills.bills_of_case(session, case_id=case_id, actor=actor)]


@routes.get("/api/cases/{case_id}/bills/{number}/receipt", response_class=Response,
            responses={200: {"content": {"application/pdf": {}}, "description": "the receipt (PDF)"}})
def bill_receipt(case_id: CaseId, number: Annotated[str, Path(max_length=40)], actor: CurrentActor,
                 session: SessionDep) -> Response:
    """Download the receipt (bukti pembayaran) of a case's paid bill."""
    found = receipts.receipt_for_case(session, case_id=case_id, bill_number=number, actor=actor)
    return Response(receipts.receipt_pdf(found), media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{found.number}.pdf"'})


@routes.get("/api/payments/reconciliation", response_model=ReconciliationRead)
def reconciliation(day: Annotated[date, Query()], actor: AdminActor, session: SessionDep) -> ReconciliationRead:
    """Report one day's bills and payments and what does not match (admin)."""
    report = bills.reconciliation(session, day=day)
    return ReconciliationRead.model_validate(report, from_attributes=True)
