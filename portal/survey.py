"""The satisfaction survey (SKM) page: once the service is finished, the applicant rates nine elements."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from engine.cases import tracking as tracking
from engine.sla import survey as survey
from forms.validation import FormInvalid
from web.deps import CsrfForm, RuntimeDep, SessionDep
from web.grants import tracking_granted
from web.routing import TransactionalRoute
from web.session import language
from web.templates import Pages

routes = APIRouter(route_class=TransactionalRoute, include_in_schema=False)
pages = Pages(Path(__file__).resolve().parent / "templates")


def _render(request: Request, session: SessionDep, number: str, *, values: dict[str, Any] | None = None,
            errors: FormInvalid | None = None, status: int = 200) -> Response:
    state = survey.survey_status(session, tracking_number=number)
    return pages.render(request, "survey/form.html", {
        "number": number, "state": state, "unsur": survey.UNSUR, "scale": survey.SCALE,
        "values": values or {}, "errors": errors.field_errors if errors else [],
        "error_fields": {e.path for e in errors.field_errors} if errors else set(),
        "thanks": request.query_params.get("terima") == "1", "comment_max": survey.COMMENT_MAX}, status=status)


@routes.get("/survei/{number}")
def survey_form(request: Request, number: str, session: SessionDep) -> Response:
    """Show the nine questions when the service is finished (after tracking number and PIN)."""
    normal = tracking.normalise(number)
    if not tracking_granted(request, normal):
        return RedirectResponse(f"/lacak?nomor={normal}", status_code=303)
    return _render(request, session, normal)


@routes.post("/survei/{number}")
def survey_submit(request: Request, number: str, session: SessionDep, rt: RuntimeDep, form: CsrfForm) -> Response:
    """Record the answers once; show what is missing, field by field, when the form is incomplete."""
    normal = tracking.normalise(number)
    if not tracking_granted(request, normal):
        return RedirectResponse(f"/lacak?nomor={normal}", status_code=303)
    values = {u.key: str(form.get(u.key) or "") for u in survey.UNSUR}
    comment = str(form.get("comment") or "")
    try:
        survey.submit_survey(session, tracking_number=normal, answers=values, comment=comment,
                             language=language(request), now=rt.clock())
    except FormInvalid as exc:
        return _render(request, session, normal, values={**values, "comment": comment}, errors=exc, status=422)
    except (survey.SurveyAlreadyAnswered, survey.SurveyNotOpen):
        return _render(request, session, normal, status=409)
    return RedirectResponse(f"/survei/{normal}?terima=1", status_code=303)
