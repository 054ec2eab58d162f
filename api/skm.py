"""The SKM semester report over JSON (PermenPAN-RB 14/2017): per service and MPP-wide, for managers."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import Query
from pydantic import BaseModel, Field

from api.deps import ContextDep, CurrentActor, SessionDep
from api.routing import router
from engine.sla import service as sla
from engine.sla import survey as survey
from engine.sla import survey_report as report

routes = router(tags=["dashboard"])


class ElementRead(BaseModel):
    key: str
    name_id: str
    name_en: str
    nrr: Decimal = Field(description="total score / respondents, 2 decimals")
    nrr_weighted: Decimal = Field(description="NRR × 1/9, 4 decimals")


class ProfileCountRead(BaseModel):
    code: str | None = Field(description="the stored answer; null: answered without a profile")
    label_id: str
    label_en: str
    count: int
    percent: Decimal


class ProfileRead(BaseModel):
    key: Literal["gender", "age_group", "education", "occupation"]
    label_id: str
    label_en: str
    counts: list[ProfileCountRead]


class CommentRead(BaseModel):
    day: date
    text: str = Field(description="the suggestion, e-mail addresses and long digit runs blanked")


class UnitRead(BaseModel):
    process_key: str | None = Field(description="null: the whole MPP (every answer pooled)")
    name_id: str
    name_en: str
    population: int
    population_given: bool = Field(description="false: counted as the cases completed in the period")
    minimum_sample: int = Field(description="from the Krejcie–Morgan table for the population")
    respondents: int
    below_minimum: bool
    channels: dict[str, int] = Field(description="respondents per channel: daring, kiosk")
    elements: list[ElementRead]
    ikm: Decimal | None = Field(description="Σ NRR × 1/9, between 1 and 4")
    index: Decimal | None = Field(description="ikm × 25, between 25 and 100")
    grade: Literal["A", "B", "C", "D"] | None
    grade_id: str | None
    grade_en: str | None
    weakest: list[str] = Field(description="the three lowest elements' keys, lowest first")
    profile: list[ProfileRead]
    comments: list[CommentRead]


class SkmReportRead(BaseModel):
    semester: str | None = Field(description="YYYY-1 or YYYY-2, null for a date range")
    date_from: date
    date_to: date
    label_id: str
    label_en: str
    agencies_in_scope: list[str] | None = Field(description="null: every agency (an administrator)")
    services: list[UnitRead]
    overall: UnitRead


def unit_read(unit: report.UnitReport) -> UnitRead:
    """Shape one unit of the report for the API."""
    index = unit.index
    elements = [ElementRead(key=u.key, name_id=u.name_id, name_en=u.name_en, nrr=nrr, nrr_weighted=weighted)
                for u, nrr, weighted in zip(survey.UNSUR, index.nrr, unit.weighted, strict=True)] if index else []
    return UnitRead(
        process_key=unit.process_key, name_id=unit.name_id, name_en=unit.name_en, population=unit.population,
        population_given=unit.population_given, minimum_sample=unit.minimum_sample, respondents=unit.respondents,
        below_minimum=unit.below_minimum, channels=unit.channels, elements=elements,
        ikm=index.ikm if index else None, index=index.converted if index else None,
        grade=index.grade.letter if index else None,  # type: ignore[arg-type]
        grade_id=index.grade.name_id if index else None, grade_en=index.grade.name_en if index else None,
        weakest=[u.key for u, _ in unit.weakest],
        profile=[ProfileRead(key=q.key, label_id=q.label_id, label_en=q.label_en,  # type: ignore[arg-type]
                             counts=[ProfileCountRead.model_validate(c, from_attributes=True) for c in counts])
                 for q, counts in unit.profile],
        comments=[CommentRead(day=c.day, text=c.text) for c in unit.comments] if unit.process_key else [])


@routes.get("/api/dashboard/skm/report", response_model=SkmReportRead)
def skm_report(
    session: SessionDep, ctx: ContextDep, actor: CurrentActor,
    semester: Annotated[str, Query(max_length=7, description="YYYY-1 (January–June) or YYYY-2 (July–December); "
                                   "default: the current semester")] = "",
    date_from: Annotated[date | None, Query(description="a date range instead of a semester (WIB, inclusive)")] = None,
    date_to: Annotated[date | None, Query(description="the range's last day")] = None,
    population: Annotated[list[str], Query(max_length=200, description="a given population, 'service_key:number'; "
                                           "repeatable; default: the cases completed in the period")] = [],  # noqa: B006
) -> SkmReportRead:
    """Return the SKM report: sample size, respondent profile, NRR, IKM, grade and weakest elements per service and MPP.

    For administrators and agency supervisors (role `<agency>.supervisor`); a supervisor sees their agency's services.
    """
    today = ctx.rt.clock().astimezone(sla.WIB).date()
    period = report.parse_period(semester_code=semester, date_from=date_from.isoformat() if date_from else "",
                                 date_to=date_to.isoformat() if date_to else "", today=today)
    result = report.build_report(session, actor=actor, period=period,
                                 populations=report.parse_populations(population))
    return SkmReportRead(
        semester=period.semester, date_from=period.start, date_to=period.end, label_id=period.label_id,
        label_en=period.label_en,
        agencies_in_scope=sorted(result.agencies_in_scope) if result.agencies_in_scope is not None else None,
        services=[unit_read(u) for u in result.services], overall=unit_read(result.overall))
