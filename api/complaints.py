"""Complaints over JSON: a service's answered complaints (public) and the complaint figures per service (staff)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path

from api.deps import CurrentActor, RuntimeDep, SessionDep
from api.routing import router
from api.schemas.complaints import AnsweredComplaintRead, ComplaintFiguresRead
from engine.cases import complaint_views as complaint_views
from engine.catalogue import service as catalogue

routes = router(tags=["complaints"])
KEY = Path(min_length=1, max_length=120, pattern=r"^[a-z][a-z0-9_]*$", description="a service key")


@routes.get("/api/services/{key}/complaints", response_model=list[AnsweredComplaintRead])
def answered(key: Annotated[str, KEY], session: SessionDep, rt: RuntimeDep) -> list[AnsweredComplaintRead]:
    """List a service's answered complaints, newest first: summary, answer, dates; never the complainant."""
    catalogue.get_service(session, rt=rt, key=key)  # an unknown service is a 404, not an empty list
    return [AnsweredComplaintRead(summary=c.summary, filed_at=c.filed_at,
                                  due_at=c.due_at, answered_at=c.answered_at, on_time=bool(c.on_time),
                                  answer_id=c.answer_id, answer_en=c.answer_en, lapor_ticket=c.lapor_ticket)
            for c in complaint_views.answered_for_service(session, service_key=key) if c.answered_at is not None]


@routes.get("/api/complaints/figures", response_model=list[ComplaintFiguresRead])
def figures(session: SessionDep, rt: RuntimeDep, actor: CurrentActor) -> list[ComplaintFiguresRead]:
    """Count complaints per service and the share answered on time: all for admins, own agencies for supervisors."""
    rows = complaint_views.figures(session, actor=actor, now=rt.clock())
    return [ComplaintFiguresRead(service_key=r.service_key, agency=r.agency, filed=r.filed, answered=r.answered,
                                 on_time=r.on_time, open=r.open, open_overdue=r.open_overdue,
                                 on_time_share=r.on_time_share) for r in rows]
