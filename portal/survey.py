"""The satisfaction survey (SKM): online once the service is finished, or at the counter kiosk.

Online (`/survei/{number}`), the applicant has proved the tracking number's PIN. The kiosk
(`/skm/kios`) is a public page on a device in the hall: no login, large touch targets, a blank form
again after every answer. Anti-abuse at the kiosk: each answer is counted per client address
(web/ratelimit.py, 30 per 10 minutes: one device serves one visitor at a time, so a real hall never
reaches it, while a script does); an answer tied to a case needs that case's PIN as well (counted like
any PIN guess), so nobody can use up another applicant's once-only answer by typing a tracking number;
an answer without a case is marked `kiosk` and the report shows how many answers came that way. The
kiosk never grants the browser access to a case, since the next visitor uses the same browser.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from engine.cases import tracking as tracking
from engine.cases.complaints import COMPLAINT_SERVICE
from engine.catalogue import service as catalogue
from engine.sla import survey as survey
from forms.validation import FieldError, FormInvalid
from web.deps import ClientAddress, CsrfForm, RuntimeDep, SessionDep
from web.grants import tracking_granted
from web.ratelimit import RateLimited, count_kiosk_survey, count_pin_guess, pin_matched
from web.routing import TransactionalRoute
from web.session import language
from web.templates import Pages, pick

routes = APIRouter(route_class=TransactionalRoute, include_in_schema=False)
pages = Pages(Path(__file__).resolve().parent / "templates")
KIOSK = "/skm/kios"


def _anchors() -> dict[str, str]:
    """Return the first input of each question, where the error summary's links lead."""
    anchors = {u.key: f"{u.key}-1" for u in survey.UNSUR}
    anchors |= {q.key: f"{q.key}-{q.choices[0][0]}" for q in survey.PROFILE}
    return anchors | {"service": "service", "pin": "pin", "tracking_number": "tracking_number", "comment": "comment"}


def _questions(values: dict[str, Any] | None, errors: list[FieldError] | None) -> dict[str, Any]:
    return {"unsur": survey.UNSUR, "profile": survey.PROFILE, "values": values or {}, "errors": errors or [],
            "error_fields": {e.path for e in errors or []}, "anchors": _anchors(), "comment_max": survey.COMMENT_MAX}


def _read(form: FormData) -> tuple[dict[str, str], dict[str, str], str]:
    answers = {u.key: str(form.get(u.key) or "") for u in survey.UNSUR}
    profile = {q.key: str(form.get(q.key) or "") for q in survey.PROFILE}
    return answers, profile, str(form.get("comment") or "")


def _render(request: Request, session: SessionDep, number: str, *, values: dict[str, Any] | None = None,
            errors: FormInvalid | None = None, status: int = 200) -> Response:
    state = survey.survey_status(session, tracking_number=number)
    return pages.render(request, "survey/form.html", {
        "number": number, "state": state, **_questions(values, errors.field_errors if errors else None),
        "thanks": request.query_params.get("terima") == "1"}, status=status)


@routes.get("/survei/{number}")
def survey_form(request: Request, number: str, session: SessionDep) -> Response:
    """Show the profile and the nine questions when the service is finished (after tracking number and PIN)."""
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
    answers, profile, comment = _read(form)
    try:
        survey.submit_survey(session, tracking_number=normal, answers=answers, comment=comment, profile=profile,
                             language=language(request), now=rt.clock())
    except FormInvalid as exc:
        return _render(request, session, normal, values={**answers, **profile, "comment": comment}, errors=exc,
                       status=422)
    except (survey.SurveyAlreadyAnswered, survey.SurveyNotOpen):
        return _render(request, session, normal, status=409)
    return RedirectResponse(f"/survei/{normal}?terima=1", status_code=303)


def _services(session: Session) -> list[catalogue.Service]:
    return [s for s in catalogue.list_services(session) if s.key != COMPLAINT_SERVICE]


def _kiosk(request: Request, session: Session, *, values: dict[str, Any] | None = None,
           errors: list[FieldError] | None = None, message: str | None = None, status: int = 200) -> Response:
    return pages.render(request, "survey/kiosk.html", {
        "services": _services(session), **_questions(values, errors), "message": message,
        "thanks": request.query_params.get("terima") == "1"}, status=status)


@routes.get(KIOSK)
def kiosk_form(request: Request, session: SessionDep) -> Response:
    """Show the counter kiosk's survey: the service, optionally a tracking number and PIN, profile, nine questions."""
    return _kiosk(request, session)


@routes.post(KIOSK)
def kiosk_submit(request: Request, session: SessionDep, rt: RuntimeDep, form: CsrfForm,
                 client: ClientAddress) -> Response:
    """Record one visitor's answers from the kiosk, then show a blank form for the next visitor."""
    answers, profile, comment = _read(form)
    service, number, pin = (str(form.get(k) or "").strip() for k in ("service", "tracking_number", "pin"))
    values = {**answers, **profile, "comment": comment, "service": service, "tracking_number": number}
    lang = language(request)
    try:  # counted before anything reads the database (on SQLite the first reader holds the write lock)
        count_kiosk_survey(session, client=client)
        if number:
            count_pin_guess(session, client=client, tracking_number=number)
    except RateLimited as exc:
        refused = _kiosk(request, session, values=values, status=429, message=pick(
            lang, f"Terlalu banyak jawaban dari perangkat ini; coba lagi dalam {exc.retry_after} detik.",
            f"Too many answers from this device; try again in {exc.retry_after} s."))
        refused.headers["Retry-After"] = str(exc.retry_after)
        return refused
    try:
        if number:
            _answer_case(session, rt, number=number, pin=pin, service=service, answers=answers, profile=profile,
                         comment=comment, lang=lang)
        else:
            survey.submit_kiosk(session, process_key=service, answers=answers, profile=profile, comment=comment,
                                language=lang, now=rt.clock())
    except FormInvalid as exc:
        return _kiosk(request, session, values=values, errors=exc.field_errors, status=422)
    except survey.SurveyAlreadyAnswered:
        return _kiosk(request, session, values=values, status=409, message=pick(
            lang, "Permohonan dengan nomor lacak ini sudah dinilai. Terima kasih.",
            "The application with this tracking number has been rated already. Thank you."))
    except survey.SurveyNotOpen:
        return _kiosk(request, session, values=values, status=409, message=pick(
            lang, "Layanan pilihan Anda pada nomor lacak ini belum selesai, jadi belum dapat dinilai.",
            "The chosen service of this tracking number is not finished yet, so it cannot be rated."))
    return RedirectResponse(f"{KIOSK}?terima=1", status_code=303)


def _answer_case(session: Session, rt: RuntimeDep, *, number: str, pin: str, service: str, answers: dict[str, str],
                 profile: dict[str, str], comment: str, lang: str) -> None:
    """Rate the chosen service of a tracking number whose PIN is right; a wrong pair is a field error."""
    if not survey.pin_ok(session, tracking_number=number, pin=pin, secret=rt.settings.secret_key.get_secret_value()):
        raise FormInvalid([FieldError("pin", "mismatch", "Nomor lacak dan PIN tidak cocok. Kosongkan keduanya "
                                      "untuk menilai tanpa nomor lacak.", "The tracking number and PIN do not "
                                      "match. Leave both empty to rate without a tracking number.")])
    pin_matched(session, tracking_number=number)
    survey.submit_survey(session, tracking_number=number, answers=answers, comment=comment, profile=profile,
                         language=lang, now=rt.clock(), channel="kiosk", process_key=service or None)
