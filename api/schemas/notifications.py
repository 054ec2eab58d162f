"""Shapes of partner webhooks and notification deliveries."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from api.schemas.auth import MeRead
from api.schemas.common import Model

NotifyEvent = Literal["received", "sent_back", "payment_due", "overdue", "result_ready"]


class WebhookCreate(Model):
    agency_code: str = Field(pattern=r"^[a-z][a-z0-9_]{0,63}$", description="the agency whose case events are sent")
    url: str = Field(min_length=8, max_length=2000, description="http(s) address the signed POSTs go to")
    events: list[NotifyEvent] = Field(min_length=1, max_length=5)
    active: bool = True


class WebhookUpdate(Model):
    url: str | None = Field(default=None, min_length=8, max_length=2000)
    events: list[NotifyEvent] | None = Field(default=None, min_length=1, max_length=5)
    active: bool | None = None


class WebhookRead(Model):
    id: int
    agency_code: str
    url: str
    events: list[str]
    active: bool
    secret_hint: str = Field(description="the last 4 characters of the signing secret")
    created_by: str
    created_at: datetime


class WebhookWithSecret(WebhookRead):
    secret: str = Field(description="the signing secret (HMAC-SHA256 key); shown only in this response")


class AttemptRead(Model):
    at: datetime
    outcome: str
    status_code: int | None
    error: str | None


class DeliveryRead(Model):
    id: int
    uid: str
    event_id: str
    event: str
    channel: str
    case_id: int | None
    subscription_id: int | None
    recipient: str
    language: str
    status: str
    attempts: int
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
    attempt_log: list[AttemptRead]


class DeliveryPage(Model):
    items: list[DeliveryRead]
    total: int
    limit: int
    offset: int


MeRead.model_rebuild()
