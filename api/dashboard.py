"""SLA dashboard and satisfaction survey (SKM) over JSON: figures for managers, answers from applicants."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import Path, Query
from pydantic import BaseModel, Field

from api.deps import AdminActor, ClientAddress, ContextDep, CurrentActor, SessionDep
from api.errors import NOT_FOUND, ApiError
from api.routing import router
from api.schemas import Model
from api.schemas.queue import AgencyQueueRead, QueueFiguresRead, VisitorsPerDay
from engine.cases.tracking import normalise
from engine.connectors import report as calls
from engine.errors import InvalidInput
from engine.queue import figures as queue_figures
from engine.sla import service as sla
from engine.sla import survey as survey
from web.ratelimit import count_pin_guess, pin_matched

routes = router(tags=["dashboard"])

KEY = Query(min_length=1, max_length=120, pattern=r"^[a-z][a-z0-9_]*$", description="a service key")
AGENCY = Query(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_]*$", description="an agency code")
FROM = Query(description="first day of the period (WIB), inclusive: cases started from then")
TO = Query(description="last day of the period (WIB), inclusive")


def filters(date_from: date | None, date_to: date | None, process_key: str | None, agency: str | None) -> sla.Filters:
    """Build the dashboard filters; a period that ends before it starts is refused."""
    if date_from and date_to and date_to < date_from:
        raise InvalidInput(f"date_to ({date_to}) is before date_from ({date_from})")
    return sla.Filters(date_from=date_from, date_to=date_to, process_key=process_key, agency=agency)


class ServiceSla(Model):
    process_key: str
    name_id: str
    name_en: str
    agency: str
    sla_days: int | None
    volume: int = Field(description="cases started in the period")
    open: int = Field(description="of those, still running")
    overdue: int = Field(description="of those, running past the service's due time")
    completed: int
    on_time: int
    compliance: float | None = Field(description="% of completed cases (with an SLA) finished by their due time")


class AgencySla(Model):
    agency: str
    name_id: str
    name_en: str
    open_tasks: int
    overdue_tasks: int
    escalated_tasks: int
    completed_tasks: int
    on_time_tasks: int
    compliance: float | None


class StepSla(Model):
    process_key: str
    element_id: str
    name: str
    agency: str
    completed: int
    open: int
    overdue: int
    duration_median_h: float | None
    duration_p90_h: float | None
    wait_median_h: float | None
    wait_p90_h: float | None


class SlaRead(BaseModel):
    date_from: date | None
    date_to: date | None
    as_of: datetime
    agencies_in_scope: list[str] | None = Field(description="null: every agency (an administrator)")
    services: list[ServiceSla]
    agencies: list[AgencySla]
    steps: list[StepSla]


class UnsurScore(BaseModel):
    key: str
    name_id: str
    name_en: str
    nrr: Decimal


class SkmRead(BaseModel):
    process_key: str
    name_id: str
    name_en: str
    respondents: int
    unsur: list[UnsurScore]
    ikm: Decimal | None = Field(description="Σ NRR × 1/9, between 1 and 4")
    index: Decimal | None = Field(description="ikm × 25, between 25 and 100")
    grade: Literal["A", "B", "C", "D"] | None
    grade_id: str | None
    grade_en: str | None


@routes.get("/api/dashboard/sla", response_model=SlaRead)
def sla_figures(
    session: SessionDep, ctx: ContextDep, actor: CurrentActor, date_from: Annotated[date | None, FROM] = None,
    date_to: Annotated[date | None, TO] = None, process_key: Annotated[str | None, KEY] = None,
    agency: Annotated[str | None, AGENCY] = None,
) -> SlaRead:
    """Return volume, open, overdue, SLA compliance and step durations per service, agency and step.

    For administrators and agency supervisors (role `<agency>.supervisor`); a supervisor sees their agency only.
    """
    board = sla.build_dashboard(session, actor=actor, filters=filters(date_from, date_to, process_key, agency),
                                now=ctx.rt.clock())
    return SlaRead(
        date_from=date_from, date_to=date_to, as_of=board.now,
        agencies_in_scope=sorted(board.scope) if board.scope is not None else None,
        services=[ServiceSla.model_validate(s) for s in board.services],
        agencies=[AgencySla.model_validate(a) for a in board.agencies],
        steps=[StepSla(process_key=s.process_key, element_id=s.element_id, name=s.name, agency=s.agency,
                       completed=s.completed, open=s.open, overdue=s.overdue, duration_median_h=s.duration_median_h,
                       duration_p90_h=s.duration_p90_h, wait_median_h=s.wait_median_h, wait_p90_h=s.wait_p90_h)
               for s in board.steps])


@routes.get("/api/dashboard/queue", response_model=QueueFiguresRead)
def queue_figures_read(
    session: SessionDep, ctx: ContextDep, actor: CurrentActor, date_from: Annotated[date | None, FROM] = None,
    date_to: Annotated[date | None, TO] = None, agency: Annotated[str | None, AGENCY] = None,
) -> QueueFiguresRead:
    """Return the hall queue: visitors per day, tickets, no-shows, waiting and service minutes per agency.

    The period defaults to the last 30 days; a supervisor sees their agency only, like the SLA figures.
    """
    scope = sla.dashboard_scope(actor)
    today = ctx.rt.clock().astimezone(sla.WIB).date()
    end = date_to or today
    start = date_from or end - timedelta(days=29)
    filters(start, end, None, agency)  # refuses a period that ends before it starts
    got = queue_figures.figures(session, date_from=start, date_to=end, agency=agency,
                                agencies=None if scope is None else set(scope))
    return QueueFiguresRead(date_from=start, date_to=end,
                            per_day=[VisitorsPerDay(day=d, tickets=n) for d, n in got.per_day],
                            agencies=[AgencyQueueRead.model_validate(a) for a in got.agencies],
                            total=AgencyQueueRead.model_validate(got.total))


def skm_read(row: survey.ServiceSkm) -> SkmRead:
    """Shape one service's SKM for the API."""
    index = row.index
    return SkmRead(process_key=row.process_key, name_id=row.name_id, name_en=row.name_en,
                   respondents=index.respondents if index else 0,
                   unsur=[UnsurScore(key=u.key, name_id=u.name_id, name_en=u.name_en, nrr=nrr)
                          for u, nrr in zip(survey.UNSUR, index.nrr, strict=True)] if index else [],
                   ikm=index.ikm if index else None, index=index.converted if index else None,
                   grade=index.grade.letter if index else None,  # type: ignore[arg-type]
                   grade_id=index.grade.name_id if index else None, grade_en=index.grade.name_en if index else None)


@routes.get("/api/dashboard/skm", response_model=list[SkmRead])
def skm_figures(
    session: SessionDep, actor: CurrentActor, date_from: Annotated[date | None, FROM] = None,
    date_to: Annotated[date | None, TO] = None, process_key: Annotated[str | None, KEY] = None,
    agency: Annotated[str | None, AGENCY] = None,
) -> list[SkmRead]:
    """Return the satisfaction index (SKM, PermenPAN-RB 14/2017) and grade per service, from answers in the period."""
    rows = survey.skm_dashboard(session, actor=actor, filters=filters(date_from, date_to, process_key, agency))
    return [skm_read(row) for row in rows]


class OperationCallsRead(BaseModel):
    operation: str
    calls: int = Field(description="attempts in the last 24 hours")
    errors: int = Field(description="of those, refused or failed")
    error_rate: float = Field(description="errors / calls, between 0 and 1")
    retries: int = Field(description="attempts that will be tried again")
    p95_ms: int = Field(description="95th percentile of the attempts' durations, in milliseconds")


@routes.get("/api/dashboard/connectors", response_model=list[OperationCallsRead])
def connector_figures(session: SessionDep, ctx: ContextDep, actor: AdminActor) -> list[OperationCallsRead]:
    """Return connector calls per operation over the last 24 hours: count, error rate, retries, p95 duration."""
    return [OperationCallsRead(operation=r.operation, calls=r.calls, errors=r.errors, error_rate=r.error_rate,
                               retries=r.retries, p95_ms=r.p95_ms)
            for r in calls.operation_report(session, now=ctx.rt.clock())]


TN = Path(min_length=4, max_length=20)


class SurveyAnswer(BaseModel):
    pin: str = Field(min_length=1, max_length=12)
    answers: dict[str, int] = Field(description="u1..u9, each 1 to 4: the element's four answers, lowest "
                                    "first (e.g. u4: sangat mahal, cukup mahal, murah, gratis)")
    comment: str | None = Field(default=None, max_length=survey.COMMENT_MAX)
    language: Literal["id", "en"] = "id"
    profile: dict[str, str] | None = Field(
        default=None, description="the respondent profile, each a code of engine/sla/survey.py PROFILE: gender "
        "(l, p, x), age_group (lt20, 20_29, 30_39, 40_49, 50_59, 60p, x), education (sd, smp, sma, d1_d3, d4_s1, "
        "s2p, x), occupation (pns, tni, polri, swasta, wirausaha, lainnya, x); x = prefer not to say. Given, all "
        "four are required; omitted, the answers are recorded without a profile")


class SurveyStatusRead(BaseModel):
    tracking_number: str
    open: bool = Field(description="the survey can be answered now")
    pending: int = Field(description="finished services not yet rated")
    answered: int
    unfinished: int


class SurveyDone(BaseModel):
    tracking_number: str
    rated: int = Field(description="services the answers were recorded for")


def _pin_checked(session: SessionDep, ctx: ContextDep, client: str, tracking_number: str, pin: str) -> None:
    # The same shared limits as tracking: per client and per tracking number (web.ratelimit).
    count_pin_guess(session, client=client, tracking_number=tracking_number)
    if not survey.pin_ok(session, tracking_number=tracking_number, pin=pin,
                         secret=ctx.settings.secret_key.get_secret_value()):
        raise ApiError(NOT_FOUND, "no case matches this tracking number and PIN")
    pin_matched(session, tracking_number=tracking_number)


@routes.get("/api/track/{tracking_number}/survey", response_model=SurveyStatusRead)
def survey_state(session: SessionDep, ctx: ContextDep, client: ClientAddress, tracking_number: Annotated[str, TN],
                 pin: Annotated[str, Query(min_length=1, max_length=12)]) -> SurveyStatusRead:
    """Tell whether the applicant can rate the service now (it is finished and not yet rated)."""
    _pin_checked(session, ctx, client, tracking_number, pin)
    status = survey.survey_status(session, tracking_number=tracking_number)
    return SurveyStatusRead(tracking_number=status.tracking_number, open=status.is_open, pending=len(status.pending),
                            answered=status.answered, unfinished=status.unfinished)


@routes.post("/api/track/{tracking_number}/survey", response_model=SurveyDone, status_code=201)
def answer_survey(session: SessionDep, ctx: ContextDep, client: ClientAddress, tracking_number: Annotated[str, TN],
                  body: SurveyAnswer) -> SurveyDone:
    """Record the applicant's satisfaction survey (nine scores 1–4) once the service is finished; once per case."""
    _pin_checked(session, ctx, client, tracking_number, body.pin)
    rows = survey.submit_survey(session, tracking_number=tracking_number, answers=body.answers, comment=body.comment,
                                language=body.language, now=ctx.rt.clock(), profile=body.profile)
    return SurveyDone(tracking_number=normalise(tracking_number), rated=len(rows))
