"""The applicant's payment pages: a paid bill's receipt (bukti pembayaran) and an open bill's QRIS image.

Both are served to whoever proved the case's PIN (the tracking grant) or may read the case when
logged in (its applicant on the task page, the case's staff); to anyone else the tracking form.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from engine.cases import access as access
from engine.cases import tracking as tracking
from engine.payments import bills as bills
from engine.payments import receipts as receipts
from engine.payments.qris import qris_svg
from web.deps import OptionalPageActor, SessionDep
from web.downloads import content_disposition
from web.errors import error_page
from web.grants import tracking_granted
from web.routing import TransactionalRoute

routes = APIRouter(route_class=TransactionalRoute, include_in_schema=False)
PRIVATE = {"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"}


def _case_id(request: Request, session: SessionDep, actor: OptionalPageActor, number: str) -> int | None:
    """Return the case's id when this browser may see it, else None."""
    case_id = tracking.case_id_of(session, number=number)
    if case_id is None:
        return None
    if tracking_granted(request, number) or (actor is not None and access.may_view_case(session, actor, case_id)):
        return case_id
    return None


@routes.get("/lacak/{number}/kuitansi/{bill_number}")
def receipt(request: Request, number: str, bill_number: str, session: SessionDep,
            actor: OptionalPageActor) -> Response:
    """Serve a paid bill's receipt as a PDF."""
    normal = tracking.normalise(number)
    case_id = _case_id(request, session, actor, normal)
    if case_id is None:
        return RedirectResponse(f"/lacak?nomor={normal}", status_code=303)
    found = receipts.receipt_for_tracking(session, tracking_number=normal, bill_number=bill_number[:40])
    if found is None:  # not this case's paid bill: the same page whether it exists or not
        return error_page(request, 404, "Bukti pembayaran tidak ditemukan", "Receipt not found")
    return Response(receipts.receipt_pdf(found), media_type="application/pdf",
                    headers={"Content-Disposition": content_disposition(f"{found.number}.pdf"), **PRIVATE})


@routes.get("/lacak/{number}/tagihan/{bill_number}/qris.svg")
def qris_image(request: Request, number: str, bill_number: str, session: SessionDep,
               actor: OptionalPageActor) -> Response:
    """Serve an open bill's QRIS as an SVG QR code to scan with a banking or e-wallet app."""
    normal = tracking.normalise(number)
    case_id = _case_id(request, session, actor, normal)
    if case_id is None:
        return RedirectResponse(f"/lacak?nomor={normal}", status_code=303)
    content = bills.open_qris_of_case(session, case_id=case_id, bill_number=bill_number[:40])
    if content is None:
        return error_page(request, 404, "QRIS tidak ditemukan", "QRIS not found")
    return Response(qris_svg(content), media_type="image/svg+xml", headers=PRIVATE)
