"""Notifications: case events queued as e-mails to people and signed POSTs to partner systems.

Events (docs/operations.md, docs/bpmn-conventions.md):
- `received`: a case starts;
- `sent_back`: a task opens that the applicant must act on: every user task of the `applicant`
  lane (completing the file, revising, approving), or any user task marked `notify="sent_back"`;
- `payment_due`: a user task marked `notify="payment_due"` opens (a marker, because a form
  cannot tell by itself that it is a payment);
- `overdue`: the overdue scan flags a task (the officers holding its role, or the assignee, or
  the applicant for an applicant task, are told);
- `result_ready`: the case completes.
A task marked `notify="none"` tells nobody when it opens.

Queueing runs inside the step's (or the scan's) own transaction: one `notification` row and
one job per recipient and per subscribed partner, committed with the event itself, so each event
is queued exactly once. Jobs deliver them (engine/notify/delivery.py). The context stored with a
notification is a snapshot of the event (no personal data beyond the recipient's address).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.bpmn import compile as spiff
from engine.bpmn import conventions as conventions
from engine.cases import hotsql as hotsql
from engine.models import Case, Membership, OpenTask, ProcessVersion, User, WebhookSubscription
from engine.runtime import LoadedCase, Runtime

EVENTS = ("received", "sent_back", "payment_due", "overdue", "result_ready")
JOB_KINDS = ("email", "webhook")
LANGUAGES = ("id", "en")


@dataclass(frozen=True)
class Recipient:
    """Where an e-mail goes and in which language it is written."""

    address: str
    language: str


@dataclass(frozen=True)
class Account:
    """The address and language of an applicant's account."""

    email: str | None
    language: str | None


@dataclass(frozen=True)
class StepCase:
    """What a step read of its case for notifications (engine/cases/steps.py reads it with the SLA clock's state)."""

    id: int
    tracking_number: str
    process_key: str
    process_version_id: int
    account: Account | None  # None: the applicant has no account (a walk-in), or the case no applicant
    webhooks: bool  # False: no active webhook subscription exists at all, so none is read


def task_event(meta: spiff.TaskMeta) -> str | None:
    """Return the event a user task's opening raises, from its marker or its lane."""
    if meta.notify in ("sent_back", "payment_due"):
        return meta.notify
    if meta.notify is None and meta.role == conventions.APPLICANT_ROLE:
        return "sent_back"
    return None


def step_events(loaded: LoadedCase, *, ready: list[spiff.ReadyTask], action: str,
                values: dict[str, Any]) -> list[tuple[str, spiff.ReadyTask | None]]:
    """Return the events one step raises, each with the task that raised it (None: the case did)."""
    found: list[tuple[str, spiff.ReadyTask | None]] = [("received", None)] if action == "started" else []
    if values["status"] != "incident":
        found += [(event, task) for task in ready
                  if task.task_id not in loaded.open_before and (event := task_event(task.meta)) is not None]
    if values["status"] == "completed":
        found.append(("result_ready", None))
    return found


def on_step(session: Session, rt: Runtime, loaded: LoadedCase, *, events: list[tuple[str, spiff.ReadyTask | None]],
            case: StepCase, values: dict[str, Any], data: dict[str, Any], batch: hotsql.Batch) -> None:
    """Queue the notifications of one recorded step's events (from `step_events`), written with the step's batch."""
    if not events:
        return
    now = rt.clock()
    service = loaded.compiled.service
    agencies = {str(service.get("agency", ""))} | {r.split(".")[0] for r in loaded.compiled.lane_roles.values()
                                                  if "." in r}
    recipient = recipient_for(case.account, data)
    for event, task in events:
        due = rt.calendar.due_at(now, task.meta.sla_days) if task and task.meta.sla_days else None
        task_part = None if task is None else {"id": task.task_id, "element_id": task.meta.element_id,
                                                "name": task.meta.name, "due_at": _iso(due)}
        context = _context(event, now, case, service, values, task_part)
        queue(session, event=event, context=context, case_id=case.id, agencies=agencies,
              recipients=[recipient] if recipient else [], now=now, webhooks=case.webhooks, batch=batch)


def on_overdue(session: Session, *, task_ids: list[str], now: datetime) -> None:
    """Queue the overdue notices of tasks the scan has just flagged."""
    rows = session.execute(
        select(OpenTask, Case.tracking_number, Case.applicant_id, Case.process_version_id, Case.status,
               Case.stage_id, Case.stage_en, Case.data, ProcessVersion.service, ProcessVersion.roles)
        .join(Case, Case.id == OpenTask.case_id).join(ProcessVersion, ProcessVersion.id == Case.process_version_id)
        .where(OpenTask.id.in_(task_ids)).order_by(OpenTask.case_id)).all()
    for task, number, applicant_id, version_id, status, stage_id, stage_en, data, service, roles in rows:
        if task.role == conventions.APPLICANT_ROLE:
            one = applicant_recipient(session, applicant_id=applicant_id, data=data or {})
            recipients = [one] if one else []
        else:
            recipients = officer_recipients(session, task=task)
        case = _CaseRef(task.case_id, number, task.process_key, version_id)
        values = {"status": status, "stage_id": stage_id, "stage_en": stage_en, "outcome": None}
        task_part = {"id": task.id, "element_id": task.element_id, "name": task.name, "due_at": _iso(task.due_at),
                     "role": task.role}
        agencies = {str(service.get("agency", "")), task.agency} | {r.split(".")[0] for r in roles or [] if "." in r}
        queue(session, event="overdue", context=_context("overdue", now, case, service, values, task_part),
              case_id=task.case_id, agencies=agencies, recipients=recipients, now=now)


@dataclass(frozen=True)
class _CaseRef:
    id: int
    tracking_number: str
    process_key: str
    process_version_id: int


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _context(event: str, now: datetime, case: Any, service: dict[str, Any], values: dict[str, Any],
             task: dict[str, Any] | None) -> dict[str, Any]:
    name = service.get("name") or {}
    return {"event": event, "at": now.isoformat(), "task": task, "case": {
        "id": case.id, "tracking_number": case.tracking_number, "process_key": case.process_key,
        "version_id": case.process_version_id,
        "service": {"id": str(name.get("id", case.process_key)), "en": str(name.get("en", case.process_key))},
        "status": values["status"], "stage": {"id": values["stage_id"], "en": values["stage_en"]},
        "outcome": values.get("outcome")}}


def applicant_recipient(session: Session, *, applicant_id: int | None, data: dict[str, Any]) -> Recipient | None:
    """Return the applicant's address and language: their account first, else the application's data."""
    user = session.get(User, applicant_id) if applicant_id is not None else None
    return recipient_for(Account(user.email, user.language) if user is not None else None, data)


def recipient_for(account: Account | None, data: dict[str, Any]) -> Recipient | None:
    """Return the applicant's address and language from their account, else from the application's data."""
    typed = data.get("email")
    address = (account.email if account is not None else None) or (typed if isinstance(typed, str) else None)
    if not address:
        return None
    # A walk-in applicant has no account: the start form may ask for `language`.
    language = account.language if account is not None else data.get("language")
    return Recipient(address.strip(), language if language in LANGUAGES else "id")


def officer_recipients(session: Session, *, task: OpenTask) -> list[Recipient]:
    """Return who is told that a task is overdue: its assignee, else everyone holding its role there."""
    stmt = select(User).where(User.active.is_(True), User.email.is_not(None))
    if task.assignee_id is not None:
        stmt = stmt.where(User.id == task.assignee_id)
    else:
        held = select(Membership.user_id).where(Membership.role_key == task.role)
        if task.bound_org is not None:
            held = held.where(Membership.organisation_code == task.bound_org)
        stmt = stmt.where(User.id.in_(held))
    users = session.scalars(stmt.order_by(User.id))
    return [Recipient(str(u.email), u.language if u.language in LANGUAGES else "id") for u in users]


def subscriptions_for(session: Session, *, event: str, agencies: set[str]) -> list[WebhookSubscription]:
    """Return the active webhook subscriptions of these agencies that want this event."""
    rows = session.scalars(select(WebhookSubscription).where(
        WebhookSubscription.active.is_(True), WebhookSubscription.agency_code.in_(sorted(agencies)))
        .order_by(WebhookSubscription.id))
    return [row for row in rows if event in (row.events or [])]


def queue(session: Session, *, event: str, context: dict[str, Any], case_id: int | None, agencies: set[str],
          recipients: list[Recipient], now: datetime, webhooks: bool = True, batch: hotsql.Batch | None = None) -> int:
    """Queue one event's e-mails and webhook deliveries, each with its own job; return how many.

    `webhooks=False` says the caller knows no subscription is active: none is read. The rows go in
    as two statements (notifications, then their jobs), at once or with the caller's `batch`.
    """
    event_id = str(uuid.uuid4())
    rows: list[dict[str, Any]] = [
        {"channel": "email", "recipient": r.address, "language": r.language, "subscription_id": None}
        for r in dict.fromkeys(recipients)]
    if webhooks:
        rows += [{"channel": "webhook", "recipient": s.url, "language": "id", "subscription_id": s.id}
                 for s in subscriptions_for(session, event=event, agencies=agencies)]
    if not rows:
        return 0
    for row in rows:
        row.update(uid=str(uuid.uuid4()), event_id=event_id, event=event, case_id=case_id, context=context,
                   created_at=now)
    writes = batch or hotsql.Batch(session)
    writes.add("notification_insert", rows)
    writes.add("job_insert", [
        {"kind": row["channel"], "case_id": case_id, "task_id": row["uid"], "due_at": now, "created_at": now}
        for row in rows])
    if batch is None:
        writes.run()
    return len(rows)
