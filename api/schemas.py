"""Request and response shapes of the JSON API (the OpenAPI document is generated from these)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Channel = Literal["tatap_muka", "drive_thru", "terpadu", "daring"]
PlatformRole = Literal["admin", "analyst", "officer", "applicant"]
AgencyKind = Literal["city_office", "vertical", "state_company", "private"]


class Model(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class TokenRead(Model):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the OAuth2 token type, not a secret
    expires_in: int = Field(description="seconds until the token expires")


class MeRead(Model):
    id: int
    username: str
    display_name: str
    platform_role: str
    language: str
    memberships: list[MembershipPair]


class MembershipPair(Model):
    role: str
    organisation: str


class Text(Model):
    id: str = ""
    en: str = ""


class ProcessRead(Model):
    key: str
    version: int
    agency: str
    name: Text
    description: Text | None = None
    product: Text | None = None
    fee: Text | None = None
    sla_days: int | None = None
    channels: list[str]
    requirements: list[Text] = []
    deployed_at: datetime
    running_cases: int | None = None


class ProcessVersionRead(Model):
    version: int
    content_hash: str
    deployed_at: datetime
    deployed_by: str
    roles: list[str]
    files: list[str]


class ProcessDetailRead(Model):
    key: str
    latest: ProcessRead
    versions: list[ProcessVersionRead]


class ProblemItem(Model):
    file: str
    element_id: str | None
    element_name: str = ""
    message: str
    message_id: str = ""
    severity: str


class LintRead(Model):
    ok: bool
    problems: list[ProblemItem]


class DeployRead(Model):
    key: str
    version: int
    created: bool
    new_roles: list[str]
    warnings: list[str]


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


class TaskRead(Model):
    id: str
    case_id: int
    process_key: str
    element_id: str
    name: str
    lane: str | None
    role: str
    agency: str
    bound_org: str | None
    assignee_id: int | None
    claimed_at: datetime | None
    created_at: datetime
    due_at: datetime | None
    overdue: bool
    escalated_to: str | None = Field(default=None, description="the supervisor role an overdue task went to")
    escalated_at: datetime | None = None


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


class TaskPage(Model):
    items: list[TaskRead]
    total: int
    limit: int
    offset: int


class TaskDetailRead(Model):
    task: TaskRead
    tracking_number: str
    form_schema: dict[str, Any] | None
    ui_schema: dict[str, Any] | None
    case_data: dict[str, Any]


class TaskComplete(Model):
    data: dict[str, Any] = Field(default_factory=dict)


class TaskCompleted(Model):
    task_id: str
    case_id: int
    case_status: str


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


class AgencyCreate(Model):
    code: str = Field(pattern=r"^[a-z][a-z0-9_]{1,63}$")
    name_id: str = Field(min_length=2, max_length=255)
    name_en: str = Field(default="", max_length=255)
    kind: AgencyKind = "city_office"
    parent_code: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9_]{1,63}$")


class AgencyRead(Model):
    id: int
    code: str
    kind: str
    name_id: str
    name_en: str
    parent_code: str | None


ROLE_KEY = r"^[a-z][a-z0-9_]{0,63}\.[a-z][a-z0-9_]{0,63}$"


class RoleCreate(Model):
    key: str = Field(pattern=ROLE_KEY, max_length=129)
    name: str = Field(default="", max_length=255)


class RoleRead(Model):
    id: int
    key: str
    agency_code: str
    name: str


class UserCreate(Model):
    username: str = Field(pattern=r"^[a-z0-9_.-]{3,120}$")
    password: str = Field(min_length=8, max_length=200)
    platform_role: PlatformRole = "applicant"
    display_name: str = Field(default="", max_length=255)
    email: str | None = Field(default=None, max_length=255)
    language: Literal["id", "en"] = "id"


class UserUpdate(Model):
    display_name: str | None = Field(default=None, max_length=255)
    email: str | None = Field(default=None, max_length=255)
    platform_role: PlatformRole | None = None
    active: bool | None = None
    password: str | None = Field(default=None, min_length=8, max_length=200)
    language: Literal["id", "en"] | None = Field(default=None, description="the language of the user's e-mails")


class UserRead(Model):
    id: int
    username: str
    display_name: str
    email: str | None
    platform_role: str
    language: str
    active: bool


class MembershipCreate(Model):
    role_key: str = Field(pattern=ROLE_KEY, max_length=129)
    organisation_code: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9_]{1,63}$")


class MembershipRead(Model):
    id: int
    user_id: int
    role_key: str
    organisation_code: str


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
