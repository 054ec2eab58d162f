"""Shapes of cases, integrated applications (bundles), messages and public tracking."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import Field

from api.schemas.common import Channel, Model, Text
from api.schemas.tasks import TaskRead


class CaseCreate(Model):
    process_key: str = Field(min_length=1, max_length=120)
    data: dict[str, Any] = Field(default_factory=dict)
    channel: Channel = "daring"
    applicant_username: str | None = Field(
        default=None, max_length=120,
        description="front office only: the applicant's account when filing on their behalf (walk-in)")


class BundleItem(Model):
    process_key: str = Field(min_length=1, max_length=120)
    data: dict[str, Any] = Field(default_factory=dict)


class BundleCreate(Model):
    services: list[BundleItem] = Field(min_length=2, max_length=10)
    channel: Channel = "terpadu"
    applicant_username: str | None = Field(default=None, max_length=120)


class MessageCreate(Model):
    name: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_.-]{0,119}$")
    payload: dict[str, Any] = Field(default_factory=dict)


class CaseCreated(Model):
    id: int
    tracking_number: str
    pin: str = Field(description="shown once: the applicant needs it to track the case")
    status: str
    stage: str


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


class CasePage(Model):
    items: list[CaseSummary]
    total: int
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
