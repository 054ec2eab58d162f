"""Shapes of cases, integrated applications (bundles), messages and public tracking."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import Field

from api.schemas.common import Channel, Model, Text
from api.schemas.tasks import NextTaskRead, TaskRead

Priority = Literal["disabilitas", "lansia", "hamil"]
OutreachGroup = Literal["disabilitas", "lansia", "sakit"]


class OutreachCreate(Model):
    reason: OutreachGroup = Field(description="why an officer must come; one of the service's `outreach.for`")
    address: str = Field(min_length=1, max_length=500, description="where the officer should visit")
    contact: str = Field(min_length=1, max_length=120, description="a phone number to agree the visit")


class OutreachRead(Model):
    reason: str
    address: str
    contact: str


# The files answering one document requirement: references returned by POST /api/files.
FileRefs = Annotated[list[Annotated[str, Field(pattern=r"^file:[1-9][0-9]{0,9}$")]], Field(max_length=30)]


class CaseCreate(Model):
    process_key: str = Field(min_length=1, max_length=120)
    data: dict[str, Any] = Field(default_factory=dict)
    channel: Channel = "daring"
    applicant_username: str | None = Field(
        default=None, max_length=120,
        description="front office only: the applicant's account when filing on their behalf (walk-in)")
    documents: dict[Annotated[str, Field(pattern=r"^[a-z0-9_]{1,64}$")], FileRefs] = Field(
        default_factory=dict, max_length=30,
        description="the files answering the service's document requirements, by requirement code "
                    "(service.toml `document`); every requirement not marked optional needs one")
    priority: Priority | None = Field(
        default=None, description="priority service for the applicant: disability, 60 or over, pregnant")
    outreach: OutreachCreate | None = Field(
        default=None, description="jemput bola: ask an officer to visit; only where the service offers it")
    privacy_notice_accepted: bool | None = Field(
        default=None, description="the applicant read and accepted the service's privacy notice "
                                  "(GET /api/processes/{key}/privacy-notice); required: without it the filing is a 422")


class BundleItem(Model):
    process_key: str = Field(min_length=1, max_length=120)
    data: dict[str, Any] = Field(default_factory=dict)
    documents: dict[Annotated[str, Field(pattern=r"^[a-z0-9_]{1,64}$")], FileRefs] = Field(
        default_factory=dict, max_length=30,
        description="this service's requirement documents by code (as in POST /api/cases); a file two services "
                    "ask for may be given to both")


class BundleCreate(Model):
    services: list[BundleItem] = Field(min_length=2, max_length=10)
    channel: Channel = "terpadu"
    applicant_username: str | None = Field(default=None, max_length=120)
    privacy_notice_accepted: bool | None = Field(
        default=None, description="the applicant accepted the privacy notice of every service in the bundle")
    priority: Priority | None = Field(
        default=None, description="priority service for the applicant, on every case of the bundle")
    outreach: OutreachCreate | None = Field(
        default=None, description="jemput bola: ask an officer to visit; at least one service of the bundle must "
                                  "offer it to the reason's group, and the request goes onto each case whose "
                                  "service does")


class MessageCreate(Model):
    name: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_.-]{0,119}$")
    payload: dict[str, Any] = Field(default_factory=dict)


class CaseCreated(Model):
    id: int
    tracking_number: str
    pin: str = Field(description="shown once: the applicant needs it to track the case")
    status: str
    stage: str
    next_tasks: list[NextTaskRead] = Field(default_factory=list, description=(
        "the case's open tasks the caller may work on now (the filer of a walk-in case acts for the applicant)"))


class CaseRead(Model):
    id: int
    tracking_number: str
    process_key: str
    process_version: int
    status: str
    stage_id: str
    stage_en: str
    outcome: str | None
    channel: str
    applicant_id: int | None
    filed_by_id: int | None
    created_at: datetime
    updated_at: datetime
    due_at: datetime | None
    completed_at: datetime | None
    data: dict[str, Any]
    open_tasks: list[TaskRead]
    priority: str | None = None
    outreach: OutreachRead | None = None


class CaseSummary(Model):
    id: int
    tracking_number: str
    process_key: str
    status: str
    stage_id: str
    stage_en: str
    channel: str
    created_at: datetime
    due_at: datetime | None
    priority: str | None = None


class CasePage(Model):
    items: list[CaseSummary]
    total: int = Field(description="exact up to 1000 (engine/cases/listing.TOTAL_CAP); 1001 means more")
    total_capped: bool = Field(False, description="more than 1000 cases match: page on to a short page")
    limit: int
    offset: int


class EventRead(Model):
    id: int
    at: datetime
    actor: str
    action: str
    task_id: str | None
    element_id: str | None
    label: str | None
    diff: dict[str, Any] | None


class CaseCancel(Model):
    reason: str = Field(min_length=3, max_length=255)


class BundleCreated(Model):
    id: int
    tracking_number: str
    pin: str
    cases: list[CaseCreated]


class CaseStatusRead(Model):
    id: int
    status: str


class TimelineEntry(Model):
    at: datetime
    event: str
    label_id: str
    label_en: str


class TrackPart(Model):
    service: Text
    status: str
    stage_id: str
    stage_en: str
    held_by: list[str]
    expected_completion: date | None


class TrackRead(Model):
    tracking_number: str
    service: Text
    status: str
    stage_id: str
    stage_en: str
    held_by: list[str] = Field(description="agencies holding the case now (never a person)")
    expected_completion: date | None
    timeline: list[TimelineEntry]
    parts: list[TrackPart] = Field(default=[], description="an integrated application: each service's status")
