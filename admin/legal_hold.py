"""Legal hold on a case: the data-protection officer (or an admin) stops the retention job for it, with a reason."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import RedirectResponse, Response

from admin.privacy import DpoActor
from engine.privacy import retention as retention
from web.deps import CsrfForm, RowId, RuntimeDep, SessionDep
from web.routing import TransactionalRoute

routes = APIRouter(route_class=TransactionalRoute, include_in_schema=False)


@routes.post("/kasus/{case_id}/penahanan")
def place(case_id: RowId, session: SessionDep, rt: RuntimeDep, actor: DpoActor, form: CsrfForm) -> Response:
    """Place a legal hold on a case (audited); the retention job leaves it whole until the hold is lifted."""
    retention.place_hold(session, case_id=case_id, actor=actor.username, reason=str(form.get("reason") or ""),
                         now=rt.clock())
    return RedirectResponse(f"/kasus/{case_id}#penahanan", status_code=303)


@routes.post("/kasus/{case_id}/penahanan/cabut")
def lift(case_id: RowId, session: SessionDep, rt: RuntimeDep, actor: DpoActor, form: CsrfForm) -> Response:
    """Lift a case's legal hold with a reason (audited)."""
    retention.lift_hold(session, case_id=case_id, actor=actor.username, reason=str(form.get("reason") or ""),
                        now=rt.clock())
    return RedirectResponse(f"/kasus/{case_id}#penahanan", status_code=303)
