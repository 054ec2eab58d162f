"""The officer's checklist of a case's document requirements: each file, a verdict and a note, kept in history."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from engine.cases import access as access
from engine.cases import requirements as requirements
from engine.cases import service as cases
from engine.errors import CaseNotFound, DomainError
from web.deps import CsrfForm, RowId, RuntimeDep, SessionDep, StaffPageActor
from web.routing import TransactionalRoute
from web.session import language
from web.templates import Pages

routes = APIRouter(route_class=TransactionalRoute, include_in_schema=False)
pages = Pages(Path(__file__).resolve().parent / "templates")
VERDICTS = {"sesuai": True, "tidak_sesuai": False}


def _page(request: Request, session: SessionDep, case_id: int, actor: StaffPageActor, *, back: str = "",
          error: str = "", saved: bool = False, status: int = 200) -> Response:
    # Same answer for "does not exist" and "not yours": ids are not enumerable.
    if not access.may_view_case(session, actor, case_id):
        raise CaseNotFound(f"case {case_id} not found")
    case = cases.get_case(session, case_id)
    return pages.render(request, "requirements/checklist.html", {
        "case": case, "rows": requirements.checklist(session, case=case), "back": back, "error": error,
        "saved": saved}, status=status)


def _back(value: object) -> str:
    """Return a same-site path to go back to (a task page), or nothing."""
    text = str(value or "")
    return text if text.startswith("/tugas/") and "//" not in text and "\\" not in text else ""


@routes.get("/kasus/{case_id}/persyaratan")
def checklist_page(request: Request, case_id: RowId, session: SessionDep, actor: StaffPageActor) -> Response:
    """Show each document requirement of a case with its uploaded files and the latest verdict."""
    return _page(request, session, case_id, actor, back=_back(request.query_params.get("kembali")),
                 saved=request.query_params.get("tersimpan") == "1")


@routes.post("/kasus/{case_id}/persyaratan")
def record_checklist(request: Request, case_id: RowId, session: SessionDep, rt: RuntimeDep, actor: StaffPageActor,
                     form: CsrfForm) -> Response:
    """Record the officer's verdict (matches or not) and note per requirement in the case's history."""
    if not access.may_view_case(session, actor, case_id):
        raise CaseNotFound(f"case {case_id} not found")
    case = cases.get_case(session, case_id)
    verdicts = {row.code: (VERDICTS.get(str(form.get(f"cek__{row.code}") or "")),
                           str(form.get(f"catatan__{row.code}") or ""))
                for row in requirements.checklist(session, case=case)}
    back = _back(form.get("kembali"))
    try:
        requirements.record_checklist(session, rt=rt, case=case, actor=actor, verdicts=verdicts)
    except DomainError as exc:
        return _page(request, session, case_id, actor, back=back, error=exc.text(language(request)), status=422)
    suffix = f"&kembali={quote(back, safe='/')}" if back else ""
    return RedirectResponse(f"/kasus/{case_id}/persyaratan?tersimpan=1{suffix}", status_code=303)


