"""The signing step: the number the document will get, and its unsigned preview (PDF).

Only the officer who may work on the task (its role, not claimed by someone else) sees them; the
preview stores, draws and signs nothing (engine/documents/preview.py).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from engine.cases import tasks as tasks
from engine.documents import preview as preview
from engine.documents.service import DocumentNotFound
from web.deps import RuntimeDep, SessionDep, StaffPageActor
from web.downloads import content_disposition
from web.routing import TransactionalRoute
from web.taskflow import checked_task_id

routes = APIRouter(route_class=TransactionalRoute, include_in_schema=False)


def signing_context(session: SessionDep, rt: RuntimeDep, detail: tasks.TaskDetail) -> dict[str, Any]:
    """Return what the task page shows when the task signs its case's document (else nothing)."""
    info = preview.signing_info(session, case=detail.case, schema=detail.schema, now=rt.clock())
    return {"signing": info, "preview_url": f"/tugas/{detail.task.id}/pratinjau-dokumen" if info else None}


@routes.get("/tugas/{task_id}/pratinjau-dokumen")
def document_preview(task_id: str, session: SessionDep, rt: RuntimeDep, actor: StaffPageActor) -> Response:
    """Send the unsigned preview of the document the signing task will issue, from the case's current data."""
    detail = tasks.get_task(session, rt=rt, task_id=checked_task_id(task_id), actor=actor)
    now = rt.clock()
    if preview.signing_info(session, case=detail.case, schema=detail.schema, now=now) is None:
        raise DocumentNotFound(f"task {task_id} issues no document")
    data = preview.preview_pdf(session, settings=rt.settings, case=detail.case, now=now)
    return Response(data, media_type="application/pdf", headers={
        "Content-Disposition": content_disposition(f"pratinjau-{detail.case.tracking_number}.pdf", inline=True),
        "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"})
