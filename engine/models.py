"""Database tables: directory, process versions, cases, their state, read models, jobs."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from engine.db import Base, UtcDateTime
from engine.privacy.column import SealedJSON, SealedString


def utcnow() -> datetime:
    """Return the current time, timezone-aware in UTC."""
    return datetime.now(UTC)


class Agency(Base):
    """An organisation: a city office, a vertical agency, a state company or a private provider."""

    __tablename__ = "agency"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(32), default="city_office")
    name_id: Mapped[str] = mapped_column(String(255))
    name_en: Mapped[str] = mapped_column(String(255))
    # A private firm belongs to a marketplace agency (e.g. konsultan_griya -> konsultan).
    parent_code: Mapped[str | None] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Role(Base):
    """A role inside an agency, `agency.role`, that lanes route user tasks to."""

    __tablename__ = "role"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(130), unique=True)
    agency_code: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class User(Base):
    """A person: admin, analyst, officer or applicant."""

    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(120), unique=True)
    display_name: Mapped[str] = mapped_column(String(255), default="")
    email: Mapped[str | None] = mapped_column(String(255))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    platform_role: Mapped[str] = mapped_column(String(16), default="applicant")
    language: Mapped[str] = mapped_column(String(5), default="id")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Every session cookie and API token carries the epoch it was issued in and stops working when
    # this moves on: logout, a password change and deactivation bump it.
    session_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Membership(Base):
    """A user holds a role within one organisation (the role's agency, or a marketplace firm)."""

    __tablename__ = "membership"
    __table_args__ = (UniqueConstraint("user_id", "role_key", "organisation_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    role_key: Mapped[str] = mapped_column(String(130), index=True)
    organisation_code: Mapped[str] = mapped_column(String(64))


class ProcessVersion(Base):
    """Version N of a process key: one deployed package, immutable."""

    __tablename__ = "process_version"
    __table_args__ = (
        UniqueConstraint("key", "version"),
        Index("ix_process_version_key_hash", "key", "content_hash"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(120))
    version: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(64))
    service: Mapped[dict[str, Any]] = mapped_column(JSON)
    roles: Mapped[list[str]] = mapped_column(JSON)
    deployed_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    deployed_by: Mapped[str] = mapped_column(String(120), default="system")


class ProcessFile(Base):
    """One file of a deployed package version."""

    __tablename__ = "process_file"

    version_id: Mapped[int] = mapped_column(ForeignKey("process_version.id", ondelete="CASCADE"), primary_key=True)
    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    content: Mapped[bytes] = mapped_column(LargeBinary)


class RetiredProcess(Base):
    """A process key withdrawn from the catalogue: no new applications, running cases finish."""

    __tablename__ = "retired_process"

    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    retired_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    retired_by: Mapped[str] = mapped_column(String(120))
    reason: Mapped[str] = mapped_column(Text, default="")


class PackageDraft(Base):
    """A package being edited in the studio: not a version, changed in place, shared by its agency.

    `revision` counts saves. A save names the revision the editor loaded; when the file was changed
    after it (another analyst saved it), the save is a conflict, never a silent overwrite.
    """

    __tablename__ = "package_draft"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(120), unique=True)  # one draft per service
    agency: Mapped[str] = mapped_column(String(64), index=True)
    title: Mapped[str] = mapped_column(String(255), default="")
    base_version: Mapped[int | None] = mapped_column(Integer)  # the version it was copied from, if any
    revision: Mapped[int] = mapped_column(Integer, default=1)
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(120))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class DraftFile(Base):
    """One file of a draft, by package path."""

    __tablename__ = "draft_file"

    draft_id: Mapped[int] = mapped_column(ForeignKey("package_draft.id", ondelete="CASCADE"), primary_key=True)
    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    revision: Mapped[int] = mapped_column(Integer)  # the draft's revision when this file last changed
    updated_by: Mapped[str] = mapped_column(String(120))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Bundle(Base):
    """An integrated one-stop application: several cases under one tracking number and PIN."""

    __tablename__ = "bundle"

    id: Mapped[int] = mapped_column(primary_key=True)
    tracking_number: Mapped[str] = mapped_column(String(16), unique=True)
    pin_hash: Mapped[str] = mapped_column(String(128))
    applicant_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    filed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    channel: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Case(Base):
    """One application: a running (or finished) instance of a process version."""

    __tablename__ = "case_record"
    __table_args__ = (
        # A service's cases by status, newest first (the staff case search; its count stops after a page's worth).
        Index("ix_case_record_status_process_id", "status", "process_key", "id"),
        # Walk-in cases an officer filed: the inbox's own-cases condition and the staff case search.
        Index("ix_case_record_filed_by_applicant", "filed_by_id", "applicant_id"),
        # The officer's case list walks each source of their cases newest first (engine/cases/listing.py).
        Index("ix_case_record_filed_by_id", "filed_by_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tracking_number: Mapped[str] = mapped_column(String(16), unique=True)
    pin_hash: Mapped[str] = mapped_column(String(128))
    process_key: Mapped[str] = mapped_column(String(120))
    process_version_id: Mapped[int] = mapped_column(ForeignKey("process_version.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="running")
    stage_id: Mapped[str] = mapped_column(String(255), default="")
    stage_en: Mapped[str] = mapped_column(String(255), default="")
    outcome: Mapped[str | None] = mapped_column(String(120))
    channel: Mapped[str] = mapped_column(String(16))
    applicant_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    filed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    bundle_id: Mapped[int | None] = mapped_column(ForeignKey("bundle.id"), index=True)
    # Sensitive fields hold sealed `enc:1:` values, opened as the row is read (engine.privacy).
    data: Mapped[dict[str, Any]] = mapped_column(SealedJSON, default=dict)
    # Workflow-level state (not tasks); small and rewritten each step.
    wf_meta: Mapped[str] = mapped_column(Text, default="{}")
    serializer_version: Mapped[str] = mapped_column(String(8))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    due_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # The SLA clock (engine/sla/clock.py): stopped since when (None: running), and the service
    # hours it has stood still so far; due_at moves forward by each pause when it ends.
    sla_paused_since: Mapped[datetime | None] = mapped_column(UtcDateTime)
    sla_paused_s: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Priority service and a jemput bola request (engine/cases/priority.py); NULL when not asked.
    priority: Mapped[str | None] = mapped_column(String(16))
    outreach_for: Mapped[str | None] = mapped_column(String(16))
    outreach_address: Mapped[str | None] = mapped_column(String(500))
    outreach_contact: Mapped[str | None] = mapped_column(String(120))
    # When the retention job removed its personal data (engine/privacy/retention.py); NULL: still whole.
    anonymised_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class CaseState(Base):
    """One SpiffWorkflow task of a case, serialized; only changed rows are written per step."""

    __tablename__ = "case_state"

    case_id: Mapped[int] = mapped_column(ForeignKey("case_record.id", ondelete="CASCADE"), primary_key=True)
    task_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    owner: Mapped[str] = mapped_column(String(36), default="")
    # Creation order: tasks are restored in it, parents before children, as they were made.
    seq: Mapped[int] = mapped_column(Integer)
    payload: Mapped[str] = mapped_column(Text)


class OpenTask(Base):
    """Read model: one row per open user task, for inboxes and tracking."""

    __tablename__ = "task"
    __table_args__ = (
        # The inbox walks a role's (or a supervisor's escalated) tasks in its order (engine/cases/inbox.py);
        # bound_org and assignee_id let it filter and count a role's tasks from the index alone.
        Index("ix_task_role_order", "role", "due_at", "created_at", "id", "bound_org", "assignee_id"),
        # Partial (escalated_to, assignee_id below): most tasks have none, and every query on these indexes asks for
        # one (`= ?`), which implies IS NOT NULL. Leaving the NULL rows out keeps a step's task writes off them
        # (migration 0028).
        Index("ix_task_escalated_order", "escalated_to", "due_at", "created_at", "id",
              sqlite_where=text("escalated_to IS NOT NULL"), postgresql_where=text("escalated_to IS NOT NULL")),
        # The officers' web inbox (engine/cases/worklist.py) walks the same lanes, and a supervisor's agencies,
        # priority cases first: `prioritized` copies whether the task's case has priority service.
        Index("ix_task_role_priority", "role", "prioritized", "due_at", "created_at", "id", "bound_org",
              "assignee_id"),
        # Partial: few tasks are escalated, and a plan that trusts `escalated_to = ?` needs statistics of those few.
        Index("ix_task_escalated_priority", "escalated_to", "prioritized", "due_at", "created_at", "id",
              sqlite_where=text("escalated_to IS NOT NULL"), postgresql_where=text("escalated_to IS NOT NULL")),
        Index("ix_task_agency_priority", "agency", "prioritized", "due_at", "created_at", "id"),
        # Its step filter lists a role's (an agency's) steps with open tasks, one index seek per step.
        Index("ix_task_role_step", "role", "process_key", "element_id", "name"),
        Index("ix_task_agency_step", "agency", "process_key", "element_id", "name"),
        Index("ix_task_assignee", "assignee_id",
              sqlite_where=text("assignee_id IS NOT NULL"), postgresql_where=text("assignee_id IS NOT NULL")),
        Index("ix_task_role_case", "role", "case_id"),
        Index("ix_task_escalated_case", "escalated_to", "case_id",
              sqlite_where=text("escalated_to IS NOT NULL"), postgresql_where=text("escalated_to IS NOT NULL")),
        Index("ix_task_agency_case", "agency", "case_id"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_record.id", ondelete="CASCADE"), index=True)
    process_key: Mapped[str] = mapped_column(String(120))
    element_id: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(255))
    lane: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(130))
    agency: Mapped[str] = mapped_column(String(64))
    bound_org: Mapped[str | None] = mapped_column(String(64))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    claimed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    due_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    overdue: Mapped[bool] = mapped_column(Boolean, default=False)
    # Set once by the overdue scan: the supervisor role (`agency.supervisor`) that may now take it too.
    escalated_to: Mapped[str | None] = mapped_column(String(130))
    escalated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # Whether the case has priority service (`case_record.priority`), copied when the row is written
    # (engine/cases/hotsql.py task_insert): the web inbox sorts priority cases first from an index.
    prioritized: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class TaskFeed(Base):
    """Change log of open tasks, written by database triggers (migration 0026): the task feed's source.

    One row per task opened, claimed, released, reassigned, escalated or closed, with the columns
    that decide who could see it. `tx` is the writing transaction's id on PostgreSQL (0 on SQLite,
    whose writers take turns), so `(tx, seq)` orders rows as they commit (engine/cases/feed.py).
    """

    __tablename__ = "task_feed"
    __table_args__ = (Index("ix_task_feed_tx_seq", "tx", "seq"), {"sqlite_autoincrement": True})

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tx: Mapped[int] = mapped_column(BigInteger, default=0)
    task_id: Mapped[str] = mapped_column(String(36))
    case_id: Mapped[int] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(String(130))
    bound_org: Mapped[str | None] = mapped_column(String(64))
    escalated_to: Mapped[str | None] = mapped_column(String(130))


class TaskSpan(Base):
    """Read model: a user task that left the open-task table, with when it opened, was claimed and closed."""

    __tablename__ = "task_span"
    __table_args__ = (
        Index("ix_task_span_process_closed", "process_key", "closed_at"),
        Index("ix_task_span_agency_closed", "agency", "closed_at"),
        Index("ix_task_span_agency_case", "agency", "case_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[str] = mapped_column(String(36))
    case_id: Mapped[int] = mapped_column(ForeignKey("case_record.id", ondelete="CASCADE"), index=True)
    process_key: Mapped[str] = mapped_column(String(120))
    element_id: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(130))
    agency: Mapped[str] = mapped_column(String(64))
    bound_org: Mapped[str | None] = mapped_column(String(64))
    assignee_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    claimed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    closed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    due_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # False when the task went away without being completed (a boundary timer, a cancelled case).
    completed: Mapped[bool] = mapped_column(Boolean, default=True)
    escalated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class SurveyResponse(Base):
    """One respondent's answers to the satisfaction survey (SKM): nine scores 1-4 and the profile.

    Online answers belong to one completed case (once per case); kiosk answers may name no case.
    """

    __tablename__ = "survey_response"
    __table_args__ = (Index("ix_survey_response_process_submitted", "process_key", "submitted_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case_record.id", ondelete="CASCADE"), unique=True)
    process_key: Mapped[str] = mapped_column(String(120))
    u1: Mapped[int] = mapped_column(Integer)
    u2: Mapped[int] = mapped_column(Integer)
    u3: Mapped[int] = mapped_column(Integer)
    u4: Mapped[int] = mapped_column(Integer)
    u5: Mapped[int] = mapped_column(Integer)
    u6: Mapped[int] = mapped_column(Integer)
    u7: Mapped[int] = mapped_column(Integer)
    u8: Mapped[int] = mapped_column(Integer)
    u9: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(5), default="id")
    submitted_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    # The respondent profile as category codes (engine/sla/survey.py PROFILE); None: not asked.
    gender: Mapped[str | None] = mapped_column(String(8))
    age_group: Mapped[str | None] = mapped_column(String(8))
    education: Mapped[str | None] = mapped_column(String(8))
    occupation: Mapped[str | None] = mapped_column(String(12))
    channel: Mapped[str] = mapped_column(String(8), default="daring", server_default="daring")


class CaseEvent(Base):
    """Append-only history of a case: who did what, when, with which data change."""

    __tablename__ = "case_event"
    # The cases an officer acted on (staff case search).
    __table_args__ = (Index("ix_case_event_actor_case", "actor", "case_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_record.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(32))
    task_id: Mapped[str | None] = mapped_column(String(36))
    element_id: Mapped[str | None] = mapped_column(String(255))
    label: Mapped[str | None] = mapped_column(String(255))
    diff: Mapped[dict[str, Any] | None] = mapped_column(SealedJSON)


class CaseLookup(Base):
    """A keyed hash (HMAC-SHA256) of a case's NIK-like field: search by the full number while it is sealed."""

    __tablename__ = "case_lookup"

    case_id: Mapped[int] = mapped_column(ForeignKey("case_record.id", ondelete="CASCADE"), primary_key=True)
    field: Mapped[str] = mapped_column(String(120), primary_key=True)
    hash: Mapped[str] = mapped_column(String(64), index=True)


class PersonalDataAccess(Base):
    """One view of a case's personal data in full: who, when, how and from where (engine/privacy/access.py)."""

    __tablename__ = "personal_data_access"
    # The data-protection officer's page reads by date, by officer and by agency.
    __table_args__ = (Index("ix_personal_data_access_at", "at"),
                      Index("ix_personal_data_access_user_at", "user_id", "at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_record.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    username: Mapped[str] = mapped_column(String(120))
    how: Mapped[str] = mapped_column(String(16))  # task | reveal | file | api
    task_id: Mapped[str | None] = mapped_column(String(36))
    file_id: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[str | None] = mapped_column(String(500))
    # The role and agency the officer acted in (shown to the applicant instead of the officer's name).
    role: Mapped[str | None] = mapped_column(String(130))
    agency: Mapped[str | None] = mapped_column(String(64), index=True)
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(255))


class Job(Base):
    """A due piece of work: a BPMN timer, an overdue scan, a retry."""

    __tablename__ = "job"
    __table_args__ = (
        Index("ix_job_status_due", "status", "due_at"),
        UniqueConstraint("kind", "case_id", "task_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case_record.id", ondelete="CASCADE"), index=True)
    task_id: Mapped[str | None] = mapped_column(String(36))
    due_at: Mapped[datetime] = mapped_column(UtcDateTime)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_by: Mapped[str | None] = mapped_column(String(120))
    locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    # Outbound call parameters and messages: sensitive values sealed (engine.privacy), opened on read.
    payload: Mapped[dict[str, Any] | None] = mapped_column(SealedJSON)
    # A message job's address, "bundle:<id>:<name>": parked messages wait here for a receiver.
    topic: Mapped[str | None] = mapped_column(String(160), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Incident(Base):
    """A script or engine failure on a case, kept until an operator retries it."""

    __tablename__ = "incident"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_record.id", ondelete="CASCADE"), index=True)
    element_id: Mapped[str] = mapped_column(String(255))
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class AuditEntry(Base):
    """Append-only log of administrative changes (directory, deployments) with their actor."""

    __tablename__ = "audit_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(255))
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class StoredFile(Base):
    """One upload or issued document in the content-addressed file store (bytes live on disk by sha256)."""

    __tablename__ = "stored_file"

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case_record.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class IssuedDocument(Base):
    """The product of a case (a permit, a certificate): its signed PDF and the facts the public may verify."""

    __tablename__ = "issued_document"

    id: Mapped[int] = mapped_column(primary_key=True)
    # One product per case: a re-run job finds the row and issues nothing more.
    case_id: Mapped[int] = mapped_column(ForeignKey("case_record.id", ondelete="CASCADE"), unique=True)
    process_key: Mapped[str] = mapped_column(String(120), index=True)
    title_id: Mapped[str] = mapped_column(String(255))
    title_en: Mapped[str] = mapped_column(String(255))
    number: Mapped[str] = mapped_column(String(120))
    # Sealed (engine.privacy) when the holder field is sensitive, e.g. a newborn's name; opened on read.
    holder: Mapped[str] = mapped_column(SealedString(255, field="holder"), default="")
    # Facts of sensitive fields hold sealed values (engine.privacy), opened on read.
    facts: Mapped[dict[str, Any]] = mapped_column(SealedJSON, default=dict)
    file_id: Mapped[int] = mapped_column(ForeignKey("stored_file.id"))
    sha256: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str] = mapped_column(Text)
    key_id: Mapped[str] = mapped_column(String(64))
    verify_code: Mapped[str] = mapped_column(String(32), unique=True)
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revoke_reason: Mapped[str | None] = mapped_column(Text)
    revoked_by: Mapped[str | None] = mapped_column(String(120))


class DocumentNumber(Base):
    """A number the platform gave a case's document from its service's `number_format` (a register).

    One per case; (process_key, year, seq) is unique, so two signings never share a number: the
    loser of a race gets an integrity error and draws again (engine/documents/numbering.py).
    """

    __tablename__ = "document_number"
    __table_args__ = (UniqueConstraint("process_key", "year", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_record.id", ondelete="CASCADE"), unique=True)
    process_key: Mapped[str] = mapped_column(String(120))
    # The sequence's year (WIB); 0 for a format without a year, whose sequence never restarts.
    year: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(Integer)
    number: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class WebhookSubscription(Base):
    """A partner system's subscription to an agency's case events, delivered as signed POSTs."""

    __tablename__ = "webhook_subscription"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_code: Mapped[str] = mapped_column(String(64), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    # The shared signing secret must be readable to sign, so it is sealed (encrypted) with a key
    # derived from MPP_SECRET_KEY rather than hashed; the API shows it once.
    secret_sealed: Mapped[str] = mapped_column(Text)
    secret_hint: Mapped[str] = mapped_column(String(8))
    events: Mapped[list[str]] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class ConnectorBinding(Base):
    """Where an admin points a partner system's calls: base URL and credential, per agency and environment.

    A package names only the system and the path; the host comes from here, so calls reach only
    bound hosts. `agency` "" binds the system for every agency; an agency's own binding wins.
    The credential is sealed (engine.crypto) and never shown back.
    """

    __tablename__ = "connector_binding"
    __table_args__ = (UniqueConstraint("system", "agency", "environment"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    system: Mapped[str] = mapped_column(String(64))
    agency: Mapped[str] = mapped_column(String(64), default="", server_default="")
    environment: Mapped[str] = mapped_column(String(32), default="default")
    base_url: Mapped[str] = mapped_column(String(2000))
    auth_kind: Mapped[str] = mapped_column(String(16), default="none")  # none | bearer | header
    auth_header: Mapped[str | None] = mapped_column(String(120))
    secret_sealed: Mapped[str | None] = mapped_column(Text)
    updated_by: Mapped[str] = mapped_column(String(120))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class ConnectorCall(Base):
    """One attempt of an outbound call: its operation, outcome, HTTP status and duration.

    Never a body or a secret: `detail` is a short reason (at most 300 characters) for the operator.
    """

    __tablename__ = "connector_call"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case_record.id", ondelete="CASCADE"), index=True)
    job_id: Mapped[int | None] = mapped_column(Integer)
    operation: Mapped[str] = mapped_column(String(120))
    system: Mapped[str | None] = mapped_column(String(64))  # None: a built-in adapter
    attempt: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(8))  # ok, retry, refused, failed
    http_status: Mapped[int | None] = mapped_column(Integer)
    duration_ms: Mapped[int] = mapped_column(Integer)
    detail: Mapped[str] = mapped_column(String(300), default="")
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)


class Notification(Base):
    """One delivery of one case event: an e-mail to a person or a POST to a webhook subscription."""

    __tablename__ = "notification"

    id: Mapped[int] = mapped_column(primary_key=True)
    uid: Mapped[str] = mapped_column(String(36), unique=True)
    event_id: Mapped[str] = mapped_column(String(36), index=True)
    event: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(16))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case_record.id", ondelete="CASCADE"), index=True)
    subscription_id: Mapped[int | None] = mapped_column(
        ForeignKey("webhook_subscription.id", ondelete="CASCADE"), index=True)
    recipient: Mapped[str] = mapped_column(String(2000))
    language: Mapped[str] = mapped_column(String(5), default="id")
    context: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class NotificationAttempt(Base):
    """One try at delivering a notification: sent, skipped or failed, with the reason."""

    __tablename__ = "notification_attempt"

    id: Mapped[int] = mapped_column(primary_key=True)
    notification_id: Mapped[int] = mapped_column(ForeignKey("notification.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    outcome: Mapped[str] = mapped_column(String(16))
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)


class RateLimit(Base):
    """A counter of attempts under one key (a client, a tracking number, a username at a client).

    Shared by every API process and kept across restarts (web/ratelimit.py). Times are Unix
    seconds, so the one counting statement does the same arithmetic on SQLite and PostgreSQL.
    """

    __tablename__ = "rate_limit"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    hits: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[int] = mapped_column(BigInteger, index=True)
    not_before: Mapped[int] = mapped_column(BigInteger, default=0)


class Bill(Base):
    """A bill a case issued (a retribution, a fee): its amount, due date, payment channel and status.

    Money is whole rupiah in an integer; a bank's amount with cents is compared after conversion.
    """

    __tablename__ = "bill"
    __table_args__ = (Index("ix_bill_status_due", "status", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_record.id", ondelete="CASCADE"), index=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    due_at: Mapped[datetime] = mapped_column(UtcDateTime)
    status: Mapped[str] = mapped_column(String(16), default="open")
    channel: Mapped[str] = mapped_column(String(8), default="va")
    va_number: Mapped[str | None] = mapped_column(String(40), unique=True)
    qris_payload: Mapped[str | None] = mapped_column(Text)
    paid_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    paid_amount: Mapped[int | None] = mapped_column(BigInteger)
    # The bank's paymentRequestId: one payment pays one bill once.
    bank_reference: Mapped[str | None] = mapped_column(String(128), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class PaymentEvent(Base):
    """Append-only log of what happened to bills: created, notified, duplicate, refused, expired."""

    __tablename__ = "payment_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    bill_id: Mapped[int | None] = mapped_column(ForeignKey("bill.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    # The bank's X-EXTERNAL-ID: unique per day, so a replayed notification is recognised.
    external_id: Mapped[str | None] = mapped_column(String(64), index=True)
    detail: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)


class Complaint(Base):
    """A complaint case (service `pengaduan`) and what it is about: a service, and a case when filed from tracking.

    The answer stays in the complaint case's data; this row holds what routing and the public pages need.
    """

    __tablename__ = "complaint"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_record.id", ondelete="CASCADE"), unique=True)
    about_case_id: Mapped[int | None] = mapped_column(ForeignKey("case_record.id", ondelete="SET NULL"), index=True)
    service_key: Mapped[str] = mapped_column(String(120), index=True)
    agency: Mapped[str] = mapped_column(String(64))  # the agency it was filed to (the service's publisher)
    confidential: Mapped[bool] = mapped_column(Boolean, default=False)
    # A confidential complainant's name: kept out of the case data the agency's officers read.
    complainant_name: Mapped[str | None] = mapped_column(String(200))
    response_days: Mapped[int] = mapped_column(Integer)
    due_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class QueueBooth(Base):
    """An agency's booth in the hall: its ticket prefix and its visit slots (length and places per slot)."""

    __tablename__ = "queue_booth"

    agency: Mapped[str] = mapped_column(String(64), primary_key=True)
    prefix: Mapped[str] = mapped_column(String(4))
    slot_minutes: Mapped[int] = mapped_column(Integer, default=30)
    capacity: Mapped[int] = mapped_column(Integer, default=4)  # bookings per slot at the counters
    drive_thru_capacity: Mapped[int] = mapped_column(Integer, default=0)  # per slot at the drive-thru lane


class QueueCounter(Base):
    """A numbered counter (loket) of an agency's booth: the services it serves (none listed: all of them)."""

    __tablename__ = "queue_counter"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    agency: Mapped[str] = mapped_column(String(64), index=True)
    services: Mapped[list[str]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # The ticket at the counter now (no foreign key: the two tables would point at each other).
    # Claimed with a conditional update, so two officers at one counter cannot call two tickets.
    current_ticket_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class QueueBooking(Base):
    """A visit slot an applicant booked: its code, service, slot start and channel (counter or drive-thru).

    `place` is the booking's place in its slot (1..capacity), unique per slot: two applicants racing
    for the last place cannot both get it. A cancelled booking gives its place back (NULL).
    """

    __tablename__ = "queue_booking"
    __table_args__ = (UniqueConstraint("agency", "starts_at", "channel", "place"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(12), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    agency: Mapped[str] = mapped_column(String(64))
    service_key: Mapped[str] = mapped_column(String(120))
    starts_at: Mapped[datetime] = mapped_column(UtcDateTime)
    channel: Mapped[str] = mapped_column(String(16))  # tatap_muka | drive_thru
    place: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="booked")  # booked | checked_in | cancelled
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class QueueTicket(Base):
    """A numbered ticket taken at the kiosk: whose queue, why first (priority, booking), and its calls.

    Numbers restart every day per prefix; (day, prefix, seq) is unique, so two kiosks cannot print
    the same number (engine/queue/numbers.py draws again on a lost race).
    """

    __tablename__ = "queue_ticket"
    __table_args__ = (UniqueConstraint("day", "prefix", "seq"), Index("ix_queue_ticket_day_agency", "day", "agency"))

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(32), unique=True)  # the ticket page's address
    day: Mapped[date] = mapped_column(Date)  # the day in WIB
    prefix: Mapped[str] = mapped_column(String(4))
    seq: Mapped[int] = mapped_column(Integer)
    number: Mapped[str] = mapped_column(String(16))
    agency: Mapped[str] = mapped_column(String(64))  # the queue it waits in (changes on a transfer)
    service_key: Mapped[str | None] = mapped_column(String(120))
    priority: Mapped[str | None] = mapped_column(String(16))  # engine.cases.priority.PRIORITY key
    # waiting | called | serving | done | no_show | cancelled
    status: Mapped[str] = mapped_column(String(16), default="waiting")
    taken_at: Mapped[datetime] = mapped_column(UtcDateTime)
    slot_at: Mapped[datetime | None] = mapped_column(UtcDateTime)  # a booking's slot: called first from then on
    called_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    calls: Mapped[int] = mapped_column(Integer, default=0)
    counter_id: Mapped[int | None] = mapped_column(ForeignKey("queue_counter.id", ondelete="SET NULL"))
    served_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    transferred_from: Mapped[str | None] = mapped_column(String(64))
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("queue_booking.id", ondelete="SET NULL"), unique=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case_record.id", ondelete="SET NULL"))


class WorkingCalendarRow(Base):
    """The working calendar's one row: weekly service hours and a revision that changes with every edit."""

    __tablename__ = "working_calendar"

    id: Mapped[int] = mapped_column(primary_key=True)  # always 1
    revision: Mapped[int] = mapped_column(Integer, default=1)
    week: Mapped[list[Any]] = mapped_column(JSON)  # engine.sla.hours.week_to_json
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_by: Mapped[str | None] = mapped_column(String(64))


class CalendarHoliday(Base):
    """A national holiday or cuti bersama day: offices are closed."""

    __tablename__ = "calendar_holiday"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(16))  # national | cuti_bersama
    provisional: Mapped[bool] = mapped_column(Boolean, default=False)  # the year's list is an estimate
    source: Mapped[str] = mapped_column(String(16), default="bundled")  # bundled | import | admin


class CalendarHoursRange(Base):
    """Special service hours for a date range (Ramadan)."""

    __tablename__ = "calendar_hours_range"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    starts: Mapped[date] = mapped_column(Date)
    ends: Mapped[date] = mapped_column(Date)
    week: Mapped[list[Any]] = mapped_column(JSON)


class SlaPause(Base):
    """One stretch of time a case's SLA clock stood still, and why (the applicant's turn, a bill, a marked stage)."""

    __tablename__ = "sla_pause"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_record.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str] = mapped_column(String(16))  # applicant | payment | marked
    element_id: Mapped[str | None] = mapped_column(String(255))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    paused_s: Mapped[int | None] = mapped_column(Integer)  # service hours paused, in seconds, once ended


class LegalHold(Base):
    """A legal hold on a case: while not lifted, the retention job leaves the case whole (docs/privacy.md)."""

    __tablename__ = "legal_hold"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_record.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    placed_by: Mapped[str] = mapped_column(String(120))
    placed_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    lifted_by: Mapped[str | None] = mapped_column(String(120))
    lifted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    lift_reason: Mapped[str | None] = mapped_column(Text)


class PrivacyNotice(Base):
    """One wording of a service's privacy notice, stored once by the hash of its text."""

    __tablename__ = "privacy_notice"

    id: Mapped[int] = mapped_column(primary_key=True)
    text_hash: Mapped[str] = mapped_column(String(64), unique=True)
    process_key: Mapped[str] = mapped_column(String(120))
    text_id: Mapped[str] = mapped_column(Text)
    text_en: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class NoticeAcceptance(Base):
    """The privacy notice the applicant accepted when a case was filed, with when and through which channel."""

    __tablename__ = "notice_acceptance"

    case_id: Mapped[int] = mapped_column(ForeignKey("case_record.id", ondelete="CASCADE"), primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("privacy_notice.id"), index=True)
    accepted_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    accepted_by: Mapped[str] = mapped_column(String(120))
    channel: Mapped[str] = mapped_column(String(16))
